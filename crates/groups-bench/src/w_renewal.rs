//! Workload 10: token renewal under load.
//!
//! Our client with a client-credentials provider (groups-hyper's
//! `build_with_client_credentials`) against the emulator's Globus Auth and
//! Groups in strict mode (only issued tokens, only declared clients): 64
//! tasks share the client and call `get_group` in a closed loop. After a
//! steady phase the emulator's clock is moved past the access token's
//! lifetime (`POST /_emulator/clock`), so the service refuses the token
//! every task holds; the provider must renew it once for all of them and
//! every task must carry on.
//!
//! Figures: the token requests the emulator counted during the run (access
//! tokens issued to the client, read from `GET /_emulator/auth/tokens`;
//! goal: exactly 1 across the expiry), and the p99 latency of the calls in
//! the renewal window ÷ the p99 of the steady phase (goal ≤ 2). The
//! renewal window runs from the clock step until every task has finished
//! its first call that started after it; its calls are those that ended in
//! that window (so every call that met the refused token, and every call
//! that waited for the new one, is in it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use groups_bench::percentile;
use groups_core::GroupsScopes;
use groups_core::config::BaseUrl;
use groups_hyper::HyperClientBuilder;
use http::Method;
use serde_json::{Value, json};

use crate::Ctx;
use crate::net::Api;
use crate::proc::ServerProcess;
use crate::report::{Measure, Row};

const TASKS: usize = 64;
const SERVICE: &str = "bench-service";
const SECRET: &str = "bench-service-secret";
const IDENTITY: &str = "0000000a-0000-4000-8000-0000000000b1";

/// One call: when it started and ended, relative to the run's start.
#[derive(Clone, Copy)]
struct Sample {
    start: Duration,
    end: Duration,
}

