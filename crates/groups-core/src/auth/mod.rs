//! Token providers: where the `Authorization` header of each attempt comes from.
//!
//! A [`TokenProvider`] is sans-IO like the rest of the core. Before every
//! attempt the [`Exchange`](crate::exchange::Exchange) asks it
//! [`poll_authorization`](TokenProvider::poll_authorization), and the provider
//! answers with one of:
//!
//! * [`AuthPoll::Ready`]: the header value to use (or none at all);
//! * [`AuthPoll::Fetch`]: "send this token request first" (e.g. a refresh
//!   grant to Globus Auth). The exchange hands it to the driver as an ordinary
//!   [`Action::Send`](crate::exchange::Action::Send) through the same
//!   [`Transport`](crate::transport::Transport), and feeds the answer back to
//!   [`handle_token_response`](TokenProvider::handle_token_response);
//! * [`AuthPoll::WaitForFetch`]: another call is already fetching a token
//!   (single flight); poll again when that request ends (the provider wakes
//!   the waiting task through [`poll_fetch_done`](TokenProvider::poll_fetch_done))
//!   or at a re-check instant, whichever comes first;
//! * [`AuthPoll::WaitUntil`]: poll again at this instant (a pause before
//!   sending a token request again);
//! * [`AuthPoll::Failed`]: no token can be had.
//!
//! After a 401 the exchange calls [`handle_rejected`](TokenProvider::handle_rejected)
//! with the value that was rejected; a provider that can renew its token
//! invalidates it and returns `true`, and the exchange retries once.
//!
//! So refresh-token and client-credentials providers plug in without any
//! change to this trait, the exchange or the drivers. This module ships the
//! static ones, [`AccessTokenProvider`] and [`NoAuth`]; the renewing ones
//! are in [`providers`].
//!
//! # The Globus Auth half of the client
//!
//! | module | what |
//! | --- | --- |
//! | [`error`] | [`AuthError`] and its [`AuthErrorKind`]: `invalid_grant` ("log in again"), `invalid_client`, transient, other |
//! | [`models`] | [`TokenResponse`] (with `other_tokens`, by resource server, expiry), introspection, userinfo, identities |
//! | [`ops`] | the Auth operations (grants, revoke, introspect, userinfo, identities) and [`OAuthClient`] |
//! | [`pkce`] | [`PkceVerifier`] and its `S256` challenge |
//! | [`authorize`] | the authorize URL builder, [`AuthorizeUrl`] |
//! | [`providers`] | [`RefreshTokenProvider`], [`ClientCredentialsProvider`], [`BasicAuthProvider`] |
//!
//! Why here and not in `groups-types`: that crate models the Groups API;
//! the Auth documents are needed by the client side only and carry
//! secrets, whose handling ([`SecretString`], redacted `Debug`) belongs to
//! the core. The emulator deliberately does not share these models, so it
//! stays an independent judge of the wire format.
//!
//! The Auth base URL is resolved like the Groups one (explicit, then
//! `GLOBUS_SDK_SERVICE_URL_AUTH`, then `GLOBUS_SDK_ENVIRONMENT`, then
//! production) by [`BaseUrl::resolve_auth`]; [`auth_config`] derives the
//! Auth configuration from a Groups one.
//!
//! The client that runs the Auth operations over a transport,
//! [`AuthClient`](crate::AuthClient), is in [`crate::auth_client`], beside
//! the Groups client it is built on.
//!
//! The modules import one way only: [`error`] (the crate's `auth_error`
//! module, re-exported here) needs just the transport
//! types (so [`GroupsError`] can carry an [`AuthError`]); [`models`],
//! [`pkce`] and [`authorize`] sit on it; [`ops`] on those; [`providers`] on
//! [`ops`]. Nothing in this file imports them back, and nothing here
//! imports [`crate::client`].
//!
//! ```
//! use groups_core::auth::{AccessTokenProvider, AuthPoll, TokenProvider};
//! use groups_core::transport::Instant;
//!
//! let p = AccessTokenProvider::new("secret-token").unwrap();
//! assert!(!format!("{p:?}").contains("secret-token"));
//! match p.poll_authorization(Instant::ZERO) {
//!     AuthPoll::Ready(Some(v)) => assert!(v.is_sensitive()),
//!     _ => unreachable!(),
//! }
//! ```

use std::fmt;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderValue;

use crate::config::{BaseUrl, ClientConfig};
use crate::error::GroupsError;
use crate::transport::{Instant, TransportError};

pub mod authorize;
pub use crate::auth_error as error;
pub mod models;
pub mod ops;
pub mod pkce;
pub mod providers;

