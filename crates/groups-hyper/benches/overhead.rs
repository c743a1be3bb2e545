//! Transport overhead: `HyperTransport::send` versus a bare hyper-util
//! client sending the same request and collecting the body, against a hyper
//! server on 127.0.0.1 answering a fixed 1 KiB JSON body over keep-alive.
//!
//! `cargo bench -p groups-hyper --bench overhead [-- --quick]`
//! Prints requests per second for both and the ratio (ours / bare).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use groups_core::transport::Transport;
use groups_hyper::HyperClientBuilder;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

async fn server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Bytes::from(format!(r#"{{"id":"x","pad":"{}"}}"#, "a".repeat(1000)));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tcp.set_nodelay(true).unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

fn request(url: &str) -> http::Request<Bytes> {
    http::Request::get(url)
        .header("accept", "application/json")
        .header("authorization", "Bearer bench-token")
        .body(Bytes::new())
        .unwrap()
}

async fn run<F, Fut>(tasks: usize, per_task: usize, f: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let f = f.clone();
        set.spawn(async move {
            let mut bytes = 0;
            for _ in 0..per_task {
                bytes += f().await;
            }
            bytes
        });
    }
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap() > 0);
    }
    (tasks * per_task) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let per_task = if quick { 200 } else { 5_000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let addr = server().await;
        let url = format!("http://{addr}/v2/groups/x");

        let ours = HyperClientBuilder::new()
            .base_url(format!("http://{addr}/"))
            .allow_plain_http_loopback(true)
            .build_transport()
            .unwrap();
        let bare: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build_http();

        for tasks in [1usize, 16] {
            let per = if tasks == 1 { per_task } else { per_task / 4 };
            let mut best = (0.0f64, 0.0f64);
            for _round in 0..3 {
                let u = url.clone();
                let b = bare.clone();
                let bare_rps = run(tasks, per, move || {
                    let b = b.clone();
                    let req = request(&u).map(Full::new);
                    async move {
                        let resp = b.request(req).await.unwrap();
                        resp.into_body().collect().await.unwrap().to_bytes().len()
                    }
                })
                .await;
                let u = url.clone();
                let o = ours.clone();
                let ours_rps = run(tasks, per, move || {
                    let o = o.clone();
                    let req = request(&u);
                    async move { o.send(req).await.unwrap().into_body().len() }
                })
                .await;
                best.0 = best.0.max(bare_rps);
                best.1 = best.1.max(ours_rps);
            }
            println!(
                "tasks={tasks:>2}  bare={:>9.0} req/s  ours={:>9.0} req/s  ratio={:.3}",
                best.0,
                best.1,
                best.1 / best.0
            );
        }
    });
}
