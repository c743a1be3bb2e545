//! Data from outside never panics, and the token never shows in Debug or
//! Display of anything the SDK hands out.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{ScriptedTransport, Step, block_on, fixture, respond, response};
use groups_core::auth::{AccessTokenProvider, SecretString, TokenProvider};
use groups_core::client::GroupsClient;
use groups_core::config::ClientConfig;
use groups_core::error::GroupsAPIError;
use groups_core::exchange::{Action, Exchange};
use groups_core::ops::*;
use groups_core::retry::{RetryPolicy, SplitMix64, parse_retry_after};
use groups_core::transport::{Instant, TransportErrorKind};
use groups_types::*;
use http::HeaderValue;

const CANARY: &str = "CANARY-token-7f3e9a";

fn random_bytes(rng: &SplitMix64, max: usize) -> Vec<u8> {
    let len = (rng.next_u64() as usize) % max;
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Flip, drop or duplicate a few bytes of `text`.
fn mutate(rng: &SplitMix64, text: &[u8]) -> Vec<u8> {
    let mut v = text.to_vec();
    for _ in 0..(1 + rng.next_u64() % 4) {
        if v.is_empty() {
            break;
        }
        let i = (rng.next_u64() as usize) % v.len();
        match rng.next_u64() % 3 {
            0 => v[i] = rng.next_u64() as u8,
            1 => {
                v.remove(i);
            }
            _ => {
                let b = v[i];
                v.insert(i, b);
            }
        }
    }
    v
}

#[test]
fn error_parsing_never_panics_on_arbitrary_bodies() {
    let rng = SplitMix64::new(1);
    let content_types = [
        Some("application/json"),
        Some("application/problem+json"),
        Some("text/html"),
        Some("application/json; charset=utf-8"),
        None,
    ];
    let seeds = [
        fixture("error.401.invalid_token.json"),
        fixture("error.422.validation.json"),
        fixture("error.400.ambiguous_identities.json"),
        r#"{"errors":[{"code":"A","detail":"x","authorization_parameters":{"required_scopes":["s"]}}]}"#.to_owned(),
    ];
    for i in 0..4000 {
        let body = if i % 2 == 0 {
            random_bytes(&rng, 200)
        } else {
            mutate(&rng, seeds[i % seeds.len()].as_bytes())
        };
        let status = [400u16, 401, 403, 404, 422, 500, 502][i % 7];
        let ct = content_types[i % content_types.len()];
        let err = GroupsAPIError::from_response(response(status, ct, body));
        let _ = (err.to_string(), format!("{err:?}"), err.message());
    }
}

/// Every success decoder of the endpoint table (and the raw request) on
/// `body`: a 2xx that does not decode is a decode error naming the JSON
/// path, never a panic.
fn decode_with_every_operation(body: &[u8]) {
    const GID: &str = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";
    const SID: &str = "b7e3c2d1-58f4-4e0a-9c6d-3a1b2c4d5e6f";
    let r = || response(200, Some("application/json"), body.to_vec());
    let actions = BatchMembershipActions::new();
    let create = GroupCreate::new("n");
    let update = GroupUpdate::new();
    let policies = GroupPolicies::partial();
    let prefs = IdentityPreferencesMap::new();
    let fields = MembershipFieldsMap::new();
    fn check<T>(result: Result<T, groups_core::GroupsError>) {
        if let Err(e) = result {
            let d = e.decode_error().expect("a 2xx failure is a decode error");
            assert!(!d.path.is_empty(), "{d:?}");
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
    let decoders = [
        check(GetMyGroups::new().parse_response(r())),
        check(GetStatuses::new().parse_response(r())),
        check(CreateGroup::new(&create).parse_response(r())),
        check(GetGroup::new(GID).parse_response(r())),
        check(UpdateGroup::new(GID, &update).parse_response(r())),
        check(BatchMembershipAction::new(GID, &actions).parse_response(r())),
        check(DeleteGroup::new(GID).parse_response(r())),
        check(GetChildren::new(GID).parse_response(r())),
        check(GetGroupPolicies::new(GID).parse_response(r())),
        check(SetGroupPolicies::new(GID, &policies).parse_response(r())),
        check(GetIdentityPreferences::new().parse_response(r())),
        check(SetIdentityPreferences::new(&prefs).parse_response(r())),
        check(GetMembershipFields::new(GID).parse_response(r())),
        check(SetMembershipFields::new(GID, &fields).parse_response(r())),
        check(GetGroupBySubscriptionId::new(SID).parse_response(r())),
        check(SetSubscriptionAdminVerified::new(GID, SID).parse_response(r())),
        check(ClearSubscriptionAdminVerified::new(GID).parse_response(r())),
        check(RawRequest::new(http::Method::GET, "x").parse_response(r())),
    ];
    // One decoder per endpoint of the table, plus the raw request: a new
    // endpoint must be added here too.
    assert_eq!(decoders.len(), ENDPOINTS.len() + 1);
}

fn every_success_fixture() -> Vec<String> {
    let mut docs = Vec::new();
    for dir in ["tests/fixtures", "../groups-types/fixtures"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&dir).expect("fixture directory") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".response.json") {
                docs.push(std::fs::read_to_string(&path).expect("fixture"));
            }
        }
    }
    assert!(docs.len() >= 10, "only {} fixtures", docs.len());
    docs
}

