//! The core stays sans-IO at the dependency level: no runtime, no HTTP
//! stack, no TLS among its normal dependencies.
//!
//! The authoritative check is `cargo tree -p groups-core -e normal`; this
//! test approximates it offline from the manifest and `Cargo.lock` (the lock
//! lists the union of all features used in the workspace, so it can only
//! over-report, never miss a dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ALLOWED_DIRECT: &[&str] = &[
    "groups-types",
    "http",
    "bytes",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "thiserror",
    "uuid",
    "sha2",
    "base64",
    "url",
];

const FORBIDDEN: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "rustls",
    "tokio-rustls",
    "mio",
    "socket2",
    "h2",
    "reqwest",
];

/// The names under `[dependencies]` of a manifest.
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap().trim();
            out.push(name.to_owned());
        }
    }
    out
}

/// package name -> dependency names, from Cargo.lock.
fn lock_graph(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut deps: Vec<String> = Vec::new();
    let mut in_deps = false;
    let mut flush = |name: &mut Option<String>, deps: &mut Vec<String>| {
        if let Some(n) = name.take() {
            graph.entry(n).or_insert_with(Vec::new).append(deps);
        }
        deps.clear();
    };
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            flush(&mut name, &mut deps);
            in_deps = false;
        } else if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"').to_owned());
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
        } else if in_deps {
            if line == "]" {
                in_deps = false;
            } else {
                let dep = line.trim_matches(|c| c == '"' || c == ',');
                deps.push(dep.split(' ').next().unwrap().to_owned());
            }
        }
    }
    flush(&mut name, &mut deps);
    graph
}

#[test]
fn no_runtime_http_stack_or_tls_in_normal_dependencies() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(here.join("Cargo.toml")).unwrap();
    let direct = normal_dependencies(&manifest);
    assert!(!direct.is_empty());
    for d in &direct {
        assert!(
            ALLOWED_DIRECT.contains(&d.as_str()),
            "unexpected direct dependency {d}"
        );
    }

    let lock =
        std::fs::read_to_string(here.join("../../Cargo.lock")).expect("workspace Cargo.lock");
    let graph = lock_graph(&lock);
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = direct;
    while let Some(p) = todo.pop() {
        if !seen.insert(p.clone()) {
            continue;
        }
        if let Some(deps) = graph.get(&p) {
            todo.extend(deps.iter().cloned());
        }
    }
    assert!(
        seen.contains("http") && seen.contains("serde"),
        "lock graph not parsed: {seen:?}"
    );
    let bad: Vec<&String> = seen
        .iter()
        .filter(|p| FORBIDDEN.contains(&p.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "forbidden dependencies reachable from groups-core: {bad:?}"
    );
}
