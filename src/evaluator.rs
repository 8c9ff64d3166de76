//! The evaluator: the current snapshot of each product behind an atomic
//! pointer, swapped whole on reload, never blocking readers.
//!
//! Guarantees:
//! - every request is answered wholly from one snapshot (old or new), never a mix;
//! - readers never wait for a reload: a read is one atomic pointer load;
//! - a reload that fails (any problem the loader reports) keeps the last good
//!   snapshot and records the failure ([`Evaluator::status`]);
//! - a state that did not settle is never kept: when a reload fails within
//!   [`SETTLE_PERIOD`] of the swap before it (a file written in place, seen
//!   half-written, then broken), the evaluator reverts to the last state that
//!   was served that long unchanged, not to the half-written one;
//! - a reload whose files have the same content as the current snapshot's does not swap;
//! - a product whose files disappear keeps serving its last good snapshot, and
//!   the failure (e.g. `unknown-product`) is recorded until it comes back.

use crate::answer::Answer;
use crate::diagnostics::{Problem, Problems};
use crate::files::ProductFiles;
use crate::snapshot::Snapshot;
use crate::store::{LoadCache, LoadOptions, Store};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// How long a swapped-in state must be served without a change before it
/// counts as settled. A reload that fails sooner after a swap reverts to the
/// last settled state: the state it follows was most likely a file seen
/// half-written (an in-place save that paused), not one anybody meant.
pub const SETTLE_PERIOD: Duration = Duration::from_secs(2);

/// Holds the current snapshot of each product of a store and reloads them.
/// Share it in an `Arc`; every method takes `&self`.
///
/// ```no_run
/// use rolegrid::{Evaluator, LoadOptions};
/// use std::sync::Arc;
///
/// let evaluator = Arc::new(Evaluator::open(".", LoadOptions::default())?);
/// let _watch = evaluator.watch(|event| eprintln!("{event}"))?;
/// let answer = evaluator.authorize(
///     "fireworks",
///     r#"Fireworks::User::"ada-admin""#,
///     r#"Fireworks::Action::"viewUsers""#,
///     r#"Fireworks::Account::"acme""#,
///     None,
/// )?;
/// assert!(answer.is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Evaluator {
    store: Store,
    options: LoadOptions,
    products: ArcSwap<BTreeMap<String, Arc<Slot>>>,
    /// Serialises reloads (writers only; readers never take it), and holds
    /// each product's load cache so a reload re-reads only changed files.
    reloading: Mutex<HashMap<String, LoadCache>>,
    /// Whether products that appear later are served (true for [`Evaluator::open`]).
    adopt_new: bool,
    /// How long a swapped-in state is served unchanged before it settles.
    settle_period: Duration,
}

#[derive(Debug)]
struct Slot {
    current: ArcSwap<Served>,
    /// Writers' state (reloads are serialised): what a failure reverts to.
    settled: Mutex<Settled>,
    last_error: Mutex<Option<ReloadFailure>>,
}

/// The last state served for [`SETTLE_PERIOD`] without a change, and when
/// the current one was swapped in.
#[derive(Debug)]
struct Settled {
    served: Arc<Served>,
    current_since: Instant,
}

/// A snapshot being served and its generation: 1 for the first load, +1
/// per swap. Swapped as one, so a reader never sees one without the other.
#[derive(Debug)]
struct Served {
    generation: u64,
    snapshot: Arc<Snapshot>,
}

impl Slot {
    fn new(served: Served) -> Self {
        let served = Arc::new(served);
        Self {
            current: ArcSwap::new(Arc::clone(&served)),
            settled: Mutex::new(Settled {
                served,
                current_since: Instant::now(),
            }),
            last_error: Mutex::new(None),
        }
    }

    fn settled(&self) -> std::sync::MutexGuard<'_, Settled> {
        self.settled.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `served`; the state it replaces becomes the settled one if it
    /// was served for the settle period.
    fn swap(&self, served: Served, settle_period: Duration) {
        let mut settled = self.settled();
        if settled.current_since.elapsed() >= settle_period {
            settled.served = self.current.load_full();
        }
        self.current.store(Arc::new(served));
        settled.current_since = Instant::now();
    }

