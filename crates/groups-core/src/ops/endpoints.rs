//! The endpoint table: every Groups endpoint, defined once.
//!
//! Each entry of `endpoints!` below generates the operation struct, its
//! constructor and setters, its [`Operation`] implementation, the
//! [`GroupsClient`] method of the same name (returning a [`Call`]), the
//! `Call`'s setters for the operation's list parameters, and its row of
//! [`ENDPOINTS`]. See the [module guide](super#adding-an-endpoint).

use bytes::Bytes;
use groups_types::{
    BatchMembershipActions, BatchMembershipResult, Group, GroupChildren, GroupCreate, GroupId,
    GroupInclude, GroupPolicies, GroupStatuses, GroupSubscription, GroupUpdate,
    IdentityPreferencesMap, MembershipFieldsMap, MembershipStatus, PolicyDocument,
    SubscriptionAdminVerifiedUpdate, SubscriptionId, SubscriptionVerified,
};
use http::Method;
use http::header::{HeaderName, HeaderValue};

use super::{
    EndpointInfo, HasRequestOptions, IdArg, Operation, Payload, RequestOptions, assemble,
    comma_join, json_body, parse_json_response,
};
use crate::client::{Call, GroupsClient};
use crate::config::ClientConfig;
use crate::error::GroupsError;
use crate::retry::MethodClass;
use crate::transport::Transport;

/// For entries without a body.
fn no_body<S>(_: &S) -> Result<Option<Bytes>, GroupsError> {
    Ok(None)
}

/// For entries whose input needs no check beyond its types.
fn no_check<S>(_: &S) -> Result<(), GroupsError> {
    Ok(())
}

/// The table's grammar, per entry:
///
/// ```text
/// /// docs (shared by the struct and the client method)
/// StructName<'a>? => method_name {
///     http: GET "path/{arg}" (arg, ...),   // path arguments are required args of id type
///     retry: Idempotent | NonIdempotent,   // what the retry policy may repeat
///     output: Type,
///     args { name: Type, ... }             // required, in constructor order, taken as `impl Into<Type>`
///     lists { name: ItemType => "query_key", ... }  // comma-joined query lists with extend-setters
///     body: fn(&Self) -> Result<Option<Bytes>, GroupsError>,
///     check: fn(&Self) -> Result<(), GroupsError>,
/// }
/// ```
macro_rules! endpoints {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident $(<$lt:lifetime>)? => $method_name:ident {
            http: $http:ident $path:literal ($($parg:ident),*),
            retry: $class:ident,
            output: $out:ty,
            args { $($arg:ident : $aty:ty),* $(,)? }
            lists { $($list:ident : $lty:ty => $key:literal),* $(,)? }
            body: $body:expr,
            check: $check:expr $(,)?
        }
    )*) => {
        /// Every operation of the table, in table order: name, HTTP method
        /// and path template.
        pub const ENDPOINTS: &[EndpointInfo] = &[$(
            EndpointInfo { name: stringify!($method_name), method: stringify!($http), path: $path },
        )*];

        $(
            $(#[doc = $doc])*
            #[doc = ""]
            #[doc = concat!("`", stringify!($http), " /", $path, "`")]
            #[derive(Clone, Debug)]
            #[must_use = "an operation does nothing until it is run"]
            pub struct $name $(<$lt>)? {
                $($arg: $aty,)*
                $($list: Vec<$lty>,)*
                options: RequestOptions,
            }

            impl $(<$lt>)? $name $(<$lt>)? {
                /// The operation, with its required arguments.
                #[allow(clippy::new_without_default)]
                pub fn new($($arg: impl Into<$aty>),*) -> Self {
                    $name {
                        $($arg: $arg.into(),)*
                        $($list: Vec::new(),)*
                        options: RequestOptions::default(),
                    }
                }

                $(
                    #[doc = concat!("Add to the `", $key, "` query parameter (sent comma-joined; left out when empty).")]
                    pub fn $list(mut self, items: impl IntoIterator<Item = $lty>) -> Self {
                        self.$list.extend(items);
                        self
                    }
                )*

                /// Add a pass-through query parameter (sent last; overrides
                /// one of the same name).
                pub fn query_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
                    self.options.query_param(key, value);
                    self
                }

                /// Add a header to this request.
                pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
                    self.options.header(name, value);
                    self
                }
            }

            impl $(<$lt>)? HasRequestOptions for $name $(<$lt>)? {
                fn options_mut(&mut self) -> &mut RequestOptions {
                    &mut self.options
                }
            }

            impl $(<$lt>)? Operation for $name $(<$lt>)? {
                type Output = $out;
                const NAME: &'static str = stringify!($method_name);

                fn build_request(&self, ctx: &ClientConfig) -> Result<http::Request<Bytes>, GroupsError> {
                    $(let $parg = self.$parg.get()?;)*
                    let check: fn(&Self) -> Result<(), GroupsError> = $check;
                    check(self)?;
                    let body: fn(&Self) -> Result<Option<Bytes>, GroupsError> = $body;
                    let body = body(self)?;
                    #[allow(unused_mut)]
                    let mut query: Vec<(&str, String)> = Vec::new();
                    $(
                        if !self.$list.is_empty() {
                            query.push(($key, comma_join(self.$list.iter().map(|i| i.as_str()))));
                        }
                    )*
                    assemble(ctx, Method::$http, &format!($path), &query, &self.options, body)
                }

                fn parse_response(&self, response: http::Response<Bytes>) -> Result<$out, GroupsError> {
                    parse_json_response(response)
                }

                fn method_class(&self, _request: &http::Request<Bytes>) -> MethodClass {
                    MethodClass::$class
                }
            }

            impl<T: Transport> GroupsClient<T> {
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("`", stringify!($http), " /", $path, "`. Returns a [`Call`]: `.await` it, or set its options first.")]
                pub fn $method_name<'c $(, $lt)?>(&'c self, $($arg: impl Into<$aty>),*) -> Call<'c, T, $name $(<$lt>)?> {
                    Call::new(self, $name::new($($arg),*))
                }
            }

            #[allow(clippy::needless_lifetimes)]
            impl<'c, $($lt,)? T: Transport> Call<'c, T, $name $(<$lt>)?> {
                $(
                    #[doc = concat!("Add to the `", $key, "` query parameter (sent comma-joined; left out when empty).")]
                    pub fn $list(self, items: impl IntoIterator<Item = $lty>) -> Self {
                        self.map(|op| op.$list(items))
                    }
                )*
            }
        )*
    };
}