pub use authorize::{AccessType, AuthorizeUrl};
pub use error::{AuthError, AuthErrorKind};
pub use models::{TokenData, TokenResponse};
pub use ops::OAuthClient;
pub use pkce::PkceVerifier;
pub use providers::{BasicAuthProvider, ClientCredentialsProvider, RefreshTokenProvider};

/// The Auth configuration matching a Groups one: the same app name,
/// headers, retry policy and deadline, with `auth_base` as the base URL.
///
/// ```
/// use groups_core::auth::auth_config;
/// use groups_core::{BaseUrl, ClientConfig};
///
/// let vars = |name: &str| (name == "GLOBUS_SDK_ENVIRONMENT").then(|| "preview".to_owned());
/// let groups = ClientConfig::from_lookup(vars).unwrap();
/// let auth = auth_config(&groups, BaseUrl::resolve_auth(None, vars).unwrap());
/// assert_eq!(auth.base_url().as_str(), "https://auth.preview.globus.org/");
/// ```
pub fn auth_config(groups: &ClientConfig, auth_base: BaseUrl) -> ClientConfig {
    groups.clone().with_base_url(auth_base)
}

/// Identifies one token request a provider asked for, so the answer can be
/// matched to it (and abandoned requests released).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenTicket(pub u64);

/// A provider's answer to "what Authorization value for this attempt?".
///
/// Its `Debug` shows a token request's method and URL only, never its
/// body (which holds a refresh token or a client secret's grant).
#[non_exhaustive]
pub enum AuthPoll {
    /// Send the attempt with this `Authorization` value (already marked
    /// sensitive), or with no `Authorization` header at all.
    Ready(Option<HeaderValue>),
    /// Send `request` first and feed its outcome to
    /// [`TokenProvider::handle_token_response`] with `ticket`.
    Fetch {
        /// Matches the answer to the request.
        ticket: TokenTicket,
        /// The token request (for example a refresh grant to Globus Auth).
        request: Box<http::Request<Bytes>>,
    },
    /// Not yet; ask again at this instant.
    WaitUntil(Instant),
    /// Another call is fetching a token right now (its request is
    /// `ticket`): ask again as soon as that request ends, which
    /// [`TokenProvider::poll_fetch_done`] reports (waking the task), or at
    /// `recheck_at` at the latest.
    WaitForFetch {
        /// The token request being waited for.
        ticket: TokenTicket,
        /// Ask again at this instant even if no wake-up came (drivers that
        /// do not use [`TokenProvider::poll_fetch_done`] rely on it).
        recheck_at: Instant,
    },
    /// No token can be produced.
    Failed(GroupsError),
}

impl fmt::Debug for AuthPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthPoll::Ready(v) => f.debug_tuple("Ready").field(v).finish(),
            AuthPoll::Fetch { ticket, request } => f
                .debug_struct("Fetch")
                .field("ticket", ticket)
                .field("method", request.method())
                .field("uri", request.uri())
                .field("body_len", &request.body().len())
                .finish_non_exhaustive(),
            AuthPoll::WaitUntil(t) => f.debug_tuple("WaitUntil").field(t).finish(),
            AuthPoll::WaitForFetch { ticket, recheck_at } => f
                .debug_struct("WaitForFetch")
                .field("ticket", ticket)
                .field("recheck_at", recheck_at)
                .finish(),
            AuthPoll::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

/// Supplies the `Authorization` value of each attempt.
///
/// Implementations must never reveal a token in `Debug`, `Display` or errors.
/// They are shared between concurrent calls (`&self` methods), so they keep
/// their mutable state behind a lock.
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The `Authorization` value for the next attempt, or a token request to
    /// make first. Called before every attempt, so a renewed token is used as
    /// soon as it exists.
    fn poll_authorization(&self, now: Instant) -> AuthPoll;

    /// The outcome of a token request this provider asked for with
    /// [`AuthPoll::Fetch`]. On `Ok(())` the exchange polls again; an error
    /// ends the call with that error.
    ///
    /// The default ignores the outcome (static providers never fetch).
    fn handle_token_response(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Result<(), GroupsError> {
        let _ = (ticket, outcome, now);
        Ok(())
    }

    /// A token request this provider asked for will never be answered (the
    /// call was cancelled or hit its deadline). Single-flight providers
    /// release their in-flight marker here. The default does nothing.
    fn abandon_token_request(&self, ticket: TokenTicket) {
        let _ = ticket;
    }

    /// Whether the token request `ticket` (of an
    /// [`AuthPoll::WaitForFetch`]) has ended: `Ready` once it has been
    /// answered or abandoned, otherwise `Pending` after arranging for
    /// `cx`'s waker to be woken when it ends. Keeps no other state: a
    /// waker registered for a wait that was given up is woken (uselessly)
    /// once, when the request ends.
    ///
    /// The default is always `Pending` without a wake-up: waiters then
    /// re-check at `recheck_at`.
    fn poll_fetch_done(&self, ticket: TokenTicket, cx: &mut Context<'_>) -> Poll<()> {
        let _ = (ticket, cx);
        Poll::Pending
    }

    /// The service answered 401 to an attempt sent with `rejected`.
    ///
    /// Return `true` if a new value can be obtained (the provider has
    /// invalidated `rejected`, or already holds a newer one); the exchange then
    /// retries once per call. The default returns `false`.
    fn handle_rejected(&self, rejected: Option<&HeaderValue>, now: Instant) -> bool {
        let _ = (rejected, now);
        false
    }
}