    /// After a failed reload: if the current state has not settled, serves
    /// the settled one again (as a new generation) and returns that generation.
    fn revert_unsettled(&self, settle_period: Duration) -> Option<u64> {
        let mut settled = self.settled();
        let current = self.current.load_full();
        if Arc::ptr_eq(&settled.served, &current)
            || settled.current_since.elapsed() >= settle_period
        {
            return None;
        }
        let generation = current.generation + 1;
        let reverted = Arc::new(Served {
            generation,
            snapshot: Arc::clone(&settled.served.snapshot),
        });
        self.current.store(Arc::clone(&reverted));
        settled.served = reverted;
        Some(generation)
    }
}

/// A reload that failed: when, and what was wrong.
#[derive(Debug, Clone)]
pub struct ReloadFailure {
    /// When the reload was tried.
    pub at: SystemTime,
    /// What the loader reported.
    pub problems: Problems,
    /// Fingerprint of the files that failed (when they could be read), so
    /// the same broken content is reported once, not on every event.
    pub fingerprint: Option<u64>,
}

/// What a reload did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ReloadOutcome {
    /// A new snapshot is being served.
    Swapped {
        /// Its generation.
        generation: u64,
    },
    /// The files hold what the current snapshot was built from: nothing swapped.
    Unchanged,
    /// The files are invalid: the last good snapshot is kept.
    Failed(Problems),
    /// The files are invalid, and the state served had not settled (it was
    /// swapped in less than [`SETTLE_PERIOD`] before): the last settled
    /// snapshot is served again, as a new generation.
    Reverted {
        /// The generation now served (the settled snapshot).
        generation: u64,
        /// What the loader reported.
        problems: Problems,
    },
}

/// One reload of one product, as reported to watchers.
#[derive(Debug, Clone)]
pub struct ReloadEvent {
    /// The product.
    pub product: String,
    /// What happened.
    pub outcome: ReloadOutcome,
    /// How long the reload took.
    pub took: Duration,
}

impl std::fmt::Display for ReloadEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.took.as_secs_f64() * 1000.0;
        match &self.outcome {
            ReloadOutcome::Swapped { generation } => {
                write!(
                    f,
                    "{}: reloaded (generation {generation}, {ms:.1} ms)",
                    self.product
                )
            }
            ReloadOutcome::Unchanged => write!(f, "{}: unchanged", self.product),
            ReloadOutcome::Failed(problems) => {
                write!(
                    f,
                    "{}: reload failed, keeping the last good snapshot:",
                    self.product
                )?;
                write_problems(f, problems)
            }
            ReloadOutcome::Reverted {
                generation,
                problems,
            } => {
                write!(
                    f,
                    "{}: reload failed soon after the last swap, reverting to the last settled snapshot (generation {generation}):",
                    self.product
                )?;
                write_problems(f, problems)
            }
        }
    }
}

fn write_problems(f: &mut std::fmt::Formatter<'_>, problems: &Problems) -> std::fmt::Result {
    for problem in problems {
        match problem.location() {
            Some(location) => write!(f, "\n  {location}: {}", problem.message())?,
            None => write!(f, "\n  {problem}")?,
        }
    }
    Ok(())
}

/// What a service can ask about a product.
#[derive(Debug, Clone)]
pub struct Status {
    /// The generation being served.
    pub generation: u64,
    /// When the served snapshot was loaded.
    pub loaded_at: SystemTime,
    /// The files it was loaded from.
    pub files: Option<ProductFiles>,
    /// The last failed reload since the last good one, if any.
    pub last_error: Option<ReloadFailure>,
}

impl Evaluator {
    /// Loads every product of the store at `root`; fails (loading nothing) if any product is invalid.
    pub fn open(root: impl Into<PathBuf>, options: LoadOptions) -> Result<Self, Problems> {
        let store = Store::open(root)?;
        let products = store.products()?;
        let mut evaluator = Self::with_products(store, &products, options)?;
        evaluator.adopt_new = true;
        Ok(evaluator)
    }

    /// Loads only the named products of the store at `root`.
    pub fn open_products(
        root: impl Into<PathBuf>,
        products: &[String],
        options: LoadOptions,
    ) -> Result<Self, Problems> {
        Self::with_products(Store::open(root)?, products, options)
    }

