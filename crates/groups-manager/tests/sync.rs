//! Roster sync: the pure plan in many cases, and plan + apply over a
//! scripted in-memory roster (exact requests, idempotency).

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::*;
use groups_manager::{
    BulkOptions, ManagerError, MissingMembers, PlannedMember, SkipReason, SyncOptions, SyncPlan,
};
use groups_types::{GroupId, GroupRole, IdentityId, Membership, MembershipStatus, Nullable};
use serde_json::json;

use GroupRole::{Admin, Manager, Member};
use MembershipStatus::{Active, Declined, Invited, Left, Pending, Rejected, Removed};

fn m(n: u64, role: GroupRole, status: MembershipStatus) -> Membership {
    Membership::new(gid(), iid(n), format!("u{n}@example.org"), role, status)
}

fn plan(
    current: &[Membership],
    me: &[u64],
    desired: &[(u64, GroupRole)],
    options: &SyncOptions,
) -> SyncPlan {
    let caller: HashSet<IdentityId> = me.iter().map(|n| iid(*n)).collect();
    SyncPlan::compute(
        gid(),
        current,
        &caller,
        desired.iter().map(|(n, r)| (iid(*n), r.clone())),
        options,
    )
    .unwrap()
}

fn pm(n: u64, role: GroupRole) -> PlannedMember {
    let mut p = SyncPlan::compute(
        gid(),
        &[],
        &HashSet::new(),
        [(iid(n), role)],
        &SyncOptions::new(),
    )
    .unwrap();
    p.add.remove(0)
}

fn ids_of(v: &[IdentityId]) -> Vec<IdentityId> {
    v.to_vec()
}

// ------------------------------------------------------------------ pure plan

#[test]
fn adds_missing_changes_roles_and_removes_extras() {
    let current = [
        m(0, Admin, Active),   // me
        m(1, Member, Active),  // stays
        m(2, Member, Active),  // -> manager
        m(3, Manager, Active), // extra -> removed
        m(4, Member, Invited), // extra invited -> removed
    ];
    let p = plan(
        &current,
        &[0],
        &[(1, Member), (2, Manager), (5, Member), (6, Admin)],
        &SyncOptions::new(),
    );
    assert_eq!(p.add, [pm(5, Member), pm(6, Admin)]);
    assert!(p.invite.is_empty());
    assert_eq!(p.change_role.len(), 1);
    let c = &p.change_role[0];
    assert_eq!(
        (
            c.identity_id,
            c.from.clone(),
            c.to.clone(),
            c.after_approval
        ),
        (iid(2), Member, Manager, false)
    );
    let removed: Vec<(IdentityId, MembershipStatus)> = p
        .remove
        .iter()
        .map(|r| (r.identity_id, r.status.clone()))
        .collect();
    assert_eq!(removed, [(iid(3), Active), (iid(4), Invited)]);
    // The caller is not desired but is never removed.
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].identity_id, iid(0));
    assert_eq!(p.skipped[0].reason, SkipReason::Caller);
    assert_eq!(p.skipped[0].desired, None);
    assert_eq!(p.unchanged, 1);
    assert_eq!(p.action_count(), 5);
    assert!(!p.is_empty());
}

#[test]
fn never_removes_or_demotes_the_caller_but_may_promote() {
    let current = [
        m(0, Admin, Active),
        m(1, Manager, Active),
        m(2, Member, Active),
    ];
    // 0 and 1 are both the caller's identities.
    let p = plan(
        &current,
        &[0, 1],
        &[(0, Member), (2, Member)],
        &SyncOptions::new(),
    );
    assert!(p.change_role.is_empty());
    assert!(p.remove.is_empty());
    let skipped: Vec<(IdentityId, SkipReason, Option<GroupRole>)> = p
        .skipped
        .iter()
        .map(|s| (s.identity_id, s.reason.clone(), s.desired.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (iid(0), SkipReason::Caller, Some(Member)),
            (iid(1), SkipReason::Caller, None)
        ]
    );
    // Promotion of the caller is planned.
    let p = plan(
        &current,
        &[1],
        &[(0, Admin), (1, Admin), (2, Member)],
        &SyncOptions::new(),
    );
    assert_eq!(p.change_role.len(), 1);
    assert_eq!(p.change_role[0].identity_id, iid(1));
    assert_eq!(p.change_role[0].to, Admin);
}

