//! Work on every core: the loader's per-file steps and the expectation files.

use crate::diagnostics::{Problem, ProblemKind};

/// Runs `f` on every item, on up to `available_parallelism` threads (with
/// large stacks, as the loader needs), and returns the results in the items'
/// order. Threads take the next item when they are done with one, heaviest
/// first by `weight` (file sizes: one large file does not leave a core idle).
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    weight: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(items.get(i).map_or(0, &weight)));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, R)> = Vec::new();
        loop {
            let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&i) = order.get(at) else {
                return done;
            };
            if let Some(item) = items.get(i) {
                done.push((i, f(item)));
            }
        }
    };
    let work = &work;
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("rolegrid-load".into())
                    .stack_size(LOAD_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        // no thread could start: the items are still all waiting
        let mut done = if handles.is_empty() {
            work()
        } else {
            Vec::new()
        };
        for handle in handles {
            match handle.join() {
                Ok(results) => done.extend(results),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Stack for loading: Cedar's parser and validator recurse on nesting.
pub(crate) const LOAD_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Runs `f` on a thread with a large stack (address space only; pages are
/// touched as used), so nested input cannot overflow the caller's stack. A
/// failure to start the thread, or a panic inside it, becomes a problem.
pub(crate) fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, Problem> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("rolegrid-load".into())
            .stack_size(LOAD_STACK_BYTES)
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Internal,
                    format!("cannot start a loader thread: {e}"),
                )
            })?;
        handle.join().map_err(|_| {
            Problem::new(
                ProblemKind::Internal,
                "internal error: the loader stopped unexpectedly",
            )
            .with_help("please report this input to the rolegrid developers")
        })
    })
}
