//! Our stack, built the way an application builds it: groups-hyper's
//! builder, a fixed access token, the emulator's base URL.

use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use groups_core::auth::AccessTokenProvider;
use groups_core::transport::{Instant, Transport, TransportError};
use groups_hyper::{GroupsClient, HyperClientBuilder};

/// Our client against `base` (plain HTTP to loopback allowed).
pub fn client(base: &str, token: &str) -> Result<GroupsClient, String> {
    HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_with_token(token.to_owned())
        .map_err(|e| format!("building our client: {e}"))
}

/// A transport that records the request our client would send and answers
/// with a canned 200 JSON body.
#[derive(Clone)]
pub struct Recorder {
    seen: Arc<Mutex<Option<http::Request<Bytes>>>>,
    answer: Bytes,
}

impl Recorder {
    /// A recorder answering `answer`.
    pub fn new(answer: Bytes) -> Self {
        Recorder {
            seen: Arc::new(Mutex::new(None)),
            answer,
        }
    }
}

impl Transport for Recorder {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(request);
        }
        let response = http::Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(self.answer.clone())
            .map_err(|e| {
                TransportError::new(
                    groups_core::transport::TransportErrorKind::Other,
                    e.to_string(),
                )
            });
        std::future::ready(response)
    }

    fn sleep_until(&self, _deadline: Instant) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::ZERO
    }
}

/// The exact request (method, URI, headers, body) our client sends for
/// `get_group(group_id)`, captured through a recording transport built with
/// the same configuration as [`client`].
pub async fn captured_get_group(
    base: &str,
    token: &str,
    group_id: &str,
    answer: Bytes,
) -> Result<http::Request<Bytes>, String> {
    let config = HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_config()
        .map_err(|e| e.to_string())?;
    let recorder = Recorder::new(answer);
    let auth = AccessTokenProvider::new(token.to_owned()).map_err(|e| e.to_string())?;
    let client = groups_core::GroupsClient::new(recorder.clone(), config, auth);
    client
        .get_group(group_id)
        .await
        .map_err(|e| format!("recording get_group: {e}"))?;
    let seen = recorder
        .seen
        .lock()
        .map_err(|_| "recorder poisoned".to_owned())?
        .take();
    seen.ok_or_else(|| "our client sent nothing".to_owned())
}

/// Per-call cost of the core client alone: `get_group` through
/// `GroupsClient` over the in-memory [`Recorder`] transport (build the
/// request, run the exchange, parse the canned body), and of parsing the
/// body alone; microseconds per call, medians of 5 rounds of `n`.
pub async fn core_cost(
    base: &str,
    token: &str,
    group_id: &str,
    answer: Bytes,
    n: usize,
) -> Result<(f64, f64), String> {
    let config = HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_config()
        .map_err(|e| e.to_string())?;
    let auth = AccessTokenProvider::new(token.to_owned()).map_err(|e| e.to_string())?;
    let client = groups_core::GroupsClient::new(Recorder::new(answer.clone()), config, auth);
    let gid: groups_types::GroupId = group_id.parse().map_err(|e| format!("{e}"))?;
    let (mut full, mut parse) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let started = std::time::Instant::now();
        for _ in 0..n {
            let g = client.get_group(gid).await.map_err(|e| e.to_string())?;
            std::hint::black_box(g);
        }
        full.push(started.elapsed().as_secs_f64() * 1e6 / n as f64);
        let started = std::time::Instant::now();
        for _ in 0..n {
            let g: groups_types::Group =
                serde_json::from_slice(std::hint::black_box(&answer)).map_err(|e| e.to_string())?;
            std::hint::black_box(g);
        }
        parse.push(started.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    Ok((
        groups_bench::median(&mut full),
        groups_bench::median(&mut parse),
    ))
}

/// Like [`core_cost`] but `tasks` tasks share one client on the current
/// runtime (run it on the multi-threaded one): wall-clock microseconds per
/// call over all tasks, the core's cost under contention with no network.
pub async fn core_cost_shared(
    base: &str,
    token: &str,
    group_id: &str,
    answer: Bytes,
    n: usize,
    tasks: usize,
) -> Result<f64, String> {
    let config = HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_config()
        .map_err(|e| e.to_string())?;
    let auth = AccessTokenProvider::new(token.to_owned()).map_err(|e| e.to_string())?;
    let client = groups_core::GroupsClient::new(Recorder::new(answer), config, auth);
    let gid: groups_types::GroupId = group_id.parse().map_err(|e| format!("{e}"))?;
    let started = std::time::Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..n / tasks {
                let g = client.get_group(gid).await.map_err(|e| e.to_string())?;
                std::hint::black_box(g);
            }
            Ok::<_, String>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / (n / tasks * tasks) as f64)
}
