//! Make a group's members match a roster file: a dry run by default that
//! shows the plan, `--apply` to carry it out.
//!
//! ```text
//! cargo run --example sync_roster -- --demo examples/data/roster.txt
//! cargo run --example sync_roster -- --demo examples/data/roster.txt --apply
//! cargo run --example sync_roster -- --demo examples/data/roster_with_errors.txt
//! GLOBUS_GROUPS_TOKEN=... cargo run --example sync_roster -- GROUP_ID roster.txt [--apply]
//! ```
//!
//! The roster has one member per line: an identity id and a role (`member`,
//! `manager` or `admin`); blank lines and `#` comments are ignored. The
//! whole file is checked first: if any line is bad, every bad line is
//! reported with its number and nothing is read or sent.
//!
//! The sync adds missing identities, approves their pending requests,
//! changes roles, and removes members not on the roster (`--keep-extras`
//! keeps them). It never removes or demotes you, never demotes the last
//! admin, and running it a second time does nothing.
//!
//! Without `GLOBUS_GROUPS_TOKEN` the example starts the embedded emulator on
//! 127.0.0.1 with a demo group (`--demo`) matching `examples/data/roster.txt`.
//! With `GLOBUS_GROUPS_TOKEN` set it talks to the real Globus Groups service
//! (or the one named by `GLOBUS_SDK_ENVIRONMENT` /
//! `GLOBUS_SDK_SERVICE_URL_GROUPS`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use globus_groups::hyper_client::HyperTransport;
use globus_groups::manager::{BulkProgress, BulkReport, GroupsManager, SyncOptions, SyncPlan};
use globus_groups::sansio::GroupsError;
use globus_groups::types::{
    Group, GroupId, GroupInclude, GroupRole, IdentityId, Membership, MembershipStatus,
};
use groups_emulator::world::Seed;

mod backend;
mod common;
use backend::{Backend, DEMO_TOKEN, TOKEN_VAR, token_from_env};
use common::print_table;

const USAGE: &str = "\
usage: sync_roster <GROUP_ID | --demo> <ROSTER_FILE> [--apply] [--keep-extras] [--batch-size N]

  GROUP_ID       the group to sync (needs GLOBUS_GROUPS_TOKEN)
  --demo         use a demo group in the embedded emulator (GLOBUS_GROUPS_TOKEN unset)
  ROSTER_FILE    one member per line: IDENTITY_ID ROLE (member, manager or admin);
                 blank lines and # comments ignored
  --apply        make the changes (default: dry run, only show the plan)
  --keep-extras  do not remove members who are not on the roster
  --batch-size N identities per request when applying (default 100)";

const DEMO_GROUP: &str = "c0ffee00-0000-4000-8000-00000000c001";

#[derive(Debug)]
struct Args {
    /// `None`: the demo group.
    group: Option<GroupId>,
    roster: PathBuf,
    apply: bool,
    keep_extras: bool,
    batch_size: usize,
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

    // Check the whole roster before anything is started or sent.
    let desired = match read_roster(&args.roster) {
        Ok(desired) => desired,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };

    let backend =
        match Backend::connect(token, "sync_roster example", "a demo group", demo_seed).await {
            Ok(backend) => backend,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        };
    let result = run(&GroupsManager::new(backend.client.clone()), &args, desired).await;
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
    let (mut demo, mut apply, mut keep_extras) = (false, false, false);
    let mut batch_size = 100;
    let mut iter = argv.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--demo" => demo = true,
            "--apply" => apply = true,
            "--keep-extras" => keep_extras = true,
            "--batch-size" => {
                let v = iter.next().ok_or("--batch-size needs a value")?;
                batch_size = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--batch-size must be a positive number, not {v:?}")),
                };
            }
            f if f.starts_with("--") => return Err(format!("unknown option {f:?}")),
            _ => positional.push(arg),
        }
    }
    let (group, roster) = match (demo, positional.as_slice()) {
        (true, [roster]) => (None, *roster),
        (false, [group, roster]) => {
            let id = GroupId::parse(group)
                .map_err(|_| format!("{group:?} is not a group id (a UUID)"))?;
            (Some(id), *roster)
        }
        (true, []) | (false, [] | [_]) => return Err("missing arguments".into()),
        _ => return Err("too many arguments".into()),
    };
    Ok(Some(Args {
        group,
        roster: PathBuf::from(roster),
        apply,
        keep_extras,
        batch_size,
    }))
}

