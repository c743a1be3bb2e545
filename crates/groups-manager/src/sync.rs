//! Roster sync: make a group's memberships match a desired list of
//! `(identity, role)`.
//!
//! [`GroupsManager::sync_members`] reads the group with
//! `include=memberships,my_memberships`, computes a [`SyncPlan`] with the
//! pure function [`SyncPlan::compute`], and either returns it (dry run) or
//! applies it through the bulk machinery ([`Bulk::apply_plan`](crate::Bulk::apply_plan)).
//! Applying a plan and syncing again with the same list gives an empty plan.
//!
//! # How each membership is treated
//!
//! | current membership | in the desired list with role R | not in the desired list |
//! | --- | --- | --- |
//! | none, or `removed`/`left`/`rejected`/`declined` | `add` with R (or `invite`, [`MissingMembers::Invite`]) | nothing |
//! | `active` with R | nothing | `remove` ¹ |
//! | `active` with another role | `change_role` to R ² | `remove` ¹ |
//! | `invited` with R | nothing (waits for the invitee) | `remove` ¹ |
//! | `invited` with another role | skipped ([`SkipReason::InvitedWithOtherRole`]): a role can only change once the invitation is accepted; a later sync does it | `remove` ¹ |
//! | `pending` | `approve`, then `change_role` to R if the request's role differs ([`SyncOptions::approve_pending`], default on; off: skipped) | nothing, or `reject` with [`SyncOptions::reject_pending_extras`] |
//! | implicit (through a subgroup) | treated as no membership | never removed (skipped) |
//! | unknown status | skipped | skipped |
//!
//! ¹ Only with [`SyncOptions::remove_extras`] (default on), and never for
//! the caller's own identities (those in the group's `my_memberships`) or
//! identities in [`SyncOptions::protect`].
//! ² The caller's own (and protected) identities are only ever promoted,
//! never demoted: demoting yourself halfway through a sync would make the
//! rest of it fail.
//!
//! **Last admin**: the plan counts the current active admins it keeps as
//! admins. If it would demote or remove all of them:
//! * and it brings in no new admin (an `add` as admin, a promotion to admin,
//!   an approval as admin; invitations never count), the demotion or removal
//!   of the first such admin in the group's member list is dropped and
//!   reported as [`SkipReason::LastAdmin`];
//! * otherwise that admin becomes [`SyncPlan::guarded_admin`]: its step runs
//!   last, alone, and only if the earlier phases put at least one active
//!   admin in place. If none came through, it is not sent and is reported
//!   as a failure with code [`MembershipActionError::LAST_ADMIN_KEPT`](crate::MembershipActionError::LAST_ADMIN_KEPT).
//!
//! **Order**: the plan is applied in phases, each finishing before the next
//! starts: (1) `add`, `invite`, `approve`, `reject`; (2) role changes that
//! take no admin power away (promotions, and roles of just-approved
//! members); (3) admin demotions and removals; (4) the guarded admin, if
//! any. So a sync that replaces one admin with another promotes the new one
//! before demoting the old one.
//!
//! Computing the plan is O(n) in the size of the group plus the desired list
//! (hash maps; no sorting).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fmt::Write as _;
use std::future::Future;

use groups_core::Transport;
use groups_core::ops::IdArg;
use groups_types::{
    BatchItem, BatchVerb, Group, GroupId, GroupInclude, GroupRole, IdentityId, Membership,
    MembershipStatus,
};

use crate::bulk::Bulk;
use crate::engine::{BulkOptions, LastPhaseGate, Step};
use crate::error::{ManagerError, MembershipActionError};
use crate::manager::GroupsManager;
use crate::report::{BulkReport, MembershipSuccess};

/// What to do for desired identities that have no membership.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissingMembers {
    /// `add` them (active immediately). An identity whose `allow_add`
    /// preference is false, or who left the group, fails per identity.
    #[default]
    Add,
    /// `invite` them (they become active when they accept).
    Invite,
}

