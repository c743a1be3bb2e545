//! What globus-cli lacks: statuses, children, preferences and membership
//! fields.

use std::collections::BTreeMap;

use groups_types::{
    GroupId, GroupRequiredSignupFields, IdentityId, IdentityPreferences, MembershipFields,
    MembershipStatus,
};
use serde_json::{Map, Value};

use super::to_json;
use crate::cli::{MembershipFieldsCommand, PreferencesCommand};
use crate::error::CliError;
use crate::output::{Output, Text, record_text, show, table_of};
use crate::resolve::resolve_user;
use crate::session::Session;

/// `statuses`: membership counts per group you administer or manage.
pub async fn statuses(s: &Session) -> Result<Output, CliError> {
    let counts = s.client().get_statuses().await?;
    let json = to_json(&counts)?;
    let mut headers = vec!["Group ID".to_owned()];
    headers.extend(MembershipStatus::KNOWN.iter().map(|st| {
        let w = st.as_str();
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    }));
    let mut rows = Vec::new();
    if let Value::Object(m) = &json {
        for (group, c) in m {
            let mut row = vec![group.clone()];
            for st in MembershipStatus::KNOWN {
                row.push(
                    c.get(st.as_str())
                        .map(|v| show(Some(v)))
                        .unwrap_or_else(|| "0".to_owned()),
                );
            }
            rows.push(row);
        }
    }
    Ok(Output {
        json,
        text: Text::Lines(table_of(&headers, &rows)),
    })
}

/// `children GROUP_ID`: the subgroups you can see.
pub async fn children(s: &Session, group: GroupId) -> Result<Output, CliError> {
    let children = s.client().get_children(group).await?;
    Ok(Output::table(
        to_json(&children)?,
        super::group::list_fields(),
        Some("children"),
    ))
}

fn preferences_table(json: &Value) -> String {
    let headers = vec!["Identity ID".to_owned(), "Allow Add".to_owned()];
    let rows: Vec<Vec<String>> = json
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(id, p)| vec![id.clone(), show(p.get("allow_add"))])
                .collect()
        })
        .unwrap_or_default();
    table_of(&headers, &rows)
}

/// `preferences show|set`.
pub async fn preferences(s: &Session, command: PreferencesCommand) -> Result<Output, CliError> {
    match command {
        PreferencesCommand::Show => {
            let prefs = s.client().get_identity_preferences().await?;
            let json = to_json(&prefs)?;
            let text = preferences_table(&json);
            Ok(Output {
                json,
                text: Text::Lines(text),
            })
        }
        PreferencesCommand::Set(args) => {
            let allow = args.allow_add && !args.no_allow_add;
            let ids: Vec<IdentityId> = match &args.identity {
                Some(u) => vec![resolve_user(s, u, false).await?],
                None => s
                    .client()
                    .get_identity_preferences()
                    .await?
                    .into_keys()
                    .collect(),
            };
            if ids.is_empty() {
                return Err(CliError::failed(
                    "the service lists no identity of yours: pass --identity",
                ));
            }
            let body: BTreeMap<IdentityId, IdentityPreferences> = ids
                .into_iter()
                .map(|id| (id, IdentityPreferences::allow_add(allow)))
                .collect();
            let answer = s.client().set_identity_preferences(body).await?;
            let json = to_json(&answer)?;
            let text = format!(
                "Identity preferences updated successfully\n{}",
                preferences_table(&json)
            );
            Ok(Output {
                json,
                text: Text::Lines(text),
            })
        }
    }
}

/// The membership field names the API knows, in its order.
fn field_names() -> impl Iterator<Item = &'static str> {
    GroupRequiredSignupFields::KNOWN.iter().map(|f| f.as_str())
}

fn fields_text(json: &Value) -> String {
    let mut out = String::new();
    if let Some(m) = json.as_object() {
        for (id, fields) in m {
            let mut rec = vec![crate::output::Field::new("Identity ID", "__id")];
            let mut doc = fields.as_object().cloned().unwrap_or_default();
            doc.insert("__id".into(), Value::String(id.clone()));
            for name in field_names() {
                if doc.contains_key(name) {
                    let title = super::member::title(name);
                    rec.push(crate::output::Field::new(&title, name));
                }
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&record_text(&rec, &Value::Object(doc), 80));
        }
    }
    if out.is_empty() {
        out.push_str("No membership fields.\n");
    }
    out
}

/// `membership-fields show|set`.
pub async fn membership_fields(
    s: &Session,
    command: MembershipFieldsCommand,
) -> Result<Output, CliError> {
    match command {
        MembershipFieldsCommand::Show(a) => {
            let fields = s.client().get_membership_fields(a.group_id).await?;
            let json = to_json(&fields)?;
            let text = fields_text(&json);
            Ok(Output {
                json,
                text: Text::Lines(text),
            })
        }
        MembershipFieldsCommand::Set(a) => {
            let mut doc = Map::new();
            for pair in &a.fields {
                let Some((name, value)) = pair.split_once('=') else {
                    return Err(CliError::usage(format!(
                        "invalid --field {pair:?}: expected NAME=VALUE"
                    )));
                };
                let name = name.trim().to_lowercase();
                if !field_names().any(|f| f == name) {
                    return Err(CliError::usage(format!(
                        "unknown membership field {name:?} (one of {})",
                        field_names().collect::<Vec<_>>().join(", ")
                    )));
                }
                doc.insert(name, Value::String(value.to_owned()));
            }
            let fields: MembershipFields = serde_json::from_value(Value::Object(doc))
                .map_err(|e| CliError::Internal(format!("membership fields: {e}")))?;
            let ids: Vec<IdentityId> = match &a.identity {
                Some(u) => vec![resolve_user(s, u, false).await?],
                None => s
                    .client()
                    .get_membership_fields(a.group_id)
                    .await?
                    .into_keys()
                    .collect(),
            };
            if ids.is_empty() {
                return Err(CliError::failed(format!(
                    "you have no membership in group {} to set fields on: pass --identity",
                    a.group_id
                )));
            }
            let body: BTreeMap<IdentityId, MembershipFields> =
                ids.into_iter().map(|id| (id, fields.clone())).collect();
            let answer = s.client().set_membership_fields(a.group_id, body).await?;
            let json = to_json(&answer)?;
            let text = format!(
                "Membership fields updated successfully\n{}",
                fields_text(&json)
            );
            Ok(Output {
                json,
                text: Text::Lines(text),
            })
        }
    }
}
