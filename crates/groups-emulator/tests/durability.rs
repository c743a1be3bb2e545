//! Durability with a state file: graceful restart (library), SIGKILL after acknowledged
//! writes (binary), the file always parses while writes go on, an unreadable file stops
//! the start, a failed save rolls the change back; the journal: a write at a large state
//! appends only its change, a torn tail is dropped, compaction loses nothing, and a few
//! kill -9 cycles at random moments (with compactions under way) keep every
//! acknowledged write.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Http, Rng, temp_dir};
use groups_emulator::{Emulator, EmulatorError};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_groups-emulator");

/// Start the binary and return it with its base URL (first stdout line).
async fn spawn_binary(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("first line in time")
        .expect("stdout readable")
        .expect("a first line");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

fn group_names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn assert_parses(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("state file does not parse: {e}"))
}

#[tokio::test]
async fn state_continues_after_graceful_restart() {
    let dir = temp_dir("graceful");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let g = http
        .post("/v2/groups", "alice", json!({"name": "kept"}))
        .await;
    assert_eq!(g.status, 201);
    let id = g.json["id"].as_str().unwrap().to_owned();
    let bob = http.get("/v2/groups/my_groups", "bob").await;
    assert_eq!(bob.status, 200);
    let added = http
        .post(
            &format!("/v2/groups/{id}"),
            "alice",
            json!({"add": [{"identity_id": "5d2c0a0c-3b1e-4e0f-9a36-1b0d2f000001", "role": "member"}]}),
        )
        .await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    let before = emu.dump_state();
    emu.shutdown().await.unwrap();
    assert_parses(&state);

    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.dump_state(), before, "restart continues from the file");
    let http = Http::new(&emu.base_url());
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(group_names(&mine.json), vec!["kept"]);
    // New writes continue the same history (ids keep being unique).
    let g2 = http
        .post("/v2/groups", "alice", json!({"name": "second"}))
        .await;
    assert_eq!(g2.status, 201);
    assert_ne!(g2.json["id"], g.json["id"]);
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_and_the_file_always_parses() {
    let dir = temp_dir("sigkill");
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap().to_owned();
    let (mut child, url) = spawn_binary(&["serve", "--port", "0", "--state", &state_arg]).await;
    let http = Http::new(&url);

    // A watcher re-reads the file as fast as it can while writes go on: every read must
    // be a complete JSON document.
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, reads, state) = (Arc::clone(&stop), Arc::clone(&reads), state.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(bytes) = std::fs::read(&state) {
                    if let Err(e) = serde_json::from_slice::<Value>(&bytes) {
                        return Err(format!("half-written state file: {e}"));
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        })
    };

    let mut acknowledged = Vec::new();
    for i in 0..25 {
        let name = format!("g{i:02}");
        let r = http
            .post("/v2/groups", "alice", json!({"name": name}))
            .await;
        assert_eq!(r.status, 201);
        acknowledged.push(name);
    }
    // Kill without warning right after the last acknowledged write.
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed: {status:?}");
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap().unwrap();
    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_parses(&state);

    let (mut child, url) = spawn_binary(&["serve", "--port", "0", "--state", &state_arg]).await;
    let http = Http::new(&url);
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(
        group_names(&mine.json),
        acknowledged,
        "no acknowledged write lost"
    );

    // SIGTERM is a clean shutdown: exit status 0.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn unreadable_state_file_stops_the_start_and_is_left_alone() {
    let dir = temp_dir("corrupt");
    let state = dir.join("state.json");
    let garbage = b"{\"format\": \"groups-emulator-state\", \"version\": 1, \"wor";
    std::fs::write(&state, garbage).unwrap();

    let err = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .expect_err("refuses to start");
    assert!(matches!(err, EmulatorError::StateFile { .. }), "{err:?}");
    assert!(err.to_string().contains("state.json"), "{err}");

    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--state", state.to_str().unwrap()])
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("exits promptly")
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "never claims to listen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("state file") && stderr.contains("state.json"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&state).unwrap(), garbage, "file untouched");

    // Not a state file at all (valid JSON of another kind) is refused too.
    std::fs::write(&state, b"{\"groups\": {}}").unwrap();
    assert!(
        Emulator::builder()
            .state_file(&state)
            .start()
            .await
            .is_err()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn failed_save_rolls_the_write_back_and_answers_500() {
    let dir = temp_dir("rollback");
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let state = sub.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    assert_eq!(
        http.post("/v2/groups", "alice", json!({"name": "saved"}))
            .await
            .status,
        201
    );
    let before = emu.dump_state();
    // Pull the directory away: the next save cannot happen.
    std::fs::remove_dir_all(&sub).unwrap();
    let r = http
        .post("/v2/groups", "alice", json!({"name": "lost"}))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.code(), "PERSISTENCE_ERROR");
    assert_eq!(emu.dump_state(), before, "unsaved write rolled back");
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(group_names(&mine.json), vec!["saved"]);
    drop(emu);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn reads_do_not_rewrite_the_state_file() {
    let dir = temp_dir("reads");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    assert_eq!(
        http.post("/v2/groups", "alice", json!({"name": "g"}))
            .await
            .status,
        201
    );
    let modified = std::fs::metadata(&state).unwrap().modified().unwrap();
    let bytes = std::fs::read(&state).unwrap();
    for _ in 0..10 {
        assert_eq!(http.get("/v2/groups/my_groups", "alice").await.status, 200);
    }
    assert_eq!(std::fs::read(&state).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&state).unwrap().modified().unwrap(),
        modified
    );
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn seed_file_applies_on_first_start_and_the_state_file_wins_afterwards() {
    let dir = temp_dir("seed-then-state");
    let seed = dir.join("seed.json");
    let state = dir.join("state.json");
    let gid = "5eed0000-0000-4000-8000-000000000001";
    std::fs::write(
        &seed,
        serde_json::to_vec(&json!({
            "identities": [{"id": "5eed0000-0000-4000-8000-0000000000a1", "username": "ann@example.org"}],
            "tokens": [{"token": "ann", "identity": "5eed0000-0000-4000-8000-0000000000a1"}],
            "groups": [{"id": gid, "name": "seeded",
                        "memberships": [{"identity_id": "5eed0000-0000-4000-8000-0000000000a1", "role": "admin"}]}]
        }))
        .unwrap(),
    )
    .unwrap();
    let args = [
        "serve",
        "--port",
        "0",
        "--strict-tokens",
        "--seed",
        seed.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    let (mut child, url) = spawn_binary(&args).await;
    let http = Http::new(&url);
    let g = http.get(&format!("/v2/groups/{gid}"), "ann").await;
    assert_eq!((g.status, &g.json["name"]), (200, &json!("seeded")));
    assert_eq!(
        http.get("/v2/groups/my_groups", "stranger").await.status,
        401
    );
    assert_eq!(
        http.delete(&format!("/v2/groups/{gid}"), "ann")
            .await
            .status,
        200
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // Same command again: the state file wins, the seed is not re-applied.
    let (_child, url) = spawn_binary(&args).await;
    let http = Http::new(&url);
    assert_eq!(
        http.get(&format!("/v2/groups/{gid}"), "ann").await.status,
        404
    );
    drop(_child);

    // A broken seed file is a clear startup error.
    std::fs::write(&seed, b"{\"groups\": [{\"name\": 1}]}").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--seed", seed.to_str().unwrap()])
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("exits promptly")
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("seed.json"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn library_changes_through_with_world_are_saved() {
    let dir = temp_dir("with-world");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let id = emu.with_world(|w| w.add_identity("zed@example.org"));
    drop(emu);
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.read_world(|w| w.username(&id)), "zed@example.org");
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn start_removes_temporary_files_a_crashed_run_left() {
    let dir = temp_dir("stale-temps");
    let state = dir.join("state.json");
    // A temporary file of a process that no longer runs (no pid is this large), and
    // files that are not this state file's temporaries.
    let stale = dir.join(".state.json.tmp.4294967295");
    let other = dir.join(".other.json.tmp.4294967295");
    let unrelated = dir.join("notes.txt");
    for f in [&stale, &other, &unrelated] {
        std::fs::write(f, b"partial").unwrap();
    }
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    assert!(!stale.exists(), "stale temporary file left behind");
    assert!(
        other.exists() && unrelated.exists(),
        "only our temporaries go"
    );
    assert!(state.exists());
    emu.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Journal files of a state file, by name.
fn journal_files(state: &Path) -> Vec<std::path::PathBuf> {
    let name = state.file_name().unwrap().to_str().unwrap().to_owned();
    let mut out: Vec<_> = std::fs::read_dir(state.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{name}.journal.")))
        })
        .collect();
    out.sort();
    out
}

fn journal_bytes(state: &Path) -> u64 {
    journal_files(state)
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn identity(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

#[tokio::test]
async fn a_write_at_a_large_state_appends_its_change_only() {
    let dir = temp_dir("journal-size");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let g = http
        .post("/v2/groups", "alice", json!({"name": "big"}))
        .await;
    let gid = g.json["id"].as_str().unwrap().to_owned();
    let path = format!("/v2/groups/{gid}");
    for chunk in 0..4 {
        let add: Vec<Value> = (0..1000)
            .map(|i| json!({"identity_id": identity(chunk * 1000 + i)}))
            .collect();
        assert_eq!(
            http.post(&path, "alice", json!({"add": add})).await.status,
            200
        );
    }
    // Fold everything into the snapshot (a clean shutdown does), then start again.
    emu.shutdown().await.unwrap();
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let snapshot = std::fs::read(&state).unwrap();
    assert!(snapshot.len() > 400_000, "{} bytes", snapshot.len());
    let before = journal_bytes(&state);
    let one = json!({"remove": [{"identity_id": identity(7)}]});
    assert_eq!(http.post(&path, "alice", one).await.status, 200);
    let grew = journal_bytes(&state) - before;
    assert!(
        grew > 0 && grew < 2_000,
        "a one-member change appended {grew} bytes at a {}-byte state",
        snapshot.len()
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        snapshot,
        "snapshot untouched"
    );

    // Kill-like restart (no shutdown): the journal replays.
    drop(emu);
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let g = http
        .get(&format!("{path}?include=memberships"), "alice")
        .await;
    let members = g.json["memberships"].as_array().unwrap();
    let active = |id: &str| {
        members
            .iter()
            .any(|m| m["identity_id"] == json!(id) && m["status"] == json!("active"))
    };
    assert!(active(&identity(6)) && active(&identity(3999)));
    assert!(!active(&identity(7)), "the removal was replayed");
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_torn_journal_tail_is_dropped_and_the_acknowledged_writes_kept() {
    let dir = temp_dir("torn");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    for name in ["a", "b"] {
        assert_eq!(
            http.post("/v2/groups", "alice", json!({"name": name}))
                .await
                .status,
            201
        );
    }
    drop(emu);
    // A crash in the middle of the next append: a frame header and half a payload.
    let journal = journal_files(&state).pop().unwrap();
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4]);
    bytes.extend_from_slice(b"{\"generation\": 9");
    std::fs::write(&journal, &bytes).unwrap();
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(group_names(&mine.json), ["a", "b"]);
    assert_eq!(
        http.post("/v2/groups", "alice", json!({"name": "c"}))
            .await
            .status,
        201
    );
    drop(emu);
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(group_names(&mine.json), ["a", "b", "c"]);
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_compaction_keeps_every_write_and_deletes_old_journals() {
    let dir = temp_dir("compaction");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .state_file(&state)
        .compact_after(2_000)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let first = std::fs::read(&state).unwrap();
    let mut names = Vec::new();
    for i in 0..60 {
        let name = format!("g{i:02}");
        assert_eq!(
            http.post("/v2/groups", "alice", json!({"name": name}))
                .await
                .status,
            201
        );
        names.push(name);
    }
    // The compaction thread runs beside the writes: give it a moment to finish.
    let mut compacted = false;
    for _ in 0..100 {
        if std::fs::read(&state).unwrap() != first && journal_files(&state).len() == 1 {
            compacted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        compacted,
        "a new snapshot, one journal: {:?}",
        journal_files(&state)
    );
    assert!(journal_bytes(&state) < 60 * 300, "the journal was cut");
    drop(emu);
    let emu = Emulator::builder()
        .state_file(&state)
        .start()
        .await
        .unwrap();
    let http = Http::new(&emu.base_url());
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(group_names(&mine.json), names);
    emu.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A few kill -9 cycles of the binary at random moments while four connections write
/// (groups created, members added to a shared group) with compactions under way;
/// after each restart every acknowledged write is there (`cargo xtask kill-cycles`
/// runs many more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_no_acknowledged_write() {
    let dir = temp_dir("kill-cycles");
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap().to_owned();
    let args = [
        "serve",
        "--port",
        "0",
        "--state",
        &state_arg,
        "--compact-after",
        "4096",
    ];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = Rng::new(seed);
    let mut groups_acked: Vec<String> = Vec::new();
    let mut members_acked: Vec<String> = Vec::new();
    let mut shared_group = String::new();
    let mut next_member = 0usize;
    for cycle in 0..3 {
        let (mut child, url) = spawn_binary(&args).await;
        let http = Http::new(&url);
        // Everything acknowledged before is there.
        let inv = http.control(http::Method::GET, "invariants", None).await;
        assert_eq!(
            (inv.status, &inv.json["ok"]),
            (200, &json!(true)),
            "{}",
            inv.json
        );
        // (A write in flight at the kill may be there too: applied, never answered.)
        let mine = http.get("/v2/groups/my_groups", "owner").await;
        let present: std::collections::BTreeSet<String> =
            group_names(&mine.json).into_iter().collect();
        for g in &groups_acked {
            assert!(
                present.contains(g),
                "seed {seed} cycle {cycle}: group {g} lost"
            );
        }
        if shared_group.is_empty() {
            let g = http
                .post("/v2/groups", "owner", json!({"name": "shared"}))
                .await;
            assert_eq!(g.status, 201);
            shared_group = g.json["id"].as_str().unwrap().to_owned();
        } else {
            let g = http
                .get(
                    &format!("/v2/groups/{shared_group}?include=memberships"),
                    "owner",
                )
                .await;
            let present: std::collections::BTreeSet<&str> = g.json["memberships"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["identity_id"].as_str().unwrap())
                .collect();
            for m in &members_acked {
                assert!(present.contains(m.as_str()), "seed {seed}: member {m} lost");
            }
        }
        // Four writers until the kill.
        let mut writers = Vec::new();
        for w in 0..4 {
            let http = http.clone();
            let gid = shared_group.clone();
            let start = next_member + w * 10_000;
            writers.push(tokio::spawn(async move {
                let mut groups = Vec::new();
                let mut members = Vec::new();
                for n in 0..10_000 {
                    let name = format!("c{cycle}-w{w}-{n}");
                    let r = http
                        .send_raw(
                            http::Method::POST,
                            "/v2/groups",
                            Some("owner"),
                            Some(serde_json::to_vec(&json!({"name": name})).unwrap()),
                        )
                        .await;
                    match r {
                        Ok(r) if r.status == 201 => groups.push(name),
                        Ok(r) => panic!("unexpected {}", r.status),
                        Err(_) => break,
                    }
                    let id = identity(start + n);
                    let body = json!({"add": [{"identity_id": id}]});
                    let r = http
                        .send_raw(
                            http::Method::POST,
                            &format!("/v2/groups/{gid}"),
                            Some("owner"),
                            Some(serde_json::to_vec(&body).unwrap()),
                        )
                        .await;
                    match r {
                        Ok(r) if r.status == 200 => members.push(id),
                        Ok(r) => panic!("unexpected {}", r.status),
                        Err(_) => break,
                    }
                }
                (groups, members)
            }));
        }
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300) as u64)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        for w in writers {
            let (g, m) = w.await.unwrap();
            groups_acked.extend(g);
            members_acked.extend(m);
        }
        next_member += 40_000;
    }
    assert!(!groups_acked.is_empty() && !members_acked.is_empty());
    let (_child, url) = spawn_binary(&args).await;
    let mine = Http::new(&url).get("/v2/groups/my_groups", "owner").await;
    let present: std::collections::BTreeSet<String> = group_names(&mine.json).into_iter().collect();
    assert!(
        groups_acked.iter().all(|g| present.contains(g)),
        "seed {seed}"
    );
    drop(_child);
    std::fs::remove_dir_all(&dir).unwrap();
}
