//! A service account that keeps a group's roster in sync, with client
//! credentials (a `ClientApp`).
//!
//! ```text
//! cargo run -p groups-app --example service_roster_sync
//! GLOBUS_CLIENT_ID=... GLOBUS_CLIENT_SECRET=... ROSTER_GROUP_ID=<group> \
//!     cargo run -p groups-app --example service_roster_sync -- alice@uni.edu bob@uni.edu
//! ```
//!
//! Without `GLOBUS_CLIENT_ID` it runs against an in-process emulator: the
//! service creates a group it administers and syncs the roster
//! `ada@example.org bob@example.org` into it, then syncs again with Bob
//! gone. With a client id and secret it talks to Globus
//! (`GLOBUS_SDK_ENVIRONMENT` picks the environment) and syncs the
//! usernames given as arguments into `ROSTER_GROUP_ID`, which the service
//! identity must administer. Its tokens are stored where globus-sdk's
//! `ClientApp` keeps them, and reused until they expire.

use groups_app::{ClientApp, MemoryTokenStorage, TokenStorage};
use groups_core::GroupsScopes;
use groups_core::config::BaseUrl;
use groups_core::groups_types::{GroupCreate, GroupId, GroupRole, IdentityId};
use groups_emulator::Emulator;
use groups_emulator::world::Seed;
use groups_hyper::HyperClientBuilder;
use groups_manager::{GroupsManager, SyncOptions};

const APP_NAME: &str = "groups-app roster sync";

/// Resolve usernames and sync them as members of `group`.
async fn sync(
    app: &ClientApp,
    manager: &GroupsManager<groups_hyper::HyperTransport>,
    group: GroupId,
    roster: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    // The identities API takes a bearer token of Auth: the app's stored
    // `auth.globus.org` token (every app requires `openid`; it is fetched by
    // `login()` in the same client credentials grant as Groups').
    if app.login_required()? {
        app.login().await?;
    }
    let auth_token = app
        .token_storage()
        .get_token_data("auth.globus.org")?
        .ok_or("no Auth token after the login")?
        .access_token;
    let found = app
        .auth_client()?
        .get_identities_by_usernames(roster.iter().cloned())
        .bearer(auth_token)
        .await?;
    let mut desired: Vec<(IdentityId, GroupRole)> = Vec::new();
    for username in roster {
        match found.by_username(username) {
            Some(identity) => desired.push((identity.id, GroupRole::Member)),
            None => eprintln!("no Globus identity for {username}: skipped"),
        }
    }
    let outcome = manager
        .sync_members(group, desired, SyncOptions::new())
        .await?;
    match outcome.report {
        None => println!("roster already in sync"),
        Some(report) => println!(
            "applied {} change(s), {} failure(s)",
            report.successes.len(),
            report.failures.len()
        ),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let (Ok(id), Ok(secret)) = (
        std::env::var("GLOBUS_CLIENT_ID"),
        std::env::var("GLOBUS_CLIENT_SECRET"),
    ) {
        let group: GroupId = std::env::var("ROSTER_GROUP_ID")?.parse()?;
        let roster: Vec<String> = std::env::args().skip(1).collect();
        let app = ClientApp::builder(APP_NAME, id, secret).build()?;
        let manager = GroupsManager::new(app.groups_client_with_scopes([GroupsScopes::ALL])?);
        return sync(&app, &manager, group, &roster).await;
    }

    let emu = Emulator::builder()
        .strict_tokens(true)
        .strict_clients(true)
        .start()
        .await?;
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "identities": [
            {"id": "0000000a-0000-4000-8000-000000000001", "username": "ada@example.org"},
            {"id": "0000000b-0000-4000-8000-000000000002", "username": "bob@example.org"}
        ],
        "clients": [{"id": "roster-service", "secret": "demo-service-secret"}]
    }))?;
    emu.load_seed(seed)?;
    let http = HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url())?)
        .allow_plain_http_loopback(true);
    let app = ClientApp::builder(APP_NAME, "roster-service", "demo-service-secret")
        .http(http)
        .token_storage(MemoryTokenStorage::new())
        .build()?;
    let client = app.groups_client_with_scopes([GroupsScopes::ALL])?;
    let group = client.create_group(GroupCreate::new("Roster demo")).await?;
    println!("group {} created by the service", group.id);
    let manager = GroupsManager::new(client);
    let roster = ["ada@example.org".to_owned(), "bob@example.org".to_owned()];
    sync(&app, &manager, group.id, &roster).await?;
    sync(&app, &manager, group.id, &roster).await?;
    sync(&app, &manager, group.id, &roster[..1]).await?;
    emu.shutdown().await?;
    Ok(())
}
