//! Globus Auth operations: every request exactly (method, URL, client
//! authentication, form body), response parsing (other tokens, by resource
//! server, expiry) and the OAuth2 error kinds; the Auth base URL per
//! environment.

use std::time::Duration;

use groups_core::AuthClient;
use groups_core::auth::error::AuthErrorKind;
use groups_core::auth::ops::{
    AuthorizationCodeGrant, ClientCredentialsGrant, DependentTokenGrant, GetIdentities,
    GetUserInfo, IntrospectToken, OAuthClient, RefreshTokenGrant, RevokeToken,
};
use groups_core::auth::{AccessType, PkceVerifier, TokenResponse, auth_config};
use groups_core::config::ENV_SERVICE_URL_AUTH;
use groups_core::test_util::{Recorded, ScriptedTransport, Step, block_on, json, respond};
use groups_core::transport::{Instant, TransportErrorKind};
use groups_core::{BaseUrl, ClientConfig, Environment, GroupsError, Operation};

const AUTH: &str = "https://auth.globus.org/";
const FORM: &str = "application/x-www-form-urlencoded";
/// base64("CID:SECRET")
const BASIC: &str = "Basic Q0lEOlNFQ1JFVA==";

fn auth() -> ClientConfig {
    ClientConfig::new(BaseUrl::parse(AUTH).unwrap())
}

fn native() -> OAuthClient {
    OAuthClient::native("CID")
}

fn confidential() -> OAuthClient {
    OAuthClient::confidential("CID", "SECRET")
}

fn body(r: &http::Request<bytes::Bytes>) -> &str {
    std::str::from_utf8(r.body()).unwrap()
}

fn auth_header(r: &http::Request<bytes::Bytes>) -> Option<&str> {
    r.headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap())
}

fn assert_form_post(r: &http::Request<bytes::Bytes>, path: &str) {
    assert_eq!(r.method(), http::Method::POST);
    assert_eq!(
        r.uri().to_string(),
        format!("https://auth.globus.org{path}")
    );
    assert_eq!(r.headers()["content-type"], FORM);
    assert_eq!(r.headers()["accept"], "application/json");
    assert!(
        r.headers()["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("globus-groups-rs-")
    );
}

const TOKEN_BODY: &str = r#"{"access_token": "AT-groups", "expires_in": 172800,
  "resource_server": "groups.api.globus.org", "token_type": "Bearer",
  "scope": "urn:globus:auth:scope:groups.api.globus.org:all", "state": "_default",
  "refresh_token": "RT-groups", "id_token": "ID-TOKEN", "future_key": 1,
  "other_tokens": [{"access_token": "AT-auth", "expires_in": 3600,
     "resource_server": "auth.globus.org", "token_type": "Bearer",
     "scope": "openid profile email", "refresh_token": "RT-auth"}]}"#;

// ------------------------------------------------------------------ base URL

#[test]
fn auth_base_url_per_environment_and_precedence() {
    for (env, url) in [
        (Environment::Production, "https://auth.globus.org/"),
        (Environment::Preview, "https://auth.preview.globus.org/"),
        (Environment::Sandbox, "https://auth.sandbox.globuscs.info/"),
        (
            Environment::Integration,
            "https://auth.integration.globuscs.info/",
        ),
        (Environment::Test, "https://auth.test.globuscs.info/"),
        (Environment::Staging, "https://auth.staging.globuscs.info/"),
    ] {
        assert_eq!(env.auth_base_url(), url);
        let vars = |n: &str| (n == "GLOBUS_SDK_ENVIRONMENT").then(|| env.as_str().to_owned());
        assert_eq!(BaseUrl::resolve_auth(None, vars).unwrap().as_str(), url);
    }
    let none = |_: &str| None;
    assert_eq!(
        BaseUrl::resolve_auth(None, none).unwrap().as_str(),
        "https://auth.globus.org/"
    );
    let both = |n: &str| match n {
        "GLOBUS_SDK_ENVIRONMENT" => Some("sandbox".to_owned()),
        ENV_SERVICE_URL_AUTH => Some("http://127.0.0.1:9999".to_owned()),
        _ => None,
    };
    // The service variable beats the environment; an explicit URL beats both.
    assert_eq!(
        BaseUrl::resolve_auth(None, both).unwrap().as_str(),
        "http://127.0.0.1:9999/"
    );
    assert_eq!(
        BaseUrl::resolve_auth(Some("https://auth.example.org"), both)
            .unwrap()
            .as_str(),
        "https://auth.example.org/"
    );
    let groups = ClientConfig::from_lookup(both)
        .unwrap()
        .with_app_name("app")
        .unwrap();
    let a = auth_config(&groups, BaseUrl::resolve_auth(None, both).unwrap());
    assert_eq!(a.base_url().as_str(), "http://127.0.0.1:9999/");
    assert_eq!(a.app_name(), Some("app"));
}

