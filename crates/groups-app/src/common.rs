//! What every app shares: its error type, its scope requirements and the
//! settings common to [`ClientApp`](crate::ClientApp) and
//! [`UserApp`](crate::UserApp).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use groups_core::auth::TokenResponse;
use groups_core::config::{BaseUrl, Environment};
use groups_core::groups_types::error_body::AuthorizationParameters;
use groups_core::{GroupsError, GroupsScopes};
use groups_hyper::{BuildError, HyperClientBuilder};

use crate::storage::{JsonTokenStorage, StorageError, TokenStorage, TokenStorageData};

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

/// The current time, epoch seconds.
pub(crate) fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The root scope string of a scope (without its `[dependencies]` and the
/// optional marker `*`).
fn root_scope(scope: &str) -> &str {
    let s = scope.split('[').next().unwrap_or(scope).trim();
    s.strip_prefix('*').unwrap_or(s)
}

/// The required scopes `granted` (a space-separated scope string) does not
/// cover, compared by root scope (dependent scopes are not checked).
pub(crate) fn missing_scopes<'r>(granted: &str, required: &'r [String]) -> Vec<&'r str> {
    let have: Vec<&str> = granted.split_whitespace().map(root_scope).collect();
    required
        .iter()
        .map(String::as_str)
        .filter(|r| !r.trim_start().starts_with('*') && !have.contains(&root_scope(r)))
        .collect()
}

/// The settings and state shared by both kinds of app.
pub(crate) struct AppCore {
    pub(crate) app_name: String,
    pub(crate) client_id: String,
    pub(crate) environment: Environment,
    pub(crate) http: HyperClientBuilder,
    pub(crate) storage: Arc<dyn TokenStorage>,
    pub(crate) requirements: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl fmt::Debug for AppCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("app_name", &self.app_name)
            .field("client_id", &self.client_id)
            .field("environment", &self.environment)
            .field("storage", &self.storage)
            .field("requirements", &self.requirements())
            .finish_non_exhaustive()
    }
}

/// The common builder settings.
pub(crate) struct CoreBuilder {
    pub(crate) app_name: String,
    pub(crate) client_id: String,
    pub(crate) environment: Option<Environment>,
    pub(crate) http: Option<HyperClientBuilder>,
    pub(crate) storage: Option<Arc<dyn TokenStorage>>,
    pub(crate) requirements: BTreeMap<String, Vec<String>>,
}

impl CoreBuilder {
    pub(crate) fn new(app_name: String, client_id: String) -> Self {
        CoreBuilder {
            app_name,
            client_id,
            environment: None,
            http: None,
            storage: None,
            requirements: BTreeMap::new(),
        }
    }

    pub(crate) fn build(self) -> Result<AppCore, AppError> {
        if self.app_name.trim().is_empty() {
            return Err(AppError::new(AppErrorKind::Config, "the app name is empty"));
        }
        if self.client_id.trim().is_empty() {
            return Err(AppError::new(
                AppErrorKind::Config,
                "the client id is empty",
            ));
        }
        let environment = match self.environment {
            Some(e) => e,
            None => Environment::from_lookup(|n| std::env::var(n).ok())?,
        };
        let http = match self.http {
            Some(h) => h,
            None if self.environment.is_some() => HyperClientBuilder::new()
                .base_url(environment.groups_base_url())
                .auth_url(BaseUrl::parse(environment.auth_base_url())?),
            None => HyperClientBuilder::from_env()?,
        }
        .app_name(self.app_name.as_str());
        // The app name must make a valid User-Agent suffix.
        http.build_config()?;
        let storage = match self.storage {
            Some(s) => s,
            None => Arc::new(JsonTokenStorage::for_app(
                &self.client_id,
                &self.app_name,
                environment.as_str(),
            )?),
        };
        Ok(AppCore {
            app_name: self.app_name,
            client_id: self.client_id,
            environment,
            http,
            storage,
            requirements: Arc::new(Mutex::new(self.requirements)),
        })
    }
}

impl AppCore {
    pub(crate) fn requirements(&self) -> BTreeMap<String, Vec<String>> {
        self.requirements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Add `scopes` to the requirements of `resource_server` (no
    /// duplicates).
    pub(crate) fn add_requirements(&self, resource_server: &str, scopes: &[String]) {
        let mut req = self.requirements.lock().unwrap_or_else(|p| p.into_inner());
        let list = req.entry(resource_server.to_owned()).or_default();
        for s in scopes {
            if !list.contains(s) {
                list.push(s.clone());
            }
        }
    }

    /// The Groups scopes a client asks for: the caller's, or Groups'
    /// default requirement.
    pub(crate) fn register_groups(&self, scopes: Option<Vec<String>>) -> Vec<String> {
        let scopes = scopes
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec![GroupsScopes::VIEW_MY_GROUPS_AND_MEMBERSHIPS.to_owned()]);
        self.add_requirements(GroupsScopes::RESOURCE_SERVER, &scopes);
        scopes
    }

    /// Every required scope, across resource servers.
    pub(crate) fn all_required_scopes(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for s in self.requirements().into_values().flatten() {
            if !all.contains(&s) {
                all.push(s);
            }
        }
        all
    }

    /// The hook that writes renewed tokens to storage, keeping
    /// `identity_id` (a renewal's answer has no id_token).
    pub(crate) fn storing_hook(
        &self,
        identity_id: Option<String>,
    ) -> impl Fn(&TokenResponse) + Send + Sync + 'static {
        let storage = Arc::clone(&self.storage);
        move |response: &TokenResponse| {
            let data =
                TokenStorageData::from_response(response, now_epoch(), identity_id.as_deref());
            // The hook cannot fail the call that renewed; the next run
            // renews again if the write was lost.
            let _ = storage.store_token_data(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_compare_by_root() {
        let req = vec!["a".to_owned(), "b[c]".to_owned(), "*d".to_owned()];
        assert_eq!(missing_scopes("a b", &req), Vec::<&str>::new());
        assert_eq!(missing_scopes("b", &req), vec!["a"]);
        assert_eq!(missing_scopes("", &req), vec!["a", "b[c]"]);
    }
}
