//! Secrets stay secret: the access and refresh tokens of a real login (read
//! back from the token file), a known client secret, and planted canary tokens
//! never appear in what the app prints, in trace-level logs (every crate's,
//! caught by a subscriber writing to a buffer), in the `Debug` or `Display` of
//! the apps, storages, clients, flows, login requests, codes, token data and
//! errors, or in the message of a panic on such an error. They do appear in the
//! token file: the canaries are real.
//!
//! Rerun: `cargo test -p groups-app --test canary`.

mod support;

use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use groups_app::login_flow::{AuthorizationCode, LoginFlow, LoginFuture, LoginRequest};
use groups_app::{
    AppError, ClientApp, CommandLineLoginFlow, JsonTokenStorage, MemoryTokenStorage, TokenStorage,
    TokenStorageData, UserApp,
};
use groups_core::GroupsScopes;
use groups_emulator::Emulator;
use groups_emulator::world::{AutoApprove, Decision, Seed};
use serde_json::Value;
use support::{ADA, ADA_ID, http, query_param, redirect_of, temp_dir};

const CONF: &str = "ca9a0000-0000-4000-8000-0000000000c1";
const CONF_SECRET: &str = "CANARY-client-secret-5f1d";
const CONF_REDIRECT: &str = "https://app.example.org/callback";
const PLANTED_ACCESS: &str = "CANARY-access-token-91ab";
const PLANTED_REFRESH: &str = "CANARY-refresh-token-77c3";

/// Everything every subscriber-visible event of this process wrote.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    String::from_utf8_lossy(
        &logs()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned()
}

/// Text that must hold no secret, with where it came from.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn debug(&mut self, what: &str, v: &impl Debug) {
        self.0.push((format!("{what} (Debug)"), format!("{v:?}")));
        self.0
            .push((format!("{what} (Debug, alternate)"), format!("{v:#?}")));
    }

    fn error(&mut self, what: &str, e: AppError) {
        self.debug(what, &e);
        self.0.push((format!("{what} (Display)"), e.to_string()));
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            self.0
                .push((format!("{what} (source)"), format!("{s} / {s:?}")));
            source = s.source();
        }
        // What a panic on the error would print (a caller's `expect`).
        fn caller(r: Result<(), AppError>) {
            r.expect("the call failed");
        }
        let err = Err(e);
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || caller(err)))
            .expect_err("it panics");
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        assert!(msg.contains("the call failed"), "{msg}");
        self.0.push((format!("{what} (panic)"), msg));
    }

    fn text(&mut self, what: &str, t: impl Into<String>) {
        self.0.push((what.to_owned(), t.into()));
    }

    /// No secret anywhere (the logs included).
    fn assert_clean(&self, secrets: &[String]) {
        assert!(secrets.iter().all(|s| s.len() >= 16), "real secrets");
        let logs = logged();
        assert!(!logs.is_empty(), "trace logging caught events");
        for s in secrets {
            assert!(!logs.contains(s.as_str()), "a secret is in the logs");
            for (what, text) in &self.0 {
                assert!(!text.contains(s.as_str()), "a secret is in {what}");
            }
        }
    }
}

/// Every `access_token` and `refresh_token` string in a token file.
fn tokens_in(file: &std::path::Path) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("access_token" | "refresh_token", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let doc: Value =
        serde_json::from_slice(&std::fs::read(file).expect("token file")).expect("JSON");
    let mut out = Vec::new();
    walk(&doc, &mut out);
    out
}

/// A login flow that answers the authorize URL over HTTP (auto-approval on
/// the emulator), keeping the `Debug` of what it was given.
#[derive(Debug)]
struct HttpFlow {
    emu: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl LoginFlow for HttpFlow {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            let url = request.authorize_url()?;
            let emu = self.emu;
            let location = tokio::task::spawn_blocking(move || redirect_of(emu, &url))
                .await
                .expect("join");
            let code = query_param(&location, "code").expect("a code");
            let answer = AuthorizationCode::new(code, request.redirect_uri());
            let mut seen = self.seen.lock().expect("lock");
            seen.push(format!("{request:?} {request:#?}"));
            seen.push(format!("{answer:?}"));
            Ok(answer)
        })
    }
}

/// A flow that skips the browser and answers a code Auth never issued.
#[derive(Debug)]
struct MadeUpCode;

impl LoginFlow for MadeUpCode {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            Ok(AuthorizationCode::new(
                "made-up-code-0000",
                request.redirect_uri(),
            ))
        })
    }
}

