//! The transport contract: the only thing a runtime has to provide.
//!
//! The core never opens sockets, reads a clock or sleeps. A [`Transport`]
//! does those three things for it; everything else (building requests,
//! parsing responses, retries, token refresh, deadlines) lives in the core
//! and is shared by every driver.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

/// A point on the transport's monotonic clock.
///
/// It is the time elapsed since an origin the transport chooses (for
/// example the moment the transport was built). The core only ever compares
/// instants and adds durations to them, so any monotonic source works: a
/// Tokio clock, a browser's `performance.now()`, or a simulated clock in
/// tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The origin of the clock.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `elapsed` after the clock's origin.
    pub const fn from_elapsed(elapsed: Duration) -> Self {
        Instant(elapsed)
    }

    /// Time since the clock's origin.
    pub const fn elapsed_since_origin(self) -> Duration {
        self.0
    }

    /// `self + d`, saturating instead of overflowing.
    pub fn saturating_add(self, d: Duration) -> Self {
        Instant(self.0.saturating_add(d))
    }

    /// How long from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

/// What went wrong below HTTP, as far as retry decisions care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be established (refused, DNS, unreachable).
    /// The request was certainly not sent, so any method may be retried.
    Connect,
    /// The request may have been sent but no complete response arrived in
    /// time (a read or per-attempt timeout). Only idempotent calls retry.
    Timeout,
    /// The connection broke after the request may have been sent
    /// (reset, closed mid-body). Only idempotent calls retry.
    Io,
    /// TLS negotiation or certificate verification failed. Never retried.
    Tls,
    /// The response body exceeded the configured size cap. Never retried.
    BodyTooLarge,
    /// The transport refused the request itself (for example plain HTTP to
    /// a non-loopback host, or a credential bound for a foreign host).
    /// Never retried.
    Refused,
    /// Anything else. Never retried.
    Other,
}

impl TransportErrorKind {
    /// A short lower-case name, e.g. `"connect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::Tls => "tls",
            Self::BodyTooLarge => "body too large",
            Self::Refused => "refused",
            Self::Other => "other",
        }
    }
}

/// A failure of the transport to complete one HTTP exchange.
///
/// The message must never contain a header value, a token or a body; the
/// transport is responsible for that when it builds one.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl TransportError {
    /// A transport error of `kind` with a short human-readable message.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message given at construction.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What the core tells the transport about one attempt, as a request
/// extension (`request.extensions().get::<RequestMeta>()`), so a transport
/// can name the operation and the attempt in its logs or spans.
///
/// [`GroupsClient::execute`](crate::GroupsClient::execute) inserts it with
/// the operation's [`NAME`](crate::Operation::NAME); the
/// [`Exchange`](crate::Exchange) sets `attempt` (1 for the first send) and
/// the call's overall `deadline` on every attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestMeta {
    /// The operation, e.g. `"get_group"`.
    pub operation: &'static str,
    /// Which attempt of the call this is, from 1.
    pub attempt: u32,
    /// When the whole call must be over, on the transport's clock. A
    /// transport that reports [`Transport::enforces_deadline`] gives up at
    /// this instant with a [`TransportErrorKind::Timeout`] error.
    pub deadline: Option<Instant>,
}

impl RequestMeta {
    /// Metadata for the first attempt of `operation`, with no deadline yet.
    pub const fn new(operation: &'static str) -> Self {
        RequestMeta {
            operation,
            attempt: 1,
            deadline: None,
        }
    }
}

/// Sends HTTP requests, sleeps, and tells the time.
///
/// This is all a runtime has to supply to run every Groups operation with
/// the core's retries, deadlines and token refresh. `groups-hyper` provides
/// the production implementation over hyper and Tokio; tests provide
/// scripted ones.
///
/// The futures are `Send` so the client works on multi-threaded executors.
/// A host whose futures are not `Send` (a browser, for instance) drives
/// [`crate::exchange::Exchange`] directly instead; it is the same state
/// machine the client uses.
pub trait Transport: Send + Sync {
    /// Perform one HTTP exchange and return the full response.
    ///
    /// The transport applies its own per-attempt limits (connect timeout,
    /// read timeout, body size cap) and reports failures as
    /// [`TransportError`]s; it does not retry (the core does).
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send;

    /// Complete once the transport's clock reaches `deadline`.
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send;

    /// The current time on the transport's monotonic clock.
    fn now(&self) -> Instant;

    /// `true` when [`send`](Transport::send) itself gives up at the
    /// [`RequestMeta::deadline`] of the request (answering a
    /// [`TransportErrorKind::Timeout`] error), so the client need not race
    /// every attempt against [`sleep_until`](Transport::sleep_until): one
    /// timer per attempt instead of two. The default is `false`.
    fn enforces_deadline(&self) -> bool {
        false
    }
}

/// A transport made of a synchronous function, on a virtual clock: handy
/// for tests and offline examples.
///
/// `send` calls the function; `sleep_until` returns at once and moves the
/// virtual clock forward to the deadline (when polled); `now` reads it. So
/// retries and backoff run instantly and deterministically, and every
/// future it returns is ready on its first poll.
///
/// ```
/// use bytes::Bytes;
/// use groups_core::transport::{FnTransport, Instant, Transport};
///
/// let t = FnTransport::new(|req: http::Request<Bytes>| {
///     assert_eq!(req.uri().path(), "/v2/groups/statuses");
///     Ok(http::Response::builder().status(200).body(Bytes::from_static(b"{}")).unwrap())
/// });
/// assert_eq!(t.now(), Instant::ZERO);
/// ```
pub struct FnTransport<F> {
    send: F,
    clock_nanos: std::sync::atomic::AtomicU64,
}

impl<F> FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync,
{
    /// A transport answering with `send`, its clock at [`Instant::ZERO`].
    pub fn new(send: F) -> Self {
        FnTransport {
            send,
            clock_nanos: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Move the virtual clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.clock_nanos
            .fetch_add(nanos, std::sync::atomic::Ordering::SeqCst);
    }

    fn advance_to(&self, deadline: Instant) {
        let target = u64::try_from(deadline.elapsed_since_origin().as_nanos()).unwrap_or(u64::MAX);
        self.clock_nanos
            .fetch_max(target, std::sync::atomic::Ordering::SeqCst);
    }
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTransport")
            .field(
                "clock_nanos",
                &self.clock_nanos.load(std::sync::atomic::Ordering::SeqCst),
            )
            .finish_non_exhaustive()
    }
}

impl<F> Transport for FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync,
{
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        std::future::ready((self.send)(request))
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        std::future::poll_fn(move |_cx| {
            self.advance_to(deadline);
            std::task::Poll::Ready(())
        })
    }

    fn now(&self) -> Instant {
        Instant::from_elapsed(Duration::from_nanos(
            self.clock_nanos.load(std::sync::atomic::Ordering::SeqCst),
        ))
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        (**self).send(request)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        (**self).sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        (**self).now()
    }

    fn enforces_deadline(&self) -> bool {
        (**self).enforces_deadline()
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        (**self).send(request)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        (**self).sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        (**self).now()
    }

    fn enforces_deadline(&self) -> bool {
        (**self).enforces_deadline()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        (**self).send(request)
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        (**self).sleep_until(deadline)
    }

    fn now(&self) -> Instant {
        (**self).now()
    }

    fn enforces_deadline(&self) -> bool {
        (**self).enforces_deadline()
    }
}
