//! Consent and session demands end to end: the emulator demands more than the
//! stored tokens give (a scope they lack, or an MFA login), Groups answers
//! with `authorization_parameters`; without `auto_redrive` the user gets the
//! typed error and its hint, with it the app logs in again with those
//! parameters (the authorize URL carries them, the emulator's login meets
//! them) and the call succeeds.
//!
//! Rerun: `cargo test -p groups-app --test consent_demand`.

mod support;

use std::sync::{Arc, Mutex};

use groups_app::login_flow::{AuthorizationCode, LoginFlow, LoginFuture, LoginRequest};
use groups_app::{AppErrorKind, MemoryTokenStorage, TokenStorage, UserApp};
use groups_core::GroupsScopes;
use groups_emulator::Emulator;
use groups_emulator::world::{AuthDemand, AutoApprove, Decision};
use support::{ADA, NATIVE_UUID, http, query_param, redirect_of, strict_emulator};

/// A login flow that sends the authorize URL to the emulator (which
/// auto-approves) and keeps every URL it was given.
#[derive(Debug)]
struct AutoFlow {
    emu: std::net::SocketAddr,
    urls: Arc<Mutex<Vec<String>>>,
}

impl LoginFlow for AutoFlow {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            let url = request.authorize_url()?;
            self.urls.lock().expect("lock").push(url.clone());
            let emu = self.emu;
            let location = tokio::task::spawn_blocking(move || redirect_of(emu, &url))
                .await
                .expect("join");
            let code = query_param(&location, "code")
                .unwrap_or_else(|| panic!("the login was refused: {location}"));
            Ok(AuthorizationCode::new(code, request.redirect_uri()))
        })
    }
}

/// An app of the native client on `storage`, auto-approved as Ada.
fn app(
    emu: &Emulator,
    storage: &Arc<dyn TokenStorage>,
    redrive: bool,
) -> (UserApp, Arc<Mutex<Vec<String>>>) {
    let urls = Arc::new(Mutex::new(Vec::new()));
    let app = UserApp::builder("Consent App", NATIVE_UUID)
        .http(http(emu))
        .shared_token_storage(Arc::clone(storage))
        .login_flow(AutoFlow {
            emu: emu.local_addr(),
            urls: Arc::clone(&urls),
        })
        .request_refresh_tokens(true)
        .auto_redrive(redrive)
        .build()
        .expect("app builds");
    (app, urls)
}

async fn emulator() -> Emulator {
    let emu = strict_emulator().await;
    emu.set_auto_approve(Some(AutoApprove {
        identity: ADA.into(),
        decision: Decision::Allow,
    }));
    emu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_the_tokens_lack_is_a_typed_error_or_a_new_consent() {
    let emu = emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (plain, _) = app(&emu, &storage, false);
    let groups = plain.groups_client().expect("client");
    plain.login().await.expect("logged in with the view scope");
    groups.get_my_groups().await.expect("no demand yet");

    emu.set_auth_demand(Some(AuthDemand::new().required_scope(GroupsScopes::ALL)))
        .expect("demand set");
    let e = plain
        .call(|| groups.get_my_groups())
        .await
        .expect_err("the token lacks the all scope");
    assert_eq!(e.kind(), AppErrorKind::ConsentRequired, "{e}");
    let params = e.authorization_parameters().expect("parameters");
    assert_eq!(
        params.required_scopes.value().map(|v| v.to_vec()),
        Some(vec![GroupsScopes::ALL.to_owned()])
    );
    let hint = e.to_string();
    assert!(hint.contains(GroupsScopes::ALL), "{hint}");
    assert!(hint.contains("auto_redrive"), "{hint}");

    let (redriving, urls) = app(&emu, &storage, true);
    let groups = redriving.groups_client().expect("client");
    redriving
        .call(|| groups.get_my_groups())
        .await
        .expect("consented again and retried");
    let urls = urls.lock().expect("lock").clone();
    assert_eq!(urls.len(), 1, "one new login");
    let scope = query_param(&urls[0], "scope").expect("scope");
    assert!(
        scope.split(' ').any(|s| s == GroupsScopes::ALL),
        "the new login asked for the required scope: {scope}"
    );
    let stored = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    assert!(stored.scopes().any(|s| s == GroupsScopes::ALL));
    // The new token passes on its own too.
    groups
        .get_my_groups()
        .await
        .expect("the new token meets the demand");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mfa_session_demand_is_a_typed_error_or_an_mfa_login() {
    let emu = emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (plain, _) = app(&emu, &storage, false);
    let groups = plain.groups_client().expect("client");
    plain.login().await.expect("logged in without MFA");

    emu.set_auth_demand(Some(
        AuthDemand::new()
            .session_required_mfa(true)
            .session_message("Groups needs an MFA login"),
    ))
    .expect("demand set");
    let e = plain
        .call(|| groups.get_my_groups())
        .await
        .expect_err("the session has no MFA");
    assert_eq!(e.kind(), AppErrorKind::ConsentRequired, "{e}");
    let params = e.authorization_parameters().expect("parameters");
    assert_eq!(params.session_required_mfa.value(), Some(&true));
    let hint = e.to_string();
    assert!(hint.contains("multi-factor"), "{hint}");

    let (redriving, urls) = app(&emu, &storage, true);
    let groups = redriving.groups_client().expect("client");
    redriving
        .call(|| groups.get_my_groups())
        .await
        .expect("an MFA login and one retry");
    let urls = urls.lock().expect("lock").clone();
    assert_eq!(urls.len(), 1, "one new login");
    assert_eq!(
        query_param(&urls[0], "session_required_mfa").as_deref(),
        Some("True")
    );
    assert_eq!(
        query_param(&urls[0], "session_message").as_deref(),
        Some("Groups needs an MFA login")
    );
    groups
        .get_my_groups()
        .await
        .expect("the MFA login's token meets the demand");
    emu.shutdown().await.expect("emulator stops");
}
