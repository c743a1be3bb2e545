//! Workload 1: client overhead. `get_group` over keep-alive through our
//! client (groups-hyper transport + core `GroupsClient`, parsing into
//! `groups_types::Group`) versus hyper-util's legacy client sending the same
//! request (method, URI, headers, body captured from our client) and reading
//! the body without parsing it; same emulator, sequential and with 16
//! concurrent tasks. Rounds alternate the two sides (and which goes first),
//! so drift on a shared machine hits both; the median round is reported.

use std::time::Instant;

use bytes::Bytes;
use groups_types::GroupId;
use http::Request;
use http_body_util::Full;
use serde_json::{Value, json};

use crate::net::{Api, BareClient, bare_client, send_raw};
use crate::proc::ServerProcess;
use crate::report::{Goal, Measure, Row};
use crate::{Ctx, ours};
use groups_bench::median;

const TASKS: usize = 16;

fn bare_request(c: &Request<Bytes>) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(c.method().clone())
        .uri(c.uri().clone())
        .version(c.version());
    if let Some(h) = b.headers_mut() {
        *h = c.headers().clone();
    }
    b.body(Full::new(c.body().clone()))
        .expect("parts taken from a valid request")
}

async fn ours_calls(
    client: &groups_hyper::GroupsClient,
    gid: GroupId,
    n: usize,
) -> Result<(), String> {
    for _ in 0..n {
        let g = client
            .get_group(gid, &[])
            .await
            .map_err(|e| format!("ours: {e}"))?;
        if g.id != gid {
            return Err("ours: wrong group".into());
        }
    }
    Ok(())
}

async fn bare_calls(
    client: &BareClient,
    captured: &Request<Bytes>,
    n: usize,
) -> Result<(), String> {
    for _ in 0..n {
        let (status, body) = send_raw(client, bare_request(captured)).await?;
        if status != 200 || body.is_empty() {
            return Err(format!("bare: HTTP {status}"));
        }
    }
    Ok(())
}

/// ops/s of `n` calls split over `tasks` tasks.
async fn ours_rate(
    client: &groups_hyper::GroupsClient,
    gid: GroupId,
    n: usize,
    tasks: usize,
) -> Result<f64, String> {
    let started = Instant::now();
    if tasks == 1 {
        ours_calls(client, gid, n).await?;
    } else {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let c = client.clone();
            handles.push(tokio::spawn(
                async move { ours_calls(&c, gid, n / tasks).await },
            ));
        }
        for h in handles {
            h.await.map_err(|e| e.to_string())??;
        }
    }
    Ok((n / tasks * tasks) as f64 / started.elapsed().as_secs_f64())
}

async fn bare_rate(
    client: &BareClient,
    captured: &Request<Bytes>,
    n: usize,
    tasks: usize,
) -> Result<f64, String> {
    let started = Instant::now();
    if tasks == 1 {
        bare_calls(client, captured, n).await?;
    } else {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let c = client.clone();
            let r = captured.clone();
            handles.push(tokio::spawn(
                async move { bare_calls(&c, &r, n / tasks).await },
            ));
        }
        for h in handles {
            h.await.map_err(|e| e.to_string())??;
        }
    }
    Ok((n / tasks * tasks) as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value), String> {
    let (rounds, n) = if ctx.quick { (2, 200) } else { (7, 2000) };
    let mut emu =
        ServerProcess::start_bin("groups-emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let token = "bench-w1";
    let api = Api::new(&emu.base_url, token);
    let gid_s = api.create_group("workload 1").await?;
    let gid: GroupId = gid_s.parse().map_err(|e| format!("{e}"))?;
    let body = api.get(&format!("/v2/groups/{gid_s}")).await?;
    let ours = ours::client(&emu.base_url, token)?;
    let captured = ours::captured_get_group(&emu.base_url, token, &gid_s, body.clone()).await?;
    let bare = bare_client();

    // Warm-up: open pooled connections (16 for the concurrent case) on both sides.
    ours_rate(&ours, gid, TASKS * 20, TASKS).await?;
    bare_rate(&bare, &captured, TASKS * 20, TASKS).await?;

    let mut out = Vec::new();
    let mut details = serde_json::Map::new();
    for (label, tasks, goal_id) in [
        ("sequential", 1usize, "1a"),
        ("16 concurrent tasks", TASKS, "1b"),
    ] {
        let calls = if tasks == 1 { n } else { n * 2 };
        let (mut o, mut b) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                o.push(ours_rate(&ours, gid, calls, tasks).await?);
                b.push(bare_rate(&bare, &captured, calls, tasks).await?);
            } else {
                b.push(bare_rate(&bare, &captured, calls, tasks).await?);
                o.push(ours_rate(&ours, gid, calls, tasks).await?);
            }
        }
        details.insert(
            goal_id.to_owned(),
            json!({"calls_per_round": calls, "tasks": tasks, "ours_ops_s": o, "bare_ops_s": b}),
        );
        let (om, bm) = (median(&mut o), median(&mut b));
        out.push(
            Row::new(
                goal_id,
                &format!("get_group over keep-alive, {label}, emulator"),
                Measure::new(om, "ops/s"),
                "bare hyper-util client",
                Some(Measure::new(bm, "ops/s")),
                Some(om / bm),
                "ours ops/s ÷ bare ops/s (median of rounds)",
                Goal::at_least(0.9),
            )
            .note(format!(
                "{rounds} alternating rounds of {calls} calls; response body {} bytes; ours parses into `Group`, bare reads the bytes only.",
                body.len()
            )),
        );
    }
    emu.check_alive()?;
    Ok((out, Value::Object(details)))
}
