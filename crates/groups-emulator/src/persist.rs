//! Durable state: a snapshot file plus an append-only journal, so that the cost of an
//! acknowledged write is the size of its change, not of the world.
//!
//! # Files
//! * `<state>`: the snapshot, a complete state document (`{"format", "version",
//!   "generation", "journal", "world"}`), only ever replaced by an atomic rename of a
//!   fully written and synced temporary file (`.<state>.tmp.<pid>[.<n>]`), so it is
//!   always either the previous or the next complete snapshot. `journal` names the
//!   first journal that follows it.
//! * `<state>.journal.<n>`: journals, each a run of records framed as a 4-byte
//!   little-endian length, a 4-byte CRC-32 of the length and the payload, then the
//!   payload (one write's changes as JSON). A record is appended and the journal synced
//!   before the write is acknowledged; a torn tail (a crash mid-append: short, or a bad
//!   checksum) was never acknowledged and is dropped at the next start.
//!
//! # Compaction
//! When a journal passes its limit (the larger of 8 MiB and the snapshot's size, so the
//! amortized cost per write stays the size of the write) a background thread writes a
//! new snapshot: under the read lock the world is streamed into a temporary file
//! (never whole in memory) and a new journal is started, then the file is synced
//! without any lock, renamed over the old one, and only then are the older journals
//! deleted. A crash at any point
//! leaves an old snapshot with every journal after it, or the new snapshot; both
//! replay to the same world. Replacing the world wholesale (reset, a new state) writes
//! a snapshot at once, as does every start (after the replay).
//!
//! # Why a journal and not SQLite
//! The world is an in-memory model queried by the rules engine on every request; a
//! database would only be its durability layer. A journal of the changed records keeps
//! the one state document format (the snapshot is what `GET /_emulator/state` answers,
//! readable and diffable), adds no native dependency to a test tool, and needs only
//! append, fsync and rename, whose guarantees are easy to check with `kill -9`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::world::{Changes, World};

/// Tag written into every state file so a wrong file is refused rather than misread.
const FORMAT: &str = "groups-emulator-state";
/// Version of the envelope.
const VERSION: u32 = 1;
/// A journal smaller than this is never compacted.
pub(crate) const MIN_COMPACT_BYTES: u64 = 8 * 1024 * 1024;
/// Largest journal record accepted when reading (a length above is a torn tail).
const MAX_RECORD: usize = 1 << 30;
/// Bytes of a record's frame before its payload.
const FRAME: usize = 8;

#[derive(Serialize)]
struct EnvelopeRef<'a> {
    format: &'static str,
    version: u32,
    generation: u64,
    journal: u64,
    world: &'a World,
}

#[derive(Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    /// The first journal after this snapshot (0 in files written before journals).
    #[serde(default)]
    journal: u64,
    /// Parsed in a second step, after the format tag was checked.
    world: serde_json::Value,
}

/// Serialize the world into the state-file envelope.
fn encode(world: &World, journal: u64) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&EnvelopeRef {
        format: FORMAT,
        version: VERSION,
        generation: world.generation(),
        journal,
        world,
    })
}

/// Parse a snapshot's bytes: the world and the first journal after it.
fn decode(bytes: &[u8]) -> Result<(World, u64), String> {
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
    let world = serde_json::from_value(env.world).map_err(|e| format!("invalid world: {e}"))?;
    Ok((world, env.journal))
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for part in parts {
        for b in *part {
            c = TABLE[((c ^ u32::from(*b)) & 0xff) as usize] ^ (c >> 8);
        }
    }
    !c
}

/// One framed journal record.
fn frame(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_le_bytes();
    let mut out = Vec::with_capacity(FRAME + payload.len());
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc32(&[&len, payload]).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The records of a journal's bytes, and how many bytes they fill (a torn tail after
/// them, if any, is left out).
fn unframe(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + FRAME) {
        let len_bytes: [u8; 4] = [head[0], head[1], head[2], head[3]];
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let len = u32::from_le_bytes(len_bytes) as usize;
        if len == 0 || len > MAX_RECORD {
            break;
        }
        let Some(payload) = bytes.get(at + FRAME..at + FRAME + len) else {
            break;
        };
        if crc32(&[&len_bytes, payload]) != crc {
            break;
        }
        records.push(payload);
        at += FRAME + len;
    }
    (records, at)
}

