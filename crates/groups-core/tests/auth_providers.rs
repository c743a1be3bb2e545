//! The renewing token providers on the scripted transport's simulated
//! clock: renewal exactly at expiry - 60 s, single flight under 64
//! concurrent calls, one renewal after a 401, final invalid_grant, no
//! resend of a refresh whose answer was lost, resend after a connect
//! failure, rotation, the on-refresh hook, and secrets kept out of
//! Debug/Display.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use groups_core::AuthClient;
use groups_core::auth::error::AuthErrorKind;
use groups_core::auth::ops::OAuthClient;
use groups_core::auth::providers::{
    CONNECT_RETRY_DELAY, ClientCredentialsProvider, EXPIRY_MARGIN, RefreshTokenProvider,
};
use groups_core::auth::{TokenProvider, TokenResponse};
use groups_core::test_util::{Recorded, ScriptedTransport, Step, block_on, json};
use groups_core::transport::{Instant, TransportErrorKind};
use groups_core::{BaseUrl, ClientConfig, GroupsClient, GroupsError};

const LIFETIME: u64 = 3600;
const SECRET: &str = "CLIENT-SECRET-CANARY";
const REFRESH: &str = "REFRESH-TOKEN-CANARY";

fn auth() -> ClientConfig {
    ClientConfig::new(BaseUrl::parse("https://auth.globus.org/").unwrap())
}

fn is_token_request(r: &Recorded) -> bool {
    r.uri.host() == Some("auth.globus.org")
}

fn token_body(n: usize, rotate: bool) -> String {
    let rt = if rotate {
        format!(r#", "refresh_token": "ROTATED-{n}""#)
    } else {
        String::new()
    };
    format!(
        r#"{{"access_token": "ACCESS-{n}", "expires_in": {LIFETIME}, "resource_server": "groups.api.globus.org",
            "token_type": "Bearer", "scope": "urn:globus:auth:scope:groups.api.globus.org:all"{rt}}}"#
    )
}

/// Answers token requests with ACCESS-1, ACCESS-2, ... and Groups requests
/// with 200 `[]`; `token_step` may replace the token answer.
fn transport(
    mut token_step: impl FnMut(usize) -> Option<Step> + Send + 'static,
) -> (ScriptedTransport, Arc<AtomicUsize>) {
    let tokens = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&tokens);
    let t = ScriptedTransport::responder(move |r| {
        if is_token_request(r) {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            token_step(n).unwrap_or_else(|| Step::Respond(json(200, &token_body(n, false))))
        } else {
            Step::Respond(json(200, "[]"))
        }
    });
    (t, tokens)
}

fn groups(t: &ScriptedTransport, p: Arc<dyn TokenProvider>) -> GroupsClient<ScriptedTransport> {
    GroupsClient::with_shared_auth(t.clone(), ClientConfig::default(), p)
}

fn native_provider() -> Arc<RefreshTokenProvider> {
    Arc::new(RefreshTokenProvider::new(
        auth(),
        OAuthClient::native("CID"),
        REFRESH,
    ))
}

fn groups_auth_headers(t: &ScriptedTransport) -> Vec<String> {
    t.requests()
        .iter()
        .filter(|r| !is_token_request(r))
        .map(|r| r.header("authorization").unwrap_or("").to_owned())
        .collect()
}

fn token_requests(t: &ScriptedTransport) -> Vec<Recorded> {
    t.requests().into_iter().filter(is_token_request).collect()
}

/// A tiny join-all: polls every unfinished future on each poll.
fn join_all<F: Future>(futs: Vec<F>) -> impl Future<Output = Vec<F::Output>> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none()
                && let Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *slot = Some(v);
            }
        }
        if out.iter().all(Option::is_some) {
            Poll::Ready(out.iter_mut().map(|s| s.take().unwrap()).collect())
        } else {
            Poll::Pending
        }
    })
}

#[test]
fn first_call_fetches_then_renews_exactly_at_expiry_minus_60s() {
    let (t, tokens) = transport(|_| None);
    let p = native_provider();
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    let first = &token_requests(&t)[0];
    assert_eq!(first.method, http::Method::POST);
    assert_eq!(first.path(), "/v2/oauth2/token");
    assert_eq!(first.header("authorization"), None);
    assert_eq!(
        std::str::from_utf8(&first.body).unwrap(),
        format!("refresh_token={REFRESH}&grant_type=refresh_token&client_id=CID")
    );
    let expires = Instant::ZERO + Duration::from_secs(LIFETIME);
    assert_eq!(p.expires_at(), Some(expires));

    // One nanosecond before expiry - 60 s: still the old token.
    t.advance(Duration::from_secs(LIFETIME) - EXPIRY_MARGIN - Duration::from_nanos(1));
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    // Exactly at expiry - 60 s: renewed.
    t.advance(Duration::from_nanos(1));
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    assert_eq!(
        groups_auth_headers(&t),
        ["Bearer ACCESS-1", "Bearer ACCESS-1", "Bearer ACCESS-2"]
    );
    assert_eq!(p.renewals(), 2);
}

