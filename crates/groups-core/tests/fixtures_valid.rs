//! The hand-written fixtures in `tests/fixtures/` stay valid: every file's
//! name maps to a model, and the body survives a parse/serialize round trip
//! unchanged (`groups_types::fixture::check`). When `GROUPS_FIXTURES_DIR`
//! points at the shared fixtures, none of ours may equal a shared file of the
//! same name, byte for byte or as a JSON value: the shared set is read where
//! it lives, never copied into the repository.

use std::path::{Path, PathBuf};

fn own_fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect()
}

#[test]
fn every_own_fixture_round_trips_through_its_model() {
    let fixtures = own_fixtures();
    // Every file the tests read, so none can vanish unnoticed.
    assert_eq!(
        fixtures.len(),
        22,
        "{:?}",
        fixtures.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let failures: Vec<String> = fixtures
        .iter()
        .filter_map(|(name, text)| groups_types::fixture::check(name, text).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_own_fixture_is_a_copy_of_a_shared_one() {
    let Some(shared) = std::env::var_os("GROUPS_FIXTURES_DIR") else {
        return;
    };
    let shared = Path::new(&shared);
    assert!(shared.is_dir(), "GROUPS_FIXTURES_DIR={}", shared.display());
    let mut compared = 0;
    for (name, text) in own_fixtures() {
        let Ok(theirs) = std::fs::read_to_string(shared.join(&name)) else {
            continue;
        };
        compared += 1;
        assert_ne!(text, theirs, "{name} is a byte copy of the shared fixture");
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        assert_ne!(ours, theirs, "{name} equals the shared fixture as JSON");
    }
    assert!(compared > 0, "no same-named shared fixture found");
}
