//! Tests: create / get.

use super::*;

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
