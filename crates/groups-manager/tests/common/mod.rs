//! Test helpers over the core's shared test support: a JSON view of the
//! requests, reply helpers, and a small in-memory Groups roster that
//! answers `GET ?include=memberships` and the batch call.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use groups_core::{AccessTokenProvider, ClientConfig, GroupsClient};
use groups_manager::GroupsManager;
use groups_types::{GroupId, IdentityId};
use serde_json::{Value, json};

// The executor and the scripted transport are the core's shared test
// support; this file adds a JSON view of requests and a small roster.
pub use groups_core::test_util::{ScriptedTransport as Scripted, block_on};
use groups_core::test_util::{Step, json as json_response, with_header};

/// One request as these tests look at it: method, path and query, JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/v2/groups/<id>?include=memberships`.
    pub path: String,
    pub body: Option<Value>,
}

impl From<&groups_core::test_util::Recorded> for Recorded {
    fn from(r: &groups_core::test_util::Recorded) -> Self {
        Recorded {
            method: r.method.to_string(),
            path: r.path().to_owned(),
            body: r.body_json(),
        }
    }
}

/// A reply: status and JSON body.
pub type Reply = (u16, Value);

fn reply_step((status, body): Reply) -> Step {
    let response = json_response(status, &body.to_string());
    // A throttled or unavailable answer asks for a short wait.
    if status == 503 || status == 429 {
        Step::Respond(with_header(response, "retry-after", "1"))
    } else {
        Step::Respond(response)
    }
}

/// A transport answering every request through `responder`.
pub fn scripted(responder: impl Fn(&Recorded) -> Reply + Send + 'static) -> Scripted {
    Scripted::responder(move |r| reply_step(responder(&Recorded::from(r))))
}

/// A transport answering with `replies` in order; any further request
/// fails the test.
pub fn queue(replies: Vec<Reply>) -> Scripted {
    Scripted::new(replies.into_iter().map(reply_step))
}

/// Every request the manager's transport saw, in order.
pub fn requests(m: &GroupsManager<Scripted>) -> Vec<Recorded> {
    transport(m).requests().iter().map(Recorded::from).collect()
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
    manager(scripted(move |r| Roster::answer(&roster, r)))
}
