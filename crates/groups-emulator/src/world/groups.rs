//! Group endpoints: `my_groups`, `statuses`, create, get, update, delete,
//! `children`, and reading and writing `policies`.

use std::collections::{BTreeMap, BTreeSet};

use groups_types::{GroupId, IdentityId};
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::codes::ErrorCode;
use super::ids::parse_group_id;
use super::render::{GroupDoc, Include, PoliciesFull};
use super::resp;
use super::state::{GroupRec, MembershipRec, Policies, SIGNUP_FIELDS};
use super::store::World;
use super::types::{
    ApiResponse, Caller, MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE, MAX_DEPTH, MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS, MAX_SUBGROUPS_PER_TREE, Policy,
};
use super::validate::{self as v, Issues, Seg};
use super::vocab::{MemberVisibility, Role, Status, Visibility};

type Res = Result<ApiResponse, ApiResponse>;

/// A partial policy update: `None` leaves a key unchanged (only the keys a body names
/// change).
#[derive(Debug, Default)]
pub(super) struct PolicyPatch {
    is_high_assurance: Option<bool>,
    timeout: Option<Option<i64>>,
    group_visibility: Option<Visibility>,
    group_members_visibility: Option<MemberVisibility>,
    join_requests: Option<bool>,
    signup_fields: Option<Vec<String>>,
}

impl PolicyPatch {
    pub(super) fn apply(self, p: &mut Policies) {
        if let Some(b) = self.is_high_assurance {
            p.is_high_assurance = b;
        }
        if let Some(t) = self.timeout {
            p.authentication_assurance_timeout = t;
        }
        if let Some(x) = self.group_visibility {
            p.group_visibility = x;
        }
        if let Some(x) = self.group_members_visibility {
            p.group_members_visibility = x;
        }
        if let Some(b) = self.join_requests {
            p.join_requests = b;
        }
        if let Some(f) = self.signup_fields {
            p.signup_fields = f;
        }
    }