/// How [`GroupsManager::sync_members`] plans and applies.
///
/// ```
/// use groups_manager::{MissingMembers, SyncOptions};
/// let options = SyncOptions::new().missing(MissingMembers::Invite).remove_extras(false).dry_run(true);
/// assert!(options.dry_run);
/// assert!(!options.remove_extras);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Add or invite desired identities without a membership (default add).
    pub missing: MissingMembers,
    /// Remove active and invited members that are not desired (default
    /// true). Off: the sync only adds and changes roles.
    pub remove_extras: bool,
    /// Approve pending requests of desired identities (default true).
    pub approve_pending: bool,
    /// Reject pending requests of identities that are not desired (default
    /// false: left alone).
    pub reject_pending_extras: bool,
    /// Identities never removed or demoted, besides the caller's own.
    pub protect: HashSet<IdentityId>,
    /// Only plan; send nothing but the read (default false).
    pub dry_run: bool,
    /// Batch size and concurrency for applying; `None`: the manager's
    /// default.
    pub bulk: Option<BulkOptions>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            missing: MissingMembers::Add,
            remove_extras: true,
            approve_pending: true,
            reject_pending_extras: false,
            protect: HashSet::new(),
            dry_run: false,
            bulk: None,
        }
    }
}

impl SyncOptions {
    /// The defaults (add missing, remove extras, approve pending, apply).
    pub fn new() -> Self {
        Self::default()
    }

    /// Set [`SyncOptions::missing`].
    pub fn missing(mut self, missing: MissingMembers) -> Self {
        self.missing = missing;
        self
    }

    /// Set [`SyncOptions::remove_extras`].
    pub fn remove_extras(mut self, yes: bool) -> Self {
        self.remove_extras = yes;
        self
    }

    /// Set [`SyncOptions::approve_pending`].
    pub fn approve_pending(mut self, yes: bool) -> Self {
        self.approve_pending = yes;
        self
    }

    /// Set [`SyncOptions::reject_pending_extras`].
    pub fn reject_pending_extras(mut self, yes: bool) -> Self {
        self.reject_pending_extras = yes;
        self
    }

    /// Add identities to [`SyncOptions::protect`].
    pub fn protect(mut self, ids: impl IntoIterator<Item = IdentityId>) -> Self {
        self.protect.extend(ids);
        self
    }

    /// Set [`SyncOptions::dry_run`].
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }

    /// Set [`SyncOptions::bulk`].
    pub fn bulk(mut self, options: BulkOptions) -> Self {
        self.bulk = Some(options);
        self
    }
}

/// An identity to add or invite, with its role.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedMember {
    /// The identity.
    pub identity_id: IdentityId,
    /// Its role.
    pub role: GroupRole,
}

/// A planned role change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleChange {
    /// The member.
    pub identity_id: IdentityId,
    /// The current role.
    pub from: GroupRole,
    /// The desired role.
    pub to: GroupRole,
    /// Whether the member is approved earlier in the same plan.
    pub after_approval: bool,
}

impl RoleChange {
    /// Whether the change takes admin power away from an active admin (a
    /// pending request approved in the same plan never had it).
    pub fn demotes_admin(&self) -> bool {
        !self.after_approval && self.from == GroupRole::Admin && self.to != GroupRole::Admin
    }
}

/// A planned removal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removal {
    /// The member.
    pub identity_id: IdentityId,
    /// Its current role.
    pub role: GroupRole,
    /// Its current status (`active` or `invited`).
    pub status: MembershipStatus,
}

/// Why the plan leaves a membership alone although the desired list says
/// otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// One of the caller's own identities: never removed, never demoted.
    Caller,
    /// In [`SyncOptions::protect`]: never removed, never demoted.
    Protected,
    /// The group's last active admin.
    LastAdmin,
    /// Invited with another role; the role can change once accepted.
    InvitedWithOtherRole,
    /// A pending request, and [`SyncOptions::approve_pending`] is off.
    PendingNotApproved,
    /// An implicit membership (through the subgroup `source_group_id`);
    /// it cannot be removed from this group.
    Implicit {
        /// The subgroup that causes it.
        source_group_id: GroupId,
    },
    /// A status the manager does not know.
    UnknownStatus,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Caller => f.write_str("it is the caller's own identity"),
            SkipReason::Protected => f.write_str("it is protected"),
            SkipReason::LastAdmin => f.write_str("it is the group's last admin"),
            SkipReason::InvitedWithOtherRole => {
                f.write_str("invited with another role; change it once accepted")
            }
            SkipReason::PendingNotApproved => f.write_str("pending, and approval is off"),
            SkipReason::Implicit { source_group_id } => {
                write!(f, "implicit membership through subgroup {source_group_id}")
            }
            SkipReason::UnknownStatus => f.write_str("its status is unknown to this SDK"),
        }
    }
}

