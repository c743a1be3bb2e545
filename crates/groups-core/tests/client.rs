//! The client over a scripted transport on a simulated clock: every method
//! sends exactly what its operation builds; retries, deadline and refresh
//! work end to end; the client is cheap to share.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{
    RefreshingProvider, ScriptedTransport, Step, block_on, fixture, json, respond, types_fixture,
};
use groups_core::auth::AccessTokenProvider;
use groups_core::client::GroupsClient;
use groups_core::config::{BaseUrl, ClientConfig};
use groups_core::error::GroupsError;
use groups_core::ops::{self, Operation};
use groups_core::transport::{Instant, TransportErrorKind};
use groups_types::*;
use http::Method;

const GID: &str = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";
const SID: &str = "b7e3c2d1-58f4-4e0a-9c6d-3a1b2c4d5e6f";

fn config() -> ClientConfig {
    ClientConfig::new(BaseUrl::parse("http://127.0.0.1:1/").unwrap())
        .with_app_name("tests")
        .unwrap()
        .with_jitter_seed(7)
}

fn client(steps: Vec<Step>) -> (GroupsClient<ScriptedTransport>, ScriptedTransport) {
    let t = ScriptedTransport::new(steps);
    let c = GroupsClient::new(
        t.clone(),
        config(),
        AccessTokenProvider::new("tok-abc").unwrap(),
    );
    (c, t)
}

fn gid() -> GroupId {
    GID.parse().unwrap()
}

/// The one recorded request equals what `op` builds, plus Authorization.
fn assert_sent_what_op_builds(t: &ScriptedTransport, op: &impl Operation) {
    let sent = t.requests();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    let built = op.build_request(&config()).unwrap();
    assert_eq!(sent.method, built.method());
    assert_eq!(&sent.uri, built.uri());
    assert_eq!(sent.body, built.body());
    let mut headers = sent.headers.clone();
    let auth = headers.remove("authorization").expect("authorization sent");
    assert_eq!(auth, "Bearer tok-abc");
    assert!(auth.is_sensitive());
    assert_eq!(&headers, built.headers());
}

