//! The store a command reads: one `--root` for every command.

use std::path::PathBuf;

/// Which store.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The store's root folder (holding `schemas/` and `policies/`).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
}
