//! One operation per Groups endpoint: build an `http::Request`, parse an
//! `http::Response`.
//!
//! Every operation implements [`Operation`]. Building validates the input
//! first (ids, empty or ambiguous batches), so bad input never reaches the
//! wire. Every operation accepts extra pass-through query parameters
//! ([`RequestOptions::query_param`], merged last so they override the
//! operation's own) and extra headers. List parameters are comma-joined.
//!
//! | endpoint | operation | output |
//! | --- | --- | --- |
//! | E1 `GET /v2/groups/my_groups` | [`GetMyGroups`] | `Vec<Group>` |
//! | E2 `GET /v2/groups/statuses` | [`GetStatuses`] | [`GroupStatuses`] |
//! | E3 `POST /v2/groups` | [`CreateGroup`] | [`Group`] |
//! | E4 `GET /v2/groups/{id}` | [`GetGroup`] | [`Group`] |
//! | E5 `PUT /v2/groups/{id}` | [`UpdateGroup`] | [`Group`] |
//! | E6 `POST /v2/groups/{id}` | [`BatchMembershipAction`] | [`BatchMembershipResult`] |
//! | E7 `DELETE /v2/groups/{id}` | [`DeleteGroup`] | [`Group`] |
//! | E8 `GET /v2/groups/{id}/children` | [`GetChildren`] | [`GroupChildren`] |
//! | E9 `GET /v2/groups/{id}/policies` | [`GetGroupPolicies`] | [`PolicyDocument`] |
//! | E10 `PUT /v2/groups/{id}/policies` | [`SetGroupPolicies`] | [`PolicyDocument`] |
//! | E11 `GET /v2/preferences` | [`GetIdentityPreferences`] | [`IdentityPreferencesMap`] |
//! | E12 `PUT /v2/preferences` | [`SetIdentityPreferences`] | [`IdentityPreferencesMap`] |
//! | E13 `GET /v2/groups/{id}/membership_fields` | [`GetMembershipFields`] | [`MembershipFieldsMap`] |
//! | E14 `PUT /v2/groups/{id}/membership_fields` | [`SetMembershipFields`] | [`MembershipFieldsMap`] |
//! | E15 `GET /v2/subscription_info/{id}` | [`GetGroupBySubscriptionId`] | [`GroupSubscription`] |
//! | E16 `PUT /v2/groups/{id}/subscription_admin_verified` | [`SetSubscriptionAdminVerified`] | [`SubscriptionVerified`] |
//! | any | [`RawRequest`] | `serde_json::Value` |
//!
//! ```
//! use bytes::Bytes;
//! use groups_core::config::ClientConfig;
//! use groups_core::ops::{GetMyGroups, Operation};
//! use groups_types::MembershipStatus;
//!
//! let op = GetMyGroups::new()
//!     .statuses([MembershipStatus::Active, MembershipStatus::Invited])
//!     .query_param("extra", "1");
//! let request = op.build_request(&ClientConfig::default()).unwrap();
//! assert_eq!(
//!     request.uri(),
//!     "https://groups.api.globus.org/v2/groups/my_groups?statuses=active%2Cinvited&extra=1"
//! );
//! let response = http::Response::builder()
//!     .status(200)
//!     .header("content-type", "application/json")
//!     .body(Bytes::from_static(b"[]"))
//!     .unwrap();
//! assert!(op.parse_response(response).unwrap().is_empty());
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use bytes::Bytes;
use groups_types::{
    BatchMembershipActions, BatchMembershipResult, Group, GroupChildren, GroupCreate, GroupId,
    GroupInclude, GroupPolicies, GroupStatuses, GroupSubscription, GroupUpdate, IdParseError,
    IdentityId, IdentityPreferencesMap, MembershipFieldsMap, MembershipStatus, PolicyDocument,
    SubscriptionAdminVerifiedUpdate, SubscriptionId, SubscriptionVerified,
};
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::config::ClientConfig;
use crate::error::{GroupsAPIError, GroupsError, decode_json};

/// One Groups endpoint: how to build its request and parse its response.
///
/// `build_request` never adds `Authorization`; the
/// [`Exchange`](crate::exchange::Exchange) adds it to every attempt.
pub trait Operation {
    /// The typed result.
    type Output;

    /// The operation's name, as globus-sdk names the method (e.g.
    /// `get_group`); transports put it in their tracing spans through
    /// [`RequestMeta`](crate::transport::RequestMeta).
    const NAME: &'static str = "request";

