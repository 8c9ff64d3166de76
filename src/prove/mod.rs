//! Proofs over every request and entity store a schema allows, with
//! cedar-policy-symcc (Cedar's symbolic compiler, verified against Cedar's
//! Lean model) and an SMT solver ([`Solver`]): two policy sets compared
//! ([`prove_equivalence`], for `diff --prove`), and a product's invariants
//! and built-in checks ([`prove_product`], for `prove`).

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
pub use model::{CheckKind, CheckResult, ProductProof, Severity, Status, Witness};
pub use product::{ProveOptions, prove_product};
pub use render::{PROVE_VERSION, github, human, json, junit, junit_suites, summary};
pub use solver::{HOW_TO_GET_ONE, Solver};
pub use store::prove_snapshots;
