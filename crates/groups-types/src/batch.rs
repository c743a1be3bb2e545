//! The batch membership call (`POST /v2/groups/{group_id}`): the request
//! payload [`BatchMembershipActions`], its result [`BatchMembershipResult`],
//! and [`AllowedActions`].

use std::collections::HashSet;

use crate::{BatchVerb, GroupRole, IdentityId, Membership, Nullable};

/// Defines a model with one field per batch verb, plus accessors by verb.
macro_rules! per_verb_model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident of $item:ty, $what:literal;
        $( $(#[$emeta:meta])* $ekind:ident $efield:ident : $ety:ty = $ekey:literal, )*
    ) => {
        model! {
            $(#[$meta])*
            pub struct $name {
                #[doc = concat!("`accept`: ", $what)]
                list accept: Vec<$item> = "accept",
                #[doc = concat!("`add`: ", $what)]
                list add: Vec<$item> = "add",
                #[doc = concat!("`approve`: ", $what)]
                list approve: Vec<$item> = "approve",
                #[doc = concat!("`change_role`: ", $what)]
                list change_role: Vec<$item> = "change_role",
                #[doc = concat!("`decline`: ", $what)]
                list decline: Vec<$item> = "decline",
                #[doc = concat!("`invite`: ", $what)]
                list invite: Vec<$item> = "invite",
                #[doc = concat!("`join`: ", $what)]
                list join: Vec<$item> = "join",
                #[doc = concat!("`leave`: ", $what)]
                list leave: Vec<$item> = "leave",
                #[doc = concat!("`reject`: ", $what)]
                list reject: Vec<$item> = "reject",
                #[doc = concat!("`remove`: ", $what)]
                list remove: Vec<$item> = "remove",
                #[doc = concat!("`request_join`: ", $what)]
                list request_join: Vec<$item> = "request_join",
                $( $(#[$emeta])* $ekind $efield : $ety = $ekey, )*
            }
        }

        impl $name {
            /// The field of a known verb; `None` for an unknown verb.
            pub fn field(&self, verb: &BatchVerb) -> Option<&Nullable<Vec<$item>>> {
                Some(match verb {
                    BatchVerb::Accept => &self.accept,
                    BatchVerb::Add => &self.add,
                    BatchVerb::Approve => &self.approve,
                    BatchVerb::ChangeRole => &self.change_role,
                    BatchVerb::Decline => &self.decline,
                    BatchVerb::Invite => &self.invite,
                    BatchVerb::Join => &self.join,
                    BatchVerb::Leave => &self.leave,
                    BatchVerb::Reject => &self.reject,
                    BatchVerb::Remove => &self.remove,
                    BatchVerb::RequestJoin => &self.request_join,
                    BatchVerb::Unknown(_) => return None,
                })
            }

            /// The mutable field of a known verb; `None` for an unknown verb.
            pub fn field_mut(&mut self, verb: &BatchVerb) -> Option<&mut Nullable<Vec<$item>>> {
                Some(match verb {
                    BatchVerb::Accept => &mut self.accept,
                    BatchVerb::Add => &mut self.add,
                    BatchVerb::Approve => &mut self.approve,
                    BatchVerb::ChangeRole => &mut self.change_role,
                    BatchVerb::Decline => &mut self.decline,
                    BatchVerb::Invite => &mut self.invite,
                    BatchVerb::Join => &mut self.join,
                    BatchVerb::Leave => &mut self.leave,
                    BatchVerb::Reject => &mut self.reject,
                    BatchVerb::Remove => &mut self.remove,
                    BatchVerb::RequestJoin => &mut self.request_join,
                    BatchVerb::Unknown(_) => return None,
                })
            }

            /// The list under `verb` (empty when absent, null or unknown).
            pub fn get(&self, verb: &BatchVerb) -> &[$item] {
                self.field(verb)
                    .and_then(|f| f.value())
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            }

            /// Every `(verb, item)` pair of the known verbs, in wire order.
            pub fn iter(&self) -> impl Iterator<Item = (BatchVerb, &$item)> + '_ {
                BatchVerb::ALL
                    .iter()
                    .flat_map(move |v| self.get(v).iter().map(move |i| (v.clone(), i)))
            }
        }
    };
}

model! {
    /// One identity in a batch request.
    ///
    /// `role` applies to `add`, `invite` and `change_role`;
    /// `status_reason` to the status-changing verbs; `invite_email_address`
    /// to `invite`.
    pub struct BatchItem {
        /// The target identity.
        req identity_id: IdentityId = "identity_id",
        /// The role (the service defaults to `member`).
        opt role: GroupRole = "role",
        /// Why the status changes; shown to the member.
        opt status_reason: String = "status_reason",
        /// Email the invitation to this address.
        opt invite_email_address: String = "invite_email_address",
    }
}

impl BatchItem {
    /// An item naming only the identity.
    pub fn new(identity_id: IdentityId) -> Self {
        BatchItem {
            identity_id,
            ..BatchItem::default()
        }
    }

    /// An item with a role.
    pub fn with_role(identity_id: IdentityId, role: GroupRole) -> Self {
        BatchItem {
            identity_id,
            role: Nullable::Value(role),
            ..BatchItem::default()
        }
    }

    /// Set the status reason.
    pub fn status_reason(mut self, reason: impl Into<String>) -> Self {
        self.status_reason = Nullable::Value(reason.into());
        self
    }

    /// Set the address the invitation is emailed to.
    pub fn invite_email_address(mut self, email: impl Into<String>) -> Self {
        self.invite_email_address = Nullable::Value(email.into());
        self
    }
}

per_verb_model! {
    /// The body of the batch membership call (`GroupMembershipPostAction`).
    ///
    /// Built with chainable methods named as in globus-sdk. Every method
    /// takes anything that yields identity ids: one id, an array, a `Vec`,
    /// an iterator. A single id is always one identity (globus-sdk's
    /// `change_roles` splits a bare string into characters; this cannot).
    ///
    /// ```
    /// use groups_types::{BatchMembershipActions, GroupRole, IdentityId};
    ///
    /// let alice: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse()?;
    /// let bob: IdentityId = "508e5ef6-cb9b-11e5-abe1-431ce3f42be1".parse()?;
    /// let actions = BatchMembershipActions::new()
    ///     .add_members([alice], GroupRole::Admin)
    ///     .change_roles(GroupRole::Manager, bob);
    /// assert_eq!(actions.len(), 2);
    /// assert!(actions.duplicate_identities().is_empty());
    /// let body = serde_json::to_value(&actions).unwrap();
    /// assert_eq!(body["change_role"][0]["role"], "manager");
    /// # Ok::<(), groups_types::IdParseError>(())
    /// ```
    pub struct BatchMembershipActions of BatchItem, "the identities to act on.";
}

impl BatchMembershipActions {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append `item` under `verb`. Items under an unknown verb are kept in
    /// `extra` so they still reach the service.
    pub fn push(&mut self, verb: &BatchVerb, item: BatchItem) -> &mut Self {
        match self.field_mut(verb) {
            Some(field) => match field.value_mut() {
                Some(list) => list.push(item),
                None => *field = Nullable::Value(vec![item]),
            },
            None => {
                let value = serde_json::to_value(&item).unwrap_or(serde_json::Value::Null);
                let entry = self
                    .extra
                    .entry(verb.as_str().to_owned())
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                if let serde_json::Value::Array(list) = entry {
                    list.push(value);
                } else {
                    *entry = serde_json::Value::Array(vec![value]);
                }
            }
        }
        self
    }

    fn extend_with(
        mut self,
        verb: BatchVerb,
        ids: impl IntoIterator<Item = IdentityId>,
        make: impl Fn(IdentityId) -> BatchItem,
    ) -> Self {
        for id in ids {
            self.push(&verb, make(id));
        }
        self
    }

    /// `accept`: accept invitations for the caller's own identities.
    pub fn accept_invites(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Accept, ids, BatchItem::new)
    }

    /// `add`: add identities as active members with `role`.
    pub fn add_members(self, ids: impl IntoIterator<Item = IdentityId>, role: GroupRole) -> Self {
        self.extend_with(BatchVerb::Add, ids, |id| {
            BatchItem::with_role(id, role.clone())
        })
    }

    /// `approve`: approve pending join requests.
    pub fn approve_pending(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Approve, ids, BatchItem::new)
    }

    /// `change_role`: give active members `role` (argument order as in globus-sdk).
    pub fn change_roles(self, role: GroupRole, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::ChangeRole, ids, |id| {
            BatchItem::with_role(id, role.clone())
        })
    }

    /// `decline`: decline invitations for the caller's own identities.
    pub fn decline_invites(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Decline, ids, BatchItem::new)
    }

    /// `invite`: invite identities with `role`.
    pub fn invite_members(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
        role: GroupRole,
    ) -> Self {
        self.extend_with(BatchVerb::Invite, ids, |id| {
            BatchItem::with_role(id, role.clone())
        })
    }

    /// `join`: join directly with the caller's own identities.
    pub fn join(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Join, ids, BatchItem::new)
    }

    /// `leave`: leave with the caller's own identities.
    pub fn leave(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Leave, ids, BatchItem::new)
    }

    /// `reject`: reject pending join requests.
    pub fn reject_join_requests(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Reject, ids, BatchItem::new)
    }

    /// `remove`: remove active or invited members.
    pub fn remove_members(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::Remove, ids, BatchItem::new)
    }

    /// `request_join`: ask to join with the caller's own identities.
    pub fn request_join(self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.extend_with(BatchVerb::RequestJoin, ids, BatchItem::new)
    }

    /// Add a fully specified item (for `status_reason` or
    /// `invite_email_address`), chainable.
    pub fn with_item(mut self, verb: BatchVerb, item: BatchItem) -> Self {
        self.push(&verb, item);
        self
    }

    /// Number of items across the known verbs.
    pub fn len(&self) -> usize {
        BatchVerb::ALL.iter().map(|v| self.get(v).len()).sum()
    }

    /// `true` when no known verb has an item and no unknown verb is present.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.extra.is_empty()
    }

    /// The verbs that carry at least one item, in wire order.
    pub fn verbs(&self) -> Vec<BatchVerb> {
        BatchVerb::ALL
            .iter()
            .filter(|v| !self.get(v).is_empty())
            .cloned()
            .collect()
    }

    /// Identities that appear more than once, across verbs or within one,
    /// each listed once in order of its second appearance. The service
    /// rejects the whole request when this is not empty.
    pub fn duplicate_identities(&self) -> Vec<IdentityId> {
        // Most batches are small (the manager sends one identity per
        // call): compare pairwise there, with no hashing and no allocation.
        const PAIRWISE_UP_TO: usize = 16;
        let len = self.len();
        if len <= PAIRWISE_UP_TO {
            let mut ids = [IdentityId::from_uuid(uuid::Uuid::nil()); PAIRWISE_UP_TO];
            for (slot, (_, item)) in ids.iter_mut().zip(self.iter()) {
                *slot = item.identity_id;
            }
            let ids = &ids[..len];
            let mut dups = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                // Reported at its second appearance, once.
                let earlier = ids[..i].iter().filter(|x| *x == id).count();
                if earlier == 1 {
                    dups.push(*id);
                }
            }
            return dups;
        }
        let mut seen = HashSet::with_capacity(len);
        let mut reported = HashSet::new();
        let mut dups = Vec::new();
        for (_, item) in self.iter() {
            if !seen.insert(item.identity_id) && reported.insert(item.identity_id) {
                dups.push(item.identity_id);
            }
        }
        dups
    }
}

