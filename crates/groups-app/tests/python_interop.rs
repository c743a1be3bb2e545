//! Stored tokens across processes, and across SDKs, on one token file at
//! globus-sdk's default path (`~/.globus/app/{client_id}/{slug}/tokens.json`,
//! `HOME` pointing at a directory of the test's):
//!
//! 1. a first process of ours logs in (command-line flow: the test reads the
//!    URL it prints, gets the code from the emulator's authorize endpoint and
//!    types it in) and stores the tokens;
//! 2. a second process uses them with no login (its standard input is empty:
//!    a login would fail);
//! 3. the reverse direction: a login stored by globus-sdk's `UserApp`
//!    (`tests/python/app_interop.py`, in another home) is used by ours with no
//!    login (before the clock moves: globus-sdk checks id_tokens against the
//!    real clock);
//! 4. after the emulator's clock passes the access token's expiry, a process of
//!    ours renews and stores the rotated refresh token;
//! 5. Python's globus-sdk `UserApp` on our (renewed) file calls Groups with no
//!    login.
//!
//! The processes of ours are this test binary run again on its ignored
//! `interop_child` entry. The interpreter is `$GROUPS_PYTHON`, else
//! `<workspace>/.venv/bin/python` (`cargo xtask venv`); without one the test is
//! skipped with a notice, unless `GROUPS_REQUIRE_PYTHON=1` or `CI` is set.
//! Rerun: `cargo test -p groups-app --test python_interop`.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use groups_app::{JsonTokenStorage, TokenStorage, UserApp};
use groups_core::config::BaseUrl;
use groups_emulator::Emulator;
use groups_emulator::world::{AutoApprove, Decision};
use groups_hyper::HyperClientBuilder;
use serde_json::{Value, json};
use support::{
    ADA, ADA_ID, BOB, BOB_ID, NATIVE_UUID, query_param, redirect_of, strict_emulator, temp_dir,
};

const APP_NAME: &str = "Interop App";
const GROUPS_RS: &str = "groups.api.globus.org";
/// Longest a child process may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// The Python interpreter, or `None` (after a notice) when there is none and
/// none is required.
fn python_or_skip() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let found = std::env::var_os("GROUPS_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(root.join(".venv/bin/python")).filter(|p| p.is_file()));
    if found.is_some() {
        return found;
    }
    let required = std::env::var("GROUPS_REQUIRE_PYTHON").as_deref() == Ok("1")
        || std::env::var("CI").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    assert!(
        !required,
        "GROUPS_REQUIRE_PYTHON=1 or CI is set but there is no Python: set GROUPS_PYTHON or run \
         `cargo xtask venv`"
    );
    println!("python_interop: skipped: no Python (set GROUPS_PYTHON or run `cargo xtask venv`)");
    None
}

/// Transport settings for the emulator at `base`.
fn http_at(base: &str) -> HyperClientBuilder {
    HyperClientBuilder::new()
        .base_url(base)
        .auth_url(BaseUrl::parse(base).expect("auth URL"))
        .allow_plain_http_loopback(true)
}

/// The entry of the child processes (not a test of its own: the interop test
/// runs this binary again on it with `GROUPS_INTEROP_ROLE` set).
///
/// * `login`: log in with the command-line flow on standard input and output,
///   then list my groups;
/// * `use`: must need no login (exit 3 otherwise), then list my groups (which
///   renews an expired access token).
///
/// Prints one line `INTEROP {json}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of python_interop's test, run by it"]
async fn interop_child() {
    let role = std::env::var("GROUPS_INTEROP_ROLE").expect("GROUPS_INTEROP_ROLE");
    let base = std::env::var("GROUPS_INTEROP_BASE").expect("GROUPS_INTEROP_BASE");
    let app = UserApp::builder(APP_NAME, NATIVE_UUID)
        .http(http_at(&base))
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    let groups = app.groups_client().expect("Groups client");
    let needed = app.login_required().expect("validation runs");
    if role == "use" && needed {
        println!("INTEROP {}", json!({"role": role, "login_required": true}));
        std::process::exit(3);
    }
    if role == "login" {
        app.login().await.expect("logged in");
    }
    let listed: Vec<String> = app
        .call(|| groups.get_my_groups())
        .await
        .expect("my groups")
        .iter()
        .map(|g| g.id.to_string())
        .collect();
    let stored = app
        .token_storage()
        .get_token_data(GROUPS_RS)
        .expect("storage reads")
        .expect("a Groups token");
    let file = groups_app::storage::default_token_file(NATIVE_UUID, APP_NAME, "production")
        .expect("default token file");
    println!(
        "INTEROP {}",
        json!({"role": role, "login_required": needed, "groups": listed,
               "token_file": file, "identity_id": stored.identity_id})
    );
}

