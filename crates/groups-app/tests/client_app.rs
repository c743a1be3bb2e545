//! ClientApp end to end against the emulator in strict-token mode: tokens
//! by client credentials, stored and reused by a second app, renewed after
//! expiry, revoked and removed by logout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use groups_app::storage::JsonTokenStorage;
use groups_app::{ClientApp, TokenStorage};
use groups_core::GroupsScopes;
use groups_core::groups_types::GroupCreate;

async fn tokens(emu: &groups_emulator::Emulator) -> Vec<serde_json::Value> {
    let answer = request(emu, "GET", "/_emulator/auth/tokens", None).await;
    let v: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON");
    v["tokens"].as_array().expect("a list").clone()
}

/// Groups access tokens issued to the service.
async fn access_tokens(emu: &groups_emulator::Emulator) -> usize {
    tokens(emu)
        .await
        .iter()
        .filter(|t| {
            t["kind"] == "access"
                && t["client_id"] == SERVICE
                && t["resource_server"] == "groups.api.globus.org"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_store_reuse_renew_and_logout() {
    let emu = strict_emulator().await;
    let dir = std::env::temp_dir().join(format!("groups-app-client-{}", std::process::id()));
    let storage: Arc<dyn TokenStorage> =
        Arc::new(JsonTokenStorage::new(dir.join("tokens.json")).expect("storage"));
    let build = || {
        ClientApp::builder("roster sync", SERVICE, SERVICE_SECRET)
            .http(http(&emu))
            .token_storage(Arc::clone(&storage))
            .build()
            .expect("app builds")
    };
    let app = build();
    let groups = app
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    assert!(app.login_required().expect("validation"));
    let group = groups
        .create_group(GroupCreate::new("Service lab"))
        .await
        .expect("created with a client-credentials token");
    assert!(
        groups
            .get_my_groups()
            .await
            .expect("listed")
            .iter()
            .any(|g| g.id == group.id)
    );
    assert_eq!(access_tokens(&emu).await, 1, "one token for both calls");

    // The Groups token is stored; the app's openid requirement (as in
    // globus-sdk) waits for login(), which fetches every requirement in
    // one grant.
    assert!(app.login_required().expect("validation"));
    app.login().await.expect("logged in");
    assert!(!app.login_required().expect("stored now"));
    assert_eq!(
        access_tokens(&emu).await,
        2,
        "login fetched a new Groups token"
    );
    let stored = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    assert!(stored.scope.contains(GroupsScopes::ALL));

    // A second app (the next run) reuses the stored token: no token request.
    let second = build();
    let groups2 = second
        .groups_client_with_scopes([GroupsScopes::ALL])
        .expect("client");
    groups2.get_group(group.id).await.expect("read");
    assert_eq!(access_tokens(&emu).await, 2, "the stored token was reused");

    // Past expiry on the emulator's clock: one renewal, stored.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    groups2.get_group(group.id).await.expect("renewed");
    assert_eq!(access_tokens(&emu).await, 3, "exactly one renewal");
    let renewed = storage
        .get_token_data("groups.api.globus.org")
        .expect("reads")
        .expect("stored");
    assert!(
        !renewed
            .access_token
            .ct_eq(stored.access_token.expose_secret())
    );

    // Logout revokes at Auth, then removes from storage.
    second.logout(false).await.expect("logged out");
    assert!(storage.get_all_token_data().expect("reads").is_empty());
    let revoked = tokens(&emu)
        .await
        .iter()
        .filter(|t| t["kind"] == "access" && t["client_id"] == SERVICE && t["revoked"] == true)
        .count();
    assert!(revoked >= 1, "the stored token was revoked");
    let file = std::fs::read_to_string(dir.join("tokens.json")).expect("file");
    assert!(!file.contains(SERVICE_SECRET), "the secret is never stored");
    std::fs::remove_dir_all(&dir).expect("cleanup");
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_login_fetches_every_requirement_and_a_wrong_secret_is_typed() {
    let emu = strict_emulator().await;
    let app = ClientApp::builder("roster sync", SERVICE, SERVICE_SECRET)
        .http(http(&emu))
        .token_storage(groups_app::MemoryTokenStorage::new())
        .build()
        .expect("app");
    app.groups_client().expect("client");
    app.login().await.expect("logged in");
    assert!(!app.login_required().expect("validation"));

    let wrong = ClientApp::builder("roster sync", SERVICE, "not-the-secret")
        .http(http(&emu))
        .token_storage(groups_app::MemoryTokenStorage::new())
        .build()
        .expect("app");
    let e = wrong.login().await.expect_err("refused");
    assert_eq!(e.kind(), groups_app::AppErrorKind::Auth);
    assert!(!e.to_string().contains("not-the-secret"), "{e}");
    emu.shutdown().await.expect("emulator stops");
}
