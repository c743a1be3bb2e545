//! Environments, base URLs and per-client configuration.
//!
//! The base URL of the Groups service is resolved the way globus-sdk resolves
//! it, so the same environment variables drive both SDKs:
//!
//! 1. an explicit base URL given by the caller,
//! 2. `GLOBUS_SDK_SERVICE_URL_GROUPS` (used verbatim, ignoring the environment),
//! 3. `GLOBUS_SDK_ENVIRONMENT` (one of the [`Environment`] names),
//! 4. production.
//!
//! Reading the environment is a function of a lookup you pass in
//! (`Fn(&str) -> Option<String>`), so tests never touch the process
//! environment; [`process_env`] is the lookup over `std::env`.
//!
//! ```
//! use groups_core::config::{BaseUrl, Environment};
//!
//! let vars = |name: &str| match name {
//!     "GLOBUS_SDK_ENVIRONMENT" => Some("sandbox".to_owned()),
//!     _ => None,
//! };
//! let url = BaseUrl::resolve_groups(None, vars).unwrap();
//! assert_eq!(url.as_str(), "https://groups.api.sandbox.globuscs.info/");
//! assert_eq!(Environment::Production.groups_base_url(), "https://groups.api.globus.org/");
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use http::HeaderMap;
use http::header::{ACCEPT, HeaderName, HeaderValue, USER_AGENT};

use crate::error::GroupsError;
use crate::retry::RetryPolicy;

/// Name of the variable that selects the environment (as in globus-sdk).
pub const ENV_ENVIRONMENT: &str = "GLOBUS_SDK_ENVIRONMENT";
/// Name of the variable that overrides the Groups base URL (as in globus-sdk).
pub const ENV_SERVICE_URL_GROUPS: &str = "GLOBUS_SDK_SERVICE_URL_GROUPS";
/// Name of the variable that overrides the Auth base URL (as in globus-sdk).
pub const ENV_SERVICE_URL_AUTH: &str = "GLOBUS_SDK_SERVICE_URL_AUTH";
/// Name of the variable holding the per-attempt HTTP timeout (as in globus-sdk).
pub const ENV_HTTP_TIMEOUT: &str = "GLOBUS_SDK_HTTP_TIMEOUT";

/// The version of this crate, as used in the `User-Agent` header.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The product name this SDK announces in `User-Agent` and `X-Globus-Client-Info`.
pub const SDK_PRODUCT: &str = "rust-groups-sdk";

/// `User-Agent` without an app name, as a `'static` string.
const STATIC_USER_AGENT: &str = concat!("globus-groups-rs-", env!("CARGO_PKG_VERSION"));
/// The client-info value without extra products, as a `'static` string.
const STATIC_CLIENT_INFO: &str = concat!(
    "product=rust-groups-sdk,version=",
    env!("CARGO_PKG_VERSION")
);
/// The header globus-sdk uses to describe the client software.
pub const CLIENT_INFO_HEADER: &str = "x-globus-client-info";

/// Default overall deadline of one logical call (all attempts and waits).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// Per-attempt HTTP timeout when `GLOBUS_SDK_HTTP_TIMEOUT` is unset (seconds).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// A lookup over the process environment, for [`BaseUrl::resolve_groups`] and
/// [`ClientConfig::from_env`].
///
/// Empty values are reported as `Some("")`; the resolvers treat them as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A Globus deployment.
///
/// Only [`Environment::Production`] and [`Environment::Preview`] are public;
/// the others are Globus-internal. `FromStr` accepts the lower-case names
/// globus-sdk uses (`"production"`, `"preview"`, ...), case-insensitively.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Environment {
    /// `globus.org`.
    #[default]
    Production,
    /// `preview.globus.org`.
    Preview,
    /// `sandbox.globuscs.info` (internal).
    Sandbox,
    /// `integration.globuscs.info` (internal).
    Integration,
    /// `test.globuscs.info` (internal).
    Test,
    /// `staging.globuscs.info` (internal).
    Staging,
}

impl Environment {
    /// Every environment: production first, then the others in the order
    /// globus-sdk lists them.
    pub const ALL: [Environment; 6] = [
        Environment::Production,
        Environment::Preview,
        Environment::Sandbox,
        Environment::Integration,
        Environment::Test,
        Environment::Staging,
    ];

