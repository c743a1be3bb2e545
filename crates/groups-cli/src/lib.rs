//! `globus-groups`: a command-line tool for Globus Groups.
//!
//! It has globus-cli's `group` commands with the same arguments, options,
//! field names, layout and exit codes (`globus group list` becomes
//! `globus-groups list`), and what globus-cli lacks: `member change-role`,
//! `list --statuses`, `statuses`, `children`, `preferences`,
//! `membership-fields`, `member bulk ... FILE`, `member sync GROUP FILE`
//! and `emulator serve`.
//!
//! ```text
//! cargo install --path crates/groups-cli
//! globus-groups emulator serve &              # a local service, no account needed
//! export GLOBUS_SDK_SERVICE_URL_GROUPS=http://127.0.0.1:8765/
//! export GLOBUS_SDK_SERVICE_URL_AUTH=http://127.0.0.1:8765/
//! export GLOBUS_GROUPS_TOKEN=any-token
//! globus-groups create "My lab"
//! globus-groups list -F json
//! ```
//!
//! The library holds the whole tool so that the binary is one line and
//! the clap definitions ([`command`]) can also produce completions and the
//! man page.

pub mod cli;
pub mod client_tokens;
pub mod commands;
pub mod error;
pub mod json_text;
pub mod login;
pub mod output;
pub mod resolve;
pub mod session;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, Command, EmulatorCommand, EmulatorServeArgs};
use crate::error::{CliError, EXIT_INTERNAL, EXIT_USAGE, StatusMap};
use crate::output::Printer;

/// The clap command (for completions, the man page and tests).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Whether colour may be used on standard error: a terminal, and
/// `NO_COLOR` unset or empty.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// The process entry point: parse, run, report; never panics out (a panic
/// is caught and reported as an internal error, exit 255).
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "globus-groups internal error (please report it): {info}"
        );
    }));
    match std::panic::catch_unwind(|| run_inner(args, true)) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}

/// Run the tool on `args` (the first is the program name); the exit status.
pub fn run(args: Vec<std::ffi::OsString>) -> u8 {
    run_inner(args, false)
}

/// Parse `args` as `Cli::try_parse_from` does (same errors). With
/// `exiting`, the process ends after this run: the clap command tree (every
/// subcommand and argument, built only to parse) is not freed, which would
/// be work thrown away just before exit (about half a million instructions
/// per run).
fn parse(args: Vec<std::ffi::OsString>, exiting: bool) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut cmd = Cli::command();
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m).map_err(|e| e.format(&mut cmd)));
    if exiting {
        std::mem::forget(cmd);
    }
    parsed
}

fn run_inner(args: Vec<std::ffi::OsString>, exiting: bool) -> u8 {
    let cli = match parse(args, exiting) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                    {
                        EXIT_USAGE
                    } else {
                        0
                    }
                }
                _ => EXIT_USAGE,
            };
        }
    };
    let g = &cli.global;
    init_logging(g.verbose, g.quiet);
    let printer = Printer {
        format: g.format,
        jmespath: g.jmespath.clone(),
        width: terminal_width(),
    };
    let json_errors = printer.is_json();
    let map = match StatusMap::parse(&g.map_http_status) {
        Ok(m) => m,
        Err(e) => return emit_error(&e, json_errors, &StatusMap::default()),
    };
    if let Some(expr) = &g.jmespath
        && let Err(e) = Printer::check_jmespath(expr)
    {
        return emit_error(&e, json_errors, &map);
    }
    let quiet = g.quiet;
    match cli.command {
        Command::Completions(a) => {
            let mut cmd = command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(a.shell, &mut cmd, "globus-groups", &mut out);
            0
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(command()).render(&mut out) {
                Ok(()) => {
                    output::write_stdout(&String::from_utf8_lossy(&out));
                    0
                }
                Err(e) => emit_error(&CliError::Internal(e.to_string()), json_errors, &map),
            }
        }
        Command::Emulator(EmulatorCommand::Serve(a)) => match runtime() {
            Ok(rt) => match rt.block_on(serve_emulator(a)) {
                Ok(()) => 0,
                Err(e) => emit_error(&e, json_errors, &map),
            },
            Err(e) => emit_error(&e, json_errors, &map),
        },
        api => {
            let result = runtime().and_then(|rt| {
                rt.block_on(async {
                    let out = commands::run(api, &printer, quiet).await?;
                    printer.print(&out)
                })
            });
            match result {
                Ok(()) => 0,
                Err(e) => emit_error(&e, json_errors, &map),
            }
        }
    }
}

fn emit_error(e: &CliError, json: bool, map: &StatusMap) -> u8 {
    let report = error::report(e, json, map);
    if !report.text.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(report.text.as_bytes());
        let _ = err.flush();
    }
    report.code
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the runtime: {e}")))
}

/// `-v` errors, `-vv` info, `-vvv` debug; `--quiet` turns logging off.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) | (false, 0) => return,
        (false, 1) => "error",
        (false, 2) => "info",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_ansi(color_enabled())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Width for wrapped text: `COLUMNS` on a terminal, else 80; above 100
/// columns, 80 % of it.
fn terminal_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return 80;
    }
    let cols = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c >= 20)
        .unwrap_or(80);
    if cols < 100 { cols } else { cols * 4 / 5 }
}

async fn serve_emulator(args: EmulatorServeArgs) -> Result<(), CliError> {
    let mut builder = groups_emulator::Emulator::builder()
        .host(std::net::IpAddr::from([127, 0, 0, 1]))
        .port(args.port);
    if let Some(seed) = args.seed {
        builder = builder.seed_file(seed);
    }
    if let Some(state) = args.state {
        builder = builder.state_file(state);
    }
    let emulator = builder
        .start()
        .await
        .map_err(|e| CliError::failed(format!("cannot start the emulator: {e}")))?;
    let url = emulator.base_url();
    output::write_stdout(&format!(
        "listening on {url}\n\nIn another shell:\n  export GLOBUS_SDK_SERVICE_URL_GROUPS={url}\n  \
         export GLOBUS_SDK_SERVICE_URL_AUTH={url}\n  export GLOBUS_GROUPS_TOKEN=any-token\n  \
         globus-groups list\n\nPress Ctrl-C to stop.\n"
    ));
    wait_for_signal().await;
    emulator
        .shutdown()
        .await
        .map_err(|e| CliError::failed(format!("stopping the emulator: {e}")))
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
