//! Identity preferences (`/v2/preferences`) and membership fields
//! (`/v2/groups/{id}/membership_fields`), both keyed by identity id and limited to
//! the caller's identity set.

use std::collections::BTreeMap;

use groups_types::IdentityId;
use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use super::codes::ErrorCode;
use super::resp;
use super::state::MEMBERSHIP_FIELD_KEYS;
use super::store::World;
use super::types::{ApiResponse, Caller};
use super::validate::{self as v, Issues, Seg};

type Res = Result<ApiResponse, ApiResponse>;

#[derive(Serialize)]
struct PrefOut {
    allow_add: bool,
}

fn not_own(caller: &Caller, what: &str) -> ApiResponse {
    resp::forbidden(
        ErrorCode::NotOwnIdentity,
        &format!("You may only {what} for identities in your own identity set."),
        &caller.scopes,
    )
}

/// Parse a body keyed by identity id; each value must be an object.
fn keyed_objects<'v>(
    value: &'v Value,
    is: &mut Issues,
) -> Vec<(IdentityId, &'v Map<String, Value>)> {
    let mut out = Vec::new();
    let Some(obj) = v::dict(value, &[Seg::K("body")], is) else {
        return out;
    };
    for (k, val) in obj {
        let id = v::identity(
            &Value::String(k.clone()),
            &[Seg::K("body"), Seg::K(k), Seg::K("[key]")],
            is,
        );
        let fields = v::object(val, &[Seg::K("body"), Seg::K(k)], is);
        if let (Some(id), Some(fields)) = (id, fields) {
            out.push((id, fields));
        }
    }
    out
}

impl World {
    /// `GET /v2/preferences`: one entry per identity of the caller's set
    /// (unset `allow_add` reads as true, the default).
    pub(super) fn get_preferences(&self, caller: &Caller) -> Res {
        let out: BTreeMap<IdentityId, PrefOut> = caller
            .identities
            .iter()
            .map(|id| {
                let allow_add = self
                    .identities
                    .get(id)
                    .and_then(|r| r.allow_add)
                    .unwrap_or(true);
                (*id, PrefOut { allow_add })
            })
            .collect();
        Ok(resp::json_response(StatusCode::OK, &out))
    }

    /// `PUT /v2/preferences`: `{identity_id: {allow_add}}`, or the flat
    /// `{"allow_add": ..}` applied to the caller's effective identity.
    pub(super) fn set_preferences(&mut self, caller: &Caller, value: &Value) -> Res {
        let mut is = Issues::default();
        let mut updates: Vec<(IdentityId, Option<bool>)> = Vec::new();
        let flat = value
            .as_object()
            .is_some_and(|o| o.contains_key("allow_add"));
        if flat {
            if let Some(a) = value.get("allow_add")
                && let Some(b) =
                    v::boolean_or_null(a, &[Seg::K("body"), Seg::K("allow_add")], &mut is)
            {
                updates.push((caller.primary, b));
            }
        } else {
            for (id, fields) in keyed_objects(value, &mut is) {
                let idk = id.to_string();
                let loc = [Seg::K("body"), Seg::K(&idk), Seg::K("allow_add")];
                match fields.get("allow_add") {
                    Some(a) => {
                        if let Some(b) = v::boolean_or_null(a, &loc, &mut is) {
                            updates.push((id, b));
                        }
                    }
                    None => is.missing(&loc, &Value::Object(fields.clone())),
                }
            }
        }
        is.finish()?;
        if updates.iter().any(|(id, _)| !caller.owns(id)) {
            return Err(not_own(caller, "set preferences"));
        }
        for (id, b) in updates {
            self.ensure_identity(id);
            if let Some(r) = self.identities.get_mut(&id) {
                r.allow_add = b;
            }
        }
        self.touch();
        self.get_preferences(caller)
    }

    /// `GET /v2/groups/{id}/membership_fields`: the caller's identities that
    /// hold a membership in the group.
    pub(super) fn get_fields(&self, caller: &Caller, id: &str) -> Res {
        let (_, g) = self.visible_group(caller, id)?;
        let out: BTreeMap<IdentityId, &Map<String, Value>> = caller
            .identities
            .iter()
            .filter_map(|i| g.memberships.get(i).map(|m| (*i, &m.membership_fields)))
            .collect();
        Ok(resp::json_response(StatusCode::OK, &out))
    }

    /// `PUT /v2/groups/{id}/membership_fields`: replace the fields of the named
    /// identities (each must be the caller's and hold a membership in the group).
    /// Null values and keys outside `MembershipFields` are dropped.
    pub(super) fn set_fields(&mut self, caller: &Caller, id: &str, value: &Value) -> Res {
        let mut is = Issues::default();
        let mut updates: Vec<(IdentityId, Map<String, Value>)> = Vec::new();
        for (iid, fields) in keyed_objects(value, &mut is) {
            let idk = iid.to_string();
            let mut kept = Map::new();
            for (k, val) in fields {
                if !MEMBERSHIP_FIELD_KEYS.contains(&k.as_str()) {
                    continue;
                }
                let loc = [Seg::K("body"), Seg::K(&idk), Seg::K(k)];
                if let Some(Some(s)) = v::string_or_null(val, &loc, &mut is) {
                    kept.insert(k.clone(), Value::String(s));
                }
            }
            updates.push((iid, kept));
        }
        is.finish()?;
        let (gid, g) = self.visible_group(caller, id)?;
        for (iid, _) in &updates {
            if !caller.owns(iid) {
                return Err(not_own(caller, "set membership fields"));
            }
            if !g.memberships.contains_key(iid) {
                return Err(resp::forbidden(
                    ErrorCode::NoMembership,
                    "The identity has no membership in this group.",
                    &caller.scopes,
                ));
            }
        }
        if let Some(g) = self.groups.get_mut(&gid) {
            for (iid, fields) in updates {
                if let Some(m) = g.memberships.get_mut(&iid) {
                    m.membership_fields = fields;
                }
            }
        }
        self.touch();
        self.get_fields(caller, id)
    }
}
