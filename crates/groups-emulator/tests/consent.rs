//! Consent and session demands over real HTTP on 127.0.0.1: the Groups endpoints answer
//! a token that falls short with `authorization_parameters`, and accept the token of a
//! new login whose authorize request carries them.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use groups_emulator::world::{AuthDemand, AutoApprove, Decision, Seed};
use groups_emulator::{Emulator, EmulatorError};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rsa::sha2::{Digest, Sha256};
use serde_json::{Value, json};

const GROUPS_ALL: &str = "urn:globus:auth:scope:groups.api.globus.org:all";
const GROUPS_VIEW: &str =
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";
const NATIVE_ID: &str = "0c1e0000-0000-4000-8000-0000000000d1";
const CONF_ID: &str = "0c1e0000-0000-4000-8000-0000000000d2";
const CONF_SECRET: &str = "demand-test-secret";
const ALICE: &str = "00000000-0000-4000-8000-00000000d001";
const BOB: &str = "00000000-0000-4000-8000-00000000d002";
const CAROL: &str = "00000000-0000-4000-8000-00000000d003";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-xyz";
const MY_GROUPS: &str = "/v2/groups/my_groups";

#[derive(Debug)]
struct Resp {
    status: u16,
    location: String,
    text: String,
    json: Value,
}

impl Resp {
    fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

struct T {
    emu: Emulator,
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn seed() -> Seed {
    serde_json::from_value(json!({
        "identities": [
            {"id": ALICE, "username": "alice@example.org"},
            {"id": BOB, "username": "bob@example.org"},
            {"id": CAROL, "username": "carol@other.edu"}
        ],
        "clients": [
            {"id": NATIVE_ID, "client_type": "native"},
            {"id": CONF_ID, "client_type": "confidential", "secret": CONF_SECRET}
        ]
    }))
    .unwrap()
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

fn dec(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
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
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| dec(v))
    })
}

impl T {
    async fn start() -> T {
        Self::with(Emulator::builder()).await
    }