    /// Parse a `GroupPolicyWriteModel` at `loc` (unknown keys and bad enums -> 422 items).
    pub(super) fn parse(value: &Value, loc: &[Seg<'_>], is: &mut Issues) -> PolicyPatch {
        let mut patch = PolicyPatch::default();
        let Some(obj) = v::object(value, loc, is) else {
            return patch;
        };
        for (k, val) in obj {
            let mut l = loc.to_vec();
            l.push(Seg::K(k));
            match k.as_str() {
                "is_high_assurance" => {
                    patch.is_high_assurance = v::boolean_or_null(val, &l, is).flatten()
                }
                "authentication_assurance_timeout" => patch.timeout = v::int_or_null(val, &l, is),
                "group_visibility" if !val.is_null() => {
                    patch.group_visibility =
                        v::enum_value(val, Visibility::NAMES, &l, is).and_then(Visibility::parse)
                }
                "group_members_visibility" if !val.is_null() => {
                    patch.group_members_visibility =
                        v::enum_value(val, MemberVisibility::NAMES, &l, is)
                            .and_then(MemberVisibility::parse)
                }
                "join_requests" => patch.join_requests = v::boolean_or_null(val, &l, is).flatten(),
                "signup_fields" if !val.is_null() => {
                    if let Some(items) = v::list(val, &l, is) {
                        let mut out = Vec::with_capacity(items.len());
                        for (i, item) in items.iter().enumerate() {
                            let mut li = l.clone();
                            li.push(Seg::I(i));
                            if let Some(name) = v::enum_value(item, SIGNUP_FIELDS, &li, is)
                                && !out.iter().any(|o: &String| o == name)
                            {
                                out.push(name.to_owned());
                            }
                        }
                        patch.signup_fields = Some(out);
                    }
                }
                "group_visibility" | "group_members_visibility" | "signup_fields" => {}
                _ => is.extra(&l, val),
            }
        }
        patch
    }
}

/// `GroupStatusCounts`.
#[derive(Serialize)]
struct CountsOut {
    active: u64,
    invited: u64,
    pending: u64,
    rejected: u64,
    removed: u64,
    left: u64,
    declined: u64,
}

impl CountsOut {
    fn of(c: &[u64; Status::COUNT]) -> Self {
        CountsOut {
            active: c[0],
            invited: c[1],
            pending: c[2],
            rejected: c[3],
            removed: c[4],
            left: c[5],
            declined: c[6],
        }
    }
}

/// Parse the `include` query parameter of a group read: unknown values -> 422.
fn parse_include(query: Option<&str>) -> Result<Include, ApiResponse> {
    let mut inc = Include::default();
    let Some(values) = v::query_list(query, "include") else {
        return Ok(inc);
    };
    let mut is = Issues::default();
    for (i, val) in values.iter().enumerate() {
        if Include::NAMES.contains(&val.as_str()) {
            inc.set(val);
        } else {
            v::enum_value(
                &Value::String(val.clone()),
                Include::NAMES,
                &[Seg::K("query"), Seg::K("include"), Seg::I(i)],
                &mut is,
            );
        }
    }
    is.finish()?;
    Ok(inc)
}

fn not_admin(what: &str, caller: &Caller) -> ApiResponse {
    resp::forbidden(
        ErrorCode::Forbidden,
        &format!("You must be an admin of the group to {what}."),
        &caller.scopes,
    )
}

impl World {
    /// Look up a group the caller may see: 404 when missing (or not a UUID),
    /// 403 `GROUP_NOT_VISIBLE` when it exists but is hidden.
    pub(super) fn visible_group(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(GroupId, &GroupRec), ApiResponse> {
        let gid = parse_group_id(id)?;
        let g = self.groups.get(&gid).ok_or_else(resp::group_not_found)?;
        if !g.visible_to(&caller.identities) {
            return Err(resp::forbidden(
                ErrorCode::GroupNotVisible,
                "You do not have permission to view this group.",
                &caller.scopes,
            ));
        }
        Ok((gid, g))
    }

    /// Include, minus what the token's scopes do not allow.
    fn scoped_include(&self, mut inc: Include, caller: &Caller, policy: &Policy) -> Include {
        if !self.scope_allows(caller, false, policy) {
            inc.memberships = false;
            inc.my_memberships = false;
        }
        if !self.scope_allows(caller, true, policy) {
            inc.allowed_actions = false;
        }
        inc
    }

    fn doc_response(&self, status: StatusCode, doc: &GroupDoc<'_>) -> ApiResponse {
        resp::json_response_sized(status, doc, doc.size_hint())
    }

    /// `GET /v2/groups/my_groups`.
    pub(super) fn my_groups(&self, caller: &Caller, query: Option<&str>) -> Res {
        let mut wanted = [false; Status::COUNT];
        match v::query_list(query, "statuses") {
            Some(list) if !list.is_empty() => {
                for s in &list {
                    match Status::parse(s) {
                        Some(st) => wanted[st.index()] = true,
                        None => {
                            return Err(resp::base_error(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                ErrorCode::InvalidStatus,
                                &format!(
                                    "Invalid status {s:?}; expected one of: {}.",
                                    Status::NAMES.join(", ")
                                ),
                            ));
                        }
                    }
                }
            }
            _ => wanted[Status::Active.index()] = true,
        }
        let ids = &caller.identities;
        let mut gids = BTreeSet::new();
        for id in ids {
            for gid in self.idx.by_identity.get(id).into_iter().flatten() {
                let hit = self
                    .groups
                    .get(gid)
                    .and_then(|g| g.memberships.get(id))
                    .is_some_and(|m| wanted[m.status.index()]);
                if hit {
                    gids.insert(*gid);
                }
            }
        }
        let mut docs = Vec::with_capacity(gids.len());
        for gid in gids {
            let Some(g) = self.groups.get(&gid) else {
                continue;
            };
            let mut doc = self.render_group(gid, g, ids, Include::default());
            doc.set_my_memberships(self.my_memberships_out(gid, g, ids, |s| wanted[s.index()]));
            docs.push(doc);
        }
        Ok(resp::json_response(StatusCode::OK, &docs))
    }

    /// `GET /v2/groups/statuses`: counts of the groups the caller manages.
    pub(super) fn statuses(&self, caller: &Caller) -> Res {
        let mut gids = BTreeSet::new();
        for id in &caller.identities {
            for gid in self.idx.by_identity.get(id).into_iter().flatten() {
                let manages = self
                    .groups
                    .get(gid)
                    .and_then(|g| g.memberships.get(id))
                    .is_some_and(|m| m.status == Status::Active && m.role >= Role::Manager);
                if manages {
                    gids.insert(*gid);
                }
            }
        }
        let out: BTreeMap<GroupId, CountsOut> = gids
            .into_iter()
            .filter_map(|gid| {
                self.groups
                    .get(&gid)
                    .map(|g| (gid, CountsOut::of(&g.counts)))
            })
            .collect();
        Ok(resp::json_response(StatusCode::OK, &out))
    }

    /// `GET /v2/groups/{id}`.
    pub(super) fn get_group(
        &self,
        caller: &Caller,
        id: &str,
        query: Option<&str>,
        policy: &Policy,
    ) -> Res {
        let inc = parse_include(query)?;
        let (gid, g) = self.visible_group(caller, id)?;
        let inc = self.scoped_include(inc, caller, policy);
        Ok(self.doc_response(
            StatusCode::OK,
            &self.render_group(gid, g, &caller.identities, inc),
        ))
    }

    /// `GET /v2/groups/{id}/children`: the visible direct subgroups.
    pub(super) fn children(
        &self,
        caller: &Caller,
        id: &str,
        query: Option<&str>,
        policy: &Policy,
    ) -> Res {
        #[derive(Serialize)]
        struct Children<'a> {
            children: Vec<GroupDoc<'a>>,
        }
        let inc = parse_include(query)?;
        let (_, g) = self.visible_group(caller, id)?;
        let inc = self.scoped_include(inc, caller, policy);
        let children = g
            .children
            .iter()
            .filter_map(|cid| self.groups.get(cid).map(|c| (*cid, c)))
            .filter(|(_, c)| c.visible_to(&caller.identities))
            .map(|(cid, c)| self.render_group(cid, c, &caller.identities, inc))
            .collect();
        Ok(resp::json_response(StatusCode::OK, &Children { children }))
    }

