//! The exchange state machine: one logical call with its retries, token
//! refreshes and overall deadline, without any IO.
//!
//! A driver loops:
//!
//! 1. `exchange.poll_action(now)`:
//!    * [`Action::Send`]: send the request; feed the outcome back with
//!      [`Exchange::handle_response`] or [`Exchange::handle_transport_error`];
//!    * [`Action::Wait`]: sleep until the instant, then poll again;
//!    * [`Action::Done`]: the call is over; this is its result.
//!
//! While a request is outstanding, `poll_action` answers `Wait(deadline)`, and
//! [`Action::Done`] with [`GroupsError::DeadlineExceeded`] once `now` reaches
//! the deadline: a driver that races its send against
//! `sleep_until(deadline)` just polls again when the sleep wins.
//!
//! A `Send` may carry a token request the [`TokenProvider`] asked for (a
//! refresh grant); the driver treats it like any other request, and the
//! exchange routes the answer to the provider.
//!
//! A 401 is retried once per call, at whatever attempt it happens, when the
//! provider says it can renew the token
//! ([`TokenProvider::handle_rejected`]); that retry starts at once (no
//! backoff) and does not count against `max_retries`.
//!
//! `Done(Ok(response))` carries the final response, success or not: the
//! operation's `parse_response` turns a non-2xx status into an API error.
//! Retry exhaustion ends in `Done(Err(GroupsError::RetriesExhausted))` keeping
//! the last error.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use bytes::Bytes;
//! use groups_core::auth::AccessTokenProvider;
//! use groups_core::exchange::{Action, Exchange};
//! use groups_core::retry::{Jitter, RetryPolicy};
//! use groups_core::transport::Instant;
//!
//! let request = http::Request::get("https://groups.api.globus.org/v2/groups/my_groups")
//!     .body(Bytes::new())
//!     .unwrap();
//! let auth = Arc::new(AccessTokenProvider::new("tok").unwrap());
//! let mut ex = Exchange::new(request, RetryPolicy::default(), auth, Some(Duration::from_secs(60)));
//!
//! let mut now = Instant::ZERO;
//! let Action::Send(first) = ex.poll_action(now) else { unreachable!() };
//! assert!(first.headers()["authorization"].is_sensitive());
//! let busy = http::Response::builder().status(503).body(Bytes::new()).unwrap();
//! ex.handle_response(busy, now, Jitter::ZERO);
//! let Action::Wait(until) = ex.poll_action(now) else { unreachable!() };
//! assert_eq!(until, now + Duration::from_millis(250));
//! now = until;
//! let Action::Send(_second) = ex.poll_action(now) else { unreachable!() };
//! let ok = http::Response::builder().status(200).body(Bytes::from_static(b"[]")).unwrap();
//! ex.handle_response(ok, now, Jitter::ZERO);
//! let Action::Done(Ok(response)) = ex.poll_action(now) else { unreachable!() };
//! assert_eq!(response.status(), 200);
//! assert_eq!(ex.attempts(), 2);
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http::header::AUTHORIZATION;

use crate::auth::{AuthPoll, TokenProvider, TokenTicket};
use crate::error::{GroupsAPIError, GroupsError};
use crate::retry::{Jitter, MethodClass, Outcome, RetryDecision, RetryPolicy};
use crate::transport::{Instant, TransportError};

/// Token requests allowed per call before the provider is deemed stuck.
const MAX_TOKEN_FETCHES: u32 = 4;
/// Shortest re-poll interval when a provider asks to wait for "now".
const MIN_PROVIDER_WAIT: Duration = Duration::from_millis(1);

/// What the driver must do next.
///
/// Its `Debug` shows a request's method, URL and body length, never the
/// body: a token request's body holds a refresh token or an
/// authorization code.
pub enum Action {
    /// Send this request and feed back the outcome.
    Send(http::Request<Bytes>),
    /// Sleep until this instant, then poll again.
    Wait(Instant),
    /// The call is over.
    Done(Result<http::Response<Bytes>, GroupsError>),
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Send(r) => f
                .debug_struct("Send")
                .field("method", r.method())
                .field("uri", r.uri())
                .field("body_len", &r.body().len())
                .finish_non_exhaustive(),
            Action::Wait(t) => f.debug_tuple("Wait").field(t).finish(),
            Action::Done(result) => f.debug_tuple("Done").field(result).finish(),
        }
    }
}

