//! The emulated Globus Auth over real HTTP on 127.0.0.1: every grant and every refusal,
//! id_token signatures checked against the JWKS, introspection, revocation, identities,
//! strict clients, and issued tokens on the Groups endpoints.

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use groups_emulator::Emulator;
use groups_emulator::world::{AutoApprove, Decision, Seed};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rsa::sha2::{Digest, Sha256, Sha512};
use serde_json::{Value, json};

const GROUPS_ALL: &str = "urn:globus:auth:scope:groups.api.globus.org:all";
const GROUPS_VIEW: &str =
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";
const CONF_ID: &str = "0c1e0000-0000-4000-8000-0000000000c1";
const CONF_SECRET: &str = "conf-secret-value";
const CONF_ACTS_AS: &str = "00000000-0000-4000-8000-0000000000a5";
const NATIVE_ID: &str = "0c1e0000-0000-4000-8000-0000000000n1";
const ALICE: &str = "00000000-0000-4000-8000-000000000001";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-abc";

/// One answer (the body as text and, when it parses, as JSON).
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: http::HeaderMap,
    text: String,
    json: Value,
}

impl Resp {
    fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

struct Auth {
    emu: Emulator,
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn seed() -> Seed {
    serde_json::from_value(json!({
        "identities": [
            {"id": ALICE, "username": "alice@example.org", "name": "Alice", "email": "alice@example.org"},
            {"id": "00000000-0000-4000-8000-000000000002", "username": "bob@example.org"},
            {"id": CONF_ACTS_AS, "username": "service@example.org"}
        ],
        "clients": [
            {"id": CONF_ID, "client_type": "confidential", "secret": CONF_SECRET,
             "identity": CONF_ACTS_AS, "redirect_uris": ["https://app.example.org/callback"]},
            {"id": NATIVE_ID, "client_type": "native",
             "redirect_uris": ["http://127.0.0.1:1/callback"]}
        ]
    }))
    .unwrap()
}

impl Auth {
    async fn start(strict_tokens: bool, strict_clients: bool) -> Auth {
        let emu = Emulator::builder()
            .seed(seed())
            .strict_tokens(strict_tokens)
            .strict_clients(strict_clients)
            .start()
            .await
            .unwrap();
        let base = emu.base_url().trim_end_matches('/').to_owned();
        let client = Client::builder(TokioExecutor::new()).build_http();
        Auth { emu, base, client }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        if body.is_some() {
            b = b.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = b
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(20), self.client.request(req))
            .await
            .expect("timeout")
            .expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let raw = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    /// POST a form, optionally with HTTP Basic.
    async fn form(&self, path: &str, basic: Option<(&str, &str)>, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut headers = Vec::new();
        if let Some((id, secret)) = basic {
            headers.push((
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
            ));
        }
        self.send(Method::POST, path, &headers, Some(body)).await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let headers: Vec<(&str, String)> = token
            .map(|t| vec![("authorization", format!("Bearer {t}"))])
            .unwrap_or_default();
        self.send(Method::GET, path, &headers, None).await
    }

    async fn client_credentials(&self, id: &str, secret: &str, scope: &str) -> Resp {
        self.form(
            "/v2/oauth2/token",
            Some((id, secret)),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await
    }

    fn authorize_path(&self, client_id: &str, redirect: &str, scope: &str, extra: &str) -> String {
        format!(
            "/v2/oauth2/authorize?client_id={}&redirect_uri={}&scope={}&state=st-1&response_type=code{extra}",
            enc(client_id),
            enc(redirect),
            enc(scope)
        )
    }

    fn pkce(&self) -> String {
        format!(
            "&code_challenge={}&code_challenge_method=S256",
            URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
        )
    }

    fn native_redirect(&self) -> String {
        format!("{}/v2/web/auth-code", self.base)
    }

    /// A code for the native client through auto-approval.
    async fn native_code(&self, scope: &str, extra: &str) -> String {
        self.emu.set_auto_approve(Some(AutoApprove {
            identity: "alice@example.org".into(),
            decision: Decision::Allow,
        }));
        let path = self.authorize_path(
            NATIVE_ID,
            &self.native_redirect(),
            scope,
            &format!("{}{extra}", self.pkce()),
        );
        let r = self.get(&path, None).await;
        assert_eq!(r.status, 302, "{}", r.text);
        query_param(&r.location(), "code").expect("code in the redirect")
    }

    async fn exchange_native(&self, code: &str, verifier: &str) -> Resp {
        self.form(
            "/v2/oauth2/token",
            None,
            &[
                ("client_id", NATIVE_ID),
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", &self.native_redirect()),
            ],
        )
        .await
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(if b[i] == b'+' { b' ' } else { b[i] });
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
    })
}

/// Verify an RS512 JWT against the JWKS; answers its claims.
fn verify_jwt(jwt: &str, jwks: &Value) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS512");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the JWKS holds the token's kid");
    assert_eq!(key["kty"], "RSA");
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let public = rsa::PublicKey::new(
        rsa::BoxedUint::from_be_slice_vartime(&n),
        rsa::BoxedUint::from_be_slice_vartime(&e),
    )
    .unwrap();
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    public
        .pkcs1v15_verify::<Sha512>(signed.as_bytes(), &sig)
        .expect("the id_token signature verifies against the JWKS");
    // A changed payload does not verify.
    assert!(
        public
            .pkcs1v15_verify::<Sha512>(format!("{signed}x").as_bytes(), &sig)
            .is_err()
    );
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_and_a_native_pkce_login_with_a_verified_id_token() {
    let a = Auth::start(false, false).await;
    let conf = a.get("/.well-known/openid-configuration", None).await;
    assert_eq!(conf.status, 200);
    assert_eq!(conf.json["issuer"], a.base);
    assert_eq!(
        conf.json["id_token_signing_alg_values_supported"],
        json!(["RS512"])
    );
    assert_eq!(conf.json["jwks_uri"], format!("{}/jwk.json", a.base));
    let jwks = a.get("/jwk.json", None).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.json["keys"][0]["use"], "sig");

