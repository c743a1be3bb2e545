//! [`UserApp`]: an app acting for a user who logs in through a browser
//! (globus-sdk's `UserApp`).
//!
//! # Lifecycle
//!
//! 1. Build the app ([`UserApp::builder`]) and make its clients
//!    ([`UserApp::groups_client`]): each client registers the scopes it
//!    needs, and the app always requires `openid` on `auth.globus.org` (to
//!    learn who logged in).
//! 2. [`UserApp::login`] runs the login flow when the stored tokens do
//!    not pass validation (see below), exchanges the code (PKCE), checks
//!    the identity and stores the tokens. With valid stored tokens it does
//!    nothing: the second run of a script logs in no more.
//! 3. Calls made through the clients use the stored tokens. With refresh
//!    tokens ([`UserAppBuilder::request_refresh_tokens`]) an expired access
//!    token is renewed (60 s before expiry, single flight) and the rotated
//!    tokens are written back to storage; without, an expired access token
//!    is noticed before it is sent: the call fails with a login-needed
//!    error.
//! 4. [`UserApp::call`] runs a call and recovers where globus-sdk does:
//!    a login-needed failure runs the login and retries once; a Groups
//!    401/403 carrying `authorization_parameters` (consent or session
//!    requirements) is an [`AppErrorKind::ConsentRequired`] error, or, with
//!    [`auto_redrive`](UserAppBuilder::auto_redrive), a new login with
//!    those parameters and one retry.
//! 5. [`UserApp::logout`] revokes the tokens and removes them from
//!    storage.
//!
//! # Validation
//!
//! Before use and at [`UserApp::login`], for every required resource
//! server ([`UserApp::validate`]):
//!
//! * tokens are stored ([`AppErrorKind::LoginRequired`]);
//! * with [`request_refresh_tokens`](UserAppBuilder::request_refresh_tokens),
//!   a refresh token is stored ([`AppErrorKind::MissingRefreshToken`]);
//!   without, the access token has not expired
//!   ([`AppErrorKind::TokenExpired`]);
//! * the granted scopes cover the required ones, compared by root scope
//!   ([`AppErrorKind::ScopesNotMet`]).
//!
//! After a login, the new id_token is verified (RS512 signature against
//! Auth's published keys, audience, issuer, expiry; else
//! [`AppErrorKind::InvalidIdToken`]) and its `sub` must be the identity of
//! the tokens already stored ([`AppErrorKind::IdentityMismatch`]: the new
//! tokens are revoked and the stored ones kept).
//!
//! ```
//! use groups_app::{MemoryTokenStorage, UserApp};
//! use groups_app::login_flow::CommandLineLoginFlow;
//!
//! let app = UserApp::builder("my script", "NATIVE-CLIENT-ID")
//!     .token_storage(MemoryTokenStorage::new())
//!     .login_flow(CommandLineLoginFlow::new())
//!     .request_refresh_tokens(true)
//!     .build()?;
//! let groups = app.groups_client()?;
//! assert!(app.scope_requirements().contains_key("groups.api.globus.org"));
//! assert_eq!(app.scope_requirements()["auth.globus.org"], ["openid"]);
//! assert!(app.login_required()?);
//! # let _ = groups;
//! # Ok::<(), groups_app::AppError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use groups_core::auth::authorize::AuthorizeUrl;
use groups_core::auth::{
    AccessType, OAuthClient, PkceVerifier, SecretString, TokenProvider, TokenResponse,
};
use groups_core::config::Environment;
use groups_core::groups_types::error_body::AuthorizationParameters;
use groups_core::{GroupsError, GroupsScopes, Transport};
use groups_hyper::{AuthClient, GroupsClient, HyperClientBuilder, HyperTransport};

use crate::common::{AppCore, CoreBuilder, missing_scopes, now_epoch};
use crate::error::{AppError, AppErrorKind, consent_parameters};
use crate::jwt;
use crate::login_flow::{CommandLineLoginFlow, LoginFlow, LoginRequest, grant_name};
use crate::provider::{AppTokenProvider, ProviderSource};
use crate::storage::{TokenStorage, TokenStorageData};

pub use crate::common::AUTH_RESOURCE_SERVER;