/// The directory and file name of a state path.
fn dir_and_name(path: &Path) -> io::Result<(PathBuf, String)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "state path has no file name")
    })?;
    Ok((dir, name.to_string_lossy().into_owned()))
}

/// The prefix of this state file's temporary files: `.<name>.tmp.` (then a process id,
/// and for a background snapshot a dot and a counter).
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp.")
}

/// The path of journal `seq` of a state file.
fn journal_path(path: &Path, seq: u64) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".journal.{seq}"));
    PathBuf::from(p)
}

/// The journals of a state file that exist, by number.
fn journals(path: &Path) -> io::Result<std::collections::BTreeMap<u64, PathBuf>> {
    let (dir, name) = dir_and_name(path)?;
    let prefix = format!("{name}.journal.");
    let mut out = std::collections::BTreeMap::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if let Some(seq) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.insert(seq, entry.path());
        }
    }
    Ok(out)
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

/// The process id in a temporary file's name (`<pid>` or `<pid>.<n>` after the prefix).
fn temp_pid(rest: &str) -> Option<u32> {
    let pid = match rest.split_once('.') {
        Some((pid, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => pid,
        Some(_) => return None,
        None => rest,
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Remove the temporary files a crashed emulator left next to the state file: names
/// `.<state file name>.tmp.<pid>[.<n>]` whose process is gone (or is this one: it has
/// not written any yet). Nothing else is touched (not other files' temporaries, not a
/// running process's). Returns how many were removed.
pub(crate) fn remove_stale_temps(path: &Path) -> io::Result<usize> {
    let (dir, name) = dir_and_name(path)?;
    let prefix = temp_prefix(&name);
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
            .and_then(temp_pid)
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

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write `bytes` to the temporary file `tmp` and sync it.
fn write_temp(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Rename a synced temporary file over `path` and make the rename durable.
fn install(tmp: &Path, path: &Path) -> io::Result<()> {
    let (dir, _) = dir_and_name(path)?;
    fs::rename(tmp, path)?;
    sync_dir(&dir)
}

/// Write `bytes` to `path` atomically and durably (temporary file `tmp`).
fn write_atomic(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let result = write_temp(tmp, bytes).and_then(|()| install(tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// What a start found in the state files.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The world: the snapshot with every journal record after it applied.
    pub(crate) world: World,
    /// Journal records replayed.
    pub(crate) replayed: usize,
    /// Bytes of a torn journal tail dropped (an append the crash cut short).
    pub(crate) torn_bytes: u64,
}

/// Read the state: the snapshot, then every journal after it in order. `Ok(None)` when
/// there is no snapshot yet (journals without a snapshot belong to a state file that
/// was removed: they are ignored and deleted when the new snapshot is written); any
/// other problem is an error, and nothing is changed on disk.
pub(crate) fn load(path: &Path) -> Result<Option<Loaded>, String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let (mut world, first) = decode(&bytes)?;
    let found = journals(path).map_err(|e| format!("list journals: {e}"))?;
    let mut replayed = 0;
    let mut torn_bytes = 0;
    let mut seq = first.max(1);
    let mut expected_end = seq;
    while let Some(jpath) = found.get(&seq) {
        let bytes = fs::read(jpath).map_err(|e| format!("{}: {e}", jpath.display()))?;
        let (records, good) = unframe(&bytes);
        torn_bytes += (bytes.len() - good) as u64;
        for (i, payload) in records.into_iter().enumerate() {
            let changes: Changes = serde_json::from_slice(payload)
                .map_err(|e| format!("{} record {}: {e}", jpath.display(), i + 1))?;
            world
                .apply_changes(changes)
                .map_err(|e| format!("{} record {}: {e}", jpath.display(), i + 1))?;
            replayed += 1;
        }
        seq += 1;
        expected_end = seq;
    }
    if let Some((&later, p)) = found.range(expected_end..).next() {
        return Err(format!(
            "journal {} exists but journal {} before it is missing ({later} > {})",
            p.display(),
            journal_path(path, expected_end).display(),
            expected_end
        ));
    }
    world
        .finish_replay()
        .map_err(|e| format!("the journal replays to an invalid world: {e}"))?;
    Ok(Some(Loaded {
        world,
        replayed,
        torn_bytes,
    }))
}

/// The persistence state kept by a running emulator (behind its own mutex, always taken
/// while holding the world's lock, so records follow the order of the writes).
pub(crate) struct Persister {
    path: PathBuf,
    /// Compact when the journal passes this many bytes (`None`: the larger of
    /// [`MIN_COMPACT_BYTES`] and the snapshot's size).
    compact_after: Option<u64>,
    /// The journal being appended to, its number and its length.
    journal: File,
    seq: u64,
    journal_len: u64,
    /// Identity (device, inode) of the open journal: a journal removed or replaced
    /// under the emulator fails the next write instead of acknowledging it into a file
    /// no start will read.
    journal_id: (u64, u64),
    /// The journal number the installed snapshot names, and its size.
    snapshot_seq: u64,
    snapshot_len: u64,
    /// A failed append could not be cut off again: write a snapshot before anything
    /// else is acknowledged.
    needs_snapshot: bool,
    /// A background compaction is under way.
    compacting: bool,
    /// Numbers background snapshots' temporary files.
    temp_counter: u64,
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persister")
            .field("path", &self.path)
            .field("journal", &self.seq)
            .field("journal_len", &self.journal_len)
            .field("snapshot_len", &self.snapshot_len)
            .finish_non_exhaustive()
    }
}

fn file_id(f: &File) -> io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = f.metadata()?;
        Ok((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        Ok((0, 0))
    }
}

fn path_id(p: &Path) -> io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(p)?;
        Ok((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        fs::metadata(p).map(|_| (0, 0))
    }
}

/// Create journal `seq` (empty) and return it open for appending. In append mode
/// every write lands at the end of the file, also after a failed append was cut off
/// with `set_len`: no hole can open between records.
fn create_journal(path: &Path, seq: u64) -> io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal_path(path, seq))?;
    f.set_len(0)?;
    Ok(f)
}

/// A snapshot being written in the background: already serialized into its temporary
/// file (straight from the world, never whole in memory), not yet synced.
#[derive(Debug)]
pub(crate) struct Compaction {
    len: u64,
    seq: u64,
    tmp: PathBuf,
}

impl Compaction {
    /// Sync the snapshot's temporary file (no lock needed).
    pub(crate) fn write(&self) -> io::Result<()> {
        let r = OpenOptions::new()
            .write(true)
            .open(&self.tmp)
            .and_then(|f| f.sync_all());
        if r.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        r
    }
}

/// Serialize `world` (a snapshot naming journal `journal`) into a new file `tmp`
/// through a buffer, without holding the document in memory; returns its length.
fn write_snapshot_file(tmp: &Path, world: &World, journal: u64) -> io::Result<u64> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    let mut out = io::BufWriter::with_capacity(1 << 16, f);
    serde_json::to_writer(
        &mut out,
        &EnvelopeRef {
            format: FORMAT,
            version: VERSION,
            generation: world.generation(),
            journal,
            world,
        },
    )
    .map_err(io::Error::other)?;
    let f = out.into_inner().map_err(|e| e.into_error())?;
    Ok(f.metadata()?.len())
}

impl Persister {
    /// Take over the state files at start-up: write a snapshot of `world` (the
    /// replayed state, a seed or an empty world) naming a fresh journal, then delete
    /// the journals it replaces. Proves the location is writable.
    pub(crate) fn open(
        path: &Path,
        world: &mut World,
        compact_after: Option<u64>,
    ) -> Result<Persister, String> {
        let err = |e: io::Error| format!("{}: {e}", path.display());
        let old = journals(path).map_err(err)?;
        let seq = old.keys().next_back().map_or(1, |s| s + 1);
        let journal = create_journal(path, seq).map_err(err)?;
        let journal_id = file_id(&journal).map_err(err)?;
        let mut p = Persister {
            path: path.to_path_buf(),
            compact_after,
            journal,
            seq,
            journal_len: 0,
            journal_id,
            snapshot_seq: 0,
            snapshot_len: 0,
            needs_snapshot: false,
            compacting: false,
            temp_counter: 0,
        };
        p.install_snapshot_now(world, seq)?;
        Ok(p)
    }

    /// A temporary file name of this process.
    fn temp(&mut self) -> Result<PathBuf, String> {
        let (dir, name) = dir_and_name(&self.path).map_err(|e| e.to_string())?;
        self.temp_counter += 1;
        Ok(dir.join(format!(
            "{}{}.{}",
            temp_prefix(&name),
            std::process::id(),
            self.temp_counter
        )))
    }

    /// Write a snapshot of `world` naming journal `seq` (already the one appended to),
    /// install it and delete the journals before `seq`.
    fn install_snapshot_now(&mut self, world: &mut World, seq: u64) -> Result<(), String> {
        let bytes = encode(world, seq).map_err(|e| format!("serialize state: {e}"))?;
        let tmp = self.temp()?;
        write_atomic(&tmp, &self.path, &bytes)
            .map_err(|e| format!("write state file {}: {e}", self.path.display()))?;
        self.snapshot_seq = seq;
        self.snapshot_len = bytes.len() as u64;
        self.delete_journals_before(seq);
        world.settle(true);
        Ok(())
    }

    /// Delete the journals a snapshot made useless (failures only cost disk space:
    /// they are deleted again at the next start).
    fn delete_journals_before(&self, seq: u64) {
        if let Ok(found) = journals(&self.path) {
            for (_, p) in found.range(..seq) {
                if let Err(e) = fs::remove_file(p) {
                    tracing::warn!(file = %p.display(), error = %e, "could not delete an old journal");
                }
            }
        }
    }

    /// Start a new journal (number `seq + 1`) for the writes that follow.
    fn rotate(&mut self) -> Result<(), String> {
        let seq = self.seq + 1;
        let err = |e: io::Error| format!("start journal {seq}: {e}");
        let journal = create_journal(&self.path, seq).map_err(err)?;
        let (dir, _) = dir_and_name(&self.path).map_err(err)?;
        sync_dir(&dir).map_err(err)?;
        self.journal_id = file_id(&journal).map_err(err)?;
        self.journal = journal;
        self.seq = seq;
        self.journal_len = 0;
        Ok(())
    }

    /// Write a snapshot now, under the caller's locks (the world was replaced, or a
    /// failed append left the journal in doubt).
    pub(crate) fn snapshot_now(&mut self, world: &mut World) -> Result<(), String> {
        self.rotate()?;
        self.install_snapshot_now(world, self.seq)?;
        self.needs_snapshot = false;
        Ok(())
    }

    /// Save what changed in `world` since the last save, before the write is
    /// acknowledged: a journal record (or a snapshot when the world was replaced). On
    /// success the world's notes are settled; on failure the caller undoes the change.
    pub(crate) fn save(&mut self, world: &mut World) -> Result<(), String> {
        if !world.is_in_files() || self.needs_snapshot {
            return self.snapshot_now(world);
        }
        if !world.has_changes() {
            return Ok(());
        }
        let payload =
            serde_json::to_vec(&world.changes()).map_err(|e| format!("serialize change: {e}"))?;
        if payload.len() > MAX_RECORD {
            return self.snapshot_now(world);
        }
        self.append(&payload)?;
        world.settle(true);
        Ok(())
    }

    /// Append one record and sync it; on failure cut the journal back to where it was.
    fn append(&mut self, payload: &[u8]) -> Result<(), String> {
        let jpath = journal_path(&self.path, self.seq);
        let bytes = frame(payload);
        let result = self
            .journal
            .write_all(&bytes)
            .and_then(|()| self.journal.sync_data())
            .and_then(|()| match path_id(&jpath) {
                Ok(id) if id == self.journal_id => Ok(()),
                Ok(_) => Err(io::Error::other("the journal was replaced")),
                Err(e) => Err(e),
            });
        match result {
            Ok(()) => {
                self.journal_len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                let cut = self
                    .journal
                    .set_len(self.journal_len)
                    .and_then(|()| self.journal.sync_data());
                if cut.is_err() {
                    self.needs_snapshot = true;
                }
                Err(format!("append to {}: {e}", jpath.display()))
            }
        }
    }

    /// Whether the journal passed its limit and no compaction runs.
    pub(crate) fn compaction_due(&self) -> bool {
        let limit = self
            .compact_after
            .unwrap_or_else(|| self.snapshot_len.max(MIN_COMPACT_BYTES));
        !self.compacting && self.journal_len > limit
    }

    /// First step of a background compaction, under the world's read lock and this
    /// lock: serialize the world into the snapshot's temporary file (streamed: the
    /// document is never whole in memory) and start a new journal for the writes that
    /// follow.
    pub(crate) fn begin_compaction(&mut self, world: &World) -> Result<Option<Compaction>, String> {
        if !self.compaction_due() {
            return Ok(None);
        }
        let tmp = self.temp()?;
        let len = match write_snapshot_file(&tmp, world, self.seq + 1) {
            Ok(len) => len,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(format!("write snapshot {}: {e}", tmp.display()));
            }
        };
        if let Err(e) = self.rotate() {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.compacting = true;
        Ok(Some(Compaction {
            len,
            seq: self.seq,
            tmp,
        }))
    }

    /// Last step, under this lock: install the written snapshot unless a newer one was
    /// installed meanwhile, then delete the journals it replaces.
    pub(crate) fn finish_compaction(
        &mut self,
        c: Compaction,
        written: io::Result<()>,
    ) -> Result<(), String> {
        self.compacting = false;
        written.map_err(|e| format!("write snapshot {}: {e}", c.tmp.display()))?;
        if self.snapshot_seq >= c.seq {
            let _ = fs::remove_file(&c.tmp);
            return Ok(());
        }
        if let Err(e) = install(&c.tmp, &self.path) {
            let _ = fs::remove_file(&c.tmp);
            return Err(format!("install snapshot {}: {e}", self.path.display()));
        }
        self.snapshot_seq = c.seq;
        self.snapshot_len = c.len;
        self.delete_journals_before(c.seq);
        Ok(())
    }

    /// The state file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the current journal.
    pub(crate) fn journal_len(&self) -> u64 {
        self.journal_len
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
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    }

    #[test]
    fn a_torn_or_damaged_tail_is_dropped_and_what_precedes_it_kept() {
        let mut bytes = frame(b"one");
        bytes.extend(frame(b"two"));
        let whole = bytes.len();
        let (r, good) = unframe(&bytes);
        assert_eq!((r, good), (vec![&b"one"[..], &b"two"[..]], whole));
        for cut in 1..whole - 11 {
            let (r, good) = unframe(&bytes[..whole - cut]);
            assert_eq!((r.len(), good), (1, 11), "cut {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[whole - 1] ^= 1;
        assert_eq!(unframe(&flipped).0.len(), 1);
        // Zeros (a file extended but not written) are never a record.
        let mut zeros = bytes.clone();
        zeros.extend([0u8; 64]);
        assert_eq!(unframe(&zeros), (vec![&b"one"[..], &b"two"[..]], whole));
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let d = tmpdir("replace");
        let p = d.join("state.json");
        let tmp = d.join(".state.json.tmp.1");
        write_atomic(&tmp, &p, b"one").unwrap();
        write_atomic(&tmp, &p, b"two").unwrap();
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
        let ours_dead_numbered = d.join(".state.json.tmp.4294967295.7");
        let ours_self = d.join(format!(".state.json.tmp.{}", std::process::id()));
        let keep = [
            d.join("state.json"),
            d.join("state.json.journal.1"),
            d.join(".other.json.tmp.4294967295"),
            d.join(".state.json.tmp.abc"),
            d.join(".state.json.tmp."),
            d.join(".state.json.tmp.4294967295."),
            d.join(".state.json.tmp.4294967295.x"),
            d.join("state.json.tmp.4294967295"),
            d.join(".state.json.tmp.1x"),
        ];
        for f in keep
            .iter()
            .chain([&ours_dead, &ours_dead_numbered, &ours_self])
        {
            fs::write(f, b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(&p).unwrap(), 3);
        assert!(!ours_dead.exists() && !ours_self.exists() && !ours_dead_numbered.exists());
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
    fn an_append_cut_off_after_a_failure_leaves_no_hole_before_the_next_record() {
        let d = tmpdir("cut");
        let p = d.join("state.json");
        let mut w = World::new();
        let mut persister = Persister::open(&p, &mut w, None).unwrap();
        let a = w.add_identity("a@example.org");
        persister.save(&mut w).unwrap();
        // What the failure path does after a partial write: cut back to the last
        // record's end.
        persister.journal.write_all(b"half a record").unwrap();
        persister.journal.set_len(persister.journal_len).unwrap();
        let b = w.add_identity("b@example.org");
        persister.save(&mut w).unwrap();
        let loaded = load(&p).unwrap().unwrap();
        assert_eq!((loaded.replayed, loaded.torn_bytes), (2, 0));
        assert_eq!(loaded.world.username(&a), "a@example.org");
        assert_eq!(loaded.world.username(&b), "b@example.org");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn journal_records_replay_over_the_snapshot_and_compaction_keeps_everything() {
        let d = tmpdir("journal");
        let p = d.join("state.json");
        let mut w = World::new();
        let mut persister = Persister::open(&p, &mut w, Some(1)).unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(w.add_identity(&format!("u{i}@example.org")));
            persister.save(&mut w).unwrap();
        }
        assert!(persister.journal_len() > 0 && persister.compaction_due());
        let loaded = load(&p).unwrap().unwrap();
        assert_eq!(loaded.replayed, 5);
        assert_eq!(loaded.world.username(&ids[4]), "u4@example.org");

        // Compaction: snapshot taken, a write goes to the new journal before the
        // snapshot is installed, a crash at either point loses nothing.
        let c = persister.begin_compaction(&w).unwrap().unwrap();
        ids.push(w.add_identity("late@example.org"));
        persister.save(&mut w).unwrap();
        let before_install = load(&p).unwrap().unwrap();
        assert_eq!(before_install.world.username(&ids[5]), "late@example.org");
        let written = c.write();
        persister.finish_compaction(c, written).unwrap();
        let after = load(&p).unwrap().unwrap();
        assert_eq!(after.replayed, 1, "only the write after the snapshot");
        assert_eq!(
            serde_json::to_value(&after.world).unwrap(),
            serde_json::to_value(&w).unwrap()
        );
        assert_eq!(journals(&p).unwrap().len(), 1, "older journals deleted");

        // A torn tail (a crash mid-append) is dropped; a later start resumes.
        let last = journals(&p).unwrap().into_values().next_back().unwrap();
        let mut f = OpenOptions::new().append(true).open(&last).unwrap();
        f.write_all(&frame(b"{\"generation\":")[..10]).unwrap();
        drop(f);
        drop(persister);
        let torn = load(&p).unwrap().unwrap();
        assert!(torn.torn_bytes > 0);
        let mut w2 = torn.world;
        let _p2 = Persister::open(&p, &mut w2, None).unwrap();
        assert_eq!(w2.username(&ids[5]), "late@example.org");
        assert_eq!(journals(&p).unwrap().len(), 1);
        fs::remove_dir_all(&d).unwrap();
    }
}
