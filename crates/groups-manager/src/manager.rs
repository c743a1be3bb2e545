//! [`GroupsManager`]: the helpers of globus-sdk's `GroupsManager`, one call
//! per membership action, over any [`Transport`].

use std::fmt;

use groups_core::ops::IdArg;
use groups_core::{GroupsClient, Transport};
use groups_types::{
    BatchItem, BatchMembershipActions, BatchVerb, Group, GroupCreate, GroupId,
    GroupMemberVisibility, GroupPolicies, GroupRequiredSignupFields, GroupRole, GroupVisibility,
    IdentityId, Membership, PolicyDocument,
};

use crate::bulk::{BulkOptions, reconcile};
use crate::error::ManagerError;

/// The six policy fields, all of which
/// [`GroupsManager::set_group_policies`] sends.
///
/// Like globus-sdk's `GroupsManager.set_group_policies`, the
/// `authentication_assurance_timeout` defaults to `None`, which is sent as an
/// explicit `null` (the service then uses its default, 28800 seconds for
/// high-assurance groups). globus-sdk's `GroupPolicies` payload, by contrast,
/// leaves the key out unless set; use
/// [`GroupsClient::set_group_policies`] with a [`GroupPolicies`] for a
/// partial update.
///
/// ```
/// use groups_manager::PolicySettings;
/// use groups_types::{GroupMemberVisibility, GroupPolicies, GroupRequiredSignupFields, GroupVisibility};
///
/// let settings = PolicySettings::new(
///     false,
///     GroupVisibility::Private,
///     GroupMemberVisibility::Managers,
///     true,
///     [GroupRequiredSignupFields::Institution],
/// );
/// let body = serde_json::to_value(GroupPolicies::from(settings)).unwrap();
/// assert_eq!(body["authentication_assurance_timeout"], serde_json::Value::Null);
/// assert_eq!(body["signup_fields"], serde_json::json!(["institution"]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySettings {
    /// Whether the group provides a high-assurance guarantee.
    pub is_high_assurance: bool,
    /// Who may see the group.
    pub group_visibility: GroupVisibility,
    /// Who may see the member list.
    pub group_members_visibility: GroupMemberVisibility,
    /// Whether users may ask to join.
    pub join_requests: bool,
    /// Fields applicants must fill in.
    pub signup_fields: Vec<GroupRequiredSignupFields>,
    /// Seconds before members must authenticate again; `None` sends `null`.
    pub authentication_assurance_timeout: Option<i64>,
}

impl PolicySettings {
    /// The five fields globus-sdk requires; the timeout is `None` (sent as
    /// `null`).
    pub fn new(
        is_high_assurance: bool,
        group_visibility: GroupVisibility,
        group_members_visibility: GroupMemberVisibility,
        join_requests: bool,
        signup_fields: impl IntoIterator<Item = GroupRequiredSignupFields>,
    ) -> Self {
        PolicySettings {
            is_high_assurance,
            group_visibility,
            group_members_visibility,
            join_requests,
            signup_fields: signup_fields.into_iter().collect(),
            authentication_assurance_timeout: None,
        }
    }

    /// Set the timeout in seconds (`None`: `null`).
    pub fn authentication_assurance_timeout(mut self, seconds: Option<i64>) -> Self {
        self.authentication_assurance_timeout = seconds;
        self
    }
}

impl From<PolicySettings> for GroupPolicies {
    fn from(s: PolicySettings) -> Self {
        GroupPolicies::new(
            s.is_high_assurance,
            s.group_visibility,
            s.group_members_visibility,
            s.join_requests,
            s.signup_fields,
        )
        .authentication_assurance_timeout(s.authentication_assurance_timeout)
    }
}

/// The Groups manager: one call per membership action, bulk helpers and
/// roster sync, over a [`GroupsClient`] with any [`Transport`].
///
/// Cheap to clone (the client is one `Arc`). It does not depend on a
/// particular HTTP stack: `groups-hyper` provides the usual transport.
///
/// Every single-identity helper sends a one-item batch
/// (`POST /v2/groups/{group_id}`) and returns the resulting
/// [`Membership`]. If the service lists the identity under `errors`, the
/// helper returns [`ManagerError::Membership`] with the verb, identity, code
/// and detail; it never reports success for a membership change that did not
/// happen.
pub struct GroupsManager<T> {
    client: GroupsClient<T>,
    bulk: BulkOptions,
}

impl<T> Clone for GroupsManager<T> {
    fn clone(&self) -> Self {
        GroupsManager {
            client: self.client.clone(),
            bulk: self.bulk,
        }
    }
}

impl<T> fmt::Debug for GroupsManager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupsManager")
            .field("client", &self.client)
            .field("bulk", &self.bulk)
            .finish()
    }
}

impl<T: Transport> From<GroupsClient<T>> for GroupsManager<T> {
    fn from(client: GroupsClient<T>) -> Self {
        GroupsManager::new(client)
    }
}

impl<T: Transport> GroupsManager<T> {
    /// A manager over `client`, with default [`BulkOptions`].
    pub fn new(client: GroupsClient<T>) -> Self {
        GroupsManager {
            client,
            bulk: BulkOptions::default(),
        }
    }

