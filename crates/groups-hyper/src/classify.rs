//! Mapping hyper, hyper-util and rustls failures to [`TransportErrorKind`].
//!
//! Messages are built from fixed text plus the root cause's `Display` (an
//! OS error, a rustls verification error, a hyper parse error): none of them
//! carries a header value or a body.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use groups_core::transport::{TransportError, TransportErrorKind};
use http_body_util::LengthLimitError;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The next error in a chain. `io::Error::source` skips the error it wraps
/// (it returns the wrapped error's source), so look inside explicitly.
fn next_cause<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = e.downcast_ref::<io::Error>()
        && let Some(inner) = io.get_ref()
    {
        return Some(inner as &(dyn StdError + 'static));
    }
    e.source()
}

/// Every error in the chain starting at `e` (bounded, in case of a cycle).
fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |e: &&'a (dyn StdError + 'static)| next_cause(*e)).take(32)
}

fn find<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    chain(e).find_map(|e| e.downcast_ref::<T>())
}

fn root_cause(e: &(dyn StdError + 'static)) -> String {
    chain(e).last().map(ToString::to_string).unwrap_or_default()
}

/// A failure reported by the pooled client before a response head arrived.
pub(crate) fn request_error(e: hyper_util::client::legacy::Error) -> TransportError {
    let dyn_e: &(dyn StdError + 'static) = &e;
    let (kind, what) = if e.is_connect() {
        if find::<rustls::Error>(dyn_e).is_some() {
            (TransportErrorKind::Tls, "TLS handshake failed")
        } else if chain(dyn_e).any(|c| {
            c.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        }) {
            (TransportErrorKind::Connect, "connect timed out")
        } else {
            (TransportErrorKind::Connect, "could not connect")
        }
    } else if let Some(h) = find::<hyper::Error>(dyn_e) {
        if h.is_timeout() {
            (
                TransportErrorKind::Timeout,
                "timed out waiting for the response",
            )
        } else if h.is_parse() || h.is_parse_status() {
            (TransportErrorKind::Other, "malformed HTTP response")
        } else if h.is_user() {
            (TransportErrorKind::Other, "invalid request")
        } else {
            (
                TransportErrorKind::Io,
                "connection broke before the response arrived",
            )
        }
    } else {
        (TransportErrorKind::Other, "request failed")
    };
    let cause = root_cause(dyn_e);
    TransportError::new(kind, format!("{what}: {cause}")).with_source(e)
}

/// A failure while reading the response body.
pub(crate) fn body_error(e: BoxError, cap: usize) -> TransportError {
    if e.is::<LengthLimitError>() {
        return too_large(cap);
    }
    let dyn_e: &(dyn StdError + 'static) = &*e;
    let kind = match find::<hyper::Error>(dyn_e) {
        Some(h) if h.is_timeout() => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    };
    let cause = root_cause(dyn_e);
    TransportError::new(
        kind,
        format!("connection broke while reading the response body: {cause}"),
    )
    .with_source(e)
}

/// The response is (or says it is) larger than the cap.
pub(crate) fn too_large(cap: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("response body exceeds the {cap}-byte limit"),
    )
}

/// The per-attempt timeout elapsed.
pub(crate) fn attempt_timeout(limit: Duration) -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!(
            "no complete response within the {:.3} s attempt timeout",
            limit.as_secs_f64()
        ),
    )
}

/// The call's overall deadline passed during this attempt.
pub(crate) fn deadline_reached() -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        "the call's overall deadline passed before a complete response arrived",
    )
}