#[test]
fn every_client_method_sends_what_its_operation_builds() {
    let create = GroupCreate::new("n").description("d");
    let update = GroupUpdate::new().name("m");
    let iid: IdentityId = "9e8d7c6b-5a49-4382-a1b0-c0ffee000001".parse().unwrap();
    let actions = BatchMembershipActions::new().add_members([iid], GroupRole::Manager);
    let policies = GroupPolicies::partial().join_requests(true);
    let prefs: IdentityPreferencesMap =
        serde_json::from_str(&types_fixture("set_identity_preferences.request.json")).unwrap();
    let fields: MembershipFieldsMap =
        serde_json::from_str(&types_fixture("set_membership_fields.request.json")).unwrap();
    let sid: SubscriptionId = SID.parse().unwrap();
    let raw_body = serde_json::json!({"x": 1});
    let statuses = [MembershipStatus::Active, MembershipStatus::Pending];
    let include = [GroupInclude::Memberships, GroupInclude::AllowedActions];

    let group = fixture("get_group.response.json");
    let mut checked = 0;

    macro_rules! case {
        ($body:expr, |$c:ident| $call:expr, $op:expr) => {{
            let (client, t) = client(vec![respond(200, &$body)]);
            let $c = &client;
            let result = block_on($call);
            assert!(result.is_ok(), "{:?}", result.err());
            assert_sent_what_op_builds(&t, &$op);
            checked += 1;
        }};
    }

    case!(
        fixture("get_my_groups.response.json"),
        |c| c.get_my_groups().statuses(statuses.iter().cloned()),
        ops::GetMyGroups::new().statuses(statuses.iter().cloned())
    );
    case!(
        types_fixture("get_statuses.response.json"),
        |c| c.get_statuses(),
        ops::GetStatuses::new()
    );
    case!(
        group,
        |c| c.create_group(&create),
        ops::CreateGroup::new(&create)
    );
    case!(
        group,
        |c| c.get_group(GID).include(include.iter().cloned()),
        ops::GetGroup::new(gid()).include(include.iter().cloned())
    );
    case!(
        group,
        |c| c.update_group(gid(), &update),
        ops::UpdateGroup::new(gid(), &update)
    );
    case!(
        fixture("batch_membership_action.add.response.json"),
        |c| c.batch_membership_action(gid(), &actions),
        ops::BatchMembershipAction::new(gid(), &actions)
    );
    case!(
        group,
        |c| c.delete_group(gid()),
        ops::DeleteGroup::new(gid())
    );
    case!(
        types_fixture("get_children.response.json"),
        |c| c.get_children(gid()).include(include.iter().cloned()),
        ops::GetChildren::new(gid()).include(include.iter().cloned())
    );
    case!(
        fixture("get_group_policies.response.json"),
        |c| c.get_group_policies(gid()),
        ops::GetGroupPolicies::new(gid())
    );
    case!(
        fixture("set_group_policies.response.json"),
        |c| c.set_group_policies(gid(), &policies),
        ops::SetGroupPolicies::new(gid(), &policies)
    );
    case!(
        types_fixture("get_identity_preferences.response.json"),
        |c| c.get_identity_preferences(),
        ops::GetIdentityPreferences::new()
    );
    case!(
        types_fixture("set_identity_preferences.response.json"),
        |c| c.set_identity_preferences(&prefs),
        ops::SetIdentityPreferences::new(&prefs)
    );
    case!(
        types_fixture("get_membership_fields.response.json"),
        |c| c.get_membership_fields(gid()),
        ops::GetMembershipFields::new(gid())
    );
    case!(
        types_fixture("set_membership_fields.response.json"),
        |c| c.set_membership_fields(gid(), &fields),
        ops::SetMembershipFields::new(gid(), &fields)
    );
    case!(
        fixture("get_group_by_subscription_id.response.json"),
        |c| c.get_group_by_subscription_id(SID),
        ops::GetGroupBySubscriptionId::new(sid)
    );
    case!(
        fixture("set_subscription_admin_verified.response.json"),
        |c| c.set_subscription_admin_verified(gid(), sid),
        ops::SetSubscriptionAdminVerified::new(gid(), sid)
    );
    case!(
        fixture("set_subscription_admin_verified.response.json"),
        |c| c.clear_subscription_admin_verified(gid()),
        ops::ClearSubscriptionAdminVerified::new(gid())
    );
    case!(
        "{}",
        |c| c.request(Method::POST, "/v2/future").json(&raw_body),
        ops::RawRequest::new(Method::POST, "/v2/future").json(&raw_body)
    );
    // Every operation of the endpoint table, plus the raw request.
    assert_eq!(checked, ops::ENDPOINTS.len() + 1);
}

#[test]
fn execute_passes_extra_query_params_through() {
    let (c, t) = client(vec![respond(200, "[]")]);
    let op = ops::GetMyGroups::new().query_param("page", "2");
    block_on(c.execute(&op)).unwrap();
    assert_sent_what_op_builds(&t, &op);
    assert_eq!(t.requests()[0].path(), "/v2/groups/my_groups?page=2");
}

#[test]
fn retries_503_503_200_sleeping_on_the_transport_clock() {
    let (c, t) = client(vec![
        respond(503, "{}"),
        respond(503, "{}"),
        respond(200, "[]"),
    ]);
    let groups = block_on(c.get_my_groups()).unwrap();
    assert!(groups.is_empty());
    let sent = t.requests();
    assert_eq!(sent.len(), 3);
    let sleeps = t.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    // Backoff with jitter in [0, 1): 250..750 ms, then 500..1500 ms.
    let first = sleeps[0].elapsed_since_origin();
    assert!(
        (Duration::from_millis(250)..Duration::from_millis(750)).contains(&first),
        "{first:?}"
    );
    let second = sleeps[1].saturating_duration_since(sleeps[0]);
    assert!(
        (Duration::from_millis(500)..Duration::from_millis(1500)).contains(&second),
        "{second:?}"
    );
    assert_eq!(sent[1].at, sleeps[0]);
    assert_eq!(sent[2].at, sleeps[1]);
}

#[test]
fn jitter_seed_makes_the_backoff_reproducible() {
    let run = || {
        let (c, t) = client(vec![
            respond(503, "{}"),
            respond(503, "{}"),
            respond(200, "[]"),
        ]);
        block_on(c.get_my_groups()).unwrap();
        t.sleeps()
    };
    assert_eq!(run(), run());
}

