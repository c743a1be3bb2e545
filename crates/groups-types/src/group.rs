//! Response models: the group document and what it embeds, subscriptions,
//! status counts and children.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{
    AllowedActions, GroupId, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole,
    GroupType, GroupVisibility, IdentityId, JsonObject, MembershipStatus, SubscriptionId,
};

model! {
    /// A group document (`GroupReadModel`), as returned by get, create,
    /// update, delete, my_groups and children.
    ///
    /// Which optional parts are present depends on the call and its
    /// `include` list, so code must not assume any of them.
    ///
    /// ```
    /// use groups_types::{Group, GroupId};
    ///
    /// let doc = r#"{"id": "d3974728-6458-11e4-b72d-123139141556", "name": "Riders",
    ///              "parent_id": null, "group_type": "regular", "future_field": 1}"#;
    /// let group: Group = serde_json::from_str(doc).unwrap();
    /// assert_eq!(group.name, "Riders");
    /// assert!(group.parent_id.is_none());
    /// assert!(group.description.is_absent());
    /// assert_eq!(group.extra["future_field"], 1);
    /// ```
    pub struct Group {
        /// The group's id.
        req id: GroupId = "id",
        /// The group's name.
        req name: String = "name",
        /// Free-text description.
        opt description: String = "description",
        /// Terms members must accept.
        opt terms_and_conditions: String = "terms_and_conditions",
        /// `regular` or `plus` (Globus Plus).
        opt group_type: GroupType = "group_type",
        /// The parent group of a subgroup; `None` for a root group.
        nul parent_id: GroupId = "parent_id",
        /// Direct subgroups (only with `include=child_ids`; may list
        /// subgroups the caller cannot see).
        opt child_ids: Vec<GroupId> = "child_ids",
        /// Whether high-assurance session enforcement is active.
        opt enforce_session: bool = "enforce_session",
        /// Seconds allowed since the last authentication.
        opt session_limit: i64 = "session_limit",
        /// Per identity in the caller's session: when its authentication
        /// falls outside the session limit.
        opt session_timeouts: BTreeMap<String, TimeoutData> = "session_timeouts",
        /// The caller's own memberships (any status).
        list my_memberships: Vec<Membership> = "my_memberships",
        /// Every membership (only with `include=memberships` and permission).
        list memberships: Vec<Membership> = "memberships",
        /// Which of the caller's identities may perform each batch verb
        /// (boxed: rarely present, and large).
        opt allowed_actions: Box<AllowedActions> = "allowed_actions",
        /// The subscription this group provides, if any.
        opt subscription_id: SubscriptionId = "subscription_id",
        /// Details of that subscription (boxed: rarely present).
        opt subscription_info: Box<SubscriptionInfo> = "subscription_info",
        /// The group's policies (often only the two visibility fields).
        opt policies: PolicyDocument = "policies",
        /// The subscription whose admins verified this group.
        opt subscription_admin_verified_id: SubscriptionId = "subscription_admin_verified_id",
    }
}

impl Group {
    /// A document with just an id and a name.
    pub fn new(id: GroupId, name: impl Into<String>) -> Self {
        Group {
            id,
            name: name.into(),
            ..Group::default()
        }
    }

