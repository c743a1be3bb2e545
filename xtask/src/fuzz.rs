//! `cargo xtask fuzz [--seconds N] [--only a,b]`: every coverage-guided fuzz
//! target of `fuzz/` for N seconds each (default 60), on corpora seeded from
//! the repository's fixtures (and the shared ones when
//! `GROUPS_FIXTURES_DIR` is set). It installs `cargo-fuzz` when missing; the
//! nightly toolchain must be present (libFuzzer needs it). A crash fails the
//! run and names the input libFuzzer saved under `fuzz/artifacts/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The targets, in the order they run.
pub const TARGETS: [&str; 5] = [
    "client_decoders",
    "error_parser",
    "auth_decoders",
    "emulator_requests",
    "emulator_batches",
];

/// Response decoders of `client_decoders`, selected by the first byte.
const CLIENT_DECODERS: u8 = 18;

/// Token answers for the Auth corpus (shapes of the token endpoint).
const TOKEN_SAMPLES: [&str; 4] = [
    r#"{"access_token": "at", "expires_in": 172800, "resource_server": "groups.api.globus.org", "token_type": "Bearer", "scope": "urn:globus:auth:scope:groups.api.globus.org:all", "refresh_token": "rt", "other_tokens": [{"access_token": "at2", "expires_in": 172800, "resource_server": "auth.globus.org", "token_type": "Bearer", "scope": "openid profile email"}]}"#,
    r#"[{"access_token": "dt", "expires_in": 3600, "resource_server": "groups.api.globus.org", "token_type": "Bearer", "scope": "s"}]"#,
    r#"{"error": "invalid_grant", "error_description": "refresh token expired"}"#,
    r#"{"active": true, "scope": "openid", "client_id": "c", "sub": "s", "username": "u@example.org", "exp": 1, "identity_set": ["a"]}"#,
];

struct Options {
    seconds: u64,
    only: Option<Vec<String>>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        seconds: 60,
        only: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a number")?;
                options.seconds =
                    v.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("--seconds {v:?}: expected a positive whole number")
                    })?;
            }
            "--only" => {
                let v = it.next().ok_or("--only needs target names")?;
                let names: Vec<String> = v.split(',').map(str::to_owned).collect();
                if let Some(bad) = names.iter().find(|n| !TARGETS.contains(&n.as_str())) {
                    return Err(format!("unknown fuzz target {bad:?}; targets: {TARGETS:?}"));
                }
                options.only = Some(names);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn ensure_tools(fuzz_dir: &Path) -> Result<(), String> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if !nightly.status.success() {
        return Err(
            "the nightly toolchain is needed for libFuzzer: rustup toolchain install nightly"
                .into(),
        );
    }
    let have = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .current_dir(fuzz_dir)
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("==> fuzz: installing cargo-fuzz");
        let status = Command::new("cargo")
            .args(["install", "cargo-fuzz", "--locked"])
            .status()
            .map_err(|e| format!("cargo install cargo-fuzz: {e}"))?;
        if !status.success() {
            return Err("cargo install cargo-fuzz failed".into());
        }
    }
    Ok(())
}

fn fixture_files(dirs: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".json")
                && let Ok(bytes) = std::fs::read(&path)
            {
                out.push((name, bytes));
            }
        }
    }
    out.sort();
    out
}

fn write_seed(dir: &Path, name: &str, prefix: &[u8], body: &[u8]) -> Result<(), String> {
    let mut data = prefix.to_vec();
    data.extend_from_slice(body);
    std::fs::write(dir.join(name), data).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Seed `fuzz/corpus/<target>/` (kept between runs, never committed).
fn seed_corpora(root: &Path, fuzz_dir: &Path) -> Result<(), String> {
    let mut dirs = vec![
        root.join("crates/groups-core/tests/fixtures"),
        root.join("crates/groups-types/fixtures"),
    ];
    if let Some(shared) = std::env::var_os("GROUPS_FIXTURES_DIR") {
        dirs.push(PathBuf::from(shared));
    }
    let fixtures = fixture_files(&dirs);
    let corpus = |t: &str| -> Result<PathBuf, String> {
        let d = fuzz_dir.join("corpus").join(t);
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(d)
    };
    let client = corpus("client_decoders")?;
    let errors = corpus("error_parser")?;
    for (name, body) in &fixtures {
        if name.starts_with("error.") {
            for pick in 0..10u8 {
                write_seed(&errors, &format!("{name}.{pick}"), &[pick], body)?;
            }
        } else if name.ends_with(".response.json") {
            for pick in 0..CLIENT_DECODERS {
                write_seed(&client, &format!("{name}.{pick}"), &[pick], body)?;
            }
        }
    }
    let auth = corpus("auth_decoders")?;
    for (i, sample) in TOKEN_SAMPLES.iter().enumerate() {
        for pick in 0..6u8 {
            write_seed(
                &auth,
                &format!("token-{i}.{pick}"),
                &[pick],
                sample.as_bytes(),
            )?;
        }
    }
    let requests = corpus("emulator_requests")?;
    let samples: [(&str, &[u8]); 3] = [
        ("get", b"\x00\x00\x00"),
        (
            "batch",
            b"\x01\x00\x10{\"add\":[{\"identity_id\":\"00000000-0000-4000-8000-000000000009\"}]}",
        ),
        ("policies", b"\x02\x09/policies\x04{\"join_requests\":true}"),
    ];
    for (name, bytes) in samples {
        write_seed(&requests, name, &[], bytes)?;
    }
    let batches = corpus("emulator_batches")?;
    write_seed(&batches, "mixed", &[], &[5, 1, 2, 3, 9, 3, 1, 2, 4, 0])?;
    Ok(())
}

/// The last `Done N runs in S second(s)` line of a libFuzzer log.
fn runs(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| l.starts_with("Done "))
        .map(str::to_owned)
}

