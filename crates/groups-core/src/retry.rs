//! Retry policy as data, and the pure function that decides.
//!
//! [`RetryPolicy::decide`] looks at what happened to one attempt (a status or
//! a transport failure), the method class, how many retries were already made
//! and a jitter value, and answers [`RetryDecision`]. It reads no clock and
//! draws no random numbers: jitter is an argument.
//!
//! The rules (defaults match globus-sdk where it is right):
//!
//! | | idempotent (GET, PUT, DELETE, HEAD, OPTIONS) | non-idempotent (POST, PATCH) |
//! | --- | --- | --- |
//! | statuses retried | 429, 500, 502, 503, 504 | 429 only |
//! | transport failures retried | connect, timeout, I/O | connect only (the request was never sent) |
//!
//! The class comes from the operation, not only the method: the batch
//! membership POST is idempotent in effect (each verb moves a membership to a
//! target state) and is retried like a PUT, while `create_group` is not.
//!
//! TLS, body-too-large, refused and other transport failures are never
//! retried. Up to [`RetryPolicy::max_retries`] retries (default 5); the wait is
//! `(0.25 + 0.5 * jitter) * 2^retry` seconds capped at 10 s, or a positive
//! `Retry-After` (integer or decimal seconds) on a 429 or 503, capped at 10 s.
//! A zero, negative, malformed or HTTP-date `Retry-After` falls back to the
//! backoff (the core has no wall clock to interpret dates).
//!
//! ```
//! use std::time::Duration;
//! use groups_core::retry::{Jitter, MethodClass, Outcome, RetryDecision, RetryPolicy};
//!
//! use http::{HeaderValue, StatusCode};
//!
//! let policy = RetryPolicy::default();
//! let three = HeaderValue::from_static("3");
//! let busy = Outcome::status(StatusCode::SERVICE_UNAVAILABLE, Some(&three));
//! let d = policy.decide(MethodClass::Idempotent, busy, 0, Jitter::ZERO);
//! assert_eq!(d, RetryDecision::RetryAfter(Duration::from_secs(3)));
//! let failed = Outcome::status(StatusCode::INTERNAL_SERVER_ERROR, None);
//! let d = policy.decide(MethodClass::NonIdempotent, failed, 0, Jitter::ZERO);
//! assert_eq!(d, RetryDecision::DoNotRetry);
//! ```

use std::time::Duration;

use http::{HeaderValue, Method, StatusCode};

use crate::transport::TransportErrorKind;

/// Statuses retried for idempotent calls.
pub const IDEMPOTENT_RETRY_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
/// Statuses retried for non-idempotent calls. Only 429: a rate limiter
/// refuses before the request is processed. A 503 proves nothing (a proxy
/// may answer it after the service applied the request), so a
/// non-idempotent call answered 503 is not repeated.
pub const NON_IDEMPOTENT_RETRY_STATUSES: [u16; 1] = [429];
/// Statuses whose `Retry-After` header is honoured.
pub const RETRY_AFTER_STATUSES: [u16; 2] = [429, 503];

/// Whether repeating a request is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodClass {
    /// GET, PUT, DELETE, HEAD, OPTIONS: repeating has the same effect.
    Idempotent,
    /// POST, PATCH and anything unknown: repeating may act twice (create a
    /// second group, apply a batch twice).
    NonIdempotent,
}

impl MethodClass {
    /// The class of `method`.
    pub fn of(method: &Method) -> Self {
        if *method == Method::GET
            || *method == Method::PUT
            || *method == Method::DELETE
            || *method == Method::HEAD
            || *method == Method::OPTIONS
        {
            MethodClass::Idempotent
        } else {
            MethodClass::NonIdempotent
        }
    }
}

/// A jitter value in `[0, 1)`, supplied by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Jitter(f64);

impl Jitter {
    /// No jitter (the shortest backoff).
    pub const ZERO: Jitter = Jitter(0.0);
    /// The middle of the range.
    pub const HALF: Jitter = Jitter(0.5);

    /// Clamp `value` into `[0, 1)`; NaN becomes 0.
    pub fn new(value: f64) -> Self {
        if value.is_nan() || value <= 0.0 {
            Jitter(0.0)
        } else if value >= 1.0 {
            Jitter(1.0 - f64::EPSILON)
        } else {
            Jitter(value)
        }
    }

