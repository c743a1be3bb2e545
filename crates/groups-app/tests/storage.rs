//! The JSON token file under stress: two processes writing at once lose
//! nothing (the test binary spawns itself as the writers), files are never
//! readable by others even for a moment, a writer killed mid-write leaves
//! the previous file readable, and a corrupt or foreign file is a typed
//! error that is never overwritten.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use groups_app::TokenStorage;
use groups_app::storage::{JsonTokenStorage, StorageErrorKind, TokenStorageData};

/// Selects the child mode of this binary: `write:<path>:<writer>:<count>`.
const CHILD_VAR: &str = "GROUPS_APP_STORAGE_CHILD";
const WRITES: usize = 100;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("groups-app-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn entry(rs: &str) -> TokenStorageData {
    TokenStorageData::new(rs, format!("AT-{rs}"), 1_700_000_000).with_scope("openid")
}

/// The child: `count` writes (0 = until killed), each its own entry.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD_VAR) else {
        return; // run as a normal test: nothing to do
    };
    let mut parts = spec.splitn(4, ':');
    let (Some("write"), Some(path), Some(writer), Some(count)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("bad {CHILD_VAR}");
    };
    let count: usize = count.parse().expect("a count");
    let storage = JsonTokenStorage::new(path).expect("storage");
    let mut i = 0;
    while count == 0 || i < count {
        storage
            .store_token_data(&[entry(&format!("{writer}-{i}"))])
            .expect("write");
        i += 1;
    }
}

fn spawn_writer(path: &Path, writer: &str, count: usize) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "child_writer",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(
            CHILD_VAR,
            format!("write:{}:{writer}:{count}", path.display()),
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("child starts")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn two_processes_writing_a_hundred_times_each_lose_nothing() {
    let dir = scratch("two-writers");
    let path = dir.join("tokens.json");
    JsonTokenStorage::new(&path).expect("storage");
    let mut a = spawn_writer(&path, "a", WRITES);
    let mut b = spawn_writer(&path, "b", WRITES);
    assert!(a.wait().expect("a ends").success());
    assert!(b.wait().expect("b ends").success());
    let all = JsonTokenStorage::new(&path)
        .expect("storage")
        .get_all_token_data()
        .expect("the file reads");
    for w in ["a", "b"] {
        for i in 0..WRITES {
            let rs = format!("{w}-{i}");
            assert!(all.contains_key(&rs), "{rs} was lost");
        }
    }
    assert_eq!(all.len(), 2 * WRITES);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[cfg(unix)]
#[test]
fn files_are_private_from_their_creation() {
    let dir = scratch("modes");
    let path = dir.join("app").join("tokens.json");
    let storage = Arc::new(JsonTokenStorage::new(&path).expect("storage"));
    assert_eq!(mode(path.parent().unwrap()), 0o700, "the directory");
    // A watcher looks at every file in the directory while 100 writes
    // happen (the temporary files included): none is ever readable by
    // group or others.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        let dir = path.parent().unwrap().to_path_buf();
        std::thread::spawn(move || {
            let mut seen = 0usize;
            let mut wide = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for e in std::fs::read_dir(&dir).expect("list").flatten() {
                    use std::os::unix::fs::PermissionsExt;
                    if let Ok(m) = e.metadata() {
                        seen += 1;
                        if m.permissions().mode() & 0o077 != 0 {
                            wide.push(e.file_name());
                        }
                    }
                }
            }
            (seen, wide)
        })
    };
    for i in 0..WRITES {
        storage
            .store_token_data(&[entry(&format!("rs-{i}"))])
            .expect("write");
    }
    stop.store(true, Ordering::Relaxed);
    let (seen, wide) = watcher.join().expect("watcher");
    assert!(seen > 0, "the watcher saw the files");
    assert!(
        wide.is_empty(),
        "readable by others at some point: {wide:?}"
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&path.with_file_name("tokens.json.lock")), 0o600);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_writer_killed_mid_write_leaves_the_previous_file_readable() {
    let dir = scratch("killed");
    let path = dir.join("tokens.json");
    let storage = JsonTokenStorage::new(&path).expect("storage");
    storage.store_token_data(&[entry("before")]).expect("write");
    // A child writes without end; it is killed at some point of a write
    // (between writing its temporary file and renaming it, or anywhere).
    for round in 0..3 {
        let mut child = spawn_writer(&path, &format!("k{round}"), 0);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        // Wait until it has written a little (bounded), then kill it.
        while std::time::Instant::now() < deadline {
            let n = storage.get_all_token_data().expect("always readable").len();
            if n > 10 * (round + 1) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("killed");
        child.wait().expect("reaped");
        let all = storage
            .get_all_token_data()
            .expect("readable after the kill");
        assert!(all.contains_key("before"), "the earlier data is intact");
    }
    // A leftover temporary file (a crash after writing it) does not hurt:
    // the file still reads, and the next write cleans it up.
    let stale = dir.join(".tokens.json.tmp-99999-1");
    std::fs::write(&stale, b"{\"partial").expect("stale temp");
    storage.get_all_token_data().expect("readable");
    storage.store_token_data(&[entry("after")]).expect("write");
    assert!(!stale.exists(), "the stale temporary file was removed");
    let all = storage.get_all_token_data().expect("readable");
    assert!(all.contains_key("before") && all.contains_key("after"));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn corrupt_or_foreign_files_are_typed_errors_and_never_overwritten() {
    let dir = scratch("corrupt");
    let path = dir.join("tokens.json");
    let storage = JsonTokenStorage::new(&path).expect("storage");
    for (bytes, kind) in [
        (&b"{not json"[..], StorageErrorKind::Corrupt),
        (b"[1, 2]", StorageErrorKind::Corrupt),
        (
            b"{\"format_version\": \"7.0\", \"data\": {}, \"globus-sdk.version\": \"9\"}",
            StorageErrorKind::UnknownFormat,
        ),
        (
            b"{\"format_version\": \"2.0\", \"globus-sdk.version\": \"3\", \"data\": {\"DEFAULT\": {\"x\": {\"access_token\": 5}}}}",
            StorageErrorKind::Corrupt,
        ),
    ] {
        std::fs::write(&path, bytes).expect("write");
        let e = storage.get_all_token_data().expect_err("refused");
        assert_eq!(e.kind(), kind, "{e}");
        let e = storage.store_token_data(&[entry("new")]).expect_err("refused");
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(std::fs::read(&path).expect("read"), bytes, "never overwritten");
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
