//! `cargo xtask soak --minutes N [--connections C] [--no-state]`: the release emulator
//! with a state file (none with `--no-state`, for comparison) under mixed reads and writes from C connections (default 16) for N minutes;
//! every 5 s the world's invariants are checked (`GET /_emulator/invariants`) and the
//! emulator's resident memory sampled (`VmRSS` of `/proc/<pid>/status`).
//!
//! The workload keeps the world's size bounded (members added and removed from a fixed
//! pool, groups created and deleted, renames), so memory should level off: after a
//! warm-up (a fifth of the run, 30 s to 2 min) the RSS at the end may exceed the RSS at
//! the end of the warm-up by less than 10%. The run fails on any 5xx, any transport
//! error, any invariant break, or more growth than that.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::emu::{self, Conn, Process, Rng};

const TOKEN: &str = "soak-admin";
/// Groups shared by every connection.
const GROUPS: usize = 16;
/// Identities per group that come and go.
const POOL: u64 = 500;
/// Seconds between checks.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Allowed RSS growth after the warm-up.
const MAX_GROWTH: f64 = 0.10;

struct Options {
    minutes: f64,
    connections: usize,
    seed: u64,
    /// Without a state file (to tell what persistence costs in memory).
    no_state: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        minutes: 0.0,
        connections: 16,
        seed: emu::clock_seed(),
        no_state: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--no-state" {
            o.no_state = true;
            continue;
        }
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--minutes" => {
                o.minutes = v
                    .parse::<f64>()
                    .ok()
                    .filter(|m| m.is_finite() && *m > 0.0 && *m <= 24.0 * 60.0)
                    .ok_or(format!("--minutes {v:?}: expected a number of minutes > 0"))?
            }
            "--connections" => {
                o.connections = v
                    .parse::<usize>()
                    .ok()
                    .filter(|c| (1..=256).contains(c))
                    .ok_or(format!("--connections {v:?}: expected 1 to 256"))?
            }
            "--seed" => {
                o.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v:?}: expected a whole number"))?
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.minutes == 0.0 {
        return Err("usage: cargo xtask soak --minutes N [--connections C] [--seed S]".into());
    }
    Ok(o)
}

/// Counters shared by the connections.
#[derive(Default)]
struct Counts {
    reads: AtomicU64,
    writes: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    other_unexpected: AtomicU64,
}

fn record(c: &Counts, write: bool, r: Result<emu::Reply, String>, ok: &[u16]) {
    let kind = if write { &c.writes } else { &c.reads };
    kind.fetch_add(1, Ordering::Relaxed);
    match r {
        Ok(r) if r.status >= 500 => {
            c.server_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("  5xx: {} {}", r.status, &r.body[..r.body.len().min(200)]);
        }
        Ok(r) if !ok.contains(&r.status) => {
            c.other_unexpected.fetch_add(1, Ordering::Relaxed);
        }
        Ok(_) => {}
        Err(e) => {
            c.transport_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("  transport error: {e}");
        }
    }
}