/// A membership the plan leaves alone, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The identity.
    pub identity_id: IdentityId,
    /// Its current role.
    pub role: GroupRole,
    /// Its current status.
    pub status: MembershipStatus,
    /// The desired role; `None` when the identity is not desired (it would
    /// have been removed).
    pub desired: Option<GroupRole>,
    /// Why.
    pub reason: SkipReason,
}

/// What a roster sync will do: computed by [`SyncPlan::compute`], applied by
/// [`GroupsManager::sync_members`] or [`Bulk::apply_plan`].
///
/// Lists are in a deterministic order: desired-list order for additions,
/// approvals and role changes; the group's member-list order for removals.
///
/// ```
/// use std::collections::HashSet;
/// use groups_manager::{SyncOptions, SyncPlan};
/// use groups_types::{GroupId, GroupRole, IdentityId, Membership, MembershipStatus};
///
/// let group: GroupId = "d3974728-6458-11e4-b72d-123139141556".parse().unwrap();
/// let me: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse().unwrap();
/// let old: IdentityId = "508e5ef6-cb9b-11e5-abe1-431ce3f42be1".parse().unwrap();
/// let new: IdentityId = "c699d42e-d274-11e5-bf75-1fc5bf53bb24".parse().unwrap();
/// let current = [
///     Membership::new(group, me, "me@example.org", GroupRole::Admin, MembershipStatus::Active),
///     Membership::new(group, old, "old@example.org", GroupRole::Member, MembershipStatus::Active),
/// ];
/// let caller: HashSet<IdentityId> = [me].into();
/// let plan = SyncPlan::compute(group, &current, &caller, [(new, GroupRole::Manager)], &SyncOptions::new())
///     .unwrap();
/// assert_eq!(plan.add.len(), 1);
/// assert_eq!(plan.remove.len(), 1); // `old`; `me` is the caller and is never removed
/// assert_eq!(plan.remove[0].identity_id, old);
/// assert_eq!(plan.action_count(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncPlan {
    /// The group.
    pub group_id: GroupId,
    /// Identities to `add`.
    pub add: Vec<PlannedMember>,
    /// Identities to `invite`.
    pub invite: Vec<PlannedMember>,
    /// Pending requests to `approve`.
    pub approve: Vec<IdentityId>,
    /// Pending requests to `reject`.
    pub reject: Vec<IdentityId>,
    /// Role changes.
    pub change_role: Vec<RoleChange>,
    /// Members to `remove`.
    pub remove: Vec<Removal>,
    /// Memberships left alone on purpose.
    pub skipped: Vec<Skipped>,
    /// Desired identities already as desired.
    pub unchanged: usize,
    /// The current admin whose demotion or removal (in `change_role` or
    /// `remove`) would leave no previous admin in place: it runs last, and
    /// only once a new admin is active (see the module documentation).
    pub guarded_admin: Option<IdentityId>,
}

fn role_rank(role: &GroupRole) -> Option<u8> {
    match role {
        GroupRole::Member => Some(0),
        GroupRole::Manager => Some(1),
        GroupRole::Admin => Some(2),
        _ => None,
    }
}

/// Whether `from -> to` is a known promotion (the only change allowed for
/// the caller's own identities).
fn is_promotion(from: &GroupRole, to: &GroupRole) -> bool {
    matches!((role_rank(from), role_rank(to)), (Some(a), Some(b)) if b > a)
}

fn is_implicit(m: &Membership) -> bool {
    m.source_group_id.is_value()
}