#[test]
fn protected_identities_are_kept() {
    let current = [
        m(0, Admin, Active),
        m(1, Admin, Active),
        m(2, Member, Active),
    ];
    let options = SyncOptions::new().protect([iid(1)]);
    let p = plan(&current, &[0], &[(0, Admin), (1, Member)], &options);
    assert!(p.change_role.is_empty());
    assert_eq!(p.remove.len(), 1);
    assert_eq!(p.remove[0].identity_id, iid(2));
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].reason, SkipReason::Protected);
}

#[test]
fn never_demotes_or_removes_the_last_admin() {
    // The caller (9) is a manager; the desired roster drops both admins.
    let current = [
        m(9, Manager, Active),
        m(1, Admin, Active),
        m(2, Admin, Active),
        m(3, Member, Active),
    ];
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (2, Member), (3, Member)],
        &SyncOptions::new(),
    );
    // Admin 1 comes first in the member list: its removal is dropped; admin
    // 2 is still demoted.
    assert!(p.remove.is_empty(), "{:?}", p.remove);
    assert_eq!(p.change_role.len(), 1);
    assert_eq!(p.change_role[0].identity_id, iid(2));
    assert!(p.change_role[0].demotes_admin());
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].identity_id, iid(1));
    assert_eq!(p.skipped[0].reason, SkipReason::LastAdmin);

    // Only a demotion: it is dropped.
    let current = [m(9, Manager, Active), m(1, Admin, Active)];
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (1, Member)],
        &SyncOptions::new(),
    );
    assert!(p.is_empty());
    assert_eq!(p.skipped[0].reason, SkipReason::LastAdmin);
    assert_eq!(p.skipped[0].desired, Some(Member));

    // Invitations as admin do not count: still dropped.
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (5, Admin)],
        &SyncOptions::new().missing(MissingMembers::Invite),
    );
    assert!(p.remove.is_empty());
    assert_eq!(p.skipped[0].reason, SkipReason::LastAdmin);
    assert_eq!(p.guarded_admin, None);

    // An admin added in the same plan: the old admin's removal is guarded
    // and runs last, alone.
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (5, Admin)],
        &SyncOptions::new(),
    );
    assert_eq!(p.add, [pm(5, Admin)]);
    assert_eq!(p.remove.len(), 1);
    assert!(p.skipped.is_empty());
    assert_eq!(p.guarded_admin, Some(iid(1)));
    let phases = p.phases();
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[1].len(), 1);
    assert_eq!(phases[1][0].1.identity_id, iid(1));
    assert!(p.describe().contains("only once a new admin is active"));
}

#[test]
fn guarded_admin_is_demoted_only_once_a_new_admin_is_active() {
    let start = || {
        roster(
            &[
                (9, "manager", "active"),
                (1, "admin", "active"),
                (2, "admin", "active"),
            ],
            &[9],
        )
    };
    let want = desired(&[(9, Manager), (1, Member), (5, Admin)]);

    // The new admin is added: both old admins go, the guarded one last.
    let state = start();
    let mgr = roster_manager(state.clone());
    let out = block_on(mgr.sync_members(gid(), want.clone(), SyncOptions::new())).unwrap();
    assert_eq!(out.plan.guarded_admin, Some(iid(1)));
    let report = out.report.unwrap();
    assert!(report.is_complete_success(), "{report}");
    let bodies: Vec<_> = requests(&mgr)
        .iter()
        .skip(1)
        .map(|r| r.body.clone().unwrap())
        .collect();
    let s = |n: u64| iid(n).to_string();
    assert_eq!(
        bodies,
        [
            json!({"add": [{"identity_id": s(5), "role": "admin"}]}),
            json!({"remove": [{"identity_id": s(2)}]}),
            json!({"change_role": [{"identity_id": s(1), "role": "member"}]}),
        ]
    );
    assert!(
        block_on(mgr.sync_members(gid(), want.clone(), SyncOptions::new()))
            .unwrap()
            .plan
            .is_empty()
    );

    // The new admin cannot be added: the guarded admin is kept, unsent.
    let state = start();
    state.lock().unwrap().refuse_add.insert(iid(5));
    let mgr = roster_manager(state.clone());
    let out = block_on(mgr.sync_members(gid(), want, SyncOptions::new())).unwrap();
    let report = out.report.unwrap();
    let codes: Vec<(IdentityId, &str)> = report
        .failures
        .iter()
        .map(|f| (f.identity_id, f.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (iid(5), "NOT_ALLOWED"),
            (
                iid(1),
                groups_manager::MembershipActionError::LAST_ADMIN_KEPT
            )
        ]
    );
    assert_eq!(report.batches, 3);
    // The read, the add, the removal of 2; nothing about 1 was sent.
    assert_eq!(requests(&mgr).len(), 3);
    assert_eq!(
        state.lock().unwrap().members[&iid(1)],
        ("admin".into(), "active".into())
    );
}

