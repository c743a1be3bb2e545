//! Durable state file: atomic replace (temporary file in the same directory, fsync,
//! rename, fsync of the directory), so the file on disk is always either the previous
//! complete state or the new complete state, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::world::World;

/// Tag written into every state file so a wrong file is refused rather than misread.
const FORMAT: &str = "groups-emulator-state";
/// Version of the envelope.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    format: &'static str,
    version: u32,
    generation: u64,
    world: &'a World,
}

#[derive(Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    /// Parsed in a second step, after the format tag was checked.
    world: serde_json::Value,
}

/// Serialize the world into the state-file envelope.
pub(crate) fn encode(world: &World) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&EnvelopeRef {
        format: FORMAT,
        version: VERSION,
        generation: world.generation(),
        world,
    })
}

/// Parse a state file's bytes.
pub(crate) fn decode(bytes: &[u8]) -> Result<World, String> {
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if env.format != FORMAT {
        return Err(format!(
            "not a groups-emulator state file (format {:?})",
            env.format
        ));
    }
    if env.version != VERSION {
        return Err(format!("unsupported state file version {}", env.version));
    }
    serde_json::from_value(env.world).map_err(|e| format!("invalid world: {e}"))
}

/// Read the state file. `Ok(None)` when it does not exist yet; any other problem is an error.
pub(crate) fn load(path: &Path) -> Result<Option<World>, String> {
    match fs::read(path) {
        Ok(bytes) => decode(&bytes).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The directory and file name of a state path.
fn dir_and_name(path: &Path) -> io::Result<(PathBuf, &std::ffi::OsStr)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "state path has no file name")
    })?;
    Ok((dir, name))
}

/// The prefix of this state file's temporary files: `.<name>.tmp.` (then a process id).
fn temp_prefix(name: &std::ffi::OsStr) -> String {
    format!(".{}.tmp.", name.to_string_lossy())
}

/// Whether process `pid` is running. Where this cannot be known (no `/proc`), a process
/// other than this one counts as gone: two emulators never share a state file.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_root = Path::new("/proc");
    proc_root.is_dir() && proc_root.join(pid.to_string()).exists()
}

/// Remove the temporary files a crashed emulator left next to the state file: names
/// `.<state file name>.tmp.<pid>` whose process is gone. Nothing else is touched (not
/// other files' temporaries, not a running process's). Returns how many were removed.
pub(crate) fn remove_stale_temps(path: &Path) -> io::Result<usize> {
    let (dir, name) = dir_and_name(path)?;
    let prefix = temp_prefix(name);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if (pid == std::process::id() || !process_alive(pid))
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Write `bytes` to `path` atomically and durably.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, name) = dir_and_name(path)?;
    let tmp = dir.join(format!("{}{}", temp_prefix(name), std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The persistence state kept by a running emulator (behind its own mutex, always taken
/// while holding the world's write lock, so file order follows generation order).
pub(crate) struct Persister {
    pub(crate) path: PathBuf,
    /// Generation of the world last written.
    pub(crate) generation: u64,
    /// Bytes last written: lets a write whose persistence failed be rolled back.
    pub(crate) last: Vec<u8>,
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The saved bytes are the whole state: show their size only.
        f.debug_struct("Persister")
            .field("path", &self.path)
            .field("generation", &self.generation)
            .field("last_bytes", &self.last.len())
            .finish()
    }
}

impl Persister {
    /// Write the world (the caller decides when: after a mutation that moved the
    /// generation). On failure the caller should roll back with [`Persister::rollback`].
    pub(crate) fn persist(&mut self, world: &World) -> Result<(), String> {
        let bytes = encode(world).map_err(|e| format!("serialize state: {e}"))?;
        write_atomic(&self.path, &bytes)
            .map_err(|e| format!("write state file {}: {e}", self.path.display()))?;
        self.generation = world.generation();
        self.last = bytes;
        Ok(())
    }

    /// The world as last persisted.
    pub(crate) fn rollback(&self) -> Option<World> {
        decode(&self.last).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "groups-emulator-persist-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let d = tmpdir("replace");
        let p = d.join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stale_temp_files_of_this_state_file_are_removed_and_nothing_else() {
        let d = tmpdir("stale");
        let p = d.join("state.json");
        let ours_dead = d.join(".state.json.tmp.4294967295");
        let ours_self = d.join(format!(".state.json.tmp.{}", std::process::id()));
        let keep = [
            d.join("state.json"),
            d.join(".other.json.tmp.4294967295"),
            d.join(".state.json.tmp.abc"),
            d.join(".state.json.tmp."),
            d.join("state.json.tmp.4294967295"),
            d.join(".state.json.tmp.1x"),
        ];
        for f in keep.iter().chain([&ours_dead, &ours_self]) {
            fs::write(f, b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(&p).unwrap(), 2);
        assert!(!ours_dead.exists() && !ours_self.exists());
        for f in &keep {
            assert!(f.exists(), "{} was removed", f.display());
        }
        assert_eq!(remove_stale_temps(&p).unwrap(), 0);
        assert_eq!(
            remove_stale_temps(&d.join("missing-dir/state.json")).unwrap(),
            0
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn load_missing_is_none_and_garbage_is_error() {
        let d = tmpdir("load");
        let p = d.join("state.json");
        assert!(load(&p).unwrap().is_none());
        fs::write(&p, b"{\"format\": \"groups-emulator-state\", \"vers").unwrap();
        assert!(load(&p).is_err());
        fs::write(&p, br#"{"format":"other","version":1,"world":{}}"#).unwrap();
        let err = load(&p).err().unwrap();
        assert!(err.contains("not a groups-emulator state file"), "{err}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn round_trip_through_envelope() {
        let w = World::new();
        let bytes = encode(&w).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.generation(), w.generation());
    }
}
