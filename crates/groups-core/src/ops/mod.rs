//! One operation per Groups endpoint: build an `http::Request`, parse an
//! `http::Response`.
//!
//! Every endpoint is defined exactly once, in [`endpoints`](self#endpoints)
//! (the `endpoints!` table in `ops/endpoints.rs`): its method, path template,
//! required arguments, list-valued query parameters, body, output type and
//! retry class. From that one definition the table generates the operation
//! struct (for people who drive the core themselves), its [`Operation`]
//! implementation, the [`GroupsClient`](crate::GroupsClient) method of the
//! same name returning a [`Call`](crate::client::Call) builder, that
//! builder's setters, and the row of [`ENDPOINTS`].
//!
//! Building validates the input first (ids, empty or ambiguous batches), so
//! bad input never reaches the wire. Every operation accepts extra
//! pass-through query parameters ([`RequestOptions::query_param`], merged
//! last so they override the operation's own) and extra headers. List
//! parameters are comma-joined.
//!
//! # Endpoints
//!
//! [`ENDPOINTS`] lists every operation with its method and path; the table
//! of the crate guide is checked against it by a test.
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::config::ClientConfig;
//! use groups_core::ops::{GetMyGroups, Operation};
//! use groups_types::MembershipStatus;
//!
//! let op = GetMyGroups::new()
//!     .statuses([MembershipStatus::Active, MembershipStatus::Invited])
//!     .query_param("extra", "1");
//! let request = op.build_request(&ClientConfig::default()).unwrap();
//! assert_eq!(
//!     request.uri(),
//!     "https://groups.api.globus.org/v2/groups/my_groups?statuses=active%2Cinvited&extra=1"
//! );
//! let response = http::Response::builder()
//!     .status(200)
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(b"[]"))
//!     .unwrap();
//! assert!(op.parse_response(response).unwrap().is_empty());
//! ```
//!
//! # Adding an endpoint
//!
//! 1. Add one entry to the `endpoints!` table in `ops/endpoints.rs`: the
//!    struct name and method name (globus-sdk's name; it is also the
//!    operation's [`NAME`](Operation::NAME) in traces), HTTP method, path
//!    template, retry class, output type, required arguments, list query
//!    parameters, body and input check.
//! 2. If its output is a new document, add the model to `groups-types`
//!    (with a fixture and a round-trip property).
//! 3. Add the route and its rule to the emulator (`groups-emulator`), which
//!    the `every_endpoint_is_served` test checks against [`ENDPOINTS`].
//! 4. Add a request/response test in `groups-core/tests/ops.rs`.
//!
//! Nothing else lists the endpoints: the client method, the builder setters
//! and the [`ENDPOINTS`] row come from the table.

use std::ops::Deref;

use bytes::Bytes;
use groups_types::{GroupId, IdParseError, IdentityId, SubscriptionId};
use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::config::ClientConfig;
use crate::error::{GroupsAPIError, GroupsError, decode_json};

mod endpoints;
mod raw;

pub use crate::encoding::{encode_path, encode_query_component};
pub use crate::operation::{HasRequestOptions, Operation, RequestOptions};
pub use endpoints::*;
pub use raw::RawRequest;

/// An id given by the caller, parsed or not yet: typed ids, UUIDs and strings
/// all convert into it, and a string that is not a UUID becomes an
/// invalid-input error when the request is built (never on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdArg<I>(Result<I, IdParseError>);

impl<I: Copy> IdArg<I> {
    /// The id, or an invalid-input error naming the unparsable input.
    pub fn get(&self) -> Result<I, GroupsError> {
        self.0
            .as_ref()
            .copied()
            .map_err(|e| GroupsError::invalid_input(e.to_string()))
    }
}

macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl From<$id> for IdArg<$id> {
            fn from(id: $id) -> Self { IdArg(Ok(id)) }
        }
        impl From<&$id> for IdArg<$id> {
            fn from(id: &$id) -> Self { IdArg(Ok(*id)) }
        }
        impl From<uuid::Uuid> for IdArg<$id> {
            fn from(id: uuid::Uuid) -> Self { IdArg(Ok(<$id>::from(id))) }
        }
        impl From<&str> for IdArg<$id> {
            fn from(s: &str) -> Self { IdArg(s.parse::<$id>()) }
        }
        impl From<String> for IdArg<$id> {
            fn from(s: String) -> Self { IdArg(s.parse::<$id>()) }
        }
        impl From<&String> for IdArg<$id> {
            fn from(s: &String) -> Self { IdArg(s.parse::<$id>()) }
        }
    )*};
}
id_args!(GroupId, IdentityId, SubscriptionId);

/// A request payload, borrowed or owned: operations accept either `&payload`
/// (nothing is copied) or `payload` by value.
#[derive(Clone, Debug)]
pub enum Payload<'a, T> {
    /// Borrowed from the caller.
    Borrowed(&'a T),
    /// Owned by the operation.
    Owned(T),
}

impl<T> Deref for Payload<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Payload::Borrowed(t) => t,
            Payload::Owned(t) => t,
        }
    }
}

impl<T> From<T> for Payload<'_, T> {
    fn from(t: T) -> Self {
        Payload::Owned(t)
    }
}

impl<'a, T> From<&'a T> for Payload<'a, T> {
    fn from(t: &'a T) -> Self {
        Payload::Borrowed(t)
    }
}

fn comma_join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(item);
    }
    s
}

/// Assemble a request: URL from base + path + merged query, default headers,
/// `Content-Type: application/json` only with a body, then extra headers.
fn assemble(
    ctx: &ClientConfig,
    method: Method,
    path: &str,
    own_query: &[(&str, String)],
    options: &RequestOptions,
    body: Option<Bytes>,
) -> Result<http::Request<Bytes>, GroupsError> {
    let mut params: Vec<(&str, &str)> = own_query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (k, v) in options.query() {
        match params.iter_mut().find(|(pk, _)| *pk == k.as_str()) {
            Some(slot) => slot.1 = v.as_str(),
            None => params.push((k.as_str(), v.as_str())),
        }
    }
    let mut query = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        encode_query_component(&mut query, k);
        query.push('=');
        encode_query_component(&mut query, v);
    }
    let uri = ctx.base_url().request_uri(path, &query).map_err(|e| {
        GroupsError::invalid_input(format!("cannot build request URL for {path:?}: {e}"))
    })?;
    let mut headers = ctx.default_headers().clone();
    if body.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    for (name, value) in options.headers() {
        headers.insert(name.clone(), value.clone());
    }
    let mut request = http::Request::new(body.unwrap_or_default());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

fn json_body<T: serde::Serialize + ?Sized>(value: &T) -> Result<Bytes, GroupsError> {
    // Room for a small body up front (a one-identity batch is ~70 bytes):
    // growing from empty would reallocate several times.
    let mut buf = Vec::with_capacity(256);
    serde_json::to_writer(&mut buf, value)
        .map(|()| Bytes::from(buf))
        .map_err(|e| GroupsError::invalid_input(format!("cannot serialize request body: {e}")))
}

/// Parse a final response: 2xx decodes into `T`, anything else is an API
/// error.
pub fn parse_json_response<T: serde::de::DeserializeOwned>(
    response: http::Response<Bytes>,
) -> Result<T, GroupsError> {
    if !response.status().is_success() {
        return Err(GroupsAPIError::from_response(response).into());
    }
    let (parts, body) = response.into_parts();
    decode_json(parts.status, &parts.headers, body)
}

/// One row of [`ENDPOINTS`]: an operation as the wire sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointInfo {
    /// The operation's (and the client method's) name, e.g. `get_group`.
    pub name: &'static str,
    /// The HTTP method, e.g. `"GET"`.
    pub method: &'static str,
    /// The path template under the base URL, e.g. `v2/groups/{group_id}`.
    pub path: &'static str,
}
