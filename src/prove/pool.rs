//! Independent proof tasks run on threads, each thread with its own solver
//! process reused for every query it runs (and started again after a
//! failure, which may have ended it).

use super::solver::Solver;
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet, Env};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a query answered: `Ok` with the solver's verdict, or why there is
/// none (a time-out, a solver that failed): never taken as a proof.
pub(crate) type Answer<T> = Result<T, String>;

/// One thread's solver process and what its queries cost.
pub(crate) struct Worker<'s> {
    solver: &'s Solver,
    timeout_ms: u64,
    runtime: tokio::runtime::Runtime,
    compiler: Answer<CedarSymCompiler<LocalSolver>>,
    /// Queries asked.
    pub queries: usize,
    /// Time spent in queries.
    pub busy: Duration,
}

impl<'s> Worker<'s> {
    fn new(solver: &'s Solver, timeout_ms: u64) -> Answer<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime for the solver: {e}"))?;
        let mut worker = Self {
            solver,
            timeout_ms,
            runtime,
            compiler: Err(String::new()),
            queries: 0,
            busy: Duration::ZERO,
        };
        worker.restart();
        Ok(worker)
    }

    /// A new solver process (a tokio child: made inside the runtime).
    fn restart(&mut self) {
        let _entered = self.runtime.enter();
        self.compiler = self
            .solver
            .spawn(self.timeout_ms)
            .and_then(|s| CedarSymCompiler::new(s).map_err(|e| e.to_string()));
    }

    /// Runs one query; a failed one restarts the solver for the next.
    fn ask<T>(
        &mut self,
        query: impl AsyncFnOnce(
            &mut CedarSymCompiler<LocalSolver>,
        ) -> cedar_policy_symcc::err::Result<T>,
    ) -> Answer<T> {
        let started = Instant::now();
        self.queries += 1;
        let answer = match &mut self.compiler {
            Ok(compiler) => self
                .runtime
                .block_on(query(compiler))
                .map_err(|e| e.to_string()),
            Err(why) => Err(format!("the solver did not start: {why}")),
        };
        self.busy += started.elapsed();
        if answer.is_err() {
            self.restart();
        }
        answer
    }

    /// A request `a` allows and `b` denies, if there is one.
    pub fn implies(&mut self, a: &CompiledPolicySet, b: &CompiledPolicySet) -> Answer<Option<Env>> {
        self.ask(async |c| c.check_implies_with_counterexample_opt(a, b).await)
    }

    /// Whether every request `a` allows, `b` allows (no counterexample).
    pub fn implies_only(&mut self, a: &CompiledPolicySet, b: &CompiledPolicySet) -> Answer<bool> {
        self.ask(async |c| c.check_implies_opt(a, b).await)
    }

    /// A request both `a` and `b` allow, if there is one.
    pub fn overlap(&mut self, a: &CompiledPolicySet, b: &CompiledPolicySet) -> Answer<Option<Env>> {
        self.ask(async |c| c.check_disjoint_with_counterexample_opt(a, b).await)
    }

    /// A request on which `policy` errors, if there is one.
    pub fn errs(&mut self, policy: &CompiledPolicy) -> Answer<Option<Env>> {
        self.ask(async |c| c.check_never_errors_with_counterexample_opt(policy).await)
    }

    /// Whether `policy` matches no request.
    pub fn never_matches(&mut self, policy: &CompiledPolicy) -> Answer<bool> {
        self.ask(async |c| c.check_never_matches_opt(policy).await)
    }
}

/// What the workers did: results in task order, queries asked and time
/// spent in them.
pub(crate) struct Pooled<R> {
    pub results: Vec<R>,
    pub queries: usize,
    pub busy: Duration,
}

/// Solver processes kept for many proofs: one per thread, each reused for
/// every query its thread runs (and started again after a failure).
pub struct SolverPool<'s> {
    workers: Vec<Answer<Worker<'s>>>,
}

impl<'s> SolverPool<'s> {
    /// `threads` solver processes of `solver`, each query limited to
    /// `timeout_ms` (past it: unknown).
    pub fn new(solver: &'s Solver, timeout_ms: u64, threads: usize) -> Self {
        Self {
            workers: (0..threads.max(1))
                .map(|_| Worker::new(solver, timeout_ms))
                .collect(),
        }
    }

    /// Runs `work` on every task, spread over the pool's solvers; a
    /// thread whose solver runtime did not start gives `failed(task, why)`.
    pub(crate) fn run<T: Sync, R: Send>(
        &mut self,
        tasks: &[T],
        work: impl Fn(&mut Worker<'s>, &T) -> R + Sync,
        failed: impl Fn(&T, &str) -> R + Sync,
    ) -> Pooled<R> {
        let next = Mutex::new(0usize);
        // (task index, result) as threads finish, queries, time in queries
        type Done<R> = (Vec<(usize, R)>, usize, Duration);
        let done: Mutex<Done<R>> = Mutex::new((Vec::with_capacity(tasks.len()), 0, Duration::ZERO));
        let take = || {
            let mut next = next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let at = *next;
            *next += 1;
            tasks.get(at).map(|task| (at, task))
        };
        let used = tasks.len().clamp(1, self.workers.len().max(1));
        std::thread::scope(|scope| {
            for worker in self.workers.iter_mut().take(used) {
                let (take, work, failed, done) = (&take, &work, &failed, &done);
                scope.spawn(move || {
                    let (queries, busy) = match worker {
                        Ok(worker) => (worker.queries, worker.busy),
                        Err(_) => (0, Duration::ZERO),
                    };
                    let mut mine = Vec::new();
                    while let Some((at, task)) = take() {
                        let result = match &mut *worker {
                            Ok(worker) => work(worker, task),
                            Err(why) => failed(task, why),
                        };
                        mine.push((at, result));
                    }
                    let mut done = done
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Ok(worker) = &*worker {
                        done.1 += worker.queries - queries;
                        done.2 += worker.busy.saturating_sub(busy);
                    }
                    done.0.extend(mine);
                });
            }
        });
        let (mut results, queries, busy) = done
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        results.sort_by_key(|(at, _)| *at);
        Pooled {
            results: results.into_iter().map(|(_, r)| r).collect(),
            queries,
            busy,
        }
    }
}
