//! Group commands: list, show, create, update, delete, set-policies, join,
//! leave, invite accept/decline and the subscription commands.

use groups_types::{
    BatchItem, BatchVerb, GroupCreate, GroupId, GroupInclude, GroupPolicies, GroupUpdate,
    MembershipStatus, Nullable, SubscriptionId,
};
use serde_json::{Map, Value, json};

use super::{batch, batch_refused, get_json, to_json};
use crate::cli::{
    CreateArgs, IdentityOpt, JoinArgs, ListArgs, SetPoliciesArgs, SetVerifiedArgs, UpdateArgs,
};
use crate::error::CliError;
use crate::output::{Field, Key, Output, Text};
use crate::resolve::resolve_user;
use crate::session::Session;

/// The columns of `list` (and `children`).
pub fn list_fields() -> Vec<Field> {
    vec![
        Field::new("Group ID", "id"),
        Field::new("Name", "name"),
        Field::new("Type", "group_type"),
        Field::with_key("Session Enforcement", Key::SessionEnforcement),
        Field::with_key("Roles", Key::Roles),
        Field::new("Subscription ID", "subscription_id"),
    ]
}

/// The fields of `show`: the subscription fields only for a group with a
/// subscription.
pub fn show_fields(doc: &Value) -> Vec<Field> {
    let mut fields = vec![Field::new("Group ID", "id")];
    if doc.get("subscription_id").is_some_and(|v| !v.is_null()) {
        fields.push(Field::new("Subscription ID", "subscription_id"));
        fields.push(Field::new("BAA", "subscription_info.is_baa"));
        fields.push(Field::new(
            "High Assurance",
            "subscription_info.is_high_assurance",
        ));
    }
    fields.extend([
        Field::new("Name", "name"),
        Field::wrapped("Description", "description"),
        Field::new("Type", "group_type"),
        Field::new("Visibility", "policies.group_visibility"),
        Field::new("Membership Visibility", "policies.group_members_visibility"),
        Field::with_key("Session Enforcement", Key::SessionEnforcement),
        Field::new("Join Requests Allowed", "policies.join_requests"),
        Field::with_key(
            "Signup Fields",
            Key::SortedArray("policies.signup_fields".into()),
        ),
        Field::with_key("Roles", Key::Roles),
        Field::wrapped("Terms and Conditions", "terms_and_conditions"),
    ]);
    fields
}

/// `list [--statuses ...]`.
pub async fn list(s: &Session, args: ListArgs) -> Result<Output, CliError> {
    let mut statuses = Vec::new();
    for st in &args.statuses {
        let st = st.trim();
        if st.is_empty() {
            continue;
        }
        let status = MembershipStatus::from_wire(&st.to_lowercase());
        if status.is_unknown() {
            let known: Vec<&str> = MembershipStatus::KNOWN.iter().map(|k| k.as_str()).collect();
            return Err(CliError::usage(format!(
                "invalid value {st:?} for --statuses (one of {})",
                known.join(", ")
            )));
        }
        statuses.push(status);
    }
    let mut query = Vec::new();
    if !statuses.is_empty() {
        let joined: Vec<&str> = statuses.iter().map(|st| st.as_str()).collect();
        query.push(("statuses", joined.join(",")));
    }
    let groups = get_json(s, "v2/groups/my_groups".into(), &query).await?;
    Ok(Output::table(groups, list_fields(), None))
}

/// `show GROUP_ID` (with `include=my_memberships,policies`: globus-cli
/// asks for `my_memberships` only, and then shows `None` for the policies
/// a service leaves out without the include).
pub async fn show(s: &Session, group: GroupId) -> Result<Output, CliError> {
    let json = get_json(
        s,
        format!("v2/groups/{group}"),
        &[("include", "my_memberships,policies".into())],
    )
    .await?;
    let fields = show_fields(&json);
    Ok(Output::record(json, fields))
}

