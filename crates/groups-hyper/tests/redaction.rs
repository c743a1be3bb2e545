//! A canary token never appears in tracing output (TRACE, with the `log`
//! records of rustls bridged in) nor in any error, across successes,
//! refusals and every failure kind, over HTTP/1.1 and HTTP/2.
//!
//! One test function: it installs the global subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::tls::{make_pki, tls_server};
use common::{ScriptedServer, Step, closed_port, json, response};
use groups_core::transport::{Transport, TransportError};
use groups_hyper::HyperClientBuilder;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

const CANARY: &str = "CANARY-tok-5b1e0c9d7a";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn with_token(method: http::Method, url: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {CANARY}"))
        .header("content-type", "application/json")
        .body(Bytes::from_static(br#"{"add":[]}"#))
        .unwrap()
}

fn check_error(errors: &mut Vec<String>, err: TransportError) {
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains(CANARY), "canary leaked in error: {shown}");
    errors.push(shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_token_never_reaches_logs_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .try_init()
        .expect("the only subscriber in this test binary");

    let mut errors = Vec::new();

    let mut partial = b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n".to_vec();
    partial.extend_from_slice(b"{\"partial\":");
    let server = ScriptedServer::start([
        Step::Respond(json(200, "{}")),
        Step::Respond(response(401, &[("www-authenticate", "Bearer")], "{}")),
        Step::Respond(json(200, &"z".repeat(4096))),
        Step::RespondAndReset(partial),
        Step::Hang,
    ])
    .await;
    let t = HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .max_response_bytes(1024)
        .attempt_timeout(Duration::from_millis(300))
        .build_transport()
        .unwrap();
    let url = server.url("/v2/groups/00000000-0000-0000-0000-000000000001");
    assert_eq!(
        t.send(with_token(http::Method::GET, &url))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        t.send(with_token(http::Method::GET, &url))
            .await
            .unwrap()
            .status(),
        401
    );
    for _ in 0..3 {
        // too large, reset mid-body, timeout
        check_error(
            &mut errors,
            t.send(with_token(http::Method::POST, &url))
                .await
                .unwrap_err(),
        );
    }
    // The server did receive the token (so the canary was really in play).
    assert!(server.requests().iter().all(|r| r.head.contains(CANARY)));

    // Refused: foreign origin, plain http to a non-loopback host.
    let other = closed_port().await;
    check_error(
        &mut errors,
        t.send(with_token(
            http::Method::GET,
            &format!("http://{other}/v2/groups"),
        ))
        .await
        .unwrap_err(),
    );
    check_error(
        &mut errors,
        t.send(with_token(
            http::Method::GET,
            "http://groups.example.org/v2/groups",
        ))
        .await
        .unwrap_err(),
    );
    // Connect failure.
    let refused = HyperClientBuilder::new()
        .base_url(format!("http://{other}/"))
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap();
    check_error(
        &mut errors,
        refused
            .send(with_token(
                http::Method::GET,
                &format!("http://{other}/v2/groups"),
            ))
            .await
            .unwrap_err(),
    );

    // HTTPS: HTTP/2 success, and a TLS failure.
    let pki = make_pki(&["127.0.0.1"]);
    let tls = tls_server(&pki, &[b"h2", b"http/1.1"]).await;
    let h2 = HyperClientBuilder::new()
        .base_url(tls.base())
        .ca_bundle_pem(&pki.ca_pem)
        .build_transport()
        .unwrap();
    let r = h2
        .send(with_token(http::Method::GET, &tls.url("/v2/groups")))
        .await
        .unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2);
    let untrusting = HyperClientBuilder::new()
        .base_url(tls.base())
        .build_transport()
        .unwrap();
    check_error(
        &mut errors,
        untrusting
            .send(with_token(http::Method::GET, &tls.url("/v2/groups")))
            .await
            .unwrap_err(),
    );

    // Through the core client: an API error (401), a retried-then-exhausted
    // failure and the client's own Debug output.
    let server = ScriptedServer::start([
        Step::Respond(json(
            401,
            r#"{"code": "AUTHENTICATION_ERROR", "detail": "bad token"}"#,
        )),
        Step::Respond(response(503, &[], "")),
        Step::Respond(response(503, &[], "")),
    ])
    .await;
    let mut policy = groups_core::RetryPolicy::default();
    policy.max_retries = 1;
    policy.backoff_base = Duration::from_millis(1);
    let client = HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .retry_policy(policy)
        .build_with_token(CANARY)
        .unwrap();
    let group: groups_types::GroupId = "00000000-0000-1000-8000-00000000a001".parse().unwrap();
    for _ in 0..2 {
        let err = client.get_group(group).await.unwrap_err();
        let shown = format!("{err} / {err:?}");
        assert!(
            !shown.contains(CANARY),
            "canary leaked in client error: {shown}"
        );
        errors.push(shown);
    }
    assert!(!format!("{client:?}").contains(CANARY));

    // Token requests of a confidential refresh-token client: the refresh
    // token, the client secret (and its Basic encoding), the rotated refresh
    // token and the access token never reach the trace output or the error.
    let token = r#"{"access_token": "AT-FROM-AUTH", "expires_in": 172800,
      "resource_server": "groups.api.globus.org", "token_type": "Bearer",
      "refresh_token": "ROTATED-CANARY",
      "scope": "urn:globus:auth:scope:groups.api.globus.org:all"}"#;
    let auth = ScriptedServer::start([
        Step::Respond(json(200, token)),
        Step::Respond(json(
            401,
            r#"{"code": "AUTHENTICATION_ERROR", "detail": "no"}"#,
        )),
        Step::Respond(json(
            400,
            r#"{"error": "invalid_grant", "error_description": "rotated"}"#,
        )),
    ])
    .await;
    let renewing = HyperClientBuilder::new()
        .base_url(auth.base())
        .auth_url(groups_core::config::BaseUrl::parse(&auth.base()).unwrap())
        .allow_plain_http_loopback(true)
        .client_secret("SECRET-CANARY")
        .build_with_refresh_token("CID", "REFRESH-CANARY")
        .unwrap();
    let err = renewing.get_my_groups().await.unwrap_err();
    assert_eq!(auth.requests().len(), 3, "token, 401, renewal refused");
    errors.push(format!("{err} / {err:?} / {renewing:?}"));
    let auth_secrets = [
        "SECRET-CANARY",
        "REFRESH-CANARY",
        "ROTATED-CANARY",
        "AT-FROM-AUTH",
        // base64 of "CID:SECRET-CANARY", the Basic credentials
        "Q0lEOlNFQ1JFVC1DQU5BUlk",
    ];

    let bad = groups_hyper::client_from_env(format!("{CANARY} with a space")).unwrap_err();
    assert!(!format!("{bad} / {bad:?}").contains(CANARY));

    assert_eq!(errors.len(), 10);
    let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.contains(CANARY), "canary leaked in tracing output");
    let shown = format!("{} {logged}", errors.join(" "));
    for secret in auth_secrets {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(
        logged.contains("/v2/oauth2/token"),
        "the token requests were traced"
    );
    assert!(
        logged.contains("oauth2_refresh_token"),
        "named after their operation"
    );
    assert!(
        !logged.to_ascii_lowercase().contains("bearer"),
        "an auth scheme was logged"
    );
    // The capture did see the attempts: spans with method, path and status.
    assert!(logged.contains("groups_http"), "{logged}");
    assert!(
        logged.contains("method=\"GET\"") || logged.contains("method=GET"),
        "{logged}"
    );
    assert!(logged.contains("status=401"), "{logged}");
    // Calls through the client name their operation and attempt in the span.
    assert!(logged.contains("operation=\"get_group\""), "{logged}");
    assert!(logged.contains("attempt=2"), "{logged}");
    assert!(logged.contains("elapsed="), "{logged}");
    assert!(!logged.contains("zzzz"), "a body was logged");
}