    /// The name globus-sdk uses for this environment.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Preview => "preview",
            Environment::Sandbox => "sandbox",
            Environment::Integration => "integration",
            Environment::Test => "test",
            Environment::Staging => "staging",
        }
    }

    /// The DNS domain of the environment.
    pub fn domain(self) -> &'static str {
        match self {
            Environment::Production => "globus.org",
            Environment::Preview => "preview.globus.org",
            Environment::Sandbox => "sandbox.globuscs.info",
            Environment::Integration => "integration.globuscs.info",
            Environment::Test => "test.globuscs.info",
            Environment::Staging => "staging.globuscs.info",
        }
    }

    /// The Groups base URL of the environment (always ends in `/`).
    ///
    /// Preview follows globus-sdk-python (`groups.api.preview.globus.org`).
    pub fn groups_base_url(self) -> &'static str {
        match self {
            Environment::Production => "https://groups.api.globus.org/",
            Environment::Preview => "https://groups.api.preview.globus.org/",
            Environment::Sandbox => "https://groups.api.sandbox.globuscs.info/",
            Environment::Integration => "https://groups.api.integration.globuscs.info/",
            Environment::Test => "https://groups.api.test.globuscs.info/",
            Environment::Staging => "https://groups.api.staging.globuscs.info/",
        }
    }

    /// The Globus Auth base URL of the environment (always ends in `/`).
    pub fn auth_base_url(self) -> &'static str {
        match self {
            Environment::Production => "https://auth.globus.org/",
            Environment::Preview => "https://auth.preview.globus.org/",
            Environment::Sandbox => "https://auth.sandbox.globuscs.info/",
            Environment::Integration => "https://auth.integration.globuscs.info/",
            Environment::Test => "https://auth.test.globuscs.info/",
            Environment::Staging => "https://auth.staging.globuscs.info/",
        }
    }

    /// The environment named by `GLOBUS_SDK_ENVIRONMENT` in `lookup`, or
    /// production when the variable is unset or empty.
    ///
    /// An unknown name is an invalid-input error naming the value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GroupsError> {
        match non_empty(lookup(ENV_ENVIRONMENT)) {
            None => Ok(Environment::Production),
            Some(name) => name
                .parse::<Environment>()
                .map_err(|e| GroupsError::invalid_input(format!("{ENV_ENVIRONMENT}: {e}"))),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown environment name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unrecognized environment {name:?} (expected one of production, preview, sandbox, integration, test, staging)"
)]
pub struct UnknownEnvironment {
    /// The name that was given.
    pub name: String,
}

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownEnvironment { name: s.to_owned() })
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// A validated service base URL: `http` or `https`, with a host and a
/// usable port, no user name or password, no query or fragment, and always
/// ending in `/`.
///
/// Paths are joined to it with exactly one `/` between them.
///
/// Parsing is strict because a base URL receives the access token. The text
/// is parsed with the WHATWG URL parser (the `url` crate, the same parser
/// browsers follow), then refused unless every rule below holds:
///
/// - the scheme is `http` or `https`;
/// - the text has no whitespace, no control character and no backslash
///   (parsers disagree about a backslash, and the WHATWG parser silently
///   drops tabs and newlines);
/// - there is a non-empty host, which the parser accepts (this includes its
///   internationalized domain name checks);
/// - the port, if given, is between 1 and 65535;
/// - there is no user name or password, no query (not even an empty `?`)
///   and no fragment.
///
/// The host is lower-cased and an internationalized host is stored in its
/// ASCII (`xn--`) form; a default port (`:443` for https, `:80` for http) is
/// dropped. Whether plain `http` may be used is for the transport to decide.
///
/// ```
/// use groups_core::config::BaseUrl;
///
/// let url = BaseUrl::parse("https://Groups.Example.org:8443/api").unwrap();
/// assert_eq!(url.as_str(), "https://groups.example.org:8443/api/");
/// assert_eq!((url.host(), url.port()), ("groups.example.org", 8443));
/// assert!(BaseUrl::parse("http://127.0.0.1:99999/").is_err());
/// assert!(BaseUrl::parse("https://user:pw@groups.example.org/").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    url: String,
    https: bool,
    host: String,
    port: u16,
    /// The scheme and authority of `url`, parsed once, and where its path
    /// starts: request URIs are assembled from them without parsing the
    /// whole URL again for every request.
    origin: Option<Origin>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Origin {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    path_start: usize,
}

