//! The library API: build, start, seed, inspect, inject faults, shut down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::faults::Fault;
use crate::persist::{self, Persister};
use crate::server;
use crate::shared::{Failure, Limits, Shared};
use crate::world::{AuthDemand, Policy, Seed, World};

/// Default request-body limit: 4 MiB (bigger bodies get 413). A batch of
/// [`MAX_BATCH_ITEMS`](crate::world::MAX_BATCH_ITEMS) items fits with room to spare.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Default listen backlog.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Default number of connections served at once (more wait in the listen backlog).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Default time a connection may take to send a request's headers: from the accept for
/// the first request (a connection that sends nothing is closed then), from the
/// previous answer for the next ones (idle keep-alive connections are closed then).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the emulator could not start or could not apply an operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening socket could not be set up.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address we tried.
        addr: SocketAddr,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The state file exists but cannot be read or parsed, or cannot be written.
    #[error("state file {path}: {detail}")]
    StateFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A seed could not be read or was refused by the world.
    #[error("seed: {0}")]
    Seed(String),
    /// An [`AuthDemand`] was refused (it asks for nothing, or names an unknown scope or
    /// an entry that is too long).
    #[error("auth demand: {0}")]
    AuthDemand(String),
    /// A change could not be applied (the handler failed or persistence failed; the world
    /// was left as it was before the change when a state file is configured).
    #[error("operation failed: {0}")]
    Operation(String),
}

impl From<Failure> for EmulatorError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Panicked => EmulatorError::Operation("the operation panicked".into()),
            Failure::Persist(detail) => EmulatorError::Operation(detail),
        }
    }
}

/// Configuration for an [`Emulator`]; see [`Emulator::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EmulatorBuilder {
    host: IpAddr,
    port: u16,
    state_file: Option<PathBuf>,
    seed: Option<Seed>,
    seed_file: Option<PathBuf>,
    policy: Policy,
    body_limit: usize,
    backlog: u32,
    max_connections: usize,
    header_read_timeout: Duration,
    auth_demand: Option<AuthDemand>,
    compact_after: Option<u64>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            state_file: None,
            seed: None,
            seed_file: None,
            policy: Policy::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            backlog: DEFAULT_BACKLOG,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            auth_demand: None,
            compact_after: None,
        }
    }
}

impl EmulatorBuilder {
    /// Address to listen on (default `127.0.0.1`).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// Port to listen on (default 0: the OS picks a free one; see [`Emulator::base_url`]).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Keep the state in this file: every acknowledged write is saved before the response
    /// is sent, and a later start with the same file continues from it. If the file exists
    /// it must be a valid state file (else [`Emulator::builder`]'s `start` fails), and then
    /// any seed is ignored: the file wins.
    ///
    /// The file is a snapshot; each write appends its change to a journal beside it
    /// (`<file>.journal.<n>`, synced before the answer), so a write costs the size of
    /// the change, not of the state. The journal is folded into a new snapshot in the
    /// background when it grows (see [`EmulatorBuilder::compact_after`]) and at every
    /// start and clean shutdown. The snapshot is only ever replaced by an atomic rename,
    /// so it always parses; a start replays the journal after it and drops a torn last
    /// record (a write cut short by a crash, never acknowledged).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Fold the journal into a new snapshot once it holds more than `bytes` (default:
    /// the larger of 8 MiB and the snapshot's size, which keeps the amortized cost of a
    /// write independent of the state's size). Only with a state file.
    pub fn compact_after(mut self, bytes: u64) -> Self {
        self.compact_after = Some(bytes);
        self
    }