/// A string holding a secret: its `Debug` and `Display` never show it.
///
/// It does not implement `PartialEq`: comparing secrets with `==` leaks
/// through timing how much of a guess was right. Compare with
/// [`SecretString::ct_eq`], which takes the same time whatever the contents.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into())
    }

    /// The secret itself. Call only where it must go on the wire.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Compare with `other` in time that depends only on the lengths, never
    /// on where the first difference is.
    ///
    /// ```
    /// use groups_core::auth::SecretString;
    /// assert!(SecretString::new("abc").ct_eq("abc"));
    /// assert!(!SecretString::new("abc").ct_eq("abd"));
    /// assert!(!SecretString::new("abc").ct_eq("ab"));
    /// ```
    pub fn ct_eq(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        let mut diff = u8::from(a.len() != b.len());
        let n = a.len().max(b.len());
        for i in 0..n {
            let x = a.get(i).copied().unwrap_or(0);
            let y = b.get(i).copied().unwrap_or(0);
            diff |= x ^ y;
        }
        // `black_box` keeps the optimizer from turning the loop into an
        // early-exit comparison.
        std::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

/// Build a `Bearer <token>` header value marked sensitive.
///
/// An empty token or one with characters not allowed in a header is an
/// invalid-input error (which never repeats the token).
pub fn bearer_header(token: &str) -> Result<HeaderValue, GroupsError> {
    if token.is_empty() || token.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(GroupsError::invalid_input(
            "access token is empty or contains characters not allowed in a header",
        ));
    }
    let mut v = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| GroupsError::invalid_input("access token is not a valid header value"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A fixed access token, sent as `Authorization: Bearer <token>`.
///
/// A 401 is final: this provider cannot renew its token (like globus-sdk's
/// `AccessTokenAuthorizer`).
#[derive(Clone)]
pub struct AccessTokenProvider {
    header: HeaderValue,
}

impl AccessTokenProvider {
    /// A provider for `token`. See [`bearer_header`] for the validation.
    pub fn new(token: impl Into<SecretString>) -> Result<Self, GroupsError> {
        let token = token.into();
        Ok(AccessTokenProvider {
            header: bearer_header(token.expose_secret())?,
        })
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString(s.to_owned())
    }
}

impl fmt::Debug for AccessTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenProvider")
            .field("token", &"<redacted>")
            .finish()
    }
}

impl TokenProvider for AccessTokenProvider {
    fn poll_authorization(&self, _now: Instant) -> AuthPoll {
        AuthPoll::Ready(Some(self.header.clone()))
    }
}

/// Sends no `Authorization` header (for the emulator in open mode, or for
/// tests of the 401 path).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

impl TokenProvider for NoAuth {
    fn poll_authorization(&self, _now: Instant) -> AuthPoll {
        AuthPoll::Ready(None)
    }
}

impl<P: TokenProvider + ?Sized> TokenProvider for std::sync::Arc<P> {
    fn poll_authorization(&self, now: Instant) -> AuthPoll {
        (**self).poll_authorization(now)
    }
    fn handle_token_response(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Result<(), GroupsError> {
        (**self).handle_token_response(ticket, outcome, now)
    }
    fn abandon_token_request(&self, ticket: TokenTicket) {
        (**self).abandon_token_request(ticket)
    }
    fn poll_fetch_done(&self, ticket: TokenTicket, cx: &mut Context<'_>) -> Poll<()> {
        (**self).poll_fetch_done(ticket, cx)
    }
    fn handle_rejected(&self, rejected: Option<&HeaderValue>, now: Instant) -> bool {
        (**self).handle_rejected(rejected, now)
    }
}
