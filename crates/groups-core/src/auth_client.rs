//! [`AuthClient`]: the Globus Auth calls over any [`Transport`], run by the
//! same client and exchange machinery as the Groups calls (retries,
//! deadlines, request metadata), so one transport and one connection pool
//! can serve both.
//!
//! It sits beside [`crate::client`], not inside [`crate::auth`]: it is
//! built on the client, which itself needs the token provider trait of
//! [`crate::auth`]; keeping it out of that module keeps the module graph
//! one-way (`auth_client` -> `client` -> `auth`).
//!
//! Each method returns an [`AuthCall`] builder: optional parameters are
//! setters, and the call is sent when awaited (it implements
//! [`IntoFuture`]).
//!
//! ```
//! use groups_core::auth_client::AuthClient;
//! use groups_core::auth::ops::OAuthClient;
//! use groups_core::test_util::{ScriptedTransport, block_on, respond};
//! use groups_core::{BaseUrl, ClientConfig};
//!
//! let transport = ScriptedTransport::new([respond(200, r#"{"access_token": "AT",
//!     "expires_in": 172800, "resource_server": "groups.api.globus.org", "token_type": "Bearer",
//!     "scope": "urn:globus:auth:scope:groups.api.globus.org:all"}"#)]);
//! let auth = AuthClient::new(
//!     transport.clone(),
//!     ClientConfig::new(BaseUrl::parse("https://auth.globus.org/").unwrap()),
//!     OAuthClient::confidential("CID", "SECRET"),
//! );
//! let tokens = block_on(auth.client_credentials(["urn:globus:auth:scope:groups.api.globus.org:all"])).unwrap();
//! assert_eq!(tokens.first().unwrap().resource_server, "groups.api.globus.org");
//! let sent = &transport.requests()[0];
//! assert_eq!(sent.header("authorization"), Some("Basic Q0lEOlNFQ1JFVA=="));
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use crate::auth::authorize::{AccessType, AuthorizeUrl};
use crate::auth::ops::{
    AuthorizationCodeGrant, ClientCredentialsGrant, DependentTokenGrant, GetIdentities,
    GetUserInfo, IntrospectToken, OAuthClient, RefreshTokenGrant, RevokeToken,
};
use crate::auth::pkce::PkceVerifier;
use crate::auth::providers::{BasicAuthProvider, ClientCredentialsProvider, RefreshTokenProvider};
use crate::auth::{AccessTokenProvider, NoAuth, SecretString, TokenProvider};
use crate::client::GroupsClient;
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::operation::Operation;
use crate::transport::Transport;

/// The Globus Auth client of one registered OAuth2 client (native or
/// confidential), generic over the transport.
///
/// Calls that authenticate the client (grants, revoke, introspect, and the
/// identities lookup unless given a user token) use the client's
/// credential: HTTP Basic for a confidential client, `client_id` in the
/// body for a native one. Userinfo uses the access token it is given.
pub struct AuthClient<T> {
    inner: GroupsClient<T>,
    client: OAuthClient,
}

impl<T> Clone for AuthClient<T> {
    fn clone(&self) -> Self {
        AuthClient {
            inner: self.inner.clone(),
            client: self.client.clone(),
        }
    }
}