#[test]
fn initial_access_token_is_used_until_its_margin() {
    let (t, tokens) = transport(|_| None);
    let p = Arc::new(
        RefreshTokenProvider::new(auth(), OAuthClient::native("CID"), REFRESH)
            .initial_access_token("STORED", Instant::ZERO + Duration::from_secs(120))
            .unwrap(),
    );
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    t.advance(Duration::from_secs(59));
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 0);
    t.advance(Duration::from_secs(1));
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    assert_eq!(
        groups_auth_headers(&t),
        ["Bearer STORED", "Bearer STORED", "Bearer ACCESS-1"]
    );
}

fn run_concurrently(
    c: &GroupsClient<ScriptedTransport>,
    n: usize,
) -> Vec<Result<Vec<groups_types::Group>, GroupsError>> {
    let futs: Vec<_> = (0..n).map(|_| c.get_my_groups().into_future()).collect();
    block_on(join_all(futs))
}

#[test]
fn sixty_four_concurrent_calls_share_one_token_request() {
    let (t, tokens) = transport(|_| None);
    let t = t.yielding();
    let p = native_provider();
    let c = groups(&t, p.clone());
    let results = run_concurrently(&c, 64);
    assert_eq!(results.len(), 64);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        1,
        "exactly one token request"
    );
    let headers = groups_auth_headers(&t);
    assert_eq!(headers.len(), 64);
    assert!(headers.iter().all(|h| h == "Bearer ACCESS-1"));
    assert!(t.max_in_flight() > 1, "the calls really overlapped");
    // The waiters picked the token up promptly (within the re-check
    // interval of its arrival), not after a long sleep.
    let last = t.requests().iter().map(|r| r.at).max().unwrap();
    assert!(
        last <= Instant::ZERO + Duration::from_millis(10),
        "{last:?}"
    );

    // Again once the token is due: 64 calls, one more token request.
    t.advance(Duration::from_secs(LIFETIME));
    let results = run_concurrently(&c, 64);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    assert_eq!(p.renewals(), 2);
}

#[test]
fn a_401_renews_once_and_retries_once() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&tokens);
    let t = ScriptedTransport::responder(move |r| {
        if is_token_request(r) {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            Step::Respond(json(200, &token_body(n, false)))
        } else if r.header("authorization") == Some("Bearer STALE") {
            Step::Respond(json(
                401,
                r#"{"code": "AUTHENTICATION_ERROR", "detail": "expired"}"#,
            ))
        } else {
            Step::Respond(json(200, "[]"))
        }
    });
    let p = Arc::new(
        RefreshTokenProvider::new(auth(), OAuthClient::native("CID"), REFRESH)
            .initial_access_token("STALE", Instant::ZERO + Duration::from_secs(LIFETIME))
            .unwrap(),
    );
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    assert_eq!(groups_auth_headers(&t), ["Bearer STALE", "Bearer ACCESS-1"]);

    // A 401 to the new token too: one renewal, one retry, then the 401 is final.
    let tokens = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&tokens);
    let t = ScriptedTransport::responder(move |r| {
        if is_token_request(r) {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            Step::Respond(json(200, &token_body(n, false)))
        } else {
            Step::Respond(json(
                401,
                r#"{"code": "AUTHENTICATION_ERROR", "detail": "no"}"#,
            ))
        }
    });
    let c = groups(&t, native_provider());
    let e = block_on(c.get_my_groups()).unwrap_err();
    assert_eq!(e.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    assert_eq!(groups_auth_headers(&t).len(), 2);
}

#[test]
fn invalid_grant_is_final_and_typed_with_no_second_token_request() {
    let (t, tokens) = transport(|_| {
        Some(Step::Respond(json(
            400,
            r#"{"error": "invalid_grant", "error_description": "refresh token revoked"}"#,
        )))
    });
    let t = t.yielding();
    let p = native_provider();
    let c = groups(&t, p.clone());
    let results = run_concurrently(&c, 8);
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            e.auth_error().map(|a| a.kind()),
            Some(AuthErrorKind::InvalidGrant)
        );
        assert!(!e.is_retryable());
    }
    t.advance(Duration::from_secs(3600));
    let e = block_on(c.get_my_groups()).unwrap_err();
    assert!(e.auth_error().unwrap().requires_login());
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    assert!(groups_auth_headers(&t).is_empty());
    assert_eq!(
        p.final_failure().map(|f| f.kind()),
        Some(AuthErrorKind::InvalidGrant)
    );
    // New credentials (a new login) clear it.
    p.set_refresh_token("NEW-RT");
    let (t2, _) = transport(|_| None);
    block_on(groups(&t2, p.clone()).get_my_groups()).unwrap();
}

