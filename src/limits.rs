//! Limits on what a store may hold, so hostile or broken files fail with a
//! clear `limit` problem instead of exhausting memory, time or the stack.
//!
//! Every limit is a field of [`Limits`], carried by
//! [`LoadOptions::limits`](crate::LoadOptions). The defaults are generous for
//! hand-written and generated stores alike; raise one when a real store needs
//! it. Two limits have a ceiling that no setting lifts, because past it Cedar's
//! recursive parser, validator or the code that drops a policy can overflow a
//! thread's stack: [`Limits::NESTING_CEILING`] and
//! [`Limits::EXPRESSION_DEPTH_CEILING`].

/// Limits applied while loading a store. All are configurable.
///
/// ```
/// let limits = rolegrid::Limits { max_file_bytes: 1 << 20, ..Default::default() };
/// assert_eq!(limits.max_nesting, 128);
/// assert_eq!(limits.max_hierarchy_depth, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest file rolegrid reads, in bytes (default 16 MiB).
    pub max_file_bytes: u64,
    /// Largest schema, in bytes (default 1 MiB): Cedar's schema parser is
    /// slow per name (about 70 µs a byte in a debug build), so a schema near
    /// `max_file_bytes` would take minutes.
    pub max_schema_bytes: u64,
    /// Deepest bracket nesting (`(`, `[`, `{`, and `<` in schemas) allowed in
    /// a policy or schema file, and the deepest nesting of an entity file's
    /// YAML (default 128; at most [`Limits::NESTING_CEILING`]).
    pub max_nesting: usize,
    /// Deepest expression a policy may hold, counting brackets and the
    /// operators of chains written without brackets (`a || b || c`,
    /// `1 + 1 + 1`, `if … then … else if …`); an estimate that never
    /// undercounts (default 1,000; at most [`Limits::EXPRESSION_DEPTH_CEILING`]).
    pub max_expression_depth: usize,
    /// Most entities one product may hold (default 1,000,000).
    pub max_entities: usize,
    /// Most files and folders one product folder may hold (default 10,000).
    pub max_files: usize,
    /// Longest chain of parents in the entity hierarchy, and of `in` in the
    /// schema's entity types and actions (default 100).
    pub max_hierarchy_depth: usize,
    /// Most ancestor links the hierarchy may hold once closed transitively:
    /// the sum, over all entities, of how many ancestors each has (default
    /// 1,000,000). Cedar computes and stores this closure on every load; it
    /// grows with the square of a chain's length and with every entity below
    /// an entity that has many parents. The schema's entity types and actions
    /// are held to the same limit.
    pub max_ancestor_links: usize,
    /// Most YAML nodes (scalars, lists and maps, counting each use of an
    /// alias) one entity file may hold (default 1,000,000): this stops alias
    /// bombs. Cedar JSON entity files are bounded by `max_file_bytes` only.
    pub max_yaml_nodes: usize,
}

impl Limits {
    /// The deepest bracket nesting rolegrid accepts whatever `max_nesting`
    /// says: Cedar's parser recurses about ten frames per bracket.
    pub const NESTING_CEILING: usize = 1_000;

    /// The deepest expression rolegrid accepts whatever
    /// `max_expression_depth` says: dropping or printing a policy recurses
    /// once per level, on whichever thread does it (often one with a small stack).
    pub const EXPRESSION_DEPTH_CEILING: usize = 4_000;

    /// `max_nesting`, capped at [`Limits::NESTING_CEILING`].
    ///
    /// ```
    /// let limits = rolegrid::Limits { max_nesting: usize::MAX, ..Default::default() };
    /// assert_eq!(limits.nesting(), rolegrid::Limits::NESTING_CEILING);
    /// ```
    pub fn nesting(&self) -> usize {
        self.max_nesting.min(Self::NESTING_CEILING)
    }

    /// `max_expression_depth`, capped at [`Limits::EXPRESSION_DEPTH_CEILING`].
    pub fn expression_depth(&self) -> usize {
        self.max_expression_depth
            .min(Self::EXPRESSION_DEPTH_CEILING)
    }

    /// No limit beyond the ceilings: for trusted input only.
    ///
    /// ```
    /// let limits = rolegrid::Limits::unlimited();
    /// assert_eq!(limits.max_entities, usize::MAX);
    /// assert_eq!(limits.nesting(), rolegrid::Limits::NESTING_CEILING);
    /// ```
    pub fn unlimited() -> Self {
        Self {
            max_file_bytes: u64::MAX,
            max_schema_bytes: u64::MAX,
            max_nesting: usize::MAX,
            max_expression_depth: usize::MAX,
            max_entities: usize::MAX,
            max_files: usize::MAX,
            max_hierarchy_depth: usize::MAX,
            max_ancestor_links: usize::MAX,
            max_yaml_nodes: usize::MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 16 * 1024 * 1024,
            max_schema_bytes: 1024 * 1024,
            max_nesting: 128,
            max_expression_depth: 1_000,
            max_entities: 1_000_000,
            max_files: 10_000,
            max_hierarchy_depth: 100,
            max_ancestor_links: 1_000_000,
            max_yaml_nodes: 1_000_000,
        }
    }
}