impl Origin {
    /// `None` if `url` does not split as `scheme://authority/path` (never
    /// for a checked base URL; the slow path then parses the whole URL).
    fn of(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let authority_len = rest.find('/')?;
        let authority = http::uri::Authority::from_maybe_shared(bytes::Bytes::copy_from_slice(
            &rest.as_bytes()[..authority_len],
        ))
        .ok()?;
        Some(Origin {
            scheme: scheme.parse().ok()?,
            authority,
            path_start: scheme.len() + 3 + authority_len,
        })
    }
}

/// `raw` for an error message: the user name and password, if any, are
/// replaced by `***` so that a rejected URL never shows a password, and very
/// long text is cut.
fn shown_url(raw: &str) -> String {
    let mut shown = raw.to_owned();
    if let Some(scheme_end) = raw.find("://") {
        let rest = &raw[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            shown = format!("{}***{}", &raw[..scheme_end + 3], &rest[at..]);
        }
    }
    const LIMIT: usize = 200;
    if shown.len() > LIMIT {
        let mut end = LIMIT;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push_str("...");
    }
    format!("{shown:?}")
}

/// The reason `raw` is not a usable base URL, or the parsed URL.
fn check_base_url(raw: &str) -> Result<url::Url, String> {
    if raw.chars().any(char::is_whitespace) {
        return Err("contains whitespace".to_owned());
    }
    if raw.chars().any(char::is_control) {
        return Err("contains a control character".to_owned());
    }
    if raw.contains('\\') {
        return Err("contains a backslash, which URL parsers read differently".to_owned());
    }
    let url = url::Url::parse(raw).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            "is not an absolute http(s) URL (it has no scheme)".to_owned()
        }
        url::ParseError::InvalidPort => "has an invalid port (it must be 1 to 65535)".to_owned(),
        url::ParseError::EmptyHost => "has no host".to_owned(),
        url::ParseError::IdnaError => "has a host that is not a valid domain name".to_owned(),
        url::ParseError::InvalidDomainCharacter => {
            "has a host with a character not allowed in a domain name".to_owned()
        }
        url::ParseError::InvalidIpv4Address | url::ParseError::InvalidIpv6Address => {
            format!("has a host that is not a valid address ({e})")
        }
        other => format!("is not a valid URL ({other})"),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("must use http or https, not {other:?}")),
    }
    // The WHATWG parser reads `https:host` and `https:///host` as
    // `https://host/`; a base URL spells its authority out plainly.
    let after_scheme = &raw[url.scheme().len()..];
    if !after_scheme.starts_with("://") || after_scheme[3..].starts_with('/') {
        return Err("has no host (it must be written scheme://host/...)".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials (user name or password)".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    if url.port() == Some(0) {
        return Err("has port 0 (the port must be 1 to 65535)".to_owned());
    }
    if url.query().is_some() {
        return Err("must not have a query".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_owned());
    }
    Ok(url)
}

impl BaseUrl {
    /// Validate `url` (see the rules on [`BaseUrl`]); adds the trailing `/`
    /// when missing.
    ///
    /// A URL that breaks a rule is an invalid-input error naming the URL
    /// (without any password) and the problem.
    pub fn parse(url: &str) -> Result<Self, GroupsError> {
        let parsed = check_base_url(url).map_err(|why| {
            GroupsError::invalid_input(format!("base URL {} {why}", shown_url(url)))
        })?;
        let https = parsed.scheme() == "https";
        // Checked above: the host is present and not empty.
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let mut s = String::from(parsed);
        if !s.ends_with('/') {
            s.push('/');
        }
        Ok(BaseUrl {
            origin: Origin::of(&s),
            url: s,
            https,
            host,
            port,
        })
    }

    /// The Groups base URL of `env`.
    pub fn for_environment(env: Environment) -> Self {
        Self::known(env.groups_base_url())
    }

    /// The Globus Auth base URL of `env`.
    pub fn for_auth(env: Environment) -> Self {
        Self::known(env.auth_base_url())
    }

    /// The base URL of one of the environment tables (always valid).
    fn known(url: &'static str) -> Self {
        let host = url
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned();
        BaseUrl {
            url: url.to_owned(),
            https: true,
            host,
            port: 443,
            origin: Origin::of(url),
        }
    }