/// The group's memberships by identity (a direct membership beats an
/// implicit one), with each identity's first position in the member list.
struct Roster<'m> {
    by_id: HashMap<IdentityId, (usize, &'m Membership)>,
    order: Vec<IdentityId>,
}

impl<'m> Roster<'m> {
    fn index(current: &'m [Membership]) -> Self {
        let mut by_id: HashMap<IdentityId, (usize, &Membership)> =
            HashMap::with_capacity(current.len());
        let mut order = Vec::with_capacity(current.len());
        for (pos, m) in current.iter().enumerate() {
            match by_id.get(&m.identity_id) {
                None => {
                    by_id.insert(m.identity_id, (pos, m));
                    order.push(m.identity_id);
                }
                Some(&(first, existing)) if is_implicit(existing) && !is_implicit(m) => {
                    by_id.insert(m.identity_id, (first, m));
                }
                Some(_) => {}
            }
        }
        Roster { by_id, order }
    }

    fn membership(&self, id: &IdentityId) -> Option<&'m Membership> {
        self.by_id.get(id).map(|(_, m)| *m)
    }

    fn position(&self, id: &IdentityId) -> usize {
        self.by_id.get(id).map_or(usize::MAX, |(pos, _)| *pos)
    }
}

/// The desired roster, in the order given, repeats folded.
struct Wanted {
    roles: HashMap<IdentityId, GroupRole>,
    order: Vec<IdentityId>,
}

impl Wanted {
    fn collect(
        desired: impl IntoIterator<Item = (IdentityId, GroupRole)>,
    ) -> Result<Self, ManagerError> {
        let desired = desired.into_iter();
        let mut roles: HashMap<IdentityId, GroupRole> =
            HashMap::with_capacity(desired.size_hint().0);
        let mut order = Vec::with_capacity(desired.size_hint().0);
        for (id, role) in desired {
            match roles.get(&id) {
                None => {
                    roles.insert(id, role);
                    order.push(id);
                }
                Some(first) if *first == role => {}
                Some(first) => {
                    return Err(ManagerError::ConflictingDesiredRoles {
                        identity_id: id,
                        first: first.clone(),
                        second: role,
                    });
                }
            }
        }
        Ok(Wanted { roles, order })
    }
}

/// Which step of the plan takes away the admin the last-admin rule is
/// about.
#[derive(Clone, Copy)]
enum AdminLoss {
    /// `plan.change_role[i]` demotes it.
    Demotion(usize),
    /// `plan.remove[i]` removes it.
    Removal(usize),
}

/// Builds a [`SyncPlan`] in three passes: the desired identities, the
/// extras, then the last-admin rule.
struct Planner<'a, 'm> {
    plan: SyncPlan,
    roster: &'a Roster<'m>,
    wanted: &'a Wanted,
    caller: &'a HashSet<IdentityId>,
    options: &'a SyncOptions,
}

fn is_active_admin(role: &GroupRole, status: &MembershipStatus) -> bool {
    *status == MembershipStatus::Active && *role == GroupRole::Admin
}

impl Planner<'_, '_> {
    /// Why `id` must not lose anything: the caller's own, or protected.
    fn protection(&self, id: &IdentityId) -> Option<SkipReason> {
        if self.caller.contains(id) {
            Some(SkipReason::Caller)
        } else if self.options.protect.contains(id) {
            Some(SkipReason::Protected)
        } else {
            None
        }
    }

    fn skip(&mut self, m: &Membership, desired: Option<&GroupRole>, reason: SkipReason) {
        self.plan.skipped.push(Skipped {
            identity_id: m.identity_id,
            role: m.role.clone(),
            status: m.status.clone(),
            desired: desired.cloned(),
            reason,
        });
    }

