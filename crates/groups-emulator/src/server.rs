//! The HTTP side: listener, connections, and the request pipeline
//! (control plane, faults, body limit, authentication, locking, persistence).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock;
use crate::control;
use crate::faults::FaultAction;
use crate::shared::{Failure, OpenConnection, Shared};
use crate::world::resp::{base_error, json_response};
use crate::world::{ApiRequest, ApiResponse, AuthEnv, ErrorCode, World, is_auth_path};

/// Prefix of the control plane; the real API never uses it.
pub(crate) const CONTROL_PREFIX: &str = "/_emulator";

/// How long a shutdown waits for in-flight requests before cutting connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// True when `peer` may use the control plane: loopback addresses only (IPv4 127/8, IPv6
/// `::1`, and IPv4-mapped loopback such as `::ffff:127.0.0.1`).
///
/// ```
/// use groups_emulator::control_plane_allowed;
/// assert!(control_plane_allowed(&"127.0.0.1:9".parse().unwrap()));
/// assert!(!control_plane_allowed(&"192.0.2.1:9".parse().unwrap()));
/// ```
pub fn control_plane_allowed(peer: &SocketAddr) -> bool {
    match peer.ip() {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Bind a listener with a real backlog.
pub(crate) fn bind_listener(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Per-socket settings for an accepted connection: no Nagle, so small responses are not
/// held back waiting for the peer's delayed ACK.
pub(crate) fn configure_accepted(stream: &TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::warn!(error = %e, "could not set TCP_NODELAY on an accepted socket");
    }
}

/// Accept one connection and configure its socket.
pub(crate) async fn accept_configured(
    listener: &TcpListener,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    configure_accepted(&stream);
    Ok((stream, peer))
}

/// The first pause after a failed `accept`.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// The longest pause between `accept` attempts while they keep failing.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Pauses after failed `accept` calls (EMFILE, ENFILE, ENOMEM, ...): doubling from
/// [`ACCEPT_BACKOFF_MIN`] up to [`ACCEPT_BACKOFF_MAX`], so a full file table is not
/// retried in a hot loop; a run of failures is logged once, and once when it ends.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    failures: u64,
    pause: Duration,
}

impl AcceptBackoff {
    /// A failure: how long to pause, and whether to log it (only the first of a run).
    pub(crate) fn failed(&mut self) -> (Duration, bool) {
        self.failures += 1;
        self.pause = if self.failures == 1 {
            ACCEPT_BACKOFF_MIN
        } else {
            (self.pause * 2).min(ACCEPT_BACKOFF_MAX)
        };
        (self.pause, self.failures == 1)
    }

    /// A success: the number of failures of the run it ends (0 when there was none).
    pub(crate) fn succeeded(&mut self) -> u64 {
        std::mem::take(&mut self.failures)
    }
}

/// Wait for a free connection slot, then accept one connection.
async fn accept_slot(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(OwnedSemaphorePermit, TcpStream, SocketAddr)> {
    let permit = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(|_| std::io::Error::other("connection slots closed"))?;
    let (stream, peer) = accept_configured(listener).await?;
    Ok((permit, stream, peer))
}

/// Accept until shutdown is signalled (or the sender is dropped), then drain connections.
/// At most `max_connections` are served at once: the next accept waits for a slot, and
/// clients wait in the listen backlog meanwhile.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = shared.limits;
    let mut conns: JoinSet<()> = JoinSet::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let mut backoff = AcceptBackoff::default();
    let mut pause = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Some(p) = pause.take() {
            tokio::select! {
                () = tokio::time::sleep(p) => {}
                _ = shutdown.changed() => continue,
            }
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = accept_slot(&listener, &slots) => match accepted {
                Ok((permit, stream, peer)) => {
                    let failures = backoff.succeeded();
                    if failures > 0 {
                        tracing::info!(failures, "accept works again");
                    }
                    let open = OpenConnection::new(&shared);
                    conns.spawn(serve_connection(
                        builder.clone(),
                        stream,
                        peer,
                        Arc::clone(&shared),
                        shutdown.clone(),
                        (permit, open),
                    ));
                }
                Err(e) => {
                    let (p, log) = backoff.failed();
                    if log {
                        tracing::warn!(
                            error = %e,
                            "accept failed; retrying with backoff (up to 1 s) until it works again"
                        );
                    }
                    pause = Some(p);
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// Serve one connection. `_slot` (its connection slot and open-connection count) is
/// released when the connection ends.
async fn serve_connection(
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    _slot: (OwnedSemaphorePermit, OpenConnection),
) {
    // The header timeout counts from the accept: a connection that sends nothing at
    // all is closed after it too (hyper's own timer starts with the first byte).
    let mut first = [0u8; 1];
    let waited = tokio::select! {
        r = tokio::time::timeout(shared.limits.header_read_timeout, stream.peek(&mut first)) => r,
        _ = shutdown.changed() => return,
    };
    match waited {
        Ok(Ok(n)) if n > 0 => {}
        // Timed out, closed by the peer, or failed: nothing to serve.
        _ => return,
    }
    let svc = service_fn(move |req| serve_request(Arc::clone(&shared), peer, req));
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    if !*shutdown.borrow() {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown.changed() => {}
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The service error that makes hyper drop the connection without answering.
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by fault injection")
    }
}

impl std::error::Error for Abort {}

/// Response body: whole, or deliberately cut short (then an error closes the connection).
#[derive(Debug)]
pub(crate) enum EmuBody {
    Full(Option<Bytes>),
    Truncated { data: Option<Bytes>, yielded: bool },
}

/// Error of a truncated body (never shown to clients; it only makes hyper close).
#[derive(Debug)]
pub(crate) struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("body truncated by fault injection")
    }
}

impl std::error::Error for Truncated {}

impl Body for EmuBody {
    type Data = Bytes;
    type Error = Truncated;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Truncated>>> {
        match self.get_mut() {
            EmuBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            EmuBody::Truncated { data, yielded } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                if !*yielded {
                    // Give the connection one turn to flush the partial bytes before the
                    // error tears it down.
                    *yielded = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(Truncated)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, EmuBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            EmuBody::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            EmuBody::Full(None) => SizeHint::with_exact(0),
            EmuBody::Truncated { .. } => SizeHint::default(),
        }
    }
}

/// Turn an [`ApiResponse`] into an HTTP response (always JSON).
fn to_http(api: ApiResponse, truncate: Option<Option<usize>>) -> Response<EmuBody> {
    let len = api.body.len();
    let body = match truncate {
        None => EmuBody::Full(Some(api.body)),
        Some(to) => {
            let keep = to.unwrap_or(len / 2).min(len.saturating_sub(1));
            EmuBody::Truncated {
                data: Some(api.body.slice(..keep)),
                yielded: false,
            }
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = api.status;
    let headers = resp.headers_mut();
    for (name, value) in api.headers {
        headers.append(name, value);
    }
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if truncate.is_some() {
        // Promise the whole body; send less.
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len.max(1)));
    }
    resp
}

/// One request, end to end, with its debug log line.
async fn serve_request(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<EmuBody>, Abort> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let result = route(&shared, peer, req).await;
    let micros = start.elapsed().as_micros() as u64;
    match &result {
        Ok(resp) => tracing::debug!(
            %method, path = %path, status = resp.status().as_u16(), micros, "request"
        ),
        Err(_) => tracing::debug!(%method, path = %path, status = "closed", micros, "request"),
    }
    result
}

/// Read the whole request body, at most `limit` bytes. `Err(Some(resp))` answers the
/// client (413); `Err(None)` means the client went away.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    limit: usize,
) -> Result<Bytes, Option<ApiResponse>> {
    let too_large = || {
        base_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            &format!("The request body is larger than {limit} bytes."),
        )
    };
    if let Some(len) = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(Some(too_large()));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Some(too_large())),
        Err(_) => Err(None),
    }
}

