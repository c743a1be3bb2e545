//! Use the sans-IO core from a plain blocking loop: no async runtime, no
//! HTTP library, only `std::net::TcpStream` and `std::thread::sleep`.
//!
//! ```text
//! cargo run --example custom_executor
//! GLOBUS_GROUPS_TOKEN=... GLOBUS_SDK_SERVICE_URL_GROUPS=http://127.0.0.1:8765/ \
//!     cargo run --example custom_executor
//! ```
//!
//! `groups-core` builds every request and parses every response, and its
//! [`Exchange`] state machine decides what happens next: send (with the
//! `Authorization` header from the token provider), wait (a retry backoff
//! with jitter, or a `Retry-After`), or done. This file supplies the rest:
//!
//! * a monotonic clock (`std::time::Instant`),
//! * a jitter source (`SplitMix64` seeded from the system clock),
//! * a minimal HTTP/1.1 client over `TcpStream` (keep-alive, `Content-Length`
//!   and chunked bodies, timeouts, a body size cap), mapping its failures to
//!   the core's [`TransportErrorKind`]s so the core can decide about retries
//!   (refused connection: `Connect`; broken connection: `Io`; timeout:
//!   `Timeout`; a reply that is not HTTP: `Other`, never retried),
//! * `std::thread::sleep` for [`Action::Wait`].
//!
//! Nothing here uses `groups-hyper`, `groups-manager` or an executor. The
//! embedded emulator that answers the demo does need Tokio: it runs on a
//! background thread with its own runtime, only because the demo needs a
//! server. It is told to answer the first two `my_groups` calls with 503 and
//! to drop one connection, so the output shows the core's retries.
//!
//! Without `GLOBUS_GROUPS_TOKEN` the demo creates a group, adds members,
//! reads it back and deletes it. With `GLOBUS_GROUPS_TOKEN` it only lists
//! your groups, at the URL named by `GLOBUS_SDK_SERVICE_URL_GROUPS` or
//! `GLOBUS_SDK_ENVIRONMENT`; this little client speaks plain HTTP only (no
//! TLS), so that URL must be `http://` (for example a `groups-emulator serve`
//! you started yourself).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use groups_core::auth::{AccessTokenProvider, TokenProvider};
use groups_core::config::{BaseUrl, ClientConfig, http_timeout_from_lookup, process_env};
use groups_core::exchange::{Action, Exchange};
use groups_core::ops::{
    BatchMembershipAction, CreateGroup, DeleteGroup, GetGroup, GetMyGroups, Operation,
};
use groups_core::retry::{JitterSource, SplitMix64};
use groups_core::transport::{Instant, TransportError, TransportErrorKind};
use groups_core::{GroupsError, groups_types};

mod common;
use common::print_table;
use groups_types::{
    BatchMembershipActions, Group, GroupCreate, GroupInclude, GroupRole, IdentityId,
    MembershipStatus,
};

const USAGE: &str = "\
usage: custom_executor

Drives groups-core's Exchange from a blocking loop over std::net::TcpStream.
Without GLOBUS_GROUPS_TOKEN it runs a demo against the embedded emulator; with it,
it lists your groups at GLOBUS_SDK_SERVICE_URL_GROUPS (which must be http://).";

const TOKEN_VAR: &str = "GLOBUS_GROUPS_TOKEN";
const DEMO_TOKEN: &str = "demo-token-ada";
/// Largest response body accepted.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Longest status or header line accepted.
const MAX_LINE: usize = 16 * 1024;
/// Most header lines accepted in one response.
const MAX_HEADERS: usize = 128;

fn main() -> ExitCode {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("error: unexpected argument {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let token = match std::env::var(TOKEN_VAR) {
        Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{TOKEN_VAR} is not valid UTF-8"));
        }
        _ => None,
    };
    let io_timeout = http_timeout_from_lookup(process_env).map_err(|e| e.to_string())?;
    match token {
        Some(token) => {
            let config = ClientConfig::from_env()
                .and_then(|c| c.with_app_name("custom_executor example"))
                .map_err(|e| e.to_string())?;
            if config.base_url().is_https() {
                return Err(format!(
                    "this example's HTTP client speaks plain HTTP only (no TLS), and the Groups URL is {}.\n\
                     Point GLOBUS_SDK_SERVICE_URL_GROUPS at an http:// service, for example one you started with\n\
                     `cargo run -p groups-emulator -- serve --port 8765`.",
                    config.base_url()
                ));
            }
            println!(
                "Using the Groups service at {} (token from {TOKEN_VAR}); plain blocking HTTP, no async runtime.",
                config.base_url()
            );
            let mut caller = Caller::new(config, &token, io_timeout)?;
            let groups = caller.call(&GetMyGroups::new())?;
            print_groups(&groups);
            caller.print_totals();
            Ok(())
        }
        None => {
            let server = DemoServer::start()?;
            println!(
                "{TOKEN_VAR} is not set: using the embedded Groups emulator at {} (on its own thread), signed in as ada@uni.example.org.",
                server.base_url
            );
            println!(
                "This thread has no async runtime: the client is a plain loop over std::net::TcpStream."
            );
            let result = demo(&server.base_url, io_timeout);
            server.stop();
            result
        }
    }
}

