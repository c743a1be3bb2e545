#![doc = include_str!("../README.md")]
//!
//! # This crate
//!
//! `globus-groups` is the facade: one dependency that re-exports the layers.
//!
//! * [`types`] (`groups-types`): the data model, serde only.
//! * [`core`] (`groups-core`): the sans-IO client, usable from any executor.
//! * [`hyper`] (`groups-hyper`): the production transport over hyper and Tokio.
//! * [`manager`] (`groups-manager`): one call per membership action, bulk helpers, roster sync.

pub use groups_core as core;
pub use groups_hyper as hyper;
pub use groups_manager as manager;
pub use groups_types as types;
