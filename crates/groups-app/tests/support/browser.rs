//! A real headless browser for tests: Debian's `chromium`, driven through
//! `chromedriver` with the fantoccini WebDriver client.
//!
//! [`find`] locates both executables (`$GROUPS_CHROMIUM` / `$GROUPS_CHROMEDRIVER`,
//! else `PATH`); `cargo xtask ci` installs them and sets
//! `GROUPS_REQUIRE_BROWSER=1`, which makes a missing browser a failure instead
//! of a skip. [`Chromedriver::start`] runs the driver on a free 127.0.0.1 port in
//! a process group of its own; dropping it (also while a failing test unwinds)
//! ends that group by its id, chromium included, and a guard in the group ends
//! it too if the test process dies without unwinding. [`Chromedriver::session`] opens a
//! headless chromium with a throw-away profile.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// The two executables the browser tests need.
#[derive(Debug, Clone)]
pub struct BrowserPaths {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn locate(var: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if executable(&p) {
            Ok(p)
        } else {
            Err(format!("{var}={} is not an executable file", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| executable(p))
        .ok_or_else(|| {
            format!(
                "{name} is not on PATH (install Debian's chromium and chromium-driver, \
                 `cargo xtask browser` does, or set {var})"
            )
        })
}

/// Both executables, or why not.
pub fn find() -> Result<BrowserPaths, String> {
    Ok(BrowserPaths {
        chromium: locate("GROUPS_CHROMIUM", "chromium")?,
        chromedriver: locate("GROUPS_CHROMEDRIVER", "chromedriver")?,
    })
}

/// The browser, or `None` after printing why the test is skipped. With
/// `GROUPS_REQUIRE_BROWSER=1` (as `cargo xtask ci` sets it) or `CI` set, a
/// missing browser panics: the test fails rather than passing without having
/// run.
pub fn require_or_skip(test: &str) -> Option<BrowserPaths> {
    match find() {
        Ok(p) => Some(p),
        Err(why) if required() => {
            panic!(
                "{test}: GROUPS_REQUIRE_BROWSER=1 or CI is set, but the browser is missing: {why}"
            )
        }
        Err(why) => {
            println!("{test}: skipped (set GROUPS_REQUIRE_BROWSER=1 to fail instead): {why}");
            None
        }
    }
}

/// Whether a missing browser is a failure: `GROUPS_REQUIRE_BROWSER=1`, or `CI`
/// set to `true` or `1` (as CI services set it).
fn required() -> bool {
    std::env::var("GROUPS_REQUIRE_BROWSER").as_deref() == Ok("1")
        || std::env::var("CI").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The shell script around chromedriver (`$1` the driver, `$2` the port, `$3`
/// the test's pid): it waits while both live, then ends its process group.
const GUARD: &str = r#"
"$1" --port="$2" --allowed-ips=127.0.0.1 </dev/null >/dev/null 2>&1 &
driver=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$driver" 2>/dev/null; do sleep 0.2; done
kill -TERM 0
"#;

/// A running chromedriver; dropping it ends its process group.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    profiles: PathBuf,
}

impl Chromedriver {
    /// Start chromedriver on a free loopback port and wait (at most 10 s) until
    /// its `/status` says it is ready.
    pub async fn start(paths: &BrowserPaths) -> Result<Chromedriver, String> {
        let mut last = String::new();
        // A port found free can be taken before chromedriver binds it: try a few.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free port: {e}"))?
                .port();
            let profiles = std::env::temp_dir()
                .join(format!("groups-app-browser-{}-{port}", std::process::id()));
            let child = {
                use std::os::unix::process::CommandExt;
                // A shell in a process group of its own runs chromedriver and
                // ends the group (chromedriver and the chromium it starts)
                // when this process or chromedriver is gone: even a test
                // killed before its destructors run leaves nothing behind.
                Command::new("sh")
                    .arg("-c")
                    .arg(GUARD)
                    .arg("chromedriver-guard")
                    .arg(&paths.chromedriver)
                    .arg(port.to_string())
                    .arg(std::process::id().to_string())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .process_group(0)
                    .spawn()
                    .map_err(|e| format!("cannot start {}: {e}", paths.chromedriver.display()))?
            };
            let mut driver = Chromedriver {
                child,
                port,
                chromium: paths.chromium.clone(),
                profiles,
            };
            match driver.wait_ready().await {
                Ok(()) => return Ok(driver),
                Err(e) => last = e,
            }
        }
        Err(format!("chromedriver did not become ready: {last}"))
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited: {status}"));
            }
            if let Ok(body) = http_get(self.port, "/status").await
                && body.contains("\"ready\":true")
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("no ready /status within 10 s".to_owned())
    }

    /// A new headless chromium session with a fresh profile directory.
    pub async fn session(&self) -> Result<Client, String> {
        let profile = self.profiles.join(format!(
            "profile-{}",
            std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&profile).map_err(|e| format!("profile dir: {e}"))?;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless=new",
                    // The test may run as root (CI does), where chromium's
                    // sandbox cannot start.
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        tokio::time::timeout(Duration::from_secs(30), builder.connect(&self.url()))
            .await
            .map_err(|_| "no browser session within 30 s".to_owned())?
            .map_err(|e| format!("cannot open a browser session: {e}"))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // End the whole process group (chromedriver and the chromium processes
        // it started) by its id, then reap the guard shell.
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profiles);
    }
}

/// A tiny HTTP/1.1 GET on loopback (for chromedriver's `/status`).
async fn http_get(port: u16, path: &str) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .map_err(|_| "connect timeout".to_owned())?
    .map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    // chromedriver may keep the connection open: read the head, then as many
    // body bytes as its Content-Length says.
    let read = async {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
            out.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&out).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                });
                if n == 0 || length.is_some_and(|len| body.len() >= len) {
                    return Ok(body.to_owned());
                }
            }
            if n == 0 || out.len() > 1 << 20 {
                return Err("incomplete answer".to_owned());
            }
        }
    };
    let body: String = tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .map_err(|_| "read timeout".to_owned())??;
    Ok(body.replace([' ', '\n', '\r'], ""))
}

/// On the emulator's authorize page at `url`: pick the identity `identity_id`
/// and press Allow, as a person would. Returns once the button is pressed (the
/// browser follows the redirect on its own).
pub async fn approve(browser: &Client, url: &str, identity_id: &str) -> Result<(), String> {
    decide(browser, url, identity_id, "allow").await
}

/// Like [`approve`], pressing Deny.
pub async fn deny(browser: &Client, url: &str, identity_id: &str) -> Result<(), String> {
    decide(browser, url, identity_id, "deny").await
}

async fn decide(
    browser: &Client,
    url: &str,
    identity_id: &str,
    decision: &str,
) -> Result<(), String> {
    browser
        .goto(url)
        .await
        .map_err(|e| format!("cannot open the authorize URL: {e}"))?;
    let radio = format!("input[type=radio][name=identity][value=\"{identity_id}\"]");
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&radio))
        .await
        .map_err(|e| format!("the authorize page lists no identity {identity_id}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("cannot pick the identity: {e}"))?;
    let button = format!("button[name=decision][value={decision}]");
    browser
        .find(Locator::Css(&button))
        .await
        .map_err(|e| format!("the authorize page has no {decision} button: {e}"))?
        .click()
        .await
        .map_err(|e| format!("cannot press {decision}: {e}"))
}
