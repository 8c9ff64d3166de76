//! Proofs over every request and entity store a schema allows, with
//! cedar-policy-symcc (Cedar's symbolic compiler, verified against Cedar's
//! Lean model) and an SMT solver ([`Solver`]): two policy sets compared
//! ([`prove_equivalence`], for `diff --prove`), and a product's invariants
//! and built-in checks ([`prove_product`], for `prove`).
//!
//! ```no_run
//! use rolegrid::prove::{Solver, SolverPool, prove_product, read_invariants, summary};
//! use rolegrid::{Limits, LoadOptions, Store};
//!
//! let store = Store::open(".")?;
//! let snapshot = store.load("fireworks", &LoadOptions::default())?;
//! let solver = Solver::find()?;
//! let schema = snapshot.schema().ok_or("no schema")?;
//! let invariants = read_invariants(store.root(), "fireworks", schema, &Limits::default())?;
//! // two solver processes, each query given 30 s, reused for every product proved
//! let mut solvers = SolverPool::new(&solver, 30_000, 2);
//! let proof = prove_product(&mut solvers, &snapshot, &invariants)?;
//! println!("{}", summary(&proof));
//! for check in proof.checks.iter().filter(|c| c.fails()) {
//!     println!("{}: {}", check.title(), check.status.word());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod equivalence;
mod invariants;
mod model;
mod pool;
mod product;
mod render;
mod solver;
mod store;

pub use equivalence::{Counterexample, EnvProof, Outcome, prove_equivalence};
pub use invariants::{Invariant, Must, invariants_folder, read_invariants};
pub use model::{CheckKind, CheckResult, ProductProof, RequestText, Severity, Status, Witness};
pub use pool::SolverPool;
pub use product::prove_product;
pub use render::{PROVE_VERSION, github, human, json, junit, junit_suites, summary};
pub use solver::{HOW_TO_GET_ONE, Solver};
pub use store::prove_snapshots;
