//! The manager's requests equal what globus-sdk's `GroupsManager` sends, and
//! its canned answers map to the right results, checked against the shared
//! example payloads of the Groups API (requests captured from globus-sdk and
//! answers of the service). They are read from the directory named by
//! `GROUPS_FIXTURES_DIR` (set by `.ci/run`), never copied into the project;
//! without it these tests say so and pass.

mod common;

use std::path::PathBuf;

use common::*;
use groups_manager::{GroupsManager, ManagerError, PolicySettings};
use groups_types::{
    GroupId, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole, GroupVisibility,
    IdentityId, Membership, MembershipStatus,
};
use serde_json::Value;

/// The shared fixtures directory, if configured.
fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GROUPS_FIXTURES_DIR").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("GROUPS_FIXTURES_DIR not set: shared fixtures not compared");
    }
    dir
}

/// Skip the test (with a notice) when the shared fixtures are not configured.
macro_rules! require_fixtures {
    () => {
        if shared_dir().is_none() {
            return;
        }
    };
}

fn fixture(name: &str) -> Value {
    let path = shared_dir()
        .expect("checked by require_fixtures!")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

const SIROSEN: &str = "ae332d86-d274-11e5-b885-b31714a110e9";
const FIXTURE_GROUP: &str = "d3974728-6458-11e4-b72d-123139141556";

type Outcome = Result<Membership, ManagerError>;

/// Run one helper against a transport that answers `reply`; return the body
/// it sent and its result.
fn run(
    reply: Value,
    call: impl FnOnce(&GroupsManager<Scripted>, GroupId, IdentityId) -> Outcome,
) -> (Value, Outcome) {
    let m = manager(queue(vec![(200, reply)]));
    let out = call(&m, FIXTURE_GROUP.parse().unwrap(), SIROSEN.parse().unwrap());
    let reqs = requests(&m);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, format!("/v2/groups/{FIXTURE_GROUP}"));
    (reqs[0].body.clone().unwrap(), out)
}

#[test]
fn helper_bodies_match_globus_sdk() {
    require_fixtures!();
    type Call = fn(&GroupsManager<Scripted>, GroupId, IdentityId) -> Outcome;
    let cases: [(&str, Call); 12] = [
        ("accept", |m, g, i| block_on(m.accept_invite(g, i))),
        ("add", |m, g, i| {
            block_on(m.add_member(g, i).role(GroupRole::Admin))
        }),
        ("approve", |m, g, i| block_on(m.approve_pending(g, i))),
        ("change_role", |m, g, i| {
            block_on(m.change_role(g, i, GroupRole::Manager))
        }),
        ("decline", |m, g, i| block_on(m.decline_invite(g, i))),
        ("invite", |m, g, i| block_on(m.invite_member(g, i))),
        ("join", |m, g, i| block_on(m.join(g, i))),
        ("leave", |m, g, i| block_on(m.leave(g, i))),
        ("reject", |m, g, i| block_on(m.reject_join_request(g, i))),
        ("remove", |m, g, i| block_on(m.remove_member(g, i))),
        ("request_join", |m, g, i| block_on(m.request_join(g, i))),
        // The same body again through the general entry point.
        ("remove", |m, g, i| {
            block_on(m.membership_action(
                g,
                groups_types::BatchVerb::Remove,
                groups_types::BatchItem::new(i),
            ))
        }),
    ];
    for (verb, call) in cases {
        let (body, _) = run(serde_json::json!({}), call);
        let expected = fixture(&format!("batch_membership_action.{verb}.request.json"));
        assert_eq!(body, expected, "{verb}");
    }
}

#[test]
fn canned_successes_return_the_membership() {
    require_fixtures!();
    let (_, out) = run(
        fixture("batch_membership_action.add.response.json"),
        |m, g, i| block_on(m.add_member(g, i).role(GroupRole::Admin)),
    );
    let ms = out.unwrap();
    assert_eq!(
        (ms.username.as_str(), &ms.role, &ms.status),
        (
            "sirosen@globusid.org",
            &GroupRole::Admin,
            &MembershipStatus::Active
        )
    );
    let (_, out) = run(
        fixture("batch_membership_action.approve.response.json"),
        |m, g, i| block_on(m.approve_pending(g, i)),
    );
    assert_eq!(out.unwrap().status, MembershipStatus::Active);
    let body = fixture("batch_membership_action.remove.response.json");
    let removed: IdentityId = body["remove"][0]["identity_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let m = manager(queue(vec![(200, body)]));
    let ms = block_on(m.remove_member(FIXTURE_GROUP, removed)).unwrap();
    assert_eq!(ms.identity_id, removed);
    assert_eq!(ms.status, MembershipStatus::Removed);
}

#[test]
fn canned_per_identity_failures_are_errors() {
    require_fixtures!();
    let body = fixture("batch_membership_action.add.already_active.response.json");
    let who = body["errors"]["add"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = manager(queue(vec![(200, body)]));
    let err = block_on(m.add_member(FIXTURE_GROUP, who.as_str())).unwrap_err();
    let e = err.membership_error().unwrap();
    assert!(e.is_already_active());
    assert_eq!(e.identity_id.to_string(), who);
    assert_eq!(
        e.detail.as_deref(),
        Some("The identity is already an active member of the group.")
    );

    let body = fixture("batch_membership_action.remove.no_membership.response.json");
    let who = body["errors"]["remove"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = manager(queue(vec![(200, body)]));
    let err = block_on(m.remove_member(FIXTURE_GROUP, who.as_str())).unwrap_err();
    assert_eq!(err.code(), Some("NO_MEMBERSHIP"));
    assert_eq!(
        err.to_string(),
        format!("remove {who} failed: NO_MEMBERSHIP: Identity has no membership in group.")
    );
}

#[test]
fn create_group_body_matches_globus_sdk_manager() {
    require_fixtures!();
    let m = manager(queue(vec![(200, fixture("create_group.response.json"))]));
    let group = block_on(
        m.create_group("Claptrap's Rough Riders")
            .description("No stairs allowed."),
    )
    .unwrap();
    assert!(!group.name.is_empty());
    let reqs = requests(&m);
    assert_eq!(reqs[0].path, "/v2/groups");
    assert_eq!(
        reqs[0].body,
        Some(fixture("create_group.manager.request.json"))
    );
}

#[test]
fn set_group_policies_bodies_match_globus_sdk_manager() {
    require_fixtures!();
    let reply = fixture("set_group_policies.response.json");
    let m = manager(queue(vec![(200, reply.clone()), (200, reply)]));
    let g: GroupId = FIXTURE_GROUP.parse().unwrap();
    block_on(
        m.set_group_policies(
            g,
            PolicySettings::new()
                .high_assurance(false)
                .group_visibility(GroupVisibility::Private)
                .group_members_visibility(GroupMemberVisibility::Members)
                .join_requests(false)
                .signup_fields([GroupRequiredSignupFields::Address1])
                .authentication_assurance_timeout(28800),
        ),
    )
    .unwrap();
    block_on(
        m.set_group_policies(
            g,
            PolicySettings::new()
                .high_assurance(false)
                .group_visibility(GroupVisibility::Authenticated)
                .group_members_visibility(GroupMemberVisibility::Managers)
                .join_requests(false)
                .signup_fields([GroupRequiredSignupFields::Address1]),
        ),
    )
    .unwrap();
    let reqs = requests(&m);
    assert_eq!(
        reqs[0].body,
        Some(fixture("set_group_policies.request.json"))
    );
    assert_eq!(
        reqs[1].body,
        Some(fixture("set_group_policies.null_timeout.request.json"))
    );
}
