//! Environments, base-URL precedence, headers and scopes.

use std::collections::HashMap;
use std::time::Duration;

use groups_core::config::{
    BaseUrl, ClientConfig, ENV_ENVIRONMENT, ENV_SERVICE_URL_GROUPS, Environment, SDK_VERSION,
    http_timeout_from_lookup,
};
use groups_core::scopes::{GroupsScopes, Scope, serialize_scopes};

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn environment_table_matches_reference() {
    let expected = [
        (
            "production",
            "https://groups.api.globus.org/",
            "https://auth.globus.org/",
        ),
        (
            "preview",
            "https://groups.api.preview.globus.org/",
            "https://auth.preview.globus.org/",
        ),
        (
            "sandbox",
            "https://groups.api.sandbox.globuscs.info/",
            "https://auth.sandbox.globuscs.info/",
        ),
        (
            "integration",
            "https://groups.api.integration.globuscs.info/",
            "https://auth.integration.globuscs.info/",
        ),
        (
            "test",
            "https://groups.api.test.globuscs.info/",
            "https://auth.test.globuscs.info/",
        ),
        (
            "staging",
            "https://groups.api.staging.globuscs.info/",
            "https://auth.staging.globuscs.info/",
        ),
    ];
    for (name, groups, auth) in expected {
        let env: Environment = name.parse().unwrap();
        assert_eq!(env.as_str(), name);
        assert_eq!(env.groups_base_url(), groups);
        assert_eq!(env.auth_base_url(), auth);
        let resolved = BaseUrl::resolve_groups(None, vars(&[(ENV_ENVIRONMENT, name)])).unwrap();
        assert_eq!(resolved.as_str(), groups);
    }
    assert_eq!(Environment::ALL.len(), 6);
    assert_eq!(
        "PREVIEW".parse::<Environment>().unwrap(),
        Environment::Preview
    );
}

#[test]
fn no_variables_means_production() {
    let url = BaseUrl::resolve_groups(None, vars(&[])).unwrap();
    assert_eq!(url.as_str(), "https://groups.api.globus.org/");
}

#[test]
fn environment_variable_selects_environment() {
    let url = BaseUrl::resolve_groups(None, vars(&[(ENV_ENVIRONMENT, "sandbox")])).unwrap();
    assert_eq!(url.as_str(), "https://groups.api.sandbox.globuscs.info/");
}

#[test]
fn service_url_variable_beats_environment_when_both_set() {
    let lookup = vars(&[
        (ENV_ENVIRONMENT, "sandbox"),
        (ENV_SERVICE_URL_GROUPS, "http://127.0.0.1:8123"),
    ]);
    let url = BaseUrl::resolve_groups(None, lookup).unwrap();
    assert_eq!(url.as_str(), "http://127.0.0.1:8123/");
    assert!(!url.is_https());
}

#[test]
fn service_url_variable_ignores_unknown_environment() {
    // globus-sdk uses the URL verbatim and never looks at the environment.
    let lookup = vars(&[
        (ENV_ENVIRONMENT, "nonsense"),
        (ENV_SERVICE_URL_GROUPS, "https://groups.example.org/"),
    ]);
    assert_eq!(
        BaseUrl::resolve_groups(None, lookup).unwrap().as_str(),
        "https://groups.example.org/"
    );
}

#[test]
fn explicit_url_beats_both_variables() {
    let lookup = vars(&[
        (ENV_ENVIRONMENT, "sandbox"),
        (ENV_SERVICE_URL_GROUPS, "http://127.0.0.1:8123"),
    ]);
    let url = BaseUrl::resolve_groups(Some("https://explicit.example.org/base"), lookup).unwrap();
    assert_eq!(url.as_str(), "https://explicit.example.org/base/");
}

#[test]
fn empty_variables_count_as_unset() {
    let lookup = vars(&[(ENV_ENVIRONMENT, ""), (ENV_SERVICE_URL_GROUPS, "  ")]);
    assert_eq!(
        BaseUrl::resolve_groups(None, lookup).unwrap().as_str(),
        "https://groups.api.globus.org/"
    );
}

#[test]
fn unknown_environment_is_invalid_input_naming_it() {
    let err = BaseUrl::resolve_groups(None, vars(&[(ENV_ENVIRONMENT, "moon")])).unwrap_err();
    assert!(err.is_invalid_input());
    let msg = err.to_string();
    assert!(
        msg.contains("moon") && msg.contains(ENV_ENVIRONMENT),
        "{msg}"
    );
}

