//! Strict base URLs, environment-variable messages and the HTTP timeout
//! variable: every value a token must not be sent to is refused before
//! anything is sent, and each message states the problem once.

use std::collections::HashMap;
use std::time::Duration;

use groups_core::config::{
    BaseUrl, ClientConfig, ENV_ENVIRONMENT, ENV_HTTP_TIMEOUT, ENV_SERVICE_URL_AUTH,
    ENV_SERVICE_URL_GROUPS, http_timeout_from_lookup,
};

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Every URL a token must never be sent to, with a word the message must
/// contain.
const BAD_URLS: &[(&str, &str)] = &[
    ("http://127.0.0.1:99999/", "port"),
    ("http://127.0.0.1:65536/", "port"),
    ("http://127.0.0.1:0/", "port"),
    ("https://groups.example.org:-1/", "port"),
    ("https://groups.example.org:80a/", "port"),
    ("ftp://groups.example.org/", "http or https"),
    ("file:///etc/passwd", "http or https"),
    ("groups.example.org", "URL"),
    ("/v2/groups", "URL"),
    ("https://", "host"),
    ("https:///v2", "host"),
    ("https://user:pw@groups.example.org/", "credentials"),
    ("https://user@groups.example.org/", "credentials"),
    ("https://:pw@groups.example.org/", "credentials"),
    ("https://groups.example.org/?a=b", "query"),
    ("https://groups.example.org/?", "query"),
    ("https://groups.example.org/#frag", "fragment"),
    ("https://groups.example.org/#", "fragment"),
    (" https://groups.example.org/", "whitespace"),
    ("https://groups.example.org/ ", "whitespace"),
    ("https://groups.example.org/\n", "whitespace"),
    ("https://groups.exa\tmple.org/", "whitespace"),
    ("https://groups.example.org/a b", "whitespace"),
    ("https://groups.example.org/\u{0}", "control"),
    ("https://groups.example.org/\u{7f}", "control"),
    ("https://evil.example\\@groups.example.org/", "backslash"),
    ("https://xn--a.example/", "host"),
    ("https://a..b\u{ad}\u{200b}%00.example/", "host"),
    ("https://[::1/", "host"),
    ("https://exa mple.org/", "whitespace"),
    ("http://127.0.0.1:8080:80/", "port"),
];

#[test]
fn base_url_refuses_everything_a_token_must_not_reach() {
    for (bad, word) in BAD_URLS {
        let err = BaseUrl::parse(bad).expect_err(bad);
        assert!(err.is_invalid_input(), "{bad:?}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("base URL"), "{bad:?}: {msg}");
        assert!(
            msg.to_lowercase().contains(&word.to_lowercase()),
            "{bad:?}: the message should name the problem ({word}): {msg}"
        );
        assert_eq!(msg.matches("invalid input").count(), 1, "{msg}");
        assert!(!msg.contains("pw@"), "a password is never shown: {msg}");
    }
}

#[test]
fn base_url_accepts_and_normalizes_good_urls() {
    let cases = [
        (
            "https://groups.api.globus.org",
            "https://groups.api.globus.org/",
            "groups.api.globus.org",
            443,
        ),
        (
            "HTTPS://Groups.API.Globus.ORG/",
            "https://groups.api.globus.org/",
            "groups.api.globus.org",
            443,
        ),
        (
            "https://groups.example.org:443/",
            "https://groups.example.org/",
            "groups.example.org",
            443,
        ),
        (
            "https://groups.example.org:8443/api",
            "https://groups.example.org:8443/api/",
            "groups.example.org",
            8443,
        ),
        (
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "127.0.0.1",
            8080,
        ),
        ("http://localhost/", "http://localhost/", "localhost", 80),
        ("http://[::1]:9000/", "http://[::1]:9000/", "[::1]", 9000),
        (
            "http://127.0.0.1:65535/",
            "http://127.0.0.1:65535/",
            "127.0.0.1",
            65535,
        ),
        (
            "https://bücher.example/",
            "https://xn--bcher-kva.example/",
            "xn--bcher-kva.example",
            443,
        ),
    ];
    for (input, expected, host, port) in cases {
        let url = BaseUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.as_str(), expected, "{input}");
        assert_eq!(url.host(), host, "{input}");
        assert_eq!(url.port(), port, "{input}");
        assert_eq!(url.is_https(), expected.starts_with("https"), "{input}");
    }
}

