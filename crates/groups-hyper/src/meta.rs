//! What the core tells the transport about an attempt, for tracing.

use bytes::Bytes;
use http::Request;

/// Operation name and attempt number of one request, if the core set them.
pub(crate) struct AttemptInfo {
    pub(crate) operation: Option<&'static str>,
    pub(crate) attempt: Option<u32>,
}

impl AttemptInfo {
    pub(crate) fn of(request: &Request<Bytes>) -> Self {
        let meta = request
            .extensions()
            .get::<groups_core::transport::RequestMeta>();
        AttemptInfo {
            operation: meta.map(|m| m.operation),
            attempt: meta.map(|m| m.attempt),
        }
    }
}