impl<T> fmt::Debug for AuthClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthClient")
            .field("inner", &self.inner)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> AuthClient<T> {
    /// A client for `client` over `transport`; `config` is the Auth
    /// configuration (its base URL is the Auth URL, see
    /// [`auth_config`](crate::auth::auth_config)).
    pub fn new(transport: T, config: ClientConfig, client: OAuthClient) -> Self {
        let auth: Arc<dyn TokenProvider> = match BasicAuthProvider::new(&client) {
            Ok(basic) => Arc::new(basic),
            Err(_) => Arc::new(NoAuth),
        };
        AuthClient {
            inner: GroupsClient::with_shared_auth(transport, config, auth),
            client,
        }
    }

    /// The OAuth2 client.
    pub fn oauth_client(&self) -> &OAuthClient {
        &self.client
    }

    /// The Auth configuration.
    pub fn config(&self) -> &ClientConfig {
        self.inner.config()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        self.inner.transport()
    }

    /// Run any operation with the client's own credential.
    pub async fn execute<O: Operation>(&self, op: &O) -> Result<O::Output, GroupsError> {
        self.inner.execute(op).await
    }

    /// Run any operation authorized by `auth` instead of the client's
    /// credential (for example a user's access token).
    pub async fn execute_with<O: Operation>(
        &self,
        op: &O,
        auth: Arc<dyn TokenProvider>,
    ) -> Result<O::Output, GroupsError> {
        let client =
            GroupsClient::with_shared_auth(self.inner.transport(), self.config().clone(), auth);
        client.execute(op).await
    }

    /// A call of any operation (the methods below return one already).
    pub fn call<O: Operation>(&self, op: O) -> AuthCall<'_, T, O> {
        AuthCall {
            client: self,
            op,
            auth: None,
        }
    }

    /// The authorize URL of this client, prefilled with its id and the
    /// Auth base URL.
    pub fn authorize_url(&self) -> AuthorizeUrl {
        AuthorizeUrl::new(self.config().base_url(), self.client.client_id())
    }

    /// Exchange the code of a login for tokens; native clients add
    /// [`AuthCall::pkce_verifier`].
    pub fn exchange_code(
        &self,
        code: impl Into<SecretString>,
    ) -> AuthCall<'_, T, AuthorizationCodeGrant> {
        self.call(AuthorizationCodeGrant::new(&self.client, code))
    }

    /// New access tokens from a refresh token.
    pub fn refresh_token(
        &self,
        refresh_token: impl Into<SecretString>,
    ) -> AuthCall<'_, T, RefreshTokenGrant> {
        self.call(RefreshTokenGrant::new(&self.client, refresh_token))
    }

    /// Tokens for the client itself (confidential clients only).
    pub fn client_credentials<S: ToString>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> AuthCall<'_, T, ClientCredentialsGrant> {
        self.call(ClientCredentialsGrant::new(&self.client, scopes))
    }

    /// Dependent tokens for an access token a service received.
    pub fn dependent_tokens(
        &self,
        token: impl Into<SecretString>,
    ) -> AuthCall<'_, T, DependentTokenGrant> {
        self.call(DependentTokenGrant::new(&self.client, token))
    }

    /// Revoke an access or refresh token.
    pub fn revoke(&self, token: impl Into<SecretString>) -> AuthCall<'_, T, RevokeToken> {
        self.call(RevokeToken::new(&self.client, token))
    }

    /// Introspect a token (confidential clients only).
    pub fn introspect(&self, token: impl Into<SecretString>) -> AuthCall<'_, T, IntrospectToken> {
        self.call(IntrospectToken::new(&self.client, token))
    }

    /// Who the bearer of `access_token` is (the token needs `openid`).
    /// A token not allowed in a header fails when the call is sent.
    pub fn userinfo(&self, access_token: impl Into<SecretString>) -> AuthCall<'_, T, GetUserInfo> {
        self.call(GetUserInfo).bearer(access_token)
    }

    /// Identities by id, with the client's credential (add
    /// [`AuthCall::bearer`] to use a user's token instead).
    pub fn get_identities_by_ids<S: ToString>(
        &self,
        ids: impl IntoIterator<Item = S>,
    ) -> AuthCall<'_, T, GetIdentities> {
        self.call(GetIdentities::ids(ids))
    }

    /// Identities by username, with the client's credential (add
    /// [`AuthCall::bearer`] to use a user's token instead).
    pub fn get_identities_by_usernames<S: Into<String>>(
        &self,
        usernames: impl IntoIterator<Item = S>,
    ) -> AuthCall<'_, T, GetIdentities> {
        self.call(GetIdentities::usernames(usernames))
    }

    /// A provider renewing with `refresh_token` through this client's Auth
    /// configuration and credential.
    pub fn refresh_token_provider(
        &self,
        refresh_token: impl Into<SecretString>,
    ) -> RefreshTokenProvider {
        RefreshTokenProvider::new(self.config().clone(), self.client.clone(), refresh_token)
    }

    /// A provider fetching client-credentials tokens for `scopes` (of one
    /// resource server) through this client's Auth configuration.
    pub fn client_credentials_provider<S: ToString>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<ClientCredentialsProvider, GroupsError> {
        ClientCredentialsProvider::new(self.config().clone(), self.client.clone(), scopes)
    }
}

/// The future of an [`AuthCall`].
pub type AuthCallFuture<'c, O> = Pin<Box<dyn Future<Output = Result<O, GroupsError>> + Send + 'c>>;

