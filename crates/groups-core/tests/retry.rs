//! Retry decisions as tables: every status, method class, transport kind,
//! Retry-After form and attempt count.

use std::time::Duration;

use groups_core::retry::{
    Jitter, MethodClass, Outcome, RetryDecision, RetryPolicy, parse_retry_after,
};
use groups_core::transport::TransportErrorKind;
use http::{HeaderValue, Method, StatusCode};

use MethodClass::{Idempotent as I, NonIdempotent as N};
use RetryDecision::{DoNotRetry, Exhausted, RetryAfter};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn decide_status(
    class: MethodClass,
    status: u16,
    retry_after: Option<&str>,
    retries: u32,
) -> RetryDecision {
    let ra = retry_after.map(|s| HeaderValue::from_str(s).unwrap());
    RetryPolicy::default().decide(
        class,
        Outcome::status(StatusCode::from_u16(status).unwrap(), ra.as_ref()),
        retries,
        Jitter::ZERO,
    )
}

#[test]
fn method_classes() {
    for m in [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ] {
        assert_eq!(MethodClass::of(&m), I, "{m}");
    }
    for m in [
        Method::POST,
        Method::PATCH,
        Method::CONNECT,
        Method::from_bytes(b"PURGE").unwrap(),
    ] {
        assert_eq!(MethodClass::of(&m), N, "{m}");
    }
}

#[test]
fn status_table() {
    // (status, idempotent retries?, non-idempotent retries?)
    let table: &[(u16, bool, bool)] = &[
        (200, false, false),
        (201, false, false),
        (204, false, false),
        (301, false, false),
        (304, false, false),
        (400, false, false),
        (401, false, false),
        (403, false, false),
        (404, false, false),
        (408, false, false),
        (409, false, false),
        (422, false, false),
        (429, true, true),
        (500, true, false),
        (501, false, false),
        (502, true, false),
        // A 503 may come from a proxy after the service applied the request:
        // only idempotent calls repeat it.
        (503, true, false),
        (504, true, false),
        (505, false, false),
        (599, false, false),
    ];
    for &(status, idem, non_idem) in table {
        for (class, expect) in [(I, idem), (N, non_idem)] {
            let d = decide_status(class, status, None, 0);
            let retried = matches!(d, RetryAfter(_));
            assert_eq!(retried, expect, "status {status} class {class:?}: {d:?}");
            if expect {
                assert_eq!(d, RetryAfter(ms(250)), "status {status}");
            }
        }
    }
}

#[test]
fn transport_kind_table() {
    use TransportErrorKind::*;
    let table = [
        (Connect, true, true),
        (Timeout, true, false),
        (Io, true, false),
        (Tls, false, false),
        (BodyTooLarge, false, false),
        (Refused, false, false),
        (Other, false, false),
    ];
    let p = RetryPolicy::default();
    for (kind, idem, non_idem) in table {
        for (class, expect) in [(I, idem), (N, non_idem)] {
            let d = p.decide(class, Outcome::Transport(kind), 0, Jitter::ZERO);
            assert_eq!(
                matches!(d, RetryAfter(_)),
                expect,
                "{kind:?} {class:?}: {d:?}"
            );
            assert_eq!(p.is_retryable(class, &Outcome::Transport(kind)), expect);
        }
    }
}

#[test]
fn retry_after_forms() {
    // (header, expected wait on a 503 for the first retry; backoff = 250 ms)
    let table: &[(&str, Duration)] = &[
        ("3", ms(3000)),
        (" 2 ", ms(2000)),
        ("+4", ms(4000)),
        ("1.5", ms(1500)),
        ("0.25", ms(250)),
        ("10", ms(10_000)),
        ("30", ms(10_000)),                      // clamped to max_retry_after
        ("99999999999999999999999", ms(10_000)), // huge: clamped
        ("0", ms(250)),                          // zero: backoff
        ("0.0", ms(250)),
        ("-5", ms(250)), // negative: ignored
        ("-0.5", ms(250)),
        ("", ms(250)),     // empty: ignored
        ("soon", ms(250)), // malformed: ignored
        ("1e3", ms(250)),
        ("NaN", ms(250)),
        ("inf", ms(250)),
        ("1.2.3", ms(250)),
        (".", ms(250)),
        ("Wed, 21 Oct 2015 07:28:00 GMT", ms(250)), // HTTP-date: no wall clock, backoff
    ];
    for &(header, expected) in table {
        for (status, class) in [(429, I), (429, N), (503, I)] {
            {
                assert_eq!(
                    decide_status(class, status, Some(header), 0),
                    RetryAfter(expected),
                    "Retry-After {header:?} on {status} {class:?}"
                );
            }
        }
    }
    // Retry-After is only honoured on 429 and 503.
    assert_eq!(decide_status(I, 500, Some("7"), 0), RetryAfter(ms(250)));
    assert_eq!(decide_status(I, 502, Some("7"), 0), RetryAfter(ms(250)));
    // A non-retryable status never retries, whatever Retry-After says.
    assert_eq!(decide_status(I, 404, Some("1"), 0), DoNotRetry);
    assert_eq!(decide_status(N, 500, Some("1"), 0), DoNotRetry);
    // Non-ASCII header bytes are ignored, not an error.
    let raw = HeaderValue::from_bytes(b"\xff3").unwrap();
    assert_eq!(parse_retry_after(&raw, ms(10_000)), None);
}

