//! The `rolegrid` command: see `rolegrid --help`. A thin layer over the
//! library: arguments, output formats and exit codes.

mod cli;

/// mimalloc: `serve` answers each request with many small allocations (JSON
/// values, uids, the answer); with glibc's allocator a decision over HTTP
/// took about 2 us more CPU (14.5 against 12.3 us per request).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    cli::main()
}
