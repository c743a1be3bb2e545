//! Running the real `globus-groups` binary against an in-process emulator
//! on 127.0.0.1.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use groups_emulator::Emulator;
use serde_json::{Value, json};

/// The admin of the demo groups, and the token that acts as them.
pub(crate) const ADMIN: &str = "a0000000-0000-4000-8000-000000000001";
/// Ada: a member of the lab.
pub(crate) const ADA: &str = "a0000000-0000-4000-8000-000000000002";
/// Bob: a pending request in the lab.
pub(crate) const BOB: &str = "a0000000-0000-4000-8000-000000000003";
/// Carol: invited to the lab.
pub(crate) const CAROL: &str = "a0000000-0000-4000-8000-000000000004";
/// Dave: no membership; refuses being added.
pub(crate) const DAVE: &str = "a0000000-0000-4000-8000-000000000005";
/// The lab (join requests, a signup field, a long description).
pub(crate) const LAB: &str = "6a000000-0000-4000-8000-000000000001";
/// A private group the admin cannot see.
pub(crate) const HIDDEN: &str = "6a000000-0000-4000-8000-000000000002";
/// A group with a subscription.
pub(crate) const SUBSCRIBED: &str = "6a000000-0000-4000-8000-000000000003";
/// A subgroup of the lab.
pub(crate) const CHILD: &str = "6a000000-0000-4000-8000-000000000004";
/// An open group anyone may join.
pub(crate) const OPEN: &str = "6a000000-0000-4000-8000-000000000005";
/// The subscription of `SUBSCRIBED`.
pub(crate) const SUBSCRIPTION: &str = "5b000000-0000-4000-8000-000000000001";
/// A subscription of the hidden group.
pub(crate) const HIDDEN_SUBSCRIPTION: &str = "5b000000-0000-4000-8000-000000000002";

/// A finished run of the binary.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit status.
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// Standard output parsed as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// Assert the exit status, showing both streams when it differs.
    #[track_caller]
    pub(crate) fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// An emulator on a runtime of its own, and the environment pointing at it.
pub(crate) struct Env {
    pub(crate) emu: Emulator,
    rt: tokio::runtime::Runtime,
    pub(crate) token: Option<String>,
    pub(crate) extra_env: Vec<(String, String)>,
    /// The `HOME` of every run (a fresh directory, removed by `stop`), so
    /// stored tokens never land in the tester's home.
    pub(crate) home: std::path::PathBuf,
}