    /// Resolve the Groups base URL: `explicit`, then
    /// `GLOBUS_SDK_SERVICE_URL_GROUPS`, then `GLOBUS_SDK_ENVIRONMENT`, then
    /// production. Empty values count as unset.
    pub fn resolve_groups(
        explicit: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, GroupsError> {
        Self::resolve_service(
            explicit,
            ENV_SERVICE_URL_GROUPS,
            Environment::groups_base_url,
            lookup,
        )
    }

    /// Resolve the Globus Auth base URL with the same precedence, using
    /// `GLOBUS_SDK_SERVICE_URL_AUTH` (for token providers that talk to Auth).
    pub fn resolve_auth(
        explicit: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, GroupsError> {
        Self::resolve_service(
            explicit,
            ENV_SERVICE_URL_AUTH,
            Environment::auth_base_url,
            lookup,
        )
    }

    fn resolve_service(
        explicit: Option<&str>,
        service_var: &str,
        table: fn(Environment) -> &'static str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, GroupsError> {
        if let Some(url) = explicit.filter(|s| !s.trim().is_empty()) {
            return BaseUrl::parse(url);
        }
        if let Some(url) = non_empty(lookup(service_var)) {
            // The variable's name goes in front of the parser's message,
            // not in front of its `Display`, so "invalid input" appears once.
            return BaseUrl::parse(&url).map_err(|e| {
                let why = e
                    .invalid_input_message()
                    .map_or_else(|| e.to_string(), str::to_owned);
                GroupsError::invalid_input(format!("{service_var}: {why}"))
            });
        }
        let env = Environment::from_lookup(&lookup)?;
        Ok(BaseUrl::known(table(env)))
    }

    /// The URL, ending in `/`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host, lower-case, in ASCII form (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port requests go to: the one given, or 443 for https and 80 for
    /// http.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The URI of `path` and `query` (already percent-encoded, `query`
    /// without its `?`, empty for none) under this base: the same URI as
    /// parsing [`join`](Self::join) of `path?query`, built from the scheme
    /// and authority parsed once.
    pub fn request_uri(&self, path: &str, query: &str) -> Result<http::Uri, http::Error> {
        let path = path.trim_start_matches('/');
        let Some(origin) = &self.origin else {
            let mut url = self.join(path);
            if !query.is_empty() {
                url.push('?');
                url.push_str(query);
            }
            return Ok(http::Uri::try_from(url)?);
        };
        let prefix = &self.url[origin.path_start..];
        let mut pq = String::with_capacity(prefix.len() + path.len() + query.len() + 1);
        pq.push_str(prefix);
        pq.push_str(path);
        if !query.is_empty() {
            pq.push('?');
            pq.push_str(query);
        }
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(origin.scheme.clone());
        parts.authority = Some(origin.authority.clone());
        parts.path_and_query = Some(http::uri::PathAndQuery::from_maybe_shared(
            bytes::Bytes::from(pq),
        )?);
        Ok(http::Uri::from_parts(parts)?)
    }

    /// `base` + `path` with exactly one `/` between them. `path` must already
    /// be percent-encoded.
    pub fn join(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let mut s = String::with_capacity(self.url.len() + path.len());
        s.push_str(&self.url);
        s.push_str(path);
        s
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.url).finish()
    }
}

impl FromStr for BaseUrl {
    type Err = GroupsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BaseUrl::parse(s)
    }
}

/// The smallest per-attempt timeout: a positive `GLOBUS_SDK_HTTP_TIMEOUT`
/// below it is rounded up to it, because the transport's timers cannot wait
/// for less than a millisecond.
pub const MIN_HTTP_TIMEOUT: Duration = Duration::from_millis(1);

