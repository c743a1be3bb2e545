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
//! ```no_run
//! use groups_core::transport::Transport;
//! use groups_hyper::HyperClientBuilder;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HyperClientBuilder::from_env()?.build_transport()?;
//! let request = http::Request::get("https://groups.api.globus.org/v2/groups/my_groups")
//!     .body(bytes::Bytes::new())?;
//! let response = transport.send(request).await?;
//! println!("{}", response.status());
//! # Ok(()) }
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
pub use env::{DEFAULT_ATTEMPT_TIMEOUT, HTTP_TIMEOUT_VAR, VERIFY_SSL_VAR};
pub use error::{BuildError, BuildErrorKind};
pub use transport::HyperTransport;
