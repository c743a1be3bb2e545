//! The headless browser used by the real-browser login test
//! (`crates/groups-app/tests/browser.rs`): Debian's `chromium` and its WebDriver
//! server `chromedriver` (package `chromium-driver`, built from the same sources, so
//! the two versions always match).
//!
//! [`ensure_browser`] finds both on `PATH` (or at `$GROUPS_CHROMIUM` /
//! `$GROUPS_CHROMEDRIVER` when set) and, when either is missing, installs the two
//! packages with `apt-get` (non-interactive; through `sudo -n` when not running as
//! root), then checks that both start. A second call with both present starts only the
//! two version checks.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian packages that provide the browser and its driver.
pub const PACKAGES: [&str; 2] = ["chromium", "chromium-driver"];

/// Where the browser and its WebDriver server are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    /// The `chromium` executable.
    pub chromium: PathBuf,
    /// The `chromedriver` executable.
    pub chromedriver: PathBuf,
}

/// Find `chromium` and `chromedriver`, installing them with `apt-get` when missing.
pub fn ensure_browser() -> Result<Browser, String> {
    let browser = match find() {
        Some(b) => b,
        None => {
            install()?;
            find().ok_or_else(|| {
                format!(
                    "`apt-get install {}` succeeded but chromium or chromedriver is still not on PATH",
                    PACKAGES.join(" ")
                )
            })?
        }
    };
    for exe in [&browser.chromium, &browser.chromedriver] {
        version(exe)?;
    }
    Ok(browser)
}

/// Both executables, if both are found.
fn find() -> Option<Browser> {
    let path = env::var_os("PATH").unwrap_or_default();
    Some(Browser {
        chromium: locate("GROUPS_CHROMIUM", "chromium", &path)?,
        chromedriver: locate("GROUPS_CHROMEDRIVER", "chromedriver", &path)?,
    })
}

/// `$var` when it names an executable file, else `name` searched on `path`.
fn locate(var: &str, name: &str, path: &OsString) -> Option<PathBuf> {
    match env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| is_executable(p)),
        _ => find_in_path(name, path),
    }
}

/// The first executable file called `name` in the directories of `path`.
fn find_in_path(name: &str, path: &OsString) -> Option<PathBuf> {
    env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// The commands that install the packages: `apt-get update`, then
/// `apt-get install -y --no-install-recommends chromium chromium-driver`, each
/// prefixed with `sudo -n` unless running as root.
fn install_commands(root: bool) -> Vec<Vec<String>> {
    let prefix: Vec<String> = if root {
        Vec::new()
    } else {
        vec!["sudo".into(), "-n".into()]
    };
    let mut update = prefix.clone();
    update.extend(["apt-get", "update", "-q"].map(String::from));
    let mut add = prefix;
    add.extend(["apt-get", "install", "-y", "-q", "--no-install-recommends"].map(String::from));
    add.extend(PACKAGES.map(String::from));
    vec![update, add]
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn install() -> Result<(), String> {
    if find_in_path("apt-get", &env::var_os("PATH").unwrap_or_default()).is_none() {
        return Err(format!(
            "chromium and chromedriver are needed by the browser test and apt-get is not \
             available to install them: install {} (or set GROUPS_CHROMIUM and \
             GROUPS_CHROMEDRIVER to the executables)",
            PACKAGES.join(" and ")
        ));
    }
    for argv in install_commands(is_root()) {
        let line = argv.join(" ");
        eprintln!("xtask: {line}");
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot start `{line}`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{line}` failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// `<exe> --version`, which must succeed (a broken install is found here, not in
/// the middle of the tests).
fn version(exe: &Path) -> Result<String, String> {
    let out = Command::new(exe)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`{} --version` failed ({}): {}",
            exe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_only_when_not_root() {
        let as_root = install_commands(true);
        assert_eq!(as_root[0], ["apt-get", "update", "-q"]);
        assert_eq!(
            as_root[1],
            [
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "chromium",
                "chromium-driver"
            ]
        );
        for (user, root) in install_commands(false).iter().zip(&as_root) {
            assert_eq!(user[..2], ["sudo", "-n"]);
            assert_eq!(user[2..], root[..]);
        }
    }

    #[cfg(unix)]
    #[test]
    fn finds_only_executable_files_in_path_order() {
        use std::os::unix::fs::PermissionsExt;
        let base = env::temp_dir().join(format!("xtask-browser-test-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        // Not executable in the first directory: skipped.
        std::fs::write(a.join("chromedriver"), b"").unwrap();
        std::fs::write(b.join("chromedriver"), b"").unwrap();
        std::fs::set_permissions(
            b.join("chromedriver"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        // A directory of that name is not an executable either.
        std::fs::create_dir_all(a.join("chromium")).unwrap();
        let path = env::join_paths([&a, &b]).unwrap();
        assert_eq!(
            find_in_path("chromedriver", &path),
            Some(b.join("chromedriver"))
        );
        assert_eq!(find_in_path("chromium", &path), None);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_failing_version_check_is_an_error() {
        let err = version(Path::new("/nonexistent/chromium")).unwrap_err();
        assert!(err.contains("/nonexistent/chromium"), "{err}");
    }
}