#[derive(Debug)]
enum State {
    /// Ready to start the next attempt, not before the instant.
    Ready { not_before: Option<Instant> },
    /// Waiting for another call's token request (single flight) to end,
    /// or until the instant, whichever comes first.
    WaitingForToken {
        ticket: TokenTicket,
        recheck_at: Instant,
    },
    /// A Groups request is outstanding.
    AwaitingResponse,
    /// A token request of the provider is outstanding.
    AwaitingToken(TokenTicket),
    /// Finished; the result has not been handed out yet.
    Finished(Option<Result<http::Response<Bytes>, GroupsError>>),
}

/// One logical call: retries, token refresh and deadline, as a state machine.
///
/// See the [module docs](self) for the driving loop.
#[derive(Debug)]
pub struct Exchange {
    template: Option<http::Request<Bytes>>,
    class: MethodClass,
    policy: RetryPolicy,
    provider: Arc<dyn TokenProvider>,
    deadline_after: Option<Duration>,
    deadline: Option<Instant>,
    state: State,
    attempts: u32,
    retries: u32,
    refreshed: bool,
    token_fetches: u32,
    sent_auth: Option<HeaderValue>,
    last_error: Option<GroupsError>,
}

impl Exchange {
    /// An exchange for `request` (built without `Authorization`; the provider
    /// adds it to every attempt). `deadline` bounds the whole call from the
    /// first `poll_action`.
    pub fn new(
        request: http::Request<Bytes>,
        policy: RetryPolicy,
        provider: Arc<dyn TokenProvider>,
        deadline: Option<Duration>,
    ) -> Self {
        Exchange {
            class: MethodClass::of(request.method()),
            template: Some(request),
            policy,
            provider,
            deadline_after: deadline,
            deadline: None,
            state: State::Ready { not_before: None },
            attempts: 0,
            retries: 0,
            refreshed: false,
            token_fetches: 0,
            sent_auth: None,
            last_error: None,
        }
    }

