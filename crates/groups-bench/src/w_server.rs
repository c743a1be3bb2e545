//! Workload 4: the emulator as a server. 64 keep-alive connections send
//! `GET /v2/groups/{id}` back to back for a fixed time (closed loop, see
//! `load.rs`) against: the emulator (release binary), a minimal hyper server
//! answering the emulator's own bytes for that request (the limit), and the
//! PyPI `fauxbus` fake, launched through `bench/python/fauxbus_nodelay.py`
//! (TCP_NODELAY on accepted sockets). In a full run fauxbus as shipped
//! (Nagle on) is also measured briefly, for the record.

use std::process::Command;
use std::time::Duration;

use groups_bench::median;
use serde_json::{Value, json};

use crate::Ctx;
use crate::load::{self, LoadResult};
use crate::net::Api;
use crate::proc::{Banner, ServerProcess};
use crate::report::{Measure, Row};

const CONNS: usize = 64;
const TOKEN: &str = "bench-w4";

fn fauxbus_cmd(ctx: &Ctx, nodelay: bool) -> Option<Command> {
    let python = ctx.fauxbus_python.as_ref()?;
    let mut cmd = Command::new(python);
    if nodelay {
        cmd.arg(ctx.scripts.join("python/fauxbus_nodelay.py"));
    } else {
        cmd.args(["-m", "fauxbus.cli"]);
    }
    cmd.args(["serve", "--host", "127.0.0.1", "--port", "0"]);
    Some(cmd)
}

async fn prepare(server: &ServerProcess) -> Result<String, String> {
    let api = Api::new(&server.base_url, TOKEN);
    let gid = api.create_group("workload 4").await?;
    Ok(format!("/v2/groups/{gid}"))
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value, Vec<String>), String> {
    let (rounds, warmup, measure) = if ctx.quick {
        (1, Duration::from_millis(200), Duration::from_millis(600))
    } else {
        (3, Duration::from_millis(500), Duration::from_secs(3))
    };
    let mut errors = Vec::new();
    let mut emu =
        ServerProcess::start_bin("groups-emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let emu_path = prepare(&emu).await?;
    let body = Api::new(&emu.base_url, TOKEN).get(&emu_path).await?;
    let body_file = ctx.out.join("w4-get-group-body.json");
    std::fs::write(&body_file, &body).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let body_arg = body_file.to_string_lossy().into_owned();
    let mut minimal = ServerProcess::start_bin(
        "minimal hyper server",
        &exe,
        &["minimal-server", "--body-file", &body_arg],
    )?;

    let (mut emu_runs, mut min_runs): (Vec<LoadResult>, Vec<LoadResult>) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        emu_runs.push(load::run(&emu.authority, &emu_path, TOKEN, CONNS, warmup, measure).await?);
        min_runs
            .push(load::run(&minimal.authority, &emu_path, TOKEN, CONNS, warmup, measure).await?);
    }
    emu.check_alive()?;
    minimal.check_alive()?;
    drop(minimal);
    drop(emu);

    let mut fb: Option<LoadResult> = None;
    let mut fb_shipped: Option<LoadResult> = None;
    match fauxbus_cmd(ctx, true) {
        Some(cmd) => {
            let mut server =
                ServerProcess::start("fauxbus (TCP_NODELAY launcher)", cmd, Banner::Stderr)?;
            let path = prepare(&server).await?;
            fb = Some(load::run(&server.authority, &path, TOKEN, CONNS, warmup, measure).await?);
            server.check_alive()?;
            drop(server);
            if !ctx.quick
                && let Some(cmd) = fauxbus_cmd(ctx, false)
            {
                let mut server = ServerProcess::start("fauxbus (as shipped)", cmd, Banner::Stderr)?;
                let path = prepare(&server).await?;
                fb_shipped = Some(
                    load::run(
                        &server.authority,
                        &path,
                        TOKEN,
                        CONNS,
                        Duration::from_millis(500),
                        Duration::from_secs(2),
                    )
                    .await?,
                );
                server.check_alive()?;
            }
        }
        None => errors.push("fauxbus not run: its venv could not be prepared".to_owned()),
    }

    let pick = |runs: &[LoadResult], f: fn(&LoadResult) -> f64| -> f64 {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        median(&mut v)
    };
    let emu_rps = pick(&emu_runs, |r| r.rps);
    let min_rps = pick(&min_runs, |r| r.rps);
    let emu_p99 = pick(&emu_runs, |r| r.p99_us) / 1e3;
    let min_p99 = pick(&min_runs, |r| r.p99_us) / 1e3;
    let label = format!("GET /v2/groups/{{id}}, {CONNS} keep-alive connections");
    let mut rows = vec![
        Row::new("4a", &format!("emulator req/s, {label}"), Measure::new(emu_rps, "req/s"), "minimal hyper server", Some(Measure::new(min_rps, "req/s")), Some(emu_rps / min_rps), "emulator req/s ÷ minimal server req/s")
        .note(format!(
            "median of {rounds} alternating runs of {:.1} s after {:.1} s warm-up; minimal server answers the emulator's own {}-byte body.",
            measure.as_secs_f64(),
            warmup.as_secs_f64(),
            body.len()
        )),
        Row::new("4b", &format!("emulator p99 latency, {label}"), Measure::new(emu_p99, "ms"), "minimal hyper server", Some(Measure::new(min_p99, "ms")), Some(min_p99 / emu_p99), "minimal p99 ÷ emulator p99"),
    ];
    let fb_note = "fauxbus 0.4.0 through bench/python/fauxbus_nodelay.py (TCP_NODELAY on accepted sockets); its body differs (its own group document).";
    rows.push(
        Row::new("4c", &format!("emulator req/s, {label}"), Measure::new(emu_rps, "req/s"), "fauxbus (TCP_NODELAY)", fb.as_ref().map(|r| Measure::new(r.rps, "req/s")), fb.as_ref().map(|r| emu_rps / r.rps), "emulator req/s ÷ fauxbus req/s")
        .note(match &fb_shipped {
            Some(s) => format!(
                "{fb_note} As shipped (Nagle on) fauxbus managed {:.0} req/s ({:.1} per connection), p99 {:.0} ms.",
                s.rps,
                s.rps / CONNS as f64,
                s.p99_us / 1e3
            ),
            None => fb_note.to_owned(),
        }),
    );
    rows.push(Row::new(
        "4d",
        &format!("emulator p99 latency, {label}"),
        Measure::new(emu_p99, "ms"),
        "fauxbus (TCP_NODELAY)",
        fb.as_ref().map(|r| Measure::new(r.p99_us / 1e3, "ms")),
        fb.as_ref().map(|r| r.p99_us / 1e3 / emu_p99),
        "fauxbus p99 ÷ emulator p99",
    ));
    let details = json!({
        "emulator": emu_runs, "minimal": min_runs,
        "fauxbus_nodelay": fb, "fauxbus_shipped": fb_shipped,
        "body_bytes": body.len(),
    });
    Ok((rows, details, errors))
}