/// How a run that did not end with libFuzzer's summary ended, from its log and exit
/// status: a crash libFuzzer reported, a build failure, or a kill from outside.
fn why_no_summary(log: &str, status: std::process::ExitStatus) -> String {
    const REPORTS: [(&str, &str); 7] = [
        ("deadly signal", "the target crashed (deadly signal)"),
        ("panicked at", "the target panicked"),
        (
            "out-of-memory",
            "the target ran out of memory (-rss_limit_mb)",
        ),
        (
            "ERROR: libFuzzer: timeout",
            "one input ran past libFuzzer's timeout",
        ),
        (
            "run interrupted",
            "libFuzzer was interrupted (SIGINT/SIGTERM)",
        ),
        ("fuzz target exited", "the target exited"),
        ("error: could not compile", "the fuzz crate did not build"),
    ];
    let found = REPORTS
        .iter()
        .find(|(needle, _)| log.contains(needle))
        .map(|(_, what)| (*what).to_owned());
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    match (found, signal) {
        (Some(what), _) => format!("{what} ({status})"),
        (None, Some(9)) => format!(
            "killed by SIGKILL from outside, with no report of its own (the system's OOM \
             killer, most likely) ({status})"
        ),
        (None, _) => format!("ended without libFuzzer's summary ({status})"),
    }
}

/// Run the targets; the summary lists runs per target.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let fuzz_dir = root.join("fuzz");
    ensure_tools(&fuzz_dir)?;
    seed_corpora(root, &fuzz_dir)?;
    let targets: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| {
            options
                .only
                .as_ref()
                .is_none_or(|o| o.iter().any(|n| n == t))
        })
        .collect();
    let mut summary = Vec::new();
    let mut crashed = Vec::new();
    for target in targets {
        // Build first: a build failure is told apart from what the fuzzing found.
        let built = Command::new("cargo")
            .args(["+nightly", "fuzz", "build", target])
            .current_dir(&fuzz_dir)
            .output()
            .map_err(|e| format!("cargo fuzz build {target}: {e}"))?;
        if !built.status.success() {
            let log = String::from_utf8_lossy(&built.stderr);
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            crashed.push(format!("{target}: the fuzz crate did not build"));
            continue;
        }
        eprintln!("==> fuzz {target}: {} s", options.seconds);
        let started = Instant::now();
        let corpus = fuzz_dir.join("corpus").join(target);
        let out = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .arg("-rss_limit_mb=4096")
            .arg("-print_final_stats=1")
            .current_dir(&fuzz_dir)
            .output()
            .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        // Kept for reading later (fuzz/artifacts/ is not committed).
        let log_path = fuzz_dir.join("artifacts").join(format!("{target}.log"));
        let _ = std::fs::create_dir_all(fuzz_dir.join("artifacts"));
        let _ = std::fs::write(&log_path, &log);
        let done = runs(&log);
        let line = format!(
            "{target}: {} ({:.0?}; log {})",
            done.as_deref().unwrap_or("no summary"),
            started.elapsed(),
            log_path.display()
        );
        eprintln!("<== {line}");
        if out.status.success() && done.is_some() {
            summary.push(line);
        } else {
            let artifact = log
                .lines()
                .find(|l| l.contains("Test unit written to"))
                .unwrap_or("no artifact named")
                .to_owned();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            crashed.push(format!(
                "{target}: {}; {artifact}",
                why_no_summary(&log, out.status)
            ));
        }
    }
    eprintln!("fuzz summary:\n  {}", summary.join("\n  "));
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets crashed:\n  {}", crashed.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&["--seconds", "600"])).unwrap().seconds, 600);
        assert!(parse(&args(&["--seconds", "0"])).is_err());
        assert!(parse(&args(&["--seconds", "-5"])).is_err());
        assert!(parse(&args(&["--only", "nope"])).is_err());
        let only = parse(&args(&["--only", "error_parser,emulator_batches"])).unwrap();
        assert_eq!(only.only.unwrap().len(), 2);
        assert!(parse(&args(&["--bogus"])).is_err());
    }

    #[test]
    fn a_run_without_a_summary_says_how_it_ended() {
        use std::os::unix::process::ExitStatusExt;
        let ok = std::process::ExitStatus::from_raw(0);
        let killed = std::process::ExitStatus::from_raw(9);
        assert_eq!(
            runs("x\nDone 5 runs in 1 second(s)\nstat::x").as_deref(),
            Some("Done 5 runs in 1 second(s)")
        );
        assert_eq!(runs("#1024 pulse"), None);
        assert!(why_no_summary("#1024 pulse cov: 3", killed).contains("SIGKILL"));
        assert!(
            why_no_summary("==1== ERROR: libFuzzer: out-of-memory (used: 4097Mb)", ok)
                .contains("out of memory")
        );
        assert!(why_no_summary("thread panicked at src/x.rs", ok).contains("panicked"));
        assert!(why_no_summary("", ok).contains("without libFuzzer's summary"));
    }

    #[test]
    fn every_target_is_declared_in_the_fuzz_manifest() {
        let manifest = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/Cargo.toml"),
        )
        .unwrap();
        for t in TARGETS {
            assert!(manifest.contains(&format!("name = \"{t}\"")), "{t}");
        }
        assert_eq!(manifest.matches("[[bin]]").count(), TARGETS.len());
    }
}