    /// Every desired identity: add (or invite) the missing, change roles,
    /// approve pending requests.
    fn plan_desired(&mut self) {
        for id in &self.wanted.order {
            let role = &self.wanted.roles[id];
            let membership = self.roster.membership(id).filter(|m| !is_implicit(m));
            let missing = membership.is_none_or(|m| {
                matches!(
                    m.status,
                    MembershipStatus::Removed
                        | MembershipStatus::Left
                        | MembershipStatus::Rejected
                        | MembershipStatus::Declined
                )
            });
            let Some(m) = membership.filter(|_| !missing) else {
                let planned = PlannedMember {
                    identity_id: *id,
                    role: role.clone(),
                };
                match self.options.missing {
                    MissingMembers::Add => self.plan.add.push(planned),
                    MissingMembers::Invite => self.plan.invite.push(planned),
                }
                continue;
            };
            match &m.status {
                MembershipStatus::Active if m.role == *role => self.plan.unchanged += 1,
                MembershipStatus::Active => {
                    // The caller's own and protected identities are only
                    // ever promoted.
                    match self.protection(id) {
                        Some(reason) if !is_promotion(&m.role, role) => {
                            self.skip(m, Some(role), reason)
                        }
                        _ => self.plan.change_role.push(RoleChange {
                            identity_id: *id,
                            from: m.role.clone(),
                            to: role.clone(),
                            after_approval: false,
                        }),
                    }
                }
                MembershipStatus::Invited if m.role == *role => self.plan.unchanged += 1,
                MembershipStatus::Invited => {
                    self.skip(m, Some(role), SkipReason::InvitedWithOtherRole)
                }
                MembershipStatus::Pending if self.options.approve_pending => {
                    self.plan.approve.push(*id);
                    if m.role != *role {
                        self.plan.change_role.push(RoleChange {
                            identity_id: *id,
                            from: m.role.clone(),
                            to: role.clone(),
                            after_approval: true,
                        });
                    }
                }
                MembershipStatus::Pending => {
                    self.skip(m, Some(role), SkipReason::PendingNotApproved)
                }
                _ => self.skip(m, Some(role), SkipReason::UnknownStatus),
            }
        }
    }

    /// Every current membership that is not desired: remove, reject, or
    /// leave alone and say why.
    fn plan_extras(&mut self) {
        for id in &self.roster.order {
            if self.wanted.roles.contains_key(id) {
                continue;
            }
            let Some(m) = self.roster.membership(id) else {
                continue;
            };
            let options = self.options;
            if let Some(source) = m.source_group_id.value() {
                if matches!(
                    m.status,
                    MembershipStatus::Active | MembershipStatus::Invited
                ) && options.remove_extras
                {
                    let reason = SkipReason::Implicit {
                        source_group_id: *source,
                    };
                    self.skip(m, None, reason);
                }
                continue;
            }
            match &m.status {
                MembershipStatus::Active | MembershipStatus::Invited if options.remove_extras => {
                    match self.protection(id) {
                        Some(reason) => self.skip(m, None, reason),
                        None => self.plan.remove.push(Removal {
                            identity_id: *id,
                            role: m.role.clone(),
                            status: m.status.clone(),
                        }),
                    }
                }
                MembershipStatus::Pending if options.reject_pending_extras => {
                    match self.protection(id) {
                        Some(reason) => self.skip(m, None, reason),
                        None => self.plan.reject.push(*id),
                    }
                }
                MembershipStatus::Unknown(_) if options.remove_extras => {
                    self.skip(m, None, SkipReason::UnknownStatus)
                }
                _ => {}
            }
        }
    }

