//! `UserApp` with the local-server login flow, driven by a real headless
//! chromium: the flow hands the authorize URL to the browser, the test picks
//! the identity and presses Allow on the emulator's page as a person would, the
//! browser follows Auth's redirect to the app's local server, and the tokens
//! land in the JSON token file. Pressing Deny first is a typed error that
//! stores nothing.
//!
//! Needs Debian's `chromium` and `chromedriver` (`cargo xtask browser`
//! installs them). Without them the test prints why and passes, unless
//! `GROUPS_REQUIRE_BROWSER=1` (set by `cargo xtask ci`), where it fails.
//! Rerun: `cargo test -p groups-app --test browser`.

mod support;

use std::time::Duration;

use groups_app::login_flow::LocalServerLoginFlow;
use groups_app::{AppErrorKind, JsonTokenStorage, TokenStorage, UserApp};
use support::browser::{self, Chromedriver};
use support::{ADA_ID, BOB_ID, NATIVE, http, query_param, strict_emulator, temp_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_server_login_in_a_real_browser_stores_the_tokens() {
    let Some(paths) = browser::require_or_skip("local_server_login_in_a_real_browser") else {
        return;
    };
    let emu = strict_emulator().await;
    let driver = Chromedriver::start(&paths)
        .await
        .expect("chromedriver starts");
    let chromium = driver.session().await.expect("a headless chromium session");

    let dir = temp_dir("browser");
    let file = dir.join("tokens.json");
    let (tx, mut opened) = tokio::sync::mpsc::unbounded_channel::<String>();
    let flow = LocalServerLoginFlow::new()
        .timeout(Duration::from_secs(30))
        .browser(move |url: &str| tx.send(url.to_owned()).map_err(|e| e.to_string()));
    let app = UserApp::builder("Browser Test", NATIVE)
        .http(http(&emu))
        .token_storage(JsonTokenStorage::new(&file).expect("token file"))
        .login_flow(flow)
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    let groups = app.groups_client().expect("Groups client");
    assert!(app.login_required().expect("validation runs"));

    // First the person presses Deny: a typed error, nothing stored.
    let refuse = async {
        let url = opened.recv().await.expect("the flow opens the browser");
        browser::deny(&chromium, &url, ADA_ID)
            .await
            .expect("identity picked and Deny pressed");
    };
    let (denied, ()) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(app.login(), refuse)
    })
    .await
    .expect("the denied login ends within a minute");
    assert_eq!(
        denied.expect_err("the person denied").kind(),
        AppErrorKind::LoginDenied
    );
    assert!(app.login_required().expect("validation runs"));
    assert!(!file.exists(), "a denied login stores nothing");

    // The person at the browser.
    let person = async {
        let url = opened.recv().await.expect("the flow opens the browser");
        browser::approve(&chromium, &url, ADA_ID)
            .await
            .expect("identity picked and Allow pressed");
        // The browser follows the redirect to the app's local server.
        let redirect = query_param(&url, "redirect_uri").expect("a redirect_uri");
        let mut landed = String::new();
        for _ in 0..200 {
            landed = chromium
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            if landed.starts_with(&redirect) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let page = chromium.source().await.unwrap_or_default();
        (url, redirect, landed, page)
    };
    let (login, (url, redirect, landed, page)) =
        tokio::time::timeout(Duration::from_secs(60), async {
            tokio::join!(app.login(), person)
        })
        .await
        .expect("the browser login ends within a minute");
    login.expect("logged in through the browser");

    // The authorize URL sent the browser back to a loopback port of ours.
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    assert_ne!(
        redirect,
        format!("{}", emu.base_url()),
        "the redirect is the app's server, not the emulator"
    );
    assert!(query_param(&url, "state").is_some_and(|s| !s.is_empty()));
    assert!(
        landed.starts_with(&redirect) && landed.contains("code="),
        "the browser reached the local server with the code: {landed}"
    );
    assert!(
        page.contains("Browser Test: login complete"),
        "the local server answered its page: {page}"
    );

    // Tokens are in the file, for Ada, and they work.
    let stored = JsonTokenStorage::new(&file)
        .expect("token file")
        .get_all_token_data()
        .expect("the file reads");
    let g = &stored["groups.api.globus.org"];
    assert_eq!(g.identity_id.as_deref(), Some(ADA_ID));
    assert!(g.refresh_token.is_some(), "refresh tokens were asked for");
    assert!(stored.contains_key("auth.globus.org"));
    assert_ne!(g.identity_id.as_deref(), Some(BOB_ID));
    let raw = std::fs::read_to_string(&file).expect("the file exists");
    assert!(raw.contains("\"groups.api.globus.org\""), "{}", raw.len());
    assert!(!app.login_required().expect("valid now"));
    groups
        .get_my_groups()
        .await
        .expect("a Groups call with the browser login's token");

    chromium.close().await.expect("the browser session closes");
    drop(driver);
    std::fs::remove_dir_all(&dir).expect("temp dir removed");
    emu.shutdown().await.expect("emulator stops");
}
