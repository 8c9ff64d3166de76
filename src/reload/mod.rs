//! Watching a store's folders and reloading the products whose files change.
//!
//! The watcher (notify, debounced) watches the `schemas/` and `policies/`
//! folders recursively, not single files, so editors that save by writing a
//! temporary file and renaming it, that delete and re-create files, and new
//! subfolders are all seen. Each debounced batch of changes reloads every
//! product it touches, on the watcher's own thread, off the request path.

use crate::diagnostics::{Problem, ProblemKind};
use crate::evaluator::{Evaluator, ReloadEvent};
use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long the watcher waits for a burst of file events to settle.
pub const DEBOUNCE: Duration = Duration::from_millis(25);

/// A running watch; dropping it (or calling [`Watch::stop`]) stops the
/// watcher and joins its thread.
pub struct Watch {
    debouncer: Option<Debouncer<notify::RecommendedWatcher, RecommendedCache>>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("running", &self.debouncer.is_some())
            .finish()
    }
}

impl Watch {
    /// Stops watching and waits for an ongoing reload to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(debouncer) = self.debouncer.take() {
            debouncer.stop();
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The products a changed path belongs to: `schemas/<p>.cedarschema` or
/// anything under `policies/<p>/`.
pub fn product_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts = relative.components().map(|c| c.as_os_str().to_str());
    match (parts.next()??, parts.next()??) {
        ("schemas", name) => name.strip_suffix(".cedarschema").map(str::to_owned),
        ("policies", product) => Some(product.to_owned()),
        _ => None,
    }
}

impl Evaluator {
    /// Starts watching the store; every reload is reported to `on_event`
    /// (on the watcher's thread). Failed reloads keep the last good snapshot.
    pub fn watch(
        self: &Arc<Self>,
        mut on_event: impl FnMut(&ReloadEvent) + Send + 'static,
    ) -> Result<Watch, Problem> {
        let root = canonical_root(self.root())?;
        let evaluator = Arc::clone(self);
        let watched_root = root.clone();
        let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
            let events = match result {
                Ok(events) => events,
                Err(errors) => {
                    for error in errors {
                        tracing::warn!(%error, "file watcher error");
                    }
                    return;
                }
            };
            let products: BTreeSet<String> = events
                .iter()
                .filter(|event| changes_content(event))
                .flat_map(|event| event.paths.iter())
                .filter_map(|path| product_of(&watched_root, path))
                .filter(|product| evaluator.follows(product))
                .collect();
            for product in products {
                let event = evaluator.reload(&product);
                on_event(&event);
            }
        })
        .map_err(|e| watch_problem(&root, &e))?;
        for folder in ["schemas", "policies"] {
            let path = root.join(folder);
            debouncer
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| watch_problem(&path, &e))?;
        }
        Ok(Watch {
            debouncer: Some(debouncer),
        })
    }
}

/// Whether an event can change what a file holds (reads, which the loader
/// itself causes, are not changes).
pub fn changes_content(event: &notify::Event) -> bool {
    !matches!(event.kind, notify::EventKind::Access(_))
}

fn canonical_root(root: &Path) -> Result<PathBuf, Problem> {
    let root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    std::fs::canonicalize(root).map_err(|e| crate::store::io_problem(root, &e))
}

fn watch_problem(path: &Path, error: &notify::Error) -> Problem {
    Problem::new(
        ProblemKind::Io,
        format!("cannot watch {}: {error}", path.display()),
    )
}