/// One connection's loop until `deadline`.
fn client(authority: &str, groups: &[String], seed: u64, deadline: Instant, c: &Counts) {
    let mut conn = Conn::new(authority);
    let mut rng = Rng::new(seed);
    let mut own: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let g = &groups[rng.below(groups.len() as u64) as usize];
        let id = emu::identity(rng.below(POOL) + 1);
        match rng.below(20) {
            0..=5 => record(
                c,
                false,
                conn.call("GET", &format!("/v2/groups/{g}"), Some(TOKEN), None),
                &[200],
            ),
            6..=8 => record(
                c,
                false,
                conn.call(
                    "GET",
                    &format!("/v2/groups/{g}?include=memberships"),
                    Some(TOKEN),
                    None,
                ),
                &[200],
            ),
            9..=10 => record(
                c,
                false,
                conn.call("GET", "/v2/groups/my_groups", Some(TOKEN), None),
                &[200],
            ),
            11 => record(
                c,
                false,
                conn.call("GET", "/_emulator/health", None, None),
                &[200],
            ),
            12..=14 => {
                let body = format!(r#"{{"add":[{{"identity_id":"{id}"}}]}}"#);
                record(
                    c,
                    true,
                    conn.call("POST", &format!("/v2/groups/{g}"), Some(TOKEN), Some(&body)),
                    &[200],
                );
            }
            15..=16 => {
                let body = format!(r#"{{"remove":[{{"identity_id":"{id}"}}]}}"#);
                record(
                    c,
                    true,
                    conn.call("POST", &format!("/v2/groups/{g}"), Some(TOKEN), Some(&body)),
                    &[200],
                );
            }
            17 => {
                let body = format!(r#"{{"name":"soak {}","description":"pass {n}"}}"#, &g[..8]);
                record(
                    c,
                    true,
                    conn.call("PUT", &format!("/v2/groups/{g}"), Some(TOKEN), Some(&body)),
                    &[200],
                );
            }
            18 if own.len() < 4 => {
                let body = format!(r#"{{"name":"soak temp {n}"}}"#);
                let r = conn.call("POST", "/v2/groups", Some(TOKEN), Some(&body));
                if let Ok(r) = &r
                    && r.status == 201
                    && let Some(id) = emu::string_values(&r.body, "id").first()
                {
                    own.push((*id).to_owned());
                }
                record(c, true, r, &[201]);
            }
            _ => match own.pop() {
                Some(gid) => record(
                    c,
                    true,
                    conn.call("DELETE", &format!("/v2/groups/{gid}"), Some(TOKEN), None),
                    &[200],
                ),
                None => record(
                    c,
                    false,
                    conn.call("GET", "/v2/groups/my_groups", Some(TOKEN), None),
                    &[200],
                ),
            },
        }
    }
    // Leave nothing behind of this connection's temporary groups.
    for gid in own {
        record(
            c,
            true,
            conn.call("DELETE", &format!("/v2/groups/{gid}"), Some(TOKEN), None),
            &[200],
        );
    }
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// The median of a few samples.
fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Run the soak.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let bin = emu::build_emulator(root)?;
    let dir = std::env::temp_dir().join(format!("groups-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let state = dir.join("state.json");
    let state_arg = state.to_string_lossy().into_owned();
    let result = soak(&bin, &state_arg, &o);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn soak(bin: &Path, state: &str, o: &Options) -> Result<(), String> {
    let args: &[&str] = if o.no_state { &[] } else { &["--state", state] };
    let mut emu = Process::start(bin, args)?;
    let total = Duration::from_secs_f64(o.minutes * 60.0);
    let warmup = (total / 5).clamp(Duration::from_secs(30), Duration::from_secs(120));
    eprintln!(
        "==> soak: {:.1} min, {} connections, warm-up {} s, seed {}",
        o.minutes,
        o.connections,
        warmup.as_secs(),
        o.seed
    );
    let mut setup = Conn::new(&emu.authority);
    let mut groups = Vec::new();
    for i in 0..GROUPS {
        let r = setup.call(
            "POST",
            "/v2/groups",
            Some(TOKEN),
            Some(&format!(r#"{{"name":"soak {i}"}}"#)),
        )?;
        let id = emu::string_values(&r.body, "id")
            .first()
            .map(|s| (*s).to_owned())
            .filter(|_| r.status == 201)
            .ok_or(format!("create a group: {} {}", r.status, r.body))?;
        groups.push(id);
    }
    let groups = Arc::new(groups);
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let deadline = started + total;
    let mut rng = Rng::new(o.seed);
    let handles: Vec<_> = (0..o.connections)
        .map(|_| {
            let (authority, groups, counts) = (
                emu.authority.clone(),
                Arc::clone(&groups),
                Arc::clone(&counts),
            );
            let seed = rng.next_u64();
            std::thread::spawn(move || client(&authority, &groups, seed, deadline, &counts))
        })
        .collect();

    let pid = emu.pid();
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut checks = 0u64;
    let mut breaks = Vec::new();
    let mut next_check = started;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        if Instant::now() < next_check {
            continue;
        }
        next_check += CHECK_EVERY;
        if !emu.alive() {
            return Err("the emulator exited during the soak".into());
        }
        samples.push((started.elapsed().as_secs_f64(), rss_kib(pid)?));
        let inv = setup.call("GET", "/_emulator/invariants", None, None)?;
        checks += 1;
        if inv.status != 200 || !inv.body.contains("\"ok\":true") {
            eprintln!("  invariants broken: {}", inv.body);
            breaks.push(inv.body);
        }
    }
    for h in handles {
        h.join().map_err(|_| "a connection panicked".to_owned())?;
    }
    let inv = setup.call("GET", "/_emulator/invariants", None, None)?;
    checks += 1;
    if !inv.body.contains("\"ok\":true") {
        breaks.push(inv.body);
    }
    samples.push((started.elapsed().as_secs_f64(), rss_kib(pid)?));
    emu.kill();

    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warmup.as_secs_f64())
        .map(|(_, r)| *r)
        .collect();
    if after.len() < 4 {
        return Err(
            "too short a run to judge memory (fewer than 4 samples after the warm-up)".into(),
        );
    }
    let base = median(after[..3].to_vec());
    let end = median(after[after.len() - 3..].to_vec());
    let max = after.iter().copied().max().unwrap_or(0);
    let growth = end as f64 / base as f64 - 1.0;
    let secs = started.elapsed().as_secs_f64();
    let reads = counts.reads.load(Ordering::Relaxed);
    let writes = counts.writes.load(Ordering::Relaxed);
    let e5 = counts.server_errors.load(Ordering::Relaxed);
    let et = counts.transport_errors.load(Ordering::Relaxed);
    let other = counts.other_unexpected.load(Ordering::Relaxed);
    println!(
        "soak: {:.1} min, {} connections: {} requests ({reads} reads, {writes} writes, {:.0}/s), \
         5xx {e5}, transport errors {et}, other unexpected statuses {other}; invariants checked \
         {checks} times, {} breaks; RSS after the warm-up {:.1} MiB -> {:.1} MiB at the end \
         ({:+.1}%), peak {:.1} MiB; {} samples",
        secs / 60.0,
        o.connections,
        reads + writes,
        (reads + writes) as f64 / secs,
        breaks.len(),
        base as f64 / 1024.0,
        end as f64 / 1024.0,
        growth * 100.0,
        max as f64 / 1024.0,
        samples.len()
    );
    // The curve, one sample a minute (or every sample for short runs), to tell a
    // level that settles from a steady climb.
    let every = (samples.len() / 12).max(1);
    let curve: Vec<String> = samples
        .iter()
        .step_by(every)
        .map(|(t, r)| format!("{t:.0}s {:.1}", *r as f64 / 1024.0))
        .collect();
    println!("soak: RSS MiB over time: {}", curve.join(", "));
    let mut failed = Vec::new();
    if e5 > 0 || et > 0 {
        failed.push(format!("{e5} 5xx and {et} transport errors"));
    }
    if !breaks.is_empty() {
        failed.push(format!("{} invariant breaks", breaks.len()));
    }
    if growth >= MAX_GROWTH {
        failed.push(format!("RSS grew {:.1}% after the warm-up", growth * 100.0));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("soak failed: {}", failed.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse(&a(&["--minutes", "0.5", "--connections", "4"])).unwrap();
        assert_eq!((o.minutes, o.connections), (0.5, 4));
        assert!(parse(&a(&[])).is_err(), "--minutes is required");
        assert!(parse(&a(&["--minutes", "0"])).is_err());
        assert!(parse(&a(&["--minutes", "nan"])).is_err());
        assert!(parse(&a(&["--minutes", "1", "--connections", "0"])).is_err());
        assert!(parse(&a(&["--minutes"])).is_err());
    }

    #[test]
    fn rss_of_this_process_is_read() {
        let kib = rss_kib(std::process::id()).unwrap();
        assert!(kib > 100, "{kib} KiB");
    }
}
