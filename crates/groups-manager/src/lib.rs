//! # groups-manager
//!
//! The high-level layer of the Globus Groups SDK: [`GroupsManager`] wraps a
//! [`GroupsClient`](groups_core::GroupsClient) over any
//! [`Transport`](groups_core::Transport) and offers
//!
//! * every helper of globus-sdk's `GroupsManager`: [`create_group`](GroupsManager::create_group)
//!   (always sends `parent_id`), [`set_group_policies`](GroupsManager::set_group_policies)
//!   (all six fields, timeout `null` by default), and one call per membership
//!   action ([`accept_invite`](GroupsManager::accept_invite), [`add_member`](GroupsManager::add_member),
//!   [`approve_pending`](GroupsManager::approve_pending), [`change_role`](GroupsManager::change_role),
//!   [`decline_invite`](GroupsManager::decline_invite), [`invite_member`](GroupsManager::invite_member),
//!   [`join`](GroupsManager::join), [`leave`](GroupsManager::leave),
//!   [`reject_join_request`](GroupsManager::reject_join_request), [`remove_member`](GroupsManager::remove_member),
//!   [`request_join`](GroupsManager::request_join)), each returning the resulting
//!   [`Membership`](groups_types::Membership) or an error naming the identity,
//!   code and detail: a membership that did not change is never a success;
//! * bulk calls over any number of identities ([`GroupsManager::bulk`]):
//!   batches of a configurable size, optional concurrency, a progress
//!   callback, and a [`BulkReport`] that keeps every per-identity failure and
//!   every failed batch;
//! * roster sync ([`GroupsManager::sync_members`]): plan the adds, role
//!   changes and removals that make a group match a list, as a dry run or
//!   applied; never removing the caller, never demoting the last admin; a
//!   second run plans nothing.
//!
//! It sits on `groups-core` and never depends on a particular HTTP stack:
//! `groups-hyper` supplies the usual transport, tests supply scripted ones.
//!
//! ```
//! # use std::future::Future;
//! # use bytes::Bytes;
//! # use groups_core::{AccessTokenProvider, ClientConfig, GroupsClient, Instant, Transport, TransportError};
//! use groups_manager::{GroupsManager, SyncOptions};
//! use groups_types::{GroupId, GroupRole, IdentityId};
//!
//! # /// Answers every batch call with the `add` of one identity.
//! # struct Canned;
//! # impl Transport for Canned {
//! #     fn send(&self, _r: http::Request<Bytes>)
//! #         -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
//! #         std::future::ready(Ok(http::Response::builder()
//! #             .header("content-type", "application/json")
//! #             .body(Bytes::from_static(br#"{"add": [{"group_id": "d3974728-6458-11e4-b72d-123139141556",
//! #                 "identity_id": "ae332d86-d274-11e5-b885-b31714a110e9", "username": "ada@example.org",
//! #                 "role": "manager", "status": "active"}]}"#)).unwrap()))
//! #     }
//! #     fn sleep_until(&self, _deadline: Instant) -> impl Future<Output = ()> + Send { std::future::ready(()) }
//! #     fn now(&self) -> Instant { Instant::ZERO }
//! # }
//! # let transport = Canned;
//! async fn onboard<T: groups_core::Transport>(
//!     manager: &GroupsManager<T>,
//!     group: GroupId,
//!     ada: IdentityId,
//! ) -> Result<(), groups_manager::ManagerError> {
//!     // One identity: the resulting membership, or an error with the code.
//!     let membership = manager.add_member(group, ada).role(GroupRole::Manager).await?;
//!     println!("{} is now {} ({})", membership.username, membership.role, membership.status);
//!     Ok(())
//! }
//!
//! let client = GroupsClient::new(transport, ClientConfig::default(), AccessTokenProvider::new("token")?);
//! let manager = GroupsManager::new(client);
//! let group: GroupId = "d3974728-6458-11e4-b72d-123139141556".parse()?;
//! let ada: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse()?;
//! # fn block_on<F: Future>(fut: F) -> F::Output {
//! #     let mut fut = std::pin::pin!(fut);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(onboard(&manager, group, ada))?;
//! // With a real runtime: `onboard(&manager, group, ada).await?`.
//! // Many identities: `manager.bulk(group).batch_size(500).add_members(ids, GroupRole::Member).await?`.
//! // A whole roster: `manager.sync_members(group, roster, SyncOptions::new().dry_run(true)).await?`.
//! # let _ = SyncOptions::new();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bulk;
mod engine;
mod error;
mod manager;
mod report;
pub mod sync;

pub use bulk::Bulk;
pub use engine::{BulkOptions, DEFAULT_BATCH_SIZE};
pub use error::{ManagerError, MembershipActionError};
pub use manager::{CreateGroupCall, GroupsManager, ManagerFuture, MembershipCall, PolicySettings};
pub use report::{BatchFailure, BulkProgress, BulkReport, MembershipSuccess, Unmatched};
pub use sync::{
    MissingMembers, PlannedMember, Removal, RoleChange, SkipReason, Skipped, SyncOptions,
    SyncOutcome, SyncPlan,
};
