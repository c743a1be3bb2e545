//! Test support (feature `test-util`): a scripted transport on a simulated
//! clock and a tiny executor, shared by the tests of every crate that sits
//! on the core.
//!
//! [`ScriptedTransport`] records every request and answers from a script
//! of [`Step`]s, or through a responder function; a request the script does
//! not expect fails the test loudly (a panic naming the request), never a
//! silent default answer. Its clock only moves when the code under test
//! sleeps (or a step says time passes), so retries and backoff run at once
//! and deterministically.
//!
//! ```
//! use groups_core::test_util::{ScriptedTransport, Step, block_on, json};
//! use groups_core::{AccessTokenProvider, ClientConfig, GroupsClient};
//!
//! let transport = ScriptedTransport::new([
//!     Step::Respond(json(503, "{}")),
//!     Step::Respond(json(200, "[]")),
//! ]);
//! let client = GroupsClient::new(transport.clone(), ClientConfig::default(),
//!     AccessTokenProvider::new("tok").unwrap());
//! let groups = block_on(client.get_my_groups()).unwrap();
//! assert!(groups.is_empty());
//! assert_eq!(transport.requests().len(), 2);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;

use crate::transport::{Instant, Transport, TransportError, TransportErrorKind};

// ------------------------------------------------------------------ executor

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls [`block_on`] allows before it declares the future stuck.
pub const MAX_POLLS: usize = 1_000_000;

/// Run a future (or anything that turns into one, such as a
/// [`Call`](crate::Call)) to completion on this thread.
///
/// Simulated futures are either ready, or pending with a wake-up already
/// requested; a pending poll without a wake-up would hang forever, so it
/// panics instead ("future is stuck"), as does a future that needs more than
/// [`MAX_POLLS`] polls.
pub fn block_on<F: IntoFuture>(fut: F) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut.into_future());
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(
            flag.0.swap(false, Ordering::SeqCst),
            "future is stuck: pending without a wake-up"
        );
    }
    panic!("future did not complete within {MAX_POLLS} polls");
}

/// Pending once (waking itself), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

// ------------------------------------------------------------------ script

/// What the scripted transport does with one request.
pub enum Step {
    /// Answer with this response.
    Respond(http::Response<Bytes>),
    /// Fail with a transport error of this kind.
    Fail(TransportErrorKind),
    /// Never answer (a deadline must end the call).
    Hang,
    /// Let simulated time pass, then do the inner step.
    Elapse(Duration, Box<Step>),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Respond(r) => write!(f, "Respond({})", r.status()),
            Step::Fail(k) => write!(f, "Fail({k:?})"),
            Step::Hang => f.write_str("Hang"),
            Step::Elapse(d, s) => write!(f, "Elapse({d:?}, {s:?})"),
        }
    }
}

/// One request as the transport saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The method.
    pub method: http::Method,
    /// The whole URI.
    pub uri: http::Uri,
    /// The headers (including `Authorization`).
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// When it was sent, on the simulated clock.
    pub at: Instant,
}

impl Recorded {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Path and query, e.g. `/v2/groups/<id>?include=memberships`.
    pub fn path(&self) -> &str {
        self.uri.path_and_query().map_or("", |p| p.as_str())
    }

    /// The body as JSON; `None` when empty.
    ///
    /// # Panics
    /// When the body is not JSON (a test failure).
    pub fn body_json(&self) -> Option<serde_json::Value> {
        if self.body.is_empty() {
            None
        } else {
            Some(serde_json::from_slice(&self.body).expect("request body is JSON"))
        }
    }
}

type Responder = Box<dyn FnMut(&Recorded) -> Step + Send>;

enum Script {
    Steps(VecDeque<Step>),
    Responder(Responder),
}

struct State {
    now: Instant,
    script: Script,
    requests: Vec<Recorded>,
    sleeps: Vec<Instant>,
    timers: usize,
    in_flight: usize,
    max_in_flight: usize,
    yielding: bool,
    enforces_deadline: bool,
}

/// A transport on a simulated clock that records every request and answers
/// from a script. Clones share the script, the record and the clock.
#[derive(Clone)]
pub struct ScriptedTransport {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("ScriptedTransport")
            .field("now", &st.now)
            .field("requests", &st.requests.len())
            .finish_non_exhaustive()
    }
}

impl ScriptedTransport {
    fn with_script(script: Script) -> Self {
        ScriptedTransport {
            state: Arc::new(Mutex::new(State {
                now: Instant::ZERO,
                script,
                requests: Vec::new(),
                sleeps: Vec::new(),
                timers: 0,
                in_flight: 0,
                max_in_flight: 0,
                yielding: false,
                enforces_deadline: false,
            })),
        }
    }

