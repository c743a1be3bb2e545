//! Workload 9: instructions per call, counted by valgrind's callgrind.
//!
//! Wall time on a shared two-CPU machine moves with whatever else runs;
//! instruction counts barely do. Each side of workloads 1, 2b and 3 runs as
//! a child process (`groups-bench profile-client` / `decode-loop`) under
//! `valgrind --tool=callgrind` twice, with `n1` and `n2` calls, and the
//! figure is `(total(n2) - total(n1)) / (n2 - n1)`: instructions per call
//! of this process alone (the emulator is a separate, uninstrumented
//! process), with start-up, set-up and warm-up cancelled out.
//!
//! The same difference, taken per function over `callgrind_annotate`'s
//! exclusive counts, says where each side spends them; those tables are
//! written to `bench-out/callgrind/<side>.txt` (the profiles of the
//! analysis in `BENCHMARKS.md`). Rerun with `cargo xtask bench --callgrind`
//! (this workload alone) or `cargo xtask bench --only 9`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::Ctx;
use crate::report::{Measure, Row};

/// One measured side: a label and the arguments of the child command for
/// `n` calls.
struct Side {
    name: &'static str,
    args: fn(&Ctx, usize) -> Vec<String>,
}

fn profile_args(ctx: &Ctx, side: &str, calls: usize, tasks: usize) -> Vec<String> {
    let mut a = vec![
        "profile-client".to_owned(),
        "--emulator".to_owned(),
        ctx.emulator.display().to_string(),
        "--side".to_owned(),
        side.to_owned(),
        "--calls".to_owned(),
        calls.to_string(),
        "--tasks".to_owned(),
        tasks.to_string(),
    ];
    if tasks == 1 {
        a.push("--current-thread".to_owned());
    }
    a
}

fn decode_args(ctx: &Ctx, mode: &str, iters: usize) -> Vec<String> {
    vec![
        "decode-loop".to_owned(),
        "--file".to_owned(),
        ctx.out
            .join(format!("my_groups_{}.json", crate::w_decode::GROUPS))
            .display()
            .to_string(),
        "--mode".to_owned(),
        mode.to_owned(),
        "--iters".to_owned(),
        iters.to_string(),
    ]
}

/// Whether `valgrind` can be run.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `exe args` under callgrind writing `file`; the total instruction count.
fn callgrind_total(exe: &Path, args: &[String], file: &Path) -> Result<u64, String> {
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(exe)
        .args(args)
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "callgrind of {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("{}: no summary line", file.display()))
}

/// Exclusive instruction counts per function of a callgrind output file.
fn per_function(file: &Path) -> Result<HashMap<String, u64>, String> {
    let out = Command::new("callgrind_annotate")
        .args(["--threshold=100", "--inclusive=no", "--auto=no"])
        .arg(file)
        .output()
        .map_err(|e| format!("callgrind_annotate: {e}"))?;
    if !out.status.success() {
        return Err(format!("callgrind_annotate failed ({})", out.status));
    }
    let mut map = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_start();
        let Some((count, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(n) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        // "1,234 (12.3%)  file:function [object]"
        let Some((_, name)) = rest.split_once(")  ") else {
            continue;
        };
        let name = name.rsplit_once(" [").map_or(name, |(n, _)| n).trim();
        if name == "PROGRAM TOTALS" || name.is_empty() {
            continue;
        }
        // Keep the function, drop the source path.
        let short = match name.split_once(':') {
            Some((path, f)) if path.contains('/') || path.starts_with("???") => f,
            _ => name,
        };
        *map.entry(short.to_owned()).or_insert(0) += n;
    }
    Ok(map)
}

/// Per-call exclusive cost of the functions that differ most between the
/// two runs, largest first.
fn top_per_call(f1: &Path, f2: &Path, dn: f64, k: usize) -> Result<Vec<(f64, String)>, String> {
    let a = per_function(f1)?;
    let b = per_function(f2)?;
    let mut rows: Vec<(f64, String)> = b
        .iter()
        .map(|(name, &v2)| {
            let v1 = a.get(name).copied().unwrap_or(0);
            ((v2 as f64 - v1 as f64) / dn, name.clone())
        })
        .filter(|(v, _)| *v >= 1.0)
        .collect();
    rows.sort_by(|x, y| y.0.total_cmp(&x.0));
    rows.truncate(k);
    Ok(rows)
}

/// Instructions per call of one side, and where they go.
struct Counted {
    per_call: f64,
    top: Vec<(f64, String)>,
}

fn count(ctx: &Ctx, dir: &Path, side: &Side, n1: usize, n2: usize) -> Result<Counted, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let f1 = dir.join(format!("{}-{n1}.out", side.name));
    let f2 = dir.join(format!("{}-{n2}.out", side.name));
    let t1 = callgrind_total(&exe, &(side.args)(ctx, n1), &f1)?;
    let t2 = callgrind_total(&exe, &(side.args)(ctx, n2), &f2)?;
    let dn = (n2 - n1) as f64;
    let per_call = (t2 as f64 - t1 as f64) / dn;
    let top = top_per_call(&f1, &f2, dn, 40)?;
    let mut text = format!(
        "{}: {per_call:.0} instructions per call (callgrind, ({t2} - {t1}) / ({n2} - {n1}))\n\
         exclusive instructions per call by function (difference of the two runs):\n",
        side.name
    );
    for (v, f) in &top {
        text.push_str(&format!("{v:>10.0}  {f}\n"));
    }
    let txt = dir.join(format!("{}.txt", side.name));
    std::fs::write(&txt, text).map_err(|e| format!("{}: {e}", txt.display()))?;
    let _ = std::fs::remove_file(&f1);
    eprintln!(
        "groups-bench: callgrind {}: {per_call:.0} instructions per call",
        side.name
    );
    Ok(Counted { per_call, top })
}

