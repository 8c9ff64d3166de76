//! The `rolegrid` command: see `rolegrid --help`.

fn main() -> std::process::ExitCode {
    rolegrid::cli::main()
}