/// The largest per-attempt timeout `GLOBUS_SDK_HTTP_TIMEOUT` may name: 365
/// days. A larger value is surely a mistake (`-1` means no timeout), and
/// timers cannot represent arbitrarily distant instants.
pub const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// The per-attempt HTTP timeout named by `GLOBUS_SDK_HTTP_TIMEOUT`, with
/// globus-sdk's rules: unset, empty or blank means 60 s; the value is a
/// decimal number of seconds (surrounding spaces allowed); `-1` means no
/// timeout (`Ok(None)`).
///
/// globus-sdk hands any other value to its HTTP library, which refuses zero
/// and negative timeouts; so do we, with a message that quotes the value as
/// given and says what is wrong with it:
///
/// - text that is not a number, NaN and infinities are refused;
/// - a negative number other than `-1` is refused ("must not be negative");
/// - zero is refused ("must be greater than zero");
/// - more than [`MAX_HTTP_TIMEOUT`] is refused ("too large");
/// - a positive value below [`MIN_HTTP_TIMEOUT`] (for example `1e-12`) is
///   rounded up to it.
///
/// The core has no timeouts of its own; this is for transports.
pub fn http_timeout_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Duration>, GroupsError> {
    let Some(raw) = non_empty(lookup(ENV_HTTP_TIMEOUT)) else {
        return Ok(Some(DEFAULT_HTTP_TIMEOUT));
    };
    let bad = |why: &str| GroupsError::invalid_input(format!("{ENV_HTTP_TIMEOUT}={raw:?} {why}"));
    let secs: f64 = raw
        .trim()
        .parse()
        .map_err(|_| bad("is not a number of seconds (use -1 for no timeout)"))?;
    if !secs.is_finite() {
        return Err(bad(
            "is not a finite number of seconds (use -1 for no timeout)",
        ));
    }
    if secs == -1.0 {
        return Ok(None);
    }
    if secs < 0.0 {
        return Err(bad(
            "must not be negative (use -1 for no timeout, or a positive number of seconds)",
        ));
    }
    if secs == 0.0 {
        return Err(bad(
            "must be greater than zero (use -1 for no timeout, or a positive number of seconds)",
        ));
    }
    if secs > MAX_HTTP_TIMEOUT.as_secs_f64() {
        return Err(bad(&format!(
            "is too large (at most {} seconds; use -1 for no timeout)",
            MAX_HTTP_TIMEOUT.as_secs()
        )));
    }
    // In range, so the conversion cannot fail; tiny values round up.
    let timeout = Duration::try_from_secs_f64(secs).unwrap_or(MAX_HTTP_TIMEOUT);
    Ok(Some(timeout.max(MIN_HTTP_TIMEOUT)))
}

/// Everything a client needs besides a transport and a token provider: the
/// base URL, the app name, the retry policy, the overall deadline and the
/// default headers.
///
/// The default headers are computed once when the config is built (and on
/// every setter), so building a request only clones them.
///
/// ```
/// use std::time::Duration;
/// use groups_core::config::{BaseUrl, ClientConfig};
///
/// let config = ClientConfig::new(BaseUrl::parse("http://127.0.0.1:8080").unwrap())
///     .with_app_name("my app")
///     .unwrap()
///     .with_deadline(Duration::from_secs(30));
/// let ua = config.default_headers().get("user-agent").unwrap();
/// assert!(ua.to_str().unwrap().ends_with("/my app"));
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    base_url: BaseUrl,
    app_name: Option<String>,
    client_info: Vec<(String, String)>,
    retry: RetryPolicy,
    deadline: Option<Duration>,
    extra_headers: HeaderMap,
    jitter_seed: Option<u64>,
    default_headers: HeaderMap,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new(BaseUrl::for_environment(Environment::Production))
    }
}

impl ClientConfig {
    /// A config for `base_url` with the defaults: no app name, the default
    /// [`RetryPolicy`], a [`DEFAULT_DEADLINE`] overall deadline.
    pub fn new(base_url: BaseUrl) -> Self {
        let mut c = ClientConfig {
            base_url,
            app_name: None,
            client_info: Vec::new(),
            retry: RetryPolicy::default(),
            deadline: Some(DEFAULT_DEADLINE),
            extra_headers: HeaderMap::new(),
            jitter_seed: None,
            default_headers: HeaderMap::new(),
        };
        c.rebuild_headers();
        c
    }