/// `create NAME [--description] [--parent-id]` (absent options sent as null).
pub async fn create(s: &Session, args: CreateArgs) -> Result<Output, CliError> {
    let mut body = GroupCreate::new(args.name);
    body.description = match args.description {
        Some(d) => Nullable::Value(d),
        None => Nullable::Null,
    };
    body.parent_id = match args.parent_id {
        Some(p) => Nullable::Value(p),
        None => Nullable::Null,
    };
    let group = s.client().create_group(body).await?;
    let line = format!("Group {} created successfully", group.id);
    Ok(Output::message(to_json(&group)?, line))
}

/// `update GROUP_ID ...`: read the group, then send the four fields with
/// the unspecified ones copied.
pub async fn update(s: &Session, args: UpdateArgs) -> Result<Output, CliError> {
    let verified = match args.subscription_admin_verified_id.as_deref() {
        None => None,
        Some(v) if v.trim().eq_ignore_ascii_case("null") => Some(None),
        Some(v) => Some(Some(v.trim().parse::<SubscriptionId>().map_err(|_| {
            CliError::usage(format!(
                "invalid value {v:?} for --subscription-admin-verified-id: a UUID or null"
            ))
        })?)),
    };
    let current = s.client().get_group(args.group_id).await?;
    let copy = |n: &Nullable<String>| match n {
        Nullable::Value(v) => Nullable::Value(v.clone()),
        _ => Nullable::Null,
    };
    let mut body = GroupUpdate::new();
    body.name = Nullable::Value(args.name.unwrap_or_else(|| current.name.clone()));
    body.description = args
        .description
        .map_or_else(|| copy(&current.description), Nullable::Value);
    body.terms_and_conditions = args
        .terms_and_conditions
        .map_or_else(|| copy(&current.terms_and_conditions), Nullable::Value);
    let existing = current.subscription_admin_verified_id.value().copied();
    body.subscription_admin_verified_id = match verified {
        None => existing.map_or(Nullable::Null, Nullable::Value),
        Some(None) => Nullable::Null,
        Some(Some(id)) if Some(id) == existing => Nullable::Value(id),
        Some(Some(_)) => {
            return Err(CliError::usage(
                "--subscription-admin-verified-id can only clear the verification (null) here; \
                 to set it, use set-subscription-admin-verified",
            ));
        }
    };
    let group = s.client().update_group(args.group_id, body).await?;
    Ok(Output::message(
        to_json(&group)?,
        "Group updated successfully",
    ))
}

/// `delete GROUP_ID`.
pub async fn delete(s: &Session, group: GroupId) -> Result<Output, CliError> {
    let doc = s.client().delete_group(group).await?;
    Ok(Output::message(
        to_json(&doc)?,
        "Group deleted successfully",
    ))
}

/// `set-policies GROUP_ID ...`: read the policies, overlay the options,
/// send only the keys the service's document has.
pub async fn set_policies(s: &Session, args: SetPoliciesArgs) -> Result<Output, CliError> {
    let signup = match &args.signup_fields {
        None => None,
        Some(text) => Some(parse_signup_fields(text)?),
    };
    let current = s.client().get_group_policies(args.group_id).await?;
    let current = to_json(&current)?;
    let Value::Object(current) = current else {
        return Err(CliError::failed("the policies document is not an object"));
    };
    let mut given: Map<String, Value> = Map::new();
    if args.high_assurance {
        given.insert("is_high_assurance".into(), json!(true));
    } else if args.no_high_assurance {
        given.insert("is_high_assurance".into(), json!(false));
    }
    if let Some(t) = args.authentication_timeout {
        given.insert("authentication_assurance_timeout".into(), json!(t));
    }
    if let Some(v) = args.visibility {
        let v = match v {
            crate::cli::Visibility::Authenticated => "authenticated",
            crate::cli::Visibility::Private => "private",
        };
        given.insert("group_visibility".into(), json!(v));
    }
    if let Some(v) = args.members_visibility {
        let v = match v {
            crate::cli::MembersVisibility::Members => "members",
            crate::cli::MembersVisibility::Managers => "managers",
        };
        given.insert("group_members_visibility".into(), json!(v));
    }
    if args.join_requests {
        given.insert("join_requests".into(), json!(true));
    } else if args.no_join_requests {
        given.insert("join_requests".into(), json!(false));
    }
    if let Some(fields) = signup {
        given.insert("signup_fields".into(), json!(fields));
    }
    let mut body = current.clone();
    for (k, v) in given {
        if body.contains_key(&k) {
            body.insert(k, v);
        }
    }
    let policies: GroupPolicies = serde_json::from_value(Value::Object(body))
        .map_err(|e| CliError::failed(format!("cannot build the policies to send: {e}")))?;
    let answer = s
        .client()
        .set_group_policies(args.group_id, policies)
        .await?;
    Ok(Output::message(
        to_json(&answer)?,
        "Group policies updated successfully",
    ))
}

