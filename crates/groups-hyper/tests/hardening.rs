//! Base URLs the client must not send a token to are refused before
//! anything is sent, environment-variable errors say what is wrong once, and
//! a redirect the transport does not follow names where it pointed.

mod common;

use std::collections::HashMap;

use common::{ScriptedServer, Step, json};
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
