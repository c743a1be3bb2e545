//! What the core tells the transport about an attempt, for tracing.

use bytes::Bytes;
use http::Request;

/// Operation name, attempt number and overall deadline of one request, if
/// the core set them.
pub(crate) struct AttemptInfo {
    pub(crate) operation: Option<&'static str>,
    pub(crate) attempt: Option<u32>,
    pub(crate) deadline: Option<groups_core::Instant>,
}

impl AttemptInfo {
    pub(crate) fn of(request: &Request<Bytes>) -> Self {
        let meta = request
            .extensions()
            .get::<groups_core::transport::RequestMeta>();
        AttemptInfo {
            operation: meta.map(|m| m.operation),
            attempt: meta.map(|m| m.attempt),
            deadline: meta.and_then(|m| m.deadline),
        }
    }
}
