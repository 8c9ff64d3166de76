//! Symbolic links under the watched folders: the places they lead to, which
//! must be watched too, and the store paths through which a change there
//! is seen.
//!
//! The watcher does not follow links itself (notify keeps one watch per
//! inode, under the last path it was given, so a folder reached by two
//! names would be watched under one of them only). Instead [`Links::scan`]
//! walks the folders, following links, and records each link's canonical
//! target with every store path that leads to it; the settler watches the
//! targets outside the store's folders under their canonical paths, and
//! [`Links::through`] turns a change at a target back into the store paths
//! that see it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// At most this many folder entries are walked per scan: a store is a few
/// hundred files; a link into a huge tree must not stall the watcher.
const MAX_ENTRIES: usize = 100_000;

/// Where the links under some folders lead.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Links {
    targets: BTreeMap<PathBuf, Target>,
}

/// A link's canonical target and the store paths that lead to it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Target {
    folder: bool,
    through: BTreeSet<PathBuf>,
}

/// How a place outside the watched folders is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Watched {
    /// A linked folder: everything under it.
    Tree,
    /// The folder of a linked file: its entries only.
    Entries,
}

impl Links {
    /// Walks `folders` (following links, each folder once per path) and
    /// records where every link leads. Links that cannot be resolved (a
    /// loop, a dangling link) are left out: the loader reports them.
    pub fn scan(folders: &[PathBuf]) -> Self {
        let mut links = Self::default();
        let mut budget = MAX_ENTRIES;
        for folder in folders {
            if let Ok(canonical) = std::fs::canonicalize(folder) {
                links.walk(folder, &mut vec![canonical], &mut budget);
            }
        }
        links
    }

    fn walk(&mut self, folder: &Path, entered: &mut Vec<PathBuf>, budget: &mut usize) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let Some(left) = budget.checked_sub(1) else {
                return;
            };
            *budget = left;
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let next = if kind.is_symlink() {
                self.record(&path)
            } else if kind.is_dir() {
                std::fs::canonicalize(&path).ok()
            } else {
                None
            };
            // a folder already being walked on this path is a loop
            if let Some(canonical) = next.filter(|c| c.is_dir() && !entered.contains(c)) {
                entered.push(canonical);
                self.walk(&path, entered, budget);
                entered.pop();
            }
        }
    }

    /// Records a link; returns its canonical target.
    fn record(&mut self, link: &Path) -> Option<PathBuf> {
        let target = std::fs::canonicalize(link).ok()?;
        let entry = self.targets.entry(target.clone()).or_default();
        entry.folder = target.is_dir();
        entry.through.insert(link.to_path_buf());
        Some(target)
    }

    /// The places to watch besides `covered` (folders watched whole already,
    /// canonical): each linked folder, and the folder of each linked file.
    pub fn places(&self, covered: &[PathBuf]) -> BTreeMap<PathBuf, Watched> {
        let mut places = BTreeMap::new();
        for (target, link) in &self.targets {
            let (place, how) = if link.folder {
                (target.as_path(), Watched::Tree)
            } else {
                match target.parent() {
                    Some(parent) => (parent, Watched::Entries),
                    None => continue,
                }
            };
            if covered.iter().any(|folder| place.starts_with(folder)) {
                continue;
            }
            let how = places
                .get(place)
                .map_or(how, |known: &Watched| how.min(*known));
            places.insert(place.to_path_buf(), how);
        }
        places
    }

    /// The store paths through which a change at `path` (canonical) is seen.
    pub fn through(&self, path: &Path) -> Vec<PathBuf> {
        let mut seen = Vec::new();
        for (target, link) in &self.targets {
            let Ok(rest) = path.strip_prefix(target) else {
                continue;
            };
            if !link.folder && !rest.as_os_str().is_empty() {
                continue;
            }
            seen.extend(link.through.iter().map(|through| {
                if rest.as_os_str().is_empty() {
                    through.clone()
                } else {
                    through.join(rest)
                }
            }));
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_to_folders_and_files_are_followed_back_to_every_name() {
        let store = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let outside = std::fs::canonicalize(outside.path()).unwrap();
        let policies = store.path().join("policies");
        std::fs::create_dir_all(policies.join("p")).unwrap();
        std::fs::create_dir_all(outside.join("shared/sub")).unwrap();
        std::fs::write(outside.join("one.cedar"), "").unwrap();
        symlink(outside.join("shared"), policies.join("linked")).unwrap();
        symlink(outside.join("one.cedar"), policies.join("p/one.cedar")).unwrap();
        symlink("p", policies.join("alias")).unwrap();
        // a loop and a dangling link are left out, not walked for ever
        symlink("..", policies.join("p/up")).unwrap();
        symlink(outside.join("gone"), policies.join("p/gone.cedar")).unwrap();

        let links = Links::scan(std::slice::from_ref(&policies));
        let covered = [std::fs::canonicalize(&policies).unwrap()];
        let places: Vec<(PathBuf, Watched)> = links.places(&covered).into_iter().collect();
        assert_eq!(
            places,
            vec![
                (outside.clone(), Watched::Entries),
                (outside.join("shared"), Watched::Tree),
            ]
        );
        assert_eq!(
            links.through(&outside.join("shared/sub/x.cedar")),
            vec![policies.join("linked/sub/x.cedar")]
        );
        // seen through the alias of its folder too
        assert_eq!(
            links.through(&outside.join("one.cedar")),
            vec![
                policies.join("alias/one.cedar"),
                policies.join("p/one.cedar")
            ]
        );
        assert!(links.through(&outside.join("two.cedar")).is_empty());
        let canonical_p = covered[0].join("p");
        assert!(
            links
                .through(&canonical_p.join("x.cedar"))
                .contains(&policies.join("alias/x.cedar"))
        );
    }
}
