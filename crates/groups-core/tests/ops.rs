//! Every operation: method, URI (path + query), headers and body exactly;
//! its success fixture; and every error shape.

mod common;

use bytes::Bytes;
use common::{fixture, json, response, types_fixture, value};
use groups_core::config::{BaseUrl, ClientConfig, SDK_VERSION};
use groups_core::error::GroupsError;
use groups_core::ops::*;
use groups_types::*;
use http::{HeaderValue, Method};

const GID: &str = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";
const SID: &str = "b7e3c2d1-58f4-4e0a-9c6d-3a1b2c4d5e6f";

fn ctx() -> ClientConfig {
    ClientConfig::default()
}

fn gid() -> GroupId {
    GID.parse().unwrap()
}

fn iid(n: u32) -> IdentityId {
    format!("9e8d7c6b-5a49-4382-a1b0-c0ffee{n:06}")
        .parse()
        .unwrap()
}

/// Assert the request exactly: method, full URI, the header set, the body.
fn check(req: &http::Request<Bytes>, method: Method, uri: &str, body: Option<&str>) {
    assert_eq!(req.method(), method);
    assert_eq!(req.uri().to_string(), uri);
    let mut names: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
    names.sort();
    let mut expected = vec!["accept", "user-agent", "x-globus-client-info"];
    if body.is_some() {
        expected.push("content-type");
    }
    expected.sort();
    assert_eq!(names, expected, "header set of {method} {uri}");
    let h = req.headers();
    assert_eq!(h["accept"], "application/json");
    assert_eq!(
        h["user-agent"],
        format!("globus-groups-rs-{SDK_VERSION}").as_str()
    );
    assert_eq!(
        h["x-globus-client-info"],
        format!("product=rust-groups-sdk,version={SDK_VERSION}").as_str()
    );
    match body {
        Some(b) => {
            assert_eq!(h["content-type"], "application/json");
            assert_eq!(
                std::str::from_utf8(req.body()).unwrap(),
                b,
                "body of {method} {uri}"
            );
        }
        None => assert!(req.body().is_empty(), "{method} {uri} must have no body"),
    }
}

fn ok(body: &str) -> http::Response<Bytes> {
    json(200, body)
}

const BASE: &str = "https://groups.api.globus.org";

// ------------------------------------------------------------------ requests

#[test]
fn e1_get_my_groups_request() {
    let r = GetMyGroups::new().build_request(&ctx()).unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/my_groups"),
        None,
    );
    let r = GetMyGroups::new()
        .statuses([MembershipStatus::Active, MembershipStatus::Invited])
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/my_groups?statuses=active%2Cinvited"),
        None,
    );
}

#[test]
fn e2_get_statuses_request() {
    let r = GetStatuses::new().build_request(&ctx()).unwrap();
    check(&r, Method::GET, &format!("{BASE}/v2/groups/statuses"), None);
}

#[test]
fn e3_create_group_request() {
    let payload = GroupCreate::new("Tidepool Survey Crew")
        .description("Volunteers who count limpets at low tide.");
    let r = CreateGroup::new(&payload).build_request(&ctx()).unwrap();
    check(
        &r,
        Method::POST,
        &format!("{BASE}/v2/groups"),
        Some(
            r#"{"name":"Tidepool Survey Crew","description":"Volunteers who count limpets at low tide."}"#,
        ),
    );
    assert_eq!(
        value(std::str::from_utf8(r.body()).unwrap()),
        value(&fixture("create_group.request.json"))
    );
    let empty = GroupCreate::new("  ");
    assert!(
        CreateGroup::new(&empty)
            .build_request(&ctx())
            .unwrap_err()
            .is_invalid_input()
    );
}