/// How a child process ended.
#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The JSON of its result line.
    result: Value,
}

/// The code the emulator's authorize endpoint gives `url` (auto-approval is
/// on): the `code` of the redirect's `Location`.
fn code_for(emu_addr: std::net::SocketAddr, url: &str) -> String {
    let location = redirect_of(emu_addr, url);
    query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// Run `cmd` to its end (at most [`CHILD_TIMEOUT`], then it is killed by its
/// pid). With `login`, the authorize URL it prints is answered with a code
/// typed on its standard input; without, its standard input is empty.
fn run(mut cmd: Command, emu_addr: std::net::SocketAddr, login: bool) -> Ran {
    cmd.stdin(if login { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("SSH_TTY")
        .env_remove("SSH_CONNECTION")
        .env_remove("GLOBUS_SDK_ENVIRONMENT");
    let mut child = cmd.spawn().expect("the child starts");
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let step = Duration::from_millis(50);
            let mut waited = Duration::ZERO;
            while !done.load(Ordering::Acquire) && waited < CHILD_TIMEOUT {
                std::thread::sleep(step);
                waited += step;
            }
            if !done.load(Ordering::Acquire) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        })
    };
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut stdin = child.stdin.take();
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let Ok(line) = line else { break };
        if let Some(start) = line.find("http")
            && line[start..].contains("/v2/oauth2/authorize?")
            && let Some(mut input) = stdin.take()
        {
            let url = line[start..].split_whitespace().next().unwrap_or_default();
            let code = code_for(emu_addr, url);
            writeln!(input, "{code}").expect("the code is typed in");
            // Dropped: the end of input after the code.
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    drop(stdin);
    let status = child.wait().expect("the child ends");
    done.store(true, Ordering::Release);
    watchdog.join().expect("watchdog");
    let stderr = stderr_reader.join().expect("stderr reader");
    let result = stdout
        .lines()
        .rev()
        .find_map(|l| {
            // A prompt may stand before the marker on the line.
            let i = l.find("INTEROP ")?;
            serde_json::from_str::<Value>(&l[i + "INTEROP ".len()..]).ok()
        })
        .unwrap_or(Value::Null);
    Ran {
        code: status.code(),
        stdout,
        stderr,
        result,
    }
}

/// A process of ours in `role`, with `HOME` at `home`.
fn ours(emu: &Emulator, home: &Path, role: &str) -> Ran {
    let mut cmd = Command::new(std::env::current_exe().expect("this test binary"));
    cmd.args([
        "interop_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("GROUPS_INTEROP_ROLE", role)
    .env("GROUPS_INTEROP_BASE", emu.base_url())
    .env("HOME", home);
    run(cmd, emu.local_addr(), role == "login")
}

/// globus-sdk's `UserApp` in `role`, with `HOME` at `home`.
fn python(python: &Path, emu: &Emulator, home: &Path, role: &str) -> Ran {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/app_interop.py");
    let mut cmd = Command::new(python);
    cmd.arg("-u")
        .arg(script)
        .arg(role)
        .env("GLOBUS_SDK_SERVICE_URL_GROUPS", emu.base_url())
        .env("GLOBUS_SDK_SERVICE_URL_AUTH", emu.base_url())
        .env("GROUPS_INTEROP_CLIENT_ID", NATIVE_UUID)
        .env("GROUPS_INTEROP_APP_NAME", APP_NAME)
        .env("HOME", home);
    run(cmd, emu.local_addr(), role == "login")
}

fn check(what: &str, ran: &Ran) {
    assert_eq!(
        ran.code,
        Some(0),
        "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
        ran.stdout,
        ran.stderr
    );
    assert!(ran.result["login_required"].is_boolean(), "{ran:?}");
}

/// Issued tokens so far (access and refresh), as the emulator counts them.
fn issued(emu: &Emulator) -> usize {
    let dump = emu.dump_state();
    dump["auth"]["tokens"]
        .as_object()
        .map_or(0, serde_json::Map::len)
}

fn stored(file: &Path) -> groups_app::TokenStorageData {
    JsonTokenStorage::new(file)
        .expect("token file")
        .get_token_data(GROUPS_RS)
        .expect("the file reads")
        .expect("a Groups token in the file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_cross_processes_and_globus_sdk_in_both_directions() {
    let Some(py) = python_or_skip() else {
        return;
    };
    let emu = strict_emulator().await;
    let emu = Arc::new(emu);
    let blocking = |f: Box<dyn FnOnce() -> Ran + Send>| tokio::task::spawn_blocking(f);

    // 1. Our first process logs in as Ada and stores the tokens.
    let home = temp_dir("interop-ours");
    emu.set_auto_approve(Some(AutoApprove {
        identity: ADA.into(),
        decision: Decision::Allow,
    }));
    let (e, h) = (Arc::clone(&emu), home.clone());
    let first = blocking(Box::new(move || ours(&e, &h, "login")))
        .await
        .expect("join");
    emu.set_auto_approve(None);
    check("the login process", &first);
    assert_eq!(
        first.result["login_required"], true,
        "nothing was stored before"
    );
    assert_eq!(first.result["identity_id"], ADA_ID);
    let file = PathBuf::from(first.result["token_file"].as_str().expect("token file"));
    assert!(file.starts_with(&home), "{}", file.display());
    assert!(
        file.ends_with(
            Path::new(".globus/app")
                .join(NATIVE_UUID)
                .join("interop-app/tokens.json")
        ),
        "{}",
        file.display()
    );
    let after_login = stored(&file);
    let first_refresh = after_login.refresh_token.clone().expect("a refresh token");
    let tokens_after_login = issued(&emu);

    // 2. A second process: no login (its input is empty), the stored token works.
    let (e, h) = (Arc::clone(&emu), home.clone());
    let second = blocking(Box::new(move || ours(&e, &h, "use")))
        .await
        .expect("join");
    check("the second process", &second);
    assert_eq!(second.result["login_required"], false);
    assert_eq!(issued(&emu), tokens_after_login, "no token was issued");

    // 3. The reverse, before the clock moves (id_tokens are checked against the
    // real clock): globus-sdk logs in as Bob in a fresh home, ours uses it.
    let home2 = temp_dir("interop-python");
    emu.set_auto_approve(Some(AutoApprove {
        identity: BOB.into(),
        decision: Decision::Allow,
    }));
    let (e, h, p) = (Arc::clone(&emu), home2.clone(), py.clone());
    let py_login = blocking(Box::new(move || python(&p, &e, &h, "login")))
        .await
        .expect("join");
    emu.set_auto_approve(None);
    check("globus-sdk's login", &py_login);
    assert_eq!(py_login.result["identity_id"], BOB_ID);
    let file2 = home2
        .join(".globus/app")
        .join(NATIVE_UUID)
        .join("interop-app/tokens.json");
    assert!(file2.is_file(), "globus-sdk wrote {}", file2.display());
    let before_ours = issued(&emu);
    let (e, h) = (Arc::clone(&emu), home2.clone());
    let reuse = blocking(Box::new(move || ours(&e, &h, "use")))
        .await
        .expect("join");
    check("our process on globus-sdk's file", &reuse);
    assert_eq!(reuse.result["login_required"], false);
    assert_eq!(reuse.result["identity_id"], BOB_ID);
    assert_eq!(issued(&emu), before_ours, "ours needed no new token");

    // 4. Past the access token's expiry on the emulator's clock: the next process
    // renews and stores the rotated refresh token.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    let (e, h) = (Arc::clone(&emu), home.clone());
    let third = blocking(Box::new(move || ours(&e, &h, "use")))
        .await
        .expect("join");
    check("the renewing process", &third);
    let renewed = stored(&file);
    let rotated = renewed
        .refresh_token
        .clone()
        .expect("still a refresh token");
    assert!(
        !rotated.ct_eq(first_refresh.expose_secret()),
        "the refresh token rotated and the new one was stored"
    );
    assert!(
        !renewed
            .access_token
            .ct_eq(after_login.access_token.expose_secret())
    );
    assert_eq!(renewed.identity_id.as_deref(), Some(ADA_ID));

    // 5. globus-sdk's UserApp on our (renewed) file: no login, Groups answers.
    let before_python = issued(&emu);
    let (e, h, p) = (Arc::clone(&emu), home.clone(), py.clone());
    let py_use = blocking(Box::new(move || python(&p, &e, &h, "use")))
        .await
        .expect("join");
    check("globus-sdk on our file", &py_use);
    assert_eq!(py_use.result["login_required"], false);
    assert_eq!(
        py_use.result["token_file"].as_str().map(PathBuf::from),
        Some(file.clone()),
        "globus-sdk's default path is ours"
    );
    assert_eq!(py_use.result["identity_id"], ADA_ID);
    assert_eq!(
        issued(&emu),
        before_python,
        "globus-sdk needed no new token"
    );
    assert_eq!(
        stored(&file)
            .refresh_token
            .map(|r| r.ct_eq(rotated.expose_secret())),
        Some(true),
        "globus-sdk left the stored refresh token as it was"
    );

    for dir in [home, home2] {
        std::fs::remove_dir_all(dir).expect("temp dir removed");
    }
}
