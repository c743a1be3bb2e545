//! `POST /v2/groups/{id}`: the batch membership actions.
//!
//! Order of decisions: body validation (422, done by [`parse_batch`] before the
//! world is locked) -> group lookup (404) and
//! visibility (403) -> duplicate identities (400) -> verb permission (403); all
//! of these happen before any change. Then the verbs run in `Verb::ALL` order,
//! each item independently, failures reported per identity.

use std::collections::HashSet;

use groups_types::{GroupId, IdentityId};
use http::StatusCode;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use super::codes::ErrorCode;
use super::ids::parse_group_id;
use super::render::MembershipOut;
use super::resp;
use super::state::MembershipRec;
use super::store::World;
use super::types::{ApiResponse, Caller, MAX_BATCH_ITEMS, Policy};
use super::validate::{self as v, Issues, Seg};
use super::vocab::{Role, Status, Verb};

/// One parsed item.
#[derive(Debug)]
pub(super) struct Item {
    id: IdentityId,
    role: Role,
    reason: Option<String>,
    email: Option<String>,
}

/// Per verb (indexed by `Verb::index`): `None` = not requested (absent or null), else
/// the items.
pub(super) type Lists = [Option<Vec<Item>>; Verb::COUNT];

/// Parse and validate a batch body, without the world: the whole 422 decision. A batch
/// with more than [`MAX_BATCH_ITEMS`] items (over all verbs) is refused before any
/// item is looked at, so the cost of a refused batch does not grow with its size.
pub(super) fn parse_batch(body: &[u8]) -> Result<Lists, ApiResponse> {
    let value = v::parse_body(body)?;
    parse_actions(&value)
}

fn parse_actions(value: &Value) -> Result<Lists, ApiResponse> {
    let mut lists: Lists = Default::default();
    let mut is = Issues::default();
    let Some(obj) = v::object(value, &[Seg::K("body")], &mut is) else {
        is.finish()?;
        return Ok(lists);
    };
    let total: usize = obj
        .iter()
        .filter(|(k, _)| Verb::parse(k).is_some())
        .filter_map(|(_, val)| val.as_array().map(Vec::len))
        .sum();
    if total > MAX_BATCH_ITEMS {
        is.too_long(&[Seg::K("body")], "Batch", MAX_BATCH_ITEMS, total);
        return is.finish().map(|()| lists);
    }
    for (key, val) in obj {
        let Some(verb) = Verb::parse(key) else {
            is.extra(&[Seg::K("body"), Seg::K(key)], val);
            continue;
        };
        if val.is_null() {
            continue;
        }
        let Some(items) = v::list(val, &[Seg::K("body"), Seg::K(key)], &mut is) else {
            continue;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let base = [Seg::K("body"), Seg::K(key), Seg::I(i)];
            let Some(fields) = v::object(item, &base, &mut is) else {
                continue;
            };
            let at = |k: &'static str| [Seg::K("body"), Seg::K(key), Seg::I(i), Seg::K(k)];
            let id = match fields.get("identity_id") {
                Some(x) => v::identity(x, &at("identity_id"), &mut is),
                None => {
                    is.missing(&at("identity_id"), item);
                    None
                }
            };
            let mut role = Role::Member;
            if verb.has_role()
                && let Some(r) = fields.get("role").filter(|r| !r.is_null())
            {
                role = v::enum_value(r, Role::NAMES, &at("role"), &mut is)
                    .and_then(Role::parse)
                    .unwrap_or(Role::Member);
            }
            let mut reason = None;
            if verb.has_reason()
                && let Some(r) = fields.get("status_reason")
            {
                reason = v::string_or_null(r, &at("status_reason"), &mut is).flatten();
            }
            let mut email = None;
            if verb == Verb::Invite
                && let Some(e) = fields.get("invite_email_address")
            {
                email = v::string_or_null(e, &at("invite_email_address"), &mut is).flatten();
            }
            if let Some(id) = id {
                out.push(Item {
                    id,
                    role,
                    reason,
                    email,
                });
            }
        }
        lists[verb.index()] = Some(out);
    }
    is.finish()?;
    Ok(lists)
}

/// A per-identity failure.
#[derive(Serialize)]
struct ErrOut {
    identity_id: IdentityId,
    code: &'static str,
    detail: &'static str,
}

