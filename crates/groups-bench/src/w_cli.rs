//! Workload 8: the command-line tools. Wall time of one command, process
//! start to exit, of `globus-groups` (crates/groups-cli, release build)
//! and of globus-cli 3.44 (`globus group ...`, from PyPI in its own venv:
//! it pins a globus-sdk other than the one tests/python/requirements.txt
//! pins), against one emulator: `list`, `show`, `member add` (a fresh
//! identity each run) and `member list` of a 1,000-member group.
//!
//! Both act as the same confidential client (client credentials from the
//! environment), each with a fresh home directory of its own, and both
//! keep the client's token in their token storage between runs (globus-cli
//! in its storage, ours in `~/.globus/app/<client id>/globus-groups/`): the
//! untimed check runs fetch it, so the timed runs make no token request.
//! Each command's output is checked once (the group's name, 1,001 member
//! rows); the timed runs send output to /dev/null.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use groups_bench::median;
use groups_core::{BaseUrl, GroupsScopes};
use groups_hyper::HyperClientBuilder;
use groups_types::{BatchMembershipActions, GroupCreate, GroupRole, IdentityId};
use serde_json::{Value, json};

use crate::Ctx;
use crate::proc::ServerProcess;
use crate::report::{Measure, Row};

/// The globus-cli release compared against.
const GLOBUS_CLI_PIN: &str = "globus-cli==3.44.0";
/// The client both tools act as (the emulator accepts any client).
const CLIENT_ID: &str = "c11e0000-0000-4000-8000-00000000c11e";
const CLIENT_SECRET: &str = "bench-cli-secret";
const MEMBERS: usize = 1_000;

/// One tool: how to run a command of it.
struct Tool {
    program: PathBuf,
    prefix: Vec<String>,
    env: Vec<(String, String)>,
}

impl Tool {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix).args(args).stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run once, capturing stdout; an error names the tool and its stderr.
    fn output(&self, name: &str, args: &[&str]) -> Result<String, String> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("{name}: cannot start {:?}: {e}", self.program))?;
        if !out.status.success() {
            return Err(format!(
                "{name} {args:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Median wall time in milliseconds of `runs` runs (`args_of(i)` for
    /// run `i`), after one untimed warm-up run.
    fn time(
        &self,
        name: &str,
        runs: usize,
        args_of: &mut dyn FnMut(usize) -> Vec<String>,
    ) -> Result<f64, String> {
        let mut samples = Vec::with_capacity(runs);
        for i in 0..=runs {
            let args = args_of(i);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let started = Instant::now();
            let status = self
                .command(&refs)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("{name}: {e}"))?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            if !status.success() {
                return Err(format!("{name} {refs:?} failed ({status})"));
            }
            if i > 0 {
                samples.push(ms);
            }
        }
        Ok(median(&mut samples))
    }
}

/// globus-cli in `out/globus-cli-venv`, installed with pip when missing;
/// returns the `globus` executable.
fn ensure_globus_cli(python: &Path, out: &Path) -> Result<PathBuf, String> {
    let venv = out.join("globus-cli-venv");
    let bin = if cfg!(windows) {
        venv.join("Scripts").join("globus.exe")
    } else {
        venv.join("bin").join("globus")
    };
    let stamp = venv.join(".bench-globus-cli.stamp");
    if bin.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(GLOBUS_CLI_PIN) {
        return Ok(bin);
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    };
    let venv_python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    if !venv_python.is_file() {
        run(
            Command::new(python).args(["-m", "venv"]).arg(&venv),
            "python -m venv",
        )?;
    }
    eprintln!(
        "groups-bench: installing {GLOBUS_CLI_PIN} into {}",
        venv.display()
    );
    run(
        Command::new(&venv_python).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            GLOBUS_CLI_PIN,
        ]),
        "pip install globus-cli",
    )?;
    std::fs::write(&stamp, GLOBUS_CLI_PIN).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(bin)
}

fn member_id(i: usize) -> IdentityId {
    IdentityId::from_uuid(uuid::Uuid::from_u128(
        0xc11e_0000_0000_4000_8000_0000_0000_0000 + i as u128,
    ))
}

/// Create the group (as the client) with 1,000 members; its id.
async fn setup(base: &str) -> Result<String, String> {
    let auth = BaseUrl::parse(base).map_err(|e| e.to_string())?;
    let client = HyperClientBuilder::new()
        .base_url(base)
        .auth_url(auth)
        .allow_plain_http_loopback(true)
        .build_with_client_credentials(CLIENT_ID, CLIENT_SECRET, [GroupsScopes::ALL])
        .map_err(|e| e.to_string())?;
    let group = client
        .create_group(GroupCreate::new("CLI benchmark").description("1,000 members"))
        .await
        .map_err(|e| format!("create group: {e}"))?;
    let ids: Vec<IdentityId> = (0..MEMBERS).map(member_id).collect();
    let actions = BatchMembershipActions::new().add_members(ids, GroupRole::Member);
    let result = client
        .batch_membership_action(group.id, actions)
        .await
        .map_err(|e| format!("add {MEMBERS} members: {e}"))?;
    if !result.is_complete_success() {
        return Err("the setup batch had per-identity failures".to_owned());
    }
    Ok(group.id.to_string())
}

