//! The exchange state machine on a simulated clock: no sleeping, no runtime.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{RefreshingProvider, json, response, with_header};
use groups_core::auth::{AccessTokenProvider, NoAuth, TokenProvider};
use groups_core::error::GroupsError;
use groups_core::exchange::{Action, Exchange};
use groups_core::ops::{GetGroup, Operation};
use groups_core::retry::{Jitter, MethodClass, RetryPolicy};
use groups_core::transport::{Instant, TransportError, TransportErrorKind};

const URL: &str = "https://groups.api.globus.org/v2/groups/my_groups";

fn at(ms: u64) -> Instant {
    Instant::from_elapsed(Duration::from_millis(ms))
}

fn get() -> http::Request<Bytes> {
    http::Request::get(URL).body(Bytes::new()).unwrap()
}

fn post() -> http::Request<Bytes> {
    http::Request::post("https://groups.api.globus.org/v2/groups")
        .header("content-type", "application/json")
        .body(Bytes::from_static(br#"{"name":"n"}"#))
        .unwrap()
}

fn static_auth() -> Arc<dyn TokenProvider> {
    Arc::new(AccessTokenProvider::new("tok-123").unwrap())
}

fn exchange(req: http::Request<Bytes>, deadline: Option<Duration>) -> Exchange {
    Exchange::new(req, RetryPolicy::default(), static_auth(), deadline)
}

fn expect_send(ex: &mut Exchange, now: Instant) -> http::Request<Bytes> {
    match ex.poll_action(now) {
        Action::Send(r) => r,
        other => panic!("expected Send at {now:?}, got {other:?}"),
    }
}

fn expect_wait(ex: &mut Exchange, now: Instant) -> Instant {
    match ex.poll_action(now) {
        Action::Wait(t) => t,
        other => panic!("expected Wait at {now:?}, got {other:?}"),
    }
}

fn expect_done(ex: &mut Exchange, now: Instant) -> Result<http::Response<Bytes>, GroupsError> {
    match ex.poll_action(now) {
        Action::Done(r) => r,
        other => panic!("expected Done at {now:?}, got {other:?}"),
    }
}

/// Drive `ex` against `responses` on a simulated clock; returns the result,
/// the send instants and the final clock.
fn drive(
    ex: &mut Exchange,
    mut responses: Vec<Result<http::Response<Bytes>, TransportErrorKind>>,
) -> (
    Result<http::Response<Bytes>, GroupsError>,
    Vec<Instant>,
    Instant,
) {
    responses.reverse();
    let mut now = Instant::ZERO;
    let mut sends = Vec::new();
    for _ in 0..100 {
        match ex.poll_action(now) {
            Action::Send(_) => {
                sends.push(now);
                match responses.pop().expect("more sends than scripted responses") {
                    Ok(r) => ex.handle_response(r, now, Jitter::ZERO),
                    Err(kind) => {
                        ex.handle_transport_error(TransportError::new(kind, "x"), now, Jitter::ZERO)
                    }
                }
            }
            Action::Wait(t) => {
                assert!(t > now, "Wait must move time forward");
                now = t;
            }
            Action::Done(r) => {
                assert!(
                    responses.is_empty(),
                    "{} scripted responses unused",
                    responses.len()
                );
                return (r, sends, now);
            }
        }
    }
    panic!("exchange did not finish in 100 steps");
}

#[test]
fn retries_503_503_then_200_on_the_backoff_schedule() {
    let mut ex = exchange(get(), Some(Duration::from_secs(60)));
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Ok(json(503, "{}")),
            Ok(json(503, "{}")),
            Ok(json(200, "[]")),
        ],
    );
    assert_eq!(r.unwrap().status(), 200);
    assert_eq!(sends, vec![at(0), at(250), at(750)]);
    assert_eq!(ex.attempts(), 3);
    assert_eq!(ex.retries(), 2);
}

#[test]
fn every_attempt_carries_a_sensitive_authorization_header() {
    let mut ex = exchange(get(), None);
    let r = expect_send(&mut ex, at(0));
    let auth = &r.headers()["authorization"];
    assert_eq!(auth, "Bearer tok-123");
    assert!(auth.is_sensitive());
    assert!(
        !format!("{ex:?}").contains("tok-123"),
        "Debug of the exchange leaks the token"
    );
}