// ------------------------------------------------------------------ requests

#[test]
fn authorization_code_native_sends_client_id_and_verifier_and_no_authorization() {
    let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let r = AuthorizationCodeGrant::new(&native(), "the code")
        .pkce_verifier(&v)
        .build_request(&auth())
        .unwrap();
    assert_form_post(&r, "/v2/oauth2/token");
    assert_eq!(auth_header(&r), None);
    assert_eq!(
        body(&r),
        "client_id=CID&grant_type=authorization_code&code=the+code\
         &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
         &redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code"
    );
    // Without the verifier a native exchange is refused before sending.
    let e = AuthorizationCodeGrant::new(&native(), "c")
        .build_request(&auth())
        .unwrap_err();
    assert!(e.is_invalid_input());
}

#[test]
fn authorization_code_confidential_uses_basic() {
    let r = AuthorizationCodeGrant::new(&confidential(), "C0DE")
        .redirect_uri("https://app.example.org/cb")
        .build_request(&auth())
        .unwrap();
    assert_form_post(&r, "/v2/oauth2/token");
    assert_eq!(auth_header(&r), Some(BASIC));
    assert!(r.headers()["authorization"].is_sensitive());
    assert_eq!(
        body(&r),
        "grant_type=authorization_code&code=C0DE&redirect_uri=https%3A%2F%2Fapp.example.org%2Fcb"
    );
}

#[test]
fn refresh_token_native_and_confidential() {
    let n = RefreshTokenGrant::new(&native(), "RT")
        .build_request(&auth())
        .unwrap();
    assert_form_post(&n, "/v2/oauth2/token");
    assert_eq!(auth_header(&n), None);
    assert_eq!(
        body(&n),
        "refresh_token=RT&grant_type=refresh_token&client_id=CID"
    );
    let c = RefreshTokenGrant::new(&confidential(), "RT")
        .build_request(&auth())
        .unwrap();
    assert_eq!(auth_header(&c), Some(BASIC));
    assert_eq!(body(&c), "refresh_token=RT&grant_type=refresh_token");
}

#[test]
fn client_credentials_basic_with_space_separated_scopes() {
    let r = ClientCredentialsGrant::new(
        &confidential(),
        [
            "urn:globus:auth:scope:groups.api.globus.org:all",
            "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships",
        ],
    )
    .build_request(&auth())
    .unwrap();
    assert_form_post(&r, "/v2/oauth2/token");
    assert_eq!(auth_header(&r), Some(BASIC));
    assert_eq!(
        body(&r),
        "grant_type=client_credentials&scope=urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall\
         +urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aview_my_groups_and_memberships"
    );
    assert!(
        ClientCredentialsGrant::new(&native(), ["s"])
            .build_request(&auth())
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(
        ClientCredentialsGrant::new(&confidential(), Vec::<String>::new())
            .build_request(&auth())
            .unwrap_err()
            .is_invalid_input()
    );
}

#[test]
fn dependent_token_grant_and_array_answer() {
    let r = DependentTokenGrant::new(&confidential(), "INCOMING")
        .access_type(AccessType::Offline)
        .scopes(["a:b", "c"])
        .build_request(&auth())
        .unwrap();
    assert_form_post(&r, "/v2/oauth2/token");
    assert_eq!(auth_header(&r), Some(BASIC));
    assert_eq!(
        body(&r),
        "grant_type=urn%3Aglobus%3Aauth%3Agrant_type%3Adependent_token&token=INCOMING\
         &access_type=offline&scope=a%3Ab+c"
    );
    let plain = DependentTokenGrant::new(&confidential(), "T")
        .build_request(&auth())
        .unwrap();
    assert_eq!(
        body(&plain),
        "grant_type=urn%3Aglobus%3Aauth%3Agrant_type%3Adependent_token&token=T"
    );
    let answer = json(
        200,
        r#"[{"access_token": "A1", "expires_in": 10, "resource_server": "rs1", "scope": "s1", "token_type": "Bearer"},
            {"access_token": "A2", "expires_in": 20, "resource_server": "rs2", "scope": "s2", "token_type": "Bearer"}]"#,
    );
    let tokens = DependentTokenGrant::new(&confidential(), "T")
        .parse_response(answer)
        .unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens.get("rs2").unwrap().access_token.expose_secret(),
        "A2"
    );
}

