//! `cargo xtask kill-cycles [--cycles N] [--writers W] [--seed S]`: the release
//! emulator with a state file (and a small compaction limit, so kills also land in the
//! middle of compactions), W connections writing at once, `kill -9` at a random moment,
//! a restart, and a check that every acknowledged write is there and the invariants
//! hold; N times (default 50). Fails on the first lost write or broken invariant.
//!
//! The writes: groups created, members added to a shared group and some removed again,
//! and each writer's own group renamed with a counter. After every restart: every
//! acknowledged create is listed; every acknowledged add is active unless its removal
//! was sent; every acknowledged removal is not active; each own group's name counter
//! is at least the last acknowledged and at most the last sent (a write in flight at
//! the kill may or may not have been applied, but nothing acknowledged is missing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::emu::{self, Conn, Process, Rng};

const TOKEN: &str = "kill-cycles-owner";
/// Journal size after which the emulator compacts (small: compactions run often).
const COMPACT_AFTER: &str = "65536";

struct Options {
    cycles: u32,
    writers: u32,
    seed: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        cycles: 50,
        writers: 4,
        seed: emu::clock_seed(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a number"))?;
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{name} {v:?}: expected a positive whole number"))
        };
        match a.as_str() {
            "--cycles" => o.cycles = u32::try_from(num("--cycles")?).map_err(|e| e.to_string())?,
            "--writers" => {
                o.writers = u32::try_from(num("--writers")?.min(64)).map_err(|e| e.to_string())?
            }
            "--seed" => o.seed = num("--seed")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// What is known of one member of the shared group.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Member {
    /// The add was acknowledged.
    Added,
    /// The add was acknowledged, its removal sent and not acknowledged.
    RemoveSent,
    /// The removal was acknowledged.
    Removed,
}

/// Everything acknowledged so far (and what was sent without an answer).
#[derive(Default)]
struct Ledger {
    /// Acknowledged creates, by the token that created them (a caller with 1,000
    /// memberships may not create more, so each writer creates with a new token in
    /// every cycle).
    groups: BTreeMap<String, BTreeSet<String>>,
    members: BTreeMap<String, Member>,
    /// Per writer: its group's id, the last acknowledged and the last sent rename.
    own: Vec<(String, u64, u64)>,
    acknowledged: u64,
    creates: u64,
    adds: u64,
    removes: u64,
    renames: u64,
}

/// One writer's share of a cycle.
struct Writer {
    index: usize,
    next_name: u64,
    next_identity: u64,
    rename: (u64, u64),
    creator: String,
    groups: Vec<String>,
    members: BTreeMap<String, Member>,
    removable: Vec<String>,
    counts: [u64; 4],
    /// An answer that was neither the expected success nor a dropped connection.
    unexpected: Option<String>,
}

/// The outcome of one call: acknowledged, cut off by the kill, or a wrong answer.
fn judge(r: Result<emu::Reply, String>, ok: u16, must_contain: &str) -> Result<bool, String> {
    match r {
        Ok(r) if r.status == ok && r.body.contains(must_contain) => Ok(true),
        Ok(r) => Err(format!("{} {}", r.status, &r.body[..r.body.len().min(300)])),
        Err(_) => Ok(false),
    }
}

impl Writer {
    fn run(&mut self, authority: &str, shared: &str, own: &str, seed: u64, stop: &AtomicBool) {
        let mut conn = Conn::new(authority);
        let mut rng = Rng::new(seed);
        while !stop.load(Ordering::Relaxed) {
            let outcome = match rng.below(4) {
                0 if self.groups.len() < 900 => {
                    let name = format!("k-{}-{}", self.index, self.next_name);
                    self.next_name += 1;
                    let body = format!(r#"{{"name":"{name}"}}"#);
                    let r = conn.call("POST", "/v2/groups", Some(&self.creator), Some(&body));
                    judge(r, 201, &name).inspect(|&acked| {
                        if acked {
                            self.groups.push(name);
                            self.counts[0] += 1;
                        }
                    })
                }
                1 if !self.removable.is_empty() => {
                    let pick = rng.below(self.removable.len() as u64) as usize;
                    let id = self.removable.swap_remove(pick);
                    self.members.insert(id.clone(), Member::RemoveSent);
                    let body = format!(r#"{{"remove":[{{"identity_id":"{id}"}}]}}"#);
                    let path = format!("/v2/groups/{shared}");
                    let r = conn.call("POST", &path, Some(TOKEN), Some(&body));
                    judge(r, 200, &id).inspect(|&acked| {
                        if acked {
                            self.members.insert(id, Member::Removed);
                            self.counts[2] += 1;
                        }
                    })
                }
                2 => {
                    self.rename.1 += 1;
                    let n = self.rename.1;
                    let name = format!("own-{}-{n}", self.index);
                    let body = format!(r#"{{"name":"{name}"}}"#);
                    let r = conn.call(
                        "PUT",
                        &format!("/v2/groups/{own}"),
                        Some(TOKEN),
                        Some(&body),
                    );
                    judge(r, 200, &name).inspect(|&acked| {
                        if acked {
                            self.rename.0 = n;
                            self.counts[3] += 1;
                        }
                    })
                }
                _ => {
                    let id = emu::identity(self.next_identity);
                    self.next_identity += 1;
                    let body = format!(r#"{{"add":[{{"identity_id":"{id}"}}]}}"#);
                    let path = format!("/v2/groups/{shared}");
                    let r = conn.call("POST", &path, Some(TOKEN), Some(&body));
                    judge(r, 200, &id).inspect(|&acked| {
                        if acked {
                            self.members.insert(id.clone(), Member::Added);
                            self.removable.push(id);
                            self.counts[1] += 1;
                        }
                    })
                }
            };
            match outcome {
                Ok(true) => {}
                // The emulator was killed.
                Ok(false) => return,
                Err(e) => {
                    self.unexpected = Some(e);
                    return;
                }
            }
        }
    }
}

/// Check every acknowledged write against the running emulator. Returns how many
/// acknowledged writes were checked; lists the lost ones.
fn verify(authority: &str, shared: &str, ledger: &Ledger) -> Result<(u64, Vec<String>), String> {
    let mut conn = Conn::new(authority);
    let mut lost = Vec::new();
    let inv = conn.call("GET", "/_emulator/invariants", None, None)?;
    if inv.status != 200 || !inv.body.contains("\"ok\":true") {
        return Err(format!("invariants broken after a restart: {}", inv.body));
    }
    for (token, groups) in &ledger.groups {
        let mine = conn.call("GET", "/v2/groups/my_groups", Some(token), None)?;
        if mine.status != 200 {
            return Err(format!("my_groups answered {}", mine.status));
        }
        let names: BTreeSet<&str> = emu::string_values(&mine.body, "name").into_iter().collect();
        for g in groups {
            if !names.contains(g.as_str()) {
                lost.push(format!("created group {g}"));
            }
        }
    }
    let g = conn.call(
        "GET",
        &format!("/v2/groups/{shared}?include=memberships"),
        Some(TOKEN),
        None,
    )?;
    if g.status != 200 {
        return Err(format!("the shared group answered {}", g.status));
    }
    let statuses: BTreeMap<String, String> = emu::member_statuses(&g.body).into_iter().collect();
    for (id, m) in &ledger.members {
        let active = statuses.get(id).is_some_and(|s| s == "active");
        match m {
            Member::Added if !active => lost.push(format!("added member {id}")),
            Member::Removed if active => lost.push(format!("removal of member {id}")),
            _ => {}
        }
    }
    for (gid, acked, sent) in &ledger.own {
        let r = conn.call("GET", &format!("/v2/groups/{gid}"), Some(TOKEN), None)?;
        let n = emu::string_values(&r.body, "name")
            .first()
            .and_then(|n| n.rsplit('-').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if n < *acked || n > *sent {
            lost.push(format!(
                "rename of {gid}: name counter {n}, acknowledged {acked}, sent {sent}"
            ));
        }
    }
    let checked =
        ledger.groups.len() as u64 + ledger.members.len() as u64 + ledger.own.len() as u64;
    Ok((checked, lost))
}

/// Run the cycles.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let bin = emu::build_emulator(root)?;
    let dir = std::env::temp_dir().join(format!("groups-kill-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let state = dir.join("state.json");
    let state_arg = state.to_string_lossy().into_owned();
    let args = [
        "--state",
        state_arg.as_str(),
        "--compact-after",
        COMPACT_AFTER,
    ];
    eprintln!(
        "==> kill-cycles: {} cycles, {} writers, seed {} (repeat with --seed {})",
        o.cycles, o.writers, o.seed, o.seed
    );
    let started = Instant::now();
    let mut rng = Rng::new(o.seed);
    let mut ledger = Ledger::default();
    let mut shared = String::new();
    let mut next_identity = 0u64;
    let mut checks = 0u64;
    let result = (|| -> Result<(), String> {
        for cycle in 0..=o.cycles {
            let mut emu = Process::start(&bin, &args)?;
            if cycle == 0 {
                let mut conn = Conn::new(&emu.authority);
                let make = |conn: &mut Conn, name: &str| -> Result<String, String> {
                    let r = conn.call(
                        "POST",
                        "/v2/groups",
                        Some(TOKEN),
                        Some(&format!(r#"{{"name":"{name}"}}"#)),
                    )?;
                    emu::string_values(&r.body, "id")
                        .first()
                        .map(|s| (*s).to_owned())
                        .filter(|_| r.status == 201)
                        .ok_or(format!("create {name}: {} {}", r.status, r.body))
                };
                shared = make(&mut conn, "shared")?;
                for w in 0..o.writers {
                    let id = make(&mut conn, &format!("own-{w}-0"))?;
                    ledger.own.push((id, 0, 0));
                }
            } else {
                let (checked, lost) = verify(&emu.authority, &shared, &ledger).map_err(|e| {
                    std::thread::sleep(Duration::from_millis(200));
                    match emu.exit_status() {
                        Some(status) => format!(
                            "cycle {cycle}: the emulator exited ({status}) while the writes \
                             were checked: {e}"
                        ),
                        None => format!("cycle {cycle}: checking the writes: {e}"),
                    }
                })?;
                checks += checked;
                if !lost.is_empty() {
                    return Err(format!(
                        "cycle {cycle}: {} acknowledged writes lost: {}",
                        lost.len(),
                        lost.iter().take(10).cloned().collect::<Vec<_>>().join("; ")
                    ));
                }
            }
            if cycle == o.cycles {
                break;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let mut handles = Vec::new();
            for w in 0..o.writers as usize {
                let mut writer = Writer {
                    index: w,
                    next_name: u64::from(cycle) * 1_000_000,
                    next_identity: next_identity + w as u64 * 1_000_000,
                    rename: (ledger.own[w].1, ledger.own[w].2),
                    creator: format!("kill-cycles-creator-{w}-{cycle}"),
                    groups: Vec::new(),
                    members: BTreeMap::new(),
                    removable: ledger
                        .members
                        .iter()
                        .filter(|(id, m)| **m == Member::Added && id_of_writer(id, w, o.writers))
                        .map(|(id, _)| id.clone())
                        .collect(),
                    counts: [0; 4],
                    unexpected: None,
                };
                let (authority, shared, own) = (
                    emu.authority.clone(),
                    shared.clone(),
                    ledger.own[w].0.clone(),
                );
                let seed = rng.next_u64();
                let stop = Arc::clone(&stop);
                handles.push(std::thread::spawn(move || {
                    writer.run(&authority, &shared, &own, seed, &stop);
                    writer
                }));
            }
            std::thread::sleep(Duration::from_millis(rng.below(1200)));
            emu.kill();
            stop.store(true, Ordering::Relaxed);
            let mut acked = 0;
            for h in handles {
                let w = h.join().map_err(|_| "a writer panicked".to_owned())?;
                if let Some(e) = &w.unexpected {
                    return Err(format!(
                        "cycle {}: writer {}: unexpected answer {e}",
                        cycle + 1,
                        w.index
                    ));
                }
                if !w.groups.is_empty() {
                    ledger
                        .groups
                        .insert(w.creator.clone(), w.groups.iter().cloned().collect());
                }
                ledger.members.extend(w.members);
                ledger.own[w.index].1 = w.rename.0;
                ledger.own[w.index].2 = w.rename.1;
                let [c, a, r, n] = w.counts;
                ledger.creates += c;
                ledger.adds += a;
                ledger.removes += r;
                ledger.renames += n;
                acked += c + a + r + n;
            }
            ledger.acknowledged += acked;
            next_identity += u64::from(o.writers) * 1_000_000;
            eprintln!(
                "  cycle {}/{}: {acked} writes acknowledged before the kill ({} in all)",
                cycle + 1,
                o.cycles,
                ledger.acknowledged
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    println!(
        "kill-cycles: {} cycles, {} writers, seed {}: {} acknowledged writes ({} creates, {} adds, \
         {} removes, {} renames), {} checks of acknowledged writes after the restarts, lost 0, \
         invariants held after every restart; {:.0} s",
        o.cycles,
        o.writers,
        o.seed,
        ledger.acknowledged,
        ledger.creates,
        ledger.adds,
        ledger.removes,
        ledger.renames,
        checks,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether identity `id` was added by writer `w` (each writer draws its identities
/// from its own range of a million per cycle).
fn id_of_writer(id: &str, w: usize, writers: u32) -> bool {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| (n / 1_000_000) % u64::from(writers) == w as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse(&a(&["--cycles", "3", "--writers", "2", "--seed", "9"])).unwrap();
        assert_eq!((o.cycles, o.writers, o.seed), (3, 2, 9));
        assert_eq!(parse(&a(&[])).unwrap().cycles, 50);
        assert!(parse(&a(&["--cycles", "0"])).is_err());
        assert!(parse(&a(&["--cycles"])).is_err());
        assert!(parse(&a(&["--bogus"])).is_err());
    }

    #[test]
    fn identities_belong_to_the_writer_that_drew_them() {
        // Writer 1 of 4 in cycle 0 draws from 1,000,000; in cycle 1 from 5,000,000.
        assert!(id_of_writer(&emu::identity(1_000_007), 1, 4));
        assert!(id_of_writer(&emu::identity(5_000_000), 1, 4));
        assert!(!id_of_writer(&emu::identity(2_000_000), 1, 4));
    }
}