/// Run workload 8.
pub async fn run(ctx: &Ctx) -> Result<(Vec<Row>, Value, Vec<String>), String> {
    let ours_bin = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name(format!("globus-groups{}", std::env::consts::EXE_SUFFIX));
    if !ours_bin.is_file() {
        return Err(format!(
            "{} is missing (cargo build --release -p groups-cli)",
            ours_bin.display()
        ));
    }
    let mut notes = Vec::new();
    let theirs_bin = match ensure_globus_cli(&ctx.python, &ctx.out) {
        Ok(b) => Some(b),
        Err(e) => {
            notes.push(format!("workload 8 ran without globus-cli: {e}"));
            None
        }
    };
    let mut emulator =
        ServerProcess::start_bin("emulator", &ctx.emulator, &["serve", "--port", "0"])?;
    let base = emulator.base_url.clone();
    let group = setup(&base).await?;
    let home = ctx.out.join("globus-cli-home");
    let ours_home = ctx.out.join("globus-groups-home");
    for dir in [&home, &ours_home] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let ours_home_text = ours_home.to_string_lossy().into_owned();
    let common = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("GLOBUS_SDK_SERVICE_URL_GROUPS".into(), base.clone()),
            ("GLOBUS_SDK_SERVICE_URL_AUTH".into(), base.clone()),
            ("NO_COLOR".into(), "1".into()),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    };
    let ours = Tool {
        program: ours_bin,
        prefix: Vec::new(),
        env: common(&[
            ("GLOBUS_GROUPS_CLIENT_ID", CLIENT_ID),
            ("GLOBUS_GROUPS_CLIENT_SECRET", CLIENT_SECRET),
            ("HOME", &ours_home_text),
        ]),
    };
    let home_text = home.to_string_lossy().into_owned();
    let theirs = theirs_bin.map(|program| Tool {
        program,
        prefix: vec!["group".to_owned()],
        env: common(&[
            ("GLOBUS_CLI_CLIENT_ID", CLIENT_ID),
            ("GLOBUS_CLI_CLIENT_SECRET", CLIENT_SECRET),
            ("HOME", &home_text),
        ]),
    });

    // Both print the same thing (checked once each).
    let check = |tool: &Tool, name: &str| -> Result<(), String> {
        let list = tool.output(name, &["list"])?;
        if !list.contains("CLI benchmark") {
            return Err(format!("{name} list does not show the group:\n{list}"));
        }
        let members = tool.output(name, &["member", "list", &group])?;
        let rows = members.lines().count();
        if rows != MEMBERS + 3 {
            return Err(format!(
                "{name} member list printed {rows} lines, expected {}",
                MEMBERS + 3
            ));
        }
        Ok(())
    };
    let result = async {
        check(&ours, "globus-groups")?;
        if let Some(t) = &theirs {
            check(t, "globus-cli")?;
        }
        let (ours_runs, their_runs) = if ctx.quick { (3, 2) } else { (30, 10) };
        let mut next = 0usize;
        let mut fresh = move || {
            next += 1;
            member_id(MEMBERS + next).to_string()
        };
        let commands: [(&str, &str, Vec<String>); 4] = [
            ("8a", "list", vec!["list".into()]),
            ("8b", "show", vec!["show".into(), group.clone()]),
            ("8c", "member add", Vec::new()),
            ("8d", "member list (1,000 members)", vec!["member".into(), "list".into(), group.clone()]),
        ];
        let mut rows = Vec::new();
        let mut details = serde_json::Map::new();
        for (id, what, args) in commands {
            let mut args_of = |_: usize| -> Vec<String> {
                if args.is_empty() {
                    vec!["member".into(), "add".into(), group.clone(), fresh()]
                } else {
                    args.clone()
                }
            };
            let ours_ms = ours.time("globus-groups", ours_runs, &mut args_of)?;
            let theirs_ms = match &theirs {
                Some(t) => Some(t.time("globus-cli", their_runs, &mut args_of)?),
                None => None,
            };
            details.insert(
                id.to_owned(),
                json!({"command": what, "ours_ms": ours_ms, "globus_cli_ms": theirs_ms,
                       "ours_runs": ours_runs, "globus_cli_runs": their_runs}),
            );
            rows.push(
                Row::new(
                    id,
                    &format!("CLI `{what}`: wall time per command"),
                    Measure::new(ours_ms, "ms"),
                    "globus-cli 3.44",
                    theirs_ms.map(|t| Measure::new(t, "ms")),
                    theirs_ms.map(|t| t / ours_ms),
                    "globus-cli's time ÷ ours",
                )
                .note(format!(
                    "median of {ours_runs} (ours) and {their_runs} (globus-cli) runs; both reuse the client-credentials token they stored in an untimed run"
                )),
            );
        }
        Ok::<_, String>((rows, Value::Object(details)))
    }
    .await;
    emulator.stop();
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&ours_home);
    let (rows, details) = result?;
    Ok((rows, details, notes))
}
