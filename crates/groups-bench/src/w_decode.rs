//! Workload 3 (decoding) and workload 6 (memory).
//!
//! Both use one file: a synthetic `get_my_groups` answer of 10,000 groups
//! with their memberships ([`groups_bench::my_groups_json`]), written to
//! `bench-out/` so the Python script decodes the very same bytes.
//!
//! Decoding is timed in-process with alternating iterations (typed, Value,
//! typed, ...) and the median of each; the decoded value is dropped outside
//! the timed region. `cargo bench -p groups-bench --bench decode` runs the
//! same comparison under criterion.
//!
//! Memory runs `groups-bench mem` in a fresh process per mode: it reads
//! `VmRSS` from `/proc/self/status` before loading (baseline), reads the
//! file, decodes it, keeps both alive, then reads `VmHWM` (peak RSS). The
//! figure is `(VmHWM - baseline) / file size`; it includes the input
//! buffer itself (1× the file), as any caller that reads a body and decodes
//! it pays for both.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bytes::Bytes;

use groups_bench::median;
use groups_bench::plain::PlainGroup;
use groups_types::Group;
use serde_json::{Value, json};

use crate::Ctx;
use crate::report::{Measure, Row};

/// Groups in the decoding and memory workloads.
pub const GROUPS: usize = 10_000;

