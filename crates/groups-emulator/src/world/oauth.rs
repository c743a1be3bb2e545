//! Globus Auth, as far as clients of Groups need it: OAuth2 clients, the authorize
//! page, authorization codes, issued access and refresh tokens, introspection,
//! userinfo, identities and client creation.
//!
//! Rules:
//! * A token answer holds one token per resource server: the first at the top level,
//!   the others in `other_tokens`. A refresh token comes only with `access_type=offline`
//!   (authorization code, dependent token) or on a refresh (rotation: the old refresh
//!   token stops working at once), never for client credentials. An `id_token` comes
//!   only from an authorization code whose scopes hold `openid`.
//! * Access tokens live [`ACCESS_TOKEN_SECS`], refresh tokens [`REFRESH_TOKEN_SECS`],
//!   codes [`CODE_SECS`], all on the emulator's clock. Codes are single-use: the first
//!   exchange consumes the code, whether it succeeds or not.
//! * Unknown clients (not in the seed) are accepted with any secret, unless strict
//!   clients are on; a client acts as its own identity (its id when the id is a UUID,
//!   else a UUIDv5 of it) or as the identity its seed names.
//! * A public (native) client must send a PKCE `code_challenge` (S256); its redirect
//!   URI may be the emulator's own `/v2/web/auth-code` page, and for a registered
//!   loopback redirect any port is accepted (RFC 8252). An unknown client in non-strict
//!   mode may redirect to any loopback URI.
//! * Token values are random (the server mints them); the world keeps only one-way
//!   fingerprints of tokens, codes and secrets.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use groups_types::IdentityId;
use http::{HeaderValue, Method, StatusCode};
use rsa::sha2::{Digest, Sha256, Sha512};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::codes::AuthErrorCode;
use super::demand::{AuthDemand, SessionRec, domain_matches, identity_matches};
use super::ids::{identity_id_for_username, ns, token_fingerprint};
use super::resp::json_response;
use super::state::IdentityRec;
use super::store::World;
use super::types::{ApiRequest, ApiResponse, Policy};

/// Lifetime of an issued access token, in seconds (48 hours, as Globus's examples show).
pub const ACCESS_TOKEN_SECS: u64 = 172_800;
/// Lifetime of a refresh token, in seconds (180 days).
pub const REFRESH_TOKEN_SECS: u64 = 15_552_000;
/// Lifetime of an authorization code, in seconds.
pub const CODE_SECS: u64 = 600;
/// The resource server of Auth itself (`openid`, `profile`, `email`, ...).
pub const AUTH_RESOURCE_SERVER: &str = "auth.globus.org";

/// Largest form or JSON body an Auth endpoint reads (400 `invalid_request` above).
const MAX_AUTH_BODY: usize = 64 * 1024;
/// Most parameters in one query string or form body.
const MAX_PARAMS: usize = 100;
/// Most scopes in one request, and the longest scope.
const MAX_SCOPES: usize = 50;
const MAX_SCOPE_LEN: usize = 512;
/// Most ids or usernames in one identities lookup.
const MAX_LOOKUP: usize = 100;
/// Longest client id, username, redirect URI, state or token accepted.
const MAX_FIELD_LEN: usize = 2048;
/// Most issued tokens, codes and clients kept; the oldest expired or revoked go first.
const MAX_ISSUED: usize = 100_000;
const MAX_CODES: usize = 10_000;
const MAX_CLIENTS: usize = 10_000;
/// Most identities the authorize page lists.
const MAX_LISTED: usize = 200;

/// Auth's part of the world: clients, codes and issued tokens (fingerprints only).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct AuthState {
    pub(super) clients: BTreeMap<String, ClientRec>,
    pub(super) tokens: BTreeMap<Uuid, IssuedRec>,
    pub(super) codes: BTreeMap<Uuid, CodeRec>,
    pub(super) strict_clients: bool,
    pub(super) seq: u64,
    /// What the Groups endpoints demand of tokens (see the `demand` module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) demand: Option<AuthDemand>,
}

/// A registered OAuth2 client. The secret is kept as a fingerprint only.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientRec {
    pub(super) confidential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) secret_fingerprint: Option<Uuid>,
    #[serde(default)]
    pub(super) redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) identity: Option<IdentityId>,
    #[serde(default)]
    pub(super) name: String,
}

/// Access or refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum TokenKind {
    Access,
    Refresh,
}

/// One issued token (keyed by its fingerprint).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IssuedRec {
    pub(super) kind: TokenKind,
    pub(super) client_id: String,
    pub(super) identity: IdentityId,
    pub(super) scopes: Vec<String>,
    pub(super) resource_server: String,
    pub(super) issued_at: u64,
    pub(super) expires_at: u64,
    #[serde(default)]
    pub(super) revoked: bool,
    pub(super) seq: u64,
    /// The login this token comes from (`None` when it comes from no user login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) session: Option<SessionRec>,
}

impl IssuedRec {
    fn active(&self, now: u64) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// One authorization code waiting for its exchange (keyed by its fingerprint).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CodeRec {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) scopes: Vec<String>,
    pub(super) identity: IdentityId,
    #[serde(default)]
    pub(super) code_challenge: Option<String>,
    pub(super) offline: bool,
    pub(super) expires_at: u64,
    /// The login that made the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) session: Option<SessionRec>,
}

/// What the authorize endpoint does without showing its page (control plane
/// `PUT /_emulator/auth/approve`): log in as `identity` (an identity id or a username)
/// and allow or deny at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoApprove {
    /// Identity id or username of the identity that logs in.
    pub identity: String,
    /// `allow` (default) or `deny`.
    #[serde(default)]
    pub decision: Decision,
}

/// The tester's answer on the consent page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Issue a code.
    #[default]
    Allow,
    /// Redirect with `error=access_denied`.
    Deny,
}

/// What the server hands the world for one Auth request.
pub(crate) struct AuthEnv<'a> {
    /// Seconds since the epoch on the emulator's clock.
    pub(crate) now: u64,
    /// The emulator's base URL without a trailing slash (also the `iss` of id_tokens).
    pub(crate) issuer: &'a str,
    pub(crate) policy: &'a Policy,
    /// A fresh random token value.
    pub(crate) mint: &'a mut dyn FnMut() -> String,
    /// Sign claims into a JWT (`None` when no key is available).
    pub(crate) sign_jwt: &'a dyn Fn(&Value) -> Option<String>,
    pub(crate) auto_approve: Option<AutoApprove>,
}

// ---------------------------------------------------------------- responses

fn oauth_error(status: StatusCode, code: AuthErrorCode, description: &str) -> ApiResponse {
    json_response(
        status,
        &json!({"error": code.as_str(), "error_description": description}),
    )
}