async fn access_tokens_issued(api: &Api) -> Result<usize, String> {
    let body = api.get("/_emulator/auth/tokens").await?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| format!("token list: {e}"))?;
    Ok(v["tokens"]
        .as_array()
        .ok_or("token list: no tokens array")?
        .iter()
        .filter(|t| t["kind"] == "access" && t["client_id"] == SERVICE)
        .count())
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value), String> {
    let (steady, after) = if ctx.quick {
        (Duration::from_millis(400), Duration::from_millis(300))
    } else {
        (Duration::from_millis(2000), Duration::from_millis(1000))
    };
    let seed = ctx.out.join("renewal-seed.json");
    std::fs::write(
        &seed,
        serde_json::to_vec(&json!({
            "identities": [{"id": IDENTITY, "username": "bench-renewal@example.org"}],
            "clients": [{"id": SERVICE, "secret": SECRET}],
        }))
        .map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", seed.display()))?;
    let seed_arg = seed.display().to_string();
    let mut emu = ServerProcess::start_bin(
        "groups-emulator",
        &ctx.emulator,
        &[
            "serve",
            "--port",
            "0",
            "--strict-tokens",
            "--strict-clients",
            "--seed",
            &seed_arg,
        ],
    )?;
    let base = emu.base_url.clone();
    let control = Api::new(&base, "control-plane");
    let client = HyperClientBuilder::new()
        .base_url(&base)
        .auth_url(BaseUrl::parse(&base).map_err(|e| e.to_string())?)
        .allow_plain_http_loopback(true)
        .build_with_client_credentials(SERVICE, SECRET, [GroupsScopes::ALL])
        .map_err(|e| format!("client-credentials client: {e}"))?;
    let group = client
        .create_group(groups_types::GroupCreate::new("renewal"))
        .await
        .map_err(|e| format!("create_group: {e}"))?;
    let gid = group.id;
    let before = access_tokens_issued(&control).await?;

    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let (c, stop) = (client.clone(), Arc::clone(&stop));
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            // Bounded: the run stops the loop, and a call gives up at the
            // client's overall deadline.
            while !stop.load(Ordering::Relaxed) && samples.len() < 1_000_000 {
                let start = origin.elapsed();
                let g = c
                    .get_group(gid)
                    .await
                    .map_err(|e| format!("get_group: {e}"))?;
                if g.id != gid {
                    return Err("get_group: wrong group".to_owned());
                }
                samples.push(Sample {
                    start,
                    end: origin.elapsed(),
                });
            }
            Ok::<_, String>(samples)
        }));
    }
    tokio::time::sleep(steady).await;
    // Past the 48-hour access token lifetime on the emulator's clock.
    let step = origin.elapsed();
    control
        .call(
            Method::POST,
            "/_emulator/clock",
            Some(&json!({"advance_secs": 3 * 24 * 3600})),
        )
        .await?;
    let stepped = origin.elapsed();
    tokio::time::sleep(after).await;
    stop.store(true, Ordering::Relaxed);
    let mut per_task = Vec::new();
    for h in handles {
        per_task.push(h.await.map_err(|e| e.to_string())??);
    }
    let after_count = access_tokens_issued(&control).await?;
    emu.check_alive()?;
    let token_requests = after_count - before;

    // The window ends when every task has finished a call begun after the step.
    let mut window_end = stepped;
    for samples in &per_task {
        let first = samples
            .iter()
            .find(|s| s.start >= stepped)
            .ok_or("a task made no call after the clock step")?;
        window_end = window_end.max(first.end);
    }
    let warm = steady / 5;
    let ms = |s: &Sample| (s.end - s.start).as_secs_f64() * 1e3;
    let mut steady_ms: Vec<f64> = per_task
        .iter()
        .flatten()
        .filter(|s| s.start >= warm && s.end < step)
        .map(ms)
        .collect();
    let mut window_ms: Vec<f64> = per_task
        .iter()
        .flatten()
        .filter(|s| s.end >= step && s.end <= window_end)
        .map(ms)
        .collect();
    let (steady_n, window_n) = (steady_ms.len(), window_ms.len());
    let steady_p99 = percentile(&mut steady_ms, 99.0);
    let window_p99 = percentile(&mut window_ms, 99.0);
    let window_max = window_ms.last().copied().unwrap_or(f64::NAN);
    let steady_p50 = percentile(&mut steady_ms, 50.0);
    let window_len = (window_end - step).as_secs_f64() * 1e3;
    let rows = vec![
        Row::new("10a", "64 tasks across a token expiry (client credentials, emulator's Auth): token requests", Measure::new(token_requests as f64, "requests"), "one for all 64 tasks", Some(Measure::new(1.0, "requests")), Some(token_requests as f64), "token requests the emulator counted across the expiry")
        .note(format!(
            "64 tasks share one client built with build_with_client_credentials; closed loop of get_group against the emulator in strict mode; after {:.1} s the emulator's clock moves 3 days (past the 48 h token lifetime), so the service refuses the token every task holds. Counted at the emulator (access tokens issued to the client).",
            steady.as_secs_f64()
        )),
        Row::new("10b", "64 tasks across a token expiry: p99 latency in the renewal window", Measure::new(window_p99, "ms"), "steady p99", Some(Measure::new(steady_p99, "ms")), Some(window_p99 / steady_p99), "renewal-window p99 ÷ steady p99")
        .note(format!(
            "Renewal window: from the clock step until every task finished its first call begun after it ({window_len:.1} ms, {window_n} calls ending in it, slowest {window_max:.2} ms); steady: {steady_n} calls after {:.1} s of warm-up, p50 {steady_p50:.2} ms.",
            warm.as_secs_f64()
        )),
    ];
    if token_requests == 0 {
        return Err(
            "no token request across the expiry: the clock step did not expire the token"
                .to_owned(),
        );
    }
    let details = json!({
        "token_requests": token_requests, "steady_p99_ms": steady_p99, "window_p99_ms": window_p99,
        "window_ms": window_len, "window_calls": window_n, "steady_calls": steady_n,
        "window_max_ms": window_max, "steady_p50_ms": steady_p50,
    });
    Ok((rows, details))
}
