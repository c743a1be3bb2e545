//! Percent-encoding for URLs, shared by the Groups and the Auth operations.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Percent-encode `s` for a query component: unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) stay, everything else (including `,`) is `%XX`.
pub fn encode_query_component(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Percent-encode a path, keeping `/` (Python's `quote` rules).
pub fn encode_path(s: &str) -> Cow<'_, str> {
    let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
    if s.bytes().all(keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}