#[test]
fn replacing_an_admin_promotes_before_demoting() {
    let current = [
        m(9, Manager, Active),
        m(1, Admin, Active),
        m(2, Member, Active),
    ];
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (1, Member), (2, Admin)],
        &SyncOptions::new(),
    );
    assert!(p.skipped.is_empty());
    assert_eq!(p.change_role.len(), 2);
    let phases = p.phases();
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[0][0].1.identity_id, iid(2)); // promotion first
    assert_eq!(phases[1][0].1.identity_id, iid(1)); // demotion last
}

#[test]
fn pending_desired_are_approved_then_given_their_role() {
    let current = [
        m(0, Admin, Active),
        m(1, Member, Pending),
        m(2, Member, Pending),
    ];
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (1, Member), (2, Manager)],
        &SyncOptions::new(),
    );
    assert_eq!(ids_of(&p.approve), [iid(1), iid(2)]);
    assert_eq!(p.change_role.len(), 1);
    assert!(p.change_role[0].after_approval);
    assert_eq!(p.change_role[0].identity_id, iid(2));
    let phases = p.phases();
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[0].len(), 2);
    assert_eq!(phases[1][0].0.as_str(), "change_role");

    // A pending request with role admin, approved then made a member, is
    // no admin demotion: it stays in the role phase and the guard ignores it.
    let current = [
        m(9, Manager, Active),
        m(1, Admin, Active),
        m(2, Admin, Pending),
    ];
    let p = plan(
        &current,
        &[9],
        &[(9, Manager), (1, Admin), (2, Member)],
        &SyncOptions::new(),
    );
    assert!(p.skipped.is_empty());
    assert!(!p.change_role[0].demotes_admin());
    assert_eq!(p.phases().len(), 2);

    let current = [
        m(0, Admin, Active),
        m(1, Member, Pending),
        m(2, Member, Pending),
    ];
    // Approval off: left alone.
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (1, Member)],
        &SyncOptions::new().approve_pending(false),
    );
    assert!(p.is_empty());
    assert_eq!(p.skipped[0].reason, SkipReason::PendingNotApproved);
}

#[test]
fn pending_extras_are_left_alone_unless_asked_to_reject() {
    let current = [m(0, Admin, Active), m(1, Member, Pending)];
    let p = plan(&current, &[0], &[(0, Admin)], &SyncOptions::new());
    assert!(p.is_empty());
    assert!(p.skipped.is_empty());
    let p = plan(
        &current,
        &[0],
        &[(0, Admin)],
        &SyncOptions::new().reject_pending_extras(true),
    );
    assert_eq!(ids_of(&p.reject), [iid(1)]);
}

#[test]
fn invited_with_the_desired_role_is_left_alone_and_other_role_skipped() {
    let current = [
        m(0, Admin, Active),
        m(1, Member, Invited),
        m(2, Member, Invited),
    ];
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (1, Member), (2, Admin)],
        &SyncOptions::new(),
    );
    assert!(p.is_empty(), "{}", p.describe());
    assert_eq!(p.unchanged, 2);
    assert_eq!(p.skipped[0].identity_id, iid(2));
    assert_eq!(p.skipped[0].reason, SkipReason::InvitedWithOtherRole);
}

