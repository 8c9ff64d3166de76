//! Limits on what a store may hold, so hostile or broken files fail with a
//! clear error instead of exhausting memory or the stack.

/// Limits applied while loading a store. All are configurable.
///
/// ```
/// let limits = rolegrid::Limits { max_file_bytes: 1 << 20, ..Default::default() };
/// assert_eq!(limits.max_nesting, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file rolegrid reads, in bytes (default 16 MiB).
    pub max_file_bytes: u64,
    /// Deepest bracket nesting allowed in a policy file (default 128).
    pub max_nesting: usize,
    /// Most entities one product may hold (default 1,000,000).
    pub max_entities: usize,
    /// Most files one product folder may hold (default 10,000).
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 16 * 1024 * 1024,
            max_nesting: 128,
            max_entities: 1_000_000,
            max_files: 10_000,
        }
    }
}
