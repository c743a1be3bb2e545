//! The core's error parser on arbitrary error responses: any status, any
//! content type, any body. It must never panic, and what it renders must
//! stay bounded.
#![no_main]

use bytes::Bytes;
use groups_core::GroupsAPIError;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 10] = [400, 401, 403, 404, 409, 422, 429, 500, 502, 503];
const TYPES: [Option<&str>; 5] = [
    Some("application/json"),
    Some("application/problem+json"),
    Some("text/html"),
    Some("application/json; charset=utf-8"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let mut b = http::Response::builder().status(STATUSES[pick as usize % STATUSES.len()]);
    if let Some(ct) = TYPES[(pick as usize / STATUSES.len()) % TYPES.len()] {
        b = b.header("content-type", ct);
    }
    let response = b
        .body(Bytes::copy_from_slice(body))
        .expect("valid response");
    let err = GroupsAPIError::from_response(response);
    let shown = err.to_string();
    assert!(shown.len() < 4096, "Display is bounded");
    let _ = (format!("{err:?}"), err.message(), err.text());
});
