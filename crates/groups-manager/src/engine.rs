//! The bulk engine: splitting actions into batches, running them with
//! bounded concurrency in phases, and matching every answer to the item it
//! is about. [`Bulk`](crate::Bulk), single-identity helpers and roster sync
//! all run through here; none of them is known to it (a sync's last-admin
//! rule reaches it only as a [`LastPhaseGate`] predicate).

use std::collections::{HashMap, HashSet};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use groups_core::{GroupsClient, GroupsError, Transport};
use groups_types::{
    BatchItem, BatchMembershipActions, BatchMembershipResult, BatchVerb, GroupId, IdentityId,
    Membership,
};

use crate::error::MembershipActionError;
use crate::report::{BatchFailure, BulkProgress, BulkReport, MembershipSuccess, Unmatched};

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

/// Where each identity sits among a batch's items (a batch names an
/// identity at most once). Small batches, such as the manager's one-identity
/// calls, are scanned; hashing every id costs more there than it saves.
enum Positions<'a> {
    Scan(&'a [(BatchVerb, IdentityId)]),
    Map(HashMap<IdentityId, usize>),
}

impl<'a> Positions<'a> {
    const SCAN_UP_TO: usize = 16;

    fn new(items: &'a [(BatchVerb, IdentityId)]) -> Self {
        if items.len() <= Self::SCAN_UP_TO {
            Positions::Scan(items)
        } else {
            Positions::Map(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, (_, id))| (*id, i))
                    .collect(),
            )
        }
    }

    fn get(&self, id: &IdentityId) -> Option<usize> {
        match self {
            // The last match, as the map keeps the last of equal keys.
            Positions::Scan(items) => items.iter().rposition(|(_, x)| x == id),
            Positions::Map(map) => map.get(id).copied(),
        }
    }
}

/// Match a batch answer against the items sent: every item ends up exactly
/// once as a success or a failure, in the order sent.
pub(crate) fn reconcile(
    batch_index: usize,
    items: &[(BatchVerb, IdentityId)],
    mut result: BatchMembershipResult,
) -> Reconciled {
    let position = Positions::new(items);
    let mut slots: Vec<Option<Slot>> = (0..items.len()).map(|_| None).collect();
    let mut out = Reconciled::default();

    for verb in BatchVerb::ALL.iter() {
        let Some(list) = result.field_mut(verb).and_then(|f| f.value_mut()) else {
            continue;
        };
        for membership in std::mem::take(list) {
            match position.get(&membership.identity_id) {
                Some(i) if slots[i].is_none() => {
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
            .and_then(|id| position.get(&id));
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
                let fut: BatchFuture<'b> = client
                    .batch_membership_action(group_id, &batches[next].actions)
                    .send();
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
pub(crate) type ProgressFn<'m> = Box<dyn FnMut(&BulkProgress) + Send + 'm>;

/// A condition on the last phase of a run: it is sent only if `allow`
/// accepts the successes of the earlier phases; otherwise each of its items
/// is reported as a failure with `code` and `detail`.
pub(crate) struct LastPhaseGate {
    pub(crate) allow: fn(&[&MembershipSuccess]) -> bool,
    pub(crate) code: &'static str,
    pub(crate) detail: &'static str,
}

/// Run `phases` in order, each finishing before the next starts, and
/// report every item.
///
/// With a `gate`, the last phase (when there is more than one) is only
/// sent if the gate's predicate accepts the successes of the earlier
/// phases; otherwise its items are reported as failures with the gate's
/// code and detail, and nothing of it is sent.
pub(crate) async fn run_phases<T: Transport>(
    client: &GroupsClient<T>,
    group_id: GroupId,
    phases: Vec<Vec<Step>>,
    options: BulkOptions,
    mut progress: Option<ProgressFn<'_>>,
    gate: Option<LastPhaseGate>,
) -> BulkReport {
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
        let gate = gate
            .as_ref()
            .filter(|_| phase_index + 1 == phase_count && phase_index > 0);
        if let Some(gate) = gate {
            let earlier: Vec<&MembershipSuccess> = records[..base]
                .iter()
                .flatten()
                .filter_map(|r| match r {
                    BatchRecord::Applied(r) => Some(r.successes.iter()),
                    BatchRecord::Failed(_) => None,
                })
                .flatten()
                .collect();
            if !(gate.allow)(&earlier) {
                for (local, batch) in phase.iter().enumerate() {
                    let index = base + local;
                    let failures: Vec<MembershipActionError> = batch
                        .items
                        .iter()
                        .map(|(verb, id)| {
                            MembershipActionError::new(
                                verb.clone(),
                                *id,
                                gate.code,
                                Some(gate.detail.to_owned()),
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
            // run_phase completes every batch before returning, so this
            // would be a bug here, never the caller's or the server's.
            None => report.batch_failures.push(BatchFailure {
                batch_index: index,
                items: batch.items,
                error: GroupsError::internal("batch was not run"),
            }),
        }
    }
    report
}
