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
use crate::proc::{self, ServerProcess};
use crate::report::{self, Measure, Row};
use crate::{Ctx, ours};
use groups_bench::median;
use groups_core::Transport;
use groups_hyper::{HyperClientBuilder, HyperTransport};

const TASKS: usize = 16;

/// Throughput of one round and the CPU this process (the client side; the
/// emulator is another process) spent per call.
#[derive(Clone, Copy)]
struct Rate {
    ops_s: f64,
    cpu_us_per_call: f64,
}

impl Rate {
    fn since(started: Instant, cpu: f64, calls: usize) -> Rate {
        Rate {
            ops_s: calls as f64 / started.elapsed().as_secs_f64(),
            cpu_us_per_call: (process_cpu_secs() - cpu) * 1e6 / calls as f64,
        }
    }
}

/// Voluntary + involuntary context switches of all threads of this process.
fn context_switches() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut n = 0;
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        for line in text.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                n += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    n
}

/// CPU time of this process (all threads; the emulator is another
/// process): the sum of each thread's on-CPU nanoseconds from
/// `/proc/self/task/*/schedstat`. Threads that exited are not counted, so
/// only differences between two calls during which no thread exits mean
/// anything (true here: the Tokio workers live as long as the runtime).
fn process_cpu_secs() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns: u64 = 0;
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        ns += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    ns as f64 / 1e9
}

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
            .get_group(gid)
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

async fn transport_calls(
    t: &HyperTransport,
    captured: &Request<Bytes>,
    n: usize,
) -> Result<(), String> {
    for _ in 0..n {
        let response = t
            .send(captured.clone())
            .await
            .map_err(|e| format!("transport: {e}"))?;
        if response.status() != 200 || response.body().is_empty() {
            return Err(format!("transport: HTTP {}", response.status()));
        }
    }
    Ok(())
}

/// ops/s of our transport alone (no core client, no parsing).
async fn transport_rate(
    t: &HyperTransport,
    captured: &Request<Bytes>,
    n: usize,
    tasks: usize,
) -> Result<Rate, String> {
    let started = Instant::now();
    let cpu = process_cpu_secs();
    // One task runs in the runtime's main future, as ours and bare do.
    if tasks == 1 {
        transport_calls(t, captured, n).await?;
    } else {
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let t = t.clone();
            let r = captured.clone();
            handles.push(tokio::spawn(async move {
                transport_calls(&t, &r, n / tasks).await
            }));
        }
        for h in handles {
            h.await.map_err(|e| e.to_string())??;
        }
    }
    Ok(Rate::since(started, cpu, n / tasks * tasks))
}

/// ops/s of `n` calls split over `tasks` tasks.
async fn ours_rate(
    client: &groups_hyper::GroupsClient,
    gid: GroupId,
    n: usize,
    tasks: usize,
) -> Result<Rate, String> {
    let started = Instant::now();
    let cpu = process_cpu_secs();
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
    Ok(Rate::since(started, cpu, n / tasks * tasks))
}

async fn bare_rate(
    client: &BareClient,
    captured: &Request<Bytes>,
    n: usize,
    tasks: usize,
) -> Result<Rate, String> {
    let started = Instant::now();
    let cpu = process_cpu_secs();
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
    Ok(Rate::since(started, cpu, n / tasks * tasks))
}

struct Sides {
    ours: groups_hyper::GroupsClient,
    bare: BareClient,
    transport: HyperTransport,
}

/// Fresh clients, built inside the runtime that will drive them (hyper-util
/// spawns each pooled connection's task on the current runtime).
fn sides(base: &str, token: &str) -> Result<Sides, String> {
    Ok(Sides {
        ours: ours::client(base, token)?,
        bare: bare_client(),
        transport: HyperClientBuilder::new()
            .base_url(base)
            .allow_plain_http_loopback(true)
            .build_transport()
            .map_err(|e| e.to_string())?,
    })
}

type Rounds = (Vec<Rate>, Vec<Rate>, Vec<Rate>);