fn invalid_request(description: &str) -> ApiResponse {
    oauth_error(
        StatusCode::BAD_REQUEST,
        AuthErrorCode::InvalidRequest,
        description,
    )
}

fn invalid_grant(description: &str) -> ApiResponse {
    oauth_error(
        StatusCode::BAD_REQUEST,
        AuthErrorCode::InvalidGrant,
        description,
    )
}

fn invalid_client(description: &str) -> ApiResponse {
    let mut r = oauth_error(
        StatusCode::UNAUTHORIZED,
        AuthErrorCode::InvalidClient,
        description,
    );
    r.headers.push((
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"globus-auth\""),
    ));
    r
}

fn invalid_scope(description: &str) -> ApiResponse {
    oauth_error(
        StatusCode::BAD_REQUEST,
        AuthErrorCode::InvalidScope,
        description,
    )
}

/// The REST API's error document (`/v2/api/...`).
fn rest_error(status: StatusCode, code: AuthErrorCode, detail: &str) -> ApiResponse {
    json_response(
        status,
        &json!({
            "errors": [{"code": code.as_str(), "detail": detail, "id": Uuid::nil().to_string(),
                        "status": status.as_u16().to_string(), "title": status.canonical_reason()}],
            "error": code.as_str(),
            "error_description": detail,
        }),
    )
}

fn html(status: StatusCode, title: &str, body: &str) -> ApiResponse {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(title)
    );
    let mut r = ApiResponse::new(status, page);
    r.headers.push((
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    ));
    r
}

fn redirect(location: &str) -> ApiResponse {
    let mut r = html(
        StatusCode::FOUND,
        "Redirecting",
        "<p>Redirecting back to the application.</p>",
    );
    match HeaderValue::from_str(location) {
        Ok(v) => r.headers.push((http::header::LOCATION, v)),
        Err(_) => return invalid_request("The redirect_uri cannot be used in a Location header."),
    }
    r
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- parameters

/// Percent-decode one form or query component (`+` is a space).
fn decode_component(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Percent-encode a value for a query string.
pub(super) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decoded `application/x-www-form-urlencoded` parameters (also a query string).
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: &str) -> Result<Params, ApiResponse> {
        let mut out = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            if out.len() >= MAX_PARAMS {
                return Err(invalid_request(&format!(
                    "At most {MAX_PARAMS} parameters are accepted."
                )));
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (decode_component(k), decode_component(v)) else {
                return Err(invalid_request(
                    "A parameter is not valid percent-encoded UTF-8.",
                ));
            };
            out.push((k, v));
        }
        Ok(Params(out))
    }

    fn from_body(body: &[u8]) -> Result<Params, ApiResponse> {
        if body.len() > MAX_AUTH_BODY {
            return Err(invalid_request(&format!(
                "The request body is larger than {MAX_AUTH_BODY} bytes."
            )));
        }
        let s = std::str::from_utf8(body)
            .map_err(|_| invalid_request("The request body is not UTF-8."))?;
        Params::parse(s)
    }

    fn from_query(query: Option<&str>) -> Result<Params, ApiResponse> {
        let q = query.unwrap_or("");
        if q.len() > MAX_AUTH_BODY {
            return Err(invalid_request("The query string is too long."));
        }
        Params::parse(q)
    }

    /// The value of `name`; a repeated or too long parameter is refused.
    fn get(&self, name: &str) -> Result<Option<&str>, ApiResponse> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k == name {
                if found.is_some() {
                    return Err(invalid_request(&format!(
                        "The parameter {name} is repeated."
                    )));
                }
                found = Some(v.as_str());
            }
        }
        if found.is_some_and(|v| v.len() > MAX_FIELD_LEN && name != "scope") {
            return Err(invalid_request(&format!(
                "The parameter {name} is too long."
            )));
        }
        Ok(found)
    }

    fn require(&self, name: &str) -> Result<&str, ApiResponse> {
        match self.get(name)? {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(invalid_request(&format!(
                "The parameter {name} is required."
            ))),
        }
    }
}

/// Split a scope string into scopes (dependencies in brackets stay with their scope).
fn parse_scopes(s: &str) -> Result<Vec<String>, ApiResponse> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
        if cur.len() > MAX_SCOPE_LEN {
            return Err(invalid_scope(&format!(
                "A scope is longer than {MAX_SCOPE_LEN} characters."
            )));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    let mut uniq: Vec<String> = Vec::new();
    for sc in out {
        if !uniq.contains(&sc) {
            uniq.push(sc);
        }
    }
    if uniq.len() > MAX_SCOPES {
        return Err(invalid_scope(&format!(
            "At most {MAX_SCOPES} scopes are accepted."
        )));
    }
    if uniq.is_empty() {
        return Err(invalid_scope("At least one scope is required."));
    }
    for sc in &uniq {
        if resource_server_of(sc).is_none() {
            return Err(invalid_scope(&format!("Unknown scope {sc}.")));
        }
    }
    Ok(uniq)
}

/// The scope without an optional marker or its dependencies.
pub(super) fn base_scope(scope: &str) -> &str {
    let s = scope.strip_prefix('*').unwrap_or(scope);
    s.split('[').next().unwrap_or(s)
}

/// The resource server a scope belongs to.
pub(super) fn resource_server_of(scope: &str) -> Option<String> {
    let s = base_scope(scope);
    if matches!(s, "openid" | "profile" | "email") {
        return Some(AUTH_RESOURCE_SERVER.to_owned());
    }
    let rs = if let Some(rest) = s.strip_prefix("urn:globus:auth:scope:") {
        rest.rsplit_once(':').map(|(rs, _)| rs)
    } else if let Some(rest) = s.strip_prefix("https://auth.globus.org/scopes/") {
        rest.split_once('/').map(|(rs, _)| rs)
    } else {
        None
    }?;
    let ok = !rs.is_empty()
        && rs
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    ok.then(|| rs.to_owned())
}

/// base64url(SHA-256(verifier)) without padding.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `http://HOST[:PORT]REST` with a loopback HOST: (host, rest).
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = if authority.starts_with('[') {
        let close = authority.find(']')?;
        &authority[..=close]
    } else {
        authority.split(':').next()?
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]").then_some((host, tail))
}

/// The identity a client acts as when it is not told otherwise: its id when the id is
/// a UUID (as in Globus), else a UUIDv5 of it.
fn own_identity(client_id: &str) -> IdentityId {
    match Uuid::try_parse(client_id) {
        Ok(u) => IdentityId::from(u),
        Err(_) => IdentityId::from(Uuid::new_v5(&ns("client-identity"), client_id.as_bytes())),
    }
}