    let code = a
        .native_code(
            &format!("openid profile email {GROUPS_ALL}"),
            "&access_type=offline",
        )
        .await;
    let t = a.exchange_native(&code, VERIFIER).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["resource_server"], "auth.globus.org");
    assert_eq!(t.json["scope"], "openid profile email");
    assert_eq!(t.json["token_type"], "Bearer");
    assert!(t.json["refresh_token"].is_string());
    let others = t.json["other_tokens"].as_array().unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(others[0]["resource_server"], "groups.api.globus.org");
    assert_eq!(others[0]["scope"], GROUPS_ALL);
    assert!(others[0]["refresh_token"].is_string());
    assert!(others[0].get("id_token").is_none());

    let claims = verify_jwt(t.json["id_token"].as_str().unwrap(), &jwks.json);
    assert_eq!(claims["sub"], ALICE);
    assert_eq!(claims["aud"], NATIVE_ID);
    assert_eq!(claims["iss"], a.base);
    assert_eq!(claims["preferred_username"], "alice@example.org");
    assert_eq!(claims["name"], "Alice");
    let access = t.json["access_token"].as_str().unwrap();
    let h = Sha512::digest(access.as_bytes());
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&h[..32]));

    // userinfo with the openid token; the Groups token has no openid.
    let ui = a.get("/v2/oauth2/userinfo", Some(access)).await;
    assert_eq!(ui.status, 200, "{}", ui.text);
    assert_eq!(ui.json["sub"], ALICE);
    assert_eq!(ui.json["email"], "alice@example.org");
    let groups_token = others[0]["access_token"].as_str().unwrap();
    let ui = a.get("/v2/oauth2/userinfo", Some(groups_token)).await;
    assert_eq!((ui.status, ui.error()), (403, "insufficient_scope"));
    let ui = a.get("/v2/oauth2/userinfo", None).await;
    assert_eq!((ui.status, ui.error()), (401, "invalid_token"));

    // The Groups token works on Groups as Alice.
    let g = a.get("/v2/groups/my_groups", Some(groups_token)).await;
    assert_eq!(g.status, 200, "{}", g.text);

    // Without offline access: no refresh token, and no id_token without openid.
    let code = a.native_code(GROUPS_VIEW, "").await;
    let t = a.exchange_native(&code, VERIFIER).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert!(t.json.get("refresh_token").is_none());
    assert!(t.json.get("id_token").is_none());
    assert_eq!(t.json["other_tokens"], json!([]));
}

