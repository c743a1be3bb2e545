//! The README keeps its promises: its test command is the one CI runs, and
//! it lists every error code the emulator can answer with.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The commands of the README's first code block, without comments.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README starts with a sh code block");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_opens_with_the_main_job_and_the_test_command() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[0], "cargo run --release --example quickstart");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/quickstart.rs")
            .is_file()
    );
    let ci = read(".ci/run");
    let last = ci
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap();
    assert_eq!(
        last, commands[1],
        ".ci/run must end by running the README's test command"
    );
}

#[test]
fn readme_lists_every_emulator_error_code() {
    let readme = read("README.md");
    let missing: Vec<_> = groups_emulator::world::ERROR_CODES
        .iter()
        .chain(groups_emulator::world::AUTH_ERROR_CODES)
        .map(|(code, _)| *code)
        .filter(|code| !readme.contains(&format!("`{code}`")))
        .collect();
    assert!(missing.is_empty(), "README does not list: {missing:?}");
}
