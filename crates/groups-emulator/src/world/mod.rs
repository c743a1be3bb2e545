//! The rules engine of the emulator: the whole service state and every rule of
//! the Groups v2 API, as a pure function of (state, caller, request, `now`).
//!
//! No IO, no clock, no randomness: the server hands in the request already read
//! off the wire and an RFC 3339 `now`, and gets back a status and JSON bytes.
//! Group ids are UUIDv5 of a counter, identities of default tokens are UUIDv5 of
//! the token, so two runs with the same requests give the same bytes.
//!
//! # Notes for the server side (API beyond the interface document)
//! * [`World::authenticate`] takes `&self` (works under a read lock); the caller's
//!   identities are registered on their first successful write request.
//! * [`World::handle_read`] answers GET (and the 404/405 of any method) under a read
//!   lock; [`World::handle`] answers everything. Both are safe for any input.
//! * [`Policy::default`] has `enforce_scopes: true`: a token's scopes always count.
//!   Default (unseeded) tokens carry the `all` scope, so only seeded tokens with
//!   narrower scopes see a difference. Set it to false to ignore scopes entirely.
//! * Extra conveniences: [`World::add_token`], [`World::link_identities`],
//!   [`World::caller_for`], [`World::set_allow_add`], [`World::status_counts`].
//! * [`ERROR_CODES`] lists every `code` the world can answer with (for the README).
//! * `Deserialize` rebuilds the derived indexes; a state file written by
//!   `Serialize` loads back into an equal world.
//!
//! # Decisions on the reference's open questions (§11)
//! * D6: `my_memberships` and the six-key `policies` only with `include`; without
//!   it `policies` holds the two visibility keys (as in the SDK fixtures). Create,
//!   update and delete answers carry `my_memberships`.
//! * D14 (guess): `join` is open when `group_visibility` is `authenticated` and the
//!   group is not high assurance.
//! * D15: only admins and managers invite.
//! * D16: `policies` in a create body apply over the defaults.
//! * D17: preferences accept the keyed map and the flat `{"allow_add": ..}`, which
//!   applies to the caller's effective identity.
//! * D21: deleting a group that has subgroups is refused with 400
//!   `GROUP_HAS_CHILDREN` (`ambiguous_identities: []`); no cascade.
//! * D23: a `{group_id}` (or subscription id) that is not a UUID answers 404.
//! * D28: 409 is never sent.
//! * Implicit parent memberships (`source_group_id`) are not synthesized.
//! * Batch verbs run in the fixed order of [`BatchVerb::ALL`](groups_types::BatchVerb::ALL)
//!   (alphabetical: accept, add, approve, change_role, decline, invite, join,
//!   leave, reject, remove, request_join), independent of the JSON key order;
//!   permissions are judged on the state before the batch. Whole-request failures
//!   (422, 404/403 visibility, 400 duplicates, 403 verb permission) are all
//!   decided before the first change, so they leave no partial state.
//!
//! # Other rules the reference leaves open (emulator choices)
//! * Whole-request 403 covers the management verbs only (add, invite, approve,
//!   reject, remove need an active admin/manager; change_role an active admin).
//!   Self-service verbs always report per identity (`NOT_OWN_IDENTITY`, ...).
//! * A manager adding/inviting with role manager/admin, or removing an admin, gets a
//!   per-identity `ADMIN_REQUIRED` (the verb itself is allowed).
//! * A batch on a hidden private group answers 403, except a batch that holds only
//!   `request_join` (so a private group with join requests can be applied to).
//! * `invite` works from any non-active status (also after leave); `join` and
//!   `request_join` from any non-active status (request_join not while pending);
//!   `join` keeps the role of a pending invitation, else `member`.
//! * Order of per-identity checks in add/invite: unknown identity (strict) ->
//!   role allowed -> already active -> previously left (add) -> allow_add (add).
//! * Tree limits, the 1000-membership limit and a group with children on delete
//!   answer 400 `BadRequestErrorModel` with `ambiguous_identities: []`.
//! * E5 with a non-null `subscription_admin_verified_id` equal to the current
//!   value is a no-op; a different non-null value is 403 `CLEAR_ONLY`.
//! * E16 needs only that the group exists (not that it is visible), except when
//!   both the old and the new value are null.
//! * E13/E14 need a visible group; E14 replaces the named identities' fields
//!   (unknown keys and nulls dropped) and each identity must hold a membership.
//! * Preferences read `allow_add: true` when unset.
//! * Children (E8) lists only the subgroups the caller may see; `child_ids` lists all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use bytes::Bytes;
use groups_types::{GroupId, IdentityId, SubscriptionId};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod batch;
mod groups;
mod prefs;
mod render;
mod resp;
mod seed;
mod state;
mod subs;
mod validate;

