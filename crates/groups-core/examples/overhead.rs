//! Per-call CPU overhead of the core (build request, exchange, parse) over
//! an in-memory transport, without any network.
//!
//! `cargo run --release -p groups-core --example overhead`

use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant as Wall;

use bytes::Bytes;
use groups_core::auth::AccessTokenProvider;
use groups_core::client::GroupsClient;
use groups_core::config::ClientConfig;
use groups_core::transport::FnTransport;

const GROUP: &str = r#"{"name": "Claptrap's Rough Riders", "description": "No stairs allowed.",
  "parent_id": null, "id": "00000000-0000-1000-8000-00000000a001", "group_type": "regular",
  "enforce_session": false, "session_limit": 28800, "session_timeouts": {},
  "my_memberships": [{"group_id": "00000000-0000-1000-8000-00000000a001",
    "identity_id": "00000000-0000-1000-8000-00000000a002", "username": "claptrap@globus.org",
    "role": "member", "status": "active"}],
  "policies": {"group_visibility": "private", "group_members_visibility": "managers"}}"#;

fn main() {
    let body = Bytes::from_static(GROUP.as_bytes());
    let transport = FnTransport::new(move |_req: http::Request<Bytes>| {
        Ok(http::Response::builder()
            .header("content-type", "application/json")
            .body(body.clone())
            .unwrap())
    });
    let token = AccessTokenProvider::new("tok").unwrap();
    let client = GroupsClient::new(transport, ClientConfig::default(), token);
    let mut cx = Context::from_waker(Waker::noop());
    let n = 200_000;
    for round in 0..2 {
        let start = Wall::now();
        for _ in 0..n {
            let mut fut = pin!(client.get_group("00000000-0000-1000-8000-00000000a001", &[]));
            match fut.as_mut().poll(&mut cx) {
                Poll::Ready(r) => {
                    r.unwrap();
                }
                Poll::Pending => unreachable!("in-memory transport is always ready"),
            }
        }
        let per = start.elapsed() / n;
        if round == 1 {
            println!("get_group: {per:?} per call (build + exchange + parse)");
        }
    }

    // The pieces, for comparison.
    use groups_core::ops::{GetGroup, Operation};
    let config = ClientConfig::default();
    let op = GetGroup::new("00000000-0000-1000-8000-00000000a001");
    let start = Wall::now();
    for _ in 0..n {
        std::hint::black_box(op.build_request(&config).unwrap());
    }
    println!("  build_request: {:?}", start.elapsed() / n);
    let start = Wall::now();
    for _ in 0..n {
        let resp = http::Response::builder()
            .header("content-type", "application/json")
            .body(Bytes::from_static(GROUP.as_bytes()))
            .unwrap();
        std::hint::black_box(op.parse_response(resp).unwrap());
    }
    println!("  parse_response: {:?}", start.elapsed() / n);
}
