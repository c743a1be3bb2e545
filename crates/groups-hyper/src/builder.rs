//! [`HyperClientBuilder`]: every knob of the transport in one place.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::env::{self, DEFAULT_ATTEMPT_TIMEOUT, VerifySsl};
use crate::error::{BuildError, BuildErrorKind};
use crate::tls::{self, Roots};
use crate::transport::{HyperTransport, Inner, Origin, is_loopback_host};

/// The default response body cap: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle pooled connection is kept by default.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The production Groups base URL, used when nothing else is configured.
const PRODUCTION_GROUPS_URL: &str = "https://groups.api.globus.org/";

/// Configures a [`HyperTransport`] (and, from it, a ready client).
///
/// Start from [`HyperClientBuilder::new`] (defaults only) or
/// [`HyperClientBuilder::from_env`] (defaults overridden by
/// `GLOBUS_SDK_HTTP_TIMEOUT` and `GLOBUS_SDK_VERIFY_SSL`), adjust, then
/// call [`build_transport`](HyperClientBuilder::build_transport).
///
/// Defaults: 10 s connect timeout, 60 s per attempt, 64 MiB response cap,
/// idle pooled connections kept 90 s, Mozilla's roots (webpki-roots),
/// HTTPS only, credentials only for the production Groups URL.
///
/// ```
/// use std::time::Duration;
/// use groups_hyper::HyperClientBuilder;
///
/// let transport = HyperClientBuilder::new()
///     .connect_timeout(Duration::from_secs(5))
///     .attempt_timeout(Some(Duration::from_secs(30)))
///     .max_response_bytes(8 << 20)
///     .build_transport()?;
/// assert_eq!(transport.max_response_bytes(), 8 << 20);
/// # Ok::<(), groups_hyper::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HyperClientBuilder {
    base_url: Option<String>,
    trusted_urls: Vec<String>,
    connect_timeout: Duration,
    attempt_timeout: Option<Duration>,
    max_response_bytes: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    allow_plain_http_loopback: bool,
    roots: Roots,
    accept_invalid_certs: bool,
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
            base_url: None,
            trusted_urls: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: Some(DEFAULT_ATTEMPT_TIMEOUT),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
            allow_plain_http_loopback: false,
            roots: Roots::default(),
            accept_invalid_certs: false,
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
        let mut builder = Self::new();
        if let Some(timeout) = env::parse_http_timeout(lookup(env::HTTP_TIMEOUT_VAR).as_deref())? {
            builder.attempt_timeout = timeout;
        }
        match env::parse_verify_ssl(lookup(env::VERIFY_SSL_VAR).as_deref())? {
            VerifySsl::Verify => {}
            VerifySsl::DontVerify => builder.accept_invalid_certs = true,
            VerifySsl::CaBundle(path) => builder.roots = Roots::PemFile(path),
        }
        Ok(builder)
    }

    /// The service base URL. Requests carrying an `Authorization` header are
    /// only sent to this URL's origin (scheme, host, port) and to those added
    /// with [`trust_origin`](Self::trust_origin). Default: the production
    /// Groups URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Another origin that may receive credentials (for example the Auth
    /// service used for token refresh).
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
    /// `None` disables it. Default 60 s (`GLOBUS_SDK_HTTP_TIMEOUT`).
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The largest response body accepted, checked against
    /// `Content-Length` and while reading. Default 64 MiB.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How long an idle pooled connection is kept (`None`: until the server
    /// closes it). Default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
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

    fn parse_service_url(&self, url: &str) -> Result<Origin, BuildError> {
        let bad = |why: &str| {
            BuildError::new(
                BuildErrorKind::InvalidUrl,
                format!("service URL {url:?} {why}"),
            )
        };
        let uri: Uri = url.parse().map_err(|_| bad("is not a valid URL"))?;
        let origin = Origin::of(&uri).ok_or_else(|| bad("must be an absolute http(s) URL"))?;
        if uri.scheme_str() == Some("http")
            && !(self.allow_plain_http_loopback && uri.host().is_some_and(is_loopback_host))
        {
            return Err(bad(
                "uses plain http, which is only allowed to a loopback host with allow_plain_http_loopback(true)",
            ));
        }
        Ok(origin)
    }

    /// Build the transport. Cheap to clone afterwards; build once, reuse.
    pub fn build_transport(&self) -> Result<HyperTransport, BuildError> {
        let base = self.base_url.as_deref().unwrap_or(PRODUCTION_GROUPS_URL);
        let mut trusted_origins = vec![self.parse_service_url(base)?];
        for url in &self.trusted_urls {
            let origin = self.parse_service_url(url)?;
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