/// One Auth call, not yet sent: set optional parameters, then `.await` it.
#[must_use = "a call does nothing until it is awaited"]
pub struct AuthCall<'c, T, O> {
    client: &'c AuthClient<T>,
    op: O,
    auth: Option<Result<Arc<dyn TokenProvider>, String>>,
}

impl<T, O: fmt::Debug> fmt::Debug for AuthCall<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCall")
            .field("op", &self.op)
            .finish_non_exhaustive()
    }
}

impl<'c, T: Transport, O: Operation> AuthCall<'c, T, O> {
    /// The operation as configured so far.
    pub fn operation(&self) -> &O {
        &self.op
    }

    /// The operation, to run it elsewhere.
    pub fn into_operation(self) -> O {
        self.op
    }

    /// The request this call would send first (its `Authorization`, if
    /// the operation builds one itself).
    pub fn build_request(&self) -> Result<http::Request<bytes::Bytes>, GroupsError> {
        self.op.build_request(self.client.config())
    }

    /// Authorize with this access token (`Bearer`) instead of the
    /// client's credential.
    pub fn bearer(mut self, access_token: impl Into<SecretString>) -> Self {
        self.auth = Some(
            AccessTokenProvider::new(access_token)
                .map(|p| Arc::new(p) as Arc<dyn TokenProvider>)
                .map_err(|e| e.to_string()),
        );
        self
    }

    /// Authorize with `authorizer` instead of the client's credential: a
    /// renewing provider (for example
    /// [`client_credentials_provider`](AuthClient::client_credentials_provider)
    /// for `view_identities`) fetches its token when it has none or it is
    /// about to expire, and when Auth answers 401 it renews and the call is
    /// sent once more. Sharing one provider between calls shares its token.
    pub fn with_authorizer(mut self, authorizer: Arc<dyn TokenProvider>) -> Self {
        self.auth = Some(Ok(authorizer));
        self
    }

    fn map(self, f: impl FnOnce(O) -> O) -> Self {
        AuthCall {
            client: self.client,
            op: f(self.op),
            auth: self.auth,
        }
    }
}

impl<T: Transport> AuthCall<'_, T, AuthorizationCodeGrant> {
    /// The redirect URI of the authorize URL (default: Auth's code page).
    pub fn redirect_uri(self, uri: impl Into<String>) -> Self {
        self.map(|op| op.redirect_uri(uri))
    }

    /// The PKCE verifier of the login (required for native clients).
    pub fn pkce_verifier(self, verifier: &PkceVerifier) -> Self {
        self.map(|op| op.pkce_verifier(verifier))
    }
}

impl<T: Transport> AuthCall<'_, T, DependentTokenGrant> {
    /// Ask for refresh tokens or not.
    pub fn access_type(self, access_type: AccessType) -> Self {
        self.map(|op| op.access_type(access_type))
    }

    /// Only these dependent scopes.
    pub fn scopes<S: ToString>(self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.map(|op| op.scopes(scopes))
    }
}

impl<T: Transport> AuthCall<'_, T, IntrospectToken> {
    /// Extra details, e.g. `session_info`, `identity_set_detail`.
    pub fn include<S: Into<String>>(self, what: impl IntoIterator<Item = S>) -> Self {
        self.map(|op| op.include(what))
    }
}

impl<T: Transport> AuthCall<'_, T, GetIdentities> {
    /// Create unknown usernames of a known identity provider.
    pub fn provision(self) -> Self {
        self.map(GetIdentities::provision)
    }
}

impl<'c, T, O> AuthCall<'c, T, O>
where
    T: Transport,
    O: Operation + Send + Sync + 'c,
    O::Output: Send,
{
    /// Send the call: the same as `.await`ing it.
    pub fn send(self) -> AuthCallFuture<'c, O::Output> {
        let AuthCall { client, op, auth } = self;
        Box::pin(async move {
            match auth {
                None => client.execute(&op).await,
                Some(Ok(provider)) => client.execute_with(&op, provider).await,
                Some(Err(message)) => Err(GroupsError::InvalidInput(message)),
            }
        })
    }
}

impl<'c, T, O> IntoFuture for AuthCall<'c, T, O>
where
    T: Transport,
    O: Operation + Send + Sync + 'c,
    O::Output: Send,
{
    type Output = Result<O::Output, GroupsError>;
    type IntoFuture = AuthCallFuture<'c, O::Output>;

    fn into_future(self) -> Self::IntoFuture {
        self.send()
    }
}
