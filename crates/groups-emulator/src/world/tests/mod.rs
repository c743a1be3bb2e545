//! Unit tests of the rules engine (no HTTP: requests go straight to `World`), one
//! module per area; the shared harness is here.

use groups_types::{GroupId, IdentityId};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::*;

mod auth;
mod batch;
mod groups;
mod limits;
mod lists;
mod prefs;
mod routing;
mod state;
mod subgroups;
mod subs;

pub(super) const NOW: &str = "2026-01-01T00:00:00+00:00";

pub(super) struct T {
    pub(super) w: World,
    pub(super) policy: Policy,
}

pub(super) fn id(n: u32) -> IdentityId {
    format!("00000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

impl T {
    pub(super) fn new() -> Self {
        T {
            w: World::new(),
            policy: Policy::default(),
        }
    }

    pub(super) fn caller(&self, token: &str) -> Caller {
        self.w
            .authenticate(Some(format!("Bearer {token}").as_bytes()), &self.policy)
            .unwrap()
    }

    pub(super) fn call(
        &mut self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> ApiResponse {
        let c = self.caller(who);
        self.call_as(&c, method, path, body)
    }

    pub(super) fn call_as(
        &mut self,
        c: &Caller,
        method: Method,
        path_q: &str,
        body: Option<Value>,
    ) -> ApiResponse {
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        self.raw_as(c, method, path_q, &body)
    }

    pub(super) fn raw_as(
        &mut self,
        c: &Caller,
        method: Method,
        path_q: &str,
        body: &[u8],
    ) -> ApiResponse {
        let (path, query) = match path_q.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_q, None),
        };
        let headers = HeaderMap::new();
        let req = ApiRequest {
            method: &method,
            path,
            query,
            headers: &headers,
            body,
        };
        let r = self.w.handle(c, &req, NOW, &self.policy);
        assert!(
            r.status.as_u16() < 500,
            "5xx for {method} {path_q}: {}",
            String::from_utf8_lossy(&r.body)
        );
        // every answer is JSON
        assert!(serde_json::from_slice::<Value>(&r.body).is_ok());
        self.w.check_invariants().unwrap();
        r
    }

    pub(super) fn create(&mut self, who: &str, body: Value) -> GroupId {
        let r = self.call(who, Method::POST, "/v2/groups", Some(body));
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
        r.json()["id"].as_str().unwrap().parse().unwrap()
    }

    pub(super) fn batch(&mut self, who: &str, g: GroupId, body: Value) -> ApiResponse {
        self.call(who, Method::POST, &format!("/v2/groups/{g}"), Some(body))
    }

    pub(super) fn get(&mut self, who: &str, path: &str) -> ApiResponse {
        self.call(who, Method::GET, path, None)
    }

    pub(super) fn me(&self, token: &str) -> IdentityId {
        self.caller(token).primary
    }

    pub(super) fn status_of(&self, g: GroupId, who: IdentityId) -> Option<String> {
        let doc = self.w.group(g)?;
        doc.membership_list()
            .iter()
            .find(|m| m.identity_id == who)
            .map(|m| m.status.as_str().to_owned())
    }
}

pub(super) fn err_code(r: &ApiResponse, verb: &str) -> Option<String> {
    r.json()["errors"][verb][0]["code"]
        .as_str()
        .map(str::to_owned)
}

/// alice creates a private group; bob is added as member, carol as manager.
pub(super) fn setup() -> (T, GroupId) {
    let mut t = T::new();
    let g = t.create("alice", json!({"name": "G"}));
    let bob = t.me("bob");
    let carol = t.me("carol");
    let r = t.batch(
        "alice",
        g,
        json!({"add": [{"identity_id": bob, "role": "member"}, {"identity_id": carol, "role": "manager"}]}),
    );
    assert_eq!(r.status, 200);
    assert!(r.json().get("errors").is_none(), "{}", r.json());
    (t, g)
}