    /// Build the request against `ctx` (base URL and default headers).
    /// Invalid input is an [`GroupsError::InvalidInput`] naming the problem.
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError>;

    /// Parse the final response: any 2xx decodes into the output (a decode
    /// error names the JSON path); any other status is an API error.
    fn parse_response(&self, response: http::Response<Bytes>) -> Result<Self::Output, GroupsError>;
}

/// An id given by the caller, parsed or not yet: typed ids, UUIDs and strings
/// all convert into it, and a string that is not a UUID becomes an
/// invalid-input error when the request is built (never on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdArg<I>(Result<I, IdParseError>);

impl<I: Copy> IdArg<I> {
    /// The id, or an invalid-input error naming the unparsable input.
    pub fn get(&self) -> Result<I, GroupsError> {
        self.0
            .as_ref()
            .copied()
            .map_err(|e| GroupsError::invalid_input(e.to_string()))
    }
}

macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl From<$id> for IdArg<$id> {
            fn from(id: $id) -> Self { IdArg(Ok(id)) }
        }
        impl From<&$id> for IdArg<$id> {
            fn from(id: &$id) -> Self { IdArg(Ok(*id)) }
        }
        impl From<uuid::Uuid> for IdArg<$id> {
            fn from(id: uuid::Uuid) -> Self { IdArg(Ok(<$id>::from(id))) }
        }
        impl From<&str> for IdArg<$id> {
            fn from(s: &str) -> Self { IdArg(s.parse::<$id>()) }
        }
        impl From<String> for IdArg<$id> {
            fn from(s: String) -> Self { IdArg(s.parse::<$id>()) }
        }
        impl From<&String> for IdArg<$id> {
            fn from(s: &String) -> Self { IdArg(s.parse::<$id>()) }
        }
    )*};
}
id_args!(GroupId, IdentityId, SubscriptionId);

/// Extra query parameters and headers, common to every operation.
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    query: Vec<(String, String)>,
    headers: HeaderMap,
}

impl RequestOptions {
    /// Add a pass-through query parameter. It is sent after the operation's
    /// own parameters and replaces one of the same name.
    pub fn query_param(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Add a header to this request (it overrides a default header of the
    /// same name; `Authorization` is always set by the token provider).
    pub fn header(&mut self, name: HeaderName, value: HeaderValue) -> &mut Self {
        self.headers.insert(name, value);
        self
    }

    /// The extra query parameters, in order.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Percent-encode `s` for a query component: unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) stay, everything else (including `,`) is `%XX`.
pub fn encode_query_component(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Percent-encode a path, keeping `/` (Python's `quote` rules).
pub fn encode_path(s: &str) -> Cow<'_, str> {
    let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
    if s.bytes().all(keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}

fn comma_join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(item);
    }
    s
}

/// Assemble a request: URL from base + path + merged query, default headers,
/// `Content-Type: application/json` only with a body, then extra headers.
fn assemble(
    ctx: &ClientConfig,
    method: Method,
    path: &str,
    own_query: &[(&str, String)],
    options: &RequestOptions,
    body: Option<Bytes>,
) -> Result<http::Request<Bytes>, GroupsError> {
    let mut url = ctx.base_url().join(path);
    let mut params: Vec<(&str, &str)> = own_query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (k, v) in &options.query {
        match params.iter_mut().find(|(pk, _)| *pk == k.as_str()) {
            Some(slot) => slot.1 = v.as_str(),
            None => params.push((k.as_str(), v.as_str())),
        }
    }
    for (i, (k, v)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        encode_query_component(&mut url, k);
        url.push('=');
        encode_query_component(&mut url, v);
    }
    let uri = http::Uri::try_from(url).map_err(|e| {
        GroupsError::invalid_input(format!("cannot build request URL for {path:?}: {e}"))
    })?;
    let mut headers = ctx.default_headers().clone();
    if body.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    for (name, value) in &options.headers {
        headers.insert(name.clone(), value.clone());
    }
    let mut request = http::Request::new(body.unwrap_or_default());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

fn json_body<T: serde::Serialize + ?Sized>(value: &T) -> Result<Bytes, GroupsError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| GroupsError::invalid_input(format!("cannot serialize request body: {e}")))
}

/// Parse a final response: 2xx decodes into `T`, anything else is an API
/// error.
pub fn parse_json_response<T: serde::de::DeserializeOwned>(
    response: http::Response<Bytes>,
) -> Result<T, GroupsError> {
    if !response.status().is_success() {
        return Err(GroupsAPIError::from_response(response).into());
    }
    let (parts, body) = response.into_parts();
    decode_json(parts.status, &parts.headers, body)
}

macro_rules! options_methods {
    () => {
        /// Add a pass-through query parameter (sent last; overrides one of
        /// the same name).
        pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.query_param(key, value);
            self
        }

        /// Add a header to this request.
        pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
            self.options.header(name, value);
            self
        }

        /// The extra query parameters and headers.
        pub fn options_mut(&mut self) -> &mut RequestOptions {
            &mut self.options
        }
    };
}

