//! [`GroupsManager`]: the helpers of globus-sdk's `GroupsManager`, one call
//! per membership action, over any [`Transport`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use groups_core::ops::IdArg;
use groups_core::{GroupsClient, Transport};
use groups_types::{
    BatchItem, BatchMembershipActions, BatchVerb, Group, GroupCreate, GroupId,
    GroupMemberVisibility, GroupPolicies, GroupRequiredSignupFields, GroupRole, GroupVisibility,
    IdentityId, Membership, PolicyDocument,
};

use crate::engine::{BulkOptions, reconcile};
use crate::error::ManagerError;

/// The six policy fields, all of which
/// [`GroupsManager::set_group_policies`] sends, set by name.
///
/// Every field has the value a new group gets from the service, so only
/// the ones that differ need naming: private visibility, member list seen
/// by managers, no high assurance, no join requests, no signup fields, and
/// `authentication_assurance_timeout` sent as an explicit `null` (the
/// service then uses its default, 28800 seconds for high-assurance groups),
/// as globus-sdk's `GroupsManager.set_group_policies` does. globus-sdk's
/// `GroupPolicies` payload, by contrast, leaves out what is not set; use
/// [`GroupsClient::set_group_policies`] with a [`GroupPolicies`] for a
/// partial update.
///
/// ```
/// use groups_manager::PolicySettings;
/// use groups_types::{GroupPolicies, GroupRequiredSignupFields, GroupVisibility};
///
/// let settings = PolicySettings::new()
///     .group_visibility(GroupVisibility::Authenticated)
///     .join_requests(true)
///     .signup_fields([GroupRequiredSignupFields::Institution]);
/// let body = serde_json::to_value(GroupPolicies::from(settings)).unwrap();
/// assert_eq!(body["group_visibility"], "authenticated");
/// assert_eq!(body["group_members_visibility"], "managers");
/// assert_eq!(body["is_high_assurance"], false);
/// assert_eq!(body["authentication_assurance_timeout"], serde_json::Value::Null);
/// assert_eq!(body["signup_fields"], serde_json::json!(["institution"]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            is_high_assurance: false,
            group_visibility: GroupVisibility::Private,
            group_members_visibility: GroupMemberVisibility::Managers,
            join_requests: false,
            signup_fields: Vec::new(),
            authentication_assurance_timeout: None,
        }
    }
}

impl PolicySettings {
    /// The settings of a new group (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Set whether the group provides a high-assurance guarantee.
    pub fn high_assurance(mut self, yes: bool) -> Self {
        self.is_high_assurance = yes;
        self
    }

    /// Set who may see the group.
    pub fn group_visibility(mut self, visibility: GroupVisibility) -> Self {
        self.group_visibility = visibility;
        self
    }

    /// Set who may see the member list.
    pub fn group_members_visibility(mut self, visibility: GroupMemberVisibility) -> Self {
        self.group_members_visibility = visibility;
        self
    }

    /// Set whether users may ask to join.
    pub fn join_requests(mut self, allowed: bool) -> Self {
        self.join_requests = allowed;
        self
    }

    /// Set the fields applicants must fill in.
    pub fn signup_fields(
        mut self,
        fields: impl IntoIterator<Item = GroupRequiredSignupFields>,
    ) -> Self {
        self.signup_fields = fields.into_iter().collect();
        self
    }

    /// Members must authenticate again after `seconds`.
    pub fn authentication_assurance_timeout(mut self, seconds: i64) -> Self {
        self.authentication_assurance_timeout = Some(seconds);
        self
    }

    /// Send the timeout as `null`: the service's default applies (the
    /// initial setting).
    pub fn default_authentication_assurance_timeout(mut self) -> Self {
        self.authentication_assurance_timeout = None;
        self
    }
}

