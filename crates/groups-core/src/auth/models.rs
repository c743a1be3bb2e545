//! The documents Globus Auth answers with: token responses, introspection,
//! userinfo and identities.
//!
//! These models live in the core (not in `groups-types`, which models the
//! Groups API) because only the client side needs them, and they hold
//! secrets ([`SecretString`]) whose handling is the core's business. The
//! emulator deliberately does not share them: it judges the wire format
//! independently, so a mistake here cannot hide itself on both sides.
//!
//! Like the Groups models, every document keeps the keys this version does
//! not know in `extra`.
//!
//! Expiry is computed from `expires_in` and a time the caller supplies,
//! since the core reads no clock: [`TokenData::expires_at`] on the
//! transport's monotonic clock (for renewal decisions) and
//! [`TokenData::expires_at_seconds`] in epoch seconds from a wall-clock
//! value (what globus-sdk stores).
//!
//! ```
//! use groups_core::auth::models::TokenResponse;
//! use groups_core::transport::Instant;
//! use std::time::Duration;
//!
//! let body = br#"{"access_token": "AT1", "expires_in": 3600, "resource_server": "groups.api.globus.org",
//!   "token_type": "Bearer", "scope": "urn:globus:auth:scope:groups.api.globus.org:all",
//!   "refresh_token": "RT1",
//!   "other_tokens": [{"access_token": "AT2", "expires_in": 7200, "resource_server": "auth.globus.org",
//!                     "token_type": "Bearer", "scope": "openid profile"}]}"#;
//! let tokens = TokenResponse::from_json(body).unwrap();
//! assert_eq!(tokens.len(), 2);
//! let groups = tokens.by_resource_server()["groups.api.globus.org"];
//! assert_eq!(groups.access_token.expose_secret(), "AT1");
//! assert_eq!(groups.expires_at_seconds(1_700_000_000), 1_700_003_600);
//! assert_eq!(groups.expires_at(Instant::ZERO), Instant::from_elapsed(Duration::from_secs(3600)));
//! assert!(!format!("{tokens:?}").contains("AT1"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use groups_types::IdentityId;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::SecretString;
use crate::error::GroupsError;
use crate::transport::Instant;

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretString::new)
    }
}

/// One token of a token response: for one resource server.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenData {
    /// The access token.
    pub access_token: SecretString,
    /// Seconds the access token is valid for, from when the answer was
    /// received (absent counts as 0, as in globus-sdk).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// The resource server the token is for, e.g. `groups.api.globus.org`.
    pub resource_server: String,
    /// The token type, normally `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: String,
    /// A refresh token (only with `access_type=offline`, or on a refresh).
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    /// An OpenID Connect id token (only when `openid` was requested).
    #[serde(default)]
    pub id_token: Option<SecretString>,
    /// The `state` echoed by the server, if any.
    #[serde(default)]
    pub state: Option<String>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TokenData {
    /// The lifetime `expires_in` announces (zero when absent).
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.expires_in.unwrap_or(0))
    }

    /// When the access token expires on the transport's monotonic clock,
    /// given the instant the answer was received.
    pub fn expires_at(&self, received_at: Instant) -> Instant {
        received_at + self.lifetime()
    }

    /// When the access token expires in epoch seconds, given the wall-clock
    /// time (epoch seconds) the answer was received: globus-sdk's
    /// `expires_at_seconds`, for token storage shared with it.
    pub fn expires_at_seconds(&self, received_at_epoch_seconds: u64) -> u64 {
        received_at_epoch_seconds.saturating_add(self.expires_in.unwrap_or(0))
    }

    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
}

