//! Tests: policies, preferences, fields.

use super::*;

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