/// The demo: five logical calls, some of them retried.
fn demo(base_url: &str, io_timeout: Option<Duration>) -> Result<(), String> {
    let base = BaseUrl::parse(base_url).map_err(|e| e.to_string())?;
    let config = ClientConfig::new(base)
        .with_app_name("custom_executor example")
        .map_err(|e| e.to_string())?;
    let mut caller = Caller::new(config, DEMO_TOKEN, io_timeout)?;
    let id = |s: &str| IdentityId::parse(s).map_err(|e| e.to_string());
    let (bob, carol, dave) = (id(BOB)?, id(CAROL)?, id(DAVE)?);

    let groups = caller.call(&GetMyGroups::new())?;
    print_groups(&groups);

    let payload =
        GroupCreate::new("Detector test crew").description("Night tests of the new detector");
    let group = caller.call(&CreateGroup::new(&payload))?;
    println!("  -> created \"{}\" ({})", group.name, group.id);

    let actions = BatchMembershipActions::new()
        .add_members([bob, carol], GroupRole::Member)
        .add_members([dave], GroupRole::Manager);
    let result = caller.call(&BatchMembershipAction::new(group.id, &actions))?;
    for (verb, m) in result.successes() {
        println!("  -> {verb} {} as {} ({})", m.username, m.role, m.status);
    }
    for (verb, e) in result.failures() {
        println!(
            "  -> {verb} {} failed: {} {}",
            e.identity_id,
            e.code,
            e.detail.as_deref().unwrap_or("")
        );
    }

    let read = caller.call(&GetGroup::new(group.id).include([GroupInclude::Memberships]))?;
    print_members(&read);

    let deleted: Group = caller.call(&DeleteGroup::new(group.id))?;
    println!("  -> deleted \"{}\"", deleted.name);

    caller.print_totals();
    Ok(())
}

/// Runs operations: builds the request with the core, drives the
/// [`Exchange`] by hand, parses the response with the core.
struct Caller {
    config: ClientConfig,
    auth: Arc<dyn TokenProvider>,
    jitter: SplitMix64,
    clock: Clock,
    http: HttpClient,
    calls: u32,
    attempts: u32,
}