#[test]
fn a_refresh_whose_answer_was_lost_is_not_sent_again() {
    for kind in [TransportErrorKind::Timeout, TransportErrorKind::Io] {
        let (t, tokens) = transport(move |_| Some(Step::Fail(kind)));
        let t = t.yielding();
        let c = groups(&t, native_provider());
        let results = run_concurrently(&c, 16);
        for r in &results {
            let e = r.as_ref().unwrap_err();
            let a = e.auth_error().expect("an Auth error");
            assert_eq!(a.kind(), AuthErrorKind::Transient);
            assert_eq!(a.transport_kind(), Some(kind));
            assert_eq!(e.is_timeout(), kind == TransportErrorKind::Timeout);
            assert!(e.is_retryable());
        }
        assert_eq!(tokens.load(Ordering::SeqCst), 1, "{kind:?}: exactly one");
        assert!(groups_auth_headers(&t).is_empty());
    }
}

#[test]
fn a_refresh_that_could_not_connect_is_sent_again() {
    let (t, tokens) = transport(|n| (n == 1).then_some(Step::Fail(TransportErrorKind::Connect)));
    let c = groups(&t, native_provider());
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    let reqs = token_requests(&t);
    assert!(reqs[1].at >= reqs[0].at + CONNECT_RETRY_DELAY);
    assert_eq!(groups_auth_headers(&t), ["Bearer ACCESS-2"]);
    // Connect failures only, forever: a bounded number of resends.
    let (t, tokens) = transport(|_| Some(Step::Fail(TransportErrorKind::Connect)));
    let e = block_on(groups(&t, native_provider()).get_my_groups()).unwrap_err();
    assert_eq!(e.auth_error().unwrap().kind(), AuthErrorKind::Transient);
    assert_eq!(tokens.load(Ordering::SeqCst), 3);
}

/// What the hook saw: the access token and the refresh token.
type Renewal = (String, Option<String>);

#[test]
fn rotation_and_the_on_refresh_hook() {
    let (t, tokens) = transport(|n| Some(Step::Respond(json(200, &token_body(n, true)))));
    let seen: Arc<Mutex<Vec<Renewal>>> = Arc::default();
    let log = Arc::clone(&seen);
    let p = Arc::new(
        RefreshTokenProvider::new(auth(), OAuthClient::confidential("CID", SECRET), REFRESH)
            .on_refresh(move |r: &TokenResponse| {
                let t = r.get("groups.api.globus.org").unwrap();
                log.lock().unwrap().push((
                    t.access_token.expose_secret().to_owned(),
                    t.refresh_token
                        .as_ref()
                        .map(|s| s.expose_secret().to_owned()),
                ));
            }),
    );
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(p.refresh_token().unwrap().expose_secret(), "ROTATED-1");
    t.advance(Duration::from_secs(LIFETIME));
    block_on(c.get_my_groups()).unwrap();
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    let reqs = token_requests(&t);
    // Confidential: Basic, no client_id in the body; the second refresh
    // spends the rotated token.
    assert!(
        reqs[0]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        std::str::from_utf8(&reqs[0].body).unwrap(),
        format!("refresh_token={REFRESH}&grant_type=refresh_token")
    );
    assert_eq!(
        std::str::from_utf8(&reqs[1].body).unwrap(),
        "refresh_token=ROTATED-1&grant_type=refresh_token"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("ACCESS-1".to_owned(), Some("ROTATED-1".to_owned())),
            ("ACCESS-2".to_owned(), Some("ROTATED-2".to_owned())),
        ]
    );
}

