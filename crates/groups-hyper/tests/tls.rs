//! HTTPS against loopback servers whose CA and certificates are generated
//! in the test (rcgen), served by rustls + hyper: custom CA bundles, ALPN
//! HTTP/2, and the refusals.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::tls::{TlsServer, make_pki, tls_server};
use groups_core::transport::{Transport, TransportErrorKind};
use groups_hyper::{HyperClientBuilder, HyperTransport};

fn get(url: &str) -> http::Request<Bytes> {
    http::Request::get(url)
        .header("authorization", "Bearer tls-test-token")
        .body(Bytes::new())
        .unwrap()
}

fn client(server: &TlsServer, ca_pem: &str) -> HyperTransport {
    HyperClientBuilder::new()
        .base_url(server.base())
        .ca_bundle_pem(ca_pem)
        .build_transport()
        .unwrap()
}

#[tokio::test]
async fn https_with_custom_ca_over_http1() {
    let pki = make_pki(&["127.0.0.1", "localhost"]);
    let server = tls_server(&pki, &[b"http/1.1"]).await;
    let t = client(&server, &pki.ca_pem);
    let r = t
        .send(get(&server.url("/v2/groups/my_groups")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), http::Version::HTTP_11);
    assert_eq!(
        r.body().as_ref(),
        br#"{"version":"HTTP/1.1","authorized":true}"#
    );
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn_and_shares_one_connection() {
    let pki = make_pki(&["127.0.0.1"]);
    let server = tls_server(&pki, &[b"h2", b"http/1.1"]).await;
    let t = client(&server, &pki.ca_pem);
    for _ in 0..5 {
        let r = t.send(get(&server.url("/v2/groups"))).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.version(), http::Version::HTTP_2);
        assert_eq!(
            r.body().as_ref(),
            br#"{"version":"HTTP/2.0","authorized":true}"#
        );
    }
    // Concurrent requests multiplex over the same HTTP/2 connection.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let t = t.clone();
        let url = server.url("/v2/groups");
        set.spawn(async move { t.send(get(&url)).await.map(|r| r.status()) });
    }
    while let Some(res) = set.join_next().await {
        assert_eq!(res.unwrap().unwrap(), 200);
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

fn temp_pem(contents: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "groups-hyper-ca-{}-{}.pem",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(contents.as_bytes()).unwrap();
    path
}

#[tokio::test]
async fn ca_bundle_file_and_verify_ssl_path_are_trusted() {
    let pki = make_pki(&["127.0.0.1"]);
    let server = tls_server(&pki, &[b"h2", b"http/1.1"]).await;
    let path = temp_pem(&pki.ca_pem);

    let t = HyperClientBuilder::new()
        .base_url(server.base())
        .ca_bundle_file(&path)
        .build_transport()
        .unwrap();
    assert_eq!(t.send(get(&server.url("/a"))).await.unwrap().status(), 200);

    let path_str = path.to_str().unwrap().to_string();
    let t = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_VERIFY_SSL").then(|| path_str.clone())
    })
    .unwrap()
    .base_url(server.base())
    .build_transport()
    .unwrap();
    assert_eq!(t.send(get(&server.url("/a"))).await.unwrap().status(), 200);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn certificate_from_an_unknown_ca_is_refused_with_tls_kind() {
    let pki = make_pki(&["127.0.0.1"]);
    let server = tls_server(&pki, &[b"h2", b"http/1.1"]).await;

    // The default roots (Mozilla's) do not know the test CA.
    let default_roots = HyperClientBuilder::new()
        .base_url(server.base())
        .build_transport()
        .unwrap();
    let err = default_roots
        .send(get(&server.url("/a")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
    assert!(err.to_string().starts_with("tls error:"), "{err}");

    // Nor does a bundle holding some other CA.
    let other = make_pki(&["127.0.0.1"]);
    let err = client(&server, &other.ca_pem)
        .send(get(&server.url("/a")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn certificate_for_another_host_is_refused_with_tls_kind() {
    let pki = make_pki(&["groups.example.org"]);
    let server = tls_server(&pki, &[b"http/1.1"]).await;
    let err = client(&server, &pki.ca_pem)
        .send(get(&server.url("/a")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");
}

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

#[tokio::test]
async fn disabling_verification_works_and_warns_on_every_build() {
    let pki = make_pki(&["groups.example.org"]);
    let server = tls_server(&pki, &[b"h2", b"http/1.1"]).await;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = HyperClientBuilder::new()
        .base_url(server.base())
        .danger_accept_invalid_certs(true)
        .build_transport()
        .unwrap();
    assert_eq!(t.send(get(&server.url("/a"))).await.unwrap().status(), 200);

    let t = HyperClientBuilder::from_env_with(|name| {
        (name == "GLOBUS_SDK_VERIFY_SSL").then(|| "false".into())
    })
    .unwrap()
    .base_url(server.base())
    .build_transport()
    .unwrap();
    assert_eq!(t.send(get(&server.url("/a"))).await.unwrap().status(), 200);

    let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logged.matches("verification is DISABLED").count(),
        2,
        "{logged}"
    );
    assert!(logged.contains("WARN"), "{logged}");
}
