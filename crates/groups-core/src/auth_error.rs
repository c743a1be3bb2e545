//! The typed error of a Globus Auth call: [`AuthError`] and its
//! [`AuthErrorKind`].
//!
//! The OAuth2 endpoints answer failures as
//! `{"error": "<code>", "error_description": "..."}`. The kind tells apart
//! what a caller does next:
//!
//! * [`AuthErrorKind::InvalidGrant`]: the code or refresh token is bad,
//!   used, expired or revoked: the user must log in again. Never retried.
//! * [`AuthErrorKind::InvalidClient`]: the client id or secret is wrong: a
//!   configuration problem. Never retried.
//! * [`AuthErrorKind::Transient`]: a 5xx or 429 answer, or a transport
//!   failure: trying later may work.
//! * [`AuthErrorKind::Other`]: any other refusal (`invalid_scope`,
//!   `invalid_request`, an answer of the wrong shape, ...).
//!
//! This module depends only on [`crate::transport`], so the crate-wide
//! [`GroupsError`](crate::GroupsError) can carry an `AuthError` without a
//! module cycle.
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::auth::error::{AuthError, AuthErrorKind};
//!
//! let response = http::Response::builder()
//!     .status(400)
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(br#"{"error": "invalid_grant", "error_description": "refresh token revoked"}"#))
//!     .unwrap();
//! let err = AuthError::from_response(&response);
//! assert_eq!(err.kind(), AuthErrorKind::InvalidGrant);
//! assert_eq!(err.code(), Some("invalid_grant"));
//! assert!(err.to_string().contains("log in again"));
//! ```

use std::fmt;

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

use crate::transport::{TransportError, TransportErrorKind};

/// Longest server text kept from an error answer (characters).
const TEXT_LIMIT: usize = 300;

/// What kind of failure an [`AuthError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// `invalid_grant`: the authorization code or refresh token is invalid,
    /// used, expired or revoked (or the PKCE verifier does not match). The
    /// user has to log in again; retrying cannot help.
    InvalidGrant,
    /// `invalid_client`: unknown client or wrong client secret.
    InvalidClient,
    /// A 5xx or 429 answer, or a transport failure: may work later.
    Transient,
    /// Any other failure (another OAuth2 error code, an answer that is not
    /// what the protocol promises).
    Other,
}

impl AuthErrorKind {
    /// A short lower-case name, e.g. `"invalid_grant"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthErrorKind::InvalidGrant => "invalid_grant",
            AuthErrorKind::InvalidClient => "invalid_client",
            AuthErrorKind::Transient => "transient",
            AuthErrorKind::Other => "other",
        }
    }
}

/// A failed Globus Auth call, with the OAuth2 error code and description
/// when the server sent them.
///
/// It never holds a token, a secret or a raw body; `Clone` so that one
/// failed token request can be reported to every call that waited for it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthError {
    kind: AuthErrorKind,
    status: Option<StatusCode>,
    code: Option<String>,
    description: Option<String>,
    transport: Option<TransportErrorKind>,
    message: Option<String>,
}

fn clip(s: &str) -> String {
    if s.chars().count() <= TEXT_LIMIT {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(TEXT_LIMIT).collect();
        t.push_str("...");
        t
    }
}

impl AuthError {
    /// An error of `kind` with a message of the SDK's own (for example "the
    /// answer holds tokens for two resource servers").
    pub fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        AuthError {
            kind,
            status: None,
            code: None,
            description: None,
            transport: None,
            message: Some(message.into()),
        }
    }

    /// The error of a non-2xx answer of an Auth endpoint.
    ///
    /// The kind comes from the OAuth2 `error` code (`invalid_grant`,
    /// `invalid_client`) when the body is a JSON object carrying one, else
    /// from the status: 5xx and 429 are transient, a bare 401 is
    /// `invalid_client`, anything else is [`AuthErrorKind::Other`]. A REST
    /// error document (`{"errors": [{"code", "detail"}]}`) gives its first
    /// code and detail.
    pub fn from_response(response: &http::Response<Bytes>) -> Self {
        Self::from_parts(response.status(), response.body())
    }

    /// Like [`from_response`](Self::from_response), from the status and body.
    pub fn from_parts(status: StatusCode, body: &[u8]) -> Self {
        let json = serde_json::from_slice::<Value>(body).ok();
        let root = json.as_ref().and_then(Value::as_object);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(clip);
        let mut code = root.and_then(|o| text(o.get("error")));
        let mut description = root.and_then(|o| text(o.get("error_description")));
        if let Some(first) = root
            .and_then(|o| o.get("errors"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_object)
        {
            if code.is_none() {
                code = text(first.get("code"));
            }
            if description.is_none() {
                description = text(first.get("detail")).or_else(|| text(first.get("title")));
            }
        }
        let kind = match code.as_deref() {
            Some("invalid_grant") => AuthErrorKind::InvalidGrant,
            Some("invalid_client") => AuthErrorKind::InvalidClient,
            _ if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                AuthErrorKind::Transient
            }
            None if status == StatusCode::UNAUTHORIZED => AuthErrorKind::InvalidClient,
            _ => AuthErrorKind::Other,
        };
        AuthError {
            kind,
            status: Some(status),
            code,
            description,
            transport: None,
            message: None,
        }
    }

    /// The error of a token request that failed below HTTP: always
    /// [`AuthErrorKind::Transient`], remembering the transport kind.
    pub fn from_transport(error: &TransportError) -> Self {
        AuthError {
            kind: AuthErrorKind::Transient,
            status: None,
            code: None,
            description: None,
            transport: Some(error.kind()),
            message: Some(clip(error.message())),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The OAuth2 `error` code (e.g. `"invalid_grant"`), if the body had one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The server's `error_description`, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The transport failure's kind, for an error below HTTP.
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        self.transport
    }

    /// Whether the user must log in again (the kind is
    /// [`AuthErrorKind::InvalidGrant`]).
    pub fn requires_login(&self) -> bool {
        self.kind == AuthErrorKind::InvalidGrant
    }

    /// Whether trying later may succeed (the kind is
    /// [`AuthErrorKind::Transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind == AuthErrorKind::Transient
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Globus Auth error")?;
        if let Some(s) = self.status {
            write!(f, " {}", s.as_u16())?;
        }
        if let Some(t) = self.transport {
            write!(f, " ({} failure)", t.as_str())?;
        }
        if let Some(c) = &self.code {
            write!(f, ": {c}")?;
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        match self.kind {
            AuthErrorKind::InvalidGrant => f.write_str(" (log in again)"),
            AuthErrorKind::InvalidClient => f.write_str(" (check the client id and secret)"),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("description", &self.description)
            .field("transport", &self.transport)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for AuthError {}
