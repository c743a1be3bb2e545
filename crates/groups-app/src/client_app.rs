//! [`ClientApp`]: an app acting as itself, a confidential client whose
//! tokens come from the client credentials grant (globus-sdk's
//! `ClientApp`).
//!
//! The app keeps a scope requirement per resource server, `openid` on
//! `auth.globus.org` from the start (as globus-sdk). A Groups client
//! made by [`ClientApp::groups_client`] registers Groups' default
//! requirement (`view_my_groups_and_memberships`), or the scopes given to
//! [`ClientApp::groups_client_with_scopes`] (globus-sdk's `app_scopes`).
//! Its token is the stored one while that is valid (not expired, at least
//! 60 s left, and its scopes cover the requirement); otherwise a new one is
//! fetched on the first call. Every new token is written to the app's
//! storage, so the next run (or another app on the same storage) reuses it.
//! [`ClientApp::login`] fetches tokens for every requirement at once, and
//! [`ClientApp::logout`] revokes and removes them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use groups_core::auth::{ClientCredentialsProvider, OAuthClient, SecretString};
use groups_core::config::Environment;
use groups_core::{GroupsScopes, Transport};
use groups_hyper::{AuthClient, GroupsClient, HyperClientBuilder};

use crate::common::{AUTH_RESOURCE_SERVER, AppCore, CoreBuilder, missing_scopes, now_epoch};
use crate::error::AppError;
use crate::storage::TokenStorage;

/// Settings of a [`ClientApp`]; start from [`ClientApp::builder`].
pub struct ClientAppBuilder {
    core: CoreBuilder,
    secret: SecretString,
}

impl fmt::Debug for ClientAppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAppBuilder")
            .field("app_name", &self.core.app_name)
            .field("client_id", &self.core.client_id)
            .field("client_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ClientAppBuilder {
    /// The Globus environment (default: `GLOBUS_SDK_ENVIRONMENT`, else
    /// production). It names the default token file (`{env}-tokens.json`
    /// outside production) and, without [`http`](Self::http), picks the
    /// Groups and Auth URLs.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.core.environment = Some(environment);
        self
    }

    /// The transport settings and service URLs (for example the emulator's
    /// Groups and Auth URL). Default: [`HyperClientBuilder::from_env`], or
    /// the [`environment`](Self::environment)'s URLs. The app name is set
    /// on it as the User-Agent suffix.
    pub fn http(mut self, builder: HyperClientBuilder) -> Self {
        self.core.http = Some(builder);
        self
    }

    /// Where the tokens live. Default: the [`JsonTokenStorage`](crate::JsonTokenStorage)
    /// globus-sdk uses for this client id, app name and environment.
    pub fn token_storage(mut self, storage: impl TokenStorage + 'static) -> Self {
        self.core.storage = Some(Arc::new(storage));
        self
    }

    /// Require `scopes` on `resource_server` from the start (more are
    /// registered by the clients the app makes).
    pub fn scope_requirements<S: ToString>(
        mut self,
        resource_server: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.core.require(resource_server.into(), scopes);
        self
    }

    /// The app. An empty name or client id, an app name not usable in a
    /// User-Agent or a file name, or unusable service URLs are
    /// [`AppErrorKind::Config`](crate::error::AppErrorKind::Config) errors; the default token file's directory
    /// is created here.
    pub fn build(mut self) -> Result<ClientApp, AppError> {
        // As globus-sdk, every app requires `openid` on Auth.
        let auth = self
            .core
            .requirements
            .entry(AUTH_RESOURCE_SERVER.to_owned())
            .or_default();
        if !auth.iter().any(|s| s == "openid") {
            auth.insert(0, "openid".to_owned());
        }
        Ok(ClientApp {
            core: self.core.build()?,
            secret: self.secret,
        })
    }
}

/// A confidential client acting as itself (see the [module docs](self)).
///
/// ```
/// use groups_app::{ClientApp, MemoryTokenStorage};
/// use groups_core::GroupsScopes;
///
/// let app = ClientApp::builder("my service", "CLIENT-ID", "CLIENT-SECRET")
///     .token_storage(MemoryTokenStorage::new())
///     .build()?;
/// let client = app.groups_client_with_scopes([GroupsScopes::ALL])?;
/// assert_eq!(app.scope_requirements()["groups.api.globus.org"], [GroupsScopes::ALL]);
/// assert_eq!(app.scope_requirements()["auth.globus.org"], ["openid"]);
/// assert!(!format!("{app:?} {client:?}").contains("CLIENT-SECRET"));
/// # Ok::<(), groups_app::AppError>(())
/// ```
pub struct ClientApp {
    core: AppCore,
    secret: SecretString,
}