    /// Answer with these steps, in order. A request after the last step
    /// panics with "unexpected request".
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Self::with_script(Script::Steps(steps.into_iter().collect()))
    }

    /// Answer every request through `responder` (it may panic on a request
    /// it does not expect).
    pub fn responder(responder: impl FnMut(&Recorded) -> Step + Send + 'static) -> Self {
        Self::with_script(Script::Responder(Box::new(responder)))
    }

    /// Make every answer pending once before it is ready, so that several
    /// requests can be in flight at once ([`max_in_flight`](Self::max_in_flight)).
    pub fn yielding(self) -> Self {
        self.lock().yielding = true;
        self
    }

    /// Report [`Transport::enforces_deadline`] as `value`.
    pub fn with_enforces_deadline(self, value: bool) -> Self {
        self.lock().enforces_deadline = value;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside a responder poisons the lock; the test has failed
        // already, so later inspection still reads the state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Append a step to a step script.
    ///
    /// # Panics
    /// When the transport answers through a responder.
    pub fn push(&self, step: Step) {
        match &mut self.lock().script {
            Script::Steps(steps) => steps.push_back(step),
            Script::Responder(_) => panic!("push on a responder transport"),
        }
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// How many requests so far.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// Every instant slept until (each sleep counted when first polled), in
    /// order.
    pub fn sleeps(&self) -> Vec<Instant> {
        self.lock().sleeps.clone()
    }

    /// How many timers were created (`sleep_until` calls), polled or not:
    /// a client racing each send against a deadline timer creates one per
    /// attempt.
    pub fn timers_created(&self) -> usize {
        self.lock().timers
    }

    /// Steps not played yet (0 for a responder).
    pub fn remaining_steps(&self) -> usize {
        match &self.lock().script {
            Script::Steps(steps) => steps.len(),
            Script::Responder(_) => 0,
        }
    }

    /// The simulated clock.
    pub fn clock(&self) -> Instant {
        self.lock().now
    }

    /// Move the simulated clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut st = self.lock();
        st.now = st.now + d;
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Transport for ScriptedTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        let (parts, body) = request.into_parts();
        let mut st = self.lock();
        let recorded = Recorded {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            at: st.now,
        };
        let mut step = match &mut st.script {
            Script::Steps(steps) => steps.pop_front().unwrap_or_else(|| {
                panic!(
                    "unexpected request {} {}: the script is exhausted",
                    recorded.method, recorded.uri
                )
            }),
            Script::Responder(f) => f(&recorded),
        };
        st.requests.push(recorded);
        let result = loop {
            match step {
                Step::Elapse(d, inner) => {
                    st.now = st.now + d;
                    step = *inner;
                }
                Step::Respond(r) => break Some(Ok(r)),
                Step::Fail(kind) => {
                    break Some(Err(TransportError::new(kind, "scripted failure")));
                }
                Step::Hang => break None,
            }
        };
        let Some(result) = result else {
            return Box::pin(std::future::pending()) as BoxFut<_>;
        };
        if !st.yielding {
            return Box::pin(std::future::ready(result));
        }
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        drop(st);
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            YieldOnce(false).await;
            state.lock().unwrap_or_else(|e| e.into_inner()).in_flight -= 1;
            result
        })
    }

    /// Time passes only when the sleep is polled (like a real timer), and
    /// only once no yielding answer is still in flight (an answer that is
    /// on its way always arrives before a timer).
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        self.lock().timers += 1;
        let state = Arc::clone(&self.state);
        let mut recorded = false;
        std::future::poll_fn(move |cx| {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            if !recorded {
                st.sleeps.push(deadline);
                recorded = true;
            }
            if st.now >= deadline {
                return Poll::Ready(());
            }
            if st.in_flight == 0 {
                st.now = deadline;
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    }

    fn now(&self) -> Instant {
        self.lock().now
    }

    fn enforces_deadline(&self) -> bool {
        self.lock().enforces_deadline
    }
}

// ------------------------------------------------------------------ answers

/// A response with `status`, an optional `Content-Type` and `body`.
pub fn response(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
) -> http::Response<Bytes> {
    let mut b = http::Response::builder().status(status);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.into()).expect("valid test response")
}

/// A JSON response with `status` and `body`.
pub fn json(status: u16, body: &str) -> http::Response<Bytes> {
    response(status, Some("application/json"), body.to_owned())
}

/// `r` with one more header.
pub fn with_header(
    mut r: http::Response<Bytes>,
    name: &'static str,
    value: &str,
) -> http::Response<Bytes> {
    r.headers_mut().insert(
        name,
        http::HeaderValue::from_str(value).expect("valid test header"),
    );
    r
}

/// A step answering JSON `body` with `status`.
pub fn respond(status: u16, body: &str) -> Step {
    Step::Respond(json(status, body))
}