#[cfg(test)]
mod tests;

pub use seed::{
    Seed, SeedConnector, SeedError, SeedGroup, SeedIdentity, SeedMembership, SeedPolicies,
    SeedSubscription, SeedToken,
};

use state::{GroupRec, IdentityRec, Indexes, Status, SubscriptionRec, TokenRec};

/// The scope that allows everything (`GroupsScopes.all`).
pub const SCOPE_ALL: &str = "urn:globus:auth:scope:groups.api.globus.org:all";
/// The read-only scope (`GroupsScopes.view_my_groups_and_memberships`).
pub const SCOPE_VIEW: &str =
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";

/// Most subgroups in one tree (§8.9).
pub const MAX_SUBGROUPS_PER_TREE: usize = 75;
/// Most levels of subgroups below a root (§8.9).
pub const MAX_DEPTH: usize = 4;
/// A caller with more active memberships than this cannot create groups (§8.7).
pub const MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE: usize = 1000;

/// Every error `code` the world answers with, and what it means. Codes marked
/// "(service)" are recorded from the real service; all others are the
/// emulator's own choices (the service's codes for those cases are unknown).
pub const ERROR_CODES: &[(&str, &str)] = &[
    // whole-request errors
    (
        "AUTHENTICATION_ERROR",
        "401 (service): Authorization header missing or not `Bearer <token>`.",
    ),
    (
        "INVALID_TOKEN",
        "401 (service): unknown token while strict_tokens is on.",
    ),
    (
        "NOT_FOUND",
        "404: no such group, subscription or route (also a group id that is not a UUID).",
    ),
    (
        "METHOD_NOT_ALLOWED",
        "405: the path exists but not with this method (an `Allow` header lists the methods).",
    ),
    (
        "INSUFFICIENT_SCOPE",
        "403: the token lacks the `all` scope for a write (or any Groups scope for a read); `provided_scopes` lists its scopes.",
    ),
    (
        "GROUP_NOT_VISIBLE",
        "403: the group exists but the caller has no active, invited or pending membership in a private group.",
    ),
    (
        "FORBIDDEN",
        "403: the caller's role does not allow the operation (update/delete/policies need an admin; batch verbs nobody in the caller's set may perform; subgroup creation without admin of the parent).",
    ),
    (
        "NOT_OWN_IDENTITY",
        "403: preferences or membership fields named an identity outside the caller's identity set.",
    ),
    (
        "NO_MEMBERSHIP",
        "403 on membership_fields: the identity has no membership in the group. Per identity in a batch (service): the target has no membership.",
    ),
    (
        "SUBSCRIPTION_ADMIN_REQUIRED",
        "403: setting/replacing/clearing subscription_admin_verified_id needs an active admin of the subscription's group (old and new value).",
    ),
    (
        "CLEAR_ONLY",
        "403: PUT /v2/groups/{id} may only clear subscription_admin_verified_id (set it with .../subscription_admin_verified).",
    ),
    (
        "AMBIGUOUS_IDENTITIES",
        "400: an identity appears twice in one batch (under two verbs or twice in one); `ambiguous_identities` lists them.",
    ),
    (
        "GROUP_HAS_CHILDREN",
        "400: a group with subgroups cannot be deleted; delete the subgroups first.",
    ),
    ("SUBGROUP_LIMIT", "400: the tree already has 75 subgroups."),
    (
        "DEPTH_LIMIT",
        "400: the new group would be more than 4 levels below its root.",
    ),
    (
        "MEMBERSHIP_LIMIT",
        "400: the caller has more than 1000 active memberships and cannot create groups.",
    ),
    (
        "INVALID_STATUS",
        "422 on my_groups (BaseErrorModel): a `statuses` value is not a membership status.",
    ),
    (
        "INTERNAL_ERROR",
        "500: the server wired the world wrongly (e.g. handle_read with a write method); never caused by client input.",
    ),
    // per-identity errors inside a batch response (`errors.<verb>[]`)
    (
        "ALREADY_ACTIVE",
        "batch (service): add/invite/join/request_join of an identity that is already active; nothing changed.",
    ),
    (
        "NOT_INVITED",
        "batch: accept/decline of a membership that is not `invited`.",
    ),
    (
        "NOT_PENDING",
        "batch: approve/reject of a membership that is not `pending`.",
    ),
    (
        "NOT_ACTIVE",
        "batch: change_role/leave of a membership that is not `active`.",
    ),
    (
        "NOT_REMOVABLE",
        "batch: remove of a membership that is neither `active` nor `invited`.",
    ),
    (
        "CANNOT_REMOVE_SELF",
        "batch: remove of one of the caller's own identities (use leave).",
    ),
    (
        "NOT_OWN_IDENTITY",
        "batch: a self-service verb (accept, decline, join, leave, request_join) for an identity outside the caller's set.",
    ),
    (
        "ADMIN_REQUIRED",
        "batch: only admins may add/invite with role manager or admin, or remove an admin.",
    ),
    (
        "LAST_ADMIN",
        "batch: leave or demoting change_role would leave the group without an active admin.",
    ),
    (
        "PREVIOUSLY_LEFT",
        "batch: add of an identity that left the group (invite it instead).",
    ),
    (
        "ADD_NOT_ALLOWED",
        "batch: add of an identity whose preference allow_add is false (invite it instead).",
    ),
    (
        "UNKNOWN_IDENTITY",
        "batch: add/invite of an identity the emulator does not know, while strict_identities is on.",
    ),
    (
        "JOIN_NOT_ALLOWED",
        "batch: join on a group that is not `authenticated`-visible (emulator guess for the join policy, D14).",
    ),
    ("HIGH_ASSURANCE", "batch: join on a high-assurance group."),
    (
        "JOIN_REQUESTS_DISABLED",
        "batch: request_join on a group whose join_requests policy is false.",
    ),
    (
        "ALREADY_PENDING",
        "batch: request_join while a join request is already pending.",
    ),
];

