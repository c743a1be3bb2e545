//! Every rule area of the Groups API through real HTTP on loopback: create defaults,
//! each batch verb allowed and refused, whole-request failures, visibility across
//! tokens, identity sets, last admin, subgroups, policies, preferences and allow_add,
//! membership fields, subscriptions, scopes, 401 shapes, 422 on bad input, 404/405.

mod common;

use common::{Http, Reply};
use groups_emulator::Emulator;
use groups_emulator::world::Seed;
use http::Method;
use serde_json::{Value, json};

const ALICE: &str = "11111111-1111-4111-8111-111111111111";
const ALICE2: &str = "11111111-1111-4111-8111-111111111112";
const BOB: &str = "22222222-2222-4222-8222-222222222222";
const CAROL: &str = "33333333-3333-4333-8333-333333333333";
const DAVE: &str = "44444444-4444-4444-8444-444444444444";
const EVE: &str = "55555555-5555-4555-8555-555555555555";
const FRANK: &str = "66666666-6666-4666-8666-666666666666";
const SUB: &str = "99999999-9999-4999-8999-999999999999";
const SUB_GROUP: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const VIEW_SCOPE: &str =
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";

fn seed() -> Seed {
    serde_json::from_value(json!({
        "identities": [
            {"id": ALICE, "username": "alice@example.org", "linked": [ALICE2]},
            {"id": ALICE2, "username": "alice@other.example"},
            {"id": BOB, "username": "bob@example.org"},
            {"id": CAROL, "username": "carol@example.org"},
            {"id": DAVE, "username": "dave@example.org"},
            {"id": EVE, "username": "eve@example.org"},
            {"id": FRANK, "username": "frank@example.org"}
        ],
        "tokens": [
            {"token": "alice", "identity": ALICE},
            {"token": "bob", "identity": BOB},
            {"token": "carol", "identity": CAROL},
            {"token": "dave", "identity": DAVE},
            {"token": "eve", "identity": EVE},
            {"token": "frank", "identity": FRANK},
            {"token": "reader", "identity": FRANK, "scopes": [VIEW_SCOPE]}
        ],
        "groups": [
            {"id": SUB_GROUP, "name": "Subscription group", "group_type": "plus",
             "memberships": [{"identity_id": DAVE, "role": "admin"}]}
        ],
        "subscriptions": [
            {"id": SUB, "group_id": SUB_GROUP, "name": "Secret name",
             "subscriber_name": "Secret U", "is_high_assurance": false}
        ]
    }))
    .expect("seed parses")
}

async fn setup() -> (Emulator, Http) {
    let emu = Emulator::builder().start().await.unwrap();
    emu.load_seed(seed()).unwrap();
    let http = Http::new(&emu.base_url());
    (emu, http)
}

async fn finish(emu: Emulator) {
    emu.with_world(|w| w.check_invariants())
        .unwrap_or_else(|e| panic!("invariants: {e:?}"));
    emu.shutdown().await.unwrap();
}

async fn create(http: &Http, token: &str, body: Value) -> String {
    let r = http.post("/v2/groups", token, body).await;
    assert_eq!(r.status, 201, "{:?}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn batch(http: &Http, token: &str, gid: &str, body: Value) -> Reply {
    http.post(&format!("/v2/groups/{gid}"), token, body).await
}

fn items(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|i| json!({"identity_id": i})).collect())
}

/// Run a batch that must succeed for every item, returning the memberships of `verb`.
async fn ok_batch(http: &Http, token: &str, gid: &str, verb: &str, body: Value) -> Vec<Value> {
    let r = batch(http, token, gid, json!({ verb: body })).await;
    assert_eq!(r.status, 200, "{verb}: {:?}", r.json);
    assert!(r.json.get("errors").is_none(), "{verb}: {:?}", r.json);
    r.json[verb].as_array().unwrap().clone()
}

/// Run a batch whose single item must fail with `code`.
async fn refused(http: &Http, token: &str, gid: &str, verb: &str, body: Value, code: &str) {
    let r = batch(http, token, gid, json!({ verb: body })).await;
    assert_eq!(r.status, 200, "{verb}: {:?}", r.json);
    assert_eq!(r.json[verb], json!([]), "{verb}: {:?}", r.json);
    assert_eq!(
        r.json["errors"][verb][0]["code"], code,
        "{verb}: {:?}",
        r.json
    );
}

