//! The limit flags every command that loads a store takes.

use rolegrid::Limits;

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
    /// Deepest bracket nesting in a policy, schema or entity file [default: 128, at most 1000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_nesting: Option<usize>,
    /// Most files and folders in one product folder [default: 10000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_files: Option<usize>,
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
            max_nesting: self.max_nesting.unwrap_or(defaults.max_nesting),
            max_files: self.max_files.unwrap_or(defaults.max_files),
        }
    }
}

/// Parses a size: a number of bytes with an optional suffix (`K`, `M`, `G`,
/// `KB`, `KiB`, ...: all powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
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
