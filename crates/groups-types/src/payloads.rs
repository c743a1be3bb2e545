//! Request payloads other than the batch call: create, update, policies,
//! identity preferences, membership fields and subscription verification.

use std::collections::BTreeMap;

use crate::{
    GroupId, GroupMemberVisibility, GroupRequiredSignupFields, GroupVisibility, IdentityId,
    Nullable, SubscriptionId,
};

model! {
    /// The body of `POST /v2/groups` (`GroupCreateModel`).
    ///
    /// ```
    /// use groups_types::{GroupCreate, GroupPolicies, GroupVisibility};
    ///
    /// let body = GroupCreate::new("Claptrap's Rough Riders")
    ///     .description("No stairs allowed.")
    ///     .policies(GroupPolicies::partial().group_visibility(GroupVisibility::Authenticated));
    /// let json = serde_json::to_value(&body).unwrap();
    /// assert_eq!(json["policies"], serde_json::json!({"group_visibility": "authenticated"}));
    /// assert!(json.get("parent_id").is_none());
    /// ```
    pub struct GroupCreate {
        /// The group's name.
        req name: String = "name",
        /// Description.
        opt description: String = "description",
        /// Terms members must accept.
        opt terms_and_conditions: String = "terms_and_conditions",
        /// Parent group (the caller must be its admin).
        opt parent_id: GroupId = "parent_id",
        /// Policies applied over the defaults.
        opt policies: GroupPolicies = "policies",
    }
}

impl GroupCreate {
    /// A body with just a name.
    pub fn new(name: impl Into<String>) -> Self {
        GroupCreate {
            name: name.into(),
            ..GroupCreate::default()
        }
    }

    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Nullable::Value(description.into());
        self
    }

    /// Set the terms and conditions.
    pub fn terms_and_conditions(mut self, terms: impl Into<String>) -> Self {
        self.terms_and_conditions = Nullable::Value(terms.into());
        self
    }

    /// Create it under `parent` (the caller must administer it).
    pub fn parent_id(mut self, parent: GroupId) -> Self {
        self.parent_id = Nullable::Value(parent);
        self
    }

    /// Send `parent_id` as an explicit `null` (a top-level group), as
    /// globus-sdk's `GroupsManager.create_group` does; without it the key is
    /// left out, which the service reads the same way.
    pub fn top_level(mut self) -> Self {
        self.parent_id = Nullable::Null;
        self
    }

    /// Set the initial policies.
    pub fn policies(mut self, policies: GroupPolicies) -> Self {
        self.policies = Nullable::Value(policies);
        self
    }
}

model! {
    /// The body of `PUT /v2/groups/{group_id}` (`GroupWriteModel`).
    ///
    /// Absent fields are left unchanged; `subscription_admin_verified_id`
    /// can only be cleared here ([`GroupUpdate::clear_subscription_admin_verified`]).
    pub struct GroupUpdate {
        /// New name.
        opt name: String = "name",
        /// New description (null clears it).
        opt description: String = "description",
        /// New terms (null clears them).
        opt terms_and_conditions: String = "terms_and_conditions",
        /// Only `null` is accepted by the service here.
        opt subscription_admin_verified_id: SubscriptionId = "subscription_admin_verified_id",
    }
}

impl GroupUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Nullable::Value(name.into());
        self
    }

    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Nullable::Value(description.into());
        self
    }

    /// Clear the description (sends `null`).
    pub fn clear_description(mut self) -> Self {
        self.description = Nullable::Null;
        self
    }

    /// Set the terms and conditions.
    pub fn terms_and_conditions(mut self, terms: impl Into<String>) -> Self {
        self.terms_and_conditions = Nullable::Value(terms.into());
        self
    }

    /// Clear the terms and conditions (sends `null`).
    pub fn clear_terms_and_conditions(mut self) -> Self {
        self.terms_and_conditions = Nullable::Null;
        self
    }

    /// Clear `subscription_admin_verified_id` (sends `null`).
    pub fn clear_subscription_admin_verified(mut self) -> Self {
        self.subscription_admin_verified_id = Nullable::Null;
        self
    }
}

model! {
    /// The body of `PUT /v2/groups/{group_id}/policies`
    /// (`GroupPolicyWriteModel`), named as in globus-sdk.
    ///
    /// Every field has three states: absent (unchanged), null, or a value.
    /// [`GroupPolicies::partial`] starts empty; each field set by name is
    /// sent, the others are left out (and left unchanged by the service).
    ///
    /// ```
    /// use groups_types::*;
    ///
    /// let full = GroupPolicies::partial()
    ///     .is_high_assurance(false)
    ///     .group_visibility(GroupVisibility::Private)
    ///     .group_members_visibility(GroupMemberVisibility::Members)
    ///     .join_requests(false)
    ///     .signup_fields([GroupRequiredSignupFields::Address1])
    ///     .default_authentication_assurance_timeout(); // sends null
    /// let json = serde_json::to_value(&full).unwrap();
    /// assert!(json["authentication_assurance_timeout"].is_null());
    ///
    /// let partial = GroupPolicies::partial().is_high_assurance(true);
    /// assert_eq!(serde_json::to_string(&partial).unwrap(), r#"{"is_high_assurance":true}"#);
    /// ```
    pub struct GroupPolicies {
        /// Whether the group provides a high-assurance guarantee.
        opt is_high_assurance: bool = "is_high_assurance",
        /// Who may see the group.
        opt group_visibility: GroupVisibility = "group_visibility",
        /// Who may see the member list.
        opt group_members_visibility: GroupMemberVisibility = "group_members_visibility",
        /// Whether users may ask to join.
        opt join_requests: bool = "join_requests",
        /// Fields applicants must fill in.
        opt signup_fields: Vec<GroupRequiredSignupFields> = "signup_fields",
        /// Seconds before members must authenticate again.
        opt authentication_assurance_timeout: i64 = "authentication_assurance_timeout",
    }
}