    /// If the plan would take away every current active admin: keep the
    /// first of them when no new admin comes in, otherwise guard it (its
    /// step runs last, once a new admin is active).
    fn guard_last_admin(&mut self) {
        let roster = self.roster;
        let admins = roster
            .order
            .iter()
            .filter_map(|id| roster.membership(id))
            .filter(|m| !is_implicit(m) && is_active_admin(&m.role, &m.status))
            .count();
        let plan = &self.plan;
        let losing = plan
            .change_role
            .iter()
            .filter(|c| c.demotes_admin())
            .count()
            + plan
                .remove
                .iter()
                .filter(|r| is_active_admin(&r.role, &r.status))
                .count();
        if admins == 0 || losing < admins {
            return;
        }
        let gaining = plan
            .add
            .iter()
            .filter(|a| a.role == GroupRole::Admin)
            .count()
            + plan
                .approve
                .iter()
                .filter(|id| self.wanted.roles[*id] == GroupRole::Admin)
                .count()
            + plan
                .change_role
                .iter()
                .filter(|c| !c.after_approval && c.to == GroupRole::Admin)
                .count();
        let Some(loss) = self.first_admin_loss() else {
            return;
        };
        if gaining == 0 {
            let (id, desired) = match loss {
                AdminLoss::Demotion(i) => {
                    let c = self.plan.change_role.remove(i);
                    (c.identity_id, Some(c.to))
                }
                AdminLoss::Removal(i) => (self.plan.remove.remove(i).identity_id, None),
            };
            if let Some(m) = roster.membership(&id) {
                self.skip(m, desired.as_ref(), SkipReason::LastAdmin);
            }
        } else {
            self.plan.guarded_admin = Some(match loss {
                AdminLoss::Demotion(i) => self.plan.change_role[i].identity_id,
                AdminLoss::Removal(i) => self.plan.remove[i].identity_id,
            });
        }
    }

    /// The admin-losing step whose identity comes first in the member list.
    fn first_admin_loss(&self) -> Option<AdminLoss> {
        let pos = |id: &IdentityId| self.roster.position(id);
        let demotion = self
            .plan
            .change_role
            .iter()
            .enumerate()
            .filter(|(_, c)| c.demotes_admin())
            .map(|(i, c)| (pos(&c.identity_id), AdminLoss::Demotion(i)));
        let removal = self
            .plan
            .remove
            .iter()
            .enumerate()
            .filter(|(_, r)| is_active_admin(&r.role, &r.status))
            .map(|(i, r)| (pos(&r.identity_id), AdminLoss::Removal(i)));
        demotion
            .chain(removal)
            .min_by_key(|(p, _)| *p)
            .map(|(_, loss)| loss)
    }
}

impl SyncPlan {
    /// An empty plan for `group_id`.
    pub fn empty(group_id: GroupId) -> Self {
        SyncPlan {
            group_id,
            add: Vec::new(),
            invite: Vec::new(),
            approve: Vec::new(),
            reject: Vec::new(),
            change_role: Vec::new(),
            remove: Vec::new(),
            skipped: Vec::new(),
            unchanged: 0,
            guarded_admin: None,
        }
    }

    /// Plan the sync of `current` (the group's memberships) to `desired`.
    ///
    /// `caller` holds the caller's own identities (never removed or
    /// demoted). A pure function: no IO, O(n). An identity desired twice
    /// with different roles is an error; twice with the same role is fine.
    pub fn compute(
        group_id: GroupId,
        current: &[Membership],
        caller: &HashSet<IdentityId>,
        desired: impl IntoIterator<Item = (IdentityId, GroupRole)>,
        options: &SyncOptions,
    ) -> Result<SyncPlan, ManagerError> {
        let roster = Roster::index(current);
        let wanted = Wanted::collect(desired)?;
        let mut planner = Planner {
            plan: SyncPlan::empty(group_id),
            roster: &roster,
            wanted: &wanted,
            caller,
            options,
        };
        planner.plan_desired();
        planner.plan_extras();
        planner.guard_last_admin();
        Ok(planner.plan)
    }

    /// Plan from a group document read with
    /// `include=memberships,my_memberships` (the identities of
    /// `my_memberships` are the caller's). Without `memberships` the error is
    /// [`ManagerError::MembershipsNotVisible`]; without `my_memberships`,
    /// [`ManagerError::CallerMembershipsUnknown`] (an empty list is fine).
    pub fn from_group(
        group: &Group,
        desired: impl IntoIterator<Item = (IdentityId, GroupRole)>,
        options: &SyncOptions,
    ) -> Result<SyncPlan, ManagerError> {
        let Some(current) = group.memberships.value() else {
            return Err(ManagerError::MembershipsNotVisible { group_id: group.id });
        };
        let Some(mine) = group.my_memberships.value() else {
            return Err(ManagerError::CallerMembershipsUnknown { group_id: group.id });
        };
        let caller: HashSet<IdentityId> = mine.iter().map(|m| m.identity_id).collect();
        SyncPlan::compute(group.id, current, &caller, desired, options)
    }