impl fmt::Debug for TokenData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenData")
            .field("resource_server", &self.resource_server)
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A token response: the top-level token first, then `other_tokens` (one
/// per further resource server). A dependent-token answer (a JSON array)
/// parses into the same type.
#[derive(Clone)]
pub struct TokenResponse {
    tokens: Vec<TokenData>,
}

impl TokenResponse {
    /// Parse a token endpoint's 2xx body: an object with `other_tokens`, or
    /// (dependent tokens) an array of token objects. A body of another
    /// shape is an unexpected-response error naming the problem (never the
    /// body, which may hold tokens).
    pub fn from_json(body: &[u8]) -> Result<Self, GroupsError> {
        let bad = |e: serde_json::Error| {
            GroupsError::unexpected_response(format!("token response does not parse: {e}"))
        };
        let value: Value = serde_json::from_slice(body).map_err(bad)?;
        let tokens = match value {
            Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value::<TokenData>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad)?,
            Value::Object(mut root) => {
                let others = match root.remove("other_tokens") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(v) => serde_json::from_value::<Vec<TokenData>>(v).map_err(bad)?,
                };
                let first: TokenData = serde_json::from_value(Value::Object(root)).map_err(bad)?;
                std::iter::once(first).chain(others).collect()
            }
            _ => {
                return Err(GroupsError::unexpected_response(
                    "token response is neither an object nor an array",
                ));
            }
        };
        Ok(TokenResponse { tokens })
    }

    /// Every token, the top-level one first.
    pub fn tokens(&self) -> &[TokenData] {
        &self.tokens
    }

    /// The top-level token (the first of a dependent-token array).
    pub fn first(&self) -> Option<&TokenData> {
        self.tokens.first()
    }

    /// The tokens after the first (`other_tokens`).
    pub fn other_tokens(&self) -> &[TokenData] {
        self.tokens.get(1..).unwrap_or(&[])
    }

    /// How many tokens (resource servers).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the answer held no token at all.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The tokens keyed by resource server (globus-sdk's
    /// `by_resource_server`).
    pub fn by_resource_server(&self) -> BTreeMap<&str, &TokenData> {
        self.tokens
            .iter()
            .map(|t| (t.resource_server.as_str(), t))
            .collect()
    }

    /// The token for `resource_server`, if the answer has one.
    pub fn get(&self, resource_server: &str) -> Option<&TokenData> {
        self.tokens
            .iter()
            .find(|t| t.resource_server == resource_server)
    }

    /// The id token of the top-level token, if any.
    pub fn id_token(&self) -> Option<&SecretString> {
        self.first().and_then(|t| t.id_token.as_ref())
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// The answer of `POST /v2/oauth2/token/introspect`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct TokenIntrospection {
    /// Whether the token is valid now (`false` for an expired, revoked or
    /// unknown token; the other fields are then absent).
    pub active: bool,
    /// The scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The identity id.
    #[serde(default)]
    pub sub: Option<String>,
    /// The identity's username.
    #[serde(default)]
    pub username: Option<String>,
    /// The identity's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The identity's email.
    #[serde(default)]
    pub email: Option<String>,
    /// Expiry, epoch seconds.
    #[serde(default)]
    pub exp: Option<i64>,
    /// Issued at, epoch seconds.
    #[serde(default)]
    pub iat: Option<i64>,
    /// Not before, epoch seconds.
    #[serde(default)]
    pub nbf: Option<i64>,
    /// The audiences (resource servers and the client).
    #[serde(default)]
    pub aud: Option<Vec<String>>,
    /// The issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// The token type, normally `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// The ids of the identities linked to the subject.
    #[serde(default)]
    pub identity_set: Option<Vec<String>>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One identity of a userinfo `identity_set`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct UserInfoIdentity {
    /// The identity id.
    pub sub: String,
    /// Its username.
    #[serde(default)]
    pub username: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its email.
    #[serde(default)]
    pub email: Option<String>,
    /// Its identity provider's id.
    #[serde(default)]
    pub identity_provider: Option<String>,
    /// Its organization.
    #[serde(default)]
    pub organization: Option<String>,
    /// Last authentication, epoch seconds.
    #[serde(default)]
    pub last_authentication: Option<i64>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `GET /v2/oauth2/userinfo`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct UserInfo {
    /// The identity id.
    pub sub: String,
    /// The username.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The email.
    #[serde(default)]
    pub email: Option<String>,
    /// The organization.
    #[serde(default)]
    pub organization: Option<String>,
    /// The identity provider's id.
    #[serde(default)]
    pub identity_provider: Option<String>,
    /// The identity provider's display name.
    #[serde(default)]
    pub identity_provider_display_name: Option<String>,
    /// Last authentication, epoch seconds.
    #[serde(default)]
    pub last_authentication: Option<i64>,
    /// The linked identities (only with the `view_identity_set` scope).
    #[serde(default)]
    pub identity_set: Option<Vec<UserInfoIdentity>>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One identity of `GET /v2/api/identities`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Identity {
    /// The identity id.
    pub id: IdentityId,
    /// The username, e.g. `user@example.org`.
    pub username: String,
    /// `used`, `unused`, `private` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// The identity provider's id.
    #[serde(default)]
    pub identity_provider: Option<String>,
    /// `login` or `client`.
    #[serde(default)]
    pub identity_type: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The email.
    #[serde(default)]
    pub email: Option<String>,
    /// The organization.
    #[serde(default)]
    pub organization: Option<String>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `GET /v2/api/identities`: the identities found, in the
/// order asked (unknown names or ids are simply absent).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct IdentitiesResponse {
    /// The identities found.
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// Keys this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IdentitiesResponse {
    /// The identity with this username (case-insensitive), if found.
    pub fn by_username(&self, username: &str) -> Option<&Identity> {
        self.identities
            .iter()
            .find(|i| i.username.eq_ignore_ascii_case(username))
    }
}
