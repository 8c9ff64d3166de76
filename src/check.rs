//! Checking a store's products: each loaded, its expectations run and its
//! coverage measured, side by side on every core, reported in order.

use crate::coverage::Coverage;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::expect::{RunOptions, RunOutcome, Suite, run};
use crate::parallel::par_map;
use crate::snapshot::Snapshot;
use crate::store::{LoadOptions, Store};
use std::time::{Duration, Instant};

/// One product loaded, run and measured.
#[derive(Debug)]
pub struct Checked {
    /// The product's name.
    pub product: String,
    /// The snapshot its expectations were run against.
    pub snapshot: Snapshot,
    /// Its expectations.
    pub suite: Suite,
    /// What running them gave.
    pub outcome: RunOutcome,
    /// Its coverage per role and per policy.
    pub coverage: Coverage,
    /// How long loading, running and measuring took.
    pub duration: Duration,
}

/// Every product checked, in the order asked.
#[derive(Debug)]
pub struct Checks {
    /// The products.
    pub products: Vec<Checked>,
    /// Warnings the loads accepted (`LoadOptions::deny_warnings` off).
    pub warnings: Problems,
}

/// Loads each product of `store` (every product when `products` is empty),
/// runs its expectations and measures its coverage: the results, or every
/// problem of every product.
///
/// ```
/// use rolegrid::{LoadOptions, Store};
/// let checks = rolegrid::check::check_products(&Store::open(".")?, &[], &LoadOptions::default())?;
/// assert!(checks.products.iter().all(|c| c.outcome.failed() == 0));
/// # Ok::<(), rolegrid::Problems>(())
/// ```
pub fn check_products(
    store: &Store,
    products: &[String],
    options: &LoadOptions,
) -> Result<Checks, Problems> {
    let products = if products.is_empty() {
        store.products()?
    } else {
        let mut seen: Vec<String> = Vec::new();
        for p in products {
            if !seen.contains(p) {
                seen.push(p.clone());
            }
        }
        seen
    };
    if products.is_empty() {
        return Err(Problem::new(
            ProblemKind::UnknownProduct,
            format!("the store at {} has no products", store.root_text()),
        )
        .with_help(
            "a product is a `schemas/<product>.cedarschema` with its `policies/<product>/` folder",
        )
        .into());
    }
    let results = par_map(
        &products,
        |_| 1,
        |product| check_one(store, product, options),
    );
    let mut problems = Problems::new();
    let mut checked = Vec::new();
    for (result, warnings) in results {
        problems.extend(warnings);
        match result {
            Ok(one) => checked.push(one),
            Err(more) => problems.extend(more),
        }
    }
    if problems.has_errors() {
        return Err(problems);
    }
    Ok(Checks {
        products: checked,
        warnings: problems,
    })
}

/// Loads, runs and measures one product; its accepted warnings aside.
fn check_one(
    store: &Store,
    product: &str,
    options: &LoadOptions,
) -> (Result<Checked, Problems>, Problems) {
    let start = Instant::now();
    let snapshot = match store.load(product, options) {
        Ok(snapshot) => snapshot,
        Err(problems) => return (Err(problems), Problems::new()),
    };
    let warnings = snapshot.warnings().clone();
    let suite = match Suite::load_product(&snapshot) {
        Ok(suite) => suite,
        Err(problems) => return (Err(problems), warnings),
    };
    let outcome = run(&suite, &snapshot, &RunOptions::default());
    let coverage = Coverage::compute(&snapshot, &suite, &outcome);
    let checked = Checked {
        product: product.to_owned(),
        snapshot,
        suite,
        outcome,
        coverage,
        duration: start.elapsed(),
    };
    (Ok(checked), warnings)
}
