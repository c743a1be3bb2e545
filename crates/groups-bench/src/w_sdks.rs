//! Workload 2: the same calls through our client, the official Python
//! globus-sdk and the official JavaScript @globus/sdk, against one emulator
//! in one run: sequential `get_group`, `get_my_groups` of a caller in 50
//! groups, one batch adding 1,000 identities, and single `add_member` calls
//! through the manager (Python: `GroupsManager.add_member`; JS has no
//! manager, so one-identity `membership.act` calls).
//!
//! Each runner gets its own token (so its own identity), its own 50 groups
//! and its own fresh identities; setup goes through the bare client and is
//! never timed. Scripts: `bench/python/sdk_bench.py`, `bench/js/sdk_bench.mjs`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use groups_bench::{KIND_IDENTITY, bench_uuid, median};
use groups_manager::GroupsManager;
use groups_types::{BatchMembershipActions, BatchVerb, GroupId, GroupRole, IdentityId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::net::Api;
use crate::proc::ServerProcess;
use crate::report::{Measure, Row};
use crate::{Ctx, ours};

const GROUPS: usize = 50;

#[derive(Clone, Serialize, Deserialize)]
pub struct Plan {
    token: String,
    get_group_id: String,
    n_get: usize,
    n_my_groups: usize,
    expect_my_groups: usize,
    batch_group_id: String,
    batch_ids: Vec<String>,
    add_group_id: String,
    add_ids: Vec<String>,
    /// Fresh identities for the bare-client ceiling of add_member (ours only).
    #[serde(default)]
    bare_add_ids: Vec<String>,
    warmup: usize,
}

/// Per runner: ops and seconds of each workload.
#[derive(Default, Clone)]
struct Timings {
    get_group: Option<(f64, f64)>,
    get_my_groups: Option<(f64, f64)>,
    batch_add: Option<(f64, f64)>,
    add_member: Option<(f64, f64)>,
}

impl Timings {
    /// Per field, the median rate over rounds (as `(rate, 1 s)`).
    fn median_of(all: &[Timings]) -> Timings {
        let m = |f: fn(&Timings) -> Option<(f64, f64)>| -> Option<(f64, f64)> {
            let mut v: Vec<f64> = all.iter().filter_map(|t| rate(f(t))).collect();
            (!v.is_empty()).then(|| (median(&mut v), 1.0))
        };
        Timings {
            get_group: m(|t| t.get_group),
            get_my_groups: m(|t| t.get_my_groups),
            // Keep the batch as (identities, seconds) so rows can rescale it.
            batch_add: m(|t| t.batch_add.map(|(_, s)| (1.0, s))).map(|(r, _)| (1.0, 1.0 / r)),
            add_member: m(|t| t.add_member),
        }
    }

    fn from_json(v: &Value) -> Result<Timings, String> {
        let pick = |k: &str| -> Result<Option<(f64, f64)>, String> {
            let w = v
                .get(k)
                .ok_or_else(|| format!("script output has no {k:?}: {v}"))?;
            let ops = w.get("ops").and_then(Value::as_f64).ok_or("no ops")?;
            let s = w
                .get("seconds")
                .and_then(Value::as_f64)
                .ok_or("no seconds")?;
            Ok(Some((ops, s)))
        };
        Ok(Timings {
            get_group: pick("get_group")?,
            get_my_groups: pick("get_my_groups")?,
            batch_add: pick("batch_add")?,
            add_member: pick("add_member")?,
        })
    }
    fn json(&self) -> Value {
        let f = |t: Option<(f64, f64)>| {
            t.map(|(ops, s)| json!({"ops": ops, "seconds": s, "ops_s": ops / s}))
        };
        json!({
            "get_group": f(self.get_group),
            "get_my_groups": f(self.get_my_groups),
            "batch_add": f(self.batch_add),
            "add_member": f(self.add_member),
        })
    }
}

fn rate(t: Option<(f64, f64)>) -> Option<f64> {
    t.map(|(ops, s)| ops / s)
}

async fn prepare(api: &Api, runner: u64, quick: bool, token: &str) -> Result<Plan, String> {
    let mut groups = Vec::with_capacity(GROUPS);
    for i in 0..GROUPS {
        groups.push(api.create_group(&format!("w2 {runner} {i}")).await?);
    }
    let ids = |offset: u64, n: usize| -> Vec<String> {
        (0..n as u64)
            .map(|i| {
                bench_uuid(KIND_IDENTITY, 2_000_000 + runner * 100_000 + offset + i).to_string()
            })
            .collect()
    };
    let (n_get, n_my, n_add) = if quick {
        (200, 50, 20)
    } else {
        (2000, 500, 200)
    };
    Ok(Plan {
        token: token.to_owned(),
        get_group_id: groups[0].clone(),
        n_get,
        n_my_groups: n_my,
        expect_my_groups: GROUPS,
        batch_group_id: groups[1].clone(),
        batch_ids: ids(0, 1000),
        add_group_id: groups[2].clone(),
        add_ids: ids(50_000, n_add),
        bare_add_ids: ids(70_000, n_add),
        warmup: 20,
    })
}

/// The ceiling: the same sequential `get_group` and `get_my_groups`
/// requests (headers captured from our client) through the bare hyper-util
/// client, reading the body without parsing it. Returns ops/s of each.
async fn bare_get_group(base: &str, plan: &Plan) -> Result<(f64, f64), String> {
    let api = Api::new(base, &plan.token);
    let body = api
        .get(&format!("/v2/groups/{}", plan.get_group_id))
        .await?;
    let captured = ours::captured_get_group(base, &plan.token, &plan.get_group_id, body).await?;
    let client = crate::net::bare_client();
    let my_groups_uri: http::Uri = format!(
        "{}v2/groups/my_groups",
        base.trim_end_matches('/').to_owned() + "/"
    )
    .parse()
    .map_err(|e| format!("{e}"))?;
    let request_for = |uri: &http::Uri| {
        let mut b = http::Request::builder()
            .method(captured.method().clone())
            .uri(uri.clone());
        if let Some(h) = b.headers_mut() {
            *h = captured.headers().clone();
        }
        b.body(http_body_util::Full::new(captured.body().clone()))
            .map_err(|e| e.to_string())
    };
    let mut rates = [0.0; 2];
    for (k, (uri, n)) in [
        (captured.uri().clone(), plan.n_get),
        (my_groups_uri, plan.n_my_groups),
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..plan.warmup {
            crate::net::send_raw(&client, request_for(&uri)?).await?;
        }
        let started = Instant::now();
        for _ in 0..n {
            let (status, _) = crate::net::send_raw(&client, request_for(&uri)?).await?;
            if status != 200 {
                return Err(format!("bare {uri}: HTTP {status}"));
            }
        }
        rates[k] = n as f64 / started.elapsed().as_secs_f64();
    }
    Ok((rates[0], rates[1]))
}

/// The ceiling of add_member: one-identity `add` batches (the body the
/// manager sends) through the bare client, status checked, body not parsed.
async fn bare_add_member(base: &str, plan: &Plan) -> Result<f64, String> {
    let api = Api::new(base, &plan.token);
    let body = api
        .get(&format!("/v2/groups/{}", plan.get_group_id))
        .await?;
    let captured = ours::captured_get_group(base, &plan.token, &plan.get_group_id, body).await?;
    let uri: http::Uri = format!(
        "{}v2/groups/{}",
        base.trim_end_matches('/').to_owned() + "/",
        plan.add_group_id
    )
    .parse()
    .map_err(|e| format!("{e}"))?;
    let client = crate::net::bare_client();
    let started = Instant::now();
    for id in &plan.bare_add_ids {
        let request = crate::net::bare_add_request(&captured, &uri, id)?;
        let (status, _) = crate::net::send_raw(&client, request).await?;
        if status != 200 {
            return Err(format!("bare add: HTTP {status}"));
        }
    }
    Ok(plan.bare_add_ids.len() as f64 / started.elapsed().as_secs_f64())
}

async fn run_ours(base: &str, plan: &Plan) -> Result<Timings, String> {
    let client = ours::client(base, &plan.token)?;
    let gid: GroupId = plan.get_group_id.parse().map_err(|e| format!("{e}"))?;
    for _ in 0..plan.warmup {
        client.get_group(gid).await.map_err(|e| e.to_string())?;
    }
    client.get_my_groups().await.map_err(|e| e.to_string())?;
    let mut t = Timings::default();

    let started = Instant::now();
    for _ in 0..plan.n_get {
        let g = client
            .get_group(gid)
            .await
            .map_err(|e| format!("get_group: {e}"))?;
        if g.id != gid {
            return Err("get_group: wrong group".into());
        }
    }
    t.get_group = Some((plan.n_get as f64, started.elapsed().as_secs_f64()));

    let started = Instant::now();
    for _ in 0..plan.n_my_groups {
        let list = client
            .get_my_groups()
            .await
            .map_err(|e| format!("get_my_groups: {e}"))?;
        if list.len() != plan.expect_my_groups {
            return Err(format!("get_my_groups: {} groups", list.len()));
        }
    }
    t.get_my_groups = Some((plan.n_my_groups as f64, started.elapsed().as_secs_f64()));

    let ids: Vec<IdentityId> = plan
        .batch_ids
        .iter()
        .map(|s| s.parse().map_err(|e| format!("{e}")))
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let actions = BatchMembershipActions::new().add_members(ids, GroupRole::Member);
    let result = client
        .batch_membership_action(plan.batch_group_id.as_str(), &actions)
        .await
        .map_err(|e| format!("batch: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if result.get(&BatchVerb::Add).len() != plan.batch_ids.len() {
        return Err(format!(
            "batch: {} added",
            result.get(&BatchVerb::Add).len()
        ));
    }
    t.batch_add = Some((1.0, seconds));

    let manager = GroupsManager::new(client.clone());
    let add_ids: Vec<IdentityId> = plan
        .add_ids
        .iter()
        .map(|s| s.parse().map_err(|e| format!("{e}")))
        .collect::<Result<_, _>>()?;
    let add_gid: GroupId = plan.add_group_id.parse().map_err(|e| format!("{e}"))?;
    let started = Instant::now();
    for id in &add_ids {
        manager
            .add_member(add_gid, *id)
            .await
            .map_err(|e| format!("add_member: {e}"))?;
    }
    t.add_member = Some((add_ids.len() as f64, started.elapsed().as_secs_f64()));
    Ok(t)
}

fn run_script(
    what: &str,
    cmd: Command,
    base: &str,
    plan_path: &Path,
) -> Result<(Timings, String), String> {
    let (t, v) = run_script_json(what, cmd, base, plan_path)?;
    let sdk = v
        .get("sdk")
        .and_then(Value::as_str)
        .unwrap_or(what)
        .to_owned();
    Ok((t, sdk))
}

fn run_script_json(
    what: &str,
    mut cmd: Command,
    base: &str,
    plan_path: &Path,
) -> Result<(Timings, Value), String> {
    cmd.arg(plan_path)
        .env("GLOBUS_SDK_SERVICE_URL_GROUPS", base)
        .env_remove("GLOBUS_SDK_ENVIRONMENT");
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("{what}: bad output {text:?}: {e}"))?;
    Ok((Timings::from_json(&v)?, v))
}

pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value, Vec<String>), String> {
    let mut emu =
        ServerProcess::start_bin("groups-emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let base = emu.base_url.clone();
    let mut errors = Vec::new();

    // Every driver is a separate process, and while they run the emulator
    // and the driver share CPU 0 (see `PINNING` in workload 1): sequential
    // calls measure the clients, not the VM's cross-CPU wake-up latency.
    let pinned = ctx.pin && emu.pin("0").is_ok();
    let pin = |program: &Path| -> Command {
        if pinned {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // Rounds: every driver once per round, in a rotating order, each with
    // fresh identities and groups; medians over rounds, so load that comes
    // and goes on a shared machine hits all drivers alike.
    let rounds: u64 = if ctx.quick { 1 } else { 3 };
    let (mut ours_all, mut py_all, mut js_all, mut bare_all) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut py_sdk, mut js_sdk) = (String::new(), None::<String>);
    for round in 0..rounds {
        for k in 0..3 {
            let driver = (round + k) % 3;
            let runner = round * 3 + driver;
            let token = format!("bench-w2-{runner}");
            let plan = prepare(&Api::new(&base, &token), runner, ctx.quick, &token).await?;
            let path = ctx.out.join(format!("w2-plan-{runner}.json"));
            std::fs::write(&path, serde_json::to_vec(&plan).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            match driver {
                0 => {
                    let mut cmd = pin(&exe);
                    cmd.arg("sdk-rust");
                    let (t, v) = run_script_json("groups-bench sdk-rust", cmd, &base, &path)?;
                    ours_all.push(t);
                    bare_all.push((
                        v["bare_get_group_ops_s"].as_f64().unwrap_or(f64::NAN),
                        v["bare_get_my_groups_ops_s"].as_f64().unwrap_or(f64::NAN),
                        v["bare_add_member_ops_s"].as_f64().unwrap_or(f64::NAN),
                    ));
                }
                1 => {
                    let mut cmd = pin(&ctx.python);
                    cmd.arg(ctx.scripts.join("python/sdk_bench.py"));
                    // The Python SDK is required: its failure is a breakage.
                    let (t, sdk) = run_script("python globus-sdk", cmd, &base, &path)?;
                    py_all.push(t);
                    py_sdk = sdk;
                }
                _ => {
                    if let Some(dir) = &ctx.js_dir {
                        let mut cmd = pin(&ctx.node);
                        cmd.arg(dir.join("sdk_bench.mjs"));
                        let (t, sdk) = run_script("js @globus/sdk", cmd, &base, &path)?;
                        js_all.push(t);
                        js_sdk = Some(sdk);
                    }
                }
            }
        }
    }
    if ctx.js_dir.is_none() {
        errors.push("JS @globus/sdk not run: no bench/js/node_modules (npm unavailable?)".into());
    }
    let ours_t = Timings::median_of(&ours_all);
    let py_t = Timings::median_of(&py_all);
    let js: Option<(Timings, String)> = js_sdk.map(|sdk| (Timings::median_of(&js_all), sdk));
    let med =
        |f: fn(&(f64, f64, f64)) -> f64| median(&mut bare_all.iter().map(f).collect::<Vec<_>>());
    let bare_get = (med(|b| b.0), med(|b| b.1), med(|b| b.2));
    emu.check_alive()?;

    let mut rows = Vec::new();
    let (n_get, n_my, n_add) = if ctx.quick {
        (200, 50, 20)
    } else {
        (2000, 500, 200)
    };
    type Pick = fn(&Timings) -> Option<(f64, f64)>;
    let workloads: [(&str, String, Pick, &str, bool); 4] = [
        (
            "2a",
            format!("{n_get} sequential get_group"),
            |t| t.get_group,
            "ops/s",
            true,
        ),
        (
            "2b",
            format!("{n_my} sequential get_my_groups (50 groups)"),
            |t| t.get_my_groups,
            "ops/s",
            true,
        ),
        (
            "2c",
            "one batch adding 1,000 identities".to_owned(),
            |t| t.batch_add.map(|(_, s)| (1000.0, s)),
            "identities/s",
            false,
        ),
        (
            "2d",
            format!("{n_add} sequential add_member via the manager"),
            |t| t.add_member,
            "ops/s",
            true,
        ),
    ];
    let ceiling = |id: &str| match id {
        "2a" => Some((
            "sending the same requests to the same emulator",
            bare_get.0,
            22.0,
            25.0,
        )),
        "2b" => Some((
            "sending the same requests to the same emulator",
            bare_get.1,
            10.0,
            13.0,
        )),
        "2d" => Some((
            "sending the same one-identity add batches",
            bare_get.2,
            20.0,
            21.0,
        )),
        _ => None,
    };
    for (id, name, pick, unit, sequential) in workloads {
        let ours_rate = rate(pick(&ours_t)).unwrap_or(f64::NAN);
        let py_rate = rate(pick(&py_t));
        rows.push(
            Row::new(id, &name, Measure::new(ours_rate, unit), &py_sdk, py_rate.map(|r| Measure::new(r, unit)), py_rate.map(|r| ours_rate / r), "ours ÷ Python")
            .note(if let Some((what, bare, goal, set_against)) = ceiling(id) {
                // The goals of 2a, 2b and 2d were set when the bare client
                // reached `set_against` times Python; Python's speed moves
                // between runs (and so does the ceiling), so the share of
                // the ceiling ours reaches is reported beside the ratio.
                format!(
                    "Ceiling: the bare hyper-util client {what}, no parsing: {} ops/s = {:.1}× Python. Ours ÷ ceiling: {:.3} (the goal, {goal}× when the ceiling was {set_against}×, is {:.3} of it).",
                    crate::report::fmt_num(bare),
                    py_rate.map_or(f64::NAN, |r| bare / r),
                    ours_rate / bare,
                    goal / set_against
                )
            } else if sequential {
                String::new()
            } else {
                "One call: the time is the emulator applying 1,000 additions plus each client's encode/decode; no goal (the goal is on sequential calls).".to_owned()
            }),
        );
        if let Some((js_t, js_sdk)) = &js {
            let js_rate = rate(pick(js_t));
            rows.push(
                Row::new(
                    &format!("{id}-js"),
                    &name,
                    Measure::new(ours_rate, unit),
                    js_sdk,
                    js_rate.map(|r| Measure::new(r, unit)),
                    js_rate.map(|r| ours_rate / r),
                    "ours ÷ JavaScript",
                )
                .note(if id == "2d" {
                    "JS has no GroupsManager: one-identity `membership.act` calls."
                } else {
                    ""
                }),
            );
        }
    }
    if pinned {
        for r in rows.iter_mut().filter(|r| !r.id.starts_with("2c")) {
            r.note = format!("Driver process and emulator pinned to CPU 0. {}", r.note)
                .trim_end()
                .to_owned();
        }
    }
    let all = |v: &[Timings]| v.iter().map(Timings::json).collect::<Vec<_>>();
    let details = json!({
        "rounds": rounds,
        "ours_rounds": all(&ours_all),
        "python_rounds": all(&py_all),
        "js_rounds": all(&js_all),
        "bare_rounds": bare_all.iter().map(|b| json!([b.0, b.1, b.2])).collect::<Vec<_>>(),
        "ours": ours_t.json(),
        "python": py_t.json(),
        "python_sdk": py_sdk,
        "bare_get_group_ops_s": bare_get.0,
        "bare_get_my_groups_ops_s": bare_get.1,
        "bare_add_member_ops_s": bare_get.2,
        "pinned_to_cpu0": pinned,
        "js": js.as_ref().map(|(t, _)| t.json()),
        "js_sdk": js.as_ref().map(|(_, s)| s.clone()),
    });
    Ok((rows, details, errors))
}

/// `groups-bench sdk-rust PLAN.json`: our side of workload 2 as its own
/// process, like the Python and JS drivers (sequential calls on Tokio's
/// current-thread runtime); prints the same JSON plus the bare ceilings.
pub fn rust_driver(plan_path: &Path) -> Result<(), String> {
    let base = std::env::var("GLOBUS_SDK_SERVICE_URL_GROUPS")
        .map_err(|_| "GLOBUS_SDK_SERVICE_URL_GROUPS is not set".to_owned())?;
    let plan: Plan = serde_json::from_slice(
        &std::fs::read(plan_path).map_err(|e| format!("{}: {e}", plan_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (t, bare) = rt.block_on(async {
        let t = run_ours(&base, &plan).await?;
        let bare = bare_get_group(&base, &plan).await?;
        let bare_add = bare_add_member(&base, &plan).await?;
        Ok::<_, String>((t, (bare.0, bare.1, bare_add)))
    })?;
    let mut v = json!({});
    let raw = |x: Option<(f64, f64)>| x.map(|(ops, s)| json!({"ops": ops, "seconds": s}));
    v["get_group"] = json!(raw(t.get_group));
    v["get_my_groups"] = json!(raw(t.get_my_groups));
    v["batch_add"] = json!(raw(t.batch_add));
    v["add_member"] = json!(raw(t.add_member));
    v["sdk"] = json!("groups-bench (ours)");
    v["bare_get_group_ops_s"] = json!(bare.0);
    v["bare_get_my_groups_ops_s"] = json!(bare.1);
    v["bare_add_member_ops_s"] = json!(bare.2);
    println!("{v}");
    Ok(())
}