#[test]
fn client_credentials_provider_one_resource_server_only() {
    let (t, tokens) = transport(|_| None);
    let auth_client = AuthClient::new(t.clone(), auth(), OAuthClient::confidential("CID", SECRET));
    let p = Arc::new(
        auth_client
            .client_credentials_provider(["urn:globus:auth:scope:groups.api.globus.org:all"])
            .unwrap(),
    );
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    let req = &token_requests(&t)[0];
    assert!(req.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(
        std::str::from_utf8(&req.body).unwrap(),
        "grant_type=client_credentials&scope=urn%3Aglobus%3Aauth%3Ascope%3Agroups.api.globus.org%3Aall"
    );
    assert_eq!(tokens.load(Ordering::SeqCst), 1);

    // Tokens for two resource servers: an error, and no retry loop.
    let (t, tokens) = transport(|_| {
        Some(Step::Respond(json(
            200,
            r#"{"access_token": "A", "expires_in": 10, "resource_server": "groups.api.globus.org", "scope": "g",
                "other_tokens": [{"access_token": "B", "expires_in": 10, "resource_server": "auth.globus.org", "scope": "openid"}]}"#,
        )))
    });
    let p = Arc::new(
        ClientCredentialsProvider::new(
            auth(),
            OAuthClient::confidential("CID", SECRET),
            ["g", "openid"],
        )
        .unwrap(),
    );
    let c = groups(&t, p);
    let e = block_on(c.get_my_groups()).unwrap_err();
    assert!(e.to_string().contains("2 resource servers"), "{e}");
    let e = block_on(c.get_my_groups()).unwrap_err();
    assert_eq!(e.auth_error().unwrap().kind(), AuthErrorKind::Other);
    assert_eq!(tokens.load(Ordering::SeqCst), 1);

    assert!(
        ClientCredentialsProvider::new(auth(), OAuthClient::native("CID"), ["g"])
            .unwrap_err()
            .is_invalid_input()
    );
}