async fn route(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<EmuBody>, Abort> {
    let path = req.uri().path();
    if path == CONTROL_PREFIX || path.starts_with("/_emulator/") {
        if !control_plane_allowed(&peer) {
            return Ok(to_http(
                base_error(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Forbidden,
                    "The emulator control plane only answers loopback peers.",
                ),
                None,
            ));
        }
        let (parts, body) = req.into_parts();
        let body = match read_body(&parts.headers, body, shared.limits.body_limit).await {
            Ok(b) => b,
            Err(Some(resp)) => return Ok(to_http(resp, None)),
            Err(None) => return Err(Abort),
        };
        let resp = control::handle(shared, &parts.method, parts.uri.path(), body).await;
        return Ok(to_http(resp, None));
    }

    shared.requests.fetch_add(1, Ordering::Relaxed);
    let mut truncate = None;
    let mut inject_panic = false;
    if let Some(fault) = shared.take_fault(req.method(), path) {
        if let Some(d) = fault.delay {
            tokio::time::sleep(d).await;
        }
        match fault.action {
            FaultAction::Status {
                status,
                retry_after,
                body,
            } => return Ok(to_http(fault_status(status, retry_after, body), None)),
            FaultAction::Html { status } => return Ok(to_http(fault_html(status), None)),
            FaultAction::Close => return Err(Abort),
            FaultAction::Truncate { truncate_to } => truncate = Some(truncate_to),
            FaultAction::Panic => inject_panic = true,
            FaultAction::Delay => {}
        }
    }

    let (parts, body) = req.into_parts();
    let body = match read_body(&parts.headers, body, shared.limits.body_limit).await {
        Ok(b) => b,
        Err(Some(resp)) => return Ok(to_http(resp, None)),
        Err(None) => return Err(Abort),
    };
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
    let owned = OwnedRequest {
        authority,
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        inject_panic,
    };
    let resp = api(shared, owned).await;
    Ok(to_http(resp, truncate))
}

fn fault_status(
    status: u16,
    retry_after: Option<u64>,
    body: Option<serde_json::Value>,
) -> ApiResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match body {
        Some(v) => json_response(status, &v),
        None => base_error(
            status,
            ErrorCode::EmulatorFault,
            &format!("Injected fault: status {}.", status.as_u16()),
        ),
    };
    if let Some(secs) = retry_after {
        resp.headers.push((RETRY_AFTER, HeaderValue::from(secs)));
    }
    resp
}

