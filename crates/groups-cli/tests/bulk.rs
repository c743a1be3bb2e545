//! `member bulk` and `member sync` through the real binary: files checked
//! whole before anything is sent, 5,000 identities through injected 503s
//! and per-identity failures, exact summaries, idempotent reruns.

mod common;

use std::path::PathBuf;

use common::*;
use groups_emulator::Fault;
use serde_json::{Value, json};

fn write(name: &str, text: &str) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new(name);
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write file");
    (dir, path)
}

/// A scratch directory removed on drop (std only).
mod tempdir {
    use std::path::{Path, PathBuf};

    pub(super) struct Dir(PathBuf);

    impl Dir {
        pub(super) fn new(tag: &str) -> Dir {
            let mut p = std::env::temp_dir();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            p.push(format!("groups-cli-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Dir(p)
        }

        pub(super) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn a_bad_file_is_reported_by_line_and_nothing_is_sent() {
    let env = Env::demo();
    let requests = env.emu.request_count();
    let generation = env.generation();
    let text = format!(
        "identity,role\n{ADA},member\n\n# comment\n{BOB},boss\nnot-an-id\n{CAROL},member,extra\n"
    );
    let (_d, path) = write("bad.csv", &text);
    let p = path.to_str().expect("utf-8 path");
    let run = env.run(&["member", "bulk", "add", LAB, p]);
    run.expect(2);
    for line in ["line 5:", "line 6:", "line 7:"] {
        assert!(run.stderr.contains(line), "{line} in {}", run.stderr);
    }
    assert!(!run.stderr.contains("line 2:"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert_eq!(env.emu.request_count(), requests, "no request at all");

    // A missing file.
    let missing = env.run(&["member", "bulk", "remove", LAB, "/nonexistent/roster.txt"]);
    missing.expect(2);
    assert!(
        missing.stderr.contains("/nonexistent/roster.txt"),
        "{}",
        missing.stderr
    );
    assert_eq!(env.emu.request_count(), requests);

    // Unknown usernames are named (with their lines); Groups sees nothing.
    let (_d2, path) = write(
        "names.txt",
        "ada@uni.example.org\nghost@uni.example.org\nbob@uni.example.org\nspook@uni.example.org\n",
    );
    let run = env.run(&["member", "bulk", "add", LAB, path.to_str().expect("path")]);
    run.expect(2);
    assert!(
        run.stderr.contains("ghost@uni.example.org (line 2)")
            && run.stderr.contains("spook@uni.example.org (line 4)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.generation(),
        generation,
        "nothing changed at the emulator"
    );
    env.stop();
}

/// Identities of the big file.
fn big_id(i: usize) -> String {
    format!("b0000000-0000-4000-8000-{i:012x}")
}

#[test]
fn five_thousand_identities_through_503s_and_per_identity_failures() {
    const N: usize = 5_000;
    // Seven identities refuse being added; five left the group before.
    let refusing: Vec<usize> = vec![3, 777, 1500, 2222, 3001, 4090, 4999];
    let left: Vec<usize> = vec![10, 1000, 2000, 3000, 4000];
    let mut seed = demo_seed();
    let identities = seed["identities"].as_array_mut().expect("identities");
    for i in &refusing {
        identities.push(json!({"id": big_id(*i), "allow_add": false}));
    }
    let group = &mut seed["groups"][0]["memberships"];
    for i in &left {
        group
            .as_array_mut()
            .expect("memberships")
            .push(json!({"identity_id": big_id(*i), "role": "member", "status": "left"}));
    }
    let env = Env::with_seed(seed);
    let mut text = String::from("# five thousand\n");
    for i in 0..N {
        text.push_str(&big_id(i));
        text.push('\n');
    }
    let (_d, path) = write("big.txt", &text);
    let p = path.to_str().expect("path");
    let active_before = env.count(LAB, "active");
    // Two batch requests answer 503 first; the core retries them.
    env.emu.inject(
        Fault::status(503)
            .method("POST")
            .path(format!("/v2/groups/{LAB}"))
            .times(2),
    );
    let run = env.run(&[
        "member",
        "bulk",
        "add",
        LAB,
        p,
        "--batch-size",
        "250",
        "--progress",
        "always",
    ]);
    run.expect(1);
    let last = run
        .stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("progress: "))
        .unwrap_or_else(|| panic!("no progress in {}", run.stderr));
    assert!(
        last.starts_with("progress: 5000/5000 identities, batch 20/20, 12 failed"),
        "{last}"
    );
    let failed = refusing.len() + left.len();
    assert!(
        run.stdout.starts_with(&format!(
            "Added {} of 5000 identities (to group {LAB}) in 20 batch(es).\nFailed: {failed}\n",
            N - failed
        )),
        "{}",
        run.stdout
    );
    for i in refusing.iter().chain(&left) {
        assert!(
            run.stdout.contains(&big_id(*i)),
            "failure of {} listed",
            big_id(*i)
        );
    }
    assert_eq!(
        run.stdout.matches("ADD_NOT_ALLOWED").count(),
        refusing.len()
    );
    assert_eq!(run.stdout.matches("PREVIOUSLY_LEFT").count(), left.len());
    assert_eq!(
        env.count(LAB, "active"),
        active_before + (N - failed) as u64,
        "counted at the emulator"
    );
    assert!(env.emu.pending_faults().is_empty(), "both 503s were served");

    // The rerun: everyone added before is already active; the same 12 fail.
    let again = env.run(&[
        "member",
        "bulk",
        "add",
        LAB,
        p,
        "--batch-size",
        "1000",
        "-F",
        "json",
    ]);
    again.expect(1);
    let doc = again.json();
    assert_eq!(doc["total"], 5000);
    assert_eq!(doc["succeeded"], 0);
    assert_eq!(doc["already_active"], (N - failed) as u64);
    assert_eq!(doc["failed"], failed as u64);
    let codes: Vec<&str> = doc["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes.len(), failed);
    env.stop();
}

#[test]
fn bulk_remove_and_invite_with_usernames_and_roles() {
    let env = Env::demo();
    let (_d, path) = write(
        "people.csv",
        "username,role\ndave@uni.example.org,manager\nnew@uni.example.org\n",
    );
    // new@ is unknown to Auth: refused before anything is sent.
    env.run(&["member", "bulk", "invite", OPEN, path.to_str().expect("p")])
        .expect(2);
    let (_d2, path) = write(
        "people2.csv",
        &format!("username,role\ndave@uni.example.org,manager\n{ADA}\n"),
    );
    let run = env.run(&["member", "bulk", "invite", OPEN, path.to_str().expect("p")]);
    insta::assert_snapshot!("bulk_invite", run.expect(0).stdout);
    assert_eq!(env.count(OPEN, "invited"), 2);
    let doc = env
        .run(&["member", "list", OPEN, "-F", "json"])
        .expect(0)
        .json();
    let dave = doc["memberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .find(|m| m["identity_id"] == DAVE)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(dave["role"], "manager", "the CSV role column");

    let (_d3, ids) = write("ids.txt", &format!("{ADA}\n{BOB}\n"));
    let run = env.run(&["member", "bulk", "remove", LAB, ids.to_str().expect("p")]);
    // Bob is pending, not a member: remove fails for him only.
    run.expect(1);
    assert!(run.stdout.starts_with("Removed 1 of 2"), "{}", run.stdout);
    assert!(run.stdout.contains(BOB), "{}", run.stdout);
    env.stop();
}

#[test]
fn sync_shows_the_plan_then_applies_it_and_a_rerun_has_nothing_to_do() {
    let env = Env::demo();
    let roster = format!(
        "# the lab as it should be\n{ADMIN} admin\nada@uni.example.org manager\n{DAVE}\nb0000000-0000-4000-8000-000000000001 member\n"
    );
    let (_d, path) = write("roster.txt", &roster);
    let p = path.to_str().expect("path");
    let generation = env.generation();
    let dry = env.run(&["member", "sync", LAB, p, "--dry-run"]);
    insta::assert_snapshot!("sync_dry_run", dry.expect(0).stdout);
    assert_eq!(env.generation(), generation, "a dry run changes nothing");

    let applied = env.run(&["member", "sync", LAB, p]);
    // Dave refuses being added: the one failure of the run.
    applied.expect(1);
    insta::assert_snapshot!("sync_apply", applied.stdout);

    let doc = env
        .run(&["member", "list", LAB, "-F", "json"])
        .expect(0)
        .json();
    let role_of = |id: &str| {
        doc["memberships"]
            .as_array()
            .expect("memberships")
            .iter()
            .find(|m| m["identity_id"] == id)
            .map(|m| (m["role"].clone(), m["status"].clone()))
    };
    assert_eq!(role_of(ADA), Some((json!("manager"), json!("active"))));
    let (_d2, path) = write(
        "roster2.txt",
        &format!(
            "{ADMIN} admin\nada@uni.example.org manager\nb0000000-0000-4000-8000-000000000001\n"
        ),
    );
    let again = env
        .run(&[
            "member",
            "sync",
            LAB,
            path.to_str().expect("p"),
            "-F",
            "json",
        ])
        .expect(0)
        .json();
    assert_eq!(again["plan"]["actions"], json!([]), "{again}");
    // Two roles for one identity: refused before anything is sent.
    let (_d3, conflict) = write("conflict.txt", &format!("{ADA} member\n{ADA} admin\n"));
    let run = env.run(&["member", "sync", LAB, conflict.to_str().expect("p")]);
    run.expect(2);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    env.stop();
}