/// Who is calling: the identity set behind a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The effective identity (creates groups, target of flat preferences).
    pub primary: IdentityId,
    /// The whole identity set, `primary` first.
    pub identities: Vec<IdentityId>,
    /// The token's scopes.
    pub scopes: Vec<String>,
}

impl Caller {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    fn owns(&self, id: &IdentityId) -> bool {
        self.identities.contains(id)
    }
}

/// One API request, already read off the wire.
#[derive(Clone, Copy, Debug)]
pub struct ApiRequest<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Path without the query, e.g. `/v2/groups/my_groups`.
    pub path: &'a str,
    /// Raw query string without `?`, if any.
    pub query: Option<&'a str>,
    /// Request headers (only informational; `community-context` is ignored).
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a [u8],
}

/// The answer: status + JSON body (always `application/json`) + extra headers.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: Bytes,
    /// Extra headers (e.g. `Allow` on a 405); content-type is the server's job.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Options that change behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Refuse tokens not declared in a seed (401 `INVALID_TOKEN`).
    pub strict_tokens: bool,
    /// Refuse add/invite of identities the world does not know (per-identity `UNKNOWN_IDENTITY`).
    pub strict_identities: bool,
    /// Honour token scopes (default true): writes need `all`, reads need `all` or
    /// `view_my_groups_and_memberships`. Unseeded tokens carry `all`.
    pub enforce_scopes: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            strict_tokens: false,
            strict_identities: false,
            enforce_scopes: true,
        }
    }
}