    async fn with(builder: groups_emulator::EmulatorBuilder) -> T {
        let emu = builder
            .seed(seed())
            .strict_tokens(true)
            .start()
            .await
            .unwrap();
        let base = emu.base_url().trim_end_matches('/').to_owned();
        let client = Client::builder(TokioExecutor::new()).build_http();
        T { emu, base, client }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Option<String>,
        body: Option<(&str, String)>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let body = match body {
            Some((content_type, text)) => {
                b = b.header("content-type", content_type);
                text
            }
            None => String::new(),
        };
        let req = b.body(Full::new(Bytes::from(body))).unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(20), self.client.request(req))
            .await
            .expect("timeout")
            .expect("request");
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let raw = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            location,
            text: String::from_utf8_lossy(&raw).into_owned(),
            json: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        }
    }

    async fn groups(&self, token: &str) -> Resp {
        self.send(
            Method::GET,
            MY_GROUPS,
            Some(format!("Bearer {token}")),
            None,
        )
        .await
    }

    async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|v| ("application/json", v.to_string()));
        self.send(method, &format!("/_emulator/{path}"), None, body)
            .await
    }

    async fn form(&self, path: &str, auth: Option<String>, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Method::POST,
            path,
            auth,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    fn redirect(&self) -> String {
        format!("{}/v2/web/auth-code", self.base)
    }

    /// The authorize path for the native client; `extra` is appended as is.
    fn authorize_path(&self, scope: &str, extra: &str) -> String {
        format!(
            "/v2/oauth2/authorize?client_id={NATIVE_ID}&redirect_uri={}&scope={}&state=s1\
             &response_type=code&code_challenge={}&code_challenge_method=S256\
             &access_type=offline{extra}",
            enc(&self.redirect()),
            enc(scope),
            URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
        )
    }

    /// The redirect of an auto-approved login as `who`.
    async fn authorize_as(&self, who: &str, scope: &str, extra: &str) -> Resp {
        self.emu.set_auto_approve(Some(AutoApprove {
            identity: who.to_owned(),
            decision: Decision::Allow,
        }));
        let r = self
            .send(Method::GET, &self.authorize_path(scope, extra), None, None)
            .await;
        self.emu.set_auto_approve(None);
        assert_eq!(r.status, 302, "{}", r.text);
        r
    }

    /// Log in as `who` (auto-approved) and exchange the code: the token document.
    async fn login(&self, who: &str, scope: &str, extra: &str) -> Value {
        let r = self.authorize_as(who, scope, extra).await;
        let code = query_param(&r.location, "code").expect("a code in the redirect");
        let t = self
            .form(
                "/v2/oauth2/token",
                None,
                &[
                    ("client_id", NATIVE_ID),
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("code_verifier", VERIFIER),
                    ("redirect_uri", &self.redirect()),
                ],
            )
            .await;
        assert_eq!(t.status, 200, "{}", t.text);
        t.json
    }

    async fn refresh(&self, refresh_token: &str) -> Value {
        let t = self
            .form(
                "/v2/oauth2/token",
                None,
                &[
                    ("client_id", NATIVE_ID),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await;
        assert_eq!(t.status, 200, "{}", t.text);
        t.json
    }
}

/// The Groups access token of a token document.
fn groups_token(doc: &Value) -> String {
    std::iter::once(doc)
        .chain(doc["other_tokens"].as_array().into_iter().flatten())
        .find(|t| t["resource_server"] == "groups.api.globus.org")
        .and_then(|t| t["access_token"].as_str())
        .expect("a Groups token")
        .to_owned()
}

fn groups_refresh(doc: &Value) -> String {
    std::iter::once(doc)
        .chain(doc["other_tokens"].as_array().into_iter().flatten())
        .find(|t| t["resource_server"] == "groups.api.globus.org")
        .and_then(|t| t["refresh_token"].as_str())
        .expect("a Groups refresh token")
        .to_owned()
}

fn params(r: &Resp) -> &serde_json::Map<String, Value> {
    r.json["authorization_parameters"]
        .as_object()
        .unwrap_or_else(|| panic!("no authorization_parameters in {}", r.text))
}

#[tokio::test]
async fn a_missing_scope_is_consent_required_until_a_login_consents_to_it() {
    let t = T::start().await;
    let view = groups_token(&t.login("alice@example.org", GROUPS_VIEW, "").await);
    assert_eq!(t.groups(&view).await.status, 200, "no demand yet");

    t.emu
        .set_auth_demand(Some(
            AuthDemand::new()
                .required_scope(GROUPS_ALL)
                .session_message("Groups needs the all scope"),
        ))
        .unwrap();
    let r = t.groups(&view).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.code(), "ConsentRequired");
    assert_eq!(r.json["required_scopes"], json!([GROUPS_ALL]));
    let p = params(&r);
    assert_eq!(p["required_scopes"], json!([GROUPS_ALL]));
    assert_eq!(p["session_message"], "Groups needs the all scope");
    assert!(!p.contains_key("session_required_mfa"), "{p:?}");
    assert!(r.json["detail"].as_str().unwrap().contains(GROUPS_ALL));

    // A new login asking for the required scope (plus the old one) is accepted.
    let both = groups_token(
        &t.login(
            "alice@example.org",
            &format!("{GROUPS_VIEW} {GROUPS_ALL}"),
            "",
        )
        .await,
    );
    assert_eq!(t.groups(&both).await.status, 200);
    // Writes too.
    let created = t
        .send(
            Method::POST,
            "/v2/groups",
            Some(format!("Bearer {both}")),
            Some(("application/json", json!({"name": "demanded"}).to_string())),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // The old token is still refused, and works again once the demand is dropped.
    assert_eq!(t.groups(&view).await.status, 403);
    t.emu.set_auth_demand(None).unwrap();
    assert_eq!(t.groups(&view).await.status, 200);
}

#[tokio::test]
async fn mfa_and_identity_demands_are_met_only_by_a_login_that_carries_them() {
    let t = T::start().await;
    t.emu
        .set_auth_demand(Some(
            AuthDemand::new()
                .session_required_identity("alice@example.org")
                .session_required_mfa(true)
                .session_message("MFA as alice, please"),
        ))
        .unwrap();

    // Alice without MFA: only MFA is missing.
    let plain = t.login("alice@example.org", GROUPS_ALL, "").await;
    let r = t.groups(&groups_token(&plain)).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.code(), "AuthorizationRequired");
    let p = params(&r);
    assert_eq!(p["session_required_mfa"], true);
    assert_eq!(p["session_message"], "MFA as alice, please");
    assert!(!p.contains_key("session_required_identities"), "{p:?}");
    assert!(!p.contains_key("required_scopes"), "{p:?}");

    // Bob with MFA: the identity is missing.
    let bob = t
        .login("bob@example.org", GROUPS_ALL, "&session_required_mfa=True")
        .await;
    let r = t.groups(&groups_token(&bob)).await;
    assert_eq!(r.status, 401);
    let p = params(&r);
    assert_eq!(
        p["session_required_identities"],
        json!(["alice@example.org"])
    );
    assert!(!p.contains_key("session_required_mfa"), "{p:?}");

    // An authorize request that names alice refuses another identity.
    let r = t
        .authorize_as(
            "bob@example.org",
            GROUPS_ALL,
            &format!("&session_required_identities={ALICE}&session_required_mfa=True"),
        )
        .await;
    assert_eq!(
        query_param(&r.location, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_param(&r.location, "code").is_none());
    assert_eq!(query_param(&r.location, "state").as_deref(), Some("s1"));

    // Alice, with the parameters of the answer on the authorize request: accepted.
    let good = t
        .login(
            "alice@example.org",
            GROUPS_ALL,
            &format!(
                "&session_required_identities={}&session_required_mfa=True&session_message={}&prompt=login",
                enc("alice@example.org"),
                enc("MFA as alice, please")
            ),
        )
        .await;
    assert_eq!(t.groups(&groups_token(&good)).await.status, 200);

    // A refresh keeps the session of its login: the MFA login's refresh works, the
    // plain one's does not.
    let renewed = t.refresh(&groups_refresh(&good)).await;
    assert_eq!(t.groups(&groups_token(&renewed)).await.status, 200);
    let renewed_plain = t.refresh(&groups_refresh(&plain)).await;
    assert_eq!(t.groups(&groups_token(&renewed_plain)).await.status, 401);

    // The control plane shows the sessions (never token values).
    let listed = t.control(Method::GET, "auth/tokens", None).await;
    let sessions: Vec<&Value> = listed.json["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["session"])
        .collect();
    assert!(sessions.iter().any(|s| s["mfa"] == true));
    assert!(sessions.iter().any(|s| s["mfa"] == false));
    assert!(!listed.text.contains(&groups_token(&good)));
}

#[tokio::test]
async fn a_domain_demand_names_the_domain_and_a_login_of_that_domain_meets_it() {
    let t = T::start().await;
    t.emu
        .set_auth_demand(Some(
            AuthDemand::new().session_required_single_domain("other.edu"),
        ))
        .unwrap();
    let alice = groups_token(&t.login("alice@example.org", GROUPS_ALL, "").await);
    let r = t.groups(&alice).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        params(&r)["session_required_single_domain"],
        json!(["other.edu"])
    );
    let r = t
        .authorize_as(
            "alice@example.org",
            GROUPS_ALL,
            "&session_required_single_domain=other.edu",
        )
        .await;
    assert_eq!(
        query_param(&r.location, "error").as_deref(),
        Some("access_denied")
    );
    let carol = groups_token(
        &t.login(
            "carol@other.edu",
            GROUPS_ALL,
            "&session_required_single_domain=other.edu",
        )
        .await,
    );
    assert_eq!(t.groups(&carol).await.status, 200);
}

#[tokio::test]
async fn a_session_older_than_the_timeout_needs_a_new_login_not_a_refresh() {
    let t = T::start().await;
    t.emu
        .set_auth_demand(Some(
            AuthDemand::new().session_timeout(Duration::from_secs(3600)),
        ))
        .unwrap();
    let doc = t.login("alice@example.org", GROUPS_ALL, "").await;
    assert_eq!(t.groups(&groups_token(&doc)).await.status, 200);
    t.emu.advance_clock(Duration::from_secs(3601));
    let r = t.groups(&groups_token(&doc)).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.code(), "AuthorizationRequired");
    let p = params(&r);
    assert_eq!(p["prompt"], "login");
    assert_eq!(p["session_required_identities"], json!([ALICE]));
    // Renewing is no new login.
    let renewed = t.refresh(&groups_refresh(&doc)).await;
    assert_eq!(t.groups(&groups_token(&renewed)).await.status, 401);
    let fresh = t
        .login(
            ALICE,
            GROUPS_ALL,
            &format!("&session_required_identities={ALICE}&prompt=login"),
        )
        .await;
    assert_eq!(t.groups(&groups_token(&fresh)).await.status, 200);
}

#[tokio::test]
async fn tokens_without_a_login_never_meet_a_session_demand_but_may_meet_a_scope_demand() {
    let t = T::start().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CONF_ID}:{CONF_SECRET}"))
    );
    let cc = t
        .form(
            "/v2/oauth2/token",
            Some(basic),
            &[("grant_type", "client_credentials"), ("scope", GROUPS_ALL)],
        )
        .await;
    assert_eq!(cc.status, 200, "{}", cc.text);
    let token = groups_token(&cc.json);

    t.emu
        .set_auth_demand(Some(AuthDemand::new().required_scope(GROUPS_ALL)))
        .unwrap();
    assert_eq!(t.groups(&token).await.status, 200);
    t.emu
        .set_auth_demand(Some(AuthDemand::new().session_required_mfa(true)))
        .unwrap();
    let r = t.groups(&token).await;
    assert_eq!(r.status, 401);
    assert_eq!(params(&r)["session_required_mfa"], true);
}

