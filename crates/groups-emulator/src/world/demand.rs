//! Consent and session demands: what the Groups endpoints may require of a token
//! beyond a valid bearer, the way a resource server asks for more authentication.
//!
//! With an [`AuthDemand`] set ([`World::set_auth_demand`], the control plane's
//! `/_emulator/auth/demand`, or `EmulatorBuilder::auth_demand`), every Groups call is
//! checked after its token is accepted:
//!
//! * a token that lacks one of `required_scopes` (and meets the session part) gets
//!   403 `{"code": "ConsentRequired", "detail", "required_scopes": [the missing ones],
//!   "authorization_parameters": {"required_scopes": [...], "session_message"?}}`;
//! * a token whose login session falls short gets 401 `{"code":
//!   "AuthorizationRequired", "detail", "authorization_parameters": {...}}` holding
//!   only what is unmet: `session_required_identities`,
//!   `session_required_single_domain`, `session_required_mfa: true`, `prompt: "login"`
//!   with the token's own identity in `session_required_identities` for a session
//!   older than `session_timeout_secs`, and `required_scopes` when scopes are missing
//!   too; `session_message` when the demand has one.
//!
//! Sessions: a token issued from an authorization code carries the session of that
//! login: the identity that logged in, the time of the login (the emulator's clock)
//! and whether it used MFA. A refresh keeps the session of the refresh token (it is
//! no new login). The authorize request's `session_required_identities` and
//! `session_required_single_domain` restrict who may log in (the page lists only
//! those identities; another one is redirected back with `access_denied`), and
//! `session_required_mfa=True` makes the login an MFA login. Each authorize is a fresh
//! login, so `prompt=login` changes nothing. Tokens from client credentials or
//! dependent-token grants, seeded tokens and the default tokens of the non-strict
//! mode have no session: they never meet a session requirement.
//!
//! The emulator's rule for `session_required_identities`: one login makes one
//! session identity, so one of the listed identities suffices.

use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::codes::ErrorCode;
use super::resp::json_response;
use super::store::World;
use super::types::{ApiResponse, Caller};

/// Most scopes, identities or domains in one demand.
const MAX_ITEMS: usize = 50;
/// Longest scope, identity or domain in a demand.
const MAX_ITEM_LEN: usize = 512;
/// Longest session message.
const MAX_MESSAGE_LEN: usize = 1024;

/// What the Groups endpoints demand of every token (see the module docs for the
/// answers). Built field by field or with the builder methods; JSON as in
/// `PUT /_emulator/auth/demand`:
///
/// ```json
/// {"required_scopes": ["urn:globus:auth:scope:groups.api.globus.org:all"],
///  "session_required_identities": ["alice@example.org"],
///  "session_required_single_domain": ["example.org"],
///  "session_required_mfa": true, "session_timeout_secs": 3600,
///  "session_message": "Groups needs a fresh MFA login"}
/// ```
///
/// ```
/// use groups_emulator::world::AuthDemand;
/// use std::time::Duration;
///
/// let d = AuthDemand::new()
///     .session_required_mfa(true)
///     .session_timeout(Duration::from_secs(600))
///     .session_message("log in again with MFA");
/// assert!(d.validate().is_ok());
/// assert!(AuthDemand::new().validate().is_err(), "a demand must ask for something");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthDemand {
    /// Scopes every token must carry (compared without their dependencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_scopes: Vec<String>,
    /// The login session must be one of these identities (ids or usernames).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_required_identities: Vec<String>,
    /// The identity of the login session must have a username in one of these domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_required_single_domain: Vec<String>,
    /// The login must have used multi-factor authentication.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub session_required_mfa: bool,
    /// The login must be at most this many seconds old on the emulator's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout_secs: Option<u64>,
    /// Passed on as the answer's `session_message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_message: Option<String>,
}

impl AuthDemand {
    /// A demand that asks for nothing yet (not valid until something is added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Require a scope.
    #[must_use]
    pub fn required_scope(mut self, scope: impl Into<String>) -> Self {
        self.required_scopes.push(scope.into());
        self
    }