#[test]
fn exhaustion_surfaces_the_last_status() {
    let (c, t) = client(
        (0..6)
            .map(|_| respond(502, r#"{"code":"UPSTREAM","detail":"x"}"#))
            .collect(),
    );
    let err = block_on(c.get_group(GID)).unwrap_err();
    assert!(
        matches!(err, GroupsError::RetriesExhausted { attempts: 6, .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert_eq!(err.code(), Some("UPSTREAM"));
    assert_eq!(t.requests().len(), 6);
}

#[test]
fn create_group_is_not_retried_after_a_timeout() {
    let (c, t) = client(vec![Step::Fail(TransportErrorKind::Timeout)]);
    let err = block_on(c.create_group(GroupCreate::new("n"))).unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(t.requests().len(), 1);
    assert_eq!(t.remaining_steps(), 0);
}

#[test]
fn batch_is_retried_after_a_connect_failure() {
    let iid: IdentityId = "9e8d7c6b-5a49-4382-a1b0-c0ffee000001".parse().unwrap();
    let actions = BatchMembershipActions::new().remove_members([iid]);
    let (c, t) = client(vec![
        Step::Fail(TransportErrorKind::Connect),
        respond(200, &fixture("batch_membership_action.add.response.json")),
    ]);
    block_on(c.batch_membership_action(GID, &actions)).unwrap();
    assert_eq!(t.requests().len(), 2);
}

#[test]
fn batch_post_is_retried_on_503_and_create_post_is_not() {
    let iid: IdentityId = "9e8d7c6b-5a49-4382-a1b0-c0ffee000001".parse().unwrap();
    let actions = BatchMembershipActions::new().add_members([iid], GroupRole::Member);
    let (c, t) = client(vec![
        respond(503, "{}"),
        respond(200, &fixture("batch_membership_action.add.response.json")),
    ]);
    block_on(c.batch_membership_action(GID, &actions)).unwrap();
    assert_eq!(t.requests().len(), 2, "a batch is idempotent in effect");

    let (c, t) = client(vec![respond(503, "{}")]);
    let err = block_on(c.create_group(GroupCreate::new("n"))).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(
        t.requests().len(),
        1,
        "a create must not be repeated on 503"
    );
}

#[test]
fn transports_behind_references_and_smart_pointers_keep_their_deadline_promise() {
    use groups_core::transport::Transport;
    let t = ScriptedTransport::new([]).with_enforces_deadline(true);
    // Named explicitly, so each wrapper's own impl is the one called.
    assert!(<ScriptedTransport as Transport>::enforces_deadline(&t));
    assert!(<&ScriptedTransport as Transport>::enforces_deadline(&&t));
    let arc = std::sync::Arc::new(t.clone());
    assert!(<std::sync::Arc<ScriptedTransport> as Transport>::enforces_deadline(&arc));
    let boxed = Box::new(t.clone());
    assert!(<Box<ScriptedTransport> as Transport>::enforces_deadline(
        &boxed
    ));
    assert!(<&std::sync::Arc<ScriptedTransport> as Transport>::enforces_deadline(&&arc));
    // And the client honours it: with an enforcing transport, a hanging send
    // is not raced against a second timer (no sleep is asked for).
    let t = ScriptedTransport::new([respond(200, "[]")]).with_enforces_deadline(true);
    let c = GroupsClient::new(
        std::sync::Arc::new(t.clone()),
        config().with_deadline(Duration::from_secs(5)),
        AccessTokenProvider::new("tok-abc").unwrap(),
    );
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(t.timers_created(), 0);
    let t = ScriptedTransport::new([respond(200, "[]")]);
    let c = GroupsClient::new(
        std::sync::Arc::new(t.clone()),
        config().with_deadline(Duration::from_secs(5)),
        AccessTokenProvider::new("tok-abc").unwrap(),
    );
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(
        t.timers_created(),
        1,
        "a non-enforcing transport races one timer"
    );
}

#[test]
fn overall_deadline_bounds_a_hanging_request() {
    let t = ScriptedTransport::new([Step::Elapse(Duration::from_secs(1), Box::new(Step::Hang))]);
    let cfg = config().with_deadline(Duration::from_secs(5));
    let c = GroupsClient::new(t.clone(), cfg, AccessTokenProvider::new("tok-abc").unwrap());
    let err = block_on(c.get_statuses()).unwrap_err();
    assert!(
        matches!(err, GroupsError::DeadlineExceeded { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(t.clock(), Instant::from_elapsed(Duration::from_secs(5)));
}

#[test]
fn deadline_stops_retrying_when_the_next_attempt_would_be_late() {
    let t = ScriptedTransport::new([Step::Elapse(
        Duration::from_millis(900),
        Box::new(respond(503, "{}")),
    )]);
    let cfg = config().with_deadline(Duration::from_secs(1));
    let c = GroupsClient::new(t.clone(), cfg, AccessTokenProvider::new("tok-abc").unwrap());
    let err = block_on(c.get_statuses()).unwrap_err();
    assert!(matches!(err, GroupsError::DeadlineExceeded { .. }), "{err}");
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(t.requests().len(), 1);
}

#[test]
fn refresh_on_401_goes_through_the_same_transport() {
    let t = ScriptedTransport::new([
        respond(401, r#"{"code":"INVALID_TOKEN","detail":"expired"}"#),
        respond(200, r#"{"access_token":"fresh"}"#),
        respond(200, "{}"),
    ]);
    let provider = Arc::new(RefreshingProvider::with_token("stale"));
    let c = GroupsClient::with_shared_auth(t.clone(), config(), provider.clone());
    block_on(c.get_identity_preferences()).unwrap();
    let sent = t.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].header("authorization"), Some("Bearer stale"));
    assert_eq!(sent[1].uri, RefreshingProvider::token_request_uri());
    assert_eq!(sent[2].header("authorization"), Some("Bearer fresh"));
    assert_eq!(provider.fetches(), 1);
}

#[test]
fn invalid_input_sends_nothing() {
    let (c, t) = client(vec![]);
    assert!(
        block_on(c.get_group("nope"))
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(
        block_on(c.batch_membership_action(GID, BatchMembershipActions::new()))
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(block_on(c.delete_group("")).unwrap_err().is_invalid_input());
    assert!(t.requests().is_empty());
}

#[test]
fn error_statuses_become_api_errors() {
    let (c, _) = client(vec![Step::Respond(json(
        403,
        &fixture("error.403.forbidden.json"),
    ))]);
    let err = block_on(c.get_group(GID)).unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));
    assert!(err.api_error().unwrap().provided_scopes.is_some());
}

#[test]
fn clones_share_state_and_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<GroupsClient<ScriptedTransport>>();
    let (c, t) = client(vec![respond(200, "[]"), respond(200, "[]")]);
    let c2 = c.clone();
    let fut = c2.get_my_groups();
    assert_send(&fut);
    block_on(fut).unwrap();
    block_on(c.get_my_groups()).unwrap();
    assert_eq!(t.requests().len(), 2);
    let debug = format!("{c:?}");
    assert!(!debug.contains("tok-abc"), "{debug}");

    // Many threads over one client.
    let (c, t) = client((0..8).map(|_| respond(200, "[]")).collect());
    std::thread::scope(|s| {
        for _ in 0..8 {
            let c = c.clone();
            s.spawn(move || block_on(c.get_my_groups()).unwrap());
        }
    });
    assert_eq!(t.requests().len(), 8);
}

#[test]
fn exchange_from_client_can_be_driven_by_hand() {
    use groups_core::exchange::Action;
    let (c, _) = client(vec![]);
    let req = ops::GetStatuses::new().build_request(c.config()).unwrap();
    let mut ex = c.exchange(req);
    let Action::Send(sent) = ex.poll_action(Instant::ZERO) else {
        panic!()
    };
    assert_eq!(sent.headers()["authorization"], "Bearer tok-abc");
    ex.handle_response(json(200, "{}"), Instant::ZERO, c.next_jitter());
    let Action::Done(Ok(resp)) = ex.poll_action(Instant::ZERO) else {
        panic!()
    };
    assert!(
        ops::GetStatuses::new()
            .parse_response(resp)
            .unwrap()
            .is_empty()
    );
    let _ = Bytes::new();
}

#[test]
fn fn_transport_runs_retries_on_its_virtual_clock() {
    use groups_core::transport::{FnTransport, Transport};
    use std::sync::atomic::{AtomicU32, Ordering};
    let calls = AtomicU32::new(0);
    let t = FnTransport::new(|req: http::Request<Bytes>| {
        assert!(req.headers()["authorization"].is_sensitive());
        let n = calls.fetch_add(1, Ordering::SeqCst);
        Ok(if n < 2 {
            json(503, "{}")
        } else {
            json(200, "{}")
        })
    });
    let c = GroupsClient::new(&t, config(), AccessTokenProvider::new("tok-abc").unwrap());
    assert!(block_on(c.get_statuses()).unwrap().is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(t.now() >= Instant::from_elapsed(Duration::from_millis(750)));
}