/// The session parameters of an authorize request: who may log in, whether the
/// login uses MFA, and the message shown on the page.
struct LoginRules {
    identities: Vec<String>,
    domains: Vec<String>,
    mfa: bool,
    message: Option<String>,
}

impl LoginRules {
    fn parse(p: &Params) -> Result<LoginRules, ApiResponse> {
        let list = |v: Option<&str>| -> Vec<String> {
            v.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mfa = p
            .get("session_required_mfa")?
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        Ok(LoginRules {
            identities: list(p.get("session_required_identities")?),
            domains: list(p.get("session_required_single_domain")?),
            mfa,
            message: p
                .get("session_message")?
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        })
    }

    /// Why the identity `id` (`username`) may not log in under these rules.
    fn refusal(&self, id: &str, username: &str) -> Option<String> {
        if !self.identities.is_empty() && !identity_matches(&self.identities, id, username) {
            return Some(format!(
                "This login must use one of the identities {}.",
                self.identities.join(", ")
            ));
        }
        if !self.domains.is_empty() && !domain_matches(&self.domains, username) {
            return Some(format!(
                "This login must use an identity of {}.",
                self.domains.join(", ")
            ));
        }
        None
    }
}

/// Whom tokens are issued to: the identity, and the login session behind them.
#[derive(Clone, Copy)]
struct Subject<'a> {
    identity: IdentityId,
    session: Option<&'a SessionRec>,
}

impl Subject<'_> {
    /// An identity with no user login behind its tokens (client credentials,
    /// dependent tokens).
    fn without_login(identity: IdentityId) -> Self {
        Subject {
            identity,
            session: None,
        }
    }
}

/// Who authenticated on a token-endpoint call.
enum ClientAuth {
    /// HTTP Basic (or `client_secret` in the body) with a good secret.
    Confidential(String),
    /// `client_id` in the body, no secret (a native client).
    Public(String),
    /// Nothing.
    None,
}

impl ClientAuth {
    fn client_id(&self) -> Option<&str> {
        match self {
            ClientAuth::Confidential(c) | ClientAuth::Public(c) => Some(c),
            ClientAuth::None => None,
        }
    }
}

fn bearer(req: &ApiRequest<'_>) -> Option<String> {
    let raw = req
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = raw.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_FIELD_LEN)
        .then(|| token.to_owned())
}

