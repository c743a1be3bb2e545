//! The manager's error type, [`ManagerError`], and the per-identity failure
//! of a membership action, [`MembershipActionError`].
//!
//! The service answers a batch membership call with HTTP 200 even when an
//! identity failed; the failure sits under `errors.<verb>` in the body. The
//! manager never lets such a failure pass for a success: a single-identity
//! helper turns it into [`ManagerError::Membership`], and the bulk helpers
//! list it in [`BulkReport::failures`](crate::BulkReport::failures).

use std::fmt;

use groups_core::GroupsError;
use groups_types::{BatchVerb, GroupId, GroupRole, IdentityId};

/// Longest server `detail` shown by `Display` (bytes).
const DETAIL_DISPLAY_LIMIT: usize = 300;

/// One identity for which a membership action did not happen.
///
/// `code` is the service's code (e.g. `ALREADY_ACTIVE`, `NO_MEMBERSHIP`,
/// `LAST_ADMIN`; an open set), or [`MembershipActionError::NO_OUTCOME`] when
/// the service's answer mentioned the identity neither as a success nor as
/// a failure.
///
/// ```
/// use groups_manager::MembershipActionError;
/// use groups_types::{BatchVerb, IdentityId};
///
/// let id: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse().unwrap();
/// let err = MembershipActionError::new(BatchVerb::Add, id, "ALREADY_ACTIVE", Some("already a member".into()));
/// assert!(err.is_already_active());
/// assert_eq!(
///     err.to_string(),
///     "add ae332d86-d274-11e5-b885-b31714a110e9 failed: ALREADY_ACTIVE: already a member"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipActionError {
    /// The verb that was attempted.
    pub verb: BatchVerb,
    /// The identity it was attempted for.
    pub identity_id: IdentityId,
    /// The service's code for the failure (or [`Self::NO_OUTCOME`]).
    pub code: String,
    /// The service's explanation, if it gave one.
    pub detail: Option<String>,
}

impl MembershipActionError {
    /// The code the manager uses when the service's 200 answer named the
    /// identity neither under the verb (success) nor under `errors` (failure).
    /// No service code has this spelling.
    pub const NO_OUTCOME: &'static str = "SDK_NO_OUTCOME";

    /// The code the manager uses for a roster sync's last demotion or
    /// removal of a previous admin that it did not send, because no new
    /// admin became active (see [`crate::sync`]). No service code has this
    /// spelling.
    pub const LAST_ADMIN_KEPT: &'static str = "SDK_LAST_ADMIN_KEPT";

    /// A failure of `verb` for `identity_id`.
    pub fn new(
        verb: BatchVerb,
        identity_id: IdentityId,
        code: impl Into<String>,
        detail: Option<String>,
    ) -> Self {
        MembershipActionError {
            verb,
            identity_id,
            code: code.into(),
            detail,
        }
    }

    /// Whether the service said the identity is already an active member
    /// (`ALREADY_ACTIVE`: nothing changed).
    pub fn is_already_active(&self) -> bool {
        self.code == "ALREADY_ACTIVE"
    }

    /// Whether the service's answer did not mention the identity at all.
    pub fn is_no_outcome(&self) -> bool {
        self.code == Self::NO_OUTCOME
    }
}

fn truncate(s: &str, limit: usize) -> &str {
    if s.len() <= limit {
        return s;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Display for MembershipActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} failed: {}",
            self.verb,
            self.identity_id,
            truncate(&self.code, 100)
        )?;
        if let Some(detail) = &self.detail {
            let t = truncate(detail, DETAIL_DISPLAY_LIMIT);
            write!(f, ": {t}")?;
            if t.len() < detail.len() {
                f.write_str("...")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for MembershipActionError {}

/// Every error of the manager.
///
/// `Display` is one short line and never contains a token or a raw body.
///
/// ```
/// use groups_core::GroupsError;
/// use groups_manager::{ManagerError, MembershipActionError};
/// use groups_types::{BatchVerb, IdentityId};
///
/// let id: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse().unwrap();
/// let err = ManagerError::from(MembershipActionError::new(BatchVerb::Remove, id, "NO_MEMBERSHIP", None));
/// assert_eq!(err.code(), Some("NO_MEMBERSHIP"));
/// assert_eq!(err.identity_id(), Some(id));
/// assert!(err.groups_error().is_none());
///
/// let err = ManagerError::from(GroupsError::invalid_input("bad id"));
/// assert!(err.membership_error().is_none());
/// assert!(err.groups_error().unwrap().is_invalid_input());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The request failed as a whole (invalid input, transport, an HTTP error
    /// status after retries, an undecodable body): see [`GroupsError`].
    #[error(transparent)]
    Groups(#[from] GroupsError),

    /// The service processed the request but the action did not happen for
    /// the identity.
    #[error(transparent)]
    Membership(#[from] MembershipActionError),

    /// The group document came back without its member list (the caller may
    /// not see the memberships, e.g. `group_members_visibility=managers`), so
    /// no roster sync can be planned.
    #[error("the memberships of group {group_id} are not visible to the caller")]
    MembershipsNotVisible {
        /// The group.
        group_id: GroupId,
    },

    /// The group document came back without `my_memberships`, so the
    /// caller's own identities are unknown and a sync cannot guarantee not
    /// to remove or demote them. Plan with
    /// [`SyncPlan::compute`](crate::SyncPlan::compute) and an explicit
    /// caller set instead.
    #[error("the caller's own memberships in group {group_id} are unknown (no my_memberships)")]
    CallerMembershipsUnknown {
        /// The group.
        group_id: GroupId,
    },

    /// The desired roster names one identity twice with different roles.
    #[error(
        "identity {identity_id} is listed twice in the desired roster, as {first} and as {second}"
    )]
    ConflictingDesiredRoles {
        /// The identity.
        identity_id: IdentityId,
        /// The role given first.
        first: GroupRole,
        /// The other role.
        second: GroupRole,
    },
}

impl ManagerError {
    /// The per-identity failure, if that is what this is.
    pub fn membership_error(&self) -> Option<&MembershipActionError> {
        match self {
            ManagerError::Membership(e) => Some(e),
            _ => None,
        }
    }

    /// The whole-request error, if that is what this is.
    pub fn groups_error(&self) -> Option<&GroupsError> {
        match self {
            ManagerError::Groups(e) => Some(e),
            _ => None,
        }
    }

    /// The service's code: the per-identity code, or the error body's code
    /// of a failed request.
    pub fn code(&self) -> Option<&str> {
        match self {
            ManagerError::Membership(e) => Some(&e.code),
            ManagerError::Groups(e) => e.code(),
            _ => None,
        }
    }

    /// The identity concerned, for per-identity failures and roster conflicts.
    pub fn identity_id(&self) -> Option<IdentityId> {
        match self {
            ManagerError::Membership(e) => Some(e.identity_id),
            ManagerError::ConflictingDesiredRoles { identity_id, .. } => Some(*identity_id),
            _ => None,
        }
    }

    /// The HTTP status of a failed request (after retries).
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            ManagerError::Groups(e) => e.status(),
            _ => None,
        }
    }
}
