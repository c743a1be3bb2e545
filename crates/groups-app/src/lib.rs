//! Apps for the Globus Groups SDK, the way globus-sdk's `GlobusApp` works:
//! an app knows its client, the scopes it needs on each resource server and
//! where its tokens live, and hands out Groups clients whose tokens come
//! from (and go back to) that storage.
//!
//! | module | what |
//! | --- | --- |
//! | [`user_app`] | [`UserApp`], [`UserAppBuilder`]: a user who logs in (native client, or confidential with a secret); login, validation, renewal, consent redrive, logout |
//! | [`client_app`] | [`ClientApp`]: a confidential client's own tokens, by client credentials |
//! | [`login_flow`] | the [`LoginFlow`] trait, [`CommandLineLoginFlow`], [`LocalServerLoginFlow`] with its [`BrowserOpener`] ([`SystemBrowser`] or any closure) |
//! | [`jwt`] | id_token verification (RS512 against Auth's JWKS, audience, issuer, expiry) |
//! | `sqlite_storage` | `SqliteTokenStorage` (feature `sqlite`): globus-sdk's SQLite database format and default path |
//! | [`storage`] | [`TokenStorage`], [`MemoryTokenStorage`], [`JsonTokenStorage`] (globus-sdk's JSON file format and default path) |
//!
//! Errors are [`AppError`]s whose [`AppErrorKind`] says what happened
//! (`LoginRequired`, `TokenExpired`, `ScopesNotMet`, `IdentityMismatch`,
//! `ConsentRequired`, `EndOfInput`, `StateMismatch`, ...). No token or
//! secret appears in any `Debug`, `Display` or error.
//!
//! A user script: the first run logs in (the URL is printed, the code read
//! from standard input), the next runs use the stored tokens.
//!
//! ```no_run
//! use groups_app::UserApp;
//!
//! # async fn run() -> Result<(), groups_app::AppError> {
//! let app = UserApp::builder("my script", "NATIVE-CLIENT-ID")
//!     .request_refresh_tokens(true)
//!     .build()?;
//! let groups = app.groups_client()?; // registers Groups' default scope
//! app.login().await?; // a no-op when the stored tokens are valid
//! for g in app.call(|| groups.get_my_groups()).await? {
//!     println!("{}", g.name);
//! }
//! # Ok(()) }
//! ```
//!
//! A service acting as itself:
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

mod claims;
pub mod client_app;
mod common;
mod error;
pub mod jwt;
pub mod login_flow;
mod provider;
#[cfg(feature = "sqlite")]
pub mod sqlite_storage;
pub mod storage;
pub mod user_app;

pub use client_app::{ClientApp, ClientAppBuilder};
pub use error::{AppError, AppErrorKind};
pub use login_flow::{
    AuthorizationCode, BrowserOpener, CommandLineLoginFlow, LocalServerLoginFlow, LoginFlow,
    LoginRequest, SystemBrowser,
};
pub use storage::{
    JsonTokenStorage, MemoryTokenStorage, StorageError, TokenStorage, TokenStorageData,
};
pub use user_app::{UserApp, UserAppBuilder};
