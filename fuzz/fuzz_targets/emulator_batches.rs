//! The emulator's batch application: sequences of structured batches (verbs,
//! identities, roles, from three callers) on a group with members of every
//! status. After every batch the world must keep its invariants, and the
//! answer must account for every item exactly once (a success or an error).
#![no_main]

use groups_emulator::world::{ApiRequest, Policy, World};
use groups_types::IdentityId;
use http::{HeaderMap, Method, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const NOW: &str = "2026-01-01T00:00:00+00:00";
const VERBS: [&str; 11] = [
    "accept",
    "add",
    "approve",
    "change_role",
    "decline",
    "invite",
    "join",
    "leave",
    "reject",
    "remove",
    "request_join",
];
const ROLES: [&str; 4] = ["member", "manager", "admin", "owner"];

fn id(n: u8) -> IdentityId {
    IdentityId::from_uuid(groups_types::uuid::Uuid::from_u128(
        0x0000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n),
    ))
}

fn call(
    world: &mut World,
    who: IdentityId,
    method: &Method,
    path: &str,
    body: &[u8],
) -> (StatusCode, Value) {
    let headers = HeaderMap::new();
    let req = ApiRequest {
        method,
        path,
        query: None,
        headers: &headers,
        body,
    };
    let caller = world.caller_for(who);
    let r = world.handle(&caller, &req, NOW, &Policy::default());
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fuzz_target!(|data: &[u8]| {
    let mut w = World::new();
    let admin = id(1);
    let (_, group) = call(&mut w, admin, &Method::POST, "/v2/groups", br#"{"name": "fuzz", "policies": {"group_visibility": "authenticated", "join_requests": true}}"#);
    let Some(gid) = group["id"].as_str().map(str::to_owned) else {
        panic!("the set-up group was not created: {group}");
    };
    let path = format!("/v2/groups/{gid}");
    // Members of several statuses to start from.
    let setup = json!({
        "add": [{"identity_id": id(2), "role": "manager"}, {"identity_id": id(3)}],
        "invite": [{"identity_id": id(4)}],
    });
    call(
        &mut w,
        admin,
        &Method::POST,
        &path,
        setup.to_string().as_bytes(),
    );
    call(
        &mut w,
        id(5),
        &Method::POST,
        &path,
        json!({"request_join": [{"identity_id": id(5)}]})
            .to_string()
            .as_bytes(),
    );

    // Each batch: [caller+count byte] then count x [verb, identity, role] bytes.
    let mut rest = data;
    for _ in 0..6 {
        let [head, tail @ ..] = rest else { break };
        let count = (*head as usize % 6) + 1;
        let who = id(1 + head / 64);
        let mut lists: serde_json::Map<String, Value> = serde_json::Map::new();
        let mut sent = 0usize;
        let mut taken = 0;
        for chunk in tail.chunks(3).take(count) {
            taken += chunk.len();
            let [verb, ident, role] = chunk else { break };
            let verb = VERBS[*verb as usize % VERBS.len()];
            let mut item = json!({"identity_id": id(1 + ident % 8)});
            if role % 2 == 1 {
                item["role"] = json!(ROLES[(*role as usize / 2) % ROLES.len()]);
            }
            lists
                .entry(verb)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("list")
                .push(item);
            sent += 1;
        }
        rest = &tail[taken..];
        let body = Value::Object(lists).to_string();
        let (status, answer) = call(&mut w, who, &Method::POST, &path, body.as_bytes());
        if status == StatusCode::OK {
            let mut seen = 0usize;
            for verb in VERBS {
                seen += answer[verb].as_array().map_or(0, Vec::len);
                seen += answer["errors"][verb].as_array().map_or(0, Vec::len);
            }
            assert_eq!(seen, sent, "every item answered once: {body} -> {answer}");
        }
        if let Err(broken) = w.check_invariants() {
            panic!("invariants broken after {body}: {broken:?}");
        }
    }
});
