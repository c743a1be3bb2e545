//! The authorize URL a user opens in a browser to log in and consent.
//!
//! Parameters come in globus-sdk's order: `client_id`, `redirect_uri`,
//! `scope` (space-separated), `state`, `response_type=code`, then
//! `code_challenge` and `code_challenge_method=S256` when PKCE is used,
//! `access_type`, `prefill_named_grant`, and the session requirements
//! `session_required_identities`, `session_required_single_domain`,
//! `session_required_policies` (each comma-joined), `session_required_mfa`
//! (`True` or `False`), `session_message` and `prompt=login`; any extra
//! parameters last. Values are form-encoded as globus-sdk encodes them:
//! a space becomes `+`, and everything but `A-Z a-z 0-9 - . _ ~` is
//! percent-escaped (so `:` is `%3A` and `/` is `%2F`).
//!
//! The default `redirect_uri` is Auth's own page that shows the code for
//! the user to paste, `{auth base}/v2/web/auth-code`; the default `state`
//! is `_default`; the default `access_type` is `online` (no refresh
//! token).
//!
//! A resource server that wants more authentication answers with
//! authorization parameters (a Globus Auth requirements error);
//! [`AuthorizeUrl::authorization_parameters`] turns them into the matching
//! parameters of a new login.
//!
//! ```
//! use groups_core::auth::authorize::{AccessType, AuthorizeUrl};
//! use groups_core::auth::pkce::PkceVerifier;
//! use groups_core::config::BaseUrl;
//!
//! let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
//! let url = AuthorizeUrl::new(&BaseUrl::parse("https://auth.globus.org/").unwrap(), "CID")
//!     .scopes(["openid", "urn:globus:auth:scope:groups.api.globus.org:all"])
//!     .pkce(&verifier)
//!     .access_type(AccessType::Offline)
//!     .build()
//!     .unwrap();
//! assert_eq!(
//!     url,
//!     "https://auth.globus.org/v2/oauth2/authorize?client_id=CID\
//!      &redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code\
//!      &scope=openid+urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall\
//!      &state=_default&response_type=code\
//!      &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
//!      &access_type=offline"
//! );
//! ```

use groups_types::error_body::AuthorizationParameters;

use super::pkce::PkceVerifier;
use crate::config::BaseUrl;
use crate::error::GroupsError;

/// Append `s` form-encoded (space as `+`, only `A-Z a-z 0-9 - . _ ~` kept).
pub(crate) fn form_encode_into(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// `k1=v1&k2=v2`, form-encoded.
pub(crate) fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(&mut out, k.as_ref());
        out.push('=');
        form_encode_into(&mut out, v.as_ref());
    }
    out
}

/// Whether a login asks for a refresh token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AccessType {
    /// `access_type=online`: access tokens only (the default).
    #[default]
    Online,
    /// `access_type=offline`: a refresh token as well.
    Offline,
}

impl AccessType {
    /// `"online"` or `"offline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::Online => "online",
            AccessType::Offline => "offline",
        }
    }
}

/// Builds the `GET {auth base}/v2/oauth2/authorize` URL. See the
/// [module docs](self) for the parameters and their order.
#[derive(Clone, Debug)]
#[must_use = "call build() to get the URL"]
pub struct AuthorizeUrl {
    base: BaseUrl,
    client_id: String,
    redirect_uri: Option<String>,
    scopes: Vec<String>,
    state: String,
    challenge: Option<String>,
    access_type: AccessType,
    prefill_named_grant: Option<String>,
    session_required_identities: Vec<String>,
    session_required_single_domain: Vec<String>,
    session_required_policies: Vec<String>,
    session_required_mfa: Option<bool>,
    session_message: Option<String>,
    prompt_login: bool,
    extra: Vec<(String, String)>,
}

impl AuthorizeUrl {
    /// An authorize URL on the Auth service at `auth_base` for `client_id`.
    pub fn new(auth_base: &BaseUrl, client_id: impl Into<String>) -> Self {
        AuthorizeUrl {
            base: auth_base.clone(),
            client_id: client_id.into(),
            redirect_uri: None,
            scopes: Vec::new(),
            state: "_default".to_owned(),
            challenge: None,
            access_type: AccessType::Online,
            prefill_named_grant: None,
            session_required_identities: Vec::new(),
            session_required_single_domain: Vec::new(),
            session_required_policies: Vec::new(),
            session_required_mfa: None,
            session_message: None,
            prompt_login: false,
            extra: Vec::new(),
        }
    }