fn basic(req: &ApiRequest<'_>) -> Result<Option<(String, String)>, ApiResponse> {
    let Some(raw) = req.headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || invalid_client("The Authorization header is not valid HTTP Basic.");
    let raw = raw.to_str().map_err(|_| bad())?.trim();
    let Some((scheme, value)) = raw.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    if value.len() > 2 * MAX_FIELD_LEN {
        return Err(bad());
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// True for a path the Auth service answers.
pub(crate) fn is_auth_path(path: &str) -> bool {
    path == "/.well-known/openid-configuration"
        || path == "/jwk.json"
        || path == "/v2/web/auth-code"
        || path.starts_with("/v2/oauth2/")
        || path.starts_with("/v2/api/")
}

impl World {
    fn strict_clients(&self, env: &AuthEnv<'_>) -> bool {
        env.policy.strict_clients || self.auth.strict_clients
    }

    fn next_seq(&mut self) -> u64 {
        self.auth.seq += 1;
        self.auth.seq
    }

    fn client_auth(
        &self,
        req: &ApiRequest<'_>,
        params: &Params,
        env: &AuthEnv<'_>,
    ) -> Result<ClientAuth, ApiResponse> {
        let creds = match basic(req)? {
            Some(c) => Some(c),
            None => match (params.get("client_id")?, params.get("client_secret")?) {
                (Some(id), Some(secret)) if !id.is_empty() => {
                    Some((id.to_owned(), secret.to_owned()))
                }
                _ => None,
            },
        };
        if let Some((id, secret)) = creds {
            if id.len() > MAX_FIELD_LEN {
                return Err(invalid_client("The client id is too long."));
            }
            return match self.auth.clients.get(&id) {
                Some(c)
                    if c.confidential
                        && c.secret_fingerprint == Some(token_fingerprint(&secret)) =>
                {
                    Ok(ClientAuth::Confidential(id))
                }
                Some(c) if !c.confidential => Err(invalid_client(
                    "A native client has no secret to authenticate with.",
                )),
                Some(_) => Err(invalid_client("The client secret is wrong.")),
                None if self.strict_clients(env) => Err(invalid_client("Unknown client.")),
                None => Ok(ClientAuth::Confidential(id)),
            };
        }
        match params.get("client_id")? {
            Some(id) if !id.is_empty() => match self.auth.clients.get(id) {
                Some(c) if c.confidential => Err(invalid_client(
                    "A confidential client must authenticate with its secret.",
                )),
                Some(_) => Ok(ClientAuth::Public(id.to_owned())),
                None if self.strict_clients(env) => Err(invalid_client("Unknown client.")),
                None => Ok(ClientAuth::Public(id.to_owned())),
            },
            _ => Ok(ClientAuth::None),
        }
    }

    /// The identity a client acts as under client credentials (registered in the
    /// identity registry as a `client` identity when new).
    fn client_identity(&mut self, client_id: &str) -> IdentityId {
        let id = self
            .auth
            .clients
            .get(client_id)
            .and_then(|c| c.identity)
            .unwrap_or_else(|| own_identity(client_id));
        if let std::collections::btree_map::Entry::Vacant(e) = self.identities.entry(id) {
            let mut rec = IdentityRec::new(format!("{client_id}@clients.auth.globus.org"));
            rec.client = true;
            e.insert(rec);
            self.touch();
        }
        id
    }

    fn insert_token(&mut self, token: &str, rec: IssuedRec, now: u64) {
        if self.auth.tokens.len() >= MAX_ISSUED {
            self.auth.tokens.retain(|_, t| t.active(now));
            if self.auth.tokens.len() >= MAX_ISSUED
                && let Some(oldest) = self
                    .auth
                    .tokens
                    .iter()
                    .min_by_key(|(_, t)| t.seq)
                    .map(|(k, _)| *k)
            {
                self.auth.tokens.remove(&oldest);
            }
        }
        self.auth.tokens.insert(token_fingerprint(token), rec);
        self.touch();
    }

    /// Mint the tokens for `scopes` (one per resource server) and answer the token
    /// document: the first token at the top level, the rest in `other_tokens`.
    fn issue(
        &mut self,
        env: &mut AuthEnv<'_>,
        client_id: &str,
        who: Subject<'_>,
        scopes: &[String],
        offline: bool,
        with_id_token: bool,
    ) -> Result<Value, ApiResponse> {
        let Subject { identity, session } = who;
        let mut by_rs: Vec<(String, Vec<String>)> = Vec::new();
        for sc in scopes {
            let Some(rs) = resource_server_of(sc) else {
                return Err(invalid_scope(&format!("Unknown scope {sc}.")));
            };
            match by_rs.iter_mut().find(|(r, _)| *r == rs) {
                Some((_, v)) => v.push(sc.clone()),
                None => by_rs.push((rs, vec![sc.clone()])),
            }
        }
        let now = env.now;
        let mut docs = Vec::new();
        let mut first_access = None;
        for (rs, rs_scopes) in by_rs {
            let access = (env.mint)();
            let seq = self.next_seq();
            self.insert_token(
                &access,
                IssuedRec {
                    kind: TokenKind::Access,
                    client_id: client_id.to_owned(),
                    identity,
                    scopes: rs_scopes.clone(),
                    resource_server: rs.clone(),
                    issued_at: now,
                    expires_at: now.saturating_add(ACCESS_TOKEN_SECS),
                    revoked: false,
                    seq,
                    session: session.cloned(),
                },
                now,
            );
            let mut doc = json!({
                "access_token": access,
                "expires_in": ACCESS_TOKEN_SECS,
                "resource_server": rs,
                "token_type": "Bearer",
                "scope": rs_scopes.join(" "),
            });
            if offline {
                let refresh = (env.mint)();
                let seq = self.next_seq();
                self.insert_token(
                    &refresh,
                    IssuedRec {
                        kind: TokenKind::Refresh,
                        client_id: client_id.to_owned(),
                        identity,
                        scopes: rs_scopes.clone(),
                        resource_server: rs.clone(),
                        issued_at: now,
                        expires_at: now.saturating_add(REFRESH_TOKEN_SECS),
                        revoked: false,
                        seq,
                        session: session.cloned(),
                    },
                    now,
                );
                doc["refresh_token"] = Value::String(refresh);
            }
            if first_access.is_none() {
                first_access = Some(access);
            }
            docs.push(doc);
        }
        if docs.is_empty() {
            // Only a state document holding a token without scopes gets here.
            return Err(invalid_scope("The grant holds no scope."));
        }
        let mut top = docs.remove(0);
        if with_id_token && scopes.iter().any(|s| base_scope(s) == "openid") {
            let at_hash = first_access.as_deref().map(|a| {
                let h = Sha512::digest(a.as_bytes());
                URL_SAFE_NO_PAD.encode(&h[..h.len() / 2])
            });
            let login_time = session.map_or(now, |s| s.auth_time);
            let mut claims = self.identity_claims(identity, scopes, login_time);
            claims["iss"] = json!(env.issuer);
            claims["aud"] = json!(client_id);
            claims["iat"] = json!(now);
            claims["exp"] = json!(now.saturating_add(ACCESS_TOKEN_SECS));
            claims["at_hash"] = json!(at_hash);
            let Some(jwt) = (env.sign_jwt)(&claims) else {
                return Err(super::resp::internal("The emulator has no signing key."));
            };
            top["id_token"] = Value::String(jwt);
        }
        top["other_tokens"] = Value::Array(docs);
        Ok(top)
    }

    /// OIDC claims of an identity (as in an id_token or userinfo).
    fn identity_claims(&self, id: IdentityId, scopes: &[String], now: u64) -> Value {
        let rec = self.identities.get(&id);
        let username = self.username(&id);
        let domain = username
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default();
        let mut c = json!({
            "sub": id.to_string(),
            "preferred_username": username,
            "name": rec.and_then(|r| r.name.clone()),
            "email": rec.and_then(|r| r.email.clone()),
            "organization": rec.and_then(|r| r.organization.clone()),
            "identity_provider": idp_id(&domain),
            "identity_provider_display_name": domain,
            "last_authentication": now,
        });
        let view_set = scopes
            .iter()
            .any(|s| base_scope(s) == "urn:globus:auth:scope:auth.globus.org:view_identity_set");
        if view_set {
            let mut ids = vec![id];
            if let Some(others) = self.idx.linked.get(&id) {
                ids.extend(others.iter().copied());
            }
            let set: Vec<Value> = ids
                .iter()
                .map(|i| {
                    let r = self.identities.get(i);
                    let u = self.username(i);
                    let d = u.rsplit_once('@').map(|(_, d)| d.to_owned()).unwrap_or_default();
                    json!({"sub": i.to_string(), "username": u, "name": r.and_then(|r| r.name.clone()),
                           "email": r.and_then(|r| r.email.clone()), "identity_provider": idp_id(&d),
                           "organization": r.and_then(|r| r.organization.clone()),
                           "last_authentication": now})
                })
                .collect();
            c["identity_set"] = Value::Array(set);
        }
        c
    }

    /// The identity behind a bearer token for Auth's own endpoints: an active issued
    /// access token, a seeded token, or (unless strict tokens) any token's default identity.
    fn bearer_identity(&self, token: &str, env: &AuthEnv<'_>) -> Result<IdentityId, ApiResponse> {
        let fp = token_fingerprint(token);
        if let Some(t) = self.auth.tokens.get(&fp) {
            if t.kind == TokenKind::Access && t.active(env.now) {
                return Ok(t.identity);
            }
            return Err(rest_error(
                StatusCode::UNAUTHORIZED,
                AuthErrorCode::InvalidToken,
                "The bearer token is expired, revoked or not an access token.",
            ));
        }
        if let Some(t) = self.tokens.get(&fp) {
            return Ok(t.identity);
        }
        if env.policy.strict_tokens {
            return Err(rest_error(
                StatusCode::UNAUTHORIZED,
                AuthErrorCode::InvalidToken,
                "The bearer token could not be validated.",
            ));
        }
        Ok(super::ids::default_identity_for_token(token))
    }

    /// An active issued access token.
    fn active_access(&self, token: &str, now: u64) -> Option<&IssuedRec> {
        self.auth
            .tokens
            .get(&token_fingerprint(token))
            .filter(|t| t.kind == TokenKind::Access && t.active(now))
    }

    /// Answer a request to an Auth path other than discovery and the JWKS (the server
    /// answers those two, which need the signing key).
    pub(crate) fn handle_auth(
        &mut self,
        req: &ApiRequest<'_>,
        env: &mut AuthEnv<'_>,
    ) -> ApiResponse {
        let r = match (req.path, req.method) {
            ("/v2/oauth2/authorize", &Method::GET) => {
                Params::from_query(req.query).and_then(|p| self.authorize(&p, None, env))
            }
            ("/v2/oauth2/authorize", &Method::POST) => {
                Params::from_body(req.body).and_then(|p| {
                    let decision = match p.get("decision")? {
                        Some("allow") => Decision::Allow,
                        Some("deny") => Decision::Deny,
                        _ => return Err(invalid_request("decision must be allow or deny.")),
                    };
                    let who = match (p.get("identity")?, p.get("username")?) {
                        (_, Some(u)) if !u.trim().is_empty() => u.trim().to_owned(),
                        (Some(i), _) if !i.is_empty() => i.to_owned(),
                        _ => return Err(invalid_request("Pick an identity or type a username.")),
                    };
                    let choice = AutoApprove { identity: who, decision };
                    self.authorize(&p, Some(choice), env)
                })
            }
            ("/v2/web/auth-code", &Method::GET) => Params::from_query(req.query).map(|p| {
                let code = p.get("code").ok().flatten().unwrap_or("");
                let error = p.get("error").ok().flatten().unwrap_or("");
                if code.is_empty() {
                    html(
                        StatusCode::OK,
                        "No authorization code",
                        &format!("<p>Login ended without a code: <code>{}</code></p>", escape(error)),
                    )
                } else {
                    html(
                        StatusCode::OK,
                        "Native App Authorization Code",
                        &format!(
                            "<p>Copy this code into your application:</p>\n<pre id=\"code\">{}</pre>",
                            escape(code)
                        ),
                    )
                }
            }),
            ("/v2/oauth2/token", &Method::POST) => {
                Params::from_body(req.body).and_then(|p| self.token(req, &p, env))
            }
            ("/v2/oauth2/token/revoke", &Method::POST) => {
                Params::from_body(req.body).and_then(|p| self.revoke(req, &p, env))
            }
            ("/v2/oauth2/token/introspect", &Method::POST) => {
                Params::from_body(req.body).and_then(|p| self.introspect(req, &p, env))
            }
            ("/v2/oauth2/token/validate", &Method::POST) => Params::from_body(req.body).and_then(|p| {
                let token = p.require("token")?;
                let active = self.active_access(token, env.now).is_some();
                Ok(json_response(StatusCode::OK, &json!({ "active": active })))
            }),
            ("/v2/oauth2/userinfo", &Method::GET | &Method::POST) => self.userinfo(req, env),
            ("/v2/api/identities", &Method::GET) => self.identities_lookup(req, env),
            ("/v2/api/clients", &Method::POST) => self.create_client(req, env),
            (
                "/v2/oauth2/authorize" | "/v2/web/auth-code" | "/v2/oauth2/token"
                | "/v2/oauth2/token/revoke" | "/v2/oauth2/token/introspect"
                | "/v2/oauth2/token/validate" | "/v2/oauth2/userinfo" | "/v2/api/identities"
                | "/v2/api/clients",
                _,
            ) => Ok(super::resp::method_not_allowed(&["GET", "POST"])),
            _ => Ok(super::resp::route_not_found()),
        };
        r.unwrap_or_else(|e| e)
    }

    /// Whether `uri` may receive the code for `client_id`.
    fn redirect_allowed(&self, client_id: &str, uri: &str, env: &AuthEnv<'_>) -> bool {
        if uri.len() > MAX_FIELD_LEN
            || uri.contains('#')
            || !(uri.starts_with("http://") || uri.starts_with("https://"))
        {
            return false;
        }
        let client = self.auth.clients.get(client_id);
        let public = client.is_none_or(|c| !c.confidential);
        let own = format!("{}/v2/web/auth-code", env.issuer);
        if public && (uri == own || uri == "https://auth.globus.org/v2/web/auth-code") {
            return true;
        }
        match client {
            None => loopback_parts(uri).is_some(),
            Some(c) => c.redirect_uris.iter().any(|r| {
                r == uri
                    || (public
                        && matches!((loopback_parts(r), loopback_parts(uri)), (Some(a), Some(b)) if a == b))
            }),
        }
    }

    /// The authorize endpoint: validate, then show the page, or (with `choice`, from the
    /// page's form or the control plane) redirect with a code or an error.
    fn authorize(
        &mut self,
        p: &Params,
        choice: Option<AutoApprove>,
        env: &mut AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let page_error = |msg: &str| {
            html(
                StatusCode::BAD_REQUEST,
                "Authorization error",
                &format!("<p>{}</p>", escape(msg)),
            )
        };
        let client_id = match p.get("client_id") {
            Ok(Some(c)) if !c.is_empty() => c.to_owned(),
            Ok(_) => return Ok(page_error("The client_id parameter is required.")),
            Err(_) => return Ok(page_error("The client_id parameter is malformed.")),
        };
        let client = self.auth.clients.get(&client_id).cloned();
        if client.is_none() && self.strict_clients(env) {
            return Ok(page_error("Unknown client."));
        }
        let redirect_uri = match p.get("redirect_uri") {
            Ok(Some(r)) if !r.is_empty() => r.to_owned(),
            _ => return Ok(page_error("The redirect_uri parameter is required.")),
        };
        if !self.redirect_allowed(&client_id, &redirect_uri, env) {
            return Ok(page_error(
                "The redirect_uri is not registered for this client.",
            ));
        }
        let state = p.get("state").ok().flatten().unwrap_or("").to_owned();
        let back = |params: &[(&str, &str)]| {
            let mut loc = redirect_uri.clone();
            loc.push(if loc.contains('?') { '&' } else { '?' });
            let mut all: Vec<(&str, &str)> = params.to_vec();
            all.push(("state", &state));
            let q: Vec<String> = all
                .iter()
                .map(|(k, v)| format!("{k}={}", encode_component(v)))
                .collect();
            loc.push_str(&q.join("&"));
            redirect(&loc)
        };
        let fail = |code: AuthErrorCode, msg: &str| {
            back(&[("error", code.as_str()), ("error_description", msg)])
        };
        if p.get("response_type")? != Some("code") {
            return Ok(fail(
                AuthErrorCode::InvalidRequest,
                "response_type must be code.",
            ));
        }
        let scopes = match p.get("scope")?.map(parse_scopes) {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                let msg = e.json()["error_description"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                return Ok(fail(AuthErrorCode::InvalidScope, &msg));
            }
            None => {
                return Ok(fail(
                    AuthErrorCode::InvalidScope,
                    "The scope parameter is required.",
                ));
            }
        };
        let challenge = p.get("code_challenge")?.filter(|c| !c.is_empty());
        if let Some(c) = challenge {
            if p.get("code_challenge_method")?.unwrap_or("S256") != "S256" {
                return Ok(fail(
                    AuthErrorCode::InvalidRequest,
                    "code_challenge_method must be S256.",
                ));
            }
            if !valid_verifier(c) {
                return Ok(fail(
                    AuthErrorCode::InvalidRequest,
                    "code_challenge is malformed.",
                ));
            }
        } else if client.as_ref().is_none_or(|c| !c.confidential) {
            return Ok(fail(
                AuthErrorCode::InvalidRequest,
                "A native client must send a PKCE code_challenge.",
            ));
        }
        let offline = p.get("access_type")? == Some("offline");
        let rules = LoginRules::parse(p)?;
        let Some(choice) = choice.or_else(|| env.auto_approve.clone()) else {
            return Ok(self.consent_page(p, &client_id, &scopes, &rules));
        };
        if choice.decision == Decision::Deny {
            return Ok(fail(
                AuthErrorCode::AccessDenied,
                "The user denied the request.",
            ));
        }
        let identity = match self.login_identity(&choice.identity) {
            Some(i) => i,
            None => return Ok(page_error("That identity cannot log in.")),
        };
        if let Some(refusal) = rules.refusal(&identity.to_string(), &self.username(&identity)) {
            return Ok(fail(AuthErrorCode::AccessDenied, &refusal));
        }
        let code = (env.mint)();
        if self.auth.codes.len() >= MAX_CODES {
            let now = env.now;
            self.auth.codes.retain(|_, c| c.expires_at > now);
            if self.auth.codes.len() >= MAX_CODES {
                return Ok(fail(
                    AuthErrorCode::InvalidRequest,
                    "Too many codes wait for their exchange.",
                ));
            }
        }
        self.auth.codes.insert(
            token_fingerprint(&code),
            CodeRec {
                client_id,
                redirect_uri: redirect_uri.clone(),
                scopes,
                identity,
                code_challenge: challenge.map(str::to_owned),
                offline,
                expires_at: env.now.saturating_add(CODE_SECS),
                session: Some(SessionRec {
                    auth_time: env.now,
                    mfa: rules.mfa,
                }),
            },
        );
        self.touch();
        Ok(back(&[("code", &code)]))
    }

    /// The identity named by an id or a username (a new username becomes an identity).
    fn login_identity(&mut self, who: &str) -> Option<IdentityId> {
        if who.is_empty() || who.len() > 256 || who.chars().any(char::is_control) {
            return None;
        }
        if let Ok(u) = Uuid::try_parse(who) {
            let id = IdentityId::from(u);
            self.ensure_identity(id);
            return Some(id);
        }
        if let Some((id, _)) = self.identities.iter().find(|(_, r)| r.username == who) {
            return Some(*id);
        }
        Some(self.add_identity(who))
    }

    fn consent_page(
        &self,
        p: &Params,
        client_id: &str,
        scopes: &[String],
        rules: &LoginRules,
    ) -> ApiResponse {
        let mut hidden = String::new();
        for (k, v) in &p.0 {
            let _ = writeln!(
                hidden,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            );
        }
        let mut options = String::new();
        let mut option = |value: &str, username: &str| {
            let _ = writeln!(
                options,
                "<label><input type=\"radio\" name=\"identity\" value=\"{v}\"> {} ({v})</label><br>",
                escape(username),
                v = escape(value)
            );
        };
        if rules.identities.is_empty() {
            for (id, r) in self
                .identities
                .iter()
                .filter(|(_, r)| {
                    !r.client
                        && (rules.domains.is_empty() || domain_matches(&rules.domains, &r.username))
                })
                .take(MAX_LISTED)
            {
                option(&id.to_string(), &r.username);
            }
        } else {
            // Only the identities the session must have (known ones by id).
            for wanted in rules.identities.iter().take(MAX_LISTED) {
                let known = match Uuid::try_parse(wanted) {
                    Ok(u) => Some(IdentityId::from(u)),
                    Err(_) => self
                        .identities
                        .iter()
                        .find(|(_, r)| r.username.eq_ignore_ascii_case(wanted))
                        .map(|(id, _)| *id),
                };
                match known {
                    Some(id) => option(&id.to_string(), &self.username(&id)),
                    None => option(wanted, wanted),
                }
            }
        }
        let mut session_notes = String::new();
        if let Some(m) = &rules.message {
            let _ = writeln!(session_notes, "<p id=\"session-message\">{}</p>", escape(m));
        }
        if rules.mfa {
            session_notes.push_str(
                "<p id=\"session-mfa\">This login uses multi-factor authentication.</p>\n",
            );
        }
        let scope_list: String = scopes
            .iter()
            .map(|s| format!("<li>{}</li>", escape(s)))
            .collect();
        html(
            StatusCode::OK,
            "Globus Auth emulator: log in and consent",
            &format!(
                "<p>Client <code>{}</code> asks for:</p><ul>{scope_list}</ul>\n{session_notes}\
                 <form method=\"post\" action=\"/v2/oauth2/authorize\">\n{hidden}\
                 <fieldset><legend>Log in as</legend>\n{options}\
                 <label>or username: <input type=\"text\" name=\"username\"></label></fieldset>\n\
                 <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n\
                 <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>",
                escape(client_id)
            ),
        )
    }

    fn token(
        &mut self,
        req: &ApiRequest<'_>,
        p: &Params,
        env: &mut AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let grant = p.require("grant_type")?.to_owned();
        let auth = self.client_auth(req, p, env)?;
        let Some(client_id) = auth.client_id().map(str::to_owned) else {
            return Err(invalid_client("Client authentication is required."));
        };
        let doc = match grant.as_str() {
            "authorization_code" => {
                let code = p.require("code")?;
                let redirect_uri = p.require("redirect_uri")?;
                let Some(rec) = self.auth.codes.remove(&token_fingerprint(code)) else {
                    return Err(invalid_grant(
                        "The code is unknown, already used or expired.",
                    ));
                };
                self.touch();
                if rec.expires_at <= env.now {
                    return Err(invalid_grant("The code has expired."));
                }
                if rec.client_id != client_id {
                    return Err(invalid_grant("The code was issued to another client."));
                }
                if rec.redirect_uri != redirect_uri {
                    return Err(invalid_grant(
                        "The redirect_uri differs from the authorize request's.",
                    ));
                }
                if let Some(ch) = &rec.code_challenge {
                    let Some(verifier) = p.get("code_verifier")? else {
                        return Err(invalid_grant("The code_verifier is required."));
                    };
                    if !valid_verifier(verifier) || s256(verifier) != *ch {
                        return Err(invalid_grant(
                            "The code_verifier does not match the code_challenge.",
                        ));
                    }
                }
                let who = Subject {
                    identity: rec.identity,
                    session: rec.session.as_ref(),
                };
                self.issue(env, &client_id, who, &rec.scopes, rec.offline, true)?
            }
            "refresh_token" => {
                let rt = p.require("refresh_token")?;
                let fp = token_fingerprint(rt);
                let rec = match self.auth.tokens.get(&fp) {
                    Some(t) if t.kind == TokenKind::Refresh && t.active(env.now) => t.clone(),
                    _ => {
                        return Err(invalid_grant(
                            "The refresh token is unknown, used, expired or revoked.",
                        ));
                    }
                };
                if rec.client_id != client_id {
                    return Err(invalid_grant(
                        "The refresh token was issued to another client.",
                    ));
                }
                // Rotation: the old refresh token stops working now.
                self.auth.tokens.remove(&fp);
                self.touch();
                let who = Subject {
                    identity: rec.identity,
                    session: rec.session.as_ref(),
                };
                self.issue(env, &client_id, who, &rec.scopes, true, false)?
            }
            "client_credentials" => {
                if !matches!(auth, ClientAuth::Confidential(_)) {
                    return Err(invalid_client(
                        "Client credentials need a confidential client.",
                    ));
                }
                let scopes = parse_scopes(p.get("scope")?.unwrap_or(""))?;
                let identity = self.client_identity(&client_id);
                self.issue(
                    env,
                    &client_id,
                    Subject::without_login(identity),
                    &scopes,
                    false,
                    false,
                )?
            }
            "urn:globus:auth:grant_type:dependent_token" => {
                if !matches!(auth, ClientAuth::Confidential(_)) {
                    return Err(invalid_client(
                        "Dependent tokens need a confidential client.",
                    ));
                }
                let token = p.require("token")?;
                let identity = self
                    .bearer_identity(token, env)
                    .map_err(|_| invalid_grant("The token is expired, revoked or unknown."))?;
                let scopes = parse_scopes(p.get("scope")?.unwrap_or(""))?;
                let offline = p.get("access_type")? == Some("offline");
                let mut top = self.issue(
                    env,
                    &client_id,
                    Subject::without_login(identity),
                    &scopes,
                    offline,
                    false,
                )?;
                let others = match top.as_object_mut().and_then(|o| o.remove("other_tokens")) {
                    Some(Value::Array(v)) => v,
                    _ => Vec::new(),
                };
                let mut all = vec![top];
                all.extend(others);
                Value::Array(all)
            }
            other => {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    AuthErrorCode::UnsupportedGrantType,
                    &format!(
                        "The grant_type {} is not supported.",
                        other.chars().take(64).collect::<String>()
                    ),
                ));
            }
        };
        let mut r = json_response(StatusCode::OK, &doc);
        r.headers.push((
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
        Ok(r)
    }

    fn revoke(
        &mut self,
        req: &ApiRequest<'_>,
        p: &Params,
        env: &mut AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        // A wrong secret is refused; an unauthenticated call may revoke (native clients).
        self.client_auth(req, p, env)?;
        let token = p.require("token")?;
        let fp = token_fingerprint(token);
        match self.auth.tokens.get_mut(&fp) {
            Some(t) if t.kind == TokenKind::Access && !t.revoked => {
                t.revoked = true;
                self.touch();
            }
            Some(t) if t.kind == TokenKind::Access => {}
            Some(_) => {
                self.auth.tokens.remove(&fp);
                self.touch();
            }
            None => {}
        }
        Ok(json_response(StatusCode::OK, &json!({ "active": false })))
    }

    fn introspect(
        &mut self,
        req: &ApiRequest<'_>,
        p: &Params,
        env: &mut AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let ClientAuth::Confidential(_) = self.client_auth(req, p, env)? else {
            return Err(invalid_client("Introspection needs a confidential client."));
        };
        let token = p.require("token")?;
        let Some(t) = self.active_access(token, env.now).cloned() else {
            return Ok(json_response(StatusCode::OK, &json!({ "active": false })));
        };
        let mut set = vec![t.identity.to_string()];
        if let Some(others) = self.idx.linked.get(&t.identity) {
            set.extend(others.iter().map(ToString::to_string));
        }
        let rec = self.identities.get(&t.identity);
        let doc = json!({
            "active": true,
            "scope": t.scopes.join(" "),
            "client_id": t.client_id,
            "sub": t.identity.to_string(),
            "username": self.username(&t.identity),
            "name": rec.and_then(|r| r.name.clone()),
            "email": rec.and_then(|r| r.email.clone()),
            "exp": t.expires_at,
            "iat": t.issued_at,
            "nbf": t.issued_at,
            "aud": [t.resource_server, t.client_id],
            "iss": env.issuer,
            "token_type": "Bearer",
            "identity_set": set,
        });
        Ok(json_response(StatusCode::OK, &doc))
    }

    fn userinfo(
        &mut self,
        req: &ApiRequest<'_>,
        env: &AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let unauthorized = || {
            oauth_error(
                StatusCode::UNAUTHORIZED,
                AuthErrorCode::InvalidToken,
                "A valid bearer token is required.",
            )
        };
        let token = bearer(req).ok_or_else(unauthorized)?;
        let t = self
            .active_access(&token, env.now)
            .cloned()
            .ok_or_else(unauthorized)?;
        if !t.scopes.iter().any(|s| base_scope(s) == "openid") {
            return Err(oauth_error(
                StatusCode::FORBIDDEN,
                AuthErrorCode::InsufficientScope,
                "The token does not carry the openid scope.",
            ));
        }
        Ok(json_response(
            StatusCode::OK,
            &self.identity_claims(t.identity, &t.scopes, t.issued_at),
        ))
    }

    fn identity_doc(&self, id: IdentityId) -> Value {
        let r = self.identities.get(&id);
        let username = self.username(&id);
        let domain = username
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default();
        json!({
            "id": id.to_string(),
            "username": username,
            "status": if r.is_some_and(|r| r.unused) { "unused" } else { "used" },
            "identity_provider": idp_id(&domain),
            "identity_type": if r.is_some_and(|r| r.client) { "client" } else { "login" },
            "name": r.and_then(|r| r.name.clone()),
            "email": r.and_then(|r| r.email.clone()),
            "organization": r.and_then(|r| r.organization.clone()),
        })
    }

    fn identities_lookup(
        &mut self,
        req: &ApiRequest<'_>,
        env: &AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let token = bearer(req).ok_or_else(|| {
            rest_error(
                StatusCode::UNAUTHORIZED,
                AuthErrorCode::InvalidToken,
                "A bearer token is required.",
            )
        })?;
        self.bearer_identity(&token, env)?;
        let rest_bad =
            |msg: &str| rest_error(StatusCode::BAD_REQUEST, AuthErrorCode::InvalidRequest, msg);
        let p = Params::from_query(req.query)
            .map_err(|_| rest_bad("The query string is malformed."))?;
        let get = |name: &str| {
            p.get(name)
                .map_err(|_| rest_bad("A parameter is repeated or too long."))
        };
        let ids = get("ids")?;
        let usernames = get("usernames")?;
        let provision = matches!(get("provision")?, Some("true" | "True" | "1"));
        let split = |s: &str| -> Result<Vec<String>, ApiResponse> {
            let items: Vec<String> = s
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect();
            if items.len() > MAX_LOOKUP {
                return Err(rest_bad(&format!(
                    "At most {MAX_LOOKUP} ids or usernames per lookup."
                )));
            }
            Ok(items)
        };
        let found: Vec<IdentityId> = match (ids, usernames) {
            (Some(_), Some(_)) => return Err(rest_bad("Give ids or usernames, not both.")),
            (None, None) => return Err(rest_bad("Give ids or usernames.")),
            (Some(ids), None) => {
                let mut out = Vec::new();
                for s in split(ids)? {
                    let Ok(u) = Uuid::try_parse(&s) else {
                        return Err(rest_bad("An id is not a UUID."));
                    };
                    let id = IdentityId::from(u);
                    if self.identities.contains_key(&id) && !out.contains(&id) {
                        out.push(id);
                    }
                }
                out
            }
            (None, Some(names)) => {
                let names = split(names)?;
                let index: HashMap<String, IdentityId> = self
                    .identities
                    .iter()
                    .map(|(id, r)| (r.username.to_lowercase(), *id))
                    .collect();
                let mut out = Vec::new();
                for n in names {
                    let id = match index.get(&n.to_lowercase()) {
                        Some(id) => Some(*id),
                        None if provision
                            && n.len() <= 256
                            && n.split_once('@')
                                .is_some_and(|(a, d)| !a.is_empty() && d.contains('.')) =>
                        {
                            let id = identity_id_for_username(&n);
                            let mut rec = IdentityRec::new(n.clone());
                            rec.unused = true;
                            self.identities.insert(id, rec);
                            self.touch();
                            Some(id)
                        }
                        None => None,
                    };
                    if let Some(id) = id
                        && !out.contains(&id)
                    {
                        out.push(id);
                    }
                }
                out
            }
        };
        let docs: Vec<Value> = found.into_iter().map(|id| self.identity_doc(id)).collect();
        Ok(json_response(
            StatusCode::OK,
            &json!({ "identities": docs }),
        ))
    }

    fn create_client(
        &mut self,
        req: &ApiRequest<'_>,
        env: &mut AuthEnv<'_>,
    ) -> Result<ApiResponse, ApiResponse> {
        let token = bearer(req).ok_or_else(|| {
            rest_error(
                StatusCode::UNAUTHORIZED,
                AuthErrorCode::InvalidToken,
                "A bearer token is required.",
            )
        })?;
        let owner = self.bearer_identity(&token, env)?;
        let rest_bad =
            |msg: &str| rest_error(StatusCode::BAD_REQUEST, AuthErrorCode::InvalidRequest, msg);
        if req.body.len() > MAX_AUTH_BODY {
            return Err(rest_bad("The request body is too large."));
        }
        let body: Value =
            serde_json::from_slice(req.body).map_err(|_| rest_bad("The body is not JSON."))?;
        let Some(c) = body.get("client").and_then(Value::as_object) else {
            return Err(rest_bad("The body must hold a client object."));
        };
        let name = match c.get("name") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 1024 => s.clone(),
            None => "emulated client".to_owned(),
            _ => {
                return Err(rest_bad(
                    "client.name must be a string of 1 to 1024 characters.",
                ));
            }
        };
        let template = match c.get("template_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if Uuid::try_parse(s).is_ok() => Some(s.clone()),
            _ => return Err(rest_bad("client.template_id must be a UUID.")),
        };
        if self.auth.clients.len() >= MAX_CLIENTS {
            return Err(rest_bad(&format!(
                "At most {MAX_CLIENTS} clients are kept."
            )));
        }
        let secret = (env.mint)();
        let client_id = Uuid::new_v5(&ns("created-client"), (env.mint)().as_bytes()).to_string();
        let credential_id =
            Uuid::new_v5(&ns("client-credential"), client_id.as_bytes()).to_string();
        self.auth.clients.insert(
            client_id.clone(),
            ClientRec {
                confidential: true,
                secret_fingerprint: Some(token_fingerprint(&secret)),
                redirect_uris: Vec::new(),
                identity: None,
                name: name.clone(),
            },
        );
        self.touch();
        self.client_identity(&client_id);
        let created = crate::clock::format_unix(env.now);
        let doc = json!({
            "client": {
                "id": client_id, "name": name, "public_client": false,
                "client_type": "confidential_client", "grant_types": ["client_credentials", "refresh_token", "urn:globus:auth:grant_type:dependent_token"],
                "redirect_uris": [], "parent_client": template, "owner": owner.to_string(),
            },
            "included": {
                "client_credential": {"id": credential_id, "client": client_id, "name": name,
                                      "secret": secret, "created": created}
            }
        });
        Ok(json_response(StatusCode::OK, &doc))
    }

    /// Issued tokens for the control plane: fingerprints, never token values.
    pub(crate) fn issued_tokens(&self, now: u64) -> Vec<Value> {
        let mut v: Vec<(&Uuid, &IssuedRec)> = self.auth.tokens.iter().collect();
        v.sort_by_key(|(_, t)| t.seq);
        v.into_iter()
            .map(|(fp, t)| {
                json!({
                    "fingerprint": fp.to_string(), "kind": t.kind, "client_id": t.client_id,
                    "identity": t.identity.to_string(), "scopes": t.scopes,
                    "resource_server": t.resource_server, "issued_at": t.issued_at,
                    "expires_at": t.expires_at, "revoked": t.revoked, "active": t.active(now),
                    "session": t.session,
                })
            })
            .collect()
    }

    /// The issued access token behind `token`, for Groups: `Some(Ok(rec))` when active,
    /// `Some(Err(()))` when expired, revoked or a refresh token, `None` when not issued here.
    pub(super) fn issued_for_groups(
        &self,
        token: &str,
        now: u64,
    ) -> Option<Result<&IssuedRec, ()>> {
        let t = self.auth.tokens.get(&token_fingerprint(token))?;
        Some(if t.kind == TokenKind::Access && t.active(now) {
            Ok(t)
        } else {
            Err(())
        })
    }
}

/// A stable identity-provider id for a username domain.
fn idp_id(domain: &str) -> String {
    Uuid::new_v5(&ns("identity-provider"), domain.as_bytes()).to_string()
}
