//! Token providers that renew their access token through Globus Auth:
//! [`RefreshTokenProvider`] and [`ClientCredentialsProvider`], plus the
//! static [`BasicAuthProvider`] for confidential-client calls.
//!
//! They are sans-IO like every [`TokenProvider`]: when a token is needed
//! they answer [`AuthPoll::Fetch`] with the token request, the exchange
//! sends it through the call's own transport (so Groups calls and token
//! requests share one connection pool), and the answer comes back through
//! [`TokenProvider::handle_token_response`] with the transport's `now`.
//!
//! # Rules
//!
//! * **When to renew.** When there is no token, or when `now` has reached
//!   60 seconds before the expiry `expires_in` announced (`now >=
//!   expires_at - 60 s`), as globus-sdk does.
//! * **Single flight.** One token request at a time: while it is out,
//!   every other call that needs a token is told to wait for it
//!   ([`AuthPoll::WaitForFetch`]). When the request ends (answered,
//!   failed or abandoned) the provider wakes every waiting task at once
//!   ([`TokenProvider::poll_fetch_done`]), so waiters use the new token as
//!   soon as it exists; drivers that do not listen for the wake-up re-check
//!   every [`WAIT_POLL_INTERVAL`]. A call that gives up on its token
//!   request (cancelled, deadline) releases the slot.
//! * **After a 401**, the rejected token is dropped and the call retried
//!   once with a new one.
//! * **Rotation.** A refresh answer that carries a new refresh token
//!   replaces the old one.
//! * **Persistence.** The `on_refresh` hook runs after every successful
//!   renewal with the whole answer, outside the provider's lock.
//! * **What is retried.** A connection that could not be made sent
//!   nothing, so the token request is sent again (up to
//!   [`MAX_CONNECT_RETRIES`] times, after a short pause). A refresh whose
//!   answer was lost (read timeout, connection broken mid-answer) may
//!   already have rotated the refresh token on the server: it is never
//!   sent again within the call; the call and every call waiting for it
//!   fail with a transient [`AuthError`], and a later call may try again
//!   after [`FAILURE_HOLD`]. `invalid_grant` and `invalid_client` are
//!   final: every later call fails at once with the same typed error, with
//!   no new token request, until the provider is given new credentials.
//! * **Secrets** (client secret, refresh and access tokens) never appear in
//!   `Debug`, `Display` or errors.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;

use super::error::{AuthError, AuthErrorKind};
use super::models::TokenResponse;
use super::ops::{ClientCredentialsGrant, OAuthClient, RefreshTokenGrant, parse_token_response};
use super::{AuthPoll, SecretString, TokenProvider, TokenTicket, bearer_header};
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::operation::Operation;
use crate::transport::{Instant, RequestMeta, TransportError, TransportErrorKind};

/// A token is renewed once `now` reaches this long before its expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// How often a call waiting for another call's token request re-checks
/// when its driver does not listen for the provider's wake-up.
pub const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(5);
/// How many times a token request that could not connect is sent again.
pub const MAX_CONNECT_RETRIES: u32 = 2;
/// The pause before sending a token request again after a connect failure.
pub const CONNECT_RETRY_DELAY: Duration = Duration::from_millis(100);
/// How long a transient token failure is reported to every call before a
/// new token request may be tried.
pub const FAILURE_HOLD: Duration = Duration::from_secs(1);

/// The hook called after every successful renewal, with the answer (to
/// persist the new tokens).
pub type OnRefresh = Box<dyn Fn(&TokenResponse) + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone)]
struct Failure {
    error: AuthError,
    /// `None`: final until new credentials are given.
    until: Option<Instant>,
}

#[derive(Default)]
struct State {
    header: Option<HeaderValue>,
    expires_at: Option<Instant>,
    refresh_token: Option<SecretString>,
    in_flight: Option<TokenTicket>,
    /// Tasks waiting for the request in flight to end (one entry per task).
    waiters: Vec<Waker>,
    next_ticket: u64,
    failure: Option<Failure>,
    connect_failures: u32,
    retry_not_before: Option<Instant>,
    renewals: u64,
}