#[test]
fn former_members_are_added_again_or_invited() {
    let current = [
        m(0, Admin, Active),
        m(1, Member, Removed),
        m(2, Member, Left),
        m(3, Member, Rejected),
        m(4, Member, Declined),
    ];
    let desired = [
        (0, Admin),
        (1, Member),
        (2, Member),
        (3, Manager),
        (4, Member),
    ];
    let p = plan(&current, &[0], &desired, &SyncOptions::new());
    assert_eq!(p.add.len(), 4);
    assert!(p.remove.is_empty());
    let p = plan(
        &current,
        &[0],
        &desired,
        &SyncOptions::new().missing(MissingMembers::Invite),
    );
    assert!(p.add.is_empty());
    assert_eq!(p.invite.len(), 4);
    assert_eq!(p.invite[2].role, Manager);
    // Former members not desired: nothing to do.
    let p = plan(&current, &[0], &[(0, Admin)], &SyncOptions::new());
    assert!(p.is_empty());
}

#[test]
fn implicit_memberships_are_never_removed() {
    let sub: GroupId = "0e5c5ec8-6458-11e4-b72d-123139141556".parse().unwrap();
    let mut implicit = m(1, Member, Active);
    implicit.source_group_id = Nullable::Value(sub);
    let current = [m(0, Admin, Active), implicit.clone()];
    let p = plan(&current, &[0], &[(0, Admin)], &SyncOptions::new());
    assert!(p.remove.is_empty());
    assert_eq!(
        p.skipped[0].reason,
        SkipReason::Implicit {
            source_group_id: sub
        }
    );
    // Desired with only an implicit membership: a direct one is added.
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (1, Member)],
        &SyncOptions::new(),
    );
    assert_eq!(p.add, [pm(1, Member)]);
    // A direct membership next to an implicit one is what counts.
    let current = [m(0, Admin, Active), implicit, m(1, Member, Active)];
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (1, Member)],
        &SyncOptions::new(),
    );
    assert!(p.is_empty());
    let p = plan(&current, &[0], &[(0, Admin)], &SyncOptions::new());
    assert_eq!(p.remove.len(), 1);
}

#[test]
fn remove_extras_off_only_adds_and_changes() {
    let current = [m(0, Admin, Active), m(1, Member, Active)];
    let p = plan(
        &current,
        &[0],
        &[(2, Member)],
        &SyncOptions::new().remove_extras(false),
    );
    assert_eq!(p.add, [pm(2, Member)]);
    assert!(p.remove.is_empty());
    assert!(p.skipped.is_empty());
}

#[test]
fn conflicting_desired_roles_are_an_error_and_repeats_are_fine() {
    let caller = HashSet::new();
    let err = SyncPlan::compute(
        gid(),
        &[],
        &caller,
        [(iid(1), Member), (iid(1), Admin)],
        &SyncOptions::new(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ManagerError::ConflictingDesiredRoles { identity_id, first: Member, second: Admin } if identity_id == iid(1)
    ));
    assert_eq!(err.identity_id(), Some(iid(1)));
    let p = SyncPlan::compute(
        gid(),
        &[],
        &caller,
        [(iid(1), Member), (iid(1), Member)],
        &SyncOptions::new(),
    )
    .unwrap();
    assert_eq!(p.add.len(), 1);
}

#[test]
fn plan_for_10000_members_and_15000_desired() {
    // 10,000 current members; the desired list keeps the even ones (half as
    // managers), drops the odd ones and adds 5,000 newcomers.
    let current: Vec<Membership> = (0..10_000)
        .map(|n| m(n, if n == 0 { Admin } else { Member }, Active))
        .collect();
    let desired: Vec<(u64, GroupRole)> = (0..10_000)
        .filter(|n| n % 2 == 0)
        .map(|n| {
            (
                n,
                if n == 0 {
                    Admin
                } else if n % 4 == 0 {
                    Manager
                } else {
                    Member
                },
            )
        })
        .chain((10_000..15_000).map(|n| (n, Member)))
        .collect();
    // How fast this is planned is measured by the benchmarks, not here.
    let p = plan(&current, &[0], &desired, &SyncOptions::new());
    assert_eq!(p.add.len(), 5_000);
    assert_eq!(p.remove.len(), 5_000);
    assert_eq!(p.change_role.len(), 2_499);
    assert_eq!(p.unchanged, 2_501);
    // The second plan against the result is empty.
    let after: Vec<Membership> = desired
        .iter()
        .map(|(n, r)| m(*n, r.clone(), Active))
        .collect();
    assert!(plan(&after, &[0], &desired, &SyncOptions::new()).is_empty());
}