impl From<PolicySettings> for GroupPolicies {
    fn from(s: PolicySettings) -> Self {
        let policies = GroupPolicies::partial()
            .is_high_assurance(s.is_high_assurance)
            .group_visibility(s.group_visibility)
            .group_members_visibility(s.group_members_visibility)
            .join_requests(s.join_requests)
            .signup_fields(s.signup_fields);
        match s.authentication_assurance_timeout {
            Some(seconds) => policies.authentication_assurance_timeout(seconds),
            None => policies.default_authentication_assurance_timeout(),
        }
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

    /// Create a group named `name`; set its description and parent on the
    /// returned [`CreateGroupCall`], then `.await` it. `parent_id` is always
    /// sent, as `null` for a top-level group (as globus-sdk's manager does).
    ///
    /// ```no_run
    /// # async fn demo<T: groups_core::Transport>(manager: &groups_manager::GroupsManager<T>,
    /// #     parent: groups_types::GroupId) -> Result<(), groups_manager::ManagerError> {
    /// let lab = manager.create_group("Lab").description("Who may read our data").await?;
    /// let sub = manager.create_group("Lab: students").parent(lab.id).await?;
    /// # let _ = (sub, parent); Ok(()) }
    /// ```
    pub fn create_group(&self, name: impl Into<String>) -> CreateGroupCall<'_, T> {
        CreateGroupCall {
            manager: self,
            body: GroupCreate::new(name).top_level(),
        }
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
            None => Err(groups_core::GroupsError::unexpected_response(
                "batch answer could not be matched to the identity",
            )
            .into()),
        }
    }

    fn one(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
        verb: BatchVerb,
        role: Option<GroupRole>,
    ) -> MembershipCall<'_, T> {
        MembershipCall {
            manager: self,
            group_id: group_id.into(),
            identity_id: identity_id.into(),
            verb,
            role,
            status_reason: None,
            invite_email_address: None,
        }
    }

    /// `accept`: accept an invitation for one of the caller's identities.
    pub fn accept_invite(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Accept, None)
    }

    /// `add`: make an identity an active member, as a
    /// [`GroupRole::Member`] (globus-sdk's default) unless
    /// [`MembershipCall::role`] says otherwise. An identity that is already
    /// active comes back as an error with code `ALREADY_ACTIVE`.
    pub fn add_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(
            group_id,
            identity_id,
            BatchVerb::Add,
            Some(GroupRole::Member),
        )
    }

    /// `approve`: approve a pending join request.
    pub fn approve_pending(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Approve, None)
    }

    /// `change_role`: give an active member `role`.
    pub fn change_role(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
        role: GroupRole,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::ChangeRole, Some(role))
    }

    /// `decline`: decline an invitation for one of the caller's identities.
    pub fn decline_invite(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Decline, None)
    }

    /// `invite`: invite an identity, as a [`GroupRole::Member`]
    /// (globus-sdk's default) unless [`MembershipCall::role`] says
    /// otherwise. To email the invitation, set
    /// [`MembershipCall::invite_email_address`].
    pub fn invite_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(
            group_id,
            identity_id,
            BatchVerb::Invite,
            Some(GroupRole::Member),
        )
    }

    /// `join`: join directly with one of the caller's identities.
    pub fn join(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Join, None)
    }

    /// `leave`: leave with one of the caller's identities.
    pub fn leave(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Leave, None)
    }

    /// `reject`: reject a pending join request.
    pub fn reject_join_request(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Reject, None)
    }

    /// `remove`: remove an active or invited member.
    pub fn remove_member(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::Remove, None)
    }

    /// `request_join`: ask to join with one of the caller's identities.
    pub fn request_join(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        identity_id: impl Into<IdArg<IdentityId>>,
    ) -> MembershipCall<'_, T> {
        self.one(group_id, identity_id, BatchVerb::RequestJoin, None)
    }
}

/// The future of a manager call.
pub type ManagerFuture<'m, O> = Pin<Box<dyn Future<Output = Result<O, ManagerError>> + Send + 'm>>;

