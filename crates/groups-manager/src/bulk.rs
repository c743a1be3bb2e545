//! Bulk membership actions: many identities, split into batches, with
//! progress and a complete report.
//!
//! [`GroupsManager::bulk`] starts a [`Bulk`] request. Its items are sent in
//! batches of [`BulkOptions::batch_size`] identities (default
//! [`DEFAULT_BATCH_SIZE`]), optionally several batches at a time
//! ([`BulkOptions::concurrency`]). After each batch the progress callback is
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
//!   already retried what is safe to retry (a batch `POST` is not
//!   idempotent). Its identities are listed in [`BulkReport::batch_failures`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use groups_core::ops::IdArg;
use groups_core::{GroupsClient, GroupsError, Transport};
use groups_types::{
    BatchItem, BatchMembershipActions, BatchMembershipResult, BatchVerb, GroupId, GroupRole,
    IdentityId, Membership, MembershipError, MembershipStatus,
};

use crate::error::{ManagerError, MembershipActionError};
use crate::manager::GroupsManager;
use crate::sync::SyncPlan;

/// The batch size used unless another is configured.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// How bulk calls are split and run.
///
/// ```
/// use groups_manager::BulkOptions;
/// let options = BulkOptions::default().batch_size(200).concurrency(4);
/// assert_eq!(options.get_batch_size(), 200);
/// assert_eq!(options.get_concurrency(), 4);
/// assert_eq!(BulkOptions::default().batch_size(0).get_batch_size(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkOptions {
    batch_size: usize,
    concurrency: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            concurrency: 1,
        }
    }
}

impl BulkOptions {
    /// The defaults: batches of [`DEFAULT_BATCH_SIZE`], one at a time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Identities per request (at least 1; 0 is taken as 1).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// How many batches may be in flight at once (at least 1; 0 is taken
    /// as 1). Batches of different phases of a sync plan never overlap.
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// The configured batch size.
    pub fn get_batch_size(&self) -> usize {
        self.batch_size
    }

    /// The configured concurrency.
    pub fn get_concurrency(&self) -> usize {
        self.concurrency
    }
}

/// Where a bulk call stands, passed to the progress callback after each
/// batch completes (successfully or not).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkProgress {
    /// The batch that just completed (0-based, in sending order).
    pub batch_index: usize,
    /// How many batches the call has in total.
    pub batches: usize,
    /// How many batches have completed so far, this one included.
    pub batches_done: usize,
    /// How many items (identity actions) this batch carried.
    pub batch_items: usize,
    /// Items of all completed batches.
    pub done: usize,
    /// Items of the whole call.
    pub total: usize,
    /// Successful items so far.
    pub succeeded: usize,
    /// Failed items so far (per-identity failures plus the items of failed
    /// batches).
    pub failed: usize,
    /// Whether this batch failed as a whole.
    pub batch_failed: bool,
}

/// One identity for which a bulk action succeeded.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MembershipSuccess {
    /// The verb applied.
    pub verb: BatchVerb,
    /// The batch that carried it.
    pub batch_index: usize,
    /// The membership as the service returned it, after the action.
    pub membership: Membership,
}

/// A batch whose request failed as a whole (an HTTP error status after the
/// core's retries, a transport failure, a passed deadline, ...).
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchFailure {
    /// The batch (0-based, in sending order).
    pub batch_index: usize,
    /// The `(verb, identity)` items the batch carried; none of them is known
    /// to have happened.
    pub items: Vec<(BatchVerb, IdentityId)>,
    /// Why the request failed.
    pub error: GroupsError,
}

/// An entry of a batch answer that names an identity the batch did not
/// carry (or names it a second time). Kept so that nothing the service said
/// is dropped; a correct service never produces one.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Unmatched {
    /// A success entry.
    Success {
        /// The batch.
        batch_index: usize,
        /// The verb key it was listed under.
        verb: BatchVerb,
        /// The membership.
        membership: Box<Membership>,
    },
    /// An error entry.
    Failure {
        /// The batch.
        batch_index: usize,
        /// The verb key it was listed under.
        verb: BatchVerb,
        /// The error as the service sent it (its identity may not even be a
        /// UUID).
        error: MembershipError,
    },
}

