//! Test helpers: a tiny executor, a scripted transport on a simulated clock
//! that records every request, and a small in-memory Groups roster that
//! answers `GET ?include=memberships` and the batch call.
#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use groups_core::{
    AccessTokenProvider, ClientConfig, GroupsClient, Instant, Transport, TransportError,
};
use groups_manager::GroupsManager;
use groups_types::{GroupId, IdentityId};
use serde_json::{Value, json};

// ------------------------------------------------------------------ executor

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Run a future to completion on this thread. A pending poll without a
/// wake-up is a bug (reported instead of hanging); polls are bounded.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for _ in 0..1_000_000 {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(
            flag.0.swap(false, Ordering::SeqCst),
            "future is stuck: pending without a wake-up"
        );
    }
    panic!("future did not complete within the poll limit");
}

/// Pending once (waking itself), then ready: lets several requests be in
/// flight at the same time.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

// ------------------------------------------------------------------ transport

/// One request as the transport saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/v2/groups/<id>?include=memberships`.
    pub path: String,
    pub body: Option<Value>,
}

/// A reply: status and JSON body.
pub type Reply = (u16, Value);

type Responder = Box<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    clock: Duration,
    in_flight: usize,
    max_in_flight: usize,
}

/// A transport answering through a closure, recording every request.
pub struct Scripted {
    responder: Responder,
    yield_once: bool,
    state: Mutex<State>,
}

impl Scripted {
    /// Answer with `responder`.
    pub fn new(responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Scripted {
            responder: Box::new(responder),
            yield_once: false,
            state: Mutex::new(State::default()),
        }
    }

    /// Answer with these replies in order; any further request fails the
    /// test.
    pub fn queue(replies: Vec<Reply>) -> Self {
        let queue = Mutex::new(VecDeque::from(replies));
        Scripted::new(move |r| {
            queue
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| panic!("unexpected request {} {}", r.method, r.path))
        })
    }

    /// Make every `send` pending once before answering.
    pub fn yielding(mut self) -> Self {
        self.yield_once = true;
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }
}

impl Transport for Scripted {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        let body = if request.body().is_empty() {
            None
        } else {
            Some(serde_json::from_slice(request.body()).expect("request body is JSON"))
        };
        let recorded = Recorded {
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            body,
        };
        let (status, body) = (self.responder)(&recorded);
        {
            let mut s = self.state.lock().unwrap();
            s.requests.push(recorded);
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        }
        let yield_once = self.yield_once;
        async move {
            YieldOnce(!yield_once).await;
            self.state.lock().unwrap().in_flight -= 1;
            let mut b = http::Response::builder()
                .status(status)
                .header("content-type", "application/json");
            if status == 503 || status == 429 {
                b = b.header("retry-after", "1");
            }
            Ok(b.body(Bytes::from(serde_json::to_vec(&body).unwrap()))
                .unwrap())
        }
    }

    /// Simulated time: the clock jumps to `deadline` once no request is in
    /// flight (a pending answer always comes before a timer).
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + Send {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.lock().unwrap();
            let target = deadline.elapsed_since_origin();
            if s.clock >= target {
                return Poll::Ready(());
            }
            if s.in_flight == 0 {
                s.clock = target;
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    }

    fn now(&self) -> Instant {
        Instant::from_elapsed(self.state.lock().unwrap().clock)
    }
}

/// A manager over `transport` with a fixed token and jitter seed.
pub fn manager(transport: Scripted) -> GroupsManager<Scripted> {
    let config = ClientConfig::default().with_jitter_seed(7);
    let client = GroupsClient::new(
        transport,
        config,
        AccessTokenProvider::new("test-token").unwrap(),
    );
    GroupsManager::new(client)
}

/// The transport inside a manager.
pub fn transport(m: &GroupsManager<Scripted>) -> &Scripted {
    m.client().transport()
}

// ------------------------------------------------------------------ data

pub const GROUP: &str = "d3974728-6458-11e4-b72d-123139141556";

pub fn gid() -> GroupId {
    GROUP.parse().unwrap()
}

/// A deterministic identity id for `n`.
pub fn iid(n: u64) -> IdentityId {
    format!("00000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

pub fn membership(id: IdentityId, role: &str, status: &str) -> Value {
    json!({
        "group_id": GROUP,
        "identity_id": id.to_string(),
        "username": format!("user-{id}@example.org"),
        "role": role,
        "status": status,
    })
}

/// Answer a batch body by echoing every item as a success (role from the
/// item or `member`; status by verb).
pub fn echo_batch(body: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (verb, items) in body.as_object().unwrap() {
        let status = status_after(verb);
        let list: Vec<Value> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let id: IdentityId = item["identity_id"].as_str().unwrap().parse().unwrap();
                let role = item["role"].as_str().unwrap_or("member");
                membership(id, role, status)
            })
            .collect();
        out.insert(verb.clone(), Value::Array(list));
    }
    Value::Object(out)
}

