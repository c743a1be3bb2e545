#![doc = include_str!("../README.md")]
//!
//! # This crate
//!
//! `globus-groups` is the facade: one dependency that re-exports the layers
//! under names that do not shadow well-known crates.
//!
//! * [`types`] (`groups-types`): the data model, serde only.
//! * [`sansio`] (`groups-core`): the sans-IO client, usable from any executor.
//! * [`hyper_client`] (`groups-hyper`): the production transport over hyper
//!   and Tokio, and the ready-made [`GroupsClient`].
//! * [`manager`] (`groups-manager`): one call per membership action, bulk
//!   helpers, roster sync.
//! * [`prelude`]: the everyday types, for `use globus_groups::prelude::*;`.

pub use groups_core as sansio;
pub use groups_hyper as hyper_client;
pub use groups_manager as manager;
pub use groups_types as types;

pub use groups_core::{GroupsAPIError, GroupsError};
pub use groups_hyper::{GroupsClient, HyperClientBuilder, client_from_env};
pub use groups_manager::GroupsManager;

/// The everyday types: the client and its builder, the manager, the ids and
/// enums of the data model, the payloads and the errors.
///
/// ```no_run
/// use globus_groups::prelude::*;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = GroupsClient::from_env("ACCESS_TOKEN")?;
/// let mine = client.get_my_groups().statuses([MembershipStatus::Active]).await?;
/// let manager = GroupsManager::new(client);
/// if let Some(group) = mine.first() {
///     let ada: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse()?;
///     manager.add_member(group.id, ada).role(GroupRole::Manager).await?;
/// }
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use groups_core::{Environment, GroupsAPIError, GroupsError};
    pub use groups_hyper::{GroupsClient, GroupsClientExt, HyperClientBuilder, client_from_env};
    pub use groups_manager::{GroupsManager, ManagerError, PolicySettings, SyncOptions};
    pub use groups_types::{
        BatchMembershipActions, Group, GroupCreate, GroupId, GroupInclude, GroupMemberVisibility,
        GroupPolicies, GroupRole, GroupUpdate, GroupVisibility, IdentityId, Membership,
        MembershipStatus, SubscriptionId,
    };
}