model! {
    /// A per-identity failure in a batch result (`MembershipError`).
    pub struct MembershipError {
        /// The identity the item named (kept as sent: it may not be a UUID).
        req identity_id: String = "identity_id",
        /// A machine-readable code such as `ALREADY_ACTIVE`. Treat it as an
        /// open set of values.
        req code: String = "code",
        /// A human-readable explanation.
        opt detail: String = "detail",
    }
}

per_verb_model! {
    /// Per-verb failures of a batch call (`GroupMembershipPostActionErrors`).
    pub struct BatchErrors of MembershipError, "the identities that failed.";
}

per_verb_model! {
    /// The result of the batch call (`GroupMembershipPostActionResponse`).
    ///
    /// The service answers 200 even when some identities failed: check
    /// [`BatchMembershipResult::failures`].
    ///
    /// ```
    /// use groups_types::{BatchMembershipResult, BatchVerb};
    ///
    /// let body = r#"{"add": [], "errors": {"add": [{"code": "ALREADY_ACTIVE",
    ///   "detail": "already active", "identity_id": "c699d42e-d274-11e5-bf75-1fc5bf53bb24"}]}}"#;
    /// let result: BatchMembershipResult = serde_json::from_str(body).unwrap();
    /// let failures: Vec<_> = result.failures().collect();
    /// assert_eq!(failures.len(), 1);
    /// assert_eq!(failures[0].0, BatchVerb::Add);
    /// assert_eq!(failures[0].1.code, "ALREADY_ACTIVE");
    /// ```
    pub struct BatchMembershipResult of Membership, "the resulting memberships of the identities that succeeded.";
        /// Per-verb failures; absent when everything succeeded.
        opt errors: BatchErrors = "errors",
}

impl BatchMembershipResult {
    /// The failures of `verb`.
    pub fn errors_for(&self, verb: &BatchVerb) -> &[MembershipError] {
        self.errors.value().map(|e| e.get(verb)).unwrap_or(&[])
    }

    /// Every `(verb, error)` pair, in wire order.
    pub fn failures(&self) -> impl Iterator<Item = (BatchVerb, &MembershipError)> + '_ {
        self.errors.value().into_iter().flat_map(|e| e.iter())
    }

    /// `true` when no identity failed.
    pub fn is_complete_success(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Every `(verb, membership)` pair of the successes, in wire order.
    pub fn successes(&self) -> impl Iterator<Item = (BatchVerb, &Membership)> + '_ {
        self.iter()
    }
}

per_verb_model! {
    /// Which of the caller's identities may perform each verb on a group
    /// (`AllowedActionsModel`, with `include=allowed_actions`).
    pub struct AllowedActions of IdentityId, "the caller's identities that may perform it.";
}

impl AllowedActions {
    /// `true` when at least one of the caller's identities may perform `verb`.
    pub fn allows(&self, verb: &BatchVerb) -> bool {
        !self.get(verb).is_empty()
    }
}