#[test]
fn describe_lists_every_action() {
    let current = [
        m(0, Admin, Active),
        m(1, Member, Active),
        m(2, Member, Active),
    ];
    let p = plan(
        &current,
        &[0],
        &[(0, Admin), (2, Manager), (3, Member)],
        &SyncOptions::new(),
    );
    let text = p.describe();
    assert!(text.starts_with(&format!("sync of group {GROUP}: 1 to add, 0 to invite")));
    assert!(text.contains(&format!("add     {} as member", iid(3))));
    assert!(text.contains(&format!("role    {}: member -> manager", iid(2))));
    assert!(text.contains(&format!("remove  {} (active member)", iid(1))));
    assert_eq!(text.lines().count(), 4);
}

// ------------------------------------------------------------------ over a roster

fn roster(entries: &[(u64, &str, &str)], me: &[u64]) -> Arc<Mutex<Roster>> {
    let mut r = Roster::default();
    for (n, role, status) in entries {
        r.set(iid(*n), role, status);
    }
    r.me = me.iter().map(|n| iid(*n)).collect();
    Arc::new(Mutex::new(r))
}

fn desired(entries: &[(u64, GroupRole)]) -> Vec<(IdentityId, GroupRole)> {
    entries.iter().map(|(n, r)| (iid(*n), r.clone())).collect()
}

#[test]
fn dry_run_only_reads_the_group() {
    let state = roster(&[(0, "admin", "active"), (1, "member", "active")], &[0]);
    let mgr = roster_manager(state.clone());
    let out = block_on(mgr.sync_members(
        gid(),
        desired(&[(0, Admin), (2, Member)]),
        SyncOptions::new().dry_run(true),
    ))
    .unwrap();
    assert!(out.report.is_none());
    assert_eq!(out.plan.add.len(), 1);
    assert_eq!(out.plan.remove.len(), 1);
    let reqs = requests(&mgr);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(
        reqs[0].path,
        format!("/v2/groups/{GROUP}?include=memberships%2Cmy_memberships")
    );
    assert_eq!(reqs[0].body, None);
}

#[test]
fn apply_sends_phases_in_order_and_second_run_is_a_no_op() {
    let state = roster(
        &[
            (0, "admin", "active"),   // me
            (1, "admin", "active"),   // -> member (demotion, last phase)
            (2, "member", "active"),  // -> admin (promotion)
            (3, "member", "pending"), // approve, then manager
            (4, "member", "active"),  // extra: removed
            (5, "member", "invited"), // extra: removed
        ],
        &[0],
    );
    let mgr = roster_manager(state.clone());
    let want = desired(&[
        (0, Admin),
        (1, Member),
        (2, Admin),
        (3, Manager),
        (6, Member),
    ]);
    let out = block_on(mgr.sync_members(gid(), want.clone(), SyncOptions::new())).unwrap();
    let report = out.report.expect("applied");
    assert!(
        report.is_complete_success(),
        "{report}: {:?}",
        report.failures
    );
    assert_eq!(report.succeeded(), out.plan.action_count());
    assert_eq!(out.plan.action_count(), 7);

    let reqs = requests(&mgr);
    let s = |n: u64| iid(n).to_string();
    let bodies: Vec<_> = reqs
        .iter()
        .skip(1)
        .map(|r| r.body.clone().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"add": [{"identity_id": s(6), "role": "member"}],
                   "approve": [{"identity_id": s(3)}]}),
            json!({"change_role": [{"identity_id": s(2), "role": "admin"},
                                   {"identity_id": s(3), "role": "manager"}]}),
            json!({"change_role": [{"identity_id": s(1), "role": "member"}],
                   "remove": [{"identity_id": s(4)}, {"identity_id": s(5)}]}),
        ]
    );
    assert!(reqs.iter().skip(1).all(|r| r.method == "POST"));
    {
        let r = state.lock().unwrap();
        assert_eq!(r.members[&iid(3)], ("manager".into(), "active".into()));
        assert_eq!(r.members[&iid(5)].1, "removed");
    }

    // Second run: only the read, an empty plan.
    let again = block_on(mgr.sync_members(gid(), want, SyncOptions::new())).unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan.describe());
    assert!(again.report.is_none());
    assert_eq!(requests(&mgr).len(), reqs.len() + 1);
}

