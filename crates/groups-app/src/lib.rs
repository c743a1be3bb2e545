//! Apps for the Globus Groups SDK, the way globus-sdk's `GlobusApp` works:
//! an app knows its client, the scopes it needs on each resource server and
//! where its tokens live, and hands out Groups clients whose tokens come
//! from (and go back to) that storage.
//!
//! | module | what |
//! | --- | --- |
//! | [`storage`] | [`TokenStorage`], [`MemoryTokenStorage`], [`JsonTokenStorage`] (globus-sdk's JSON file format and default path) |
//! | [`client_app`] | [`ClientApp`]: a confidential client's own tokens, by client credentials |
//!
//! ```no_run
//! use groups_app::ClientApp;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app = ClientApp::builder("my service", "CLIENT-ID", "CLIENT-SECRET").build()?;
//! let groups = app.groups_client()?;
//! for g in groups.get_my_groups().await? {
//!     println!("{}", g.name);
//! }
//! # Ok(()) }
//! ```

pub mod client_app;
mod common;
mod jwt;
pub mod storage;

pub use client_app::{ClientApp, ClientAppBuilder};
pub use common::{AppError, AppErrorKind};
pub use storage::{
    JsonTokenStorage, MemoryTokenStorage, StorageError, TokenStorage, TokenStorageData,
};