enum Grant {
    Refresh,
    ClientCredentials { scopes: String },
}

/// The renewal engine both renewing providers share.
struct Renewer {
    name: &'static str,
    auth: ClientConfig,
    client: OAuthClient,
    grant: Grant,
    on_refresh: Option<OnRefresh>,
    state: Mutex<State>,
}

impl Renewer {
    fn token_request(&self, st: &State) -> Result<http::Request<Bytes>, GroupsError> {
        let (mut request, name) = match &self.grant {
            Grant::Refresh => {
                let rt = st.refresh_token.as_ref().ok_or_else(|| {
                    GroupsError::from(AuthError::new(
                        AuthErrorKind::InvalidGrant,
                        "no refresh token",
                    ))
                })?;
                (
                    RefreshTokenGrant::new(&self.client, rt.clone()).build_request(&self.auth)?,
                    RefreshTokenGrant::NAME,
                )
            }
            Grant::ClientCredentials { scopes } => (
                ClientCredentialsGrant::new(&self.client, scopes.split(' '))
                    .build_request(&self.auth)?,
                ClientCredentialsGrant::NAME,
            ),
        };
        // Transports name the operation in their traces.
        request.extensions_mut().insert(RequestMeta::new(name));
        Ok(request)
    }

    fn poll(&self, now: Instant) -> AuthPoll {
        let mut st = lock(&self.state);
        if let Some(f) = &st.failure {
            if f.until.is_none_or(|u| now < u) {
                return AuthPoll::Failed(f.error.clone().into());
            }
            st.failure = None;
        }
        if let (Some(h), Some(exp)) = (&st.header, st.expires_at)
            && now < exp.saturating_sub_duration(EXPIRY_MARGIN)
        {
            return AuthPoll::Ready(Some(h.clone()));
        }
        if let Some(ticket) = st.in_flight {
            return AuthPoll::WaitForFetch {
                ticket,
                recheck_at: now + WAIT_POLL_INTERVAL,
            };
        }
        if let Some(t) = st.retry_not_before
            && now < t
        {
            return AuthPoll::WaitUntil(t);
        }
        let request = match self.token_request(&st) {
            Ok(r) => r,
            Err(e) => return AuthPoll::Failed(e),
        };
        let ticket = TokenTicket(st.next_ticket);
        st.next_ticket += 1;
        st.in_flight = Some(ticket);
        AuthPoll::Fetch {
            ticket,
            request: Box::new(request),
        }
    }

    fn fail(st: &mut State, error: AuthError, now: Instant) -> GroupsError {
        let final_ = matches!(
            error.kind(),
            AuthErrorKind::InvalidGrant | AuthErrorKind::InvalidClient
        );
        st.connect_failures = 0;
        st.retry_not_before = None;
        st.failure = Some(Failure {
            error: error.clone(),
            until: if final_ {
                None
            } else {
                Some(now + FAILURE_HOLD)
            },
        });
        error.into()
    }

    /// Mark the request in flight as ended; the tasks waiting for it are
    /// returned, to be woken once the lock is released.
    fn end_flight(st: &mut State) -> Vec<Waker> {
        st.in_flight = None;
        std::mem::take(&mut st.waiters)
    }

