//! Unit tests of the rules engine (no HTTP: requests go straight to `World`).

use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use super::*;

const NOW: &str = "2026-01-01T00:00:00+00:00";

struct T {
    w: World,
    policy: Policy,
}

fn id(n: u32) -> IdentityId {
    format!("00000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

impl T {
    fn new() -> Self {
        T {
            w: World::new(),
            policy: Policy::default(),
        }
    }

    fn caller(&self, token: &str) -> Caller {
        self.w
            .authenticate(Some(format!("Bearer {token}").as_bytes()), &self.policy)
            .unwrap()
    }

    fn call(&mut self, who: &str, method: Method, path: &str, body: Option<Value>) -> ApiResponse {
        let c = self.caller(who);
        self.call_as(&c, method, path, body)
    }

    fn call_as(
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

    fn raw_as(&mut self, c: &Caller, method: Method, path_q: &str, body: &[u8]) -> ApiResponse {
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

    fn create(&mut self, who: &str, body: Value) -> GroupId {
        let r = self.call(who, Method::POST, "/v2/groups", Some(body));
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
        r.json()["id"].as_str().unwrap().parse().unwrap()
    }

    fn batch(&mut self, who: &str, g: GroupId, body: Value) -> ApiResponse {
        self.call(who, Method::POST, &format!("/v2/groups/{g}"), Some(body))
    }

    fn get(&mut self, who: &str, path: &str) -> ApiResponse {
        self.call(who, Method::GET, path, None)
    }

    fn me(&self, token: &str) -> IdentityId {
        self.caller(token).primary
    }

    fn status_of(&self, g: GroupId, who: IdentityId) -> Option<String> {
        let doc = self.w.group(g)?;
        doc.membership_list()
            .iter()
            .find(|m| m.identity_id == who)
            .map(|m| m.status.as_str().to_owned())
    }
}

fn err_code(r: &ApiResponse, verb: &str) -> Option<String> {
    r.json()["errors"][verb][0]["code"]
        .as_str()
        .map(str::to_owned)
}

/// alice creates a private group; bob is added as member, carol as manager.
fn setup() -> (T, GroupId) {
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

// ---------------------------------------------------------------- routing

#[test]
fn routes_fixed_paths_before_group_ids_and_404_for_bad_ids() {
    let mut t = T::new();
    assert_eq!(t.get("a", "/v2/groups/my_groups").status, 200);
    assert_eq!(t.get("a", "/v2/groups/statuses").status, 200);
    let r = t.get("a", "/v2/groups/not-a-uuid");
    assert_eq!(r.status, 404);
    assert_eq!(r.code().as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        t.get("a", "/v2/groups/00000000-0000-4000-8000-000000000009")
            .status,
        404
    );
    assert_eq!(t.get("a", "/v2/nothing").status, 404);
    assert_eq!(t.get("a", "/v2/groups/x/unknown").status, 404);
    assert_eq!(t.get("a", "/v2/subscription_info/zzz").status, 404);
    assert_eq!(t.get("a", "/").status, 404);
}

#[test]
fn wrong_method_is_405_with_json_and_allow_header() {
    let mut t = T::new();
    let r = t.call("a", Method::DELETE, "/v2/groups/my_groups", None);
    assert_eq!(r.status, 405);
    assert_eq!(r.code().as_deref(), Some("METHOD_NOT_ALLOWED"));
    assert!(r.headers.iter().any(|(k, v)| k == "allow" && v == "GET"));
    assert_eq!(t.get("a", "/v2/groups").status, 405);
    assert_eq!(
        t.call("a", Method::PATCH, "/v2/preferences", None).status,
        405
    );
    let c = t.caller("a");
    let headers = HeaderMap::new();
    let req = ApiRequest {
        method: &Method::POST,
        path: "/v2/groups",
        query: None,
        headers: &headers,
        body: b"{}",
    };
    // handle_read with a write is a wiring error, reported (not a panic)
    assert_eq!(t.w.handle_read(&c, &req, NOW, &t.policy).status, 500);
}

// ---------------------------------------------------------------- auth

#[test]
fn authentication_errors_and_default_identities() {
    let t = T::new();
    let p = Policy::default();
    for bad in [
        None,
        Some(&b"Basic abc"[..]),
        Some(b"Bearer"),
        Some(b"Bearer  "),
        Some(b"\xff\xfe"),
    ] {
        let e = t.w.authenticate(bad, &p).unwrap_err();
        assert_eq!(e.status, 401);
        assert_eq!(e.code().as_deref(), Some("AUTHENTICATION_ERROR"));
        assert!(e.json()["authorization_parameters"].is_object());
    }
    let a1 = t.w.authenticate(Some(b"Bearer tok"), &p).unwrap();
    let a2 = t.w.authenticate(Some(b"bearer tok"), &p).unwrap();
    assert_eq!(a1, a2);
    assert_eq!(a1.primary, default_identity_for_token("tok"));
    assert!(t.w.username(&a1.primary).starts_with("user-"));
    assert!(a1.scopes.contains(&SCOPE_ALL.to_owned()));
    let strict = Policy {
        strict_tokens: true,
        ..Policy::default()
    };
    let e = t.w.authenticate(Some(b"Bearer tok"), &strict).unwrap_err();
    assert_eq!(e.code().as_deref(), Some("INVALID_TOKEN"));
}

#[test]
fn seeded_tokens_map_to_identity_sets() {
    let mut t = T::new();
    let seed: Seed = serde_json::from_value(json!({
        "identities": [{"id": id(1), "username": "alice@x.org", "linked": [id(2)]},
                       {"id": id(3), "linked": [id(2)]}],
        "tokens": [{"token": "alice", "identity": id(1)}]
    }))
    .unwrap();
    t.w.load_seed(seed).unwrap();
    t.policy.strict_tokens = true;
    let c = t.caller("alice");
    assert_eq!(c.primary, id(1));
    assert_eq!(c.identities, vec![id(1), id(2), id(3)]);
    assert_eq!(t.w.username(&id(1)), "alice@x.org");
    assert!(format!("{:?}", t.w).find("alice").is_none());
}

// ---------------------------------------------------------------- create / get

#[test]
fn create_applies_defaults_and_makes_creator_admin() {
    let mut t = T::new();
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "G", "description": "d"})),
    );
    assert_eq!(r.status, 201);
    let doc = r.json();
    assert_eq!(doc["group_type"], "regular");
    assert_eq!(doc["parent_id"], Value::Null);
    assert_eq!(doc["enforce_session"], false);
    assert_eq!(doc["session_limit"], 28800);
    assert_eq!(doc["session_timeouts"], json!({}));
    let me = &doc["my_memberships"][0];
    assert_eq!(me["role"], "admin");
    assert_eq!(me["status"], "active");
    assert_eq!(me["identity_id"], json!(t.me("alice")));
    let g = doc["id"].as_str().unwrap();
    let p = t.get("alice", &format!("/v2/groups/{g}/policies")).json();
    assert_eq!(
        p,
        json!({"is_high_assurance": false, "authentication_assurance_timeout": 28800,
               "group_visibility": "private", "group_members_visibility": "managers",
               "join_requests": false, "signup_fields": []})
    );
    // include=policies gives all six keys; without it the two visibility keys
    let full = t
        .get("alice", &format!("/v2/groups/{g}?include=policies"))
        .json();
    assert_eq!(full["policies"], p);
    let short = t.get("alice", &format!("/v2/groups/{g}")).json();
    assert_eq!(short["policies"].as_object().unwrap().len(), 2);
    assert!(short.get("my_memberships").is_none());
}

#[test]
fn create_with_policies_applies_them_over_defaults() {
    let mut t = T::new();
    let g = t.create(
        "alice",
        json!({"name": "G", "policies": {"group_visibility": "authenticated", "is_high_assurance": true, "authentication_assurance_timeout": 600}}),
    );
    let p = t.get("alice", &format!("/v2/groups/{g}/policies")).json();
    assert_eq!(p["group_visibility"], "authenticated");
    assert_eq!(p["group_members_visibility"], "managers");
    assert_eq!(p["is_high_assurance"], true);
    let d = t.get("bob", &format!("/v2/groups/{g}")).json();
    assert_eq!(d["enforce_session"], true);
    assert_eq!(d["session_limit"], 600);
}

#[test]
fn create_validation_errors_are_422_lists() {
    let mut t = T::new();
    let c = t.caller("alice");
    let r = t.call_as(
        &c,
        Method::POST,
        "/v2/groups",
        Some(json!({"description": "x"})),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["detail"][0],
        json!({"type": "missing", "loc": ["body", "name"], "msg": "Field required", "input": {"description": "x"}})
    );
    let r = t.call_as(
        &c,
        Method::POST,
        "/v2/groups",
        Some(json!({"name": 5, "parent_id": "nope"})),
    );
    assert_eq!(r.status, 422);
    let d = r.json()["detail"].clone();
    assert_eq!(d[0]["type"], "string_type");
    assert_eq!(d[1]["loc"], json!(["body", "parent_id"]));
    let r = t.raw_as(&c, Method::POST, "/v2/groups", b"{\"name\": ");
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["detail"][0]["type"], "json_invalid");
    let r = t.raw_as(&c, Method::POST, "/v2/groups", b"");
    assert_eq!(r.json()["detail"][0]["loc"], json!(["body"]));
    let r = t.raw_as(&c, Method::POST, "/v2/groups", b"[1]");
    assert_eq!(r.json()["detail"][0]["type"], "model_attributes_type");
    let r = t.call_as(
        &c,
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "x", "policies": {"bogus": 1}})),
    );
    assert_eq!(r.json()["detail"][0]["type"], "extra_forbidden");
    assert!(t.w.group_ids().is_empty());
}

