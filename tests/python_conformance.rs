//! Conformance with the official client: the PyPI `globus-sdk` (pinned in
//! `tests/python/requirements.txt`) drives every `GroupsClient` and `GroupsManager`
//! method against an in-process emulator through `tests/python/conformance.py`.
//!
//! The interpreter is `$GROUPS_PYTHON`, else `<workspace>/.venv/bin/python` (created by
//! `cargo xtask ci`, which also sets `GROUPS_REQUIRE_PYTHON=1`). Without either, the test
//! is skipped with a notice, unless Python is required, in which case it fails. Python is
//! required when `GROUPS_REQUIRE_PYTHON=1` or when `CI` is `true` or `1` (as CI services
//! set it), so a CI run never passes without the conformance check.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use groups_emulator::Emulator;

/// Upper bound for one script run; it normally takes a few seconds.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter to use, or `None` when there is none.
fn find_python(root: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GROUPS_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = if cfg!(windows) {
        root.join(".venv").join("Scripts").join("python.exe")
    } else {
        root.join(".venv").join("bin").join("python")
    };
    venv.is_file().then_some(venv)
}

/// Why a missing Python is a failure rather than a skip, given the values of
/// `GROUPS_REQUIRE_PYTHON` and `CI`; `None` when skipping is allowed.
fn python_required(require_python: Option<&str>, ci: Option<&str>) -> Option<&'static str> {
    if require_python == Some("1") {
        Some("GROUPS_REQUIRE_PYTHON=1")
    } else if ci.is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")) {
        Some("CI is set (a CI run must check conformance)")
    } else {
        None
    }
}

/// What the script printed, and how it ended.
struct ScriptRun {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl ScriptRun {
    fn report(&self) -> String {
        format!(
            "conformance.py {} after {:.1?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            match self.status {
                Some(s) => format!("exited with {s}"),
                None => format!("was killed: no exit within {SCRIPT_TIMEOUT:?}"),
            },
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Run the conformance script against `base_url`, killing it after [`SCRIPT_TIMEOUT`].
fn run_script(python: &Path, script: &Path, base_url: &str) -> ScriptRun {
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .current_dir(workspace_root())
        .env("GLOBUS_SDK_SERVICE_URL_GROUPS", base_url)
        .env_remove("GLOBUS_SDK_ENVIRONMENT")
        .env("GLOBUS_SDK_HTTP_TIMEOUT", "30")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));

    fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    }
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));

    // Bounded wait: poll for exit, kill the child if it overruns.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < SCRIPT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    ScriptRun {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// `(passed, failed)` from the script's last line, `N passed, M failed`.
fn summary(stdout: &str) -> Option<(u32, u32)> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let (passed, failed) = last.trim().split_once(", ")?;
    Some((
        passed.strip_suffix(" passed")?.parse().ok()?,
        failed.strip_suffix(" failed")?.parse().ok()?,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_conforms_to_the_emulator() {
    let root = workspace_root();
    let script = root.join("tests").join("python").join("conformance.py");
    assert!(script.is_file(), "missing {}", script.display());

    let Some(python) = find_python(root) else {
        if let Some(why) = python_required(
            std::env::var("GROUPS_REQUIRE_PYTHON").ok().as_deref(),
            std::env::var("CI").ok().as_deref(),
        ) {
            panic!(
                "{why} but no Python: set GROUPS_PYTHON or run `cargo xtask ci` \
                 (it creates {}/.venv with tests/python/requirements.txt)",
                root.display()
            );
        }
        eprintln!(
            "SKIPPED python_conformance: no GROUPS_PYTHON and no {}/.venv; \
             `cargo xtask ci` creates it",
            root.display()
        );
        return;
    };

    let emulator = Emulator::builder()
        .start()
        .await
        .expect("start the emulator on 127.0.0.1:0");
    let base_url = emulator.base_url().to_string();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let run = {
        let script = script.clone();
        tokio::task::spawn_blocking(move || run_script(&python, &script, &base_url))
            .await
            .expect("script runner thread")
    };
    let invariants = emulator.read_world(|w| w.check_invariants());
    emulator.shutdown().await.expect("emulator shutdown");

    let report = run.report();
    assert!(
        run.status.is_some_and(|s| s.success()),
        "the official client disagrees with the emulator\n{report}"
    );
    let (passed, failed) = summary(&run.stdout)
        .unwrap_or_else(|| panic!("no `N passed, M failed` summary line\n{report}"));
    assert_eq!(failed, 0, "{report}");
    assert!(
        passed >= 100,
        "suspiciously few checks ({passed})\n{report}"
    );
    assert_eq!(
        invariants,
        Ok(()),
        "emulator invariants after the run\n{report}"
    );
    println!("{report}");
}

#[test]
fn summary_line_is_parsed() {
    assert_eq!(summary("x\n12 passed, 0 failed\n"), Some((12, 0)));
    assert_eq!(summary("3 passed, 2 failed"), Some((3, 2)));
    assert_eq!(summary("passed"), None);
    assert_eq!(summary(""), None);
}

#[test]
fn python_is_required_under_ci_or_when_asked() {
    assert!(python_required(Some("1"), None).is_some());
    assert!(python_required(None, Some("true")).is_some());
    assert!(python_required(None, Some("TRUE")).is_some());
    assert!(python_required(None, Some("1")).is_some());
    assert!(python_required(Some("0"), Some("true")).is_some());
    assert_eq!(python_required(None, None), None);
    assert_eq!(python_required(Some("0"), None), None);
    assert_eq!(python_required(None, Some("false")), None);
    assert_eq!(python_required(None, Some("")), None);
}
