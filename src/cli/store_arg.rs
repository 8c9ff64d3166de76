//! What every command that loads a store takes, declared once: the store's
//! root, whether warnings are accepted, and the limits.

use super::limits::LimitArgs;
use rolegrid::LoadOptions;
use std::path::PathBuf;

/// Which store, and how it is loaded.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The store's root folder (holding `schemas/` and `policies/`).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// Accept validator and schema warnings instead of failing.
    #[arg(long)]
    pub allow_warnings: bool,
    /// Limits on what the store may hold.
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl StoreArg {
    /// How to load the store: warnings denied unless accepted, the limits
    /// given, everything else as [`LoadOptions::default`].
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            deny_warnings: !self.allow_warnings,
            limits: self.limits.limits(),
            ..LoadOptions::default()
        }
    }
}