#[test]
fn e4_get_group_request() {
    let r = GetGroup::new(gid()).build_request(&ctx()).unwrap();
    check(&r, Method::GET, &format!("{BASE}/v2/groups/{GID}"), None);
    let r = GetGroup::new(GID)
        .include([
            GroupInclude::Memberships,
            GroupInclude::Policies,
            GroupInclude::ChildIds,
        ])
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/{GID}?include=memberships%2Cpolicies%2Cchild_ids"),
        None,
    );
}

#[test]
fn e5_update_group_request() {
    let payload = GroupUpdate::new()
        .name("Tidepool Survey Crew")
        .description("Counting limpets and sea stars along the north shore.");
    let r = UpdateGroup::new(gid(), &payload)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/groups/{GID}"),
        Some(
            r#"{"name":"Tidepool Survey Crew","description":"Counting limpets and sea stars along the north shore."}"#,
        ),
    );
    assert_eq!(
        value(std::str::from_utf8(r.body()).unwrap()),
        value(&fixture("update_group.request.json"))
    );
}

#[test]
fn e6_batch_request_is_post_to_group() {
    let actions = BatchMembershipActions::new()
        .accept_invites([iid(1), iid(2)])
        .add_members([iid(3)], GroupRole::Manager)
        .change_roles(GroupRole::Member, [iid(4), iid(5)])
        .invite_members([iid(6)], GroupRole::Manager)
        .join([iid(7), iid(8), iid(9)]);
    let r = BatchMembershipAction::new(gid(), &actions)
        .build_request(&ctx())
        .unwrap();
    let body = String::from_utf8(r.body().to_vec()).unwrap();
    check(
        &r,
        Method::POST,
        &format!("{BASE}/v2/groups/{GID}"),
        Some(&body),
    );
    assert_eq!(
        value(&body),
        value(&fixture("batch_membership_action.mixed.request.json"))
    );

    let one = BatchMembershipActions::new().remove_members([iid(1)]);
    let r = BatchMembershipAction::new(gid(), &one)
        .community_context(HeaderValue::from_static("ctx-1"))
        .build_request(&ctx())
        .unwrap();
    assert_eq!(
        std::str::from_utf8(r.body()).unwrap(),
        r#"{"remove":[{"identity_id":"9e8d7c6b-5a49-4382-a1b0-c0ffee000001"}]}"#
    );
    assert_eq!(r.headers()["community-context"], "ctx-1");
}

#[test]
fn e6_empty_batch_never_reaches_the_wire() {
    let err = BatchMembershipAction::new(gid(), BatchMembershipActions::new())
        .build_request(&ctx())
        .unwrap_err();
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("no actions"), "{err}");
}

#[test]
fn e6_identity_under_two_verbs_is_invalid_input_naming_it() {
    let actions = BatchMembershipActions::new()
        .add_members([iid(1)], GroupRole::Member)
        .remove_members([iid(1)]);
    let err = BatchMembershipAction::new(gid(), &actions)
        .build_request(&ctx())
        .unwrap_err();
    assert!(err.is_invalid_input());
    let msg = err.to_string();
    assert!(
        msg.contains(&iid(1).to_string()) && msg.contains("add") && msg.contains("remove"),
        "{msg}"
    );
    // Twice under one verb too.
    let actions = BatchMembershipActions::new().join([iid(2), iid(2)]);
    assert!(
        BatchMembershipAction::new(gid(), &actions)
            .build_request(&ctx())
            .is_err()
    );
}

#[test]
fn e7_delete_group_request() {
    let r = DeleteGroup::new(gid()).build_request(&ctx()).unwrap();
    check(&r, Method::DELETE, &format!("{BASE}/v2/groups/{GID}"), None);
}

#[test]
fn e8_get_children_request() {
    let r = GetChildren::new(gid()).build_request(&ctx()).unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/{GID}/children"),
        None,
    );
    let r = GetChildren::new(gid())
        .include([GroupInclude::MyMemberships])
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/{GID}/children?include=my_memberships"),
        None,
    );
}

