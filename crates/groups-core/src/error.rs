//! The SDK's one error type, [`GroupsError`], and the API error it wraps,
//! [`GroupsAPIError`].
//!
//! Every failure of every call is a `GroupsError`. The accessors look through
//! the retry wrappers, so `err.status()` is the status of the last response
//! even when the call gave up after retries:
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::error::{GroupsAPIError, GroupsError};
//!
//! let response = http::Response::builder()
//!     .status(404)
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(
//!         br#"{"code": "GROUP_NOT_FOUND", "detail": "no such group", "request_id": "r-1"}"#,
//!     ))
//!     .unwrap();
//! let err = GroupsError::from(GroupsAPIError::from_response(response));
//!
//! assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
//! assert_eq!(err.code(), Some("GROUP_NOT_FOUND"));
//! assert_eq!(err.request_id(), Some("r-1"));
//! assert_eq!(err.api_error().unwrap().message().as_deref(), Some("no such group"));
//! assert!(!err.is_retryable());
//! assert!(!err.is_timeout());
//! assert!(err.authorization_parameters().is_none());
//! assert_eq!(err.to_string(), "Groups API error 404 Not Found: GROUP_NOT_FOUND: no such group (request id r-1)");
//! ```
//!
//! A 401 carrying Globus Auth requirements exposes them:
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::error::{GroupsAPIError, GroupsError};
//!
//! let response = http::Response::builder()
//!     .status(401)
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(br#"{"code": "AUTHENTICATION_ERROR", "detail": "no token",
//!         "authorization_parameters": {"session_message": "log in again",
//!                                      "required_scopes": ["urn:globus:auth:scope:groups.api.globus.org:all"]}}"#))
//!     .unwrap();
//! let err = GroupsError::from(GroupsAPIError::from_response(response));
//! let params = err.authorization_parameters().unwrap();
//! assert_eq!(params.session_message.value().map(String::as_str), Some("log in again"));
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use groups_types::error_body::{AuthorizationParameters, ValidationError};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::auth_error::AuthError;
use crate::transport::{TransportError, TransportErrorKind};

/// Statuses the default policy treats as transient for idempotent calls.
pub(crate) const TRANSIENT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// Longest server message kept in `Display` (characters).
const DISPLAY_MESSAGE_LIMIT: usize = 300;
/// Longest body prefix shown by `Debug` (bytes).
const DEBUG_BODY_LIMIT: usize = 512;

/// Every error of the Groups SDK.
///
/// `Display` is one short line; it never contains a token or a raw body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupsError {
    /// The caller's input was rejected before anything was sent (empty batch,
    /// duplicate identity, unparsable id, bad base URL, ...). The message
    /// names the problem.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The transport could not complete an HTTP exchange.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// The service answered with an error status.
    #[error(transparent)]
    Api(Box<GroupsAPIError>),

    /// A success response whose body does not have the expected shape.
    #[error(transparent)]
    Decode(Box<DecodeError>),

    /// The call was retried as often as the policy allows and still failed.
    #[error("gave up after {attempts} attempts; last error: {last}")]
    RetriesExhausted {
        /// How many requests were sent.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<GroupsError>,
    },

    /// The overall deadline passed before the call completed.
    #[error("deadline of {deadline:?} exceeded after {attempts} attempts{}", last_suffix(.last))]
    DeadlineExceeded {
        /// The configured overall deadline.
        deadline: Duration,
        /// How many requests were sent.
        attempts: u32,
        /// The error of the last completed attempt, if any.
        last: Option<Box<GroupsError>>,
    },

    /// A Globus Auth call failed (a token grant, revoke, introspect,
    /// userinfo or identities call, or a token provider's renewal). Its
    /// [`AuthError::kind`] tells "log in again" (`invalid_grant`) from a
    /// bad client (`invalid_client`) from a transient failure.
    #[error(transparent)]
    Auth(Box<AuthError>),

    /// A token provider could not produce a credential (for example a failed
    /// refresh). The message never contains a token.
    #[error("token provider: {0}")]
    Token(String),

    /// The service's answer was valid HTTP and JSON but not what the
    /// protocol promises (for example a batch answer that does not mention
    /// the identity it was asked about). Not the caller's fault; the message
    /// says what was missing.
    #[error("unexpected response: {0}")]
    UnexpectedResponse(String),

    /// A driver broke the exchange's contract (for example fed a response
    /// when no request was outstanding): a bug in the calling code or the
    /// SDK, never the caller's input or the server.
    #[error("internal error: {0}")]
    Internal(String),
}

fn last_suffix(last: &Option<Box<GroupsError>>) -> String {
    match last {
        Some(e) => format!("; last error: {e}"),
        None => String::new(),
    }
}

impl From<GroupsAPIError> for GroupsError {
    fn from(e: GroupsAPIError) -> Self {
        GroupsError::Api(Box::new(e))
    }
}

impl From<AuthError> for GroupsError {
    fn from(e: AuthError) -> Self {
        GroupsError::Auth(Box::new(e))
    }
}

impl From<DecodeError> for GroupsError {
    fn from(e: DecodeError) -> Self {
        GroupsError::Decode(Box::new(e))
    }
}

impl GroupsError {
    /// An invalid-input error with `message`.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        GroupsError::InvalidInput(message.into())
    }

    /// An unexpected-response error with `message`.
    pub fn unexpected_response(message: impl Into<String>) -> Self {
        GroupsError::UnexpectedResponse(message.into())
    }

    /// An internal error with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        GroupsError::Internal(message.into())
    }

    /// The innermost error: for [`GroupsError::RetriesExhausted`] and
    /// [`GroupsError::DeadlineExceeded`] the last attempt's error, otherwise
    /// `self`.
    pub fn last_error(&self) -> &GroupsError {
        match self {
            GroupsError::RetriesExhausted { last, .. } => last.last_error(),
            GroupsError::DeadlineExceeded {
                last: Some(last), ..
            } => last.last_error(),
            other => other,
        }
    }

    /// The API error, looking through the retry wrappers.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use groups_core::error::{GroupsAPIError, GroupsError};
    /// let resp = http::Response::builder().status(503).body(Bytes::new()).unwrap();
    /// let err = GroupsError::RetriesExhausted {
    ///     attempts: 6,
    ///     last: Box::new(GroupsAPIError::from_response(resp).into()),
    /// };
    /// assert_eq!(err.api_error().unwrap().status, http::StatusCode::SERVICE_UNAVAILABLE);
    /// assert!(err.is_retryable());
    /// ```
    pub fn api_error(&self) -> Option<&GroupsAPIError> {
        match self.last_error() {
            GroupsError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The Globus Auth error, looking through the retry wrappers.
    ///
    /// ```
    /// use groups_core::auth::error::{AuthError, AuthErrorKind};
    /// use groups_core::GroupsError;
    /// let err = GroupsError::from(AuthError::new(AuthErrorKind::InvalidGrant, "refresh token expired"));
    /// assert_eq!(err.auth_error().map(|e| e.kind()), Some(AuthErrorKind::InvalidGrant));
    /// assert!(!err.is_retryable());
    /// ```
    pub fn auth_error(&self) -> Option<&AuthError> {
        match self.last_error() {
            GroupsError::Auth(e) => Some(e),
            _ => None,
        }
    }

    /// The transport error, looking through the retry wrappers.
    pub fn transport_error(&self) -> Option<&TransportError> {
        match self.last_error() {
            GroupsError::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// The decode error, looking through the retry wrappers.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match self.last_error() {
            GroupsError::Decode(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of the (last) response, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self.last_error() {
            GroupsError::Api(e) => Some(e.status),
            GroupsError::Decode(e) => Some(e.status),
            GroupsError::Auth(e) => e.status(),
            _ => None,
        }
    }

    /// The service's error code (e.g. `"INVALID_TOKEN"`), if the body had one.
    pub fn code(&self) -> Option<&str> {
        self.api_error().and_then(|e| e.code.as_deref())
    }

    /// The service's request id, if the error body or headers carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(|e| e.request_id.as_deref())
    }

    /// The Globus Auth requirements of a 401 (or consent) error.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use groups_core::error::{GroupsAPIError, GroupsError};
    /// let resp = http::Response::builder()
    ///     .status(401)
    ///     .header("content-type", "application/json")
    ///     .body(Bytes::from_static(br#"{"code":"INVALID_TOKEN","detail":"expired","authorization_parameters":{"session_required_mfa":true}}"#))
    ///     .unwrap();
    /// let err: GroupsError = GroupsAPIError::from_response(resp).into();
    /// assert_eq!(err.authorization_parameters().unwrap().session_required_mfa.value(), Some(&true));
    /// ```
    pub fn authorization_parameters(&self) -> Option<&AuthorizationParameters> {
        self.api_error()
            .and_then(|e| e.authorization_parameters.as_ref())
    }

    /// Whether the failure is transient: a 429, 500, 502, 503 or 504 status, a
    /// connect, timeout or I/O transport failure, or a passed deadline. Trying
    /// again later may succeed (for a non-idempotent call, check first whether
    /// the first try took effect).
    ///
    /// ```
    /// use groups_core::error::GroupsError;
    /// use groups_core::transport::{TransportError, TransportErrorKind};
    /// let err = GroupsError::from(TransportError::new(TransportErrorKind::Timeout, "read timed out"));
    /// assert!(err.is_retryable());
    /// assert!(err.is_timeout());
    /// assert!(!GroupsError::invalid_input("empty batch").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            GroupsError::DeadlineExceeded { .. } => true,
            GroupsError::RetriesExhausted { last, .. } => last.is_retryable(),
            GroupsError::Api(e) => TRANSIENT_STATUSES.contains(&e.status.as_u16()),
            GroupsError::Auth(e) => e.is_transient(),
            GroupsError::Transport(e) => matches!(
                e.kind(),
                TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
            ),
            _ => false,
        }
    }

    /// Whether a time limit ended the call: a transport timeout (also of a
    /// token request) or the overall deadline.
    pub fn is_timeout(&self) -> bool {
        match self {
            GroupsError::DeadlineExceeded { .. } => true,
            GroupsError::RetriesExhausted { last, .. } => last.is_timeout(),
            GroupsError::Transport(e) => e.kind() == TransportErrorKind::Timeout,
            GroupsError::Auth(e) => e.transport_kind() == Some(TransportErrorKind::Timeout),
            _ => false,
        }
    }

    /// Whether this is an [`GroupsError::InvalidInput`] error.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, GroupsError::InvalidInput(_))
    }

    /// The message of an [`GroupsError::InvalidInput`] error, without the
    /// `"invalid input: "` prefix its `Display` adds (to put it inside
    /// another message without repeating the prefix).
    pub fn invalid_input_message(&self) -> Option<&str> {
        match self {
            GroupsError::InvalidInput(message) => Some(message),
            _ => None,
        }
    }
}