endpoints! {
    /// The caller's groups, filtered by membership status (without a filter
    /// the service answers the `active` ones).
    GetMyGroups => get_my_groups {
        http: GET "v2/groups/my_groups" (),
        retry: Idempotent,
        output: Vec<Group>,
        args {}
        lists { statuses: MembershipStatus => "statuses" }
        body: no_body,
        check: no_check,
    }

    /// Membership counts per group the caller administers or manages.
    GetStatuses => get_statuses {
        http: GET "v2/groups/statuses" (),
        retry: Idempotent,
        output: GroupStatuses,
        args {}
        lists {}
        body: no_body,
        check: no_check,
    }

    /// Create a group (the service answers 201; any 2xx is accepted). Not
    /// idempotent: a repeat would create a second group, so it is retried
    /// only when the request was certainly not processed (a refused
    /// connection, a 429).
    CreateGroup<'a> => create_group {
        http: POST "v2/groups" (),
        retry: NonIdempotent,
        output: Group,
        args { payload: Payload<'a, GroupCreate> }
        lists {}
        body: |op: &Self| json_body(&*op.payload).map(Some),
        check: |op: &Self| {
            if op.payload.name.trim().is_empty() {
                return Err(GroupsError::invalid_input("group name must not be empty"));
            }
            Ok(())
        },
    }

    /// One group, with optional `include`s.
    GetGroup => get_group {
        http: GET "v2/groups/{group_id}" (group_id),
        retry: Idempotent,
        output: Group,
        args { group_id: IdArg<GroupId> }
        lists { include: GroupInclude => "include" }
        body: no_body,
        check: no_check,
    }

    /// Update a group's name, description or terms, or clear its
    /// subscription-admin-verified id (unset fields are left out).
    UpdateGroup<'a> => update_group {
        http: PUT "v2/groups/{group_id}" (group_id),
        retry: Idempotent,
        output: Group,
        args { group_id: IdArg<GroupId>, payload: Payload<'a, GroupUpdate> }
        lists {}
        body: |op: &Self| json_body(&*op.payload).map(Some),
        check: no_check,
    }

    /// Apply a batch of membership actions.
    ///
    /// An empty batch, or an identity named more than once (under one verb
    /// or several), is rejected before sending. Per-identity failures come
    /// back in the result's `errors` with status 200.
    ///
    /// Retried like an idempotent call although it is a POST: every verb
    /// moves a membership to a target state (active, invited, removed, ...),
    /// so applying the same batch twice leaves the same memberships. A
    /// repeat after a lost answer may report some items as errors (for
    /// example "already active") for changes the first attempt made.
    BatchMembershipAction<'a> => batch_membership_action {
        http: POST "v2/groups/{group_id}" (group_id),
        retry: Idempotent,
        output: BatchMembershipResult,
        args { group_id: IdArg<GroupId>, actions: Payload<'a, BatchMembershipActions> }
        lists {}
        body: |op: &Self| json_body(&*op.actions).map(Some),
        check: |op: &Self| validate_batch(&op.actions),
    }

    /// Delete a group; returns the deleted group document.
    DeleteGroup => delete_group {
        http: DELETE "v2/groups/{group_id}" (group_id),
        retry: Idempotent,
        output: Group,
        args { group_id: IdArg<GroupId> }
        lists {}
        body: no_body,
        check: no_check,
    }

    /// The subgroups of a group, with optional `include`s for each child.
    GetChildren => get_children {
        http: GET "v2/groups/{group_id}/children" (group_id),
        retry: Idempotent,
        output: GroupChildren,
        args { group_id: IdArg<GroupId> }
        lists { include: GroupInclude => "include" }
        body: no_body,
        check: no_check,
    }

    /// A group's policies.
    GetGroupPolicies => get_group_policies {
        http: GET "v2/groups/{group_id}/policies" (group_id),
        retry: Idempotent,
        output: PolicyDocument,
        args { group_id: IdArg<GroupId> }
        lists {}
        body: no_body,
        check: no_check,
    }

    /// Set a group's policies (only the fields set in the payload are sent).
    SetGroupPolicies<'a> => set_group_policies {
        http: PUT "v2/groups/{group_id}/policies" (group_id),
        retry: Idempotent,
        output: PolicyDocument,
        args { group_id: IdArg<GroupId>, policies: Payload<'a, GroupPolicies> }
        lists {}
        body: |op: &Self| json_body(&*op.policies).map(Some),
        check: no_check,
    }

    /// The caller's identity-set preferences.
    GetIdentityPreferences => get_identity_preferences {
        http: GET "v2/preferences" (),
        retry: Idempotent,
        output: IdentityPreferencesMap,
        args {}
        lists {}
        body: no_body,
        check: no_check,
    }

    /// Set identity-set preferences: `{identity_id: {allow_add}}`.
    SetIdentityPreferences<'a> => set_identity_preferences {
        http: PUT "v2/preferences" (),
        retry: Idempotent,
        output: IdentityPreferencesMap,
        args { preferences: Payload<'a, IdentityPreferencesMap> }
        lists {}
        body: |op: &Self| json_body(&*op.preferences).map(Some),
        check: no_check,
    }

    /// The caller's membership fields in a group.
    GetMembershipFields => get_membership_fields {
        http: GET "v2/groups/{group_id}/membership_fields" (group_id),
        retry: Idempotent,
        output: MembershipFieldsMap,
        args { group_id: IdArg<GroupId> }
        lists {}
        body: no_body,
        check: no_check,
    }

    /// Set the caller's membership fields in a group: `{identity_id: fields}`.
    SetMembershipFields<'a> => set_membership_fields {
        http: PUT "v2/groups/{group_id}/membership_fields" (group_id),
        retry: Idempotent,
        output: MembershipFieldsMap,
        args { group_id: IdArg<GroupId>, fields: Payload<'a, MembershipFieldsMap> }
        lists {}
        body: |op: &Self| json_body(&*op.fields).map(Some),
        check: no_check,
    }

    /// The group a subscription belongs to.
    GetGroupBySubscriptionId => get_group_by_subscription_id {
        http: GET "v2/subscription_info/{subscription_id}" (subscription_id),
        retry: Idempotent,
        output: GroupSubscription,
        args { subscription_id: IdArg<SubscriptionId> }
        lists {}
        body: no_body,
        check: no_check,
    }

    /// Mark a group as verified by a subscription's administrator.
    SetSubscriptionAdminVerified => set_subscription_admin_verified {
        http: PUT "v2/groups/{group_id}/subscription_admin_verified" (group_id),
        retry: Idempotent,
        output: SubscriptionVerified,
        args { group_id: IdArg<GroupId>, subscription_id: IdArg<SubscriptionId> }
        lists {}
        body: |op: &Self| {
            let update = SubscriptionAdminVerifiedUpdate::verified_by(op.subscription_id.get()?);
            json_body(&update).map(Some)
        },
        check: no_check,
    }

    /// Clear a group's subscription-admin verification (sends
    /// `{"subscription_id": null}`).
    ClearSubscriptionAdminVerified => clear_subscription_admin_verified {
        http: PUT "v2/groups/{group_id}/subscription_admin_verified" (group_id),
        retry: Idempotent,
        output: SubscriptionVerified,
        args { group_id: IdArg<GroupId> }
        lists {}
        body: |_op: &Self| json_body(&SubscriptionAdminVerifiedUpdate::cleared()).map(Some),
        check: no_check,
    }
}

/// The optional header of the batch call, passed through as given.
pub const COMMUNITY_CONTEXT_HEADER: &str = "community-context";

impl BatchMembershipAction<'_> {
    /// Send the optional `community-context` header.
    pub fn community_context(self, value: HeaderValue) -> Self {
        self.header(HeaderName::from_static(COMMUNITY_CONTEXT_HEADER), value)
    }
}

impl<T: Transport> Call<'_, T, BatchMembershipAction<'_>> {
    /// Send the optional `community-context` header.
    pub fn community_context(self, value: HeaderValue) -> Self {
        self.map(|op| op.community_context(value))
    }
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