    /// Require the session to be this identity (an id or a username); several calls
    /// allow any of them.
    #[must_use]
    pub fn session_required_identity(mut self, identity: impl Into<String>) -> Self {
        self.session_required_identities.push(identity.into());
        self
    }

    /// Require the session's identity to be of this username domain; several calls
    /// allow any of them.
    #[must_use]
    pub fn session_required_single_domain(mut self, domain: impl Into<String>) -> Self {
        self.session_required_single_domain.push(domain.into());
        self
    }

    /// Require (or not) an MFA login.
    #[must_use]
    pub fn session_required_mfa(mut self, required: bool) -> Self {
        self.session_required_mfa = required;
        self
    }

    /// Require a login no older than `max_age` (whole seconds).
    #[must_use]
    pub fn session_timeout(mut self, max_age: Duration) -> Self {
        self.session_timeout_secs = Some(max_age.as_secs());
        self
    }

    /// The message the answers carry as `session_message`.
    #[must_use]
    pub fn session_message(mut self, message: impl Into<String>) -> Self {
        self.session_message = Some(message.into());
        self
    }

    /// Check the demand: it must ask for something; scopes must be Globus scopes of a
    /// resource server; at most 50 scopes, identities and domains, each of 1 to 512
    /// characters without commas, spaces or control characters; a message of at most
    /// 1024 characters.
    pub fn validate(&self) -> Result<(), String> {
        let asks = !self.required_scopes.is_empty()
            || !self.session_required_identities.is_empty()
            || !self.session_required_single_domain.is_empty()
            || self.session_required_mfa
            || self.session_timeout_secs.is_some();
        if !asks {
            return Err("the demand asks for nothing (DELETE it instead)".to_owned());
        }
        for (what, list) in [
            ("required_scopes", &self.required_scopes),
            (
                "session_required_identities",
                &self.session_required_identities,
            ),
            (
                "session_required_single_domain",
                &self.session_required_single_domain,
            ),
        ] {
            if list.len() > MAX_ITEMS {
                return Err(format!("{what} holds more than {MAX_ITEMS} entries"));
            }
            for item in list {
                let bad = item.is_empty()
                    || item.len() > MAX_ITEM_LEN
                    || item
                        .chars()
                        .any(|c| c == ',' || c.is_whitespace() || c.is_control());
                if bad {
                    return Err(format!(
                        "each entry of {what} must be 1 to {MAX_ITEM_LEN} characters without commas, spaces or control characters"
                    ));
                }
            }
        }
        if let Some(s) = self
            .required_scopes
            .iter()
            .find(|s| super::oauth::resource_server_of(s).is_none())
        {
            return Err(format!("{s} is not a scope of a known resource server"));
        }
        if self
            .session_message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_MESSAGE_LEN || m.chars().any(char::is_control))
        {
            return Err(format!(
                "session_message must be at most {MAX_MESSAGE_LEN} characters without control characters"
            ));
        }
        Ok(())
    }
}

/// The login session a token was issued under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SessionRec {
    /// When the user logged in, in seconds since the epoch (emulator clock).
    pub(super) auth_time: u64,
    /// Whether the login used multi-factor authentication.
    #[serde(default)]
    pub(super) mfa: bool,
}

/// Whether `username` (or `id`) is one of `wanted` (ids or usernames, any case).
pub(super) fn identity_matches(wanted: &[String], id: &str, username: &str) -> bool {
    wanted
        .iter()
        .any(|w| w.eq_ignore_ascii_case(id) || w.eq_ignore_ascii_case(username))
}

/// Whether `username`'s domain is one of `domains` (any case).
pub(super) fn domain_matches(domains: &[String], username: &str) -> bool {
    let domain = username.rsplit_once('@').map_or("", |(_, d)| d);
    !domain.is_empty() && domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
}

