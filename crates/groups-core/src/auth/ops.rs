//! Globus Auth operations, sans-IO: each builds an `http::Request<Bytes>`
//! and parses an `http::Response<Bytes>`, like the Groups operations of
//! [`crate::ops`], and runs through the same [`Exchange`](crate::Exchange)
//! and [`GroupsClient`](crate::GroupsClient) machinery.
//!
//! The [`ClientConfig`] passed to `build_request` is the *Auth*
//! configuration: its base URL is the Auth URL (see
//! [`BaseUrl::resolve_auth`](crate::BaseUrl::resolve_auth)).
//!
//! Token endpoint calls (the grants, revoke, introspect) are
//! `POST` with an `application/x-www-form-urlencoded` body (spaces as `+`).
//! They authenticate the *client* as part of the request they build,
//! because how they do it changes the body: a confidential client sends
//! HTTP Basic `client_id:client_secret`, a native client sends no
//! `Authorization` and puts `client_id` in the body. (Groups operations
//! never build `Authorization`; a token provider adds it.) Userinfo and the
//! identities lookup are plain resource calls: they build no
//! `Authorization`, and the token provider running them supplies it.
//!
//! Failures parse into [`AuthError`] (as
//! [`GroupsError::Auth`]). A token answer that does not parse is an
//! unexpected-response error that never carries the body, since the body
//! holds tokens.
//!
//! ```
//! use groups_core::auth::ops::{OAuthClient, RefreshTokenGrant};
//! use groups_core::{BaseUrl, ClientConfig, Operation};
//!
//! let auth = ClientConfig::new(BaseUrl::parse("https://auth.globus.org/").unwrap());
//! let native = OAuthClient::native("CID");
//! let request = RefreshTokenGrant::new(&native, "RT 1").build_request(&auth).unwrap();
//! assert_eq!(request.uri(), "https://auth.globus.org/v2/oauth2/token");
//! assert!(request.headers().get("authorization").is_none());
//! assert_eq!(request.body().as_ref(), b"refresh_token=RT+1&grant_type=refresh_token&client_id=CID");
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Method;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use super::SecretString;
use super::authorize::{AccessType, form_encode};
use super::error::AuthError;
use super::models::{IdentitiesResponse, TokenIntrospection, TokenResponse, UserInfo};
use super::pkce::PkceVerifier;
use crate::config::ClientConfig;
use crate::error::{GroupsError, decode_json};
use crate::operation::Operation;
use crate::retry::MethodClass;

/// The grant type of the dependent-token grant.
pub const DEPENDENT_TOKEN_GRANT_TYPE: &str = "urn:globus:auth:grant_type:dependent_token";