    /// Map 64 random bits uniformly onto `[0, 1)` (53 bits of precision).
    pub fn from_bits(bits: u64) -> Self {
        Jitter((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A source of jitter values for drivers. `Exchange` itself takes values, not
/// sources; this is for code that drives exchanges.
pub trait JitterSource {
    /// The next jitter value.
    fn next_jitter(&self) -> Jitter;
}

/// A small seedable generator (SplitMix64) behind an atomic, shareable
/// between threads. Not cryptographic; good enough to spread retries.
#[derive(Debug)]
pub struct SplitMix64 {
    state: std::sync::atomic::AtomicU64,
}

impl SplitMix64 {
    /// A generator starting at `seed`; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        SplitMix64 {
            state: std::sync::atomic::AtomicU64::new(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let s = self
            .state
            .fetch_add(GAMMA, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(GAMMA);
        mix64(s)
    }
}

/// SplitMix64's output function: a strong 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl JitterSource for SplitMix64 {
    fn next_jitter(&self) -> Jitter {
        Jitter::from_bits(self.next_u64())
    }
}

/// A fixed jitter value as a source (handy in tests).
impl JitterSource for Jitter {
    fn next_jitter(&self) -> Jitter {
        *self
    }
}

/// What happened to one attempt, as far as retrying cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// A response arrived.
    Status {
        /// Its status.
        status: StatusCode,
        /// Its `Retry-After` header, if any.
        retry_after: Option<&'a HeaderValue>,
    },
    /// The transport failed.
    Transport(TransportErrorKind),
}

impl<'a> Outcome<'a> {
    /// A response outcome from a status and an optional `Retry-After` value.
    pub fn status(status: StatusCode, retry_after: Option<&'a HeaderValue>) -> Self {
        Outcome::Status {
            status,
            retry_after,
        }
    }

    /// An outcome for `response`.
    pub fn of_response<B>(response: &'a http::Response<B>) -> Self {
        Outcome::Status {
            status: response.status(),
            retry_after: response.headers().get(http::header::RETRY_AFTER),
        }
    }
}

/// The answer of [`RetryPolicy::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Success or a final failure: hand the outcome to the caller.
    DoNotRetry,
    /// Try again after this delay.
    RetryAfter(Duration),
    /// The outcome is retryable but the retry budget is spent.
    Exhausted,
}

/// How a call retries. Plain data; see the module docs for the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 5, so at most 6 attempts).
    /// 0 disables retrying.
    pub max_retries: u32,
    /// The fixed part of the backoff before doubling (default 250 ms).
    pub backoff_base: Duration,
    /// The jittered part: `jitter * backoff_jitter` is added (default 500 ms).
    pub backoff_jitter: Duration,
    /// Cap on one computed backoff (default 10 s).
    pub max_backoff: Duration,
    /// Cap on one `Retry-After` wait (default 10 s).
    pub max_retry_after: Duration,
    /// Whether to honour `Retry-After` on 429 and 503 (default true).
    pub honour_retry_after: bool,
    /// Opt in to retrying non-idempotent calls (POST) under the idempotent
    /// rules: after 500/502/504 and timeouts too. Default false, because a
    /// repeated create or batch may act twice.
    pub retry_non_idempotent_as_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            backoff_base: Duration::from_millis(250),
            backoff_jitter: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
            honour_retry_after: true,
            retry_non_idempotent_as_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn no_retries() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Set [`RetryPolicy::max_retries`].
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Set the backoff base and jitter span.
    pub fn with_backoff(mut self, base: Duration, jitter_span: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_jitter = jitter_span;
        self
    }

    /// Set the cap on one computed backoff.
    pub fn with_max_backoff(mut self, cap: Duration) -> Self {
        self.max_backoff = cap;
        self
    }

    /// Set the cap on one `Retry-After` wait.
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Set [`RetryPolicy::honour_retry_after`].
    pub fn with_honour_retry_after(mut self, yes: bool) -> Self {
        self.honour_retry_after = yes;
        self
    }

    /// Set [`RetryPolicy::retry_non_idempotent_as_idempotent`].
    pub fn with_retry_non_idempotent_as_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent_as_idempotent = yes;
        self
    }