/// An error response of the Groups service, with everything it carried.
///
/// Parsing follows globus-sdk's rules: the body is read as JSON only when
/// `Content-Type` is `application/json` or `application/*+json`; `code` is the
/// top-level string `code` (or the code all sub-errors agree on); `messages`
/// are each (sub-)error's first string among `message`, `detail`, `title`,
/// plus a rendering of every FastAPI 422 item. Bodies that are not JSON (an
/// HTML 502 page, an empty body) leave those fields empty and are kept raw.
#[derive(Clone)]
#[non_exhaustive]
pub struct GroupsAPIError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The body parsed as JSON, when the content type is JSON and it parses.
    pub json: Option<Value>,
    /// The error code, e.g. `"GROUP_NOT_FOUND"`.
    pub code: Option<String>,
    /// Human-readable messages.
    pub messages: Vec<String>,
    /// The request id (body `request_id`, else the `x-request-id` header).
    pub request_id: Option<String>,
    /// Globus Auth requirements (401 and consent errors, GARE format).
    pub authorization_parameters: Option<AuthorizationParameters>,
    /// The scopes the token had (403 `ForbiddenErrorModel`).
    pub provided_scopes: Option<Vec<String>>,
    /// Identities named in more than one action (400 `BadRequestErrorModel`).
    pub ambiguous_identities: Option<Vec<String>>,
    /// The validation failures of a 422 (`HTTPValidationError.detail`).
    pub validation_errors: Option<Vec<ValidationError>>,
}

