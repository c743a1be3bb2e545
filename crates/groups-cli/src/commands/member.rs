//! `member add|invite|approve|reject|remove|change-role|list`.

use groups_types::{BatchItem, BatchVerb};
use serde::Deserialize;
use serde_json::Value;

use super::{batch, batch_refused, get_as, get_json};
use crate::cli::{Format, GroupUser, MemberListArgs, Role};
use crate::error::CliError;
use crate::output::{Field, Key, Output, Printer, Text, lookup, show, table_of};
use crate::resolve::resolve_user;
use crate::session::Session;

/// One identity, one verb: a one-entry batch, shown as a record of the
/// resulting membership.
pub async fn one(
    s: &Session,
    target: &GroupUser,
    verb: BatchVerb,
    role: Option<Role>,
    provision: bool,
) -> Result<Output, CliError> {
    let identity = resolve_user(s, &target.user, provision).await?;
    let item = match role {
        Some(r) => BatchItem::with_role(identity, r.to_api()),
        None => BatchItem::new(identity),
    };
    let answer = batch(s, target.group_id, verb.clone(), vec![item]).await?;
    let (past, generic) = match verb {
        BatchVerb::Add => ("Added", "Could not add user to group"),
        BatchVerb::Invite => ("Invited", "Could not invite user to group"),
        BatchVerb::Approve => ("Approved", "Could not approve user"),
        BatchVerb::Reject => ("Rejected", "Could not reject user"),
        BatchVerb::Remove => ("Removed", "Could not remove user from group"),
        BatchVerb::ChangeRole => ("Changed", "Could not change the role of user"),
        _ => ("Updated", "Could not update the membership"),
    };
    let ok = answer
        .get(verb.as_str())
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !ok {
        return Err(batch_refused(&answer, &verb, generic));
    }
    let mut fields = vec![
        Field::new("Group ID", "group_id"),
        Field::new(&format!("{past} User ID"), "identity_id"),
        Field::new(&format!("{past} User Username"), "username"),
    ];
    if verb == BatchVerb::ChangeRole {
        fields.push(Field::new("Role", "role"));
    }
    Ok(Output {
        json: answer,
        text: Text::Record {
            fields,
            at: Some(format!("{}.0", verb.as_str())),
        },
    })
}

/// The column title of a membership field: `current_project_name` ->
/// `Current Project Name`.
pub(super) fn title(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `member list GROUP_ID [--fields a,b]`.
pub async fn list(
    s: &Session,
    args: MemberListArgs,
    printer: &Printer,
) -> Result<Output, CliError> {
    let mut fields = vec![
        Field::new("Username", "username"),
        Field::new("Role", "role"),
        Field::new("Status", "status"),
    ];
    if let Some(extra) = &args.fields {
        for name in extra.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_lowercase();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(CliError::usage(format!(
                    "invalid membership field name {name:?} in --fields"
                )));
            }
            fields.push(Field::new(
                &title(&name),
                &format!("membership_fields.{name}"),
            ));
        }
    }
    let path = format!("v2/groups/{}", args.group_id);
    let query = [("include", "memberships".into())];
    if printer.format != Format::Text || printer.jmespath.is_some() {
        // JSON, unix and --jmespath show the whole document.
        let group = get_json(s, path, &query).await?;
        return Ok(Output::table(group, fields, Some("memberships")));
    }
    // A table needs four fields of each membership: decoding only those
    // (the rest of the group skipped unparsed into values) is what makes a
    // large roster quick to show.
    // Each cell is rendered from its decoded value straight away, as
    // `Field::render` renders it from the document (no per-row object).
    let roster: Roster = get_as(s, path, &query).await?;
    let extra: Vec<&str> = fields[3..]
        .iter()
        .filter_map(|f| match &f.key {
            Key::Path(p) => p.strip_prefix("membership_fields."),
            _ => None,
        })
        .collect();
    let cells: Vec<Vec<String>> = roster
        .memberships
        .unwrap_or_default()
        .into_iter()
        .map(|row| row.into_cells(&extra))
        .collect();
    let headers: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    Ok(Output {
        json: Value::Null,
        text: Text::Lines(table_of(&headers, &cells)),
    })
}

/// The part of a group that `member list` prints as a table.
#[derive(Deserialize)]
struct Roster {
    #[serde(default)]
    memberships: Option<Vec<RosterRow>>,
}

/// The columns of one membership (an absent field shows as `None`, as a
/// null one does).
#[derive(Deserialize)]
struct RosterRow {
    #[serde(default)]
    username: Value,
    #[serde(default)]
    role: Value,
    #[serde(default)]
    status: Value,
    #[serde(default)]
    membership_fields: Value,
}

impl RosterRow {
    /// The cells of the row: username, role, status, then the membership
    /// fields named in `extra`.
    fn into_cells(self, extra: &[&str]) -> Vec<String> {
        let mut cells = Vec::with_capacity(3 + extra.len());
        cells.push(show_owned(self.username));
        cells.push(show_owned(self.role));
        cells.push(show_owned(self.status));
        for name in extra {
            cells.push(show(lookup(&self.membership_fields, name)));
        }
        cells
    }
}

/// [`show`] of an owned value (a string is moved, not copied).
fn show_owned(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => show(Some(&other)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles() {
        assert_eq!(super::title("institution"), "Institution");
        assert_eq!(super::title("current_project_name"), "Current Project Name");
    }
}
