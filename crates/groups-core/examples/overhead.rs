//! Per-call CPU overhead of the core (build request, exchange, parse) over
//! an in-memory transport, without any network.
//!
//! `cargo run --release -p groups-core --example overhead`

use std::future::IntoFuture;
use std::task::{Context, Poll, Waker};
use std::time::Instant as Wall;

use bytes::Bytes;
use groups_core::auth::AccessTokenProvider;
use groups_core::client::GroupsClient;
use groups_core::config::ClientConfig;
use groups_core::transport::FnTransport;

/// Our own hand-written group document (one membership, short policies).
const GROUP: &str = include_str!("../tests/fixtures/get_group.response.json");
const GROUP_ID: &str = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";

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
            let mut fut = client.get_group(GROUP_ID).into_future();
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
    let op = GetGroup::new(GROUP_ID);
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