#[test]
fn large_sync_applies_in_batches_with_progress_and_is_idempotent() {
    let mut entries: Vec<(u64, &str, &str)> = vec![(0, "admin", "active")];
    entries.extend((1..1_001).map(|n| (n, "member", "active")));
    let state = roster(&entries, &[0]);
    let mgr = roster_manager(state.clone());
    // Keep 1..=500, drop 501..=1000, add 2000..2700.
    let mut want = desired(&[(0, Admin)]);
    want.extend((1..=500).map(|n| (iid(n), Member)));
    want.extend((2_000..2_700).map(|n| (iid(n), Member)));
    let options = SyncOptions::new().bulk(BulkOptions::new().batch_size(300).concurrency(2));
    let plan = block_on(mgr.plan_sync(gid(), want.clone(), &options)).unwrap();
    assert_eq!((plan.add.len(), plan.remove.len()), (700, 500));
    let progress: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let sink = progress.clone();
    let report = block_on(
        mgr.bulk(gid())
            .options(options.bulk.unwrap())
            .on_progress(move |p| sink.lock().unwrap().push((p.done, p.total)))
            .apply_plan(&plan),
    )
    .unwrap();
    assert!(report.is_complete_success());
    // add: 300, 300, 100; remove: 300, 200.
    assert_eq!(report.batches, 5);
    let progress = progress.lock().unwrap();
    assert_eq!(progress.len(), 5);
    assert_eq!(progress.last().unwrap(), &(1_200, 1_200));
    let again = block_on(mgr.sync_members(gid(), want, options)).unwrap();
    assert!(again.plan.is_empty());
}

#[test]
fn per_identity_failures_of_a_sync_are_reported() {
    // 1 left the group before: the roster refuses change_role for non-active
    // members; here we make the plan stale by changing the roster between
    // planning and applying.
    let state = roster(&[(0, "admin", "active"), (1, "member", "active")], &[0]);
    let mgr = roster_manager(state.clone());
    let plan = block_on(mgr.plan_sync(
        gid(),
        desired(&[(0, Admin), (1, Manager)]),
        &SyncOptions::new(),
    ))
    .unwrap();
    state.lock().unwrap().set(iid(1), "member", "left");
    let report = block_on(mgr.bulk(gid()).apply_plan(&plan)).unwrap();
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].identity_id, iid(1));
    assert_eq!(report.failures[0].code, "INVALID_STATE");
}

#[test]
fn memberships_not_visible_is_an_error() {
    let mgr = manager(queue(vec![(
        200,
        json!({"id": GROUP, "name": "g", "parent_id": null}),
    )]));
    let err =
        block_on(mgr.sync_members(gid(), desired(&[(1, Member)]), SyncOptions::new())).unwrap_err();
    assert!(matches!(err, ManagerError::MembershipsNotVisible { group_id } if group_id == gid()));
    assert_eq!(requests(&mgr).len(), 1);
}

#[test]
fn unknown_caller_is_an_error_rather_than_a_risk() {
    let mgr = manager(queue(vec![(
        200,
        json!({"id": GROUP, "name": "g", "parent_id": null,
               "memberships": [membership(iid(0), "admin", "active")]}),
    )]));
    let err =
        block_on(mgr.sync_members(gid(), desired(&[(1, Member)]), SyncOptions::new())).unwrap_err();
    assert!(
        matches!(err, ManagerError::CallerMembershipsUnknown { group_id } if group_id == gid())
    );
    assert_eq!(requests(&mgr).len(), 1);
}

#[test]
fn read_failure_is_a_groups_error() {
    let mgr = manager(queue(vec![(
        404,
        json!({"code": "GROUP_NOT_FOUND", "detail": "no such group"}),
    )]));
    let err =
        block_on(mgr.sync_members(gid(), desired(&[(1, Member)]), SyncOptions::new())).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(err.code(), Some("GROUP_NOT_FOUND"));
}

