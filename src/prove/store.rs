//! A store's products proved: each product's invariants read from the
//! store, then proved with the built-in checks.

use super::invariants::read_invariants;
use super::model::ProductProof;
use super::pool::SolverPool;
use super::product::prove_product;
use super::solver::Solver;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::limits::Limits;
use crate::snapshot::Snapshot;
use crate::store::Store;
use std::path::Path;

/// A folder under `invariants/` that names no product of the store.
fn stray_invariants(root: &Path, products: &[String]) -> Problems {
    let mut problems = Problems::new();
    let Ok(entries) = std::fs::read_dir(root.join("invariants")) else {
        return problems;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && !products.contains(&name) {
            problems.push(
                Problem::new(
                    ProblemKind::UnknownProduct,
                    format!(
                        "{}: invariants for `{name}`, which is not a product of this store",
                        entry.path().display()
                    ),
                )
                .with_help(format!("products here: {}", products.join(", "))),
            );
        }
    }
    problems
}

/// Proves loaded products: each product's invariants are read from the
/// store at `root` (bad ones are problems: nothing is proved then).
pub fn prove_snapshots<'a>(
    solver: &Solver,
    root: &Path,
    snapshots: impl IntoIterator<Item = &'a Snapshot>,
    limits: &Limits,
    timeout_ms: u64,
) -> Result<Vec<ProductProof>, Problems> {
    let store_products = Store::open(root)?.products()?;
    let stray = stray_invariants(root, &store_products);
    if !stray.is_empty() {
        return Err(stray);
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut solvers = SolverPool::new(solver, timeout_ms, threads);
    let mut read = Vec::new();
    let mut problems = Problems::new();
    for snapshot in snapshots {
        let product = snapshot.product().unwrap_or_default();
        let Some(schema) = snapshot.schema() else {
            continue;
        };
        match read_invariants(root, product, schema, limits) {
            Ok(invariants) => read.push((snapshot, invariants)),
            Err(found) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    read.into_iter()
        .map(|(snapshot, invariants)| {
            prove_product(&mut solvers, snapshot, &invariants).map_err(Problems::from)
        })
        .collect()
}
