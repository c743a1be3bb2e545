//! HTTPS against loopback servers whose CA and certificates are generated
//! in the test (rcgen), served by rustls + hyper: custom CA bundles, ALPN
//! HTTP/2, and the refusals.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use groups_core::transport::{Transport, TransportErrorKind};
use groups_hyper::{HyperClientBuilder, HyperTransport};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

struct Pki {
    ca_pem: String,
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

/// A fresh CA and a server certificate for `names` signed by it.
fn make_pki(names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "groups-hyper test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

struct TlsServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    fn base(&self) -> String {
        format!("https://{}/", self.addr)
    }
    fn url(&self, path: &str) -> String {
        format!("https://{}{}", self.addr, path)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serve every request with 200 and a body naming the HTTP version seen.
async fn tls_server(pki: &Pki, alpn: &[&[u8]]) -> TlsServer {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![pki.cert.clone()],
        PrivateKeyDer::Pkcs8(pki.key.clone_key()),
    )
    .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            conns.spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let body = format!(
                        r#"{{"version":"{:?}","authorized":{}}}"#,
                        req.version(),
                        req.headers().contains_key("authorization")
                    );
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap(),
                    )
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsServer {
        addr,
        connections,
        task,
    }
}

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
