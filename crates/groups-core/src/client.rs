//! The client users call: every Groups operation as a method returning a
//! [`Call`] builder, written once over any [`Transport`].
//!
//! [`GroupsClient`] is cheap to clone (one `Arc`); clones share the transport,
//! the configuration, the token provider and the jitter generator, so one
//! client can serve many tasks.
//!
//! Each call builds its request once, then drives an
//! [`Exchange`] in a short loop: send, wait, done.
//! The overall deadline is enforced by racing every send against
//! `Transport::sleep_until(deadline)`.
//!
//! The endpoint methods (generated from the endpoint table in
//! [`crate::ops`]) take the required arguments only; optional parameters,
//! pass-through query parameters and extra headers are setters of the
//! returned [`Call`], which is sent when awaited. An operation built by hand
//! runs with [`GroupsClient::execute`] or [`GroupsClient::call`].
//!
//! # Jitter
//! The core draws no random numbers. The client keeps a small SplitMix64
//! generator: seeded by [`ClientConfig::with_jitter_seed`] when given (a
//! reproducible backoff sequence), otherwise from the transport clock's
//! `now()`, the address of the client's shared state and a process-wide
//! counter, so clients in one process and in different processes spread
//! their retries differently.
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::auth::AccessTokenProvider;
//! use groups_core::client::GroupsClient;
//! use groups_core::config::ClientConfig;
//! use groups_core::transport::FnTransport;
//! use std::future::IntoFuture;
//!
//! // A transport answering every request with an empty JSON list.
//! let transport = FnTransport::new(|_request: http::Request<Bytes>| {
//!     Ok(http::Response::builder()
//!         .header("content-type", "application/json")
//!         .body(Bytes::from_static(b"[]"))
//!         .unwrap())
//! });
//! let token = AccessTokenProvider::new("tok").unwrap();
//! let client = GroupsClient::new(transport, ClientConfig::default(), token);
//!
//! // Any executor works; this transport is always ready, so one poll does.
//! let mut fut = client.get_my_groups().into_future();
//! let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! let std::task::Poll::Ready(groups) = fut.as_mut().poll(&mut cx) else { unreachable!() };
//! assert!(groups.unwrap().is_empty());
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};

use crate::auth::TokenProvider;
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::exchange::{Action, Exchange};
use crate::operation::{HasRequestOptions, Operation};
use crate::retry::{Jitter, JitterSource, MethodClass, SplitMix64, mix64};
use crate::transport::Transport;

static CLIENT_COUNTER: AtomicU64 = AtomicU64::new(0);

struct Inner<T> {
    transport: T,
    config: ClientConfig,
    auth: Arc<dyn TokenProvider>,
    rng: SplitMix64,
}