#[test]
fn private_group_visibility_across_identities() {
    let (mut t, g) = setup();
    let path = format!("/v2/groups/{g}");
    assert_eq!(t.get("alice", &path).status, 200);
    assert_eq!(t.get("bob", &path).status, 200);
    let r = t.get("mallory", &path);
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("GROUP_NOT_VISIBLE"));
    // invited grants visibility
    let dave = t.me("dave");
    t.batch("alice", g, json!({"invite": [{"identity_id": dave}]}));
    assert_eq!(t.get("dave", &path).status, 200);
    // left does not
    let bob = t.me("bob");
    t.batch("bob", g, json!({"leave": [{"identity_id": bob}]}));
    assert_eq!(t.get("bob", &path).status, 403);
    // authenticated groups are visible to everyone
    t.call(
        "alice",
        Method::PUT,
        &format!("{path}/policies"),
        Some(json!({"group_visibility": "authenticated"})),
    );
    assert_eq!(t.get("mallory", &path).status, 200);
}

#[test]
fn membership_list_visibility_follows_policy() {
    let (mut t, g) = setup();
    let path = format!("/v2/groups/{g}?include=memberships,my_memberships");
    let admin = t.get("alice", &path).json();
    assert_eq!(admin["memberships"].as_array().unwrap().len(), 3);
    let manager = t.get("carol", &path).json();
    assert_eq!(manager["memberships"].as_array().unwrap().len(), 3);
    let member = t.get("bob", &path).json();
    assert!(member.get("memberships").is_none());
    assert_eq!(
        member["my_memberships"][0]["identity_id"],
        json!(t.me("bob"))
    );
    t.call(
        "alice",
        Method::PUT,
        &format!("/v2/groups/{g}/policies"),
        Some(json!({"group_members_visibility": "members"})),
    );
    let member = t.get("bob", &path).json();
    assert_eq!(member["memberships"].as_array().unwrap().len(), 3);
    // repeated include parameters and encoded commas work too
    let r = t.get(
        "bob",
        &format!("/v2/groups/{g}?include=memberships&include=child_ids%2Cpolicies"),
    );
    assert!(r.json()["child_ids"].is_array());
    assert_eq!(r.json()["policies"].as_object().unwrap().len(), 6);
    let r = t.get("bob", &format!("/v2/groups/{g}?include=bogus"));
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["detail"][0]["loc"], json!(["query", "include", 0]));
}

