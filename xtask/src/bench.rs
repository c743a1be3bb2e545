//! `cargo xtask bench [--quick] [--only 1,2,..] [--callgrind]`: every
//! benchmark of the workspace (the workloads described in `BENCHMARKS.md`),
//! in one command. `--callgrind` runs workload 9 alone (instructions per
//! call of each side under valgrind, profiles in `bench-out/callgrind/`).
//!
//! 1. Prepares the outside parties: the conformance venv with globus-sdk
//!    ([`crate::python::ensure_venv`]), a separate venv with the `fauxbus`
//!    fake (`bench-out/fauxbus-venv`, from `bench/python/requirements-fauxbus.txt`)
//!    and `@globus/sdk` in `bench/js/node_modules` (`npm ci`, from the committed
//!    lock file). fauxbus and the JS SDK are optional: if they cannot be
//!    installed (no npm, no registry), their comparisons are reported as not
//!    run instead of failing the benchmark.
//! 2. Builds `groups-bench` and `groups-emulator` in release mode.
//! 3. Runs `groups-bench run`, which starts and stops every server itself on
//!    127.0.0.1 and writes `bench-out/results-{full,quick}.json` and the
//!    markdown report: `BENCHMARKS.md` for a full run,
//!    `bench-out/BENCHMARKS-quick.md` for `--quick` and
//!    `bench-out/BENCHMARKS-partial.md` for `--only`/`--callgrind` (so CI
//!    and partial runs never rewrite the committed numbers).
//!
//! It fails only when something breaks, never on a speed figure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::python;

/// fauxbus requirements, relative to the workspace root.
const FAUXBUS_REQUIREMENTS: &str = "bench/python/requirements-fauxbus.txt";
/// The JS driver's directory, relative to the workspace root.
const JS_DIR: &str = "bench/js";

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let mut quick = false;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            // Workload 9 alone: instructions per call under valgrind's callgrind.
            "--callgrind" => only = Some("9".to_owned()),
            "--only" => only = Some(it.next().ok_or("--only needs a list, e.g. 1,3")?.clone()),
            other => {
                return Err(format!(
                    "unknown bench argument {other:?}; usage: cargo xtask bench [--quick] [--only 1,2,..] [--callgrind]"
                ));
            }
        }
    }
    let out = root.join("bench-out");
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let python = python::ensure_venv(root)?;
    let fauxbus = match ensure_fauxbus(root, &out) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("xtask bench: WARNING: fauxbus unavailable, workload 4 runs without it: {e}");
            None
        }
    };
    let js = match ensure_js(root) {
        Ok(dir) => Some(dir),
        Err(e) => {
            eprintln!(
                "xtask bench: WARNING: @globus/sdk unavailable, workload 2 runs without it: {e}"
            );
            None
        }
    };

    crate::step(
        "release build",
        root,
        "cargo",
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "groups-bench",
            "-p",
            "groups-emulator",
            "-p",
            "groups-cli",
        ],
        &[],
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    let release = target.join("release");
    let exe = |name: &str| release.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));

    // Only a full run of every workload rewrites BENCHMARKS.md.
    let report = if quick {
        out.join("BENCHMARKS-quick.md")
    } else if only.is_some() {
        out.join("BENCHMARKS-partial.md")
    } else {
        root.join("BENCHMARKS.md")
    };
    let mut cmd = Command::new(exe("groups-bench"));
    cmd.current_dir(root)
        .arg("run")
        .arg("--emulator")
        .arg(exe("groups-emulator"))
        .arg("--python")
        .arg(&python)
        .arg("--scripts")
        .arg(root.join("bench"))
        .arg("--out")
        .arg(&out)
        .arg("--report")
        .arg(&report);
    if quick {
        cmd.arg("--quick");
    }
    if let Some(p) = &fauxbus {
        cmd.arg("--fauxbus-python").arg(p);
    }
    if let Some(dir) = &js {
        cmd.arg("--js-dir").arg(dir);
    }
    if let Some(list) = &only {
        cmd.arg("--only").arg(list);
    }
    eprintln!("==> bench: {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start groups-bench: {e}"))?;
    eprintln!(
        "xtask bench: {} in {:.1?}",
        if status.success() { "done" } else { "FAILED" },
        started.elapsed()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("groups-bench failed ({status})"))
    }
}

/// A venv with fauxbus at `out/fauxbus-venv`; returns its interpreter.
/// A stamp (the requirements text) skips pip when nothing changed.
fn ensure_fauxbus(root: &Path, out: &Path) -> Result<PathBuf, String> {
    let requirements = root.join(FAUXBUS_REQUIREMENTS);
    let wanted = fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let venv = out.join("fauxbus-venv");
    let py = python::venv_python(&venv);
    let stamp = venv.join(".bench-requirements.stamp");
    if py.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(py);
    }
    if !py.is_file() {
        let base = std::env::var("GROUPS_BASE_PYTHON")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "python3".to_owned());
        run_quiet(Command::new(&base).args(["-m", "venv"]).arg(&venv))?;
    }
    let _ = fs::remove_file(&stamp);
    eprintln!(
        "xtask bench: installing {FAUXBUS_REQUIREMENTS} into {}",
        venv.display()
    );
    run_quiet(
        Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
            ])
            .arg(&requirements),
    )?;
    fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(py)
}

/// `bench/js/node_modules/@globus/sdk`, installed with `npm ci` when the
/// lock file is newer than the install (or nothing is installed).
fn ensure_js(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join(JS_DIR);
    let installed = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(i), Some(l)) => i >= l,
        _ => false,
    };
    if !fresh || !dir.join("node_modules/@globus/sdk/package.json").is_file() {
        eprintln!("xtask bench: npm ci in {}", dir.display());
        run_quiet(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir),
        )?;
    }
    run_quiet(Command::new("node").arg("--version"))?;
    Ok(dir)
}

fn run_quiet(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed ({}): {}{}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
