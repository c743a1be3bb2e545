//! Property tests: every payload and model round-trips.
//!
//! For each type a strategy builds arbitrary values, including unknown
//! enum strings, absent/null/value fields and unknown keys. Two properties
//! are checked for every type:
//! * value -> JSON -> value gives an equal value;
//! * JSON -> value -> JSON gives an equal JSON document (so unknown keys
//!   and unknown enum strings survive).

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error_body::*;
use crate::*;

fn nullable<T: Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Nullable<T>> {
    prop_oneof![
        Just(Nullable::Absent),
        Just(Nullable::Null),
        s.prop_map(Nullable::Value)
    ]
    .boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(10).collect())
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::Array),
                btree_map("[a-z]{1,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

fn json_map() -> BoxedStrategy<Map<String, Value>> {
    btree_map("[a-z_]{1,8}", json_value(), 0..4)
        .prop_map(|m| m.into_iter().collect())
        .boxed()
}

/// Unknown keys: prefixed so they never collide with a known field.
fn extra() -> BoxedStrategy<JsonObject> {
    btree_map("x-[a-z]{1,6}", json_value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
        .boxed()
}

fn uuid() -> BoxedStrategy<uuid::Uuid> {
    any::<u128>().prop_map(uuid::Uuid::from_u128).boxed()
}
fn group_id() -> BoxedStrategy<GroupId> {
    uuid().prop_map(GroupId::from).boxed()
}
fn identity_id() -> BoxedStrategy<IdentityId> {
    uuid().prop_map(IdentityId::from).boxed()
}
fn subscription_id() -> BoxedStrategy<SubscriptionId> {
    uuid().prop_map(SubscriptionId::from).boxed()
}

macro_rules! enum_strategy {
    ($name:ident, $t:ty) => {
        fn $name() -> BoxedStrategy<$t> {
            prop_oneof![
                3 => proptest::sample::select(<$t>::KNOWN.to_vec()),
                1 => "zz_[a-z]{1,8}".prop_map(|s| <$t>::from_wire(&s)),
            ]
            .boxed()
        }
    };
}
enum_strategy!(role, GroupRole);
enum_strategy!(visibility, GroupVisibility);
enum_strategy!(member_visibility, GroupMemberVisibility);
enum_strategy!(signup_field, GroupRequiredSignupFields);
enum_strategy!(status, MembershipStatus);
enum_strategy!(group_type, GroupType);
enum_strategy!(verb, BatchVerb);
enum_strategy!(include, GroupInclude);

fn policy_document() -> BoxedStrategy<PolicyDocument> {
    (
        nullable(any::<bool>()),
        nullable(any::<i64>()),
        nullable(visibility()),
        nullable(member_visibility()),
        nullable(any::<bool>()),
        nullable(vec(signup_field(), 0..4)),
        extra(),
    )
        .prop_map(|(a, b, c, d, e, f, extra)| PolicyDocument {
            is_high_assurance: a,
            authentication_assurance_timeout: b,
            group_visibility: c,
            group_members_visibility: d,
            join_requests: e,
            signup_fields: f,
            extra,
        })
        .boxed()
}

fn group_policies() -> BoxedStrategy<GroupPolicies> {
    (
        nullable(any::<bool>()),
        nullable(visibility()),
        nullable(member_visibility()),
        nullable(any::<bool>()),
        nullable(vec(signup_field(), 0..4)),
        nullable(any::<i64>()),
        extra(),
    )
        .prop_map(|(a, b, c, d, e, f, extra)| GroupPolicies {
            is_high_assurance: a,
            group_visibility: b,
            group_members_visibility: c,
            join_requests: d,
            signup_fields: e,
            authentication_assurance_timeout: f,
            extra,
        })
        .boxed()
}

fn membership() -> BoxedStrategy<Membership> {
    (
        (group_id(), nullable(group_id()), identity_id(), text()),
        (role(), status(), nullable(text()), nullable(text())),
        (
            nullable(text()),
            nullable(text()),
            nullable(json_map().prop_map(JsonObject::from)),
            extra(),
        ),
    )
        .prop_map(
            |((g, src, i, u), (r, s, sr, ie), (up, it, mf, extra))| Membership {
                group_id: g,
                source_group_id: src,
                identity_id: i,
                username: u,
                role: r,
                status: s,
                status_reason: sr,
                invite_email_address: ie,
                updated: up,
                invite_time: it,
                membership_fields: mf,
                extra,
            },
        )
        .boxed()
}

fn timeout_data() -> BoxedStrategy<TimeoutData> {
    (text(), any::<i64>(), extra())
        .prop_map(|(expire_time, expires_in, extra)| TimeoutData {
            expire_time,
            expires_in,
            extra,
        })
        .boxed()
}

fn connector() -> BoxedStrategy<ConnectorSubscriptionInfo> {
    (any::<bool>(), any::<bool>(), extra())
        .prop_map(|(is_ha, is_baa, extra)| ConnectorSubscriptionInfo {
            is_ha,
            is_baa,
            extra,
        })
        .boxed()
}

fn connectors() -> BoxedStrategy<BTreeMap<String, ConnectorSubscriptionInfo>> {
    btree_map("[a-f0-9-]{1,12}", connector(), 0..3).boxed()
}

fn subscription_info() -> BoxedStrategy<SubscriptionInfo> {
    (
        text(),
        text(),
        nullable(any::<bool>()),
        nullable(any::<bool>()),
        nullable(connectors()),
        extra(),
    )
        .prop_map(
            |(name, subscriber_name, ha, baa, c, extra)| SubscriptionInfo {
                name,
                subscriber_name,
                is_high_assurance: ha,
                is_baa: baa,
                connectors: c,
                extra,
            },
        )
        .boxed()
}

fn subscription_info_limited() -> BoxedStrategy<SubscriptionInfoLimited> {
    (
        nullable(any::<bool>()),
        nullable(any::<bool>()),
        nullable(connectors()),
        extra(),
    )
        .prop_map(|(ha, baa, c, extra)| SubscriptionInfoLimited {
            is_high_assurance: ha,
            is_baa: baa,
            connectors: c,
            extra,
        })
        .boxed()
}

fn id_lists() -> BoxedStrategy<Vec<Nullable<Vec<IdentityId>>>> {
    vec(nullable(vec(identity_id(), 0..3)), 11).boxed()
}

fn allowed_actions() -> BoxedStrategy<AllowedActions> {
    (id_lists(), extra())
        .prop_map(|(lists, extra)| {
            let mut a = AllowedActions {
                extra,
                ..Default::default()
            };
            for (verb, list) in BatchVerb::ALL.iter().zip(lists) {
                *a.field_mut(verb).unwrap() = list;
            }
            a
        })
        .boxed()
}

fn group() -> BoxedStrategy<Group> {
    (
        (
            group_id(),
            text(),
            nullable(text()),
            nullable(text()),
            nullable(group_type()),
            option::of(group_id()),
            nullable(vec(group_id(), 0..3)),
            nullable(any::<bool>()),
            nullable(any::<i64>()),
        ),
        (
            nullable(btree_map("[a-f0-9]{1,8}", timeout_data(), 0..2)),
            nullable(vec(membership(), 0..2)),
            nullable(vec(membership(), 0..2)),
            nullable(allowed_actions().prop_map(Box::new)),
            nullable(subscription_id()),
            nullable(subscription_info().prop_map(Box::new)),
            nullable(policy_document()),
            nullable(subscription_id()),
            extra(),
        ),
    )
        .prop_map(
            |(
                (id, name, d, t, gt, p, c, es, sl),
                (st, my, all, aa, si, sinfo, pol, sav, extra),
            )| Group {
                id,
                name,
                description: d,
                terms_and_conditions: t,
                group_type: gt,
                parent_id: p,
                child_ids: c,
                enforce_session: es,
                session_limit: sl,
                session_timeouts: st,
                my_memberships: my,
                memberships: all,
                allowed_actions: aa,
                subscription_id: si,
                subscription_info: sinfo,
                policies: pol,
                subscription_admin_verified_id: sav,
                extra,
            },
        )
        .boxed()
}

fn batch_item() -> BoxedStrategy<BatchItem> {
    (
        identity_id(),
        nullable(role()),
        nullable(text()),
        nullable(text()),
        extra(),
    )
        .prop_map(
            |(identity_id, role, status_reason, invite_email_address, extra)| BatchItem {
                identity_id,
                role,
                status_reason,
                invite_email_address,
                extra,
            },
        )
        .boxed()
}

fn batch_actions() -> BoxedStrategy<BatchMembershipActions> {
    (vec(nullable(vec(batch_item(), 0..3)), 11), extra())
        .prop_map(|(lists, extra)| {
            let mut a = BatchMembershipActions {
                extra,
                ..Default::default()
            };
            for (verb, list) in BatchVerb::ALL.iter().zip(lists) {
                *a.field_mut(verb).unwrap() = list;
            }
            a
        })
        .boxed()
}

fn membership_error() -> BoxedStrategy<MembershipError> {
    (text(), text(), nullable(text()), extra())
        .prop_map(|(identity_id, code, detail, extra)| MembershipError {
            identity_id,
            code,
            detail,
            extra,
        })
        .boxed()
}

fn batch_errors() -> BoxedStrategy<BatchErrors> {
    (vec(nullable(vec(membership_error(), 0..2)), 11), extra())
        .prop_map(|(lists, extra)| {
            let mut a = BatchErrors {
                extra,
                ..Default::default()
            };
            for (verb, list) in BatchVerb::ALL.iter().zip(lists) {
                *a.field_mut(verb).unwrap() = list;
            }
            a
        })
        .boxed()
}

fn batch_result() -> BoxedStrategy<BatchMembershipResult> {
    (
        vec(nullable(vec(membership(), 0..2)), 11),
        nullable(batch_errors()),
        extra(),
    )
        .prop_map(|(lists, errors, extra)| {
            let mut a = BatchMembershipResult {
                errors,
                extra,
                ..Default::default()
            };
            for (verb, list) in BatchVerb::ALL.iter().zip(lists) {
                *a.field_mut(verb).unwrap() = list;
            }
            a
        })
        .boxed()
}

fn membership_fields() -> BoxedStrategy<MembershipFields> {
    (vec(nullable(text()), 15), extra())
        .prop_map(|(v, extra)| {
            let mut it = v.into_iter();
            let mut n = || it.next().unwrap();
            MembershipFields {
                first_name: n(),
                last_name: n(),
                organization: n(),
                institution: n(),
                current_project_name: n(),
                address: n(),
                city: n(),
                state: n(),
                country: n(),
                address1: n(),
                address2: n(),
                zip: n(),
                phone: n(),
                department: n(),
                field_of_science: n(),
                extra,
            }
        })
        .boxed()
}

fn status_counts() -> BoxedStrategy<GroupStatusCounts> {
    (vec(nullable(any::<u64>()), 7), extra())
        .prop_map(|(v, extra)| {
            let mut it = v.into_iter();
            let mut n = || it.next().unwrap();
            GroupStatusCounts {
                active: n(),
                invited: n(),
                pending: n(),
                rejected: n(),
                removed: n(),
                left: n(),
                declined: n(),
                extra,
            }
        })
        .boxed()
}

fn auth_params() -> BoxedStrategy<AuthorizationParameters> {
    let strings = || nullable(vec(text(), 0..3));
    (
        (nullable(text()), strings()),
        nullable(prop_oneof![
            vec(text(), 0..3).prop_map(StringOrList::List),
            text().prop_map(StringOrList::Joined)
        ]),
        (strings(), nullable(any::<bool>()), strings()),
        (nullable(text()), nullable(json_map()), extra()),
    )
        .prop_map(|((m, ids), pol, (dom, mfa, scopes), (prompt, ep, extra))| {
            AuthorizationParameters {
                session_message: m,
                session_required_identities: ids,
                session_required_policies: pol,
                session_required_single_domain: dom,
                session_required_mfa: mfa,
                required_scopes: scopes,
                prompt,
                extra_parameters: ep,
                extra,
            }
        })
        .boxed()
}

fn validation_error() -> BoxedStrategy<ValidationError> {
    (
        vec(
            prop_oneof![
                text().prop_map(Value::String),
                any::<u32>().prop_map(Value::from)
            ],
            0..3,
        ),
        text(),
        text(),
        // A JSON null is `Nullable::Null`, never `Value(Value::Null)`.
        nullable(json_value().prop_filter("not null", |v| !v.is_null())),
        nullable(json_map()),
        extra(),
    )
        .prop_map(
            |(loc, msg, error_type, input, ctx, extra)| ValidationError {
                loc,
                msg,
                error_type,
                input,
                ctx,
                extra,
            },
        )
        .boxed()
}

/// Both round-trip properties for one value.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let json = serde_json::to_value(value).expect("serialize");
    let back: T = serde_json::from_value(json.clone()).expect("parse back");
    assert_eq!(&back, value, "value -> JSON -> value changed it");
    let text = serde_json::to_string(value).expect("serialize to text");
    let from_text: T = serde_json::from_str(&text).expect("parse text");
    assert_eq!(
        serde_json::to_value(&from_text).unwrap(),
        json,
        "JSON -> value -> JSON changed it"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn group_round_trips(v in group()) { check(&v) }
    #[test]
    fn group_list_round_trips(v in vec(group(), 0..3)) { check(&v) }
    #[test]
    fn membership_round_trips(v in membership()) { check(&v) }
    #[test]
    fn policy_document_round_trips(v in policy_document()) { check(&v) }
    #[test]
    fn group_policies_round_trip(v in group_policies()) { check(&v) }
    #[test]
    fn allowed_actions_round_trip(v in allowed_actions()) { check(&v) }
    #[test]
    fn subscription_models_round_trip(
        full in subscription_info(),
        limited in subscription_info_limited(),
        (g, s, extra) in (group_id(), subscription_id(), extra()),
        verified in option::of(subscription_id()),
    ) {
        check(&full);
        check(&limited);
        check(&GroupSubscription { group_id: g, subscription_id: s, subscription_info: limited.clone(), extra: extra.clone() });
        check(&SubscriptionVerified { group_id: g, subscription_admin_verified_id: verified, extra: extra.clone() });
        check(&SubscriptionAdminVerifiedUpdate { subscription_admin_verified_id: verified, extra });
    }
    #[test]
    fn statuses_round_trip(v in btree_map(group_id(), status_counts(), 0..3)) { check(&v) }
    #[test]
    fn children_round_trip(children in vec(group(), 0..2), extra in extra()) {
        check(&GroupChildren { children, extra })
    }
    #[test]
    fn create_and_update_round_trip(
        (name, d, t, p, pol, extra) in (text(), nullable(text()), nullable(text()), nullable(group_id()), nullable(group_policies()), extra()),
        (un, ud, ut, us, uextra) in (nullable(text()), nullable(text()), nullable(text()), nullable(subscription_id()), extra()),
    ) {
        check(&GroupCreate { name, description: d, terms_and_conditions: t, parent_id: p, policies: pol, extra });
        check(&GroupUpdate { name: un, description: ud, terms_and_conditions: ut, subscription_admin_verified_id: us, extra: uextra });
    }
    #[test]
    fn preferences_round_trip(v in btree_map(identity_id(), (option::of(any::<bool>()), extra()).prop_map(|(allow_add, extra)| IdentityPreferences { allow_add, extra }), 0..3)) {
        check(&v)
    }
    #[test]
    fn membership_fields_round_trip(v in btree_map(identity_id(), membership_fields(), 0..3)) { check(&v) }
    #[test]
    fn batch_actions_round_trip(v in batch_actions()) { check(&v) }
    #[test]
    fn batch_result_round_trips(v in batch_result()) { check(&v) }
    #[test]
    fn error_bodies_round_trip(
        (code, detail, extra) in (text(), text(), extra()),
        params in auth_params(),
        scopes in nullable(vec(text(), 0..3)),
        ambiguous in vec(text(), 0..3),
        validation in nullable(vec(validation_error(), 0..3)),
    ) {
        check(&BaseError { code: code.clone(), detail: detail.clone(), extra: extra.clone() });
        check(&AuthError { code: code.clone(), detail: detail.clone(), authorization_parameters: params, extra: extra.clone() });
        check(&ForbiddenError { code: code.clone(), detail: detail.clone(), provided_scopes: scopes, extra: extra.clone() });
        check(&BadRequestError { code, detail, ambiguous_identities: ambiguous, extra: extra.clone() });
        check(&ValidationErrorBody { detail: validation, extra });
    }
    #[test]
    fn enums_round_trip(r in role(), v in visibility(), m in member_visibility(), f in signup_field(),
                        s in status(), t in group_type(), b in verb(), i in include()) {
        check(&r); check(&v); check(&m); check(&f); check(&s); check(&t); check(&b); check(&i);
        // Display and FromStr agree with the wire form.
        prop_assert_eq!(r.to_string().parse::<GroupRole>().unwrap(), r);
        prop_assert_eq!(b.as_str().parse::<BatchVerb>().unwrap(), b);
    }
    #[test]
    fn duplicate_detection_matches_a_recount(v in batch_actions()) {
        let mut counts = std::collections::HashMap::new();
        for (_, item) in v.iter() {
            *counts.entry(item.identity_id).or_insert(0) += 1;
        }
        let expected: std::collections::HashSet<_> = counts.into_iter().filter(|(_, n)| *n > 1).map(|(id, _)| id).collect();
        let found: std::collections::HashSet<_> = v.duplicate_identities().into_iter().collect();
        prop_assert_eq!(found, expected);
    }
    /// Both the pairwise check (small batches) and the hashed one (large):
    /// ids from a pool of 6 so repeats are common, in order of their second
    /// appearance.
    #[test]
    fn duplicates_are_listed_at_their_second_appearance(picks in vec((0usize..3, 0u128..6), 0..40)) {
        let verbs = [BatchVerb::Add, BatchVerb::Remove, BatchVerb::Invite];
        let mut actions = BatchMembershipActions::new();
        for (verb, id) in &picks {
            actions.push(&verbs[*verb], BatchItem::new(IdentityId::from_uuid(uuid::Uuid::from_u128(*id))));
        }
        let mut seen = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for (_, item) in actions.iter() {
            let n = seen.entry(item.identity_id).or_insert(0);
            *n += 1;
            if *n == 2 {
                expected.push(item.identity_id);
            }
        }
        prop_assert_eq!(actions.duplicate_identities(), expected);
    }
}

#[test]
fn unknown_keys_and_enum_values_survive_in_a_document() {
    let text = r#"{"id":"d3974728-6458-11e4-b72d-123139141556","name":"n","parent_id":null,
        "group_type":"platinum","brand_new":{"a":[1,2]},
        "policies":{"group_visibility":"galactic","new_policy":true},
        "memberships":[{"group_id":"d3974728-6458-11e4-b72d-123139141556",
            "identity_id":"ae332d86-d274-11e5-b885-b31714a110e9","username":"u",
            "role":"overlord","status":"suspended","badge":"gold"}]}"#;
    let original: Value = serde_json::from_str(text).unwrap();
    let group: Group = serde_json::from_str(text).unwrap();
    assert_eq!(
        group.group_type,
        Nullable::Value(GroupType::Unknown("platinum".into()))
    );
    assert_eq!(
        group.membership_list()[0].status,
        MembershipStatus::Unknown("suspended".into())
    );
    assert_eq!(serde_json::to_value(&group).unwrap(), original);
}

#[test]
fn missing_required_field_is_an_error_naming_it() {
    let err = serde_json::from_str::<Membership>(
        r#"{"group_id":"d3974728-6458-11e4-b72d-123139141556"}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("missing field `identity_id`"),
        "{err}"
    );
    let err = serde_json::from_str::<Group>(r#"{"id":"nope","name":"x"}"#).unwrap_err();
    assert!(
        err.to_string().contains("invalid group id \"nope\""),
        "{err}"
    );
    let err = serde_json::from_str::<Group>(
        r#"{"id":"d3974728-6458-11e4-b72d-123139141556","name":"a","name":"b"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("duplicate field `name`"), "{err}");
}

#[test]
fn decoded_membership_lists_hold_no_spare_capacity() {
    let m = r#"{"group_id":"d3974728-6458-11e4-b72d-123139141556",
        "identity_id":"ae332d86-d274-11e5-b885-b31714a110e9","username":"u","role":"member","status":"active"}"#;
    let text = format!(
        r#"{{"id":"d3974728-6458-11e4-b72d-123139141556","name":"n","parent_id":null,
            "my_memberships":[{m}],"memberships":[{m},{m},{m},{m},{m}]}}"#
    );
    let group: Group = serde_json::from_str(&text).unwrap();
    let mine = group.my_memberships.value().unwrap();
    let all = group.memberships.value().unwrap();
    assert_eq!((mine.len(), mine.capacity()), (1, 1));
    assert_eq!((all.len(), all.capacity()), (5, 5));
}