// ------------------------------------------------------------------ many random rosters

/// A small deterministic generator (SplitMix64), so the cases are
/// reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn role(&mut self) -> GroupRole {
        [Member, Manager, Admin][self.below(3) as usize].clone()
    }
}

/// Apply a plan to a roster the way the service would (every action
/// succeeds).
fn simulate(current: &[Membership], p: &SyncPlan) -> Vec<Membership> {
    let mut out: Vec<Membership> = current.to_vec();
    let mut set = |id: IdentityId, role: Option<GroupRole>, status: MembershipStatus| match out
        .iter_mut()
        .find(|m| m.identity_id == id)
    {
        Some(m) => {
            if let Some(r) = role {
                m.role = r;
            }
            m.status = status;
        }
        None => out.push(Membership::new(
            gid(),
            id,
            "x",
            role.unwrap_or(Member),
            status,
        )),
    };
    for a in &p.add {
        set(a.identity_id, Some(a.role.clone()), Active);
    }
    for a in &p.invite {
        set(a.identity_id, Some(a.role.clone()), Invited);
    }
    for id in &p.approve {
        set(*id, None, Active);
    }
    for id in &p.reject {
        set(*id, None, Rejected);
    }
    for c in &p.change_role {
        set(c.identity_id, Some(c.to.clone()), Active);
    }
    for r in &p.remove {
        set(r.identity_id, None, Removed);
    }
    out
}

fn active_admins(ms: &[Membership]) -> usize {
    ms.iter()
        .filter(|m| m.status == Active && m.role == Admin)
        .count()
}

#[test]
fn random_rosters_keep_the_invariants_and_converge_in_one_run() {
    let statuses = [
        Active, Active, Active, Invited, Pending, Removed, Left, Declined,
    ];
    for seed in 0..400u64 {
        let mut rng = Rng(seed);
        let pool = 4 + rng.below(30);
        let mut current = Vec::new();
        for n in 0..pool {
            if rng.below(3) > 0 {
                let status = statuses[rng.below(statuses.len() as u64) as usize].clone();
                current.push(m(n, rng.role(), status));
            }
        }
        let me: Vec<u64> = (0..pool).filter(|_| rng.below(8) == 0).collect();
        let mut desired: Vec<(u64, GroupRole)> = Vec::new();
        for n in 0..pool + 5 {
            if rng.below(2) == 0 {
                desired.push((n, rng.role()));
            }
        }
        let options = SyncOptions::new()
            .missing(if rng.below(2) == 0 {
                MissingMembers::Add
            } else {
                MissingMembers::Invite
            })
            .approve_pending(rng.below(4) > 0)
            .reject_pending_extras(rng.below(4) == 0)
            .remove_extras(rng.below(5) > 0);

        let first = plan(&current, &me, &desired, &options);
        let ctx = || format!("seed {seed}: {}", first.describe());
        // The caller is never removed, rejected or demoted.
        for id in me.iter().map(|n| iid(*n)) {
            assert!(
                first.remove.iter().all(|r| r.identity_id != id),
                "{}",
                ctx()
            );
            assert!(first.reject.iter().all(|r| *r != id), "{}", ctx());
            assert!(
                first
                    .change_role
                    .iter()
                    .filter(|c| c.identity_id == id)
                    .all(|c| c.after_approval
                        || matches!(
                            (&c.from, &c.to),
                            (Member, Manager | Admin) | (Manager, Admin)
                        )),
                "{}",
                ctx()
            );
        }
        // No identity is acted on twice, except approve-then-change_role.
        let mut seen = HashSet::new();
        for (verb, item) in first.phases().into_iter().flatten() {
            let fresh = seen.insert(item.identity_id);
            assert!(fresh || verb.as_str() == "change_role", "{}", ctx());
        }
        let after = simulate(&current, &first);
        // An active admin remains if there was one.
        if active_admins(&current) > 0 {
            assert!(active_admins(&after) > 0, "{}", ctx());
        }
        // A second run plans nothing.
        let second = plan(&after, &me, &desired, &options);
        assert!(
            second.is_empty(),
            "{}\nsecond: {}",
            ctx(),
            second.describe()
        );
    }
}