/// Settings of a [`UserApp`]; start from [`UserApp::builder`].
pub struct UserAppBuilder {
    core: CoreBuilder,
    secret: Option<SecretString>,
    flow: Option<Arc<dyn LoginFlow>>,
    refresh_tokens: bool,
    auto_redrive: bool,
    redirect_uri: Option<String>,
}

impl fmt::Debug for UserAppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserAppBuilder")
            .field("app_name", &self.core.app_name)
            .field("client_id", &self.core.client_id)
            .field("client_secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("refresh_tokens", &self.refresh_tokens)
            .field("auto_redrive", &self.auto_redrive)
            .finish_non_exhaustive()
    }
}

impl UserAppBuilder {
    /// Make the client confidential: the code exchange and refreshes
    /// authenticate with this secret (HTTP Basic). A confidential client's
    /// login needs a [`redirect_uri`](Self::redirect_uri).
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.secret = Some(secret.into());
        self
    }

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

    /// Where the tokens live. Default: the
    /// [`JsonTokenStorage`](crate::JsonTokenStorage) globus-sdk uses for
    /// this client id, app name and environment.
    pub fn token_storage(mut self, storage: impl TokenStorage + 'static) -> Self {
        self.core.storage = Some(Arc::new(storage));
        self
    }

    /// Like [`token_storage`](Self::token_storage), a storage shared with
    /// other code.
    pub fn shared_token_storage(mut self, storage: Arc<dyn TokenStorage>) -> Self {
        self.core.storage = Some(storage);
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

    /// How the user logs in (default [`CommandLineLoginFlow`] on standard
    /// input and output). Any [`LoginFlow`] can be given.
    pub fn login_flow(mut self, flow: impl LoginFlow + 'static) -> Self {
        self.flow = Some(Arc::new(flow));
        self
    }

    /// Ask for refresh tokens (`access_type=offline`) so that expired
    /// access tokens are renewed without a login (default: no, as in
    /// globus-sdk).
    pub fn request_refresh_tokens(mut self, on: bool) -> Self {
        self.refresh_tokens = on;
        self
    }

    /// On a Groups 401/403 carrying `authorization_parameters`, log in
    /// again with them and retry the call once, in [`UserApp::call`]
    /// (default: no, the error is returned).
    pub fn auto_redrive(mut self, on: bool) -> Self {
        self.auto_redrive = on;
        self
    }

    /// The redirect URI of the authorize URL (default: Globus Auth's page
    /// that shows the code, for native clients). The local-server flow
    /// uses its own.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The app. An empty name or client id, an app name not usable in a
    /// User-Agent or a file name, or unusable service URLs are
    /// [`AppErrorKind::Config`] errors; the default token file's directory
    /// is created here.
    pub fn build(mut self) -> Result<UserApp, AppError> {
        self.core
            .requirements
            .entry(AUTH_RESOURCE_SERVER.to_owned())
            .or_default();
        if let Some(list) = self.core.requirements.get_mut(AUTH_RESOURCE_SERVER)
            && !list.iter().any(|s| s == "openid")
        {
            list.insert(0, "openid".to_owned());
        }
        let core = self.core.build()?;
        let http = match &self.secret {
            Some(s) => core.http.clone().client_secret(s.clone()),
            None => core.http.clone(),
        };
        let transport = http.build_transport()?;
        let auth_config = http.build_auth_config()?;
        let auth = AuthClient::new(
            transport.clone(),
            auth_config.clone(),
            oauth_client(&core.client_id, &self.secret),
        );
        let source = Arc::new(ProviderSource {
            storage: Arc::clone(&core.storage),
            requirements: Arc::clone(&core.requirements),
            auth_config,
            client: oauth_client(&core.client_id, &self.secret),
        });
        Ok(UserApp {
            inner: Arc::new(Inner {
                core,
                secret: self.secret,
                flow: self
                    .flow
                    .unwrap_or_else(|| Arc::new(CommandLineLoginFlow::new())),
                refresh_tokens: self.refresh_tokens,
                auto_redrive: self.auto_redrive,
                redirect_uri: self.redirect_uri,
                transport,
                auth,
                source,
                providers: Mutex::new(BTreeMap::new()),
                login_lock: tokio::sync::Mutex::new(()),
                jwks: Mutex::new(None),
                logins: AtomicU64::new(0),
            }),
        })
    }
}