    fn with_products(
        store: Store,
        products: &[String],
        options: LoadOptions,
    ) -> Result<Self, Problems> {
        let mut map = BTreeMap::new();
        let mut caches = HashMap::new();
        let mut problems = Problems::new();
        for product in products {
            let mut cache = LoadCache::default();
            let loaded = store.read(product, &options).and_then(|(files, sources)| {
                store.build_cached(product, files, &sources, &options, &mut cache)
            });
            caches.insert(product.clone(), cache);
            match loaded {
                Ok(snapshot) => {
                    let served = Served {
                        generation: 1,
                        snapshot: Arc::new(snapshot),
                    };
                    map.insert(product.clone(), Arc::new(Slot::new(served)));
                }
                Err(errors) => problems.extend(errors),
            }
        }
        problems.into_result(Self {
            store,
            options,
            products: ArcSwap::from_pointee(map),
            reloading: Mutex::new(caches),
            adopt_new: false,
            settle_period: SETTLE_PERIOD,
        })
    }

    /// Sets how long a swapped-in state must be served unchanged before it
    /// counts as settled ([`SETTLE_PERIOD`] unless set). `Duration::ZERO`
    /// makes every swapped-in state settled at once: a failed reload then
    /// always keeps the current snapshot, even one swapped in just before
    /// from a file seen half-written.
    ///
    /// ```no_run
    /// use rolegrid::{Evaluator, LoadOptions};
    /// use std::time::Duration;
    ///
    /// // a deploy tool that rewrites policy files slowly, in place
    /// let evaluator = Evaluator::open(".", LoadOptions::default())?
    ///     .with_settle_period(Duration::from_secs(10));
    /// # Ok::<(), rolegrid::Problems>(())
    /// ```
    #[must_use]
    pub fn with_settle_period(mut self, period: Duration) -> Self {
        self.settle_period = period;
        self
    }

    /// The store's root.
    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// The products being served.
    pub fn products(&self) -> Vec<String> {
        self.products.load().keys().cloned().collect()
    }

    /// Every product whose files concern this evaluator (see
    /// [`Evaluator::follows`]): those it serves and, when it was opened on
    /// the whole store, those the store has now.
    pub fn followed(&self) -> Vec<String> {
        let mut products = self.products();
        if self.adopt_new {
            products.extend(self.store.products().unwrap_or_default());
            products.sort_unstable();
            products.dedup();
        }
        products
    }

    /// Whether a change to `product`'s files concerns this evaluator: it
    /// serves the product, or it was opened on the whole store.
    pub fn follows(&self, product: &str) -> bool {
        self.adopt_new || self.products.load().contains_key(product)
    }

    /// The current snapshot of a product (hold it to answer several requests from one snapshot).
    pub fn snapshot(&self, product: &str) -> Option<Arc<Snapshot>> {
        self.products
            .load()
            .get(product)
            .map(|slot| Arc::clone(&slot.current.load().snapshot))
    }

    /// Runs `f` on the current snapshot without taking a reference count.
    pub fn with_snapshot<R>(&self, product: &str, f: impl FnOnce(&Snapshot) -> R) -> Option<R> {
        self.with_generation(product, |snapshot, _| f(snapshot))
    }

    /// Runs `f` on the current snapshot and its generation (1 for the first
    /// load, +1 per swap), both read at once.
    pub fn with_generation<R>(
        &self,
        product: &str,
        f: impl FnOnce(&Snapshot, u64) -> R,
    ) -> Option<R> {
        let products = self.products.load();
        let served = products.get(product)?.current.load();
        Some(f(&served.snapshot, served.generation))
    }

    /// Builds and decides one request, both against the same current snapshot.
    pub fn authorize(
        &self,
        product: &str,
        principal: &str,
        action: &str,
        resource: &str,
        context: Option<serde_json::Value>,
    ) -> Result<Answer, Problem> {
        self.with_snapshot(product, |snapshot| {
            let request = snapshot.request(principal, action, resource, context)?;
            Ok(snapshot.authorize(&request))
        })
        .unwrap_or_else(|| Err(unknown_product(product)))
    }

