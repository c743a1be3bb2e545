//! `groups-bench`: every comparison of `cargo xtask bench` in one process
//! (plus the helper processes it starts: the emulator, a minimal server,
//! fauxbus, the Python and JavaScript SDK scripts, a memory probe).
//!
//! ```text
//! groups-bench run --emulator PATH --python PATH [--fauxbus-python PATH]
//!                  [--js-dir DIR] [--node PATH] [--scripts DIR] [--out DIR]
//!                  [--report FILE] [--quick] [--only 1,2,...]
//! groups-bench minimal-server --body-file FILE [--port 0]
//! groups-bench mem --file FILE --mode typed|value
//! groups-bench decode-loop --file FILE --mode typed|value|plain [--iters N]
//! groups-bench gen-data --groups N --out FILE
//! ```
//!
//! `run` exits non-zero only when something broke (a server did not start,
//! a script failed, an answer was wrong), never because of a speed figure.

// A binary: its items are private to it, whatever `pub` says.
#![allow(unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

mod load;
mod minimal;
mod net;
mod ours;
mod proc;
mod report;
mod w_callgrind;
mod w_cli;
mod w_client;
mod w_decode;
mod w_durable;
mod w_renewal;
mod w_scaling;
mod w_sdks;
mod w_server;

use report::{JsonReport, Row};

