//! Project automation, run as `cargo xtask <command>`.
//!
//! * `cargo xtask ci`: the single definition of green. It prepares what the
//!   tests need (the Python virtual environment for the official-SDK
//!   conformance test, the headless browser for the browser login test),
//!   then runs the layering check, `cargo fmt --check`, clippy on all
//!   targets with warnings denied, every test and doc test,
//!   `cargo doc` with warnings denied, and a quick smoke run of the
//!   benchmarks (`cargo xtask bench --quick`).
//! * `cargo xtask layering`: only the dependency and module-cycle checks.
//! * `cargo xtask fuzz [--seconds N] [--only a,b]`: every fuzz target for N
//!   seconds (see `fuzz.rs`; needs the nightly toolchain).
//! * `cargo xtask kill-cycles [--cycles N]`: kill -9 the emulator at random moments
//!   while it writes, N times, checking every acknowledged write (`killcycles.rs`).
//! * `cargo xtask soak --minutes N`: mixed reads and writes against the emulator
//!   with a state file, invariants and memory watched (`soak.rs`).
//! * `cargo xtask venv`: only create or refresh the Python environment.
//! * `cargo xtask browser`: only find or install chromium and chromedriver (see
//!   `browser.rs`).
//! * `cargo xtask bench [--quick]`: the benchmarks (see `bench.rs`).

// A binary: its items are private to it, whatever `pub` says.
#![allow(unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench;
mod browser;
mod emu;
mod fuzz;
mod killcycles;
mod modules;
mod python;
mod soak;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("layering") => layering(&root),
        Some("fuzz") => fuzz::run(&root, &args[1..]),
        Some("kill-cycles") => killcycles::run(&root, &args[1..]),
        Some("soak") => soak::run(&root, &args[1..]),
        Some("venv") => python::ensure_venv(&root).map(|p| println!("venv ready: {}", p.display())),
        Some("browser") => browser::ensure_browser().map(|b| {
            println!(
                "browser ready: {} with {}",
                b.chromium.display(),
                b.chromedriver.display()
            )
        }),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | layering | venv | browser | bench [--quick] [--only 1,2,..] | fuzz [--seconds N] [--only a,b] | kill-cycles [--cycles N] | soak --minutes N>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Run one step, timing it; fail with its name if it fails.
fn step(
    name: &str,
    root: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(), String> {
    eprintln!("==> {name}: {program} {}", args.join(" "));
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: cannot start {program}: {e}"))?;
    eprintln!("<== {name}: {status} in {:.1?}", started.elapsed());
    if status.success() {
        Ok(())
    } else {
        Err(format!("step '{name}' failed ({status})"))
    }
}

fn ci(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    if let Some(dir) = std::env::var_os("GROUPS_FIXTURES_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(format!(
                "GROUPS_FIXTURES_DIR={} is set but is not a directory",
                dir.display()
            ));
        }
    }
    let python = python::ensure_venv(root)?;
    let python = python.to_string_lossy().into_owned();
    let browser = browser::ensure_browser()?;
    let chromium = browser.chromium.to_string_lossy().into_owned();
    let chromedriver = browser.chromedriver.to_string_lossy().into_owned();
    let test_env = [
        ("GROUPS_PYTHON", python.as_str()),
        ("GROUPS_REQUIRE_PYTHON", "1"),
        ("GROUPS_CHROMIUM", chromium.as_str()),
        ("GROUPS_CHROMEDRIVER", chromedriver.as_str()),
        ("GROUPS_REQUIRE_BROWSER", "1"),
    ];
    layering(root)?;
    step(
        "format",
        root,
        "cargo",
        &["fmt", "--all", "--", "--check"],
        &[],
    )?;
    step(
        "clippy",
        root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    step(
        "tests",
        root,
        "cargo",
        &[
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--examples",
            "--locked",
        ],
        &test_env,
    )?;
    // groups-app's optional SQLite token storage: linted and tested with
    // its feature on (the workspace runs above leave features off).
    step(
        "groups-app sqlite feature",
        root,
        "cargo",
        &[
            "clippy",
            "-p",
            "groups-app",
            "--features",
            "sqlite",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    step(
        "groups-app sqlite tests",
        root,
        "cargo",
        &[
            "test",
            "-p",
            "groups-app",
            "--features",
            "sqlite",
            "--lib",
            "--test",
            "sqlite_storage",
            "--locked",
        ],
        &test_env,
    )?;
    step(
        "doc tests",
        root,
        "cargo",
        &["test", "--workspace", "--doc", "--locked"],
        &test_env,
    )?;
    step(
        "docs",
        root,
        "cargo",
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // The benchmarks still work: a short run of every workload (release
    // build). It fails only on breakage, never on a speed figure, and
    // writes bench-out/, leaving the committed BENCHMARKS.md alone.
    eprintln!("==> benchmarks: cargo xtask bench --quick");
    let bench_started = Instant::now();
    bench::run(root, &["--quick".to_owned()])?;
    eprintln!("<== benchmarks: ok in {:.1?}", bench_started.elapsed());
    eprintln!("xtask ci: all green in {:.1?}", started.elapsed());
    Ok(())
}

/// The layers stay layered: `groups-types` depends on serde, serde_json and
/// uuid only; `groups-core` pulls in no runtime, socket or TLS crate; the
/// manager does not depend on the hyper transport.
fn layering(root: &Path) -> Result<(), String> {
    eprintln!("==> layering: cargo tree checks");
    let tree = |pkg: &str| -> Result<String, String> {
        let out = Command::new("cargo")
            .args([
                "tree", "-p", pkg, "-e", "normal", "--prefix", "none", "--locked",
            ])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo tree -p {pkg} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let crate_names = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    };

    let types = tree("groups-types")?;
    let direct: Vec<String> = {
        let out = Command::new("cargo")
            .args([
                "tree",
                "-p",
                "groups-types",
                "-e",
                "normal",
                "--depth",
                "1",
                "--prefix",
                "none",
                "--locked",
            ])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        crate_names(&String::from_utf8_lossy(&out.stdout))
    };
    for dep in direct.iter().skip(1) {
        if !["serde", "serde_json", "uuid"].contains(&dep.as_str()) {
            return Err(format!(
                "groups-types depends on {dep}; only serde, serde_json and uuid are allowed"
            ));
        }
    }
    drop(types);

    let core = crate_names(&tree("groups-core")?);
    for banned in ["tokio", "hyper", "hyper-util", "rustls", "mio", "socket2"] {
        if core.iter().any(|c| c == banned) {
            return Err(format!(
                "groups-core must stay sans-IO but depends on {banned}"
            ));
        }
    }
    let manager = crate_names(&tree("groups-manager")?);
    if manager.iter().any(|c| c == "groups-hyper") {
        return Err("groups-manager must not depend on groups-hyper".into());
    }
    // Inside every crate, the top-level modules import one way only.
    let mut sources = vec![root.join("src"), root.join("xtask/src")];
    let crates = std::fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))?;
    for entry in crates {
        let dir = entry
            .map_err(|e| format!("crates/: {e}"))?
            .path()
            .join("src");
        if dir.is_dir() {
            sources.push(dir);
        }
    }
    sources.sort();
    for src in &sources {
        let found = modules::cycles(src)?;
        if !found.is_empty() {
            let listed: Vec<String> = found.iter().map(|c| c.join(" <-> ")).collect();
            return Err(format!(
                "import cycles between the modules of {}: {}",
                src.display(),
                listed.join("; ")
            ));
        }
    }
    eprintln!("<== layering: ok");
    Ok(())
}