/// The `--signup-fields` value: comma-separated names of the 12 signup
/// fields (case-insensitive); `""` is the empty list.
fn parse_signup_fields(text: &str) -> Result<Vec<String>, CliError> {
    let known: Vec<&str> = groups_types::GroupRequiredSignupFields::KNOWN
        .iter()
        .map(|f| f.as_str())
        .collect();
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lower = part.to_lowercase();
        if !known.contains(&lower.as_str()) {
            return Err(CliError::usage(format!(
                "invalid value {part:?} for --signup-fields (choose from {})",
                known.join(", ")
            )));
        }
        out.push(lower);
    }
    Ok(out)
}

/// `join GROUP_ID [--identity] [--request]`.
pub async fn join(s: &Session, args: JoinArgs) -> Result<Output, CliError> {
    let identity = match &args.identity {
        Some(u) => resolve_user(s, u, false).await?,
        None => s.my_identity().await?,
    };
    let verb = if args.request {
        BatchVerb::RequestJoin
    } else {
        BatchVerb::Join
    };
    let answer = batch(
        s,
        args.group_id,
        verb.clone(),
        vec![BatchItem::new(identity)],
    )
    .await?;
    let succeeded = answer
        .get(verb.as_str())
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !succeeded {
        let generic = if args.request {
            "Could not request to join group"
        } else {
            "Could not join group"
        };
        return Err(batch_refused(&answer, &verb, generic));
    }
    let at = format!("{}.0", verb.as_str());
    Ok(Output {
        json: answer,
        text: Text::Record {
            fields: vec![
                Field::new("Group ID", "group_id"),
                Field::new("User ID", "identity_id"),
                Field::new("Username", "username"),
            ],
            at: Some(at),
        },
    })
}

/// The self-service verbs acting on all of the caller's matching memberships.
#[derive(Clone, Copy, Debug)]
pub enum SelfVerb {
    /// `leave` (active memberships).
    Leave,
    /// `invite accept` (invited memberships).
    Accept,
    /// `invite decline` (invited memberships).
    Decline,
}

/// `leave`, `invite accept`, `invite decline`.
pub async fn leave_or_answer(
    s: &Session,
    args: IdentityOpt,
    what: SelfVerb,
) -> Result<Output, CliError> {
    let (verb, status, done, none_msg) = match what {
        SelfVerb::Leave => (
            BatchVerb::Leave,
            MembershipStatus::Active,
            "Left group as",
            "You have no memberships in",
        ),
        SelfVerb::Accept => (
            BatchVerb::Accept,
            MembershipStatus::Invited,
            "Accepted invitation as",
            "You have no invitations to",
        ),
        SelfVerb::Decline => (
            BatchVerb::Decline,
            MembershipStatus::Invited,
            "Declined invitation as",
            "You have no invitations to",
        ),
    };
    let ids = match &args.identity {
        Some(u) => vec![resolve_user(s, u, false).await?],
        None => {
            let group = s
                .client()
                .get_group(args.group_id)
                .include([GroupInclude::MyMemberships])
                .await?;
            let ids: Vec<_> = group
                .my_memberships
                .value()
                .into_iter()
                .flatten()
                .filter(|m| m.status == status)
                .map(|m| m.identity_id)
                .collect();
            if ids.is_empty() {
                return Err(CliError::failed(format!(
                    "{none_msg} group {}",
                    args.group_id
                )));
            }
            ids
        }
    };
    let items = ids.into_iter().map(BatchItem::new).collect();
    let answer = batch(s, args.group_id, verb.clone(), items).await?;
    let mut text = String::new();
    let errors = answer
        .get("errors")
        .and_then(|e| e.get(verb.as_str()))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for e in &errors {
        text.push_str(&format!(
            "Error for {}: {} ({})\n",
            e.get("identity_id").and_then(Value::as_str).unwrap_or("?"),
            e.get("detail")
                .and_then(Value::as_str)
                .unwrap_or("no detail"),
            e.get("code").and_then(Value::as_str).unwrap_or("ERROR"),
        ));
    }
    let successes = answer
        .get(verb.as_str())
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if successes.is_empty() {
        return Err(batch_refused(
            &answer,
            &verb,
            "The action did not happen for any identity",
        ));
    }
    for m in &successes {
        text.push_str(&format!(
            "{done} {} ({})\n",
            m.get("identity_id").and_then(Value::as_str).unwrap_or("?"),
            m.get("username").and_then(Value::as_str).unwrap_or("?"),
        ));
    }
    Ok(Output {
        json: answer,
        text: Text::Lines(text),
    })
}

