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

/// Command-line flags for the limits users most often need to raise; flatten
/// into a command's arguments (`#[command(flatten)]`) and call
/// [`LimitArgs::limits`].
///
/// ```
/// use clap::Parser;
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     limits: rolegrid::LimitArgs,
/// }
/// let cli = Cli::parse_from(["x", "--max-file-size", "64MiB", "--max-hierarchy-depth", "500"]);
/// let limits = cli.limits.limits();
/// assert_eq!(limits.max_file_bytes, 64 << 20);
/// assert_eq!(limits.max_hierarchy_depth, 500);
/// assert_eq!(limits.max_entities, rolegrid::Limits::default().max_entities);
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Largest file read, in bytes; suffixes K, M, G (or KiB, MiB, GiB) allowed [default: 16MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub max_file_size: Option<u64>,
    /// Largest schema file; suffixes as for --max-file-size [default: 1MiB].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub max_schema_size: Option<u64>,
    /// Most entities a product may hold [default: 1000000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_entities: Option<usize>,
    /// Longest chain of entity parents (and of `in` between schema types or actions) [default: 100].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_hierarchy_depth: Option<usize>,
    /// Most ancestor links in the transitive closure of the hierarchy [default: 1000000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_ancestor_links: Option<usize>,
    /// Most YAML nodes in one entity file (aliases counted at each use) [default: 1000000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_yaml_nodes: Option<usize>,
    /// Deepest expression in a policy (brackets and operator chains) [default: 1000, at most 4000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_expression_depth: Option<usize>,
}

impl LimitArgs {
    /// The default limits with the flags given applied.
    pub fn limits(&self) -> Limits {
        let defaults = Limits::default();
        Limits {
            max_file_bytes: self.max_file_size.unwrap_or(defaults.max_file_bytes),
            max_schema_bytes: self.max_schema_size.unwrap_or(defaults.max_schema_bytes),
            max_entities: self.max_entities.unwrap_or(defaults.max_entities),
            max_hierarchy_depth: self
                .max_hierarchy_depth
                .unwrap_or(defaults.max_hierarchy_depth),
            max_ancestor_links: self
                .max_ancestor_links
                .unwrap_or(defaults.max_ancestor_links),
            max_yaml_nodes: self.max_yaml_nodes.unwrap_or(defaults.max_yaml_nodes),
            max_expression_depth: self
                .max_expression_depth
                .unwrap_or(defaults.max_expression_depth),
            ..defaults
        }
    }
}

/// Parses a size: a number of bytes with an optional suffix (`K`, `M`, `G`,
/// `KB`, `KiB`, ...: all powers of 1024).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write bytes, or e.g. 512K, 64MiB, 1G"))?;
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}`: use K, M or G")),
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1500"), Ok(1500));
        assert_eq!(parse_size("32MiB"), Ok(32 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("512 K"), Ok(512 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("18446744073709551615G").is_err());
    }
}
