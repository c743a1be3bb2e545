//! Bulk membership actions: many identities, split into batches, with
//! progress and a complete report.
//!
//! [`GroupsManager::bulk`] starts a [`Bulk`] request. Its items are sent in
//! batches of [`BulkOptions::batch_size`](crate::BulkOptions::batch_size) identities (default
//! [`DEFAULT_BATCH_SIZE`](crate::DEFAULT_BATCH_SIZE)), optionally several batches at a time
//! ([`BulkOptions::concurrency`](crate::BulkOptions::concurrency)). After each batch the progress callback is
//! called with a [`BulkProgress`]. The result is a [`BulkReport`] with every
//! success, every per-identity failure (verb, identity, code, detail) and
//! every batch that failed as a whole (with the identities it covered and the
//! [`GroupsError`]); a failed batch never hides the results of the others.
//!
//! Rules:
//! * Items keep their order. A batch never names an identity twice (the
//!   service rejects such a request whole): an identity that is already in
//!   the batch being filled starts the next batch, so "approve X, then
//!   change X's role" works and runs in that order.
//! * The convenience methods ([`Bulk::add_members`] and friends) drop
//!   repeated identities (the first occurrence wins).
//! * With concurrency above 1, batches of one call may run at the same time
//!   and finish in any order; progress is reported in completion order, but
//!   the report is always in batch order, so it does not depend on timing.
//! * A batch that fails as a whole is not re-sent by the manager: the core
//!   already retried it as far as its policy allows (a batch is idempotent in
//!   effect, so 5xx answers and timeouts are retried). Its identities are
//!   listed in [`BulkReport::batch_failures`].

use std::collections::HashSet;
use std::fmt;
use std::future::Future;

use groups_core::ops::IdArg;
use groups_core::{GroupsError, Transport};
use groups_types::{BatchItem, BatchMembershipActions, BatchVerb, GroupId, GroupRole, IdentityId};

use crate::engine::{self, BulkOptions, LastPhaseGate, ProgressFn, Step};
use crate::error::ManagerError;
use crate::manager::GroupsManager;
use crate::report::{BulkProgress, BulkReport};

/// A bulk membership call being configured; finish it with one of the
/// action methods, then `.await` the [`BulkReport`].
///
/// ```
/// # use groups_manager::{GroupsManager, BulkProgress};
/// # use groups_core::Transport;
/// # use groups_types::{GroupId, GroupRole, IdentityId};
/// # async fn demo<T: Transport>(manager: &GroupsManager<T>, group: GroupId, ids: Vec<IdentityId>)
/// #     -> Result<(), groups_manager::ManagerError> {
/// let report = manager
///     .bulk(group)
///     .batch_size(250)
///     .on_progress(|p: &BulkProgress| eprintln!("{}/{} identities", p.done, p.total))
///     .add_members(ids, GroupRole::Member)
///     .await?;
/// for failure in &report.failures {
///     eprintln!("{failure}");
/// }
/// # Ok(()) }
/// ```
pub struct Bulk<'m, T> {
    manager: &'m GroupsManager<T>,
    group_id: IdArg<GroupId>,
    options: BulkOptions,
    progress: Option<ProgressFn<'m>>,
}

impl<T> fmt::Debug for Bulk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("group_id", &self.group_id)
            .field("options", &self.options)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

fn unique(ids: impl IntoIterator<Item = IdentityId>) -> Vec<IdentityId> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

impl<T: Transport> GroupsManager<T> {
    /// Start a bulk call on `group_id`, with the manager's default
    /// [`BulkOptions`].
    pub fn bulk(&self, group_id: impl Into<IdArg<GroupId>>) -> Bulk<'_, T> {
        Bulk {
            manager: self,
            group_id: group_id.into(),
            options: *self.bulk_options(),
            progress: None,
        }
    }
}

impl<'m, T: Transport> Bulk<'m, T> {
    /// Use `options` for this call.
    pub fn options(mut self, options: BulkOptions) -> Self {
        self.options = options;
        self
    }

