//! Proofs over every request and entity store a schema allows, with
//! cedar-policy-symcc (Cedar's symbolic compiler, verified against Cedar's
//! Lean model) and an SMT solver ([`Solver`]).

mod equivalence;
mod solver;

pub use equivalence::{Counterexample, EnvProof, Outcome, prove_equivalence};
pub use solver::{HOW_TO_GET_ONE, Solver};
