//! Threads: one pool for work on every core (the loader's per-file steps,
//! expectation files, products, request lines), and threads of their own
//! for long-running work (a command, a load). Every one of them has a stack
//! of [`LOAD_STACK_BYTES`], so Cedar's parser, validator and evaluator, which
//! recurse on nested input, give the same result whichever thread runs them.
//!
//! The pool is rayon's work-stealing pool, made once per process on first
//! use (the one piece of process-wide state: threads, no data). Blocking
//! work never runs on it, so a pool thread is always free to make progress.
//!
//! A service that decides requests on threads of its own gets the same
//! answers as every rolegrid command by deciding on these threads:
//!
//! ```
//! use rolegrid::{LoadOptions, Store, parallel};
//! let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
//! let users = ["ada-admin", "ivan-inference"];
//! let allowed = parallel::par_map(&users, |_| 1, |user| {
//!     let principal = format!(r#"Fireworks::User::"{user}""#);
//!     let request = snapshot.request(&principal, r#"Fireworks::Action::"viewUsers""#, r#"Fireworks::Account::"acme""#, None);
//!     request.map(|request| snapshot.authorize(&request).is_allowed())
//! });
//! assert_eq!(allowed.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::diagnostics::{Problem, ProblemKind};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Stack of every rolegrid thread: address space only, pages are touched as
/// used, so nested input cannot overflow the stack before a limit stops it.
pub const LOAD_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The work pool, or `None` when no thread could be started (work then
/// runs on the caller's thread).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("rolegrid-{i}"))
            .stack_size(LOAD_STACK_BYTES)
            .build()
            .ok()
    })
    .as_ref()
}

/// How many threads the pool has (at least 1).
pub fn threads() -> usize {
    pool().map_or(1, rayon::ThreadPool::current_num_threads)
}

/// Which pool thread this is (`0..threads()`), or `None` off the pool.
fn thread_index() -> Option<usize> {
    pool().and_then(rayon::ThreadPool::current_thread_index)
}

/// Runs `f` on every item on the pool and returns the results in the items'
/// order. Items start heaviest first by `weight` (file sizes), so one large
/// file does not start last and leave a core idle at the end; items of one
/// weight are taken as they come.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    weight: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    let Some(pool) = pool().filter(|_| items.len() > 1) else {
        return items.iter().map(f).collect();
    };
    let weights: Vec<usize> = items.iter().map(&weight).collect();
    if weights.windows(2).all(|pair| pair.first() == pair.last()) {
        return pool.install(|| items.par_iter().map(f).collect());
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weights.get(i).copied().unwrap_or(0)));
    let mut done: Vec<(usize, R)> = pool.install(|| {
        order
            .par_iter()
            .filter_map(|&i| items.get(i).map(|item| (i, f(item))))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// State of each pool thread (a cache, say), kept from one [`par_map`] to
/// the next: a thread only ever takes its own, so taking it never waits.
#[derive(Debug)]
pub struct PerThread<S> {
    states: Vec<std::sync::Mutex<S>>,
}

impl<S: Default> Default for PerThread<S> {
    fn default() -> Self {
        Self {
            states: (0..threads())
                .map(|_| std::sync::Mutex::default())
                .collect(),
        }
    }
}

impl<S: Default> PerThread<S> {
    /// Runs `f` with this thread's state (a fresh one off the pool).
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        match thread_index().and_then(|i| self.states.get(i)) {
            Some(state) => f(&mut state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)),
            None => f(&mut S::default()),
        }
    }
}

/// Runs `a` and `b` at once on the pool; both results.
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    match pool() {
        Some(pool) => pool.install(|| rayon::join(a, b)),
        None => (a(), b()),
    }
}

/// Runs `f` on a stack of [`LOAD_STACK_BYTES`]: on a thread of its own,
/// waiting for it, or right here on a pool thread (which has that stack
/// already, and must not wait on a thread that may need the pool). A failure
/// to start the thread, or a panic inside it, becomes an internal problem.
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, Problem> {
    if thread_index().is_some() {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| stopped());
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("rolegrid-main".into())
            .stack_size(LOAD_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Problem::new(ProblemKind::Internal, format!("cannot start a thread: {e}"))
            })?;
        handle.join().map_err(|_| stopped())
    })
}

/// A panic, caught: rolegrid's fault, not the input's.
fn stopped() -> Problem {
    Problem::new(
        ProblemKind::Internal,
        "internal error: rolegrid stopped unexpectedly",
    )
    .with_help("please report this input to the rolegrid developers")
}
