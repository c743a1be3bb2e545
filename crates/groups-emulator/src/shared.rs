//! State shared by every connection (the world, the policy, fault rules, the
//! persister, counters) and the locked sections that change the world.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use http::{Method, StatusCode};

use crate::faults::{Fault, FaultTable, Triggered};
use crate::persist::Persister;
use crate::world::resp::base_error;
use crate::world::{ApiResponse, AutoApprove, ErrorCode, Policy, World};

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) world: RwLock<World>,
    pub(crate) policy: Policy,
    faults: Mutex<FaultTable>,
    /// Number of pending fault rules, read without the lock on the hot path.
    fault_rules: AtomicUsize,
    pub(crate) persister: Option<Mutex<Persister>>,
    pub(crate) requests: AtomicU64,
    pub(crate) limits: Limits,
    /// Connections open now (accepted and not yet closed).
    pub(crate) open_connections: AtomicUsize,
    /// Connections accepted since the start.
    pub(crate) accepted_connections: AtomicU64,
    /// Seconds the emulator's clock runs ahead of the system clock (control plane).
    clock_offset: AtomicI64,
    /// What the Auth authorize endpoint does without its page (control plane).
    auto_approve: Mutex<Option<AutoApprove>>,
}

/// What one client may cost the server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Largest request body, in bytes (413 above).
    pub(crate) body_limit: usize,
    /// How long a connection may take to send a request's headers, counted from the
    /// accept for its first request and from the previous answer for the next ones.
    pub(crate) header_read_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog.
    pub(crate) max_connections: usize,
}

/// Counts one open connection while it lives.
#[derive(Debug)]
pub(crate) struct OpenConnection(Arc<Shared>);

impl OpenConnection {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        shared.open_connections.fetch_add(1, Ordering::AcqRel);
        shared.accepted_connections.fetch_add(1, Ordering::AcqRel);
        OpenConnection(Arc::clone(shared))
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a locked section did not produce its result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The closure panicked (a bug); the world was rolled back when persistence allows.
    Panicked,
    /// The state file could not be written; the world was rolled back to the file's state.
    Persist(String),
}

impl Failure {
    pub(crate) fn into_response(self) -> ApiResponse {
        match self {
            Failure::Panicked => base_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "The emulator hit an internal error while handling this request.",
            ),
            Failure::Persist(detail) => {
                tracing::error!(%detail, "state file write failed; write rolled back");
                base_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::PersistenceError,
                    "The change could not be saved to the state file and was not applied.",
                )
            }
        }
    }
}

impl Shared {
    pub(crate) fn new(
        world: World,
        policy: Policy,
        persister: Option<Persister>,
        limits: Limits,
    ) -> Self {
        Self {
            world: RwLock::new(world),
            policy,
            faults: Mutex::new(FaultTable::default()),
            fault_rules: AtomicUsize::new(0),
            persister: persister.map(Mutex::new),
            requests: AtomicU64::new(0),
            limits,
            open_connections: AtomicUsize::new(0),
            accepted_connections: AtomicU64::new(0),
            clock_offset: AtomicI64::new(0),
            auto_approve: Mutex::new(None),
        }
    }

    /// Now on the emulator's clock, in seconds since the epoch.
    pub(crate) fn now_secs(&self) -> u64 {
        let offset = self.clock_offset.load(Ordering::Acquire);
        crate::clock::now_unix().saturating_add_signed(offset)
    }

    /// Move the emulator's clock forward by `secs`; answers the new offset.
    pub(crate) fn advance_clock(&self, secs: i64) -> i64 {
        self.clock_offset.fetch_add(secs, Ordering::AcqRel) + secs
    }