#[tokio::test]
async fn missing_scopes_and_session_together_are_one_authorization_required() {
    let t = T::start().await;
    t.emu
        .set_auth_demand(Some(
            AuthDemand::new()
                .required_scope(GROUPS_ALL)
                .session_required_mfa(true),
        ))
        .unwrap();
    let view = groups_token(&t.login("alice@example.org", GROUPS_VIEW, "").await);
    let r = t.groups(&view).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AuthorizationRequired");
    let p = params(&r);
    assert_eq!(p["required_scopes"], json!([GROUPS_ALL]));
    assert_eq!(p["session_required_mfa"], true);
    let good = groups_token(
        &t.login(
            "alice@example.org",
            &format!("{GROUPS_VIEW} {GROUPS_ALL}"),
            "&session_required_mfa=True",
        )
        .await,
    );
    assert_eq!(t.groups(&good).await.status, 200);
}

#[tokio::test]
async fn the_authorize_page_lists_only_the_required_identities_and_shows_the_message() {
    let t = T::start().await;
    let page = t
        .send(
            Method::GET,
            &t.authorize_path(
                GROUPS_ALL,
                &format!(
                    "&session_required_identities={ALICE}&session_required_mfa=True\
                     &session_message={}",
                    enc("Log in as <alice>")
                ),
            ),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains(&format!("name=\"identity\" value=\"{ALICE}\"")),
        "{}",
        page.text
    );
    assert!(page.text.contains("alice@example.org"));
    assert!(!page.text.contains(BOB), "{}", page.text);
    assert!(
        page.text.contains("Log in as &lt;alice&gt;"),
        "escaped message"
    );
    assert!(page.text.contains("id=\"session-mfa\""));
    // Without session parameters every person is listed.
    let page = t
        .send(Method::GET, &t.authorize_path(GROUPS_ALL, ""), None, None)
        .await;
    assert!(page.text.contains(BOB) && page.text.contains(ALICE));
    assert!(!page.text.contains("session-mfa"));

    // The page's form posts the session parameters back: choosing alice there makes
    // an MFA session.
    t.emu
        .set_auth_demand(Some(AuthDemand::new().session_required_mfa(true)))
        .unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    let form_page = t
        .send(
            Method::GET,
            &t.authorize_path(GROUPS_ALL, "&session_required_mfa=True"),
            None,
            None,
        )
        .await;
    for input in form_page.text.split("<input type=\"hidden\" ").skip(1) {
        let name = input
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let value = input
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        fields.push((name.to_owned(), value.replace("&amp;", "&")));
    }
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "session_required_mfa" && v == "True")
    );
    fields.push(("identity".into(), ALICE.into()));
    fields.push(("decision".into(), "allow".into()));
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = t.form("/v2/oauth2/authorize", None, &refs).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let code = query_param(&r.location, "code").unwrap();
    let doc = t
        .form(
            "/v2/oauth2/token",
            None,
            &[
                ("client_id", NATIVE_ID),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("redirect_uri", &t.redirect()),
            ],
        )
        .await;
    assert_eq!(t.groups(&groups_token(&doc.json)).await.status, 200);
}

