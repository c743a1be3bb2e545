//! The full stack: groups-core's client driving HyperTransport against the
//! scripted loopback server (retries, Retry-After, idempotency, deadlines,
//! decode and API errors, connection reuse).

mod common;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use common::{ScriptedServer, Step, closed_port, json, response};
use groups_core::transport::TransportErrorKind;
use groups_core::{GroupsError, RetryPolicy};
use groups_hyper::{GroupsClient, GroupsClientExt, HyperClientBuilder};
use groups_types::{BatchMembershipActions, GroupCreate, GroupId, GroupRole, IdentityId};

const GROUP: &str = "00000000-0000-1000-8000-00000000a001";
const TOKEN: &str = "client-test-token";

fn group_json() -> String {
    format!(r#"{{"id": "{GROUP}", "name": "Test group", "parent_id": null}}"#)
}

fn gid() -> GroupId {
    GROUP.parse().unwrap()
}

/// Fast backoff so retry tests take milliseconds (Retry-After still honoured).
fn fast_retries(max_retries: u32) -> RetryPolicy {
    let mut p = RetryPolicy::default();
    p.max_retries = max_retries;
    p.backoff_base = Duration::from_millis(5);
    p.backoff_jitter = Duration::from_millis(5);
    p
}

fn builder(server: &ScriptedServer) -> HyperClientBuilder {
    GroupsClient::builder()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries(5))
}

fn client(server: &ScriptedServer) -> GroupsClient {
    builder(server).build_with_token(TOKEN).unwrap()
}