#[test]
fn allowed_actions_is_an_object_of_identity_lists() {
    let (mut t, g) = setup();
    let a = t
        .get("alice", &format!("/v2/groups/{g}?include=allowed_actions"))
        .json()["allowed_actions"]
        .clone();
    let obj = a.as_object().unwrap();
    assert_eq!(obj.len(), 11);
    let alice = json!([t.me("alice")]);
    assert_eq!(a["change_role"], alice);
    assert_eq!(a["add"], alice);
    assert_eq!(a["leave"], alice);
    assert_eq!(a["accept"], json!([]));
    let c = t
        .get("carol", &format!("/v2/groups/{g}?include=allowed_actions"))
        .json()["allowed_actions"]
        .clone();
    assert_eq!(c["change_role"], json!([]));
    assert_eq!(c["remove"], json!([t.me("carol")]));
}

// ---------------------------------------------------------------- batch verbs

#[test]
fn add_rules() {
    let (mut t, g) = setup();
    let bob = t.me("bob");
    // already active: reported, nothing changed
    let r = t.batch("alice", g, json!({"add": [{"identity_id": bob}]}));
    assert_eq!(
        r.json(),
        json!({"add": [], "errors": {"add": [{"identity_id": bob, "code": "ALREADY_ACTIVE", "detail": "The identity is already an active member of the group."}]}})
    );
    // manager may add members, not managers/admins
    let r = t.batch("carol", g, json!({"add": [{"identity_id": id(10), "role": "member"}, {"identity_id": id(11), "role": "admin"}]}));
    assert_eq!(r.json()["add"][0]["status"], "active");
    assert_eq!(err_code(&r, "add").as_deref(), Some("ADMIN_REQUIRED"));
    // a member may not add at all: whole request 403, nothing changed
    let generation = t.w.generation();
    let r = t.batch("bob", g, json!({"add": [{"identity_id": id(12)}]}));
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("FORBIDDEN"));
    assert!(r.json()["provided_scopes"].is_array());
    assert_eq!(t.w.generation(), generation);
    // previously left
    t.batch("bob", g, json!({"leave": [{"identity_id": bob}]}));
    let r = t.batch("alice", g, json!({"add": [{"identity_id": bob}]}));
    assert_eq!(err_code(&r, "add").as_deref(), Some("PREVIOUSLY_LEFT"));
    // but may be invited back
    let r = t.batch("alice", g, json!({"invite": [{"identity_id": bob}]}));
    assert_eq!(r.json()["invite"][0]["status"], "invited");
    // allow_add false
    t.w.set_allow_add(id(13), Some(false));
    let r = t.batch("alice", g, json!({"add": [{"identity_id": id(13)}]}));
    assert_eq!(err_code(&r, "add").as_deref(), Some("ADD_NOT_ALLOWED"));
    // role null means member
    let r = t.batch(
        "alice",
        g,
        json!({"add": [{"identity_id": id(14), "role": null}]}),
    );
    assert_eq!(r.json()["add"][0]["role"], "member");
    assert_eq!(r.json()["add"][0]["username"], default_username(&id(14)));
}

#[test]
fn strict_identities_refuse_unknown_ids() {
    let (mut t, g) = setup();
    t.policy.strict_identities = true;
    let r = t.batch(
        "alice",
        g,
        json!({"add": [{"identity_id": id(20)}], "invite": [{"identity_id": id(21)}]}),
    );
    assert_eq!(err_code(&r, "add").as_deref(), Some("UNKNOWN_IDENTITY"));
    assert_eq!(err_code(&r, "invite").as_deref(), Some("UNKNOWN_IDENTITY"));
    let known = t.w.add_identity("zed@example.org");
    let r = t.batch("alice", g, json!({"add": [{"identity_id": known}]}));
    assert_eq!(r.json()["add"][0]["username"], "zed@example.org");
}

#[test]
fn invite_accept_decline() {
    let (mut t, g) = setup();
    let dave = t.me("dave");
    let erin = t.me("erin");
    let r = t.batch(
        "alice",
        g,
        json!({"invite": [{"identity_id": dave, "role": "manager", "invite_email_address": "d@x.org"}, {"identity_id": erin}]}),
    );
    let inv = &r.json()["invite"];
    assert_eq!(inv[0]["status"], "invited");
    assert_eq!(inv[0]["role"], "manager");
    assert_eq!(inv[0]["invite_email_address"], "d@x.org");
    assert_eq!(inv[0]["invite_time"], NOW);
    // only the invitee may accept
    let r = t.batch("erin", g, json!({"accept": [{"identity_id": dave}]}));
    assert_eq!(err_code(&r, "accept").as_deref(), Some("NOT_OWN_IDENTITY"));
    let r = t.batch("dave", g, json!({"accept": [{"identity_id": dave}]}));
    assert_eq!(r.json()["accept"][0]["status"], "active");
    assert_eq!(r.json()["accept"][0]["role"], "manager");
    let r = t.batch("erin", g, json!({"decline": [{"identity_id": erin}]}));
    assert_eq!(r.json()["decline"][0]["status"], "declined");
    // declined no longer grants visibility of the private group
    let r = t.batch("erin", g, json!({"accept": [{"identity_id": erin}]}));
    assert_eq!(r.code().as_deref(), Some("GROUP_NOT_VISIBLE"));
    let bob = t.me("bob");
    let r = t.batch("bob", g, json!({"accept": [{"identity_id": bob}]}));
    assert_eq!(err_code(&r, "accept").as_deref(), Some("NOT_INVITED"));
    // invite of an active member
    let r = t.batch("alice", g, json!({"invite": [{"identity_id": dave}]}));
    assert_eq!(err_code(&r, "invite").as_deref(), Some("ALREADY_ACTIVE"));
    // manager cannot invite as admin
    let r = t.batch(
        "carol",
        g,
        json!({"invite": [{"identity_id": id(30), "role": "admin"}]}),
    );
    assert_eq!(err_code(&r, "invite").as_deref(), Some("ADMIN_REQUIRED"));
}

