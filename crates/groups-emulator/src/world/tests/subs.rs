//! Tests: subscriptions, scopes.

use super::*;

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
    // clearing through .../subscription_admin_verified needs the subscription admin too ...
    let clear = json!({"subscription_admin_verified_id": null});
    assert_eq!(
        t.call("owner", Method::PUT, &path, Some(clear.clone()))
            .status,
        403
    );
    // ... but the group admin may clear it through PUT /v2/groups/{id}
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
