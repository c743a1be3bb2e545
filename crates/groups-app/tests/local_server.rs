//! The local-server login flow without a real browser: the test's
//! BrowserOpener receives the authorize URL, approves it on the emulator's
//! page over HTTP and follows the redirect to the flow's server, as a
//! browser would. (The real-browser test lives in tests/browser.rs.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use groups_app::login_flow::LocalServerLoginFlow;
use groups_app::storage::MemoryTokenStorage;
use groups_app::{AppErrorKind, TokenStorage, UserApp};
use groups_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

/// A flow whose "browser" hands the URL to the test.
fn flow(timeout: Duration) -> (LocalServerLoginFlow, UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let flow = LocalServerLoginFlow::new()
        .timeout(timeout)
        .browser(move |url: &str| tx.send(url.to_owned()).map_err(|e| e.to_string()));
    (flow, rx)
}

/// GET `url` (on 127.0.0.1) and answer (status, body).
async fn get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("plain http");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, body.to_owned())
}

/// What the browser does: approve as Ada, follow the redirect (after
/// `tamper` changed it); answers the flow server's page.
async fn browse(
    emu: &Emulator,
    urls: &mut UnboundedReceiver<String>,
    tamper: impl FnOnce(String) -> String,
) -> (u16, String) {
    let url = urls.recv().await.expect("the flow opens the browser");
    let redirect_uri = query_param(&url, "redirect_uri").expect("a redirect URI");
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:"),
        "{redirect_uri}"
    );
    // A favicon request first: 404, the flow keeps waiting.
    let favicon = format!("{}favicon.ico", redirect_uri);
    assert_eq!(get(&favicon).await.0, 404);
    let location = approve(emu, &url, ADA).await;
    get(&tamper(location)).await
}

fn app(emu: &Emulator, flow: LocalServerLoginFlow, storage: Arc<dyn TokenStorage>) -> UserApp {
    UserApp::builder("Local Server Test", NATIVE)
        .http(http(emu))
        .shared_token_storage(storage)
        .login_flow(flow)
        .request_refresh_tokens(true)
        .build()
        .expect("app builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redirect_reaches_the_local_server_and_tokens_are_stored() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, mut urls) = flow(Duration::from_secs(30));
    let app = app(&emu, flow, Arc::clone(&storage));
    let groups = app.groups_client().expect("client");
    let (login, (status, page)) = tokio::join!(app.login(), browse(&emu, &mut urls, |l| l));
    login.expect("logged in");
    assert_eq!(status, 200);
    assert!(page.contains("login complete"), "{page}");
    assert!(page.contains("Local Server Test"), "{page}");
    let g = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    assert_eq!(g.identity_id.as_deref(), Some(ADA_ID));
    assert!(g.refresh_token.is_some());
    groups.get_my_groups().await.expect("the tokens work");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_state_is_refused_and_nothing_is_stored() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, mut urls) = flow(Duration::from_secs(30));
    let app = app(&emu, flow, Arc::clone(&storage));
    app.groups_client().expect("client");
    let forge = |location: String| {
        let state = query_param(&location, "state").expect("a state");
        location.replace(&format!("state={state}"), "state=forged")
    };
    let (login, (status, page)) = tokio::join!(app.login(), browse(&emu, &mut urls, forge));
    assert_eq!(
        login.expect_err("refused").kind(),
        AppErrorKind::StateMismatch
    );
    assert_eq!(status, 400);
    assert!(page.contains("does not match"), "{page}");
    assert!(storage.get_all_token_data().expect("reads").is_empty());
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_a_timeout_and_a_denial_is_typed() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (quiet, _urls) = flow(Duration::from_millis(300));
    let waiting = app(&emu, quiet, Arc::clone(&storage));
    waiting.groups_client().expect("client");
    let e = waiting.login().await.expect_err("nobody answered");
    assert_eq!(e.kind(), AppErrorKind::LoginTimeout);

    let (denied, mut urls) = flow(Duration::from_secs(30));
    let app = app(&emu, denied, storage);
    app.groups_client().expect("client");
    let deny = async {
        let url = urls.recv().await.expect("opened");
        let target = target_of(&url);
        let query = target.split_once('?').expect("query").1;
        let body = format!("{query}&identity={ADA}&decision=deny");
        let answer = request(&emu, "POST", "/v2/oauth2/authorize", Some(&body)).await;
        let location = answer.header("location").expect("redirect");
        get(&location).await
    };
    let (login, (status, _)) = tokio::join!(app.login(), deny);
    assert_eq!(login.expect_err("denied").kind(), AppErrorKind::LoginDenied);
    assert_eq!(status, 200);
    emu.shutdown().await.expect("emulator stops");
}

#[test]
fn remote_sessions_and_text_browsers_are_refused() {
    use groups_app::login_flow::SystemBrowser;
    let ssh = |k: &str| (k == "SSH_TTY").then(|| "/dev/pts/0".to_owned());
    assert!(
        SystemBrowser::refusal(ssh)
            .expect("refused")
            .contains("SSH_TTY")
    );
    let desktop = |browser: &'static str| {
        move |k: &str| match k {
            "DISPLAY" => Some(":0".to_owned()),
            "BROWSER" => Some(browser.to_owned()),
            _ => None,
        }
    };
    for b in ["lynx", "/usr/bin/w3m", "links", "elinks", "www-browser %s"] {
        assert!(SystemBrowser::refusal(desktop(b)).is_some(), "{b}");
    }
    assert!(SystemBrowser::refusal(desktop("firefox")).is_none());
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let headless = |k: &str| (k == "BROWSER").then(|| "firefox".to_owned());
        let why = SystemBrowser::refusal(headless).expect("no display: refused");
        assert!(why.contains("DISPLAY"), "{why}");
    }
}