#[test]
fn request_join_approve_reject() {
    let (mut t, g) = setup();
    let dave = t.me("dave");
    let erin = t.me("erin");
    // join requests off (private group: a pure request_join still reaches the rule)
    let r = t.batch("dave", g, json!({"request_join": [{"identity_id": dave}]}));
    assert_eq!(r.status, 200);
    assert_eq!(
        err_code(&r, "request_join").as_deref(),
        Some("JOIN_REQUESTS_DISABLED")
    );
    t.call(
        "alice",
        Method::PUT,
        &format!("/v2/groups/{g}/policies"),
        Some(json!({"join_requests": true})),
    );
    let r = t.batch("dave", g, json!({"request_join": [{"identity_id": dave}]}));
    assert_eq!(r.json()["request_join"][0]["status"], "pending");
    let r = t.batch("dave", g, json!({"request_join": [{"identity_id": dave}]}));
    assert_eq!(
        err_code(&r, "request_join").as_deref(),
        Some("ALREADY_PENDING")
    );
    t.batch("erin", g, json!({"request_join": [{"identity_id": erin}]}));
    // a member cannot approve
    assert_eq!(
        t.batch("bob", g, json!({"approve": [{"identity_id": dave}]}))
            .status,
        403
    );
    let r = t.batch(
        "carol",
        g,
        json!({"approve": [{"identity_id": dave}], "reject": [{"identity_id": erin}]}),
    );
    assert_eq!(r.json()["approve"][0]["status"], "active");
    assert_eq!(r.json()["reject"][0]["status"], "rejected");
    let r = t.batch("carol", g, json!({"approve": [{"identity_id": erin}]}));
    assert_eq!(err_code(&r, "approve").as_deref(), Some("NOT_PENDING"));
    let r = t.batch("carol", g, json!({"reject": [{"identity_id": id(40)}]}));
    assert_eq!(err_code(&r, "reject").as_deref(), Some("NO_MEMBERSHIP"));
}

#[test]
fn join_needs_authenticated_visibility_and_no_high_assurance() {
    let mut t = T::new();
    let open = t.create(
        "alice",
        json!({"name": "open", "policies": {"group_visibility": "authenticated"}}),
    );
    let ha = t.create("alice", json!({"name": "ha", "policies": {"group_visibility": "authenticated", "is_high_assurance": true}}));
    let private = t.create("alice", json!({"name": "p"}));
    let bob = t.me("bob");
    let r = t.batch("bob", open, json!({"join": [{"identity_id": bob}]}));
    assert_eq!(r.json()["join"][0]["status"], "active");
    assert_eq!(r.json()["join"][0]["role"], "member");
    let r = t.batch("bob", open, json!({"join": [{"identity_id": bob}]}));
    assert_eq!(err_code(&r, "join").as_deref(), Some("ALREADY_ACTIVE"));
    let r = t.batch("bob", ha, json!({"join": [{"identity_id": bob}]}));
    assert_eq!(err_code(&r, "join").as_deref(), Some("HIGH_ASSURANCE"));
    // a private group is not even visible to bob
    assert_eq!(
        t.batch("bob", private, json!({"join": [{"identity_id": bob}]}))
            .status,
        403
    );
    let c = t.me("carol");
    t.batch("alice", private, json!({"invite": [{"identity_id": c}]}));
    let r = t.batch("carol", private, json!({"join": [{"identity_id": c}]}));
    assert_eq!(err_code(&r, "join").as_deref(), Some("JOIN_NOT_ALLOWED"));
}

#[test]
fn last_admin_guard_on_leave_and_demotion() {
    let (mut t, g) = setup();
    let alice = t.me("alice");
    let r = t.batch("alice", g, json!({"leave": [{"identity_id": alice}]}));
    assert_eq!(err_code(&r, "leave").as_deref(), Some("LAST_ADMIN"));
    let r = t.batch(
        "alice",
        g,
        json!({"change_role": [{"identity_id": alice, "role": "member"}]}),
    );
    assert_eq!(err_code(&r, "change_role").as_deref(), Some("LAST_ADMIN"));
    // with a second admin (added in the same batch: add runs before leave) leaving works
    let bob = t.me("bob");
    let r = t.batch(
        "alice",
        g,
        json!({"leave": [{"identity_id": alice}], "change_role": [{"identity_id": bob, "role": "admin"}]}),
    );
    assert!(r.json().get("errors").is_none(), "{}", r.json());
    assert_eq!(r.json()["leave"][0]["status"], "left");
    assert_eq!(t.status_of(g, alice).as_deref(), Some("left"));
}

#[test]
fn change_role_rules() {
    let (mut t, g) = setup();
    let bob = t.me("bob");
    // managers may not change roles (D10): whole request 403
    let r = t.batch(
        "carol",
        g,
        json!({"change_role": [{"identity_id": bob, "role": "manager"}]}),
    );
    assert_eq!(r.status, 403);
    let r = t.batch(
        "alice",
        g,
        json!({"change_role": [{"role": "manager", "identity_id": bob}]}),
    );
    assert_eq!(r.json()["change_role"][0]["role"], "manager");
    assert_eq!(r.json()["change_role"][0]["status"], "active");
    let dave = t.me("dave");
    t.batch("alice", g, json!({"invite": [{"identity_id": dave}]}));
    let r = t.batch(
        "alice",
        g,
        json!({"change_role": [{"identity_id": dave, "role": "admin"}]}),
    );
    assert_eq!(err_code(&r, "change_role").as_deref(), Some("NOT_ACTIVE"));
    let r = t.batch(
        "alice",
        g,
        json!({"change_role": [{"identity_id": id(50)}]}),
    );
    assert_eq!(
        err_code(&r, "change_role").as_deref(),
        Some("NO_MEMBERSHIP")
    );
}

