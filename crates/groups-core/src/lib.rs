//! # groups-core
//!
//! The sans-IO core of the Globus Groups SDK: every Groups operation as a
//! request builder and a response parser, environments and configuration,
//! the SDK's error type, retry policy, the exchange state machine, token
//! providers, the [`Transport`] contract and the
//! runtime-agnostic [`GroupsClient`].
//!
//! It sits between `groups-types` (the data model, below) and the drivers
//! above it: `groups-hyper` supplies a real transport, `groups-manager` builds
//! on the client. The core performs no IO: no sockets, no runtime, no clock,
//! no randomness. Time and jitter are arguments, so someone with their own
//! executor (another async runtime, a blocking loop, a WASM host) can use the
//! whole API through this crate alone, by supplying a way to send a request
//! and to sleep.
//!
//! | module | what |
//! | --- | --- |
//! | [`config`] | [`Environment`], [`BaseUrl`] resolution (explicit > `GLOBUS_SDK_SERVICE_URL_GROUPS` > `GLOBUS_SDK_ENVIRONMENT` > production), [`ClientConfig`] and default headers |
//! | [`scopes`] | [`GroupsScopes`], [`Scope`] |
//! | [`auth`] | [`TokenProvider`], [`AccessTokenProvider`], [`NoAuth`]; the Globus Auth half: operations, [`RefreshTokenProvider`], [`ClientCredentialsProvider`], PKCE, the authorize URL |
//! | [`error`] | [`GroupsError`], [`GroupsAPIError`], [`DecodeError`] |
//! | [`operation`] | the [`Operation`] contract every endpoint implements |
//! | [`ops`] | the endpoint table: one [`Operation`] per endpoint, defined once, plus [`RawRequest`](ops::RawRequest) |
//! | [`retry`] | [`RetryPolicy`] and its decision function |
//! | [`exchange`] | [`Exchange`]: `poll_action(now) -> Send / Wait / Done` |
//! | [`auth_client`] | [`AuthClient`]: the Globus Auth operations over any transport, on the client machinery |
//! | [`client`] | [`GroupsClient`]: the methods users call, each returning a [`Call`] builder |
//! | [`transport`] | the [`Transport`] trait a runtime implements |
//! | `test_util` | feature `test-util`: a scripted transport on a simulated clock and a tiny executor, for tests |
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::{ClientConfig, Operation};
//! use groups_core::ops::GetGroup;
//! use groups_types::{GroupId, GroupInclude};
//!
//! let id: GroupId = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01".parse().unwrap();
//! let op = GetGroup::new(id).include([GroupInclude::Memberships, GroupInclude::Policies]);
//! let request = op.build_request(&ClientConfig::default()).unwrap();
//! assert_eq!(request.method(), http::Method::GET);
//! assert_eq!(
//!     request.uri(),
//!     "https://groups.api.globus.org/v2/groups/4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01?include=memberships%2Cpolicies"
//! );
//!
//! let body = std::fs::read("tests/fixtures/get_group.response.json").unwrap();
//! let response = http::Response::builder().status(200).body(Bytes::from(body)).unwrap();
//! let group = op.parse_response(response).unwrap();
//! assert_eq!(group.id, id);
//! ```

pub mod auth;
pub mod auth_client;
pub mod auth_error;
pub mod client;
pub mod config;
pub mod encoding;
pub mod error;
pub mod exchange;
pub mod operation;
pub mod ops;
pub mod retry;
pub mod scopes;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod transport;

pub use auth::{
    AccessTokenProvider, AuthError, AuthErrorKind, AuthPoll, ClientCredentialsProvider, NoAuth,
    RefreshTokenProvider, TokenProvider,
};
pub use auth_client::{AuthCall, AuthClient};
pub use client::{Call, CallFuture, GroupsClient};
pub use config::{BaseUrl, ClientConfig, Environment};
pub use error::{DecodeError, GroupsAPIError, GroupsError};
pub use exchange::{Action, Exchange};
pub use operation::Operation;
pub use retry::{Jitter, MethodClass, RetryDecision, RetryPolicy};
pub use scopes::{GroupsScopes, Scope};
pub use transport::{Instant, RequestMeta, Transport, TransportError, TransportErrorKind};

/// The data model this core speaks (re-exported).
pub use groups_types;