    /// What is being served for a product, and the last reload error.
    pub fn status(&self, product: &str) -> Option<Status> {
        let products = self.products.load();
        let slot = products.get(product)?;
        let served = slot.current.load();
        Some(Status {
            generation: served.generation,
            loaded_at: served.snapshot.loaded_at(),
            files: served.snapshot.files().cloned(),
            last_error: slot
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        })
    }

    /// Reloads a product from its files: swaps in a new snapshot if they
    /// changed and are valid, keeps the current one otherwise. A product the
    /// evaluator does not serve yet is added when it loads.
    pub fn reload(&self, product: &str) -> ReloadEvent {
        let started = Instant::now();
        let mut caches = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = self.products.load().get(product).cloned();
        let cache = caches.entry(product.to_owned()).or_default();
        let outcome = self.reload_slot(product, slot.as_deref(), cache);
        let event = ReloadEvent {
            product: product.to_owned(),
            outcome,
            took: started.elapsed(),
        };
        match &event.outcome {
            ReloadOutcome::Swapped { generation } => {
                tracing::info!(
                    product,
                    generation,
                    took_ms = event.took.as_millis() as u64,
                    "reloaded"
                );
            }
            ReloadOutcome::Unchanged => tracing::debug!(product, "unchanged"),
            ReloadOutcome::Failed(problems) | ReloadOutcome::Reverted { problems, .. } => {
                for problem in problems {
                    let location = problem
                        .location()
                        .map(|l| l.to_string())
                        .unwrap_or_default();
                    tracing::warn!(product, %location, message = problem.message(), "reload failed; keeping the last good snapshot");
                }
            }
        }
        event
    }

    fn reload_slot(
        &self,
        product: &str,
        slot: Option<&Slot>,
        cache: &mut LoadCache,
    ) -> ReloadOutcome {
        let read = self.store.read(product, &self.options);
        let (files, sources) = match read {
            Ok(read) => read,
            Err(problems) => return self.fail(slot, problems, None),
        };
        let fingerprint = sources.fingerprint();
        let current_generation = match slot {
            Some(slot) => {
                let failed_before = slot
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                    .is_some_and(|failure| failure.fingerprint == Some(fingerprint));
                if failed_before {
                    return ReloadOutcome::Unchanged;
                }
                let current = slot.current.load();
                if current.snapshot.fingerprint() == fingerprint {
                    *slot
                        .last_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = None;
                    return ReloadOutcome::Unchanged;
                }
                current.generation
            }
            None => 0,
        };
        let snapshot = match self
            .store
            .build_cached(product, files, &sources, &self.options, cache)
        {
            Ok(snapshot) => snapshot,
            Err(problems) => return self.fail(slot, problems, Some(fingerprint)),
        };
        let generation = current_generation + 1;
        let served = Served {
            generation,
            snapshot: Arc::new(snapshot),
        };
        match slot {
            Some(slot) => {
                slot.swap(served, self.settle_period);
                *slot
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
            }
            None => {
                let slot = Arc::new(Slot::new(served));
                self.products.rcu(|map| {
                    let mut map = BTreeMap::clone(map);
                    map.insert(product.to_owned(), Arc::clone(&slot));
                    map
                });
            }
        }
        ReloadOutcome::Swapped { generation }
    }

    fn fail(
        &self,
        slot: Option<&Slot>,
        problems: Problems,
        fingerprint: Option<u64>,
    ) -> ReloadOutcome {
        let Some(slot) = slot else {
            return ReloadOutcome::Failed(problems);
        };
        *slot
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(ReloadFailure {
            at: SystemTime::now(),
            problems: problems.clone(),
            fingerprint,
        });
        match slot.revert_unsettled(self.settle_period) {
            Some(generation) => ReloadOutcome::Reverted {
                generation,
                problems,
            },
            None => ReloadOutcome::Failed(problems),
        }
    }

    /// Reads the options the evaluator loads with.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }
}

fn unknown_product(product: &str) -> Problem {
    Problem::new(
        crate::diagnostics::ProblemKind::UnknownProduct,
        format!("the evaluator serves no product `{product}`"),
    )
}