    /// Seconds the emulator's clock runs ahead of the system clock.
    pub(crate) fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Acquire)
    }

    /// The automatic answer of the authorize endpoint, if any.
    pub(crate) fn auto_approve(&self) -> Option<AutoApprove> {
        self.auto_approve
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Set or clear the automatic answer of the authorize endpoint.
    pub(crate) fn set_auto_approve(&self, a: Option<AutoApprove>) {
        *self
            .auto_approve
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = a;
    }

    /// Run `f` under the write lock, then save what it changed before returning (a
    /// journal record, or a snapshot when `f` replaced the world). A panic or a failed
    /// save undoes the change. `replaces` says that `f` may replace the world
    /// wholesale: a copy is kept to roll back to, since record-by-record undo cannot.
    pub(crate) fn mutate<R>(
        &self,
        replaces: bool,
        f: impl FnOnce(&mut World) -> R,
    ) -> Result<R, Failure> {
        let mut world = self.world.write().unwrap_or_else(PoisonError::into_inner);
        let backup = (replaces && self.persister.is_some()).then(|| world.clone());
        let out = catch_unwind(AssertUnwindSafe(|| f(&mut world)));
        let restore = |world: &mut World, backup: Option<World>| match backup {
            // The copy is not the files' world: the next save writes a snapshot.
            Some(b) => *world = b,
            None => world.undo(),
        };
        let Some(persister) = &self.persister else {
            return match out {
                Ok(r) => {
                    world.settle(false);
                    Ok(r)
                }
                Err(_) => {
                    world.undo();
                    Err(Failure::Panicked)
                }
            };
        };
        let mut persister = persister.lock().unwrap_or_else(PoisonError::into_inner);
        match out {
            Err(_) => {
                restore(&mut world, backup);
                Err(Failure::Panicked)
            }
            Ok(r) => match persister.save(&mut world) {
                Ok(()) => Ok(r),
                Err(e) => {
                    restore(&mut world, backup);
                    Err(Failure::Persist(e))
                }
            },
        }
    }

    /// Compact the state files when the journal passed its limit: the snapshot is
    /// taken under the read lock (writers wait, readers do not), written without any
    /// lock, and installed under the persister's lock.
    pub(crate) fn compact_if_due(&self) {
        let Some(persister) = &self.persister else {
            return;
        };
        let job = {
            let world = self.world.read().unwrap_or_else(PoisonError::into_inner);
            let mut p = persister.lock().unwrap_or_else(PoisonError::into_inner);
            p.begin_compaction(&world)
        };
        let job = match job {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(detail) => {
                tracing::warn!(%detail, "state compaction could not start");
                return;
            }
        };
        let written = job.write();
        let mut p = persister.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(detail) = p.finish_compaction(job, written) {
            tracing::warn!(%detail, "state compaction failed; the journal keeps every write");
        }
    }

    /// Start a background compaction when one is due.
    fn spawn_compaction_if_due(self: &Arc<Self>) {
        let due = self.persister.as_ref().is_some_and(|p| {
            p.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .compaction_due()
        });
        if due {
            let me = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("state-compaction".into())
                .spawn(move || me.compact_if_due());
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the state compaction thread");
            }
        }
    }

    /// Run `f` under the read lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&World) -> R) -> Result<R, Failure> {
        let world = self.world.read().unwrap_or_else(PoisonError::into_inner);
        catch_unwind(AssertUnwindSafe(|| f(&world))).map_err(|_| Failure::Panicked)
    }

    /// Run a blocking closure: on the blocking pool when a state file makes it do disk IO,
    /// inline otherwise (the locked sections are short and CPU-only then).
    pub(crate) async fn blocking<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Shared) -> Result<R, Failure> + Send + 'static,
    ) -> Result<R, Failure> {
        if self.persister.is_some() {
            let me = Arc::clone(self);
            let out = match tokio::task::spawn_blocking(move || f(&me)).await {
                Ok(r) => r,
                Err(_) => Err(Failure::Panicked),
            };
            self.spawn_compaction_if_due();
            out
        } else {
            f(self)
        }
    }

    pub(crate) fn inject(&self, fault: Fault) {
        let mut table = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        table.push(fault);
        self.fault_rules.store(table.len(), Ordering::Release);
    }

    pub(crate) fn clear_faults(&self) {
        let mut table = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        table.clear();
        self.fault_rules.store(0, Ordering::Release);
    }

    pub(crate) fn pending_faults(&self) -> Vec<Fault> {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending()
    }

    pub(crate) fn take_fault(&self, method: &Method, path: &str) -> Option<Triggered> {
        if self.fault_rules.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut table = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let t = table.take(method.as_str(), path);
        self.fault_rules.store(table.len(), Ordering::Release);
        t
    }

    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}