/// Everything a bulk call did, in batch order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BulkReport {
    /// Items requested.
    pub total: usize,
    /// Batches sent.
    pub batches: usize,
    /// Every identity for which the action happened.
    pub successes: Vec<MembershipSuccess>,
    /// Every identity for which the service reported a failure (or did not
    /// report anything: code [`MembershipActionError::NO_OUTCOME`]).
    pub failures: Vec<MembershipActionError>,
    /// Every batch that failed as a whole, with its identities.
    pub batch_failures: Vec<BatchFailure>,
    /// Entries of answers that matched no item sent.
    pub unmatched: Vec<Unmatched>,
}

impl BulkReport {
    /// Whether every item succeeded.
    pub fn is_complete_success(&self) -> bool {
        self.failures.is_empty() && self.batch_failures.is_empty() && self.unmatched.is_empty()
    }

    /// Number of successful items.
    pub fn succeeded(&self) -> usize {
        self.successes.len()
    }

    /// Number of failed items: per-identity failures plus the items of
    /// failed batches.
    pub fn failed(&self) -> usize {
        self.failures.len()
            + self
                .batch_failures
                .iter()
                .map(|b| b.items.len())
                .sum::<usize>()
    }

    /// Every `(verb, identity)` that did not succeed: first the items of
    /// failed batches, then the per-identity failures (each in batch order).
    /// Useful to retry just those.
    pub fn failed_items(&self) -> Vec<(BatchVerb, IdentityId)> {
        self.batch_failures
            .iter()
            .flat_map(|b| b.items.iter().cloned())
            .chain(
                self.failures
                    .iter()
                    .map(|f| (f.verb.clone(), f.identity_id)),
            )
            .collect()
    }

    /// The failures with `code`.
    pub fn failures_with_code<'a>(
        &'a self,
        code: &'a str,
    ) -> impl Iterator<Item = &'a MembershipActionError> + 'a {
        self.failures.iter().filter(move |f| f.code == code)
    }
}

impl fmt::Display for BulkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} succeeded in {} batch(es)",
            self.succeeded(),
            self.total,
            self.batches
        )?;
        if !self.failures.is_empty() {
            write!(f, "; {} identity failure(s)", self.failures.len())?;
        }
        if !self.batch_failures.is_empty() {
            write!(
                f,
                "; {} batch(es) failed as a whole ({} item(s))",
                self.batch_failures.len(),
                self.batch_failures
                    .iter()
                    .map(|b| b.items.len())
                    .sum::<usize>()
            )?;
        }
        Ok(())
    }
}

/// One item of a bulk call.
pub(crate) type Step = (BatchVerb, BatchItem);

/// A batch ready to send.
pub(crate) struct PlannedBatch {
    pub(crate) items: Vec<(BatchVerb, IdentityId)>,
    pub(crate) actions: BatchMembershipActions,
}

/// Split `steps` into batches of at most `size` items, never putting one
/// identity twice into a batch; order is kept.
pub(crate) fn chunk(steps: Vec<Step>, size: usize) -> Vec<PlannedBatch> {
    let size = size.max(1);
    let mut out = Vec::with_capacity(steps.len().div_ceil(size));
    let mut current = PlannedBatch {
        items: Vec::new(),
        actions: BatchMembershipActions::new(),
    };
    let mut seen: HashSet<IdentityId> = HashSet::new();
    for (verb, item) in steps {
        if current.items.len() >= size || seen.contains(&item.identity_id) {
            out.push(std::mem::replace(
                &mut current,
                PlannedBatch {
                    items: Vec::new(),
                    actions: BatchMembershipActions::new(),
                },
            ));
            seen.clear();
        }
        seen.insert(item.identity_id);
        current.items.push((verb.clone(), item.identity_id));
        current.actions.push(&verb, item);
    }
    if !current.items.is_empty() {
        out.push(current);
    }
    out
}

/// The outcome of one batch that the service answered, item by item.
#[derive(Debug, Default)]
pub(crate) struct Reconciled {
    pub(crate) successes: Vec<MembershipSuccess>,
    pub(crate) failures: Vec<MembershipActionError>,
    pub(crate) unmatched: Vec<Unmatched>,
}

enum Slot {
    Success(Box<Membership>),
    Failure(String, Option<String>),
}