    /// Every membership in the document: `memberships` if present, else
    /// `my_memberships`, else none.
    pub fn membership_list(&self) -> &[Membership] {
        self.memberships
            .value()
            .or(self.my_memberships.value())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

model! {
    /// One identity's membership in a group (`MembershipReadModel`).
    pub struct Membership {
        /// The group.
        req group_id: GroupId = "group_id",
        /// For an implicit membership: the subgroup that causes it.
        opt source_group_id: GroupId = "source_group_id",
        /// The member's identity.
        req identity_id: IdentityId = "identity_id",
        /// The identity's username, e.g. `user@globusid.org`.
        req username: String = "username",
        /// The member's role.
        req role: GroupRole = "role",
        /// The membership's status.
        req status: MembershipStatus = "status",
        /// Why the status last changed.
        opt status_reason: String = "status_reason",
        /// Where an invitation was emailed.
        opt invite_email_address: String = "invite_email_address",
        /// When the membership last changed (ISO 8601).
        opt updated: String = "updated",
        /// When the invitation was made (ISO 8601).
        opt invite_time: String = "invite_time",
        /// Sign-up data, free-form (it may hold keys outside
        /// [`crate::MembershipFields`]).
        opt membership_fields: JsonObject = "membership_fields",
    }
}

impl Membership {
    /// A membership with the required fields set.
    pub fn new(
        group_id: GroupId,
        identity_id: IdentityId,
        username: impl Into<String>,
        role: GroupRole,
        status: MembershipStatus,
    ) -> Self {
        Membership {
            group_id,
            identity_id,
            username: username.into(),
            role,
            status,
            ..Membership::default()
        }
    }
}

#[allow(clippy::derivable_impls)] // the enum comes from a macro
impl Default for MembershipStatus {
    fn default() -> Self {
        MembershipStatus::Active
    }
}

model! {
    /// A group's policies as the service reports them (`GroupPolicyReadModel`).
    ///
    /// The policies endpoint returns all six fields; group documents often
    /// embed only the two visibility fields, so every field is optional here.
    pub struct PolicyDocument {
        /// Whether the group provides a high-assurance guarantee.
        opt is_high_assurance: bool = "is_high_assurance",
        /// Seconds before members must authenticate again (HA groups).
        opt authentication_assurance_timeout: i64 = "authentication_assurance_timeout",
        /// Who may see the group.
        opt group_visibility: GroupVisibility = "group_visibility",
        /// Who may see the member list.
        opt group_members_visibility: GroupMemberVisibility = "group_members_visibility",
        /// Whether users may ask to join.
        opt join_requests: bool = "join_requests",
        /// Fields applicants must fill in.
        opt signup_fields: Vec<GroupRequiredSignupFields> = "signup_fields",
    }
}

model! {
    /// When an identity's authentication falls outside a group's session
    /// limit (`TimeoutData`).
    pub struct TimeoutData {
        /// The moment (ISO 8601).
        req expire_time: String = "expire_time",
        /// Seconds from now.
        req expires_in: i64 = "expires_in",
    }
}

model! {
    /// Full subscription details (`SubscriptionModel`).
    pub struct SubscriptionInfo {
        /// The subscription's name.
        req name: String = "name",
        /// Who holds the subscription.
        req subscriber_name: String = "subscriber_name",
        /// Whether it is a high-assurance subscription.
        opt is_high_assurance: bool = "is_high_assurance",
        /// Whether it includes a BAA.
        opt is_baa: bool = "is_baa",
        /// Per connector id: what the subscription covers.
        opt connectors: BTreeMap<String, ConnectorSubscriptionInfo> = "connectors",
    }
}

model! {
    /// Subscription details without names (`SubscriptionModelLimited`).
    pub struct SubscriptionInfoLimited {
        /// Whether it is a high-assurance subscription.
        opt is_high_assurance: bool = "is_high_assurance",
        /// Whether it includes a BAA.
        opt is_baa: bool = "is_baa",
        /// Per connector id: what the subscription covers.
        opt connectors: BTreeMap<String, ConnectorSubscriptionInfo> = "connectors",
    }
}

model! {
    /// What a subscription covers for one connector.
    pub struct ConnectorSubscriptionInfo {
        /// High assurance.
        req is_ha: bool = "is_ha",
        /// BAA.
        req is_baa: bool = "is_baa",
    }
}

model! {
    /// The group that provides a subscription (`GroupSubscriptionModel`),
    /// from `GET /v2/subscription_info/{subscription_id}`.
    pub struct GroupSubscription {
        /// The subscription group.
        req group_id: GroupId = "group_id",
        /// The subscription.
        req subscription_id: SubscriptionId = "subscription_id",
        /// Limited details.
        req subscription_info: SubscriptionInfoLimited = "subscription_info",
    }
}

model! {
    /// Result of setting `subscription_admin_verified_id`
    /// (`SubscriptionVerifiedReadModel`).
    pub struct SubscriptionVerified {
        /// The group.
        req group_id: GroupId = "group_id",
        /// The verifying subscription, or `None` when cleared.
        nul subscription_admin_verified_id: SubscriptionId = "subscription_admin_verified_id",
    }
}

model! {
    /// Membership counts of one group per status (`GroupStatusCounts`).
    pub struct GroupStatusCounts {
        /// Active memberships.
        opt active: u64 = "active",
        /// Invited.
        opt invited: u64 = "invited",
        /// Pending.
        opt pending: u64 = "pending",
        /// Rejected.
        opt rejected: u64 = "rejected",
        /// Removed.
        opt removed: u64 = "removed",
        /// Left.
        opt left: u64 = "left",
        /// Declined.
        opt declined: u64 = "declined",
    }
}

impl GroupStatusCounts {
    /// The count for `status` (0 when absent or null, or for an unknown status).
    pub fn count(&self, status: &MembershipStatus) -> u64 {
        let field = match status {
            MembershipStatus::Active => &self.active,
            MembershipStatus::Invited => &self.invited,
            MembershipStatus::Pending => &self.pending,
            MembershipStatus::Rejected => &self.rejected,
            MembershipStatus::Removed => &self.removed,
            MembershipStatus::Left => &self.left,
            MembershipStatus::Declined => &self.declined,
            MembershipStatus::Unknown(s) => {
                return self
                    .extra
                    .get(s.as_str())
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
            }
        };
        field.value().copied().unwrap_or(0)
    }
}

/// `GET /v2/groups/statuses`: counts per group the caller administers or manages.
pub type GroupStatuses = BTreeMap<GroupId, GroupStatusCounts>;

model! {
    /// `GET /v2/groups/{group_id}/children` (`GroupChildrenReadModel`).
    pub struct GroupChildren {
        /// The direct subgroups.
        req children: Vec<Group> = "children",
    }
}
