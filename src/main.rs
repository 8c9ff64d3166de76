//! The `rolegrid` command: see `rolegrid --help`.

fn main() {
    rolegrid::cli::main()
}