    /// Where Auth sends the browser with the code. Default: Auth's page that
    /// shows the code (`{auth base}/v2/web/auth-code`).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Add scopes to request (strings or [`Scope`](crate::Scope)s); joined
    /// with spaces, duplicates dropped.
    pub fn scopes<S: ToString>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        for s in scopes {
            let s = s.to_string();
            if !self.scopes.contains(&s) {
                self.scopes.push(s);
            }
        }
        self
    }

    /// The `state` echoed back with the code. Default `_default`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }

    /// Send the `S256` challenge of `verifier` (native apps).
    pub fn pkce(mut self, verifier: &PkceVerifier) -> Self {
        self.challenge = Some(verifier.challenge());
        self
    }

    /// Whether to ask for a refresh token. Default [`AccessType::Online`].
    pub fn access_type(mut self, access_type: AccessType) -> Self {
        self.access_type = access_type;
        self
    }

    /// The name of the grant shown on the consent page.
    pub fn prefill_named_grant(mut self, name: impl Into<String>) -> Self {
        self.prefill_named_grant = Some(name.into());
        self
    }

    /// Identities (ids or usernames) that must be in the session.
    pub fn session_required_identities<S: Into<String>>(
        mut self,
        ids: impl IntoIterator<Item = S>,
    ) -> Self {
        self.session_required_identities
            .extend(ids.into_iter().map(Into::into));
        self
    }

    /// Domains of which one identity must be in the session.
    pub fn session_required_single_domain<S: Into<String>>(
        mut self,
        domains: impl IntoIterator<Item = S>,
    ) -> Self {
        self.session_required_single_domain
            .extend(domains.into_iter().map(Into::into));
        self
    }

    /// Policies the session must satisfy.
    pub fn session_required_policies<S: Into<String>>(
        mut self,
        policies: impl IntoIterator<Item = S>,
    ) -> Self {
        self.session_required_policies
            .extend(policies.into_iter().map(Into::into));
        self
    }

    /// Whether the session must use multi-factor authentication (rendered
    /// `True` or `False`).
    pub fn session_required_mfa(mut self, required: bool) -> Self {
        self.session_required_mfa = Some(required);
        self
    }

    /// A message shown on the login page.
    pub fn session_message(mut self, message: impl Into<String>) -> Self {
        self.session_message = Some(message.into());
        self
    }

    /// Force a fresh login (`prompt=login`).
    pub fn prompt_login(mut self) -> Self {
        self.prompt_login = true;
        self
    }

    /// Another parameter, sent after all the known ones.
    pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// Apply the authorization parameters of a Globus Auth requirements
    /// error: its session message, required identities, single domain,
    /// policies (a list or a comma-joined string), MFA flag and
    /// `prompt=login`, and its required scopes (added to the scopes).
    ///
    /// ```
    /// use groups_core::auth::authorize::AuthorizeUrl;
    /// use groups_core::config::BaseUrl;
    /// use groups_types::error_body::AuthorizationParameters;
    ///
    /// let params: AuthorizationParameters = serde_json::from_str(
    ///     r#"{"session_message": "need MFA", "session_required_mfa": true,
    ///         "session_required_policies": "p1,p2", "prompt": "login"}"#).unwrap();
    /// let url = AuthorizeUrl::new(&BaseUrl::parse("https://auth.globus.org").unwrap(), "CID")
    ///     .scopes(["openid"])
    ///     .authorization_parameters(&params)
    ///     .build()
    ///     .unwrap();
    /// assert!(url.ends_with("&session_required_policies=p1%2Cp2&session_required_mfa=True\
    ///                        &session_message=need+MFA&prompt=login"));
    /// ```
    pub fn authorization_parameters(mut self, params: &AuthorizationParameters) -> Self {
        if let Some(m) = params.session_message.value() {
            self.session_message = Some(m.clone());
        }
        if let Some(ids) = params.session_required_identities.value() {
            self.session_required_identities.extend(ids.iter().cloned());
        }
        if let Some(d) = params.session_required_single_domain.value() {
            self.session_required_single_domain
                .extend(d.iter().cloned());
        }
        if let Some(p) = params.session_required_policies.value() {
            self.session_required_policies.extend(p.to_vec());
        }
        if let Some(mfa) = params.session_required_mfa.value() {
            self.session_required_mfa = Some(*mfa);
        }
        if params.prompt.value().map(String::as_str) == Some("login") {
            self.prompt_login = true;
        }
        if let Some(scopes) = params.required_scopes.value() {
            self = self.scopes(scopes.iter());
        }
        self
    }

    /// The URL. No scope at all is an invalid-input error (Globus Auth has
    /// no default scopes), as is an empty client id.
    pub fn build(&self) -> Result<String, GroupsError> {
        if self.client_id.trim().is_empty() {
            return Err(GroupsError::invalid_input("the client id is empty"));
        }
        if self.scopes.is_empty() {
            return Err(GroupsError::invalid_input(
                "no scopes to request (Globus Auth has no default scopes)",
            ));
        }
        let redirect = self
            .redirect_uri
            .clone()
            .unwrap_or_else(|| self.base.join("v2/web/auth-code"));
        let mut p: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("redirect_uri", redirect),
            ("scope", self.scopes.join(" ")),
            ("state", self.state.clone()),
            ("response_type", "code".to_owned()),
        ];
        if let Some(c) = &self.challenge {
            p.push(("code_challenge", c.clone()));
            p.push(("code_challenge_method", "S256".to_owned()));
        }
        p.push(("access_type", self.access_type.as_str().to_owned()));
        if let Some(n) = &self.prefill_named_grant {
            p.push(("prefill_named_grant", n.clone()));
        }
        for (key, list) in [
            (
                "session_required_identities",
                &self.session_required_identities,
            ),
            (
                "session_required_single_domain",
                &self.session_required_single_domain,
            ),
            ("session_required_policies", &self.session_required_policies),
        ] {
            if !list.is_empty() {
                p.push((key, list.join(",")));
            }
        }
        if let Some(mfa) = self.session_required_mfa {
            p.push((
                "session_required_mfa",
                if mfa { "True" } else { "False" }.to_owned(),
            ));
        }
        if let Some(m) = &self.session_message {
            p.push(("session_message", m.clone()));
        }
        if self.prompt_login {
            p.push(("prompt", "login".to_owned()));
        }
        for (k, v) in &self.extra {
            p.push((k.as_str(), v.clone()));
        }
        let mut url = self.base.join("v2/oauth2/authorize");
        url.push('?');
        url.push_str(&form_encode(&p));
        Ok(url)
    }
}