#[test]
fn remove_rules() {
    let (mut t, g) = setup();
    let (alice, bob, carol, dave) = (t.me("alice"), t.me("bob"), t.me("carol"), t.me("dave"));
    t.batch("alice", g, json!({"invite": [{"identity_id": dave}]}));
    let r = t.batch("carol", g, json!({"remove": [{"identity_id": bob}, {"identity_id": dave}, {"identity_id": alice}, {"identity_id": carol}, {"identity_id": id(60)}]}));
    let j = r.json();
    assert_eq!(j["remove"].as_array().unwrap().len(), 2);
    assert_eq!(j["remove"][0]["status"], "removed");
    let codes: Vec<&str> = j["errors"]["remove"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["ADMIN_REQUIRED", "CANNOT_REMOVE_SELF", "NO_MEMBERSHIP"]
    );
    let r = t.batch("alice", g, json!({"remove": [{"identity_id": bob}]}));
    assert_eq!(err_code(&r, "remove").as_deref(), Some("NOT_REMOVABLE"));
    // the NO_MEMBERSHIP body matches the recorded fixture
    let r = t.batch("alice", g, json!({"remove": [{"identity_id": id(61)}]}));
    assert_eq!(
        r.json()["errors"]["remove"][0]["detail"],
        "Identity has no membership in group."
    );
    assert_eq!(r.json()["remove"], json!([]));
    // bob (removed) no longer sees the private group
    assert_eq!(t.get("bob", &format!("/v2/groups/{g}")).status, 403);
}

#[test]
fn duplicate_identities_fail_the_whole_request_without_changes() {
    let (mut t, g) = setup();
    let before = serde_json::to_vec(&t.w).unwrap();
    let r = t.batch("alice", g, json!({"add": [{"identity_id": id(70)}], "remove": [{"identity_id": id(70)}], "invite": [{"identity_id": id(71)}]}));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "AMBIGUOUS_IDENTITIES");
    assert_eq!(r.json()["ambiguous_identities"], json!([id(70)]));
    let r = t.batch(
        "alice",
        g,
        json!({"add": [{"identity_id": id(72)}, {"identity_id": id(72)}]}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(serde_json::to_vec(&t.w).unwrap(), before);
}

#[test]
fn batch_validation_errors() {
    let (mut t, g) = setup();
    let r = t.batch("alice", g, json!({"adopt": []}));
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["detail"][0]["type"], "extra_forbidden");
    let r = t.batch("alice", g, json!({"add": [{"role": "admin"}, {"identity_id": "x"}, {"identity_id": id(1), "role": "boss"}]}));
    let d = r.json()["detail"].clone();
    assert_eq!(d[0]["loc"], json!(["body", "add", 0, "identity_id"]));
    assert_eq!(d[1]["type"], "uuid_parsing");
    assert_eq!(d[2]["type"], "enum");
    assert_eq!(
        d[2]["msg"],
        "Input should be 'member', 'manager' or 'admin'"
    );
    let r = t.batch("alice", g, json!({"add": {"identity_id": id(1)}}));
    assert_eq!(r.json()["detail"][0]["type"], "list_type");
    // 422 comes before visibility / existence, like FastAPI
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups/00000000-0000-4000-8000-000000000999",
        Some(json!({"add": 1})),
    );
    assert_eq!(r.status, 422);
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups/00000000-0000-4000-8000-000000000999",
        Some(json!({})),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn batch_shape_and_fixed_order_are_independent_of_key_order() {
    let run = |body: &str| {
        let (mut t, g) = setup();
        let c = t.caller("alice");
        let r = t.raw_as(
            &c,
            Method::POST,
            &format!("/v2/groups/{g}"),
            body.as_bytes(),
        );
        (r.json(), serde_json::to_vec(&t.w).unwrap())
    };
    let a = format!(
        r#"{{"remove": [{{"identity_id": "{}"}}], "add": [{{"identity_id": "{}"}}], "approve": [], "leave": null}}"#,
        id(80),
        id(81)
    );
    let b = format!(
        r#"{{"leave": null, "approve": [], "add": [{{"identity_id": "{}"}}], "remove": [{{"identity_id": "{}"}}]}}"#,
        id(81),
        id(80)
    );
    let (ra, sa) = run(&a);
    let (rb, sb) = run(&b);
    assert_eq!(sa, sb);
    assert_eq!(
        serde_json::to_string(&ra).unwrap(),
        serde_json::to_string(&rb).unwrap()
    );
    let keys: Vec<&String> = ra.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["add", "approve", "remove", "errors"]);
    assert_eq!(ra["approve"], json!([]));
    assert!(ra.get("leave").is_none());
}

#[test]
fn ten_thousand_adds_in_one_batch() {
    let (mut t, g) = setup();
    let items: Vec<Value> = (1000..11000)
        .map(|n| json!({"identity_id": id(n), "role": "member"}))
        .collect();
    let r = t.batch("alice", g, json!({"add": items}));
    assert_eq!(r.json()["add"].as_array().unwrap().len(), 10_000);
    assert_eq!(t.w.status_counts(g).unwrap()["active"], 10_003);
}

// ---------------------------------------------------------------- lists and counts

#[test]
fn my_groups_filters_statuses_and_covers_linked_identities() {
    let mut t = T::new();
    let seed: Seed = serde_json::from_value(json!({
        "identities": [{"id": id(1), "username": "me@x.org", "linked": [id(2)]}],
        "tokens": [{"token": "me", "identity": id(1)}],
        "groups": [
            {"id": "00000000-0000-4000-8000-00000000a001", "name": "A", "memberships": [{"identity_id": id(1), "role": "admin"}]},
            {"id": "00000000-0000-4000-8000-00000000a002", "name": "B", "memberships": [{"identity_id": id(9), "role": "admin"}, {"identity_id": id(2)}]},
            {"id": "00000000-0000-4000-8000-00000000a003", "name": "C", "memberships": [{"identity_id": id(9), "role": "admin"}, {"identity_id": id(2), "status": "invited"}, {"identity_id": id(1), "status": "left"}]}
        ]
    }))
    .unwrap();
    t.w.load_seed(seed).unwrap();
    let r = t.get("me", "/v2/groups/my_groups").json();
    let names: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B"]);
    assert_eq!(r[1]["my_memberships"][0]["identity_id"], json!(id(2)));
    let r = t
        .get("me", "/v2/groups/my_groups?statuses=invited%2Cleft")
        .json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["my_memberships"].as_array().unwrap().len(), 2);
    let r = t.get(
        "me",
        "/v2/groups/my_groups?statuses=active&statuses=invited",
    );
    assert_eq!(r.json().as_array().unwrap().len(), 3);
    let r = t.get("me", "/v2/groups/my_groups?statuses=bogus");
    assert_eq!(r.status, 422);
    assert_eq!(r.code().as_deref(), Some("INVALID_STATUS"));
    assert!(r.json()["detail"].is_string());
}

