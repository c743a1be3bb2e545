//! The transport against a scripted loopback server: statuses, faults,
//! limits, policy and connection reuse.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{ScriptedServer, Step, chunked, closed_port, json, response};
use groups_core::transport::{Instant, Transport, TransportErrorKind};
use groups_hyper::{BuildErrorKind, HyperClientBuilder, HyperTransport};

fn transport_for(server: &ScriptedServer) -> HyperTransport {
    HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap()
}

fn get(url: &str) -> http::Request<Bytes> {
    http::Request::get(url)
        .header("accept", "application/json")
        .body(Bytes::new())
        .unwrap()
}

#[tokio::test]
async fn success_returns_status_headers_and_body() {
    let server = ScriptedServer::start([Step::Respond(json(200, r#"{"id":"g1"}"#))]).await;
    let t = transport_for(&server);
    let resp = t.send(get(&server.url("/v2/groups/g1"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.body().as_ref(), br#"{"id":"g1"}"#);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].request_line, "GET /v2/groups/g1 HTTP/1.1");
    assert_eq!(
        reqs[0].header("accept").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn post_body_is_sent_unchanged() {
    let server = ScriptedServer::start([Step::Respond(json(200, "{}"))]).await;
    let t = transport_for(&server);
    let body = Bytes::from_static(br#"{"add":[{"identity_id":"x"}]}"#);
    let req = http::Request::post(server.url("/v2/groups/g1"))
        .header("content-type", "application/json")
        .body(body.clone())
        .unwrap();
    t.send(req).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].request_line, "POST /v2/groups/g1 HTTP/1.1");
    assert_eq!(reqs[0].body, body.as_ref());
}

#[tokio::test]
async fn error_statuses_are_responses_not_transport_errors() {
    let server = ScriptedServer::start([
        Step::Respond(response(429, &[("retry-after", "2")], "")),
        Step::Respond(response(503, &[("retry-after", "1")], "")),
        Step::Respond(response(
            502,
            &[("content-type", "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )),
        Step::Respond(json(200, r#"{"id": "g1", "name": "#)),
    ])
    .await;
    let t = transport_for(&server);
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.status(), 503);
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.body().starts_with(b"<html>"));
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body().as_ref(), br#"{"id": "g1", "name": "#);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = ScriptedServer::start([Step::Respond(response(
        302,
        &[("location", "http://127.0.0.1:1/elsewhere")],
        "",
    ))])
    .await;
    let t = transport_for(&server);
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn one_tcp_connection_serves_sequential_calls() {
    const N: usize = 20;
    let server = ScriptedServer::start((0..N).map(|_| Step::Respond(json(200, "{}")))).await;
    let t = transport_for(&server);
    for i in 0..N {
        let r = t
            .send(get(&server.url(&format!("/call/{i}"))))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(server.requests().len(), N);
    assert_eq!(server.connections(), 1);
    // Clones share the pool.
    let server2 = ScriptedServer::start([
        Step::Respond(json(200, "{}")),
        Step::Respond(json(200, "{}")),
    ])
    .await;
    let t2 = transport_for(&server2);
    let t3 = t2.clone();
    t2.send(get(&server2.url("/x"))).await.unwrap();
    t3.send(get(&server2.url("/y"))).await.unwrap();
    assert_eq!(server2.connections(), 1);
}

#[tokio::test]
async fn read_timeout_is_timeout_kind() {
    let server = ScriptedServer::start([Step::Hang]).await;
    let t = HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .attempt_timeout(Duration::from_millis(200))
        .build_transport()
        .unwrap();
    let started = std::time::Instant::now();
    let err = t.send(get(&server.url("/slow"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Timeout);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.requests().len(), 1, "the request was sent once");
}

#[tokio::test]
async fn connection_refused_is_connect_kind() {
    let addr = closed_port().await;
    let t = HyperClientBuilder::new()
        .base_url(format!("http://{addr}/"))
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap();
    let err = t
        .send(get(&format!("http://{addr}/v2/groups")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(err.to_string().starts_with("connect error:"), "{err}");
}

#[tokio::test]
async fn connection_reset_mid_body_is_io_kind() {
    let mut partial =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n"
            .to_vec();
    partial.extend_from_slice(br#"{"id": "#);
    let server = ScriptedServer::start([Step::RespondAndReset(partial)]).await;
    let t = transport_for(&server);
    let err = t.send(get(&server.url("/a"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
}

#[tokio::test]
async fn connection_closed_mid_body_is_io_kind() {
    let mut partial = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n".to_vec();
    partial.extend_from_slice(b"only a little");
    let server = ScriptedServer::start([Step::RespondAndClose(partial)]).await;
    let t = transport_for(&server);
    let err = t.send(get(&server.url("/a"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
}

#[tokio::test]
async fn connection_closed_before_response_is_io_kind() {
    let server = ScriptedServer::start([Step::RespondAndClose(Vec::new())]).await;
    let t = transport_for(&server);
    let err = t.send(get(&server.url("/a"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Io, "{err}");
}

#[tokio::test]
async fn garbage_instead_of_http_is_other_kind() {
    let server =
        ScriptedServer::start([Step::RespondAndClose(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec())]).await;
    let t = transport_for(&server);
    let err = t.send(get(&server.url("/a"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Other, "{err}");
}

fn capped(server: &ScriptedServer, cap: usize) -> HyperTransport {
    HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .max_response_bytes(cap)
        .build_transport()
        .unwrap()
}

#[tokio::test]
async fn body_over_cap_by_content_length_is_refused() {
    let big = "x".repeat(2_000);
    let server = ScriptedServer::start([Step::Respond(json(200, &big))]).await;
    let err = capped(&server, 1_000)
        .send(get(&server.url("/big")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
    assert!(err.to_string().contains("1000-byte"), "{err}");
}

#[tokio::test]
async fn body_over_cap_while_streaming_chunks_is_refused() {
    let server = ScriptedServer::start([Step::Respond(chunked(10, 300))]).await;
    let err = capped(&server, 1_000)
        .send(get(&server.url("/big")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
}

#[tokio::test]
async fn body_at_the_cap_is_accepted() {
    let server = ScriptedServer::start([
        Step::Respond(json(200, &"y".repeat(1_000))),
        Step::Respond(chunked(4, 250)),
    ])
    .await;
    let t = capped(&server, 1_000);
    let r = t.send(get(&server.url("/a"))).await.unwrap();
    assert_eq!(r.body().len(), 1_000);
    let r = t.send(get(&server.url("/b"))).await.unwrap();
    assert_eq!(r.body().len(), 1_000);
}

#[tokio::test]
async fn plain_http_is_refused_unless_enabled_for_loopback() {
    let server = ScriptedServer::start([]).await;
    let strict = HyperClientBuilder::new().build_transport().unwrap();
    let err = strict.send(get(&server.url("/a"))).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Refused);

    let lenient = transport_for(&server);
    for url in ["http://example.com/v2/groups", "http://10.0.0.1/v2/groups"] {
        let err = lenient.send(get(url)).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Refused, "{url}");
    }
    let err = lenient.send(get("ftp://127.0.0.1/x")).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Refused);
    let err = lenient.send(get("/relative")).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Refused);
    assert_eq!(server.connections(), 0, "nothing reached the server");
}

#[tokio::test]
async fn authorization_goes_only_to_the_configured_origin() {
    let trusted = ScriptedServer::start([Step::Respond(json(200, "{}"))]).await;
    let other = ScriptedServer::start([Step::Respond(json(200, "{}"))]).await;
    let t = transport_for(&trusted);

    let with_auth = |url: String| {
        http::Request::get(url)
            .header("authorization", "Bearer secret-token")
            .body(Bytes::new())
            .unwrap()
    };
    let r = t.send(with_auth(trusted.url("/v2/groups"))).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        trusted.requests()[0].header("authorization").as_deref(),
        Some("Bearer secret-token")
    );

    let err = t
        .send(with_auth(other.url("/v2/groups")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Refused);
    assert!(!err.to_string().contains("secret-token"));
    assert_eq!(other.connections(), 0);

    // Without credentials the other host is fine.
    let r = t.send(get(&other.url("/public"))).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn trust_origin_adds_a_credential_destination() {
    let groups = ScriptedServer::start([]).await;
    let auth = ScriptedServer::start([Step::Respond(json(200, "{}"))]).await;
    let t = HyperClientBuilder::new()
        .base_url(groups.base())
        .trust_origin(auth.url("/"))
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap();
    let req = http::Request::post(auth.url("/v2/oauth2/token"))
        .header("authorization", "Basic Y2xpZW50OnNlY3JldA==")
        .body(Bytes::from_static(b"grant_type=refresh_token"))
        .unwrap();
    assert_eq!(t.send(req).await.unwrap().status(), 200);
}

#[test]
fn builder_rejects_bad_service_urls() {
    let err = HyperClientBuilder::new()
        .base_url("not a url")
        .build_transport()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    let err = HyperClientBuilder::new()
        .base_url("http://127.0.0.1:8080/")
        .build_transport()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    let err = HyperClientBuilder::new()
        .base_url("http://groups.example.org/")
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    HyperClientBuilder::new()
        .base_url("http://localhost:8080/")
        .allow_plain_http_loopback(true)
        .build_transport()
        .unwrap();
}

#[test]
fn builder_reports_an_unreadable_ca_bundle() {
    let err = HyperClientBuilder::new()
        .ca_bundle_file("/nonexistent/ca.pem")
        .build_transport()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::CaBundle);
    let err = HyperClientBuilder::new()
        .ca_bundle_pem("no pem here")
        .build_transport()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::CaBundle);
}

#[test]
fn from_env_reads_timeout_and_verify_ssl() {
    let b = HyperClientBuilder::from_env_with(|name| match name {
        "GLOBUS_SDK_HTTP_TIMEOUT" => Some("-1".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(b.build_transport().unwrap().attempt_timeout(), None);
    let b = HyperClientBuilder::from_env_with(|name| match name {
        "GLOBUS_SDK_HTTP_TIMEOUT" => Some("12.5".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(
        b.build_transport().unwrap().attempt_timeout(),
        Some(Duration::from_millis(12_500))
    );
    let b = HyperClientBuilder::from_env_with(|_| None).unwrap();
    assert_eq!(
        b.build_transport().unwrap().attempt_timeout(),
        Some(Duration::from_secs(60))
    );
    let err = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_VERIFY_SSL").then(|| "maybe".into())
    })
    .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar);
    let err = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_HTTP_TIMEOUT").then(|| "soon".into())
    })
    .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar);
}

#[tokio::test]
async fn clock_is_monotonic_and_sleep_until_waits() {
    let t = HyperClientBuilder::new().build_transport().unwrap();
    let a = t.now();
    let target = a + Duration::from_millis(60);
    t.sleep_until(target).await;
    let b = t.now();
    assert!(b >= target, "{b:?} < {target:?}");
    // A deadline in the past completes at once; an absurd one does not panic.
    t.sleep_until(Instant::ZERO).await;
    let far = t.sleep_until(Instant::from_elapsed(Duration::MAX));
    assert!(
        tokio::time::timeout(Duration::from_millis(10), far)
            .await
            .is_err()
    );
}

#[test]
fn debug_output_shows_configuration_only() {
    let t = HyperClientBuilder::new().build_transport().unwrap();
    let dbg = format!("{t:?}");
    assert!(dbg.contains("HyperTransport"));
    assert!(dbg.contains("groups.api.globus.org"));
    assert!(
        dbg.contains("auth.globus.org"),
        "the Auth origin is trusted by default"
    );
}

#[tokio::test]
async fn head_response_length_is_not_held_against_the_cap() {
    let server = ScriptedServer::start([Step::Respond(
        b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n".to_vec(),
    )])
    .await;
    let req = http::Request::head(server.url("/v2/groups"))
        .body(Bytes::new())
        .unwrap();
    let r = capped(&server, 1_000).send(req).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
}