/// Read and check the whole roster: the desired `(identity, role)` list,
/// or one message listing every bad line.
fn read_roster(path: &Path) -> Result<Vec<(IdentityId, GroupRole)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not a UTF-8 text file", path.display()))?;
    let mut desired = Vec::new();
    let mut seen: HashMap<IdentityId, (usize, GroupRole)> = HashMap::new();
    let mut bad: Vec<String> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let words: Vec<&str> = content.split_whitespace().collect();
        let [id_text, role_text] = words[..] else {
            bad.push(format!(
                "  line {line}: expected IDENTITY_ID ROLE, got {} word(s)",
                words.len()
            ));
            continue;
        };
        let id = IdentityId::parse(id_text);
        let role = GroupRole::KNOWN
            .iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(role_text));
        match (id, role) {
            (Err(_), _) => bad.push(format!(
                "  line {line}: {id_text:?} is not an identity id (a UUID)"
            )),
            (Ok(_), None) => bad.push(format!(
                "  line {line}: {role_text:?} is not a role (member, manager or admin)"
            )),
            (Ok(id), Some(role)) => match seen.get(&id) {
                Some((first, r)) if r == role => {
                    eprintln!("note: line {line} repeats line {first}");
                }
                Some((first, r)) => bad.push(format!(
                    "  line {line}: {id} is already listed as {r} on line {first}"
                )),
                None => {
                    seen.insert(id, (line, role.clone()));
                    desired.push((id, role.clone()));
                }
            },
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "{} has {} bad line(s); nothing was read or sent:\n{}",
            path.display(),
            bad.len(),
            bad.join("\n")
        ));
    }
    if desired.is_empty() {
        return Err(format!(
            "{} lists nobody (an empty roster would remove every member; refusing)",
            path.display()
        ));
    }
    Ok(desired)
}

async fn run(
    manager: &GroupsManager<HyperTransport>,
    args: &Args,
    desired: Vec<(IdentityId, GroupRole)>,
) -> Result<(), String> {
    let group_id = match args.group {
        Some(id) => id,
        None => GroupId::parse(DEMO_GROUP).map_err(|e| e.to_string())?,
    };
    let options = SyncOptions::new()
        .remove_extras(!args.keep_extras)
        .dry_run(!args.apply);

    // Read the group once: the plan and the usernames come from it.
    let group = read_group(manager, group_id).await?;
    let plan = SyncPlan::from_group(&group, desired.iter().cloned(), &options)
        .map_err(|e| format!("cannot plan the sync: {e}"))?;
    let names = Names::of(&group);
    println!(
        "Roster {} lists {} member(s); \"{}\" ({group_id}) has {} active, {} invited, {} pending.",
        args.roster.display(),
        desired.len(),
        group.name,
        count(&group, MembershipStatus::Active),
        count(&group, MembershipStatus::Invited),
        count(&group, MembershipStatus::Pending),
    );
    println!();
    print_plan(&plan, &names);

    if !args.apply {
        println!();
        if plan.is_empty() {
            println!("Dry run: nothing to change, the group already matches the roster.");
        } else {
            println!(
                "Dry run: nothing was changed. Run again with --apply to make these {} change(s).",
                plan.action_count()
            );
        }
        return Ok(());
    }
    if plan.is_empty() {
        println!();
        println!("Nothing to apply: the group already matches the roster.");
        return Ok(());
    }

    println!();
    println!("Applying {} change(s):", plan.action_count());
    let report = manager
        .bulk(group_id)
        .batch_size(args.batch_size)
        .on_progress(|p: &BulkProgress| {
            println!(
                "  batch {}/{}: {} request item(s), {}/{} done, {} failed so far{}",
                p.batch_index + 1,
                p.batches,
                p.batch_items,
                p.done,
                p.total,
                p.failed,
                if p.batch_failed {
                    " (this batch failed)"
                } else {
                    ""
                }
            );
        })
        .apply_plan(&plan)
        .await
        .map_err(|e| format!("applying the plan failed: {e}"))?;
    println!();
    print_report(&report, &names);

    // The same sync again, now through the one-call API: it must plan nothing.
    println!();
    let again = manager
        .sync_members(
            group_id,
            desired,
            SyncOptions::new().remove_extras(!args.keep_extras),
        )
        .await
        .map_err(|e| format!("the second run failed: {e}"))?;
    if again.plan.is_empty() {
        println!(
            "Second run of the same sync: nothing to do ({} member(s) as listed, {} left alone).",
            again.plan.unchanged,
            again.plan.skipped.len()
        );
    } else {
        println!(
            "Second run of the same sync still found work (some changes above failed):\n{}",
            again.plan.describe()
        );
    }
    if report.is_complete_success() {
        Ok(())
    } else {
        Err(format!(
            "{} change(s) did not happen; see above",
            report.failed()
        ))
    }
}

async fn read_group(
    manager: &GroupsManager<HyperTransport>,
    group_id: GroupId,
) -> Result<Group, String> {
    manager
        .client()
        .get_group(group_id)
        .include([GroupInclude::Memberships, GroupInclude::MyMemberships])
        .await
        .map_err(|e| format!("cannot read group {group_id}: {}", explain(&e)))
}

fn count(group: &Group, status: MembershipStatus) -> usize {
    group
        .membership_list()
        .iter()
        .filter(|m| m.status == status && m.source_group_id.is_absent())
        .count()
}

/// Usernames of the identities the group document mentions.
struct Names(HashMap<IdentityId, String>);

impl Names {
    fn of(group: &Group) -> Names {
        let all = group.membership_list().iter();
        let mine = group.my_memberships.value().into_iter().flatten();
        Names(
            all.chain(mine)
                .map(|m: &Membership| (m.identity_id, m.username.clone()))
                .collect(),
        )
    }