fn oauth_client(client_id: &str, secret: &Option<SecretString>) -> OAuthClient {
    match secret {
        Some(s) => OAuthClient::confidential(client_id, s.clone()),
        None => OAuthClient::native(client_id),
    }
}

/// An app acting for a user (see the [module docs](self)). Cheap to
/// clone: clones share the clients' token state.
#[derive(Clone)]
pub struct UserApp {
    inner: Arc<Inner>,
}

struct Inner {
    core: AppCore,
    secret: Option<SecretString>,
    flow: Arc<dyn LoginFlow>,
    refresh_tokens: bool,
    auto_redrive: bool,
    redirect_uri: Option<String>,
    transport: HyperTransport,
    auth: AuthClient,
    source: Arc<ProviderSource>,
    providers: Mutex<BTreeMap<String, Arc<AppTokenProvider>>>,
    /// One login at a time.
    login_lock: tokio::sync::Mutex<()>,
    /// Auth's signing keys, once fetched.
    jwks: Mutex<Option<Arc<jwt::Jwks>>>,
    /// Successful logins so far: a call that failed before the latest
    /// login retries without logging in again.
    logins: AtomicU64,
}

impl fmt::Debug for UserApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("UserApp")
            .field("core", &i.core)
            .field("client_secret", &i.secret.as_ref().map(|_| "<redacted>"))
            .field("login_flow", &i.flow)
            .field("refresh_tokens", &i.refresh_tokens)
            .field("auto_redrive", &i.auto_redrive)
            .field("redirect_uri", &i.redirect_uri)
            .finish()
    }
}

impl UserApp {
    /// Start configuring the app `app_name` of the client `client_id`
    /// (native, unless [`client_secret`](UserAppBuilder::client_secret) is
    /// given).
    pub fn builder(app_name: impl Into<String>, client_id: impl Into<String>) -> UserAppBuilder {
        UserAppBuilder {
            core: CoreBuilder::new(app_name.into(), client_id.into()),
            secret: None,
            flow: None,
            refresh_tokens: false,
            auto_redrive: false,
            redirect_uri: None,
        }
    }

    /// The app name.
    pub fn app_name(&self) -> &str {
        &self.inner.core.app_name
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.inner.core.client_id
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.inner.core.environment
    }

    /// The token storage.
    pub fn token_storage(&self) -> &Arc<dyn TokenStorage> {
        &self.inner.core.storage
    }

    /// Whether the app asks for refresh tokens.
    pub fn requests_refresh_tokens(&self) -> bool {
        self.inner.refresh_tokens
    }

    /// The scopes required so far, by resource server.
    pub fn scope_requirements(&self) -> BTreeMap<String, Vec<String>> {
        self.inner.core.requirements()
    }