#[test]
fn honours_retry_after_in_the_schedule() {
    let mut ex = exchange(get(), Some(Duration::from_secs(60)));
    let busy = with_header(json(429, "{}"), "retry-after", "3");
    let (r, sends, _) = drive(&mut ex, vec![Ok(busy), Ok(json(200, "[]"))]);
    assert!(r.is_ok());
    assert_eq!(sends, vec![at(0), at(3000)]);
}

#[test]
fn exhaustion_keeps_the_last_error_after_six_attempts() {
    let mut ex = exchange(get(), None);
    let script = (0..6)
        .map(|_| Ok(json(500, r#"{"code":"BOOM","detail":"x"}"#)))
        .collect();
    let (r, sends, now) = drive(&mut ex, script);
    let err = r.unwrap_err();
    assert!(
        matches!(err, GroupsError::RetriesExhausted { attempts: 6, .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.code(), Some("BOOM"));
    assert!(err.is_retryable());
    assert_eq!(
        sends,
        vec![at(0), at(250), at(750), at(1750), at(3750), at(7750)]
    );
    assert_eq!(now, at(7750));
}

#[test]
fn transport_errors_exhaust_too() {
    let mut ex = Exchange::new(
        get(),
        RetryPolicy::default().with_max_retries(1),
        static_auth(),
        None,
    );
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Err(TransportErrorKind::Io),
            Err(TransportErrorKind::Timeout),
        ],
    );
    let err = r.unwrap_err();
    assert_eq!(sends.len(), 2);
    assert!(err.is_timeout());
    assert_eq!(
        err.transport_error().unwrap().kind(),
        TransportErrorKind::Timeout
    );
}

#[test]
fn non_retryable_status_is_handed_back_for_parsing() {
    let mut ex = exchange(get(), None);
    let (r, sends, _) = drive(
        &mut ex,
        vec![Ok(json(404, r#"{"code":"NOT_FOUND","detail":"d"}"#))],
    );
    assert_eq!(sends.len(), 1);
    let resp = r.unwrap();
    assert_eq!(resp.status(), 404);
    let err = GetGroup::new("4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01")
        .parse_response(resp)
        .unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"));
}

#[test]
fn post_is_not_retried_after_500_or_timeout_or_io() {
    for outcome in [
        Ok(json(500, "{}")),
        Ok(json(502, "{}")),
        Ok(json(504, "{}")),
        Err(TransportErrorKind::Timeout),
        Err(TransportErrorKind::Io),
    ] {
        let mut ex = exchange(post(), None);
        let (r, sends, _) = drive(&mut ex, vec![outcome]);
        assert_eq!(sends.len(), 1);
        match r {
            Ok(resp) => assert!(resp.status().is_server_error()),
            Err(e) => assert!(matches!(e, GroupsError::Transport(_)), "{e}"),
        }
    }
}

#[test]
fn post_is_retried_after_429_and_connect_failures() {
    let mut ex = exchange(post(), None);
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Ok(json(429, "{}")),
            Err(TransportErrorKind::Connect),
            Ok(json(201, "{}")),
        ],
    );
    assert_eq!(r.unwrap().status(), 201);
    assert_eq!(sends.len(), 3);
}

#[test]
fn post_is_not_retried_after_503_a_proxy_may_send_it_after_processing() {
    let mut ex = exchange(post(), None);
    let (r, sends, _) = drive(&mut ex, vec![Ok(json(503, "{}"))]);
    assert_eq!(r.unwrap().status(), 503);
    assert_eq!(sends.len(), 1);
}

#[test]
fn a_post_declared_idempotent_is_retried_like_a_put() {
    let mut ex = exchange(post(), None).with_method_class(MethodClass::Idempotent);
    assert_eq!(ex.method_class(), MethodClass::Idempotent);
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Ok(json(503, "{}")),
            Ok(json(502, "{}")),
            Err(TransportErrorKind::Timeout),
            Ok(json(200, "{}")),
        ],
    );
    assert_eq!(r.unwrap().status(), 200);
    assert_eq!(sends.len(), 4);
}

#[test]
fn deadline_ends_the_retry_loop_keeping_the_last_error() {
    // Backoffs 250, 500, 1000 ms: the third retry would start at 1750 ms,
    // after the 1.5 s deadline, so the exchange stops after three attempts.
    let mut ex = exchange(get(), Some(Duration::from_millis(1500)));
    let script = (0..3).map(|_| Ok(json(503, "{}"))).collect();
    let (r, sends, now) = drive(&mut ex, script);
    let err = r.unwrap_err();
    match &err {
        GroupsError::DeadlineExceeded {
            deadline,
            attempts,
            last,
        } => {
            assert_eq!(*deadline, Duration::from_millis(1500));
            assert_eq!(*attempts, 3);
            assert_eq!(
                last.as_ref().unwrap().status(),
                Some(http::StatusCode::SERVICE_UNAVAILABLE)
            );
        }
        other => panic!("expected DeadlineExceeded, got {other}"),
    }
    assert!(err.is_timeout() && err.is_retryable());
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(sends, vec![at(0), at(250), at(750)]);
    assert!(now < at(1500), "gave up without sleeping into the deadline");
}

#[test]
fn deadline_passing_while_a_request_is_outstanding() {
    let mut ex = exchange(get(), Some(Duration::from_secs(2)));
    expect_send(&mut ex, at(100));
    assert_eq!(ex.deadline(), Some(at(2100)));
    // The driver polls while waiting: told to wait until the deadline.
    assert_eq!(expect_wait(&mut ex, at(500)), at(2100));
    let err = expect_done(&mut ex, at(2100)).unwrap_err();
    assert!(
        matches!(
            err,
            GroupsError::DeadlineExceeded {
                attempts: 1,
                last: None,
                ..
            }
        ),
        "{err}"
    );
    // A late response is ignored once finished.
    ex.handle_response(json(200, "[]"), at(2200), Jitter::ZERO);
    // Polling again after Done is the driver's mistake: an internal error.
    let err = expect_done(&mut ex, at(2200)).unwrap_err();
    assert!(matches!(err, GroupsError::Internal(_)), "{err}");
}

#[test]
fn static_token_401_is_final() {
    let mut ex = exchange(get(), None);
    let (r, sends, _) = drive(
        &mut ex,
        vec![Ok(json(401, r#"{"code":"INVALID_TOKEN","detail":"x"}"#))],
    );
    assert_eq!(sends.len(), 1);
    assert_eq!(r.unwrap().status(), 401);
}

fn token_response(tok: &str) -> http::Response<Bytes> {
    json(200, &format!(r#"{{"access_token":"{tok}"}}"#))
}

#[test]
fn refreshes_once_on_401_through_the_same_transport() {
    let provider = Arc::new(RefreshingProvider::with_token("old"));
    let mut ex = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let first = expect_send(&mut ex, at(0));
    assert_eq!(first.headers()["authorization"], "Bearer old");
    ex.handle_response(
        json(401, r#"{"code":"INVALID_TOKEN","detail":"x"}"#),
        at(10),
        Jitter::ZERO,
    );
    // The refresh retry does not wait, and first fetches a token.
    let token_req = expect_send(&mut ex, at(10));
    assert_eq!(token_req.uri(), RefreshingProvider::token_request_uri());
    assert_eq!(token_req.method(), http::Method::POST);
    ex.handle_response(token_response("new"), at(20), Jitter::ZERO);
    let retried = expect_send(&mut ex, at(20));
    assert_eq!(retried.uri(), URL);
    assert_eq!(retried.headers()["authorization"], "Bearer new");
    ex.handle_response(json(200, "[]"), at(30), Jitter::ZERO);
    assert_eq!(expect_done(&mut ex, at(30)).unwrap().status(), 200);
    assert_eq!(provider.fetches(), 1);
    assert_eq!(provider.rejections(), 1);
    assert_eq!(ex.attempts(), 2);
    assert_eq!(
        ex.retries(),
        0,
        "the refresh retry is not counted against max_retries"
    );
}

#[test]
fn refreshes_on_a_401_after_earlier_retries() {
    // globus-sdk only refreshes on the first attempt; we do on any attempt.
    let provider = Arc::new(RefreshingProvider::with_token("old"));
    let mut ex = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Ok(json(503, "{}")),
            Ok(json(401, "{}")),
            Ok(token_response("new")),
            Ok(json(200, "[]")),
        ],
    );
    assert_eq!(r.unwrap().status(), 200);
    assert_eq!(sends, vec![at(0), at(250), at(250), at(250)]);
    assert_eq!(provider.fetches(), 1);
}

#[test]
fn a_second_401_is_final() {
    let provider = Arc::new(RefreshingProvider::with_token("old"));
    let mut ex = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let (r, sends, _) = drive(
        &mut ex,
        vec![
            Ok(json(401, "{}")),
            Ok(token_response("new")),
            Ok(json(401, "{}")),
        ],
    );
    assert_eq!(r.unwrap().status(), 401);
    assert_eq!(sends.len(), 3);
    assert_eq!(provider.rejections(), 1);
}

#[test]
fn failed_refresh_ends_the_call() {
    let provider = Arc::new(RefreshingProvider::default());
    let mut ex = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let (r, _, _) = drive(&mut ex, vec![Ok(json(400, r#"{"error":"invalid_grant"}"#))]);
    let err = r.unwrap_err();
    assert!(matches!(err, GroupsError::Token(_)), "{err}");
    let provider = Arc::new(RefreshingProvider::default());
    let mut ex = Exchange::new(get(), RetryPolicy::default(), provider, None);
    let (r, _, _) = drive(&mut ex, vec![Err(TransportErrorKind::Connect)]);
    assert!(matches!(r.unwrap_err(), GroupsError::Transport(_)));
}

#[test]
fn concurrent_exchanges_share_one_token_fetch() {
    let provider = Arc::new(RefreshingProvider::default());
    let mut a = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let mut b = Exchange::new(get(), RetryPolicy::default(), provider.clone(), None);
    let fetch = expect_send(&mut a, at(0));
    assert_eq!(fetch.uri(), RefreshingProvider::token_request_uri());
    // b waits for a's fetch instead of starting its own.
    let until = expect_wait(&mut b, at(0));
    assert_eq!(until, at(10));
    a.handle_response(token_response("shared"), at(5), Jitter::ZERO);
    assert_eq!(
        expect_send(&mut a, at(5)).headers()["authorization"],
        "Bearer shared"
    );
    assert_eq!(
        expect_send(&mut b, until).headers()["authorization"],
        "Bearer shared"
    );
    assert_eq!(provider.fetches(), 1);
}

#[test]
fn dropping_an_exchange_mid_fetch_releases_the_provider() {
    let provider = Arc::new(RefreshingProvider::default());
    let mut a = Exchange::new(
        get(),
        RetryPolicy::default(),
        provider.clone(),
        Some(Duration::from_secs(1)),
    );
    expect_send(&mut a, at(0));
    drop(a);
    assert_eq!(provider.abandoned(), 1);
    // Hitting the deadline mid-fetch releases it too.
    let mut b = Exchange::new(
        get(),
        RetryPolicy::default(),
        provider.clone(),
        Some(Duration::from_secs(1)),
    );
    expect_send(&mut b, at(0));
    assert!(expect_done(&mut b, at(1000)).is_err());
    assert_eq!(provider.abandoned(), 2);
}

#[test]
fn no_auth_sends_no_authorization_even_if_the_request_had_one() {
    let req = http::Request::get(URL)
        .header("authorization", "Bearer stray")
        .body(Bytes::new())
        .unwrap();
    let mut ex = Exchange::new(req, RetryPolicy::default(), Arc::new(NoAuth), None);
    assert!(
        expect_send(&mut ex, at(0))
            .headers()
            .get("authorization")
            .is_none()
    );
}

#[test]
fn misuse_is_reported_not_panicked() {
    let mut ex = exchange(get(), None);
    ex.handle_response(response(200, None, ""), at(0), Jitter::ZERO);
    // A driver's mistake is an internal error, not the caller's input.
    let err = expect_done(&mut ex, at(0)).unwrap_err();
    assert!(matches!(err, GroupsError::Internal(_)), "{err}");
    let mut ex = exchange(get(), None);
    expect_send(&mut ex, at(0));
    ex.handle_response(json(200, "[]"), at(1), Jitter::ZERO);
    assert!(expect_done(&mut ex, at(1)).is_ok());
    let err = expect_done(&mut ex, at(2)).unwrap_err();
    assert!(matches!(err, GroupsError::Internal(_)), "{err}");
}

#[test]
fn jitter_changes_the_schedule_deterministically() {
    let mut ex = exchange(get(), None);
    expect_send(&mut ex, at(0));
    ex.handle_response(json(503, "{}"), at(0), Jitter::new(0.5));
    assert_eq!(expect_wait(&mut ex, at(0)), at(500));
}