#[test]
fn statuses_counts_only_groups_the_caller_manages() {
    let (mut t, g) = setup();
    let other = t.create("bob", json!({"name": "bob's"}));
    t.batch("alice", g, json!({"invite": [{"identity_id": id(90)}]}));
    let r = t.get("alice", "/v2/groups/statuses").json();
    assert_eq!(r.as_object().unwrap().len(), 1);
    assert_eq!(
        r[g.to_string()],
        json!({"active": 3, "invited": 1, "pending": 0, "rejected": 0, "removed": 0, "left": 0, "declined": 0})
    );
    let r = t.get("carol", "/v2/groups/statuses").json();
    assert!(r.get(g.to_string()).is_some());
    let r = t.get("bob", "/v2/groups/statuses").json();
    assert_eq!(
        r.as_object().unwrap().keys().collect::<Vec<_>>(),
        [&other.to_string()]
    );
}

// ---------------------------------------------------------------- subgroups, update, delete

#[test]
fn subgroups_need_parent_admin_and_respect_limits() {
    let (mut t, g) = setup();
    let r = t.call(
        "carol",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "c", "parent_id": g})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["detail"],
        "You must be the admin of the parent to create a child group."
    );
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "c", "parent_id": "00000000-0000-4000-8000-000000000999"})),
    );
    assert_eq!(r.status, 404);
    let c1 = t.create("alice", json!({"name": "c1", "parent_id": g}));
    let d = t
        .get("alice", &format!("/v2/groups/{g}?include=child_ids"))
        .json();
    assert_eq!(d["child_ids"], json!([c1]));
    assert_eq!(
        t.get("alice", &format!("/v2/groups/{c1}")).json()["parent_id"],
        json!(g)
    );
    let kids = t.get("alice", &format!("/v2/groups/{g}/children")).json();
    assert_eq!(kids["children"][0]["id"], json!(c1));
    // bob sees the parent but not the private child
    let kids = t.get("bob", &format!("/v2/groups/{g}/children")).json();
    assert_eq!(kids["children"], json!([]));
    // depth: c1 is level 1; levels 2..4 fine, 5 refused
    let mut parent = c1;
    for _ in 2..=4 {
        parent = t.create("alice", json!({"name": "deeper", "parent_id": parent}));
    }
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "too deep", "parent_id": parent})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.code().as_deref(), Some("DEPTH_LIMIT"));
    // 75 subgroups per tree (4 exist)
    for _ in 0..71 {
        t.create("alice", json!({"name": "wide", "parent_id": g}));
    }
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "76th", "parent_id": g})),
    );
    assert_eq!(r.code().as_deref(), Some("SUBGROUP_LIMIT"));
    // delete refuses a group with children (D21)
    let r = t.call(
        "alice",
        Method::DELETE,
        &format!("/v2/groups/{parent}"),
        None,
    );
    assert_eq!(r.status, 200);
    let r = t.call("alice", Method::DELETE, &format!("/v2/groups/{g}"), None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["ambiguous_identities"], json!([]));
}

#[test]
fn update_and_delete_are_admin_only() {
    let (mut t, g) = setup();
    let path = format!("/v2/groups/{g}");
    let r = t.call("carol", Method::PUT, &path, Some(json!({"name": "x"})));
    assert_eq!(r.status, 403);
    let r = t.call(
        "alice",
        Method::PUT,
        &path,
        Some(json!({"name": "New", "description": null})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "New");
    assert_eq!(r.json()["description"], Value::Null);
    let r = t.call(
        "alice",
        Method::PUT,
        &path,
        Some(json!({"subscription_admin_verified_id": "00000000-0000-4000-8000-00000000c001"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("CLEAR_ONLY"));
    let r = t.call(
        "alice",
        Method::PUT,
        &path,
        Some(json!({"subscription_admin_verified_id": null})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(t.call("bob", Method::DELETE, &path, None).status, 403);
    let r = t.call("alice", Method::DELETE, &path, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], json!(g));
    assert_eq!(t.get("alice", &path).status, 404);
    assert!(
        t.get("bob", "/v2/groups/my_groups")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn create_refused_beyond_1000_active_memberships() {
    let mut t = T::new();
    let me = t.me("busy");
    let groups: Vec<Value> = (0..1001)
        .map(|n| json!({"id": format!("00000000-0000-4000-9000-{n:012x}"), "name": "g", "memberships": [{"identity_id": me, "role": "admin"}]}))
        .collect();
    t.w.load_seed(serde_json::from_value(json!({"groups": groups})).unwrap())
        .unwrap();
    let r = t.call(
        "busy",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "one more"})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.code().as_deref(), Some("MEMBERSHIP_LIMIT"));
}

// ---------------------------------------------------------------- policies, preferences, fields

#[test]
fn policies_partial_update() {
    let (mut t, g) = setup();
    let path = format!("/v2/groups/{g}/policies");
    let r = t.call(
        "alice",
        Method::PUT,
        &path,
        Some(json!({"is_high_assurance": true})),
    );
    assert_eq!(r.json()["is_high_assurance"], true);
    assert_eq!(r.json()["group_visibility"], "private");
    let r = t.call("alice", Method::PUT, &path, Some(json!({"authentication_assurance_timeout": null, "group_visibility": null, "signup_fields": ["address1"]})));
    assert_eq!(r.json()["authentication_assurance_timeout"], Value::Null);
    assert_eq!(r.json()["group_visibility"], "private");
    assert_eq!(r.json()["signup_fields"], json!(["address1"]));
    let r = t.call(
        "alice",
        Method::PUT,
        &path,
        Some(json!({"group_visibility": "public"})),
    );
    assert_eq!(r.status, 422);
    let r = t.call("alice", Method::PUT, &path, Some(json!({"surprise": true})));
    assert_eq!(r.status, 422);
    assert_eq!(
        t.call("carol", Method::PUT, &path, Some(json!({}))).status,
        403
    );
    assert_eq!(t.get("bob", &path).status, 200);
    assert_eq!(t.get("mallory", &path).status, 403);
}

#[test]
fn preferences_keyed_and_flat() {
    let mut t = T::new();
    let me = t.me("alice");
    let r = t.get("alice", "/v2/preferences");
    assert_eq!(r.json(), json!({ me.to_string(): {"allow_add": true} }));
    let r = t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({ me.to_string(): {"allow_add": false} })),
    );
    assert_eq!(r.json()[me.to_string()]["allow_add"], false);
    let r = t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({"allow_add": true})),
    );
    assert_eq!(r.json()[me.to_string()]["allow_add"], true);
    let r = t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({ id(5).to_string(): {"allow_add": false} })),
    );
    assert_eq!(r.status, 403);
    let r = t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({ me.to_string(): {} })),
    );
    assert_eq!(r.status, 422);
    let r = t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({ "nope": {"allow_add": false} })),
    );
    assert_eq!(
        r.json()["detail"][0]["loc"],
        json!(["body", "nope", "[key]"])
    );
    // the preference blocks add
    let g = t.create("bob", json!({"name": "g"}));
    t.call(
        "alice",
        Method::PUT,
        "/v2/preferences",
        Some(json!({"allow_add": false})),
    );
    let r = t.batch("bob", g, json!({"add": [{"identity_id": me}]}));
    assert_eq!(err_code(&r, "add").as_deref(), Some("ADD_NOT_ALLOWED"));
}