impl fmt::Debug for ClientApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientApp")
            .field("core", &self.core)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl ClientApp {
    /// Start configuring the app `app_name` of the confidential client
    /// `client_id` with `client_secret`.
    pub fn builder(
        app_name: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> ClientAppBuilder {
        ClientAppBuilder {
            core: CoreBuilder::new(app_name.into(), client_id.into()),
            secret: client_secret.into(),
        }
    }

    /// The app name.
    pub fn app_name(&self) -> &str {
        &self.core.app_name
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.core.client_id
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.core.environment
    }

    /// The token storage.
    pub fn token_storage(&self) -> &Arc<dyn TokenStorage> {
        &self.core.storage
    }

    /// The scopes required so far, by resource server.
    pub fn scope_requirements(&self) -> BTreeMap<String, Vec<String>> {
        self.core.requirements()
    }

    /// Require `scopes` on `resource_server` too (globus-sdk's
    /// `add_scope_requirements`).
    pub fn add_scope_requirements<S: ToString>(
        &self,
        resource_server: &str,
        scopes: impl IntoIterator<Item = S>,
    ) {
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.to_string()).collect();
        self.core.add_requirements(resource_server, &scopes);
    }

    fn oauth_client(&self) -> OAuthClient {
        OAuthClient::confidential(self.core.client_id.clone(), self.secret.clone())
    }

    /// A Groups client with Groups' default requirement,
    /// `view_my_groups_and_memberships` (read-only; use
    /// [`groups_client_with_scopes`](Self::groups_client_with_scopes) with
    /// [`GroupsScopes::ALL`] to write).
    pub fn groups_client(&self) -> Result<GroupsClient, AppError> {
        self.groups_client_for(None)
    }

    /// A Groups client asking for `scopes` instead of the default
    /// (globus-sdk's `app_scopes`).
    pub fn groups_client_with_scopes<S: ToString>(
        &self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<GroupsClient, AppError> {
        self.groups_client_for(Some(scopes.into_iter().map(|s| s.to_string()).collect()))
    }

    fn groups_client_for(&self, scopes: Option<Vec<String>>) -> Result<GroupsClient, AppError> {
        let scopes = self.core.register_groups(scopes);
        let rs = GroupsScopes::RESOURCE_SERVER;
        let http = &self.core.http;
        let transport = http.build_transport()?;
        let config = http.build_config()?;
        let mut provider = ClientCredentialsProvider::new(
            http.build_auth_config()?,
            self.oauth_client(),
            &scopes,
        )?;
        let now = now_epoch();
        if let Some(stored) = self.core.storage.get_token_data(rs)? {
            let left = stored.expires_at_seconds.saturating_sub(now);
            // The provider renews 60 s before expiry; a token with less
            // left than that is fetched anew anyway.
            if left > 60 && missing_scopes(&stored.scope, &scopes).is_empty() {
                provider = provider.initial_access_token(
                    stored.access_token,
                    transport.now() + Duration::from_secs(left),
                )?;
            }
        }
        let provider = provider.on_refresh(self.core.storing_hook(None));
        Ok(GroupsClient::with_shared_auth(
            transport,
            config,
            Arc::new(provider),
        ))
    }

    /// The Globus Auth client of this app's client.
    pub fn auth_client(&self) -> Result<AuthClient, AppError> {
        Ok(self
            .core
            .http
            .clone()
            .client_secret(self.secret.clone())
            .build_auth_client(self.core.client_id.clone())?)
    }

    /// Whether some requirement has no stored token that is unexpired and
    /// covers its scopes.
    pub fn login_required(&self) -> Result<bool, AppError> {
        let now = now_epoch();
        let stored = self.core.storage.get_all_token_data()?;
        Ok(self.core.requirements().iter().any(|(rs, scopes)| {
            stored
                .get(rs)
                .is_none_or(|d| d.is_expired(now) || !missing_scopes(&d.scope, scopes).is_empty())
        }))
    }

    /// Fetch tokens for every requirement with one client credentials
    /// grant and store them (globus-sdk's `ClientApp.login`). With no
    /// requirement yet, Groups' default one is used.
    pub async fn login(&self) -> Result<(), AppError> {
        let mut scopes = self.core.all_required_scopes();
        if scopes.is_empty() {
            scopes = self.core.register_groups(None);
        }
        let auth = self.auth_client()?;
        let received = now_epoch();
        let tokens = auth.client_credentials(&scopes).await?;
        self.core.storage.store_token_response(&tokens, received)?;
        Ok(())
    }

    /// Revoke the stored tokens of the required resource servers (every
    /// stored one with `sweep`) and remove them from storage. A token is
    /// removed only after Auth accepted its revocation.
    pub async fn logout(&self, sweep: bool) -> Result<(), AppError> {
        crate::common::logout(&self.core, &self.auth_client()?, sweep).await
    }
}
