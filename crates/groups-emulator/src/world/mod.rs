//! The rules engine of the emulator: the whole service state and every rule of
//! the Groups v2 API (<https://docs.globus.org/api/groups/>), as a pure function of
//! (state, caller, request, `now`).
//!
//! No IO, no clock, no randomness: the server hands in the request already read
//! off the wire and an RFC 3339 `now`, and gets back a status and JSON bytes.
//! Group ids are UUIDv5 of a counter, identities of default tokens are UUIDv5 of
//! the token, so two runs with the same requests give the same bytes.
//!
//! # Notes for the server side
//! * [`World::authenticate`] takes `&self` (works under a read lock); the caller's
//!   identities are registered on their first successful write request.
//! * [`World::handle_read`] answers GET (and the 404/405 of any method) under a read
//!   lock; [`World::handle`] answers everything. Both are safe for any input.
//!   [`World::prepare`] parses and validates a write request's body without the world,
//!   so a server can do that work before it takes the write lock, then answer with
//!   [`World::handle_prepared`].
//! * [`Policy::default`] has `enforce_scopes: true`: a token's scopes always count.
//!   Default (unseeded) tokens carry the `all` scope, so only seeded tokens with
//!   narrower scopes see a difference. Set it to false to ignore scopes entirely.
//! * Extra conveniences: [`World::add_token`], [`World::link_identities`],
//!   [`World::caller_for`], [`World::set_allow_add`], [`World::status_counts`].
//! * [`ERROR_CODES`] lists every `code` the emulator can answer with (for the README);
//!   it is generated from [`ErrorCode`], from which every error body is built.
//! * `Deserialize` rebuilds the derived indexes and checks the invariants; a state
//!   written by `Serialize` loads back into an equal world, and a document with unknown
//!   keys, a group without an active admin or a parent cycle is refused.
//!
//! # Globus Auth
//! The Auth part (clients, codes, issued tokens) lives in the same world, so a state
//! document holds it too. Its token values come from the server (random), and only
//! their one-way fingerprints are kept. Rules:
//! * A token answer holds one token per resource server: the first at the top level,
//!   the others in `other_tokens`. A refresh token comes only with `access_type=offline`
//!   (authorization code, dependent token) or on a refresh (rotation: the old refresh
//!   token stops working at once), never for client credentials. An `id_token` comes
//!   only from an authorization code whose scopes hold `openid`.
//! * Access tokens live [`ACCESS_TOKEN_SECS`], refresh tokens [`REFRESH_TOKEN_SECS`],
//!   codes [`CODE_SECS`], all on the emulator's clock. Codes are single-use: the first
//!   exchange consumes the code, whether it succeeds or not.
//! * Unknown clients (not in the seed) are accepted with any secret, unless strict
//!   clients are on; a client acts as its own identity (its id when the id is a UUID,
//!   else a UUIDv5 of it) or as the identity its [`SeedClient`] names.
//! * A public (native) client must send a PKCE `code_challenge` (S256); its redirect
//!   URI may be the emulator's own `/v2/web/auth-code` page, and for a registered
//!   loopback redirect any port is accepted (RFC 8252). An unknown client in non-strict
//!   mode may redirect to any loopback URI. A confidential client gets only its
//!   registered redirect URIs.
//! * Scopes map to resource servers: `openid`, `profile`, `email` to `auth.globus.org`,
//!   `urn:globus:auth:scope:<rs>:<name>` and `https://auth.globus.org/scopes/<rs>/<name>`
//!   to `<rs>`; any other scope is `invalid_scope`.
//! * Revoking an access token keeps it on record as revoked (so Groups answers 401 for
//!   it, not a default identity); revoking a refresh token forgets it.
//! * At most 100,000 issued tokens, 10,000 pending codes and 10,000 clients are kept
//!   (expired and revoked tokens go first).
//!
//! # Limits on one request
//! So that every accepted request has a bounded cost:
//! * a batch holds at most [`MAX_BATCH_ITEMS`] items over all its verbs; a larger one
//!   is refused with 422 (`too_long`, naming the limit) before any item is checked;
//! * a 422 answer lists at most [`MAX_REPORTED_ISSUES`] problems (a last item counts
//!   the rest), and echoes at most a short prefix of each offending input;
//! * group names are at most [`MAX_NAME_CHARS`] characters, descriptions and terms
//!   and conditions at most [`MAX_DESCRIPTION_CHARS`] (422 `string_too_long`).
//!
//! # Rules the service documentation leaves open (emulator choices)
//! * `my_memberships` and the six-key `policies` are only in a group document when
//!   `include` asks for them; without it `policies` holds the two visibility keys (as
//!   in the SDK fixtures). Create, update and delete answers carry `my_memberships`.
//! * `join` is open when `group_visibility` is `authenticated` and the group is not
//!   high assurance (a guess at the service's join policy).
//! * Only admins and managers invite.
//! * `policies` in a create body apply over the defaults.
//! * Preferences accept the keyed map and the flat `{"allow_add": ..}`, which
//!   applies to the caller's effective identity.
//! * Deleting a group that has subgroups is refused with 400 `GROUP_HAS_CHILDREN`
//!   (`ambiguous_identities: []`); there is no cascade.
//! * A `{group_id}` (or subscription id) that is not a UUID answers 404.
//! * 409 is never sent.
//! * Implicit parent memberships (`source_group_id`) are not synthesized.
//! * Batch verbs run in the fixed order of [`BatchVerb::ALL`](groups_types::BatchVerb::ALL)
//!   (alphabetical: accept, add, approve, change_role, decline, invite, join,
//!   leave, reject, remove, request_join), independent of the JSON key order;
//!   permissions are judged on the state before the batch. Whole-request failures
//!   (422, 404/403 visibility, 400 duplicates, 403 verb permission) are all
//!   decided before the first change, so they leave no partial state.
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
//! * `PUT /v2/groups/{id}` with a non-null `subscription_admin_verified_id` equal to
//!   the current value is a no-op; a different non-null value is 403 `CLEAR_ONLY`.
//! * `PUT /v2/groups/{id}/subscription_admin_verified` needs only that the group
//!   exists (not that it is visible), except when both the old and the new value
//!   are null.
//! * Reading and writing membership fields need a visible group; a write replaces the
//!   named identities' fields (unknown keys and nulls dropped) and each identity must
//!   hold a membership.
//! * Preferences read `allow_add: true` when unset.
//! * `GET /v2/groups/{id}/children` lists only the subgroups the caller may see;
//!   `child_ids` lists all.