/// Whether a `Content-Type` value names JSON (`application/json` or
/// `application/*+json`, parameters ignored).
pub fn is_json_content_type(value: Option<&str>) -> bool {
    let Some(v) = value else { return false };
    let media = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

fn first_message(obj: &Map<String, Value>) -> Option<String> {
    ["message", "detail", "title"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str).map(str::to_owned))
}

/// A Transfer-style `{"code": "ConsentRequired", "required_scopes": [...]}`
/// (or a single `required_scope`) as authorization parameters.
fn legacy_consent_required(root: &Map<String, Value>) -> Option<AuthorizationParameters> {
    if root.get("code").and_then(Value::as_str) != Some("ConsentRequired") {
        return None;
    }
    let scopes = string_list(root.get("required_scopes"))
        .or_else(|| string_list(root.get("required_scope")))
        .filter(|s| !s.is_empty())?;
    let mut params = Map::new();
    params.insert("required_scopes".into(), scopes.into());
    if let Some(m) = root.get("message").and_then(Value::as_str) {
        params.insert("session_message".into(), m.into());
    }
    serde_json::from_value(Value::Object(params)).ok()
}

fn render_validation(item: &ValidationError) -> String {
    let loc: Vec<String> = item
        .loc
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    if loc.is_empty() {
        item.msg.clone()
    } else {
        format!("{}: {}", loc.join("."), item.msg)
    }
}