#[derive(Parser)]
#[command(name = "groups-bench", about = "Benchmarks of the Globus Groups SDK")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the workloads and write the report.
    Run(RunArgs),
    /// Serve one fixed body on 127.0.0.1 (the limit of workload 4).
    MinimalServer {
        /// The body to answer every request with.
        #[arg(long)]
        body_file: PathBuf,
        /// Port (0: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Decode a file in a fresh process and report peak RSS (workload 6).
    Mem {
        /// The `get_my_groups` body.
        #[arg(long)]
        file: PathBuf,
        /// `typed` (Vec<Group>) or `value` (serde_json::Value).
        #[arg(long)]
        mode: String,
    },
    /// Decode a file `iters` times (a side of workload 9 under callgrind).
    DecodeLoop {
        /// The `get_my_groups` body.
        #[arg(long)]
        file: PathBuf,
        /// `typed` (Vec<Group>), `value` (serde_json::Value) or `plain`
        /// (derive(Deserialize) structs dropping unknown keys).
        #[arg(long)]
        mode: String,
        /// Decodes.
        #[arg(long, default_value_t = 1)]
        iters: usize,
    },
    /// Our driver of workload 2 (run by `run`; reads
    /// GLOBUS_SDK_SERVICE_URL_GROUPS and a plan written by `run`).
    SdkRust {
        /// The plan JSON.
        plan: PathBuf,
    },
    /// One side of workload 1 in a loop, for profiling (`perf record`).
    ProfileClient {
        /// The groups-emulator binary.
        #[arg(long)]
        emulator: PathBuf,
        /// `ours`, `transport` or `bare`.
        #[arg(long)]
        side: String,
        /// Number of calls.
        #[arg(long, default_value_t = 200_000)]
        calls: usize,
        /// Concurrent tasks.
        #[arg(long, default_value_t = 16)]
        tasks: usize,
        /// Use Tokio's current-thread runtime instead of the multi-threaded one.
        #[arg(long)]
        current_thread: bool,
    },
    /// Closed-loop HTTP load on one path (for profiling a server).
    Load {
        /// `127.0.0.1:PORT`.
        #[arg(long)]
        authority: String,
        /// Request path, e.g. `/v2/groups/my_groups`.
        #[arg(long)]
        path: String,
        /// Bearer token.
        #[arg(long, default_value = "bench-load")]
        token: String,
        /// Keep-alive connections.
        #[arg(long, default_value_t = 64)]
        conns: usize,
        /// Seconds to measure (after 0.5 s of warm-up).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Write a synthetic `get_my_groups` body of N groups.
    GenData {
        /// Number of groups.
        #[arg(long)]
        groups: usize,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Each workload briefly (for CI): proves the benchmarks work.
    #[arg(long)]
    quick: bool,
    /// The groups-emulator binary (release build).
    #[arg(long)]
    emulator: PathBuf,
    /// Python with globus-sdk installed.
    #[arg(long)]
    python: PathBuf,
    /// Python with fauxbus installed (workload 4 runs without fauxbus if absent).
    #[arg(long)]
    fauxbus_python: Option<PathBuf>,
    /// Directory of sdk_bench.mjs with node_modules/@globus/sdk installed.
    #[arg(long)]
    js_dir: Option<PathBuf>,
    /// Node.js.
    #[arg(long, default_value = "node")]
    node: PathBuf,
    /// The repository's bench/ directory (Python scripts).
    #[arg(long, default_value = "bench")]
    scripts: PathBuf,
    /// Output directory (JSON, generated data).
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
    /// Where to write the markdown report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Only these workloads (comma-separated numbers; 9, instruction
    /// counts under valgrind, runs in a quick run only when listed).
    #[arg(long, value_delimiter = ',')]
    only: Vec<u8>,
    /// Do not pin sequential workloads to one CPU.
    #[arg(long)]
    no_pin: bool,
}

/// What every workload needs.
pub struct Ctx {
    /// Brief runs (CI).
    pub quick: bool,
    /// The release groups-emulator binary.
    pub emulator: PathBuf,
    /// Python with globus-sdk.
    pub python: PathBuf,
    /// Python with fauxbus, if it could be installed.
    pub fauxbus_python: Option<PathBuf>,
    /// bench/js with node_modules, if npm could install it.
    pub js_dir: Option<PathBuf>,
    /// Node.js.
    pub node: PathBuf,
    /// The repository's bench/ directory.
    pub scripts: PathBuf,
    /// Output directory.
    pub out: PathBuf,
    /// Pin latency-bound (sequential) workloads, client and emulator, to CPU 0.
    pub pin: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(args) => run(args),
        Cmd::MinimalServer { body_file, port } => std::fs::read(&body_file)
            .map_err(|e| format!("{}: {e}", body_file.display()))
            .and_then(|body| minimal::serve(body.into(), port)),
        Cmd::ProfileClient {
            emulator,
            side,
            calls,
            tasks,
            current_thread,
        } => if current_thread {
            tokio::runtime::Builder::new_current_thread()
        } else {
            tokio::runtime::Builder::new_multi_thread()
        }
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(w_client::profile(&emulator, &side, calls, tasks.max(1)))),
        Cmd::Load {
            authority,
            path,
            token,
            conns,
            seconds,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(load::run(
                    &authority,
                    &path,
                    &token,
                    conns.max(1),
                    std::time::Duration::from_millis(500),
                    std::time::Duration::from_secs_f64(seconds.clamp(0.1, 60.0)),
                ))
            })
            .map(|r| println!("{}", serde_json::to_string(&r).unwrap_or_default())),
        Cmd::SdkRust { plan } => w_sdks::rust_driver(&plan),
        Cmd::Mem { file, mode } => w_decode::mem_child(&file, &mode),
        Cmd::DecodeLoop { file, mode, iters } => w_decode::decode_loop(&file, &mode, iters),
        Cmd::GenData { groups, out } => std::fs::write(&out, groups_bench::my_groups_json(groups))
            .map_err(|e| format!("{}: {e}", out.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("groups-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let ctx = Ctx {
        quick: args.quick,
        emulator: absolute(&args.emulator)?,
        python: args.python.clone(),
        fauxbus_python: args.fauxbus_python.clone(),
        js_dir: args.js_dir.as_deref().map(absolute).transpose()?,
        node: args.node.clone(),
        scripts: absolute(&args.scripts)?,
        out: absolute(&args.out)?,
        pin: !args.no_pin && proc::can_pin(),
    };
    let wanted = |n: u8| args.only.is_empty() || args.only.contains(&n);
    // Bounded: whatever hangs (a server that stops answering, a stuck
    // driver), the run ends, its servers killed, after this long.
    let limit = std::time::Duration::from_secs(if ctx.quick { 600 } else { 1800 });
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!(
            "groups-bench: WATCHDOG: the run exceeded {limit:?}; killing its servers and exiting"
        );
        proc::kill_registered();
        std::process::exit(3);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;

    let background = background_load();
    eprintln!(
        "groups-bench: CPU busy before the run (other processes): {:.0}%",
        background * 100.0
    );
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut details = serde_json::Map::new();
    let mut errors: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut fixture_error = None;
    // Workload 9 (callgrind) takes minutes: a quick run does it only when asked.
    let wanted9 = if ctx.quick {
        args.only.contains(&9)
    } else {
        wanted(9)
    };
    let fixture = if wanted(3) || wanted(6) || wanted9 {
        match w_decode::write_fixture(&ctx.out) {
            Ok(p) => Some(p),
            Err(e) => {
                fixture_error = Some(e);
                None
            }
        }
    } else {
        None
    };
    let mut record =
        |n: u8, name: &str, t: Instant, r: Result<(Vec<Row>, Value, Vec<String>), String>| {
            let secs = t.elapsed().as_secs_f64();
            match r {
                Ok((mut rs, d, n_)) => {
                    eprintln!("groups-bench: workload {n} ({name}) done in {secs:.1} s");
                    rows.append(&mut rs);
                    details.insert(format!("w{n}"), json!({"seconds": secs, "data": d}));
                    notes.extend(n_);
                }
                Err(e) => {
                    eprintln!("groups-bench: workload {n} ({name}) FAILED after {secs:.1} s: {e}");
                    errors.push(format!("workload {n} ({name}): {e}"));
                }
            }
        };
    let no_notes = |r: Result<(Vec<Row>, Value), String>| r.map(|(a, b)| (a, b, Vec::new()));

    if wanted(1) {
        let t = Instant::now();
        record(1, "client overhead", t, no_notes(w_client::run(&ctx)));
    }
    if wanted(2) {
        let t = Instant::now();
        record(2, "official SDKs", t, runtime.block_on(w_sdks::run(&ctx)));
    }
    if let Some(file) = &fixture
        && wanted(3)
    {
        let t = Instant::now();
        record(3, "decoding", t, no_notes(w_decode::run_decode(&ctx, file)));
    }
    if wanted(4) {
        let t = Instant::now();
        record(
            4,
            "emulator as a server",
            t,
            runtime.block_on(w_server::run(&ctx)),
        );
    }
    if wanted(5) {
        let t = Instant::now();
        record(
            5,
            "scaling",
            t,
            no_notes(runtime.block_on(w_scaling::run(&ctx))),
        );
    }
    if let Some(file) = &fixture
        && wanted(6)
    {
        let t = Instant::now();
        record(6, "memory", t, no_notes(w_decode::run_mem(file)));
    }
    if wanted(7) {
        let t = Instant::now();
        let r = runtime.block_on(w_durable::run(&ctx));
        record(7, "durable writes", t, no_notes(r));
    }
    if wanted(8) {
        let t = Instant::now();
        record(
            8,
            "command-line tools",
            t,
            runtime.block_on(w_cli::run(&ctx)),
        );
    }
    if wanted9 {
        let t = Instant::now();
        record(
            9,
            "instruction counts",
            t,
            w_callgrind::run(&ctx, fixture.as_deref()),
        );
    }
    if wanted(10) {
        let t = Instant::now();
        record(
            10,
            "token renewal under load",
            t,
            no_notes(runtime.block_on(w_renewal::run(&ctx))),
        );
    }
    errors.extend(fixture_error);
    runtime.shutdown_background();

    if let Some(w9) = details.get("w9") {
        w_callgrind::annotate(&mut rows, &w9["data"]);
    }
    let total = started.elapsed().as_secs_f64();
    let mode = if ctx.quick { "quick" } else { "full" };
    let mut machine = machine_facts(&ctx);
    machine["background_cpu_busy"] = json!(background);
    let details = Value::Object(details);
    let all_errors: Vec<String> = errors.iter().chain(notes.iter()).cloned().collect();
    let json_doc = JsonReport {
        mode,
        finished_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        machine: machine.clone(),
        rows: &rows,
        details: &details,
        errors: &all_errors,
    };
    let json_path = ctx.out.join(format!("results-{mode}.json"));
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&json_doc).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", json_path.display()))?;

    let table = report::markdown_table(&rows);
    println!("\n{table}");
    for n in &notes {
        println!("note: {n}");
    }
    if let Some(path) = &args.report {
        let mut md = markdown(&rows, mode, total, &machine, &notes, &errors);
        // Keep the hand-written analysis below the marker of the previous report.
        if let Ok(old) = std::fs::read_to_string(path)
            && let Some((_, tail)) = old.split_once(ANALYSIS_MARKER)
        {
            md.push_str(tail.trim_start_matches('\n'));
        }
        std::fs::write(path, md).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("groups-bench: wrote {}", path.display());
    }
    eprintln!(
        "groups-bench: {mode} run finished in {total:.1} s; JSON in {}",
        json_path.display()
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} workload(s) broke:\n  {}",
            errors.len(),
            errors.join("\n  ")
        ))
    }
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn command_line(program: &Path, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            if s.is_empty() {
                s = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            }
            s
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// (busy, total) jiffies of all CPUs from the first line of /proc/stat.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().take(8).sum();
    Some((total - idle, total))
}