impl Caller {
    fn new(
        config: ClientConfig,
        token: &str,
        io_timeout: Option<Duration>,
    ) -> Result<Self, String> {
        let auth = AccessTokenProvider::new(token).map_err(|e| e.to_string())?;
        // Any 64 bits that differ between runs will do to spread retries.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        Ok(Caller {
            config,
            auth: Arc::new(auth),
            jitter: SplitMix64::new(seed),
            clock: Clock(std::time::Instant::now()),
            http: HttpClient::new(io_timeout),
            calls: 0,
            attempts: 0,
        })
    }

    /// One logical call, with the core's retries, backoff and deadline.
    fn call<O: Operation>(&mut self, op: &O) -> Result<O::Output, String> {
        let request = op
            .build_request(&self.config)
            .map_err(|e| format!("bad request: {e}"))?;
        let label = format!(
            "{} {}",
            request.method(),
            request.uri().path_and_query().map_or("/", |p| p.as_str())
        );
        println!();
        println!("{label}");
        self.calls += 1;
        let mut exchange = Exchange::new(
            request,
            *self.config.retry_policy(),
            Arc::clone(&self.auth),
            self.config.deadline(),
        );
        loop {
            match exchange.poll_action(self.clock.now()) {
                // A request to send: to the Groups service, or (for a
                // refreshing token provider) to Globus Auth; both go the same way.
                Action::Send(request) => {
                    self.attempts += 1;
                    // Never past the call's deadline.
                    let budget = exchange
                        .deadline()
                        .map(|d| d.saturating_duration_since(self.clock.now()));
                    let started = self.clock.now();
                    let outcome = self.http.send(&request, budget);
                    let took = self.clock.now().saturating_duration_since(started);
                    let now = self.clock.now();
                    match outcome {
                        Ok(response) => {
                            println!(
                                "  attempt {}: {} in {:.1} ms",
                                exchange.attempts(),
                                response.status(),
                                took.as_secs_f64() * 1000.0
                            );
                            exchange.handle_response(response, now, self.jitter.next_jitter());
                        }
                        Err(error) => {
                            println!(
                                "  attempt {}: {error} after {:.1} ms",
                                exchange.attempts(),
                                took.as_secs_f64() * 1000.0
                            );
                            exchange.handle_transport_error(error, now, self.jitter.next_jitter());
                        }
                    }
                }
                // A backoff (with jitter) or a `Retry-After`: just sleep.
                Action::Wait(until) => {
                    let pause = until.saturating_duration_since(self.clock.now());
                    println!(
                        "  waiting {:.2} s before the next attempt",
                        pause.as_secs_f64()
                    );
                    std::thread::sleep(pause);
                }
                Action::Done(result) => {
                    let response = result.map_err(|e| describe(&label, &e))?;
                    return op
                        .parse_response(response)
                        .map_err(|e| describe(&label, &e));
                }
            }
        }
    }

    fn print_totals(&self) {
        println!();
        println!(
            "{} call(s), {} HTTP request(s) on {} connection(s); every wait was std::thread::sleep.",
            self.calls, self.attempts, self.http.connections_opened
        );
    }
}

fn describe(label: &str, e: &GroupsError) -> String {
    let hint = match e.status().map(|s| s.as_u16()) {
        Some(401) => " (is the token valid for the Groups API?)",
        _ => "",
    };
    format!("{label} failed: {e}{hint}")
}

fn print_groups(groups: &[Group]) {
    let mut rows: Vec<[String; 3]> = Vec::new();
    for g in groups {
        for m in g.membership_list() {
            rows.push([g.name.clone(), m.role.to_string(), m.status.to_string()]);
        }
    }
    rows.sort();
    println!("  -> {} group(s):", groups.len());
    print_table(&["GROUP", "MY ROLE", "STATUS"], &rows);
}

fn print_members(group: &Group) {
    let mut rows: Vec<[String; 3]> = group
        .membership_list()
        .iter()
        .filter(|m| m.status == MembershipStatus::Active)
        .map(|m| [m.username.clone(), m.role.to_string(), m.status.to_string()])
        .collect();
    rows.sort();
    println!(
        "  -> \"{}\" has {} active member(s):",
        group.name,
        rows.len()
    );
    print_table(&["USERNAME", "ROLE", "STATUS"], &rows);
}

/// The core's clock: time since this program started.
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        Instant::from_elapsed(self.0.elapsed())
    }
}

// ---------------------------------------------------------------------------
// A minimal blocking HTTP/1.1 client.
// ---------------------------------------------------------------------------

/// One kept-alive connection at a time; plain HTTP only.
struct HttpClient {
    conn: Option<Connection>,
    /// Per-attempt limit for connecting, writing and reading (`None`: none).
    io_timeout: Option<Duration>,
    connections_opened: u32,
}

struct Connection {
    authority: String,
    reader: BufReader<TcpStream>,
}

