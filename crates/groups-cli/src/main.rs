//! `globus-groups`: the command-line tool for Globus Groups. Everything
//! lives in the library (`groups_cli`); this is the process entry point.

fn main() -> std::process::ExitCode {
    groups_cli::main()
}