    fn handle(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Result<(), GroupsError> {
        let mut st = lock(&self.state);
        if st.in_flight != Some(ticket) {
            // Not the request in flight (released after a cancel): the
            // exchange polls again and sees the current state.
            return Ok(());
        }
        let waiters = Self::end_flight(&mut st);
        let result = self.settle(&mut st, outcome, now);
        drop(st);
        // Woken outside the lock: each waiter polls the provider again.
        for w in waiters {
            w.wake();
        }
        match result {
            Ok(Some(tokens)) => {
                if let Some(hook) = &self.on_refresh {
                    hook(&tokens);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Apply the outcome of the request that was in flight: `Ok(Some)` is
    /// a renewal (for the hook), `Ok(None)` a pause before sending again.
    fn settle(
        &self,
        st: &mut State,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Result<Option<TokenResponse>, GroupsError> {
        let response = match outcome {
            Err(e) if e.kind() == TransportErrorKind::Connect => {
                if st.connect_failures < MAX_CONNECT_RETRIES {
                    // Nothing was sent: safe to send again after a pause.
                    st.connect_failures += 1;
                    st.retry_not_before = Some(now + CONNECT_RETRY_DELAY);
                    return Ok(None);
                }
                return Err(Self::fail(st, AuthError::from_transport(&e), now));
            }
            Err(e) => return Err(Self::fail(st, AuthError::from_transport(&e), now)),
            Ok(r) => r,
        };
        let tokens = match parse_token_response(&response) {
            Ok(t) => t,
            Err(GroupsError::Auth(e)) => return Err(Self::fail(st, *e, now)),
            Err(other) => {
                let e = AuthError::new(AuthErrorKind::Other, other.to_string());
                return Err(Self::fail(st, e, now));
            }
        };
        if tokens.len() != 1 {
            let servers: Vec<&str> = tokens
                .tokens()
                .iter()
                .map(|t| t.resource_server.as_str())
                .collect();
            let e = AuthError::new(
                AuthErrorKind::Other,
                format!(
                    "{} answered tokens for {} resource servers ({}); a renewing provider needs \
                     scopes of exactly one resource server",
                    self.name,
                    servers.len(),
                    servers.join(", ")
                ),
            );
            // A configuration problem: asking again gives the same answer.
            st.failure = Some(Failure {
                error: e.clone(),
                until: None,
            });
            return Err(e.into());
        }
        let token = &tokens.tokens()[0];
        let header = match bearer_header(token.access_token.expose_secret()) {
            Ok(h) => h,
            Err(_) => {
                let e = AuthError::new(
                    AuthErrorKind::Other,
                    "the access token of the answer is not a valid header value",
                );
                return Err(Self::fail(st, e, now));
            }
        };
        st.header = Some(header);
        st.expires_at = Some(token.expires_at(now));
        if let Some(rt) = &token.refresh_token
            && matches!(self.grant, Grant::Refresh)
        {
            st.refresh_token = Some(rt.clone());
        }
        st.connect_failures = 0;
        st.retry_not_before = None;
        st.failure = None;
        st.renewals += 1;
        Ok(Some(tokens))
    }

    fn abandon(&self, ticket: TokenTicket) {
        let mut st = lock(&self.state);
        if st.in_flight != Some(ticket) {
            return;
        }
        let waiters = Self::end_flight(&mut st);
        drop(st);
        // A waiter takes the slot and sends its own request.
        for w in waiters {
            w.wake();
        }
    }

    fn poll_fetch_done(&self, ticket: TokenTicket, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = lock(&self.state);
        if st.in_flight != Some(ticket) {
            return Poll::Ready(());
        }
        // One entry per task, however often it polls: the list is bounded
        // by the number of tasks waiting.
        if !st.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            st.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    fn rejected(&self, rejected: Option<&HeaderValue>) -> bool {
        let mut st = lock(&self.state);
        if st.failure.as_ref().is_some_and(|f| f.until.is_none()) {
            return false;
        }
        let same = match (&st.header, rejected) {
            (Some(current), Some(r)) => {
                SecretString::new(String::from_utf8_lossy(current.as_bytes()))
                    .ct_eq(&String::from_utf8_lossy(r.as_bytes()))
            }
            (Some(_), None) => false,
            (None, _) => true,
        };
        if same {
            st.header = None;
            st.expires_at = None;
        }
        true
    }

    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct(self.name)
            .field("auth_url", self.auth.base_url())
            .field("client", &self.client)
            .field("has_access_token", &st.header.is_some())
            .field("expires_at", &st.expires_at)
            .field("has_refresh_token", &st.refresh_token.is_some())
            .field("fetching", &st.in_flight.is_some())
            .field("failure", &st.failure.as_ref().map(|f| &f.error))
            .field("renewals", &st.renewals)
            .finish_non_exhaustive()
    }
}

trait SubDuration {
    fn saturating_sub_duration(self, d: Duration) -> Instant;
}

impl SubDuration for Instant {
    fn saturating_sub_duration(self, d: Duration) -> Instant {
        Instant::from_elapsed(self.elapsed_since_origin().saturating_sub(d))
    }
}

macro_rules! renewing_provider_common {
    ($ty:ident) => {
        impl $ty {
            /// Start with an access token obtained earlier (from storage),
            /// valid until `expires_at` on the transport's clock. It is used
            /// until `expires_at - 60 s`; without it the first call fetches
            /// a token.
            ///
            /// To convert a stored `expires_at_seconds`: `transport.now() +
            /// Duration::from_secs(expires_at_seconds - now_epoch_seconds)`.
            /// An empty token or one not allowed in a header is an
            /// invalid-input error (that never repeats the token).
            pub fn initial_access_token(
                self,
                token: impl Into<SecretString>,
                expires_at: Instant,
            ) -> Result<Self, GroupsError> {
                let header = bearer_header(token.into().expose_secret())?;
                {
                    let mut st = lock(&self.0.state);
                    st.header = Some(header);
                    st.expires_at = Some(expires_at);
                }
                Ok(self)
            }

            /// Call `hook` after every successful renewal with the answer,
            /// for example to write the new tokens to storage. It runs on the
            /// task whose call made the token request, outside the
            /// provider's lock.
            pub fn on_refresh(
                mut self,
                hook: impl Fn(&TokenResponse) + Send + Sync + 'static,
            ) -> Self {
                self.0.on_refresh = Some(Box::new(hook));
                self
            }

            /// When the current access token expires, if there is one.
            pub fn expires_at(&self) -> Option<Instant> {
                lock(&self.0.state).expires_at
            }

            /// How many renewals succeeded so far.
            pub fn renewals(&self) -> u64 {
                lock(&self.0.state).renewals
            }

            /// Drop the current access token: the next call fetches a new
            /// one.
            pub fn invalidate(&self) {
                let mut st = lock(&self.0.state);
                st.header = None;
                st.expires_at = None;
            }

            /// The final failure (`invalid_grant`, `invalid_client`, ...) that
            /// stops this provider, if any.
            pub fn final_failure(&self) -> Option<AuthError> {
                lock(&self.0.state)
                    .failure
                    .as_ref()
                    .filter(|f| f.until.is_none())
                    .map(|f| f.error.clone())
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug(f)
            }
        }

        impl TokenProvider for $ty {
            fn poll_authorization(&self, now: Instant) -> AuthPoll {
                self.0.poll(now)
            }

            fn handle_token_response(
                &self,
                ticket: TokenTicket,
                outcome: Result<http::Response<Bytes>, TransportError>,
                now: Instant,
            ) -> Result<(), GroupsError> {
                self.0.handle(ticket, outcome, now)
            }

            fn abandon_token_request(&self, ticket: TokenTicket) {
                self.0.abandon(ticket)
            }

            fn poll_fetch_done(&self, ticket: TokenTicket, cx: &mut Context<'_>) -> Poll<()> {
                self.0.poll_fetch_done(ticket, cx)
            }

            fn handle_rejected(&self, rejected: Option<&HeaderValue>, _now: Instant) -> bool {
                self.0.rejected(rejected)
            }
        }
    };
}

/// Renews its access token with a refresh token (globus-sdk's
/// `RefreshTokenAuthorizer`): a native client sends its `client_id` in the
/// body, a confidential one authenticates with HTTP Basic.
///
/// See the [module docs](self) for when it renews, single flight, rotation
/// and what is retried.
///
/// ```
/// use groups_core::auth::ops::OAuthClient;
/// use groups_core::auth::providers::RefreshTokenProvider;
/// use groups_core::auth::{AuthPoll, TokenProvider};
/// use groups_core::{BaseUrl, ClientConfig};
/// use groups_core::transport::Instant;
///
/// let auth = ClientConfig::new(BaseUrl::parse("https://auth.globus.org/").unwrap());
/// let p = RefreshTokenProvider::new(auth, OAuthClient::native("CID"), "the-refresh-token");
/// assert!(!format!("{p:?}").contains("the-refresh-token"));
/// // No access token yet: the first call fetches one.
/// let AuthPoll::Fetch { request, .. } = p.poll_authorization(Instant::ZERO) else { unreachable!() };
/// assert_eq!(request.uri().path(), "/v2/oauth2/token");
/// // Another call meanwhile waits for that answer.
/// assert!(matches!(p.poll_authorization(Instant::ZERO), AuthPoll::WaitForFetch { .. }));
/// ```
pub struct RefreshTokenProvider(Renewer);

impl RefreshTokenProvider {
    /// A provider refreshing with `refresh_token` for `client` against the
    /// Auth service of `auth` (a configuration whose base URL is the Auth
    /// URL; see [`auth_config`](super::auth_config)).
    pub fn new(
        auth: ClientConfig,
        client: OAuthClient,
        refresh_token: impl Into<SecretString>,
    ) -> Self {
        RefreshTokenProvider(Renewer {
            name: "RefreshTokenProvider",
            auth,
            client,
            grant: Grant::Refresh,
            on_refresh: None,
            state: Mutex::new(State {
                refresh_token: Some(refresh_token.into()),
                ..State::default()
            }),
        })
    }

    /// The current refresh token (the latest, after rotation).
    pub fn refresh_token(&self) -> Option<SecretString> {
        lock(&self.0.state).refresh_token.clone()
    }

    /// Replace the refresh token (after a new login); clears a final
    /// failure and the current access token.
    pub fn set_refresh_token(&self, refresh_token: impl Into<SecretString>) {
        let mut st = lock(&self.0.state);
        st.refresh_token = Some(refresh_token.into());
        st.failure = None;
        st.header = None;
        st.expires_at = None;
    }
}

renewing_provider_common!(RefreshTokenProvider);

/// Fetches access tokens with the client credentials grant (globus-sdk's
/// `ClientCredentialsAuthorizer`): a confidential client's id and secret,
/// and scopes of **one** resource server (an answer with tokens for more
/// than one is an error).
///
/// See the [module docs](self) for when it renews, single flight and what
/// is retried.
pub struct ClientCredentialsProvider(Renewer);

impl ClientCredentialsProvider {
    /// A provider for `client` (which must be confidential) asking for
    /// `scopes` (strings or [`Scope`](crate::Scope)s, at least one) from
    /// the Auth service of `auth` (see [`auth_config`](super::auth_config)).
    pub fn new<S: ToString>(
        auth: ClientConfig,
        client: OAuthClient,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Self, GroupsError> {
        if !client.is_confidential() {
            return Err(GroupsError::invalid_input(
                "client credentials need a confidential client (a client id and secret)",
            ));
        }
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.to_string()).collect();
        if scopes.is_empty() || scopes.iter().any(|s| s.trim().is_empty()) {
            return Err(GroupsError::invalid_input(
                "no scopes to request (Globus Auth has no default scopes)",
            ));
        }
        Ok(ClientCredentialsProvider(Renewer {
            name: "ClientCredentialsProvider",
            auth,
            client,
            grant: Grant::ClientCredentials {
                scopes: scopes.join(" "),
            },
            on_refresh: None,
            state: Mutex::new(State::default()),
        }))
    }
}

renewing_provider_common!(ClientCredentialsProvider);

/// Sends `Authorization: Basic base64(client_id:client_secret)`: how a
/// confidential client authenticates its own calls to Auth. A 401 is final.
#[derive(Clone)]
pub struct BasicAuthProvider {
    header: HeaderValue,
}

impl BasicAuthProvider {
    /// A provider for a confidential `client`; a native one is an
    /// invalid-input error (it has no secret).
    pub fn new(client: &OAuthClient) -> Result<Self, GroupsError> {
        let header = client.basic_header()?.ok_or_else(|| {
            GroupsError::invalid_input("HTTP Basic needs a confidential client (with a secret)")
        })?;
        Ok(BasicAuthProvider { header })
    }
}

impl fmt::Debug for BasicAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthProvider")
            .field("credentials", &"<redacted>")
            .finish()
    }
}

impl TokenProvider for BasicAuthProvider {
    fn poll_authorization(&self, _now: Instant) -> AuthPoll {
        AuthPoll::Ready(Some(self.header.clone()))
    }
}
