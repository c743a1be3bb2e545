//! Test helpers: a tiny executor, a scripted transport on a simulated clock,
//! fixtures, and a refreshable token provider.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use groups_core::auth::{AuthPoll, TokenProvider, TokenTicket, bearer_header};
use groups_core::error::GroupsError;
use groups_core::transport::{Instant, Transport, TransportError, TransportErrorKind};
use http::HeaderValue;

// ------------------------------------------------------------------ executor

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Run a future to completion on this thread. Every simulated future is
/// ready or pending forever, so a pending poll without a wake-up is a bug in
/// the test (reported instead of hanging).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for _ in 0..10_000 {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(
            flag.0.swap(false, Ordering::SeqCst),
            "future is stuck: pending without a wake-up"
        );
    }
    panic!("future did not complete within 10000 polls");
}

// ------------------------------------------------------------------ transport

/// What the scripted transport does with the next request.
pub enum Step {
    /// Answer with this response.
    Respond(http::Response<Bytes>),
    /// Fail with a transport error of this kind.
    Fail(TransportErrorKind),
    /// Never answer (the deadline must end the call).
    Hang,
    /// Let simulated time pass, then do the inner step.
    Elapse(Duration, Box<Step>),
}

/// One request as the transport saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: http::Method,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

#[derive(Default)]
struct SimState {
    now: Instant,
    script: VecDeque<Step>,
    requests: Vec<Recorded>,
    sleeps: Vec<Instant>,
}

/// A transport on a simulated clock: `sleep_until` jumps the clock, `send`
/// records the request and plays the next scripted step.
#[derive(Clone, Default)]
pub struct SimTransport {
    state: Arc<Mutex<SimState>>,
}

impl SimTransport {
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        let t = SimTransport::default();
        t.state.lock().unwrap().script.extend(steps);
        t
    }
    pub fn push(&self, step: Step) {
        self.state.lock().unwrap().script.push_back(step);
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
    pub fn sleeps(&self) -> Vec<Instant> {
        self.state.lock().unwrap().sleeps.clone()
    }
    pub fn remaining_steps(&self) -> usize {
        self.state.lock().unwrap().script.len()
    }
    pub fn clock(&self) -> Instant {
        self.state.lock().unwrap().now
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Transport for SimTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        let mut st = self.state.lock().unwrap();
        let (parts, body) = request.into_parts();
        let at = st.now;
        st.requests.push(Recorded {
            method: parts.method,
            uri: parts.uri.to_string(),
            headers: parts.headers,
            body,
            at,
        });
        let mut step = st
            .script
            .pop_front()
            .expect("unexpected request: script exhausted");
        loop {
            match step {
                Step::Elapse(d, inner) => {
                    st.now = st.now + d;
                    step = *inner;
                }
                Step::Respond(r) => return Box::pin(std::future::ready(Ok(r))) as BoxFut<_>,
                Step::Fail(kind) => {
                    return Box::pin(std::future::ready(Err(TransportError::new(
                        kind,
                        "scripted failure",
                    ))));
                }
                Step::Hang => return Box::pin(std::future::pending()),
            }
        }
    }

    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        // Time passes only when the sleep is polled (like a real timer), so a
        // send that wins a race against the sleep does not move the clock.
        let state = Arc::clone(&self.state);
        std::future::poll_fn(move |_cx| {
            let mut st = state.lock().unwrap();
            st.sleeps.push(deadline);
            if deadline > st.now {
                st.now = deadline;
            }
            Poll::Ready(())
        })
    }

    fn now(&self) -> Instant {
        self.state.lock().unwrap().now
    }
}

// ------------------------------------------------------------------ responses

pub fn response(
    status: u16,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
) -> http::Response<Bytes> {
    let mut b = http::Response::builder().status(status);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.into()).unwrap()
}

pub fn json(status: u16, body: &str) -> http::Response<Bytes> {
    response(status, Some("application/json"), body.to_owned())
}

pub fn with_header(
    mut r: http::Response<Bytes>,
    name: &'static str,
    value: &str,
) -> http::Response<Bytes> {
    r.headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    r
}

pub fn respond(status: u16, body: &str) -> Step {
    Step::Respond(json(status, body))
}

// ------------------------------------------------------------------ fixtures

/// One of our own hand-written fixtures in `tests/fixtures` (issue 2: the
/// shared fixtures are never copied here).
pub fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A fixture of the groups-types crate.
pub fn types_fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../groups-types/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

pub fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

// ------------------------------------------------------------------ refreshable provider

/// A provider that fetches its token from a fake Auth endpoint through the
/// exchange (as refresh-token providers will), and invalidates on 401.
#[derive(Debug, Default)]
pub struct RefreshingProvider {
    state: Mutex<RefreshState>,
}

#[derive(Debug, Default)]
struct RefreshState {
    token: Option<String>,
    next_ticket: u64,
    in_flight: Option<u64>,
    pub fetches: u32,
    pub rejections: u32,
    pub abandoned: u32,
}

impl RefreshingProvider {
    pub fn with_token(token: &str) -> Self {
        let p = RefreshingProvider::default();
        p.state.lock().unwrap().token = Some(token.to_owned());
        p
    }
    pub fn fetches(&self) -> u32 {
        self.state.lock().unwrap().fetches
    }
    pub fn rejections(&self) -> u32 {
        self.state.lock().unwrap().rejections
    }
    pub fn abandoned(&self) -> u32 {
        self.state.lock().unwrap().abandoned
    }
    pub fn token_request_uri() -> &'static str {
        "https://auth.globus.org/v2/oauth2/token"
    }
}

impl TokenProvider for RefreshingProvider {
    fn poll_authorization(&self, now: Instant) -> AuthPoll {
        let mut st = self.state.lock().unwrap();
        if let Some(t) = &st.token {
            return AuthPoll::Ready(Some(bearer_header(t).unwrap()));
        }
        if st.in_flight.is_some() {
            return AuthPoll::WaitUntil(now + Duration::from_millis(10));
        }
        st.next_ticket += 1;
        let ticket = st.next_ticket;
        st.in_flight = Some(ticket);
        st.fetches += 1;
        let request = http::Request::post(Self::token_request_uri())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from_static(b"grant_type=refresh_token"))
            .unwrap();
        AuthPoll::Fetch {
            ticket: TokenTicket(ticket),
            request: Box::new(request),
        }
    }

    fn handle_token_response(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        _now: Instant,
    ) -> Result<(), GroupsError> {
        let mut st = self.state.lock().unwrap();
        assert_eq!(st.in_flight, Some(ticket.0));
        st.in_flight = None;
        let response = outcome.map_err(GroupsError::from)?;
        if !response.status().is_success() {
            return Err(GroupsError::Token(format!(
                "refresh failed with {}",
                response.status()
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        st.token = Some(v["access_token"].as_str().unwrap().to_owned());
        Ok(())
    }

    fn abandon_token_request(&self, ticket: TokenTicket) {
        let mut st = self.state.lock().unwrap();
        if st.in_flight == Some(ticket.0) {
            st.in_flight = None;
            st.abandoned += 1;
        }
    }

    fn handle_rejected(&self, rejected: Option<&HeaderValue>, _now: Instant) -> bool {
        let mut st = self.state.lock().unwrap();
        st.rejections += 1;
        let current = st.token.as_deref().map(|t| bearer_header(t).unwrap());
        if current.as_ref() == rejected {
            st.token = None;
        }
        true
    }
}