#[tokio::test]
async fn the_consent_page_allows_and_denies_and_checks_redirects() {
    let a = Auth::start(false, false).await;
    let redirect = a.native_redirect();
    let path = a.authorize_path(NATIVE_ID, &redirect, GROUPS_ALL, &a.pkce());
    let page = a.get(&path, None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("alice@example.org"), "{}", page.text);
    assert!(page.text.contains("name=\"decision\""));

    // The form posts back: allow as Bob gives a code with the state.
    let query = path.split_once('?').unwrap().1;
    let post = |decision: &'static str| {
        let body =
            format!("{query}&identity=00000000-0000-4000-8000-000000000002&decision={decision}");
        a.send(Method::POST, "/v2/oauth2/authorize", &[], Some(body))
    };
    let r = post("allow").await;
    assert_eq!(r.status, 302, "{}", r.text);
    let loc = r.location();
    assert!(loc.starts_with(&redirect), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-1"));
    let code = query_param(&loc, "code").unwrap();
    let shown = a
        .get(&format!("/v2/web/auth-code?code={}", enc(&code)), None)
        .await;
    assert_eq!(shown.status, 200);
    assert!(shown.text.contains(&code));
    let t = a.exchange_native(&code, VERIFIER).await;
    assert_eq!(t.status, 200, "{}", t.text);
    let intro = a
        .form(
            "/v2/oauth2/token/introspect",
            Some((CONF_ID, CONF_SECRET)),
            &[("token", t.json["access_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(intro.json["sub"], "00000000-0000-4000-8000-000000000002");

    let r = post("deny").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        query_param(&r.location(), "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&r.location(), "state").as_deref(), Some("st-1"));

    // Auto-deny through the control plane (over HTTP).
    let r = a
        .send(
            Method::PUT,
            "/_emulator/auth/approve",
            &[],
            Some(json!({"identity": ALICE, "decision": "deny"}).to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a.get(&path, None).await;
    assert_eq!(
        query_param(&r.location(), "error").as_deref(),
        Some("access_denied")
    );
    let r = a
        .send(Method::DELETE, "/_emulator/auth/approve", &[], None)
        .await;
    assert_eq!(r.status, 200);

    // Registered loopback redirect: any port (RFC 8252); another path or host is refused.
    for (uri, ok) in [
        ("http://127.0.0.1:43123/callback", true),
        ("http://127.0.0.1:1/callback", true),
        ("http://127.0.0.1:43123/other", false),
        ("https://evil.example/callback", false),
    ] {
        let r = a
            .get(
                &a.authorize_path(NATIVE_ID, uri, GROUPS_ALL, &a.pkce()),
                None,
            )
            .await;
        assert_eq!(r.status == 200, ok, "{uri}: {} {}", r.status, r.text);
        if !ok {
            assert_eq!(r.status, 400);
        }
    }
    // A confidential client only gets its registered URIs.
    let r = a
        .get(&a.authorize_path(CONF_ID, &redirect, GROUPS_ALL, ""), None)
        .await;
    assert_eq!(r.status, 400);
    let r = a
        .get(
            &a.authorize_path(CONF_ID, "https://app.example.org/callback", GROUPS_ALL, ""),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    // A native client without PKCE, and an unknown scope, come back as errors.
    let r = a
        .get(
            &a.authorize_path(NATIVE_ID, &redirect, GROUPS_ALL, ""),
            None,
        )
        .await;
    assert_eq!(
        query_param(&r.location(), "error").as_deref(),
        Some("invalid_request")
    );
    let r = a
        .get(
            &a.authorize_path(NATIVE_ID, &redirect, "bogus", &a.pkce()),
            None,
        )
        .await;
    assert_eq!(
        query_param(&r.location(), "error").as_deref(),
        Some("invalid_scope")
    );
}

#[tokio::test]
async fn code_exchange_refusals() {
    let a = Auth::start(false, false).await;
    // Wrong verifier: invalid_grant, and the code is used up.
    let code = a.native_code(GROUPS_ALL, "").await;
    let wrong = "x".repeat(43);
    let r = a.exchange_native(&code, &wrong).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "{}", r.text);
    let r = a.exchange_native(&code, VERIFIER).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));

    // Reused code.
    let code = a.native_code(GROUPS_ALL, "").await;
    assert_eq!(a.exchange_native(&code, VERIFIER).await.status, 200);
    let r = a.exchange_native(&code, VERIFIER).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));

    // Expired code: the clock moves past 600 s.
    let code = a.native_code(GROUPS_ALL, "").await;
    a.emu.advance_clock(Duration::from_secs(601));
    let r = a.exchange_native(&code, VERIFIER).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "{}", r.text);

    // Redirect URI other than the authorize request's.
    let code = a.native_code(GROUPS_ALL, "").await;
    let r = a
        .form(
            "/v2/oauth2/token",
            None,
            &[
                ("client_id", NATIVE_ID),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ],
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));

    // Unsupported grant type, missing parameters, no client at all.
    let r = a
        .form(
            "/v2/oauth2/token",
            Some((CONF_ID, CONF_SECRET)),
            &[("grant_type", "password")],
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "unsupported_grant_type"));
    let r = a
        .form(
            "/v2/oauth2/token",
            Some((CONF_ID, CONF_SECRET)),
            &[("scope", GROUPS_ALL)],
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    let r = a
        .form(
            "/v2/oauth2/token",
            None,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    // A repeated parameter and an oversized body are invalid requests, not panics.
    let r = a
        .send(
            Method::POST,
            "/v2/oauth2/token",
            &[],
            Some("grant_type=a&grant_type=b&client_id=x".into()),
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    let r = a
        .send(
            Method::POST,
            "/v2/oauth2/token",
            &[],
            Some("a=".repeat(40_000)),
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    let r = a
        .send(
            Method::POST,
            "/v2/oauth2/token",
            &[],
            Some("x=%zz&y=%".into()),
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_revocation_ends_them() {
    let a = Auth::start(false, false).await;
    let code = a.native_code(GROUPS_ALL, "&access_type=offline").await;
    let t = a.exchange_native(&code, VERIFIER).await;
    let rt1 = t.json["refresh_token"].as_str().unwrap().to_owned();
    let a = &a;
    let refresh = |rt: String| async move {
        a.form(
            "/v2/oauth2/token",
            None,
            &[
                ("refresh_token", &rt),
                ("grant_type", "refresh_token"),
                ("client_id", NATIVE_ID),
            ],
        )
        .await
    };
    let r = refresh(rt1.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["resource_server"], "groups.api.globus.org");
    assert_eq!(r.json["other_tokens"], json!([]));
    let rt2 = r.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    // The old one is refused after its use.
    let r = refresh(rt1).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    // Another client may not use it.
    let r = a
        .form(
            "/v2/oauth2/token",
            Some((CONF_ID, CONF_SECRET)),
            &[("refresh_token", &rt2), ("grant_type", "refresh_token")],
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    // Revoke, then refresh: invalid_grant.
    let r = a
        .form(
            "/v2/oauth2/token/revoke",
            None,
            &[("token", &rt2), ("client_id", NATIVE_ID)],
        )
        .await;
    assert_eq!((r.status, &r.json), (200, &json!({"active": false})));
    let r = refresh(rt2).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    // Revoking an unknown token is fine too.
    let r = a
        .form(
            "/v2/oauth2/token/revoke",
            None,
            &[("token", "never-issued")],
        )
        .await;
    assert_eq!((r.status, &r.json), (200, &json!({"active": false})));
}

#[tokio::test]
async fn client_credentials_introspection_and_secrets() {
    let a = Auth::start(false, false).await;
    // Wrong secret of a seeded client.
    let r = a
        .client_credentials(CONF_ID, "bad-secret-42", GROUPS_ALL)
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    assert!(!r.text.contains("bad-secret-42"));
    // Unknown scope.
    let r = a.client_credentials(CONF_ID, CONF_SECRET, "bogus").await;
    assert_eq!((r.status, r.error()), (400, "invalid_scope"));
    // The seeded client acts as its declared identity; no refresh token.
    let r = a.client_credentials(CONF_ID, CONF_SECRET, GROUPS_ALL).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json.get("refresh_token").is_none());
    assert_eq!(r.json["expires_in"], 172_800);
    let token = r.json["access_token"].as_str().unwrap().to_owned();
    let intro = a
        .form(
            "/v2/oauth2/token/introspect",
            Some((CONF_ID, CONF_SECRET)),
            &[("token", &token)],
        )
        .await;
    assert_eq!(intro.status, 200);
    assert_eq!(intro.json["active"], true);
    assert_eq!(intro.json["sub"], CONF_ACTS_AS);
    assert_eq!(intro.json["client_id"], CONF_ID);
    assert_eq!(intro.json["scope"], GROUPS_ALL);
    assert_eq!(intro.json["username"], "service@example.org");
    assert!(intro.json["exp"].as_u64().unwrap() > intro.json["iat"].as_u64().unwrap());
    // Introspection needs a confidential client.
    let r = a
        .form("/v2/oauth2/token/introspect", None, &[("token", &token)])
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let v = a
        .form(
            "/v2/oauth2/token/validate",
            None,
            &[("token", &token), ("client_id", CONF_ID)],
        )
        .await;
    assert_eq!(v.json, json!({"active": true}));

    // An unknown client gets tokens with any secret and is its own identity.
    let unknown = "5e1f0000-0000-4000-8000-00000000beef";
    let r = a.client_credentials(unknown, "anything", GROUPS_ALL).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let other = r.json["access_token"].as_str().unwrap().to_owned();
    let intro = a
        .form(
            "/v2/oauth2/token/introspect",
            Some((unknown, "x")),
            &[("token", &other)],
        )
        .await;
    assert_eq!(intro.json["sub"], unknown);

    // Dependent tokens: an array.
    let r = a
        .form(
            "/v2/oauth2/token",
            Some((CONF_ID, CONF_SECRET)),
            &[
                ("grant_type", "urn:globus:auth:grant_type:dependent_token"),
                ("token", &other),
                ("scope", &format!("{GROUPS_VIEW} openid")),
                ("access_type", "offline"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let arr = r.json.as_array().expect("an array");
    assert_eq!(arr.len(), 2);
    assert!(arr.iter().all(|t| t["refresh_token"].is_string()));

    // Revoke: introspect says inactive, Groups answers 401.
    assert_eq!(
        a.get("/v2/groups/my_groups", Some(&token)).await.status,
        200
    );
    let r = a
        .form(
            "/v2/oauth2/token/revoke",
            Some((CONF_ID, CONF_SECRET)),
            &[("token", &token)],
        )
        .await;
    assert_eq!(r.json, json!({"active": false}));
    let intro = a
        .form(
            "/v2/oauth2/token/introspect",
            Some((CONF_ID, CONF_SECRET)),
            &[("token", &token)],
        )
        .await;
    assert_eq!(intro.json, json!({"active": false}));
    let g = a.get("/v2/groups/my_groups", Some(&token)).await;
    assert_eq!(g.status, 401);
    assert_eq!(g.json["code"], "INVALID_TOKEN");

    // Secrets and token values never reach the state document or the token list.
    let state = a.emu.dump_state().to_string();
    let listed = a.get("/_emulator/auth/tokens", None).await;
    assert_eq!(listed.status, 200);
    assert!(listed.json["tokens"].as_array().unwrap().len() >= 4);
    for secret in [CONF_SECRET, token.as_str(), other.as_str()] {
        assert!(!state.contains(secret));
        assert!(!listed.text.contains(secret));
        assert!(!format!("{:?}", a.emu).contains(secret));
    }
}

#[tokio::test]
async fn created_clients_get_a_secret_that_works() {
    let a = Auth::start(false, false).await;
    let body = json!({"client": {"template_id": "5e1f0000-0000-4000-8000-000000000000", "name": "cli instance"}});
    let r = a
        .send(
            Method::POST,
            "/v2/api/clients",
            &[("authorization", "Bearer user-token".into())],
            Some(body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["client"]["id"].as_str().unwrap().to_owned();
    let secret = r.json["included"]["client_credential"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(r.json["client"]["name"], "cli instance");
    let cc = a.client_credentials(&id, &secret, GROUPS_ALL).await;
    assert_eq!(cc.status, 200, "{}", cc.text);
    let cc = a.client_credentials(&id, "not-it", GROUPS_ALL).await;
    assert_eq!(cc.error(), "invalid_client");
    let r = a
        .send(Method::POST, "/v2/api/clients", &[], Some(body.to_string()))
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn identities_lookup_order_absence_and_provision() {
    let a = Auth::start(false, false).await;
    let tok = Some("any-token");
    let r = a
        .get(
            "/v2/api/identities?usernames=bob@example.org,nobody@example.org,alice@example.org",
            tok,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let names: Vec<&str> = r.json["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bob@example.org", "alice@example.org"]);
    assert_eq!(r.json["identities"][1]["id"], ALICE);
    assert_eq!(r.json["identities"][1]["status"], "used");
    assert_eq!(r.json["identities"][1]["identity_type"], "login");

    let r = a
        .get(
            &format!("/v2/api/identities?ids={ALICE},00000000-0000-4000-8000-00000000ffff"),
            tok,
        )
        .await;
    assert_eq!(r.json["identities"].as_array().unwrap().len(), 1);

    let r = a
        .get(
            "/v2/api/identities?usernames=new@example.org&provision=true",
            tok,
        )
        .await;
    assert_eq!(r.json["identities"][0]["status"], "unused");
    let id = r.json["identities"][0]["id"].as_str().unwrap().to_owned();
    let r = a
        .get("/v2/api/identities?usernames=new@example.org", tok)
        .await;
    assert_eq!(r.json["identities"][0]["id"], id.as_str());

    // Refusals: no token, both or neither parameter, too many names, a bad id.
    assert_eq!(a.get("/v2/api/identities?ids=x", None).await.status, 401);
    assert_eq!(
        a.get("/v2/api/identities?ids=a&usernames=b", tok)
            .await
            .status,
        400
    );
    assert_eq!(a.get("/v2/api/identities", tok).await.status, 400);
    assert_eq!(
        a.get("/v2/api/identities?ids=not-a-uuid", tok).await.status,
        400
    );
    let many = (0..101)
        .map(|i| format!("u{i}@x.org"))
        .collect::<Vec<_>>()
        .join(",");
    let r = a
        .get(&format!("/v2/api/identities?usernames={many}"), tok)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["errors"][0]["code"], "invalid_request");
}

#[tokio::test]
async fn strict_clients_and_strict_tokens() {
    let a = Auth::start(true, true).await;
    // Strict clients: unknown ones are refused, seeded ones work.
    let r = a
        .client_credentials(
            "5e1f0000-0000-4000-8000-00000000beef",
            "anything",
            GROUPS_ALL,
        )
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let r = a
        .get(
            &a.authorize_path(
                "unknown-client",
                &a.native_redirect(),
                GROUPS_ALL,
                &a.pkce(),
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = a
        .form(
            "/v2/oauth2/token",
            None,
            &[
                ("client_id", "unknown-client"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
            ],
        )
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));

    // Strict tokens: an unknown token is refused, an issued one works with its scopes.
    assert_eq!(
        a.get("/v2/groups/my_groups", Some("made-up")).await.status,
        401
    );
    let r = a.client_credentials(CONF_ID, CONF_SECRET, GROUPS_ALL).await;
    let token = r.json["access_token"].as_str().unwrap().to_owned();
    let g = a.get("/v2/groups/my_groups", Some(&token)).await;
    assert_eq!(g.status, 200, "{}", g.text);
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", "application/json".to_owned()),
    ];
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(format!("{}/v2/groups", a.base));
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    let resp = a
        .client
        .request(
            req.body(Full::new(Bytes::from(r#"{"name": "made by a client"}"#)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // A view-only token reads but does not write.
    let r = a
        .client_credentials(CONF_ID, CONF_SECRET, GROUPS_VIEW)
        .await;
    let view = r.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(a.get("/v2/groups/my_groups", Some(&view)).await.status, 200);
    let resp = a
        .client
        .request(
            Request::builder()
                .method(Method::POST)
                .uri(format!("{}/v2/groups", a.base))
                .header("authorization", format!("Bearer {view}"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(r#"{"name": "refused"}"#)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // The clock moves past the expiry: 401 as Groups answers it.
    a.emu.advance_clock(Duration::from_secs(172_801));
    let g = a.get("/v2/groups/my_groups", Some(&token)).await;
    assert_eq!(g.status, 401);
    assert_eq!(g.json["code"], "INVALID_TOKEN");
    let clock = a.send(Method::GET, "/_emulator/clock", &[], None).await;
    assert!(clock.json["offset_secs"].as_i64().unwrap() >= 172_801);
    let r = a
        .send(
            Method::POST,
            "/_emulator/clock",
            &[],
            Some(r#"{"advance_secs": -5}"#.into()),
        )
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn issued_tokens_and_clients_survive_a_restart() {
    let dir = common::temp_dir("auth-durable");
    let state = dir.join("state.json");
    let emu = Emulator::builder()
        .seed(seed())
        .state_file(&state)
        .strict_tokens(true)
        .start()
        .await
        .unwrap();
    let a = Auth {
        base: emu.base_url().trim_end_matches('/').to_owned(),
        emu,
        client: Client::builder(TokioExecutor::new()).build_http(),
    };
    let r = a.client_credentials(CONF_ID, CONF_SECRET, GROUPS_ALL).await;
    let token = r.json["access_token"].as_str().unwrap().to_owned();
    let code = a.native_code(GROUPS_ALL, "&access_type=offline").await;
    let rt = a.exchange_native(&code, VERIFIER).await.json["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    a.emu.shutdown().await.unwrap();
    let on_disk = std::fs::read_to_string(&state).unwrap();
    assert!(!on_disk.contains(&token) && !on_disk.contains(&rt) && !on_disk.contains(CONF_SECRET));

    let emu = Emulator::builder()
        .state_file(&state)
        .strict_tokens(true)
        .strict_clients(true)
        .start()
        .await
        .unwrap();
    let a = Auth {
        base: emu.base_url().trim_end_matches('/').to_owned(),
        emu,
        client: Client::builder(TokioExecutor::new()).build_http(),
    };
    assert_eq!(
        a.get("/v2/groups/my_groups", Some(&token)).await.status,
        200
    );
    let r = a
        .form(
            "/v2/oauth2/token",
            None,
            &[
                ("refresh_token", &rt),
                ("grant_type", "refresh_token"),
                ("client_id", NATIVE_ID),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        a.client_credentials(CONF_ID, CONF_SECRET, GROUPS_ALL)
            .await
            .status,
        200
    );
    a.emu.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_confidential_client_exchanges_its_code_with_basic_auth() {
    let a = Auth::start(false, false).await;
    a.emu.set_auto_approve(Some(AutoApprove {
        identity: ALICE.into(),
        decision: Decision::Allow,
    }));
    let redirect = "https://app.example.org/callback";
    let r = a
        .get(
            &a.authorize_path(
                CONF_ID,
                redirect,
                &format!("openid {GROUPS_ALL}"),
                "&access_type=offline",
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let code = query_param(&r.location(), "code").unwrap();
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
    ];
    // Without its secret the confidential client is refused (and the code survives).
    let r = a
        .form(
            "/v2/oauth2/token",
            None,
            &[
                ("client_id", CONF_ID),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
            ],
        )
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let r = a
        .form("/v2/oauth2/token", Some((CONF_ID, CONF_SECRET)), &fields)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwks = a.get("/jwk.json", None).await;
    let claims = verify_jwt(r.json["id_token"].as_str().unwrap(), &jwks.json);
    assert_eq!(
        (claims["sub"].as_str(), claims["aud"].as_str()),
        (Some(ALICE), Some(CONF_ID))
    );
    // The refresh grant with Basic auth.
    let rt = r.json["other_tokens"][0]["refresh_token"].as_str().unwrap();
    let r = a
        .form(
            "/v2/oauth2/token",
            Some((CONF_ID, CONF_SECRET)),
            &[("refresh_token", rt), ("grant_type", "refresh_token")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["resource_server"], "groups.api.globus.org");

    // Unknown Auth paths are 404, wrong methods 405.
    assert_eq!(a.get("/v2/api/nothing-here", None).await.status, 404);
    assert_eq!(a.get("/v2/oauth2/token", None).await.status, 405);
    let r = a
        .send(Method::POST, "/jwk.json", &[], Some(String::new()))
        .await;
    assert_eq!(r.status, 405);
}