/// A per-identity failure: its code and detail.
type Fail = (ErrorCode, &'static str);

const NO_MEMBERSHIP: Fail = (
    ErrorCode::NoMembership,
    "Identity has no membership in group.",
);
const ALREADY_ACTIVE: Fail = (
    ErrorCode::AlreadyActive,
    "The identity is already an active member of the group.",
);
const NOT_OWN: Fail = (
    ErrorCode::NotOwnIdentity,
    "This action may only be taken for an identity in your own identity set.",
);
const ADMIN_REQUIRED: Fail = (
    ErrorCode::AdminRequired,
    "Only group admins may grant the manager or admin role or remove an admin.",
);
const LAST_ADMIN: Fail = (
    ErrorCode::LastAdmin,
    "The group must keep at least one active admin.",
);

/// The batch response: requested verbs (always present) then `errors` if any.
struct BatchOut<'a> {
    verbs: Vec<(&'static str, Vec<MembershipOut<'a>>)>,
    errors: Vec<(&'static str, Vec<ErrOut>)>,
}

impl Serialize for BatchOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Errors<'b>(&'b [(&'static str, Vec<ErrOut>)]);
        impl Serialize for Errors<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let n = self.verbs.len() + usize::from(!self.errors.is_empty());
        let mut m = s.serialize_map(Some(n))?;
        for (k, v) in &self.verbs {
            m.serialize_entry(k, v)?;
        }
        if !self.errors.is_empty() {
            m.serialize_entry("errors", &Errors(&self.errors))?;
        }
        m.end()
    }
}

impl World {
    /// `POST /v2/groups/{id}` with a body already parsed by [`parse_batch`].
    pub(super) fn batch(
        &mut self,
        caller: &Caller,
        id: &str,
        lists: &Lists,
        now: &str,
        policy: &Policy,
    ) -> Result<ApiResponse, ApiResponse> {
        let gid = parse_group_id(id)?;
        let g = self.groups.get(&gid).ok_or_else(resp::group_not_found)?;
        let ids = &caller.identities;

        // Visibility: a hidden group answers 403, except for a pure request_join
        // (the way in to a private group that takes join requests).
        let only_request_join = Verb::ALL.iter().all(|vb| {
            *vb == Verb::RequestJoin || lists[vb.index()].as_ref().is_none_or(Vec::is_empty)
        });
        if !g.visible_to(ids) && !only_request_join {
            return Err(resp::forbidden(
                ErrorCode::GroupNotVisible,
                "You do not have permission to view this group.",
                &caller.scopes,
            ));
        }

        // Duplicates across and within verbs: 400 with every repeated id.
        let total: usize = lists.iter().flatten().map(Vec::len).sum();
        let mut seen: HashSet<IdentityId> = HashSet::with_capacity(total);
        let mut dup_seen: HashSet<IdentityId> = HashSet::new();
        let mut dups: Vec<String> = Vec::new();
        for item in lists.iter().flatten().flatten() {
            if !seen.insert(item.id) && dup_seen.insert(item.id) {
                dups.push(item.id.to_string());
            }
        }
        if !dups.is_empty() {
            return Err(resp::bad_request(
                ErrorCode::AmbiguousIdentities,
                "An identity appears more than once in the request.",
                dups,
            ));
        }

        // Verb permission: a verb none of the caller's identities may perform fails
        // the whole request.
        let role = g.best_role(ids);
        for &vb in Verb::ALL {
            let requested = lists[vb.index()].as_ref().is_some_and(|l| !l.is_empty());
            if let (true, Some(need)) = (requested, vb.needs_role())
                && role.is_none_or(|r| r < need)
            {
                return Err(resp::forbidden(
                    ErrorCode::Forbidden,
                    &format!(
                        "None of your identities may perform '{}' on this group.",
                        vb.as_str()
                    ),
                    &caller.scopes,
                ));
            }
        }
        let caller_is_admin = role == Some(Role::Admin);

        // Apply, in the fixed verb order.
        let mut done: Vec<(Verb, Vec<IdentityId>)> = Vec::new();
        let mut failed: Vec<(&'static str, Vec<ErrOut>)> = Vec::new();
        let mut changed = false;
        for &vb in Verb::ALL {
            let Some(items) = &lists[vb.index()] else {
                continue;
            };
            let mut ok = Vec::with_capacity(items.len());
            let mut errs = Vec::new();
            for item in items {
                match self.apply(gid, vb, item, caller, caller_is_admin, now, policy) {
                    Ok(()) => ok.push(item.id),
                    Err((code, detail)) => errs.push(ErrOut {
                        identity_id: item.id,
                        code: code.as_str(),
                        detail,
                    }),
                }
            }
            changed |= !ok.is_empty();
            done.push((vb, ok));
            if !errs.is_empty() {
                failed.push((vb.as_str(), errs));
            }
        }
        if changed {
            self.touch();
        }

        let g = self.groups.get(&gid).ok_or_else(resp::group_not_found)?;
        let verbs = done
            .into_iter()
            .map(|(vb, ok)| {
                let list = ok
                    .into_iter()
                    .filter_map(|id| g.memberships.get_key_value(&id))
                    .map(|(id, m)| self.membership_out(gid, *id, m))
                    .collect();
                (vb.as_str(), list)
            })
            .collect();
        Ok(resp::json_response(
            StatusCode::OK,
            &BatchOut {
                verbs,
                errors: failed,
            },
        ))
    }

    /// Apply one item; `Err` is the per-identity (code, detail).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        gid: GroupId,
        verb: Verb,
        item: &Item,
        caller: &Caller,
        caller_is_admin: bool,
        now: &str,
        policy: &Policy,
    ) -> Result<(), Fail> {
        let Some(g) = self.groups.get(&gid) else {
            return Err(NO_MEMBERSHIP);
        };
        let cur = g.memberships.get(&item.id);
        let status = cur.map(|m| m.status);
        let now = Some(now.to_owned());
        match verb {
            Verb::Accept | Verb::Decline => {
                if !caller.owns(&item.id) {
                    return Err(NOT_OWN);
                }
                match status {
                    None => return Err(NO_MEMBERSHIP),
                    Some(Status::Invited) => {}
                    Some(_) => {
                        return Err((
                            ErrorCode::NotInvited,
                            "The identity has no pending invitation.",
                        ));
                    }
                }
                let to = if verb == Verb::Accept {
                    Status::Active
                } else {
                    Status::Declined
                };
                self.modify(gid, item.id, |m| {
                    m.status = to;
                    m.status_reason = item.reason.clone();
                    m.updated = now;
                });
            }
            Verb::Add | Verb::Invite => {
                if policy.strict_identities && !self.identities.contains_key(&item.id) {
                    return Err((
                        ErrorCode::UnknownIdentity,
                        "No identity with this id is known.",
                    ));
                }
                if item.role > Role::Member && !caller_is_admin {
                    return Err(ADMIN_REQUIRED);
                }
                if status == Some(Status::Active) {
                    return Err(ALREADY_ACTIVE);
                }
                if verb == Verb::Add {
                    if status == Some(Status::Left) {
                        return Err((
                            ErrorCode::PreviouslyLeft,
                            "The identity left the group and cannot be added back; invite it instead.",
                        ));
                    }
                    if self
                        .identities
                        .get(&item.id)
                        .is_some_and(|r| r.allow_add == Some(false))
                    {
                        return Err((
                            ErrorCode::AddNotAllowed,
                            "The identity does not allow being added to groups; invite it instead.",
                        ));
                    }
                }
                let (to, invite) = if verb == Verb::Add {
                    (Status::Active, false)
                } else {
                    (Status::Invited, true)
                };
                let mut rec = cur
                    .cloned()
                    .unwrap_or_else(|| MembershipRec::new(item.role, to));
                rec.role = item.role;
                rec.status = to;
                rec.status_reason = item.reason.clone();
                if invite {
                    rec.invite_time = now.clone();
                    rec.invite_email_address = item.email.clone();
                }
                rec.updated = now;
                self.put_membership(gid, item.id, rec);
            }
            Verb::Approve | Verb::Reject => {
                match status {
                    None => return Err(NO_MEMBERSHIP),
                    Some(Status::Pending) => {}
                    Some(_) => {
                        return Err((
                            ErrorCode::NotPending,
                            "The identity has no pending join request.",
                        ));
                    }
                }
                let to = if verb == Verb::Approve {
                    Status::Active
                } else {
                    Status::Rejected
                };
                self.modify(gid, item.id, |m| {
                    m.status = to;
                    m.status_reason = item.reason.clone();
                    m.updated = now;
                });
            }
            Verb::ChangeRole => {
                let Some(m) = cur else {
                    return Err(NO_MEMBERSHIP);
                };
                if m.status != Status::Active {
                    return Err((
                        ErrorCode::NotActive,
                        "The identity is not an active member.",
                    ));
                }
                if m.role == Role::Admin && item.role != Role::Admin && g.active_admins <= 1 {
                    return Err(LAST_ADMIN);
                }
                self.modify(gid, item.id, |m| {
                    m.role = item.role;
                    m.updated = now;
                });
            }
            Verb::Join => {
                if !caller.owns(&item.id) {
                    return Err(NOT_OWN);
                }
                if status == Some(Status::Active) {
                    return Err(ALREADY_ACTIVE);
                }
                if g.policies.is_high_assurance {
                    return Err((
                        ErrorCode::HighAssurance,
                        "High-assurance groups cannot be joined directly.",
                    ));
                }
                if !g.join_open() {
                    return Err((
                        ErrorCode::JoinNotAllowed,
                        "The group's policy does not let users join directly.",
                    ));
                }
                let role = match cur {
                    Some(m) if m.status == Status::Invited => m.role,
                    _ => Role::Member,
                };
                let mut rec = cur
                    .cloned()
                    .unwrap_or_else(|| MembershipRec::new(role, Status::Active));
                rec.role = role;
                rec.status = Status::Active;
                rec.status_reason = None;
                rec.updated = now;
                self.put_membership(gid, item.id, rec);
            }
            Verb::Leave => {
                if !caller.owns(&item.id) {
                    return Err(NOT_OWN);
                }
                let Some(m) = cur else {
                    return Err(NO_MEMBERSHIP);
                };
                if m.status != Status::Active {
                    return Err((
                        ErrorCode::NotActive,
                        "The identity is not an active member.",
                    ));
                }
                if m.role == Role::Admin && g.active_admins <= 1 {
                    return Err(LAST_ADMIN);
                }
                self.modify(gid, item.id, |m| {
                    m.status = Status::Left;
                    m.status_reason = item.reason.clone();
                    m.updated = now;
                });
            }
            Verb::Remove => {
                if caller.owns(&item.id) {
                    return Err((
                        ErrorCode::CannotRemoveSelf,
                        "You cannot remove your own identity; use leave.",
                    ));
                }
                let Some(m) = cur else {
                    return Err(NO_MEMBERSHIP);
                };
                if !matches!(m.status, Status::Active | Status::Invited) {
                    return Err((
                        ErrorCode::NotRemovable,
                        "Only active or invited memberships can be removed.",
                    ));
                }
                if m.role == Role::Admin && !caller_is_admin {
                    return Err(ADMIN_REQUIRED);
                }
                if m.role == Role::Admin && m.status == Status::Active && g.active_admins <= 1 {
                    return Err(LAST_ADMIN);
                }
                self.modify(gid, item.id, |m| {
                    m.status = Status::Removed;
                    m.status_reason = item.reason.clone();
                    m.updated = now;
                });
            }
            Verb::RequestJoin => {
                if !caller.owns(&item.id) {
                    return Err(NOT_OWN);
                }
                if !g.policies.join_requests {
                    return Err((
                        ErrorCode::JoinRequestsDisabled,
                        "The group does not accept join requests.",
                    ));
                }
                match status {
                    Some(Status::Active) => return Err(ALREADY_ACTIVE),
                    Some(Status::Pending) => {
                        return Err((
                            ErrorCode::AlreadyPending,
                            "A join request is already pending.",
                        ));
                    }
                    _ => {}
                }
                let mut rec = cur
                    .cloned()
                    .unwrap_or_else(|| MembershipRec::new(Role::Member, Status::Pending));
                rec.role = Role::Member;
                rec.status = Status::Pending;
                rec.status_reason = None;
                rec.updated = now;
                self.put_membership(gid, item.id, rec);
            }
        }
        Ok(())
    }

    fn modify(&mut self, gid: GroupId, id: IdentityId, f: impl FnOnce(&mut MembershipRec)) {
        if let Some(g) = self.groups.get_mut(&gid) {
            g.modify(id, f);
        }
    }
}