    /// Seed the world at start (applied after [`EmulatorBuilder::seed_file`], if both).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Seed the world from a JSON file at start.
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_file = Some(path.into());
        self
    }

    /// Let the emulated Globus Auth accept only the clients and secrets the seed
    /// declares (401 `invalid_client` for others); off, any client id works with any
    /// secret.
    pub fn strict_clients(mut self, on: bool) -> Self {
        self.policy.strict_clients = on;
        self
    }

    /// Refuse tokens the seed does not declare (401 `INVALID_TOKEN`).
    pub fn strict_tokens(mut self, on: bool) -> Self {
        self.policy.strict_tokens = on;
        self
    }

    /// Refuse identities the world does not know in `add` / `invite`.
    pub fn strict_identities(mut self, on: bool) -> Self {
        self.policy.strict_identities = on;
        self
    }

    /// Enforce token scopes (writes need the `all` scope; 403 with `provided_scopes`).
    /// On by default (see [`Policy`]); tokens not declared in a seed carry `all`.
    pub fn enforce_scopes(mut self, on: bool) -> Self {
        self.policy.enforce_scopes = on;
        self
    }

    /// Replace the whole behaviour policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Largest accepted request body in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Most connections served at once (default [`DEFAULT_MAX_CONNECTIONS`]; at least
    /// 1). Further clients wait in the listen backlog until a connection closes.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long a connection may take to send a request's headers (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]), counted from the accept for the first request
    /// and from the previous answer for later ones; the connection is closed then.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Demand more of every token on the Groups endpoints from the start: scopes, or a
    /// login session with given identities, MFA or age (see [`AuthDemand`]); applied
    /// after the seed and over a resumed state file's demand.
    /// [`Emulator::set_auth_demand`] changes it later.
    pub fn auth_demand(mut self, demand: AuthDemand) -> Self {
        self.auth_demand = Some(demand);
        self
    }

    /// Listen backlog (default [`DEFAULT_BACKLOG`]; the kernel may cap it).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// Load state, bind, and start serving on the current Tokio runtime.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let mut world = None;
        if let Some(path) = &self.state_file {
            // Temporary files of a crashed run would otherwise stay forever.
            match persist::remove_stale_temps(path) {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed stale temporary state files"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not remove stale temporary state files")
                }
            }
            if let Some(loaded) =
                persist::load(path).map_err(|detail| EmulatorError::StateFile {
                    path: path.clone(),
                    detail,
                })?
            {
                tracing::info!(
                    replayed = loaded.replayed,
                    torn_bytes = loaded.torn_bytes,
                    "state resumed from the snapshot and its journal"
                );
                world = Some(loaded.world);
            }
        }
        let resumed = world.is_some();
        let mut world = world.unwrap_or_default();
        if !resumed {
            if let Some(path) = &self.seed_file {
                let seed = read_seed_file(path)?;
                world
                    .load_seed(seed)
                    .map_err(|e| EmulatorError::Seed(format!("{}: {}", path.display(), e.0)))?;
            }
            if let Some(seed) = self.seed {
                world
                    .load_seed(seed)
                    .map_err(|e| EmulatorError::Seed(e.0))?;
            }
        }
        if let Some(d) = self.auth_demand {
            world
                .set_auth_demand(Some(d))
                .map_err(EmulatorError::AuthDemand)?;
        }
        let persister = match &self.state_file {
            None => None,
            // A fresh snapshot at once: proves the location is writable, folds the
            // journal in and deletes it.
            Some(path) => Some(
                Persister::open(path, &mut world, self.compact_after).map_err(|detail| {
                    EmulatorError::StateFile {
                        path: path.clone(),
                        detail,
                    }
                })?,
            ),
        };
        let addr = SocketAddr::new(self.host, self.port);
        let listener = server::bind_listener(addr, self.backlog)
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let limits = Limits {
            body_limit: self.body_limit,
            header_read_timeout: self.header_read_timeout,
            max_connections: self.max_connections,
        };
        let shared = Arc::new(Shared::new(world, self.policy, persister, limits));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), rx));
        tracing::info!(%local_addr, resumed, "groups emulator listening");
        Ok(Emulator {
            shared,
            local_addr,
            shutdown: tx,
            task: Some(task),
        })
    }
}