    /// Number of actions (identity-level requests) the plan will send.
    pub fn action_count(&self) -> usize {
        self.add.len()
            + self.invite.len()
            + self.approve.len()
            + self.reject.len()
            + self.change_role.len()
            + self.remove.len()
    }

    /// Whether the plan sends nothing (the group already matches, apart
    /// from what is skipped).
    pub fn is_empty(&self) -> bool {
        self.action_count() == 0
    }

    /// The plan as ordered phases of `(verb, item)` steps (see the module
    /// documentation for the order). Empty phases are left out; the
    /// guarded admin's step, if any, is alone in the last phase.
    pub fn phases(&self) -> Vec<Vec<(BatchVerb, BatchItem)>> {
        let mut grow: Vec<Step> = Vec::new();
        grow.extend(self.add.iter().map(|p| {
            (
                BatchVerb::Add,
                BatchItem::with_role(p.identity_id, p.role.clone()),
            )
        }));
        grow.extend(self.invite.iter().map(|p| {
            (
                BatchVerb::Invite,
                BatchItem::with_role(p.identity_id, p.role.clone()),
            )
        }));
        grow.extend(
            self.approve
                .iter()
                .map(|id| (BatchVerb::Approve, BatchItem::new(*id))),
        );
        grow.extend(
            self.reject
                .iter()
                .map(|id| (BatchVerb::Reject, BatchItem::new(*id))),
        );
        let role_step = |c: &RoleChange| {
            (
                BatchVerb::ChangeRole,
                BatchItem::with_role(c.identity_id, c.to.clone()),
            )
        };
        let roles: Vec<Step> = self
            .change_role
            .iter()
            .filter(|c| !c.demotes_admin())
            .map(role_step)
            .collect();
        let guarded = |id: &IdentityId| self.guarded_admin.as_ref() == Some(id);
        let mut shrink: Vec<Step> = self
            .change_role
            .iter()
            .filter(|c| c.demotes_admin() && !guarded(&c.identity_id))
            .map(role_step)
            .collect();
        shrink.extend(
            self.remove
                .iter()
                .filter(|r| !guarded(&r.identity_id))
                .map(|r| (BatchVerb::Remove, BatchItem::new(r.identity_id))),
        );
        let last: Vec<Step> = self
            .change_role
            .iter()
            .filter(|c| c.demotes_admin() && guarded(&c.identity_id))
            .map(role_step)
            .chain(
                self.remove
                    .iter()
                    .filter(|r| guarded(&r.identity_id))
                    .map(|r| (BatchVerb::Remove, BatchItem::new(r.identity_id))),
            )
            .collect();
        [grow, roles, shrink, last]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// A multi-line, human-readable description: the summary line, then one
    /// line per action and per skipped membership.
    pub fn describe(&self) -> String {
        let mut s = self.to_string();
        for p in &self.add {
            let _ = write!(s, "\n  add     {} as {}", p.identity_id, p.role);
        }
        for p in &self.invite {
            let _ = write!(s, "\n  invite  {} as {}", p.identity_id, p.role);
        }
        for id in &self.approve {
            let _ = write!(s, "\n  approve {id}");
        }
        for id in &self.reject {
            let _ = write!(s, "\n  reject  {id}");
        }
        for c in &self.change_role {
            let _ = write!(s, "\n  role    {}: {} -> {}", c.identity_id, c.from, c.to);
        }
        for r in &self.remove {
            let _ = write!(s, "\n  remove  {} ({} {})", r.identity_id, r.status, r.role);
        }
        if let Some(id) = &self.guarded_admin {
            let _ = write!(s, "\n  last    {id}: only once a new admin is active");
        }
        for k in &self.skipped {
            let _ = write!(s, "\n  keep    {}: {}", k.identity_id, k.reason);
        }
        s
    }
}

impl fmt::Display for SyncPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sync of group {}: {} to add, {} to invite, {} to approve, {} to reject, {} role change(s), {} to remove, {} left alone, {} unchanged",
            self.group_id,
            self.add.len(),
            self.invite.len(),
            self.approve.len(),
            self.reject.len(),
            self.change_role.len(),
            self.remove.len(),
            self.skipped.len(),
            self.unchanged
        )
    }
}

