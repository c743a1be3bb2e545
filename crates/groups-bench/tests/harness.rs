//! The harness's own pieces, run as the binary runs them: the minimal
//! server and the load generator, the synthetic data and the memory probe.
//! (The full comparison needs Python and Node; `cargo xtask bench --quick`
//! covers it.)

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_groups-bench");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("groups-bench-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the child when the test ends, whatever happens.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_json(args: &[&str]) -> Value {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "groups-bench {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

#[test]
fn load_generator_counts_every_answer_of_the_minimal_server() {
    let dir = scratch("load");
    let body = br#"{"id":"b3e00000-0001-4000-8000-000000000001","name":"x"}"#;
    let body_file = dir.join("body.json");
    std::fs::write(&body_file, body).unwrap();

    let mut server = Reap(
        Command::new(BIN)
            .args(["minimal-server", "--body-file"])
            .arg(&body_file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut banner = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let authority = banner
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|s| s.strip_suffix('/'))
        .unwrap_or_else(|| panic!("banner {banner:?}"))
        .to_owned();

    let result = run_json(&[
        "load",
        "--authority",
        &authority,
        "--path",
        "/v2/groups/x",
        "--conns",
        "4",
        "--seconds",
        "0.3",
    ]);
    assert!(result["requests"].as_u64().unwrap() > 0, "{result}");
    assert_eq!(result["errors"], 0, "{result}");
    assert_eq!(result["connections"], 4);
    assert_eq!(result["body_bytes"].as_u64().unwrap(), body.len() as u64);
    let (p50, p99) = (
        result["p50_us"].as_f64().unwrap(),
        result["p99_us"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p99 >= p50, "{result}");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn memory_probe_decodes_the_synthetic_listing_in_a_fresh_process() {
    let dir = scratch("mem");
    let file = dir.join("my_groups.json");
    let status = Command::new(BIN)
        .args(["gen-data", "--groups", "300", "--out"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::metadata(&file).unwrap().len();

    for mode in ["typed", "value"] {
        let r = run_json(&["mem", "--file", file.to_str().unwrap(), "--mode", mode]);
        assert_eq!(r["groups"], 300, "{r}");
        assert_eq!(r["file_bytes"].as_u64().unwrap(), bytes);
        assert!(
            r["hwm_kib"].as_u64().unwrap() >= r["baseline_rss_kib"].as_u64().unwrap(),
            "{r}"
        );
    }
    let bad = Command::new(BIN)
        .args([
            "mem",
            "--file",
            file.to_str().unwrap(),
            "--mode",
            "nonsense",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "an unknown mode is an error");
    std::fs::remove_dir_all(dir).unwrap();
}
