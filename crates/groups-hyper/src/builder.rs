//! [`HyperClientBuilder`]: every knob of the transport in one place.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use groups_core::auth::{
    AccessTokenProvider, ClientCredentialsProvider, OAuthClient, RefreshTokenProvider,
    SecretString, TokenProvider, TokenResponse, auth_config,
};
use groups_core::config::{self, BaseUrl, ClientConfig, DEFAULT_HTTP_TIMEOUT, Environment};
use groups_core::{GroupsError, RetryPolicy};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::env::{self, VerifySsl};
use crate::error::{BuildError, BuildErrorKind};
use crate::tls::{self, Roots};
use crate::transport::{HyperTransport, Inner, Origin, is_loopback_host};
use crate::{AuthClient, GroupsClient};

/// The default response body cap: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle pooled connection is kept by default.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Configures a [`HyperTransport`] and the client around it.
///
/// Start from [`HyperClientBuilder::new`] (defaults only, production
/// Groups) or [`HyperClientBuilder::from_env`] (globus-sdk's environment
/// variables), adjust, then call [`build`](HyperClientBuilder::build) (or
/// [`build_with_token`](HyperClientBuilder::build_with_token)) for a
/// [`GroupsClient`], or [`build_transport`](HyperClientBuilder::build_transport)
/// for the transport alone.
///
/// With Globus Auth: [`build_with_client_credentials`](Self::build_with_client_credentials)
/// and [`build_with_refresh_token`](Self::build_with_refresh_token) give a
/// client whose token renews itself, the token requests going through the
/// client's own transport (one connection pool for Groups and Auth);
/// [`build_auth_client`](Self::build_auth_client) gives the Auth calls.
///
/// Defaults: 10 s connect timeout, 60 s per attempt, the core's overall
/// deadline (120 s) and retry policy, 64 MiB response cap, idle pooled
/// connections kept 90 s, Mozilla's roots (webpki-roots), HTTPS only,
/// credentials only for the Groups and Auth URLs of the environment.
///
/// ```
/// use std::time::Duration;
/// use groups_hyper::HyperClientBuilder;
///
/// let client = HyperClientBuilder::new()
///     .base_url("https://groups.api.preview.globus.org/")
///     .connect_timeout(Duration::from_secs(5))
///     .attempt_timeout(Duration::from_secs(30))
///     .overall_deadline(Duration::from_secs(90))
///     .max_response_bytes(8 << 20)
///     .app_name("my tool")
///     .build_with_token("an-access-token")?;
/// assert_eq!(client.config().deadline(), Some(Duration::from_secs(90)));
/// assert_eq!(client.transport().max_response_bytes(), 8 << 20);
/// # Ok::<(), groups_hyper::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HyperClientBuilder {
    config: ClientConfig,
    base_url: Option<String>,
    app_name: Option<String>,
    auth_url: Option<BaseUrl>,
    trusted_urls: Vec<String>,
    connect_timeout: Duration,
    attempt_timeout: Option<Duration>,
    max_response_bytes: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    allow_plain_http_loopback: bool,
    roots: Roots,
    accept_invalid_certs: bool,
    client_secret: Option<SecretString>,
    on_refresh: Option<RefreshHook>,
}

/// The message of a core error without the `"invalid input: "` prefix, for
/// a [`BuildError`] (which has its own kind and must not repeat the prefix).
fn core_message(e: &GroupsError) -> String {
    e.invalid_input_message()
        .map_or_else(|| e.to_string(), str::to_owned)
}

/// A rejected URL given to the builder setter `setter`.
fn invalid_url(setter: &str, e: GroupsError) -> BuildError {
    BuildError::new(
        BuildErrorKind::InvalidUrl,
        format!("{setter}: {}", core_message(&e)),
    )
    .with_source(e)
}

/// The `on_refresh` hook, shareable so the builder stays `Clone`.
#[derive(Clone)]
struct RefreshHook(Arc<dyn Fn(&TokenResponse) + Send + Sync>);

impl std::fmt::Debug for RefreshHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshHook")
    }
}