    fn get(&self, id: &IdentityId) -> String {
        self.0
            .get(id)
            .cloned()
            .unwrap_or_else(|| "(new)".to_owned())
    }
}

fn print_plan(plan: &SyncPlan, names: &Names) {
    println!(
        "Plan: {} to add, {} to invite, {} to approve, {} role change(s), {} to remove; {} already as listed, {} left alone.",
        plan.add.len(),
        plan.invite.len(),
        plan.approve.len(),
        plan.change_role.len(),
        plan.remove.len(),
        plan.unchanged,
        plan.skipped.len()
    );
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut row = |action: &str, id: &IdentityId, what: String| {
        rows.push([action.to_owned(), names.get(id), id.to_string(), what]);
    };
    for p in &plan.add {
        row("add", &p.identity_id, format!("as {}", p.role));
    }
    for p in &plan.invite {
        row("invite", &p.identity_id, format!("as {}", p.role));
    }
    for id in &plan.approve {
        row("approve", id, "pending request".to_owned());
    }
    for id in &plan.reject {
        row("reject", id, "pending request".to_owned());
    }
    for c in &plan.change_role {
        row("role", &c.identity_id, format!("{} -> {}", c.from, c.to));
    }
    for r in &plan.remove {
        row(
            "remove",
            &r.identity_id,
            format!("{} ({})", r.role, r.status),
        );
    }
    for k in &plan.skipped {
        let wanted = k
            .desired
            .as_ref()
            .map_or("not on the roster".to_owned(), |r| {
                format!("roster says {r}")
            });
        row(
            "keep",
            &k.identity_id,
            format!("{} {} ({wanted}): {}", k.status, k.role, k.reason),
        );
    }
    if !rows.is_empty() {
        println!();
        print_table(&["ACTION", "USERNAME", "IDENTITY", "DETAIL"], &rows);
    }
}

fn print_report(report: &BulkReport, names: &Names) {
    println!("Done: {report}.");
    if !report.successes.is_empty() {
        println!();
        let rows: Vec<[String; 4]> = report
            .successes
            .iter()
            .map(|s| {
                [
                    s.verb.to_string(),
                    s.membership.username.clone(),
                    s.membership.role.to_string(),
                    s.membership.status.to_string(),
                ]
            })
            .collect();
        print_table(&["DONE", "USERNAME", "ROLE NOW", "STATUS NOW"], &rows);
    }
    if !report.failures.is_empty() {
        println!();
        let rows: Vec<[String; 4]> = report
            .failures
            .iter()
            .map(|f| {
                [
                    f.verb.to_string(),
                    names.get(&f.identity_id),
                    f.code.clone(),
                    f.detail.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["FAILED", "USERNAME", "CODE", "DETAIL"], &rows);
    }
    for b in &report.batch_failures {
        println!(
            "Batch {} ({} item(s)) failed as a whole: {}",
            b.batch_index + 1,
            b.items.len(),
            explain(&b.error)
        );
    }
}

/// A one-line explanation of a call's error, with a hint for the usual ones.
fn explain(e: &GroupsError) -> String {
    let hint = match e.status().map(|s| s.as_u16()) {
        Some(401) => " (is the token valid for the Groups API?)",
        Some(403) => " (you need to be an admin or manager of the group to see its members)",
        Some(404) => " (no such group, or it was deleted)",
        _ => "",
    };
    format!("{e}{hint}")
}

/// The demo group as it is today (see `examples/data/roster.txt` for how
/// it should be).
fn demo_seed() -> Result<Seed, String> {
    let people = [
        ("a1", "ada"),
        ("a2", "grace"),
        ("a3", "alan"),
        ("b1", "barbara"),
        ("b2", "edsger"),
        ("b3", "donald"),
        ("b4", "margaret"),
        ("b5", "dennis"),
        ("b6", "radia"),
        ("c1", "claude"),
        ("c2", "ken"),
        ("c3", "linus"),
        ("c4", "frances"),
    ];
    let id = |key: &str| format!("c0ffee00-0000-4000-8000-0000000000{key}");
    let identities: Vec<serde_json::Value> = people
        .iter()
        .map(|(key, name)| serde_json::json!({"id": id(key), "username": format!("{name}@uni.example.org")}))
        .collect();
    let member = |key: &str, role: &str, status: &str| serde_json::json!({"identity_id": id(key), "role": role, "status": status});
    let seed = serde_json::json!({
        "identities": identities,
        "tokens": [{"token": DEMO_TOKEN, "identity": id("a1")}],
        "groups": [{
            "id": DEMO_GROUP,
            "name": "Cryo-EM facility users",
            "description": "Booking access to the microscopes",
            "policies": {"join_requests": true},
            "memberships": [
                member("a1", "admin", "active"),
                member("a2", "admin", "active"),
                member("a3", "manager", "active"),
                member("b1", "member", "active"),
                member("b2", "member", "active"),
                member("b3", "member", "pending"),
                member("b4", "member", "invited"),
                member("c1", "member", "active"),
                member("c2", "member", "invited"),
                member("c3", "member", "active"),
                member("c4", "member", "left")
            ]
        }]
    });
    serde_json::from_value(seed).map_err(|e| e.to_string())
}
