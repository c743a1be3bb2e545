//! The Python virtual environment used by the official-client conformance test
//! (`tests/python_conformance.rs` runs `tests/python/conformance.py` with it).
//!
//! [`ensure_venv`] creates `<root>/.venv` with `python3 -m venv` when it is missing and
//! installs `tests/python/requirements.txt` into it. A stamp file inside the venv records
//! a hash of the requirements, so a second call with unchanged requirements starts no
//! process at all and returns at once.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Requirements file, relative to the workspace root.
pub const REQUIREMENTS: &str = "tests/python/requirements.txt";
/// Virtual environment directory, relative to the workspace root.
pub const VENV_DIR: &str = ".venv";
/// Stamp file inside the venv: the hash of the requirements last installed.
const STAMP: &str = ".groups-requirements.stamp";

/// Make sure `<root>/.venv` exists and has `tests/python/requirements.txt` installed.
///
/// Returns the venv's Python interpreter. Idempotent: when the stamp matches the
/// current requirements and the interpreter exists, nothing is run. The base
/// interpreter is `$GROUPS_BASE_PYTHON` if set, else `python3`, else `python`.
pub fn ensure_venv(root: &Path) -> Result<PathBuf, String> {
    let requirements_path = root.join(REQUIREMENTS);
    let requirements = fs::read(&requirements_path)
        .map_err(|e| format!("cannot read {}: {e}", requirements_path.display()))?;
    let venv = root.join(VENV_DIR);
    let python = venv_python(&venv);
    let stamp_path = venv.join(STAMP);
    let wanted = stamp_text(&requirements);

    if python.is_file() && fs::read_to_string(&stamp_path).ok().as_deref() == Some(wanted.as_str())
    {
        return Ok(python);
    }

    if !python.is_file() {
        create_venv(&venv)?;
        if !python.is_file() {
            return Err(format!(
                "`python -m venv` succeeded but {} does not exist",
                python.display()
            ));
        }
    }

    // A stale stamp must not survive a failed install.
    match fs::remove_file(&stamp_path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", stamp_path.display())),
    }
    eprintln!("xtask: installing {} into {}", REQUIREMENTS, venv.display());
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "-r",
    ])
    .arg(&requirements_path)
    .current_dir(root);
    check(
        run(&mut pip)?,
        "pip install -r tests/python/requirements.txt",
    )?;

    fs::write(&stamp_path, wanted)
        .map_err(|e| format!("cannot write {}: {e}", stamp_path.display()))?;
    Ok(python)
}

/// The interpreter inside a venv directory.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Create the venv with the first base interpreter that works.
fn create_venv(venv: &Path) -> Result<(), String> {
    let candidates: Vec<String> = match std::env::var("GROUPS_BASE_PYTHON") {
        Ok(p) if !p.is_empty() => vec![p],
        _ => vec!["python3".to_owned(), "python".to_owned()],
    };
    let mut tried = Vec::new();
    for base in &candidates {
        eprintln!("xtask: creating {} with `{base} -m venv`", venv.display());
        let mut cmd = Command::new(base);
        cmd.args(["-m", "venv"]).arg(venv);
        match cmd.output() {
            Ok(out) => return check(out, &format!("{base} -m venv")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => tried.push(base.clone()),
            Err(e) => return Err(format!("cannot start `{base}`: {e}")),
        }
    }
    Err(format!(
        "no Python interpreter found (tried {}); install Python 3 or set GROUPS_BASE_PYTHON",
        tried.join(", ")
    ))
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    cmd.output()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))
}

fn check(out: Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{what}` failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Stamp contents for a requirements file: a stable 64-bit FNV-1a hash, in hex.
fn stamp_text(requirements: &[u8]) -> String {
    format!("fnv1a64:{:016x}\n", fnv1a64(requirements))
}

/// FNV-1a, 64 bit. Stable across Rust versions (unlike `DefaultHasher`).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stamp_changes_with_requirements() {
        assert_eq!(
            stamp_text(b"globus-sdk==4.10.0\n"),
            stamp_text(b"globus-sdk==4.10.0\n")
        );
        assert_ne!(
            stamp_text(b"globus-sdk==4.10.0\n"),
            stamp_text(b"globus-sdk==4.9.1\n")
        );
    }

    #[test]
    fn up_to_date_venv_runs_nothing() {
        // A fake venv whose "python" is not runnable: ensure_venv must return it
        // without starting any process because the stamp matches.
        let root = std::env::temp_dir().join(format!("xtask-venv-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("tests/python")).unwrap();
        let reqs = b"globus-sdk==4.10.0\n";
        fs::write(root.join(REQUIREMENTS), reqs).unwrap();
        let python = venv_python(&root.join(VENV_DIR));
        fs::create_dir_all(python.parent().unwrap()).unwrap();
        fs::write(&python, b"not a real interpreter").unwrap();
        fs::write(root.join(VENV_DIR).join(STAMP), stamp_text(reqs)).unwrap();

        assert_eq!(ensure_venv(&root), Ok(python.clone()));

        // With a stale stamp it has to run pip through the fake interpreter, which fails.
        fs::write(
            root.join(VENV_DIR).join(STAMP),
            "fnv1a64:0000000000000000\n",
        )
        .unwrap();
        assert!(ensure_venv(&root).is_err());
        assert!(
            !root.join(VENV_DIR).join(STAMP).exists(),
            "stale stamp removed"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_requirements_is_an_error() {
        let root = std::env::temp_dir().join(format!("xtask-venv-none-{}", std::process::id()));
        let err = ensure_venv(&root).unwrap_err();
        assert!(err.contains("requirements.txt"), "{err}");
    }
}
