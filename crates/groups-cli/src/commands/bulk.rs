//! `member bulk add|invite|remove|approve|reject FILE` and
//! `member sync GROUP FILE`.
//!
//! The file is read and checked whole before anything is sent: every bad
//! line is reported with its number, and unknown usernames are named; then
//! nothing is sent to Groups (exit 2).

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};

use groups_manager::{BulkProgress, BulkReport, SyncOptions, SyncPlan};
use groups_types::{BatchItem, BatchVerb, GroupInclude, GroupRole, IdentityId};
use serde_json::{Value, json};

use crate::cli::{BulkCommand, Progress, Role, SyncArgs};
use crate::error::CliError;
use crate::output::{Output, Printer, Text, table_of};
use crate::resolve::{UserRef, unknown_usernames};
use crate::session::Session;

/// One line of an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its line number (1-based).
    pub line: usize,
    /// The user.
    pub user: UserRef,
    /// The role of a second column, if any.
    pub role: Option<GroupRole>,
}

fn parse_role(text: &str) -> Option<GroupRole> {
    GroupRole::KNOWN
        .iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(text))
        .cloned()
}

/// Split a line into fields: CSV when it has a comma (fields trimmed,
/// surrounding double quotes removed), else whitespace-separated.
fn split_fields(content: &str) -> Vec<String> {
    if content.contains(',') {
        content
            .split(',')
            .map(|f| {
                let f = f.trim();
                f.strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(f)
                    .trim()
                    .to_owned()
            })
            .collect()
    } else {
        content.split_whitespace().map(str::to_owned).collect()
    }
}

const HEADER_WORDS: [&str; 6] = [
    "identity",
    "identity_id",
    "id",
    "username",
    "user",
    "member",
];

/// Parse a file's text: one identity id or username per line, optionally a
/// role in a second column (when `roles` is set). Blank lines and `#`
/// comments are skipped, and a first line that is a CSV header
/// (`identity,role`, `username`, ...). All bad lines are reported at once.
pub fn parse_entries(text: &str, roles: bool) -> Result<Vec<Entry>, Vec<String>> {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    let mut first_content = true;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields = split_fields(content);
        let is_first = std::mem::replace(&mut first_content, false);
        if is_first
            && fields
                .first()
                .is_some_and(|f| HEADER_WORDS.contains(&f.to_lowercase().as_str()))
        {
            continue;
        }
        let max = if roles { 2 } else { 1 };
        if fields.is_empty() || fields[0].is_empty() {
            bad.push(format!("line {line}: no identity in the first column"));
            continue;
        }
        if fields.len() > max {
            bad.push(format!(
                "line {line}: expected {}, got {} columns",
                if roles {
                    "IDENTITY[,ROLE]"
                } else {
                    "one IDENTITY"
                },
                fields.len()
            ));
            continue;
        }
        let user = match UserRef::parse(&fields[0]) {
            Ok(u) => u,
            Err(why) => {
                bad.push(format!("line {line}: {why}"));
                continue;
            }
        };
        let role = match fields.get(1).map(|r| r.as_str()) {
            None | Some("") => None,
            Some(r) => match parse_role(r) {
                Some(role) => Some(role),
                None => {
                    bad.push(format!(
                        "line {line}: {r:?} is not a role (member, manager or admin)"
                    ));
                    continue;
                }
            },
        };
        entries.push(Entry { line, user, role });
    }
    if bad.is_empty() {
        Ok(entries)
    } else {
        Err(bad)
    }
}

/// Read and check a whole file.
fn read_entries(path: &Path, roles: bool) -> Result<Vec<Entry>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| CliError::usage(format!("{} is not a UTF-8 text file", path.display())))?;
    let entries = parse_entries(&text, roles).map_err(|bad| {
        let shown: Vec<&String> = bad.iter().take(50).collect();
        let more = if bad.len() > shown.len() {
            format!("\n  ... and {} more", bad.len() - shown.len())
        } else {
            String::new()
        };
        CliError::usage(format!(
            "{} has {} bad line(s); nothing was sent:\n  {}{more}",
            path.display(),
            bad.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        ))
    })?;
    if entries.is_empty() {
        return Err(CliError::usage(format!(
            "{} lists nobody; nothing was sent",
            path.display()
        )));
    }
    Ok(entries)
}

/// An entry resolved to an identity id (and the username, when known).
struct Resolved {
    id: IdentityId,
    username: Option<String>,
    role: Option<GroupRole>,
    line: usize,
}