macro_rules! side {
    ($name:literal, profile $side:literal, $tasks:expr) => {
        Side {
            name: $name,
            args: |ctx, n| profile_args(ctx, $side, n, $tasks),
        }
    };
    ($name:literal, decode $mode:literal) => {
        Side {
            name: $name,
            args: |ctx, n| decode_args(ctx, $mode, n),
        }
    };
}

const SEQUENTIAL: &[Side] = &[
    side!("get_group-ours", profile "ours", 1),
    side!("get_group-ours-no-timers", profile "ours-no-timers", 1),
    side!("get_group-transport", profile "transport", 1),
    side!("get_group-bare", profile "bare", 1),
];
const CONCURRENT: &[Side] = &[
    side!("get_group-16-ours", profile "ours", 16),
    side!("get_group-16-transport", profile "transport", 16),
    side!("get_group-16-bare", profile "bare", 16),
];
const MY_GROUPS: &[Side] = &[
    side!("my_groups-ours", profile "ours-mg", 1),
    side!("my_groups-transport", profile "transport-mg", 1),
    side!("my_groups-bare", profile "bare-mg", 1),
];
const ADD_MEMBER: &[Side] = &[
    side!("add_member-ours", profile "ours-am", 1),
    side!("add_member-bare", profile "bare-am", 1),
];
const DECODE: &[Side] = &[
    side!("decode-typed", decode "typed"),
    side!("decode-value", decode "value"),
    side!("decode-plain", decode "plain"),
];