#[test]
fn e9_e10_policies_requests() {
    let r = GetGroupPolicies::new(gid()).build_request(&ctx()).unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/{GID}/policies"),
        None,
    );

    let policies = GroupPolicies::partial()
        .is_high_assurance(true)
        .group_visibility(GroupVisibility::Authenticated)
        .group_members_visibility(GroupMemberVisibility::Managers)
        .join_requests(true)
        .signup_fields([
            GroupRequiredSignupFields::Institution,
            GroupRequiredSignupFields::FieldOfScience,
        ])
        .authentication_assurance_timeout(14400);
    let r = SetGroupPolicies::new(gid(), &policies)
        .build_request(&ctx())
        .unwrap();
    let body = String::from_utf8(r.body().to_vec()).unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/groups/{GID}/policies"),
        Some(&body),
    );
    assert_eq!(
        value(&body),
        value(&fixture("set_group_policies.request.json"))
    );

    let partial = GroupPolicies::partial().is_high_assurance(true);
    let r = SetGroupPolicies::new(gid(), &partial)
        .build_request(&ctx())
        .unwrap();
    assert_eq!(
        std::str::from_utf8(r.body()).unwrap(),
        r#"{"is_high_assurance":true}"#
    );
}

#[test]
fn e11_e12_preferences_requests() {
    let r = GetIdentityPreferences::new().build_request(&ctx()).unwrap();
    check(&r, Method::GET, &format!("{BASE}/v2/preferences"), None);

    let prefs: IdentityPreferencesMap =
        serde_json::from_str(&types_fixture("set_identity_preferences.request.json")).unwrap();
    let r = SetIdentityPreferences::new(&prefs)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/preferences"),
        Some(r#"{"6a7f3b2e-1111-4e0c-9d6b-5a4c3b2a1f01":{"allow_add":false}}"#),
    );
}

#[test]
fn e13_e14_membership_fields_requests() {
    let r = GetMembershipFields::new(gid())
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/groups/{GID}/membership_fields"),
        None,
    );

    let fields: MembershipFieldsMap =
        serde_json::from_str(&types_fixture("set_membership_fields.request.json")).unwrap();
    let r = SetMembershipFields::new(gid(), &fields)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/groups/{GID}/membership_fields"),
        Some(
            r#"{"6a7f3b2e-1111-4e0c-9d6b-5a4c3b2a1f01":{"department":"Physics","field_of_science":null}}"#,
        ),
    );
}

#[test]
fn e15_get_group_by_subscription_id_request() {
    let r = GetGroupBySubscriptionId::new(SID)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::GET,
        &format!("{BASE}/v2/subscription_info/{SID}"),
        None,
    );
}