/// The Groups client, generic over the transport.
pub struct GroupsClient<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for GroupsClient<T> {
    fn clone(&self) -> Self {
        GroupsClient {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for GroupsClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupsClient")
            .field("base_url", self.inner.config.base_url())
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Race `a` against `b`; `None` when `b` finishes first.
async fn race<A: Future, B: Future<Output = ()>>(a: A, b: B) -> Option<A::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if b.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

impl<T: Transport> GroupsClient<T> {
    /// A client over `transport` with `config`, authorizing with `auth`.
    pub fn new(transport: T, config: ClientConfig, auth: impl TokenProvider + 'static) -> Self {
        Self::with_shared_auth(transport, config, Arc::new(auth))
    }

    /// Like [`GroupsClient::new`] with a token provider shared with other
    /// clients (e.g. one refreshing provider for Groups calls from many
    /// clients).
    pub fn with_shared_auth(
        transport: T,
        config: ClientConfig,
        auth: Arc<dyn TokenProvider>,
    ) -> Self {
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner<T>>| {
            let seed = config.jitter_seed().unwrap_or_else(|| {
                let addr = weak.as_ptr() as usize as u64;
                let count = CLIENT_COUNTER.fetch_add(1, Ordering::Relaxed);
                let now = transport.now().elapsed_since_origin().as_nanos() as u64;
                mix64(addr ^ mix64(count) ^ now.rotate_left(32))
            });
            Inner {
                transport,
                config,
                auth,
                rng: SplitMix64::new(seed),
            }
        });
        GroupsClient { inner }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The token provider.
    pub fn token_provider(&self) -> &Arc<dyn TokenProvider> {
        &self.inner.auth
    }

    /// The next jitter value of the client's generator.
    pub fn next_jitter(&self) -> Jitter {
        self.inner.rng.next_jitter()
    }

    /// A fresh exchange for `request` with this client's policy, provider
    /// and deadline (for drivers that want to run it themselves).
    pub fn exchange(&self, request: http::Request<Bytes>) -> Exchange {
        Exchange::new(
            request,
            *self.inner.config.retry_policy(),
            Arc::clone(&self.inner.auth),
            self.inner.config.deadline(),
        )
    }

    /// Send a built request with retries, token refresh and the deadline;
    /// the final response is returned whatever its status.
    ///
    /// What may be retried follows the request's HTTP method
    /// ([`MethodClass::of`]); [`GroupsClient::execute`] uses the operation's
    /// own class instead.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, GroupsError> {
        let class = MethodClass::of(request.method());
        self.send_with_class(request, class).await
    }

    async fn send_with_class(
        &self,
        request: http::Request<Bytes>,
        class: MethodClass,
    ) -> Result<http::Response<Bytes>, GroupsError> {
        let transport = &self.inner.transport;
        let mut exchange = self.exchange(request).with_method_class(class);
        loop {
            match exchange.poll_action(transport.now()) {
                Action::Send(request) => {
                    // Boxed: transport futures are large, and keeping them
                    // out of this future saves copying them on every call.
                    let sent = Box::pin(transport.send(request));
                    let outcome = match exchange.deadline() {
                        Some(deadline) if !transport.enforces_deadline() => {
                            race(sent, transport.sleep_until(deadline)).await
                        }
                        _ => Some(sent.await),
                    };
                    match outcome {
                        Some(Ok(response)) => {
                            // Jitter only matters when a retry is scheduled, never
                            // after a success: skip the shared generator then.
                            let jitter = if response.status().is_success() {
                                Jitter::ZERO
                            } else {
                                self.next_jitter()
                            };
                            exchange.handle_response(response, transport.now(), jitter)
                        }
                        Some(Err(error)) => exchange.handle_transport_error(
                            error,
                            transport.now(),
                            self.next_jitter(),
                        ),
                        // The deadline won the race; the next poll reports it.
                        None => {}
                    }
                }
                Action::Wait(until) => {
                    // Sleep, unless the exchange may go on earlier (the
                    // token another call was fetching has arrived).
                    let woken = std::future::poll_fn(|cx| exchange.poll_wake(cx));
                    race(transport.sleep_until(until), woken).await;
                }
                Action::Done(result) => return result,
            }
        }
    }

    /// Run any operation: build, send (retrying as the operation's
    /// [`method_class`](Operation::method_class) allows), parse.
    pub async fn execute<O: Operation>(&self, op: &O) -> Result<O::Output, GroupsError> {
        let mut request = op.build_request(&self.inner.config)?;
        let class = op.method_class(&request);
        request
            .extensions_mut()
            .insert(crate::transport::RequestMeta::new(O::NAME));
        let response = self.send_with_class(request, class).await?;
        op.parse_response(response)
    }

    /// A [`Call`] builder for any operation (the endpoint methods return
    /// one already): `client.call(op).await`.
    pub fn call<O: Operation>(&self, op: O) -> Call<'_, T, O> {
        Call::new(self, op)
    }
}

/// The future of a [`Call`]: boxed, so that its type can be named and it is
/// `Send` whatever the transport.
pub type CallFuture<'c, O> = Pin<Box<dyn Future<Output = Result<O, GroupsError>> + Send + 'c>>;

/// One call of the client, not yet sent: returned by every endpoint method
/// of [`GroupsClient`]. Set optional parameters with its setters, then
/// `.await` it (it implements [`IntoFuture`]) or call [`Call::send`].
///
/// Optional parameters are setters, so adding one later never changes an
/// existing call. Every call accepts pass-through
/// [`query_param`](Call::query_param)s and [`header`](Call::header)s.
///
/// ```
/// # use bytes::Bytes;
/// # use groups_core::{AccessTokenProvider, ClientConfig, GroupsClient};
/// # use groups_core::transport::FnTransport;
/// use groups_types::{GroupInclude, MembershipStatus};
/// # let transport = FnTransport::new(|_r: http::Request<Bytes>| {
/// #     Ok(http::Response::builder().header("content-type", "application/json")
/// #         .body(Bytes::from_static(b"[]")).unwrap())
/// # });
/// # let client = GroupsClient::new(transport, ClientConfig::default(), AccessTokenProvider::new("tok").unwrap());
/// # async fn run<T: groups_core::Transport>(client: GroupsClient<T>) -> Result<(), groups_core::GroupsError> {
/// let id = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";
/// let active = client.get_my_groups().statuses([MembershipStatus::Active]).await?;
/// let group = client.get_group(id).include([GroupInclude::Memberships]).await?;
/// let raw = client.request(http::Method::GET, "v2/groups/my_groups")
///     .query_param("statuses", "invited")
///     .await?;
/// # let _ = (active, group, raw); Ok(()) }
/// // The request a call would send, without sending it:
/// let call = client.get_my_groups().statuses([MembershipStatus::Invited]);
/// assert_eq!(call.build_request().unwrap().uri().query(), Some("statuses=invited"));
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'c, T, O> {
    client: &'c GroupsClient<T>,
    op: O,
}