fn read_seed_file(path: &Path) -> Result<Seed, EmulatorError> {
    let bytes = std::fs::read(path)
        .map_err(|e| EmulatorError::Seed(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| EmulatorError::Seed(format!("{} is not a valid seed: {e}", path.display())))
}

/// A running emulator: a local Globus Groups service on loopback.
///
/// Dropping it stops accepting at once and lets open connections finish in the
/// background; [`Emulator::shutdown`] does the same and waits for them.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Start configuring an emulator (127.0.0.1, port 0, no state file,
    /// [`Policy::default`]: any token accepted, scopes honoured).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Start an emulator with the default configuration.
    pub async fn start() -> Result<Emulator, EmulatorError> {
        Self::builder().start().await
    }

    /// The socket address the emulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Base URL for SDK clients, with a trailing slash: `http://127.0.0.1:PORT/`
    /// (paths such as `v2/groups/my_groups` are relative to it).
    pub fn base_url(&self) -> String {
        match self.local_addr {
            SocketAddr::V4(a) => format!("http://{}:{}/", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("http://[{}]:{}/", a.ip(), a.port()),
        }
    }

    /// The behaviour policy in force.
    pub fn policy(&self) -> &Policy {
        &self.shared.policy
    }

    /// Run `f` on the world under the write lock (seed or inspect it). With a state file,
    /// the world is saved before this returns if `f` changed it.
    ///
    /// Do not call it from inside another `with_world`/`read_world` closure (deadlock).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self
            .shared
            .world
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let r = f(&mut world);
        match &self.shared.persister {
            Some(p) => {
                let mut p = p.lock().unwrap_or_else(PoisonError::into_inner);
                if let Err(detail) = p.save(&mut world) {
                    // Kept in memory (the caller holds its result); saved whole with
                    // the next write.
                    tracing::error!(%detail, "state file write failed after with_world");
                    world.settle(false);
                }
            }
            None => world.settle(false),
        }
        r
    }

    /// Run `f` on the world under the read lock.
    pub fn read_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        let world = self
            .shared
            .world
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(&world)
    }

    /// Apply a seed document to the current world (call [`Emulator::reset`] first for a
    /// fresh one).
    pub fn load_seed(&self, seed: Seed) -> Result<(), EmulatorError> {
        self.shared
            .mutate(true, |w| w.load_seed(seed))?
            .map_err(|e| EmulatorError::Seed(e.0))
    }

    /// Replace the world with an empty one.
    pub fn reset(&self) -> Result<(), EmulatorError> {
        Ok(self.shared.mutate(true, |w| *w = World::new())?)
    }

    /// The whole state as JSON (the same document as `GET /_emulator/state`).
    pub fn dump_state(&self) -> serde_json::Value {
        self.read_world(|w| serde_json::to_value(w).unwrap_or(serde_json::Value::Null))
    }

    /// Add a fault rule (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Move the emulator's clock forward (token and code expiry, timestamps) by `by`
    /// (the same as `POST /_emulator/clock`).
    pub fn advance_clock(&self, by: Duration) {
        self.shared
            .advance_clock(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
    }

    /// Now on the emulator's clock, in seconds since the epoch.
    pub fn now_secs(&self) -> u64 {
        self.shared.now_secs()
    }

    /// Make the Auth authorize endpoint answer at once (a 302 with a code, or with
    /// `access_denied`) instead of showing its page; `None` shows the page again.
    pub fn set_auto_approve(&self, auto: Option<crate::world::AutoApprove>) {
        self.shared.set_auto_approve(auto);
    }

    /// Demand more of every token on the Groups endpoints (the same as
    /// `PUT /_emulator/auth/demand`); `None` drops the demand. An invalid demand is
    /// refused and nothing changes.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use groups_emulator::Emulator;
    /// use groups_emulator::world::AuthDemand;
    ///
    /// let emu = Emulator::start().await?;
    /// // From now on a token needs an MFA login: others get 401 AuthorizationRequired
    /// // with {"authorization_parameters": {"session_required_mfa": true, ...}}.
    /// emu.set_auth_demand(Some(AuthDemand::new().session_required_mfa(true)))?;
    /// # Ok(()) }
    /// ```
    pub fn set_auth_demand(&self, demand: Option<AuthDemand>) -> Result<(), EmulatorError> {
        self.shared
            .mutate(true, |w| w.set_auth_demand(demand))?
            .map_err(EmulatorError::AuthDemand)
    }

    /// The demand in force, if any.
    pub fn auth_demand(&self) -> Option<AuthDemand> {
        self.read_world(|w| w.auth_demand().cloned())
    }

    /// Drop every pending fault rule.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Fault rules not used up yet.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.pending_faults()
    }

    /// Number of API requests received so far (control-plane requests not counted;
    /// requests answered by a fault are).
    pub fn request_count(&self) -> u64 {
        self.shared.request_count()
    }

    /// Connections open now (accepted and not closed yet, whether or not they sent
    /// anything).
    pub fn open_connections(&self) -> usize {
        self.shared.open_connections.load(Ordering::Acquire)
    }

    /// Connections accepted since the start.
    pub fn accepted_connections(&self) -> u64 {
        self.shared.accepted_connections.load(Ordering::Acquire)
    }

    /// Stop accepting, let in-flight requests finish (up to 10 s, then cut), and make sure
    /// the state file holds the final state.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(p) = &self.shared.persister {
            let mut world = self
                .shared
                .world
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mut p = p.lock().unwrap_or_else(PoisonError::into_inner);
            // Leave one snapshot and an empty journal behind.
            let result = if p.journal_len() > 0 || !world.is_in_files() {
                p.snapshot_now(&mut world)
            } else {
                p.save(&mut world)
            };
            result.map_err(|detail| EmulatorError::StateFile {
                path: p.path().to_path_buf(),
                detail,
            })?;
        }
        Ok(())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The accept loop sees the signal, closes the listener and drains connections;
        // it ends on its own, so nothing is leaked past the runtime.
        let _ = self.shutdown.send(true);
    }
}