/// Match a batch answer against the items sent: every item ends up exactly
/// once as a success or a failure, in the order sent.
pub(crate) fn reconcile(
    batch_index: usize,
    items: &[(BatchVerb, IdentityId)],
    mut result: BatchMembershipResult,
) -> Reconciled {
    let position: HashMap<IdentityId, usize> = items
        .iter()
        .enumerate()
        .map(|(i, (_, id))| (*id, i))
        .collect();
    let mut slots: Vec<Option<Slot>> = (0..items.len()).map(|_| None).collect();
    let mut out = Reconciled::default();

    for verb in BatchVerb::ALL.iter() {
        let Some(list) = result.field_mut(verb).and_then(|f| f.value_mut()) else {
            continue;
        };
        for membership in std::mem::take(list) {
            match position.get(&membership.identity_id) {
                Some(&i) if slots[i].is_none() => {
                    slots[i] = Some(Slot::Success(Box::new(membership)))
                }
                _ => out.unmatched.push(Unmatched::Success {
                    batch_index,
                    verb: verb.clone(),
                    membership: Box::new(membership),
                }),
            }
        }
    }
    for (verb, error) in result.failures() {
        let pos = error
            .identity_id
            .parse::<IdentityId>()
            .ok()
            .and_then(|id| position.get(&id).copied());
        match pos {
            Some(i) if slots[i].is_none() => {
                slots[i] = Some(Slot::Failure(
                    error.code.clone(),
                    error.detail.value().cloned(),
                ))
            }
            _ => out.unmatched.push(Unmatched::Failure {
                batch_index,
                verb,
                error: error.clone(),
            }),
        }
    }
    for ((verb, id), slot) in items.iter().zip(slots) {
        match slot {
            Some(Slot::Success(membership)) => out.successes.push(MembershipSuccess {
                verb: verb.clone(),
                batch_index,
                membership: *membership,
            }),
            Some(Slot::Failure(code, detail)) => {
                out.failures
                    .push(MembershipActionError::new(verb.clone(), *id, code, detail))
            }
            None => out.failures.push(MembershipActionError::new(
                verb.clone(),
                *id,
                MembershipActionError::NO_OUTCOME,
                Some("the service's answer did not mention this identity".to_owned()),
            )),
        }
    }
    out
}

type BatchFuture<'b> =
    Pin<Box<dyn Future<Output = Result<BatchMembershipResult, GroupsError>> + Send + 'b>>;

