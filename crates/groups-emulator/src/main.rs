//! `groups-emulator`: run the local Globus Groups service.
//!
//! ```text
//! groups-emulator serve [--host 127.0.0.1] [--port 8765] [--seed FILE] [--state FILE]
//!                       [--compact-after BYTES] [--strict-tokens] [--strict-identities] [--strict-clients]
//!                       [--ignore-scopes]
//!                       [--max-connections 512] [--header-timeout-secs 30]
//!                       [--body-limit 4194304]
//! ```
//!
//! The first line on stdout is `listening on http://HOST:PORT/` (with the real port when
//! `--port 0`). Ctrl-C or SIGTERM stops it cleanly. Logs go to stderr (`RUST_LOG`).
//!
//! Limits (so that no client can make one request, or one connection, cost without
//! bound): request bodies up to `--body-limit` bytes (413 above); at most
//! `--max-connections` connections served at once (more wait in the listen backlog);
//! a connection must send its request headers within `--header-timeout-secs` of the
//! accept (or of its previous answer), else it is closed; a batch holds at most 10,000
//! items; a 422 lists at most 100 problems; group names are at most 1,024 characters,
//! descriptions and terms and conditions at most 65,536.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use groups_emulator::Emulator;

/// A local Globus Groups API v2 service for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "groups-emulator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Groups API on HTTP until Ctrl-C / SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Limits: a batch holds at most 10,000 items (422 above); a 422 lists at most \
                  100 problems; group names are at most 1,024 characters, descriptions and \
                  terms and conditions at most 65,536 (422 above)."
)]
struct ServeArgs {
    /// Address to listen on (`localhost` means 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_host)]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8765)]
    port: u16,
    /// Seed document (JSON) applied at start, unless the state file already exists.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// State file: every acknowledged write is saved here (a snapshot, and a journal
    /// beside it: FILE.journal.N); a restart continues from it.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Fold the journal into a new snapshot once it holds more than BYTES (default: the
    /// larger of 8 MiB and the snapshot's size).
    #[arg(long, value_name = "BYTES", requires = "state")]
    compact_after: Option<u64>,
    /// Refuse tokens the seed does not declare (401 INVALID_TOKEN).
    #[arg(long)]
    strict_tokens: bool,
    /// Let the emulated Globus Auth accept only the clients (and secrets) the seed
    /// declares.
    #[arg(long)]
    strict_clients: bool,
    /// Refuse unknown identities in add/invite.
    #[arg(long)]
    strict_identities: bool,
    /// Enforce token scopes: writes need the `all` scope, else 403 with
    /// `provided_scopes`. This is the default (tokens without a seed carry `all`).
    #[arg(long, conflicts_with = "ignore_scopes")]
    enforce_scopes: bool,
    /// Ignore token scopes entirely.
    #[arg(long)]
    ignore_scopes: bool,
    /// Most connections served at once; more wait in the listen backlog.
    #[arg(long, default_value_t = groups_emulator::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a connection may take to send its request headers, counted from the
    /// accept (or from its previous answer); then it is closed.
    #[arg(long, default_value_t = groups_emulator::DEFAULT_HEADER_READ_TIMEOUT.as_secs())]
    header_timeout_secs: u64,
    /// Largest request body in bytes (413 above).
    #[arg(long, default_value_t = groups_emulator::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
}

fn parse_host(s: &str) -> Result<IpAddr, String> {
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    s.parse()
        .map_err(|_| format!("{s:?} is not an IP address (or `localhost`)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("groups-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Command::Serve(args) = cli.command;
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("groups-emulator: error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), groups_emulator::EmulatorError> {
    let mut builder = Emulator::builder()
        .host(args.host)
        .port(args.port)
        .strict_tokens(args.strict_tokens)
        .strict_identities(args.strict_identities)
        .strict_clients(args.strict_clients)
        .enforce_scopes(args.enforce_scopes || !args.ignore_scopes)
        .max_connections(args.max_connections)
        .header_read_timeout(std::time::Duration::from_secs(args.header_timeout_secs))
        .body_limit(args.body_limit);
    if let Some(seed) = args.seed {
        builder = builder.seed_file(seed);
    }
    if let Some(state) = args.state {
        builder = builder.state_file(state);
    }
    if let Some(bytes) = args.compact_after {
        builder = builder.compact_after(bytes);
    }
    let emulator = builder.start().await?;
    // Listen for the signals before saying we listen: a SIGTERM sent right after the
    // first line must shut down cleanly, not kill.
    let signals = Signals::install();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", emulator.base_url());
        let _ = out.flush();
    }
    signals.wait().await;
    tracing::info!("shutting down");
    emulator.shutdown().await
}

/// SIGINT and SIGTERM, registered at once.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::terminate())
                .and_then(|t| Ok((t, signal(SignalKind::interrupt())?)))
                .ok();
            Signals { streams }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut term, mut int)) = self.streams {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