/// Write the 10,000-group answer to `out/my_groups_10000.json`.
pub fn write_fixture(out: &Path) -> Result<std::path::PathBuf, String> {
    let path = out.join(format!("my_groups_{GROUPS}.json"));
    let body = groups_bench::my_groups_json(GROUPS);
    std::fs::write(&path, &body).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

/// Decode a `get_my_groups` body the way the SDK does: the core's
/// `parse_json_response` on a 200 JSON response holding `body` (a
/// reference-counted `Bytes`, as the transport hands it over).
pub fn sdk_decode(body: &Bytes) -> Result<Vec<Group>, String> {
    let response = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .map_err(|e| e.to_string())?;
    groups_core::ops::parse_json_response::<Vec<Group>>(response).map_err(|e| e.to_string())
}

fn time_typed(body: &Bytes) -> Result<f64, String> {
    let started = Instant::now();
    let groups: Vec<Group> = sdk_decode(black_box(body))?;
    let s = started.elapsed().as_secs_f64();
    if groups.len() != GROUPS {
        return Err(format!("typed decode: {} groups", groups.len()));
    }
    drop(black_box(groups));
    Ok(s)
}

fn time_value(body: &[u8]) -> Result<f64, String> {
    let started = Instant::now();
    let value: Value = serde_json::from_slice(black_box(body)).map_err(|e| e.to_string())?;
    let s = started.elapsed().as_secs_f64();
    if value.as_array().map(Vec::len) != Some(GROUPS) {
        return Err("Value decode: wrong length".into());
    }
    drop(black_box(value));
    Ok(s)
}

fn time_plain(body: &[u8]) -> Result<f64, String> {
    let started = Instant::now();
    let groups: Vec<PlainGroup> =
        serde_json::from_slice(black_box(body)).map_err(|e| e.to_string())?;
    let s = started.elapsed().as_secs_f64();
    if groups.len() != GROUPS {
        return Err(format!("plain decode: {} groups", groups.len()));
    }
    drop(black_box(groups));
    Ok(s)
}

/// `groups-bench decode-loop`: decode `file` `iters` times as `mode`
/// (a side of workload 9, counted by callgrind; decode and drop).
pub fn decode_loop(file: &Path, mode: &str, iters: usize) -> Result<(), String> {
    let body = Bytes::from(std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?);
    let text = |e: serde_json::Error| e.to_string();
    for _ in 0..iters {
        let n = match mode {
            "typed" => sdk_decode(black_box(&body)).map(|v| black_box(v).len()),
            "typed-from-slice" => serde_json::from_slice::<Vec<Group>>(black_box(&body))
                .map(|v| black_box(v).len())
                .map_err(text),
            "value" => serde_json::from_slice::<Value>(black_box(&body))
                .map(|v| black_box(v).as_array().map_or(0, Vec::len))
                .map_err(text),
            "plain" => serde_json::from_slice::<Vec<PlainGroup>>(black_box(&body))
                .map(|v| black_box(v).len())
                .map_err(text),
            other => {
                return Err(format!(
                    "unknown mode {other:?} (typed, typed-from-slice, value, plain)"
                ));
            }
        }
        .map_err(|e| format!("{mode} decode: {e}"))?;
        if n == 0 {
            return Err(format!("{mode} decode: no groups"));
        }
    }
    Ok(())
}

pub fn run_decode(ctx: &Ctx, file: &Path) -> Result<(Vec<Row>, Value), String> {
    let body = Bytes::from(std::fs::read(file).map_err(|e| e.to_string())?);
    let iters = if ctx.quick { 3 } else { 40 };
    time_typed(&body)?;
    time_value(&body)?;
    time_plain(&body)?;
    let (mut typed, mut value, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..iters {
        typed.push(time_typed(&body)?);
        value.push(time_value(&body)?);
        plain.push(time_plain(&body)?);
    }
    let t = median(&mut typed);
    let v = median(&mut value);
    let p = median(&mut plain);

    let py_iters = if ctx.quick { 2 } else { 15 };
    let out = Command::new(&ctx.python)
        .arg(ctx.scripts.join("python/decode_bench.py"))
        .arg(file)
        .arg(py_iters.to_string())
        .output()
        .map_err(|e| format!("python decode: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python decode failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let py: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("python decode output: {e}"))?;
    for k in ["json_loads", "sdk_wrapper"] {
        if py[k]["groups"].as_u64() != Some(GROUPS as u64) {
            return Err(format!("python decode {k}: wrong group count: {py}"));
        }
    }
    let py_loads = py["json_loads"]["median_s"]
        .as_f64()
        .ok_or("python json_loads")?;
    let py_sdk = py["sdk_wrapper"]["median_s"]
        .as_f64()
        .ok_or("python sdk_wrapper")?;
    let mib = body.len() as f64 / (1024.0 * 1024.0);
    let name = format!("decode get_my_groups, {GROUPS} groups ({mib:.1} MiB)");
    let rows = vec![
        Row::new("3a", &format!("{name} → `Vec<Group>`"), Measure::new(t * 1e3, "ms"), "→ serde_json::Value", Some(Measure::new(v * 1e3, "ms")), Some(v / t), "Value time ÷ typed time (speed of typed relative to Value)")
        .note(format!("median of {iters} alternating in-process iterations; drop not timed. Typed is the SDK's decoding: `groups_core::ops::parse_json_response` on a 200 response holding the body (checked as UTF-8 once, then parsed as a str); `serde_json::from_slice` into the same `Vec<Group>` costs 22% more instructions (workload 9).")),
        Row::new("3d", &format!("{name} → `Vec<Group>`"), Measure::new(t * 1e3, "ms"), "plain derive(Deserialize) struct dropping unknown keys", Some(Measure::new(p * 1e3, "ms")), Some(p / t), "plain time ÷ typed time")
        .note("`groups_bench::plain::PlainGroup`: the same fields and field types, absent and null both `None`, unknown keys dropped; same alternating iterations."),
        Row::new("3b", &format!("{name} → `Vec<Group>`"), Measure::new(t * 1e3, "ms"), "Python globus-sdk ArrayResponse(.data)", Some(Measure::new(py_sdk * 1e3, "ms")), Some(py_sdk / t), "Python time ÷ typed time")
        .note(format!(
            "Python: requests.Response holding the bytes, wrapped in globus_sdk ArrayResponse, `len()` (decodes via the SDK's JSON provider); median of {py_iters}."
        )),
        Row::new("3c", &format!("{name} → `Vec<Group>`"), Measure::new(t * 1e3, "ms"), "Python json.loads", Some(Measure::new(py_loads * 1e3, "ms")), Some(py_loads / t), "Python time ÷ typed time"),
    ];
    let details = json!({
        "bytes": body.len(),
        "typed_s": typed, "value_s": value,
        "plain_s": plain,
        "typed_median_s": t, "value_median_s": v, "plain_median_s": p,
        "python": py,
    });
    Ok((rows, details))
}

/// The `groups-bench mem` child: decode `file` as `mode` (`typed` or
/// `value`) and print `{"baseline_rss_kib", "hwm_kib", "file_bytes", ...}`.
pub fn mem_child(file: &Path, mode: &str) -> Result<(), String> {
    let baseline = status_kib("VmRSS")?;
    let hwm_before = status_kib("VmHWM")?;
    // `Bytes::from` takes the vector over without copying.
    let body = Bytes::from(std::fs::read(file).map_err(|e| e.to_string())?);
    let after_read = status_kib("VmRSS")?;
    let count = match mode {
        "typed" => {
            let groups: Vec<Group> = sdk_decode(&body)?;
            let n = groups.len();
            black_box(&groups);
            let hwm = status_kib("VmHWM")?;
            let rss = status_kib("VmRSS")?;
            drop(groups);
            (n, hwm, rss)
        }
        "value" => {
            let value: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            let n = value.as_array().map_or(0, Vec::len);
            black_box(&value);
            let hwm = status_kib("VmHWM")?;
            let rss = status_kib("VmRSS")?;
            drop(value);
            (n, hwm, rss)
        }
        other => return Err(format!("unknown mode {other:?}")),
    };
    black_box(&body);
    let (n, hwm, rss_decoded) = count;
    println!(
        "{}",
        json!({
            "mode": mode, "groups": n, "file_bytes": body.len(),
            "baseline_rss_kib": baseline, "hwm_before_kib": hwm_before,
            "rss_after_read_kib": after_read, "rss_decoded_kib": rss_decoded, "hwm_kib": hwm,
        })
    );
    Ok(())
}

fn status_kib(key: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{key} not in /proc/self/status"))
}

pub fn run_mem(file: &Path) -> Result<(Vec<Row>, Value), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut results = serde_json::Map::new();
    for mode in ["typed", "value"] {
        let out = Command::new(&exe)
            .args(["mem", "--file"])
            .arg(file)
            .args(["--mode", mode])
            .output()
            .map_err(|e| format!("mem child: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mem child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let v: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("mem output: {e}"))?;
        if v["groups"].as_u64() != Some(GROUPS as u64) {
            return Err(format!("mem child decoded wrongly: {v}"));
        }
        results.insert(mode.to_owned(), v);
    }
    let t = &results["typed"];
    let file_bytes = t["file_bytes"].as_f64().ok_or("file_bytes")?;
    let peak = |v: &Value| -> f64 {
        (v["hwm_kib"].as_f64().unwrap_or(0.0) - v["baseline_rss_kib"].as_f64().unwrap_or(0.0))
            * 1024.0
    };
    let typed_peak = peak(t);
    let value_peak = peak(&results["value"]);
    let mib = |b: f64| b / (1024.0 * 1024.0);
    let rows = vec![
        Row::new("6", &format!("peak RSS decoding {GROUPS} groups into `Vec<Group>`"), Measure::new(mib(typed_peak), "MiB"), "response size", Some(Measure::new(mib(file_bytes), "MiB")), Some(typed_peak / file_bytes), "(VmHWM − VmRSS before loading) ÷ response bytes; includes the body buffer (1×)")
        .note(format!(
            "Fresh process per measurement. For reference, into serde_json::Value: {:.1} MiB ({:.2}×).",
            mib(value_peak),
            value_peak / file_bytes
        )),
    ];
    Ok((rows, Value::Object(results)))
}
