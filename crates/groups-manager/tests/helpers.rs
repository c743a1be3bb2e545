//! The seed helpers: exact requests, results, and error mapping.

mod common;

use common::*;
use groups_core::GroupsError;
use groups_manager::{GroupsManager, ManagerError, MembershipActionError, PolicySettings};
use groups_types::{
    BatchItem, BatchVerb, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole,
    GroupVisibility, IdentityId, MembershipStatus,
};
use serde_json::{Value, json};

fn group_path() -> String {
    format!("/v2/groups/{GROUP}")
}

/// Run `call` against a transport that echoes the batch, and return the
/// one request it sent.
fn one_request<F, Fut>(call: F) -> (Recorded, Result<groups_types::Membership, ManagerError>)
where
    F: FnOnce(GroupsManager<Scripted>) -> Fut,
    Fut: std::future::Future<Output = Result<groups_types::Membership, ManagerError>>,
{
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    let result = block_on(call(m.clone()));
    let requests = requests(&m);
    assert_eq!(requests.len(), 1, "exactly one request: {requests:?}");
    (requests.into_iter().next().unwrap(), result)
}

#[test]
fn every_single_identity_helper_sends_a_one_item_batch() {
    let id = iid(1);
    let sid = id.to_string();
    type Call = fn(
        GroupsManager<Scripted>,
        IdentityId,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<groups_types::Membership, ManagerError>>>,
    >;
    let cases: Vec<(Call, Value, &str)> = vec![
        (
            |m, id| Box::pin(async move { m.accept_invite(gid(), id).await }),
            json!({"accept": [{"identity_id": sid}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.add_member(gid(), id).await }),
            json!({"add": [{"identity_id": sid, "role": "member"}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.add_member(gid(), id).role(GroupRole::Admin).await }),
            json!({"add": [{"identity_id": sid, "role": "admin"}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.approve_pending(gid(), id).await }),
            json!({"approve": [{"identity_id": sid}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.change_role(gid(), id, GroupRole::Manager).await }),
            json!({"change_role": [{"identity_id": sid, "role": "manager"}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.decline_invite(gid(), id).await }),
            json!({"decline": [{"identity_id": sid}]}),
            "declined",
        ),
        (
            |m, id| {
                Box::pin(async move { m.invite_member(gid(), id).role(GroupRole::Manager).await })
            },
            json!({"invite": [{"identity_id": sid, "role": "manager"}]}),
            "invited",
        ),
        (
            |m, id| Box::pin(async move { m.join(gid(), id).await }),
            json!({"join": [{"identity_id": sid}]}),
            "active",
        ),
        (
            |m, id| Box::pin(async move { m.leave(gid(), id).await }),
            json!({"leave": [{"identity_id": sid}]}),
            "left",
        ),
        (
            |m, id| Box::pin(async move { m.reject_join_request(gid(), id).await }),
            json!({"reject": [{"identity_id": sid}]}),
            "rejected",
        ),
        (
            |m, id| Box::pin(async move { m.remove_member(gid(), id).await }),
            json!({"remove": [{"identity_id": sid}]}),
            "removed",
        ),
        (
            |m, id| Box::pin(async move { m.request_join(gid(), id).await }),
            json!({"request_join": [{"identity_id": sid}]}),
            "pending",
        ),
    ];
    for (call, body, status) in cases {
        let (req, result) = one_request(|m| call(m, id));
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, group_path());
        assert_eq!(req.body, Some(body.clone()));
        let membership = result.unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(membership.identity_id, id);
        assert_eq!(membership.status.as_str(), status, "{body}");
    }
}

#[test]
fn helpers_accept_string_ids() {
    let (req, result) = one_request(|m| async move {
        m.remove_member(GROUP, "00000000-0000-4000-8000-000000000001")
            .await
    });
    assert_eq!(req.path, group_path());
    assert_eq!(result.unwrap().identity_id, iid(1));
}

#[test]
fn invalid_identity_is_rejected_before_sending() {
    let m = manager(queue(vec![]));
    let err = block_on(m.add_member(gid(), "not-a-uuid")).unwrap_err();
    assert!(err.groups_error().unwrap().is_invalid_input(), "{err}");
    assert!(requests(&m).is_empty());
    let err = block_on(m.leave("nope", iid(1))).unwrap_err();
    assert!(err.groups_error().unwrap().is_invalid_input(), "{err}");
    assert!(requests(&m).is_empty());
}

#[test]
fn per_identity_error_becomes_membership_action_error() {
    let id = iid(9);
    let m = manager(queue(vec![(
        200,
        json!({"add": [], "errors": {"add": [{
            "identity_id": id.to_string(), "code": "ALREADY_ACTIVE",
            "detail": "Identity is already an active member"}]}}),
    )]));
    let err = block_on(m.add_member(gid(), id)).unwrap_err();
    let e = err.membership_error().expect("per-identity error");
    assert_eq!(e.verb, BatchVerb::Add);
    assert_eq!(e.identity_id, id);
    assert_eq!(e.code, "ALREADY_ACTIVE");
    assert_eq!(
        e.detail.as_deref(),
        Some("Identity is already an active member")
    );
    assert!(e.is_already_active());
    assert_eq!(err.code(), Some("ALREADY_ACTIVE"));
    assert_eq!(err.identity_id(), Some(id));
    assert_eq!(
        err.to_string(),
        format!("add {id} failed: ALREADY_ACTIVE: Identity is already an active member")
    );
}

#[test]
fn error_without_detail_and_uppercase_identity_is_matched() {
    let id = iid(0xabc);
    let m = manager(queue(vec![(
        200,
        json!({"remove": [], "errors": {"remove": [{
            "identity_id": id.to_string().to_uppercase(), "code": "NO_MEMBERSHIP"}]}}),
    )]));
    let err = block_on(m.remove_member(gid(), id)).unwrap_err();
    let e = err.membership_error().unwrap();
    assert_eq!(
        (
            e.verb.clone(),
            e.identity_id,
            e.code.as_str(),
            e.detail.clone()
        ),
        (BatchVerb::Remove, id, "NO_MEMBERSHIP", None)
    );
}

#[test]
fn answer_without_the_identity_is_not_a_success() {
    let id = iid(3);
    // Another identity's success and nothing about ours.
    let m = manager(queue(vec![(
        200,
        json!({"approve": [membership(iid(4), "member", "active")]}),
    )]));
    let err = block_on(m.approve_pending(gid(), id)).unwrap_err();
    let e = err.membership_error().unwrap();
    assert_eq!(e.identity_id, id);
    assert!(e.is_no_outcome());
    assert_eq!(e.code, MembershipActionError::NO_OUTCOME);

    // An empty answer too.
    let m = manager(queue(vec![(200, json!({}))]));
    let err = block_on(m.leave(gid(), id)).unwrap_err();
    assert!(err.membership_error().unwrap().is_no_outcome());
}

#[test]
fn whole_request_failure_is_a_groups_error() {
    let m = manager(queue(vec![(
        403,
        json!({"code": "FORBIDDEN", "detail": "members may not add"}),
    )]));
    let err = block_on(m.add_member(gid(), iid(1))).unwrap_err();
    assert!(matches!(err, ManagerError::Groups(_)));
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));
    assert_eq!(err.code(), Some("FORBIDDEN"));
    assert!(err.membership_error().is_none());
}

#[test]
fn membership_action_sends_reason_and_email() {
    let id = iid(5);
    let (req, result) = one_request(|m| async move {
        m.membership_action(
            gid(),
            BatchVerb::Invite,
            BatchItem::with_role(id, GroupRole::Member)
                .invite_email_address("ada@example.org")
                .status_reason("welcome"),
        )
        .await
    });
    assert_eq!(
        req.body,
        Some(
            json!({"invite": [{"identity_id": id.to_string(), "role": "member",
            "status_reason": "welcome", "invite_email_address": "ada@example.org"}]})
        )
    );
    assert_eq!(result.unwrap().status, MembershipStatus::Invited);
}

fn group_doc() -> Value {
    json!({"id": GROUP, "name": "Riders", "description": "d", "parent_id": null})
}

#[test]
fn create_group_always_sends_parent_id() {
    let m = manager(queue(vec![(200, group_doc()), (200, group_doc())]));
    let g = block_on(m.create_group("Riders").description("No stairs.")).unwrap();
    assert_eq!(g.id, gid());
    let parent = "0e5c5ec8-6458-11e4-b72d-123139141556".parse().unwrap();
    block_on(m.create_group("Sub").description("").parent(parent)).unwrap();
    let reqs = requests(&m);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v2/groups");
    assert_eq!(
        reqs[0].body,
        Some(json!({"name": "Riders", "description": "No stairs.", "parent_id": null}))
    );
    assert_eq!(
        reqs[1].body,
        Some(json!({"name": "Sub", "description": "", "parent_id": parent.to_string()}))
    );
}

#[test]
fn set_group_policies_sends_all_six_fields_with_null_timeout_by_default() {
    let doc = json!({"is_high_assurance": false, "authentication_assurance_timeout": null,
        "group_visibility": "private", "group_members_visibility": "managers",
        "join_requests": true, "signup_fields": ["institution"]});
    let m = manager(queue(vec![(200, doc.clone()), (200, doc)]));
    let settings = PolicySettings::new()
        .high_assurance(false)
        .group_visibility(GroupVisibility::Private)
        .group_members_visibility(GroupMemberVisibility::Managers)
        .join_requests(true)
        .signup_fields([
            GroupRequiredSignupFields::Institution,
            GroupRequiredSignupFields::FieldOfScience,
        ]);
    let out = block_on(m.set_group_policies(gid(), settings.clone())).unwrap();
    assert_eq!(out.join_requests.value(), Some(&true));
    block_on(m.set_group_policies(gid(), settings.authentication_assurance_timeout(3600))).unwrap();
    let reqs = requests(&m);
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].path, format!("/v2/groups/{GROUP}/policies"));
    let expected = json!({"is_high_assurance": false, "group_visibility": "private",
        "group_members_visibility": "managers", "join_requests": true,
        "signup_fields": ["institution", "field_of_science"],
        "authentication_assurance_timeout": null});
    assert_eq!(reqs[0].body, Some(expected.clone()));
    let body = reqs[0].body.as_ref().unwrap().as_object().unwrap();
    assert_eq!(body.len(), 6);
    let mut with_timeout = expected;
    with_timeout["authentication_assurance_timeout"] = json!(3600);
    assert_eq!(reqs[1].body, Some(with_timeout));
}

#[test]
fn manager_futures_are_send() {
    use std::future::IntoFuture;
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    let m = manager(queue(vec![]));
    assert_send(m.add_member(gid(), iid(1)).into_future());
    assert_send(m.create_group("a").description("b").into_future());
    assert_send(
        m.bulk(gid())
            .on_progress(|_| {})
            .add_members([iid(1)], GroupRole::Member),
    );
    assert_send(m.sync_members(gid(), [(iid(1), GroupRole::Member)], Default::default()));
    assert!(requests(&m).is_empty());
}

#[test]
fn groups_error_converts() {
    let err: ManagerError = GroupsError::invalid_input("x").into();
    assert!(err.to_string().contains("invalid input"));
}
