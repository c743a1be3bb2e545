//! The control plane under `/_emulator/` (documented on the crate root).

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::faults::{Fault, MAX_PENDING_FAULTS};
use crate::shared::{Failure, Shared};
use crate::world::resp::{base_error, json_response};
use crate::world::{ApiResponse, AuthDemand, AutoApprove, ErrorCode, Seed, StateError, World};

fn ok(value: Value) -> ApiResponse {
    json_response(StatusCode::OK, &value)
}

fn bad_json(err: &serde_json::Error) -> ApiResponse {
    base_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::InvalidJson,
        &format!("The request body is not valid for this endpoint: {err}"),
    )
}

/// Answer one control-plane request (the caller already checked the peer is loopback).
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    body: Bytes,
) -> ApiResponse {
    let path = path.trim_end_matches('/');
    let resource = path.strip_prefix("/_emulator").unwrap_or(path);
    let result = match (resource, method) {
        ("/health", &Method::GET) => Ok(health(shared)),
        ("/invariants", &Method::GET) => shared.read(|w| {
            let problems = w.check_invariants().err().unwrap_or_default();
            ok(json!({ "ok": problems.is_empty(), "generation": w.generation(), "problems": problems }))
        }),
        ("/reset", &Method::POST) => shared
            .blocking(|s| s.mutate(true, |w| *w = World::new()))
            .await
            .map(|()| ok(json!({ "status": "ok" }))),
        ("/seed", &Method::POST) => match serde_json::from_slice::<Seed>(&body) {
            Err(e) => Ok(bad_json(&e)),
            Ok(seed) => shared
                .blocking(move |s| s.mutate(true, |w| w.load_seed(seed)))
                .await
                .map(|r| match r {
                    Ok(()) => ok(json!({ "status": "ok" })),
                    Err(e) => base_error(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::InvalidSeed,
                        &format!("The seed was refused: {}", e.0),
                    ),
                }),
        },
        ("/state", &Method::GET) => shared.read(|w| {
            ok(serde_json::to_value(w).unwrap_or_else(|e| json!({ "error": e.to_string() })))
        }),
        ("/state", &Method::PUT) => match World::from_state_json(&body) {
            Err(StateError::Parse(e)) => Ok(bad_json(&e)),
            Err(StateError::Invalid(detail)) => Ok(base_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidState,
                &format!("The state document was refused: {detail}"),
            )),
            Ok(world) => shared
                .blocking(move |s| s.mutate(true, |w| *w = world))
                .await
                .map(|()| ok(json!({ "status": "ok" }))),
        },
        ("/clock", &Method::GET) => Ok(ok(clock_json(shared))),
        ("/clock", &Method::POST) => Ok(advance_clock(shared, &body)),
        ("/auth/approve", &Method::GET) => Ok(ok(json!({ "auto_approve": shared.auto_approve() }))),
        ("/auth/approve", &Method::PUT | &Method::POST) => {
            match serde_json::from_slice::<AutoApprove>(&body) {
                Err(e) => Ok(bad_json(&e)),
                Ok(a) if a.identity.is_empty() || a.identity.len() > 256 => Ok(base_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidJson,
                    "identity must be an identity id or a username of 1 to 256 characters.",
                )),
                Ok(a) => {
                    shared.set_auto_approve(Some(a));
                    Ok(ok(json!({ "auto_approve": shared.auto_approve() })))
                }
            }
        }
        ("/auth/approve", &Method::DELETE) => {
            shared.set_auto_approve(None);
            Ok(ok(json!({ "auto_approve": null })))
        }
        ("/auth/demand", &Method::GET) => shared.read(|w| ok(json!({ "demand": w.auth_demand() }))),
        ("/auth/demand", &Method::PUT | &Method::POST) => {
            match serde_json::from_slice::<AuthDemand>(&body) {
                Err(e) => Ok(bad_json(&e)),
                Ok(d) => shared
                    .blocking(move |s| s.mutate(true, |w| w.set_auth_demand(Some(d))))
                    .await
                    .and_then(|r| match r {
                        Ok(()) => shared.read(|w| ok(json!({ "demand": w.auth_demand() }))),
                        Err(detail) => Ok(base_error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            ErrorCode::InvalidJson,
                            &format!("The demand was refused: {detail}."),
                        )),
                    }),
            }
        }
        ("/auth/demand", &Method::DELETE) => shared
            .blocking(|s| s.mutate(true, |w| w.set_auth_demand(None)))
            .await
            .map(|_| ok(json!({ "demand": null }))),
        ("/auth/tokens", &Method::GET) => {
            let now = shared.now_secs();
            shared.read(|w| ok(json!({ "now": now, "tokens": w.issued_tokens(now) })))
        }
        ("/faults", &Method::GET) => Ok(ok(faults_json(shared))),
        ("/faults", &Method::POST) => Ok(add_faults(shared, &body)),
        ("/faults", &Method::DELETE) => {
            shared.clear_faults();
            Ok(ok(faults_json(shared)))
        }
        (
            "/health" | "/invariants" | "/reset" | "/seed" | "/state" | "/faults" | "/clock" | "/auth/approve"
            | "/auth/demand" | "/auth/tokens",
            _,
        ) => Ok(base_error(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            &format!("{method} is not supported on {path}."),
        )),
        _ => Ok(base_error(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            &format!("No control-plane endpoint {path}."),
        )),
    };
    result.unwrap_or_else(Failure::into_response)
}

