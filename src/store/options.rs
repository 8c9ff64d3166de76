//! How a load treats what it reads.

use super::policies::PolicyIds;
use crate::limits::Limits;

/// How a load treats what it reads.
///
/// ```
/// let options = rolegrid::LoadOptions::default();
/// assert!(options.deny_warnings);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Validator and schema warnings fail the load (default `true`).
    pub deny_warnings: bool,
    /// Validate policies against the schema in strict mode (default `true`).
    /// Turned off only to reproduce Cedar's own behaviour on policies that do
    /// not validate (the schema still types entities, context and requests).
    pub validate_policies: bool,
    /// How policies get their ids.
    pub policy_ids: PolicyIds,
    /// Size, nesting and count limits.
    pub limits: Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            deny_warnings: true,
            validate_policies: true,
            policy_ids: PolicyIds::RequireAnnotation,
            limits: Limits::default(),
        }
    }
}
