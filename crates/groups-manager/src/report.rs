//! What a bulk call reports: progress after each batch, and the complete
//! [`BulkReport`] at the end.

use std::fmt;

use groups_core::GroupsError;
use groups_types::{BatchVerb, IdentityId, Membership, MembershipError};

use crate::error::MembershipActionError;

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