/// Whole emulator state: identities, tokens, groups, memberships, preferences,
/// subscriptions, counters.
///
/// ```
/// use groups_emulator::world::{ApiRequest, Policy, World};
///
/// let mut world = World::new();
/// let policy = Policy::default();
/// let caller = world.authenticate(Some(b"Bearer alice"), &policy).unwrap();
/// let headers = http::HeaderMap::new();
/// let req = ApiRequest {
///     method: &http::Method::POST,
///     path: "/v2/groups",
///     query: None,
///     headers: &headers,
///     body: br#"{"name": "My group"}"#,
/// };
/// let resp = world.handle(&caller, &req, "2026-01-01T00:00:00+00:00", &policy);
/// assert_eq!(resp.status, 201);
/// assert!(world.check_invariants().is_ok());
/// ```
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(from = "WorldData")]
pub struct World {
    identities: BTreeMap<IdentityId, IdentityRec>,
    /// Keyed by a one-way fingerprint of the token (UUIDv5/SHA-1), never the token.
    tokens: BTreeMap<Uuid, TokenRec>,
    groups: BTreeMap<GroupId, GroupRec>,
    subscriptions: BTreeMap<SubscriptionId, SubscriptionRec>,
    group_counter: u64,
    generation: u64,
    #[serde(skip)]
    idx: Indexes,
}

/// The persisted part of [`World`]; deserializing goes through it to rebuild indexes.
#[derive(Deserialize)]
struct WorldData {
    #[serde(default)]
    identities: BTreeMap<IdentityId, IdentityRec>,
    #[serde(default)]
    tokens: BTreeMap<Uuid, TokenRec>,
    #[serde(default)]
    groups: BTreeMap<GroupId, GroupRec>,
    #[serde(default)]
    subscriptions: BTreeMap<SubscriptionId, SubscriptionRec>,
    #[serde(default)]
    group_counter: u64,
    #[serde(default)]
    generation: u64,
}

impl From<WorldData> for World {
    fn from(d: WorldData) -> Self {
        let mut w = World {
            identities: d.identities,
            tokens: d.tokens,
            groups: d.groups,
            subscriptions: d.subscriptions,
            group_counter: d.group_counter,
            generation: d.generation,
            idx: Indexes::default(),
        };
        w.rebuild();
        w
    }
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never prints tokens (not even their fingerprints).
        f.debug_struct("World")
            .field("identities", &self.identities.len())
            .field("tokens", &self.tokens.len())
            .field("groups", &self.groups.len())
            .field("subscriptions", &self.subscriptions.len())
            .field("generation", &self.generation)
            .finish()
    }
}

fn ns_root() -> Uuid {
    Uuid::from_u128(0x5e1f_0a4e_5b7c_4c1e_9a53_0e1a_2b3c_4d5e)
}

fn ns(name: &str) -> Uuid {
    Uuid::new_v5(&ns_root(), name.as_bytes())
}

/// A readable, deterministic username for an identity known only by id.
pub fn default_username(id: &IdentityId) -> String {
    let hex = id.as_uuid().simple().to_string();
    format!("user-{}@emulator.globus.local", &hex[..8])
}

/// The identity a token maps to when it is not declared in a seed:
/// UUIDv5 of a fixed namespace and the token bytes.
pub fn default_identity_for_token(token: &str) -> IdentityId {
    IdentityId::from(Uuid::new_v5(&ns("token-identity"), token.as_bytes()))
}

/// The id [`World::add_identity`] gives a username.
pub fn identity_id_for_username(username: &str) -> IdentityId {
    IdentityId::from(Uuid::new_v5(&ns("username"), username.as_bytes()))
}

fn token_fingerprint(token: &str) -> Uuid {
    Uuid::new_v5(&ns("token-fingerprint"), token.as_bytes())
}

