//! `login --no-local-server` with the code given on standard input, then
//! `whoami`, `session show`, a Groups command on the stored login, and
//! `logout` (introspection at the emulator says the token is inactive).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::*;
use groups_emulator::world::{AutoApprove, Decision};
use serde_json::Value;

/// A native client unknown to the emulator (accepted when clients are not strict).
const LOGIN_CLIENT: &str = "9a000000-0000-4000-8000-00000000c11e";

/// One plain HTTP/1.1 exchange with the emulator: (status, headers, body).
fn http(authority: &str, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(authority).expect("connect to the emulator");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn introspect(authority: &str, token: &str) -> Value {
    // Basic auth of a confidential client (any, clients are not strict).
    let body = format!("token={token}");
    let request = format!(
        "POST /v2/oauth2/token/introspect HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Authorization: Basic YmVuY2g6c2VjcmV0\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, _, body) = http(authority, &request);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("introspection JSON")
}

#[test]
fn login_from_stdin_then_whoami_then_logout_revokes() {
    let mut env = Env::demo();
    let home = std::env::temp_dir().join(format!(
        "groups-cli-login-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&home).expect("home");
    env.token = None;
    env.extra_env = vec![
        ("HOME".into(), home.to_string_lossy().into_owned()),
        ("GLOBUS_GROUPS_LOGIN_CLIENT_ID".into(), LOGIN_CLIENT.into()),
    ];
    let url = env.emu.base_url();
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    // Not logged in yet: exit 4 with the hint.
    let before = env.run(&["whoami"]);
    before.expect(4);
    assert!(
        before.stderr.contains("globus-groups login"),
        "{}",
        before.stderr
    );

    env.emu.set_auto_approve(Some(AutoApprove {
        identity: ADA.into(),
        decision: Decision::Allow,
    }));
    let mut child = Command::new(env!("CARGO_BIN_EXE_globus-groups"))
        .args(["login", "--no-local-server"])
        .env_remove("GLOBUS_GROUPS_TOKEN")
        .env_remove("GLOBUS_GROUPS_CLIENT_ID")
        .env_remove("GLOBUS_GROUPS_CLIENT_SECRET")
        .env("GLOBUS_SDK_SERVICE_URL_GROUPS", &url)
        .env("GLOBUS_SDK_SERVICE_URL_AUTH", &url)
        .env("HOME", &home)
        .env("GLOBUS_GROUPS_LOGIN_CLIENT_ID", LOGIN_CLIENT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn login");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    let authorize = loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).expect("read the prompt");
        assert!(n > 0, "login ended before printing a link: {printed}");
        printed.push_str(&line);
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break u.to_owned();
        }
    };
    // The tester's browser: the page approves at once and redirects to the
    // page that shows the code.
    let target = authorize
        .strip_prefix(&format!("http://{authority}"))
        .expect("the link is the emulator's");
    let (status, head, body) = http(
        &authority,
        &format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status, 302, "{head}\n{body}");
    let location = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .expect("a Location");
    let code = location
        .split_once('?')
        .and_then(|(_, q)| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("code=").map(str::to_owned))
        })
        .unwrap_or_else(|| panic!("a code in the redirect: {location}"));
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{code}").expect("type the code");
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("rest of stdout");
    let status = child.wait().expect("wait");
    env.emu.set_auto_approve(None);
    assert!(status.success(), "{printed}{rest}");
    assert!(
        rest.contains("successfully logged in") && rest.contains("ada@uni.example.org"),
        "{rest}"
    );

    // The stored login is used by every command.
    assert_eq!(
        env.run(&["whoami"]).expect(0).stdout,
        "ada@uni.example.org\n"
    );
    let who = env.run(&["whoami", "-F", "json"]).expect(0).json();
    assert_eq!(who["sub"], ADA);
    let session = env.run(&["session", "show"]);
    assert!(session.expect(0).stdout.contains(ADA), "{}", session.stdout);
    let list = env.run(&["list"]);
    assert!(
        list.expect(0).stdout.contains("Hidden Committee"),
        "{}",
        list.stdout
    );
    let again = env.run(&["login", "--no-local-server"]);
    assert!(
        again.expect(0).stdout.contains("already logged in"),
        "{}",
        again.stdout
    );

    // Identity lookups use the login's Auth token ...
    let gid = env.create_group("Ada's lab");
    env.run(&["member", "add", &gid, "bob@uni.example.org"])
        .expect(0);
    let file = home
        .join(".globus/app")
        .join(LOGIN_CLIENT)
        .join("globus-groups/tokens.json");
    let read_stored = || -> Value {
        serde_json::from_str(&std::fs::read_to_string(&file).expect("token file")).expect("json")
    };
    let auth_before = find_access_token(&read_stored(), "auth.globus.org").expect("an Auth token");
    // ... and once the service's clock is past its lifetime (48 h), the
    // lookup renews it with the refresh token and stores the new one.
    env.emu
        .advance_clock(std::time::Duration::from_secs(3 * 86_400));
    let late = env.run(&["member", "add", &gid, "carol@uni.example.org"]);
    late.expect(0);
    let auth_after = find_access_token(&read_stored(), "auth.globus.org").expect("an Auth token");
    assert_ne!(auth_before, auth_after, "the Auth token was renewed");
    assert_eq!(
        env.run(&["whoami"]).expect(0).stdout,
        "ada@uni.example.org\n",
        "userinfo uses the renewed token too"
    );
    let members = env.run(&["member", "list", &gid, "-F", "json"]);
    let listed = &members.expect(0).stdout;
    assert!(listed.contains("carol@uni.example.org"), "{listed}");

    // The stored Groups token is active until logout revokes it.
    let token = find_access_token(&read_stored(), "groups.api.globus.org").expect("a Groups token");
    assert_eq!(introspect(&authority, &token)["active"], true);
    let out = env.run(&["logout"]);
    assert!(
        out.expect(0).stdout.contains("logged out"),
        "{}",
        out.stdout
    );
    assert_eq!(introspect(&authority, &token)["active"], false);
    env.run(&["whoami"]).expect(4);
    env.run(&["list"]).expect(4);
    let _ = std::fs::remove_dir_all(&home);
    env.stop();
}

/// The access token stored for `resource_server`, wherever the file keeps it.
fn find_access_token(v: &Value, resource_server: &str) -> Option<String> {
    match v {
        Value::Object(m) => {
            if m.get("resource_server").and_then(Value::as_str) == Some(resource_server) {
                return m
                    .get("access_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            m.values()
                .find_map(|c| find_access_token(c, resource_server))
        }
        Value::Array(items) => items
            .iter()
            .find_map(|c| find_access_token(c, resource_server)),
        _ => None,
    }
}