    /// `GET /v2/groups/{id}/policies`.
    pub(super) fn get_policies(&self, caller: &Caller, id: &str) -> Res {
        let (_, g) = self.visible_group(caller, id)?;
        Ok(resp::json_response(
            StatusCode::OK,
            &PoliciesFull::of(&g.policies),
        ))
    }

    /// `PUT /v2/groups/{id}/policies` (admin only, partial update).
    pub(super) fn set_policies(&mut self, caller: &Caller, id: &str, value: &Value) -> Res {
        let mut is = Issues::default();
        let patch = PolicyPatch::parse(value, &[Seg::K("body")], &mut is);
        is.finish()?;
        let (gid, g) = self.visible_group(caller, id)?;
        if g.best_role(&caller.identities) != Some(Role::Admin) {
            return Err(not_admin("set its policies", caller));
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return Err(resp::group_not_found());
        };
        patch.apply(&mut g.policies);
        g.mirror_session();
        self.touch();
        self.get_policies(caller, id)
    }

    fn active_memberships_of(&self, ids: &[IdentityId]) -> usize {
        ids.iter()
            .map(|id| {
                self.idx
                    .by_identity
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter(|gid| {
                        self.groups
                            .get(gid)
                            .and_then(|g| g.memberships.get(id))
                            .is_some_and(|m| m.status == Status::Active)
                    })
                    .count()
            })
            .sum()
    }

    /// Depth of a group below its root (root = 0) and the root's id.
    fn depth_and_root(&self, mut gid: GroupId) -> (usize, GroupId) {
        let mut depth = 0;
        while let Some(p) = self.groups.get(&gid).and_then(|g| g.parent_id) {
            depth += 1;
            gid = p;
            if depth > MAX_DEPTH + 64 {
                break; // a corrupt cycle; never loop forever
            }
        }
        (depth, gid)
    }

    /// Number of subgroups (all levels) below `root`.
    fn tree_size(&self, root: GroupId) -> usize {
        let mut stack = vec![root];
        let mut n = 0usize;
        while let Some(g) = stack.pop() {
            if let Some(rec) = self.groups.get(&g) {
                n += rec.children.len();
                stack.extend(rec.children.iter().copied());
            }
            if n > 100_000 {
                break;
            }
        }
        n
    }

