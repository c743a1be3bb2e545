//! List the groups I belong to, with my role and status in each.
//!
//! ```text
//! cargo run --example list_my_groups
//! cargo run --example list_my_groups -- --status active,invited,pending
//! cargo run --example list_my_groups -- --all
//! ```
//!
//! Without `GLOBUS_GROUPS_TOKEN` the example starts the embedded emulator on
//! 127.0.0.1 with a few demo groups and signs in as a demo user. With
//! `GLOBUS_GROUPS_TOKEN` set it asks the real Globus Groups service (or the
//! one named by `GLOBUS_SDK_ENVIRONMENT` / `GLOBUS_SDK_SERVICE_URL_GROUPS`).
//!
//! One row per membership: a group can show up more than once when several
//! of my linked identities belong to it.

use std::process::ExitCode;

use globus_groups::hyper_client::GroupsClient;
use globus_groups::types::{Group, MembershipStatus};
use groups_emulator::world::Seed;

mod backend;
mod common;
use backend::{Backend, DEMO_TOKEN, token_from_env};
use common::print_table;

const USAGE: &str = "\
usage: list_my_groups [--status STATUS[,STATUS...]] [--all]

  --status   membership statuses to list (default: active); any of
             active, invited, pending, rejected, removed, left, declined
  --all      every status

Without GLOBUS_GROUPS_TOKEN the embedded emulator is started with demo data.";

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let statuses = match parse_args(&args) {
        Ok(Some(statuses)) => statuses,
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
    let backend =
        match Backend::connect(token, "list_my_groups example", "demo data", demo_seed).await {
            Ok(backend) => backend,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        };
    let result = list(&backend.client, &statuses).await;
    backend.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The statuses to list, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Vec<MembershipStatus>>, String> {
    let mut statuses: Option<Vec<MembershipStatus>> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let list = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--all" => {
                statuses = Some(MembershipStatus::KNOWN.to_vec());
                continue;
            }
            "--status" => iter
                .next()
                .ok_or("--status needs a value, e.g. --status active,invited")?
                .as_str(),
            other => match other.strip_prefix("--status=") {
                Some(list) => list,
                None => return Err(format!("unexpected argument {other:?}")),
            },
        };
        let chosen = statuses.get_or_insert_with(Vec::new);
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let status = MembershipStatus::KNOWN
                .iter()
                .find(|s| s.as_str().eq_ignore_ascii_case(word))
                .ok_or_else(|| format!("unknown status {word:?}"))?;
            if !chosen.contains(status) {
                chosen.push(status.clone());
            }
        }
        if chosen.is_empty() {
            return Err("--status needs at least one status".into());
        }
    }
    Ok(Some(
        statuses.unwrap_or_else(|| vec![MembershipStatus::Active]),
    ))
}

async fn list(client: &GroupsClient, statuses: &[MembershipStatus]) -> Result<(), String> {
    let wanted: Vec<&str> = statuses.iter().map(MembershipStatus::as_str).collect();
    let groups: Vec<Group> = client
        .get_my_groups()
        .statuses(statuses.iter().cloned())
        .await
        .map_err(|e| format!("listing my groups failed: {e}"))?;

    // One row per membership of mine that matches the filter.
    let mut rows: Vec<[String; 5]> = Vec::new();
    for group in &groups {
        for m in group.membership_list() {
            if statuses.contains(&m.status) {
                rows.push([
                    group.name.clone(),
                    m.role.to_string(),
                    m.status.to_string(),
                    m.username.clone(),
                    group.id.to_string(),
                ]);
            }
        }
    }
    rows.sort();

    println!("My memberships with status {}:", wanted.join(", "));
    println!();
    if rows.is_empty() {
        println!("  (none)");
        return Ok(());
    }
    print_table(
        &["GROUP", "MY ROLE", "STATUS", "AS IDENTITY", "GROUP ID"],
        &rows,
    );
    println!();
    let mut counts: Vec<String> = Vec::new();
    for status in statuses {
        let n = rows.iter().filter(|r| r[2] == status.as_str()).count();
        if n > 0 {
            counts.push(format!("{n} {status}"));
        }
    }
    println!(
        "{} membership(s) in {} group(s): {}.",
        rows.len(),
        groups.len(),
        counts.join(", ")
    );
    Ok(())
}

/// Ada (with a linked Gmail identity) in groups with every kind of status.
fn demo_seed() -> Result<Seed, String> {
    let ada = "6a1b0c2d-0000-4000-8000-00000000ada1";
    let ada_gmail = "6a1b0c2d-0000-4000-8000-00000000ada2";
    let grace = "6a1b0c2d-0000-4000-8000-0000000006ac";
    let alan = "6a1b0c2d-0000-4000-8000-00000000a1a0";
    let group = |n: u32| format!("0b5e7a70-0000-4000-8000-{n:012x}");
    let seed = serde_json::json!({
        "identities": [
            {"id": ada, "username": "ada@uni.example.org", "linked": [ada_gmail]},
            {"id": ada_gmail, "username": "ada.lovelace@gmail.example"},
            {"id": grace, "username": "grace@navy.example.mil"},
            {"id": alan, "username": "alan@bletchley.example.org"}
        ],
        "tokens": [{"token": DEMO_TOKEN, "identity": ada}],
        "groups": [
            {"id": group(1), "name": "Telescope operators", "memberships": [
                {"identity_id": ada, "role": "admin"},
                {"identity_id": grace, "role": "manager"},
                {"identity_id": alan}]},
            {"id": group(2), "name": "Night shift", "parent_id": group(1), "memberships": [
                {"identity_id": grace, "role": "admin"},
                {"identity_id": ada, "status": "invited"}]},
            {"id": group(3), "name": "Radio astronomy seminar",
             "policies": {"group_visibility": "authenticated"}, "memberships": [
                {"identity_id": grace, "role": "admin"},
                {"identity_id": ada},
                {"identity_id": ada_gmail}]},
            {"id": group(4), "name": "Data stewards", "memberships": [
                {"identity_id": alan, "role": "admin"},
                {"identity_id": ada, "role": "manager"}]},
            {"id": group(5), "name": "Instrument committee",
             "policies": {"group_visibility": "authenticated", "join_requests": true},
             "memberships": [
                {"identity_id": alan, "role": "admin"},
                {"identity_id": ada, "status": "pending"}]},
            {"id": group(6), "name": "Class of 2019 alumni", "memberships": [
                {"identity_id": grace, "role": "admin"},
                {"identity_id": ada, "status": "left"}]},
            {"id": group(7), "name": "Open science reading group", "memberships": [
                {"identity_id": alan, "role": "admin"},
                {"identity_id": ada_gmail}]}
        ]
    });
    serde_json::from_value(seed).map_err(|e| e.to_string())
}
