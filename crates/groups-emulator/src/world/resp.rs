//! Response builders: JSON bodies and the service's error models (`BaseErrorModel`,
//! `AuthErrorModel`, `ForbiddenErrorModel`, `BadRequestErrorModel`,
//! `HTTPValidationError`). Every error body takes its `code` from [`ErrorCode`].

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::codes::ErrorCode;
use super::types::ApiResponse;

impl ApiResponse {
    /// A response with a JSON body already encoded.
    pub fn new(status: StatusCode, body: impl Into<Bytes>) -> Self {
        ApiResponse {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// The body parsed as JSON (`Value::Null` when it is not JSON); handy in tests.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The `code` of an error body, if any.
    pub fn code(&self) -> Option<String> {
        self.json()
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// Serialize `body` with `status`; a serialization failure (which would be our bug) is a 500.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> ApiResponse {
    match serde_json::to_vec(body) {
        Ok(v) => ApiResponse::new(status, v),
        Err(_) => base_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "The emulator could not encode its response.",
        ),
    }
}

/// [`json_response`] into a buffer of `capacity` bytes from the start (for
/// large bodies whose size is known roughly: no regrowing and copying).
pub(crate) fn json_response_sized<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
    capacity: usize,
) -> ApiResponse {
    let mut buf = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buf, body) {
        Ok(()) => ApiResponse::new(status, buf),
        Err(_) => base_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "The emulator could not encode its response.",
        ),
    }
}

/// `BaseErrorModel`.
pub(crate) fn base_error(status: StatusCode, code: ErrorCode, detail: &str) -> ApiResponse {
    #[derive(Serialize)]
    struct Base<'a> {
        code: &'a str,
        detail: &'a str,
    }
    // Encoding two strings cannot fail.
    let body = serde_json::to_vec(&Base {
        code: code.as_str(),
        detail,
    })
    .unwrap_or_default();
    ApiResponse::new(status, body)
}

/// 401 `AuthErrorModel`.
pub(crate) fn auth_error(code: ErrorCode, detail: &str) -> ApiResponse {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"code": code.as_str(), "detail": detail, "authorization_parameters": {}}),
    )
}

/// 403 `ForbiddenErrorModel` (with the token's scopes in `provided_scopes`).
pub(crate) fn forbidden(code: ErrorCode, detail: &str, scopes: &[String]) -> ApiResponse {
    json_response(
        StatusCode::FORBIDDEN,
        &json!({"code": code.as_str(), "detail": detail, "provided_scopes": scopes}),
    )
}

/// 400 `BadRequestErrorModel`.
pub(crate) fn bad_request(code: ErrorCode, detail: &str, ambiguous: Vec<String>) -> ApiResponse {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"code": code.as_str(), "detail": detail, "ambiguous_identities": ambiguous}),
    )
}

/// 404 for a group id that is unknown (or not a UUID).
pub(crate) fn group_not_found() -> ApiResponse {
    base_error(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "Group not found.",
    )
}

/// 404 for a path that is no route of the API.
pub(crate) fn route_not_found() -> ApiResponse {
    base_error(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not Found")
}

/// 405 with an `Allow` header.
pub(crate) fn method_not_allowed(allowed: &[&str]) -> ApiResponse {
    let mut r = base_error(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "Method Not Allowed",
    );
    if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
        r.headers.push((HeaderName::from_static("allow"), v));
    }
    r
}

/// 422 `HTTPValidationError` from a list of pydantic-style items.
pub(crate) fn validation(items: Vec<Value>) -> ApiResponse {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "detail": items }),
    )
}

/// A 500 for a wiring mistake of the caller of the world (never for client input).
pub(crate) fn internal(detail: &str) -> ApiResponse {
    base_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalError,
        detail,
    )
}