/// Send `batches` with at most `limit` in flight; `on_done(index, outcome)`
/// is called as each completes.
async fn run_phase<'b, T: Transport>(
    client: &'b GroupsClient<T>,
    group_id: GroupId,
    batches: &'b [PlannedBatch],
    limit: usize,
    mut on_done: impl FnMut(usize, Result<BatchMembershipResult, GroupsError>),
) {
    let mut next = 0usize;
    let mut in_flight: Vec<(usize, BatchFuture<'b>)> = Vec::with_capacity(limit);
    poll_fn(move |cx| {
        loop {
            while in_flight.len() < limit && next < batches.len() {
                let fut: BatchFuture<'b> =
                    Box::pin(client.batch_membership_action(group_id, &batches[next].actions));
                in_flight.push((next, fut));
                next += 1;
            }
            let mut completed = false;
            let mut k = 0;
            while k < in_flight.len() {
                if let Poll::Ready(outcome) = in_flight[k].1.as_mut().poll(cx) {
                    let (index, _) = in_flight.remove(k);
                    on_done(index, outcome);
                    completed = true;
                } else {
                    k += 1;
                }
            }
            if in_flight.is_empty() && next >= batches.len() {
                return Poll::Ready(());
            }
            if !completed {
                return Poll::Pending;
            }
        }
    })
    .await
}

enum BatchRecord {
    Applied(Reconciled),
    Failed(GroupsError),
}

/// The progress callback of a bulk call.
type ProgressFn<'m> = Box<dyn FnMut(&BulkProgress) + Send + 'm>;

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

    /// Apply a [`SyncPlan`] (see [`GroupsManager::sync_members`]) in its
    /// phases: first additions, invitations, approvals and rejections, then
    /// role changes that take no admin power away, then admin demotions and
    /// removals. A phase starts when the previous one has completed. The
    /// call's group is the plan's group: the group given to
    /// [`GroupsManager::bulk`] is ignored.
    pub fn apply_plan(
        mut self,
        plan: &SyncPlan,
    ) -> impl Future<Output = Result<BulkReport, ManagerError>> + 'm {
        self.group_id = IdArg::from(plan.group_id);
        self.run_gated(plan.phases(), plan.guarded_admin.is_some())
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
        self.run_gated(phases, false)
    }

    /// Run `phases` in order. With `gate_last`, the last phase is only sent
    /// if an earlier success shows an active admin; otherwise its items are
    /// reported as [`MembershipActionError::LAST_ADMIN_KEPT`] failures.
    async fn run_gated(
        self,
        phases: Vec<Vec<Step>>,
        gate_last: bool,
    ) -> Result<BulkReport, ManagerError> {
        let Bulk {
            manager,
            group_id,
            options,
            mut progress,
        } = self;
        let group_id = group_id.get()?;
        let client = manager.client();
        let phases: Vec<Vec<PlannedBatch>> = phases
            .into_iter()
            .map(|steps| chunk(steps, options.batch_size))
            .collect();
        let batch_count: usize = phases.iter().map(Vec::len).sum();
        let total: usize = phases
            .iter()
            .flat_map(|p| p.iter())
            .map(|b| b.items.len())
            .sum();

        let mut records: Vec<Option<BatchRecord>> = (0..batch_count).map(|_| None).collect();
        let mut tally = BulkProgress {
            batch_index: 0,
            batches: batch_count,
            batches_done: 0,
            batch_items: 0,
            done: 0,
            total,
            succeeded: 0,
            failed: 0,
            batch_failed: false,
        };
        let mut base = 0usize;
        let phase_count = phases.len();
        for (phase_index, phase) in phases.iter().enumerate() {
            if gate_last && phase_index + 1 == phase_count && phase_index > 0 {
                let admin_in_place = records[..base].iter().flatten().any(|r| match r {
                    BatchRecord::Applied(r) => r.successes.iter().any(|s| {
                        s.membership.role == GroupRole::Admin
                            && s.membership.status == MembershipStatus::Active
                    }),
                    BatchRecord::Failed(_) => false,
                });
                if !admin_in_place {
                    for (local, batch) in phase.iter().enumerate() {
                        let index = base + local;
                        let failures: Vec<MembershipActionError> = batch
                            .items
                            .iter()
                            .map(|(verb, id)| {
                                MembershipActionError::new(
                                    verb.clone(),
                                    *id,
                                    MembershipActionError::LAST_ADMIN_KEPT,
                                    Some("not sent: no new admin is active, and this is the last previous admin".to_owned()),
                                )
                            })
                            .collect();
                        tally.failed += failures.len();
                        tally.batch_failed = false;
                        tally.batch_index = index;
                        tally.batch_items = batch.items.len();
                        tally.batches_done += 1;
                        tally.done += batch.items.len();
                        records[index] = Some(BatchRecord::Applied(Reconciled {
                            failures,
                            ..Reconciled::default()
                        }));
                        if let Some(cb) = progress.as_mut() {
                            cb(&tally);
                        }
                    }
                    base += phase.len();
                    continue;
                }
            }
            let records = &mut records;
            let tally = &mut tally;
            let progress = &mut progress;
            run_phase(
                client,
                group_id,
                phase,
                options.concurrency,
                |local, outcome| {
                    let batch = &phase[local];
                    let index = base + local;
                    let n = batch.items.len();
                    let record = match outcome {
                        Ok(result) => {
                            let r = reconcile(index, &batch.items, result);
                            tally.succeeded += r.successes.len();
                            tally.failed += r.failures.len();
                            tally.batch_failed = false;
                            BatchRecord::Applied(r)
                        }
                        Err(error) => {
                            tally.failed += n;
                            tally.batch_failed = true;
                            BatchRecord::Failed(error)
                        }
                    };
                    records[index] = Some(record);
                    tally.batch_index = index;
                    tally.batch_items = n;
                    tally.batches_done += 1;
                    tally.done += n;
                    if let Some(cb) = progress.as_mut() {
                        cb(tally);
                    }
                },
            )
            .await;
            base += phase.len();
        }

        let mut report = BulkReport {
            total,
            batches: batch_count,
            ..BulkReport::default()
        };
        let planned = phases.into_iter().flatten();
        for (index, (record, batch)) in records.into_iter().zip(planned).enumerate() {
            match record {
                Some(BatchRecord::Applied(r)) => {
                    report.successes.extend(r.successes);
                    report.failures.extend(r.failures);
                    report.unmatched.extend(r.unmatched);
                }
                Some(BatchRecord::Failed(error)) => report.batch_failures.push(BatchFailure {
                    batch_index: index,
                    items: batch.items,
                    error,
                }),
                // run_phase completes every batch before returning.
                None => report.batch_failures.push(BatchFailure {
                    batch_index: index,
                    items: batch.items,
                    error: GroupsError::invalid_input("batch was not run"),
                }),
            }
        }
        Ok(report)
    }
}
