//! Servers run as child processes: started, waited for (their first
//! `listening on http://HOST:PORT/` line), and always stopped (on drop too).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server process.
pub struct ServerProcess {
    name: String,
    child: Option<Child>,
    /// Base URL with a trailing slash, e.g. `http://127.0.0.1:4321/`.
    pub base_url: String,
    /// `127.0.0.1:PORT`.
    pub authority: String,
}

/// Where the listening line is printed.
#[derive(Clone, Copy)]
pub enum Banner {
    /// On stdout.
    Stdout,
    /// On stderr.
    Stderr,
}

impl ServerProcess {
    /// Start `cmd` and wait until it prints a line containing
    /// `listening on http://127.0.0.1:PORT`.
    pub fn start(name: &str, mut cmd: Command, banner: Banner) -> Result<Self, String> {
        cmd.stdin(Stdio::null());
        match banner {
            Banner::Stdout => cmd.stdout(Stdio::piped()).stderr(Stdio::piped()),
            Banner::Stderr => cmd.stdout(Stdio::null()).stderr(Stdio::piped()),
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{name}: cannot start {:?}: {e}", cmd.get_program()))?;
        register(child.id());
        let (tx, rx) = mpsc::channel::<Result<String, String>>();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // The reader threads keep draining the pipes after the banner so the
        // server never blocks on a full pipe; stderr is kept for errors.
        let (err_tx, err_rx) = mpsc::channel::<String>();
        match banner {
            Banner::Stdout => {
                spawn_banner_reader(stdout, tx.clone());
                spawn_drain(stderr, Some(err_tx));
            }
            Banner::Stderr => {
                spawn_banner_reader_stderr(stderr, tx.clone(), err_tx);
            }
        }
        drop(tx);
        let mut server = ServerProcess {
            name: name.to_owned(),
            child: Some(child),
            base_url: String::new(),
            authority: String::new(),
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => {
                let authority = parse_listening(&line)
                    .ok_or_else(|| format!("{name}: unexpected banner {line:?}"))?;
                server.base_url = format!("http://{authority}/");
                server.authority = authority;
                Ok(server)
            }
            other => {
                let status = server.stop();
                thread::sleep(Duration::from_millis(50));
                let stderr: Vec<String> = err_rx.try_iter().collect();
                Err(format!(
                    "{name} did not start ({}; exit {status:?}); stderr:\n{}",
                    match other {
                        Ok(Err(e)) => e,
                        Err(_) => "no listening line".to_owned(),
                        Ok(Ok(_)) => unreachable!(),
                    },
                    stderr.join("\n")
                ))
            }
        }
    }

    /// Start a Rust binary with arguments.
    pub fn start_bin(name: &str, program: &Path, args: &[&str]) -> Result<Self, String> {
        let mut cmd = Command::new(program);
        cmd.args(args).env("RUST_LOG", "warn");
        Self::start(name, cmd, Banner::Stdout)
    }

    /// Stop the process (SIGKILL; the servers keep no state we need) and reap it.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = child.kill();
        let status = child.wait().ok();
        unregister(child.id());
        status
    }

    /// Whether the process is still alive (a crashed server is a breakage).
    pub fn check_alive(&mut self) -> Result<(), String> {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Err(format!("{} exited unexpectedly: {status}", self.name));
        }
        Ok(())
    }
}

impl ServerProcess {
    /// Pin every thread of the server to `cpus` (e.g. `"0"`, `"0,1"`).
    pub fn pin(&self, cpus: &str) -> Result<(), String> {
        match &self.child {
            Some(child) => pin_all_threads(child.id(), cpus),
            None => Err(format!("{} is not running", self.name)),
        }
    }
}

/// Whether `taskset` (util-linux) can pin processes here.
pub fn can_pin() -> bool {
    std::process::Command::new("taskset")
        .args(["-p", &std::process::id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `taskset -a -p -c CPUS PID`: pin every thread of a process.
pub fn pin_all_threads(pid: u32, cpus: &str) -> Result<(), String> {
    let out = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .output()
        .map_err(|e| format!("taskset: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -p {pid}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Pin the calling thread (and threads it creates afterwards) to `cpus`.
pub fn pin_current_thread(cpus: &str) -> Result<(), String> {
    let link =
        std::fs::read_link("/proc/thread-self").map_err(|e| format!("/proc/thread-self: {e}"))?;
    let tid = link
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no thread id")?
        .to_owned();
    let out = std::process::Command::new("taskset")
        .args(["-p", "-c", cpus, &tid])
        .output()
        .map_err(|e| format!("taskset: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "taskset -p {tid}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Servers started and not yet stopped, for [`kill_registered`].
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

fn register(pid: u32) {
    if let Ok(mut v) = RUNNING.lock() {
        v.push(pid);
    }
}

fn unregister(pid: u32) {
    if let Ok(mut v) = RUNNING.lock() {
        v.retain(|p| *p != pid);
    }
}

/// Kill (SIGKILL, by pid) every server this process started and has not
/// stopped: the watchdog's last act before exiting.
pub fn kill_registered() {
    let pids: Vec<u32> = RUNNING.lock().map(|v| v.clone()).unwrap_or_default();
    for pid in pids {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
}

/// `127.0.0.1:PORT` from a line containing `listening on http://127.0.0.1:PORT...`.
fn parse_listening(line: &str) -> Option<String> {
    let at = line.find("listening on http://")?;
    let rest = &line[at + "listening on http://".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = authority.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    if host.is_empty() {
        return None;
    }
    Some(authority.to_owned())
}

fn spawn_banner_reader(stdout: Option<ChildStdout>, tx: mpsc::Sender<Result<String, String>>) {
    let Some(stdout) = stdout else { return };
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut sent = false;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !sent && line.contains("listening on http://") {
                        let _ = tx.send(Ok(line.trim().to_owned()));
                        sent = true;
                    }
                }
            }
        }
        if !sent {
            let _ = tx.send(Err("stdout closed before the listening line".to_owned()));
        }
    });
}

fn spawn_banner_reader_stderr(
    stderr: Option<ChildStderr>,
    tx: mpsc::Sender<Result<String, String>>,
    err_tx: mpsc::Sender<String>,
) {
    let Some(stderr) = stderr else { return };
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut sent = false;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !sent && line.contains("listening on http://") {
                        let _ = tx.send(Ok(line.trim().to_owned()));
                        sent = true;
                    } else {
                        let _ = err_tx.send(line.trim_end().to_owned());
                    }
                }
            }
        }
        if !sent {
            let _ = tx.send(Err("stderr closed before the listening line".to_owned()));
        }
    });
}

fn spawn_drain<R: Read + Send + 'static>(pipe: Option<R>, lines: Option<mpsc::Sender<String>>) {
    let Some(pipe) = pipe else { return };
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Some(tx) = &lines {
                        let _ = tx.send(line.trim_end().to_owned());
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::parse_listening;

    #[test]
    fn parses_the_banners_of_all_three_servers() {
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:4321/").as_deref(),
            Some("127.0.0.1:4321")
        );
        assert_eq!(
            parse_listening("fauxbus 0.4.0 listening on http://127.0.0.1:9800 — imitating")
                .as_deref(),
            Some("127.0.0.1:9800")
        );
        assert_eq!(parse_listening("listening on http://127.0.0.1:x/"), None);
        assert_eq!(parse_listening("nothing here"), None);
    }
}