fn transport_error(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
    TransportError::new(kind, message)
}

/// An IO failure while talking on an open connection.
fn io_error(what: &str, e: std::io::Error) -> TransportError {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    let kind = match e.kind() {
        TimedOut | WouldBlock => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    };
    transport_error(kind, format!("{what}: {e}"))
}

impl HttpClient {
    fn new(io_timeout: Option<Duration>) -> Self {
        HttpClient {
            conn: None,
            io_timeout,
            connections_opened: 0,
        }
    }

    /// Send `request` and read the whole response, within `budget` (the
    /// time left before the call's deadline) and the per-attempt timeout.
    fn send(
        &mut self,
        request: &http::Request<Bytes>,
        budget: Option<Duration>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let uri = request.uri();
        if uri.scheme_str() != Some("http") {
            return Err(transport_error(
                TransportErrorKind::Refused,
                format!("this minimal client speaks plain http:// only, not {uri}"),
            ));
        }
        let host = uri
            .host()
            .ok_or_else(|| transport_error(TransportErrorKind::Refused, "URL without a host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let authority = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let timeout = match (self.io_timeout, budget) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|t| t.max(Duration::from_millis(1)));

        // Reuse the open connection if it goes to the same place and the
        // server has not closed it while it sat idle.
        let reusable = self
            .conn
            .as_ref()
            .is_some_and(|c| c.authority == authority && c.is_idle_and_open());
        if !reusable {
            self.conn = None;
            let stream = connect(host, port, timeout)?;
            self.connections_opened += 1;
            self.conn = Some(Connection {
                authority,
                reader: BufReader::new(stream),
            });
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(transport_error(TransportErrorKind::Other, "no connection"));
        };
        let result = conn.round_trip(request, timeout);
        match &result {
            Ok((_, keep_alive)) if *keep_alive => {}
            // Closed by the server, or in an unknown state: never reuse it.
            _ => self.conn = None,
        }
        result.map(|(response, _)| response)
    }
}

fn connect(host: &str, port: u16, timeout: Option<Duration>) -> Result<TcpStream, TransportError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            transport_error(
                TransportErrorKind::Connect,
                format!("resolving {host}: {e}"),
            )
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                stream
                    .set_read_timeout(timeout)
                    .and_then(|()| stream.set_write_timeout(timeout))
                    .map_err(|e| io_error("setting timeouts", e))?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(transport_error(
        TransportErrorKind::Connect,
        match last {
            Some(e) => format!("cannot connect to {host}:{port}: {e}"),
            None => format!("{host} has no address"),
        },
    ))
}

impl Connection {
    /// Whether an idle kept-alive connection can take another request: no
    /// unread bytes, and the server has not closed it.
    fn is_idle_and_open(&self) -> bool {
        if !self.reader.buffer().is_empty() {
            return false;
        }
        let stream = self.reader.get_ref();
        if stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut probe = [0u8; 1];
        let open =
            matches!(stream.peek(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        stream.set_nonblocking(false).is_ok() && open
    }

    /// Write the request, read the response; also says whether the
    /// connection may be reused.
    fn round_trip(
        &mut self,
        request: &http::Request<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<(http::Response<Bytes>, bool), TransportError> {
        let stream = self.reader.get_ref();
        stream
            .set_read_timeout(timeout)
            .and_then(|()| stream.set_write_timeout(timeout))
            .map_err(|e| io_error("setting timeouts", e))?;
        let head = request_head(request, &self.authority);
        let mut writer = self.reader.get_ref();
        writer
            .write_all(&head)
            .and_then(|()| writer.write_all(request.body()))
            .and_then(|()| writer.flush())
            .map_err(|e| io_error("sending the request", e))?;
        self.read_response(request.method() == http::Method::HEAD)
    }

    fn read_response(
        &mut self,
        head_only: bool,
    ) -> Result<(http::Response<Bytes>, bool), TransportError> {
        // Skip interim 1xx answers (we never send `Expect`, but a server may).
        let (version, status, headers) = loop {
            let (version, status) = self.read_status_line()?;
            let headers = self.read_headers()?;
            if !status.is_informational() {
                break (version, status, headers);
            }
        };
        let connection = header_str(&headers, http::header::CONNECTION).to_ascii_lowercase();
        let mut keep_alive = if version == http::Version::HTTP_10 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
        let chunked = header_str(&headers, http::header::TRANSFER_ENCODING)
            .to_ascii_lowercase()
            .contains("chunked");
        let body = if head_only
            || status == http::StatusCode::NO_CONTENT
            || status == http::StatusCode::NOT_MODIFIED
        {
            Vec::new()
        } else if chunked {
            self.read_chunked()?
        } else if let Some(len) = headers.get(http::header::CONTENT_LENGTH) {
            let len: usize = len
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| transport_error(TransportErrorKind::Other, "bad Content-Length"))?;
            if len > MAX_BODY {
                return Err(transport_error(
                    TransportErrorKind::BodyTooLarge,
                    format!("response body of {len} bytes is over the {MAX_BODY}-byte cap"),
                ));
            }
            let mut body = vec![0u8; len];
            self.reader
                .read_exact(&mut body)
                .map_err(|e| io_error("reading the body (the connection closed early?)", e))?;
            body
        } else {
            // No length: the body runs to the end of the connection.
            keep_alive = false;
            let mut body = Vec::new();
            (&mut self.reader)
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| io_error("reading the body", e))?;
            if body.len() > MAX_BODY {
                return Err(transport_error(
                    TransportErrorKind::BodyTooLarge,
                    format!("response body is over the {MAX_BODY}-byte cap"),
                ));
            }
            body
        };
        let mut response = http::Response::new(Bytes::from(body));
        *response.status_mut() = status;
        *response.version_mut() = version;
        *response.headers_mut() = headers;
        Ok((response, keep_alive))
    }

    /// One CRLF-terminated line, without the line end.
    fn read_line(&mut self, what: &str) -> Result<String, TransportError> {
        let mut line = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(&format!("reading the {what}"), e))?;
        if n == 0 {
            return Err(transport_error(
                TransportErrorKind::Io,
                format!("the server closed the connection before sending the {what}"),
            ));
        }
        if line.last() != Some(&b'\n') {
            return Err(transport_error(
                TransportErrorKind::Io,
                format!("the {what} is cut short or too long"),
            ));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        String::from_utf8(line)
            .map_err(|_| transport_error(TransportErrorKind::Io, format!("the {what} is not text")))
    }

    fn read_status_line(&mut self) -> Result<(http::Version, http::StatusCode), TransportError> {
        let line = self.read_line("status line")?;
        let bad = || {
            let shown: String = line.chars().take(60).collect();
            transport_error(
                TransportErrorKind::Other,
                format!("bad status line {shown:?}"),
            )
        };
        let mut parts = line.splitn(3, ' ');
        let version = match parts.next() {
            Some("HTTP/1.1") => http::Version::HTTP_11,
            Some("HTTP/1.0") => http::Version::HTTP_10,
            _ => return Err(bad()),
        };
        let status = parts
            .next()
            .and_then(|code| http::StatusCode::from_bytes(code.as_bytes()).ok())
            .ok_or_else(bad)?;
        Ok((version, status))
    }

    fn read_headers(&mut self) -> Result<http::HeaderMap, TransportError> {
        let mut headers = http::HeaderMap::new();
        loop {
            let line = self.read_line("response headers")?;
            if line.is_empty() {
                return Ok(headers);
            }
            if headers.len() >= MAX_HEADERS {
                return Err(transport_error(
                    TransportErrorKind::Other,
                    "too many response headers",
                ));
            }
            let parsed = line.split_once(':').and_then(|(name, value)| {
                Some((
                    http::HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
                    http::HeaderValue::from_str(value.trim()).ok()?,
                ))
            });
            let Some((name, value)) = parsed else {
                return Err(transport_error(
                    TransportErrorKind::Other,
                    "malformed response header",
                ));
            };
            headers.append(name, value);
        }
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, TransportError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line("chunk size")?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| transport_error(TransportErrorKind::Other, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line("chunk trailer")?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(transport_error(
                    TransportErrorKind::BodyTooLarge,
                    format!("response body is over the {MAX_BODY}-byte cap"),
                ));
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader
                .read_exact(&mut body[start..])
                .map_err(|e| io_error("reading a chunk", e))?;
            if !self.read_line("chunk end")?.is_empty() {
                return Err(transport_error(
                    TransportErrorKind::Other,
                    "chunk without its line end",
                ));
            }
        }
    }
}

fn header_str(headers: &http::HeaderMap, name: http::header::HeaderName) -> String {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

/// Request line and headers. Header values are written as raw bytes and
/// never printed (one of them is the bearer token).
fn request_head(request: &http::Request<Bytes>, authority: &str) -> Vec<u8> {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method()).into_bytes();
    if !request.headers().contains_key(http::header::HOST) {
        head.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    for (name, value) in request.headers() {
        if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let method = request.method();
    if !request.body().is_empty()
        || [http::Method::POST, http::Method::PUT, http::Method::PATCH].contains(method)
    {
        head.extend_from_slice(format!("Content-Length: {}\r\n", request.body().len()).as_bytes());
    }
    head.extend_from_slice(b"Connection: keep-alive\r\n\r\n");
    head
}

// ---------------------------------------------------------------------------
// The demo server: the emulator on a background thread with its own Tokio
// runtime. Only the server needs a runtime; the client above has none.
// ---------------------------------------------------------------------------

const ADA: &str = "6a1b0c2d-0000-4000-8000-00000000ada1";
const BOB: &str = "6a1b0c2d-0000-4000-8000-000000000b0b";
const CAROL: &str = "6a1b0c2d-0000-4000-8000-0000000ca201";
const DAVE: &str = "6a1b0c2d-0000-4000-8000-00000000da7e";

struct DemoServer {
    base_url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl DemoServer {
    fn start() -> Result<DemoServer, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<String, String>>();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("groups-emulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot build the server runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let emulator = match start_emulator().await {
                        Ok(emulator) => emulator,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(emulator.base_url()));
                    // Serve until told to stop (or until main is gone).
                    let _ = stop_rx.await;
                    if let Err(e) = emulator.shutdown().await {
                        eprintln!("warning: the emulator did not shut down cleanly: {e}");
                    }
                });
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(base_url)) => Ok(DemoServer {
                base_url,
                stop,
                thread,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err("the server thread ended before it was ready".into())
            }
        }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        if self.thread.join().is_err() {
            eprintln!("warning: the emulator thread panicked");
        }
    }
}

async fn start_emulator() -> Result<groups_emulator::Emulator, String> {
    use groups_emulator::{Emulator, Fault};
    let emulator = Emulator::start()
        .await
        .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
    let seed = serde_json::json!({
        "identities": [
            {"id": ADA, "username": "ada@uni.example.org"},
            {"id": BOB, "username": "bob@uni.example.org"},
            {"id": CAROL, "username": "carol@uni.example.org"},
            {"id": DAVE, "username": "dave@uni.example.org"}
        ],
        "tokens": [{"token": DEMO_TOKEN, "identity": ADA}],
        "groups": [
            {"name": "Beamline 7 staff", "memberships": [
                {"identity_id": ADA, "role": "admin"}, {"identity_id": BOB}]},
            {"name": "Safety training 2026", "memberships": [
                {"identity_id": CAROL, "role": "admin"}, {"identity_id": ADA}]}
        ]
    });
    let loaded = serde_json::from_value(seed)
        .map_err(|e| e.to_string())
        .and_then(|seed| emulator.load_seed(seed).map_err(|e| e.to_string()));
    if let Err(e) = loaded {
        let _ = emulator.shutdown().await;
        return Err(format!("cannot seed the demo: {e}"));
    }
    // Make the core work for its living: two 503s on the first listing, and
    // one dropped connection when a group is read.
    emulator.inject(
        Fault::status(503)
            .method("GET")
            .path("/v2/groups/my_groups")
            .times(2),
    );
    emulator.inject(
        Fault::close()
            .method("GET")
            .path("/v2/groups/????????-*")
            .times(1),
    );
    Ok(emulator)
}
