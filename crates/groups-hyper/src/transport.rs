//! [`HyperTransport`]: the [`Transport`] implementation over hyper.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use groups_core::transport::{Instant, Transport, TransportError, TransportErrorKind};
use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::uri::Scheme;
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use tracing::Instrument;

use crate::classify;
use crate::meta::AttemptInfo;

pub(crate) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
pub(crate) type PooledClient = Client<Connector, Full<Bytes>>;

/// The production [`Transport`]: hyper 1 over a pooled, keep-alive
/// connection pool, rustls for TLS (HTTP/1.1 or HTTP/2 chosen by ALPN) and
/// Tokio for timers.
///
/// Build one with [`crate::HyperClientBuilder`]. Cloning is cheap and
/// clones share the connection pool, so build it once and reuse it.
///
/// Per attempt it enforces the connect timeout, the attempt timeout and the
/// response size cap; it never follows redirects, never retries (the core
/// does), sends plain `http://` only to loopback hosts when that was
/// enabled, and refuses to send an `Authorization` header to any origin but
/// the configured service URLs.
#[derive(Clone)]
pub struct HyperTransport {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: PooledClient,
    pub(crate) origin: tokio::time::Instant,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_response_bytes: usize,
    pub(crate) allow_plain_http_loopback: bool,
    pub(crate) trusted_origins: Vec<Origin>,
}

/// A scheme, host and port that may receive credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    https: bool,
    host: String,
    port: u16,
    /// The authority exactly as the base URL spells it (`host[:port]`):
    /// request URLs joined onto that base carry the same text, which lets
    /// [`HyperTransport::vet`] accept them without parsing host and port
    /// again.
    authority: String,
}

impl Origin {
    /// The origin of a validated base URL (one that passed the plain-http
    /// rule: https, or loopback with plain http allowed).
    pub(crate) fn of_base(url: &groups_core::config::BaseUrl) -> Origin {
        let authority = url
            .as_str()
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_owned()))
            .unwrap_or_default();
        Origin {
            https: url.is_https(),
            host: url.host().to_ascii_lowercase(),
            port: url.port(),
            authority,
        }
    }

    /// Whether `uri` has this origin's scheme and exactly its authority text.
    fn is_exactly(&self, https: bool, uri: &Uri) -> bool {
        https == self.https
            && !self.authority.is_empty()
            && uri
                .authority()
                .is_some_and(|a| a.as_str() == self.authority)
    }

    fn matches(&self, uri: &Uri) -> bool {
        let Some(scheme) = uri.scheme() else {
            return false;
        };
        let https = *scheme == Scheme::HTTPS;
        if !https && *scheme != Scheme::HTTP {
            return false;
        }
        let Some(port) = effective_port(uri, https) else {
            return false;
        };
        https == self.https
            && port == self.port
            && uri
                .host()
                .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// The port a request to `uri` goes to, or `None` when the URI names a port
/// that is not 1 to 65535 (a lax parser would otherwise fall back to the
/// scheme's default port and send the request somewhere else).
fn effective_port(uri: &Uri, https: bool) -> Option<u16> {
    let default = if https { 443 } else { 80 };
    let authority = uri.authority()?.as_str();
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // After an IPv6 literal's closing bracket, or anywhere in other hosts.
    let after_host = host_and_port
        .rfind(']')
        .map_or(host_and_port, |i| &host_and_port[i + 1..]);
    match after_host.rsplit_once(':') {
        None | Some((_, "")) => Some(default),
        Some((_, digits)) => digits.parse::<u16>().ok().filter(|p| *p != 0),
    }
}

/// Mark every `Authorization` value of `request` sensitive (never logged
/// by hyper, HPACK-indexed never).
fn mark_authorization_sensitive(request: &mut Request<Bytes>) {
    if !request.headers().contains_key(AUTHORIZATION) {
        return;
    }
    if let http::header::Entry::Occupied(mut entry) = request.headers_mut().entry(AUTHORIZATION) {
        for value in entry.iter_mut() {
            value.set_sensitive(true);
        }
    }
}

/// Whether `host` (as found in a URI, IPv6 in brackets) is a loopback name.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl HyperTransport {
    /// A builder with the defaults; same as [`HyperClientBuilder::new`].
    ///
    /// [`HyperClientBuilder::new`]: crate::HyperClientBuilder::new
    pub fn builder() -> crate::HyperClientBuilder {
        crate::HyperClientBuilder::new()
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        HyperTransport {
            inner: Arc::new(inner),
        }
    }

    /// The per-attempt timeout (`None`: no limit).
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.inner.attempt_timeout
    }

    /// The response body size cap, in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.inner.max_response_bytes
    }

    /// Check the request against the transport's policy and mark the
    /// credential sensitive. Never includes a header value in the error.
    fn vet(&self, request: &mut Request<Bytes>) -> Result<(), TransportError> {
        let uri = request.uri();
        let https = match uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            _ => {
                return Err(TransportError::new(
                    TransportErrorKind::Refused,
                    "request URL must be absolute with an https scheme",
                ));
            }
        };
        // Fast path, every call to a configured service: the scheme and the
        // authority text of a trusted origin, which passed every check below
        // when the transport was built (a valid port; https, or plain http
        // to loopback when allowed) and may receive credentials.
        if self
            .inner
            .trusted_origins
            .iter()
            .any(|o| o.is_exactly(https, uri))
        {
            mark_authorization_sensitive(request);
            return Ok(());
        }
        let Some(host) = uri.host() else {
            return Err(TransportError::new(
                TransportErrorKind::Refused,
                "request URL has no host",
            ));
        };
        if effective_port(uri, https).is_none() {
            return Err(TransportError::new(
                TransportErrorKind::Refused,
                "request URL has an invalid port (it must be 1 to 65535)",
            ));
        }
        let plain_allowed = self.inner.allow_plain_http_loopback && is_loopback_host(host);
        if !https && !plain_allowed {
            return Err(TransportError::new(
                TransportErrorKind::Refused,
                if self.inner.allow_plain_http_loopback {
                    "plain http is only allowed to a loopback host"
                } else {
                    "plain http is not allowed (enable allow_plain_http_loopback for a local service)"
                },
            ));
        }
        if request.headers().contains_key(AUTHORIZATION) {
            if !self.inner.trusted_origins.iter().any(|o| o.matches(uri)) {
                return Err(TransportError::new(
                    TransportErrorKind::Refused,
                    format!(
                        "refusing to send credentials to {host}, which is not a configured service URL"
                    ),
                ));
            }
            mark_authorization_sensitive(request);
        }
        Ok(())
    }

    /// The Tokio instant of a point on this transport's clock.
    fn tokio_instant(&self, at: Instant) -> tokio::time::Instant {
        self.inner
            .origin
            .checked_add(at.elapsed_since_origin())
            // Far beyond any real deadline: "forever" (about 30 years).
            .unwrap_or_else(|| self.inner.origin + Duration::from_secs(86_400 * 365 * 30))
    }

    async fn attempt(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let cap = self.inner.max_response_bytes;
        // A HEAD response announces the length of a body it does not carry.
        let check_length = request.method() != http::Method::HEAD;
        let response = self
            .inner
            .client
            .request(request.map(Full::new))
            .await
            .map_err(classify::request_error)?;

        let (parts, body) = response.into_parts();
        if check_length
            && let Some(len) = parts.headers.get(CONTENT_LENGTH)
            && let Some(len) = len.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok())
            && len > cap as u64
        {
            return Err(classify::too_large(cap));
        }
        let collected = Limited::new(body, cap)
            .collect()
            .await
            .map_err(|e| classify::body_error(e, cap))?;
        Ok(Response::from_parts(parts, collected.to_bytes()))
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origins: Vec<String> = self
            .inner
            .trusted_origins
            .iter()
            .map(ToString::to_string)
            .collect();
        f.debug_struct("HyperTransport")
            .field("attempt_timeout", &self.inner.attempt_timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field(
                "allow_plain_http_loopback",
                &self.inner.allow_plain_http_loopback,
            )
            .field("trusted_origins", &origins)
            .finish_non_exhaustive()
    }
}

