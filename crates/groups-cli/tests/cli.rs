//! The real `globus-groups` binary against an in-process emulator on
//! 127.0.0.1: every command, text output against committed snapshots
//! (insta), JSON output parsed, exit codes, bad input.

mod common;

use common::*;
use serde_json::{Value, json};

#[test]
fn read_commands_in_text_match_the_snapshots() {
    let env = Env::demo();
    let list = env.run(&["list"]);
    insta::assert_snapshot!("list", list.expect(0).stdout);
    insta::assert_snapshot!("show", env.run(&["show", LAB]).expect(0).stdout);
    insta::assert_snapshot!(
        "show_subscribed",
        env.run(&["show", SUBSCRIBED]).expect(0).stdout
    );
    insta::assert_snapshot!(
        "member_list_fields",
        env.run(&["member", "list", LAB, "--fields", "institution,department"])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "get_subscription_info",
        env.run(&["get-subscription-info", SUBSCRIPTION])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "get_by_subscription",
        env.run(&["get-by-subscription", SUBSCRIPTION])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "get_by_subscription_hidden",
        env.run(&["get-by-subscription", HIDDEN_SUBSCRIPTION])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!("children", env.run(&["children", LAB]).expect(0).stdout);
    insta::assert_snapshot!("statuses", env.run(&["statuses"]).expect(0).stdout);
    insta::assert_snapshot!(
        "list_statuses",
        env.run_as("carol-token", &["list", "--statuses", "invited"])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "preferences_show",
        env.run_as("dave-token", &["preferences", "show"])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "membership_fields_show",
        env.run_as("ada-token", &["membership-fields", "show", LAB])
            .expect(0)
            .stdout
    );
    env.stop();
}

#[test]
fn json_output_is_the_whole_response_with_sorted_keys() {
    let env = Env::demo();
    let list = env.run(&["list", "-F", "json"]);
    let doc = list.expect(0).json();
    let names: Vec<&str> = doc
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert!(names.contains(&"Radio Astronomy Lab"), "{names:?}");
    assert!(!names.contains(&"Hidden Committee"), "{names:?}");
    // Indent 2 and sorted keys, as globus-cli prints it.
    assert!(list.stdout.starts_with("[\n  {\n    \""), "{}", list.stdout);
    let first = &doc[0];
    let keys: Vec<&String> = first.as_object().expect("object").keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    let show = env.run(&["show", LAB, "--format", "JSON"]).expect(0).json();
    assert_eq!(show["id"], LAB);
    assert_eq!(show["my_memberships"][0]["role"], "admin");
    assert_eq!(show["policies"]["join_requests"], true);

    // --jmespath selects (and switches text output to JSON); --jq is the same.
    let names = env
        .run(&[
            "member",
            "list",
            LAB,
            "--jmespath",
            "memberships[].username",
        ])
        .expect(0)
        .json();
    assert_eq!(names.as_array().map(Vec::len), Some(4));
    let ids = env
        .run(&["list", "--jq", "[?name=='Open Seminar'].id"])
        .expect(0)
        .json();
    assert_eq!(ids, json!([OPEN]));

    // unix: tab-separated lines; nested lists are refused with exit 2.
    let unix = env.run(&["show", LAB, "-F", "unix", "--jmespath", "[id, name]"]);
    unix.expect(0);
    assert_eq!(unix.stdout, format!("{LAB}\tRadio Astronomy Lab\n"));
    let nested = env.run(&["list", "-F", "unix", "--jq", "[[name]]"]);
    nested.expect(2);
    assert!(nested.stderr.contains("--jmespath"), "{}", nested.stderr);
    let bad = env.run(&["list", "--jmespath", "[?"]);
    bad.expect(2);
    env.stop();
}

#[test]
fn group_lifecycle_commands() {
    let env = Env::demo();
    let created = env.run(&[
        "create",
        "Night Shift",
        "--description",
        "Observers after dark",
    ]);
    let line = created.expect(0).stdout.trim().to_owned();
    let id = line
        .strip_prefix("Group ")
        .and_then(|r| r.strip_suffix(" created successfully"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    let doc = env.run(&["show", &id, "-F", "json"]).expect(0).json();
    assert_eq!(doc["name"], "Night Shift");
    assert_eq!(doc["description"], "Observers after dark");
    assert_eq!(doc["parent_id"], Value::Null);

    let sub = env
        .run(&[
            "create",
            "Night Shift Juniors",
            "--parent-id",
            &id,
            "-F",
            "json",
        ])
        .expect(0)
        .json();
    assert_eq!(sub["parent_id"], json!(id));
    let sub_id = sub["id"].as_str().expect("id").to_owned();

    let updated = env.run(&["update", &id, "--name", "Late Shift"]);
    assert_eq!(updated.expect(0).stdout, "Group updated successfully\n");
    let doc = env.run(&["show", &id, "-F", "json"]).expect(0).json();
    assert_eq!(doc["name"], "Late Shift");
    assert_eq!(doc["description"], "Observers after dark", "copied");

    let policies = env.run(&[
        "set-policies",
        &id,
        "--visibility",
        "Authenticated",
        "--members-visibility",
        "members",
        "--join-requests",
        "--signup-fields",
        "institution,ZIP",
        "--authentication-timeout",
        "3600",
    ]);
    assert_eq!(
        policies.expect(0).stdout,
        "Group policies updated successfully\n"
    );
    let doc = env.run(&["show", &id, "-F", "json"]).expect(0).json();
    assert_eq!(doc["policies"]["group_visibility"], "authenticated");
    assert_eq!(doc["policies"]["group_members_visibility"], "members");
    let show_text = env.run(&["show", &id]).expect(0).stdout.clone();
    assert!(
        show_text.contains("Join Requests Allowed: True"),
        "{show_text}"
    );
    assert!(
        show_text.contains("Signup Fields:         institution,zip"),
        "{show_text}"
    );
    let bad = env.run(&["set-policies", &id, "--signup-fields", "shoe_size"]);
    bad.expect(2);
    assert!(bad.stderr.contains("shoe_size"), "{}", bad.stderr);

    // Subscription verification: set, clear through update, refuse a new id there.
    let set = env.run(&["set-subscription-admin-verified", SUBSCRIBED, SUBSCRIPTION]);
    assert_eq!(
        set.expect(0).stdout,
        "Group subscription verification updated successfully\n"
    );
    let doc = env
        .run(&["show", SUBSCRIBED, "-F", "json"])
        .expect(0)
        .json();
    assert_eq!(doc["subscription_admin_verified_id"], SUBSCRIPTION);
    let refused = env.run(&[
        "update",
        SUBSCRIBED,
        "--subscription-admin-verified-id",
        "5b000000-0000-4000-8000-000000000099",
    ]);
    refused.expect(2);
    assert!(
        refused.stderr.contains("set-subscription-admin-verified"),
        "{}",
        refused.stderr
    );
    env.run(&[
        "update",
        SUBSCRIBED,
        "--subscription-admin-verified-id",
        "NULL",
    ])
    .expect(0);
    let doc = env
        .run(&["show", SUBSCRIBED, "-F", "json"])
        .expect(0)
        .json();
    assert!(doc["subscription_admin_verified_id"].is_null(), "{doc}");
    env.run(&["set-subscription-admin-verified", SUBSCRIBED, "null"])
        .expect(0);

    // Delete: the subgroup first (a group with children is refused).
    let refused = env.run(&["delete", &id]);
    refused.expect(1);
    assert!(
        refused.stderr.contains("HTTP status: 400"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        env.run(&["delete", &sub_id]).expect(0).stdout,
        "Group deleted successfully\n"
    );
    env.run(&["delete", &id]).expect(0);
    env.run(&["show", &id]).expect(1);
    env.stop();
}

#[test]
fn member_commands() {
    let env = Env::demo();
    let before = env.count(LAB, "active");
    // By username, resolved through Auth.
    let added = env.run(&["member", "add", LAB, "dave@uni.example.org"]);
    // Dave refuses being added: the batch answers with a per-identity error.
    added.expect(1);
    assert!(
        added.stderr.starts_with("ValueError: ") && added.stderr.contains("ADD_NOT_ALLOWED"),
        "{}",
        added.stderr
    );
    let invited = env.run(&[
        "member",
        "invite",
        LAB,
        "dave@uni.example.org",
        "--role",
        "manager",
    ]);
    insta::assert_snapshot!("member_invite", invited.expect(0).stdout);

    let fresh = "a0000000-0000-4000-8000-0000000000ff";
    insta::assert_snapshot!(
        "member_add",
        env.run(&["member", "add", LAB, fresh]).expect(0).stdout
    );
    assert_eq!(env.count(LAB, "active"), before + 1);
    let again = env.run(&["member", "add", LAB, fresh]);
    again.expect(1);
    assert!(again.stderr.contains("ALREADY_ACTIVE"), "{}", again.stderr);

    insta::assert_snapshot!(
        "member_change_role",
        env.run(&["member", "change-role", LAB, fresh, "--role", "manager"])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "member_approve",
        env.run(&["member", "approve", LAB, "bob@uni.example.org"])
            .expect(0)
            .stdout
    );
    insta::assert_snapshot!(
        "member_remove",
        env.run(&["member", "remove", LAB, BOB]).expect(0).stdout
    );
    // Rejecting someone with no pending request fails per identity.
    env.run(&["member", "reject", LAB, BOB]).expect(1);
    let json = env
        .run(&["member", "remove", LAB, fresh, "-F", "json"])
        .expect(0)
        .json();
    assert_eq!(json["remove"][0]["identity_id"], fresh);
    assert_eq!(json["remove"][0]["status"], "removed");

    // --provision-identity creates an unknown username at Auth.
    let provisioned = env.run(&[
        "member",
        "invite",
        OPEN,
        "newcomer@uni.example.org",
        "--provision-identity",
    ]);
    provisioned.expect(0);
    assert!(
        provisioned.stdout.contains("newcomer@uni.example.org"),
        "{}",
        provisioned.stdout
    );
    env.stop();
}

#[test]
fn self_service_commands() {
    let env = Env::demo();
    // Ada joins the open seminar (her identity from the token).
    insta::assert_snapshot!(
        "join",
        env.run_as("ada-token", &["join", OPEN]).expect(0).stdout
    );
    insta::assert_snapshot!(
        "leave",
        env.run_as("ada-token", &["leave", OPEN]).expect(0).stdout
    );
    let none = env.run_as("ada-token", &["leave", OPEN]);
    none.expect(1);
    assert!(
        none.stderr.contains("You have no memberships in"),
        "{}",
        none.stderr
    );
    // Dave asks to join the lab.
    let req = env
        .run_as(
            "dave-token",
            &["join", LAB, "--request", "--identity", DAVE, "-F", "json"],
        )
        .expect(0)
        .json();
    assert_eq!(req["request_join"][0]["status"], "pending");
    // Carol's invitation: decline is refused after accept.
    insta::assert_snapshot!(
        "invite_accept",
        env.run_as("carol-token", &["invite", "accept", LAB])
            .expect(0)
            .stdout
    );
    let decline = env.run_as("carol-token", &["invite", "decline", LAB]);
    decline.expect(1);
    assert!(
        decline.stderr.contains("no invitations"),
        "{}",
        decline.stderr
    );
    // Preferences and membership fields.
    let set = env
        .run_as(
            "ada-token",
            &["preferences", "set", "--no-allow-add", "-F", "json"],
        )
        .expect(0)
        .json();
    assert_eq!(set[ADA]["allow_add"], false);
    let fields = env.run_as(
        "ada-token",
        &[
            "membership-fields",
            "set",
            LAB,
            "--field",
            "department=Astronomy",
        ],
    );
    assert!(
        fields.expect(0).stdout.contains("Department:  Astronomy"),
        "{}",
        fields.stdout
    );
    let bad = env.run_as(
        "ada-token",
        &["membership-fields", "set", LAB, "--field", "shoe_size=44"],
    );
    bad.expect(2);
    env.stop();
}

#[test]
fn exit_codes_for_api_usage_and_login_errors() {
    let env = Env::demo();
    let generation = env.generation();
    // API error: the group does not exist.
    let missing = env.run(&["show", "6a000000-0000-4000-8000-0000000000aa"]);
    missing.expect(1);
    insta::assert_snapshot!("api_error", missing.stderr);
    // ... mapped to another code.
    env.run(&[
        "show",
        "6a000000-0000-4000-8000-0000000000aa",
        "--map-http-status",
        "403=51,404=50",
    ])
    .expect(50);
    env.run(&["list", "--map-http-status", "404=7"]).expect(2);
    // In JSON mode the error body is printed as JSON on stderr.
    let json_err = env.run(&["show", "6a000000-0000-4000-8000-0000000000aa", "-F", "json"]);
    json_err.expect(1);
    let body: Value = serde_json::from_str(&json_err.stderr).expect("JSON on stderr");
    assert_eq!(body["code"], "NOT_FOUND");
    // A group you cannot see.
    let hidden = env.run(&["member", "list", HIDDEN]);
    hidden.expect(1);
    assert!(
        hidden.stderr.contains("HTTP status: 40"),
        "{}",
        hidden.stderr
    );
    env.run(&["show", HIDDEN]).expect(1);
    // Usage errors: a malformed UUID, an unknown username, a bad USER.
    let bad_uuid = env.run(&["show", "6a000000-0000-4000-8000"]);
    bad_uuid.expect(2);
    assert!(
        bad_uuid.stderr.contains("6a000000-0000-4000-8000"),
        "{}",
        bad_uuid.stderr
    );
    let unknown = env.run(&["member", "add", LAB, "nobody@uni.example.org"]);
    unknown.expect(2);
    assert!(
        unknown.stderr.contains("nobody@uni.example.org"),
        "{}",
        unknown.stderr
    );
    let unknown_json = env.run(&["member", "add", LAB, "nobody@uni.example.org", "-F", "json"]);
    unknown_json.expect(2);
    let body: Value = serde_json::from_str(&unknown_json.stderr).expect("JSON on stderr");
    assert_eq!(body["error_name"], "UsageError");
    env.run(&["member", "add", LAB, "nobody"]).expect(2);
    env.run(&["member", "add", LAB, ADA, "--role", "owner"])
        .expect(2);
    env.run(&["frobnicate"]).expect(2);
    // Missing login: exit 4 with the hint.
    let no_login = env.run_with(&["list"], None, None);
    no_login.expect(4);
    assert!(
        no_login.stderr.contains("GLOBUS_GROUPS_TOKEN"),
        "{}",
        no_login.stderr
    );
    let mut half = Env::demo();
    half.extra_env = vec![("GLOBUS_GROUPS_CLIENT_ID".into(), "x".into())];
    half.run_with(&["list"], None, None).expect(2);
    half.stop();
    assert_eq!(env.generation(), generation, "no error changed anything");
    // Help and version succeed.
    env.run(&["--help"]).expect(0);
    env.run(&["member", "bulk", "add", "--help"]).expect(0);
    env.run(&["--version"]).expect(0);
    env.stop();
}

#[test]
fn client_credentials_from_the_environment() {
    let mut env = Env::demo();
    env.token = None;
    env.extra_env = vec![
        (
            "GLOBUS_GROUPS_CLIENT_ID".into(),
            "c1000000-0000-4000-8000-000000000001".into(),
        ),
        ("GLOBUS_GROUPS_CLIENT_SECRET".into(), "s3cret".into()),
    ];
    let created = env
        .run(&["create", "Robots", "-F", "json"])
        .expect(0)
        .json();
    assert_eq!(
        created["my_memberships"][0]["identity_id"], "c1000000-0000-4000-8000-000000000001",
        "the client acts as itself"
    );
    // The client's identity lookups authenticate as the client.
    let gid = created["id"].as_str().expect("id").to_owned();
    env.run(&["member", "add", &gid, "ada@uni.example.org"])
        .expect(0);
    let list = env.run(&["list", "-v"]);
    assert!(!list.stderr.contains("s3cret"), "{}", list.stderr);
    env.stop();
}

#[test]
fn completions_and_man_page() {
    let env = Env::demo();
    let bash = env.run(&["completions", "bash"]).expect(0).stdout.clone();
    assert!(
        bash.contains("globus-groups") && bash.contains("set-policies"),
        "bash"
    );
    let zsh = env.run(&["completions", "zsh"]).expect(0).stdout.clone();
    assert!(zsh.contains("#compdef globus-groups"), "zsh");
    let man = env.run(&["man"]).expect(0).stdout.clone();
    assert!(man.starts_with(".ie") || man.contains(".TH"), "{man}");
    assert!(man.contains("globus\\-groups"), "man page names the tool");
    env.stop();
}

#[test]
fn emulator_serve_runs_until_stopped() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_globus-groups"))
        .args(["emulator", "serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_globus-groups"))
        .args(["create", "Tried it", "-F", "json"])
        .env("GLOBUS_SDK_SERVICE_URL_GROUPS", &url)
        .env("GLOBUS_SDK_SERVICE_URL_AUTH", &url)
        .env("GLOBUS_GROUPS_TOKEN", "any-token")
        .output()
        .expect("run");
    // Stop the server we started, by its pid.
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let status = child.wait().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["name"], "Tried it");
    assert!(status.success() || status.code().is_none(), "{status:?}");
}

#[test]
fn verbosity_levels_and_quiet() {
    let env = Env::demo();
    let silent = env.run(&["list"]);
    assert!(silent.expect(0).stderr.is_empty(), "{}", silent.stderr);
    let debug = env.run(&["list", "-vvv"]);
    assert!(debug.expect(0).stderr.contains("DEBUG"), "{}", debug.stderr);
    assert!(
        !debug.stderr.contains("admin-token"),
        "no token in the logs: {}",
        debug.stderr
    );
    let info = env.run(&["list", "-vv"]);
    assert!(!info.expect(0).stderr.contains("DEBUG"), "{}", info.stderr);
    let quiet = env.run(&["list", "-vvv", "--quiet"]);
    assert!(quiet.expect(0).stderr.is_empty(), "{}", quiet.stderr);
    env.stop();
}