#[test]
fn membership_fields_are_per_identity_and_shown_on_memberships() {
    let (mut t, g) = setup();
    let bob = t.me("bob");
    let path = format!("/v2/groups/{g}/membership_fields");
    let r = t.call(
        "bob",
        Method::PUT,
        &path,
        Some(json!({ bob.to_string(): {"institution": "UC", "phone": null, "weird": "x"} })),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({ bob.to_string(): {"institution": "UC"} }));
    assert_eq!(t.get("bob", &path).json(), r.json());
    let d = t
        .get("alice", &format!("/v2/groups/{g}?include=memberships"))
        .json();
    let m = d["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["identity_id"] == json!(bob))
        .unwrap()
        .clone();
    assert_eq!(m["membership_fields"], json!({"institution": "UC"}));
    let alice = t.me("alice");
    let r = t.call(
        "bob",
        Method::PUT,
        &path,
        Some(json!({ alice.to_string(): {} })),
    );
    assert_eq!(r.code().as_deref(), Some("NOT_OWN_IDENTITY"));
    let other = t.create(
        "mallory",
        json!({"name": "m", "policies": {"group_visibility": "authenticated"}}),
    );
    let r = t.call(
        "bob",
        Method::PUT,
        &format!("/v2/groups/{other}/membership_fields"),
        Some(json!({ bob.to_string(): {} })),
    );
    assert_eq!(r.code().as_deref(), Some("NO_MEMBERSHIP"));
    let r = t.call(
        "bob",
        Method::PUT,
        &path,
        Some(json!({ bob.to_string(): {"city": 5} })),
    );
    assert_eq!(r.status, 422);
}

// ---------------------------------------------------------------- subscriptions, scopes

fn subscription_world() -> (T, GroupId, GroupId) {
    let mut t = T::new();
    let (subadmin, owner) = (t.me("subadmin"), t.me("owner"));
    let seed = json!({
        "groups": [
            {"id": "00000000-0000-4000-8000-00000000a004", "name": "Sub", "group_type": "plus",
             "memberships": [{"identity_id": subadmin, "role": "admin"}]},
            {"id": "00000000-0000-4000-8000-00000000a001", "name": "Verified",
             "memberships": [{"identity_id": owner, "role": "admin"}]}
        ],
        "subscriptions": [{"id": "00000000-0000-4000-8000-00000000a003", "group_id": "00000000-0000-4000-8000-00000000a004",
            "name": "Golems", "subscriber_name": "Lab", "is_high_assurance": true,
            "connectors": {"052be037-7dda-4d20-b163-3077314dc3e6": {"is_ha": true, "is_baa": false}}}]
    });
    t.w.load_seed(serde_json::from_value(seed).unwrap())
        .unwrap();
    (
        t,
        "00000000-0000-4000-8000-00000000a004".parse().unwrap(),
        "00000000-0000-4000-8000-00000000a001".parse().unwrap(),
    )
}

#[test]
fn subscription_info_is_limited_and_group_doc_is_full() {
    let (mut t, sub_group, _) = subscription_world();
    let r = t.get(
        "anyone",
        "/v2/subscription_info/00000000-0000-4000-8000-00000000a003",
    );
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["group_id"], json!(sub_group));
    assert!(j["subscription_info"].get("name").is_none());
    assert_eq!(j["subscription_info"]["is_high_assurance"], true);
    assert_eq!(
        t.get(
            "anyone",
            "/v2/subscription_info/00000000-0000-4000-8000-00000000ffff"
        )
        .status,
        404
    );
    let d = t.get("subadmin", &format!("/v2/groups/{sub_group}")).json();
    assert_eq!(d["subscription_id"], "00000000-0000-4000-8000-00000000a003");
    assert_eq!(d["subscription_info"]["name"], "Golems");
    assert_eq!(d["group_type"], "plus");
}

