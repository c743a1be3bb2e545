//! Workload 7: the cost of an acknowledged write with a state file, at an empty state
//! and at a large one (50 MB of groups and memberships in a full run, 10 MB in a quick
//! one).
//!
//! Two emulators run with `--state` side by side. The large one is filled with batches
//! of 10,000 new members (spread over groups of 10,000), then killed and started again,
//! so the measured writes start from a compacted snapshot and an empty journal. Each
//! measured write is one `add` of one new identity to a group (a group of 10,000 on the
//! large side), sent sequentially on one connection; the sides take turns in rounds so
//! load drift on a shared machine hits both alike. The figure is the median latency;
//! the ratio large ÷ empty is the goal (the journal makes a write cost its change, not
//! the state).

use std::path::Path;
use std::time::Instant;

use groups_bench::{KIND_IDENTITY, bench_uuid, median, percentile};
use serde_json::{Value, json};

use crate::Ctx;
use crate::net::Api;
use crate::proc::ServerProcess;
use crate::report::{Measure, Row};

const TOKEN: &str = "bench-w7";
/// Members per batch while filling (the emulator's largest batch) and per group.
const FILL_BATCH: usize = 10_000;

fn start(ctx: &Ctx, state: &Path) -> Result<ServerProcess, String> {
    let state = state.to_str().ok_or("state path is not UTF-8")?;
    ServerProcess::start_bin(
        "groups-emulator (state file)",
        &ctx.emulator,
        &["serve", "--port", "0", "--state", state],
    )
}

fn identity(n: u64) -> String {
    bench_uuid(KIND_IDENTITY, 70_000_000 + n).to_string()
}

/// Sequential one-member adds; seconds each.
async fn writes(api: &Api, group: &str, next: &mut u64, n: usize) -> Result<Vec<f64>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = identity(*next);
        *next += 1;
        let started = Instant::now();
        api.add_members(group, &[id]).await?;
        out.push(started.elapsed().as_secs_f64());
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value), String> {
    let target_bytes: u64 = if ctx.quick { 10 << 20 } else { 50 << 20 };
    let (rounds, per_round) = if ctx.quick { (4, 25) } else { (10, 50) };
    let dir = ctx.out.join("w7-state");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let empty_state = dir.join("empty.json");
    let large_state = dir.join("large.json");
    let mut next: u64 = 0;

    // Fill the large side.
    let fill_started = Instant::now();
    let mut large = start(ctx, &large_state)?;
    let mut big_group = String::new();
    {
        let api = Api::new(&large.base_url, TOKEN);
        let mut groups = 0;
        loop {
            let snapshot = std::fs::metadata(&large_state).map_or(0, |m| m.len());
            let journals: u64 = std::fs::read_dir(&dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("large.json.journal.")
                })
                .map(|e| e.metadata().map_or(0, |m| m.len()))
                .sum();
            // The journal holds each batch a little more verbosely than the snapshot.
            if snapshot.max(journals * 3 / 4) >= target_bytes || groups >= 200 {
                break;
            }
            groups += 1;
            let gid = api.create_group(&format!("w7 large {groups}")).await?;
            let ids: Vec<String> = (0..FILL_BATCH as u64).map(|i| identity(next + i)).collect();
            next += FILL_BATCH as u64;
            api.add_members(&gid, &ids).await?;
            big_group = gid;
        }
    }
    // Start again: the replay folds the journal into one snapshot.
    large.stop();
    let mut large = start(ctx, &large_state)?;
    let state_bytes = std::fs::metadata(&large_state)
        .map_err(|e| format!("{}: {e}", large_state.display()))?
        .len();
    let fill_secs = fill_started.elapsed().as_secs_f64();

    let mut empty = start(ctx, &empty_state)?;
    let empty_api = Api::new(&empty.base_url, TOKEN);
    let large_api = Api::new(&large.base_url, TOKEN);
    let small_group = empty_api.create_group("w7 empty").await?;
    // Warm-up: connections and code paths on both sides.
    writes(&empty_api, &small_group, &mut next, 10).await?;
    writes(&large_api, &big_group, &mut next, 10).await?;

    let mut empty_s = Vec::new();
    let mut large_s = Vec::new();
    for _ in 0..rounds {
        empty_s.extend(writes(&empty_api, &small_group, &mut next, per_round).await?);
        large_s.extend(writes(&large_api, &big_group, &mut next, per_round).await?);
    }
    empty.check_alive()?;
    large.check_alive()?;
    empty.stop();
    large.stop();
    let _ = std::fs::remove_dir_all(&dir);

    let e50 = median(&mut empty_s) * 1e3;
    let l50 = median(&mut large_s) * 1e3;
    let e99 = percentile(&mut empty_s, 99.0) * 1e3;
    let l99 = percentile(&mut large_s, 99.0) * 1e3;
    let mb = state_bytes as f64 / 1e6;
    let row = Row::new(
        "7a",
        &format!("one-member add with a state file, at a {mb:.0} MB state (median)"),
        Measure::new(l50, "ms"),
        "at an empty state",
        Some(Measure::new(e50, "ms")),
        Some(l50 / e50),
        "median write latency at the large state ÷ at the empty state",
    )
    .note(format!(
        "p99 {l99:.2} ms at {mb:.1} MB vs {e99:.2} ms empty; {} writes a side in {rounds} \
         alternating rounds; state filled in {fill_secs:.0} s{}.",
        empty_s.len(),
        if ctx.quick {
            " (quick run: 10 MB, not the goal's 50 MB)"
        } else {
            ""
        }
    ));
    let details = json!({
        "state_bytes": state_bytes,
        "empty_ms": {"p50": e50, "p99": e99},
        "large_ms": {"p50": l50, "p99": l99},
        "writes_per_side": empty_s.len(),
        "fill_seconds": fill_secs,
    });
    Ok((vec![row], details))
}