    /// Whether `outcome` is retryable for `class`, ignoring the budget.
    pub fn is_retryable(&self, class: MethodClass, outcome: &Outcome<'_>) -> bool {
        let class = if self.retry_non_idempotent_as_idempotent {
            MethodClass::Idempotent
        } else {
            class
        };
        match (*outcome, class) {
            (Outcome::Status { status, .. }, MethodClass::Idempotent) => {
                IDEMPOTENT_RETRY_STATUSES.contains(&status.as_u16())
            }
            (Outcome::Status { status, .. }, MethodClass::NonIdempotent) => {
                NON_IDEMPOTENT_RETRY_STATUSES.contains(&status.as_u16())
            }
            (Outcome::Transport(kind), MethodClass::Idempotent) => matches!(
                kind,
                TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
            ),
            (Outcome::Transport(kind), MethodClass::NonIdempotent) => {
                kind == TransportErrorKind::Connect
            }
        }
    }

    /// The exponential backoff after the retry numbered `retry` (0-based):
    /// `(base + jitter * span) * 2^retry`, capped at `max_backoff`.
    pub fn backoff(&self, retry: u32, jitter: Jitter) -> Duration {
        let unit =
            self.backoff_base.as_secs_f64() + jitter.get() * self.backoff_jitter.as_secs_f64();
        let secs = unit * 2f64.powi(retry.min(62) as i32);
        let cap = self.max_backoff.as_secs_f64();
        if !secs.is_finite() || secs >= cap {
            self.max_backoff
        } else {
            Duration::from_secs_f64(secs.max(0.0))
        }
    }

    /// Decide what to do after an attempt. `retries_done` is how many retries
    /// were already made for this call (0 after the first attempt).
    pub fn decide(
        &self,
        class: MethodClass,
        outcome: Outcome<'_>,
        retries_done: u32,
        jitter: Jitter,
    ) -> RetryDecision {
        if !self.is_retryable(class, &outcome) {
            return RetryDecision::DoNotRetry;
        }
        if retries_done >= self.max_retries {
            return RetryDecision::Exhausted;
        }
        if let Outcome::Status {
            status,
            retry_after: Some(value),
        } = outcome
            && self.honour_retry_after
            && RETRY_AFTER_STATUSES.contains(&status.as_u16())
            && let Some(d) = parse_retry_after(value, self.max_retry_after)
        {
            return RetryDecision::RetryAfter(d);
        }
        RetryDecision::RetryAfter(self.backoff(retries_done, jitter))
    }
}

/// Parse a `Retry-After` value as a positive number of seconds (integer or
/// decimal), capped at `cap`. Zero, negative, malformed, non-finite and
/// HTTP-date values give `None` (use the backoff instead).
///
/// ```
/// use std::time::Duration;
/// use http::HeaderValue;
/// use groups_core::retry::parse_retry_after;
/// let cap = Duration::from_secs(10);
/// assert_eq!(parse_retry_after(&HeaderValue::from_static("3"), cap), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after(&HeaderValue::from_static("1.5"), cap), Some(Duration::from_millis(1500)));
/// assert_eq!(parse_retry_after(&HeaderValue::from_static("30"), cap), Some(cap));
/// assert_eq!(parse_retry_after(&HeaderValue::from_static("-5"), cap), None);
/// assert_eq!(parse_retry_after(&HeaderValue::from_static("soon"), cap), None);
/// ```
pub fn parse_retry_after(value: &HeaderValue, cap: Duration) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    let mut seen_dot = false;
    let well_formed = !digits.is_empty()
        && digits.len() <= 32
        && digits.chars().all(|c| {
            if c == '.' && !seen_dot {
                seen_dot = true;
                true
            } else {
                c.is_ascii_digit()
            }
        })
        && digits.chars().any(|c| c.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let secs: f64 = digits.parse().ok()?;
    if !secs.is_finite() || secs <= 0.0 {
        return None;
    }
    if secs >= cap.as_secs_f64() {
        return Some(cap);
    }
    Duration::try_from_secs_f64(secs).ok()
}