    /// Identities per request (at least 1).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.options = self.options.batch_size(size);
        self
    }

    /// Batches in flight at once (at least 1).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.options = self.options.concurrency(limit);
        self
    }

    /// Call `callback` after each batch completes.
    pub fn on_progress(mut self, callback: impl FnMut(&BulkProgress) + Send + 'm) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// `add` every identity with `role` (repeats dropped).
    pub fn add_members(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
        role: GroupRole,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let steps = unique(ids)
            .into_iter()
            .map(|id| (BatchVerb::Add, BatchItem::with_role(id, role.clone())))
            .collect();
        self.run(vec![steps])
    }

    /// `invite` every identity with `role` (repeats dropped).
    pub fn invite_members(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
        role: GroupRole,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let steps = unique(ids)
            .into_iter()
            .map(|id| (BatchVerb::Invite, BatchItem::with_role(id, role.clone())))
            .collect();
        self.run(vec![steps])
    }

    /// `remove` every identity (repeats dropped).
    pub fn remove_members(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        self.simple(BatchVerb::Remove, ids)
    }

    /// `approve` every pending identity (repeats dropped).
    pub fn approve_pending(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        self.simple(BatchVerb::Approve, ids)
    }

    /// `reject` every pending identity (repeats dropped).
    pub fn reject_join_requests(
        self,
        ids: impl IntoIterator<Item = IdentityId>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        self.simple(BatchVerb::Reject, ids)
    }

    /// `change_role` of every identity to `role` (argument order as in
    /// globus-sdk; repeats dropped).
    pub fn change_roles(
        self,
        role: GroupRole,
        ids: impl IntoIterator<Item = IdentityId>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let steps = unique(ids)
            .into_iter()
            .map(|id| {
                (
                    BatchVerb::ChangeRole,
                    BatchItem::with_role(id, role.clone()),
                )
            })
            .collect();
        self.run(vec![steps])
    }

    /// Send a [`BatchMembershipActions`] of any size, split into batches
    /// (items in wire order of the verbs, then list order). Keys the
    /// manager does not know (unknown verbs in `extra`) are refused with an
    /// invalid-input error, since they cannot be split.
    pub fn apply(
        self,
        actions: &BatchMembershipActions,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let refused = (!actions.extra.is_empty()).then(|| {
            let keys: Vec<&str> = actions.extra.keys().map(String::as_str).collect();
            GroupsError::invalid_input(format!(
                "cannot split a batch carrying unknown keys: {}",
                keys.join(", ")
            ))
        });
        let steps: Vec<Step> = actions.iter().map(|(v, i)| (v, i.clone())).collect();
        async move {
            if let Some(err) = refused {
                return Err(err.into());
            }
            self.run(vec![steps]).await
        }
    }

    /// Send arbitrary `(verb, item)` steps in the given order (the most
    /// general form: roles, `status_reason` and `invite_email_address` per
    /// item). An identity may appear more than once; each repeat goes to a
    /// later batch.
    pub fn apply_steps(
        self,
        steps: impl IntoIterator<Item = (BatchVerb, BatchItem)>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let steps = steps.into_iter().collect();
        self.run(vec![steps])
    }

    fn simple(
        self,
        verb: BatchVerb,
        ids: impl IntoIterator<Item = IdentityId>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        let steps = unique(ids)
            .into_iter()
            .map(|id| (verb.clone(), BatchItem::new(id)))
            .collect();
        self.run(vec![steps])
    }

    fn run(
        self,
        phases: Vec<Vec<Step>>,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        self.run_gated(phases, None)
    }

    /// Run `phases` through the engine, the last one behind `gate` if any.
    pub(crate) async fn run_gated(
        self,
        phases: Vec<Vec<Step>>,
        gate: Option<LastPhaseGate>,
    ) -> Result<BulkReport, ManagerError> {
        let group_id = self.group_id.get()?;
        Ok(engine::run_phases(
            self.manager.client(),
            group_id,
            phases,
            self.options,
            self.progress,
            gate,
        )
        .await)
    }

    /// Run on `group_id` instead of the group given to
    /// [`GroupsManager::bulk`].
    pub(crate) fn on_group(mut self, group_id: GroupId) -> Self {
        self.group_id = IdArg::from(group_id);
        self
    }
}
