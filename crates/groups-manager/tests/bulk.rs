//! Bulk helpers: batching, progress, per-identity failures, failed batches,
//! concurrency.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use groups_manager::{BulkOptions, BulkProgress, MembershipActionError};
use groups_types::{
    BatchItem, BatchMembershipActions, BatchVerb, GroupRole, IdentityId, MembershipStatus,
};
use serde_json::{Value, json};

fn ids(range: std::ops::Range<u64>) -> Vec<IdentityId> {
    range.map(iid).collect()
}

fn batch_ids(r: &Recorded, verb: &str) -> Vec<String> {
    r.body.as_ref().unwrap()[verb]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["identity_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn add_members_splits_into_batches_and_reports_progress() {
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    let seen: Arc<Mutex<Vec<BulkProgress>>> = Arc::default();
    let sink = seen.clone();
    let report = block_on(
        m.bulk(gid())
            .batch_size(500)
            .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
            .add_members(ids(0..1200), GroupRole::Member),
    )
    .unwrap();

    let reqs = requests(&m);
    let sizes: Vec<usize> = reqs.iter().map(|r| batch_ids(r, "add").len()).collect();
    assert_eq!(sizes, [500, 500, 200]);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/v2/groups/{GROUP}"));
        let body = r.body.as_ref().unwrap().as_object().unwrap();
        assert_eq!(body.len(), 1, "only the add key");
        assert!(
            body["add"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["role"] == "member")
        );
    }
    // Order kept across batches.
    let sent: Vec<String> = reqs.iter().flat_map(|r| batch_ids(r, "add")).collect();
    let expected: Vec<String> = ids(0..1200).iter().map(|i| i.to_string()).collect();
    assert_eq!(sent, expected);

    let seen = seen.lock().unwrap();
    let summary: Vec<(usize, usize, usize, usize, usize)> = seen
        .iter()
        .map(|p| (p.batch_index, p.batches, p.done, p.total, p.succeeded))
        .collect();
    assert_eq!(
        summary,
        [
            (0, 3, 500, 1200, 500),
            (1, 3, 1000, 1200, 1000),
            (2, 3, 1200, 1200, 1200)
        ]
    );
    assert!(seen.iter().all(|p| !p.batch_failed && p.failed == 0));

    assert_eq!(report.total, 1200);
    assert_eq!(report.batches, 3);
    assert_eq!(report.succeeded(), 1200);
    assert!(report.is_complete_success());
    assert_eq!(report.successes[0].membership.identity_id, iid(0));
    assert_eq!(report.successes[1199].batch_index, 2);
    assert_eq!(report.to_string(), "1200 of 1200 succeeded in 3 batch(es)");
}

#[test]
fn default_batch_size_is_500_and_manager_options_apply() {
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    block_on(m.bulk(gid()).remove_members(ids(0..501))).unwrap();
    let sizes: Vec<usize> = requests(&m)
        .iter()
        .map(|r| batch_ids(r, "remove").len())
        .collect();
    assert_eq!(sizes, [500, 1]);

    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))))
        .with_bulk_options(BulkOptions::new().batch_size(2));
    block_on(m.bulk(gid()).approve_pending(ids(0..5))).unwrap();
    assert_eq!(requests(&m).len(), 3);
}

#[test]
fn each_bulk_verb_sends_its_key() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "invite",
            json!({"identity_id": iid(1).to_string(), "role": "manager"}),
        ),
        ("remove", json!({"identity_id": iid(1).to_string()})),
        ("approve", json!({"identity_id": iid(1).to_string()})),
        ("reject", json!({"identity_id": iid(1).to_string()})),
        (
            "change_role",
            json!({"identity_id": iid(1).to_string(), "role": "admin"}),
        ),
        (
            "add",
            json!({"identity_id": iid(1).to_string(), "role": "manager"}),
        ),
    ];
    for (verb, item) in cases {
        let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
        let b = m.bulk(gid());
        let one = [iid(1)];
        let report = block_on(async {
            match verb {
                "invite" => b.invite_members(one, GroupRole::Manager).await,
                "remove" => b.remove_members(one).await,
                "approve" => b.approve_pending(one).await,
                "reject" => b.reject_join_requests(one).await,
                "change_role" => b.change_roles(GroupRole::Admin, one).await,
                _ => b.add_members(one, GroupRole::Manager).await,
            }
        })
        .unwrap();
        let reqs = requests(&m);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].body, Some(json!({ verb: [item] })), "{verb}");
        assert_eq!(report.successes[0].verb.as_str(), verb);
    }
}