/// The result of [`GroupsManager::sync_members`].
#[derive(Debug)]
#[non_exhaustive]
pub struct SyncOutcome {
    /// The plan computed from the group as read.
    pub plan: SyncPlan,
    /// What applying it did; `None` for a dry run (or an empty plan, for
    /// which nothing is sent).
    pub report: Option<BulkReport>,
}

impl<T: Transport> GroupsManager<T> {
    /// Read `group_id` with `include=memberships,my_memberships` and plan
    /// the sync to `desired` (sends nothing else).
    pub fn plan_sync(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        desired: impl IntoIterator<Item = (IdentityId, GroupRole)>,
        options: &SyncOptions,
    ) -> impl Future<Output = Result<SyncPlan, ManagerError>> + '_ {
        self.read_and_plan(
            group_id.into(),
            desired.into_iter().collect(),
            options.clone(),
        )
    }

    async fn read_and_plan(
        &self,
        group_id: IdArg<GroupId>,
        desired: Vec<(IdentityId, GroupRole)>,
        options: SyncOptions,
    ) -> Result<SyncPlan, ManagerError> {
        let group = self
            .client()
            .get_group(group_id)
            .include([GroupInclude::Memberships, GroupInclude::MyMemberships])
            .await?;
        SyncPlan::from_group(&group, desired, &options)
    }

    /// Make the group's memberships match `desired`: read, plan (see the
    /// [module documentation](crate::sync) for the rules) and, unless
    /// [`SyncOptions::dry_run`], apply the plan in batches. A second run
    /// with the same list plans nothing.
    ///
    /// For progress reports while applying, use [`GroupsManager::plan_sync`]
    /// and then [`Bulk::apply_plan`](crate::Bulk::apply_plan) with
    /// [`Bulk::on_progress`](crate::Bulk::on_progress).
    pub fn sync_members(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        desired: impl IntoIterator<Item = (IdentityId, GroupRole)>,
        options: SyncOptions,
    ) -> impl Future<Output = Result<SyncOutcome, ManagerError>> + '_ {
        let planning = self.read_and_plan(
            group_id.into(),
            desired.into_iter().collect(),
            options.clone(),
        );
        async move {
            let plan = planning.await?;
            if options.dry_run || plan.is_empty() {
                return Ok(SyncOutcome { plan, report: None });
            }
            let bulk = options.bulk.unwrap_or(*self.bulk_options());
            let report = self
                .bulk(plan.group_id)
                .options(bulk)
                .apply_plan(&plan)
                .await?;
            Ok(SyncOutcome {
                plan,
                report: Some(report),
            })
        }
    }
}

/// Whether one of `successes` left an active admin in place.
fn admin_in_place(successes: &[&MembershipSuccess]) -> bool {
    successes
        .iter()
        .any(|s| is_active_admin(&s.membership.role, &s.membership.status))
}

impl<'m, T: Transport> Bulk<'m, T> {
    /// Apply a [`SyncPlan`] (see [`GroupsManager::sync_members`]) in its
    /// phases: first additions, invitations, approvals and rejections, then
    /// role changes that take no admin power away, then admin demotions and
    /// removals. A phase starts when the previous one has completed. The
    /// call's group is the plan's group: the group given to
    /// [`GroupsManager::bulk`] is ignored.
    ///
    /// With a [`SyncPlan::guarded_admin`], the last phase (that admin's
    /// step) is sent only if an earlier step made someone an active admin;
    /// otherwise it is reported as a failure with code
    /// [`MembershipActionError::LAST_ADMIN_KEPT`].
    pub fn apply_plan(
        self,
        plan: &SyncPlan,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let gate = plan.guarded_admin.is_some().then_some(LastPhaseGate {
            allow: admin_in_place,
            code: MembershipActionError::LAST_ADMIN_KEPT,
            detail: "not sent: no new admin is active, and this is the last previous admin",
        });
        self.on_group(plan.group_id).run_gated(plan.phases(), gate)
    }
}
