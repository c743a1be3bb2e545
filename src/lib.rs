//! # globus-groups
//!
//! The Globus Groups SDK for Rust, in one dependency: this facade
//! re-exports the layers of the workspace.
//!
//! * [`types`] (`groups-types`): the data model, serde only.
//! * [`core`] (`groups-core`): the sans-IO client, usable from any executor.
//! * [`hyper`] (`groups-hyper`): the production transport over hyper and Tokio.
//! * [`manager`] (`groups-manager`): one call per membership action, bulk helpers.

pub use groups_core as core;
pub use groups_hyper as hyper;
pub use groups_manager as manager;
pub use groups_types as types;
