//! UserApp against the emulator's Globus Auth and Groups (strict tokens and
//! clients): the command-line login flow fed with a code the test gets
//! from the authorize page over HTTP, reuse of stored tokens by a second
//! app, renewal after expiry with the rotated refresh token stored.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use groups_app::storage::MemoryTokenStorage;
use groups_app::{AppErrorKind, TokenStorage, UserApp};
use groups_core::GroupsScopes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_login_then_a_second_app_reuses_the_tokens() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = UserApp::builder("Test Script", NATIVE)
        .http(http(&emu))
        .shared_token_storage(Arc::clone(&storage))
        .login_flow(flow)
        .build()
        .expect("app builds");
    let groups = app.groups_client().expect("client");
    assert!(app.login_required().expect("validation runs"));

    let (login, url) = tokio::join!(app.login(), answer_prompt(&emu, &mut output, &input, ADA));
    login.expect("logged in");
    // The authorize URL asked for Groups' default scope and openid, with
    // PKCE, and prefilled the grant name; no refresh tokens by default.
    let scope = query_param(&url, "scope").expect("scope");
    assert!(
        scope.contains(GroupsScopes::VIEW_MY_GROUPS_AND_MEMBERSHIPS),
        "{scope}"
    );
    assert!(scope.split(' ').any(|s| s == "openid"), "{scope}");
    assert!(query_param(&url, "code_challenge").is_some());
    assert_eq!(query_param(&url, "access_type").as_deref(), Some("online"));
    let grant = query_param(&url, "prefill_named_grant").expect("grant name");
    assert!(grant.starts_with("Test Script on "), "{grant}");

    // The app's providers serve any resource server's stored tokens.
    let auth = app.token_provider("auth.globus.org");
    match auth.poll_authorization(groups_core::transport::Instant::ZERO) {
        groups_core::AuthPoll::Ready(Some(h)) => assert!(h.is_sensitive()),
        other => panic!("no Auth token: {other:?}"),
    }
    let stored = storage.get_all_token_data().expect("storage reads");
    let g = &stored["groups.api.globus.org"];
    assert_eq!(g.identity_id.as_deref(), Some(ADA_ID));
    assert!(g.refresh_token.is_none());
    assert!(stored.contains_key("auth.globus.org"));
    assert!(!app.login_required().expect("valid now"));
    groups
        .get_my_groups()
        .await
        .expect("a call with the stored token");

    // A second app on the same storage: no login (its input is empty, so a
    // login would fail with EndOfInput).
    let (flow2, input2, _out2) = fed_flow();
    drop(input2);
    let second = UserApp::builder("Test Script", NATIVE)
        .http(http(&emu))
        .shared_token_storage(Arc::clone(&storage))
        .login_flow(flow2)
        .build()
        .expect("second app");
    let groups2 = second.groups_client().expect("client");
    second.login().await.expect("no login needed");
    second
        .call(|| groups2.get_my_groups())
        .await
        .expect("the stored token works");

    // A forced login with no input left is the typed end-of-input error.
    let e = second.force_login().await.expect_err("no input");
    assert_eq!(e.kind(), AppErrorKind::EndOfInput);
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_renew_after_expiry_and_the_rotated_one_is_stored() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = UserApp::builder("Renewing", NATIVE)
        .http(http(&emu))
        .shared_token_storage(Arc::clone(&storage))
        .login_flow(flow)
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    let groups = app
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    let (login, url) = tokio::join!(app.login(), answer_prompt(&emu, &mut output, &input, ADA));
    login.expect("logged in");
    assert_eq!(query_param(&url, "access_type").as_deref(), Some("offline"));
    let before = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    let first_refresh = before.refresh_token.clone().expect("a refresh token");
    groups.get_my_groups().await.expect("first call");

    // Past expiry on the emulator's clock: the emulator refuses the access
    // token, the provider renews once, and the rotation reaches storage.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    groups.get_my_groups().await.expect("renewed");
    let after = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    let rotated = after.refresh_token.clone().expect("still a refresh token");
    assert!(
        !rotated.ct_eq(first_refresh.expose_secret()),
        "the refresh token rotated"
    );
    assert!(
        !after
            .access_token
            .ct_eq(before.access_token.expose_secret())
    );
    assert_eq!(
        after.identity_id.as_deref(),
        Some(ADA_ID),
        "the identity is kept"
    );
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_user_app_logs_in_with_its_redirect_and_secret() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let app = UserApp::builder("Web Tool", WEB)
        .client_secret(WEB_SECRET)
        .redirect_uri(WEB_REDIRECT)
        .http(http(&emu))
        .shared_token_storage(Arc::clone(&storage))
        .login_flow(flow)
        .request_refresh_tokens(true)
        .build()
        .expect("app builds");
    assert!(!format!("{app:?}").contains(WEB_SECRET));
    let groups = app.groups_client().expect("client");
    let (login, url) = tokio::join!(app.login(), answer_prompt(&emu, &mut output, &input, ADA));
    login.expect("logged in");
    assert_eq!(
        query_param(&url, "redirect_uri").as_deref(),
        Some(WEB_REDIRECT)
    );
    let g = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    assert_eq!(g.identity_id.as_deref(), Some(ADA_ID));
    groups.get_my_groups().await.expect("the tokens work");

    // Without a redirect URI a confidential client cannot use the
    // command-line flow: a configuration error before anything is shown.
    let (flow, _input, _output) = fed_flow();
    let bare = UserApp::builder("Web Tool", WEB)
        .client_secret(WEB_SECRET)
        .http(http(&emu))
        .token_storage(MemoryTokenStorage::new())
        .login_flow(flow)
        .build()
        .expect("app builds");
    bare.groups_client().expect("client");
    assert_eq!(bare.login().await.unwrap_err().kind(), AppErrorKind::Config);
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_failing_together_make_one_login() {
    let emu = strict_emulator().await;
    let (flow, input, mut output) = fed_flow();
    let app = UserApp::builder("Together", NATIVE)
        .http(http(&emu))
        .token_storage(MemoryTokenStorage::new())
        .login_flow(flow)
        .build()
        .expect("app builds");
    let groups = app.groups_client().expect("client");
    let answer = async {
        let url = answer_prompt(&emu, &mut output, &input, ADA).await;
        // A second login would now read the end of input and fail.
        drop(input);
        url
    };
    let (a, b, _) = tokio::join!(
        app.call(|| groups.get_my_groups()),
        app.call(|| groups.get_my_groups()),
        answer
    );
    a.expect("first call");
    b.expect("second call, no second login");
    emu.shutdown().await.expect("emulator stops");
}

