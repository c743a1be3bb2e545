//! Tests: state.

use super::*;

#[test]
fn state_round_trips_and_runs_are_deterministic() {
    let run = || {
        let (mut t, g) = setup();
        t.create("alice", json!({"name": "sub", "parent_id": g}));
        t.batch("alice", g, json!({"invite": [{"identity_id": id(3)}]}));
        t.w.link_identities(id(7), id(8));
        t.w
    };
    let (a, b) = (run(), run());
    let (ja, jb) = (
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    );
    assert_eq!(ja, jb);
    let back: World = serde_json::from_str(&ja).unwrap();
    back.check_invariants().unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), ja);
    assert_eq!(back.caller_for(id(8)).identities, vec![id(8), id(7)]);
    for gid in a.group_ids() {
        assert_eq!(a.group(gid), back.group(gid));
        assert_eq!(a.status_counts(gid), back.status_counts(gid));
    }
}

#[test]
fn bad_seeds_are_refused_without_changes() {
    let mut w = World::new();
    let no_admin: Seed =
        serde_json::from_value(json!({"groups": [{"name": "x", "memberships": []}]})).unwrap();
    assert!(w.load_seed(no_admin).is_err());
    let orphan: Seed = serde_json::from_value(json!({"groups": [{"name": "x", "parent_id": id(5),
        "memberships": [{"identity_id": id(1), "role": "admin"}]}]}))
    .unwrap();
    assert!(
        w.load_seed(orphan)
            .unwrap_err()
            .to_string()
            .contains("parent")
    );
    assert!(serde_json::from_value::<Seed>(json!({"groupz": []})).is_err());
    assert!(w.group_ids().is_empty());
    assert_eq!(w.generation(), 0);
}

#[test]
fn garbage_input_never_panics_or_5xx() {
    let (mut t, g) = setup();
    let c = t.caller("alice");
    let gs = g.to_string();
    let paths = [
        "/v2/groups".to_owned(),
        format!("/v2/groups/{gs}"),
        format!("/v2/groups/{gs}/policies"),
        format!("/v2/groups/{gs}/membership_fields"),
        format!("/v2/groups/{gs}/subscription_admin_verified"),
        "/v2/preferences".to_owned(),
    ];
    let bodies: [&[u8]; 12] = [
        b"",
        b"null",
        b"[]",
        b"\"s\"",
        b"{",
        b"{\"add\": [null]}",
        b"{\"name\": {}}",
        b"{\"is_high_assurance\": \"maybe\"}",
        b"{\"x\": 1e400}",
        b"\xff\xfe",
        b"{\"authentication_assurance_timeout\": 1.5}",
        b"{\"add\": [{\"identity_id\": 7}]}",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for p in &paths {
        for m in [Method::PUT, Method::POST, Method::DELETE, Method::GET] {
            for b in bodies {
                t.raw_as(&c, m.clone(), p, b);
            }
            // pseudo-random bytes
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..32)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed & 0xff) as u8
                    })
                    .collect();
                t.raw_as(&c, m.clone(), p, &bytes);
            }
        }
    }
    t.raw_as(
        &c,
        Method::GET,
        &format!("/v2/groups/{gs}?include=%ZZ&&=&include"),
        b"",
    );
    t.raw_as(&c, Method::GET, "/v2/groups/my_groups?statuses=%", b"");
}

#[test]
fn parent_cycles_are_refused_in_seeds_and_state_documents() {
    let admin = json!([{"identity_id": id(1), "role": "admin"}]);
    let (a, b) = (id(0xa1), id(0xa2));
    let own: Seed = serde_json::from_value(json!({"groups": [
        {"id": a, "name": "a", "parent_id": a, "memberships": admin}]}))
    .unwrap();
    let two: Seed = serde_json::from_value(json!({"groups": [
        {"id": a, "name": "a", "parent_id": b, "memberships": admin},
        {"id": b, "name": "b", "parent_id": a, "memberships": admin}]}))
    .unwrap();
    let mut w = World::new();
    for seed in [own, two] {
        let e = w.load_seed(seed).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
        // One prefix only: the message is not wrapped twice.
        assert_eq!(e.to_string().matches("invalid").count(), 1, "{e}");
    }
    assert!(w.group_ids().is_empty());

    // The same worlds as state documents.
    let ok: Seed = serde_json::from_value(json!({"groups": [
        {"id": a, "name": "a", "memberships": admin},
        {"id": b, "name": "b", "parent_id": a, "memberships": admin}]}))
    .unwrap();
    w.load_seed(ok).unwrap();
    let mut doc = serde_json::to_value(&w).unwrap();
    assert!(serde_json::from_value::<World>(doc.clone()).is_ok());
    doc["groups"][a.to_string()]["parent_id"] = json!(b);
    let e = serde_json::from_value::<World>(doc)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("parent chain has a cycle"), "{e}");
    assert!(!e.contains("invalid state: invalid"), "{e}");
}