impl Default for HyperClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HyperClientBuilder {
    /// A builder with the defaults, ignoring the environment.
    pub fn new() -> Self {
        HyperClientBuilder {
            config: ClientConfig::default(),
            base_url: None,
            app_name: None,
            auth_url: None,
            trusted_urls: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: Some(DEFAULT_HTTP_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
            allow_plain_http_loopback: false,
            roots: Roots::default(),
            accept_invalid_certs: false,
            client_secret: None,
            on_refresh: None,
        }
    }

    /// A builder with the defaults overridden by the process environment.
    ///
    /// See [`from_env_with`](Self::from_env_with) for the variables read.
    pub fn from_env() -> Result<Self, BuildError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// A builder with the defaults overridden by the variables `lookup`
    /// returns (for tests, or to read from somewhere other than the process
    /// environment). Read, with globus-sdk's meaning:
    ///
    /// - `GLOBUS_SDK_ENVIRONMENT`, `GLOBUS_SDK_SERVICE_URL_GROUPS`,
    ///   `GLOBUS_SDK_SERVICE_URL_AUTH`: the Groups base URL and the Auth URL
    ///   (see [`BaseUrl::resolve_groups`]); a Groups URL that is plain
    ///   `http://` to a loopback host (the emulator) enables
    ///   [`allow_plain_http_loopback`](Self::allow_plain_http_loopback);
    /// - `GLOBUS_SDK_HTTP_TIMEOUT`: per-attempt timeout in seconds (a
    ///   float); `-1` means none; unset or empty means 60.
    /// - `GLOBUS_SDK_VERIFY_SSL`: `y/yes/t/true/on/1` verify (the default),
    ///   `n/no/f/false/off/0` disable verification (see
    ///   [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs)),
    ///   anything else must be the path of a PEM CA bundle to trust instead
    ///   of the default roots.
    ///
    /// A value that cannot be used is an error, not silently ignored.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let invalid = |e: GroupsError| {
            BuildError::new(BuildErrorKind::InvalidEnvVar, core_message(&e)).with_source(e)
        };
        let mut builder = Self::new();
        builder.config = ClientConfig::from_lookup(&lookup).map_err(invalid)?;
        builder.auth_url = Some(BaseUrl::resolve_auth(None, &lookup).map_err(invalid)?);
        // A Groups URL that the environment itself points at a loopback
        // `http://` service (the emulator) is the opt-in to plain HTTP there.
        let base = builder.config.base_url();
        if !base.is_https() && is_loopback_host(base.host()) {
            builder.allow_plain_http_loopback = true;
        }
        // The core refuses zero, negatives other than -1 and huge values.
        builder.attempt_timeout = config::http_timeout_from_lookup(&lookup).map_err(invalid)?;
        match env::parse_verify_ssl(lookup(env::VERIFY_SSL_VAR).as_deref())? {
            VerifySsl::Verify => {}
            VerifySsl::DontVerify => builder.accept_invalid_certs = true,
            VerifySsl::CaBundle(path) => builder.roots = Roots::PemFile(path),
        }
        Ok(builder)
    }

    /// Replace the core configuration (base URL, app name, retry policy,
    /// deadline, extra headers). Settings made with this builder's own
    /// [`base_url`](Self::base_url) and [`app_name`](Self::app_name) still
    /// apply on top.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The Groups base URL (for example the emulator's
    /// `http://127.0.0.1:PORT/`). Requests carrying an `Authorization`
    /// header are only sent to this URL's origin (scheme, host, port), the
    /// Auth URL and origins added with [`trust_origin`](Self::trust_origin).
    /// Default: from the configuration (production Groups, or the
    /// environment with [`from_env`](Self::from_env)). Checked when built.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The Globus Auth URL token providers refresh against; it may receive
    /// credentials. Default: production Auth, or `GLOBUS_SDK_SERVICE_URL_AUTH`
    /// / `GLOBUS_SDK_ENVIRONMENT` with [`from_env`](Self::from_env).
    pub fn auth_url(mut self, url: BaseUrl) -> Self {
        self.auth_url = Some(url);
        self
    }

    /// The app name appended to `User-Agent`, like globus-sdk's `app_name`.
    /// Checked when built.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// The retry policy (the core's; default: 5 retries, jittered backoff,
    /// `Retry-After` honoured up to 10 s; a `create_group` POST is repeated
    /// only after a 429 or a refused connection).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config = self.config.with_retry_policy(policy);
        self
    }

    /// The overall deadline of one call, across attempts, waits and token
    /// refreshes. Enforced by the core. Default 120 s.
    pub fn overall_deadline(mut self, deadline: Duration) -> Self {
        self.config = self.config.with_deadline(deadline);
        self
    }

    /// No overall deadline: a call lasts as long as its attempts and
    /// retries take.
    pub fn no_overall_deadline(mut self) -> Self {
        self.config = self.config.without_deadline();
        self
    }

    /// Another origin that may receive credentials.
    pub fn trust_origin(mut self, url: impl Into<String>) -> Self {
        self.trusted_urls.push(url.into());
        self
    }

    /// How long to wait for a TCP connection. Default 10 s. The attempt
    /// timeout still bounds the whole attempt.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit on one attempt, from sending to the last body byte.
    /// Default 60 s (`GLOBUS_SDK_HTTP_TIMEOUT`).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// No limit on one attempt (the overall deadline, if any, still bounds
    /// the call).
    pub fn no_attempt_timeout(mut self) -> Self {
        self.attempt_timeout = None;
        self
    }

    /// The largest response body accepted, checked against
    /// `Content-Length` and while reading. Default 64 MiB.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How long an idle pooled connection is kept. Default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self
    }

    /// Keep idle pooled connections until the server closes them.
    pub fn no_pool_idle_timeout(mut self) -> Self {
        self.pool_idle_timeout = None;
        self
    }

    /// The most idle connections kept per host. Default: no limit.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Allow plain `http://` to loopback hosts (`127.0.0.0/8`, `::1`,
    /// `localhost`), for the emulator and tests. Other hosts always need
    /// HTTPS. Default off.
    pub fn allow_plain_http_loopback(mut self, allow: bool) -> Self {
        self.allow_plain_http_loopback = allow;
        self
    }

    /// Trust only the certificates in this PEM bundle file instead of the
    /// default roots (what `GLOBUS_SDK_VERIFY_SSL=/path/to/ca.pem` does).
    /// Read when the transport is built.
    pub fn ca_bundle_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.roots = Roots::PemFile(path.into());
        self
    }

    /// Trust only the certificates in this PEM text instead of the default
    /// roots.
    pub fn ca_bundle_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.roots = Roots::Pem(Arc::from(pem.as_ref()));
        self
    }

    /// Trust Mozilla's root certificates compiled into the binary
    /// (webpki-roots). This is the default.
    pub fn webpki_roots(mut self) -> Self {
        self.roots = Roots::Webpki;
        self
    }

    /// Trust the operating system's certificate store.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self) -> Self {
        self.roots = Roots::Native;
        self
    }

    /// **Disable TLS certificate verification.** Any server can then
    /// impersonate the service and read the tokens sent to it. Exists for
    /// parity with `GLOBUS_SDK_VERIFY_SSL=false`; every build with it on
    /// logs a `tracing` warning. Default off.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// The origin of a base URL that may receive credentials, after the
    /// plain-http rule (only to a loopback host, and only when allowed).
    fn service_origin(&self, url: &BaseUrl) -> Result<Origin, BuildError> {
        let plain_allowed = self.allow_plain_http_loopback && is_loopback_host(url.host());
        if !url.is_https() && !plain_allowed {
            return Err(BuildError::new(
                BuildErrorKind::InvalidUrl,
                format!(
                    "service URL {:?} uses plain http, which is only allowed to a loopback host with allow_plain_http_loopback(true)",
                    url.as_str()
                ),
            ));
        }
        Ok(Origin::of_base(url))
    }

    /// The core configuration the client will use (base URL and app name
    /// applied).
    pub fn build_config(&self) -> Result<ClientConfig, BuildError> {
        let mut config = self.config.clone();
        if let Some(url) = &self.base_url {
            let base = BaseUrl::parse(url).map_err(|e| invalid_url("base_url", e))?;
            config = config.with_base_url(base);
        }
        if let Some(name) = &self.app_name {
            config = config.with_app_name(name.as_str()).map_err(|e| {
                BuildError::new(BuildErrorKind::Config, core_message(&e)).with_source(e)
            })?;
        }
        Ok(config)
    }

    /// A client authorizing with `auth` (any core token provider).
    pub fn build(self, auth: impl TokenProvider + 'static) -> Result<GroupsClient, BuildError> {
        self.build_with_shared_auth(Arc::new(auth))
    }

    /// A client sending `Authorization: Bearer <token>` (a fixed access
    /// token; a 401 is final).
    pub fn build_with_token(
        self,
        token: impl Into<SecretString>,
    ) -> Result<GroupsClient, BuildError> {
        let auth = AccessTokenProvider::new(token).map_err(|e| {
            BuildError::new(BuildErrorKind::Config, core_message(&e)).with_source(e)
        })?;
        self.build(auth)
    }

    /// A client with a token provider shared with other clients.
    pub fn build_with_shared_auth(
        self,
        auth: Arc<dyn TokenProvider>,
    ) -> Result<GroupsClient, BuildError> {
        let config = self.build_config()?;
        let transport = self.transport_for(&config)?;
        Ok(GroupsClient::with_shared_auth(transport, config, auth))
    }

    /// The client secret of a confidential client, for
    /// [`build_with_refresh_token`](Self::build_with_refresh_token) (which
    /// then authenticates with HTTP Basic instead of sending `client_id` in
    /// the body) and [`build_auth_client`](Self::build_auth_client). Never
    /// shown in `Debug`.
    pub fn client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Call `hook` after every token renewal of a client built with
    /// [`build_with_client_credentials`](Self::build_with_client_credentials)
    /// or [`build_with_refresh_token`](Self::build_with_refresh_token), with
    /// the answer (to persist the new tokens).
    pub fn on_refresh(mut self, hook: impl Fn(&TokenResponse) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(RefreshHook(Arc::new(hook)));
        self
    }

    /// The Globus Auth configuration: the client configuration (app name,
    /// retry policy, deadline, headers) with the Auth URL as base URL.
    pub fn build_auth_config(&self) -> Result<ClientConfig, BuildError> {
        let auth_url = match &self.auth_url {
            Some(u) => u.clone(),
            None => BaseUrl::for_auth(Environment::Production),
        };
        Ok(auth_config(&self.build_config()?, auth_url))
    }

    fn oauth_client(&self, client_id: impl Into<String>) -> OAuthClient {
        match &self.client_secret {
            Some(secret) => OAuthClient::confidential(client_id, secret.clone()),
            None => OAuthClient::native(client_id),
        }
    }

    /// A client whose access token comes from the client credentials grant
    /// of a confidential client (`client_id`, `client_secret`) for `scopes`
    /// of one resource server (for example
    /// [`GroupsScopes::ALL`](groups_core::GroupsScopes::ALL)). The token is
    /// fetched on the first call and renewed 60 s before it expires; the
    /// token requests go through this client's transport and pool.
    ///
    /// ```
    /// use groups_core::GroupsScopes;
    /// use groups_hyper::HyperClientBuilder;
    ///
    /// let client = HyperClientBuilder::new()
    ///     .build_with_client_credentials("client-id", "client-secret", [GroupsScopes::ALL])?;
    /// assert!(!format!("{client:?}").contains("client-secret"));
    /// # Ok::<(), groups_hyper::BuildError>(())
    /// ```
    pub fn build_with_client_credentials<S: ToString>(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<GroupsClient, BuildError> {
        let client = OAuthClient::confidential(client_id, client_secret);
        let mut provider =
            ClientCredentialsProvider::new(self.build_auth_config()?, client, scopes).map_err(
                |e| BuildError::new(BuildErrorKind::Config, core_message(&e)).with_source(e),
            )?;
        if let Some(hook) = self.on_refresh.clone() {
            provider = provider.on_refresh(move |r| (hook.0)(r));
        }
        self.build(provider)
    }

    /// A client whose access token is renewed with `refresh_token`: as a
    /// native client (`client_id` in the body) or, after
    /// [`client_secret`](Self::client_secret), as a confidential one (HTTP
    /// Basic). A rotated refresh token replaces the old one; use
    /// [`on_refresh`](Self::on_refresh) to persist it. The token requests
    /// go through this client's transport and pool.
    ///
    /// ```
    /// use groups_hyper::HyperClientBuilder;
    ///
    /// let client = HyperClientBuilder::new()
    ///     .client_secret("client-secret")
    ///     .on_refresh(|tokens| { let _ = tokens.first(); /* write to storage */ })
    ///     .build_with_refresh_token("client-id", "the-refresh-token")?;
    /// assert!(!format!("{client:?}").contains("the-refresh-token"));
    /// # Ok::<(), groups_hyper::BuildError>(())
    /// ```
    pub fn build_with_refresh_token(
        self,
        client_id: impl Into<String>,
        refresh_token: impl Into<SecretString>,
    ) -> Result<GroupsClient, BuildError> {
        let mut provider = RefreshTokenProvider::new(
            self.build_auth_config()?,
            self.oauth_client(client_id),
            refresh_token,
        );
        if let Some(hook) = self.on_refresh.clone() {
            provider = provider.on_refresh(move |r| (hook.0)(r));
        }
        self.build(provider)
    }

    /// The Globus Auth client of `client_id` (confidential after
    /// [`client_secret`](Self::client_secret), native otherwise) over a
    /// transport with this builder's settings.
    pub fn build_auth_client(
        &self,
        client_id: impl Into<String>,
    ) -> Result<AuthClient, BuildError> {
        let config = self.build_auth_config()?;
        let transport = self.transport_for(&self.build_config()?)?;
        Ok(AuthClient::new(
            transport,
            config,
            self.oauth_client(client_id),
        ))
    }

    /// The Globus Auth client of `client_id` sharing `groups`'s transport
    /// (one connection pool for both).
    pub fn build_auth_client_for(
        &self,
        groups: &GroupsClient,
        client_id: impl Into<String>,
    ) -> Result<AuthClient, BuildError> {
        Ok(AuthClient::new(
            groups.transport().clone(),
            self.build_auth_config()?,
            self.oauth_client(client_id),
        ))
    }

    /// Build the transport alone. Cheap to clone afterwards; build once,
    /// reuse.
    pub fn build_transport(&self) -> Result<HyperTransport, BuildError> {
        self.transport_for(&self.build_config()?)
    }

    fn transport_for(&self, config: &ClientConfig) -> Result<HyperTransport, BuildError> {
        if self.attempt_timeout.is_some_and(|d| d.is_zero()) {
            return Err(BuildError::new(
                BuildErrorKind::Config,
                "the attempt timeout must be positive (None for no limit)",
            ));
        }
        let mut trusted_origins = vec![self.service_origin(config.base_url())?];
        let mut others = vec![
            self.auth_url
                .clone()
                .unwrap_or_else(|| BaseUrl::for_auth(Environment::Production)),
        ];
        for url in &self.trusted_urls {
            others.push(BaseUrl::parse(url).map_err(|e| invalid_url("trust_origin", e))?);
        }
        for url in &others {
            let origin = self.service_origin(url)?;
            if !trusted_origins.contains(&origin) {
                trusted_origins.push(origin);
            }
        }

        let tls_config = tls::client_config(&self.roots, self.accept_invalid_certs)?;

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connect_timeout = match self.attempt_timeout {
            Some(attempt) => self.connect_timeout.min(attempt),
            None => self.connect_timeout,
        };
        http.set_connect_timeout(Some(connect_timeout));

        let schemes = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls_config);
        let schemes = if self.allow_plain_http_loopback {
            schemes.https_or_http()
        } else {
            schemes.https_only()
        };
        let connector = schemes.enable_http1().enable_http2().wrap_connector(http);

        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);

        Ok(HyperTransport::from_inner(Inner {
            client,
            origin: tokio::time::Instant::now(),
            attempt_timeout: self.attempt_timeout,
            max_response_bytes: self.max_response_bytes,
            allow_plain_http_loopback: self.allow_plain_http_loopback,
            trusted_origins,
        }))
    }
}