    /// Use `options` as the default of [`GroupsManager::bulk`] and of roster
    /// syncs.
    pub fn with_bulk_options(mut self, options: BulkOptions) -> Self {
        self.bulk = options;
        self
    }

    /// The default bulk options.
    pub fn bulk_options(&self) -> &BulkOptions {
        &self.bulk
    }

    /// The client, for every call the manager does not wrap.
    pub fn client(&self) -> &GroupsClient<T> {
        &self.client
    }

    /// The client, giving up the manager.
    pub fn into_client(self) -> GroupsClient<T> {
        self.client
    }

    /// Create a group named `name` with `description`, under `parent` (which
    /// the caller must administer) or at the top level. `parent_id` is always
    /// sent, as `null` for `None` (as globus-sdk's manager does).
    pub async fn create_group(
        &self,
        name: impl Into<String>,
        description: impl Into<String>,
        parent: Option<GroupId>,
    ) -> Result<Group, ManagerError> {
        let body = GroupCreate::new(name)
            .description(description)
            .parent_id(parent);
        Ok(self.client.create_group(&body).await?)
    }

    /// Set all six policies of a group (see [`PolicySettings`] for the
    /// `null` timeout default).
    pub async fn set_group_policies(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        settings: PolicySettings,
    ) -> Result<PolicyDocument, ManagerError> {
        let policies = GroupPolicies::from(settings);
        Ok(self.client.set_group_policies(group_id, &policies).await?)
    }

    /// Apply one `verb` to one identity, described fully by `item` (role,
    /// `status_reason`, `invite_email_address`), and return the resulting
    /// membership. Every single-identity helper goes through here.
    pub async fn membership_action(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        verb: BatchVerb,
        item: BatchItem,
    ) -> Result<Membership, ManagerError> {
        let group_id = group_id.into();
        let identity_id = item.identity_id;
        let actions = BatchMembershipActions::new().with_item(verb.clone(), item);
        let result = self
            .client
            .batch_membership_action(group_id, &actions)
            .await?;
        let mut outcome = reconcile(0, &[(verb, identity_id)], result);
        if let Some(success) = outcome.successes.pop() {
            return Ok(success.membership);
        }
        match outcome.failures.pop() {
            Some(failure) => Err(failure.into()),
            // reconcile yields exactly one outcome per item; unreachable in
            // practice, but never reported as a success.
            None => Err(groups_core::GroupsError::invalid_input(
                "batch answer could not be matched to the identity",
            )
            .into()),
        }
    }

    async fn one(
        &self,
        group_id: IdArg<GroupId>,
        identity_id: IdArg<IdentityId>,
        verb: BatchVerb,
        role: Option<GroupRole>,
    ) -> Result<Membership, ManagerError> {
        let id = identity_id.get()?;
        let item = match role {
            Some(role) => BatchItem::with_role(id, role),
            None => BatchItem::new(id),
        };
        self.membership_action(group_id, verb, item).await
    }

    /// `accept`: accept an invitation for one of the caller's identities.
    pub async fn accept_invite(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(group_id.into(), identity_id.into(), BatchVerb::Accept, None)
            .await
    }

    /// `add`: make an identity an active member with `role` (globus-sdk's
    /// default is [`GroupRole::Member`]). An identity that is already active
    /// comes back as an error with code `ALREADY_ACTIVE`.
    pub async fn add_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
        role: GroupRole,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::Add,
            Some(role),
        )
        .await
    }

    /// `approve`: approve a pending join request.
    pub async fn approve_pending(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::Approve,
            None,
        )
        .await
    }

    /// `change_role`: give an active member `role`.
    pub async fn change_role(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
        role: GroupRole,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::ChangeRole,
            Some(role),
        )
        .await
    }

    /// `decline`: decline an invitation for one of the caller's identities.
    pub async fn decline_invite(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::Decline,
            None,
        )
        .await
    }

    /// `invite`: invite an identity with `role` (globus-sdk's default is
    /// [`GroupRole::Member`]). To email the invitation, use
    /// [`GroupsManager::membership_action`] with
    /// [`BatchItem::invite_email_address`].
    pub async fn invite_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
        role: GroupRole,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::Invite,
            Some(role),
        )
        .await
    }

    /// `join`: join directly with one of the caller's identities.
    pub async fn join(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(group_id.into(), identity_id.into(), BatchVerb::Join, None)
            .await
    }

    /// `leave`: leave with one of the caller's identities.
    pub async fn leave(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(group_id.into(), identity_id.into(), BatchVerb::Leave, None)
            .await
    }

    /// `reject`: reject a pending join request.
    pub async fn reject_join_request(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(group_id.into(), identity_id.into(), BatchVerb::Reject, None)
            .await
    }

    /// `remove`: remove an active or invited member.
    pub async fn remove_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(group_id.into(), identity_id.into(), BatchVerb::Remove, None)
            .await
    }

    /// `request_join`: ask to join with one of the caller's identities.
    pub async fn request_join(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> Result<Membership, ManagerError> {
        self.one(
            group_id.into(),
            identity_id.into(),
            BatchVerb::RequestJoin,
            None,
        )
        .await
    }
}
