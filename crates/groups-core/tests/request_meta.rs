//! The client tells the transport which operation and which attempt each
//! request is, through the `RequestMeta` extension.

mod common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use groups_core::transport::FnTransport;
use groups_core::{AccessTokenProvider, ClientConfig, GroupsClient, RequestMeta, RetryPolicy};
use std::time::Duration;

#[test]
fn every_attempt_carries_the_operation_name_and_its_number() {
    let seen: Arc<Mutex<Vec<Option<RequestMeta>>>> = Arc::default();
    let log = seen.clone();
    let transport = FnTransport::new(move |req: http::Request<Bytes>| {
        let mut log = log.lock().unwrap();
        log.push(req.extensions().get::<RequestMeta>().copied());
        let status = if log.len() < 3 { 503 } else { 200 };
        Ok(http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{}"))
            .unwrap())
    });
    let config = ClientConfig::default().with_retry_policy(
        RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::ZERO),
    );
    let client = GroupsClient::new(transport, config, AccessTokenProvider::new("t").unwrap());
    let statuses = common::block_on(client.get_statuses()).expect("third attempt succeeds");
    assert!(statuses.is_empty());
    let seen = seen.lock().unwrap().clone();
    let expected: Vec<_> = (1..=3)
        .map(|attempt| {
            Some(RequestMeta {
                operation: "get_statuses",
                attempt,
                // The default overall deadline (120 s) from the first poll at time zero.
                deadline: Some(groups_core::Instant::from_elapsed(Duration::from_secs(120))),
            })
        })
        .collect();
    assert_eq!(seen, expected);
}