impl<T, O: fmt::Debug> fmt::Debug for Call<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("op", &self.op)
            .finish_non_exhaustive()
    }
}

impl<'c, T: Transport, O: Operation> Call<'c, T, O> {
    /// A call of `op` on `client` (what [`GroupsClient::call`] returns).
    pub fn new(client: &'c GroupsClient<T>, op: O) -> Self {
        Call { client, op }
    }

    /// The operation as configured so far.
    pub fn operation(&self) -> &O {
        &self.op
    }

    /// The operation, to run it elsewhere (for example with
    /// [`GroupsClient::execute`] or a hand-driven [`Exchange`]).
    pub fn into_operation(self) -> O {
        self.op
    }

    /// Change the operation (used by the generated setters).
    pub fn map(self, f: impl FnOnce(O) -> O) -> Self {
        Call {
            client: self.client,
            op: f(self.op),
        }
    }

    /// The request this call would send first (without `Authorization`),
    /// built against the client's configuration.
    pub fn build_request(&self) -> Result<http::Request<Bytes>, GroupsError> {
        self.op.build_request(self.client.config())
    }

    /// Add a pass-through query parameter (sent after the operation's own;
    /// replaces one of the same name).
    pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self
    where
        O: HasRequestOptions,
    {
        self.op.options_mut().query_param(key, value);
        self
    }

    /// Add a header to this request (`Authorization` is always the token
    /// provider's).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self
    where
        O: HasRequestOptions,
    {
        self.op.options_mut().header(name, value);
        self
    }
}

impl<'c, T, O> Call<'c, T, O>
where
    T: Transport,
    O: Operation + Send + Sync + 'c,
    O::Output: Send,
{
    /// Send the call: the same as `.await`ing it.
    pub fn send(self) -> CallFuture<'c, O::Output> {
        let Call { client, op } = self;
        Box::pin(async move { client.execute(&op).await })
    }
}

impl<'c, T, O> IntoFuture for Call<'c, T, O>
where
    T: Transport,
    O: Operation + Send + Sync + 'c,
    O::Output: Send,
{
    type Output = Result<O::Output, GroupsError>;
    type IntoFuture = CallFuture<'c, O::Output>;

    fn into_future(self) -> Self::IntoFuture {
        self.send()
    }
}