#[test]
fn e16_set_subscription_admin_verified_requests() {
    let sid: SubscriptionId = SID.parse().unwrap();
    let r = SetSubscriptionAdminVerified::new(gid(), sid)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/groups/{GID}/subscription_admin_verified"),
        Some(&format!(r#"{{"subscription_admin_verified_id":"{SID}"}}"#)),
    );
    assert_eq!(
        value(std::str::from_utf8(r.body()).unwrap()),
        value(&fixture("set_subscription_admin_verified.request.json"))
    );
    let r = ClearSubscriptionAdminVerified::new(gid())
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PUT,
        &format!("{BASE}/v2/groups/{GID}/subscription_admin_verified"),
        Some(r#"{"subscription_admin_verified_id":null}"#),
    );
    // Clearing sends the required key with an explicit null, exactly.
    assert_eq!(
        std::str::from_utf8(r.body()).unwrap(),
        r#"{"subscription_admin_verified_id":null}"#
    );
}

#[test]
fn extra_query_params_on_every_operation_merge_last_and_override() {
    let payload = GroupCreate::new("n");
    let update = GroupUpdate::new().name("n");
    let actions = BatchMembershipActions::new().join([iid(1)]);
    let policies = GroupPolicies::partial().join_requests(true);
    let prefs = IdentityPreferencesMap::new();
    let fields = MembershipFieldsMap::new();
    let reqs = vec![
        GetMyGroups::new()
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetStatuses::new()
            .query_param("x", "a b")
            .build_request(&ctx()),
        CreateGroup::new(&payload)
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetGroup::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        UpdateGroup::new(gid(), &update)
            .query_param("x", "a b")
            .build_request(&ctx()),
        BatchMembershipAction::new(gid(), &actions)
            .query_param("x", "a b")
            .build_request(&ctx()),
        DeleteGroup::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetChildren::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetGroupPolicies::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        SetGroupPolicies::new(gid(), &policies)
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetIdentityPreferences::new()
            .query_param("x", "a b")
            .build_request(&ctx()),
        SetIdentityPreferences::new(&prefs)
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetMembershipFields::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        SetMembershipFields::new(gid(), &fields)
            .query_param("x", "a b")
            .build_request(&ctx()),
        GetGroupBySubscriptionId::new(SID)
            .query_param("x", "a b")
            .build_request(&ctx()),
        SetSubscriptionAdminVerified::new(gid(), SID)
            .query_param("x", "a b")
            .build_request(&ctx()),
        ClearSubscriptionAdminVerified::new(gid())
            .query_param("x", "a b")
            .build_request(&ctx()),
        RawRequest::new(Method::GET, "/v2/future")
            .query_param("x", "a b")
            .build_request(&ctx()),
    ];
    // Every operation of the endpoint table, plus the raw request.
    assert_eq!(reqs.len(), groups_core::ops::ENDPOINTS.len() + 1);
    for r in reqs {
        let r = r.unwrap();
        assert_eq!(r.uri().query(), Some("x=a%20b"), "{}", r.uri());
    }
    // A pass-through parameter replaces the operation's own of the same name.
    let r = GetMyGroups::new()
        .statuses([MembershipStatus::Active])
        .query_param("statuses", "pending")
        .query_param("y", "1")
        .build_request(&ctx())
        .unwrap();
    assert_eq!(r.uri().query(), Some("statuses=pending&y=1"));
}

#[test]
fn unparsable_ids_never_reach_the_wire() {
    let errs = [
        GetGroup::new("not-a-uuid")
            .build_request(&ctx())
            .unwrap_err(),
        DeleteGroup::new(String::from("123"))
            .build_request(&ctx())
            .unwrap_err(),
        GetGroupBySubscriptionId::new("x")
            .build_request(&ctx())
            .unwrap_err(),
        SetSubscriptionAdminVerified::new(gid(), "nope")
            .build_request(&ctx())
            .unwrap_err(),
    ];
    for e in &errs {
        assert!(e.is_invalid_input(), "{e}");
    }
    assert!(errs[0].to_string().contains("not-a-uuid"), "{}", errs[0]);
    assert!(errs[0].to_string().contains("group"), "{}", errs[0]);
    assert!(errs[2].to_string().contains("subscription"), "{}", errs[2]);
}

#[test]
fn custom_base_url_with_path_prefix_and_app_name() {
    let c = ClientConfig::new(BaseUrl::parse("http://127.0.0.1:8080/prefix").unwrap())
        .with_app_name("bench")
        .unwrap();
    let r = GetGroup::new(gid()).build_request(&c).unwrap();
    assert_eq!(
        r.uri().to_string(),
        format!("http://127.0.0.1:8080/prefix/v2/groups/{GID}")
    );
    assert_eq!(
        r.headers()["user-agent"],
        format!("globus-groups-rs-{SDK_VERSION}/bench").as_str()
    );
}

#[test]
fn raw_request_paths_and_bodies() {
    let body = serde_json::json!({"a": 1});
    let r = RawRequest::new(Method::PATCH, "/v2/groups/x y:z")
        .json(&body)
        .build_request(&ctx())
        .unwrap();
    check(
        &r,
        Method::PATCH,
        &format!("{BASE}/v2/groups/x%20y%3Az"),
        Some(r#"{"a":1}"#),
    );
    let r = RawRequest::new(
        Method::GET,
        "https://groups.api.globus.org/v2/groups/statuses",
    )
    .build_request(&ctx())
    .unwrap();
    check(&r, Method::GET, &format!("{BASE}/v2/groups/statuses"), None);
    let err = RawRequest::new(Method::GET, "https://evil.example.org/v2/groups")
        .build_request(&ctx())
        .unwrap_err();
    assert!(err.is_invalid_input());
    // A query inside the path would be encoded into the path (a silent 404):
    // refused, naming the way to pass it.
    for path in ["v2/groups/my_groups?statuses=active", "v2/groups#frag"] {
        let err = RawRequest::new(Method::GET, path)
            .build_request(&ctx())
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("query_param"), "{err}");
    }

    let op = RawRequest::new(Method::DELETE, "v2/x");
    assert_eq!(
        op.parse_response(response(204, None, "")).unwrap(),
        serde_json::Value::Null
    );
    assert_eq!(
        op.parse_response(ok(r#"{"k":[1]}"#)).unwrap(),
        serde_json::json!({"k": [1]})
    );
    assert_eq!(
        op.parse_response(json(404, r#"{"code":"NOPE","detail":"d"}"#))
            .unwrap_err()
            .code(),
        Some("NOPE")
    );
}

// ------------------------------------------------------------------ success parsing

#[test]
fn parses_every_success_fixture() {
    let groups = GetMyGroups::new()
        .parse_response(ok(&fixture("get_my_groups.response.json")))
        .unwrap();
    assert_eq!(groups.len(), 5);

    let counts = GetStatuses::new()
        .parse_response(ok(&types_fixture("get_statuses.response.json")))
        .unwrap();
    assert_eq!(counts.len(), 2);

    let payload = GroupCreate::new("n");
    // The service answers 201; SDK mocks answer 200: both are success.
    for status in [200, 201] {
        let g = CreateGroup::new(&payload)
            .parse_response(json(status, &fixture("create_group.response.json")))
            .unwrap();
        assert_eq!(g.id, gid());
    }

    let g = GetGroup::new(gid())
        .parse_response(ok(&fixture("get_group.response.json")))
        .unwrap();
    assert_eq!(g.name, "Tidepool Survey Crew");
    assert_eq!(g.membership_list().len(), 1);

    let update = GroupUpdate::new();
    let g = UpdateGroup::new(gid(), &update)
        .parse_response(ok(&fixture("update_group.response.json")))
        .unwrap();
    assert_eq!(
        g.description.value().map(String::as_str),
        Some("Counting limpets and sea stars along the north shore.")
    );

    let actions = BatchMembershipActions::new().join([iid(1)]);
    let res = BatchMembershipAction::new(gid(), &actions)
        .parse_response(ok(&fixture("batch_membership_action.add.response.json")))
        .unwrap();
    assert!(res.is_complete_success());
    let res = BatchMembershipAction::new(gid(), &actions)
        .parse_response(ok(&fixture(
            "batch_membership_action.add.already_active.response.json",
        )))
        .unwrap();
    let failures: Vec<_> = res.failures().collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].1.code, "ALREADY_ACTIVE");
    assert_eq!(
        failures[0].1.identity_id,
        "9e8d7c6b-5a49-4382-a1b0-c0ffee000102"
    );

    let g = DeleteGroup::new(gid())
        .parse_response(ok(&fixture("delete_group.response.json")))
        .unwrap();
    assert_eq!(g.id, gid());

    let c = GetChildren::new(gid())
        .parse_response(ok(&types_fixture("get_children.response.json")))
        .unwrap();
    assert_eq!(c.children.len(), 1);

    let p = GetGroupPolicies::new(gid())
        .parse_response(ok(&fixture("get_group_policies.response.json")))
        .unwrap();
    assert!(p.group_visibility.value().is_some());
    let pol = GroupPolicies::partial();
    let p = SetGroupPolicies::new(gid(), &pol)
        .parse_response(ok(&fixture("set_group_policies.response.json")))
        .unwrap();
    assert!(p.signup_fields.value().is_some());

    let prefs = GetIdentityPreferences::new()
        .parse_response(ok(&types_fixture("get_identity_preferences.response.json")))
        .unwrap();
    assert_eq!(prefs.len(), 2);
    let empty = IdentityPreferencesMap::new();
    let prefs = SetIdentityPreferences::new(&empty)
        .parse_response(ok(&types_fixture("set_identity_preferences.response.json")))
        .unwrap();
    assert!(!prefs.is_empty());

    let f = GetMembershipFields::new(gid())
        .parse_response(ok(&types_fixture("get_membership_fields.response.json")))
        .unwrap();
    assert_eq!(f.len(), 1);
    let none = MembershipFieldsMap::new();
    let f = SetMembershipFields::new(gid(), &none)
        .parse_response(ok(&types_fixture("set_membership_fields.response.json")))
        .unwrap();
    assert!(!f.is_empty());

    let s = GetGroupBySubscriptionId::new(SID)
        .parse_response(ok(&fixture("get_group_by_subscription_id.response.json")))
        .unwrap();
    assert_eq!(s.subscription_id.to_string(), SID);

    let v = ClearSubscriptionAdminVerified::new(gid())
        .parse_response(ok(&fixture(
            "set_subscription_admin_verified.response.json",
        )))
        .unwrap();
    assert_eq!(v.group_id, gid());
    assert_eq!(
        v.subscription_admin_verified_id
            .map(|s| s.to_string())
            .as_deref(),
        Some(SID)
    );
}

#[test]
fn success_body_with_non_json_content_type_still_decodes() {
    // Like globus-sdk, success bodies are parsed regardless of Content-Type.
    let g = GetGroup::new(gid())
        .parse_response(response(
            200,
            Some("text/plain"),
            fixture("get_group.response.json"),
        ))
        .unwrap();
    assert_eq!(g.id, gid());
}

// ------------------------------------------------------------------ decode errors

#[test]
fn malformed_2xx_json_names_the_path_and_keeps_the_body() {
    let body = r#"[{"id": "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01", "name": "g", "parent_id": null,
        "my_memberships": [{"group_id": "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01",
        "identity_id": 42, "username": "u", "role": "member", "status": "active"}]}]"#;
    let err = GetMyGroups::new().parse_response(ok(body)).unwrap_err();
    let d = err.decode_error().expect("decode error");
    assert_eq!(d.path, "[0].my_memberships[0].identity_id");
    assert_eq!(d.body, body.as_bytes());
    assert_eq!(err.status(), Some(http::StatusCode::OK));
    assert!(
        err.to_string()
            .contains("[0].my_memberships[0].identity_id"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("username"),
        "Display must not contain the body: {err}"
    );

    let err = GetGroup::new(gid())
        .parse_response(ok(r#"{"id": "x"#))
        .unwrap_err();
    assert!(matches!(err, GroupsError::Decode(_)));

    let err = GetGroup::new(gid()).parse_response(ok("")).unwrap_err();
    assert!(err.decode_error().is_some());

    let err = GetGroup::new(gid())
        .parse_response(response(200, Some("text/html"), "<html>portal</html>"))
        .unwrap_err();
    assert!(err.to_string().contains("text/html"), "{err}");

    let err = GetStatuses::new()
        .parse_response(ok(r#"{"a": {}} trailing"#))
        .unwrap_err();
    assert!(err.decode_error().is_some());
}

// ------------------------------------------------------------------ error shapes

fn api_err(resp: http::Response<Bytes>) -> GroupsError {
    GetGroup::new(gid()).parse_response(resp).unwrap_err()
}

#[test]
fn error_401_carries_authorization_parameters() {
    let err = api_err(json(401, &types_fixture("error.401.session_required.json")));
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(err.code(), Some("AUTHENTICATION_ERROR"));
    let p = err.authorization_parameters().unwrap();
    assert_eq!(
        p.session_message.value().map(String::as_str),
        Some("Log in again")
    );
    assert_eq!(p.session_required_mfa.value(), Some(&true));
    assert_eq!(
        p.session_required_policies.value().unwrap().to_vec(),
        vec!["pol-1".to_owned(), "pol-2".to_owned()]
    );
    assert_eq!(
        err.api_error().unwrap().message().as_deref(),
        Some("A high-assurance session is required.")
    );
    assert!(!err.is_retryable());

    let err = api_err(json(401, &fixture("error.401.invalid_token.json")));
    assert_eq!(err.code(), Some("INVALID_TOKEN"));
    let p = err.authorization_parameters().unwrap();
    assert_eq!(
        p.session_message.value().map(String::as_str),
        Some("Sign in again to keep using Groups.")
    );
}

#[test]
fn error_403_carries_provided_scopes() {
    let err = api_err(json(403, &fixture("error.403.forbidden.json")));
    let api = err.api_error().unwrap();
    assert_eq!(
        api.provided_scopes.as_deref(),
        Some(
            &[
                "openid".to_owned(),
                "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"
                    .to_owned()
            ][..]
        )
    );
    assert_eq!(err.code(), Some("FORBIDDEN"));
}

#[test]
fn error_400_carries_ambiguous_identities() {
    let err = api_err(json(400, &fixture("error.400.ambiguous_identities.json")));
    assert_eq!(
        err.api_error().unwrap().ambiguous_identities.as_deref(),
        Some(
            &[
                "9e8d7c6b-5a49-4382-a1b0-c0ffee000004".to_owned(),
                "9e8d7c6b-5a49-4382-a1b0-c0ffee000007".to_owned()
            ][..]
        )
    );
}

#[test]
fn error_404_code_and_message() {
    let err = api_err(json(404, &fixture("error.404.not_found.json")));
    assert_eq!(err.code(), Some("NOT_FOUND"));
    assert_eq!(
        err.to_string(),
        "Groups API error 404 Not Found: NOT_FOUND: No such group is visible to this identity."
    );
}

#[test]
fn error_422_keeps_the_validation_list_and_renders_messages() {
    let err = api_err(json(422, &fixture("error.422.validation.json")));
    let api = err.api_error().unwrap();
    let items = api.validation_errors.as_ref().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].msg, "Field required");
    assert_eq!(
        items[1].msg,
        "Input should be 'member', 'manager' or 'admin'"
    );
    assert_eq!(api.code, None);
    assert_eq!(
        api.message().as_deref(),
        Some(
            "body.add.0.identity_id: Field required; \
             body.add.0.role: Input should be 'member', 'manager' or 'admin'"
        )
    );
}

#[test]
fn html_502_is_a_clear_api_error() {
    let err = api_err(response(
        502,
        Some("text/html"),
        "<html><body>Bad gateway</body></html>",
    ));
    let api = err.api_error().unwrap();
    assert_eq!(api.status, 502);
    assert!(api.json.is_none() && api.code.is_none() && api.messages.is_empty());
    assert_eq!(api.text(), "<html><body>Bad gateway</body></html>");
    let s = err.to_string();
    assert!(s.starts_with("Groups API error 502 Bad Gateway"), "{s}");
    assert!(s.contains("non-JSON") && !s.contains("<html>"), "{s}");
    assert!(err.is_retryable());
}

#[test]
fn empty_error_body_is_a_clear_api_error() {
    let err = api_err(response(500, Some("application/json"), ""));
    assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert!(err.to_string().contains("empty body"), "{err}");
    let err = api_err(response(503, None, ""));
    assert!(err.is_retryable());
}

#[test]
fn wrong_content_type_error_body_is_not_parsed_but_kept() {
    let body = r#"{"code":"NOT_FOUND","detail":"x"}"#;
    let err = api_err(response(404, Some("text/plain"), body));
    let api = err.api_error().unwrap();
    assert_eq!(api.code, None);
    assert_eq!(api.body, body.as_bytes());
    assert!(err.to_string().contains("text/plain"), "{err}");
    // `application/problem+json` counts as JSON.
    let err = api_err(response(
        404,
        Some("application/problem+json; charset=utf-8"),
        body,
    ));
    assert_eq!(err.code(), Some("NOT_FOUND"));
}

#[test]
fn non_object_json_error_bodies_never_panic() {
    for body in [
        "[1,2]",
        "\"text\"",
        "null",
        "{\"errors\": 5}",
        "{\"code\": 5}",
    ] {
        let err = api_err(json(400, body));
        assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST));
        assert_eq!(err.code(), None, "{body}");
    }
}

#[test]
fn request_id_and_sub_errors() {
    let err = api_err(json(
        409,
        r#"{"code":"NotFound","message":"gone","request_id":"abc123"}"#,
    ));
    assert_eq!(err.request_id(), Some("abc123"));
    assert_eq!(err.api_error().unwrap().message().as_deref(), Some("gone"));
    let err = api_err(json(
        400,
        r#"{"errors":[{"code":"A","detail":"one"},{"code":"A","title":"two"}]}"#,
    ));
    assert_eq!(err.code(), Some("A"));
    assert_eq!(
        err.api_error().unwrap().message().as_deref(),
        Some("one; two")
    );
    let err = api_err(json(
        400,
        r#"{"errors":[{"code":"A","detail":"one"},{"code":"B","detail":"two"}]}"#,
    ));
    assert_eq!(err.code(), None);
    let resp = common::with_header(response(500, None, ""), "x-request-id", "hdr-7");
    assert_eq!(api_err(resp).request_id(), Some("hdr-7"));
}

#[test]
fn debug_of_api_error_redacts_credentials() {
    let mut resp = json(401, r#"{"code":"INVALID_TOKEN","detail":"d"}"#);
    resp.headers_mut()
        .insert("set-cookie", HeaderValue::from_static("session=SECRET"));
    let err = api_err(resp);
    let dbg = format!("{err:?}");
    assert!(!dbg.contains("SECRET"), "{dbg}");
    assert!(dbg.contains("INVALID_TOKEN"));
}

#[test]
fn legacy_consent_required_becomes_authorization_parameters() {
    let err = api_err(json(
        403,
        r#"{"code":"ConsentRequired","message":"Missing required data_access consent","required_scopes":["s1","s2"]}"#,
    ));
    let p = err.authorization_parameters().unwrap();
    assert_eq!(
        p.required_scopes.value().unwrap(),
        &vec!["s1".to_owned(), "s2".to_owned()]
    );
    assert_eq!(
        p.session_message.value().map(String::as_str),
        Some("Missing required data_access consent")
    );
    let err = api_err(json(
        403,
        r#"{"code":"ConsentRequired","required_scope":"only"}"#,
    ));
    assert_eq!(
        err.authorization_parameters()
            .unwrap()
            .required_scopes
            .value()
            .unwrap(),
        &vec!["only".to_owned()]
    );
    // Sub-errors carrying GARE parameters are found too.
    let err = api_err(json(
        401,
        r#"{"errors":[{"code":"X","detail":"d","authorization_parameters":{"session_required_mfa":true}}]}"#,
    ));
    assert_eq!(
        err.authorization_parameters()
            .unwrap()
            .session_required_mfa
            .value(),
        Some(&true)
    );
    // Wrongly typed parameters are treated as absent, never an error.
    let err = api_err(json(
        401,
        r#"{"code":"X","authorization_parameters":{"session_required_mfa":"yes"}}"#,
    ));
    assert!(err.authorization_parameters().is_none());
    assert_eq!(err.code(), Some("X"));
}