/// A group creation being configured: returned by
/// [`GroupsManager::create_group`]; `.await` it for the new [`Group`].
#[must_use = "a call does nothing until it is awaited"]
pub struct CreateGroupCall<'m, T> {
    manager: &'m GroupsManager<T>,
    body: GroupCreate,
}

impl<T> fmt::Debug for CreateGroupCall<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateGroupCall")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl<'m, T: Transport> CreateGroupCall<'m, T> {
    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.body = self.body.description(description);
        self
    }

    /// Create it as a subgroup of `parent` (the caller must administer it).
    pub fn parent(mut self, parent: GroupId) -> Self {
        self.body = self.body.parent_id(parent);
        self
    }

    /// Set the terms and conditions members accept.
    pub fn terms_and_conditions(mut self, terms: impl Into<String>) -> Self {
        self.body = self.body.terms_and_conditions(terms);
        self
    }

    /// The body that will be sent.
    pub fn body(&self) -> &GroupCreate {
        &self.body
    }
}

impl<'m, T: Transport> IntoFuture for CreateGroupCall<'m, T> {
    type Output = Result<Group, ManagerError>;
    type IntoFuture = ManagerFuture<'m, Group>;

    fn into_future(self) -> Self::IntoFuture {
        let CreateGroupCall { manager, body } = self;
        Box::pin(async move { Ok(manager.client.create_group(body).await?) })
    }
}

/// One membership action on one identity, being configured: returned by the
/// single-identity helpers of [`GroupsManager`]; `.await` it for the
/// resulting [`Membership`].
///
/// ```no_run
/// # async fn demo<T: groups_core::Transport>(manager: &groups_manager::GroupsManager<T>,
/// #     group: groups_types::GroupId, ada: groups_types::IdentityId)
/// #     -> Result<(), groups_manager::ManagerError> {
/// use groups_types::GroupRole;
/// manager.add_member(group, ada).await?; // as a member
/// manager.invite_member(group, ada)
///     .role(GroupRole::Manager)
///     .invite_email_address("ada@example.org")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct MembershipCall<'m, T> {
    manager: &'m GroupsManager<T>,
    group_id: IdArg<GroupId>,
    identity_id: IdArg<IdentityId>,
    verb: BatchVerb,
    role: Option<GroupRole>,
    status_reason: Option<String>,
    invite_email_address: Option<String>,
}

impl<T> fmt::Debug for MembershipCall<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MembershipCall")
            .field("group_id", &self.group_id)
            .field("identity_id", &self.identity_id)
            .field("verb", &self.verb)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> MembershipCall<'_, T> {
    /// Send the identity's role with the action (the only role-bearing
    /// verbs the service reads it for are `add`, `invite` and
    /// `change_role`).
    pub fn role(mut self, role: GroupRole) -> Self {
        self.role = Some(role);
        self
    }

    /// Send a `status_reason` with the action (shown to the identity, for
    /// example with a rejection).
    pub fn status_reason(mut self, reason: impl Into<String>) -> Self {
        self.status_reason = Some(reason.into());
        self
    }

    /// Email the invitation to this address (for `invite`).
    pub fn invite_email_address(mut self, email: impl Into<String>) -> Self {
        self.invite_email_address = Some(email.into());
        self
    }
}

impl<'m, T: Transport> IntoFuture for MembershipCall<'m, T> {
    type Output = Result<Membership, ManagerError>;
    type IntoFuture = ManagerFuture<'m, Membership>;

    fn into_future(self) -> Self::IntoFuture {
        let MembershipCall {
            manager,
            group_id,
            identity_id,
            verb,
            role,
            status_reason,
            invite_email_address,
        } = self;
        Box::pin(async move {
            let id = identity_id.get()?;
            let mut item = match role {
                Some(role) => BatchItem::with_role(id, role),
                None => BatchItem::new(id),
            };
            if let Some(reason) = status_reason {
                item = item.status_reason(reason);
            }
            if let Some(email) = invite_email_address {
                item = item.invite_email_address(email);
            }
            manager.membership_action(group_id, verb, item).await
        })
    }
}
