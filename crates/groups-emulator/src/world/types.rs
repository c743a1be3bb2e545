//! The values that cross the world's boundary: the request, the response, the caller,
//! the behaviour policy, the scope names and the service's limits.

use bytes::Bytes;
use groups_types::IdentityId;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::{Deserialize, Serialize};

/// The scope that allows everything (`GroupsScopes.all`).
pub const SCOPE_ALL: &str = "urn:globus:auth:scope:groups.api.globus.org:all";
/// The read-only scope (`GroupsScopes.view_my_groups_and_memberships`).
pub const SCOPE_VIEW: &str =
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";

/// Most subgroups in one tree (a service limit, see <https://docs.globus.org/api/groups/>).
pub const MAX_SUBGROUPS_PER_TREE: usize = 75;
/// Most levels of subgroups below a root (a service limit).
pub const MAX_DEPTH: usize = 4;
/// A caller with more active memberships than this cannot create groups (a service limit).
pub const MAX_ACTIVE_MEMBERSHIPS_FOR_CREATE: usize = 1000;

/// Most items (identities, summed over every verb) one batch request may hold; a larger
/// batch is refused with 422 before any item is looked at.
pub const MAX_BATCH_ITEMS: usize = 10_000;
/// Most problems one 422 answer lists; the rest are counted in a last item.
pub const MAX_REPORTED_ISSUES: usize = 100;
/// Longest group name, in characters (longer is a 422 `string_too_long`).
pub const MAX_NAME_CHARS: usize = 1_024;
/// Longest group description or terms and conditions, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 65_536;

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
    pub(super) fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub(super) fn owns(&self, id: &IdentityId) -> bool {
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
    /// Globus Auth accepts only the clients (and secrets) the seed declares; otherwise
    /// an unknown client id is accepted with any secret (401 `invalid_client` when on).
    pub strict_clients: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            strict_tokens: false,
            strict_identities: false,
            enforce_scopes: true,
            strict_clients: false,
        }
    }
}