async fn emulator() -> Emulator {
    let extra: Seed = serde_json::from_value(serde_json::json!({
        "clients": [{"id": CONF, "client_type": "confidential", "secret": CONF_SECRET,
                     "redirect_uris": [CONF_REDIRECT]}],
        "tokens": [{"token": PLANTED_ACCESS, "identity": ADA_ID,
                    "scopes": [GroupsScopes::ALL]}]
    }))
    .expect("seed");
    let emu = support::strict_emulator().await;
    emu.load_seed(extra).expect("the canary client and token");
    emu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_login_renewal_and_logout_leak_no_token_or_secret() {
    logs();
    let emu = emulator().await;
    emu.set_auto_approve(Some(AutoApprove {
        identity: ADA.into(),
        decision: Decision::Allow,
    }));
    let dir = temp_dir("canary");
    let file = dir.join("tokens.json");
    let flow_seen = Arc::new(Mutex::new(Vec::new()));
    let app = UserApp::builder("Canary App", CONF)
        .client_secret(CONF_SECRET)
        .redirect_uri(CONF_REDIRECT)
        .http(http(&emu))
        .token_storage(JsonTokenStorage::new(&file).expect("token file"))
        .login_flow(HttpFlow {
            emu: emu.local_addr(),
            seen: Arc::clone(&flow_seen),
        })
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    let groups = app
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    let mut seen = Seen::default();
    seen.debug("the app before login", &app);

    app.login().await.expect("logged in");
    app.call(|| groups.get_my_groups()).await.expect("a call");
    let mut secrets = tokens_in(&file);
    assert!(secrets.len() >= 3, "access and refresh tokens were stored");

    // Renewal: the refresh token goes to Auth, a new pair comes back.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    app.call(|| groups.get_my_groups()).await.expect("renewed");
    let renewed = tokens_in(&file);
    assert!(renewed.iter().any(|t| !secrets.contains(t)), "new tokens");
    let raw = std::fs::read_to_string(&file).expect("file");
    assert!(
        renewed.iter().all(|t| raw.contains(t.as_str())),
        "the tokens are in the file"
    );
    secrets.extend(renewed);
    secrets.push(CONF_SECRET.to_owned());

    seen.debug("the app", &app);
    seen.debug("the Groups client", &groups);
    seen.debug("the app's storage", app.token_storage());
    seen.debug("the app's Auth client", app.auth_client());
    for (rs, data) in app.token_storage().get_all_token_data().expect("reads") {
        seen.debug(&format!("token data of {rs}"), &data);
    }
    seen.debug("the scope requirements", &app.scope_requirements());
    for s in flow_seen.lock().expect("lock").iter() {
        seen.text("the login request and code", s.clone());
    }

    // Errors that involve the secrets: a code exchange of a client unknown to
    // Auth with the secret (sent, refused), a planted refresh token Auth does
    // not know, a login needed with no input.
    let stranger = UserApp::builder("Canary App", "ca9a0000-0000-4000-8000-00000000dead")
        .client_secret(CONF_SECRET)
        .redirect_uri(CONF_REDIRECT)
        .http(http(&emu))
        .token_storage(MemoryTokenStorage::new())
        .login_flow(MadeUpCode)
        .build()
        .expect("app builds");
    let e = stranger.login().await.expect_err("an unknown client");
    seen.error("an unknown client's login", e);

    let planted = MemoryTokenStorage::new();
    planted
        .store_token_data(&[TokenStorageData::new(
            "groups.api.globus.org",
            PLANTED_ACCESS,
            1, // long expired
        )
        .with_scope(GroupsScopes::ALL)
        .with_identity_id(ADA_ID)
        .with_refresh_token(PLANTED_REFRESH)])
        .expect("stored");
    let renewer = UserApp::builder("Canary App", CONF)
        .client_secret(CONF_SECRET)
        .redirect_uri(CONF_REDIRECT)
        .http(http(&emu))
        .token_storage(planted)
        .login_flow(CommandLineLoginFlow::with_io(
            std::io::Cursor::new(""),
            std::io::sink(),
        ))
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    let rg = renewer
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    let e = rg
        .get_my_groups()
        .await
        .map(|_| ())
        .expect_err("an unknown refresh token renews nothing");
    seen.error(
        "a refresh with an unknown refresh token",
        AppError::from_call(e),
    );
    let e = renewer
        .call(|| rg.get_my_groups())
        .await
        .map(|_| ())
        .expect_err("no valid refresh token and no input for a login");
    seen.error("the call that needs a login", e);
    seen.debug("the renewing app", &renewer);
    secrets.push(PLANTED_REFRESH.to_owned());
    secrets.push(PLANTED_ACCESS.to_owned());

    // Logout revokes (the tokens go to Auth) and removes them from the file.
    app.logout(true).await.expect("logged out");
    assert!(tokens_in(&file).is_empty(), "the file holds no token now");
    assert!(app.login_required().expect("validation runs"));
    seen.debug("the app after logout", &app);
    emu.set_auto_approve(None);

    seen.assert_clean(&secrets);
    std::fs::remove_dir_all(&dir).expect("temp dir removed");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_app_and_the_command_line_flow_print_and_log_no_secret() {
    logs();
    let emu = emulator().await;
    let mut seen = Seen::default();

    // ClientApp: client credentials with the secret, its Debug, an error.
    let service = ClientApp::builder("Canary Service", CONF, CONF_SECRET)
        .http(http(&emu))
        .token_storage(MemoryTokenStorage::new())
        .build()
        .expect("client app builds");
    let sg = service
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    sg.get_my_groups().await.expect("client credentials work");
    let mut secrets = vec![CONF_SECRET.to_owned()];
    for (_, data) in service.token_storage().get_all_token_data().expect("reads") {
        secrets.push(data.access_token.expose_secret().to_owned());
        seen.debug("the service's token data", &data);
    }
    seen.debug("the client app", &service);
    seen.debug("its Groups client", &sg);
    let wrong = ClientApp::builder(
        "Canary Service",
        "ca9a0000-0000-4000-8000-00000000beef",
        CONF_SECRET,
    )
    .http(http(&emu))
    .token_storage(MemoryTokenStorage::new())
    .build()
    .expect("builds");
    let wg = wrong.groups_client().expect("client");
    match wg.get_my_groups().await {
        Ok(_) => panic!("an unknown client must be refused"),
        Err(e) => seen.error("an unknown client's call", AppError::from_call(e)),
    }
    seen.debug("the refused client app", &wrong);

    // The command-line flow's output holds the URL, never a token.
    emu.set_auto_approve(Some(AutoApprove {
        identity: ADA.into(),
        decision: Decision::Allow,
    }));
    let (reader, mut writer) = std::io::pipe().expect("pipe");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let out = SharedOut(Arc::clone(&printed));
    let storage = Arc::new(MemoryTokenStorage::new());
    let user = UserApp::builder("Canary Script", support::NATIVE)
        .http(http(&emu))
        .shared_token_storage(storage.clone())
        .login_flow(CommandLineLoginFlow::with_io(
            std::io::BufReader::new(reader),
            out,
        ))
        .request_refresh_tokens(true)
        .build()
        .expect("builds");
    let ug = user.groups_client().expect("client");
    let addr = emu.local_addr();
    let typist = {
        let printed = Arc::clone(&printed);
        tokio::task::spawn_blocking(move || {
            for _ in 0..400 {
                let text = String::from_utf8_lossy(&printed.lock().expect("lock")).into_owned();
                if let Some(url) = text
                    .split_whitespace()
                    .find(|w| w.contains("/v2/oauth2/authorize?"))
                {
                    let code = query_param(&redirect_of(addr, url), "code").expect("code");
                    writeln!(writer, "{code}").expect("typed");
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            panic!("the flow printed no authorize URL");
        })
    };
    user.login().await.expect("command-line login");
    typist.await.expect("typist");
    ug.get_my_groups().await.expect("a call");
    for (_, data) in storage.get_all_token_data().expect("reads") {
        secrets.push(data.access_token.expose_secret().to_owned());
        if let Some(r) = &data.refresh_token {
            secrets.push(r.expose_secret().to_owned());
        }
    }
    assert!(secrets.len() >= 4);
    seen.text(
        "the command-line flow's output",
        String::from_utf8_lossy(&printed.lock().expect("lock")).into_owned(),
    );
    seen.debug("the script app", &user);
    seen.debug("its storage", &storage);
    emu.set_auto_approve(None);
    seen.assert_clean(&secrets);
    emu.shutdown().await.expect("emulator stops");
}

/// A writer whose bytes the test reads while the flow runs.
struct SharedOut(Arc<Mutex<Vec<u8>>>);

impl Write for SharedOut {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
