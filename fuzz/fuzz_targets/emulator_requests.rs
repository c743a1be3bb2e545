//! The emulator's request decoding and rules on arbitrary requests: any
//! method, path, query and body, from three callers, against a world with a
//! group, a subgroup and members. No request may panic the emulator or
//! leave the world breaking an invariant (a group without an active admin,
//! a parent cycle, ...).
#![no_main]

use groups_emulator::world::{ApiRequest, Policy, World};
use groups_types::IdentityId;
use http::{HeaderMap, Method};
use libfuzzer_sys::fuzz_target;

const NOW: &str = "2026-01-01T00:00:00+00:00";
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

fn id(n: u128) -> IdentityId {
    IdentityId::from_uuid(uuid_from(n))
}

fn uuid_from(n: u128) -> groups_types::uuid::Uuid {
    groups_types::uuid::Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn request(world: &mut World, who: IdentityId, method: &Method, path_q: &str, body: &[u8]) {
    let (path, query) = match path_q.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_q, None),
    };
    let headers = HeaderMap::new();
    let req = ApiRequest {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let caller = world.caller_for(who);
    let _ = world.handle(&caller, &req, NOW, &Policy::default());
}

fn seeded() -> (World, String) {
    let mut w = World::new();
    let admin = id(1);
    request(
        &mut w,
        admin,
        &Method::POST,
        "/v2/groups",
        br#"{"name": "fuzz"}"#,
    );
    let caller = w.caller_for(admin);
    let headers = HeaderMap::new();
    let list = w.handle_read(
        &caller,
        &ApiRequest {
            method: &Method::GET,
            path: "/v2/groups/my_groups",
            query: None,
            headers: &headers,
            body: b"",
        },
        NOW,
        &Policy::default(),
    );
    let groups: serde_json::Value = serde_json::from_slice(&list.body).expect("JSON list");
    let gid = groups[0]["id"].as_str().expect("one group").to_owned();
    let batch = format!(
        r#"{{"add": [{{"identity_id": "{}", "role": "manager"}}, {{"identity_id": "{}"}}]}}"#,
        id(2),
        id(3)
    );
    request(
        &mut w,
        admin,
        &Method::POST,
        &format!("/v2/groups/{gid}"),
        batch.as_bytes(),
    );
    let sub = format!(r#"{{"name": "sub", "parent_id": "{gid}"}}"#);
    request(&mut w, admin, &Method::POST, "/v2/groups", sub.as_bytes());
    (w, gid)
}

fuzz_target!(|data: &[u8]| {
    let (mut world, gid) = seeded();
    // Up to 8 requests: [method+caller byte][path length][path][body length][body]...
    let mut rest = data;
    for _ in 0..8 {
        let [pick, plen, tail @ ..] = rest else { break };
        let plen = (*plen as usize).min(tail.len());
        let (raw_path, tail) = tail.split_at(plen);
        let blen = tail
            .first()
            .map_or(0, |b| *b as usize * 4)
            .min(tail.len().saturating_sub(1));
        let body = tail.get(1..1 + blen).unwrap_or(&[]);
        rest = tail.get(1 + blen..).unwrap_or(&[]);
        let method = &METHODS[*pick as usize % METHODS.len()];
        let who = id(1 + u128::from(*pick / 64));
        // Paths mostly under the seeded group, so the rules are reached.
        let path = String::from_utf8_lossy(raw_path).replace("{g}", &gid);
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/v2/groups/{gid}{path}")
        };
        request(&mut world, who, method, &path, body);
        if let Err(broken) = world.check_invariants() {
            panic!("invariants broken after {method} {path}: {broken:?}");
        }
    }
});
