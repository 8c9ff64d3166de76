//! Every expectation of one product, loaded from its files.

use super::fixture::Fixture;
use super::item::{Item, ItemKind};
use super::{cedar, yaml};
use crate::diagnostics::{Problems, SourceFile};
use crate::files::FileKind;
use crate::limits::Limits;
use crate::snapshot::Snapshot;
use std::path::PathBuf;

/// Every expectation of one product, loaded and expanded into requests.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The expectation files read, in order.
    pub files: Vec<PathBuf>,
    /// The rows, cases and Cedar tests, in file order.
    pub items: Vec<Item>,
    /// The product's roles (ids of the fixture's `<NS>::Role` entities), in fixture order.
    pub roles: Vec<String>,
    /// The product's namespace (from the schema), `""` when none.
    pub namespace: String,
    /// The fixture's role users (holding exactly one role directly) with
    /// their role, in fixture order.
    pub role_users: Vec<(cedar_policy::EntityUid, String)>,
}

impl Suite {
    /// Reads and loads the expectation files of a product snapshot (the files
    /// its store listed; none for snapshots built from explicit files).
    pub fn load_product(snapshot: &Snapshot) -> Result<Self, Problems> {
        let limits = Limits::default();
        let mut problems = Problems::new();
        let mut files = Vec::new();
        if let Some(product_files) = snapshot.files() {
            for (path, kind) in &product_files.expectations {
                match crate::files::read_source(path, &limits) {
                    Ok(file) => files.push((file, *kind)),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Self::load(snapshot, &files)
    }

    /// Loads expectation files (rolegrid YAML or Cedar JSON tests) against a
    /// snapshot, reporting every problem found in any of them.
    pub fn load(snapshot: &Snapshot, files: &[(SourceFile, FileKind)]) -> Result<Self, Problems> {
        let fixture = Fixture::new(snapshot);
        let mut suite = Suite {
            files: files.iter().map(|(f, _)| f.path().to_path_buf()).collect(),
            items: Vec::new(),
            roles: fixture.roles().to_vec(),
            namespace: fixture.namespace().to_owned(),
            role_users: fixture.role_users().to_vec(),
        };
        let mut problems = Problems::new();
        // each file on its own, on every core, then in the files' order
        let loaded = crate::parallel::par_map(
            files,
            |(file, _)| file.text().len(),
            |(file, kind)| match kind {
                FileKind::CedarTests => cedar::load(snapshot, &fixture, file),
                _ => yaml::load(snapshot, &fixture, file),
            },
        );
        for loaded in loaded {
            match loaded {
                Ok(items) => suite.items.extend(items),
                Err(more) => problems.extend(more),
            }
        }
        problems.into_result(suite)
    }

    /// How many concrete requests the suite checks.
    pub fn check_count(&self) -> usize {
        self.items.iter().map(Item::check_count).sum()
    }

    /// How many items of a kind the suite holds.
    pub fn count(&self, kind: ItemKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }
}