    /// Insert a membership record and keep the identity index.
    pub(super) fn put_membership(&mut self, gid: GroupId, id: IdentityId, rec: MembershipRec) {
        if let Some(g) = self.groups.get_mut(&gid)
            && g.upsert(id, rec)
        {
            self.idx.by_identity.entry(id).or_default().insert(gid);
        }
    }

    /// `POST /v2/groups`.
    pub(super) fn create_group(&mut self, caller: &Caller, value: &Value, now: &str) -> Res {
        let mut is = Issues::default();
        let body_loc = [Seg::K("body")];
        let mut name = None;
        let mut description = None;
        let mut terms = None;
        let mut parent = None;
        let mut patch = PolicyPatch::default();
        if let Some(obj) = v::object(value, &body_loc, &mut is) {
            let name_loc = [Seg::K("body"), Seg::K("name")];
            match obj.get("name") {
                Some(n) => name = v::string_max(n, MAX_NAME_CHARS, &name_loc, &mut is),
                None => is.missing(&name_loc, value),
            }
            if let Some(d) = obj.get("description") {
                let loc = [Seg::K("body"), Seg::K("description")];
                description =
                    v::string_max_or_null(d, MAX_DESCRIPTION_CHARS, &loc, &mut is).flatten();
            }
            if let Some(t) = obj.get("terms_and_conditions") {
                let loc = [Seg::K("body"), Seg::K("terms_and_conditions")];
                terms = v::string_max_or_null(t, MAX_DESCRIPTION_CHARS, &loc, &mut is).flatten();
            }
            if let Some(p) = obj.get("parent_id") {
                parent =
                    v::group_or_null(p, &[Seg::K("body"), Seg::K("parent_id")], &mut is).flatten();
            }
            if let Some(p) = obj.get("policies").filter(|p| !p.is_null()) {
                patch = PolicyPatch::parse(p, &[Seg::K("body"), Seg::K("policies")], &mut is);
            }
        }
        is.finish()?;
        let Some(name) = name else {
            return Err(resp::internal("validated name missing"));
        };
        let ids = &caller.identities;
        if let Some(pid) = parent {
            let Some(pg) = self.groups.get(&pid) else {
                return Err(resp::base_error(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    "Parent group not found.",
                ));
            };
            if pg.best_role(ids) != Some(Role::Admin) {
                return Err(resp::forbidden(
                    ErrorCode::Forbidden,
                    "You must be the admin of the parent to create a child group.",
                    &caller.scopes,
                ));
            }
            let (depth, root) = self.depth_and_root(pid);
            if depth + 1 > MAX_DEPTH {
                return Err(resp::bad_request(
                    ErrorCode::DepthLimit,
                    &format!("A group tree may have at most {MAX_DEPTH} levels of subgroups."),
                    Vec::new(),
                ));
            }
            if self.tree_size(root) >= MAX_SUBGROUPS_PER_TREE {
                return Err(resp::bad_request(
                    ErrorCode::SubgroupLimit,
                    &format!("A group tree may have at most {MAX_SUBGROUPS_PER_TREE} subgroups."),
                    Vec::new(),
                ));
            }
        }
        if self.active_memberships_of(ids) > MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE {
            return Err(resp::bad_request(
                ErrorCode::MembershipLimit,
                &format!(
                    "Users with more than {MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE} active memberships cannot create groups."
                ),
                Vec::new(),
            ));
        }
        let gid = self.next_group_id();
        let mut g = GroupRec::new(name);
        g.description = description;
        g.terms_and_conditions = terms;
        g.parent_id = parent;
        patch.apply(&mut g.policies);
        g.mirror_session();
        self.groups.insert(gid, g);
        if let Some(p) = parent.and_then(|p| self.groups.get_mut_unsaved(&p)) {
            p.children.insert(gid);
        }
        let mut m = MembershipRec::new(Role::Admin, Status::Active);
        m.updated = Some(now.to_owned());
        self.put_membership(gid, caller.primary, m);
        self.touch();
        let g = self
            .groups
            .get(&gid)
            .ok_or_else(|| resp::internal("created group vanished"))?;
        Ok(self.doc_response(
            StatusCode::CREATED,
            &self.render_group(gid, g, ids, Include::WRITE_ANSWER),
        ))
    }