fn health(shared: &Shared) -> ApiResponse {
    let generation = shared.read(|w| w.generation()).unwrap_or(0);
    ok(json!({
        "status": "ok",
        "generation": generation,
        "requests": shared.request_count(),
        "pending_faults": shared.pending_faults().len(),
        "durable": shared.persister.is_some(),
        "open_connections": shared.open_connections.load(std::sync::atomic::Ordering::Acquire),
        "accepted_connections": shared.accepted_connections.load(std::sync::atomic::Ordering::Acquire),
    }))
}

fn faults_json(shared: &Shared) -> Value {
    json!({ "pending": shared.pending_faults() })
}

fn add_faults(shared: &Shared, body: &[u8]) -> ApiResponse {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Fault>),
        One(Fault),
    }
    let faults = match serde_json::from_slice::<OneOrMany>(body) {
        Ok(OneOrMany::Many(v)) => v,
        Ok(OneOrMany::One(f)) => vec![f],
        Err(_) => {
            // Re-parse as a single rule for a precise error message.
            return match serde_json::from_slice::<Fault>(body) {
                Err(e) => bad_json(&e),
                Ok(_) => base_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidJson,
                    "Expected a fault rule or an array of fault rules.",
                ),
            };
        }
    };
    let pending = shared.pending_faults().len();
    if pending + faults.len() > MAX_PENDING_FAULTS {
        return base_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidFault,
            &format!(
                "At most {MAX_PENDING_FAULTS} fault rules may be pending; {pending} are and {} were sent.",
                faults.len()
            ),
        );
    }
    for f in &faults {
        if let Err(detail) = f.validate() {
            return base_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidFault,
                &detail,
            );
        }
    }
    for f in faults {
        shared.inject(f);
    }
    ok(faults_json(shared))
}

/// Longest single clock move: ten years.
const MAX_CLOCK_STEP_SECS: i64 = 10 * 366 * 86_400;

fn clock_json(shared: &Shared) -> Value {
    let now = shared.now_secs();
    json!({
        "now": now,
        "now_rfc3339": crate::clock::format_unix(now),
        "offset_secs": shared.clock_offset(),
    })
}

fn advance_clock(shared: &Shared, body: &[u8]) -> ApiResponse {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_secs: i64,
    }
    match serde_json::from_slice::<Advance>(body) {
        Err(e) => bad_json(&e),
        Ok(a) if !(0..=MAX_CLOCK_STEP_SECS).contains(&a.advance_secs) => base_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidJson,
            &format!("advance_secs must be between 0 and {MAX_CLOCK_STEP_SECS}."),
        ),
        Ok(a) => {
            shared.advance_clock(a.advance_secs);
            ok(clock_json(shared))
        }
    }
}