#[test]
fn revoke_and_introspect() {
    let n = RevokeToken::new(&native(), "TOK")
        .build_request(&auth())
        .unwrap();
    assert_form_post(&n, "/v2/oauth2/token/revoke");
    assert_eq!(auth_header(&n), None);
    assert_eq!(body(&n), "token=TOK&client_id=CID");
    let c = RevokeToken::new(&confidential(), "TOK")
        .build_request(&auth())
        .unwrap();
    assert_eq!(auth_header(&c), Some(BASIC));
    assert_eq!(body(&c), "token=TOK");
    RevokeToken::new(&native(), "TOK")
        .parse_response(json(200, r#"{"active": false}"#))
        .unwrap();

    let i = IntrospectToken::new(&confidential(), "TOK")
        .include(["session_info", "identity_set_detail"])
        .build_request(&auth())
        .unwrap();
    assert_form_post(&i, "/v2/oauth2/token/introspect");
    assert_eq!(auth_header(&i), Some(BASIC));
    assert_eq!(
        body(&i),
        "token=TOK&include=session_info%2Cidentity_set_detail"
    );
    let info = IntrospectToken::new(&confidential(), "TOK")
        .parse_response(json(
            200,
            r#"{"active": true, "scope": "openid", "client_id": "CID", "sub": "S", "username": "u@x.org",
                "exp": 1700000000, "aud": ["CID", "groups.api.globus.org"], "token_type": "Bearer",
                "identity_set": ["S"], "session_info": {"authentications": {}}}"#,
        ))
        .unwrap();
    assert!(info.active);
    assert_eq!(info.aud.as_deref().unwrap().len(), 2);
    assert!(info.extra.contains_key("session_info"));
    let inactive = IntrospectToken::new(&confidential(), "TOK")
        .parse_response(json(200, r#"{"active": false}"#))
        .unwrap();
    assert!(!inactive.active && inactive.sub.is_none());
    assert!(
        IntrospectToken::new(&native(), "T")
            .build_request(&auth())
            .unwrap_err()
            .is_invalid_input()
    );
}

#[test]
fn userinfo_and_identities_requests_and_models() {
    let u = GetUserInfo.build_request(&auth()).unwrap();
    assert_eq!(u.method(), http::Method::GET);
    assert_eq!(u.uri(), "https://auth.globus.org/v2/oauth2/userinfo");
    assert!(u.headers().get("authorization").is_none());
    let info = GetUserInfo
        .parse_response(json(
            200,
            r#"{"sub": "ae34", "preferred_username": "u@x.org", "name": "U", "email": "u@x.org",
                "identity_provider": "idp", "last_authentication": 1700000000,
                "identity_set": [{"sub": "ae34", "username": "u@x.org", "future": true}], "new_key": 2}"#,
        ))
        .unwrap();
    assert_eq!(info.preferred_username.as_deref(), Some("u@x.org"));
    assert!(
        info.identity_set.as_ref().unwrap()[0]
            .extra
            .contains_key("future")
    );
    assert!(info.extra.contains_key("new_key"));

    let ids = GetIdentities::ids([
        "46bd0f56-e24f-11e5-a510-131bef46955c",
        "168edc3d-c6ba-478c-9cf8-541ff5ebdc1c",
    ])
    .build_request(&auth())
    .unwrap();
    assert_eq!(
        ids.uri(),
        "https://auth.globus.org/v2/api/identities?ids=46bd0f56-e24f-11e5-a510-131bef46955c%2C168edc3d-c6ba-478c-9cf8-541ff5ebdc1c"
    );
    let names = GetIdentities::usernames(["a@x.org"])
        .build_request(&auth())
        .unwrap();
    assert_eq!(
        names.uri(),
        "https://auth.globus.org/v2/api/identities?usernames=a%40x.org"
    );
    let prov = GetIdentities::usernames(["a@x.org"])
        .provision()
        .build_request(&auth())
        .unwrap();
    assert_eq!(
        prov.uri().query(),
        Some("usernames=a%40x.org&provision=true")
    );
    assert!(
        GetIdentities::usernames(Vec::<String>::new())
            .build_request(&auth())
            .unwrap_err()
            .is_invalid_input()
    );
    let found = GetIdentities::usernames(["a@x.org"])
        .parse_response(json(
            200,
            r#"{"identities": [{"id": "46bd0f56-e24f-11e5-a510-131bef46955c", "username": "A@x.org",
                "status": "used", "identity_provider": "idp", "identity_type": "login",
                "name": "A", "email": null, "organization": "Org", "x": 1}]}"#,
        ))
        .unwrap();
    assert_eq!(found.identities.len(), 1);
    assert_eq!(
        found.by_username("a@x.org").unwrap().status.as_deref(),
        Some("used")
    );
    assert!(found.identities[0].extra.contains_key("x"));
}