macro_rules! json_output {
    ($out:ty) => {
        type Output = $out;
        fn parse_response(&self, response: http::Response<Bytes>) -> Result<$out, GroupsError> {
            parse_json_response(response)
        }
    };
}

fn group_path(id: GroupId, suffix: &str) -> String {
    let mut p = String::with_capacity(48 + suffix.len());
    let _ = write!(p, "v2/groups/{id}{suffix}");
    p
}

// ---------------------------------------------------------------- E1

/// E1 `GET /v2/groups/my_groups`: the caller's groups, filtered by
/// membership status (the service defaults to `active`).
#[derive(Clone, Debug, Default)]
pub struct GetMyGroups {
    statuses: Vec<MembershipStatus>,
    options: RequestOptions,
}

impl GetMyGroups {
    /// No status filter (the parameter is left out).
    pub fn new() -> Self {
        Self::default()
    }

    /// Filter by these statuses (sent as one comma-joined `statuses`).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = MembershipStatus>) -> Self {
        self.statuses.extend(statuses);
        self
    }

    options_methods!();
}

impl Operation for GetMyGroups {
    const NAME: &'static str = "get_my_groups";
    json_output!(Vec<Group>);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let mut q = Vec::new();
        if !self.statuses.is_empty() {
            q.push((
                "statuses",
                comma_join(self.statuses.iter().map(|s| s.as_str())),
            ));
        }
        assemble(
            ctx,
            Method::GET,
            "v2/groups/my_groups",
            &q,
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E2

/// E2 `GET /v2/groups/statuses`: membership counts per group the caller
/// administers or manages.
#[derive(Clone, Debug, Default)]
pub struct GetStatuses {
    options: RequestOptions,
}

impl GetStatuses {
    /// The operation.
    pub fn new() -> Self {
        Self::default()
    }

    options_methods!();
}

impl Operation for GetStatuses {
    const NAME: &'static str = "get_statuses";
    json_output!(GroupStatuses);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        assemble(
            ctx,
            Method::GET,
            "v2/groups/statuses",
            &[],
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E3

/// E3 `POST /v2/groups`: create a group (the service answers 201; any 2xx
/// is accepted). Not idempotent: retried only when provably not processed.
#[derive(Clone, Debug)]
pub struct CreateGroup<'a> {
    payload: &'a GroupCreate,
    options: RequestOptions,
}

impl<'a> CreateGroup<'a> {
    /// Create from `payload`.
    pub fn new(payload: &'a GroupCreate) -> Self {
        CreateGroup {
            payload,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for CreateGroup<'_> {
    const NAME: &'static str = "create_group";
    json_output!(Group);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        if self.payload.name.trim().is_empty() {
            return Err(GroupsError::invalid_input("group name must not be empty"));
        }
        let body = json_body(self.payload)?;
        assemble(
            ctx,
            Method::POST,
            "v2/groups",
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E4

/// E4 `GET /v2/groups/{group_id}`: one group, with optional `include`s.
#[derive(Clone, Debug)]
pub struct GetGroup {
    group_id: IdArg<GroupId>,
    include: Vec<GroupInclude>,
    options: RequestOptions,
}

impl GetGroup {
    /// Get `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>) -> Self {
        GetGroup {
            group_id: group_id.into(),
            include: Vec::new(),
            options: RequestOptions::default(),
        }
    }

    /// Also return these parts (one comma-joined `include`).
    pub fn include(mut self, include: impl IntoIterator<Item = GroupInclude>) -> Self {
        self.include.extend(include);
        self
    }

    options_methods!();
}

fn include_query(include: &[GroupInclude]) -> Vec<(&'static str, String)> {
    if include.is_empty() {
        Vec::new()
    } else {
        vec![("include", comma_join(include.iter().map(|i| i.as_str())))]
    }
}

impl Operation for GetGroup {
    const NAME: &'static str = "get_group";
    json_output!(Group);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        assemble(
            ctx,
            Method::GET,
            &group_path(id, ""),
            &include_query(&self.include),
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E5

/// E5 `PUT /v2/groups/{group_id}`: update name, description, terms, or clear
/// the subscription-admin-verified id.
#[derive(Clone, Debug)]
pub struct UpdateGroup<'a> {
    group_id: IdArg<GroupId>,
    payload: &'a GroupUpdate,
    options: RequestOptions,
}

impl<'a> UpdateGroup<'a> {
    /// Update `group_id` with `payload` (unset fields are left out).
    pub fn new(group_id: impl Into<IdArg<GroupId>>, payload: &'a GroupUpdate) -> Self {
        UpdateGroup {
            group_id: group_id.into(),
            payload,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for UpdateGroup<'_> {
    const NAME: &'static str = "update_group";
    json_output!(Group);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        let body = json_body(self.payload)?;
        assemble(
            ctx,
            Method::PUT,
            &group_path(id, ""),
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E6

/// The optional header of the batch call, passed through as given.
pub const COMMUNITY_CONTEXT_HEADER: &str = "community-context";

/// E6 `POST /v2/groups/{group_id}`: a batch of membership actions.
///
/// An empty batch, or an identity named more than once (under one verb or
/// several), is rejected before sending. Per-identity failures come back in
/// the result's `errors` with status 200. Not idempotent.
#[derive(Clone, Debug)]
pub struct BatchMembershipAction<'a> {
    group_id: IdArg<GroupId>,
    actions: &'a BatchMembershipActions,
    options: RequestOptions,
}

impl<'a> BatchMembershipAction<'a> {
    /// Apply `actions` to `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>, actions: &'a BatchMembershipActions) -> Self {
        BatchMembershipAction {
            group_id: group_id.into(),
            actions,
            options: RequestOptions::default(),
        }
    }

    /// Send the optional `community-context` header.
    pub fn community_context(mut self, value: HeaderValue) -> Self {
        self.options
            .header(HeaderName::from_static(COMMUNITY_CONTEXT_HEADER), value);
        self
    }

    options_methods!();
}

/// Check a batch: not empty, no identity twice.
pub fn validate_batch(actions: &BatchMembershipActions) -> Result<(), GroupsError> {
    if actions.is_empty() {
        return Err(GroupsError::invalid_input(
            "batch membership action has no actions (every verb list is empty)",
        ));
    }
    let dups = actions.duplicate_identities();
    if !dups.is_empty() {
        let described: Vec<String> = dups
            .iter()
            .map(|id| {
                let verbs: Vec<String> = actions
                    .iter()
                    .filter(|(_, item)| item.identity_id == *id)
                    .map(|(verb, _)| verb.as_str().to_owned())
                    .collect();
                format!("{id} (under {})", verbs.join(", "))
            })
            .collect();
        return Err(GroupsError::invalid_input(format!(
            "identity listed more than once in one batch (the service would reject the whole request): {}",
            described.join("; ")
        )));
    }
    Ok(())
}

impl Operation for BatchMembershipAction<'_> {
    const NAME: &'static str = "batch_membership_action";
    json_output!(BatchMembershipResult);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        validate_batch(self.actions)?;
        let body = json_body(self.actions)?;
        assemble(
            ctx,
            Method::POST,
            &group_path(id, ""),
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E7

/// E7 `DELETE /v2/groups/{group_id}`: delete a group; returns the deleted
/// group document.
#[derive(Clone, Debug)]
pub struct DeleteGroup {
    group_id: IdArg<GroupId>,
    options: RequestOptions,
}

impl DeleteGroup {
    /// Delete `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>) -> Self {
        DeleteGroup {
            group_id: group_id.into(),
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for DeleteGroup {
    const NAME: &'static str = "delete_group";
    json_output!(Group);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        assemble(
            ctx,
            Method::DELETE,
            &group_path(id, ""),
            &[],
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E8

/// E8 `GET /v2/groups/{group_id}/children`: the subgroups.
#[derive(Clone, Debug)]
pub struct GetChildren {
    group_id: IdArg<GroupId>,
    include: Vec<GroupInclude>,
    options: RequestOptions,
}

impl GetChildren {
    /// Children of `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>) -> Self {
        GetChildren {
            group_id: group_id.into(),
            include: Vec::new(),
            options: RequestOptions::default(),
        }
    }

    /// Also return these parts of each child (one comma-joined `include`).
    pub fn include(mut self, include: impl IntoIterator<Item = GroupInclude>) -> Self {
        self.include.extend(include);
        self
    }

    options_methods!();
}

impl Operation for GetChildren {
    const NAME: &'static str = "get_children";
    json_output!(GroupChildren);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        assemble(
            ctx,
            Method::GET,
            &group_path(id, "/children"),
            &include_query(&self.include),
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E9 / E10

/// E9 `GET /v2/groups/{group_id}/policies`.
#[derive(Clone, Debug)]
pub struct GetGroupPolicies {
    group_id: IdArg<GroupId>,
    options: RequestOptions,
}

impl GetGroupPolicies {
    /// Policies of `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>) -> Self {
        GetGroupPolicies {
            group_id: group_id.into(),
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for GetGroupPolicies {
    const NAME: &'static str = "get_group_policies";
    json_output!(PolicyDocument);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        assemble(
            ctx,
            Method::GET,
            &group_path(id, "/policies"),
            &[],
            &self.options,
            None,
        )
    }
}

/// E10 `PUT /v2/groups/{group_id}/policies`: only the fields set in the
/// payload are sent.
#[derive(Clone, Debug)]
pub struct SetGroupPolicies<'a> {
    group_id: IdArg<GroupId>,
    policies: &'a GroupPolicies,
    options: RequestOptions,
}

impl<'a> SetGroupPolicies<'a> {
    /// Set `policies` on `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>, policies: &'a GroupPolicies) -> Self {
        SetGroupPolicies {
            group_id: group_id.into(),
            policies,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for SetGroupPolicies<'_> {
    const NAME: &'static str = "set_group_policies";
    json_output!(PolicyDocument);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        let body = json_body(self.policies)?;
        assemble(
            ctx,
            Method::PUT,
            &group_path(id, "/policies"),
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E11 / E12

/// E11 `GET /v2/preferences`: the caller's identity-set preferences.
#[derive(Clone, Debug, Default)]
pub struct GetIdentityPreferences {
    options: RequestOptions,
}

impl GetIdentityPreferences {
    /// The operation.
    pub fn new() -> Self {
        Self::default()
    }

    options_methods!();
}

impl Operation for GetIdentityPreferences {
    const NAME: &'static str = "get_identity_preferences";
    json_output!(IdentityPreferencesMap);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        assemble(ctx, Method::GET, "v2/preferences", &[], &self.options, None)
    }
}

/// E12 `PUT /v2/preferences`: `{identity_id: {allow_add}}`.
#[derive(Clone, Debug)]
pub struct SetIdentityPreferences<'a> {
    preferences: &'a IdentityPreferencesMap,
    options: RequestOptions,
}

impl<'a> SetIdentityPreferences<'a> {
    /// Set `preferences`.
    pub fn new(preferences: &'a IdentityPreferencesMap) -> Self {
        SetIdentityPreferences {
            preferences,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for SetIdentityPreferences<'_> {
    const NAME: &'static str = "set_identity_preferences";
    json_output!(IdentityPreferencesMap);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let body = json_body(self.preferences)?;
        assemble(
            ctx,
            Method::PUT,
            "v2/preferences",
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E13 / E14

/// E13 `GET /v2/groups/{group_id}/membership_fields`.
#[derive(Clone, Debug)]
pub struct GetMembershipFields {
    group_id: IdArg<GroupId>,
    options: RequestOptions,
}

impl GetMembershipFields {
    /// The caller's membership fields in `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>) -> Self {
        GetMembershipFields {
            group_id: group_id.into(),
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for GetMembershipFields {
    const NAME: &'static str = "get_membership_fields";
    json_output!(MembershipFieldsMap);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        assemble(
            ctx,
            Method::GET,
            &group_path(id, "/membership_fields"),
            &[],
            &self.options,
            None,
        )
    }
}

/// E14 `PUT /v2/groups/{group_id}/membership_fields`: `{identity_id: fields}`.
#[derive(Clone, Debug)]
pub struct SetMembershipFields<'a> {
    group_id: IdArg<GroupId>,
    fields: &'a MembershipFieldsMap,
    options: RequestOptions,
}

impl<'a> SetMembershipFields<'a> {
    /// Set `fields` in `group_id`.
    pub fn new(group_id: impl Into<IdArg<GroupId>>, fields: &'a MembershipFieldsMap) -> Self {
        SetMembershipFields {
            group_id: group_id.into(),
            fields,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for SetMembershipFields<'_> {
    const NAME: &'static str = "set_membership_fields";
    json_output!(MembershipFieldsMap);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        let body = json_body(self.fields)?;
        assemble(
            ctx,
            Method::PUT,
            &group_path(id, "/membership_fields"),
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- E15

/// E15 `GET /v2/subscription_info/{subscription_id}`: the group of a
/// subscription.
#[derive(Clone, Debug)]
pub struct GetGroupBySubscriptionId {
    subscription_id: IdArg<SubscriptionId>,
    options: RequestOptions,
}

impl GetGroupBySubscriptionId {
    /// Look up `subscription_id`.
    pub fn new(subscription_id: impl Into<IdArg<SubscriptionId>>) -> Self {
        GetGroupBySubscriptionId {
            subscription_id: subscription_id.into(),
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for GetGroupBySubscriptionId {
    const NAME: &'static str = "get_group_by_subscription_id";
    json_output!(GroupSubscription);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.subscription_id.get()?;
        assemble(
            ctx,
            Method::GET,
            &format!("v2/subscription_info/{id}"),
            &[],
            &self.options,
            None,
        )
    }
}

// ---------------------------------------------------------------- E16

/// E16 `PUT /v2/groups/{group_id}/subscription_admin_verified`: set or clear
/// (with `None`, sent as `null`) the verifying subscription.
#[derive(Clone, Debug)]
pub struct SetSubscriptionAdminVerified {
    group_id: IdArg<GroupId>,
    subscription_id: Option<IdArg<SubscriptionId>>,
    options: RequestOptions,
}

impl SetSubscriptionAdminVerified {
    /// Set `subscription_id` (or clear with `None`) on `group_id`.
    pub fn new(
        group_id: impl Into<IdArg<GroupId>>,
        subscription_id: Option<impl Into<IdArg<SubscriptionId>>>,
    ) -> Self {
        SetSubscriptionAdminVerified {
            group_id: group_id.into(),
            subscription_id: subscription_id.map(Into::into),
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for SetSubscriptionAdminVerified {
    const NAME: &'static str = "set_subscription_admin_verified";
    json_output!(SubscriptionVerified);
    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let id = self.group_id.get()?;
        let sub = self.subscription_id.as_ref().map(IdArg::get).transpose()?;
        let body = json_body(&SubscriptionAdminVerifiedUpdate::new(sub))?;
        assemble(
            ctx,
            Method::PUT,
            &group_path(id, "/subscription_admin_verified"),
            &[],
            &self.options,
            Some(body),
        )
    }
}

// ---------------------------------------------------------------- raw

/// Any request, for endpoints the service adds later: method, path relative
/// to the base URL, optional JSON body; the 2xx body comes back as JSON
/// (`null` when empty).
///
/// The path is percent-encoded (keeping `/`); an absolute URL is accepted
/// only if it starts with the configured base URL, so the token never goes to
/// another host.
#[derive(Clone, Debug)]
pub struct RawRequest<'a> {
    method: Method,
    path: Cow<'a, str>,
    body: Option<&'a Value>,
    options: RequestOptions,
}

impl<'a> RawRequest<'a> {
    /// A raw request.
    pub fn new(method: Method, path: impl Into<Cow<'a, str>>, body: Option<&'a Value>) -> Self {
        RawRequest {
            method,
            path: path.into(),
            body,
            options: RequestOptions::default(),
        }
    }

    options_methods!();
}

impl Operation for RawRequest<'_> {
    const NAME: &'static str = "request";
    type Output = Value;

    fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
        let path: &str = &self.path;
        let relative = if path.starts_with("http://") || path.starts_with("https://") {
            path.strip_prefix(ctx.base_url().as_str()).ok_or_else(|| {
                GroupsError::invalid_input(
                    "raw request URL is not under the configured base URL (the token is only sent there)",
                )
            })?
        } else {
            path
        };
        let body = self.body.map(json_body).transpose()?;
        assemble(
            ctx,
            self.method.clone(),
            &encode_path(relative),
            &[],
            &self.options,
            body,
        )
    }

    fn parse_response(&self, response: http::Response<Bytes>) -> Result<Value, GroupsError> {
        if response.status().is_success() && response.body().iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        parse_json_response(response)
    }
}
