//! A confidential client's tokens are kept between runs in its token file
//! (`~/.globus/app/<client id>/globus-groups/tokens.json`): the second run
//! asks Auth for nothing, a token near its expiry or rejected by the
//! service is renewed and stored, one client never uses another's token,
//! an unusable file is replaced, and `logout` removes them.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::Value;

const CLIENT_A: &str = "c1000000-0000-4000-8000-00000000000a";
const CLIENT_B: &str = "c1000000-0000-4000-8000-00000000000b";
const GROUPS_RS: &str = "groups.api.globus.org";
const AUTH_RS: &str = "auth.globus.org";

/// The emulator's issued access tokens of `client`, as it lists them.
fn issued(env: &Env, client: &str) -> Vec<Value> {
    let url = env.emu.base_url();
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect to the emulator");
    write!(
        stream,
        "GET /_emulator/auth/tokens HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let doc: Value = serde_json::from_str(body).expect("the token list is JSON");
    doc["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|t| t["client_id"] == client && t["kind"] == "access")
        .cloned()
        .collect()
}

fn as_client(env: &mut Env, id: &str, secret: &str) {
    env.token = None;
    env.extra_env = vec![
        ("GLOBUS_GROUPS_CLIENT_ID".into(), id.into()),
        ("GLOBUS_GROUPS_CLIENT_SECRET".into(), secret.into()),
    ];
}

fn token_file(env: &Env, client: &str) -> PathBuf {
    env.home
        .join(".globus/app")
        .join(client)
        .join("globus-groups/tokens.json")
}

/// The stored entries of `resource_server` in the file (any namespace).
fn stored(env: &Env, client: &str, resource_server: &str) -> Vec<Value> {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(token_file(env, client)).expect("token file"))
            .expect("the token file is JSON");
    doc["data"]
        .as_object()
        .expect("data")
        .iter()
        .filter_map(|(_, ns)| ns.get(resource_server).cloned())
        .collect()
}

fn rewrite(env: &Env, client: &str, change: impl Fn(&mut Value)) {
    let path = token_file(env, client);
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    for (_, ns) in doc["data"].as_object_mut().expect("data") {
        for (_, entry) in ns.as_object_mut().expect("namespace") {
            change(entry);
        }
    }
    std::fs::write(&path, serde_json::to_vec(&doc).expect("encode")).expect("write");
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[test]
fn the_second_run_asks_auth_for_no_token() {
    let mut env = Env::demo();
    as_client(&mut env, CLIENT_A, "secret-a");
    env.run(&["list"]).expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        1,
        "the first run fetches a token"
    );
    env.run(&["list"]).expect(0);
    env.run(&["list", "-F", "json"]).expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        1,
        "later runs use the stored one"
    );

    // Identity lookups: the Auth token is stored too.
    let gid = env.create_group("Robots");
    env.run(&["member", "add", &gid, "ada@uni.example.org"])
        .expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        2,
        "one Auth token for lookups"
    );
    env.run(&["member", "add", &gid, "bob@uni.example.org"])
        .expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        2,
        "the stored Auth token is used"
    );
    assert_eq!(stored(&env, CLIENT_A, GROUPS_RS).len(), 1);
    assert_eq!(stored(&env, CLIENT_A, AUTH_RS).len(), 1);

    // Owner-only: the directory 0700, the file 0600; no secret in it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = token_file(&env, CLIENT_A);
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode();
        assert_eq!(mode(&file) & 0o777, 0o600);
        assert_eq!(mode(file.parent().expect("dir")) & 0o777, 0o700);
    }
    let text = std::fs::read_to_string(token_file(&env, CLIENT_A)).expect("read");
    assert!(!text.contains("secret-a"), "the secret is not stored");
    env.stop();
}

#[test]
fn a_token_near_its_expiry_or_rejected_is_renewed_and_stored() {
    let mut env = Env::demo();
    as_client(&mut env, CLIENT_A, "secret-a");
    let gid = env.create_group("Robots");
    env.run(&["member", "add", &gid, "ada@uni.example.org"])
        .expect(0);
    assert_eq!(issued(&env, CLIENT_A).len(), 2);

    // 30 s left: less than the 60 s margin, so it is renewed.
    rewrite(&env, CLIENT_A, |e| {
        e["expires_at_seconds"] = (now() + 30).into()
    });
    env.run(&["list"]).expect(0);
    assert_eq!(issued(&env, CLIENT_A).len(), 3, "a new Groups token");
    let groups = &stored(&env, CLIENT_A, GROUPS_RS)[0];
    assert!(
        groups["expires_at_seconds"].as_u64().expect("expiry") > now() + 3600,
        "the new token is stored: {groups}"
    );
    env.run(&["list"]).expect(0);
    assert_eq!(issued(&env, CLIENT_A).len(), 3, "and used by the next run");

    // The service no longer accepts the stored tokens (they expired on its
    // clock): a 401, then one renewal each, stored.
    let before_groups = stored(&env, CLIENT_A, GROUPS_RS)[0]["access_token"].clone();
    let before_auth = stored(&env, CLIENT_A, AUTH_RS)[0]["access_token"].clone();
    env.emu.advance_clock(Duration::from_secs(400_000));
    env.run(&["member", "add", &gid, "bob@uni.example.org"])
        .expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        5,
        "new Groups and Auth tokens"
    );
    assert_ne!(
        stored(&env, CLIENT_A, GROUPS_RS)[0]["access_token"],
        before_groups
    );
    assert_ne!(
        stored(&env, CLIENT_A, AUTH_RS)[0]["access_token"],
        before_auth
    );
    env.run(&["member", "add", &gid, "carol@uni.example.org"])
        .expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        5,
        "the renewed tokens are used"
    );
    env.stop();
}

