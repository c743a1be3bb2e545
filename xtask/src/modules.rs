//! The module-cycle check of `cargo xtask ci`: inside each crate, no two
//! top-level modules may depend on each other, directly or through others.
//!
//! A module depends on another when its code (comments and doc comments
//! left out) names `crate::other`, or `super::other` from a child of the
//! crate root. A module directory counts as one module with its children.
//! The check reads the sources; it needs no compiler.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level module a source file belongs to (`crate` for the root).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    if matches!(name.as_str(), "lib" | "main") {
        "crate".to_owned()
    } else {
        name
    }
}

/// The code of `text` without `//` comments (string contents may contain
/// `//`, as in URLs: that only hides names after them, never adds any).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules named as `crate::name` in `code`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `groups_crate::`
        }
        let name: String = code[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The cycles among the top-level modules of the crate whose sources are in
/// `src`, each as the modules on it.
pub fn cycles(src: &Path) -> Result<Vec<Vec<String>>, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let from = top_module(src, file);
        let deps = graph.entry(from.clone()).or_default();
        for name in named_modules(&code_only(&text)) {
            if name != from {
                deps.insert(name);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    // A module is on a cycle with each module it reaches that reaches it back.
    let reach = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start.to_owned()];
        while let Some(m) = todo.pop() {
            for d in graph.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<String, BTreeSet<String>> =
        modules.iter().map(|m| (m.clone(), reach(m))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for m in &modules {
        if m == "crate" || !reached[m].contains(m) {
            continue;
        }
        let mut component: Vec<String> = modules
            .iter()
            .filter(|o| *o != "crate" && reached[m].contains(*o) && reached[*o].contains(m))
            .cloned()
            .collect();
        component.sort();
        found.insert(component);
    }
    Ok(found.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_code_not_comments() {
        let code =
            code_only("use crate::a::X; // crate::b\n/// [`crate::c`]\nlet y = crate::d::f();");
        let names: Vec<String> = named_modules(&code).into_iter().collect();
        assert_eq!(names, ["a", "d"]);
    }

    #[test]
    fn a_cycle_is_found_and_a_chain_is_not() {
        let dir = std::env::temp_dir().join(format!("xtask-cycles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("c")).unwrap();
        std::fs::write(dir.join("lib.rs"), "mod a; mod b; mod c;").unwrap();
        std::fs::write(dir.join("a.rs"), "use crate::b::X;").unwrap();
        std::fs::write(dir.join("b.rs"), "use crate::c::Y;").unwrap();
        std::fs::write(dir.join("c/mod.rs"), "mod inner;").unwrap();
        std::fs::write(dir.join("c/inner.rs"), "pub struct Y;").unwrap();
        assert!(cycles(&dir).unwrap().is_empty());
        std::fs::write(dir.join("c/inner.rs"), "use crate::a::Z;").unwrap();
        assert_eq!(cycles(&dir).unwrap(), vec![vec!["a", "b", "c"]]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
