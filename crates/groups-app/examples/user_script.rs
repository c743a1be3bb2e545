//! A user script: the first run logs in, the next runs list the groups
//! with the stored tokens and no login.
//!
//! ```text
//! cargo run -p groups-app --example user_script            # the emulator
//! cargo run -p groups-app --example user_script            # again: no login
//! GLOBUS_CLIENT_ID=<native client id> cargo run -p groups-app --example user_script
//! GLOBUS_CLIENT_ID=... cargo run -p groups-app --example user_script -- --local-server
//! ```
//!
//! Without `GLOBUS_CLIENT_ID` it runs against a local emulator whose state
//! (and this script's token file) live in the system's temporary
//! directory, so they outlive the run; the emulator approves the login as
//! a demo user, and a custom login flow fetches the code from it (the way
//! to plug any flow into a `UserApp`). With `GLOBUS_CLIENT_ID` it talks to
//! Globus (`GLOBUS_SDK_ENVIRONMENT` picks the environment), asks for
//! refresh tokens, stores them where globus-sdk's `UserApp` would
//! (`~/.globus/app/<client id>/groups-app-user-script/tokens.json`), and
//! logs in on the command line (or with the browser, `--local-server`).

use std::path::PathBuf;

use groups_app::login_flow::{AuthorizationCode, LoginFlow, LoginFuture, LoginRequest};
use groups_app::storage::JsonTokenStorage;
use groups_app::{AppError, AppErrorKind, LocalServerLoginFlow, UserApp};
use groups_core::Transport;
use groups_core::config::BaseUrl;
use groups_emulator::Emulator;
use groups_emulator::world::{AutoApprove, Seed};
use groups_hyper::{HyperClientBuilder, HyperTransport};

const APP_NAME: &str = "groups-app user script";
const DEMO_CLIENT: &str = "demo-native-client";
const DEMO_USER: &str = "ada@example.org";

/// The login flow of the emulator demo: the emulator approves at once, so
/// following the authorize URL gives the redirect with the code.
#[derive(Debug)]
struct EmulatorApproves(HyperTransport);

impl LoginFlow for EmulatorApproves {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            let url = request.authorize_url()?;
            println!("logging in (the emulator approves as {DEMO_USER})");
            let flow_error = |why: String| AppError::new(AppErrorKind::LoginFlow, why);
            let req = http::Request::get(url)
                .body(bytes::Bytes::new())
                .map_err(|e| flow_error(e.to_string()))?;
            let answer = self
                .0
                .send(req)
                .await
                .map_err(|e| flow_error(e.to_string()))?;
            let location = answer
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| flow_error("the authorize page did not redirect".into()))?;
            let code = location
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("code="))
                .ok_or_else(|| flow_error("the redirect has no code".into()))?;
            Ok(AuthorizationCode::new(
                code.to_owned(),
                request.redirect_uri(),
            ))
        })
    }
}

fn demo_dir() -> PathBuf {
    std::env::temp_dir().join("groups-app-example")
}

/// The emulator, with its state kept across runs (seeded on the first).
async fn start_emulator() -> Result<Emulator, Box<dyn std::error::Error>> {
    let dir = demo_dir();
    std::fs::create_dir_all(&dir)?;
    let state = dir.join("emulator-state.json");
    let fresh = !state.exists();
    let emu = Emulator::builder()
        .state_file(&state)
        .strict_tokens(true)
        .start()
        .await?;
    if fresh {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "identities": [{"id": "0000000a-0000-4000-8000-000000000001", "username": DEMO_USER}],
            "clients": [{"id": DEMO_CLIENT, "client_type": "native"}],
            "groups": [
                {"name": "Ada's lab", "memberships": [
                    {"identity_id": "0000000a-0000-4000-8000-000000000001", "role": "admin"}]},
                {"name": "Reading club", "memberships": [
                    {"identity_id": "0000000a-0000-4000-8000-000000000001", "role": "admin"}]}
            ]
        }))?;
        emu.load_seed(seed)?;
    }
    emu.set_auto_approve(Some(serde_json::from_value::<AutoApprove>(
        serde_json::json!({"identity": DEMO_USER}),
    )?));
    Ok(emu)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local_server = std::env::args().any(|a| a == "--local-server");
    let mut emulator = None;
    let app = match std::env::var("GLOBUS_CLIENT_ID") {
        Ok(client_id) => {
            let mut b = UserApp::builder(APP_NAME, client_id).request_refresh_tokens(true);
            if local_server {
                b = b.login_flow(LocalServerLoginFlow::new());
            }
            b.build()?
        }
        Err(_) => {
            let emu = start_emulator().await?;
            let http = HyperClientBuilder::new()
                .base_url(emu.base_url())
                .auth_url(BaseUrl::parse(&emu.base_url())?)
                .allow_plain_http_loopback(true);
            let flow = EmulatorApproves(http.build_transport()?);
            let app = UserApp::builder(APP_NAME, DEMO_CLIENT)
                .http(http)
                .token_storage(JsonTokenStorage::new(demo_dir().join("tokens.json"))?)
                .login_flow(flow)
                .build()?;
            emulator = Some(emu);
            app
        }
    };

    let groups = app.groups_client()?;
    if app.login_required()? {
        app.login().await?;
        println!("logged in; the tokens are stored for the next run");
    } else {
        println!("using the stored tokens (no login)");
    }
    let mine = app.call(|| groups.get_my_groups()).await?;
    println!("{} group(s):", mine.len());
    for g in mine {
        println!("  {}  {}", g.id, g.name);
    }
    if let Some(emu) = emulator {
        emu.shutdown().await?;
    }
    Ok(())
}
