//! The client users call: every Groups operation as an `async` method,
//! written once over any [`Transport`].
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
//! The convenience methods take the common arguments. For pass-through
//! query parameters or extra headers, build the operation from
//! [`crate::ops`] and run it with [`GroupsClient::execute`]:
//! `client.execute(&GetMyGroups::new().query_param("x", "1"))`.
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
//! let mut fut = std::pin::pin!(client.get_my_groups(&[]));
//! let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! let std::task::Poll::Ready(groups) = fut.as_mut().poll(&mut cx) else { unreachable!() };
//! assert!(groups.unwrap().is_empty());
//! ```

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use bytes::Bytes;
use groups_types::{
    BatchMembershipActions, BatchMembershipResult, Group, GroupChildren, GroupCreate, GroupId,
    GroupInclude, GroupPolicies, GroupStatuses, GroupSubscription, GroupUpdate,
    IdentityPreferencesMap, MembershipFieldsMap, MembershipStatus, PolicyDocument, SubscriptionId,
    SubscriptionVerified,
};
use http::Method;
use serde_json::Value;

use crate::auth::TokenProvider;
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::exchange::{Action, Exchange};
use crate::ops::{self, IdArg, Operation};
use crate::retry::{Jitter, JitterSource, SplitMix64, mix64};
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
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, GroupsError> {
        let transport = &self.inner.transport;
        let mut exchange = self.exchange(request);
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
                Action::Wait(until) => transport.sleep_until(until).await,
                Action::Done(result) => return result,
            }
        }
    }

    /// Run any operation: build, send, parse.
    pub async fn execute<O: Operation>(&self, op: &O) -> Result<O::Output, GroupsError> {
        let mut request = op.build_request(&self.inner.config)?;
        request
            .extensions_mut()
            .insert(crate::transport::RequestMeta::new(O::NAME));
        let response = self.send(request).await?;
        op.parse_response(response)
    }

    /// E1: the caller's groups, filtered by membership statuses (empty: the
    /// service's default, `active`).
    pub async fn get_my_groups(
        &self,
        statuses: &[MembershipStatus],
    ) -> Result<Vec<Group>, GroupsError> {
        self.execute(&ops::GetMyGroups::new().statuses(statuses.iter().cloned()))
            .await
    }

    /// E2: membership counts per group the caller administers or manages.
    pub async fn get_statuses(&self) -> Result<GroupStatuses, GroupsError> {
        self.execute(&ops::GetStatuses::new()).await
    }

    /// E3: create a group.
    pub async fn create_group(&self, group: &GroupCreate) -> Result<Group, GroupsError> {
        self.execute(&ops::CreateGroup::new(group)).await
    }

    /// E4: one group, with optional `include`s.
    pub async fn get_group(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        include: &[GroupInclude],
    ) -> Result<Group, GroupsError> {
        self.execute(&ops::GetGroup::new(group_id).include(include.iter().cloned()))
            .await
    }

    /// E5: update a group.
    pub async fn update_group(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        update: &GroupUpdate,
    ) -> Result<Group, GroupsError> {
        self.execute(&ops::UpdateGroup::new(group_id, update)).await
    }

    /// E6: apply a batch of membership actions (`POST /v2/groups/{id}`).
    pub async fn batch_membership_action(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        actions: &BatchMembershipActions,
    ) -> Result<BatchMembershipResult, GroupsError> {
        self.execute(&ops::BatchMembershipAction::new(group_id, actions))
            .await
    }

    /// E7: delete a group; returns the deleted document.
    pub async fn delete_group(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
    ) -> Result<Group, GroupsError> {
        self.execute(&ops::DeleteGroup::new(group_id)).await
    }

    /// E8: the subgroups of a group.
    pub async fn get_children(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        include: &[GroupInclude],
    ) -> Result<GroupChildren, GroupsError> {
        self.execute(&ops::GetChildren::new(group_id).include(include.iter().cloned()))
            .await
    }

    /// E9: a group's policies.
    pub async fn get_group_policies(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
    ) -> Result<PolicyDocument, GroupsError> {
        self.execute(&ops::GetGroupPolicies::new(group_id)).await
    }

    /// E10: set a group's policies (only the fields set are sent).
    pub async fn set_group_policies(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        policies: &GroupPolicies,
    ) -> Result<PolicyDocument, GroupsError> {
        self.execute(&ops::SetGroupPolicies::new(group_id, policies))
            .await
    }

    /// E11: the caller's identity-set preferences.
    pub async fn get_identity_preferences(&self) -> Result<IdentityPreferencesMap, GroupsError> {
        self.execute(&ops::GetIdentityPreferences::new()).await
    }

    /// E12: set identity-set preferences.
    pub async fn set_identity_preferences(
        &self,
        preferences: &IdentityPreferencesMap,
    ) -> Result<IdentityPreferencesMap, GroupsError> {
        self.execute(&ops::SetIdentityPreferences::new(preferences))
            .await
    }

    /// E13: the caller's membership fields in a group.
    pub async fn get_membership_fields(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
    ) -> Result<MembershipFieldsMap, GroupsError> {
        self.execute(&ops::GetMembershipFields::new(group_id)).await
    }

    /// E14: set the caller's membership fields in a group.
    pub async fn set_membership_fields(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        fields: &MembershipFieldsMap,
    ) -> Result<MembershipFieldsMap, GroupsError> {
        self.execute(&ops::SetMembershipFields::new(group_id, fields))
            .await
    }

    /// E15: the group of a subscription.
    pub async fn get_group_by_subscription_id(
        &self,
        subscription_id: impl Into<IdArg<SubscriptionId>>,
    ) -> Result<GroupSubscription, GroupsError> {
        self.execute(&ops::GetGroupBySubscriptionId::new(subscription_id))
            .await
    }

    /// E16: set (or clear with `None`) the subscription that verifies a group.
    pub async fn set_subscription_admin_verified(
        &self,
        group_id: impl Into<IdArg<GroupId>>,
        subscription_id: Option<SubscriptionId>,
    ) -> Result<SubscriptionVerified, GroupsError> {
        self.execute(&ops::SetSubscriptionAdminVerified::new(
            group_id,
            subscription_id,
        ))
        .await
    }

    /// Any endpoint: method, path under the base URL, optional JSON body;
    /// the JSON answer (`null` for an empty 2xx body).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, GroupsError> {
        self.execute(&ops::RawRequest::new(method, path, body))
            .await
    }
}