/// Which API route a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route<'a> {
    Groups,
    MyGroups,
    Statuses,
    Group(&'a str),
    Children(&'a str),
    Policies(&'a str),
    Fields(&'a str),
    Verified(&'a str),
    Preferences,
    SubscriptionInfo(&'a str),
}

impl<'a> Route<'a> {
    fn parse(path: &'a str) -> Option<Route<'a>> {
        let rest = path.strip_prefix("/v2/")?;
        if rest == "preferences" {
            return Some(Route::Preferences);
        }
        if let Some(sid) = rest.strip_prefix("subscription_info/") {
            return (!sid.is_empty() && !sid.contains('/')).then_some(Route::SubscriptionInfo(sid));
        }
        if rest == "groups" {
            return Some(Route::Groups);
        }
        let rest = rest.strip_prefix("groups/")?;
        let mut parts = rest.splitn(2, '/');
        let first = parts.next()?;
        if first.is_empty() {
            return None;
        }
        match (first, parts.next()) {
            ("my_groups", None) => Some(Route::MyGroups),
            ("statuses", None) => Some(Route::Statuses),
            (id, None) => Some(Route::Group(id)),
            (id, Some("children")) => Some(Route::Children(id)),
            (id, Some("policies")) => Some(Route::Policies(id)),
            (id, Some("membership_fields")) => Some(Route::Fields(id)),
            (id, Some("subscription_admin_verified")) => Some(Route::Verified(id)),
            _ => None,
        }
    }

    fn methods(self) -> &'static [&'static str] {
        match self {
            Route::Groups => &["POST"],
            Route::MyGroups | Route::Statuses | Route::Children(_) => &["GET"],
            Route::SubscriptionInfo(_) => &["GET"],
            Route::Group(_) => &["GET", "PUT", "POST", "DELETE"],
            Route::Policies(_) | Route::Fields(_) | Route::Preferences => &["GET", "PUT"],
            Route::Verified(_) => &["PUT"],
        }
    }
}

/// Parse a `{group_id}` path segment (404 when it is not a UUID, D23).
fn parse_group_id(s: &str) -> Result<GroupId, ApiResponse> {
    Uuid::try_parse(s)
        .map(GroupId::from)
        .map_err(|_| resp::group_not_found())
}

impl World {
    /// An empty world.
    pub fn new() -> Self {
        World::default()
    }

    /// True when the request cannot change state (GET, HEAD, OPTIONS, TRACE):
    /// the server may answer it with [`World::handle_read`] under a read lock.
    pub fn is_read_only(method: &Method) -> bool {
        matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
    }

    /// Map the `Authorization` header value to a [`Caller`].
    ///
    /// Missing or not `Bearer <token>` -> 401 `AUTHENTICATION_ERROR`. A token declared
    /// in a seed (or with [`World::add_token`]) maps to its identity set and scopes;
    /// any other token maps to [`default_identity_for_token`] with the `all` scope,
    /// unless `policy.strict_tokens`, which answers 401 `INVALID_TOKEN`.
    pub fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        policy: &Policy,
    ) -> Result<Caller, ApiResponse> {
        let malformed = || {
            resp::auth_error(
                "AUTHENTICATION_ERROR",
                "Authorization header missing or malformed; expected 'Bearer <token>'.",
            )
        };
        let raw = authorization.ok_or_else(malformed)?;
        let s = std::str::from_utf8(raw).map_err(|_| malformed())?.trim();
        let (scheme, token) = s.split_once(' ').ok_or_else(malformed)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(malformed());
        }
        if let Some(t) = self.tokens.get(&token_fingerprint(token)) {
            return Ok(self.caller_with_scopes(t.identity, t.scopes.clone()));
        }
        if policy.strict_tokens {
            return Err(resp::auth_error(
                "INVALID_TOKEN",
                "The bearer token could not be validated.",
            ));
        }
        Ok(self.caller_with_scopes(
            default_identity_for_token(token),
            vec![SCOPE_ALL.to_owned()],
        ))
    }

    /// The caller whose effective identity is `identity` (its whole identity set,
    /// all scopes). For tests that bypass tokens.
    pub fn caller_for(&self, identity: IdentityId) -> Caller {
        self.caller_with_scopes(identity, vec![SCOPE_ALL.to_owned()])
    }

    fn caller_with_scopes(&self, primary: IdentityId, scopes: Vec<String>) -> Caller {
        let mut identities = vec![primary];
        if let Some(others) = self.idx.linked.get(&primary) {
            identities.extend(others.iter().copied().filter(|i| *i != primary));
        }
        Caller {
            primary,
            identities,
            scopes,
        }
    }

    /// Answer a request that cannot change state (see [`World::is_read_only`]).
    /// Unknown routes answer 404 and other methods on a known route 405; a write
    /// method on a route that supports it is a wiring mistake and answers 500.
    pub fn handle_read(
        &self,
        caller: &Caller,
        req: &ApiRequest<'_>,
        now: &str,
        policy: &Policy,
    ) -> ApiResponse {
        let _ = now;
        let route = match self.route_checked(req) {
            Ok(r) => r,
            Err(r) => return r,
        };
        if *req.method != Method::GET {
            return resp::internal("handle_read called for a write request; use handle.");
        }
        if let Some(r) = self.scope_check(caller, false, policy) {
            return r;
        }
        let r = match route {
            Route::MyGroups => self.my_groups(caller, req.query),
            Route::Statuses => self.statuses(caller),
            Route::Group(id) => self.get_group(caller, id, req.query, policy),
            Route::Children(id) => self.children(caller, id, req.query, policy),
            Route::Policies(id) => self.get_policies(caller, id),
            Route::Fields(id) => self.get_fields(caller, id),
            Route::Preferences => self.get_preferences(caller),
            Route::SubscriptionInfo(id) => self.subscription_info(id),
            Route::Groups | Route::Verified(_) => Err(resp::internal("route has no GET handler")),
        };
        r.unwrap_or_else(|e| e)
    }

    /// Route the request and apply the rules. `now` is the RFC 3339 timestamp used
    /// for `updated` / `invite_time`.
    pub fn handle(
        &mut self,
        caller: &Caller,
        req: &ApiRequest<'_>,
        now: &str,
        policy: &Policy,
    ) -> ApiResponse {
        if World::is_read_only(req.method) {
            return self.handle_read(caller, req, now, policy);
        }
        let route = match self.route_checked(req) {
            Ok(r) => r,
            Err(r) => return r,
        };
        if let Some(r) = self.scope_check(caller, true, policy) {
            return r;
        }
        let m = req.method;
        let r = match route {
            Route::Groups => self.create_group(caller, req.body, now),
            Route::Group(id) if *m == Method::PUT => self.update_group(caller, id, req.body),
            Route::Group(id) if *m == Method::POST => self.batch(caller, id, req.body, now, policy),
            Route::Group(id) => self.delete_group(caller, id),
            Route::Policies(id) => self.set_policies(caller, id, req.body),
            Route::Fields(id) => self.set_fields(caller, id, req.body),
            Route::Preferences => self.set_preferences(caller, req.body),
            Route::Verified(id) => self.set_verified(caller, id, req.body),
            Route::MyGroups | Route::Statuses | Route::Children(_) | Route::SubscriptionInfo(_) => {
                Err(resp::internal("route has no write handler"))
            }
        };
        match r {
            Ok(ok) => {
                // Known from now on (strict_identities); only successful writes change state.
                self.register_caller(caller);
                ok
            }
            Err(e) => e,
        }
    }

    fn route_checked<'r>(&self, req: &ApiRequest<'r>) -> Result<Route<'r>, ApiResponse> {
        let route = Route::parse(req.path).ok_or_else(resp::route_not_found)?;
        let methods = route.methods();
        if !methods.contains(&req.method.as_str()) {
            return Err(resp::method_not_allowed(methods));
        }
        Ok(route)
    }

    fn scope_check(&self, caller: &Caller, write: bool, policy: &Policy) -> Option<ApiResponse> {
        if !policy.enforce_scopes || caller.has_scope(SCOPE_ALL) {
            return None;
        }
        if !write && caller.has_scope(SCOPE_VIEW) {
            return None;
        }
        let detail = if write {
            "This operation requires the scope urn:globus:auth:scope:groups.api.globus.org:all."
        } else {
            "This operation requires a Groups scope."
        };
        Some(resp::forbidden(
            "INSUFFICIENT_SCOPE",
            detail,
            &caller.scopes,
        ))
    }

    /// Whether the token may see memberships / manage them (include gating, §4 E4).
    fn scope_allows(&self, caller: &Caller, manage: bool, policy: &Policy) -> bool {
        !policy.enforce_scopes
            || caller.has_scope(SCOPE_ALL)
            || (!manage && caller.has_scope(SCOPE_VIEW))
    }

    fn register_caller(&mut self, caller: &Caller) {
        let mut changed = false;
        for id in &caller.identities {
            if !self.identities.contains_key(id) {
                self.identities.insert(
                    *id,
                    IdentityRec {
                        username: default_username(id),
                        allow_add: None,
                        links: Vec::new(),
                    },
                );
                changed = true;
            }
        }
        if changed {
            self.touch();
        }
    }

    /// Record a mutation.
    fn touch(&mut self) {
        self.generation += 1;
    }

    /// Increases on every mutation (used to decide whether to persist).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The username of an identity (registered or synthesized).
    pub fn username(&self, id: &IdentityId) -> String {
        self.identities
            .get(id)
            .map(|r| r.username.clone())
            .unwrap_or_else(|| default_username(id))
    }

    /// Register an identity with a deterministic id derived from `username`
    /// ([`identity_id_for_username`]) and return the id.
    pub fn add_identity(&mut self, username: &str) -> IdentityId {
        let id = identity_id_for_username(username);
        self.identities
            .entry(id)
            .and_modify(|r| r.username = username.to_owned())
            .or_insert_with(|| IdentityRec {
                username: username.to_owned(),
                allow_add: None,
                links: Vec::new(),
            });
        self.touch();
        id
    }

    /// The identity a token stands for (seeded, or the default mapping, which is
    /// registered in the world by this call).
    pub fn identity_for_token(&mut self, token: &str) -> IdentityId {
        if let Some(t) = self.tokens.get(&token_fingerprint(token)) {
            return t.identity;
        }
        let id = default_identity_for_token(token);
        if let std::collections::btree_map::Entry::Vacant(e) = self.identities.entry(id) {
            e.insert(IdentityRec {
                username: default_username(&id),
                allow_add: None,
                links: Vec::new(),
            });
            self.touch();
        }
        id
    }

    /// Declare `token` as standing for `identity` (and its identity set) with `scopes`.
    pub fn add_token(&mut self, token: &str, identity: IdentityId, scopes: Vec<String>) {
        self.ensure_identity(identity);
        self.tokens
            .insert(token_fingerprint(token), TokenRec { identity, scopes });
        self.touch();
    }

    /// Link two identities into one identity set (symmetric and transitive).
    pub fn link_identities(&mut self, a: IdentityId, b: IdentityId) {
        self.ensure_identity(a);
        self.ensure_identity(b);
        if a != b
            && let Some(r) = self.identities.get_mut(&a)
            && !r.links.contains(&b)
        {
            r.links.push(b);
        }
        self.rebuild_links();
        self.touch();
    }

    /// Set an identity's `allow_add` preference (`None` = unset, which allows).
    pub fn set_allow_add(&mut self, identity: IdentityId, allow_add: Option<bool>) {
        self.ensure_identity(identity);
        if let Some(r) = self.identities.get_mut(&identity) {
            r.allow_add = allow_add;
        }
        self.touch();
    }

    fn ensure_identity(&mut self, id: IdentityId) {
        self.identities.entry(id).or_insert_with(|| IdentityRec {
            username: default_username(&id),
            allow_add: None,
            links: Vec::new(),
        });
    }

    /// The full document of a group as its admin would see it (every include),
    /// for inspection in tests. `None` when the group does not exist.
    pub fn group(&self, id: GroupId) -> Option<groups_types::Group> {
        let g = self.groups.get(&id)?;
        let doc = self.render_group(id, g, &[], render::Include::ALL_FOR_INSPECTION);
        let bytes = serde_json::to_vec(&doc).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Ids of every group, sorted.
    pub fn group_ids(&self) -> Vec<GroupId> {
        self.groups.keys().copied().collect()
    }

    /// The stored status counts of a group (as E2 reports them).
    pub fn status_counts(&self, id: GroupId) -> Option<BTreeMap<&'static str, u64>> {
        let g = self.groups.get(&id)?;
        Some(
            Status::ALL
                .iter()
                .map(|s| (s.as_str(), g.counts[s.index()]))
                .collect(),
        )
    }

    /// Recompute every derived index and counter from the records.
    fn rebuild(&mut self) {
        self.idx.by_identity.clear();
        self.idx.subscription_of.clear();
        let ids: Vec<GroupId> = self.groups.keys().copied().collect();
        for g in self.groups.values_mut() {
            g.children.clear();
            g.recount();
        }
        for gid in &ids {
            let (parent, members): (Option<GroupId>, Vec<IdentityId>) = match self.groups.get(gid) {
                Some(g) => (g.parent_id, g.memberships.keys().copied().collect()),
                None => continue,
            };
            for m in members {
                self.idx.by_identity.entry(m).or_default().insert(*gid);
            }
            if let Some(p) = parent.and_then(|p| self.groups.get_mut(&p)) {
                p.children.insert(*gid);
            }
        }
        for (sid, s) in &self.subscriptions {
            self.idx.subscription_of.insert(s.group_id, *sid);
        }
        self.rebuild_links();
    }

    /// Compute identity sets as the connected components of the declared links.
    fn rebuild_links(&mut self) {
        let mut adj: HashMap<IdentityId, Vec<IdentityId>> = HashMap::new();
        for (id, r) in &self.identities {
            for l in &r.links {
                adj.entry(*id).or_default().push(*l);
                adj.entry(*l).or_default().push(*id);
            }
        }
        let mut linked: HashMap<IdentityId, Vec<IdentityId>> = HashMap::new();
        let mut seen: BTreeSet<IdentityId> = BTreeSet::new();
        let starts: Vec<IdentityId> = adj.keys().copied().collect();
        for start in starts {
            if seen.contains(&start) {
                continue;
            }
            let mut comp = vec![start];
            seen.insert(start);
            let mut i = 0;
            while i < comp.len() {
                let cur = comp[i];
                i += 1;
                for n in adj.get(&cur).map(Vec::as_slice).unwrap_or(&[]) {
                    if seen.insert(*n) {
                        comp.push(*n);
                    }
                }
            }
            comp.sort();
            for id in &comp {
                linked.insert(*id, comp.iter().copied().filter(|o| o != id).collect());
            }
        }
        self.idx.linked = linked;
    }

    /// Check the invariants: every group has an active admin; each identity has at
    /// most one membership per group (and the index agrees); the stored status
    /// counts equal a recount; parent/child links are consistent; subscriptions
    /// point at existing groups. `Err` lists every violation.
    pub fn check_invariants(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        let mut indexed = 0usize;
        for (gid, g) in &self.groups {
            let (counts, admins) = g.tally();
            if admins == 0 {
                errs.push(format!("group {gid} has no active admin"));
            }
            if counts != g.counts {
                errs.push(format!(
                    "group {gid}: stored counts {:?} != recount {:?}",
                    g.counts, counts
                ));
            }
            if admins != g.active_admins {
                errs.push(format!(
                    "group {gid}: stored active admins {} != recount {admins}",
                    g.active_admins
                ));
            }
            for id in g.memberships.keys() {
                if !self
                    .idx
                    .by_identity
                    .get(id)
                    .is_some_and(|s| s.contains(gid))
                {
                    errs.push(format!(
                        "membership ({gid}, {id}) missing from the identity index"
                    ));
                }
            }
            indexed += g.memberships.len();
            if let Some(p) = g.parent_id {
                match self.groups.get(&p) {
                    None => errs.push(format!("group {gid} has a missing parent {p}")),
                    Some(pg) if !pg.children.contains(gid) => {
                        errs.push(format!("group {gid} not among the children of {p}"))
                    }
                    Some(_) => {}
                }
            }
            for c in &g.children {
                if self.groups.get(c).and_then(|c| c.parent_id) != Some(*gid) {
                    errs.push(format!("group {gid} lists child {c} whose parent differs"));
                }
            }
        }
        let index_total: usize = self.idx.by_identity.values().map(BTreeSet::len).sum();
        if index_total != indexed {
            errs.push(format!(
                "identity index holds {index_total} entries for {indexed} memberships"
            ));
        }
        for (sid, s) in &self.subscriptions {
            if !self.groups.contains_key(&s.group_id) {
                errs.push(format!(
                    "subscription {sid} points at missing group {}",
                    s.group_id
                ));
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}
