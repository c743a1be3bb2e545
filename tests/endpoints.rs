//! The endpoint table of the core and the emulator's routes agree: every
//! operation the SDK can send has a route with that method in the emulator.
//! Adding an endpoint to one side only fails here.

mod common;

use common::{client, manager};
use globus_groups::sansio::ops::ENDPOINTS;
use groups_emulator::Emulator;
use http::{Method, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_is_served() {
    let emu = Emulator::start().await.expect("emulator starts");
    let group = manager(&emu, "token-ada")
        .create_group("Endpoint table")
        .await
        .expect("group created");
    let client = client(&emu, "token-ada");
    let subscription = uuid::Uuid::from_u128(0x5ab5_0000_0000_4000_8000_0000_0000_0001);
    assert!(!ENDPOINTS.is_empty());
    for endpoint in ENDPOINTS {
        let path = endpoint
            .path
            .replace("{group_id}", &group.id.to_string())
            .replace("{subscription_id}", &subscription.to_string());
        assert!(!path.contains('{'), "unfilled template {}", endpoint.path);
        // No endpoint uses PATCH: the emulator answers 405 for a path it
        // serves (listing the methods it accepts there) and 404 for a path
        // it does not know.
        let err = client
            .request(Method::PATCH, path.as_str())
            .await
            .expect_err("PATCH is not a Groups method");
        let api = err
            .api_error()
            .unwrap_or_else(|| panic!("{}: {err}", endpoint.name));
        assert_eq!(
            api.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {}: the emulator has no route for this path",
            endpoint.method,
            endpoint.path
        );
        let allow = api
            .headers
            .get(http::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            allow.split(',').any(|m| m.trim() == endpoint.method),
            "{} {}: the emulator allows only {allow:?} there",
            endpoint.method,
            endpoint.path
        );
    }
    emu.shutdown().await.expect("emulator stops");
}
