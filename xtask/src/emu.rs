//! What `kill-cycles` and `soak` share: the release emulator binary started with a
//! state file, and a minimal HTTP/1.1 keep-alive client over `std::net` (xtask has no
//! dependencies). Loopback only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Build the release emulator and return its path (honours `CARGO_TARGET_DIR`).
pub fn build_emulator(root: &Path) -> Result<PathBuf, String> {
    crate::step(
        "release build of the emulator",
        root,
        "cargo",
        &["build", "--release", "--locked", "-p", "groups-emulator"],
        &[],
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
    Ok(target
        .join("release")
        .join(format!("groups-emulator{}", std::env::consts::EXE_SUFFIX)))
}

/// A running emulator process; killed (SIGKILL) and reaped when dropped.
pub struct Process {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub authority: String,
}

impl Process {
    /// Start `serve --port 0` with `args`; waits for its `listening on` line.
    pub fn start(bin: &Path, args: &[&str]) -> Result<Process, String> {
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0"])
            .args(args)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let read = lines.read_line(&mut first);
        let authority = first
            .trim()
            .strip_prefix("listening on http://")
            .map(|s| s.trim_end_matches('/').to_owned());
        let Some(authority) = authority.filter(|_| read.is_ok()) else {
            let _ = child.kill();
            let status = child.wait().map_err(|e| e.to_string())?;
            return Err(format!("the emulator did not start ({status}): {first:?}"));
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while lines.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Ok(Process { child, authority })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// How it ended, if it did.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kill without warning (SIGKILL) and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One answer.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    authority: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    pub fn new(authority: &str) -> Conn {
        Conn {
            authority: authority.to_owned(),
            stream: None,
        }
    }

    fn connect(&mut self) -> Result<&mut BufReader<TcpStream>, String> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.authority).map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(BufReader::new(s));
        }
        self.stream
            .as_mut()
            .ok_or_else(|| "no connection".to_owned())
    }

    /// Send one request; an error means no complete answer arrived (the connection is
    /// dropped and the next call opens a new one).
    pub fn call(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let reused = self.stream.is_some();
        let mut r = self.call_once(method, path, token, body);
        if r.is_err() {
            self.stream = None;
            // A kept-alive connection the server closed before reading the request
            // (an ordinary race of HTTP/1.1): a GET is sent again on a new one.
            if reused && method == "GET" {
                r = self.call_once(method, path, token, body);
                if r.is_err() {
                    self.stream = None;
                }
            }
        }
        r.map_err(|e| format!("{method} {path}: {e}"))
    }

    fn call_once(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        let authority = self.authority.clone();
        let s = self.connect()?;
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method != "GET" {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        let mut line = String::new();
        if s.read_line(&mut line).map_err(|e| format!("read: {e}"))? == 0 {
            return Err("connection closed".into());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut length = None;
        let mut close = false;
        loop {
            line.clear();
            if s.read_line(&mut line).map_err(|e| format!("read: {e}"))? == 0 {
                return Err("connection closed in the headers".into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                if k == "content-length" {
                    length = v.trim().parse::<usize>().ok();
                } else if k == "connection" && v.trim().eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let length = length.ok_or("an answer without Content-Length")?;
        let mut bytes = vec![0; length];
        s.read_exact(&mut bytes)
            .map_err(|e| format!("read body: {e}"))?;
        if close {
            self.stream = None;
        }
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

/// A small deterministic PRNG (xorshift64*), seeded by the caller.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A seed from the clock (printed by the commands so a run can be repeated).
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// A deterministic identity id.
pub fn identity(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// The value of `"key": "…"` (a string) everywhere it occurs in a JSON text, in order.
/// Enough for the emulator's answers (ids, names, statuses), without a JSON parser.
pub fn string_values<'a>(json: &'a str, key: &str) -> Vec<&'a str> {
    let needle = format!("\"{key}\":");
    let mut out = Vec::new();
    let mut rest = json;
    while let Some(i) = rest.find(&needle) {
        rest = rest[i + needle.len()..].trim_start();
        if let Some(after) = rest.strip_prefix('"')
            && let Some(end) = after.find('"')
        {
            out.push(&after[..end]);
            rest = &after[end..];
        }
    }
    out
}

/// `(identity_id, status)` of every membership in a group document (each membership
/// renders its `identity_id` before its `status`).
pub fn member_statuses(json: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = json;
    while let Some(i) = rest.find("\"identity_id\":") {
        rest = &rest[i..];
        let id = string_values(rest, "identity_id")
            .first()
            .map(|s| (*s).to_owned());
        let status = string_values(rest, "status")
            .first()
            .map(|s| (*s).to_owned());
        if let (Some(id), Some(status)) = (id, status) {
            out.push((id, status));
        }
        rest = &rest["\"identity_id\":".len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_values_finds_every_occurrence() {
        let j = r#"{"id": "a", "x": {"id":"b"}, "id": 3, "name": "n"}"#;
        assert_eq!(string_values(j, "id"), ["a", "b"]);
        assert_eq!(string_values(j, "name"), ["n"]);
        assert!(string_values(j, "nope").is_empty());
    }

    #[test]
    fn member_statuses_pairs_each_identity_with_its_status() {
        let j = r#"{"memberships":[{"group_id":"g","identity_id":"a","username":"u","role":"admin","status":"active"},{"identity_id":"b","status":"removed"}]}"#;
        assert_eq!(
            member_statuses(j),
            [
                ("a".into(), "active".into()),
                ("b".into(), "removed".into())
            ]
        );
    }

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
    }
}