async fn measure(
    s: &Sides,
    gid: GroupId,
    captured: &Request<Bytes>,
    calls: usize,
    tasks: usize,
    rounds: usize,
) -> Result<Rounds, String> {
    // Warm-up: open the pooled connections on every side.
    let warm = (tasks * 20).max(200);
    ours_rate(&s.ours, gid, warm, tasks).await?;
    bare_rate(&s.bare, captured, warm, tasks).await?;
    transport_rate(&s.transport, captured, warm, tasks).await?;
    let (mut o, mut b, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            o.push(ours_rate(&s.ours, gid, calls, tasks).await?);
            b.push(bare_rate(&s.bare, captured, calls, tasks).await?);
            t.push(transport_rate(&s.transport, captured, calls, tasks).await?);
        } else {
            t.push(transport_rate(&s.transport, captured, calls, tasks).await?);
            b.push(bare_rate(&s.bare, captured, calls, tasks).await?);
            o.push(ours_rate(&s.ours, gid, calls, tasks).await?);
        }
    }
    Ok((o, b, t))
}

pub fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value), String> {
    let (rounds, n) = if ctx.quick { (2, 200) } else { (9, 2000) };
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut emu =
        ServerProcess::start_bin("groups-emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let token = "bench-w1";
    let base = emu.base_url.clone();
    let (gid, body, captured) = multi.block_on(async {
        let api = Api::new(&base, token);
        let gid_s = api.create_group("workload 1").await?;
        let gid: GroupId = gid_s.parse().map_err(|e| format!("{e}"))?;
        let body = api.get(&format!("/v2/groups/{gid_s}")).await?;
        let captured = ours::captured_get_group(&base, token, &gid_s, body.clone()).await?;
        Ok::<_, String>((gid, body, captured))
    })?;

    // Sequential calls on Tokio's current-thread runtime (what a sequential
    // program uses; on two cores the multi-threaded runtime's idle worker
    // spins and competes with the emulator), 16 tasks on the multi-threaded one.
    //
    // PINNING: on this kind of VM a wake-up across vCPUs costs ~50 µs each
    // way (a loopback ping-pong takes ~115 µs between CPUs, ~18 µs on one),
    // which would drown the cost of any client. For the sequential phase the
    // emulator and the client thread share CPU 0; both sides run alike.
    let pinned = ctx.pin && emu.pin("0").is_ok();
    let sequential = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if pinned {
                    proc::pin_current_thread("0")?;
                }
                single.block_on(async {
                    let s = sides(&base, token)?;
                    measure(&s, gid, &captured, n, 1, rounds).await
                })
            })
            .join()
            .map_err(|_| "sequential phase panicked".to_owned())?
    })?;
    drop(single);
    if pinned {
        let all = format!(
            "0-{}",
            std::thread::available_parallelism().map_or(1, |n| n.get()) - 1
        );
        emu.pin(&all)?;
    }
    let concurrent = multi.block_on(async {
        let s = sides(&base, token)?;
        measure(&s, gid, &captured, n * 2, TASKS, rounds).await
    })?;
    emu.check_alive()?;

    let mut out = Vec::new();
    let mut details = serde_json::Map::new();
    for (label, tasks, goal_id, (o, b, t)) in [
        (
            if pinned {
                "sequential (current-thread runtime; client and emulator on CPU 0)"
            } else {
                "sequential (current-thread runtime)"
            },
            1usize,
            "1a",
            sequential,
        ),
        (
            "16 concurrent tasks (multi-thread runtime)",
            TASKS,
            "1b",
            concurrent,
        ),
    ] {
        let calls = if tasks == 1 { n } else { n * 2 };
        let ops = |v: &[Rate]| v.iter().map(|r| r.ops_s).collect::<Vec<f64>>();
        let cpu = |v: &[Rate]| v.iter().map(|r| r.cpu_us_per_call).collect::<Vec<f64>>();
        details.insert(
            goal_id.to_owned(),
            json!({"calls_per_round": calls, "tasks": tasks,
                   "ours_ops_s": ops(&o), "bare_ops_s": ops(&b), "transport_only_ops_s": ops(&t),
                   "ours_cpu_us_per_call": cpu(&o), "bare_cpu_us_per_call": cpu(&b),
                   "transport_only_cpu_us_per_call": cpu(&t)}),
        );
        let (om, bm, tm) = (
            median(&mut ops(&o)),
            median(&mut ops(&b)),
            median(&mut ops(&t)),
        );
        let (oc, bc, tc) = (
            median(&mut cpu(&o)),
            median(&mut cpu(&b)),
            median(&mut cpu(&t)),
        );
        out.push(
            Row::new(goal_id, &format!("get_group over keep-alive, {label}, emulator"), Measure::new(om, "ops/s"), "bare hyper-util client", Some(Measure::new(bm, "ops/s")), Some(om / bm), "ours ops/s ÷ bare ops/s (median of rounds)")
            .note(format!(
                "{rounds} alternating rounds of {calls} calls; response body {} bytes; ours parses into `Group`, bare reads the bytes only. Our transport alone (HyperTransport::send, no core client, no parsing): {} ops/s ({:.2}× bare). Client-process CPU per call (median): ours {oc:.1} µs, transport alone {tc:.1} µs, bare {bc:.1} µs.",
                body.len(),
                report::fmt_num(tm),
                tm / bm
            )),
        );
    }
    Ok((out, Value::Object(details)))
}