    /// Require `scopes` on `resource_server` too (globus-sdk's
    /// `add_scope_requirements`). Clients already made re-check their
    /// stored tokens against the new requirement.
    pub fn add_scope_requirements<S: ToString>(
        &self,
        resource_server: &str,
        scopes: impl IntoIterator<Item = S>,
    ) {
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.to_string()).collect();
        let before = self.inner.core.requirements();
        self.inner.core.add_requirements(resource_server, &scopes);
        if self.inner.core.requirements() != before {
            self.reset_providers();
        }
    }

    /// The Globus Auth client of this app's client (over the app's
    /// transport).
    pub fn auth_client(&self) -> &AuthClient {
        &self.inner.auth
    }

    /// A Groups client with Groups' default requirement,
    /// `view_my_groups_and_memberships` (read-only; use
    /// [`groups_client_with_scopes`](Self::groups_client_with_scopes) with
    /// [`GroupsScopes::ALL`] to write). Its calls use the stored tokens;
    /// log in first ([`login`](Self::login)), or run calls through
    /// [`call`](Self::call).
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
        let before = self.inner.core.requirements();
        self.inner.core.register_groups(scopes);
        // A new requirement: the clients' tokens are checked again
        // (tokens in use are kept otherwise).
        if self.inner.core.requirements() != before {
            self.reset_providers();
        }
        let provider = self.provider(GroupsScopes::RESOURCE_SERVER);
        let config = self.inner.core.http.build_config()?;
        Ok(GroupsClient::with_shared_auth(
            self.inner.transport.clone(),
            config,
            provider,
        ))
    }

    /// The token provider of `resource_server`'s stored tokens (globus-sdk's
    /// `get_authorizer`), for clients of other Globus services built on the
    /// core: validated and renewed as the Groups clients' are. Register the
    /// scopes it needs first ([`add_scope_requirements`](Self::add_scope_requirements)),
    /// so that the login asks for them.
    ///
    /// ```
    /// use groups_app::{MemoryTokenStorage, UserApp};
    ///
    /// let app = UserApp::builder("my script", "NATIVE-CLIENT-ID")
    ///     .token_storage(MemoryTokenStorage::new())
    ///     .build()?;
    /// app.add_scope_requirements("transfer.api.globus.org", ["urn:globus:auth:scope:transfer.api.globus.org:all"]);
    /// let provider = app.token_provider("transfer.api.globus.org");
    /// assert!(format!("{provider:?}").contains("transfer.api.globus.org"));
    /// # Ok::<(), groups_app::AppError>(())
    /// ```
    pub fn token_provider(&self, resource_server: &str) -> Arc<dyn TokenProvider> {
        self.provider(resource_server)
    }

    fn provider(&self, resource_server: &str) -> Arc<AppTokenProvider> {
        let mut map = self
            .inner
            .providers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(resource_server.to_owned()).or_insert_with(|| {
            Arc::new(AppTokenProvider::new(
                resource_server,
                Arc::clone(&self.inner.source),
            ))
        }))
    }

    fn reset_providers(&self) {
        for p in self
            .inner
            .providers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            p.reset();
        }
    }

    /// Check the stored tokens against every requirement (see the [module
    /// docs](self)): the first failure as a typed error.
    pub fn validate(&self) -> Result<(), AppError> {
        let now = now_epoch();
        let stored = self.inner.core.storage.get_all_token_data()?;
        for (rs, scopes) in self.inner.core.requirements() {
            validate_one(
                &rs,
                &scopes,
                stored.get(&rs),
                now,
                self.inner.refresh_tokens,
            )?;
        }
        Ok(())
    }

    /// Whether a login is needed: the stored tokens fail
    /// [`validate`](Self::validate) with an error a login fixes. A storage
    /// failure is an error.
    pub fn login_required(&self) -> Result<bool, AppError> {
        match self.validate() {
            Ok(()) => Ok(false),
            Err(e) if e.kind().needs_login() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Log in if [`login_required`](Self::login_required) (globus-sdk's
    /// `login()`); otherwise do nothing.
    pub async fn login(&self) -> Result<(), AppError> {
        let _one = self.inner.login_lock.lock().await;
        if !self.login_required()? {
            return Ok(());
        }
        self.run_login(None).await
    }

    /// Log in whatever is stored (globus-sdk's `login(force=True)`).
    pub async fn force_login(&self) -> Result<(), AppError> {
        let _one = self.inner.login_lock.lock().await;
        self.run_login(None).await
    }

    /// Log in with the requirements of a consent or session error
    /// (required scopes, session identities or domains, MFA, policies,
    /// `prompt=login`), as globus-sdk's `login(auth_params=...)`.
    pub async fn login_with_parameters(
        &self,
        parameters: &AuthorizationParameters,
    ) -> Result<(), AppError> {
        let _one = self.inner.login_lock.lock().await;
        self.run_login(Some(parameters)).await
    }

    /// The login request a flow receives: every required scope, PKCE, a
    /// random `state`, the prefilled grant name, `access_type=offline`
    /// with refresh tokens, and `parameters`.
    fn login_request(
        &self,
        parameters: Option<&AuthorizationParameters>,
        verifier: &PkceVerifier,
    ) -> Result<LoginRequest, AppError> {
        let core = &self.inner.core;
        let auth_base = self.inner.auth.config().base_url().clone();
        let state = random_hex()?;
        let mut url = AuthorizeUrl::new(&auth_base, core.client_id.clone())
            .scopes(core.all_required_scopes())
            .state(state.clone())
            .pkce(verifier)
            .prefill_named_grant(grant_name(&core.app_name));
        if self.inner.refresh_tokens {
            url = url.access_type(AccessType::Offline);
        }
        if let Some(p) = parameters {
            url = url.authorization_parameters(p);
        }
        Ok(LoginRequest {
            url,
            state,
            redirect_uri: self.inner.redirect_uri.clone(),
            app_name: core.app_name.clone(),
            confidential: self.inner.secret.is_some(),
        })
    }

    async fn run_login(
        &self,
        parameters: Option<&AuthorizationParameters>,
    ) -> Result<(), AppError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| {
            AppError::new(
                AppErrorKind::LoginFlow,
                format!("no randomness for PKCE: {e}"),
            )
        })?;
        let verifier = PkceVerifier::from_random_bytes(bytes);
        let request = self.login_request(parameters, &verifier)?;
        let code = self.inner.flow.run(&request).await?;
        let auth = &self.inner.auth;
        let received = now_epoch();
        let mut exchange = auth
            .exchange_code(code.code.clone())
            .pkce_verifier(&verifier);
        if let Some(r) = code.redirect_uri.clone().or_else(|| request.redirect_uri()) {
            exchange = exchange.redirect_uri(r);
        }
        let tokens = exchange.await?;
        let identity = match self.identity_of(&tokens).await {
            Ok(id) => id,
            Err(e) => {
                self.revoke_response(&tokens).await;
                return Err(e);
            }
        };
        let stored = self.inner.core.storage.get_all_token_data()?;
        if let Some(previous) = stored.values().find_map(|d| d.identity_id.clone())
            && identity.as_deref().is_some_and(|id| id != previous)
        {
            self.revoke_response(&tokens).await;
            return Err(AppError::new(
                AppErrorKind::IdentityMismatch,
                format!(
                    "this login is for identity {}, but the stored tokens are for {previous}; \
                     the new tokens were revoked. Log out first to switch identities",
                    identity.as_deref().unwrap_or("")
                ),
            ));
        }
        let data = TokenStorageData::from_response(&tokens, received, identity.as_deref());
        self.inner.core.storage.store_token_data(&data)?;
        self.reset_providers();
        self.inner.logins.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Log in for a call that failed, unless another login finished since
    /// the call started (`logins_before`): concurrent calls failing at
    /// once make one login, not one each.
    async fn relogin_for_call(
        &self,
        logins_before: u64,
        parameters: Option<&AuthorizationParameters>,
    ) -> Result<(), AppError> {
        let _one = self.inner.login_lock.lock().await;
        if self.inner.logins.load(Ordering::SeqCst) != logins_before {
            return Ok(());
        }
        self.run_login(parameters).await
    }

    /// The identity id of a login's answer: its id_token's `sub`, once the
    /// id_token is verified against Auth's keys.
    async fn identity_of(&self, tokens: &TokenResponse) -> Result<Option<String>, AppError> {
        let Some(id_token) = tokens.id_token() else {
            return Ok(None);
        };
        let token = id_token.expose_secret();
        let kid = jwt::header_kid(token);
        let cached = self
            .inner
            .jwks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let jwks = match cached {
            Some(j) if j.has_kid(kid.as_deref()) => j,
            // Unknown key (first login, or Auth rotated its keys): fetch.
            _ => {
                let j = Arc::new(self.fetch_jwks().await?);
                *self.inner.jwks.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&j));
                j
            }
        };
        let issuer = self
            .inner
            .auth
            .config()
            .base_url()
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let claims = jwt::verify_id_token(
            token,
            &jwks,
            &self.inner.core.client_id,
            &issuer,
            now_epoch(),
        )?;
        Ok(claims
            .get("sub")
            .and_then(|s| s.as_str())
            .map(str::to_owned))
    }

    /// Globus Auth's signing keys (`{auth}/jwk.json`).
    async fn fetch_jwks(&self) -> Result<jwt::Jwks, AppError> {
        let url = self.inner.auth.config().base_url().join("jwk.json");
        let request = http::Request::get(url)
            .body(bytes::Bytes::new())
            .map_err(|e| AppError::new(AppErrorKind::Config, format!("no JWKS request: {e}")))?;
        let answer = self
            .inner
            .auth
            .transport()
            .send(request)
            .await
            .map_err(|e| AppError::from(GroupsError::from(e)))?;
        if !answer.status().is_success() {
            return Err(AppError::new(
                AppErrorKind::Auth,
                format!("Globus Auth's keys (jwk.json) answered {}", answer.status()),
            ));
        }
        jwt::Jwks::parse(answer.body())
    }

    /// Revoke every token of `tokens` (best effort: the login failed
    /// anyway).
    async fn revoke_response(&self, tokens: &TokenResponse) {
        for t in tokens.tokens() {
            let _ = self.inner.auth.revoke(t.access_token.clone()).await;
            if let Some(rt) = &t.refresh_token {
                let _ = self.inner.auth.revoke(rt.clone()).await;
            }
        }
    }

    /// Revoke the stored tokens of the required resource servers (every
    /// stored one with `sweep`) and remove them from storage. A token is
    /// removed only after Auth accepted its revocation.
    pub async fn logout(&self, sweep: bool) -> Result<(), AppError> {
        let result = crate::common::logout(&self.inner.core, &self.inner.auth, sweep).await;
        self.reset_providers();
        result
    }

    /// Run `call` (a Groups call through one of this app's clients) and
    /// recover as globus-sdk does:
    ///
    /// * a login-needed failure (no stored tokens, an expired access token
    ///   without a refresh token, a revoked refresh token, missing scopes)
    ///   runs the login flow and retries once;
    /// * a 401/403 carrying `authorization_parameters` is an
    ///   [`AppErrorKind::ConsentRequired`] error with a hint, or, with
    ///   [`auto_redrive`](UserAppBuilder::auto_redrive), a login with those
    ///   parameters and one retry.
    ///
    /// Calls that fail together make one login: a call whose failure
    /// predates a login that has since succeeded just retries.
    ///
    /// ```no_run
    /// # async fn run(app: groups_app::UserApp) -> Result<(), groups_app::AppError> {
    /// let groups = app.groups_client()?;
    /// let mine = app.call(|| groups.get_my_groups()).await?;
    /// # let _ = mine; Ok(()) }
    /// ```
    pub async fn call<F, Fut, R>(&self, mut call: F) -> Result<R, AppError>
    where
        F: FnMut() -> Fut,
        Fut: IntoFuture<Output = Result<R, GroupsError>>,
    {
        let logins_before = self.inner.logins.load(Ordering::SeqCst);
        let error = match call().await {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        if let Some(params) = consent_parameters(&error) {
            if !self.inner.auto_redrive {
                return Err(AppError::from_call(error));
            }
            let params = params.clone();
            self.relogin_for_call(logins_before, Some(&params)).await?;
        } else if error.auth_error().is_some_and(|a| a.requires_login()) {
            self.relogin_for_call(logins_before, None).await?;
        } else {
            return Err(AppError::from_call(error));
        }
        call().await.map_err(AppError::from_call)
    }
}

