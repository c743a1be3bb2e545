//! The production transport for the Globus Groups SDK: hyper 1 over
//! hyper-util's pooled client, rustls for TLS and Tokio for timers.
//!
//! # Where it sits
//!
//! `groups-core` holds everything that does not touch a socket (requests,
//! parsing, retries, deadlines) and asks a [`Transport`] to move bytes.
//! This crate supplies that transport, [`HyperTransport`], and the builder
//! that configures it, [`HyperClientBuilder`].
//!
//! # What the transport does per attempt
//!
//! - connects through a keep-alive pool (HTTP/1.1 or HTTP/2 by ALPN),
//!   verifying certificates against webpki roots, the OS store (feature
//!   `native-roots`) or a PEM bundle;
//! - enforces a connect timeout, an attempt timeout and a response size cap,
//!   and reports failures as [`TransportError`]s whose
//!   [`TransportErrorKind`] drives the core's retry decision;
//! - refuses plain `http://` except to loopback when enabled, never follows
//!   redirects, and never sends an `Authorization` header to an origin other
//!   than the configured service URLs;
//! - records one `tracing` span (`groups_http`, level DEBUG) with method,
//!   path, attempt, status and elapsed time; header values and bodies are
//!   never logged.
//!
//! # The one-line client
//!
//! ```no_run
//! # async fn run() -> Result<(), groups_core::GroupsError> {
//! // GLOBUS_SDK_ENVIRONMENT, GLOBUS_SDK_SERVICE_URL_GROUPS, GLOBUS_SDK_HTTP_TIMEOUT
//! // and GLOBUS_SDK_VERIFY_SSL are honoured as globus-sdk does.
//! let client = groups_hyper::client_from_env("an-access-token")?;
//! for group in client.get_my_groups().await? {
//!     println!("{} {}", group.id, group.name);
//! }
//! # Ok(()) }
//! ```
//!
//! Everything else (timeouts, size cap, CA bundle, HTTP/2 pool settings,
//! retry policy, overall deadline, a local emulator over plain HTTP) is on
//! [`HyperClientBuilder`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use groups_hyper::HyperClientBuilder;
//!
//! # fn run() -> Result<(), groups_hyper::BuildError> {
//! let client = HyperClientBuilder::new()
//!     .base_url("http://127.0.0.1:8080/")
//!     .allow_plain_http_loopback(true)
//!     .attempt_timeout(Duration::from_secs(5))
//!     .overall_deadline(Duration::from_secs(20))
//!     .build_with_token("emulator-token")?;
//! # Ok(()) }
//! ```
//!
//! # With Globus Auth
//!
//! A client whose token renews itself (client credentials of a
//! confidential client, or a refresh token), the token requests going
//! through the same transport and connection pool as the Groups calls:
//!
//! ```no_run
//! use groups_core::GroupsScopes;
//! use groups_hyper::HyperClientBuilder;
//!
//! # async fn run() -> Result<(), groups_core::GroupsError> {
//! let service = HyperClientBuilder::from_env()?
//!     .build_with_client_credentials("client-id", "client-secret", [GroupsScopes::ALL])?;
//! let user = HyperClientBuilder::from_env()?
//!     .on_refresh(|tokens| { /* persist tokens.first() */ let _ = tokens; })
//!     .build_with_refresh_token("native-client-id", "a-refresh-token")?;
//! let auth = HyperClientBuilder::from_env()?.build_auth_client_for(&user, "native-client-id")?;
//! let who = auth.get_identities_by_usernames(["someone@example.org"]).bearer("a-user-token").await?;
//! # let _ = (service, who); Ok(()) }
//! ```
//!
//! [`Transport`]: groups_core::transport::Transport
//! [`TransportError`]: groups_core::transport::TransportError
//! [`TransportErrorKind`]: groups_core::transport::TransportErrorKind

mod builder;
mod classify;
mod env;
mod error;
mod meta;
mod tls;
mod transport;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POOL_IDLE_TIMEOUT,
    HyperClientBuilder,
};
pub use env::VERIFY_SSL_VAR;
pub use error::{BuildError, BuildErrorKind};
pub use transport::HyperTransport;

/// The Groups client over [`HyperTransport`]: every Groups operation as a
/// method returning an awaitable [`Call`](groups_core::Call) (see
/// [`groups_core::GroupsClient`]).
pub type GroupsClient = groups_core::GroupsClient<HyperTransport>;

/// The Globus Auth client over [`HyperTransport`]: token grants, revoke,
/// introspect, userinfo and identities (see [`groups_core::AuthClient`]).
pub type AuthClient = groups_core::AuthClient<HyperTransport>;

/// A ready client from the process environment and an access token.
///
/// The Groups URL comes from `GLOBUS_SDK_SERVICE_URL_GROUPS` or
/// `GLOBUS_SDK_ENVIRONMENT` (production by default), the per-attempt timeout
/// from `GLOBUS_SDK_HTTP_TIMEOUT`, TLS verification from
/// `GLOBUS_SDK_VERIFY_SSL`; everything else has the defaults of
/// [`HyperClientBuilder`]. The token is sent as `Authorization: Bearer ..`
/// and never appears in `Debug` output, logs or errors.
///
/// Must be called where a Tokio runtime will drive the client (building it
/// needs none).
pub fn client_from_env(
    token: impl Into<groups_core::auth::SecretString>,
) -> Result<GroupsClient, groups_core::GroupsError> {
    Ok(HyperClientBuilder::from_env()?.build_with_token(token)?)
}

/// Constructors on [`GroupsClient`] itself, so the client reads
/// `GroupsClient::from_env(token)` (the type lives in `groups-core`, which
/// cannot know this transport).
///
/// ```no_run
/// use groups_hyper::{GroupsClient, GroupsClientExt};
///
/// # fn run() -> Result<(), groups_core::GroupsError> {
/// let client = GroupsClient::from_env("an-access-token")?;
/// # Ok(()) }
/// ```
pub trait GroupsClientExt: Sized + sealed::Sealed {
    /// Same as [`client_from_env`].
    fn from_env(
        token: impl Into<groups_core::auth::SecretString>,
    ) -> Result<Self, groups_core::GroupsError>;

    /// Same as [`HyperClientBuilder::new`].
    fn builder() -> HyperClientBuilder {
        HyperClientBuilder::new()
    }
}

impl GroupsClientExt for GroupsClient {
    fn from_env(
        token: impl Into<groups_core::auth::SecretString>,
    ) -> Result<Self, groups_core::GroupsError> {
        client_from_env(token)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::GroupsClient {}
}
