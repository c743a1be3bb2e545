//! Tests: lists and counts.

use super::*;

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