    /// `PUT /v2/groups/{id}` (admin only).
    pub(super) fn update_group(&mut self, caller: &Caller, id: &str, value: &Value) -> Res {
        let mut is = Issues::default();
        let mut name = None;
        let mut description = None;
        let mut terms = None;
        let mut verified = None;
        if let Some(obj) = v::object(value, &[Seg::K("body")], &mut is) {
            let get = |k: &str| obj.get(k);
            if let Some(n) = get("name") {
                let loc = [Seg::K("body"), Seg::K("name")];
                name = v::string_max_or_null(n, MAX_NAME_CHARS, &loc, &mut is).flatten();
            }
            if let Some(d) = get("description") {
                let loc = [Seg::K("body"), Seg::K("description")];
                description = v::string_max_or_null(d, MAX_DESCRIPTION_CHARS, &loc, &mut is);
            }
            if let Some(t) = get("terms_and_conditions") {
                let loc = [Seg::K("body"), Seg::K("terms_and_conditions")];
                terms = v::string_max_or_null(t, MAX_DESCRIPTION_CHARS, &loc, &mut is);
            }
            if let Some(s) = get("subscription_admin_verified_id") {
                verified = v::subscription_or_null(
                    s,
                    &[Seg::K("body"), Seg::K("subscription_admin_verified_id")],
                    &mut is,
                );
            }
        }
        is.finish()?;
        let (gid, g) = self.visible_group(caller, id)?;
        if g.best_role(&caller.identities) != Some(Role::Admin) {
            return Err(not_admin("update it", caller));
        }
        if let Some(Some(new)) = verified
            && g.subscription_admin_verified_id != Some(new)
        {
            return Err(resp::forbidden(
                ErrorCode::ClearOnly,
                "subscription_admin_verified_id can only be cleared here; set it with PUT /v2/groups/{group_id}/subscription_admin_verified.",
                &caller.scopes,
            ));
        }
        let Some(g) = self.groups.get_mut(&gid) else {
            return Err(resp::group_not_found());
        };
        if let Some(n) = name {
            g.name = n;
        }
        if let Some(d) = description {
            g.description = d;
        }
        if let Some(t) = terms {
            g.terms_and_conditions = t;
        }
        if let Some(None) = verified {
            g.subscription_admin_verified_id = None;
        }
        self.touch();
        let g = self.groups.get(&gid).ok_or_else(resp::group_not_found)?;
        Ok(self.doc_response(
            StatusCode::OK,
            &self.render_group(gid, g, &caller.identities, Include::WRITE_ANSWER),
        ))
    }

    /// `DELETE /v2/groups/{id}` (admin only; refused while the group has subgroups, since
    /// the emulator never deletes a tree in one go).
    pub(super) fn delete_group(&mut self, caller: &Caller, id: &str) -> Res {
        let (gid, g) = self.visible_group(caller, id)?;
        if g.best_role(&caller.identities) != Some(Role::Admin) {
            return Err(not_admin("delete it", caller));
        }
        if !g.children.is_empty() {
            return Err(resp::bad_request(
                ErrorCode::GroupHasChildren,
                "The group has subgroups; delete them first.",
                Vec::new(),
            ));
        }
        let answer = self.doc_response(
            StatusCode::OK,
            &self.render_group(gid, g, &caller.identities, Include::WRITE_ANSWER),
        );
        self.remove_group(gid);
        self.touch();
        Ok(answer)
    }

    /// Remove a group and everything that points at it (no children check).
    pub(super) fn remove_group(&mut self, gid: GroupId) {
        let Some(g) = self.groups.remove(&gid) else {
            return;
        };
        for id in g.memberships.keys() {
            if let Some(set) = self.idx.by_identity.get_mut(id) {
                set.remove(&gid);
                if set.is_empty() {
                    self.idx.by_identity.remove(id);
                }
            }
        }
        if let Some(p) = g.parent_id.and_then(|p| self.groups.get_mut_unsaved(&p)) {
            p.children.remove(&gid);
        }
        if let Some(sid) = self.idx.subscription_of.remove(&gid) {
            self.subscriptions.remove(&sid);
        }
    }
}