/// A new empty directory under the system's temporary directory.
pub(crate) fn fresh_dir(tag: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "groups-cli-{tag}-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

impl Env {
    /// An emulator with the demo seed.
    pub(crate) fn demo() -> Env {
        Env::with_seed(demo_seed())
    }

    /// An emulator with `seed`.
    pub(crate) fn with_seed(seed: Value) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let seed = serde_json::from_value(seed).expect("seed");
        let emu = rt
            .block_on(Emulator::builder().seed(seed).start())
            .expect("emulator");
        Env {
            emu,
            rt,
            token: Some("admin-token".into()),
            extra_env: Vec::new(),
            home: fresh_dir("home"),
        }
    }

    /// Run the binary with `args` as the admin.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, self.token.as_deref(), None)
    }

    /// Create a group named `name` with the binary (as the configured
    /// credential); its id.
    pub(crate) fn create_group(&self, name: &str) -> String {
        let created = self.run(&["create", name, "-F", "json"]).expect(0).json();
        created["id"]
            .as_str()
            .expect("the new group's id")
            .to_owned()
    }

    /// Run the binary as the holder of `token`.
    pub(crate) fn run_as(&self, token: &str, args: &[&str]) -> Run {
        self.run_with(args, Some(token), None)
    }

    /// Run the binary with `token` (none: no credential) and `stdin`.
    pub(crate) fn run_with(&self, args: &[&str], token: Option<&str>, stdin: Option<&str>) -> Run {
        let url = self.emu.base_url();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_globus-groups"));
        cmd.args(args)
            .env_remove("GLOBUS_GROUPS_TOKEN")
            .env_remove("GLOBUS_GROUPS_AUTH_TOKEN")
            .env_remove("GLOBUS_GROUPS_CLIENT_ID")
            .env_remove("GLOBUS_GROUPS_CLIENT_SECRET")
            .env_remove("GLOBUS_SDK_ENVIRONMENT")
            .env_remove("COLUMNS")
            .env("NO_COLOR", "1")
            .env("GLOBUS_SDK_SERVICE_URL_GROUPS", &url)
            .env("GLOBUS_SDK_SERVICE_URL_AUTH", &url)
            .env("HOME", &self.home)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(t) = token {
            cmd.env("GLOBUS_GROUPS_TOKEN", t);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn globus-groups");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The emulator's change counter (unchanged: nothing was written).
    pub(crate) fn generation(&self) -> u64 {
        self.emu.read_world(|w| w.generation())
    }

    /// The number of memberships of `group` with `status`, at the emulator.
    pub(crate) fn count(&self, group: &str, status: &str) -> u64 {
        let id: groups_types::GroupId = group.parse().expect("group id");
        self.emu
            .read_world(|w| w.status_counts(id))
            .and_then(|c| c.get(status).copied())
            .unwrap_or(0)
    }

    /// Stop the emulator.
    pub(crate) fn stop(self) {
        let Env { emu, rt, home, .. } = self;
        rt.block_on(emu.shutdown()).expect("shutdown");
        let _ = std::fs::remove_dir_all(home);
    }
}

/// The demo world.
pub(crate) fn demo_seed() -> Value {
    let ident =
        |id: &str, name: &str| json!({"id": id, "username": format!("{name}@uni.example.org")});
    let mut dave = ident(DAVE, "dave");
    dave["allow_add"] = json!(false);
    json!({
        "identities": [ident(ADMIN, "admin"), ident(ADA, "ada"), ident(BOB, "bob"), ident(CAROL, "carol"), dave],
        "tokens": [
            {"token": "admin-token", "identity": ADMIN},
            {"token": "ada-token", "identity": ADA},
            {"token": "carol-token", "identity": CAROL},
            {"token": "dave-token", "identity": DAVE},
        ],
        "groups": [
            {
                "id": LAB, "name": "Radio Astronomy Lab",
                "description": "Observers of the 21 cm line. We book the dish in eight-hour slots, share the reduction pipeline and meet on Thursdays to go through the week's spectra; new members are welcome once a manager has approved their request.",
                "terms_and_conditions": "Be kind to the receiver.",
                "policies": {"join_requests": true, "signup_fields": ["institution", "department"],
                             "group_visibility": "authenticated", "group_members_visibility": "members"},
                "memberships": [
                    {"identity_id": ADMIN, "role": "admin", "status": "active"},
                    {"identity_id": ADA, "role": "member", "status": "active",
                     "membership_fields": {"institution": "Uni of Examples", "department": "Physics"}},
                    {"identity_id": BOB, "role": "member", "status": "pending"},
                    {"identity_id": CAROL, "role": "manager", "status": "invited"},
                ]
            },
            {
                "id": HIDDEN, "name": "Hidden Committee",
                "policies": {"group_visibility": "private"},
                "memberships": [{"identity_id": ADA, "role": "admin", "status": "active"}]
            },
            {
                "id": SUBSCRIBED, "name": "Subscribers",
                "memberships": [{"identity_id": ADMIN, "role": "admin", "status": "active"}]
            },
            {
                "id": CHILD, "name": "Lab Students", "parent_id": LAB,
                "memberships": [{"identity_id": ADMIN, "role": "admin", "status": "active"}]
            },
            {
                "id": OPEN, "name": "Open Seminar",
                "policies": {"group_visibility": "authenticated", "join_requests": true},
                "memberships": [{"identity_id": ADMIN, "role": "admin", "status": "active"}]
            }
        ],
        "subscriptions": [
            {"id": SUBSCRIPTION, "group_id": SUBSCRIBED, "name": "Example Uni", "subscriber_name": "Example Uni", "is_baa": false, "is_high_assurance": true},
            {"id": HIDDEN_SUBSCRIPTION, "group_id": HIDDEN, "name": "Committee", "subscriber_name": "Example Uni", "is_baa": true, "is_high_assurance": false}
        ]
    })
}