impl GroupsAPIError {
    /// Build the error from a response. Never fails and never panics,
    /// whatever the body.
    pub fn from_response(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        Self::from_parts(parts.status, parts.headers, body)
    }

    /// Build the error from the pieces of a response.
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        let mut e = GroupsAPIError {
            status,
            headers,
            body,
            json: None,
            code: None,
            messages: Vec::new(),
            request_id: None,
            authorization_parameters: None,
            provided_scopes: None,
            ambiguous_identities: None,
            validation_errors: None,
        };
        if is_json_content_type(content_type(&e.headers)) {
            e.json = serde_json::from_slice::<Value>(&e.body).ok();
        }
        if let Some(Value::Object(root)) = &e.json {
            let subs: Vec<&Map<String, Value>> = match root.get("errors") {
                Some(Value::Array(items))
                    if !items.is_empty() && items.iter().all(Value::is_object) =>
                {
                    items.iter().filter_map(Value::as_object).collect()
                }
                _ => vec![root],
            };
            e.code = root
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    let codes: Vec<&str> = subs
                        .iter()
                        .filter_map(|s| s.get("code").and_then(Value::as_str))
                        .collect();
                    match codes.first() {
                        Some(first) if codes.iter().all(|c| c == first) => {
                            Some((*first).to_owned())
                        }
                        _ => None,
                    }
                });
            e.messages = subs.iter().filter_map(|s| first_message(s)).collect();
            e.request_id = root
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            e.authorization_parameters = std::iter::once(root)
                .chain(subs.iter().copied())
                .find_map(|o| match o.get("authorization_parameters") {
                    Some(v @ Value::Object(_)) => {
                        serde_json::from_value::<AuthorizationParameters>(v.clone()).ok()
                    }
                    _ => None,
                });
            if e.authorization_parameters.is_none() {
                e.authorization_parameters = legacy_consent_required(root);
            }
            e.provided_scopes = string_list(root.get("provided_scopes"));
            e.ambiguous_identities = string_list(root.get("ambiguous_identities"));
            if let Some(detail @ Value::Array(_)) = root.get("detail")
                && let Ok(items) = serde_json::from_value::<Vec<ValidationError>>(detail.clone())
            {
                e.messages.extend(items.iter().map(render_validation));
                e.validation_errors = Some(items);
            }
        }
        if e.request_id.is_none() {
            e.request_id = e
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        e
    }

    /// All messages joined with `"; "`, or `None` when there are none.
    pub fn message(&self) -> Option<String> {
        if self.messages.is_empty() {
            None
        } else {
            Some(self.messages.join("; "))
        }
    }

    /// The response's `Content-Type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        content_type(&self.headers)
    }

    /// The raw body as text (lossy UTF-8).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Whether the body was JSON.
    pub fn is_json(&self) -> bool {
        self.json.is_some()
    }
}

fn truncate(s: &str, limit: usize) -> &str {
    if s.len() <= limit {
        return s;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl fmt::Display for GroupsAPIError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Groups API error {}", self.status.as_u16())?;
        if let Some(reason) = self.status.canonical_reason() {
            write!(f, " {reason}")?;
        }
        if let Some(code) = &self.code {
            write!(f, ": {}", truncate(code, 100))?;
        }
        match self.message() {
            Some(m) => {
                let t = truncate(&m, DISPLAY_MESSAGE_LIMIT);
                write!(f, ": {t}")?;
                if t.len() < m.len() {
                    f.write_str("...")?;
                }
            }
            None if self.json.is_none() => {
                if self.body.is_empty() {
                    f.write_str(" (empty body)")?;
                } else {
                    let ct = self.content_type().unwrap_or("no content type");
                    write!(
                        f,
                        " (non-JSON body: {}, {} bytes)",
                        truncate(ct, 100),
                        self.body.len()
                    )?;
                }
            }
            None => {}
        }
        if self.status.is_redirection() {
            // The SDK never follows redirects: say where the service pointed.
            match self.headers.get(http::header::LOCATION) {
                Some(location) => write!(f, "; {}", RedirectTarget(location.as_bytes()))?,
                None => f.write_str("; redirect with no Location header, not followed")?,
            }
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {})", truncate(id, 100))?;
        }
        Ok(())
    }
}