impl GroupPolicies {
    /// An empty update: only the fields set afterwards are sent.
    pub fn partial() -> Self {
        Self::default()
    }

    /// Set `is_high_assurance`.
    pub fn is_high_assurance(mut self, value: bool) -> Self {
        self.is_high_assurance = Nullable::Value(value);
        self
    }

    /// Set `group_visibility`.
    pub fn group_visibility(mut self, value: GroupVisibility) -> Self {
        self.group_visibility = Nullable::Value(value);
        self
    }

    /// Set `group_members_visibility`.
    pub fn group_members_visibility(mut self, value: GroupMemberVisibility) -> Self {
        self.group_members_visibility = Nullable::Value(value);
        self
    }

    /// Set `join_requests`.
    pub fn join_requests(mut self, value: bool) -> Self {
        self.join_requests = Nullable::Value(value);
        self
    }

    /// Set `signup_fields`.
    pub fn signup_fields(
        mut self,
        fields: impl IntoIterator<Item = GroupRequiredSignupFields>,
    ) -> Self {
        self.signup_fields = Nullable::Value(fields.into_iter().collect());
        self
    }

    /// Members must authenticate again after `seconds`.
    pub fn authentication_assurance_timeout(mut self, seconds: i64) -> Self {
        self.authentication_assurance_timeout = Nullable::Value(seconds);
        self
    }

    /// Send the timeout as `null`: the service's default applies (28800
    /// seconds for high-assurance groups).
    pub fn default_authentication_assurance_timeout(mut self) -> Self {
        self.authentication_assurance_timeout = Nullable::Null;
        self
    }
}

model! {
    /// One identity's preferences (`IdentityPreferences`).
    pub struct IdentityPreferences {
        /// `false` stops admins from adding this identity directly.
        nul allow_add: bool = "allow_add",
    }
}

impl IdentityPreferences {
    /// Preferences with `allow_add` set.
    pub fn allow_add(allow: bool) -> Self {
        IdentityPreferences {
            allow_add: Some(allow),
            ..Self::default()
        }
    }
}

/// `GET`/`PUT /v2/preferences`: preferences per identity of the caller.
pub type IdentityPreferencesMap = BTreeMap<IdentityId, IdentityPreferences>;

model! {
    /// Sign-up data of one identity for one group (`MembershipFields`).
    pub struct MembershipFields {
        /// First name.
        opt first_name: String = "first_name",
        /// Last name.
        opt last_name: String = "last_name",
        /// Organization.
        opt organization: String = "organization",
        /// Institution.
        opt institution: String = "institution",
        /// Current project name.
        opt current_project_name: String = "current_project_name",
        /// Address.
        opt address: String = "address",
        /// City.
        opt city: String = "city",
        /// State.
        opt state: String = "state",
        /// Country.
        opt country: String = "country",
        /// Address line 1.
        opt address1: String = "address1",
        /// Address line 2.
        opt address2: String = "address2",
        /// Postal code.
        opt zip: String = "zip",
        /// Phone.
        opt phone: String = "phone",
        /// Department.
        opt department: String = "department",
        /// Field of science.
        opt field_of_science: String = "field_of_science",
    }
}

/// `GET`/`PUT /v2/groups/{group_id}/membership_fields`: fields per identity.
pub type MembershipFieldsMap = BTreeMap<IdentityId, MembershipFields>;

model! {
    /// The body of `PUT /v2/groups/{group_id}/subscription_admin_verified`
    /// (`SubscriptionVerifiedWriteModel`). The key is always sent.
    pub struct SubscriptionAdminVerifiedUpdate {
        /// The verifying subscription, or `None` to clear.
        nul subscription_admin_verified_id: SubscriptionId = "subscription_admin_verified_id",
    }
}

impl SubscriptionAdminVerifiedUpdate {
    /// Mark the group as verified by `subscription_id`.
    pub fn verified_by(subscription_id: SubscriptionId) -> Self {
        SubscriptionAdminVerifiedUpdate {
            subscription_admin_verified_id: Some(subscription_id),
            ..Self::default()
        }
    }

    /// Clear the verification (sends `null`).
    pub fn cleared() -> Self {
        Self::default()
    }
}
