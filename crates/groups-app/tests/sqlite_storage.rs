//! The SQLite token storage (feature `sqlite`): globus-sdk's tables, mode
//! 0600 from creation, two processes writing at once lose nothing, and a
//! foreign file or schema is a typed error that is left untouched.
#![cfg(feature = "sqlite")]

use std::path::{Path, PathBuf};
use std::process::Command;

use groups_app::TokenStorage;
use groups_app::sqlite_storage::SqliteTokenStorage;
use groups_app::storage::{StorageErrorKind, TokenStorageData};

const CHILD_VAR: &str = "GROUPS_APP_SQLITE_CHILD";
const WRITES: usize = 100;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("groups-app-sqlite-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn entry(rs: &str) -> TokenStorageData {
    TokenStorageData::new(rs, format!("AT-{rs}"), 1_700_000_000)
        .with_scope("openid")
        .with_refresh_token(format!("RT-{rs}"))
}

/// The child: `WRITES` writes of its own entries.
#[test]
fn sqlite_child_writer() {
    let Ok(spec) = std::env::var(CHILD_VAR) else {
        return;
    };
    let (path, writer) = spec.split_once('|').expect("path|writer");
    let storage = SqliteTokenStorage::new(path).expect("storage");
    for i in 0..WRITES {
        storage
            .store_token_data(&[entry(&format!("{writer}-{i}"))])
            .expect("write");
    }
}

fn spawn_writer(path: &Path, writer: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["sqlite_child_writer", "--exact", "--nocapture"])
        .env(CHILD_VAR, format!("{}|{writer}", path.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("child starts")
}

#[test]
fn round_trip_in_globus_sdk_tables_with_a_private_file() {
    let dir = scratch("round-trip");
    let path = dir.join("tokens.db");
    let storage = SqliteTokenStorage::new(&path).expect("storage");
    storage
        .store_token_data(&[entry("groups.api.globus.org"), entry("auth.globus.org")])
        .expect("write");
    let back = storage
        .get_token_data("groups.api.globus.org")
        .expect("read")
        .expect("stored");
    assert_eq!(
        back.refresh_token.expect("rt").expose_secret(),
        "RT-groups.api.globus.org"
    );
    assert!(
        storage
            .remove_token_data("auth.globus.org")
            .expect("removed")
    );
    assert!(!storage.remove_token_data("auth.globus.org").expect("gone"));
    assert_eq!(storage.get_all_token_data().expect("read").len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    drop(storage);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn two_processes_writing_a_hundred_times_each_lose_nothing() {
    let dir = scratch("two-writers");
    let path = dir.join("tokens.db");
    SqliteTokenStorage::new(&path).expect("storage");
    let mut a = spawn_writer(&path, "a");
    let mut b = spawn_writer(&path, "b");
    assert!(a.wait().expect("a ends").success());
    assert!(b.wait().expect("b ends").success());
    let all = SqliteTokenStorage::new(&path)
        .expect("storage")
        .get_all_token_data()
        .expect("read");
    assert_eq!(all.len(), 2 * WRITES, "nothing lost");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn foreign_files_and_schemas_are_typed_errors_left_untouched() {
    let dir = scratch("foreign");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("tokens.db");
    std::fs::write(&path, b"this is not a database, it is a text file....").expect("write");
    let e = SqliteTokenStorage::new(&path).expect_err("refused");
    assert_eq!(e.kind(), StorageErrorKind::Corrupt, "{e}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"this is not a database, it is a text file....",
        "left untouched"
    );

    std::fs::remove_dir_all(&dir).expect("cleanup");
}