impl Transport for HyperTransport {
    async fn send(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let info = AttemptInfo::of(&request);
        let span = tracing::debug_span!(
            "groups_http",
            operation = info.operation,
            method = request.method().as_str(),
            path = request.uri().path(),
            attempt = info.attempt,
            status = tracing::field::Empty,
            elapsed = tracing::field::Empty,
        );
        let started = tokio::time::Instant::now();
        let result = async {
            self.vet(&mut request)?;
            // One timer per attempt: whichever comes first of the attempt
            // timeout and the call's overall deadline (see
            // `Transport::enforces_deadline`).
            // A timeout too long to represent as an instant is no limit.
            let by_timeout = self
                .inner
                .attempt_timeout
                .and_then(|t| started.checked_add(t).map(|at| (at, t)));
            let by_deadline = info.deadline.map(|d| self.tokio_instant(d));
            let limit = match (by_timeout, by_deadline) {
                (Some((at, t)), Some(d)) if at <= d => Some((at, Some(t))),
                (_, Some(d)) => Some((d, None)),
                (Some((at, t)), None) => Some((at, Some(t))),
                (None, None) => None,
            };
            match limit {
                Some((at, timeout)) => tokio::time::timeout_at(at, self.attempt(request))
                    .await
                    .unwrap_or_else(|_| {
                        Err(match timeout {
                            Some(t) => classify::attempt_timeout(t),
                            None => classify::deadline_reached(),
                        })
                    }),
                None => self.attempt(request).await,
            }
        }
        .instrument(span.clone())
        .await;
        let elapsed = started.elapsed();
        span.record("elapsed", tracing::field::debug(elapsed));
        match &result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                tracing::debug!(
                    parent: &span,
                    status = response.status().as_u16(),
                    ?elapsed,
                    "http attempt finished"
                );
            }
            Err(error) => {
                tracing::debug!(
                    parent: &span,
                    error.kind = error.kind().as_str(),
                    error.message = error.message(),
                    ?elapsed,
                    "http attempt failed"
                );
            }
        }
        result
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(self.tokio_instant(deadline))
    }

    fn enforces_deadline(&self) -> bool {
        true
    }

    fn now(&self) -> Instant {
        Instant::from_elapsed(self.inner.origin.elapsed())
    }
}
