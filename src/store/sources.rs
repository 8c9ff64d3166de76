//! The text of every file a snapshot is built from, read within limits.

use crate::diagnostics::{Problems, SourceFile};
use crate::files::{FileKind, ProductFiles, entity_kind_of, read_source, walk};
use crate::limits::Limits;
use std::path::{Path, PathBuf};

/// The text of every file a snapshot is built from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The schema, if any (explicit mode may have none).
    pub schema: Option<SourceFile>,
    /// Policy files, in order.
    pub policies: Vec<SourceFile>,
    /// Entity files with their kinds, in order.
    pub entities: Vec<(SourceFile, FileKind)>,
}

impl Sources {
    /// A hash of every file's path and content: equal fingerprints mean a
    /// reload would build the same snapshot.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for file in self
            .schema
            .iter()
            .chain(&self.policies)
            .chain(self.entities.iter().map(|(f, _)| f))
        {
            file.path().hash(&mut hasher);
            file.text().hash(&mut hasher);
        }
        hasher.finish()
    }

    /// Reads a product's files.
    pub fn read(files: &ProductFiles, limits: &Limits) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let mut sources = Sources::default();
        match read_source(&files.schema, limits) {
            Ok(file) => sources.schema = Some(file),
            Err(p) => problems.push(p),
        }
        for path in &files.policies {
            match read_source(path, limits) {
                Ok(file) => sources.policies.push(file),
                Err(p) => problems.push(p),
            }
        }
        for (path, kind) in &files.entities {
            match read_source(path, limits) {
                Ok(file) => sources.entities.push((file, *kind)),
                Err(p) => problems.push(p),
            }
        }
        problems.into_result(sources)
    }

    /// Reads explicit files: policies (a file or every `*.cedar` under a
    /// folder), an optional schema, entity files (YAML or JSON by name).
    pub fn read_explicit(
        policies: &Path,
        schema: Option<&Path>,
        entities: &[PathBuf],
        limits: &Limits,
    ) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let mut sources = Sources::default();
        let policy_paths = if policies.is_dir() {
            walk(policies, limits)?
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
                .collect()
        } else {
            vec![policies.to_path_buf()]
        };
        for path in &policy_paths {
            match read_source(path, limits) {
                Ok(file) => sources.policies.push(file),
                Err(p) => problems.push(p),
            }
        }
        if let Some(path) = schema {
            match read_source(path, limits) {
                Ok(file) => sources.schema = Some(file),
                Err(p) => problems.push(p),
            }
        }
        for path in entities {
            let kind = entity_kind_of(path);
            match read_source(path, limits) {
                Ok(file) => sources.entities.push((file, kind)),
                Err(p) => problems.push(p),
            }
        }
        problems.into_result(sources)
    }
}
