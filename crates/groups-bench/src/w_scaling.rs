//! Workload 5: scaling of large membership changes, end to end through our
//! stack against the emulator (build the payload, send, receive, decode).
//!
//! * batch: one `batch_membership_action` adding 100, 1,000 and 10,000 new
//!   identities to a fresh group;
//! * sync: `GroupsManager::sync_members` on a group of 100, 1,000 and 10,000
//!   members (set up untimed) towards a desired list that drops 10% of them
//!   and adds 10% new ones: one read of the group with its memberships, the
//!   plan, then the manager's batches (its default batch size, one at a time).
//!
//! Each size runs on fresh groups (median of 5 interleaved repetitions in a
//! full run); the figure is
//! microseconds per identity (batch) or per group member (sync).

use std::time::Instant;

use groups_bench::{KIND_IDENTITY, bench_uuid, median};
use groups_manager::{GroupsManager, SyncOptions};
use groups_types::{BatchMembershipActions, BatchVerb, GroupId, GroupRole, IdentityId};
use serde_json::{Value, json};

use crate::net::Api;
use crate::proc::ServerProcess;
use crate::report::{Measure, Row};
use crate::{Ctx, ours};

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const TOKEN: &str = "bench-w5";

struct Ids {
    next: u64,
}

impl Ids {
    fn take(&mut self, n: usize) -> Vec<IdentityId> {
        let ids = (0..n as u64)
            .map(|i| IdentityId::from(bench_uuid(KIND_IDENTITY, 10_000_000 + self.next + i)))
            .collect();
        self.next += n as u64;
        ids
    }
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value), String> {
    let reps = if ctx.quick { 3 } else { 5 };
    let mut emu =
        ServerProcess::start_bin("groups-emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let api = Api::new(&emu.base_url, TOKEN);
    let client = ours::client(&emu.base_url, TOKEN)?;
    let manager = GroupsManager::new(client.clone());
    let mut ids = Ids { next: 0 };
    let mut group_no = 0;

    // Warm-up: connection and code paths.
    {
        let gid: GroupId = api
            .create_group("w5 warm-up")
            .await?
            .parse()
            .map_err(|e| format!("{e}"))?;
        let actions = BatchMembershipActions::new().add_members(ids.take(50), GroupRole::Member);
        client
            .batch_membership_action(gid, &actions)
            .await
            .map_err(|e| e.to_string())?;
    }

    let mut batch_us: Vec<f64> = Vec::new();
    let mut sync_us: Vec<f64> = Vec::new();
    let mut details = serde_json::Map::new();
    // Repetitions are the outer loop, so load drift on a shared machine
    // hits every size alike.
    let mut samples: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); SIZES.len()];
    let mut bulk_samples: Vec<Vec<f64>> = vec![Vec::new(); SIZES.len()];
    for _ in 0..reps {
        for (k, &n) in SIZES.iter().enumerate() {
            let (b, s) = &mut samples[k];
            // One batch of n adds.
            group_no += 1;
            let gid: GroupId = api
                .create_group(&format!("w5 batch {group_no}"))
                .await?
                .parse()
                .map_err(|e| format!("{e}"))?;
            let new_ids = ids.take(n);
            let started = Instant::now();
            let actions = BatchMembershipActions::new().add_members(new_ids, GroupRole::Member);
            let result = client
                .batch_membership_action(gid, &actions)
                .await
                .map_err(|e| format!("batch of {n}: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            if result.get(&BatchVerb::Add).len() != n {
                return Err(format!(
                    "batch of {n}: {} added",
                    result.get(&BatchVerb::Add).len()
                ));
            }
            b.push(secs);

            // The same additions through the manager's bulk helper (its
            // default batches of 500, one at a time).
            group_no += 1;
            let gid: GroupId = api
                .create_group(&format!("w5 bulk {group_no}"))
                .await?
                .parse()
                .map_err(|e| format!("{e}"))?;
            let new_ids = ids.take(n);
            let started = Instant::now();
            let report = manager
                .bulk(gid)
                .add_members(new_ids, GroupRole::Member)
                .await
                .map_err(|e| format!("bulk add of {n}: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            if !report.is_complete_success() || report.succeeded() != n {
                return Err(format!("bulk add of {n}: {} succeeded", report.succeeded()));
            }
            bulk_samples[k].push(secs);

            // sync_members on a group of n: drop 10%, add 10% new.
            group_no += 1;
            let gid_s = api.create_group(&format!("w5 sync {group_no}")).await?;
            let gid: GroupId = gid_s.parse().map_err(|e| format!("{e}"))?;
            let members = ids.take(n);
            for chunk in members.chunks(5_000) {
                let strings: Vec<String> = chunk.iter().map(ToString::to_string).collect();
                api.add_members(&gid_s, &strings).await?;
            }
            let keep = &members[n / 10..];
            let fresh = ids.take(n / 10);
            let desired: Vec<(IdentityId, GroupRole)> = keep
                .iter()
                .chain(fresh.iter())
                .map(|id| (*id, GroupRole::Member))
                .collect();
            let started = Instant::now();
            let outcome = manager
                .sync_members(gid, desired, SyncOptions::new())
                .await
                .map_err(|e| format!("sync of {n}: {e}"))?;
            let secs = started.elapsed().as_secs_f64();
            let report = outcome
                .report
                .ok_or_else(|| format!("sync of {n}: nothing applied"))?;
            if !report.is_complete_success() || report.succeeded() != 2 * (n / 10) {
                return Err(format!(
                    "sync of {n}: {} succeeded, {} failed (expected {})",
                    report.succeeded(),
                    report.failed(),
                    2 * (n / 10)
                ));
            }
            s.push(secs);
        }
    }
    let mut bulk_us: Vec<f64> = Vec::new();
    for (k, &n) in SIZES.iter().enumerate() {
        let (b, s) = &mut samples[k];
        let bulk = &mut bulk_samples[k];
        details.insert(
            n.to_string(),
            json!({"batch_s": b, "sync_s": s, "bulk_s": bulk}),
        );
        bulk_us.push(median(bulk) * 1e6 / n as f64);
        batch_us.push(median(b) * 1e6 / n as f64);
        sync_us.push(median(s) * 1e6 / n as f64);
    }
    emu.check_alive()?;

    let note = |v: &[f64], per: &str| {
        format!(
            "µs per {per} at 100 / 1,000 / 10,000: {:.2} / {:.2} / {:.2}; median of {reps}.",
            v[0], v[1], v[2]
        )
    };
    let rows = vec![
        Row::new(
            "5a",
            "one batch of 10,000 adds, per identity",
            Measure::new(batch_us[2], "µs/identity"),
            "one batch of 1,000",
            Some(Measure::new(batch_us[1], "µs/identity")),
            Some(batch_us[2] / batch_us[1]),
            "per-identity time at 10,000 ÷ at 1,000",
        )
        .note(note(&batch_us, "identity")),
        Row::new(
            "5b",
            "sync_members on a group of 10,000 (−10%, +10%), per member",
            Measure::new(sync_us[2], "µs/member"),
            "group of 1,000",
            Some(Measure::new(sync_us[1], "µs/member")),
            Some(sync_us[2] / sync_us[1]),
            "per-member time at 10,000 ÷ at 1,000",
        )
        .note(note(&sync_us, "member")),
        Row::new(
            "5c",
            "manager bulk add_members of 10,000 (batches of 500), per identity",
            Measure::new(bulk_us[2], "µs/identity"),
            "bulk add of 1,000",
            Some(Measure::new(bulk_us[1], "µs/identity")),
            Some(bulk_us[2] / bulk_us[1]),
            "per-identity time at 10,000 ÷ at 1,000",
        )
        .note(note(&bulk_us, "identity")),
    ];
    Ok((rows, Value::Object(details)))
}