/// Build an `Authorization: Basic base64(user:password)` value (UTF-8,
/// as globus-sdk does), marked sensitive.
pub fn basic_header(user: &str, password: &str) -> Result<HeaderValue, GroupsError> {
    let encoded = STANDARD.encode(format!("{user}:{password}"));
    let mut v = HeaderValue::try_from(format!("Basic {encoded}"))
        .map_err(|_| GroupsError::invalid_input("client credentials are not a valid header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// An OAuth2 client registered with Globus Auth: native (public, no secret)
/// or confidential (with a secret).
///
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct OAuthClient {
    client_id: String,
    secret: Option<SecretString>,
}

impl OAuthClient {
    /// A native (public) client: it sends `client_id` in token request
    /// bodies and uses PKCE for logins.
    pub fn native(client_id: impl Into<String>) -> Self {
        OAuthClient {
            client_id: client_id.into(),
            secret: None,
        }
    }

    /// A confidential client: it authenticates with HTTP Basic.
    pub fn confidential(client_id: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        OAuthClient {
            client_id: client_id.into(),
            secret: Some(secret.into()),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether the client has a secret.
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }

    /// The `Authorization: Basic` value of a confidential client (`None` for
    /// a native one).
    pub fn basic_header(&self) -> Result<Option<HeaderValue>, GroupsError> {
        match &self.secret {
            Some(s) => basic_header(&self.client_id, s.expose_secret()).map(Some),
            None => Ok(None),
        }
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field(
                "secret",
                &if self.secret.is_some() {
                    "<redacted>"
                } else {
                    "<none: native client>"
                },
            )
            .finish()
    }
}

/// A `POST` form request to `path` under the Auth base URL, with Basic for
/// a confidential `client`.
fn form_request(
    ctx: &ClientConfig,
    path: &str,
    client: Option<&OAuthClient>,
    fields: &[(&str, &str)],
) -> Result<http::Request<Bytes>, GroupsError> {
    let uri = http::Uri::try_from(ctx.base_url().join(path))
        .map_err(|e| GroupsError::invalid_input(format!("cannot build the Auth URL: {e}")))?;
    let mut request = http::Request::new(Bytes::from(form_encode(fields)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let mut headers = ctx.default_headers().clone();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    if let Some(v) = client.map(OAuthClient::basic_header).transpose()?.flatten() {
        headers.insert(AUTHORIZATION, v);
    }
    *request.headers_mut() = headers;
    Ok(request)
}

fn require_confidential(client: &OAuthClient, what: &str) -> Result<(), GroupsError> {
    if client.is_confidential() {
        Ok(())
    } else {
        Err(GroupsError::invalid_input(format!(
            "{what} needs a confidential client (a client id and secret)"
        )))
    }
}

fn auth_failure(response: &http::Response<Bytes>) -> GroupsError {
    AuthError::from_response(response).into()
}

/// Parse a token endpoint's answer: 2xx into a [`TokenResponse`], anything
/// else into an [`AuthError`].
pub fn parse_token_response(
    response: &http::Response<Bytes>,
) -> Result<TokenResponse, GroupsError> {
    if !response.status().is_success() {
        return Err(auth_failure(response));
    }
    TokenResponse::from_json(response.body())
}

fn parse_json<T: serde::de::DeserializeOwned>(
    response: http::Response<Bytes>,
) -> Result<T, GroupsError> {
    if !response.status().is_success() {
        return Err(auth_failure(&response));
    }
    let (parts, body) = response.into_parts();
    decode_json(parts.status, &parts.headers, body)
}

fn join_scopes<S: ToString>(scopes: impl IntoIterator<Item = S>) -> String {
    scopes
        .into_iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* } secret { $($secret:ident),* }) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($secret), &"<redacted>"))*
                    .finish()
            }
        }
    };
}

// ------------------------------------------------------------------ grants

/// The authorization code grant: exchange the code of a login for tokens.
///
/// Native clients must give the PKCE verifier
/// ([`pkce_verifier`](Self::pkce_verifier)); the body then carries
/// `client_id`, `grant_type`, `code`, `code_verifier`, `redirect_uri`.
/// Confidential clients send `grant_type`, `code`, `redirect_uri` with
/// HTTP Basic. The `redirect_uri` must be the one of the authorize URL
/// (default: Auth's own `{auth base}/v2/web/auth-code`).
///
/// Never retried after it may have been sent: a code is single-use.
#[derive(Clone)]
#[must_use = "an operation does nothing until it is run"]
pub struct AuthorizationCodeGrant {
    client: OAuthClient,
    code: SecretString,
    redirect_uri: Option<String>,
    verifier: Option<PkceVerifier>,
}

redacted_debug!(AuthorizationCodeGrant { client, redirect_uri, verifier } secret { code });

impl AuthorizationCodeGrant {
    /// Exchange `code` for `client`.
    pub fn new(client: &OAuthClient, code: impl Into<SecretString>) -> Self {
        AuthorizationCodeGrant {
            client: client.clone(),
            code: code.into(),
            redirect_uri: None,
            verifier: None,
        }
    }

    /// The redirect URI the authorize URL used.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The PKCE verifier whose challenge the authorize URL carried.
    pub fn pkce_verifier(mut self, verifier: &PkceVerifier) -> Self {
        self.verifier = Some(verifier.clone());
        self
    }
}

impl Operation for AuthorizationCodeGrant {
    type Output = TokenResponse;
    const NAME: &'static str = "oauth2_exchange_code_for_tokens";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let redirect = self
            .redirect_uri
            .clone()
            .unwrap_or_else(|| ctx.base_url().join("v2/web/auth-code"));
        let code = self.code.expose_secret();
        if self.client.is_confidential() {
            let mut fields = vec![
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &redirect),
            ];
            if let Some(v) = &self.verifier {
                fields.insert(2, ("code_verifier", v.expose_secret()));
            }
            form_request(ctx, "v2/oauth2/token", Some(&self.client), &fields)
        } else {
            let verifier = self.verifier.as_ref().ok_or_else(|| {
                GroupsError::invalid_input(
                    "a native client exchanges a code with the PKCE verifier of its authorize URL",
                )
            })?;
            form_request(
                ctx,
                "v2/oauth2/token",
                None,
                &[
                    ("client_id", self.client.client_id()),
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("code_verifier", verifier.expose_secret()),
                    ("redirect_uri", &redirect),
                ],
            )
        }
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<TokenResponse, GroupsError> {
        parse_token_response(&response)
    }
}