#[test]
fn success_parsing_never_panics_on_mutated_fixtures() {
    let rng = SplitMix64::new(2);
    let docs = every_success_fixture();
    for i in 0..1500 {
        let body = mutate(&rng, docs[i % docs.len()].as_bytes());
        decode_with_every_operation(&body);
    }
    // The unmutated fixtures too (most decoders refuse most of them).
    for doc in &docs {
        decode_with_every_operation(doc.as_bytes());
    }
}

#[test]
fn success_parsing_never_panics_on_arbitrary_bytes() {
    let rng = SplitMix64::new(4);
    let shapes: [&[u8]; 6] = [b"{", b"[", b"\"", b"{\"id\":", b"[{\"id\":\"", b"null"];
    for i in 0..1500 {
        let mut body = shapes[i % shapes.len()].to_vec();
        body.extend(random_bytes(&rng, 120));
        decode_with_every_operation(&body);
    }
}

#[test]
fn retry_after_parsing_never_panics() {
    let rng = SplitMix64::new(3);
    for _ in 0..5000 {
        let bytes: Vec<u8> = random_bytes(&rng, 24)
            .into_iter()
            .map(|b| b"0123456789.-+ eE,:GMTnaif"[b as usize % 25])
            .collect();
        if let Ok(v) = HeaderValue::from_bytes(&bytes)
            && let Some(d) = parse_retry_after(&v, Duration::from_secs(10))
        {
            assert!(
                d > Duration::ZERO && d <= Duration::from_secs(10),
                "{v:?} -> {d:?}"
            );
        }
    }
}

#[test]
fn token_never_appears_in_debug_or_display() {
    let provider: Arc<dyn TokenProvider> = Arc::new(AccessTokenProvider::new(CANARY).unwrap());
    let secret = SecretString::new(CANARY);
    let mut seen = vec![
        format!("{provider:?}"),
        format!("{secret:?}"),
        format!("{secret}"),
    ];

    // Errors of every kind a call can end with.
    let scripts: Vec<Vec<Step>> = vec![
        vec![respond(
            401,
            r#"{"code":"INVALID_TOKEN","detail":"bad token"}"#,
        )],
        (0..6).map(|_| respond(503, "{}")).collect(),
        (0..6).map(|_| Step::Fail(TransportErrorKind::Io)).collect(),
        vec![Step::Fail(TransportErrorKind::Tls)],
        vec![Step::Hang],
        vec![respond(200, "not json")],
    ];
    for steps in scripts {
        let t = ScriptedTransport::new(steps);
        let c =
            GroupsClient::with_shared_auth(t.clone(), ClientConfig::default(), provider.clone());
        seen.push(format!("{c:?}"));
        let err = block_on(c.get_statuses()).unwrap_err();
        seen.push(err.to_string());
        seen.push(format!("{err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            seen.push(s.to_string());
            source = s.source();
        }
        // The token did go on the wire, marked sensitive.
        let sent = t.requests();
        assert!(sent[0].headers["authorization"].is_sensitive());
        assert_eq!(
            sent[0].header("authorization"),
            Some(format!("Bearer {CANARY}").as_str())
        );
    }

    // Actions and exchanges.
    let req = http::Request::get("https://groups.api.globus.org/v2/groups/statuses")
        .body(Bytes::new())
        .unwrap();
    let mut ex = Exchange::new(req, RetryPolicy::default(), provider.clone(), None);
    let action = ex.poll_action(Instant::ZERO);
    assert!(matches!(action, Action::Send(_)));
    seen.push(format!("{action:?}"));
    seen.push(format!("{ex:?}"));

    for s in &seen {
        assert!(!s.contains(CANARY), "token leaked: {s}");
    }
}
