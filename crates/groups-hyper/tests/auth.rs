//! Globus Auth through the real transport: a client-credentials client
//! fetches its token over the same connection pool, then calls Groups; a
//! refresh-token client (native and confidential); the Auth client sharing
//! the Groups client's transport.

mod common;

use common::{ScriptedServer, Step, json};
use groups_core::GroupsScopes;
use groups_core::auth::error::AuthErrorKind;
use groups_core::config::BaseUrl;
use groups_hyper::HyperClientBuilder;

const TOKEN: &str = r#"{"access_token": "AT-FROM-AUTH", "expires_in": 172800,
  "resource_server": "groups.api.globus.org", "token_type": "Bearer",
  "scope": "urn:globus:auth:scope:groups.api.globus.org:all"}"#;

fn builder(server: &ScriptedServer) -> HyperClientBuilder {
    HyperClientBuilder::new()
        .base_url(server.base())
        .auth_url(BaseUrl::parse(&server.base()).unwrap())
        .allow_plain_http_loopback(true)
}

fn body(r: &common::Recorded) -> String {
    String::from_utf8(r.body.clone()).unwrap()
}

#[tokio::test]
async fn client_credentials_client_fetches_its_token_on_the_same_pool_then_calls_groups() {
    let server = ScriptedServer::start([
        Step::Respond(json(200, TOKEN)),
        Step::Respond(json(200, "[]")),
        Step::Respond(json(200, "[]")),
    ])
    .await;
    let client = builder(&server)
        .build_with_client_credentials("CID", "SECRET", [GroupsScopes::ALL])
        .unwrap();
    assert!(client.get_my_groups().await.unwrap().is_empty());
    assert!(client.get_my_groups().await.unwrap().is_empty());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "one token request, two Groups calls");
    assert_eq!(reqs[0].request_line, "POST /v2/oauth2/token HTTP/1.1");
    assert_eq!(
        reqs[0].header("authorization").as_deref(),
        Some("Basic Q0lEOlNFQ1JFVA==")
    );
    assert_eq!(
        reqs[0].header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        body(&reqs[0]),
        "grant_type=client_credentials&scope=urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall"
    );
    assert_eq!(reqs[1].request_line, "GET /v2/groups/my_groups HTTP/1.1");
    assert_eq!(
        reqs[1].header("authorization").as_deref(),
        Some("Bearer AT-FROM-AUTH")
    );
    assert_eq!(
        reqs[2].header("authorization").as_deref(),
        Some("Bearer AT-FROM-AUTH")
    );
    assert_eq!(
        server.connections(),
        1,
        "the token request and the Groups calls shared one pooled connection"
    );
}

#[tokio::test]
async fn refresh_token_client_native_and_confidential() {
    let server = ScriptedServer::start([
        Step::Respond(json(200, TOKEN)),
        Step::Respond(json(200, "[]")),
        Step::Respond(json(200, TOKEN)),
        Step::Respond(json(200, "[]")),
    ])
    .await;
    let renewals = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = renewals.clone();
    let native = builder(&server)
        .on_refresh(move |_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .build_with_refresh_token("CID", "RT-1")
        .unwrap();
    native.get_my_groups().await.unwrap();
    let confidential = builder(&server)
        .client_secret("SECRET")
        .build_with_refresh_token("CID", "RT-2")
        .unwrap();
    confidential.get_my_groups().await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].header("authorization"), None);
    assert_eq!(
        body(&reqs[0]),
        "refresh_token=RT-1&grant_type=refresh_token&client_id=CID"
    );
    assert_eq!(
        reqs[2].header("authorization").as_deref(),
        Some("Basic Q0lEOlNFQ1JFVA==")
    );
    assert_eq!(
        body(&reqs[2]),
        "refresh_token=RT-2&grant_type=refresh_token"
    );
    assert_eq!(renewals.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(!format!("{native:?} {confidential:?}").contains("RT-"));
}

#[tokio::test]
async fn invalid_grant_is_typed_and_final() {
    let server = ScriptedServer::start([Step::Respond(json(
        400,
        r#"{"error": "invalid_grant", "error_description": "expired"}"#,
    ))])
    .await;
    let client = builder(&server)
        .build_with_refresh_token("CID", "RT-OLD")
        .unwrap();
    let e = client.get_my_groups().await.unwrap_err();
    assert_eq!(
        e.auth_error().map(|a| a.kind()),
        Some(AuthErrorKind::InvalidGrant)
    );
    let e = client.get_my_groups().await.unwrap_err();
    assert!(e.auth_error().unwrap().requires_login());
    assert_eq!(server.requests().len(), 1, "no second token request");
}

#[tokio::test]
async fn auth_client_shares_the_groups_transport() {
    let server = ScriptedServer::start([
        Step::Respond(json(200, "[]")),
        Step::Respond(json(
            200,
            r#"{"identities": [{"id": "46bd0f56-e24f-11e5-a510-131bef46955c", "username": "a@x.org"}]}"#,
        )),
    ])
    .await;
    let b = builder(&server).client_secret("SECRET");
    let groups = b.clone().build_with_token("USER-TOKEN").unwrap();
    groups.get_my_groups().await.unwrap();
    let auth = b.build_auth_client_for(&groups, "CID").unwrap();
    let found = auth.get_identities_by_usernames(["a@x.org"]).await.unwrap();
    assert_eq!(found.identities[0].username, "a@x.org");
    let reqs = server.requests();
    assert_eq!(
        reqs[1].request_line,
        "GET /v2/api/identities?usernames=a%40x.org HTTP/1.1"
    );
    assert_eq!(
        reqs[1].header("authorization").as_deref(),
        Some("Basic Q0lEOlNFQ1JFVA==")
    );
    assert_eq!(server.connections(), 1);
}
