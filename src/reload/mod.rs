//! Watching a store's folders and reloading the products whose files change.
//!
//! The watcher (notify, debounced by product: see [`settle`]) watches the
//! `schemas/` and `policies/` folders recursively, not single files, so
//! editors that save by writing a temporary file and renaming it, that
//! delete and re-create files, and new subfolders are all seen. A product
//! is reloaded once its files have been quiet for [`DEBOUNCE`], on the
//! watcher's own thread, off the request path; a change seen during a
//! reload brings another, so the last reload always reads the last change.

mod links;
mod settle;

pub(crate) use settle::{Handlers, Settler};

use crate::diagnostics::{Problem, ProblemKind};
use crate::evaluator::{Evaluator, ReloadEvent};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long the watcher waits for a burst of file events to settle.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(25);

/// A running watch; dropping it (or calling [`Watch::stop`]) stops the
/// watcher and joins its thread.
pub struct Watch {
    settler: Settler,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("running", &self.settler.is_running())
            .finish()
    }
}

impl Watch {
    /// Watches a store's `schemas/` and `policies/` folders for a tool that
    /// re-reads the whole store (`rolegrid watch`): `on_change` is called on
    /// the watcher's thread once its files have been quiet for 100 ms (four
    /// times the reload's debounce) after a change; the watcher's errors go
    /// to `on_error`.
    pub fn store(
        root: &Path,
        mut on_change: impl FnMut() + Send + 'static,
        mut on_error: impl FnMut(&dyn std::error::Error) + Send + 'static,
    ) -> Result<Watch, Problem> {
        let root = canonical_root(root)?;
        let folders = [root.join("schemas"), root.join("policies")];
        let settler = Settler::start(
            &root,
            &folders,
            DEBOUNCE * 4,
            Handlers {
                catch_up: false,
                key_of: |_: &Path| Some(()),
                all_keys: || vec![()],
                on_settled: move |_: Vec<()>| on_change(),
                on_error: move |error: &notify::Error| on_error(error),
            },
        )
        .map_err(|(path, e)| watch_problem(&path, &e))?;
        Ok(Watch { settler })
    }

    /// Stops watching and waits for an ongoing reload to finish.
    pub fn stop(mut self) {
        self.settler.stop();
    }
}

/// The products a changed path belongs to: `schemas/<p>.cedarschema` or
/// anything under `policies/<p>/`.
pub(crate) fn product_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut parts = relative.components().map(|c| c.as_os_str().to_str());
    match (parts.next()??, parts.next()??) {
        ("schemas", name) => crate::files::schema_product(name).map(str::to_owned),
        ("policies", product) => Some(product.to_owned()),
        _ => None,
    }
}

impl Evaluator {
    /// Starts watching the store; every reload is reported to `on_event`
    /// (on the watcher's thread). Failed reloads keep the last good snapshot.
    ///
    /// Once the watch is in place, every product followed is reloaded once
    /// (a catch-up: `Unchanged` unless its files changed), so an edit saved
    /// between [`Evaluator::open`] and this call is served too.
    pub fn watch(
        self: &Arc<Self>,
        mut on_event: impl FnMut(&ReloadEvent) + Send + 'static,
    ) -> Result<Watch, Problem> {
        let root = canonical_root(self.root())?;
        let folders = [root.join("schemas"), root.join("policies")];
        let watched_root = root.clone();
        let follows = Arc::clone(self);
        let all = Arc::clone(self);
        let evaluator = Arc::clone(self);
        let settler = Settler::start(
            &watched_root,
            &folders,
            DEBOUNCE,
            Handlers {
                catch_up: true,
                key_of: move |path: &Path| {
                    product_of(&root, path).filter(|product| follows.follows(product))
                },
                all_keys: move || all.followed(),
                on_settled: move |products: Vec<String>| {
                    for product in products {
                        let event = evaluator.reload(&product);
                        on_event(&event);
                    }
                },
                on_error: |error: &notify::Error| {
                    tracing::warn!(%error, "file watcher error");
                },
            },
        )
        .map_err(|(path, e)| watch_problem(&path, &e))?;
        Ok(Watch { settler })
    }
}

fn canonical_root(root: &Path) -> Result<PathBuf, Problem> {
    let root = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    std::fs::canonicalize(root).map_err(|e| crate::files::io_problem(root, &e))
}

fn watch_problem(path: &Path, error: &notify::Error) -> Problem {
    Problem::new(
        ProblemKind::Io,
        format!("cannot watch {}: {error}", path.display()),
    )
}
