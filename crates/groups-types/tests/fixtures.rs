//! Conformance runner: every fixture in a directory parses into its model
//! and writes back to an equal JSON value.
//!
//! Two sources are checked:
//! * the project's own fixtures in `crates/groups-types/fixtures/`, always;
//! * the directory named by `GROUPS_FIXTURES_DIR` when it is set (CI points
//!   it at the shared fixtures). If the variable is set but the directory is
//!   missing or empty, the test fails.

use std::path::Path;

fn check_dir(dir: &Path) -> usize {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("fixture directory {} unreadable: {e}", dir.display()));
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut names: Vec<_> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("read fixture");
        match groups_types::fixture::check(&name, &text) {
            Ok(_) => checked += 1,
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
    checked
}

#[test]
fn own_fixtures_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let n = check_dir(&dir);
    assert!(n >= 10, "expected the project's own fixtures, found {n}");
}

#[test]
fn shared_fixtures_round_trip_when_configured() {
    let Some(dir) = std::env::var_os("GROUPS_FIXTURES_DIR") else {
        eprintln!("GROUPS_FIXTURES_DIR not set: shared fixtures not checked");
        return;
    };
    let dir = Path::new(&dir);
    assert!(
        dir.is_dir(),
        "GROUPS_FIXTURES_DIR={} is not a directory",
        dir.display()
    );
    let n = check_dir(dir);
    assert!(
        n > 0,
        "GROUPS_FIXTURES_DIR={} holds no fixtures",
        dir.display()
    );
    eprintln!("checked {n} shared fixtures");
}

#[test]
fn unknown_fixture_names_fail() {
    for bad in [
        "get_group.response.txt",
        "frobnicate.response.json",
        "error.418.teapot.json",
        "get_group.json",
        "response.json",
        "error.401.json",
    ] {
        assert!(
            groups_types::fixture::check(bad, "{}").is_err(),
            "{bad} accepted"
        );
    }
}