/// A load balancer's error page: HTML, not the service's JSON.
fn fault_html(status: u16) -> ApiResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n<center><h1>{line}</h1></center>\r\n<hr><center>load balancer (groups-emulator fault)</center>\r\n</body>\r\n</html>\r\n"
    );
    ApiResponse {
        status,
        body: Bytes::from(page),
        headers: vec![(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
    }
}

/// A request read off the wire, owned so it can move to the blocking pool.
struct OwnedRequest {
    /// The authority the client used (`Host`, or the URI's in HTTP/2).
    authority: Option<String>,
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    inject_panic: bool,
}

impl OwnedRequest {
    fn as_api(&self) -> ApiRequest<'_> {
        ApiRequest {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn authorization(&self) -> Option<&[u8]> {
        self.headers
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
    }
}

/// Authenticate and dispatch an API request to the world.
async fn api(shared: &Arc<Shared>, req: OwnedRequest) -> ApiResponse {
    let now_secs = shared.now_secs();
    let now = clock::format_unix(now_secs);
    let result = if is_auth_path(&req.path) {
        auth_request(shared, req, now_secs).await
    } else if World::is_read_only(&req.method) {
        read_request(shared, req, now, now_secs).await
    } else {
        shared
            .blocking(move |s| {
                // Parse and validate the body before taking the write lock: a large or
                // invalid body costs this request's time, not every other request's.
                let prepared = World::prepare(&req.as_api());
                s.mutate(false, |w| {
                    if req.inject_panic {
                        panic!("injected panic (fault injection)");
                    }
                    let caller = match w.authenticate_at(req.authorization(), &s.policy, now_secs) {
                        Ok(c) => c,
                        Err(resp) => return resp,
                    };
                    w.handle_prepared(&caller, &req.as_api(), &prepared, &now, &s.policy)
                })
            })
            .await
    };
    result.unwrap_or_else(Failure::into_response)
}

async fn read_request(
    shared: &Arc<Shared>,
    req: OwnedRequest,
    now: String,
    now_secs: u64,
) -> Result<ApiResponse, Failure> {
    // Authentication and the read itself run under one shared read lock: readers never
    // block each other, and a write (a whole batch) is either fully visible or not at all.
    shared.read(|w| {
        if req.inject_panic {
            panic!("injected panic (fault injection)");
        }
        match w.authenticate_at(req.authorization(), &shared.policy, now_secs) {
            Ok(caller) => w.handle_read(&caller, &req.as_api(), &now, &shared.policy),
            Err(resp) => resp,
        }
    })
}

/// The emulator's base URL as the client addressed it, without a trailing slash: the
/// `issuer` of discovery and id_tokens. An authority with characters outside a host
/// and port falls back to `http://localhost`.
fn issuer(authority: Option<&str>) -> String {
    match authority {
        Some(a)
            if !a.is_empty()
                && a.len() <= 255
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) =>
        {
            format!("http://{a}")
        }
        _ => "http://localhost".to_owned(),
    }
}

/// A request to the emulated Globus Auth: discovery and the JWKS here (they need the
/// key, not the world), everything else by the world under the write lock.
async fn auth_request(
    shared: &Arc<Shared>,
    req: OwnedRequest,
    now: u64,
) -> Result<ApiResponse, Failure> {
    let iss = issuer(req.authority.as_deref());
    match req.path.as_str() {
        "/.well-known/openid-configuration" | "/jwk.json" if req.method != Method::GET => {
            return Ok(crate::world::resp::method_not_allowed(&["GET"]));
        }
        "/.well-known/openid-configuration" => {
            return Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/v2/oauth2/authorize"),
                    "token_endpoint": format!("{iss}/v2/oauth2/token"),
                    "revocation_endpoint": format!("{iss}/v2/oauth2/token/revoke"),
                    "introspection_endpoint": format!("{iss}/v2/oauth2/token/introspect"),
                    "userinfo_endpoint": format!("{iss}/v2/oauth2/userinfo"),
                    "jwks_uri": format!("{iss}/jwk.json"),
                    "id_token_signing_alg_values_supported": [crate::keys::ALG],
                    "scopes_supported": ["openid", "profile", "email",
                        "urn:globus:auth:scope:auth.globus.org:view_identities",
                        "urn:globus:auth:scope:auth.globus.org:view_identity_set"],
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code", "refresh_token",
                        "client_credentials", "urn:globus:auth:grant_type:dependent_token"],
                    "subject_types_supported": ["public"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                    "code_challenge_methods_supported": ["S256"],
                    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "at_hash",
                        "preferred_username", "name", "email", "organization",
                        "identity_provider", "identity_provider_display_name",
                        "last_authentication", "identity_set"],
                }),
            ));
        }
        "/jwk.json" => {
            return Ok(match crate::keys::jwks() {
                Some(doc) => json_response(StatusCode::OK, &doc),
                None => crate::world::resp::internal("The emulator has no signing key."),
            });
        }
        _ => {}
    }
    let auto = shared.auto_approve();
    shared
        .blocking(move |s| {
            s.mutate(false, |w| {
                if req.inject_panic {
                    panic!("injected panic (fault injection)");
                }
                let mut mint = crate::keys::mint;
                let mut env = AuthEnv {
                    now,
                    issuer: &iss,
                    policy: &s.policy,
                    mint: &mut mint,
                    sign_jwt: &crate::keys::sign_jwt,
                    auto_approve: auto,
                };
                w.handle_auth(&req.as_api(), &mut env)
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_have_nodelay() {
        let listener = bind_listener("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (stream, _) = accept_configured(&listener).await.unwrap();
        assert!(stream.nodelay().unwrap());
        drop(client.await.unwrap());
    }

    #[test]
    fn accept_backoff_doubles_to_a_cap_and_logs_once_per_run() {
        let mut b = AcceptBackoff::default();
        let mut pauses = Vec::new();
        let mut logged = 0;
        for _ in 0..1000 {
            let (p, log) = b.failed();
            pauses.push(p);
            logged += usize::from(log);
        }
        assert_eq!(logged, 1, "one log line for a run of 1000 failures");
        assert_eq!(pauses[0], ACCEPT_BACKOFF_MIN);
        assert_eq!(pauses[1], ACCEPT_BACKOFF_MIN * 2);
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]), "never shrinks");
        assert_eq!(*pauses.last().unwrap(), ACCEPT_BACKOFF_MAX);
        assert_eq!(b.succeeded(), 1000);
        assert_eq!(b.succeeded(), 0);
        // A new run starts small and is logged again.
        assert_eq!(b.failed(), (ACCEPT_BACKOFF_MIN, true));
    }

    #[test]
    fn loopback_predicate() {
        for ok in [
            "127.0.0.1:1",
            "127.8.9.10:1",
            "[::1]:1",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(control_plane_allowed(&ok.parse().unwrap()), "{ok}");
        }
        for no in [
            "10.0.0.1:1",
            "192.168.1.2:1",
            "[::ffff:10.0.0.1]:1",
            "[2001:db8::1]:1",
            "0.0.0.0:1",
        ] {
            assert!(!control_plane_allowed(&no.parse().unwrap()), "{no}");
        }
    }
}