#[test]
fn per_identity_failures_are_all_reported() {
    // Every identity divisible by 3 fails with ALREADY_ACTIVE; iid(4) with no
    // detail; iid(7) is missing from the answer.
    let m = manager(scripted(|r| {
        let items = r.body.as_ref().unwrap()["add"].as_array().unwrap().clone();
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for item in items {
            let id: IdentityId = item["identity_id"].as_str().unwrap().parse().unwrap();
            let n = (0..10).find(|n| iid(*n) == id).unwrap();
            if n % 3 == 0 {
                bad.push(json!({"identity_id": id.to_string(), "code": "ALREADY_ACTIVE", "detail": "already"}));
            } else if n == 4 {
                bad.push(json!({"identity_id": id.to_string(), "code": "IDENTITY_NOT_FOUND"}));
            } else if n != 7 {
                ok.push(membership(id, "member", "active"));
            }
        }
        (200, json!({"add": ok, "errors": {"add": bad}}))
    }));
    let report = block_on(
        m.bulk(gid())
            .batch_size(4)
            .add_members(ids(0..10), GroupRole::Member),
    )
    .unwrap();
    let failures: Vec<(u64, &str, Option<&str>)> = report
        .failures
        .iter()
        .map(|f| {
            assert_eq!(f.verb, BatchVerb::Add);
            let n = (0..10).find(|n| iid(*n) == f.identity_id).unwrap();
            (n, f.code.as_str(), f.detail.as_deref())
        })
        .collect();
    assert_eq!(
        failures,
        [
            (0, "ALREADY_ACTIVE", Some("already")),
            (3, "ALREADY_ACTIVE", Some("already")),
            (4, "IDENTITY_NOT_FOUND", None),
            (6, "ALREADY_ACTIVE", Some("already")),
            (
                7,
                MembershipActionError::NO_OUTCOME,
                Some("the service's answer did not mention this identity")
            ),
            (9, "ALREADY_ACTIVE", Some("already")),
        ]
    );
    let succeeded: Vec<IdentityId> = report
        .successes
        .iter()
        .map(|s| s.membership.identity_id)
        .collect();
    assert_eq!(succeeded, [iid(1), iid(2), iid(5), iid(8)]);
    assert_eq!(report.failures_with_code("ALREADY_ACTIVE").count(), 4);
    assert_eq!(report.failed(), 6);
    assert!(!report.is_complete_success());
}