#[tokio::test]
async fn get_group_succeeds_with_bearer_token_and_sdk_headers() {
    let server = ScriptedServer::start([Step::Respond(json(200, &group_json()))]).await;
    let group = client(&server).get_group(gid()).await.unwrap();
    assert_eq!(group.id, gid());
    assert_eq!(group.name, "Test group");
    let reqs = server.requests();
    assert_eq!(
        reqs[0].request_line,
        format!("GET /v2/groups/{GROUP} HTTP/1.1")
    );
    assert_eq!(
        reqs[0].header("authorization").as_deref(),
        Some("Bearer client-test-token")
    );
    assert_eq!(
        reqs[0].header("accept").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn retries_503_honouring_retry_after_then_200() {
    let server = ScriptedServer::start([
        Step::Respond(response(503, &[("retry-after", "1")], "")),
        Step::Respond(json(200, &group_json())),
    ])
    .await;
    let started = Instant::now();
    let group = client(&server).get_group(gid()).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(group.id, gid());
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After ignored: {waited:?}"
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections(), 1, "the retry reused the connection");
}

#[tokio::test]
async fn retries_429_then_200() {
    let server = ScriptedServer::start([
        Step::Respond(response(429, &[], "")),
        Step::Respond(response(429, &[("retry-after", "0")], "")),
        Step::Respond(json(200, "[]")),
    ])
    .await;
    let groups = client(&server).get_my_groups().await.unwrap();
    assert!(groups.is_empty());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn persistent_429_ends_with_the_last_status() {
    let server = ScriptedServer::start((0..3).map(|_| Step::Respond(response(429, &[], "")))).await;
    let err = builder(&server)
        .retry_policy(fast_retries(2))
        .build_with_token(TOKEN)
        .unwrap()
        .get_my_groups()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429), "{err}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn create_that_times_out_on_read_is_not_retried() {
    let server = ScriptedServer::start([Step::Hang, Step::Respond(json(200, "{}"))]).await;
    let client = builder(&server)
        .attempt_timeout(Duration::from_millis(300))
        .build_with_token(TOKEN)
        .unwrap();
    let err = client
        .create_group(GroupCreate::new("Once only"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        err.transport_error().map(|t| t.kind()),
        Some(TransportErrorKind::Timeout),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1, "a create must not be resent");
    assert!(
        server.requests()[0]
            .request_line
            .starts_with("POST /v2/groups ")
    );
    assert_eq!(server.remaining_steps(), 1);
}

#[tokio::test]
async fn batch_that_times_out_on_read_is_retried_as_idempotent_in_effect() {
    let who: IdentityId = "ae332d86-d274-11e5-b885-b31714a110e9".parse().unwrap();
    let answer = format!(
        r#"{{"add": [{{"group_id": "{GROUP}", "identity_id": "{who}", "username": "u@example.org", "role": "member", "status": "active"}}]}}"#
    );
    let server = ScriptedServer::start([Step::Hang, Step::Respond(json(200, &answer))]).await;
    let client = builder(&server)
        .attempt_timeout(Duration::from_millis(300))
        .build_with_token(TOKEN)
        .unwrap();
    let actions = BatchMembershipActions::new().add_members([who], GroupRole::Member);
    let result = client
        .batch_membership_action(gid(), &actions)
        .await
        .unwrap();
    assert_eq!(result.get(&groups_types::BatchVerb::Add).len(), 1);
    let sent = server.requests();
    assert_eq!(sent.len(), 2, "the batch was sent again after the timeout");
    assert!(
        sent.iter()
            .all(|r| r.request_line.starts_with("POST /v2/groups/"))
    );
}

#[tokio::test]
async fn get_that_times_out_on_read_is_retried() {
    let server = ScriptedServer::start([Step::Hang, Step::Respond(json(200, &group_json()))]).await;
    let client = builder(&server)
        .attempt_timeout(Duration::from_millis(300))
        .build_with_token(TOKEN)
        .unwrap();
    let group = client.get_group(gid()).await.unwrap();
    assert_eq!(group.id, gid());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_as_connect() {
    let addr = closed_port().await;
    let client = HyperClientBuilder::new()
        .base_url(format!("http://{addr}/"))
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries(2))
        .build_with_token(TOKEN)
        .unwrap();
    let err = client.get_group(gid()).await.unwrap_err();
    assert!(
        matches!(err, GroupsError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.transport_error().map(|t| t.kind()),
        Some(TransportErrorKind::Connect),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_reset_mid_body_is_an_io_error() {
    let mut partial =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n"
            .to_vec();
    partial.extend_from_slice(br#"{"id": "#);
    let server = ScriptedServer::start([Step::RespondAndReset(partial)]).await;
    // A create is not idempotent, so the broken answer is not retried.
    let err = client(&server)
        .create_group(GroupCreate::new("Reset"))
        .await
        .unwrap_err();
    assert_eq!(
        err.transport_error().map(|t| t.kind()),
        Some(TransportErrorKind::Io),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn body_over_the_cap_is_not_retried() {
    let server = ScriptedServer::start([
        Step::Respond(json(200, &"x".repeat(5_000))),
        Step::Respond(common::chunked(8, 1_000)),
    ])
    .await;
    let client = builder(&server)
        .max_response_bytes(4_096)
        .build_with_token(TOKEN)
        .unwrap();
    for _ in 0..2 {
        let err = client.get_group(gid()).await.unwrap_err();
        assert_eq!(
            err.transport_error().map(|t| t.kind()),
            Some(TransportErrorKind::BodyTooLarge),
            "{err:?}"
        );
    }
    assert_eq!(server.requests().len(), 2, "one attempt each");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = ScriptedServer::start([Step::Respond(json(200, r#"{"id": "#))]).await;
    let err = client(&server).get_group(gid()).await.unwrap_err();
    assert!(err.decode_error().is_some(), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn html_502_page_is_an_api_error_with_the_page_kept() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = ScriptedServer::start(
        (0..2).map(|_| Step::Respond(response(502, &[("content-type", "text/html")], page))),
    )
    .await;
    let err = builder(&server)
        .retry_policy(fast_retries(1))
        .build_with_token(TOKEN)
        .unwrap()
        .get_group(gid())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502), "{err:?}");
    let api = err.api_error().expect("an API error");
    assert!(api.text().contains("502 Bad Gateway"));
    assert_eq!(server.requests().len(), 2, "502 is retried for a GET");
}

#[tokio::test]
async fn sequential_calls_share_one_connection() {
    const N: usize = 10;
    let server =
        ScriptedServer::start((0..N).map(|_| Step::Respond(json(200, &group_json())))).await;
    let client = client(&server);
    for _ in 0..N {
        client.get_group(gid()).await.unwrap();
    }
    assert_eq!(server.requests().len(), N);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn overall_deadline_bounds_a_hanging_call() {
    let server = ScriptedServer::start([Step::Hang]).await;
    let client = builder(&server)
        .no_attempt_timeout()
        .overall_deadline(Duration::from_millis(300))
        .build_with_token(TOKEN)
        .unwrap();
    // The timeout only keeps a broken deadline from hanging the suite.
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        client.get_group(gid()).into_future(),
    )
    .await
    .expect("the overall deadline ended the call")
    .unwrap_err();
    assert!(
        matches!(err, GroupsError::DeadlineExceeded { attempts: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn from_env_points_the_client_at_a_loopback_service() {
    let server = ScriptedServer::start([Step::Respond(json(200, &group_json()))]).await;
    let base = server.base();
    let client = HyperClientBuilder::from_env_with(|name| match name {
        "GLOBUS_SDK_SERVICE_URL_GROUPS" => Some(base.clone()),
        "GLOBUS_SDK_HTTP_TIMEOUT" => Some("5".into()),
        _ => None,
    })
    .unwrap()
    .build_with_token(TOKEN)
    .unwrap();
    assert_eq!(client.config().base_url().as_str(), base);
    assert_eq!(
        client.transport().attempt_timeout(),
        Some(Duration::from_secs(5))
    );
    client.get_group(gid()).await.unwrap();

    // A plain-http URL to a non-loopback host is refused at build time.
    let err = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_SERVICE_URL_GROUPS").then(|| "http://groups.example.org/".into())
    })
    .unwrap()
    .build_with_token(TOKEN)
    .unwrap_err();
    assert_eq!(err.kind(), groups_hyper::BuildErrorKind::InvalidUrl);
    // An unknown environment is an error, not production.
    let err = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_ENVIRONMENT").then(|| "moon".into())
    })
    .unwrap_err();
    assert_eq!(err.kind(), groups_hyper::BuildErrorKind::InvalidEnvVar);
}

#[test]
fn client_from_env_refuses_a_bad_token_without_echoing_it() {
    match groups_hyper::client_from_env("bad token with spaces") {
        Ok(_) => panic!("a token with spaces must be refused"),
        Err(e) => assert!(!e.to_string().contains("bad token"), "{e}"),
    }
}
