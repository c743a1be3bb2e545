//! Tests: subgroups, update, delete.

use super::*;

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
    // delete refuses a group with children (no cascading delete)
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