/// Resolve every username of `entries` (in lookups of 100); unknown
/// usernames are a usage error naming them.
async fn resolve_entries(s: &Session, entries: Vec<Entry>) -> Result<Vec<Resolved>, CliError> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for e in &entries {
        if let UserRef::Username(n) = &e.user
            && seen.insert(n.to_lowercase())
        {
            names.push(n.clone());
        }
    }
    let found = if names.is_empty() {
        HashMap::new()
    } else {
        s.lookup_usernames(&names, false).await?
    };
    let mut unknown = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        match e.user {
            UserRef::Id(id) => out.push(Resolved {
                id,
                username: None,
                role: e.role,
                line: e.line,
            }),
            UserRef::Username(n) => match found.get(&n.to_lowercase()) {
                Some((id, username)) => out.push(Resolved {
                    id: *id,
                    username: Some(username.clone()),
                    role: e.role,
                    line: e.line,
                }),
                None => unknown.push(format!("{n} (line {})", e.line)),
            },
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_usernames(&unknown));
    }
    Ok(out)
}

/// Progress reporting: an indicatif bar on a terminal, plain lines when
/// asked for off a terminal, or nothing.
#[derive(Clone)]
enum Meter {
    Bar(indicatif::ProgressBar),
    Lines,
    Off,
}

impl Meter {
    fn new(choice: Progress, quiet: bool, total: usize) -> Meter {
        let terminal = std::io::stderr().is_terminal();
        match (choice, terminal) {
            (Progress::Never, _) => Meter::Off,
            (Progress::Auto, _) if quiet => Meter::Off,
            (Progress::Auto | Progress::Always, true) => {
                let bar = indicatif::ProgressBar::new(total as u64);
                let template = if crate::color_enabled() {
                    "{bar:40.cyan/blue} {pos}/{len} identities ({elapsed}) {msg}"
                } else {
                    "{bar:40} {pos}/{len} identities ({elapsed}) {msg}"
                };
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style);
                }
                Meter::Bar(bar)
            }
            (Progress::Always, false) => Meter::Lines,
            (Progress::Auto, false) => Meter::Off,
        }
    }

    fn update(&self, p: &BulkProgress) {
        match self {
            Meter::Bar(bar) => {
                bar.set_position(p.done as u64);
                if p.failed > 0 {
                    bar.set_message(format!("{} failed", p.failed));
                }
            }
            Meter::Lines => eprintln!(
                "progress: {}/{} identities, batch {}/{}, {} failed",
                p.done, p.total, p.batches_done, p.batches, p.failed
            ),
            Meter::Off => {}
        }
    }

    fn finish(&self) {
        if let Meter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Counts and rows of a report, for the summary.
struct Summary {
    succeeded: usize,
    already: usize,
    failures: Vec<Value>,
}

fn summarize(
    report: &BulkReport,
    names: &HashMap<IdentityId, String>,
    tolerate_active: bool,
) -> Summary {
    let name = |id: &IdentityId| names.get(id).cloned();
    let mut already = 0;
    let mut failures = Vec::new();
    for b in &report.batch_failures {
        let detail = b.error.to_string();
        let code = b
            .error
            .code()
            .map(str::to_owned)
            .or_else(|| b.error.status().map(|s| format!("HTTP {}", s.as_u16())))
            .unwrap_or_else(|| "REQUEST_FAILED".to_owned());
        for (verb, id) in &b.items {
            failures.push(json!({
                "identity_id": id, "username": name(id), "verb": verb.as_str(),
                "code": code, "detail": detail,
            }));
        }
    }
    for f in &report.failures {
        if tolerate_active && f.is_already_active() {
            already += 1;
            continue;
        }
        failures.push(json!({
            "identity_id": f.identity_id, "username": name(&f.identity_id),
            "verb": f.verb.as_str(), "code": f.code, "detail": f.detail,
        }));
    }
    for u in &report.unmatched {
        failures.push(json!({"identity_id": null, "username": null, "verb": null,
            "code": "UNMATCHED", "detail": format!("{u:?}")}));
    }
    Summary {
        succeeded: report.succeeded(),
        already,
        failures,
    }
}

fn failure_table(failures: &[Value]) -> String {
    let headers = ["Identity ID", "Username", "Action", "Code", "Detail"].map(str::to_owned);
    let cell = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let rows: Vec<Vec<String>> = failures
        .iter()
        .map(|f| {
            ["identity_id", "username", "verb", "code", "detail"]
                .iter()
                .map(|k| cell(f, k))
                .collect()
        })
        .collect();
    table_of(&headers, &rows)
}

fn past_tense(verb: &BatchVerb) -> &'static str {
    match verb {
        BatchVerb::Add => "Added",
        BatchVerb::Invite => "Invited",
        BatchVerb::Remove => "Removed",
        BatchVerb::Approve => "Approved",
        BatchVerb::Reject => "Rejected",
        BatchVerb::ChangeRole => "Changed the role of",
        _ => "Updated",
    }
}