/// The refresh token grant: new access tokens from a refresh token.
///
/// Body `refresh_token`, `grant_type=refresh_token`, plus `client_id` for a
/// native client; HTTP Basic for a confidential one. The answer may carry
/// a new refresh token (rotation), which replaces the old one.
///
/// Never retried after it may have been sent: the server may have rotated
/// the refresh token already, so a resend could spend the new one's
/// predecessor and fail.
#[derive(Clone)]
#[must_use = "an operation does nothing until it is run"]
pub struct RefreshTokenGrant {
    client: OAuthClient,
    refresh_token: SecretString,
}

redacted_debug!(RefreshTokenGrant { client } secret { refresh_token });

impl RefreshTokenGrant {
    /// Refresh with `refresh_token` for `client`.
    pub fn new(client: &OAuthClient, refresh_token: impl Into<SecretString>) -> Self {
        RefreshTokenGrant {
            client: client.clone(),
            refresh_token: refresh_token.into(),
        }
    }
}

impl Operation for RefreshTokenGrant {
    type Output = TokenResponse;
    const NAME: &'static str = "oauth2_refresh_token";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let rt = self.refresh_token.expose_secret();
        if self.client.is_confidential() {
            form_request(
                ctx,
                "v2/oauth2/token",
                Some(&self.client),
                &[("refresh_token", rt), ("grant_type", "refresh_token")],
            )
        } else {
            form_request(
                ctx,
                "v2/oauth2/token",
                None,
                &[
                    ("refresh_token", rt),
                    ("grant_type", "refresh_token"),
                    ("client_id", self.client.client_id()),
                ],
            )
        }
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<TokenResponse, GroupsError> {
        parse_token_response(&response)
    }
}

/// The client credentials grant: tokens for the client's own identity.
///
/// Body `grant_type=client_credentials`, `scope` (space-separated); HTTP
/// Basic. Needs a confidential client and at least one scope. Repeating it
/// only mints another token, so it is retried like an idempotent call.
#[derive(Clone, Debug)]
#[must_use = "an operation does nothing until it is run"]
pub struct ClientCredentialsGrant {
    client: OAuthClient,
    scope: String,
}

impl ClientCredentialsGrant {
    /// Tokens for `scopes` (strings or [`Scope`](crate::Scope)s).
    pub fn new<S: ToString>(client: &OAuthClient, scopes: impl IntoIterator<Item = S>) -> Self {
        ClientCredentialsGrant {
            client: client.clone(),
            scope: join_scopes(scopes),
        }
    }
}

impl Operation for ClientCredentialsGrant {
    type Output = TokenResponse;
    const NAME: &'static str = "oauth2_client_credentials_tokens";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        require_confidential(&self.client, "the client credentials grant")?;
        if self.scope.trim().is_empty() {
            return Err(GroupsError::invalid_input(
                "no scopes to request (Globus Auth has no default scopes)",
            ));
        }
        form_request(
            ctx,
            "v2/oauth2/token",
            Some(&self.client),
            &[("grant_type", "client_credentials"), ("scope", &self.scope)],
        )
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<TokenResponse, GroupsError> {
        parse_token_response(&response)
    }

    fn method_class(&self, _request: &http::Request<Bytes>) -> MethodClass {
        MethodClass::Idempotent
    }
}

/// The dependent token grant: tokens for downstream services from a token
/// a service received. The answer is a JSON array of tokens (parsed into
/// the same [`TokenResponse`]).
///
/// Body `grant_type=urn:globus:auth:grant_type:dependent_token`, `token`,
/// then `access_type` and `scope` when set; HTTP Basic.
#[derive(Clone)]
#[must_use = "an operation does nothing until it is run"]
pub struct DependentTokenGrant {
    client: OAuthClient,
    token: SecretString,
    access_type: Option<AccessType>,
    scope: Option<String>,
}

redacted_debug!(DependentTokenGrant { client, access_type, scope } secret { token });

