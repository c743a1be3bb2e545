//! The full stack at scale and under faults: bulk adds with progress,
//! roster sync (dry run, apply, idempotent second run), a 503 storm retried
//! through, and a fault that exhausts the retries.

mod common;

use std::sync::{Arc, Mutex};

use common::{client, identity, manager, nth_identity};
use globus_groups::manager::SyncOptions;
use globus_groups::sansio::GroupsError;
use globus_groups::types::*;
use groups_emulator::{Emulator, Fault};
use http::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_add_of_five_thousand_identities_reports_progress() {
    let emu = Emulator::start().await.unwrap();
    let admin = manager(&emu, "token-ada");
    let group = admin
        .create_group("Survey volunteers")
        .description("")
        .await
        .unwrap();
    let ids: Vec<IdentityId> = (0..5_000).map(nth_identity).collect();

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let report = admin
        .bulk(group.id)
        .batch_size(500)
        .on_progress(move |p| seen.lock().unwrap().push((p.done, p.total, p.batches)))
        .add_members(ids.iter().copied(), GroupRole::Member)
        .await
        .expect("bulk add");
    assert!(
        report.is_complete_success(),
        "failures: {:?}",
        report.failures
    );
    assert_eq!(report.succeeded(), 5_000);
    assert_eq!(report.batches, 10);

    let progress = progress.lock().unwrap().clone();
    assert_eq!(progress.len(), 10, "one callback per batch");
    assert_eq!(progress.last().map(|p| p.0), Some(5_000));
    assert!(
        progress.windows(2).all(|w| w[0].0 < w[1].0),
        "progress only grows"
    );
    assert!(progress.iter().all(|p| p.1 == 5_000 && p.2 == 10));

    let counts = admin.client().get_statuses().await.unwrap();
    assert_eq!(counts[&group.id].count(&MembershipStatus::Active), 5_001);

    // Adding them again: every identity reported as a typed failure with its code.
    let again = admin
        .bulk(group.id)
        .batch_size(1_000)
        .add_members(ids[..1_200].iter().copied(), GroupRole::Member)
        .await
        .unwrap();
    assert_eq!(again.failed(), 1_200);
    assert!(again.failures.iter().all(|f| f.code == "ALREADY_ACTIVE"));
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_members_plans_applies_and_is_idempotent() {
    let emu = Emulator::start().await.unwrap();
    let admin = manager(&emu, "token-ada");
    let ada = identity(&emu, "token-ada");
    let group = admin.create_group("Roster").description("").await.unwrap();
    // Current: 0..30 members; 30..35 managers.
    admin
        .bulk(group.id)
        .add_members((0..30).map(nth_identity), GroupRole::Member)
        .await
        .unwrap();
    admin
        .bulk(group.id)
        .add_members((30..35).map(nth_identity), GroupRole::Manager)
        .await
        .unwrap();

    // Desired: keep 0..20 as members, promote 20..25, drop 25..35, add 35..50.
    let mut desired: Vec<(IdentityId, GroupRole)> = (0..20)
        .map(|n| (nth_identity(n), GroupRole::Member))
        .collect();
    desired.extend((20..25).map(|n| (nth_identity(n), GroupRole::Manager)));
    desired.extend((35..50).map(|n| (nth_identity(n), GroupRole::Member)));

    let dry = admin
        .sync_members(group.id, desired.clone(), SyncOptions::new().dry_run(true))
        .await
        .unwrap();
    assert!(dry.report.is_none(), "a dry run applies nothing");
    assert_eq!(dry.plan.add.len(), 15);
    assert_eq!(dry.plan.change_role.len(), 5);
    assert_eq!(dry.plan.remove.len(), 10);
    assert!(
        dry.plan.remove.iter().all(|r| r.identity_id != ada),
        "never removes the caller"
    );
    let untouched = admin
        .client()
        .get_group(group.id)
        .include([GroupInclude::Memberships])
        .await
        .unwrap();
    let active = |g: &Group| {
        g.membership_list()
            .iter()
            .filter(|m| m.status == MembershipStatus::Active)
            .count()
    };
    assert_eq!(active(&untouched), 36);

    let applied = admin
        .sync_members(group.id, desired.clone(), SyncOptions::new())
        .await
        .unwrap();
    let report = applied.report.expect("applied");
    assert!(report.is_complete_success(), "{:?}", report.failures);
    let after = admin
        .client()
        .get_group(group.id)
        .include([GroupInclude::Memberships])
        .await
        .unwrap();
    // 40 desired + the caller (kept as admin).
    assert_eq!(active(&after), 41);
    for (id, role) in &desired {
        let m = after
            .membership_list()
            .iter()
            .find(|m| m.identity_id == *id)
            .expect("member");
        assert_eq!((&m.role, &m.status), (role, &MembershipStatus::Active));
    }

    let second = admin
        .sync_members(group.id, desired, SyncOptions::new())
        .await
        .unwrap();
    assert!(
        second.plan.is_empty(),
        "second run plans nothing: {}",
        second.plan.describe()
    );
    assert!(second.report.is_none());
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_storm_is_retried_through() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu, "token-ada");
    let group = c.create_group(GroupCreate::new("Storm")).await.unwrap();
    let before = emu.request_count();
    emu.inject(
        Fault::status(503)
            .retry_after(0)
            .method("GET")
            .path("/v2/groups/*")
            .times(4),
    );
    let got = c
        .get_group(group.id)
        .await
        .expect("retried through the storm");
    assert_eq!(got.id, group.id);
    assert_eq!(emu.request_count() - before, 5, "four 503s then the answer");

    // A batch is retried on 503 too: it is idempotent in effect.
    emu.inject(
        Fault::status(503)
            .method("POST")
            .path("/v2/groups/*")
            .times(2),
    );
    let result = c
        .batch_membership_action(
            group.id,
            BatchMembershipActions::new().add_members(nth_identity(1), GroupRole::Member),
        )
        .await
        .unwrap();
    assert_eq!(result.get(&BatchVerb::Add).len(), 1);
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_that_outlasts_the_retries_is_a_typed_error() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu, "token-ada");
    let group = c.create_group(GroupCreate::new("Outage")).await.unwrap();
    emu.inject(
        Fault::status(502)
            .method("GET")
            .path("/v2/groups/*")
            .times(50),
    );
    let err = c.get_group(group.id).await.unwrap_err();
    assert!(
        matches!(err, GroupsError::RetriesExhausted { .. }),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert!(err.is_retryable());
    emu.clear_faults();
    assert!(
        c.get_group(group.id).await.is_ok(),
        "the client recovers once the fault ends"
    );
    emu.shutdown().await.unwrap();
}
