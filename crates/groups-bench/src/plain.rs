//! The naive baseline of workload 3: the group document as plain
//! `#[derive(Deserialize)]` structs that drop unknown keys and fold absent
//! and null into `None` (what a hand-written client typically does). The
//! SDK's [`groups_types::Group`] keeps unknown keys and tells absent from
//! null; the goal is that this costs nothing measurable against these.
//!
//! The field types match the SDK's (the same ids, open enums, `String`s,
//! maps and vectors), so the comparison isolates what keeping more costs.

use std::collections::BTreeMap;

use groups_types::{
    GroupId, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole, GroupType,
    GroupVisibility, IdentityId, MembershipStatus, SubscriptionId,
};
use serde::Deserialize;

/// A group document, naively.
#[derive(Debug, Deserialize)]
pub struct PlainGroup {
    /// The group's id.
    pub id: GroupId,
    /// The group's name.
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Terms members must accept.
    pub terms_and_conditions: Option<String>,
    /// `regular` or `plus`.
    pub group_type: Option<GroupType>,
    /// The parent group.
    pub parent_id: Option<GroupId>,
    /// Direct subgroups.
    pub child_ids: Option<Vec<GroupId>>,
    /// High-assurance session enforcement.
    pub enforce_session: Option<bool>,
    /// Seconds allowed since the last authentication.
    pub session_limit: Option<i64>,
    /// Session timeouts per identity.
    pub session_timeouts: Option<BTreeMap<String, PlainTimeout>>,
    /// The caller's memberships.
    pub my_memberships: Option<Vec<PlainMembership>>,
    /// Every membership.
    pub memberships: Option<Vec<PlainMembership>>,
    /// The subscription this group provides.
    pub subscription_id: Option<SubscriptionId>,
    /// The group's policies.
    pub policies: Option<PlainPolicies>,
    /// The verifying subscription.
    pub subscription_admin_verified_id: Option<SubscriptionId>,
}

/// A session timeout, naively.
#[derive(Debug, Deserialize)]
pub struct PlainTimeout {
    /// The moment (ISO 8601).
    pub expire_time: String,
    /// Seconds from now.
    pub expires_in: i64,
}

/// A membership, naively.
#[derive(Debug, Deserialize)]
pub struct PlainMembership {
    /// The group.
    pub group_id: GroupId,
    /// The subgroup causing an implicit membership.
    pub source_group_id: Option<GroupId>,
    /// The member.
    pub identity_id: IdentityId,
    /// The member's username.
    pub username: String,
    /// The member's role.
    pub role: GroupRole,
    /// The membership's status.
    pub status: MembershipStatus,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// Where an invitation was emailed.
    pub invite_email_address: Option<String>,
    /// Last change.
    pub updated: Option<String>,
    /// Invitation time.
    pub invite_time: Option<String>,
    /// Sign-up data.
    pub membership_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Policies, naively.
#[derive(Debug, Deserialize)]
pub struct PlainPolicies {
    /// High assurance.
    pub is_high_assurance: Option<bool>,
    /// Re-authentication timeout.
    pub authentication_assurance_timeout: Option<i64>,
    /// Who may see the group.
    pub group_visibility: Option<GroupVisibility>,
    /// Who may see the members.
    pub group_members_visibility: Option<GroupMemberVisibility>,
    /// Whether users may ask to join.
    pub join_requests: Option<bool>,
    /// Fields applicants must fill in.
    pub signup_fields: Option<Vec<GroupRequiredSignupFields>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_model_reads_the_synthetic_listing_like_the_sdk() {
        let body = crate::my_groups_json(12);
        let plain: Vec<PlainGroup> = serde_json::from_slice(&body).unwrap();
        let typed: Vec<groups_types::Group> = serde_json::from_slice(&body).unwrap();
        assert_eq!(plain.len(), typed.len());
        for (p, t) in plain.iter().zip(&typed) {
            assert_eq!(p.id, t.id);
            assert_eq!(p.name, t.name);
            assert_eq!(
                p.my_memberships.as_ref().map(Vec::len),
                Some(t.membership_list().len())
            );
        }
    }
}
