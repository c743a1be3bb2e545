//! The [`Operation`] contract: what every endpoint (and any operation a
//! user writes) provides, so the client and the exchange can run it.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::retry::MethodClass;

/// One Groups endpoint: how to build its request and parse its response.
///
/// `build_request` never adds `Authorization`; the
/// [`Exchange`](crate::exchange::Exchange) adds it to every attempt.
pub trait Operation {
    /// The typed result.
    type Output;

    /// The operation's name, as globus-sdk names the method (e.g.
    /// `get_group`); transports put it in their tracing spans through
    /// [`RequestMeta`](crate::transport::RequestMeta). Every operation must
    /// name itself, so a new one cannot borrow another's name in traces.
    const NAME: &'static str;

    /// Build the request against `ctx` (base URL and default headers).
    /// Invalid input is an [`GroupsError::InvalidInput`] naming the problem.
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError>;

    /// Parse the final response: any 2xx decodes into the output (a decode
    /// error names the JSON path); any other status is an API error.
    fn parse_response(&self, response: http::Response<Bytes>) -> Result<Self::Output, GroupsError>;

    /// Whether repeating this request is safe, which decides what the
    /// retry policy may retry. The default follows the HTTP method
    /// ([`MethodClass::of`]); an operation whose POST is idempotent in
    /// effect (the batch membership call) says so.
    fn method_class(&self, request: &http::Request<Bytes>) -> MethodClass {
        MethodClass::of(request.method())
    }
}

/// Operations that carry [`RequestOptions`] (every operation of
/// [`crate::ops`]), so a [`Call`](crate::client::Call) can offer `query_param` and
/// `header` whatever the operation.
pub trait HasRequestOptions {
    /// The extra query parameters and headers.
    fn options_mut(&mut self) -> &mut RequestOptions;
}

/// Extra query parameters and headers, common to every operation.
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    query: Vec<(String, String)>,
    headers: HeaderMap,
}

impl RequestOptions {
    /// Add a pass-through query parameter. It is sent after the operation's
    /// own parameters and replaces one of the same name.
    pub fn query_param(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Add a header to this request (it overrides a default header of the
    /// same name; `Authorization` is always set by the token provider).
    pub fn header(&mut self, name: HeaderName, value: HeaderValue) -> &mut Self {
        self.headers.insert(name, value);
        self
    }

    /// The extra query parameters, in order.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}
