//! Logging in, end to end: the Groups client with renewing token providers
//! over the real hyper transport, against the emulator's Globus Auth and
//! Groups on one port, with strict tokens and clients. The emulator counts
//! the token requests, so renewal and single flight are measured where the
//! tokens are issued.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use globus_groups::hyper_client::HyperClientBuilder;
use globus_groups::sansio::GroupsScopes;
use globus_groups::sansio::auth::{AccessType, AuthErrorKind, PkceVerifier};
use globus_groups::sansio::config::BaseUrl;
use globus_groups::sansio::transport::Transport;
use globus_groups::types::*;
use groups_emulator::Emulator;
use groups_emulator::world::Seed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICE: &str = "svc-client";
const SECRET: &str = "svc-secret-CANARY";
const NATIVE: &str = "native-app";

/// An emulator that accepts only issued tokens and declared clients.
async fn strict_emulator() -> Emulator {
    let emu = Emulator::builder()
        .strict_tokens(true)
        .strict_clients(true)
        .start()
        .await
        .expect("emulator starts");
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "identities": [{"id": "0000000a-0000-4000-8000-000000000001", "username": "ada@example.org"}],
        "clients": [
            {"id": SERVICE, "secret": SECRET},
            {"id": NATIVE, "client_type": "native", "redirect_uris": ["http://127.0.0.1/callback"]}
        ]
    }))
    .expect("seed parses");
    emu.load_seed(seed).expect("seed loads");
    emu
}

fn builder(emu: &Emulator) -> HyperClientBuilder {
    HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
}

/// `GET` a control-plane path of the emulator (plain HTTP/1.1 on loopback).
async fn control(emu: &Emulator, path: &str) -> serde_json::Value {
    let mut s = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .expect("connect");
    let req =
        format!("GET /_emulator{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (_, body) = text.split_once("\r\n\r\n").expect("head and body");
    serde_json::from_str(body).expect("JSON body")
}

/// Access tokens the emulator issued to `client`.
async fn access_tokens_issued(emu: &Emulator, client: &str) -> usize {
    let list = control(emu, "/auth/tokens").await;
    list["tokens"]
        .as_array()
        .expect("token list")
        .iter()
        .filter(|t| t["kind"] == "access" && t["client_id"] == client)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_create_list_and_renew_after_expiry() {
    let emu = strict_emulator().await;
    let client = builder(&emu)
        .build_with_client_credentials(SERVICE, SECRET, [GroupsScopes::ALL])
        .expect("client builds");
    assert!(
        !format!("{client:?}").contains(SECRET),
        "the secret leaks into Debug"
    );

    let group = client
        .create_group(GroupCreate::new("Service lab"))
        .await
        .expect("created with a client-credentials token");
    let mine = client.get_my_groups().await.expect("listed");
    assert!(mine.iter().any(|g| g.id == group.id));
    assert_eq!(
        access_tokens_issued(&emu, SERVICE).await,
        1,
        "one token for both calls"
    );

    // Past the token's lifetime on the emulator's clock: the emulator now
    // refuses the old token, and the provider, which reads the expiry from
    // the answer, renews by itself on the next call.
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    let again = client.get_group(group.id).await.expect("renewed and read");
    assert_eq!(again.id, group.id);
    assert_eq!(
        access_tokens_issued(&emu, SERVICE).await,
        2,
        "exactly one renewal"
    );
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_calls_across_an_expiry_make_one_token_request() {
    let emu = strict_emulator().await;
    let client = builder(&emu)
        .build_with_client_credentials(SERVICE, SECRET, [GroupsScopes::ALL])
        .expect("client builds");
    client.get_my_groups().await.expect("first token");
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.get_my_groups().await.map(|g| g.len())
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("call succeeds");
    }
    assert_eq!(
        access_tokens_issued(&emu, SERVICE).await,
        2,
        "64 calls across one expiry: one token request"
    );
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_login_refresh_rotation_and_revocation() {
    let emu = strict_emulator().await;
    emu.set_auto_approve(Some(
        serde_json::from_value(serde_json::json!({"identity": "ada@example.org"}))
            .expect("approval"),
    ));
    let auth = builder(&emu)
        .build_auth_client(NATIVE)
        .expect("auth client");
    let verifier = PkceVerifier::from_random_bytes([7; 32]);
    let url = auth
        .authorize_url()
        .scopes(["openid", "profile", "email", GroupsScopes::ALL])
        .pkce(&verifier)
        .access_type(AccessType::Offline)
        .build()
        .expect("authorize URL");
    let redirect = auth
        .transport()
        .send(
            http::Request::get(url)
                .body(bytes::Bytes::new())
                .expect("request"),
        )
        .await
        .expect("authorize answers");
    assert_eq!(redirect.status(), http::StatusCode::FOUND);
    let location = redirect.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let code = location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("code="))
        .expect("a code")
        .to_owned();
    let tokens = auth
        .exchange_code(code.clone())
        .pkce_verifier(&verifier)
        .await
        .expect("code exchanged");
    let groups_token = tokens.get("groups.api.globus.org").expect("a Groups token");
    let refresh = groups_token.refresh_token.clone().expect("offline access");
    assert!(
        tokens.get("auth.globus.org").is_some(),
        "openid gives an Auth token"
    );

    // The code is single-use.
    let reused = auth.exchange_code(code).pkce_verifier(&verifier).await;
    let kind = reused
        .expect_err("reused code")
        .auth_error()
        .map(|a| a.kind());
    assert_eq!(kind, Some(AuthErrorKind::InvalidGrant));

    // A refresh-token client renews after expiry and stores the rotated token.
    let rotated: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&rotated);
    let user = builder(&emu)
        .on_refresh(move |t| {
            if let Some(rt) = t
                .get("groups.api.globus.org")
                .and_then(|d| d.refresh_token.clone())
            {
                sink.lock().unwrap().push(rt.expose_secret().to_owned());
            }
        })
        .build_with_refresh_token(NATIVE, refresh.clone())
        .expect("user client");
    user.get_my_groups().await.expect("first call refreshes");
    emu.advance_clock(Duration::from_secs(3 * 24 * 3600));
    user.get_my_groups().await.expect("renewed after expiry");
    let seen = rotated.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "the hook saw each renewal");
    assert_ne!(
        seen[0],
        refresh.expose_secret(),
        "the refresh token rotated"
    );

    // The first refresh token was rotated away: using it is invalid_grant.
    let stale = auth.refresh_token(refresh).await;
    let kind = stale
        .expect_err("rotated token")
        .auth_error()
        .map(|a| a.kind());
    assert_eq!(kind, Some(AuthErrorKind::InvalidGrant));
    emu.shutdown().await.expect("emulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_invalid_client_and_sends_no_groups_request() {
    let emu = strict_emulator().await;
    let client = builder(&emu)
        .build_with_client_credentials(SERVICE, "WRONG-secret-7d2f", [GroupsScopes::ALL])
        .expect("client builds");
    let before = emu.request_count();
    let err = client.get_my_groups().await.expect_err("refused");
    assert_eq!(
        err.auth_error().map(|a| a.kind()),
        Some(AuthErrorKind::InvalidClient),
        "{err}"
    );
    assert!(
        !err.to_string().contains("WRONG-secret-7d2f"),
        "the secret shows in {err}"
    );
    assert!(
        !format!("{err:?}").contains("WRONG-secret-7d2f"),
        "the secret shows in {err:?}"
    );
    // Only the token request reached the emulator.
    assert_eq!(emu.request_count() - before, 1);
    emu.shutdown().await.expect("emulator stops");
}
