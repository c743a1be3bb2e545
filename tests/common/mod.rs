//! Shared set-up for the end-to-end tests: an in-process emulator and
//! clients over the real hyper transport on loopback.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use globus_groups::hyper_client::{GroupsClient, HyperClientBuilder};
use globus_groups::manager::GroupsManager;
use globus_groups::sansio::RetryPolicy;
use globus_groups::types::IdentityId;
use groups_emulator::Emulator;

/// A retry policy with the default rules but millisecond backoff, so fault
/// tests finish quickly.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(2), Duration::from_millis(2))
        .with_max_retry_after(Duration::from_millis(50))
}

/// A client for `token` against the emulator.
pub fn client(emu: &Emulator, token: &str) -> GroupsClient {
    HyperClientBuilder::new()
        .base_url(emu.base_url())
        .allow_plain_http_loopback(true)
        .retry_policy(fast_retries())
        .app_name("e2e-tests")
        .build_with_token(token)
        .expect("client builds")
}

/// A manager for `token` against the emulator.
pub fn manager(
    emu: &Emulator,
    token: &str,
) -> GroupsManager<globus_groups::hyper_client::HyperTransport> {
    GroupsManager::new(client(emu, token))
}

/// The identity the emulator gives `token`.
pub fn identity(emu: &Emulator, token: &str) -> IdentityId {
    emu.with_world(|w| w.identity_for_token(token))
}

/// A deterministic identity id for bulk tests (the emulator accepts ids it
/// has never seen in `add` and `invite`).
pub fn nth_identity(n: u32) -> IdentityId {
    IdentityId::from_uuid(uuid::Uuid::from_u128(
        0x5eed_0000_0000_4000_8000_0000_0000_0000 | n as u128,
    ))
}
