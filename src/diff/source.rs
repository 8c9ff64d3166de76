//! The base of a comparison: another store folder, or a git revision of the
//! repository that holds the store, read with gix into a temporary folder
//! (the work tree is never touched).

use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::store::Store;
use std::path::{Path, PathBuf};

/// A base store, and the temporary folder that holds it when it came from git.
#[derive(Debug)]
pub struct BaseStore {
    /// The store.
    pub store: Store,
    /// Its root (a folder given, or the temporary copy of a revision).
    pub root: PathBuf,
    /// Kept alive while the store is read.
    _temporary: Option<tempfile::TempDir>,
}

fn base_problem(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Usage, message)
}

/// Opens `base`: a folder (a store's root), else a git revision (`HEAD~1`,
/// `origin/main`, a tag, a commit) of the repository holding `root`, whose
/// `schemas/` and `policies/` under the same path are read at that revision.
pub fn open_base(base: &str, root: &Path) -> Result<BaseStore, Problems> {
    let folder = Path::new(base);
    if folder.is_dir() {
        return Ok(BaseStore {
            store: Store::open(folder)?,
            root: folder.to_path_buf(),
            _temporary: None,
        });
    }
    let temporary = tempfile::Builder::new()
        .prefix("rolegrid-base-")
        .tempdir()
        .map_err(|e| base_problem(format!("cannot make a temporary folder: {e}")))?;
    extract_revision(base, root, temporary.path())?;
    Ok(BaseStore {
        store: Store::open(temporary.path())?,
        root: temporary.path().to_path_buf(),
        _temporary: Some(temporary),
    })
}

/// Writes the store at `root` as revision `revision` has it into `out`.
fn extract_revision(revision: &str, root: &Path, out: &Path) -> Result<(), Problem> {
    let not_found = || {
        base_problem(format!(
            "--base {revision}: not a folder, and {} is in no git repository",
            root.display()
        ))
        .with_help("give a store's folder, or a revision of the repository holding --root (HEAD~1, origin/main, a tag)")
    };
    let repo = gix::discover(root).map_err(|_| not_found())?;
    let workdir = repo.workdir().ok_or_else(not_found)?;
    let canonical =
        |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let prefix = canonical(root)
        .strip_prefix(canonical(workdir))
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let tree = repo
        .rev_parse_single(revision)
        .map_err(|e| {
            base_problem(format!(
                "--base {revision}: not a folder nor a revision of the repository: {e}"
            ))
        })?
        .object()
        .and_then(|object| object.peel_to_tree())
        .map_err(|e| base_problem(format!("--base {revision}: {e}")))?;
    for folder in ["schemas", "policies"] {
        let path = prefix.join(folder);
        let entry = tree
            .lookup_entry_by_path(&path)
            .map_err(|e| base_problem(format!("--base {revision}: {e}")))?;
        let Some(entry) = entry else {
            continue;
        };
        let object = entry
            .object()
            .map_err(|e| base_problem(format!("--base {revision}: {e}")))?;
        write_tree(&repo, object.id, &out.join(folder))?;
    }
    Ok(())
}

/// Writes a tree's files (recursively) under `out`.
fn write_tree(repo: &gix::Repository, id: gix::ObjectId, out: &Path) -> Result<(), Problem> {
    let io = |e: std::io::Error| base_problem(format!("cannot write {}: {e}", out.display()));
    let git = |e: &dyn std::fmt::Display| base_problem(format!("cannot read the revision: {e}"));
    std::fs::create_dir_all(out).map_err(io)?;
    let tree = repo
        .find_object(id)
        .map_err(|e| git(&e))?
        .try_into_tree()
        .map_err(|e| git(&e))?;
    let entries: Vec<(String, gix::ObjectId, bool)> = tree
        .iter()
        .filter_map(Result::ok)
        .map(|entry| {
            (
                entry.filename().to_string(),
                entry.oid().to_owned(),
                entry.mode().is_tree(),
            )
        })
        .collect();
    for (name, oid, is_tree) in entries {
        if name.contains('/') || name == ".." {
            continue;
        }
        let target = out.join(&name);
        if is_tree {
            write_tree(repo, oid, &target)?;
        } else {
            let blob = repo.find_object(oid).map_err(|e| git(&e))?;
            std::fs::write(&target, &blob.data).map_err(io)?;
        }
    }
    Ok(())
}