impl World {
    /// Set (or, with `None`, clear) what the Groups endpoints demand of every token;
    /// refused (and nothing changed) when [`AuthDemand::validate`] fails.
    pub fn set_auth_demand(&mut self, demand: Option<AuthDemand>) -> Result<(), String> {
        if let Some(d) = &demand {
            d.validate()?;
        }
        if self.auth.demand != demand {
            self.auth.demand = demand;
            self.touch();
        }
        Ok(())
    }

    /// The demand in force, if any.
    pub fn auth_demand(&self) -> Option<&AuthDemand> {
        self.auth.demand.as_ref()
    }

    /// The answer for a caller whose token falls short of the demand in force, or
    /// `None` when there is no demand or the token meets it. `session` is the token's
    /// login session (`None` for tokens not issued from a login).
    pub(super) fn demand_unmet(
        &self,
        caller: &Caller,
        session: Option<&SessionRec>,
        now: u64,
    ) -> Option<ApiResponse> {
        let d = self.auth.demand.as_ref()?;
        let missing: Vec<String> = d
            .required_scopes
            .iter()
            .filter(|want| {
                let want = super::oauth::base_scope(want);
                !caller
                    .scopes
                    .iter()
                    .any(|have| super::oauth::base_scope(have) == want)
            })
            .cloned()
            .collect();
        let id = caller.primary.to_string();
        let username = self.username(&caller.primary);
        let mut params = Map::new();
        let mut needs: Vec<String> = Vec::new();
        let logged_in = session.is_some();
        let identity_met = d.session_required_identities.is_empty()
            || (logged_in && identity_matches(&d.session_required_identities, &id, &username));
        if !identity_met {
            params.insert(
                "session_required_identities".into(),
                json!(d.session_required_identities),
            );
            needs.push(format!(
                "a login as one of {}",
                d.session_required_identities.join(", ")
            ));
        }
        let domain_met = d.session_required_single_domain.is_empty()
            || (logged_in && domain_matches(&d.session_required_single_domain, &username));
        if !domain_met {
            params.insert(
                "session_required_single_domain".into(),
                json!(d.session_required_single_domain),
            );
            needs.push(format!(
                "a login with an identity of {}",
                d.session_required_single_domain.join(", ")
            ));
        }
        if d.session_required_mfa && !session.is_some_and(|s| s.mfa) {
            params.insert("session_required_mfa".into(), json!(true));
            needs.push("a login with multi-factor authentication".to_owned());
        }
        if let Some(max) = d.session_timeout_secs
            && session.is_none_or(|s| now.saturating_sub(s.auth_time) > max)
        {
            params.insert("prompt".into(), json!("login"));
            params
                .entry("session_required_identities")
                .or_insert_with(|| json!([id]));
            needs.push(format!("a login within the last {max} seconds"));
        }
        if needs.is_empty() && missing.is_empty() {
            return None;
        }
        if !missing.is_empty() {
            params.insert("required_scopes".into(), json!(missing));
        }
        if let Some(m) = &d.session_message {
            params.insert("session_message".into(), json!(m));
        }
        if needs.is_empty() {
            let detail = format!(
                "This request needs consent to the scopes {}; log in again asking for them.",
                missing.join(" ")
            );
            return Some(json_response(
                StatusCode::FORBIDDEN,
                &json!({
                    "code": ErrorCode::ConsentRequired.as_str(),
                    "detail": detail,
                    "required_scopes": missing,
                    "authorization_parameters": Value::Object(params),
                }),
            ));
        }
        if !missing.is_empty() {
            needs.push(format!("consent to {}", missing.join(" ")));
        }
        let detail = format!(
            "This request needs more authentication: {}; log in again with the authorization_parameters.",
            needs.join("; ")
        );
        Some(json_response(
            StatusCode::UNAUTHORIZED,
            &json!({
                "code": ErrorCode::AuthorizationRequired.as_str(),
                "detail": detail,
                "authorization_parameters": Value::Object(params),
            }),
        ))
    }
}