fn top_text(c: &Counted, k: usize) -> String {
    c.top
        .iter()
        .take(k)
        .map(|(v, f)| format!("{} {v:.0}", short_fn(f)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The last path segments of a function name, enough to recognise it:
/// generics dropped, `<Type as Trait>::method` named by type and method, and
/// a nested impl (`<<Group as Deserialize>::deserialize::V as Visitor>::visit_map`)
/// by its innermost type (`Group::visit_map`), which tells the models apart.
fn short_fn(f: &str) -> String {
    let (head, rest) = match f.strip_prefix('<') {
        // Up to the `>` that closes the leading `<`.
        Some(inner) => {
            let mut depth = 1usize;
            let close = inner.char_indices().find_map(|(i, c)| {
                match c {
                    '<' => depth += 1,
                    '>' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            });
            match close {
                Some(i) => (
                    inner[..i].split(" as ").next().unwrap_or(""),
                    &inner[i + 1..],
                ),
                None => (inner, ""),
            }
        }
        None => (f, ""),
    };
    let head = if head.starts_with('<') {
        short_fn(head)
    } else {
        head.split('<').next().unwrap_or(head).to_owned()
    };
    let full = format!("{head}{}", rest.split('<').next().unwrap_or(""));
    let parts: Vec<&str> = full.split("::").filter(|p| !p.is_empty()).collect();
    parts[parts.len().saturating_sub(2)..].join("::")
}

/// Workload 9. Returns rows 9a-9e, or a note when valgrind is missing.
pub fn run(ctx: &Ctx, fixture: Option<&Path>) -> Result<(Vec<Row>, Value, Vec<String>), String> {
    if !available() {
        return Ok((
            Vec::new(),
            Value::Null,
            vec!["workload 9 (instruction counts) not run: valgrind is not installed".to_owned()],
        ));
    }
    let dir: PathBuf = ctx.out.join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (n1, n2) = if ctx.quick { (50, 150) } else { (300, 1300) };
    let mut counted: HashMap<&'static str, Counted> = HashMap::new();
    for s in SEQUENTIAL {
        counted.insert(s.name, count(ctx, &dir, s, n1, n2)?);
    }
    for s in CONCURRENT {
        counted.insert(s.name, count(ctx, &dir, s, n1 * 16 / 10, n2 * 16 / 10)?);
    }
    for s in MY_GROUPS {
        counted.insert(s.name, count(ctx, &dir, s, n1 / 3, n2 / 3)?);
    }
    for s in ADD_MEMBER {
        counted.insert(s.name, count(ctx, &dir, s, n1, n2)?);
    }
    if fixture.is_some() {
        for s in DECODE {
            counted.insert(s.name, count(ctx, &dir, s, 1, 3)?);
        }
    }
    let c = |k: &str| counted.get(k).map_or(f64::NAN, |c| c.per_call);
    let unit = "instructions/call";
    let mut rows = vec![
        Row::new("9a", "instructions per get_group, sequential (current-thread runtime)", Measure::new(c("get_group-ours"), unit), "bare hyper-util client", Some(Measure::new(c("get_group-bare"), unit)), Some(c("get_group-bare") / c("get_group-ours")), "bare instructions ÷ ours (1.0: ours costs what the bare client costs)")
        .note(format!(
            "callgrind, client process only, (count at {n2} calls − at {n1}) ÷ {}. Transport alone (HyperTransport::send): {:.0}; ours without timers (no deadline, no attempt timeout): {:.0}. Ours spends most per call in: {}.",
            n2 - n1, c("get_group-transport"), c("get_group-ours-no-timers"),
            counted.get("get_group-ours").map(|x| top_text(x, 6)).unwrap_or_default()
        )),
        Row::new("9b", "instructions per get_group, 16 concurrent tasks (multi-thread runtime)", Measure::new(c("get_group-16-ours"), unit), "bare hyper-util client", Some(Measure::new(c("get_group-16-bare"), unit)), Some(c("get_group-16-bare") / c("get_group-16-ours")), "bare instructions ÷ ours")
        .note(format!(
            "Transport alone: {:.0}. Valgrind runs one thread at a time, so this counts work, not contention.",
            c("get_group-16-transport")
        )),
        Row::new("9c", "instructions per get_my_groups (50 groups), sequential", Measure::new(c("my_groups-ours"), unit), "bare hyper-util client", Some(Measure::new(c("my_groups-bare"), unit)), Some(c("my_groups-bare") / c("my_groups-ours")), "bare instructions ÷ ours (the bare client does not decode)")
        .note(format!(
            "Transport alone: {:.0}. Ours spends most per call in: {}.",
            c("my_groups-transport"),
            counted.get("my_groups-ours").map(|x| top_text(x, 6)).unwrap_or_default()
        )),
    ];
    if fixture.is_some() {
        let unit = "instructions/decode";
        rows.push(
            Row::new(
                "9d",
                "instructions per decode of 10,000 groups → `Vec<Group>`",
                Measure::new(c("decode-typed"), unit),
                "→ serde_json::Value",
                Some(Measure::new(c("decode-value"), unit)),
                Some(c("decode-value") / c("decode-typed")),
                "Value instructions ÷ typed (decode and drop)",
            )
            .note(format!(
                "(count at 3 decodes − at 1) ÷ 2, drop included. Typed spends most in: {}.",
                counted
                    .get("decode-typed")
                    .map(|x| top_text(x, 6))
                    .unwrap_or_default()
            )),
        );
        rows.push(
            Row::new(
                "9e",
                "instructions per decode of 10,000 groups → `Vec<Group>`",
                Measure::new(c("decode-typed"), unit),
                "plain derive(Deserialize) struct dropping unknown keys",
                Some(Measure::new(c("decode-plain"), unit)),
                Some(c("decode-plain") / c("decode-typed")),
                "plain instructions ÷ typed",
            )
            .note(format!(
                "The plain model (`groups_bench::plain`) spends most in: {}.",
                counted
                    .get("decode-plain")
                    .map(|x| top_text(x, 6))
                    .unwrap_or_default()
            )),
        );
    }
    rows.push(
        Row::new(
            "9f",
            "instructions per add_member via the manager, sequential",
            Measure::new(c("add_member-ours"), "instructions/call"),
            "bare hyper-util client (same one-identity batch, answer not parsed)",
            Some(Measure::new(c("add_member-bare"), "instructions/call")),
            Some(c("add_member-bare") / c("add_member-ours")),
            "bare instructions ÷ ours",
        )
        .note(format!(
            "One fresh identity per call. Ours spends most per call in: {}.",
            counted
                .get("add_member-ours")
                .map(|x| top_text(x, 6))
                .unwrap_or_default()
        )),
    );
    let details: serde_json::Map<String, Value> = counted
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_owned(),
                json!({"per_call": v.per_call, "top": v.top.iter().take(15).map(|(n, f)| json!([n, f])).collect::<Vec<_>>()}),
            )
        })
        .collect();
    Ok((rows, Value::Object(details), Vec::new()))
}

/// (label, workload 9 side) pairs.
type Labelled = &'static [(&'static str, &'static str)];

/// Put the instruction counts beside the ratios they explain: append the
/// per-call figures of workload 9 (`data`: its details) to the notes of
/// rows 1a, 1b, 2b, 3a and 3d.
pub fn annotate(rows: &mut [Row], data: &Value) {
    let count = |k: &str| data[k]["per_call"].as_f64();
    let sides: [(&str, &str, Labelled); 5] = [
        (
            "1a",
            "get_group",
            &[
                ("ours", "get_group-ours"),
                ("transport alone", "get_group-transport"),
                ("bare", "get_group-bare"),
            ],
        ),
        (
            "1b",
            "get_group",
            &[
                ("ours", "get_group-16-ours"),
                ("transport alone", "get_group-16-transport"),
                ("bare", "get_group-16-bare"),
            ],
        ),
        (
            "2b",
            "get_my_groups",
            &[
                ("ours", "my_groups-ours"),
                ("transport alone", "my_groups-transport"),
                ("bare", "my_groups-bare"),
            ],
        ),
        (
            "3a",
            "decode",
            &[("typed", "decode-typed"), ("Value", "decode-value")],
        ),
        (
            "3d",
            "decode",
            &[("typed", "decode-typed"), ("plain derive", "decode-plain")],
        ),
    ];
    for (id, what, list) in sides {
        let figures: Vec<String> = list
            .iter()
            .filter_map(|(label, key)| {
                count(key).map(|n| format!("{label} {}", crate::report::fmt_num(n)))
            })
            .collect();
        if figures.len() != list.len() {
            continue;
        }
        let text = format!(
            "Instructions per {what} (callgrind, workload 9): {}.",
            figures.join(", ")
        );
        if let Some(dst) = rows.iter_mut().find(|r| r.id == id) {
            if !dst.note.is_empty() {
                dst.note.push(' ');
            }
            dst.note.push_str(&text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::short_fn;

    #[test]
    fn function_names_are_shortened_to_type_and_method() {
        assert_eq!(
            short_fn("serde_json::read::SliceRead::skip_to_escape"),
            "SliceRead::skip_to_escape"
        );
        assert_eq!(
            short_fn("<core::hash::sip::Hasher<S> as core::hash::Hasher>::write"),
            "Hasher::write"
        );
        assert_eq!(
            short_fn(
                "<<groups_types::group::Group as serde_core::de::Deserialize>::deserialize::V as serde_core::de::Visitor>::visit_map"
            ),
            "Group::visit_map"
        );
        assert_eq!(short_fn("malloc"), "malloc");
    }
}
