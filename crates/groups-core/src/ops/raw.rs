//! The escape hatch: any request under the base URL, for endpoints the
//! service adds later.

use std::borrow::Cow;

use bytes::Bytes;
use http::Method;
use http::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::{
    HasRequestOptions, Operation, RequestOptions, assemble, encode_path, parse_json_response,
};
use crate::client::{Call, GroupsClient};
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::transport::Transport;

/// Any request: method, path relative to the base URL, optional JSON body;
/// the 2xx body comes back as JSON (`null` when empty).
///
/// The path is percent-encoded (keeping `/`). Query parameters go through
/// [`query_param`](RawRequest::query_param): a path containing `?` or `#`
/// is refused when the request is built, because encoding it would turn the
/// query into part of the path (a silent 404). An absolute URL is accepted
/// only if it starts with the configured base URL, so the token never goes
/// to another host.
///
/// ```
/// use groups_core::{ClientConfig, Operation};
/// use groups_core::ops::RawRequest;
///
/// let op = RawRequest::new(http::Method::PUT, "v2/groups/x/thing")
///     .json(&serde_json::json!({"a": 1}))
///     .query_param("dry", "true");
/// let request = op.build_request(&ClientConfig::default()).unwrap();
/// assert_eq!(request.uri(), "https://groups.api.globus.org/v2/groups/x/thing?dry=true");
/// assert_eq!(request.body().as_ref(), br#"{"a":1}"#);
///
/// let bad = RawRequest::new(http::Method::GET, "v2/groups/my_groups?statuses=active");
/// assert!(bad.build_request(&ClientConfig::default()).unwrap_err().is_invalid_input());
/// ```
#[derive(Clone, Debug)]
#[must_use = "an operation does nothing until it is run"]
pub struct RawRequest<'a> {
    method: Method,
    path: Cow<'a, str>,
    /// The serialized body, or why it could not be serialized (reported
    /// when the request is built).
    body: Option<Result<Bytes, String>>,
    options: RequestOptions,
}

impl<'a> RawRequest<'a> {
    /// A raw request without a body.
    pub fn new(method: Method, path: impl Into<Cow<'a, str>>) -> Self {
        RawRequest {
            method,
            path: path.into(),
            body: None,
            options: RequestOptions::default(),
        }
    }

    /// Send `body` as JSON (`Content-Type: application/json`). It is
    /// serialized now; a failure is reported when the request is built.
    pub fn json<B: serde::Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(
            serde_json::to_vec(body)
                .map(Bytes::from)
                .map_err(|e| e.to_string()),
        );
        self
    }

    /// Add a query parameter.
    pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.query_param(key, value);
        self
    }

    /// Add a header to this request.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.options.header(name, value);
        self
    }
}

impl HasRequestOptions for RawRequest<'_> {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

impl Operation for RawRequest<'_> {
    const NAME: &'static str = "request";
    type Output = Value;

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let path: &str = &self.path;
        let relative = if path.starts_with("http://") || path.starts_with("https://") {
            path.strip_prefix(ctx.base_url().as_str()).ok_or_else(|| {
                GroupsError::invalid_input(
                    "raw request URL is not under the configured base URL (the token is only sent there)",
                )
            })?
        } else {
            path
        };
        if let Some(c) = relative.chars().find(|c| matches!(c, '?' | '#')) {
            return Err(GroupsError::invalid_input(format!(
                "raw request path {relative:?} contains {c:?}: give the path alone and \
                 pass query parameters with .query_param(key, value)"
            )));
        }
        let body = match &self.body {
            None => None,
            Some(Ok(bytes)) => Some(bytes.clone()),
            Some(Err(e)) => {
                return Err(GroupsError::invalid_input(format!(
                    "cannot serialize request body: {e}"
                )));
            }
        };
        assemble(
            ctx,
            self.method.clone(),
            &encode_path(relative),
            &[],
            &self.options,
            body,
        )
    }

    fn parse_response(&self, response: http::Response<Bytes>) -> Result<Value, GroupsError> {
        if response.status().is_success() && response.body().iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        parse_json_response(response)
    }
}

impl<T: Transport> GroupsClient<T> {
    /// Any endpoint: method and path under the base URL; add a body with
    /// [`Call::json`] and query parameters with [`Call::query_param`]. The
    /// answer is the JSON document (`null` for an empty 2xx body).
    pub fn request<'c, 'a>(
        &'c self,
        method: Method,
        path: impl Into<Cow<'a, str>>,
    ) -> Call<'c, T, RawRequest<'a>> {
        Call::new(self, RawRequest::new(method, path))
    }
}

impl<T: Transport> Call<'_, T, RawRequest<'_>> {
    /// Send `body` as JSON.
    pub fn json<B: serde::Serialize + ?Sized>(self, body: &B) -> Self {
        self.map(|op| op.json(body))
    }
}
