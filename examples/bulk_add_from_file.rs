//! Add every identity listed in a file to a group, in batches, with a
//! progress line per batch and a summary of what failed and why.
//!
//! ```text
//! cargo run --example bulk_add_from_file -- --demo examples/data/identities.txt
//! cargo run --example bulk_add_from_file -- --demo examples/data/identities.txt --batch-size 250
//! cargo run --example bulk_add_from_file -- --demo examples/data/identities_with_errors.txt
//! GLOBUS_GROUPS_TOKEN=... cargo run --example bulk_add_from_file -- GROUP_ID ids.txt --role member
//! ```
//!
//! The file holds one identity id (a UUID) per line; blank lines and `#`
//! comments are ignored. The whole file is checked before anything is sent:
//! if any line is not an identity id, every bad line is reported with its
//! number and nothing is sent.
//!
//! Without `GLOBUS_GROUPS_TOKEN` the example starts the embedded emulator
//! on 127.0.0.1 with a demo group (`--demo`), in which a few of the file's
//! identities are set up to fail (already a member, opted out of being
//! added, left the group before), so the summary has something to show.
//! With `GLOBUS_GROUPS_TOKEN` set it talks to the real Globus Groups service
//! (or the one named by `GLOBUS_SDK_ENVIRONMENT` /
//! `GLOBUS_SDK_SERVICE_URL_GROUPS`).
//!
//! Exit status: 0 when every batch was answered (per-identity failures are
//! listed in the summary), 1 on errors (unreadable or bad file, unknown
//! group, a batch that failed as a whole), 2 on bad usage.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use globus_groups::hyper_client::HyperTransport;
use globus_groups::manager::{BulkProgress, BulkReport, GroupsManager};
use globus_groups::sansio::GroupsError;
use globus_groups::types::{GroupId, GroupInclude, GroupRole, IdentityId};
use groups_emulator::world::Seed;

mod backend;
mod common;
use backend::{Backend, DEMO_TOKEN, TOKEN_VAR, token_from_env};
use common::print_table;

const USAGE: &str = "\
usage: bulk_add_from_file <GROUP_ID | --demo> <FILE> [--batch-size N] [--role ROLE]

  GROUP_ID       the group to add to (needs GLOBUS_GROUPS_TOKEN)
  --demo         use a demo group in the embedded emulator (GLOBUS_GROUPS_TOKEN unset)
  FILE           one identity id per line; blank lines and # comments ignored
  --batch-size N identities per request (default 100)
  --role ROLE    member (default), manager or admin";

const DEMO_GROUP: &str = "5e1f0000-0000-4000-8000-0000005e1f01";
const DEFAULT_BATCH_SIZE: usize = 100;
/// Failures listed one per line in the summary (all are counted by code).
const FAILURES_SHOWN: usize = 50;

#[derive(Debug)]
struct Args {
    /// `None`: the demo group.
    group: Option<GroupId>,
    file: PathBuf,
    batch_size: usize,
    role: GroupRole,
}

/// An identity from the file, with the line it came from.
#[derive(Clone, Copy, Debug)]
struct Entry {
    line: usize,
    id: IdentityId,
}

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let token = match token_from_env() {
        Ok(token) => token,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    match (&token, args.group) {
        (Some(_), None) => {
            eprintln!(
                "error: --demo uses the embedded emulator; unset {TOKEN_VAR} to run it, or give a group id\n\n{USAGE}"
            );
            return ExitCode::from(2);
        }
        (None, Some(_)) => {
            eprintln!(
                "error: a group id needs {TOKEN_VAR} (a Globus access token for the Groups API); without one, use --demo\n\n{USAGE}"
            );
            return ExitCode::from(2);
        }
        _ => {}
    }

    // Check the whole file before anything is started or sent.
    let entries = match read_identity_file(&args.file) {
        Ok(entries) => entries,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };

    let backend =
        match Backend::connect(token, "bulk_add_from_file example", "a demo group", || {
            demo_seed(&entries)
        })
        .await
        {
            Ok(backend) => backend,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        };
    let result = run(&GroupsManager::new(backend.client.clone()), &args, &entries).await;
    backend.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments, or `None` for `--help`.
fn parse_args(argv: &[String]) -> Result<Option<Args>, String> {
    let mut positional: Vec<&str> = Vec::new();
    let mut demo = false;
    let mut batch_size = DEFAULT_BATCH_SIZE;
    let mut role = GroupRole::Member;
    let mut iter = argv.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--demo" => demo = true,
            "--batch-size" => {
                let v = value("--batch-size")?;
                batch_size = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--batch-size must be a positive number, not {v:?}")),
                };
            }
            "--role" => {
                let v = value("--role")?;
                role = GroupRole::KNOWN
                    .iter()
                    .find(|r| r.as_str().eq_ignore_ascii_case(&v))
                    .cloned()
                    .ok_or_else(|| format!("--role must be member, manager or admin, not {v:?}"))?;
            }
            f if f.starts_with("--") => return Err(format!("unknown option {f:?}")),
            _ => positional.push(arg),
        }
    }
    let (group, file) = match (demo, positional.as_slice()) {
        (true, [file]) => (None, *file),
        (false, [group, file]) => {
            let id = GroupId::parse(group)
                .map_err(|_| format!("{group:?} is not a group id (a UUID)"))?;
            (Some(id), *file)
        }
        (true, []) | (false, [] | [_]) => return Err("missing arguments".into()),
        _ => return Err("too many arguments".into()),
    };
    Ok(Some(Args {
        group,
        file: PathBuf::from(file),
        batch_size,
        role,
    }))
}