/// Share of the machine's CPU busy during one second before the run, while
/// this benchmark does nothing: load from other processes.
fn background_load() -> f64 {
    let Some((b0, t0)) = cpu_jiffies() else {
        return f64::NAN;
    };
    std::thread::sleep(std::time::Duration::from_secs(1));
    let Some((b1, t1)) = cpu_jiffies() else {
        return f64::NAN;
    };
    if t1 == t0 {
        return f64::NAN;
    }
    (b1 - b0) as f64 / (t1 - t0) as f64
}

fn machine_facts(ctx: &Ctx) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned());
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "kernel": command_line(Path::new("uname"), &["-sr"]),
        "python": command_line(&ctx.python, &["--version"]),
        "node": if ctx.js_dir.is_some() { command_line(&ctx.node, &["--version"]) } else { "not used".to_owned() },
    })
}

fn markdown(
    rows: &[Row],
    mode: &str,
    total: f64,
    machine: &Value,
    notes: &[String],
    errors: &[String],
) -> String {
    let met = rows.iter().filter(|r| r.met == Some(true)).count();
    let missed: Vec<&Row> = rows.iter().filter(|r| r.met == Some(false)).collect();
    let mut md = String::new();
    md.push_str("# Benchmarks\n\n");
    md.push_str(
        "Generated by `cargo xtask bench` (release build; every comparison in one run, all \
         servers on 127.0.0.1, started and stopped by the benchmark). Ratios compare figures \
         from the same run; absolute numbers move with the machine's load. \
         `cargo xtask bench --quick` runs each workload briefly and never fails on a figure.\n\n",
    );
    md.push_str(&format!(
        "Last {mode} run: {} CPUs ({}), {}, {}, Node {}; {:.0} s; CPU busy with other processes just before the run: {:.0}%. Goals met: {met} of {}.\n\n",
        machine["cpus"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["kernel"].as_str().unwrap_or("?"),
        machine["python"].as_str().unwrap_or("?"),
        machine["node"].as_str().unwrap_or("?"),
        total,
        machine["background_cpu_busy"].as_f64().unwrap_or(f64::NAN) * 100.0,
        met + missed.len(),
    ));
    md.push_str(&report::markdown_table(rows));
    md.push_str("\n## How each ratio is computed\n\n");
    md.push_str(&report::markdown_notes(rows));
    if !missed.is_empty() {
        md.push_str("\n## Goals missed\n\n");
        for r in &missed {
            md.push_str(&format!(
                "- {} {}: ratio {:.2}.\n",
                r.id,
                r.workload,
                r.ratio.unwrap_or(f64::NAN)
            ));
        }
        md.push_str("\nSee the analysis section below for the profiles.\n");
    }
    if !notes.is_empty() || !errors.is_empty() {
        md.push_str("\n## Not run\n\n");
        for n in notes.iter().chain(errors) {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md.push_str(&format!("\n{}\n", ANALYSIS_MARKER));
    md
}

/// Everything after this line in BENCHMARKS.md is kept by xtask between runs
/// (hand-written analysis and profiles).
pub const ANALYSIS_MARKER: &str = "<!-- analysis: kept across runs -->";
