//! The API's enumerations, all open: a value this version does not know is
//! kept as `Unknown(..)` and written back byte for byte.
//!
//! ```
//! use groups_types::GroupRole;
//!
//! let role: GroupRole = serde_json::from_str("\"owner\"").unwrap();
//! assert_eq!(role, GroupRole::Unknown("owner".into()));
//! assert_eq!(serde_json::to_string(&role).unwrap(), "\"owner\"");
//! assert_eq!("admin".parse::<GroupRole>().unwrap(), GroupRole::Admin);
//! ```

open_enum! {
    /// A member's role in a group, from least to most power.
    pub enum GroupRole {
        /// An ordinary member.
        Member = "member",
        /// May add, invite, approve, reject and remove members.
        Manager = "manager",
        /// Full control of the group.
        Admin = "admin",
    }
}

#[allow(clippy::derivable_impls)] // the enum comes from a macro
impl Default for GroupRole {
    fn default() -> Self {
        GroupRole::Member
    }
}

open_enum! {
    /// Who may see a group.
    pub enum GroupVisibility {
        /// Any signed-in user.
        Authenticated = "authenticated",
        /// Only identities with an active, invited or pending membership.
        Private = "private",
    }
}

open_enum! {
    /// Who may see a group's member list.
    pub enum GroupMemberVisibility {
        /// All active members.
        Members = "members",
        /// Only active admins and managers.
        Managers = "managers",
    }
}

open_enum! {
    /// A membership field that people must fill in when they apply.
    pub enum GroupRequiredSignupFields {
        /// Institution.
        Institution = "institution",
        /// Current project name.
        CurrentProjectName = "current_project_name",
        /// Address.
        Address = "address",
        /// City.
        City = "city",
        /// State.
        State = "state",
        /// Country.
        Country = "country",
        /// Address line 1.
        Address1 = "address1",
        /// Address line 2.
        Address2 = "address2",
        /// Postal code.
        Zip = "zip",
        /// Phone number.
        Phone = "phone",
        /// Department.
        Department = "department",
        /// Field of science.
        FieldOfScience = "field_of_science",
    }
}

open_enum! {
    /// The status of a membership.
    pub enum MembershipStatus {
        /// A current member.
        Active = "active",
        /// Invited, not yet accepted.
        Invited = "invited",
        /// Asked to join, waiting for approval.
        Pending = "pending",
        /// The join request was rejected.
        Rejected = "rejected",
        /// Removed by an admin or manager.
        Removed = "removed",
        /// Left the group.
        Left = "left",
        /// Declined an invitation.
        Declined = "declined",
    }
}

open_enum! {
    /// The kind of group.
    pub enum GroupType {
        /// An ordinary group.
        Regular = "regular",
        /// A Globus Plus group.
        Plus = "plus",
    }
}

open_enum! {
    /// Optional parts of a group document, requested with `include`.
    pub enum GroupInclude {
        /// Every membership (needs permission to view them).
        Memberships = "memberships",
        /// The caller's own memberships.
        MyMemberships = "my_memberships",
        /// All six policy fields.
        Policies = "policies",
        /// Which of the caller's identities may perform each batch verb.
        AllowedActions = "allowed_actions",
        /// The ids of the direct subgroups.
        ChildIds = "child_ids",
    }
}

open_enum! {
    /// The verbs of the batch membership call.
    pub enum BatchVerb {
        /// Accept an invitation (self).
        Accept = "accept",
        /// Add an identity as an active member.
        Add = "add",
        /// Approve a pending join request.
        Approve = "approve",
        /// Change an active member's role.
        ChangeRole = "change_role",
        /// Decline an invitation (self).
        Decline = "decline",
        /// Invite an identity.
        Invite = "invite",
        /// Join directly (self).
        Join = "join",
        /// Leave the group (self).
        Leave = "leave",
        /// Reject a pending join request.
        Reject = "reject",
        /// Remove an active or invited member.
        Remove = "remove",
        /// Ask to join (self).
        RequestJoin = "request_join",
    }
}

impl BatchVerb {
    /// The eleven verbs, in alphabetical (wire) order.
    pub const ALL: [BatchVerb; 11] = [
        BatchVerb::Accept,
        BatchVerb::Add,
        BatchVerb::Approve,
        BatchVerb::ChangeRole,
        BatchVerb::Decline,
        BatchVerb::Invite,
        BatchVerb::Join,
        BatchVerb::Leave,
        BatchVerb::Reject,
        BatchVerb::Remove,
        BatchVerb::RequestJoin,
    ];
}
