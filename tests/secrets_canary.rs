//! Secrets at full stack: manager -> core client -> hyper transport -> the
//! in-process emulator (its Groups and its Globus Auth), with every layer's
//! tracing captured at TRACE level (the emulator's own logs included) and
//! every panic message captured by a hook. An access token, a refresh token
//! and a client secret (canaries) go through successes, refusals, retried
//! faults, a 401 renewal, a refused refresh, manager bulk and sync calls,
//! and panics on `unwrap`/`expect` of the resulting errors; none of them
//! appears in any log line, error, `Debug` output or panic message.
//!
//! One test function: it installs the global subscriber and panic hook.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{fast_retries, nth_identity};
use globus_groups::hyper_client::HyperClientBuilder;
use globus_groups::manager::{GroupsManager, SyncOptions};
use globus_groups::sansio::GroupsScopes;
use globus_groups::sansio::config::BaseUrl;
use globus_groups::types::*;
use groups_emulator::{Emulator, Fault};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

const ACCESS: &str = "CANARY-access-7f3a91";
const REFRESH: &str = "CANARY-refresh-2b8c40";
const SECRET: &str = "CANARY-secret-e5d617";
/// base64 of `canary-client:CANARY-secret-e5d617` (HTTP Basic credentials).
const BASIC: &str = "Y2FuYXJ5LWNsaWVudDpDQU5BUlktc2VjcmV0LWU1ZDYxNw";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run `f`, which must panic; its panic message is captured by the hook.
fn panics(f: impl FnOnce()) {
    // Nothing is used after the panic: unwind safety is moot here.
    let f = std::panic::AssertUnwindSafe(f);
    assert!(std::panic::catch_unwind(f).is_err(), "expected a panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_secret_in_logs_errors_debug_or_panics_at_full_stack() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .try_init()
        .expect("the only subscriber in this test binary");
    let panics_seen = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let seen = Arc::clone(&panics_seen);
        std::panic::set_hook(Box::new(move |info| {
            let message = info.to_string();
            // Shown too, so an unexpected failure here still explains itself (the
            // secrets check below covers this output as well: it is the same text).
            eprintln!("panic: {message}");
            seen.lock().unwrap().push(message);
        }));
    }

    let emu = Emulator::start().await.expect("emulator starts");
    let mut shown: Vec<String> = Vec::new();

    // A static access token: the manager's calls, bulk and sync, faults.
    let client = HyperClientBuilder::new()
        .base_url(emu.base_url())
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries())
        .build_with_token(ACCESS)
        .expect("client builds");
    let m = GroupsManager::new(client);
    let group = m.create_group("canary").await.expect("create");
    m.bulk(group.id)
        .add_members((0..40).map(nth_identity), GroupRole::Member)
        .await
        .expect("bulk add");
    let desired: Vec<(IdentityId, GroupRole)> = (20..60)
        .map(|n| (nth_identity(n), GroupRole::Member))
        .collect();
    let outcome = m
        .sync_members(group.id, desired, SyncOptions::new())
        .await
        .expect("sync");
    shown.push(format!("{outcome:?}"));
    // Retried faults (503, a dropped connection), a refused call (404), an
    // already-active member (a per-identity error of the manager).
    emu.inject(Fault::status(503).method("GET"));
    emu.inject(Fault::close().method("GET"));
    m.client().get_group(group.id).await.expect("retried");
    let missing = GroupId::from_uuid(uuid::Uuid::from_u128(0xdead));
    let e = m.client().get_group(missing).await.unwrap_err();
    shown.push(format!("{e} / {e:?}"));
    let e = m.add_member(group.id, nth_identity(30)).await.unwrap_err();
    shown.push(format!("{e} / {e:?}"));
    emu.inject(Fault::html(502).path("/v2/groups/my_groups").times(10));
    let e = m.client().get_my_groups().await.unwrap_err();
    shown.push(format!("{e} / {e:?}"));
    emu.clear_faults();
    shown.push(format!("{m:?} / {:?}", m.client()));

    // Client credentials against the emulator's Auth, with a 401 that makes
    // the provider renew (the new token is fetched with the secret again).
    let cc = HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries())
        .build_with_client_credentials("canary-client", SECRET, [GroupsScopes::ALL])
        .expect("client builds");
    cc.get_my_groups().await.expect("first call, first token");
    emu.inject(Fault::status(401).path("/v2/groups/my_groups"));
    cc.get_my_groups().await.expect("renewed after a 401");
    shown.push(format!("{cc:?}"));

    // A refresh token the emulator never issued: refused with invalid_grant.
    let refreshing = HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
        .client_secret(SECRET)
        .build_with_refresh_token("canary-client", REFRESH)
        .expect("client builds");
    let refused = refreshing.get_my_groups().await;
    let e = refused.as_ref().unwrap_err();
    shown.push(format!("{e} / {e:?} / {refreshing:?}"));
    let refused_manager = GroupsManager::new(refreshing).create_group("never").await;
    let e = refused_manager.as_ref().unwrap_err();
    shown.push(format!("{e} / {e:?}"));

    // Panics on the errors, the way careless code meets them.
    panics(move || {
        refused.unwrap();
    });
    panics(move || {
        refused_manager.expect("create the group");
    });
    let client_again = m.client().clone();
    panics(move || panic!("unexpected state with {client_again:?}"));
    let _ = std::panic::take_hook();
    emu.shutdown().await.expect("emulator stops");

    let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let panicked = panics_seen.lock().unwrap().join("\n");
    assert_eq!(
        panics_seen.lock().unwrap().len(),
        3,
        "only the three provoked panics"
    );
    assert!(
        panicked.contains("invalid_grant") || panicked.contains("refresh"),
        "{panicked}"
    );
    let everything = format!("{logged}\n{}\n{panicked}", shown.join("\n"));
    for secret in [ACCESS, REFRESH, SECRET, BASIC] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    // No token answer or credential was logged whole, by any layer.
    let lower = logged.to_ascii_lowercase();
    for leak in [
        "bearer ",
        "basic ",
        "\"access_token\"",
        "\"refresh_token\"",
        "client_secret=",
    ] {
        assert!(!lower.contains(leak), "{leak:?} in the trace output");
    }
    // The capture did see every layer at work.
    assert!(logged.contains("groups_http"), "the transport's spans");
    assert!(
        logged.contains("oauth2_client_credentials_tokens"),
        "token requests"
    );
    assert!(
        logged.contains("groups_emulator"),
        "the emulator's own logs"
    );
    assert!(logged.contains("status=401"), "the renewal's 401");
}
