//! A closed-loop load generator: `conns` keep-alive HTTP/1.1 connections,
//! each sending the next request as soon as the previous answer is read,
//! for a fixed time. Latencies are recorded per request (after a warm-up)
//! and reported as requests/s, p50 and p99.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use groups_bench::percentile;

/// Longest wait for one answer before the connection is given up.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one load run measured.
#[derive(Clone, Debug, Serialize)]
pub struct LoadResult {
    /// Requests completed inside the measured window.
    pub requests: u64,
    /// Non-200 answers and broken connections inside the window.
    pub errors: u64,
    /// Length of the measured window.
    pub seconds: f64,
    /// `requests / seconds`.
    pub rps: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Size of the last response body.
    pub body_bytes: usize,
    /// Connections used.
    pub connections: usize,
}

struct ConnStats {
    latencies_us: Vec<f64>,
    ok: u64,
    errors: u64,
    body_bytes: usize,
}

/// Load `GET http://{authority}{path}` with `conns` connections for
/// `warmup + measure`; only requests started after the warm-up count.
pub async fn run(
    authority: &str,
    path: &str,
    token: &str,
    conns: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<LoadResult, String> {
    // Every connection is open before the clock starts, opened one after
    // the other: fauxbus listens with socketserver's backlog of 5, and 64
    // simultaneous connects would wait out SYN retransmissions (1 s, 3 s, ...).
    let mut senders = Vec::with_capacity(conns);
    for _ in 0..conns {
        senders.push(connect(authority).await?);
    }
    let start = Instant::now();
    let (measure_from, end) = (start + warmup, start + warmup + measure);
    let mut tasks = Vec::with_capacity(conns);
    for sender in senders {
        let authority = authority.to_owned();
        let path = path.to_owned();
        let auth = format!("Bearer {token}");
        tasks.push(tokio::spawn(async move {
            one_connection(sender, &authority, &path, &auth, measure_from, end).await
        }));
    }
    let mut latencies = Vec::new();
    let (mut ok, mut errors, mut body_bytes) = (0u64, 0u64, 0usize);
    for t in tasks {
        let stats = t.await.map_err(|e| format!("load task: {e}"))??;
        latencies.extend(stats.latencies_us);
        ok += stats.ok;
        errors += stats.errors;
        body_bytes = body_bytes.max(stats.body_bytes);
    }
    if ok == 0 {
        return Err(format!(
            "load on {authority}{path}: no successful request ({errors} errors)"
        ));
    }
    let seconds = measure.as_secs_f64();
    Ok(LoadResult {
        requests: ok,
        errors,
        seconds,
        rps: ok as f64 / seconds,
        p50_us: percentile(&mut latencies, 50.0),
        p99_us: percentile(&mut latencies, 99.0),
        body_bytes,
        connections: conns,
    })
}

async fn connect(authority: &str) -> Result<http1::SendRequest<Empty<Bytes>>, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake {authority}: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn one_connection(
    mut sender: http1::SendRequest<Empty<Bytes>>,
    authority: &str,
    path: &str,
    auth: &str,
    measure_from: Instant,
    end: Instant,
) -> Result<ConnStats, String> {
    let mut stats = ConnStats {
        latencies_us: Vec::with_capacity(4096),
        ok: 0,
        errors: 0,
        body_bytes: 0,
    };
    // Bounded: a server that keeps breaking connections fails the run.
    let mut reconnects_left = 1000u32;
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let request = Request::get(path)
            .header(header::HOST, authority)
            .header(header::AUTHORIZATION, auth)
            .header(header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        // Bounded: a request that takes longer than REQUEST_TIMEOUT counts as
        // an error and its connection is replaced.
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            sender.ready().await.map_err(Some)?;
            let response = sender.send_request(request).await.map_err(Some)?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(Some)?
                .to_bytes();
            Ok::<_, Option<hyper::Error>>((status, body.len()))
        })
        .await
        .unwrap_or_else(|_| Err(None))
        .map_err(|e: Option<hyper::Error>| e);
        let counted = started >= measure_from;
        match outcome {
            Ok((status, len)) => {
                if counted {
                    if status == StatusCode::OK {
                        stats.ok += 1;
                        stats
                            .latencies_us
                            .push(started.elapsed().as_secs_f64() * 1e6);
                    } else {
                        stats.errors += 1;
                    }
                }
                if status != StatusCode::OK && stats.ok == 0 && stats.errors > 100 {
                    return Err(format!("{authority}{path}: HTTP {status} on every request"));
                }
                stats.body_bytes = len;
            }
            Err(_) => {
                if counted {
                    stats.errors += 1;
                }
                reconnects_left = reconnects_left
                    .checked_sub(1)
                    .ok_or_else(|| format!("{authority}: connection broke 1000 times"))?;
                sender = connect(authority).await?;
            }
        }
    }
    Ok(stats)
}
