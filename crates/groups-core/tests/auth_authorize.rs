//! The authorize URL (every parameter, globus-sdk's order and encoding,
//! from GARE parameters) and PKCE (RFC 7636 known answer, validation).

use groups_core::AuthClient;
use groups_core::auth::pkce::PkceVerifier;
use groups_core::auth::{AccessType, AuthorizeUrl, OAuthClient};
use groups_core::test_util::ScriptedTransport;
use groups_core::{BaseUrl, ClientConfig, GroupsAPIError, GroupsError};
use groups_types::error_body::AuthorizationParameters;

const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn base() -> BaseUrl {
    BaseUrl::parse("https://auth.globus.org/").unwrap()
}

#[test]
fn pkce_known_answer_and_validation() {
    let v = PkceVerifier::new(RFC_VERIFIER).unwrap();
    assert_eq!(v.challenge(), RFC_CHALLENGE);
    assert_eq!(v.challenge_method(), "S256");
    // 32 bytes -> 43 characters of the URL-safe alphabet, no padding.
    let r = PkceVerifier::from_random_bytes([0xff; 32]);
    assert_eq!(r.expose_secret().len(), 43);
    assert!(!r.expose_secret().contains(['=', '+', '/']));
    assert!(PkceVerifier::new(r.expose_secret()).is_ok());
    assert!(PkceVerifier::new("a".repeat(42)).is_err());
    assert!(PkceVerifier::new("a".repeat(43)).is_ok());
    assert!(PkceVerifier::new("~._-".repeat(32)).is_ok());
    assert!(PkceVerifier::new("a".repeat(129)).is_err());
    assert!(PkceVerifier::new(format!("{}+", "a".repeat(43))).is_err());
    assert!(!format!("{v:?} {v}").contains(RFC_VERIFIER));
}

#[test]
fn every_parameter_in_order_and_encoding() {
    let v = PkceVerifier::new(RFC_VERIFIER).unwrap();
    let url = AuthorizeUrl::new(&base(), "CID")
        .redirect_uri("https://app.example.org/cb?x=1")
        .scopes(["openid", "urn:globus:auth:scope:groups.api.globus.org:all"])
        .state("st ate")
        .pkce(&v)
        .access_type(AccessType::Offline)
        .prefill_named_grant("my laptop")
        .session_required_identities(["id1", "id2"])
        .session_required_single_domain(["uchicago.edu", "anl.gov"])
        .session_required_policies(["p1", "p2"])
        .session_required_mfa(false)
        .session_message("please log in")
        .prompt_login()
        .query_param("extra", "e/1")
        .build()
        .unwrap();
    let expected = [
        "https://auth.globus.org/v2/oauth2/authorize?client_id=CID",
        "redirect_uri=https%3A%2F%2Fapp.example.org%2Fcb%3Fx%3D1",
        "scope=openid+urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall",
        "state=st+ate",
        "response_type=code",
        &format!("code_challenge={RFC_CHALLENGE}"),
        "code_challenge_method=S256",
        "access_type=offline",
        "prefill_named_grant=my+laptop",
        "session_required_identities=id1%2Cid2",
        "session_required_single_domain=uchicago.edu%2Canl.gov",
        "session_required_policies=p1%2Cp2",
        "session_required_mfa=False",
        "session_message=please+log+in",
        "prompt=login",
        "extra=e%2F1",
    ]
    .join("&");
    assert_eq!(url, expected);
}

#[test]
fn defaults_native_redirect_state_and_online() {
    let url = AuthorizeUrl::new(
        &BaseUrl::parse("https://auth.sandbox.globuscs.info").unwrap(),
        "CID",
    )
    .scopes(["openid"])
    .build()
    .unwrap();
    assert_eq!(
        url,
        "https://auth.sandbox.globuscs.info/v2/oauth2/authorize?client_id=CID\
         &redirect_uri=https%3A%2F%2Fauth.sandbox.globuscs.info%2Fv2%2Fweb%2Fauth-code\
         &scope=openid&state=_default&response_type=code&access_type=online"
    );
    assert!(
        AuthorizeUrl::new(&base(), "CID")
            .build()
            .unwrap_err()
            .is_invalid_input()
    );
    // From an AuthClient: prefilled with its id and Auth URL.
    let c = AuthClient::new(
        ScriptedTransport::new([]),
        ClientConfig::new(base()),
        OAuthClient::native("NATIVE"),
    );
    let url = c.authorize_url().scopes(["openid"]).build().unwrap();
    assert!(url.starts_with("https://auth.globus.org/v2/oauth2/authorize?client_id=NATIVE&"));
}

#[test]
fn gare_authorization_parameters_become_authorize_parameters() {
    // A Groups 401 carrying requirements, as a caller receives it.
    let response = http::Response::builder()
        .status(401)
        .header("content-type", "application/json")
        .body(bytes::Bytes::from_static(
            br#"{"code": "AuthorizationRequired", "authorization_parameters": {
                "session_message": "MFA needed", "session_required_identities": ["u1"],
                "session_required_single_domain": ["example.org"],
                "session_required_policies": "pol1,pol2", "session_required_mfa": true,
                "required_scopes": ["urn:globus:auth:scope:groups.api.globus.org:all"],
                "prompt": "login"}}"#,
        ))
        .unwrap();
    let err = GroupsError::from(GroupsAPIError::from_response(response));
    let params: &AuthorizationParameters = err.authorization_parameters().unwrap();
    let url = AuthorizeUrl::new(&base(), "CID")
        .scopes(["openid"])
        .authorization_parameters(params)
        .build()
        .unwrap();
    assert_eq!(
        url,
        "https://auth.globus.org/v2/oauth2/authorize?client_id=CID\
         &redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code\
         &scope=openid+urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall\
         &state=_default&response_type=code&access_type=online\
         &session_required_identities=u1&session_required_single_domain=example.org\
         &session_required_policies=pol1%2Cpol2&session_required_mfa=True\
         &session_message=MFA+needed&prompt=login"
    );
}