#[test]
fn subscription_admin_verified_rules() {
    let (mut t, _, g) = subscription_world();
    let path = format!("/v2/groups/{g}/subscription_admin_verified");
    let body = json!({"subscription_admin_verified_id": "00000000-0000-4000-8000-00000000a003"});
    // the group's own admin is not a subscription admin
    let r = t.call("owner", Method::PUT, &path, Some(body.clone()));
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("SUBSCRIPTION_ADMIN_REQUIRED"));
    let r = t.call("subadmin", Method::PUT, &path, Some(body.clone()));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"group_id": g, "subscription_admin_verified_id": "00000000-0000-4000-8000-00000000a003"})
    );
    let d = t.get("owner", &format!("/v2/groups/{g}")).json();
    assert_eq!(
        d["subscription_admin_verified_id"],
        "00000000-0000-4000-8000-00000000a003"
    );
    // clearing through E16 needs the subscription admin too ...
    let clear = json!({"subscription_admin_verified_id": null});
    assert_eq!(
        t.call("owner", Method::PUT, &path, Some(clear.clone()))
            .status,
        403
    );
    // ... but the group admin may clear it through E5
    let r = t.call(
        "owner",
        Method::PUT,
        &format!("/v2/groups/{g}"),
        Some(clear.clone()),
    );
    assert_eq!(r.json()["subscription_admin_verified_id"], Value::Null);
    let r = t.call("owner", Method::PUT, &path, Some(json!({})));
    assert_eq!(r.status, 422);
    let r = t.call(
        "subadmin",
        Method::PUT,
        &path,
        Some(json!({"subscription_admin_verified_id": "00000000-0000-4000-8000-00000000dddd"})),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn read_only_tokens_read_but_cannot_write() {
    let mut t = T::new();
    let me = id(1);
    t.w.add_token("reader", me, vec![SCOPE_VIEW.to_owned()]);
    t.w.add_token("nothing", me, vec!["openid".to_owned()]);
    let g = t.create(
        "owner",
        json!({"name": "g", "policies": {"group_visibility": "authenticated"}}),
    );
    assert_eq!(t.get("reader", "/v2/groups/my_groups").status, 200);
    let d = t
        .get(
            "reader",
            &format!("/v2/groups/{g}?include=allowed_actions,my_memberships"),
        )
        .json();
    assert!(d.get("allowed_actions").is_none());
    assert!(d.get("my_memberships").is_some());
    let r = t.call(
        "reader",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "x"})),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.code().as_deref(), Some("INSUFFICIENT_SCOPE"));
    assert_eq!(r.json()["provided_scopes"], json!([SCOPE_VIEW]));
    assert_eq!(t.get("nothing", "/v2/preferences").status, 403);
    t.policy.enforce_scopes = false;
    assert_eq!(
        t.call(
            "reader",
            Method::POST,
            "/v2/groups",
            Some(json!({"name": "x"}))
        )
        .status,
        201
    );
}

// ---------------------------------------------------------------- state

#[test]
fn state_round_trips_and_runs_are_deterministic() {
    let run = || {
        let (mut t, g) = setup();
        t.create("alice", json!({"name": "sub", "parent_id": g}));
        t.batch("alice", g, json!({"invite": [{"identity_id": id(3)}]}));
        t.w.link_identities(id(7), id(8));
        t.w
    };
    let (a, b) = (run(), run());
    let (ja, jb) = (
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    );
    assert_eq!(ja, jb);
    let back: World = serde_json::from_str(&ja).unwrap();
    back.check_invariants().unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), ja);
    assert_eq!(back.caller_for(id(8)).identities, vec![id(8), id(7)]);
    for gid in a.group_ids() {
        assert_eq!(a.group(gid), back.group(gid));
        assert_eq!(a.status_counts(gid), back.status_counts(gid));
    }
}

#[test]
fn bad_seeds_are_refused_without_changes() {
    let mut w = World::new();
    let no_admin: Seed =
        serde_json::from_value(json!({"groups": [{"name": "x", "memberships": []}]})).unwrap();
    assert!(w.load_seed(no_admin).is_err());
    let orphan: Seed = serde_json::from_value(json!({"groups": [{"name": "x", "parent_id": id(5),
        "memberships": [{"identity_id": id(1), "role": "admin"}]}]}))
    .unwrap();
    assert!(
        w.load_seed(orphan)
            .unwrap_err()
            .to_string()
            .contains("parent")
    );
    assert!(serde_json::from_value::<Seed>(json!({"groupz": []})).is_err());
    assert!(w.group_ids().is_empty());
    assert_eq!(w.generation(), 0);
}

#[test]
fn garbage_input_never_panics_or_5xx() {
    let (mut t, g) = setup();
    let c = t.caller("alice");
    let gs = g.to_string();
    let paths = [
        "/v2/groups".to_owned(),
        format!("/v2/groups/{gs}"),
        format!("/v2/groups/{gs}/policies"),
        format!("/v2/groups/{gs}/membership_fields"),
        format!("/v2/groups/{gs}/subscription_admin_verified"),
        "/v2/preferences".to_owned(),
    ];
    let bodies: [&[u8]; 12] = [
        b"",
        b"null",
        b"[]",
        b"\"s\"",
        b"{",
        b"{\"add\": [null]}",
        b"{\"name\": {}}",
        b"{\"is_high_assurance\": \"maybe\"}",
        b"{\"x\": 1e400}",
        b"\xff\xfe",
        b"{\"authentication_assurance_timeout\": 1.5}",
        b"{\"add\": [{\"identity_id\": 7}]}",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for p in &paths {
        for m in [Method::PUT, Method::POST, Method::DELETE, Method::GET] {
            for b in bodies {
                t.raw_as(&c, m.clone(), p, b);
            }
            // pseudo-random bytes
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..32)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed & 0xff) as u8
                    })
                    .collect();
                t.raw_as(&c, m.clone(), p, &bytes);
            }
        }
    }
    t.raw_as(
        &c,
        Method::GET,
        &format!("/v2/groups/{gs}?include=%ZZ&&=&include"),
        b"",
    );
    t.raw_as(&c, Method::GET, "/v2/groups/my_groups?statuses=%", b"");
}

#[test]
fn error_code_table_lists_every_code_used() {
    let src = [
        include_str!("mod.rs"),
        include_str!("batch.rs"),
        include_str!("groups.rs"),
        include_str!("prefs.rs"),
        include_str!("subs.rs"),
        include_str!("resp.rs"),
    ]
    .concat();
    for (code, meaning) in ERROR_CODES {
        assert!(!meaning.is_empty());
        assert!(
            src.matches(&format!("\"{code}\"")).count() >= 2,
            "{code} unused"
        );
    }
}