/// Read and check the whole file: every identity with its line number, or
/// one message listing every bad line.
fn read_identity_file(path: &Path) -> Result<Vec<Entry>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not a UTF-8 text file", path.display()))?;
    let mut entries = Vec::new();
    let mut first_seen: HashMap<IdentityId, usize> = HashMap::new();
    let mut bad: Vec<String> = Vec::new();
    let mut repeated = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if content.split_whitespace().count() > 1 {
            bad.push(format!(
                "  line {line}: {:?}: one identity id per line",
                shorten(content)
            ));
            continue;
        }
        match IdentityId::parse(content) {
            Ok(id) => {
                if let Some(first) = first_seen.get(&id) {
                    repeated += 1;
                    if repeated <= 5 {
                        eprintln!("note: line {line} repeats line {first}; it is sent once");
                    }
                } else {
                    first_seen.insert(id, line);
                    entries.push(Entry { line, id });
                }
            }
            Err(_) => bad.push(format!(
                "  line {line}: {:?} is not an identity id (a UUID)",
                shorten(content)
            )),
        }
    }
    if repeated > 5 {
        eprintln!("note: {repeated} repeated lines in all; each identity is sent once");
    }
    if !bad.is_empty() {
        return Err(format!(
            "{} has {} bad line(s); nothing was sent:\n{}",
            path.display(),
            bad.len(),
            bad.join("\n")
        ));
    }
    if entries.is_empty() {
        return Err(format!("{} lists no identity ids", path.display()));
    }
    Ok(entries)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s.to_owned()
    }
}

async fn run(
    manager: &GroupsManager<HyperTransport>,
    args: &Args,
    entries: &[Entry],
) -> Result<(), String> {
    let group_id = match args.group {
        Some(id) => id,
        None => GroupId::parse(DEMO_GROUP).map_err(|e| e.to_string())?,
    };
    // One read first: the group exists and we may see it (and its name).
    let group = manager
        .client()
        .get_group(group_id)
        .include([GroupInclude::MyMemberships])
        .await
        .map_err(|e| format!("cannot read group {group_id}: {}", explain(&e)))?;
    let batches = entries.len().div_ceil(args.batch_size);
    println!(
        "Adding {} identities from {} to \"{}\" ({group_id}) as {}, {} per request ({} batch(es)).",
        thousands(entries.len()),
        args.file.display(),
        group.name,
        args.role,
        args.batch_size,
        batches
    );
    println!();

    let started = Instant::now();
    let report = manager
        .bulk(group_id)
        .batch_size(args.batch_size)
        .on_progress(move |p: &BulkProgress| {
            println!(
                "  batch {:>w$}/{}  {:>5} sent  {:>6}/{} done  {:>6} added  {:>4} failed{}  ({:.2} s)",
                p.batch_index + 1,
                p.batches,
                p.batch_items,
                thousands(p.done),
                thousands(p.total),
                thousands(p.succeeded),
                thousands(p.failed),
                if p.batch_failed {
                    "  <- this batch failed"
                } else {
                    ""
                },
                started.elapsed().as_secs_f64(),
                w = p.batches.to_string().len(),
            );
        })
        .add_members(entries.iter().map(|e| e.id), args.role.clone())
        .await
        .map_err(|e| format!("the bulk add could not run: {e}"))?;
    println!();
    summarize(&report, entries, started.elapsed().as_secs_f64());
    if report.batch_failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} batch(es) failed as a whole; see above",
            report.batch_failures.len()
        ))
    }
}