#[test]
fn a_failed_batch_keeps_the_results_of_the_others() {
    // The second batch (identities 2,3) gets a 500 and the third a 503 on
    // every attempt: a batch is idempotent in effect, so the core retries
    // both (5 retries each) before the batch fails as a whole.
    let m = manager(scripted(|r| {
        let first = batch_ids(r, "add")[0].clone();
        if first == iid(2).to_string() {
            (500, json!({"code": "INTERNAL", "detail": "boom"}))
        } else if first == iid(4).to_string() {
            (503, json!({"code": "UNAVAILABLE", "detail": "later"}))
        } else {
            (200, echo_batch(r.body.as_ref().unwrap()))
        }
    }));
    let seen: Arc<Mutex<Vec<BulkProgress>>> = Arc::default();
    let sink = seen.clone();
    let report = block_on(
        m.bulk(gid())
            .batch_size(2)
            .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
            .add_members(ids(0..8), GroupRole::Member),
    )
    .unwrap();

    let reqs = requests(&m);
    // 1 + (1 + 5 retries) + (1 + 5 retries) + 1
    assert_eq!(reqs.len(), 14);

    assert_eq!(report.batches, 4);
    let ok: Vec<IdentityId> = report
        .successes
        .iter()
        .map(|s| s.membership.identity_id)
        .collect();
    assert_eq!(ok, [iid(0), iid(1), iid(6), iid(7)]);
    assert_eq!(report.batch_failures.len(), 2);
    let b1 = &report.batch_failures[0];
    assert_eq!(b1.batch_index, 1);
    assert_eq!(
        b1.items,
        [(BatchVerb::Add, iid(2)), (BatchVerb::Add, iid(3))]
    );
    assert_eq!(
        b1.error.status(),
        Some(http::StatusCode::INTERNAL_SERVER_ERROR)
    );
    let b2 = &report.batch_failures[1];
    assert_eq!(b2.batch_index, 2);
    assert_eq!(
        b2.items,
        [(BatchVerb::Add, iid(4)), (BatchVerb::Add, iid(5))]
    );
    assert_eq!(
        b2.error.status(),
        Some(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(matches!(
        b2.error,
        groups_core::GroupsError::RetriesExhausted { attempts: 6, .. }
    ));
    assert_eq!(report.failed(), 4);
    assert_eq!(
        report.failed_items(),
        [
            (BatchVerb::Add, iid(2)),
            (BatchVerb::Add, iid(3)),
            (BatchVerb::Add, iid(4)),
            (BatchVerb::Add, iid(5))
        ]
    );
    assert!(
        report
            .to_string()
            .contains("2 batch(es) failed as a whole (4 item(s))")
    );

    let seen = seen.lock().unwrap();
    let flags: Vec<(usize, bool, usize, usize)> = seen
        .iter()
        .map(|p| (p.batch_index, p.batch_failed, p.succeeded, p.failed))
        .collect();
    assert_eq!(
        flags,
        [
            (0, false, 2, 0),
            (1, true, 2, 2),
            (2, true, 2, 4),
            (3, false, 4, 4)
        ]
    );
}

#[test]
fn repeated_ids_are_dropped_by_the_convenience_helpers() {
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    let report = block_on(
        m.bulk(gid())
            .add_members([iid(1), iid(2), iid(1), iid(2), iid(3)], GroupRole::Member),
    )
    .unwrap();
    let reqs = requests(&m);
    assert_eq!(reqs.len(), 1);
    assert_eq!(batch_ids(&reqs[0], "add").len(), 3);
    assert_eq!(report.total, 3);
}

#[test]
fn a_repeated_identity_in_steps_starts_a_new_batch() {
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    let steps = vec![
        (BatchVerb::Approve, BatchItem::new(iid(1))),
        (BatchVerb::Approve, BatchItem::new(iid(2))),
        (
            BatchVerb::ChangeRole,
            BatchItem::with_role(iid(1), GroupRole::Admin),
        ),
        (BatchVerb::Remove, BatchItem::new(iid(3))),
    ];
    let report = block_on(m.bulk(gid()).batch_size(10).apply_steps(steps)).unwrap();
    let reqs = requests(&m);
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].body,
        Some(
            json!({"approve": [{"identity_id": iid(1).to_string()}, {"identity_id": iid(2).to_string()}]})
        )
    );
    assert_eq!(
        reqs[1].body,
        Some(
            json!({"change_role": [{"identity_id": iid(1).to_string(), "role": "admin"}],
                    "remove": [{"identity_id": iid(3).to_string()}]})
        )
    );
    assert_eq!(report.succeeded(), 4);
}

