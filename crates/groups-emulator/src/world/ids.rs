//! Deterministic ids: UUIDv5 names for token identities, usernames, token fingerprints
//! and group ids, so two runs with the same requests give the same bytes.

use groups_types::{GroupId, IdentityId};
use uuid::Uuid;

use super::resp;
use super::types::ApiResponse;

fn ns_root() -> Uuid {
    Uuid::from_u128(0x5e1f_0a4e_5b7c_4c1e_9a53_0e1a_2b3c_4d5e)
}

/// The UUIDv5 namespace for one kind of name.
pub(super) fn ns(name: &str) -> Uuid {
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

/// The id [`World::add_identity`](super::World::add_identity) gives a username.
pub fn identity_id_for_username(username: &str) -> IdentityId {
    IdentityId::from(Uuid::new_v5(&ns("username"), username.as_bytes()))
}

/// The key a token is stored under: a one-way fingerprint, never the token itself.
pub(super) fn token_fingerprint(token: &str) -> Uuid {
    Uuid::new_v5(&ns("token-fingerprint"), token.as_bytes())
}

/// The id of the `n`-th group created without an explicit id.
pub(super) fn group_id_for_counter(n: u64) -> GroupId {
    GroupId::from(Uuid::new_v5(&ns("group"), n.to_string().as_bytes()))
}

/// Parse a `{group_id}` path segment. A segment that is not a UUID answers 404, as an
/// unknown group does: the path names no group.
pub(super) fn parse_group_id(s: &str) -> Result<GroupId, ApiResponse> {
    Uuid::try_parse(s)
        .map(GroupId::from)
        .map_err(|_| resp::group_not_found())
}