#[test]
fn retry_after_can_be_turned_off_and_capped_separately() {
    let mut p = RetryPolicy::default();
    p.honour_retry_after = false;
    assert_eq!(p, RetryPolicy::default().with_honour_retry_after(false));
    let v = HeaderValue::from_static("3");
    assert_eq!(
        p.decide(
            I,
            Outcome::status(StatusCode::TOO_MANY_REQUESTS, Some(&v)),
            0,
            Jitter::ZERO
        ),
        RetryAfter(ms(250))
    );
    let p = RetryPolicy::default().with_max_retry_after(ms(2000));
    assert_eq!(
        p.decide(
            I,
            Outcome::status(StatusCode::TOO_MANY_REQUESTS, Some(&v)),
            0,
            Jitter::ZERO
        ),
        RetryAfter(ms(2000))
    );
}

#[test]
fn backoff_by_attempt_and_jitter() {
    let p = RetryPolicy::default();
    // (retries done, jitter, expected)
    let table: &[(u32, f64, Duration)] = &[
        (0, 0.0, ms(250)),
        (1, 0.0, ms(500)),
        (2, 0.0, ms(1000)),
        (3, 0.0, ms(2000)),
        (4, 0.0, ms(4000)),
        (0, 0.5, ms(500)),
        (1, 0.5, ms(1000)),
        (2, 0.5, ms(2000)),
        (3, 0.5, ms(4000)),
        (4, 0.5, ms(8000)),
        (4, 0.75, ms(10_000)), // 4 * (0.25 + 0.375) * ... = 10 s exactly
        (4, 0.99, ms(10_000)), // 11.92 s capped at 10 s
        (30, 0.0, ms(10_000)),
        (u32::MAX, 0.9, ms(10_000)),
    ];
    for &(n, j, expected) in table {
        let got = p.backoff(n, Jitter::new(j));
        let diff = got.abs_diff(expected);
        assert!(
            diff < Duration::from_micros(1),
            "retry {n} jitter {j}: {got:?} != {expected:?}"
        );
    }
}

#[test]
fn attempt_counts_and_exhaustion() {
    let p = RetryPolicy::default();
    assert_eq!(p.max_retries, 5);
    let outcome = Outcome::status(StatusCode::SERVICE_UNAVAILABLE, None);
    let waits: Vec<RetryDecision> = (0..=6)
        .map(|n| p.decide(I, outcome, n, Jitter::ZERO))
        .collect();
    assert_eq!(
        waits,
        vec![
            RetryAfter(ms(250)),
            RetryAfter(ms(500)),
            RetryAfter(ms(1000)),
            RetryAfter(ms(2000)),
            RetryAfter(ms(4000)),
            Exhausted,
            Exhausted,
        ]
    );
    let none = RetryPolicy::no_retries();
    assert_eq!(none.decide(I, outcome, 0, Jitter::ZERO), Exhausted);
    assert_eq!(
        none.decide(
            I,
            Outcome::status(StatusCode::NOT_FOUND, None),
            0,
            Jitter::ZERO
        ),
        DoNotRetry
    );
    let two = RetryPolicy::default().with_max_retries(2);
    assert_eq!(
        two.decide(
            N,
            Outcome::Transport(TransportErrorKind::Connect),
            1,
            Jitter::ZERO
        ),
        RetryAfter(ms(500))
    );
    assert_eq!(
        two.decide(
            N,
            Outcome::Transport(TransportErrorKind::Connect),
            2,
            Jitter::ZERO
        ),
        Exhausted
    );
}

#[test]
fn non_idempotent_opt_in_uses_idempotent_rules() {
    let p = RetryPolicy::default().with_retry_non_idempotent_as_idempotent(true);
    assert!(matches!(
        p.decide(
            N,
            Outcome::status(StatusCode::BAD_GATEWAY, None),
            0,
            Jitter::ZERO
        ),
        RetryAfter(_)
    ));
    assert!(matches!(
        p.decide(
            N,
            Outcome::Transport(TransportErrorKind::Timeout),
            0,
            Jitter::ZERO
        ),
        RetryAfter(_)
    ));
}

#[test]
fn jitter_is_clamped_into_unit_interval() {
    assert_eq!(Jitter::new(-1.0).get(), 0.0);
    assert_eq!(Jitter::new(f64::NAN).get(), 0.0);
    assert!(Jitter::new(1.0).get() < 1.0);
    assert!(Jitter::new(7.0).get() < 1.0);
    assert_eq!(Jitter::new(0.3).get(), 0.3);
    assert_eq!(Jitter::from_bits(0).get(), 0.0);
    assert!(Jitter::from_bits(u64::MAX).get() < 1.0);
}

#[test]
fn splitmix_is_deterministic_and_spread() {
    use groups_core::retry::{JitterSource, SplitMix64};
    let a = SplitMix64::new(42);
    let b = SplitMix64::new(42);
    let xs: Vec<f64> = (0..100).map(|_| a.next_jitter().get()).collect();
    let ys: Vec<f64> = (0..100).map(|_| b.next_jitter().get()).collect();
    assert_eq!(xs, ys);
    assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!((0.35..0.65).contains(&mean), "mean {mean}");
    let c = SplitMix64::new(43);
    assert_ne!(c.next_u64(), SplitMix64::new(42).next_u64());
}
