//! Tests: auth.

use super::*;

#[test]
fn authentication_errors_and_default_identities() {
    let t = T::new();
    let p = Policy::default();
    for bad in [
        None,
        Some(&b"Basic abc"[..]),
        Some(b"Bearer"),
        Some(b"Bearer  "),
        Some(b"\xff\xfe"),
    ] {
        let e = t.w.authenticate(bad, &p).unwrap_err();
        assert_eq!(e.status, 401);
        assert_eq!(e.code().as_deref(), Some("AUTHENTICATION_ERROR"));
        assert!(e.json()["authorization_parameters"].is_object());
    }
    let a1 = t.w.authenticate(Some(b"Bearer tok"), &p).unwrap();
    let a2 = t.w.authenticate(Some(b"bearer tok"), &p).unwrap();
    assert_eq!(a1, a2);
    assert_eq!(a1.primary, default_identity_for_token("tok"));
    assert!(t.w.username(&a1.primary).starts_with("user-"));
    assert!(a1.scopes.contains(&SCOPE_ALL.to_owned()));
    let strict = Policy {
        strict_tokens: true,
        ..Policy::default()
    };
    let e = t.w.authenticate(Some(b"Bearer tok"), &strict).unwrap_err();
    assert_eq!(e.code().as_deref(), Some("INVALID_TOKEN"));
}

#[test]
fn seeded_tokens_map_to_identity_sets() {
    let mut t = T::new();
    let seed: Seed = serde_json::from_value(json!({
        "identities": [{"id": id(1), "username": "alice@x.org", "linked": [id(2)]},
                       {"id": id(3), "linked": [id(2)]}],
        "tokens": [{"token": "alice", "identity": id(1)}]
    }))
    .unwrap();
    t.w.load_seed(seed).unwrap();
    t.policy.strict_tokens = true;
    let c = t.caller("alice");
    assert_eq!(c.primary, id(1));
    assert_eq!(c.identities, vec![id(1), id(2), id(3)]);
    assert_eq!(t.w.username(&id(1)), "alice@x.org");
    assert!(format!("{:?}", t.w).find("alice").is_none());
}

#[test]
fn auth_state_round_trips_and_refuses_unknown_keys() {
    let mut t = T::new();
    let seed: Seed = serde_json::from_value(json!({
        "clients": [{"id": "c1", "secret": "s1", "identity": id(9)},
                    {"id": "n1", "client_type": "native", "redirect_uris": ["http://127.0.0.1:5/cb"]}],
        "strict_clients": true
    }))
    .unwrap();
    t.w.load_seed(seed).unwrap();
    let state = serde_json::to_value(&t.w).unwrap();
    assert_eq!(state["auth"]["strict_clients"], true);
    assert!(
        !state.to_string().contains("\"s1\""),
        "the secret is kept as a fingerprint"
    );
    let back: World = serde_json::from_value(state.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), state);
    let mut bad = state.clone();
    bad["auth"]["bogus"] = json!(1);
    assert!(serde_json::from_value::<World>(bad).is_err());
    let mut bad = state;
    bad["auth"]["clients"]["c1"]["secret"] = json!("plain");
    assert!(serde_json::from_value::<World>(bad).is_err());
    // A state without Auth (an older file) still loads.
    let mut old = serde_json::to_value(World::new()).unwrap();
    old.as_object_mut().unwrap().remove("auth");
    assert!(serde_json::from_value::<World>(old).is_ok());
    // Refused client seeds leave the world unchanged.
    for bad in [
        json!({"clients": [{"id": "", "secret": "x"}]}),
        json!({"clients": [{"id": "c", "client_type": "confidential"}]}),
        json!({"clients": [{"id": "c", "client_type": "native", "secret": "x"}]}),
        json!({"clients": [{"id": "c", "redirect_uris": ["ftp://x"]}]}),
    ] {
        let seed: Seed = serde_json::from_value(bad.clone()).unwrap();
        assert!(t.w.load_seed(seed).is_err(), "{bad}");
    }
    let seed: Seed =
        serde_json::from_value(json!({"clients": [{"id": "c9", "secret": "hidden-value"}]}))
            .unwrap();
    assert!(!format!("{seed:?}").contains("hidden-value"));
}
