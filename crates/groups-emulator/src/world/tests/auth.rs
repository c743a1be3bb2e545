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
