//! Base URLs the client must not send a token to are refused before
//! anything is sent, environment-variable errors say what is wrong once, and
//! a redirect the transport does not follow names where it pointed.

mod common;

use std::collections::HashMap;

use common::{ScriptedServer, Step, json, response};
use groups_core::config::BaseUrl;
use groups_hyper::{BuildErrorKind, HyperClientBuilder};

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[tokio::test]
async fn out_of_range_port_in_env_is_refused_before_sending() {
    // Something listening on the port a lax parser would fall back to is
    // never contacted: the builder refuses the URL.
    let server = ScriptedServer::start([Step::Respond(json(200, "[]"))]).await;
    for var in [
        "GLOBUS_SDK_SERVICE_URL_GROUPS",
        "GLOBUS_SDK_SERVICE_URL_AUTH",
    ] {
        for bad in [
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:0/",
            "http://u:p@127.0.0.1:8080/",
            "http://127.0.0.1:8080/?x=1",
            "http://127.0.0.1:8080/#f",
            "gopher://127.0.0.1/",
            "http://127.0.0.1:8080/ ",
        ] {
            let base = server.base();
            let pairs: Vec<(&str, &str)> = if var == "GLOBUS_SDK_SERVICE_URL_GROUPS" {
                vec![(var, bad)]
            } else {
                vec![("GLOBUS_SDK_SERVICE_URL_GROUPS", base.as_str()), (var, bad)]
            };
            let err = HyperClientBuilder::from_env_with(vars(&pairs))
                .and_then(|b| b.build_with_token("CANARY-AT"))
                .expect_err(bad);
            let msg = err.to_string();
            assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar, "{bad}: {msg}");
            assert!(msg.contains(var), "{bad}: {msg}");
            assert!(!msg.contains("invalid input"), "{bad}: {msg}");
            assert!(!msg.contains(":p@"), "{bad}: {msg}");
            let core = groups_core::GroupsError::from(err);
            assert_eq!(
                core.to_string().matches("invalid input").count(),
                1,
                "{core}"
            );
        }
    }
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn builder_setters_are_as_strict_as_the_environment() {
    let err = HyperClientBuilder::new()
        .base_url("http://127.0.0.1:99999/")
        .allow_plain_http_loopback(true)
        .build_with_token("CANARY-AT")
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    let msg = err.to_string();
    assert!(msg.contains("base_url") && msg.contains("port"), "{msg}");
    assert!(!msg.contains("invalid input"), "{msg}");
    let core = groups_core::GroupsError::from(err);
    assert_eq!(
        core.to_string().matches("invalid input").count(),
        1,
        "{core}"
    );

    let err = HyperClientBuilder::new()
        .trust_origin("https://other.example.org:70000/")
        .build_with_token("CANARY-AT")
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    assert!(err.to_string().contains("trust_origin"), "{err}");

    // Plain http stays loopback-only and opt-in.
    let err = HyperClientBuilder::new()
        .base_url("http://groups.example.org/")
        .allow_plain_http_loopback(true)
        .build_with_token("CANARY-AT")
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
    let err = HyperClientBuilder::new()
        .auth_url(BaseUrl::parse("http://127.0.0.1:9/").unwrap())
        .build_with_token("CANARY-AT")
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidUrl);
}

#[test]
fn bad_app_name_message_has_one_prefix() {
    let err = HyperClientBuilder::new()
        .app_name("bad\nname")
        .build_with_token("CANARY-AT")
        .unwrap_err();
    assert!(!err.to_string().contains("invalid input"), "{err}");
    let core = groups_core::GroupsError::from(err);
    assert_eq!(
        core.to_string().matches("invalid input").count(),
        1,
        "{core}"
    );
}

#[test]
fn http_timeout_env_values() {
    let t = |v: &str| HyperClientBuilder::from_env_with(vars(&[("GLOBUS_SDK_HTTP_TIMEOUT", v)]));
    for (value, why) in [
        ("-5", "must not be negative"),
        ("-0.5", "must not be negative"),
        ("0", "must be greater than zero"),
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("abc", "not a number"),
        ("1e300", "too large"),
        ("99999999999", "too large"),
    ] {
        let err = t(value).expect_err(value);
        assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar);
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("GLOBUS_SDK_HTTP_TIMEOUT={value:?}")),
            "{msg}"
        );
        assert!(msg.contains(why), "{value}: {msg}");
        assert!(!msg.contains("invalid input"), "{msg}");
    }
    let ok = |v: &str| t(v).unwrap().build_transport().unwrap().attempt_timeout();
    assert_eq!(ok(""), Some(std::time::Duration::from_secs(60)));
    assert_eq!(ok("-1"), None);
    assert_eq!(ok("1e-12"), Some(std::time::Duration::from_millis(1)));
}

#[tokio::test]
async fn a_huge_attempt_timeout_does_not_panic() {
    let server = ScriptedServer::start([Step::Respond(json(200, "[]"))]).await;
    let client = HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .attempt_timeout(std::time::Duration::MAX)
        .no_overall_deadline()
        .build_with_token("CANARY-AT")
        .unwrap();
    assert!(client.get_my_groups().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_redirect_names_its_location_without_the_query() {
    let server = ScriptedServer::start([
        Step::Respond(response(
            302,
            &[(
                "location",
                "https://login.example.org/start/here?next=%2F&token=CANARY-Q#frag",
            )],
            "",
        )),
        Step::Respond(response(
            307,
            &[(
                "location",
                "https://user:CANARY-PW@mirror.example.org/v2/groups",
            )],
            "",
        )),
        Step::Respond(response(301, &[], "")),
    ])
    .await;
    let client = HyperClientBuilder::new()
        .base_url(server.base())
        .allow_plain_http_loopback(true)
        .build_with_token("CANARY-AT")
        .unwrap();

    let err = client.get_my_groups().await.unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.status(), Some(http::StatusCode::FOUND));
    assert!(
        msg.contains("https://login.example.org/start/here"),
        "the Location is named: {msg}"
    );
    assert!(msg.contains("query omitted"), "{msg}");
    assert!(!msg.contains("CANARY-Q") && !msg.contains("frag"), "{msg}");
    assert!(msg.contains("not followed"), "{msg}");

    let err = client.get_my_groups().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("https://mirror.example.org/v2/groups"),
        "{msg}"
    );
    assert!(!msg.contains("CANARY-PW") && !msg.contains("user"), "{msg}");

    let err = client.get_my_groups().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no Location"), "{msg}");
    assert_eq!(server.requests().len(), 3);
}
