//! The server around the rules: control plane, fault injection, limits, panics,
//! connections, keep-alive latency, HTTP/2, shutdown. Real HTTP on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::{Http, header, raw_exchange, split_response};
use groups_emulator::{Emulator, Fault};
use http::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start() -> (Emulator, Http) {
    let emu = Emulator::builder().start().await.expect("emulator starts");
    let http = Http::new(&emu.base_url());
    (emu, http)
}

fn raw_get(path: &str, token: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn base_url_is_loopback_with_trailing_slash() {
    let (emu, _) = start().await;
    let url = emu.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with('/'));
    assert_ne!(emu.local_addr().port(), 0);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn control_plane_health_reset_state_round_trip() {
    let (emu, http) = start().await;
    let health = http.control(Method::GET, "health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["status"], "ok");

    let created = http
        .post("/v2/groups", "alice", json!({"name": "g1"}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let dump = http.control(Method::GET, "state", None).await;
    assert_eq!(dump.status, 200);
    assert_eq!(dump.json, emu.dump_state(), "HTTP dump equals library dump");
    assert!(dump.raw.windows(2).any(|w| w == b"g1"), "group in dump");

    let reset = http.control(Method::POST, "reset", None).await;
    assert_eq!(reset.status, 200);
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(mine.json, json!([]), "reset emptied the world");

    // Put the old state back through the control plane.
    let put = http
        .control(Method::PUT, "state", Some(dump.json.clone()))
        .await;
    assert_eq!(put.status, 200, "{:?}", put.json);
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(mine.json.as_array().map(Vec::len), Some(1));
    assert_eq!(mine.json[0]["name"], "g1");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn control_plane_seed_and_bad_bodies() {
    let (emu, http) = start().await;
    let ok = http.control(Method::POST, "seed", Some(json!({}))).await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    let bad = http
        .call(
            Method::POST,
            "/_emulator/seed",
            None,
            Some(json!({"identities": "not a list"})),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.json);
    assert_eq!(bad.code(), "INVALID_JSON");
    let bad_state = http
        .control(Method::PUT, "state", Some(json!({"groups": 5})))
        .await;
    assert_eq!(bad_state.status, 422);
    let nf = http.control(Method::GET, "nope", None).await;
    assert_eq!(nf.status, 404);
    assert_eq!(nf.code(), "NOT_FOUND");
    let na = http.control(Method::DELETE, "state", None).await;
    assert_eq!(na.status, 405);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn put_state_is_validated_like_a_seed() {
    let (emu, http) = start().await;
    let a = http.post("/v2/groups", "alice", json!({"name": "a"})).await;
    let b = http.post("/v2/groups", "alice", json!({"name": "b"})).await;
    let (a, b) = (a.json["id"].clone(), b.json["id"].clone());
    let (ka, kb) = (a.as_str().unwrap(), b.as_str().unwrap());
    let good = http.control(Method::GET, "state", None).await.json;
    let before = emu.dump_state();

    // Malformed documents: 422 INVALID_JSON naming the problem; the world is unchanged.
    for (doc, needle) in [
        (json!({}), "missing field"),
        (
            {
                let mut d = good.clone();
                let groups = d["groups"].take();
                d.as_object_mut().unwrap().remove("groups");
                d["grups"] = groups;
                d
            },
            "grups",
        ),
    ] {
        let r = http.control(Method::PUT, "state", Some(doc)).await;
        assert_eq!((r.status, r.code()), (422, "INVALID_JSON"), "{:?}", r.json);
        assert!(
            r.json["detail"].as_str().unwrap().contains(needle),
            "{:?}",
            r.json
        );
        assert_eq!(emu.dump_state(), before);
    }

    // Well formed but invalid worlds: 400 INVALID_STATE; the world is unchanged.
    let mut no_admin = good.clone();
    no_admin["groups"][ka]["memberships"] = json!({});
    let mut own_parent = good.clone();
    own_parent["groups"][ka]["parent_id"] = a.clone();
    let mut cycle = good.clone();
    cycle["groups"][ka]["parent_id"] = b.clone();
    cycle["groups"][kb]["parent_id"] = a.clone();
    for (doc, needle) in [
        (no_admin, "no active admin"),
        (own_parent, "cycle"),
        (cycle, "cycle"),
    ] {
        let r = http.control(Method::PUT, "state", Some(doc)).await;
        assert_eq!((r.status, r.code()), (400, "INVALID_STATE"), "{:?}", r.json);
        let detail = r.json["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{detail}");
        assert_eq!(emu.dump_state(), before);
    }

    // The document GET returns is accepted.
    let r = http.control(Method::PUT, "state", Some(good)).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn status_fault_with_retry_after_is_answered_and_not_applied() {
    let (emu, http) = start().await;
    emu.inject(
        Fault::status(503)
            .retry_after(2)
            .method("POST")
            .path("/v2/groups"),
    );
    let r = http.post("/v2/groups", "alice", json!({"name": "x"})).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"], "2");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.code(), "EMULATOR_FAULT");
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(mine.json, json!([]), "faulted create was not applied");
    let r = http.post("/v2/groups", "alice", json!({"name": "x"})).await;
    assert_eq!(r.status, 201, "rule used up after one request");
    assert!(emu.pending_faults().is_empty());
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn html_fault_answers_a_load_balancer_page_and_applies_nothing() {
    let (emu, http) = start().await;
    // Through the control plane, as JSON (the status defaults to 502).
    let r = http
        .control(
            Method::POST,
            "faults",
            Some(json!({"action": "html", "method": "POST", "path": "/v2/groups"})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let body = r#"{"name":"x"}"#;
    let post = format!(
        "POST /v2/groups HTTP/1.1\r\nhost: x\r\nauthorization: Bearer alice\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, head, page) =
        split_response(&raw_exchange(emu.local_addr(), post.as_bytes()).await);
    assert_eq!(status, 502);
    assert_eq!(
        header(&head, "content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("<title>502 Bad Gateway</title>"), "{page}");
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(mine.json, json!([]), "faulted create was not applied");
    emu.inject(Fault::html(504).method("GET"));
    let (status, _, page) = split_response(
        &raw_exchange(emu.local_addr(), &raw_get("/v2/groups/my_groups", "alice")).await,
    );
    assert_eq!(status, 504);
    assert!(String::from_utf8_lossy(&page).contains("504 Gateway Timeout"));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn fault_rules_match_method_glob_and_count() {
    let (emu, http) = start().await;
    emu.inject(
        Fault::status(429)
            .method("GET")
            .path("/v2/groups/*")
            .times(2)
            .body(json!({"custom": true})),
    );
    // POST does not match the GET rule.
    let created = http.post("/v2/groups", "alice", json!({"name": "g"})).await;
    assert_eq!(created.status, 201);
    let id = created.json["id"].as_str().unwrap().to_owned();
    // A deeper path does not match a single `*`.
    let pol = http
        .get(&format!("/v2/groups/{id}/policies"), "alice")
        .await;
    assert_eq!(pol.status, 200);
    for _ in 0..2 {
        let r = http.get(&format!("/v2/groups/{id}"), "alice").await;
        assert_eq!(r.status, 429);
        assert_eq!(r.json, json!({"custom": true}));
        assert!(r.headers.get("retry-after").is_none());
    }
    let r = http.get(&format!("/v2/groups/{id}"), "alice").await;
    assert_eq!(r.status, 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn delay_fault_delays_then_serves() {
    let (emu, http) = start().await;
    emu.inject(Fault::delay(Duration::from_millis(300)).path("/v2/groups/my_groups"));
    let t = Instant::now();
    let r = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(r.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // The rule was used up by the first request: nothing delays the next one.
    assert!(emu.pending_faults().is_empty());
    let r = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.request_count(), 2);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn close_fault_closes_without_an_answer() {
    let (emu, http) = start().await;
    emu.inject(Fault::close().path("/v2/groups/my_groups"));
    let raw = raw_exchange(emu.local_addr(), &raw_get("/v2/groups/my_groups", "alice")).await;
    assert!(raw.is_empty(), "got {:?}", String::from_utf8_lossy(&raw));
    // Through a pooled client it is a transport error, and the next request works.
    emu.inject(Fault::close().path("/v2/groups/my_groups"));
    let err = http
        .send_raw(Method::GET, "/v2/groups/my_groups", Some("alice"), None)
        .await;
    assert!(err.is_err(), "{err:?}");
    let r = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(r.status, 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn truncate_fault_sends_less_than_content_length_then_closes() {
    let (emu, _) = start().await;
    emu.inject(Fault::truncate().path("/v2/groups/my_groups"));
    let raw = raw_exchange(emu.local_addr(), &raw_get("/v2/groups/my_groups", "alice")).await;
    let (status, head, body) = split_response(&raw);
    assert_eq!(status, 200);
    let promised: usize = header(&head, "content-length").unwrap().parse().unwrap();
    assert!(body.len() < promised, "{} < {promised}", body.len());

    emu.inject(
        Fault::truncate()
            .truncate_to(1)
            .path("/v2/groups/my_groups"),
    );
    let raw = raw_exchange(emu.local_addr(), &raw_get("/v2/groups/my_groups", "alice")).await;
    let (_, head, body) = split_response(&raw);
    assert_eq!(body, b"[");
    assert_eq!(header(&head, "content-length"), Some("2"));
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn faults_through_the_control_plane() {
    let (emu, http) = start().await;
    let added = http
        .control(
            Method::POST,
            "faults",
            Some(json!([
                {"method": "GET", "path": "/v2/groups/my_groups", "times": 2,
                 "action": "status", "status": 429, "retry_after": 1},
                {"action": "close", "path": "/v2/preferences"}
            ])),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    assert_eq!(added.json["pending"].as_array().unwrap().len(), 2);
    let r = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(
        (r.status, r.headers["retry-after"].to_str().unwrap()),
        (429, "1")
    );
    let listed = http.control(Method::GET, "faults", None).await;
    assert_eq!(listed.json["pending"][0]["times"], 1, "one use left");
    // The control plane itself is never faulted, even by a catch-all rule.
    http.control(Method::POST, "faults", Some(json!({"action": "close"})))
        .await;
    let health = http.control(Method::GET, "health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["pending_faults"], 3);
    let cleared = http.control(Method::DELETE, "faults", None).await;
    assert_eq!(cleared.json, json!({"pending": []}));
    assert_eq!(http.get("/v2/groups/my_groups", "alice").await.status, 200);

    for bad in [
        json!({"action": "status", "status": 1000}),
        json!({"action": "explode"}),
        json!({"action": "close", "method": "NOT A METHOD"}),
        json!("close"),
    ] {
        let r = http
            .control(Method::POST, "faults", Some(bad.clone()))
            .await;
        assert_eq!(r.status, 422, "{bad} -> {:?}", r.json);
    }
    assert!(emu.pending_faults().is_empty());
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn handler_panic_answers_500_json_and_server_keeps_serving() {
    let (emu, http) = start().await;
    let created = http.post("/v2/groups", "alice", json!({"name": "g"})).await;
    assert_eq!(created.status, 201);
    for method in [Method::GET, Method::POST] {
        emu.inject(Fault::panic().path("/v2/groups/my_groups"));
        let r = http
            .call(method.clone(), "/v2/groups/my_groups", Some("alice"), None)
            .await;
        assert_eq!(r.status, 500, "{method}");
        assert_eq!(r.code(), "INTERNAL_ERROR");
    }
    let r = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json.as_array().map(Vec::len), Some(1));
    emu.with_world(|w| w.check_invariants()).unwrap();
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn oversized_body_gets_413_json() {
    let emu = Emulator::builder().body_limit(1024).start().await.unwrap();
    let http = Http::new(&emu.base_url());
    let big = json!({"name": "x".repeat(2000)});
    let r = http.post("/v2/groups", "alice", big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "PAYLOAD_TOO_LARGE");
    // Chunked (no content-length) is limited too.
    let mut req = b"POST /v2/groups HTTP/1.1\r\nhost: x\r\nauthorization: Bearer a\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for _ in 0..3 {
        req.extend_from_slice(b"200\r\n");
        req.extend_from_slice(&[b' '; 0x200]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (status, _, body) = split_response(&raw_exchange(emu.local_addr(), &req).await);
    assert_eq!(status, 413);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "PAYLOAD_TOO_LARGE");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_answer_is_json_even_unknown_routes_and_auth_failures() {
    let (emu, http) = start().await;
    let r = http.get("/v3/nothing", "alice").await;
    assert_eq!(r.status, 404);
    assert!(r.json.get("code").is_some(), "{:?}", r.json);
    assert_eq!(r.headers["content-type"], "application/json");
    let r = http
        .call(Method::GET, "/v2/groups/my_groups", None, None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AUTHENTICATION_ERROR");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn request_count_counts_api_requests_not_control_plane() {
    let (emu, http) = start().await;
    assert_eq!(emu.request_count(), 0);
    http.get("/v2/groups/my_groups", "alice").await;
    emu.inject(Fault::status(500));
    http.get("/v2/groups/my_groups", "alice").await;
    http.control(Method::GET, "health", None).await;
    assert_eq!(emu.request_count(), 2);
    let health = http.control(Method::GET, "health", None).await;
    assert_eq!(health.json["requests"], 2);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn keep_alive_serves_sequential_requests_on_one_connection() {
    // 50 sequential requests from a pooled client reuse one keep-alive connection (the
    // socket option that keeps such round trips from stalling, TCP_NODELAY, is checked
    // by the server's unit tests).
    let (emu, http) = start().await;
    http.get("/v2/groups/my_groups", "alice").await; // warm the pool
    assert_eq!(emu.accepted_connections(), 1);
    for i in 0..50 {
        let r = http
            .post("/v2/groups", "alice", json!({"name": format!("g{i}")}))
            .await;
        assert_eq!(r.status, 201);
    }
    assert_eq!(
        emu.accepted_connections(),
        1,
        "one connection for every request"
    );
    assert_eq!(emu.request_count(), 51);
    emu.shutdown().await.unwrap();
}

/// Wait (up to a generous bound that only prevents hanging) until `f` holds.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let emu = Emulator::builder()
        .header_read_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    eventually("the silent connection is accepted", || {
        emu.open_connections() == 1
    })
    .await;
    let mut buf = Vec::new();
    // The server closes it (end of stream, nothing sent); the outer timeout only
    // keeps a broken server from hanging the test.
    let read = tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?}");
    eventually("the slot is free again", || emu.open_connections() == 0).await;
    // A connection that does send a request is served as usual.
    let (status, _, _) = split_response(
        &raw_exchange(emu.local_addr(), &raw_get("/v2/groups/my_groups", "a")).await,
    );
    assert_eq!(status, 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn connections_above_the_cap_wait_until_one_closes() {
    let emu = Emulator::builder()
        .max_connections(2)
        .start()
        .await
        .unwrap();
    let addr = emu.local_addr();
    let a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    eventually("two connections are accepted", || {
        emu.open_connections() == 2
    })
    .await;

    // A third client connects (the kernel's backlog takes it) and sends a request,
    // which is not served while both slots are taken.
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(&raw_get("/v2/groups/my_groups", "a"))
        .await
        .unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), c.read(&mut first)).await;
    assert!(early.is_err(), "answered above the cap: {early:?}");
    assert_eq!(emu.open_connections(), 2);
    assert_eq!(emu.accepted_connections(), 2);

    // Closing one connection frees a slot and the waiting request is served.
    drop(a);
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut out))
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert_eq!(split_response(&out).0, 200);
    assert_eq!(emu.accepted_connections(), 3);
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_simultaneous_connections() {
    let (emu, _) = start().await;
    let addr = emu.local_addr();
    // Open all the sockets first, then send on each: the backlog and the accept loop
    // must cope with a burst.
    let mut socks = Vec::new();
    for _ in 0..300 {
        socks.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut s) in socks.into_iter().enumerate() {
        tasks.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(&raw_get("/v2/groups/my_groups", &format!("user{}", i % 7)))
                .await
                .unwrap();
            let mut out = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
                .await
                .unwrap()
                .unwrap();
            split_response(&out).0
        });
    }
    let mut ok = 0;
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
        ok += 1;
    }
    assert_eq!(ok, 300);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let (emu, _) = start().await;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = http::Request::get(format!("{}v2/groups/my_groups", emu.base_url()))
        .header("authorization", "Bearer alice")
        .body(Empty::new())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"[]");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_stops_listening() {
    let (emu, http) = start().await;
    let addr = emu.local_addr();
    emu.inject(Fault::delay(Duration::from_millis(400)).method("POST"));
    let h2 = http.clone();
    let in_flight = tokio::spawn(async move {
        h2.post("/v2/groups", "alice", json!({"name": "late"}))
            .await
    });
    // Wait (bounded) until the request reached the server.
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.request_count() == 0 {
        assert!(Instant::now() < deadline, "request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    emu.shutdown().await.unwrap();
    let r = in_flight.await.unwrap();
    assert_eq!(r.status, 201, "in-flight request completed");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn dropping_the_emulator_stops_it() {
    let (emu, _) = start().await;
    let addr = emu.local_addr();
    drop(emu);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still listening after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `n` with a comma between thousands, as the help text writes it.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn serve_help_states_the_limits_in_force() {
    use groups_emulator::world::{
        MAX_BATCH_ITEMS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_REPORTED_ISSUES,
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_groups-emulator"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for limit in [
        MAX_BATCH_ITEMS,
        MAX_REPORTED_ISSUES,
        MAX_NAME_CHARS,
        MAX_DESCRIPTION_CHARS,
    ] {
        assert!(
            help.contains(&thousands(limit)),
            "{limit} missing from:\n{help}"
        );
    }
    for default in [
        groups_emulator::DEFAULT_MAX_CONNECTIONS.to_string(),
        groups_emulator::DEFAULT_HEADER_READ_TIMEOUT
            .as_secs()
            .to_string(),
        groups_emulator::DEFAULT_BODY_LIMIT.to_string(),
    ] {
        assert!(help.contains(&format!("[default: {default}]")), "{default}");
    }
}

#[tokio::test]
async fn a_million_empty_batch_items_get_one_short_422() {
    let (emu, http) = start().await;
    let g = http.post("/v2/groups", "alice", json!({"name": "g"})).await;
    let path = format!("/v2/groups/{}", g.json["id"].as_str().unwrap());
    let before = emu.dump_state();
    // 3 MB of `{}` items: under the body limit, far over the item limit.
    let mut body = b"{\"add\": [".to_vec();
    for i in 0..1_000_000 {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{}");
    }
    body.extend_from_slice(b"]}");
    assert!(body.len() < groups_emulator::DEFAULT_BODY_LIMIT);
    let r = http
        .send_raw(Method::POST, &path, Some("alice"), Some(body))
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{:?}", r.json);
    let detail = r.json["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 1, "{detail:?}");
    assert_eq!(detail[0]["type"], "too_long");
    assert_eq!(
        detail[0]["ctx"]["max_length"],
        groups_emulator::world::MAX_BATCH_ITEMS
    );
    assert!(r.raw.len() < 1024, "{} bytes of answer", r.raw.len());
    assert_eq!(emu.dump_state(), before, "nothing applied");
    // The server still answers.
    assert_eq!(http.get("/v2/groups/my_groups", "alice").await.status, 200);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn refused_seeds_are_reported_with_one_prefix() {
    let no_admin: groups_emulator::world::Seed =
        serde_json::from_value(json!({"groups": [{"name": "x"}]})).unwrap();
    let err = Emulator::builder()
        .seed(no_admin)
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("seed: group "), "{err}");
    assert_eq!(err.matches("seed").count(), 1, "{err}");
    assert!(err.contains("no active admin"), "{err}");

    let (emu, http) = start().await;
    let r = http
        .control(
            Method::POST,
            "seed",
            Some(json!({"groups": [{"name": "x"}]})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "INVALID_SEED"));
    let detail = r.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("The seed was refused: group "),
        "{detail}"
    );
    assert_eq!(detail.matches("seed").count(), 1, "{detail}");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn control_plane_fault_rules_are_bounded() {
    let (emu, http) = start().await;
    let long_path = json!({"action": "close", "path": "a".repeat(1025)});
    let long_delay = json!({"action": "delay", "delay_ms": 600_001});
    for bad in [long_path, long_delay] {
        let r = http.control(Method::POST, "faults", Some(bad)).await;
        assert_eq!((r.status, r.code()), (422, "INVALID_FAULT"), "{:?}", r.json);
    }
    let many: Vec<Value> = (0..1000)
        .map(|_| json!({"action": "close", "path": "/x"}))
        .collect();
    let r = http
        .control(Method::POST, "faults", Some(json!(many)))
        .await;
    assert_eq!(r.status, 200);
    let r = http
        .control(
            Method::POST,
            "faults",
            Some(json!({"action": "close", "path": "/x"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "INVALID_FAULT"));
    assert!(
        r.json["detail"].as_str().unwrap().contains("1000"),
        "{:?}",
        r.json
    );
    assert_eq!(emu.pending_faults().len(), 1000);
    emu.shutdown().await.unwrap();
}
