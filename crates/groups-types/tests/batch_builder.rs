//! The batch builder produces exactly the request bodies of the shared
//! `batch_membership_action.*.request.json` fixtures (those written by
//! globus-sdk's and the JavaScript SDK's helpers).
//!
//! The fixtures stay outside the repository; this test reads them from
//! `GROUPS_FIXTURES_DIR` (set by `cargo xtask ci`). Every batch request
//! fixture there must have a builder case here.

use std::path::Path;

use groups_types::{BatchMembershipActions, GroupRole, IdentityId};
use serde_json::Value;

fn id(s: &str) -> IdentityId {
    s.parse().unwrap()
}

const SDK_USER: &str = "ae332d86-d274-11e5-b885-b31714a110e9";

fn b(n: u32) -> IdentityId {
    id(&format!("00000000-0000-1000-8000-00000000b{n:03}"))
}

/// The builder call for each fixture case.
fn build(case: &str) -> Option<BatchMembershipActions> {
    let user = id(SDK_USER);
    let a = BatchMembershipActions::new();
    Some(match case {
        "accept" => a.accept_invites([user]),
        "add" => a.add_members([user], GroupRole::Admin),
        "approve" => a.approve_pending([user]),
        "change_role" => a.change_roles(GroupRole::Manager, [user]),
        "decline" => a.decline_invites([user]),
        "invite" => a.invite_members([user], GroupRole::Member),
        "join" => a.join([user]),
        "leave" => a.leave([user]),
        "reject" => a.reject_join_requests([user]),
        "remove" => a.remove_members([user]),
        "request_join" => a.request_join([user]),
        "mixed" => a
            .accept_invites([b(1)])
            .add_members([b(2), b(3)], GroupRole::Admin)
            .change_roles(GroupRole::Admin, vec![b(4), b(5)])
            .invite_members([b(6), b(7)], GroupRole::Member)
            .join([b(8), b(9)]),
        "reject_decline" => a
            .reject_join_requests([id("f13c9c26-223d-41cf-b6d7-971f3d3b5dfa")])
            .decline_invites([
                id("c237bf3e-ff0b-4d7f-9abc-5355040c49da"),
                id("3d9cbcd8-beed-4f37-85ab-75d725623da8"),
            ]),
        _ => return None,
    })
}

#[test]
fn builder_matches_shared_batch_request_fixtures() {
    let Some(dir) = std::env::var_os("GROUPS_FIXTURES_DIR") else {
        eprintln!("GROUPS_FIXTURES_DIR not set: shared batch fixtures not compared");
        return;
    };
    let dir = Path::new(&dir);
    let mut compared = 0;
    for entry in std::fs::read_dir(dir).expect("GROUPS_FIXTURES_DIR readable") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(case) = name
            .strip_prefix("batch_membership_action.")
            .and_then(|r| r.strip_suffix(".request.json"))
        else {
            continue;
        };
        let built = build(case).unwrap_or_else(|| panic!("no builder case for {name}"));
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(serde_json::to_value(&built).unwrap(), expected, "{name}");
        assert!(built.duplicate_identities().is_empty(), "{name}");
        compared += 1;
    }
    assert!(
        compared >= 13,
        "expected the 13 shared batch request fixtures, compared {compared}"
    );
}

#[test]
fn a_single_id_is_one_identity_never_characters() {
    // globus-sdk's change_roles iterates a bare string; here one id is one item.
    let user = id(SDK_USER);
    let actions = BatchMembershipActions::new().change_roles(GroupRole::Admin, user);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions.change_role.value().unwrap()[0].identity_id, user);
}

#[test]
fn duplicates_across_and_within_verbs_are_reported_once() {
    let (x, y, z) = (b(1), b(2), b(3));
    let actions = BatchMembershipActions::new()
        .add_members([x, y], GroupRole::Member)
        .remove_members([x])
        .invite_members([z, z, z], GroupRole::Member);
    // Wire order is add, invite, remove: z repeats (in invite) before x does (in remove).
    assert_eq!(actions.duplicate_identities(), vec![z, x]);
}

#[test]
fn status_reason_and_invite_email_reach_the_body() {
    use groups_types::{BatchItem, BatchVerb};
    let actions = BatchMembershipActions::new().with_item(
        BatchVerb::Invite,
        BatchItem::with_role(b(1), GroupRole::Manager)
            .status_reason("join us")
            .invite_email_address("ada@example.org"),
    );
    let body = serde_json::to_value(&actions).unwrap();
    assert_eq!(body["invite"][0]["status_reason"], "join us");
    assert_eq!(body["invite"][0]["invite_email_address"], "ada@example.org");
    assert_eq!(body["invite"][0]["role"], "manager");
}
