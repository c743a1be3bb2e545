//! Validation before use and the recoveries: each failure has its typed
//! error (no tokens, expired without a refresh token, scopes not met,
//! another identity), an expired access token is noticed before it is
//! sent, `call` logs in again where globus-sdk does, and consent errors
//! are typed or, with auto_redrive, logged in again and retried once.

mod common;

use std::sync::Arc;

use common::*;
use groups_app::storage::{MemoryTokenStorage, TokenStorageData};
use groups_app::{AppErrorKind, TokenStorage, UserApp};
use groups_core::GroupsScopes;
use groups_emulator::{Emulator, Fault};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn user_app(
    emu: &Emulator,
    storage: &Arc<dyn TokenStorage>,
    flow: groups_app::CommandLineLoginFlow,
) -> groups_app::UserAppBuilder {
    UserApp::builder("Validation", NATIVE)
        .http(http(emu))
        .shared_token_storage(Arc::clone(storage))
        .login_flow(flow)
}

/// Log `app` in as `identity` through its fed command-line flow.
async fn login_as(
    emu: &Emulator,
    app: &UserApp,
    input: &std::sync::mpsc::Sender<String>,
    output: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    identity: &str,
    force: bool,
) -> Result<String, groups_app::AppError> {
    let login = async {
        if force {
            app.force_login().await
        } else {
            app.login().await
        }
    };
    let (r, url) = tokio::join!(login, answer_prompt(emu, output, input, identity));
    r.map(|()| url)
}

async fn health_requests(emu: &Emulator) -> u64 {
    let a = request(emu, "GET", "/_emulator/health", None).await;
    let v: serde_json::Value = serde_json::from_str(&a.body).expect("JSON");
    v["requests"].as_u64().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_validation_failure_has_its_typed_error() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, _input, _output) = fed_flow();
    let app = user_app(&emu, &storage, flow).build().expect("app");
    app.groups_client().expect("client");
    assert_eq!(
        app.validate().unwrap_err().kind(),
        AppErrorKind::LoginRequired
    );

    let view = GroupsScopes::VIEW_MY_GROUPS_AND_MEMBERSHIPS;
    let entry = |rs: &str, scope: &str, exp: u64| {
        TokenStorageData::new(rs, "AT-CANARY", exp).with_scope(scope)
    };
    storage
        .store_token_data(&[
            entry("auth.globus.org", "openid", now() + 3600),
            entry("groups.api.globus.org", view, now() - 10),
        ])
        .expect("stored");
    let e = app.validate().unwrap_err();
    assert_eq!(e.kind(), AppErrorKind::TokenExpired);
    assert!(!e.to_string().contains("AT-CANARY"));

    // Renewable: an expired access token with a refresh token is valid.
    storage
        .store_token_data(&[
            entry("groups.api.globus.org", view, now() - 10).with_refresh_token("RT-CANARY")
        ])
        .expect("stored");
    app.validate().expect("renewable");

    storage
        .store_token_data(&[entry("groups.api.globus.org", "openid", now() + 3600)])
        .expect("stored");
    let e = app.validate().unwrap_err();
    assert_eq!(e.kind(), AppErrorKind::ScopesNotMet);
    assert!(e.to_string().contains(view), "{e}");
    assert!(app.login_required().expect("a login fixes it"));

    // An app asking for refresh tokens wants one stored.
    storage
        .store_token_data(&[entry("groups.api.globus.org", view, now() + 3600)])
        .expect("stored");
    app.validate()
        .expect("valid for an app without refresh tokens");
    let (flow, _input, _output) = fed_flow();
    let renewing = user_app(&emu, &storage, flow)
        .request_refresh_tokens(true)
        .build()
        .expect("app");
    renewing.groups_client().expect("client");
    let e = renewing.validate().unwrap_err();
    assert_eq!(e.kind(), AppErrorKind::MissingRefreshToken);
    storage
        .store_token_data(&[
            entry("groups.api.globus.org", view, now() - 10).with_refresh_token("RT-CANARY"),
            entry("auth.globus.org", "openid", now() - 10).with_refresh_token("RT-CANARY"),
        ])
        .expect("stored");
    renewing.validate().expect("expired but renewable");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_identity_is_refused_and_the_stored_tokens_are_kept() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = user_app(&emu, &storage, flow).build().expect("app");
    app.groups_client().expect("client");
    login_as(&emu, &app, &input, &mut output, ADA, false)
        .await
        .expect("Ada logs in");
    let before = storage.get_all_token_data().expect("reads");

    let e = login_as(&emu, &app, &input, &mut output, BOB, true)
        .await
        .expect_err("Bob is another identity");
    assert_eq!(e.kind(), AppErrorKind::IdentityMismatch);
    assert!(
        e.to_string().contains(BOB_ID) && e.to_string().contains(ADA_ID),
        "{e}"
    );
    let after = storage.get_all_token_data().expect("reads");
    for (rs, d) in &before {
        assert!(
            after[rs].access_token.ct_eq(d.access_token.expose_secret()),
            "{rs} kept"
        );
        assert_eq!(after[rs].identity_id.as_deref(), Some(ADA_ID));
    }
    // Bob's new tokens were revoked at Auth.
    let tokens = request(&emu, "GET", "/_emulator/auth/tokens", None).await;
    let v: serde_json::Value = serde_json::from_str(&tokens.body).expect("JSON");
    let bobs: Vec<&serde_json::Value> = v["tokens"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| t["identity"] == BOB_ID && t["kind"] == "access")
        .collect();
    assert!(!bobs.is_empty());
    assert!(bobs.iter().all(|t| t["revoked"] == true), "{bobs:?}");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_not_sent_and_call_logs_in_again() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = user_app(&emu, &storage, flow).build().expect("app");
    let groups = app.groups_client().expect("client");
    login_as(&emu, &app, &input, &mut output, ADA, false)
        .await
        .expect("logged in");
    groups.get_my_groups().await.expect("valid token");

    // The stored access token has expired (its stored expiry is moved to
    // the past; the emulator would still take it). The provider notices
    // before sending; an expiry during a run is the same check, unit-tested
    // in the provider.
    let mut g = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    g.expires_at_seconds = now() - 1;
    storage.store_token_data(&[g]).expect("stored");
    // The next run of the script: a new app on the same storage.
    let (flow, input, mut output) = fed_flow();
    let app = user_app(&emu, &storage, flow).build().expect("app");
    let groups = app.groups_client().expect("client");
    let h0 = health_requests(&emu).await;
    let h1 = health_requests(&emu).await;
    let e = groups.get_my_groups().await.expect_err("not sent");
    assert!(e.auth_error().is_some_and(|a| a.requires_login()), "{e}");
    let h2 = health_requests(&emu).await;
    assert_eq!(
        h2 - h1,
        h1 - h0,
        "no Groups request was sent with the expired token"
    );

    // `call` runs the login and retries once.
    let (r, _url) = tokio::join!(
        app.call(|| groups.get_my_groups()),
        answer_prompt(&emu, &mut output, &input, ADA)
    );
    r.expect("logged in again and retried");
    emu.shutdown().await.expect("emulator stops");
}