#[tokio::test]
async fn the_control_plane_sets_shows_refuses_and_drops_a_demand() {
    let t = T::start().await;
    let r = t.control(Method::GET, "auth/demand", None).await;
    assert_eq!(r.json, json!({"demand": null}));

    for bad in [
        json!({}),
        json!({"session_message": "only a message"}),
        json!({"required_scopes": ["not-a-scope"]}),
        json!({"required_scopes": [GROUPS_ALL], "surprise": 1}),
        json!({"session_required_identities": ["a,b"]}),
        json!({"session_required_mfa": "yes"}),
    ] {
        let r = t
            .control(Method::PUT, "auth/demand", Some(bad.clone()))
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert_eq!(r.code(), "INVALID_JSON");
    }
    assert_eq!(
        t.emu.auth_demand(),
        None,
        "a refused demand changes nothing"
    );

    let want = json!({"required_scopes": [GROUPS_ALL], "session_required_mfa": true,
                      "session_timeout_secs": 60, "session_message": "m"});
    let r = t
        .control(Method::PUT, "auth/demand", Some(want.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["demand"], want);
    assert_eq!(
        t.control(Method::GET, "auth/demand", None).await.json["demand"],
        want
    );
    assert_eq!(
        t.emu.auth_demand(),
        Some(serde_json::from_value(want.clone()).unwrap())
    );
    // It is part of the world's state.
    assert!(
        t.emu
            .dump_state()
            .to_string()
            .contains("session_timeout_secs")
    );
    assert_eq!(
        t.control(Method::PATCH, "auth/demand", None).await.status,
        405
    );
    let r = t.control(Method::DELETE, "auth/demand", None).await;
    assert_eq!(r.json, json!({"demand": null}));
    assert_eq!(t.emu.auth_demand(), None);

    // POST sets it too; a reset drops it.
    let r = t
        .control(
            Method::POST,
            "auth/demand",
            Some(json!({"session_required_mfa": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(t.emu.auth_demand().is_some());
    t.control(Method::POST, "reset", None).await;
    assert_eq!(t.emu.auth_demand(), None);
}

#[tokio::test]
async fn the_builder_sets_a_demand_from_the_start_and_refuses_an_invalid_one() {
    let t = T::with(Emulator::builder().auth_demand(AuthDemand::new().required_scope(GROUPS_ALL)))
        .await;
    let view = groups_token(&t.login("alice@example.org", GROUPS_VIEW, "").await);
    assert_eq!(t.groups(&view).await.code(), "ConsentRequired");

    let err = Emulator::builder()
        .auth_demand(AuthDemand::new())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, EmulatorError::AuthDemand(_)), "{err}");
    assert!(err.to_string().contains("asks for nothing"), "{err}");
}