/// `member bulk VERB GROUP FILE`.
pub async fn bulk(
    s: &Session,
    command: BulkCommand,
    printer: &Printer,
    quiet: bool,
) -> Result<Output, CliError> {
    let (verb, args, default_role) = match command {
        BulkCommand::Add(a) => (BatchVerb::Add, a.bulk, Some(a.role)),
        BulkCommand::Invite(a) => (BatchVerb::Invite, a.bulk, Some(a.role)),
        BulkCommand::Remove(a) => (BatchVerb::Remove, a, None),
        BulkCommand::Approve(a) => (BatchVerb::Approve, a, None),
        BulkCommand::Reject(a) => (BatchVerb::Reject, a, None),
    };
    let entries = read_entries(&args.file, default_role.is_some())?;
    let resolved = resolve_entries(s, entries).await?;
    let mut names = HashMap::new();
    let mut seen = HashSet::new();
    let mut steps = Vec::new();
    for r in resolved {
        if let Some(u) = &r.username {
            names.insert(r.id, u.clone());
        }
        if !seen.insert(r.id) {
            continue;
        }
        let item = match (default_role, r.role) {
            (Some(_), Some(role)) => BatchItem::with_role(r.id, role),
            (Some(d), None) => BatchItem::with_role(r.id, d.to_api()),
            (None, _) => BatchItem::new(r.id),
        };
        steps.push((verb.clone(), item));
    }
    let total = steps.len();
    let meter = Meter::new(args.progress, quiet, total);
    let last = Arc::new(Mutex::new(None::<BulkProgress>));
    let report = {
        let meter = meter.clone();
        let last = Arc::clone(&last);
        s.manager
            .bulk(args.group_id)
            .batch_size(args.batch_size as usize)
            .on_progress(move |p: &BulkProgress| {
                meter.update(p);
                if let Ok(mut l) = last.lock() {
                    *l = Some(p.clone());
                }
            })
            .apply_steps(steps)
            .await
    };
    meter.finish();
    let report = report?;
    let tolerate = matches!(verb, BatchVerb::Add);
    let summary = summarize(&report, &names, tolerate);
    let json = json!({
        "group_id": args.group_id,
        "action": verb.as_str(),
        "total": report.total,
        "batches": report.batches,
        "succeeded": summary.succeeded,
        "already_active": summary.already,
        "failed": summary.failures.len(),
        "failures": summary.failures,
    });
    let mut text = format!(
        "{} {} of {} identities ({} group {}) in {} batch(es).\n",
        past_tense(&verb),
        summary.succeeded,
        report.total,
        if matches!(verb, BatchVerb::Add | BatchVerb::Invite) {
            "to"
        } else {
            "in"
        },
        args.group_id,
        report.batches
    );
    if summary.already > 0 {
        text.push_str(&format!(
            "Already active: {} (nothing to do)\n",
            summary.already
        ));
    }
    text.push_str(&format!("Failed: {}\n", summary.failures.len()));
    if !summary.failures.is_empty() {
        text.push('\n');
        text.push_str(&failure_table(&summary.failures));
    }
    let output = Output {
        json,
        text: Text::Lines(text),
    };
    if summary.failures.is_empty() {
        Ok(output)
    } else {
        printer.print(&output)?;
        Err(CliError::Reported(crate::error::EXIT_ERROR))
    }
}

/// One row per planned action: action, identity, username, detail.
fn plan_rows(plan: &SyncPlan, names: &HashMap<IdentityId, String>) -> Vec<Value> {
    let name = |id: &IdentityId| names.get(id).cloned();
    let mut rows = Vec::new();
    let mut row = |action: &str, id: &IdentityId, detail: String| {
        rows.push(
            json!({"action": action, "identity_id": id, "username": name(id), "detail": detail}),
        );
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
        row(
            "change_role",
            &c.identity_id,
            format!("{} -> {}", c.from, c.to),
        );
    }
    for r in &plan.remove {
        row(
            "remove",
            &r.identity_id,
            format!("{} ({})", r.role, r.status),
        );
    }
    for k in &plan.skipped {
        row(
            "keep",
            &k.identity_id,
            format!("{} {}: {}", k.status, k.role, k.reason),
        );
    }
    rows
}

fn plan_table(rows: &[Value]) -> String {
    let headers = ["Action", "Identity ID", "Username", "Detail"].map(str::to_owned);
    let cell = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            ["action", "identity_id", "username", "detail"]
                .iter()
                .map(|k| cell(r, k))
                .collect()
        })
        .collect();
    table_of(&headers, &cells)
}