#[test]
fn apps_are_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<UserApp>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_rotated_by_another_app_is_picked_up_from_storage() {
    let emu = strict_emulator().await;
    let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
    let (flow, input, mut output) = fed_flow();
    let build = |flow| {
        UserApp::builder("Two Apps", NATIVE)
            .http(http(&emu))
            .shared_token_storage(Arc::clone(&storage))
            .login_flow(flow)
            .request_refresh_tokens(true)
            .build()
            .expect("app builds")
    };
    let first = build(flow);
    let groups_first = first.groups_client().expect("client");
    let (login, _) = tokio::join!(first.login(), answer_prompt(&emu, &mut output, &input, ADA));
    login.expect("logged in");
    // The second app (another process, in real life) starts with the same
    // stored tokens; its input is empty, so a login would fail.
    let (flow2, input2, _out2) = fed_flow();
    drop(input2);
    let second = build(flow2);
    let groups_second = second.groups_client().expect("client");
    groups_first.get_my_groups().await.expect("first app");
    groups_second.get_my_groups().await.expect("second app");

    // Both tokens expire; the first app renews and rotates the refresh
    // token. The second app's refresh token is now rotated away: its
    // renewal fails, and it takes the rotated tokens from storage instead
    // of asking for a login.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    groups_first
        .get_my_groups()
        .await
        .expect("first app renews");
    second
        .call(|| groups_second.get_my_groups())
        .await
        .expect("second app continues from storage, no login");
    emu.shutdown().await.expect("emulator stops");
}
