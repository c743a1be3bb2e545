//! Fixture conformance: map a fixture file name to the model it holds,
//! parse it, write it back, and compare as JSON values.
//!
//! File names follow `<operation>[.<case>].request.json`,
//! `<operation>[.<case>].response.json` and `error.<status>.<kind>.json`.
//! A name that maps to no model is an error, never a silent skip.
//!
//! Available only with the crate's `fixture` Cargo feature (off by default):
//! `groups-types = { version = "0.1", features = ["fixture"] }`.
//!
//! ```
//! use groups_types::fixture;
//!
//! let kind = fixture::kind_for("set_group_policies.partial.request.json").unwrap();
//! assert_eq!(kind.model, "GroupPolicies");
//! fixture::check("set_group_policies.partial.request.json", r#"{"is_high_assurance": true}"#).unwrap();
//! assert!(fixture::check("no_such_operation.response.json", "{}").is_err());
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::*;

/// Which model a fixture holds.
#[derive(Clone, Copy, Debug)]
pub struct FixtureKind {
    /// The operation named by the file (or `error`).
    pub operation: &'static str,
    /// The Rust type the body parses into.
    pub model: &'static str,
    round_trip: fn(&str) -> Result<(), String>,
}

fn rt<T: DeserializeOwned + Serialize>(text: &str) -> Result<(), String> {
    let original: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let typed: T = serde_json::from_value(original.clone())
        .map_err(|e| format!("does not parse as {}: {e}", std::any::type_name::<T>()))?;
    let written = serde_json::to_value(&typed).map_err(|e| format!("cannot serialize: {e}"))?;
    if written == original {
        Ok(())
    } else {
        Err(format!(
            "round trip changed the document\n  original: {original}\n  written:  {written}"
        ))
    }
}

macro_rules! kind {
    ($op:literal, $t:ty) => {
        FixtureKind {
            operation: $op,
            model: stringify!($t),
            round_trip: rt::<$t>,
        }
    };
}

fn request_kind(operation: &str) -> Option<FixtureKind> {
    Some(match operation {
        "create_group" => kind!("create_group", GroupCreate),
        "update_group" => kind!("update_group", GroupUpdate),
        "set_group_policies" => kind!("set_group_policies", GroupPolicies),
        "set_identity_preferences" => kind!("set_identity_preferences", IdentityPreferencesMap),
        "set_membership_fields" => kind!("set_membership_fields", MembershipFieldsMap),
        "batch_membership_action" => kind!("batch_membership_action", BatchMembershipActions),
        "set_subscription_admin_verified" => {
            kind!(
                "set_subscription_admin_verified",
                SubscriptionAdminVerifiedUpdate
            )
        }
        _ => return None,
    })
}

fn response_kind(operation: &str) -> Option<FixtureKind> {
    Some(match operation {
        "get_my_groups" => kind!("get_my_groups", Vec<Group>),
        "get_group" => kind!("get_group", Group),
        "create_group" => kind!("create_group", Group),
        "update_group" => kind!("update_group", Group),
        "delete_group" => kind!("delete_group", Group),
        "get_children" => kind!("get_children", GroupChildren),
        "get_statuses" => kind!("get_statuses", GroupStatuses),
        "get_group_policies" => kind!("get_group_policies", PolicyDocument),
        "set_group_policies" => kind!("set_group_policies", PolicyDocument),
        "get_identity_preferences" => kind!("get_identity_preferences", IdentityPreferencesMap),
        "set_identity_preferences" => kind!("set_identity_preferences", IdentityPreferencesMap),
        "get_membership_fields" => kind!("get_membership_fields", MembershipFieldsMap),
        "set_membership_fields" => kind!("set_membership_fields", MembershipFieldsMap),
        "batch_membership_action" => kind!("batch_membership_action", BatchMembershipResult),
        "get_group_by_subscription_id" => {
            kind!("get_group_by_subscription_id", GroupSubscription)
        }
        "set_subscription_admin_verified" => {
            kind!("set_subscription_admin_verified", SubscriptionVerified)
        }
        _ => return None,
    })
}

fn error_kind(status: &str) -> Option<FixtureKind> {
    Some(match status {
        "400" => kind!("error", BadRequestError),
        "401" => kind!("error", AuthError),
        "403" => kind!("error", ForbiddenError),
        "422" => kind!("error", ValidationErrorBody),
        "404" | "409" | "500" => kind!("error", BaseError),
        _ => return None,
    })
}

/// The model a fixture file name maps to.
pub fn kind_for(file_name: &str) -> Result<FixtureKind, String> {
    let stem = file_name
        .strip_suffix(".json")
        .ok_or_else(|| format!("{file_name}: not a .json file"))?;
    let parts: Vec<&str> = stem.split('.').collect();
    let found = match parts.as_slice() {
        ["error", status, _kind] => error_kind(status),
        [op, .., "request"] => request_kind(op),
        [op, .., "response"] => response_kind(op),
        _ => None,
    };
    found.ok_or_else(|| format!("{file_name}: no model is known for this fixture name"))
}

/// Check one fixture: its name maps to a model, the body parses into it,
/// and writing it back gives an equal JSON value.
pub fn check(file_name: &str, contents: &str) -> Result<FixtureKind, String> {
    let kind = kind_for(file_name)?;
    (kind.round_trip)(contents).map_err(|e| format!("{file_name} ({}): {e}", kind.model))?;
    Ok(kind)
}
