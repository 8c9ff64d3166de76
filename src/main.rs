//! The `rolegrid` command: see `rolegrid --help`. A thin layer over the
//! library: arguments, output formats and exit codes.

mod cli;

fn main() {
    cli::main()
}
