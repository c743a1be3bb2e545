//! Concurrency: several clients hammer one group with random valid and invalid batch
//! actions (deterministic PRNG, bounded in time and count); afterwards the world's
//! invariants hold and no request got a 5xx. Readers never see half a batch.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Http, Rng};
use groups_emulator::Emulator;
use http::Method;
use serde_json::{Value, json};

const ADMIN: &str = "a0000000-0000-4000-8000-000000000000";
const GROUP: &str = "9a000000-0000-4000-8000-000000000000";
const USERS: usize = 12;
const TASKS: u64 = 8;
const REQUESTS_PER_TASK: usize = 60;
/// Reads the atomicity test makes while the writer runs.
const READS: usize = 300;

fn user(i: usize) -> String {
    format!("b0000000-0000-4000-8000-{i:012}")
}

fn seed() -> Value {
    let mut identities = vec![json!({"id": ADMIN, "username": "admin@example.org"})];
    let mut tokens = vec![json!({"token": "admin", "identity": ADMIN})];
    let mut memberships = vec![json!({"identity_id": ADMIN, "role": "admin"})];
    for i in 0..USERS {
        identities.push(json!({"id": user(i), "username": format!("u{i}@example.org")}));
        tokens.push(json!({"token": format!("u{i}"), "identity": user(i)}));
        if i < 3 {
            memberships.push(json!({"identity_id": user(i), "role": "admin"}));
        } else if i < 6 {
            memberships.push(json!({"identity_id": user(i), "role": "manager"}));
        }
    }
    json!({
        "identities": identities,
        "tokens": tokens,
        "groups": [{"id": GROUP, "name": "hammered",
                    "policies": {"group_visibility": "authenticated", "join_requests": true},
                    "memberships": memberships}]
    })
}

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
const ROLES: [&str; 3] = ["member", "manager", "admin"];

/// One random request: (method, path, token, body bytes).
fn random_request(rng: &mut Rng) -> (Method, String, String, Option<Vec<u8>>) {
    let token = if rng.below(4) == 0 {
        "admin".to_owned()
    } else {
        format!("u{}", rng.below(USERS))
    };
    let group = format!("/v2/groups/{GROUP}");
    match rng.below(20) {
        // Reads.
        0 => (
            Method::GET,
            format!("{group}?include=memberships,allowed_actions"),
            token,
            None,
        ),
        1 => (Method::GET, "/v2/groups/statuses".into(), token, None),
        // Invalid bodies.
        2 => (
            Method::POST,
            group,
            token,
            Some(b"{\"add\": [{\"identity_id\": ".to_vec()),
        ),
        3 => {
            let body = json!({"add": [{"identity_id": "not-a-uuid"}], "explode": []});
            (
                Method::POST,
                group,
                token,
                Some(body.to_string().into_bytes()),
            )
        }
        // Policy flips by an admin.
        4 => {
            let body = json!({"join_requests": rng.below(2) == 0,
                              "group_visibility": *rng.pick(&["authenticated", "private"])});
            (
                Method::PUT,
                format!("{group}/policies"),
                "admin".into(),
                Some(body.to_string().into_bytes()),
            )
        }
        // Batches: one to three verbs, one to three targets each, sometimes duplicated.
        _ => {
            let mut body = serde_json::Map::new();
            for _ in 0..=rng.below(3) {
                let verb = *rng.pick(&VERBS);
                let mut list = Vec::new();
                for _ in 0..=rng.below(3) {
                    let target = if rng.below(10) == 0 {
                        ADMIN.to_owned()
                    } else {
                        user(rng.below(USERS))
                    };
                    let mut item = json!({"identity_id": target});
                    if matches!(verb, "add" | "invite" | "change_role") {
                        item["role"] = json!(*rng.pick(&ROLES));
                    }
                    list.push(item);
                }
                body.insert(verb.to_owned(), Value::Array(list));
            }
            (
                Method::POST,
                group,
                token,
                Some(Value::Object(body).to_string().into_bytes()),
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hammering_one_group_keeps_invariants_and_never_5xx() {
    let emu = Emulator::builder().start().await.unwrap();
    emu.load_seed(serde_json::from_value(seed()).unwrap())
        .unwrap();
    let base = emu.base_url();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let http = Http::new(&base);
        tasks.spawn(async move {
            let mut rng = Rng::new(0xC0FFEE + t);
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            for _ in 0..REQUESTS_PER_TASK {
                let (method, path, token, body) = random_request(&mut rng);
                let what = format!(
                    "{method} {path} {:?}",
                    body.as_deref().map(String::from_utf8_lossy)
                );
                let r = http
                    .send_raw(method, &path, Some(&token), body)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(r.status < 500, "{what} -> {} {:?}", r.status, r.json);
                *statuses.entry(r.status).or_default() += 1;
            }
            statuses
        });
    }
    let mut total: BTreeMap<u16, usize> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        for (k, v) in r.unwrap() {
            *total.entry(k).or_default() += v;
        }
    }
    let n: usize = total.values().sum();
    eprintln!("hammer: {n} requests, by status {total:?}");
    assert_eq!(
        n,
        TASKS as usize * REQUESTS_PER_TASK,
        "every request was answered"
    );
    assert!(
        total.get(&200).copied().unwrap_or(0) > 0,
        "some batches succeed"
    );
    assert!(total.keys().any(|s| *s >= 400), "some requests are refused");
    emu.with_world(|w| w.check_invariants())
        .unwrap_or_else(|e| panic!("invariants violated: {e:?}"));
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_half_a_batch() {
    let emu = Emulator::builder().start().await.unwrap();
    emu.load_seed(serde_json::from_value(seed()).unwrap())
        .unwrap();
    let http = Http::new(&emu.base_url());
    let (x, y) = (user(10), user(11));
    let group = format!("/v2/groups/{GROUP}");
    let stop = Arc::new(AtomicBool::new(false));

    let writer = {
        let (http, stop, group, x, y) = (
            http.clone(),
            Arc::clone(&stop),
            group.clone(),
            x.clone(),
            y.clone(),
        );
        tokio::spawn(async move {
            let mut rounds = 0;
            while !stop.load(Ordering::Relaxed) && rounds < 300 {
                let both = json!([{"identity_id": x}, {"identity_id": y}]);
                for verb in ["add", "remove"] {
                    let r = http.post(&group, "admin", json!({ verb: both })).await;
                    assert_eq!(r.status, 200);
                    assert!(r.json.get("errors").is_none(), "{:?}", r.json);
                }
                rounds += 1;
            }
            rounds
        })
    };
    let mut seen = BTreeMap::new();
    for _ in 0..READS {
        if writer.is_finished() {
            break;
        }
        let r = http
            .get(&format!("{group}?include=memberships"), "admin")
            .await;
        assert_eq!(r.status, 200);
        let status_of = |id: &str| {
            r.json["memberships"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["identity_id"] == id)
                .map(|m| m["status"].as_str().unwrap().to_owned())
        };
        let (sx, sy) = (status_of(&x), status_of(&y));
        assert_eq!(sx, sy, "a reader saw half a batch");
        *seen.entry(sx).or_insert(0) += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.await.unwrap();
    eprintln!("atomicity: {rounds} add/remove rounds, reader saw {seen:?}");
    assert!(rounds > 0);
    emu.shutdown().await.unwrap();
}