fn subscription_fields() -> Vec<Field> {
    vec![
        Field::new("Group ID", "group_id"),
        Field::new("Subscription ID", "subscription_id"),
        Field::new("BAA", "subscription_info.is_baa"),
        Field::new("High Assurance", "subscription_info.is_high_assurance"),
    ]
}

/// `get-subscription-info SUBSCRIPTION_ID`.
pub async fn subscription_info(s: &Session, id: SubscriptionId) -> Result<Output, CliError> {
    let info = s.client().get_group_by_subscription_id(id).await?;
    Ok(Output::record(to_json(&info)?, subscription_fields()))
}

/// `get-by-subscription SUBSCRIPTION_ID`: in text mode also the group; a
/// group you cannot see shows the subscription record with a hint.
pub async fn by_subscription(
    s: &Session,
    id: SubscriptionId,
    json_mode: bool,
) -> Result<Output, CliError> {
    let info = s.client().get_group_by_subscription_id(id).await?;
    let info_json = to_json(&info)?;
    if json_mode {
        return Ok(Output::record(info_json, subscription_fields()));
    }
    match s
        .client()
        .get_group(info.group_id)
        .include([GroupInclude::MyMemberships, GroupInclude::Policies])
        .await
    {
        Ok(group) => {
            let mut json = to_json(&group)?;
            if let Value::Object(m) = &mut json {
                m.entry("subscription_id")
                    .or_insert_with(|| json!(info.subscription_id));
                if let Some(si) = info_json.get("subscription_info") {
                    m.entry("subscription_info").or_insert_with(|| si.clone());
                }
            }
            let fields = show_fields(&json);
            Ok(Output::record(json, fields))
        }
        Err(e) if e.status().map(|st| st.as_u16()) == Some(403) => {
            let out = Output::record(info_json.clone(), subscription_fields());
            let text = crate::output::record_text(&subscription_fields(), &info_json, 80);
            Ok(Output {
                json: out.json,
                text: Text::Lines(format!(
                    "The group of this subscription is not visible to you; showing the subscription.\n{text}"
                )),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// `set-subscription-admin-verified GROUP_ID SUBSCRIPTION_ID|null`.
pub async fn set_verified(s: &Session, args: SetVerifiedArgs) -> Result<Output, CliError> {
    let value = args.subscription_id.trim();
    let answer = if value.eq_ignore_ascii_case("null") {
        s.client()
            .clear_subscription_admin_verified(args.group_id)
            .await?
    } else {
        let id: SubscriptionId = value.parse().map_err(|_| {
            CliError::usage(format!(
                "invalid value {value:?} for SUBSCRIPTION_ID: a UUID or null"
            ))
        })?;
        s.client()
            .set_subscription_admin_verified(args.group_id, id)
            .await?
    };
    Ok(Output::message(
        to_json(&answer)?,
        "Group subscription verification updated successfully",
    ))
}