    /// The absolute deadline, once the first `poll_action` has fixed it.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Requests sent to the service so far (token requests not counted).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Retries made so far (the one 401-refresh retry not counted).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether the exchange has finished.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished(_))
    }

    fn finish(&mut self, result: Result<http::Response<Bytes>, GroupsError>) {
        if let State::AwaitingToken(ticket) = self.state {
            self.provider.abandon_token_request(ticket);
        }
        self.template = None;
        self.state = State::Finished(Some(result));
    }

    fn deadline_error(&mut self) -> GroupsError {
        GroupsError::DeadlineExceeded {
            deadline: self.deadline_after.unwrap_or_default(),
            attempts: self.attempts,
            last: self.last_error.take().map(Box::new),
        }
    }

    /// Decide retries as for `class` instead of the request's HTTP method
    /// (an operation may know better: a batch POST is idempotent in effect).
    pub fn with_method_class(mut self, class: MethodClass) -> Self {
        self.class = class;
        self
    }

    /// The class retries are decided for.
    pub fn method_class(&self) -> MethodClass {
        self.class
    }

    fn far_future() -> Instant {
        Instant::from_elapsed(Duration::MAX)
    }

    /// What to do next at `now`.
    pub fn poll_action(&mut self, now: Instant) -> Action {
        if self.deadline.is_none()
            && let Some(d) = self.deadline_after
        {
            self.deadline = Some(now + d);
        }
        if let State::Finished(result) = &mut self.state {
            return Action::Done(result.take().unwrap_or_else(|| {
                Err(GroupsError::internal(
                    "poll_action called after the exchange returned Done",
                ))
            }));
        }
        if self.deadline.is_some_and(|d| now >= d) {
            let e = self.deadline_error();
            self.finish(Err(e));
            return self.poll_action(now);
        }
        let wake = self.deadline.unwrap_or_else(Self::far_future);
        match self.state {
            State::AwaitingResponse | State::AwaitingToken(_) => Action::Wait(wake),
            State::Ready {
                not_before: Some(t),
            }
            | State::WaitingForToken { recheck_at: t, .. }
                if now < t =>
            {
                Action::Wait(t.min(wake))
            }
            State::Ready { .. } | State::WaitingForToken { .. } => self.start_attempt(now, wake),
            State::Finished(_) => unreachable!("handled above"),
        }
    }

    fn start_attempt(&mut self, now: Instant, wake: Instant) -> Action {
        match self.provider.poll_authorization(now) {
            AuthPoll::Ready(auth) => {
                let Some(template) = self.template.as_ref() else {
                    let e = GroupsError::internal("exchange has no request to send");
                    self.finish(Err(e));
                    return self.poll_action(now);
                };
                let mut request = template.clone();
                match &auth {
                    Some(v) => {
                        request.headers_mut().insert(AUTHORIZATION, v.clone());
                    }
                    None => {
                        request.headers_mut().remove(AUTHORIZATION);
                    }
                }
                self.sent_auth = auth;
                self.attempts += 1;
                if let Some(meta) = request
                    .extensions_mut()
                    .get_mut::<crate::transport::RequestMeta>()
                {
                    meta.attempt = self.attempts;
                    meta.deadline = self.deadline;
                }
                self.state = State::AwaitingResponse;
                Action::Send(request)
            }
            AuthPoll::Fetch { ticket, request } => {
                self.token_fetches += 1;
                if self.token_fetches > MAX_TOKEN_FETCHES {
                    self.provider.abandon_token_request(ticket);
                    self.finish(Err(GroupsError::Token(format!(
                        "the token provider asked for more than {MAX_TOKEN_FETCHES} token requests in one call"
                    ))));
                    return self.poll_action(now);
                }
                self.state = State::AwaitingToken(ticket);
                Action::Send(*request)
            }
            AuthPoll::WaitUntil(t) => {
                let t = t.max(now + MIN_PROVIDER_WAIT);
                self.state = State::Ready {
                    not_before: Some(t),
                };
                Action::Wait(t.min(wake))
            }
            AuthPoll::WaitForFetch { ticket, recheck_at } => {
                let t = recheck_at.max(now + MIN_PROVIDER_WAIT);
                self.state = State::WaitingForToken {
                    ticket,
                    recheck_at: t,
                };
                Action::Wait(t.min(wake))
            }
            AuthPoll::Failed(e) => {
                self.finish(Err(e));
                self.poll_action(now)
            }
        }
    }

    /// While the driver sleeps after an [`Action::Wait`]: `Ready` as soon as
    /// the wait may end early, so the driver polls again at once instead of
    /// sleeping on. That is when the exchange is waiting for another call's
    /// token request and that request has ended; otherwise `Pending`, and
    /// the task is woken when that request ends (the provider keeps its
    /// waker). A driver that never calls this still works: it wakes at the
    /// instant of the `Wait`.
    ///
    /// ```
    /// # use groups_core::exchange::{Action, Exchange};
    /// # use std::task::Context;
    /// # fn sleep_or_wake(exchange: &mut Exchange, cx: &mut Context<'_>) {
    /// // In a driver's sleep future: end the sleep early when woken.
    /// if exchange.poll_wake(cx).is_ready() {
    ///     // poll_action again now
    /// }
    /// # }
    /// ```
    pub fn poll_wake(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let State::WaitingForToken { ticket, .. } = self.state else {
            return std::task::Poll::Pending;
        };
        match self.provider.poll_fetch_done(ticket, cx) {
            std::task::Poll::Ready(()) => {
                self.state = State::Ready { not_before: None };
                std::task::Poll::Ready(())
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }

    /// Schedule a retry `delay` from `now`, or end with a deadline error if it
    /// would start after the deadline.
    fn schedule_retry(&mut self, now: Instant, delay: Duration, last: GroupsError) {
        let at = now + delay;
        self.retries += 1;
        self.last_error = Some(last);
        if self.deadline.is_some_and(|d| at >= d) {
            let e = self.deadline_error();
            self.finish(Err(e));
        } else {
            self.state = State::Ready {
                not_before: Some(at),
            };
        }
    }

    /// Feed the response to the request of the last [`Action::Send`].
    /// `jitter` is used if a backoff has to be computed.
    pub fn handle_response(
        &mut self,
        response: http::Response<Bytes>,
        now: Instant,
        jitter: Jitter,
    ) {
        match self.state {
            State::AwaitingToken(ticket) => {
                self.state = State::Ready { not_before: None };
                if let Err(e) = self
                    .provider
                    .handle_token_response(ticket, Ok(response), now)
                {
                    self.finish(Err(e));
                }
            }
            State::AwaitingResponse => self.on_response(response, now, jitter),
            _ => {
                if !self.is_finished() {
                    self.finish(Err(GroupsError::internal(
                        "handle_response called while no request was outstanding",
                    )));
                }
            }
        }
    }

    fn on_response(&mut self, response: http::Response<Bytes>, now: Instant, jitter: Jitter) {
        let status = response.status();
        if status == http::StatusCode::UNAUTHORIZED
            && !self.refreshed
            && self.provider.handle_rejected(self.sent_auth.as_ref(), now)
        {
            self.refreshed = true;
            self.last_error = Some(GroupsAPIError::from_response(response).into());
            self.state = State::Ready { not_before: None };
            return;
        }
        let decision = self.policy.decide(
            self.class,
            Outcome::of_response(&response),
            self.retries,
            jitter,
        );
        match decision {
            RetryDecision::DoNotRetry => self.finish(Ok(response)),
            RetryDecision::Exhausted => {
                let last = GroupsError::from(GroupsAPIError::from_response(response));
                self.finish(Err(GroupsError::RetriesExhausted {
                    attempts: self.attempts,
                    last: Box::new(last),
                }));
            }
            RetryDecision::RetryAfter(delay) => {
                let last = GroupsError::from(GroupsAPIError::from_response(response));
                self.schedule_retry(now, delay, last);
            }
        }
    }

    /// Feed the transport failure of the request of the last
    /// [`Action::Send`].
    pub fn handle_transport_error(&mut self, error: TransportError, now: Instant, jitter: Jitter) {
        match self.state {
            State::AwaitingToken(ticket) => {
                self.state = State::Ready { not_before: None };
                if let Err(e) = self.provider.handle_token_response(ticket, Err(error), now) {
                    self.finish(Err(e));
                }
            }
            State::AwaitingResponse if self.deadline.is_some_and(|d| now >= d) => {
                // The attempt ended at (or after) the overall deadline, e.g. a
                // transport enforcing it: that is the call's deadline passing.
                self.last_error = Some(error.into());
                let e = self.deadline_error();
                self.finish(Err(e));
            }
            State::AwaitingResponse => {
                let decision = self.policy.decide(
                    self.class,
                    Outcome::Transport(error.kind()),
                    self.retries,
                    jitter,
                );
                match decision {
                    RetryDecision::DoNotRetry => self.finish(Err(error.into())),
                    RetryDecision::Exhausted => self.finish(Err(GroupsError::RetriesExhausted {
                        attempts: self.attempts,
                        last: Box::new(error.into()),
                    })),
                    RetryDecision::RetryAfter(delay) => {
                        self.schedule_retry(now, delay, error.into())
                    }
                }
            }
            _ => {
                if !self.is_finished() {
                    self.finish(Err(GroupsError::internal(
                        "handle_transport_error called while no request was outstanding",
                    )));
                }
            }
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if let State::AwaitingToken(ticket) = self.state {
            self.provider.abandon_token_request(ticket);
        }
    }
}