/// One resource server's validation.
fn validate_one(
    rs: &str,
    scopes: &[String],
    stored: Option<&TokenStorageData>,
    now: u64,
    refresh_tokens: bool,
) -> Result<(), AppError> {
    let Some(d) = stored else {
        return Err(AppError::new(
            AppErrorKind::LoginRequired,
            format!("no tokens are stored for {rs}; log in (login())"),
        ));
    };
    if refresh_tokens && d.refresh_token.is_none() {
        return Err(AppError::new(
            AppErrorKind::MissingRefreshToken,
            format!(
                "the stored tokens for {rs} have no refresh token, and the app asks for \
                 refresh tokens; log in again"
            ),
        ));
    }
    if d.is_expired(now) && d.refresh_token.is_none() {
        return Err(AppError::new(
            AppErrorKind::TokenExpired,
            format!(
                "the stored access token for {rs} has expired and cannot be renewed; log in again"
            ),
        ));
    }
    let missing = missing_scopes(&d.scope, scopes);
    if !missing.is_empty() {
        return Err(AppError::new(
            AppErrorKind::ScopesNotMet,
            format!(
                "the stored tokens for {rs} lack the required scopes {}; log in again",
                missing.join(" ")
            ),
        ));
    }
    Ok(())
}

/// 32 random bytes as hex (a login's `state`).
fn random_hex() -> Result<String, AppError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| {
        AppError::new(
            AppErrorKind::LoginFlow,
            format!("no randomness for the state: {e}"),
        )
    })?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