fn consent_fault() -> Fault {
    Fault::status(403)
        .method("GET")
        .path("/v2/groups/my_groups")
        .body(serde_json::json!({
            "code": "CONSENT_REQUIRED",
            "detail": "more consent is needed",
            "authorization_parameters": {
                "session_message": "Groups needs all of your consent",
                "required_scopes": [GroupsScopes::ALL],
                "session_required_mfa": true
            }
        }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_error_is_typed_or_redriven_once() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = user_app(&emu, &storage, flow).build().expect("app");
    let groups = app.groups_client().expect("client");
    login_as(&emu, &app, &input, &mut output, ADA, false)
        .await
        .expect("logged in");

    // Without auto_redrive: the typed error, its parameters and a hint.
    emu.inject(consent_fault());
    let e = app
        .call(|| groups.get_my_groups())
        .await
        .expect_err("consent needed");
    assert_eq!(e.kind(), AppErrorKind::ConsentRequired);
    let params = e.authorization_parameters().expect("parameters");
    assert_eq!(params.session_required_mfa.value(), Some(&true));
    let text = e.to_string();
    assert!(text.contains(GroupsScopes::ALL), "{text}");
    assert!(text.contains("multi-factor"), "{text}");
    assert!(text.contains("auto_redrive"), "{text}");

    // With auto_redrive: a login with those parameters, then one retry.
    let (flow, input, mut output) = fed_flow();
    let redriving = user_app(&emu, &storage, flow)
        .auto_redrive(true)
        .build()
        .expect("app");
    let groups = redriving.groups_client().expect("client");
    emu.inject(consent_fault());
    let (r, url) = tokio::join!(
        redriving.call(|| groups.get_my_groups()),
        answer_prompt(&emu, &mut output, &input, ADA)
    );
    r.expect("redriven and retried");
    let scope = query_param(&url, "scope").expect("scope");
    assert!(scope.contains(GroupsScopes::ALL), "{scope}");
    assert_eq!(
        query_param(&url, "session_required_mfa").as_deref(),
        Some("True")
    );
    assert!(query_param(&url, "session_message").is_some());

    // A second consent error right after the retry is not redriven again.
    emu.inject(consent_fault().times(2));
    let (flow, input, mut output) = fed_flow();
    let once = user_app(&emu, &storage, flow)
        .auto_redrive(true)
        .build()
        .expect("app");
    let groups = once.groups_client().expect("client");
    let (r, _) = tokio::join!(
        once.call(|| groups.get_my_groups()),
        answer_prompt(&emu, &mut output, &input, ADA)
    );
    assert_eq!(
        r.expect_err("still refused").kind(),
        AppErrorKind::ConsentRequired
    );
    emu.shutdown().await.expect("emulator stops");
}