async fn member_status(http: &Http, gid: &str, who: &str) -> Option<(String, String)> {
    let g = http
        .get(&format!("/v2/groups/{gid}?include=memberships"), "alice")
        .await;
    assert_eq!(g.status, 200);
    g.json["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["identity_id"] == who)
        .map(|m| {
            (
                m["status"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
}

#[tokio::test]
async fn create_returns_201_with_defaults_and_the_creator_as_admin() {
    let (emu, http) = setup().await;
    let r = http
        .post(
            "/v2/groups",
            "alice",
            json!({"name": "Lab", "description": "d"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "Lab");
    assert_eq!(r.json["parent_id"], Value::Null);
    assert_eq!(r.json["group_type"], "regular");
    let mine = &r.json["my_memberships"][0];
    assert_eq!(
        (&mine["identity_id"], &mine["role"], &mine["status"]),
        (&json!(ALICE), &json!("admin"), &json!("active"))
    );
    let gid = r.json["id"].as_str().unwrap();
    let p = http
        .get(&format!("/v2/groups/{gid}/policies"), "alice")
        .await;
    assert_eq!(
        p.json,
        json!({"is_high_assurance": false, "authentication_assurance_timeout": 28800,
               "group_visibility": "private", "group_members_visibility": "managers",
               "join_requests": false, "signup_fields": []})
    );
    finish(emu).await;
}

#[tokio::test]
async fn every_batch_verb_on_its_allowed_path() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    http.put(
        &format!("/v2/groups/{gid}/policies"),
        "alice",
        json!({"join_requests": true, "group_visibility": "authenticated"}),
    )
    .await;

    let added = ok_batch(
        &http,
        "alice",
        &gid,
        "add",
        json!([{"identity_id": BOB, "role": "member"}]),
    )
    .await;
    assert_eq!(
        (&added[0]["status"], &added[0]["role"]),
        (&json!("active"), &json!("member"))
    );
    let inv = ok_batch(&http, "alice", &gid, "invite", items(&[CAROL, DAVE])).await;
    assert!(inv.iter().all(|m| m["status"] == "invited"));
    let acc = ok_batch(&http, "carol", &gid, "accept", items(&[CAROL])).await;
    assert_eq!(acc[0]["status"], "active");
    let dec = ok_batch(&http, "dave", &gid, "decline", items(&[DAVE])).await;
    assert_eq!(dec[0]["status"], "declined");
    let req = ok_batch(&http, "eve", &gid, "request_join", items(&[EVE])).await;
    assert_eq!(req[0]["status"], "pending");
    let app = ok_batch(&http, "alice", &gid, "approve", items(&[EVE])).await;
    assert_eq!(app[0]["status"], "active");
    let req = ok_batch(&http, "frank", &gid, "request_join", items(&[FRANK])).await;
    assert_eq!(req[0]["status"], "pending");
    let rej = ok_batch(&http, "alice", &gid, "reject", items(&[FRANK])).await;
    assert_eq!(rej[0]["status"], "rejected");
    let cr = ok_batch(
        &http,
        "alice",
        &gid,
        "change_role",
        json!([{"identity_id": BOB, "role": "manager"}]),
    )
    .await;
    assert_eq!(
        (&cr[0]["status"], &cr[0]["role"]),
        (&json!("active"), &json!("manager"))
    );
    let left = ok_batch(&http, "carol", &gid, "leave", items(&[CAROL])).await;
    assert_eq!(left[0]["status"], "left");
    let rem = ok_batch(&http, "bob", &gid, "remove", items(&[EVE])).await;
    assert_eq!(rem[0]["status"], "removed");
    // join: the group is visible to authenticated users and not high
    // assurance (the emulator's own rule for direct joins).
    let joined = ok_batch(&http, "dave", &gid, "join", items(&[DAVE])).await;
    assert_eq!(
        (&joined[0]["status"], &joined[0]["role"]),
        (&json!("active"), &json!("member"))
    );

    // The counts of GET /v2/groups/statuses match what happened.
    let counts = http.get("/v2/groups/statuses", "alice").await;
    assert_eq!(counts.status, 200);
    let c = &counts.json[&gid];
    assert_eq!(
        (&c["active"], &c["left"], &c["removed"], &c["rejected"]),
        (&json!(3), &json!(1), &json!(1), &json!(1)),
        "{c}"
    );
    finish(emu).await;
}

#[tokio::test]
async fn batch_per_identity_refusals_keep_http_200() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(&http, "alice", &gid, "add", items(&[BOB])).await;
    ok_batch(
        &http,
        "alice",
        &gid,
        "change_role",
        json!([{"identity_id": BOB, "role": "manager"}]),
    )
    .await;

    refused(&http, "alice", &gid, "add", items(&[BOB]), "ALREADY_ACTIVE").await;
    refused(
        &http,
        "alice",
        &gid,
        "remove",
        items(&[CAROL]),
        "NO_MEMBERSHIP",
    )
    .await;
    refused(
        &http,
        "alice",
        &gid,
        "approve",
        items(&[BOB]),
        "NOT_PENDING",
    )
    .await;
    refused(
        &http,
        "alice",
        &gid,
        "remove",
        items(&[ALICE]),
        "CANNOT_REMOVE_SELF",
    )
    .await;
    refused(&http, "alice", &gid, "leave", items(&[ALICE]), "LAST_ADMIN").await;
    refused(
        &http,
        "alice",
        &gid,
        "change_role",
        json!([{"identity_id": ALICE, "role": "member"}]),
        "LAST_ADMIN",
    )
    .await;
    refused(
        &http,
        "bob",
        &gid,
        "add",
        json!([{"identity_id": CAROL, "role": "admin"}]),
        "ADMIN_REQUIRED",
    )
    .await;
    refused(
        &http,
        "alice",
        &gid,
        "request_join",
        items(&[ALICE2]),
        "JOIN_REQUESTS_DISABLED",
    )
    .await;
    // A self verb for someone else's identity.
    refused(
        &http,
        "alice",
        &gid,
        "leave",
        items(&[BOB]),
        "NOT_OWN_IDENTITY",
    )
    .await;

    // Previously left cannot be added back, but can be invited.
    ok_batch(&http, "bob", &gid, "leave", items(&[BOB])).await;
    refused(
        &http,
        "alice",
        &gid,
        "add",
        items(&[BOB]),
        "PREVIOUSLY_LEFT",
    )
    .await;
    ok_batch(&http, "alice", &gid, "invite", items(&[BOB])).await;

    // Partial success: one item ok, one refused, in the same answer.
    let r = batch(&http, "alice", &gid, json!({"add": items(&[CAROL, ALICE])})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["add"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["errors"]["add"][0]["identity_id"], ALICE);
    assert_eq!(r.json["errors"]["add"][0]["code"], "ALREADY_ACTIVE");
    // accept of something that is not an invitation
    refused(
        &http,
        "carol",
        &gid,
        "accept",
        items(&[CAROL]),
        "NOT_INVITED",
    )
    .await;

    // High-assurance groups cannot be joined directly.
    http.put(
        &format!("/v2/groups/{gid}/policies"),
        "alice",
        json!({"is_high_assurance": true, "group_visibility": "authenticated"}),
    )
    .await;
    refused(&http, "eve", &gid, "join", items(&[EVE]), "HIGH_ASSURANCE").await;
    finish(emu).await;
}

#[tokio::test]
async fn whole_request_failures() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(&http, "alice", &gid, "add", items(&[BOB])).await;
    let before = emu.dump_state();

    // The same identity under two verbs: 400, nothing applied.
    let r = batch(
        &http,
        "alice",
        &gid,
        json!({"add": items(&[CAROL]), "invite": items(&[CAROL, DAVE])}),
    )
    .await;
    assert_eq!(r.status, 400, "{:?}", r.json);
    assert_eq!(r.code(), "AMBIGUOUS_IDENTITIES");
    assert_eq!(r.json["ambiguous_identities"], json!([CAROL]));
    // A verb none of the caller's identities may perform: 403 for the whole request.
    let r = batch(&http, "bob", &gid, json!({"add": items(&[CAROL])})).await;
    assert_eq!(r.status, 403, "{:?}", r.json);
    assert_eq!(r.code(), "FORBIDDEN");
    // Malformed JSON and wrong types: 422 with the validation list.
    let r = http
        .send_raw(
            Method::POST,
            &format!("/v2/groups/{gid}"),
            Some("alice"),
            Some(b"{\"add\": [".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    assert!(r.json["detail"].is_array(), "{:?}", r.json);
    let r = batch(
        &http,
        "alice",
        &gid,
        json!({"add": [{"identity_id": "not-a-uuid"}]}),
    )
    .await;
    assert_eq!(r.status, 422);
    let first = &r.json["detail"][0];
    assert!(
        first["loc"].is_array() && first["msg"].is_string() && first["type"].is_string(),
        "{first}"
    );
    let r = batch(&http, "alice", &gid, json!({"promote": items(&[CAROL])})).await;
    assert_eq!(r.status, 422, "unknown verb key");
    assert_eq!(
        emu.dump_state(),
        before,
        "no refused request changed anything"
    );
    finish(emu).await;
}

#[tokio::test]
async fn visibility_across_two_tokens() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "private"})).await;
    let path = format!("/v2/groups/{gid}");
    // Exists but hidden: 403; missing: 404; not a UUID: 404.
    let r = http.get(&path, "bob").await;
    assert_eq!((r.status, r.code()), (403, "GROUP_NOT_VISIBLE"));
    let r = http
        .get("/v2/groups/00000000-0000-4000-8000-000000000000", "bob")
        .await;
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    assert_eq!(http.get("/v2/groups/not-a-uuid", "bob").await.status, 404);
    // An invitation makes it visible; the member list stays hidden (managers only).
    ok_batch(&http, "alice", &gid, "invite", items(&[BOB])).await;
    let r = http
        .get(&format!("{path}?include=memberships,my_memberships"), "bob")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json.get("memberships").is_none(), "{:?}", r.json);
    assert_eq!(r.json["my_memberships"][0]["status"], "invited");
    // Active members see the list once it is `members`-visible.
    ok_batch(&http, "bob", &gid, "accept", items(&[BOB])).await;
    http.put(
        &format!("{path}/policies"),
        "alice",
        json!({"group_members_visibility": "members"}),
    )
    .await;
    let r = http
        .get(&format!("{path}?include=memberships"), "bob")
        .await;
    assert_eq!(r.json["memberships"].as_array().map(Vec::len), Some(2));
    // After leaving, a private group is hidden again.
    ok_batch(&http, "bob", &gid, "leave", items(&[BOB])).await;
    assert_eq!(http.get(&path, "bob").await.status, 403);
    // `authenticated` groups are visible to anyone.
    http.put(
        &format!("{path}/policies"),
        "alice",
        json!({"group_visibility": "authenticated"}),
    )
    .await;
    assert_eq!(http.get(&path, "carol").await.status, 200);
    finish(emu).await;
}

#[tokio::test]
async fn identity_sets_and_my_groups_filters() {
    let (emu, http) = setup().await;
    // Bob's group, with alice's *linked* identity as a member.
    let gid = create(&http, "bob", json!({"name": "bobs"})).await;
    ok_batch(&http, "bob", &gid, "add", items(&[ALICE2])).await;
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert_eq!(mine.status, 200);
    let g = mine
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == gid)
        .expect("linked identity counts");
    assert_eq!(g["my_memberships"][0]["identity_id"], ALICE2);
    // Self verbs work for any identity of the set.
    ok_batch(&http, "alice", &gid, "leave", items(&[ALICE2])).await;
    // Default filter is active only; explicit statuses widen it; bad values are 422 Base.
    let mine = http.get("/v2/groups/my_groups", "alice").await;
    assert!(mine.json.as_array().unwrap().iter().all(|g| g["id"] != gid));
    let left = http
        .get("/v2/groups/my_groups?statuses=left,active", "alice")
        .await;
    assert!(left.json.as_array().unwrap().iter().any(|g| g["id"] == gid));
    let bad = http
        .get("/v2/groups/my_groups?statuses=bogus", "alice")
        .await;
    assert_eq!((bad.status, bad.code()), (422, "INVALID_STATUS"));
    finish(emu).await;
}

#[tokio::test]
async fn update_delete_and_policies_are_admin_only_with_partial_policy_updates() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(&http, "alice", &gid, "add", items(&[BOB])).await;
    let path = format!("/v2/groups/{gid}");
    assert_eq!(
        http.put(&path, "bob", json!({"name": "x"})).await.status,
        403
    );
    let r = http.put(&path, "alice", json!({"name": "renamed"})).await;
    assert_eq!((r.status, &r.json["name"]), (200, &json!("renamed")));
    assert_eq!(
        http.put(&format!("{path}/policies"), "bob", json!({}))
            .await
            .status,
        403
    );
    let p = http
        .put(
            &format!("{path}/policies"),
            "alice",
            json!({"join_requests": true}),
        )
        .await;
    assert_eq!(p.status, 200);
    assert_eq!(
        (&p.json["join_requests"], &p.json["group_visibility"]),
        (&json!(true), &json!("private"))
    );
    let bad = http
        .put(
            &format!("{path}/policies"),
            "alice",
            json!({"group_visibility": "everyone"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let bad = http
        .put(
            &format!("{path}/policies"),
            "alice",
            json!({"colour": "red"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(http.delete(&path, "bob").await.status, 403);
    let d = http.delete(&path, "alice").await;
    assert_eq!((d.status, &d.json["name"]), (200, &json!("renamed")));
    assert_eq!(http.get(&path, "alice").await.status, 404);
    finish(emu).await;
}

#[tokio::test]
async fn subgroups_children_and_delete_guard() {
    let (emu, http) = setup().await;
    let parent = create(&http, "alice", json!({"name": "parent"})).await;
    ok_batch(&http, "alice", &parent, "add", items(&[BOB])).await;
    let r = http
        .post(
            "/v2/groups",
            "bob",
            json!({"name": "c", "parent_id": parent}),
        )
        .await;
    assert_eq!(r.status, 403, "only parent admins create subgroups");
    let child = create(
        &http,
        "alice",
        json!({"name": "child", "parent_id": parent}),
    )
    .await;
    let p = http
        .get(&format!("/v2/groups/{parent}?include=child_ids"), "alice")
        .await;
    assert_eq!(p.json["child_ids"], json!([child]));
    let c = http
        .get(&format!("/v2/groups/{parent}/children"), "alice")
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json["children"][0]["id"], child);
    assert_eq!(c.json["children"][0]["parent_id"], parent);
    let d = http.delete(&format!("/v2/groups/{parent}"), "alice").await;
    assert_eq!((d.status, d.code()), (400, "GROUP_HAS_CHILDREN"));
    assert_eq!(
        http.delete(&format!("/v2/groups/{child}"), "alice")
            .await
            .status,
        200
    );
    assert_eq!(
        http.delete(&format!("/v2/groups/{parent}"), "alice")
            .await
            .status,
        200
    );
    finish(emu).await;
}

#[tokio::test]
async fn preferences_and_allow_add() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    let r = http
        .put(
            "/v2/preferences",
            "carol",
            json!({ CAROL: {"allow_add": false} }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(r.json[CAROL]["allow_add"], false);
    assert_eq!(
        http.get("/v2/preferences", "carol").await.json[CAROL]["allow_add"],
        false
    );
    refused(
        &http,
        "alice",
        &gid,
        "add",
        items(&[CAROL]),
        "ADD_NOT_ALLOWED",
    )
    .await;
    ok_batch(&http, "alice", &gid, "invite", items(&[CAROL])).await;
    // Someone else's identity is refused; the flat form applies to the caller.
    let r = http
        .put(
            "/v2/preferences",
            "carol",
            json!({ BOB: {"allow_add": false} }),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "NOT_OWN_IDENTITY"));
    let r = http
        .put("/v2/preferences", "dave", json!({"allow_add": false}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    refused(
        &http,
        "alice",
        &gid,
        "add",
        items(&[DAVE]),
        "ADD_NOT_ALLOWED",
    )
    .await;
    finish(emu).await;
}

#[tokio::test]
async fn membership_fields_read_write_and_show_on_memberships() {
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(&http, "alice", &gid, "add", items(&[BOB])).await;
    let path = format!("/v2/groups/{gid}/membership_fields");
    let r = http
        .put(
            &path,
            "bob",
            json!({ BOB: {"first_name": "Bob", "institution": "Uni"} }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let got = http.get(&path, "bob").await;
    assert_eq!(got.json[BOB]["institution"], "Uni");
    let g = http
        .get(&format!("/v2/groups/{gid}?include=memberships"), "alice")
        .await;
    let bob = g.json["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["identity_id"] == BOB)
        .unwrap()
        .clone();
    assert_eq!(bob["membership_fields"]["first_name"], "Bob");
    // Someone without a membership cannot write fields.
    let r = http
        .put(&path, "carol", json!({ CAROL: {"first_name": "C"} }))
        .await;
    assert!(r.status == 403 || r.status == 404, "{:?}", r.json);
    finish(emu).await;
}

#[tokio::test]
async fn subscriptions_lookup_and_admin_verified_rules() {
    let (emu, http) = setup().await;
    let r = http
        .get(&format!("/v2/subscription_info/{SUB}"), "bob")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (&r.json["group_id"], &r.json["subscription_id"]),
        (&json!(SUB_GROUP), &json!(SUB))
    );
    assert!(
        r.json["subscription_info"].get("name").is_none(),
        "limited info: {:?}",
        r.json
    );
    assert_eq!(
        http.get(
            "/v2/subscription_info/99999999-9999-4999-8999-000000000000",
            "bob"
        )
        .await
        .status,
        404
    );
    // Dave administers the subscription group; alice administers her own group.
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(
        &http,
        "alice",
        &gid,
        "add",
        json!([{"identity_id": DAVE, "role": "admin"}]),
    )
    .await;
    let verified = format!("/v2/groups/{gid}/subscription_admin_verified");
    let r = http
        .put(
            &verified,
            "alice",
            json!({"subscription_admin_verified_id": SUB}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "SUBSCRIPTION_ADMIN_REQUIRED"));
    let r = http
        .put(
            &verified,
            "dave",
            json!({"subscription_admin_verified_id": SUB}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    assert_eq!(
        r.json,
        json!({"group_id": gid, "subscription_admin_verified_id": SUB})
    );
    // PUT on the group may only clear the value.
    let path = format!("/v2/groups/{gid}");
    let r = http
        .put(
            &path,
            "alice",
            json!({"subscription_admin_verified_id": null}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["subscription_admin_verified_id"], Value::Null);
    let r = http
        .put(
            &path,
            "alice",
            json!({"subscription_admin_verified_id": SUB}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "CLEAR_ONLY"));
    // The subscription group's document carries the full info to those who see it.
    let g = http.get(&format!("/v2/groups/{SUB_GROUP}"), "dave").await;
    assert_eq!(g.json["subscription_id"], SUB);
    assert_eq!(g.json["subscription_info"]["name"], "Secret name");
    finish(emu).await;
}

#[tokio::test]
async fn scopes_and_authentication_shapes() {
    let (emu, http) = setup().await;
    // A read-only token reads, but writes get 403 with provided_scopes.
    assert_eq!(http.get("/v2/groups/my_groups", "reader").await.status, 200);
    let r = http
        .post("/v2/groups", "reader", json!({"name": "x"}))
        .await;
    assert_eq!((r.status, r.code()), (403, "INSUFFICIENT_SCOPE"));
    assert_eq!(r.json["provided_scopes"], json!([VIEW_SCOPE]));
    // Missing and malformed headers: 401 AUTHENTICATION_ERROR, AuthErrorModel shape.
    for auth in [None, Some("Basic abc"), Some("Bearer"), Some("Bearer a b")] {
        let raw = common::raw_exchange(
            emu.local_addr(),
            format!(
                "GET /v2/groups/my_groups HTTP/1.1\r\nhost: x\r\n{}connection: close\r\n\r\n",
                auth.map(|a| format!("authorization: {a}\r\n"))
                    .unwrap_or_default()
            )
            .as_bytes(),
        )
        .await;
        let (status, _, body) = common::split_response(&raw);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 401, "{auth:?}");
        assert_eq!(v["code"], "AUTHENTICATION_ERROR", "{auth:?}");
        assert!(
            v["detail"].is_string() && v["authorization_parameters"].is_object(),
            "{v}"
        );
    }
    emu.shutdown().await.unwrap();

    // Strict tokens: unknown token -> INVALID_TOKEN, seeded token fine.
    let emu = Emulator::builder()
        .strict_tokens(true)
        .start()
        .await
        .unwrap();
    emu.load_seed(seed()).unwrap();
    let http = Http::new(&emu.base_url());
    let r = http.get("/v2/groups/my_groups", "stranger").await;
    assert_eq!((r.status, r.code()), (401, "INVALID_TOKEN"));
    assert!(r.json["authorization_parameters"].is_object());
    assert_eq!(http.get("/v2/groups/my_groups", "alice").await.status, 200);
    finish(emu).await;
}

#[tokio::test]
async fn strict_identities_refuse_unknown_ids_lenient_mode_accepts_them() {
    let unknown = "77777777-7777-4777-8777-777777777777";
    let (emu, http) = setup().await;
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    ok_batch(&http, "alice", &gid, "add", items(&[unknown])).await;
    assert_eq!(
        member_status(&http, &gid, unknown).await,
        Some(("active".into(), "member".into()))
    );
    finish(emu).await;

    let emu = Emulator::builder()
        .strict_identities(true)
        .start()
        .await
        .unwrap();
    emu.load_seed(seed()).unwrap();
    let http = Http::new(&emu.base_url());
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    refused(
        &http,
        "alice",
        &gid,
        "add",
        items(&[unknown]),
        "UNKNOWN_IDENTITY",
    )
    .await;
    refused(
        &http,
        "alice",
        &gid,
        "invite",
        items(&[unknown]),
        "UNKNOWN_IDENTITY",
    )
    .await;
    finish(emu).await;
}

#[tokio::test]
async fn bad_input_answers_422_404_405_never_500() {
    let (emu, http) = setup().await;
    for body in [&b"{"[..], b"[]", b"{\"name\": 5}", b"{}", b"\xff\xfe", b""] {
        let r = http
            .send_raw(
                Method::POST,
                "/v2/groups",
                Some("alice"),
                Some(body.to_vec()),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 422, "{body:?} -> {:?}", r.json);
        assert!(r.json["detail"].is_array());
    }
    let r = http.get("/v2/nothing/here", "alice").await;
    assert_eq!(r.status, 404);
    let r = http
        .call(Method::PATCH, "/v2/groups/my_groups", Some("alice"), None)
        .await;
    assert_eq!(r.status, 405);
    assert!(r.headers.get("allow").is_some());
    let r = http
        .get("/v2/groups/my_groups?include=bogus", "alice")
        .await;
    assert!(r.status < 500);
    let gid = create(&http, "alice", json!({"name": "g"})).await;
    let r = http
        .get(&format!("/v2/groups/{gid}?include=everything"), "alice")
        .await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    finish(emu).await;
}

#[tokio::test]
async fn seed_through_the_control_plane() {
    let emu = Emulator::builder().start().await.unwrap();
    let http = Http::new(&emu.base_url());
    let seed_json = serde_json::to_value(seed()).unwrap();
    let r = http.control(Method::POST, "seed", Some(seed_json)).await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let g = http.get(&format!("/v2/groups/{SUB_GROUP}"), "dave").await;
    assert_eq!(g.status, 200);
    // A seed that breaks an invariant (group without an active admin) is refused whole.
    let r = http
        .control(
            Method::POST,
            "seed",
            Some(json!({"groups": [{"id": "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "name": "no admin"}]})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "INVALID_SEED"));
    finish(emu).await;
}
