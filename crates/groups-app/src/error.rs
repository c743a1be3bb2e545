//! The app error type, [`AppError`], and what it makes of a failed call
//! (a consent or session requirement, a login needed).

use groups_core::GroupsError;
use groups_core::groups_types::error_body::AuthorizationParameters;
use groups_hyper::BuildError;

use crate::storage::StorageError;

/// What went wrong in an app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppErrorKind {
    /// The app's settings are unusable (a bad name, client or URL).
    Config,
    /// Token storage failed (see the [`StorageError`] source).
    Storage,
    /// A Globus Auth request failed (see the [`GroupsError`] source and its
    /// `auth_error()`).
    Auth,
    /// A Groups call failed (see the [`GroupsError`] source).
    Call,
    /// No tokens are stored for a required resource server: a login is
    /// needed.
    LoginRequired,
    /// The stored access token has expired and there is no refresh token
    /// to renew it: a login is needed.
    TokenExpired,
    /// The stored tokens lack scopes the app requires: a login is needed.
    ScopesNotMet,
    /// The app asks for refresh tokens but the stored tokens have none
    /// (they come from a login without): a login is needed.
    MissingRefreshToken,
    /// A new login is for another identity than the stored tokens (they
    /// are kept; the new ones are revoked).
    IdentityMismatch,
    /// An id_token could not be verified (bad signature, wrong audience or
    /// issuer, expired, or unreadable).
    InvalidIdToken,
    /// Groups asks for more consent or a new session: the error carries
    /// the `authorization_parameters` to log in again with
    /// ([`AppError::authorization_parameters`]).
    ConsentRequired,
    /// The login flow failed (an I/O error, no code entered).
    LoginFlow,
    /// The input of the command-line login flow ended before a code was
    /// entered.
    EndOfInput,
    /// The local-server login flow saw no answer in time.
    LoginTimeout,
    /// A redirect reached the local server with another `state` than the
    /// login's.
    StateMismatch,
    /// The user (or Globus Auth) refused the login.
    LoginDenied,
    /// The login flow cannot run here (a remote session, a text-only
    /// browser, no browser).
    LoginFlowUnavailable,
}

impl AppErrorKind {
    /// Whether logging in again is the way out (the token validation
    /// failures; an identity mismatch is not one).
    pub fn needs_login(self) -> bool {
        matches!(
            self,
            AppErrorKind::LoginRequired
                | AppErrorKind::TokenExpired
                | AppErrorKind::ScopesNotMet
                | AppErrorKind::MissingRefreshToken
                | AppErrorKind::ConsentRequired
        )
    }
}

/// An app failure. Its message never contains a token or a secret.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    kind: AppErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AppError {
    /// An error of `kind` with `message` (for custom login flows and
    /// storages; the message must not hold a secret).
    pub fn new(kind: AppErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> AppErrorKind {
        self.kind
    }

    /// The Groups or Globus Auth error behind this one, if any.
    pub fn groups_error(&self) -> Option<&GroupsError> {
        self.source.as_ref()?.downcast_ref::<GroupsError>()
    }

    /// The storage error behind this one, if any.
    pub fn storage_error(&self) -> Option<&StorageError> {
        self.source.as_ref()?.downcast_ref::<StorageError>()
    }

    /// What a new login must satisfy, for a
    /// [`ConsentRequired`](AppErrorKind::ConsentRequired) error (or any
    /// Groups error that carried them).
    pub fn authorization_parameters(&self) -> Option<&AuthorizationParameters> {
        self.groups_error()?.authorization_parameters()
    }

    /// A failed Groups call as an app error: a 401 or 403 carrying
    /// `authorization_parameters` becomes
    /// [`ConsentRequired`](AppErrorKind::ConsentRequired) with a message
    /// saying what is asked and what to do; a token validation failure
    /// (no stored tokens, an expired one) keeps its login-needed meaning
    /// ([`LoginRequired`](AppErrorKind::LoginRequired)); anything else is
    /// [`Call`](AppErrorKind::Call).
    pub fn from_call(error: GroupsError) -> Self {
        if let Some(params) = consent_parameters(&error) {
            let message = consent_message(params);
            return AppError::new(AppErrorKind::ConsentRequired, message).with_source(error);
        }
        if error.auth_error().is_some_and(|a| a.requires_login()) {
            return AppError::new(
                AppErrorKind::LoginRequired,
                format!("{error}; log in again (login())"),
            )
            .with_source(error);
        }
        AppError::new(AppErrorKind::Call, error.to_string()).with_source(error)
    }
}

/// The authorization parameters of a 401 or 403 answer.
pub(crate) fn consent_parameters(error: &GroupsError) -> Option<&AuthorizationParameters> {
    let status = error.status()?;
    if status != http::StatusCode::UNAUTHORIZED && status != http::StatusCode::FORBIDDEN {
        return None;
    }
    error.authorization_parameters()
}

/// What a consent error tells the user.
fn consent_message(params: &AuthorizationParameters) -> String {
    let mut asked = Vec::new();
    if let Some(scopes) = params.required_scopes.value()
        && !scopes.is_empty()
    {
        asked.push(format!("consent to {}", scopes.join(" ")));
    }
    if let Some(ids) = params.session_required_identities.value()
        && !ids.is_empty()
    {
        asked.push(format!("a session with the identity {}", ids.join(" or ")));
    }
    if let Some(domains) = params.session_required_single_domain.value()
        && !domains.is_empty()
    {
        asked.push(format!(
            "a session with an identity from {}",
            domains.join(" or ")
        ));
    }
    if let Some(policies) = params.session_required_policies.value() {
        let p = policies.to_vec();
        if !p.is_empty() {
            asked.push(format!("a session meeting the policies {}", p.join(", ")));
        }
    }
    if params.session_required_mfa.value() == Some(&true) {
        asked.push("a session with multi-factor authentication".to_owned());
    }
    if params.prompt.value().map(String::as_str) == Some("login") {
        asked.push("a fresh login".to_owned());
    }
    let what = if asked.is_empty() {
        "a new login".to_owned()
    } else {
        asked.join(", ")
    };
    let message = params
        .session_message
        .value()
        .map(|m| format!(" ({})", m.chars().take(200).collect::<String>()))
        .unwrap_or_default();
    format!(
        "Globus Groups requires {what}{message}. Log in again with these requirements: \
         UserApp::login_with_parameters(error.authorization_parameters()), or build the app \
         with auto_redrive(true) to do it on such errors and retry the call once"
    )
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        AppError::new(AppErrorKind::Storage, e.to_string()).with_source(e)
    }
}

impl From<BuildError> for AppError {
    fn from(e: BuildError) -> Self {
        AppError::new(AppErrorKind::Config, e.to_string()).with_source(e)
    }
}

impl From<GroupsError> for AppError {
    fn from(e: GroupsError) -> Self {
        AppError::new(AppErrorKind::Auth, e.to_string()).with_source(e)
    }
}