    /// A config whose base URL is resolved from `lookup` (see
    /// [`BaseUrl::resolve_groups`]).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GroupsError> {
        Ok(ClientConfig::new(BaseUrl::resolve_groups(None, lookup)?))
    }

    /// A config whose base URL is resolved from the process environment.
    pub fn from_env() -> Result<Self, GroupsError> {
        Self::from_lookup(process_env)
    }

    /// A config for a named environment.
    pub fn for_environment(env: Environment) -> Self {
        ClientConfig::new(BaseUrl::for_environment(env))
    }

    /// Replace the base URL.
    pub fn with_base_url(mut self, base_url: BaseUrl) -> Self {
        self.base_url = base_url;
        self
    }

    /// Set the app name appended to `User-Agent` (`.../<app_name>`), like
    /// globus-sdk's `app_name`. It must be a valid header value (no control
    /// characters).
    pub fn with_app_name(mut self, app_name: impl Into<String>) -> Result<Self, GroupsError> {
        let name = app_name.into();
        if name.is_empty() {
            self.app_name = None;
        } else {
            HeaderValue::from_str(&name).map_err(|_| {
                GroupsError::invalid_input(
                    "app_name must be printable ASCII without control characters",
                )
            })?;
            self.app_name = Some(name);
        }
        self.rebuild_headers();
        Ok(self)
    }

    /// Append a `product=...,version=...` item to `X-Globus-Client-Info`
    /// (globus-sdk's format). `;`, `,` and `=` are rejected in both parts.
    pub fn with_client_info(
        mut self,
        product: impl Into<String>,
        version: impl Into<String>,
    ) -> Result<Self, GroupsError> {
        let (p, v) = (product.into(), version.into());
        for part in [&p, &v] {
            if part.is_empty()
                || part.contains([';', ',', '='])
                || HeaderValue::from_str(part).is_err()
            {
                return Err(GroupsError::invalid_input(format!(
                    "client info item {part:?} is empty or contains a reserved character (; , =)"
                )));
            }
        }
        self.client_info.push((p, v));
        self.rebuild_headers();
        Ok(self)
    }

    /// Replace the retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Set the overall deadline of one logical call: every attempt, wait
    /// and token refresh must finish within it.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Remove the overall deadline.
    pub fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// Add a header sent on every request (it overrides the SDK's default of
    /// the same name, except `Authorization`, which the token provider owns).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra_headers.insert(name, value);
        self.rebuild_headers();
        self
    }

    /// Seed the client's jitter generator (see [`crate::client::GroupsClient`]).
    /// With a seed, the backoff sequence is reproducible.
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The app name, if any.
    pub fn app_name(&self) -> Option<&str> {
        self.app_name.as_deref()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The overall deadline of one logical call.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The jitter seed, if one was set.
    pub fn jitter_seed(&self) -> Option<u64> {
        self.jitter_seed
    }

    /// The headers put on every request: `Accept`, `User-Agent`,
    /// `X-Globus-Client-Info` and the extra headers.
    pub fn default_headers(&self) -> &HeaderMap {
        &self.default_headers
    }

    /// The `User-Agent` value: `globus-groups-rs-<version>` plus
    /// `/<app_name>` when an app name is set (globus-sdk's format).
    pub fn user_agent(&self) -> String {
        match &self.app_name {
            Some(app) => format!("{STATIC_USER_AGENT}/{app}"),
            None => STATIC_USER_AGENT.to_owned(),
        }
    }

    fn rebuild_headers(&mut self) {
        let mut h = HeaderMap::with_capacity(4 + self.extra_headers.len());
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // Static values where possible: every request clones these headers,
        // and a static value's clone touches no shared reference count
        // (which costs when many threads send at once).
        let ua = match self.app_name {
            None => HeaderValue::from_static(STATIC_USER_AGENT),
            // Validated in with_app_name; the fallback is unreachable in practice.
            Some(_) => HeaderValue::from_str(&self.user_agent())
                .unwrap_or_else(|_| HeaderValue::from_static(STATIC_USER_AGENT)),
        };
        h.insert(USER_AGENT, ua);
        let info = if self.client_info.is_empty() {
            HeaderValue::from_static(STATIC_CLIENT_INFO)
        } else {
            let mut info = STATIC_CLIENT_INFO.to_owned();
            for (p, v) in &self.client_info {
                info.push_str(";product=");
                info.push_str(p);
                info.push_str(",version=");
                info.push_str(v);
            }
            // Validated in with_client_info; the fallback is unreachable in practice.
            HeaderValue::from_str(&info)
                .unwrap_or_else(|_| HeaderValue::from_static(STATIC_CLIENT_INFO))
        };
        h.insert(HeaderName::from_static(CLIENT_INFO_HEADER), info);
        for (name, value) in &self.extra_headers {
            if name != http::header::AUTHORIZATION {
                h.insert(name.clone(), value.clone());
            }
        }
        self.default_headers = h;
    }
}