impl DependentTokenGrant {
    /// Dependent tokens for the access token `token`.
    pub fn new(client: &OAuthClient, token: impl Into<SecretString>) -> Self {
        DependentTokenGrant {
            client: client.clone(),
            token: token.into(),
            access_type: None,
            scope: None,
        }
    }

    /// Ask for refresh tokens ([`AccessType::Offline`]) or not.
    pub fn access_type(mut self, access_type: AccessType) -> Self {
        self.access_type = Some(access_type);
        self
    }

    /// Only these dependent scopes.
    pub fn scopes<S: ToString>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scope = Some(join_scopes(scopes));
        self
    }
}

impl Operation for DependentTokenGrant {
    type Output = TokenResponse;
    const NAME: &'static str = "oauth2_get_dependent_tokens";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        require_confidential(&self.client, "the dependent token grant")?;
        let mut fields = vec![
            ("grant_type", DEPENDENT_TOKEN_GRANT_TYPE),
            ("token", self.token.expose_secret()),
        ];
        if let Some(a) = self.access_type {
            fields.push(("access_type", a.as_str()));
        }
        if let Some(s) = &self.scope {
            fields.push(("scope", s));
        }
        form_request(ctx, "v2/oauth2/token", Some(&self.client), &fields)
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<TokenResponse, GroupsError> {
        parse_token_response(&response)
    }
}

// ------------------------------------------------------------------ token management

/// Revoke a token (`POST /v2/oauth2/token/revoke`): body `token`, plus
/// `client_id` for a native client; HTTP Basic for a confidential one.
/// Auth answers 200 even for an unknown token. Retried like an idempotent
/// call (revoking twice is revoking once).
#[derive(Clone)]
#[must_use = "an operation does nothing until it is run"]
pub struct RevokeToken {
    client: OAuthClient,
    token: SecretString,
}

redacted_debug!(RevokeToken { client } secret { token });

impl RevokeToken {
    /// Revoke `token` (an access or refresh token) of `client`.
    pub fn new(client: &OAuthClient, token: impl Into<SecretString>) -> Self {
        RevokeToken {
            client: client.clone(),
            token: token.into(),
        }
    }
}

impl Operation for RevokeToken {
    type Output = ();
    const NAME: &'static str = "oauth2_revoke_token";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let token = self.token.expose_secret();
        if self.client.is_confidential() {
            form_request(
                ctx,
                "v2/oauth2/token/revoke",
                Some(&self.client),
                &[("token", token)],
            )
        } else {
            form_request(
                ctx,
                "v2/oauth2/token/revoke",
                None,
                &[("token", token), ("client_id", self.client.client_id())],
            )
        }
    }

    fn parse_response(&self, response: http::Response<Bytes>) -> Result<(), GroupsError> {
        if response.status().is_success() {
            Ok(())
        } else {
            Err(auth_failure(&response))
        }
    }

    fn method_class(&self, _request: &http::Request<Bytes>) -> MethodClass {
        MethodClass::Idempotent
    }
}

/// Introspect a token (`POST /v2/oauth2/token/introspect`): body `token`,
/// then `include` (comma-joined) when set; HTTP Basic of a confidential
/// client. Retried like an idempotent call.
#[derive(Clone)]
#[must_use = "an operation does nothing until it is run"]
pub struct IntrospectToken {
    client: OAuthClient,
    token: SecretString,
    include: Vec<String>,
}

redacted_debug!(IntrospectToken { client, include } secret { token });

impl IntrospectToken {
    /// Introspect `token` as `client`.
    pub fn new(client: &OAuthClient, token: impl Into<SecretString>) -> Self {
        IntrospectToken {
            client: client.clone(),
            token: token.into(),
            include: Vec::new(),
        }
    }

    /// Extra details, e.g. `session_info`, `identity_set_detail`.
    pub fn include<S: Into<String>>(mut self, what: impl IntoIterator<Item = S>) -> Self {
        self.include.extend(what.into_iter().map(Into::into));
        self
    }
}

impl Operation for IntrospectToken {
    type Output = TokenIntrospection;
    const NAME: &'static str = "oauth2_token_introspect";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        require_confidential(&self.client, "token introspection")?;
        let include = self.include.join(",");
        let mut fields = vec![("token", self.token.expose_secret())];
        if !include.is_empty() {
            fields.push(("include", &include));
        }
        form_request(
            ctx,
            "v2/oauth2/token/introspect",
            Some(&self.client),
            &fields,
        )
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<TokenIntrospection, GroupsError> {
        parse_json(response)
    }