mod auth;
mod batch;
mod codes;
mod demand;
mod groups;
mod ids;
mod invariants;
mod journal;
mod oauth;
mod prefs;
mod render;
pub(crate) mod resp;
mod route;
mod seed;
mod state;
mod store;
mod subs;
mod tracked;
mod types;
mod validate;
mod vocab;

#[cfg(test)]
mod tests;

pub use codes::{AUTH_ERROR_CODES, AuthErrorCode, ERROR_CODES, ErrorCode};
pub use demand::AuthDemand;
pub use ids::{default_identity_for_token, default_username, identity_id_for_username};
pub(crate) use journal::Changes;
pub use oauth::{
    ACCESS_TOKEN_SECS, AUTH_RESOURCE_SERVER, AutoApprove, CODE_SECS, Decision, REFRESH_TOKEN_SECS,
};
pub(crate) use oauth::{AuthEnv, is_auth_path};
pub use route::Prepared;
pub use seed::{
    Seed, SeedClient, SeedClientType, SeedConnector, SeedError, SeedGroup, SeedIdentity,
    SeedMembership, SeedPolicies, SeedSubscription, SeedToken,
};
pub(crate) use store::StateError;
pub use store::World;
pub use types::{
    ApiRequest, ApiResponse, Caller, MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE, MAX_BATCH_ITEMS, MAX_DEPTH,
    MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_REPORTED_ISSUES, MAX_SUBGROUPS_PER_TREE, Policy,
    SCOPE_ALL, SCOPE_VIEW,
};