// ------------------------------------------------------------------ token response

#[test]
fn token_response_other_tokens_by_resource_server_and_expiry() {
    let tokens = RefreshTokenGrant::new(&native(), "RT")
        .parse_response(json(200, TOKEN_BODY))
        .unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens.first().unwrap().resource_server,
        "groups.api.globus.org"
    );
    assert_eq!(tokens.other_tokens().len(), 1);
    assert_eq!(tokens.other_tokens()[0].resource_server, "auth.globus.org");
    let by_rs = tokens.by_resource_server();
    assert_eq!(
        by_rs.keys().copied().collect::<Vec<_>>(),
        ["auth.globus.org", "groups.api.globus.org"]
    );
    let g = by_rs["groups.api.globus.org"];
    assert_eq!(g.access_token.expose_secret(), "AT-groups");
    assert_eq!(
        g.refresh_token.as_ref().unwrap().expose_secret(),
        "RT-groups"
    );
    assert_eq!(g.token_type.as_deref(), Some("Bearer"));
    assert_eq!(g.state.as_deref(), Some("_default"));
    assert!(g.extra.contains_key("future_key"));
    assert!(!g.extra.contains_key("other_tokens"));
    assert_eq!(tokens.id_token().unwrap().expose_secret(), "ID-TOKEN");
    // Expiry from expires_in and the caller's times.
    let received = Instant::from_elapsed(Duration::from_secs(50));
    assert_eq!(
        g.expires_at(received),
        Instant::from_elapsed(Duration::from_secs(50 + 172_800))
    );
    assert_eq!(g.expires_at_seconds(1_700_000_000), 1_700_172_800);
    let a = tokens.get("auth.globus.org").unwrap();
    assert_eq!(a.expires_at_seconds(1_700_000_000), 1_700_003_600);
    assert_eq!(
        a.scopes().collect::<Vec<_>>(),
        ["openid", "profile", "email"]
    );
    // A missing expires_in counts as zero.
    let t = TokenResponse::from_json(br#"{"access_token": "x", "resource_server": "r"}"#).unwrap();
    assert_eq!(t.first().unwrap().expires_at_seconds(7), 7);
    // A bad shape never echoes the body.
    let bad = TokenResponse::from_json(br#"{"access_token": "LEAK"}"#).unwrap_err();
    assert!(!bad.to_string().contains("LEAK"), "{bad}");
    assert!(!format!("{bad:?}").contains("LEAK"));
}

// ------------------------------------------------------------------ errors

fn kind_of(status: u16, body: &str) -> (AuthErrorKind, GroupsError) {
    let e = RefreshTokenGrant::new(&native(), "RT")
        .parse_response(json(status, body))
        .unwrap_err();
    (e.auth_error().expect("an Auth error").kind(), e)
}

#[test]
fn oauth2_errors_become_typed_kinds() {
    let (k, e) = kind_of(
        400,
        r#"{"error": "invalid_grant", "error_description": "refresh token expired"}"#,
    );
    assert_eq!(k, AuthErrorKind::InvalidGrant);
    let a = e.auth_error().unwrap();
    assert_eq!(a.code(), Some("invalid_grant"));
    assert_eq!(a.description(), Some("refresh token expired"));
    assert!(a.requires_login());
    assert!(!e.is_retryable());
    assert_eq!(e.status(), Some(http::StatusCode::BAD_REQUEST));
    assert!(e.to_string().contains("log in again"), "{e}");

    assert_eq!(
        kind_of(401, r#"{"error": "invalid_client"}"#).0,
        AuthErrorKind::InvalidClient
    );
    assert_eq!(kind_of(401, "").0, AuthErrorKind::InvalidClient);
    assert_eq!(
        kind_of(400, r#"{"error": "invalid_scope"}"#).0,
        AuthErrorKind::Other
    );
    assert_eq!(
        kind_of(400, r#"{"error": "unsupported_grant_type"}"#).0,
        AuthErrorKind::Other
    );
    for status in [500, 502, 503, 429] {
        let (k, e) = kind_of(status, "<html>busy</html>");
        assert_eq!(k, AuthErrorKind::Transient, "{status}");
        assert!(e.is_retryable());
    }
    // A REST error document of the identities API.
    let e = GetIdentities::usernames(["a"])
        .parse_response(json(
            400,
            r#"{"errors": [{"code": "INVALID_PARAMETERS", "detail": "bad usernames", "status": "400"}]}"#,
        ))
        .unwrap_err();
    let a = e.auth_error().unwrap();
    assert_eq!(a.code(), Some("INVALID_PARAMETERS"));
    assert_eq!(a.description(), Some("bad usernames"));
    assert_eq!(a.kind(), AuthErrorKind::Other);
}

// ------------------------------------------------------------------ AuthClient

fn sent_form(r: &Recorded) -> String {
    String::from_utf8(r.body.to_vec()).unwrap()
}

#[test]
fn auth_client_sends_each_call_through_the_transport() {
    let t = ScriptedTransport::new([
        respond(200, TOKEN_BODY),
        respond(200, TOKEN_BODY),
        respond(200, r#"{"sub": "S"}"#),
        respond(200, r#"{"identities": []}"#),
        respond(200, r#"{"identities": []}"#),
        respond(200, r#"{"active": false}"#),
        respond(200, r#"{"active": true}"#),
    ]);
    let c = AuthClient::new(t.clone(), auth(), confidential());
    block_on(c.client_credentials(["s1", "s2"])).unwrap();
    block_on(c.refresh_token("RT")).unwrap();
    block_on(c.userinfo("USER-AT")).unwrap();
    block_on(c.get_identities_by_usernames(["a@x.org"]).provision()).unwrap();
    block_on(c.get_identities_by_ids(["i1"]).bearer("USER-AT")).unwrap();
    block_on(c.revoke("TOK")).unwrap();
    assert!(
        block_on(c.introspect("TOK").include(["session_info"]))
            .unwrap()
            .active
    );
    let r = t.requests();
    assert_eq!(r.len(), 7);
    assert_eq!(r[0].header("authorization"), Some(BASIC));
    assert_eq!(
        sent_form(&r[0]),
        "grant_type=client_credentials&scope=s1+s2"
    );
    assert_eq!(r[1].header("authorization"), Some(BASIC));
    assert_eq!(
        sent_form(&r[1]),
        "refresh_token=RT&grant_type=refresh_token"
    );
    assert_eq!(r[2].path(), "/v2/oauth2/userinfo");
    assert_eq!(r[2].header("authorization"), Some("Bearer USER-AT"));
    assert_eq!(
        r[3].path(),
        "/v2/api/identities?usernames=a%40x.org&provision=true"
    );
    assert_eq!(r[3].header("authorization"), Some(BASIC));
    assert_eq!(r[4].header("authorization"), Some("Bearer USER-AT"));
    assert_eq!(r[5].path(), "/v2/oauth2/token/revoke");
    assert_eq!(r[6].path(), "/v2/oauth2/token/introspect");
    assert_eq!(sent_form(&r[6]), "token=TOK&include=session_info");
}

#[test]
fn auth_client_native_sends_no_authorization_and_typed_errors() {
    let t = ScriptedTransport::new([respond(
        400,
        r#"{"error": "invalid_grant", "error_description": "code used"}"#,
    )]);
    let c = AuthClient::new(t.clone(), auth(), native());
    let v = PkceVerifier::from_random_bytes([1; 32]);
    let e = block_on(c.exchange_code("CODE").pkce_verifier(&v)).unwrap_err();
    assert_eq!(e.auth_error().unwrap().kind(), AuthErrorKind::InvalidGrant);
    let r = &t.requests()[0];
    assert_eq!(r.header("authorization"), None);
    assert!(sent_form(r).starts_with("client_id=CID&grant_type=authorization_code&code=CODE"));
    assert_eq!(t.request_count(), 1);
}

#[test]
fn token_grants_are_retried_only_where_safe() {
    // A refresh POST after a read timeout is not sent again ...
    let t = ScriptedTransport::new([Step::Fail(TransportErrorKind::Timeout)]);
    let c = AuthClient::new(t.clone(), auth(), native());
    let e = block_on(c.refresh_token("RT")).unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(t.request_count(), 1);
    // ... but is after a refused connection (nothing was sent).
    let t = ScriptedTransport::new([
        Step::Fail(TransportErrorKind::Connect),
        respond(200, TOKEN_BODY),
    ]);
    let c = AuthClient::new(t.clone(), auth(), native());
    block_on(c.refresh_token("RT")).unwrap();
    assert_eq!(t.request_count(), 2);
    // Client credentials only mint another token: retried after a timeout.
    let t = ScriptedTransport::new([
        Step::Fail(TransportErrorKind::Timeout),
        respond(200, TOKEN_BODY),
    ]);
    let c = AuthClient::new(t.clone(), auth(), confidential());
    block_on(c.client_credentials(["s"])).unwrap();
    assert_eq!(t.request_count(), 2);
}

#[test]
fn secrets_stay_out_of_debug_of_clients_and_operations() {
    let c = confidential();
    let v = PkceVerifier::from_random_bytes([9; 32]);
    let ops = [
        format!("{c:?}"),
        format!("{:?}", RefreshTokenGrant::new(&c, "RT-CANARY")),
        format!(
            "{:?}",
            AuthorizationCodeGrant::new(&c, "CODE-CANARY").pkce_verifier(&v)
        ),
        format!("{:?}", DependentTokenGrant::new(&c, "AT-CANARY")),
        format!("{:?}", RevokeToken::new(&c, "AT-CANARY")),
        format!("{:?}", IntrospectToken::new(&c, "AT-CANARY")),
        format!("{:?}", ClientCredentialsGrant::new(&c, ["s"])),
        format!(
            "{:?}",
            AuthClient::new(ScriptedTransport::new([]), auth(), c.clone())
        ),
        format!(
            "{:?}",
            TokenResponse::from_json(TOKEN_BODY.as_bytes()).unwrap()
        ),
    ];
    for text in ops {
        for secret in [
            "SECRET",
            "RT-CANARY",
            "CODE-CANARY",
            "AT-CANARY",
            "AT-groups",
            "RT-groups",
            "ID-TOKEN",
            v.expose_secret(),
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[test]
fn a_shared_renewing_authorizer_fetches_once_and_renews_after_a_401() {
    let view = "urn:globus:auth:scope:auth.globus.org:view_identities";
    let token = |at: &str| {
        format!(
            r#"{{"access_token": "{at}", "expires_in": 172800, "resource_server":
            "auth.globus.org", "token_type": "Bearer", "scope": "{view}"}}"#
        )
    };
    let t = ScriptedTransport::new([
        respond(200, &token("AT-1")),
        respond(200, r#"{"identities": []}"#),
        respond(200, r#"{"identities": []}"#),
        respond(401, r#"{"errors": [{"code": "UNAUTHORIZED"}]}"#),
        respond(200, &token("AT-2")),
        respond(200, r#"{"identities": []}"#),
    ]);
    let c = AuthClient::new(t.clone(), auth(), confidential());
    let provider: std::sync::Arc<dyn groups_core::auth::TokenProvider> =
        std::sync::Arc::new(c.client_credentials_provider([view]).unwrap());
    for name in ["a@x.org", "b@x.org", "c@x.org"] {
        block_on(
            c.get_identities_by_usernames([name])
                .with_authorizer(provider.clone()),
        )
        .unwrap();
    }
    let r = t.requests();
    assert_eq!(
        r.len(),
        6,
        "one token, two lookups, a 401, a renewal, a retry"
    );
    assert_eq!(r[0].path(), "/v2/oauth2/token");
    assert_eq!(r[0].header("authorization"), Some(BASIC));
    assert_eq!(
        sent_form(&r[0]),
        "grant_type=client_credentials&scope=urn%3Aglobus%3Aauth%3Ascope%3Aauth.globus.org%3Aview_identities"
    );
    assert_eq!(r[1].header("authorization"), Some("Bearer AT-1"));
    assert_eq!(r[2].header("authorization"), Some("Bearer AT-1"));
    assert_eq!(r[3].header("authorization"), Some("Bearer AT-1"));
    assert_eq!(r[4].path(), "/v2/oauth2/token");
    assert_eq!(r[5].path(), "/v2/api/identities?usernames=c%40x.org");
    assert_eq!(r[5].header("authorization"), Some("Bearer AT-2"));
}