#[test]
fn apply_splits_a_batch_membership_actions() {
    let m = manager(scripted(|r| (200, echo_batch(r.body.as_ref().unwrap()))));
    let actions = BatchMembershipActions::new()
        .remove_members([iid(1), iid(2), iid(3)])
        .add_members([iid(4)], GroupRole::Manager);
    let report = block_on(m.bulk(gid()).batch_size(2).apply(&actions)).unwrap();
    let reqs = requests(&m);
    // Wire order of the verbs: add first, then remove.
    assert_eq!(
        reqs.iter()
            .map(|r| r.body.clone().unwrap())
            .collect::<Vec<_>>(),
        [
            json!({"add": [{"identity_id": iid(4).to_string(), "role": "manager"}],
                   "remove": [{"identity_id": iid(1).to_string()}]}),
            json!({"remove": [{"identity_id": iid(2).to_string()}, {"identity_id": iid(3).to_string()}]}),
        ]
    );
    assert_eq!(report.succeeded(), 4);
    assert_eq!(
        report.successes[1].membership.status,
        MembershipStatus::Removed
    );
}

#[test]
fn apply_refuses_unknown_keys_before_sending() {
    let m = manager(queue(vec![]));
    let mut actions = BatchMembershipActions::new().remove_members([iid(1)]);
    actions.push(
        &BatchVerb::Unknown("promote".into()),
        BatchItem::new(iid(2)),
    );
    let err = block_on(m.bulk(gid()).apply(&actions)).unwrap_err();
    assert!(err.groups_error().unwrap().is_invalid_input());
    assert!(err.to_string().contains("promote"));
    assert!(requests(&m).is_empty());
}

#[test]
fn empty_input_sends_nothing() {
    let m = manager(queue(vec![]));
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let report = block_on(
        m.bulk(gid())
            .on_progress(move |_| *c.lock().unwrap() += 1)
            .add_members(Vec::new(), GroupRole::Member),
    )
    .unwrap();
    assert_eq!((report.total, report.batches), (0, 0));
    assert!(report.is_complete_success());
    assert_eq!(*calls.lock().unwrap(), 0);
    assert!(requests(&m).is_empty());
}

#[test]
fn invalid_group_id_fails_before_sending() {
    let m = manager(queue(vec![]));
    let err = block_on(m.bulk("not-a-group").remove_members([iid(1)])).unwrap_err();
    assert!(err.groups_error().unwrap().is_invalid_input());
    assert!(requests(&m).is_empty());
}

#[test]
fn bounded_concurrency_keeps_the_report_in_batch_order() {
    let run = |concurrency: usize| {
        let m = manager(
            scripted(|r| {
                let first = batch_ids(r, "add")[0].clone();
                if first == iid(6).to_string() {
                    (400, json!({"code": "BAD", "detail": "bad batch"}))
                } else {
                    (200, echo_batch(r.body.as_ref().unwrap()))
                }
            })
            .yielding(),
        );
        let progress: Arc<Mutex<Vec<usize>>> = Arc::default();
        let sink = progress.clone();
        let report = block_on(
            m.bulk(gid())
                .batch_size(3)
                .concurrency(concurrency)
                .on_progress(move |p| sink.lock().unwrap().push(p.batch_index))
                .add_members(ids(0..20), GroupRole::Member),
        )
        .unwrap();
        let seen = progress.lock().unwrap().clone();
        (report, transport(&m).max_in_flight(), seen)
    };
    let (seq, seq_max, seq_progress) = run(1);
    let (par, par_max, par_progress) = run(3);
    assert_eq!(seq_max, 1);
    assert_eq!(par_max, 3);
    assert_eq!(seq_progress, (0..7).collect::<Vec<_>>());
    let mut sorted = par_progress.clone();
    sorted.sort();
    assert_eq!(sorted, (0..7).collect::<Vec<_>>());

    let ok = |r: &groups_manager::BulkReport| {
        r.successes
            .iter()
            .map(|s| (s.batch_index, s.membership.identity_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(ok(&seq), ok(&par));
    assert_eq!(seq.successes.len(), 17);
    assert_eq!(par.batch_failures.len(), 1);
    assert_eq!(par.batch_failures[0].batch_index, 2);
    assert_eq!(
        par.batch_failures[0]
            .items
            .iter()
            .map(|i| i.1)
            .collect::<Vec<_>>(),
        [iid(6), iid(7), iid(8)]
    );
}
