//! Tests: the limits that bound what one request may cost.

use super::*;

fn detail(r: &ApiResponse) -> Vec<Value> {
    r.json()["detail"].as_array().cloned().unwrap_or_default()
}

#[test]
fn batch_above_the_item_limit_is_refused_naming_the_limit() {
    let (mut t, g) = setup();
    let before = t.w.generation();
    let items = vec![json!({}); MAX_BATCH_ITEMS + 1];
    let r = t.batch("alice", g, json!({ "add": items }));
    assert_eq!(r.status, 422, "{}", r.json());
    let d = detail(&r);
    assert_eq!(d.len(), 1, "one item for the whole batch: {d:?}");
    assert_eq!(d[0]["type"], "too_long");
    assert_eq!(d[0]["ctx"]["max_length"], MAX_BATCH_ITEMS);
    assert_eq!(d[0]["ctx"]["actual_length"], MAX_BATCH_ITEMS + 1);
    assert!(
        d[0]["msg"]
            .as_str()
            .unwrap()
            .contains(&MAX_BATCH_ITEMS.to_string())
    );
    assert!(r.body.len() < 1024, "{} bytes", r.body.len());
    assert_eq!(t.w.generation(), before);
}

#[test]
fn the_item_limit_counts_every_verb_together() {
    let (mut t, g) = setup();
    let half = MAX_BATCH_ITEMS / 2 + 1;
    let adds: Vec<Value> = (0..half)
        .map(|i| json!({"identity_id": id(10_000 + i as u32)}))
        .collect();
    let invites: Vec<Value> = (0..half)
        .map(|i| json!({"identity_id": id(50_000 + i as u32)}))
        .collect();
    let r = t.batch("alice", g, json!({ "add": adds, "invite": invites }));
    assert_eq!(r.status, 422);
    assert_eq!(detail(&r)[0]["ctx"]["actual_length"], 2 * half);
    assert_eq!(t.w.group(g).unwrap().membership_list().len(), 3);
}

#[test]
fn many_invalid_items_give_a_bounded_error_list() {
    let (mut t, g) = setup();
    let n = 5_000;
    let r = t.batch("alice", g, json!({ "add": vec![json!({}); n] }));
    assert_eq!(r.status, 422);
    let d = detail(&r);
    assert_eq!(d.len(), MAX_REPORTED_ISSUES + 1);
    let last = &d[MAX_REPORTED_ISSUES];
    assert_eq!(last["type"], "too_many_errors");
    assert_eq!(last["ctx"]["omitted"], n - MAX_REPORTED_ISSUES);
    assert_eq!(d[0]["type"], "missing");
    assert_eq!(d[0]["loc"], json!(["body", "add", 0, "identity_id"]));
}

#[test]
fn long_inputs_are_not_echoed_in_full() {
    let (mut t, g) = setup();
    let long = "x".repeat(100_000);
    let r = t.batch("alice", g, json!({"add": [{"identity_id": long}]}));
    assert_eq!(r.status, 422);
    let d = detail(&r);
    let echoed = d[0]["input"].as_str().unwrap();
    assert!(echoed.len() < 200, "{} bytes echoed", echoed.len());
    assert!(echoed.starts_with("xxxx") && echoed.contains("100000 bytes"));
    // A small input is echoed as it is.
    let r = t.batch("alice", g, json!({"add": [{"identity_id": "nope"}]}));
    assert_eq!(detail(&r)[0]["input"], "nope");
}

#[test]
fn group_names_and_descriptions_have_a_length_limit() {
    let mut t = T::new();
    let ok = "n".repeat(MAX_NAME_CHARS);
    let g = t.create("alice", json!({"name": ok}));
    let r = t.call(
        "alice",
        Method::POST,
        "/v2/groups",
        Some(json!({"name": "é".repeat(MAX_NAME_CHARS + 1)})),
    );
    assert_eq!(r.status, 422);
    let d = detail(&r);
    assert_eq!(d[0]["type"], "string_too_long");
    assert_eq!(d[0]["loc"], json!(["body", "name"]));
    assert_eq!(d[0]["ctx"]["max_length"], MAX_NAME_CHARS);
    let path = format!("/v2/groups/{g}");
    for (key, max) in [
        ("name", MAX_NAME_CHARS),
        ("description", MAX_DESCRIPTION_CHARS),
        ("terms_and_conditions", MAX_DESCRIPTION_CHARS),
    ] {
        let r = t.call(
            "alice",
            Method::PUT,
            &path,
            Some(json!({ key: "d".repeat(max + 1) })),
        );
        assert_eq!(r.status, 422, "{key}");
        assert_eq!(detail(&r)[0]["loc"], json!(["body", key]));
        let r = t.call(
            "alice",
            Method::PUT,
            &path,
            Some(json!({ key: "d".repeat(max) })),
        );
        assert_eq!(r.status, 200, "{key}: {}", r.json());
    }
}

#[test]
fn prepared_requests_answer_like_handle() {
    let (mut t, g) = setup();
    let c = t.caller("alice");
    let headers = HeaderMap::new();
    let path = format!("/v2/groups/{g}");
    let body = serde_json::to_vec(&json!({"add": [{"identity_id": id(1)}]})).unwrap();
    let req = ApiRequest {
        method: &Method::POST,
        path: &path,
        query: None,
        headers: &headers,
        body: &body,
    };
    let mut other = t.w.clone();
    let prepared = World::prepare(&req);
    let a = t.w.handle_prepared(&c, &req, &prepared, NOW, &t.policy);
    let b = other.handle(&c, &req, NOW, &t.policy);
    assert_eq!(a, b);
    assert_eq!(a.status, 200);
    // Scope and route checks still come before the body's 422.
    let bad = ApiRequest {
        body: b"{",
        path: "/v2/nothing",
        ..req
    };
    let prepared = World::prepare(&bad);
    assert_eq!(
        t.w.handle_prepared(&c, &bad, &prepared, NOW, &t.policy)
            .status,
        404
    );
}