#[test]
fn env_service_urls_are_strict_and_named_once() {
    for var in [ENV_SERVICE_URL_GROUPS, ENV_SERVICE_URL_AUTH] {
        let lookup = vars(&[(var, "http://127.0.0.1:99999/")]);
        let err = if var == ENV_SERVICE_URL_GROUPS {
            BaseUrl::resolve_groups(None, &lookup).unwrap_err()
        } else {
            BaseUrl::resolve_auth(None, &lookup).unwrap_err()
        };
        let msg = err.to_string();
        assert!(err.is_invalid_input(), "{msg}");
        assert!(msg.contains(var), "{msg}");
        assert!(msg.contains("port"), "{msg}");
        assert_eq!(
            msg.matches("invalid input: ").count(),
            1,
            "the prefix appears once: {msg}"
        );
    }
    let err =
        ClientConfig::from_lookup(vars(&[(ENV_SERVICE_URL_GROUPS, "https://h/?x=1")])).unwrap_err();
    let msg = err.to_string();
    assert_eq!(msg.matches("invalid input: ").count(), 1, "{msg}");
    assert!(
        msg.contains(ENV_SERVICE_URL_GROUPS) && msg.contains("query"),
        "{msg}"
    );
    // The explicit URL wins over the variable and is just as strict.
    let err = BaseUrl::resolve_groups(Some("https://h:70000/"), vars(&[])).unwrap_err();
    assert!(err.to_string().contains("port"), "{err}");
    // An unknown environment is also named once.
    let err = BaseUrl::resolve_groups(None, vars(&[(ENV_ENVIRONMENT, "moon")])).unwrap_err();
    assert_eq!(
        err.to_string().matches("invalid input: ").count(),
        1,
        "{err}"
    );
    assert_eq!(
        err.invalid_input_message()
            .map(|m| m.starts_with(ENV_ENVIRONMENT)),
        Some(true)
    );
}

fn timeout(v: &str) -> Result<Option<Duration>, groups_core::GroupsError> {
    http_timeout_from_lookup(vars(&[(ENV_HTTP_TIMEOUT, v)]))
}

#[test]
fn http_timeout_good_values() {
    assert_eq!(timeout("").unwrap(), Some(Duration::from_secs(60)));
    assert_eq!(timeout("   ").unwrap(), Some(Duration::from_secs(60)));
    assert_eq!(timeout("-1").unwrap(), None);
    assert_eq!(timeout("-1.0").unwrap(), None);
    assert_eq!(timeout("2.5").unwrap(), Some(Duration::from_millis(2500)));
    assert_eq!(timeout(" 30 ").unwrap(), Some(Duration::from_secs(30)));
    assert_eq!(timeout("0.25").unwrap(), Some(Duration::from_millis(250)));
    // Tiny positive values round up to the smallest wait the transport has.
    assert_eq!(timeout("1e-12").unwrap(), Some(Duration::from_millis(1)));
    assert_eq!(timeout("0.0001").unwrap(), Some(Duration::from_millis(1)));
    assert_eq!(timeout("86400").unwrap(), Some(Duration::from_secs(86_400)));
}

#[test]
fn http_timeout_bad_values_are_named_with_the_value_as_given() {
    let cases = [
        ("-5", "must not be negative"),
        ("-0.5", "must not be negative"),
        ("-1e-12", "must not be negative"),
        ("-inf", "not a finite number"),
        ("0", "must be greater than zero"),
        ("0.0", "must be greater than zero"),
        ("-0", "must be greater than zero"),
        ("NaN", "not a finite number"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("infinity", "not a finite number"),
        ("abc", "not a number"),
        ("5s", "not a number"),
        ("1e300", "too large"),
        ("18446744073709551616", "too large"),
        ("1e10", "too large"),
    ];
    for (value, why) in cases {
        let err = timeout(value).expect_err(value);
        assert!(err.is_invalid_input(), "{value}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(ENV_HTTP_TIMEOUT), "{value}: {msg}");
        assert!(
            msg.contains(&format!("{value:?}")),
            "the value is shown as given: {value}: {msg}"
        );
        assert!(msg.contains(why), "{value}: expected {why:?} in {msg}");
        assert_eq!(msg.matches("invalid input: ").count(), 1, "{msg}");
        if why != "not a number" && why != "not a finite number" {
            assert!(!msg.contains("not a number"), "{value} is a number: {msg}");
        }
    }
}

#[test]
fn env_url_error_has_one_invalid_input_prefix() {
    let err =
        BaseUrl::resolve_groups(None, vars(&[(ENV_SERVICE_URL_GROUPS, "ftp://x/")])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("invalid input: GLOBUS_SDK_SERVICE_URL_GROUPS: base URL"),
        "{msg}"
    );
    assert_eq!(msg.matches("invalid input").count(), 1, "{msg}");
}