#[test]
fn non_http_base_url_is_invalid_input() {
    for bad in [
        "ftp://groups.example.org/",
        "groups.example.org",
        "/v2/groups",
        "https://",
        "not a url",
    ] {
        let err = BaseUrl::parse(bad).unwrap_err();
        assert!(err.is_invalid_input(), "{bad}: {err}");
        assert!(err.to_string().contains("base URL"), "{err}");
    }
    let err =
        BaseUrl::resolve_groups(None, vars(&[(ENV_SERVICE_URL_GROUPS, "ftp://x/")])).unwrap_err();
    assert!(err.to_string().contains(ENV_SERVICE_URL_GROUPS), "{err}");
    assert!(
        BaseUrl::parse("https://user:pw@example.org/")
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(
        BaseUrl::parse("https://example.org/?a=b")
            .unwrap_err()
            .is_invalid_input()
    );
}

#[test]
fn base_url_joins_with_one_slash() {
    let url = BaseUrl::parse("http://127.0.0.1:9000").unwrap();
    assert_eq!(url.join("/v2/groups"), "http://127.0.0.1:9000/v2/groups");
    assert_eq!(url.join("v2/groups"), "http://127.0.0.1:9000/v2/groups");
}

#[test]
fn http_timeout_variable_rules() {
    let t = |v: &str| http_timeout_from_lookup(vars(&[("GLOBUS_SDK_HTTP_TIMEOUT", v)]));
    assert_eq!(
        http_timeout_from_lookup(vars(&[])).unwrap(),
        Some(Duration::from_secs(60))
    );
    assert_eq!(t("").unwrap(), Some(Duration::from_secs(60)));
    assert_eq!(t("-1").unwrap(), None);
    assert_eq!(t("2.5").unwrap(), Some(Duration::from_millis(2500)));
    assert!(t("fast").unwrap_err().is_invalid_input());
    assert!(t("-3").unwrap_err().is_invalid_input());
}

#[test]
fn default_headers_name_sdk_and_app() {
    let c = ClientConfig::default();
    let h = c.default_headers();
    assert_eq!(h["accept"], "application/json");
    assert_eq!(
        h["user-agent"],
        format!("globus-groups-rs-{SDK_VERSION}").as_str()
    );
    assert_eq!(
        h["x-globus-client-info"],
        format!("product=rust-groups-sdk,version={SDK_VERSION}").as_str()
    );
    assert!(h.get("content-type").is_none());
    assert!(h.get("authorization").is_none());

    let c = c
        .with_app_name("my app")
        .unwrap()
        .with_client_info("mytool", "1.2")
        .unwrap();
    let h = c.default_headers();
    assert_eq!(
        h["user-agent"],
        format!("globus-groups-rs-{SDK_VERSION}/my app").as_str()
    );
    assert_eq!(
        h["x-globus-client-info"],
        format!("product=rust-groups-sdk,version={SDK_VERSION};product=mytool,version=1.2")
            .as_str()
    );
    assert!(ClientConfig::default().with_app_name("bad\nname").is_err());
    assert!(
        ClientConfig::default()
            .with_client_info("a;b", "1")
            .is_err()
    );
}

#[test]
fn extra_headers_override_defaults_but_never_authorization() {
    let c = ClientConfig::default()
        .with_header(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/vnd.x+json"),
        )
        .with_header(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer nope"),
        );
    assert_eq!(c.default_headers()["accept"], "application/vnd.x+json");
    assert!(c.default_headers().get("authorization").is_none());
}

#[test]
fn config_defaults() {
    let c = ClientConfig::from_lookup(vars(&[(ENV_ENVIRONMENT, "preview")])).unwrap();
    assert_eq!(
        c.base_url().as_str(),
        "https://groups.api.preview.globus.org/"
    );
    assert_eq!(c.deadline(), Some(Duration::from_secs(120)));
    assert_eq!(c.retry_policy().max_retries, 5);
    assert_eq!(c.app_name(), None);
}

#[test]
fn scope_strings_and_rendering() {
    assert_eq!(GroupsScopes::RESOURCE_SERVER, "groups.api.globus.org");
    assert_eq!(
        GroupsScopes::all().to_string(),
        "urn:globus:auth:scope:groups.api.globus.org:all"
    );
    assert_eq!(
        GroupsScopes::view_my_groups_and_memberships().to_string(),
        "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships"
    );
    assert_eq!(
        GroupsScopes::default_scope_requirements(),
        vec![GroupsScopes::view_my_groups_and_memberships()]
    );
    let nested = Scope::new("a")
        .unwrap()
        .with_dependency(Scope::new("b").unwrap())
        .with_dependency(
            Scope::new("c")
                .unwrap()
                .optional(true)
                .with_dependency(Scope::new("d").unwrap()),
        );
    assert_eq!(nested.to_string(), "a[b *c[d]]");
    assert_eq!(
        Scope::urn("groups.api.globus.org", "all").unwrap(),
        GroupsScopes::all()
    );
    assert_eq!(
        Scope::url("rs", "x").unwrap().to_string(),
        "https://auth.globus.org/scopes/rs/x"
    );
    for bad in ["", "a b", "a[b]", "*a"] {
        assert!(Scope::new(bad).unwrap_err().is_invalid_input(), "{bad}");
    }
    let all = [
        GroupsScopes::all(),
        GroupsScopes::view_my_groups_and_memberships(),
    ];
    assert_eq!(
        serialize_scopes(&all).unwrap(),
        format!(
            "{} {}",
            GroupsScopes::ALL,
            GroupsScopes::VIEW_MY_GROUPS_AND_MEMBERSHIPS
        )
    );
    assert!(serialize_scopes(&[]).is_err());
}

#[test]
fn request_uris_assembled_from_parts_equal_the_parsed_joined_url() {
    let bases = [
        "https://groups.api.globus.org/",
        "http://127.0.0.1:8123/",
        "http://[::1]:9000/prefix/v2-proxy/",
        "https://Groups.Example.ORG:8443/a/b",
    ];
    let cases = [
        ("v2/groups/my_groups", ""),
        (
            "/v2/groups/4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01",
            "include=memberships%2Cpolicies",
        ),
        ("v2/groups", "statuses=active&x=%20y"),
    ];
    for base in bases {
        let b = BaseUrl::parse(base).unwrap();
        for (path, query) in cases {
            let mut url = b.join(path);
            if !query.is_empty() {
                url.push('?');
                url.push_str(query);
            }
            let parsed: http::Uri = url.parse().unwrap();
            let built = b.request_uri(path, query).unwrap();
            assert_eq!(built, parsed, "{base} + {path}?{query}");
            assert_eq!(built.to_string(), parsed.to_string());
        }
    }
    // A path that is not a valid URI path is an error, not a panic.
    let b = BaseUrl::parse("https://groups.api.globus.org/").unwrap();
    assert!(b.request_uri("v2/groups/a b", "").is_err());
}