/// A `Location` value for an error message: without user name, password,
/// query or fragment (any of which may carry a credential), saying when a
/// query was dropped, and cut when very long.
struct RedirectTarget<'a>(&'a [u8]);

impl fmt::Display for RedirectTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = String::from_utf8_lossy(self.0);
        let (without_fragment, _) = text.split_once('#').unwrap_or((&text, ""));
        let (target, query) = match without_fragment.split_once('?') {
            Some((target, _)) => (target, true),
            None => (without_fragment, false),
        };
        let mut shown = target.to_owned();
        if let Some(scheme_end) = target.find("://") {
            let rest = &target[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            if let Some(at) = rest[..authority_end].rfind('@') {
                shown = format!("{}{}", &target[..scheme_end + 3], &rest[at + 1..]);
            }
        }
        let cut = truncate(&shown, 200);
        write!(f, "redirect to {cut:?}")?;
        if cut.len() < shown.len() {
            f.write_str("...")?;
        }
        if query {
            f.write_str(" (query omitted)")?;
        }
        f.write_str(", not followed")
    }
}

impl std::error::Error for GroupsAPIError {}

/// Headers with credential-like values replaced, for `Debug` output.
struct RedactedHeaders<'a>(&'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, value) in self.0 {
            let secret = value.is_sensitive()
                || name == http::header::AUTHORIZATION
                || name == http::header::PROXY_AUTHORIZATION
                || name == http::header::COOKIE
                || name == http::header::SET_COOKIE;
            if secret {
                m.entry(&name.as_str(), &"<redacted>");
            } else {
                m.entry(&name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            }
        }
        m.finish()
    }
}

struct BodyPreview<'a>(&'a [u8]);

impl fmt::Debug for BodyPreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = String::from_utf8_lossy(self.0);
        let t = truncate(&text, DEBUG_BODY_LIMIT);
        if t.len() < text.len() {
            write!(f, "{t:?}... ({} bytes)", self.0.len())
        } else {
            write!(f, "{t:?}")
        }
    }
}

impl fmt::Debug for GroupsAPIError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupsAPIError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("messages", &self.messages)
            .field("request_id", &self.request_id)
            .field("authorization_parameters", &self.authorization_parameters)
            .field("provided_scopes", &self.provided_scopes)
            .field("ambiguous_identities", &self.ambiguous_identities)
            .field("validation_errors", &self.validation_errors)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &BodyPreview(&self.body))
            .finish_non_exhaustive()
    }
}

/// A success (2xx) response whose body does not decode into the expected
/// type. It names the JSON path where decoding failed and keeps the body.
#[derive(Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The response's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The JSON path of the failure, e.g. `[0].my_memberships[1].role` (`.` for the root).
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The raw body.
    pub body: Bytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the {} response body at `{}`: {}",
            self.status.as_u16(),
            self.path,
            truncate(&self.message, DISPLAY_MESSAGE_LIMIT)
        )?;
        if !is_json_content_type(self.content_type.as_deref()) {
            write!(
                f,
                " (content type {})",
                truncate(self.content_type.as_deref().unwrap_or("missing"), 100)
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("path", &self.path)
            .field("message", &self.message)
            .field("body", &BodyPreview(&self.body))
            .finish()
    }
}

impl std::error::Error for DecodeError {}

/// Decode a JSON body into `T`, naming the path of any failure.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<T, GroupsError> {
    // Fast path: the body checked as UTF-8 once, then parsed as a `str`, so
    // serde_json does not validate every string again (a third of the cost
    // of decoding a group). Invalid UTF-8, like any other failure, is
    // decoded again below through serde_path_to_error to name the path
    // (errors are rare; paths cost).
    if let Ok(text) = std::str::from_utf8(&body)
        && let Ok(v) = serde_json::from_str::<T>(text)
    {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let result = serde_path_to_error::deserialize::<_, T>(&mut de)
        .map_err(|err| {
            // A failure in a map key can leave no segment at all: that is
            // still the root, spelled `.` as documented.
            let path = match err.path().to_string() {
                p if p.is_empty() => ".".to_owned(),
                p => p,
            };
            (path, err.into_inner().to_string())
        })
        .and_then(|v| {
            de.end()
                .map(|()| v)
                .map_err(|e| (".".to_owned(), e.to_string()))
        });
    match result {
        Ok(v) => Ok(v),
        Err((path, message)) => Err(DecodeError {
            status,
            content_type: content_type(headers).map(str::to_owned),
            path,
            message,
            body,
        }
        .into()),
    }
}