/// `member sync GROUP FILE [--dry-run] [--keep-extras]`.
pub async fn sync(
    s: &Session,
    args: SyncArgs,
    printer: &Printer,
    quiet: bool,
) -> Result<Output, CliError> {
    let entries = read_entries(&args.file, true)?;
    let resolved = resolve_entries(s, entries).await?;
    let mut names: HashMap<IdentityId, String> = HashMap::new();
    let mut desired: Vec<(IdentityId, GroupRole)> = Vec::new();
    let mut first: HashMap<IdentityId, (usize, GroupRole)> = HashMap::new();
    let mut conflicts = Vec::new();
    for r in resolved {
        let role = r.role.unwrap_or_else(|| Role::Member.to_api());
        if let Some(u) = r.username {
            names.insert(r.id, u);
        }
        match first.get(&r.id) {
            Some((_, same)) if *same == role => {}
            Some((line, other)) => conflicts.push(format!(
                "line {}: {} is already listed as {other} on line {line}",
                r.line, r.id
            )),
            None => {
                first.insert(r.id, (r.line, role.clone()));
                desired.push((r.id, role));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(CliError::usage(format!(
            "{} lists identities twice with different roles; nothing was sent:\n  {}",
            args.file.display(),
            conflicts.join("\n  ")
        )));
    }
    let group = s
        .client()
        .get_group(args.group_id)
        .include([GroupInclude::Memberships, GroupInclude::MyMemberships])
        .await?;
    for m in group
        .membership_list()
        .iter()
        .chain(group.my_memberships.value().into_iter().flatten())
    {
        names
            .entry(m.identity_id)
            .or_insert_with(|| m.username.clone());
    }
    let options = SyncOptions::new()
        .remove_extras(!args.keep_extras)
        .dry_run(args.dry_run);
    let plan = SyncPlan::from_group(&group, desired, &options)?;
    let rows = plan_rows(&plan, &names);
    let summary_line = format!(
        "Plan for group {} ({}): {} to add, {} to invite, {} to approve, {} role change(s), {} to remove; {} already as listed, {} left alone.\n",
        group.id,
        group.name,
        plan.add.len(),
        plan.invite.len(),
        plan.approve.len(),
        plan.change_role.len(),
        plan.remove.len(),
        plan.unchanged,
        plan.skipped.len()
    );
    let mut plan_text = summary_line;
    if !rows.is_empty() {
        plan_text.push('\n');
        plan_text.push_str(&plan_table(&rows));
    }
    let plan_json = json!({"actions": rows, "unchanged": plan.unchanged});
    if args.dry_run || plan.is_empty() {
        plan_text.push_str(if plan.is_empty() {
            "\nNothing to do: the group already matches the roster.\n"
        } else {
            "\nDry run: nothing was changed.\n"
        });
        return Ok(Output {
            json: json!({"group_id": group.id, "dry_run": args.dry_run, "plan": plan_json, "report": null}),
            text: Text::Lines(plan_text),
        });
    }
    // The plan is shown before anything changes.
    if !printer.is_json() && printer.format == crate::cli::Format::Text {
        crate::output::write_stdout(&plan_text);
    }
    let meter = Meter::new(args.progress, quiet, plan.action_count());
    let report = {
        let meter = meter.clone();
        s.manager
            .bulk(group.id)
            .batch_size(args.batch_size as usize)
            .on_progress(move |p: &BulkProgress| meter.update(p))
            .apply_plan(&plan)
            .await
    };
    meter.finish();
    let report = report?;
    let summary = summarize(&report, &names, false);
    let mut text = format!(
        "\nApplied: {} of {} change(s) succeeded, {} failed.\n",
        summary.succeeded,
        report.total,
        summary.failures.len()
    );
    if !summary.failures.is_empty() {
        text.push('\n');
        text.push_str(&failure_table(&summary.failures));
    }
    let output = Output {
        json: json!({
            "group_id": group.id, "dry_run": false, "plan": plan_json,
            "report": {"total": report.total, "succeeded": summary.succeeded,
                       "failed": summary.failures.len(), "failures": summary.failures},
        }),
        text: Text::Lines(text),
    };
    if summary.failures.is_empty() {
        Ok(output)
    } else {
        printer.print(&output)?;
        Err(CliError::Reported(crate::error::EXIT_ERROR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_parse_with_line_numbers() {
        let text = "identity,role\n# a comment\n\nae332d86-d274-11e5-b885-b31714a110e9,manager\nada@example.org\nnot-a-uuid\nbob@example.org,boss\n";
        let bad = parse_entries(text, true).unwrap_err();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad[0].starts_with("line 6:"), "{bad:?}");
        assert!(bad[1].starts_with("line 7:"), "{bad:?}");
        let ok = parse_entries(
            "ada@example.org manager\nae332d86-d274-11e5-b885-b31714a110e9\n",
            true,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].role, Some(GroupRole::Manager));
        assert_eq!(ok[1].line, 2);
        let extra = parse_entries("ada@example.org,member\n", false).unwrap_err();
        assert!(extra[0].contains("line 1"), "{extra:?}");
    }
}