#[test]
fn one_client_never_uses_another_clients_token() {
    let mut env = Env::demo();
    as_client(&mut env, CLIENT_A, "secret-a");
    let a = env
        .run(&["create", "A's group", "-F", "json"])
        .expect(0)
        .json();
    assert_eq!(a["my_memberships"][0]["identity_id"], CLIENT_A);
    as_client(&mut env, CLIENT_B, "secret-b");
    let b = env
        .run(&["create", "B's group", "-F", "json"])
        .expect(0)
        .json();
    assert_eq!(
        b["my_memberships"][0]["identity_id"], CLIENT_B,
        "B acts as B, not with A's stored token"
    );
    assert_eq!(issued(&env, CLIENT_B).len(), 1);
    // The same client with another secret keeps its tokens apart too.
    as_client(&mut env, CLIENT_A, "secret-a2");
    env.run(&["list"]).expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        2,
        "another secret, another token"
    );
    as_client(&mut env, CLIENT_A, "secret-a");
    env.run(&["list"]).expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        2,
        "the first secret's token is still stored"
    );
    env.stop();
}

#[test]
fn an_unusable_token_file_is_replaced_by_a_renewal() {
    let mut env = Env::demo();
    as_client(&mut env, CLIENT_A, "secret-a");
    env.run(&["list"]).expect(0);
    let not_a_token_file = [
        &b"{not json"[..],
        b"[]",
        br#"{"format_version": "2.0", "globus-sdk.version": "x", "data": 7}"#,
    ];
    for garbage in not_a_token_file {
        std::fs::write(token_file(&env, CLIENT_A), garbage).expect("write");
        let before = issued(&env, CLIENT_A).len();
        let run = env.run(&["list"]);
        run.expect(0);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(issued(&env, CLIENT_A).len(), before + 1, "renewed");
        assert_eq!(
            stored(&env, CLIENT_A, GROUPS_RS).len(),
            1,
            "and stored again"
        );
    }
    // An entry of the wrong shape is ignored the same way.
    rewrite(&env, CLIENT_A, |e| e["access_token"] = Value::Null);
    let before = issued(&env, CLIENT_A).len();
    env.run(&["list"]).expect(0);
    assert_eq!(issued(&env, CLIENT_A).len(), before + 1);
    assert_eq!(stored(&env, CLIENT_A, GROUPS_RS).len(), 1);
    // A file of a format this version does not know (a newer writer's) is
    // used by nobody here, and left as it is.
    let newer = br#"{"format_version": "9.0", "data": {}}"#;
    std::fs::write(token_file(&env, CLIENT_A), newer).expect("write");
    let before = issued(&env, CLIENT_A).len();
    env.run(&["list"]).expect(0);
    assert_eq!(
        issued(&env, CLIENT_A).len(),
        before + 1,
        "a token is fetched"
    );
    assert_eq!(
        std::fs::read(token_file(&env, CLIENT_A)).expect("read"),
        newer
    );
    env.stop();
}

#[test]
fn logout_revokes_and_removes_client_tokens() {
    let mut env = Env::demo();
    as_client(&mut env, CLIENT_B, "secret-b");
    env.run(&["list"]).expect(0);
    as_client(&mut env, CLIENT_A, "secret-a");
    env.run(&["list"]).expect(0);
    let out = env.run(&["logout", "-F", "json"]).expect(0).json();
    assert_eq!(out["client_tokens_removed"], 2, "{out}");
    assert!(stored(&env, CLIENT_A, GROUPS_RS).is_empty());
    assert!(stored(&env, CLIENT_B, GROUPS_RS).is_empty());
    let a = issued(&env, CLIENT_A);
    assert_eq!(
        a[0]["revoked"], true,
        "the configured client's token is revoked: {a:?}"
    );
    // The next run fetches a new token.
    env.run(&["list"]).expect(0);
    assert_eq!(issued(&env, CLIENT_A).len(), 2);
    env.stop();
}