fn status_after(verb: &str) -> &'static str {
    match verb {
        "invite" => "invited",
        "decline" => "declined",
        "leave" => "left",
        "reject" => "rejected",
        "remove" => "removed",
        "request_join" => "pending",
        _ => "active",
    }
}

// ------------------------------------------------------------------ roster

/// A tiny Groups roster: enough of the service to run syncs against.
#[derive(Default)]
pub struct Roster {
    /// identity -> (role, status), with insertion order kept separately.
    pub members: HashMap<IdentityId, (String, String)>,
    pub order: Vec<IdentityId>,
    /// The caller's own identities.
    pub me: Vec<IdentityId>,
    /// Identities `add` refuses (code `NOT_ALLOWED`).
    pub refuse_add: std::collections::HashSet<IdentityId>,
}

impl Roster {
    pub fn set(&mut self, id: IdentityId, role: &str, status: &str) {
        if !self.members.contains_key(&id) {
            self.order.push(id);
        }
        self.members
            .insert(id, (role.to_owned(), status.to_owned()));
    }

    fn doc(&self) -> Value {
        let ms: Vec<Value> = self
            .order
            .iter()
            .map(|id| {
                let (role, status) = &self.members[id];
                membership(*id, role, status)
            })
            .collect();
        let mine: Vec<Value> = ms
            .iter()
            .filter(|m| {
                let id: IdentityId = m["identity_id"].as_str().unwrap().parse().unwrap();
                self.me.contains(&id)
            })
            .cloned()
            .collect();
        json!({"id": GROUP, "name": "roster", "parent_id": null,
               "memberships": ms, "my_memberships": mine})
    }

    fn apply(&mut self, body: &Value) -> Value {
        let mut out = serde_json::Map::new();
        let mut errors = serde_json::Map::new();
        for (verb, items) in body.as_object().unwrap() {
            let mut ok = Vec::new();
            let mut bad = Vec::new();
            for item in items.as_array().unwrap() {
                let id: IdentityId = item["identity_id"].as_str().unwrap().parse().unwrap();
                let role = item["role"].as_str().unwrap_or("member").to_owned();
                let cur = self.members.get(&id).cloned();
                let status = cur.as_ref().map(|c| c.1.as_str()).unwrap_or("none");
                let next: Result<(String, String), &str> = match verb.as_str() {
                    "add" if self.refuse_add.contains(&id) => Err("NOT_ALLOWED"),
                    "add" if status == "active" => Err("ALREADY_ACTIVE"),
                    "add" => Ok((role, "active".into())),
                    "invite" if status == "active" => Err("ALREADY_ACTIVE"),
                    "invite" => Ok((role, "invited".into())),
                    "approve" if status == "pending" => {
                        Ok((cur.clone().unwrap().0, "active".into()))
                    }
                    "reject" if status == "pending" => {
                        Ok((cur.clone().unwrap().0, "rejected".into()))
                    }
                    "change_role" if status == "active" => Ok((role, "active".into())),
                    "remove" if status == "active" || status == "invited" => {
                        Ok((cur.clone().unwrap().0, "removed".into()))
                    }
                    _ => Err("INVALID_STATE"),
                };
                match next {
                    Ok((role, status)) => {
                        self.set(id, &role, &status);
                        ok.push(membership(id, &role, &status));
                    }
                    Err(code) => bad.push(json!({
                        "identity_id": id.to_string(), "code": code, "detail": format!("{verb} refused"),
                    })),
                }
            }
            out.insert(verb.clone(), Value::Array(ok));
            if !bad.is_empty() {
                errors.insert(verb.clone(), Value::Array(bad));
            }
        }
        if !errors.is_empty() {
            out.insert("errors".into(), Value::Object(errors));
        }
        Value::Object(out)
    }

    /// Answer one request against the shared roster.
    pub fn answer(roster: &Mutex<Roster>, r: &Recorded) -> Reply {
        let mut roster = roster.lock().unwrap();
        match r.method.as_str() {
            "GET" => (200, roster.doc()),
            "POST" => (200, roster.apply(r.body.as_ref().unwrap())),
            other => panic!("unexpected {other} {}", r.path),
        }
    }
}

/// A manager talking to `roster`.
pub fn roster_manager(roster: Arc<Mutex<Roster>>) -> GroupsManager<Scripted> {
    manager(Scripted::new(move |r| Roster::answer(&roster, r)))
}
