//! Tests: batch verbs.

use super::*;

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
    // managers may not change roles: the whole request is 403
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