fn summarize(report: &BulkReport, entries: &[Entry], seconds: f64) {
    let lines: HashMap<IdentityId, usize> = entries.iter().map(|e| (e.id, e.line)).collect();
    let line_of = |id: &IdentityId| lines.get(id).map_or("?".to_owned(), usize::to_string);
    println!(
        "Done in {seconds:.2} s: {} of {} identities added, {} failed, in {} request(s).",
        thousands(report.succeeded()),
        thousands(report.total),
        thousands(report.failed()),
        report.batches
    );
    if !report.failures.is_empty() {
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &report.failures {
            *by_code.entry(f.code.as_str()).or_default() += 1;
        }
        println!();
        println!("Identities the service refused, by code:");
        for (code, n) in &by_code {
            println!("  {code:<24} {n:>6}");
        }
        println!();
        let rows: Vec<[String; 4]> = report
            .failures
            .iter()
            .take(FAILURES_SHOWN)
            .map(|f| {
                [
                    line_of(&f.identity_id),
                    f.identity_id.to_string(),
                    f.code.clone(),
                    f.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["LINE", "IDENTITY", "CODE", "DETAIL"], &rows);
        if report.failures.len() > FAILURES_SHOWN {
            println!(
                "  ... and {} more",
                thousands(report.failures.len() - FAILURES_SHOWN)
            );
        }
    }
    for b in &report.batch_failures {
        let first = b.items.first().map(|(_, id)| line_of(id));
        let last = b.items.last().map(|(_, id)| line_of(id));
        println!();
        println!(
            "Batch {} ({} identities, lines {}..{}) failed as a whole, nothing in it is known to have happened: {}",
            b.batch_index + 1,
            b.items.len(),
            first.unwrap_or_default(),
            last.unwrap_or_default(),
            explain(&b.error)
        );
    }
    if !report.unmatched.is_empty() {
        println!();
        println!(
            "The service also answered about {} identities that were not in the request (ignored).",
            report.unmatched.len()
        );
    }
}

/// A one-line explanation of a call's error, with a hint for the usual ones.
fn explain(e: &GroupsError) -> String {
    let hint = match e.status().map(|s| s.as_u16()) {
        Some(401) => " (is the token valid for the Groups API?)",
        Some(403) => " (you need to be an admin or manager of the group)",
        Some(404) => " (no such group, or it was deleted)",
        _ => "",
    };
    format!("{e}{hint}")
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A demo group administered by Ada, in which a few of the file's
/// identities will fail on purpose: two are already members, two have
/// opted out of being added, one left the group before.
fn demo_seed(entries: &[Entry]) -> Result<Seed, String> {
    let ada = "6a1b0c2d-0000-4000-8000-00000000ada1";
    let pick = |k: usize| entries[(k + 1) * entries.len() / 6].id;
    let mut memberships = vec![serde_json::json!({"identity_id": ada, "role": "admin"})];
    let mut identities = vec![serde_json::json!({"id": ada, "username": "ada@uni.example.org"})];
    let mut setup = Vec::new();
    if entries.len() >= 10 {
        let (a, b, c, d, e) = (pick(0), pick(1), pick(2), pick(3), pick(4));
        memberships.push(serde_json::json!({"identity_id": a}));
        memberships.push(serde_json::json!({"identity_id": b, "role": "manager"}));
        memberships.push(serde_json::json!({"identity_id": e, "status": "left"}));
        identities.push(serde_json::json!({"id": c, "allow_add": false}));
        identities.push(serde_json::json!({"id": d, "allow_add": false}));
        setup.push("2 of the file's identities are already members");
        setup.push("2 opted out of being added (allow_add = false)");
        setup.push("1 left the group before");
    }
    let seed = serde_json::json!({
        "identities": identities,
        "tokens": [{"token": DEMO_TOKEN, "identity": ada}],
        "groups": [{"id": DEMO_GROUP, "name": "Survey volunteers",
                    "description": "Everyone who signed up for the field survey",
                    "memberships": memberships}]
    });
    if !setup.is_empty() {
        println!(
            "Demo set-up, so that some adds fail on purpose: {}.",
            setup.join(", ")
        );
    }
    serde_json::from_value(seed).map_err(|e| e.to_string())
}