    fn method_class(&self, _request: &http::Request<Bytes>) -> MethodClass {
        MethodClass::Idempotent
    }
}

// ------------------------------------------------------------------ resource calls

fn get_request(
    ctx: &ClientConfig,
    path_and_query: &str,
) -> Result<http::Request<Bytes>, GroupsError> {
    let uri = http::Uri::try_from(ctx.base_url().join(path_and_query))
        .map_err(|e| GroupsError::invalid_input(format!("cannot build the Auth URL: {e}")))?;
    let mut request = http::Request::new(Bytes::new());
    *request.uri_mut() = uri;
    *request.headers_mut() = ctx.default_headers().clone();
    Ok(request)
}

/// `GET /v2/oauth2/userinfo`: who the bearer of the access token is (needs
/// the `openid` scope). Builds no `Authorization`: run it with the user's
/// token (see [`AuthClient::userinfo`](crate::AuthClient::userinfo)).
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "an operation does nothing until it is run"]
pub struct GetUserInfo;

impl Operation for GetUserInfo {
    type Output = UserInfo;
    const NAME: &'static str = "oauth2_userinfo";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        get_request(ctx, "v2/oauth2/userinfo")
    }

    fn parse_response(&self, response: http::Response<Bytes>) -> Result<UserInfo, GroupsError> {
        parse_json(response)
    }
}

#[derive(Clone, Debug)]
enum IdentityKeys {
    Ids(Vec<String>),
    Usernames(Vec<String>),
}

/// `GET /v2/api/identities?ids=...` or `?usernames=...` (comma-joined),
/// optionally `&provision=true`. Builds no `Authorization`: it is run with
/// a user's token or a confidential client's Basic credential.
///
/// ```
/// use groups_core::auth::ops::GetIdentities;
/// use groups_core::{BaseUrl, ClientConfig, Operation};
///
/// let auth = ClientConfig::new(BaseUrl::parse("https://auth.globus.org/").unwrap());
/// let r = GetIdentities::usernames(["a@example.org", "b@example.org"]).provision()
///     .build_request(&auth).unwrap();
/// assert_eq!(r.uri(), "https://auth.globus.org/v2/api/identities?usernames=a%40example.org%2Cb%40example.org&provision=true");
/// ```
#[derive(Clone, Debug)]
#[must_use = "an operation does nothing until it is run"]
pub struct GetIdentities {
    keys: IdentityKeys,
    provision: bool,
}

impl GetIdentities {
    /// Look identities up by id.
    pub fn ids<S: ToString>(ids: impl IntoIterator<Item = S>) -> Self {
        GetIdentities {
            keys: IdentityKeys::Ids(ids.into_iter().map(|s| s.to_string()).collect()),
            provision: false,
        }
    }

    /// Look identities up by username.
    pub fn usernames<S: Into<String>>(usernames: impl IntoIterator<Item = S>) -> Self {
        GetIdentities {
            keys: IdentityKeys::Usernames(usernames.into_iter().map(Into::into).collect()),
            provision: false,
        }
    }

    /// Create unknown usernames of a known identity provider (as `unused`
    /// identities): `provision=true`.
    pub fn provision(mut self) -> Self {
        self.provision = true;
        self
    }
}

impl Operation for GetIdentities {
    type Output = IdentitiesResponse;
    const NAME: &'static str = "get_identities";

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let (key, values) = match &self.keys {
            IdentityKeys::Ids(v) => ("ids", v),
            IdentityKeys::Usernames(v) => ("usernames", v),
        };
        if values.is_empty() || values.iter().any(|v| v.trim().is_empty()) {
            return Err(GroupsError::invalid_input(format!(
                "an identities lookup needs at least one {key} value, none empty"
            )));
        }
        let mut path = String::from("v2/api/identities?");
        path.push_str(key);
        path.push('=');
        crate::encoding::encode_query_component(&mut path, &values.join(","));
        if self.provision {
            path.push_str("&provision=true");
        }
        get_request(ctx, &path)
    }

    fn parse_response(
        &self,
        response: http::Response<Bytes>,
    ) -> Result<IdentitiesResponse, GroupsError> {
        parse_json(response)
    }
}
