//! The full stack end to end: the manager and the client over the real
//! hyper transport, against the in-process emulator on loopback, through a
//! realistic life of a group.

mod common;

use common::{client, identity, manager};
use globus_groups::manager::{ManagerError, PolicySettings};
use globus_groups::sansio::GroupsError;
use globus_groups::types::*;
use groups_emulator::Emulator;
use http::StatusCode;

fn role_and_status(group: &Group, who: IdentityId) -> Option<(GroupRole, MembershipStatus)> {
    group
        .membership_list()
        .iter()
        .find(|m| m.identity_id == who)
        .map(|m| (m.role.clone(), m.status.clone()))
}

fn assert_membership_refused(result: Result<Membership, ManagerError>, who: IdentityId) -> String {
    let err = result.expect_err("the action must be refused");
    let failure = err
        .membership_error()
        .unwrap_or_else(|| panic!("expected a per-identity failure, got {err:?}"));
    assert_eq!(failure.identity_id, who);
    assert!(!failure.code.is_empty());
    failure.code.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_from_creation_to_deletion() {
    let emu = Emulator::start().await.expect("emulator starts");
    let admin = manager(&emu, "token-ada");
    let ada = identity(&emu, "token-ada");
    let (bob, carol, dave, eve, frank) = (
        identity(&emu, "token-bob"),
        identity(&emu, "token-carol"),
        identity(&emu, "token-dave"),
        identity(&emu, "token-eve"),
        identity(&emu, "token-frank"),
    );

    // Create, with policies: private, join requests on.
    let group = admin
        .create_group("Telescope operators")
        .description("People who run the dish")
        .await
        .expect("create");
    assert_eq!(group.name, "Telescope operators");
    let gid = group.id;
    let policies = admin
        .set_group_policies(
            gid,
            PolicySettings::new()
                .high_assurance(false)
                .group_visibility(GroupVisibility::Private)
                .group_members_visibility(GroupMemberVisibility::Managers)
                .join_requests(true)
                .signup_fields([GroupRequiredSignupFields::Institution])
                .authentication_assurance_timeout(3600),
        )
        .await
        .expect("set policies");
    assert_eq!(policies.join_requests, Nullable::Value(true));
    assert_eq!(
        policies.authentication_assurance_timeout,
        Nullable::Value(3600)
    );
    let read_back = admin.client().get_group_policies(gid).await.unwrap();
    assert_eq!(
        read_back.group_visibility,
        Nullable::Value(GroupVisibility::Private)
    );
    let doc = admin
        .client()
        .get_group(gid)
        .include([GroupInclude::Memberships])
        .await
        .unwrap();
    assert_eq!(
        role_and_status(&doc, ada),
        Some((GroupRole::Admin, MembershipStatus::Active))
    );

    // Invite, then accept.
    let invited = admin.invite_member(gid, bob).await.unwrap();
    assert_eq!(invited.status, MembershipStatus::Invited);
    let bob_mgr = manager(&emu, "token-bob");
    let seen_by_invitee = bob_mgr
        .client()
        .get_group(gid)
        .include([GroupInclude::MyMemberships])
        .await;
    assert!(
        seen_by_invitee.is_ok(),
        "an invited identity sees the private group"
    );
    let accepted = bob_mgr.accept_invite(gid, bob).await.unwrap();
    assert_eq!(accepted.status, MembershipStatus::Active);

    // Request to join, then approve; another request rejected.
    let carol_mgr = manager(&emu, "token-carol");
    let pending = carol_mgr.request_join(gid, carol).await.unwrap();
    assert_eq!(pending.status, MembershipStatus::Pending);
    let approved = admin.approve_pending(gid, carol).await.unwrap();
    assert_eq!(approved.status, MembershipStatus::Active);
    let dave_mgr = manager(&emu, "token-dave");
    dave_mgr.request_join(gid, dave).await.unwrap();
    let rejected = admin.reject_join_request(gid, dave).await.unwrap();
    assert_eq!(rejected.status, MembershipStatus::Rejected);

    // Approving someone who is not pending fails with the identity and a code.
    assert_membership_refused(admin.approve_pending(gid, bob).await, bob);

    // Change a role, remove a member, a member leaves.
    let promoted = admin
        .change_role(gid, bob, GroupRole::Manager)
        .await
        .unwrap();
    assert_eq!(promoted.role, GroupRole::Manager);
    let removed = admin.remove_member(gid, carol).await.unwrap();
    assert_eq!(removed.status, MembershipStatus::Removed);
    let left = bob_mgr.leave(gid, bob).await.unwrap();
    assert_eq!(left.status, MembershipStatus::Left);

    // The last admin may not leave: a typed per-identity error, nothing changed.
    assert_membership_refused(admin.leave(gid, ada).await, ada);
    let doc = admin
        .client()
        .get_group(gid)
        .include([GroupInclude::Memberships])
        .await
        .unwrap();
    assert_eq!(
        role_and_status(&doc, ada),
        Some((GroupRole::Admin, MembershipStatus::Active))
    );
    assert_eq!(
        role_and_status(&doc, bob),
        Some((GroupRole::Manager, MembershipStatus::Left))
    );
    assert_eq!(
        role_and_status(&doc, carol).map(|r| r.1),
        Some(MembershipStatus::Removed)
    );
    assert_eq!(
        role_and_status(&doc, dave).map(|r| r.1),
        Some(MembershipStatus::Rejected)
    );

    // A private group: a stranger and a former member see 403, never the document.
    for (token, who) in [
        ("token-eve", "a stranger"),
        ("token-bob", "a member who left"),
    ] {
        let err = client(&emu, token).get_group(gid).await.expect_err(who);
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{who}: {err}");
    }
    // A missing group is 404, not 403.
    let missing = GroupId::from_uuid(uuid::Uuid::from_u128(42));
    let err = client(&emu, "token-eve")
        .get_group(missing)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

    // Subgroups: the admin may create one; a stranger may not.
    let child = admin
        .create_group("Night shift")
        .description("Subgroup")
        .parent(gid)
        .await
        .unwrap();
    assert_eq!(child.parent_id, Some(gid));
    let doc = admin
        .client()
        .get_group(gid)
        .include([GroupInclude::ChildIds])
        .await
        .unwrap();
    assert_eq!(
        doc.child_ids.value().map(Vec::as_slice),
        Some(&[child.id][..])
    );
    let children = admin.client().get_children(gid).await.unwrap();
    assert_eq!(children.children.len(), 1);
    let err = manager(&emu, "token-eve")
        .create_group("Hijack")
        .description("")
        .parent(gid)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));

    // allow_add: an identity that opted out cannot be added, only invited.
    let frank_client = client(&emu, "token-frank");
    let mut prefs = IdentityPreferencesMap::new();
    prefs.insert(frank, IdentityPreferences::allow_add(false));
    let saved = frank_client.set_identity_preferences(&prefs).await.unwrap();
    assert_eq!(saved.get(&frank).and_then(|p| p.allow_add), Some(false));
    assert_membership_refused(admin.add_member(gid, frank).await, frank);
    let invited = admin.invite_member(gid, frank).await.unwrap();
    assert_eq!(invited.status, MembershipStatus::Invited);

    // Membership fields: the admin records their own sign-up data.
    let mut fields = MembershipFieldsMap::new();
    let mut mine = MembershipFields::default();
    mine.institution = Nullable::Value("Arecibo".into());
    fields.insert(ada, mine);
    let saved = admin
        .client()
        .set_membership_fields(gid, &fields)
        .await
        .unwrap();
    assert_eq!(saved[&ada].institution.as_deref(), Some("Arecibo"));
    let read = admin.client().get_membership_fields(gid).await.unwrap();
    assert_eq!(read[&ada].institution.as_deref(), Some("Arecibo"));

    // Statuses: counts per status for a group the caller administers.
    let counts = admin.client().get_statuses().await.unwrap();
    let c = &counts[&gid];
    assert_eq!(c.count(&MembershipStatus::Active), 1);
    assert_eq!(c.count(&MembershipStatus::Left), 1);
    assert_eq!(c.count(&MembershipStatus::Removed), 1);
    assert_eq!(c.count(&MembershipStatus::Rejected), 1);
    assert_eq!(c.count(&MembershipStatus::Invited), 1);

    // Delete: the subgroup, then the group; both answer with the last document.
    let gone = admin.client().delete_group(child.id).await.unwrap();
    assert_eq!(gone.id, child.id);
    let gone = admin.client().delete_group(gid).await.unwrap();
    assert_eq!(gone.id, gid);
    let err = admin.client().get_group(gid).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    let _ = eve;

    emu.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_lookup_and_verification() {
    let emu = Emulator::start().await.unwrap();
    let ada = identity(&emu, "token-ada");
    let sub_group = GroupId::from_uuid(uuid::Uuid::from_u128(0xa004));
    let subscription = SubscriptionId::from_uuid(uuid::Uuid::from_u128(0xa003));
    let seed = serde_json::json!({
        "groups": [{"id": sub_group, "name": "Golems R Us", "group_type": "plus",
                    "memberships": [{"identity_id": ada, "role": "admin"}]}],
        "subscriptions": [{"id": subscription, "group_id": sub_group,
                           "name": "Golems R Us", "subscriber_name": "Golem Lab"}]
    });
    emu.load_seed(serde_json::from_value(seed).unwrap())
        .unwrap();

    let ada_client = client(&emu, "token-ada");
    let found = ada_client
        .get_group_by_subscription_id(subscription)
        .await
        .unwrap();
    assert_eq!(found.group_id, sub_group);
    assert_eq!(found.subscription_id, subscription);
    // The limited view never names the subscription.
    assert!(!found.subscription_info.extra.contains_key("name"));

    let group = ada_client
        .create_group(GroupCreate::new("Verified lab"))
        .await
        .unwrap();
    let verified = ada_client
        .set_subscription_admin_verified(group.id, subscription)
        .await
        .unwrap();
    assert_eq!(verified.subscription_admin_verified_id, Some(subscription));
    // A group admin who is not a subscription admin cannot set it.
    let bob_client = client(&emu, "token-bob");
    let own = bob_client
        .create_group(GroupCreate::new("Bob's lab"))
        .await
        .unwrap();
    let err = bob_client
        .set_subscription_admin_verified(own.id, subscription)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    // Clearing through update_group is allowed for the group admin.
    let cleared = ada_client
        .update_group(
            group.id,
            GroupUpdate::new().clear_subscription_admin_verified(),
        )
        .await
        .unwrap();
    assert!(cleared.subscription_admin_verified_id.value().is_none());
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_reaches_the_wire() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu, "token-ada");
    let before = emu.request_count();
    let gid = GroupId::from_uuid(uuid::Uuid::from_u128(7));
    let dup = common::nth_identity(1);
    let actions = BatchMembershipActions::new()
        .add_members(dup, GroupRole::Member)
        .remove_members(dup);
    let err = c.batch_membership_action(gid, &actions).await.unwrap_err();
    assert!(matches!(err, GroupsError::InvalidInput(_)), "{err:?}");
    let err = c
        .batch_membership_action(gid, BatchMembershipActions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, GroupsError::InvalidInput(_)), "{err:?}");
    let err = c.get_group("not-a-uuid").await.unwrap_err();
    assert!(err.to_string().contains("not-a-uuid"), "{err}");
    assert_eq!(emu.request_count(), before, "nothing was sent");
    emu.shutdown().await.unwrap();
}