#[test]
fn secrets_never_appear_in_debug_or_display() {
    let (t, _) = transport(|n| Some(Step::Respond(json(200, &token_body(n, true)))));
    let p = Arc::new(RefreshTokenProvider::new(
        auth(),
        OAuthClient::confidential("CID", SECRET),
        REFRESH,
    ));
    let c = groups(&t, p.clone());
    block_on(c.get_my_groups()).unwrap();
    let response = TokenResponse::from_json(token_body(1, true).as_bytes()).unwrap();
    let cc =
        ClientCredentialsProvider::new(auth(), OAuthClient::confidential("CID", SECRET), ["s"])
            .unwrap()
            .initial_access_token("ACCESS-9", Instant::ZERO)
            .unwrap();
    // Errors of each kind.
    let (t2, _) = transport(|_| {
        Some(Step::Respond(json(
            400,
            r#"{"error": "invalid_grant", "error_description": "revoked"}"#,
        )))
    });
    let failing = Arc::new(RefreshTokenProvider::new(
        auth(),
        OAuthClient::confidential("CID", SECRET),
        REFRESH,
    ));
    let e1 = block_on(groups(&t2, failing.clone()).get_my_groups()).unwrap_err();
    let (t3, _) = transport(|_| Some(Step::Fail(TransportErrorKind::Timeout)));
    let e2 = block_on(groups(&t3, native_provider()).get_my_groups()).unwrap_err();
    let texts = [
        format!("{p:?}"),
        format!("{cc:?}"),
        format!("{failing:?}"),
        format!("{c:?}"),
        format!("{response:?}"),
        format!("{e1:?}"),
        format!("{e1}"),
        format!("{e2:?}"),
        format!("{e2}"),
        format!("{:?}", p.refresh_token().unwrap()),
        format!("{}", p.refresh_token().unwrap()),
    ];
    for text in &texts {
        for secret in [SECRET, REFRESH, "ACCESS-1", "ACCESS-9", "ROTATED-1"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
}

#[test]
fn a_token_request_given_up_on_releases_the_single_flight_slot() {
    // The first token request never answers: the call ends at its deadline
    // and the next call sends a new token request instead of waiting forever.
    let (t, tokens) = transport(|n| (n == 1).then_some(Step::Hang));
    let config = ClientConfig::default().with_deadline(Duration::from_secs(5));
    let c = GroupsClient::with_shared_auth(t.clone(), config, native_provider());
    let e = block_on(c.get_my_groups()).unwrap_err();
    assert!(e.is_timeout(), "{e}");
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    assert_eq!(groups_auth_headers(&t), ["Bearer ACCESS-2"]);
}

#[test]
fn token_requests_in_flight_keep_their_body_out_of_debug() {
    let p = native_provider();
    let poll = p.poll_authorization(Instant::ZERO);
    let shown = format!("{poll:?}");
    assert!(shown.contains("/v2/oauth2/token"), "{shown}");
    assert!(!shown.contains(REFRESH), "{shown}");
    // The same request as the exchange hands it to a driver.
    let request = http::Request::get("https://groups.api.globus.org/v2/groups/my_groups")
        .body(bytes::Bytes::new())
        .unwrap();
    let mut ex = groups_core::Exchange::new(request, Default::default(), native_provider(), None);
    let action = ex.poll_action(Instant::ZERO);
    assert!(matches!(action, groups_core::Action::Send(_)));
    let shown = format!("{action:?}");
    assert!(
        shown.contains("oauth2/token") && !shown.contains(REFRESH),
        "{shown}"
    );
}

/// Counts how often it was woken.
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn groups_request() -> http::Request<bytes::Bytes> {
    http::Request::get("https://groups.api.globus.org/v2/groups/my_groups")
        .body(bytes::Bytes::new())
        .unwrap()
}

/// Register a counting waker for `waiting`'s wake-up (it must still be
/// pending); returns the counter and the waker, to poll again with.
fn register_waiter(waiting: &mut groups_core::Exchange) -> (Arc<CountingWaker>, std::task::Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(counter.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(waiting.poll_wake(&mut cx).is_pending());
    (counter, waker)
}

/// Two exchanges sharing `provider`: the first has been told to send the
/// token request (returned), the second to wait for it.
fn one_fetching_one_waiting(
    provider: &Arc<RefreshTokenProvider>,
) -> (
    groups_core::Exchange,
    groups_core::Exchange,
    http::Request<bytes::Bytes>,
) {
    use groups_core::{Action, Exchange};
    let shared: Arc<dyn TokenProvider> = provider.clone();
    let mut first = Exchange::new(groups_request(), Default::default(), shared.clone(), None);
    let mut second = Exchange::new(groups_request(), Default::default(), shared, None);
    let Action::Send(token_request) = first.poll_action(Instant::ZERO) else {
        panic!("the first call sends the token request");
    };
    assert!(token_request.uri().path().ends_with("/v2/oauth2/token"));
    match second.poll_action(Instant::ZERO) {
        // It would re-check at the latest after the provider's interval.
        Action::Wait(t) => assert!(t > Instant::ZERO, "{t:?}"),
        other => panic!("the second call waits, got {other:?}"),
    }
    (first, second, token_request)
}

#[test]
fn a_call_waiting_for_another_calls_token_is_woken_when_it_arrives() {
    use groups_core::{Action, Jitter};
    let provider = native_provider();
    let (mut first, mut second, _) = one_fetching_one_waiting(&provider);
    let (counter, waker) = register_waiter(&mut second);
    let mut cx = std::task::Context::from_waker(&waker);
    // Polled again by the same task: still one registration, one wake-up.
    assert!(second.poll_wake(&mut cx).is_pending());
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);

    first.handle_response(
        json(200, &token_body(1, false)),
        Instant::ZERO,
        Jitter::ZERO,
    );
    assert_eq!(counter.0.load(Ordering::SeqCst), 1, "woken once");
    assert!(second.poll_wake(&mut cx).is_ready());
    // No time has passed: the waiter goes on at once, with the new token.
    match second.poll_action(Instant::ZERO) {
        Action::Send(r) => assert_eq!(r.headers()["authorization"], "Bearer ACCESS-1"),
        other => panic!("expected the Groups request, got {other:?}"),
    }
    assert_eq!(provider.renewals(), 1);
}

#[test]
fn a_waiter_is_woken_when_the_token_request_is_abandoned_and_takes_the_slot() {
    use groups_core::Action;
    let provider = native_provider();
    let (first, mut second, _) = one_fetching_one_waiting(&provider);
    let (counter, waker) = register_waiter(&mut second);
    let mut cx = std::task::Context::from_waker(&waker);
    drop(first); // cancelled while its token request was out
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert!(second.poll_wake(&mut cx).is_ready());
    match second.poll_action(Instant::ZERO) {
        Action::Send(r) => assert!(r.uri().path().ends_with("/v2/oauth2/token"), "{r:?}"),
        other => panic!("the waiter sends its own token request, got {other:?}"),
    }
}

#[test]
fn a_failed_token_request_wakes_its_waiters_with_the_failure() {
    use groups_core::{Action, Jitter};
    let provider = native_provider();
    let (mut first, mut second, _) = one_fetching_one_waiting(&provider);
    let (counter, waker) = register_waiter(&mut second);
    let mut cx = std::task::Context::from_waker(&waker);
    let refused = json(
        400,
        r#"{"error": "invalid_grant", "error_description": "revoked"}"#,
    );
    first.handle_response(refused, Instant::ZERO, Jitter::ZERO);
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert!(second.poll_wake(&mut cx).is_ready());
    match second.poll_action(Instant::ZERO) {
        Action::Done(Err(e)) => assert!(e.to_string().contains("invalid_grant"), "{e}"),
        other => panic!("the waiter ends with the failure, got {other:?}"),
    }
}