/// The line a sequential profile side prints when its calls are done.
fn print_sequential(side: &str, started: Instant, cpu: f64, calls: usize, what: &str) {
    let rate = Rate::since(started, cpu, calls);
    println!(
        "{side}: {:.0} ops/s over {calls} sequential {what}; {:.1} µs CPU per call in this process",
        rate.ops_s, rate.cpu_us_per_call
    );
}

/// `groups-bench profile-client`: one side of workload 1 in a loop, for
/// `perf record` (start the emulator, then `calls` calls split over `tasks`).
pub async fn profile(
    emulator: &std::path::Path,
    side: &str,
    calls: usize,
    tasks: usize,
) -> Result<(), String> {
    let emu = ServerProcess::start_bin("groups-emulator", emulator, &["serve", "--port", "0"])?;
    let token = "bench-profile";
    let api = Api::new(&emu.base_url, token);
    let gid_s = api.create_group("profile").await?;
    let gid: GroupId = gid_s.parse().map_err(|e| format!("{e}"))?;
    let body = api.get(&format!("/v2/groups/{gid_s}")).await?;
    let captured = ours::captured_get_group(&emu.base_url, token, &gid_s, body.clone()).await?;
    if side == "transport-parse" {
        // Our transport, then decoding the body into `Group` in the same task:
        // the client minus the core's request building and exchange.
        let t = HyperClientBuilder::new()
            .base_url(&emu.base_url)
            .allow_plain_http_loopback(true)
            .build_transport()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let cpu = process_cpu_secs();
        let mut handles = Vec::new();
        for _ in 0..tasks {
            let (t, r) = (t.clone(), captured.clone());
            handles.push(tokio::spawn(async move {
                for _ in 0..calls / tasks {
                    let response = t.send(r.clone()).await.map_err(|e| e.to_string())?;
                    let g: groups_types::Group =
                        serde_json::from_slice(response.body()).map_err(|e| e.to_string())?;
                    std::hint::black_box(g);
                }
                Ok::<_, String>(())
            }));
        }
        for h in handles {
            h.await.map_err(|e| e.to_string())??;
        }
        let rate = Rate::since(started, cpu, calls / tasks * tasks);
        println!(
            "{side}: {:.0} ops/s over {calls} calls in {tasks} tasks; {:.1} µs CPU per call in this process",
            rate.ops_s, rate.cpu_us_per_call
        );
        return Ok(());
    }
    if side == "core-shared" {
        let us = ours::core_cost_shared(&emu.base_url, token, &gid_s, body, calls, tasks).await?;
        println!(
            "core client over an in-memory transport, {tasks} tasks sharing it: {us:.2} µs wall per call"
        );
        return Ok(());
    }
    if side == "core" {
        let (full, parse) = ours::core_cost(&emu.base_url, token, &gid_s, body, calls).await?;
        println!(
            "core client over an in-memory transport: {full:.2} µs per get_group, of which parsing the body {parse:.2} µs"
        );
        return Ok(());
    }
    if let Some(kind) = side.strip_suffix("-mg") {
        // get_my_groups of a caller in 50 groups (workload 2b), sequential.
        for i in 1..50 {
            api.create_group(&format!("profile {i}")).await?;
        }
        let mut mg = captured.clone();
        *mg.uri_mut() = format!("{}v2/groups/my_groups", emu.base_url)
            .parse()
            .map_err(|e| format!("{e}"))?;
        let client = ours::client(&emu.base_url, token)?;
        let t = HyperClientBuilder::new()
            .base_url(&emu.base_url)
            .allow_plain_http_loopback(true)
            .build_transport()
            .map_err(|e| e.to_string())?;
        let bare = bare_client();
        let started = Instant::now();
        let cpu = process_cpu_secs();
        for _ in 0..calls {
            match kind {
                "ours" => {
                    let list = client.get_my_groups().await.map_err(|e| e.to_string())?;
                    if list.len() != 50 {
                        return Err(format!("{} groups", list.len()));
                    }
                }
                "transport" => {
                    t.send(mg.clone()).await.map_err(|e| e.to_string())?;
                }
                "bare" => {
                    send_raw(&bare, bare_request(&mg)).await?;
                }
                other => return Err(format!("unknown side {other}-mg")),
            }
        }
        print_sequential(side, started, cpu, calls, "get_my_groups (50 groups)");
        return Ok(());
    }
    if let Some(kind) = side.strip_suffix("-am") {
        // add_member through the manager (workload 2d), sequential: one
        // fresh identity per call, added to a group of its own.
        let add_gid_s = api.create_group("profile add_member").await?;
        let add_gid: GroupId = add_gid_s.parse().map_err(|e| format!("{e}"))?;
        let ids: Vec<groups_types::IdentityId> = (0..calls as u128)
            .map(|i| {
                groups_types::IdentityId::from_uuid(uuid::Uuid::from_u128(
                    0x5eed_0000_0000_4000_8000_0000_0000_0000 + i,
                ))
            })
            .collect();
        let manager = groups_manager::GroupsManager::new(ours::client(&emu.base_url, token)?);
        let uri: http::Uri = format!("{}v2/groups/{add_gid_s}", emu.base_url)
            .parse()
            .map_err(|e| format!("{e}"))?;
        let bare = bare_client();
        let started = Instant::now();
        let cpu = process_cpu_secs();
        for id in &ids {
            match kind {
                "ours" => {
                    manager
                        .add_member(add_gid, *id)
                        .await
                        .map_err(|e| format!("add_member: {e}"))?;
                }
                "bare" => {
                    let request = crate::net::bare_add_request(&captured, &uri, &id.to_string())?;
                    let (status, _) = send_raw(&bare, request).await?;
                    if status != 200 {
                        return Err(format!("bare add: HTTP {status}"));
                    }
                }
                other => return Err(format!("unknown side {other}-am")),
            }
        }
        print_sequential(side, started, cpu, calls, "add_member");
        return Ok(());
    }
    let switches = context_switches();
    let rate = match side {
        "ours" => ours_rate(&ours::client(&emu.base_url, token)?, gid, calls, tasks).await?,
        // Experiment: no overall deadline and no per-attempt timeout, so no
        // Tokio timer is registered per call.
        "ours-no-timers" => {
            let client = HyperClientBuilder::new()
                .base_url(&emu.base_url)
                .allow_plain_http_loopback(true)
                .no_overall_deadline()
                .no_attempt_timeout()
                .build_with_token(token.to_owned())
                .map_err(|e| e.to_string())?;
            ours_rate(&client, gid, calls, tasks).await?
        }
        // Experiments: one of the two limits only (each makes one timer per
        // attempt, like the defaults).
        "ours-deadline-only" | "ours-attempt-timeout-only" => {
            let mut b = HyperClientBuilder::new()
                .base_url(&emu.base_url)
                .allow_plain_http_loopback(true);
            b = if side == "ours-deadline-only" {
                b.no_attempt_timeout()
            } else {
                b.no_overall_deadline()
            };
            let client = b
                .build_with_token(token.to_owned())
                .map_err(|e| e.to_string())?;
            ours_rate(&client, gid, calls, tasks).await?
        }
        "bare" => bare_rate(&bare_client(), &captured, calls, tasks).await?,
        "transport-no-timers" => {
            let t = HyperClientBuilder::new()
                .base_url(&emu.base_url)
                .allow_plain_http_loopback(true)
                .no_attempt_timeout()
                .build_transport()
                .map_err(|e| e.to_string())?;
            transport_rate(&t, &captured, calls, tasks).await?
        }
        "transport" => {
            let t = HyperClientBuilder::new()
                .base_url(&emu.base_url)
                .allow_plain_http_loopback(true)
                .build_transport()
                .map_err(|e| e.to_string())?;
            transport_rate(&t, &captured, calls, tasks).await?
        }
        other => return Err(format!("unknown side {other:?} (ours, transport, bare)")),
    };
    let switches = (context_switches() - switches) as f64 / calls as f64;
    println!(
        "{side}: {:.0} ops/s over {calls} calls in {tasks} tasks; {:.1} µs CPU and {switches:.2} context switches per call in this process",
        rate.ops_s, rate.cpu_us_per_call
    );
    Ok(())
}
