//! `rolegrid prove`: a product's invariants and the built-in checks proved
//! for every request and entity store its schema allows (see
//! [`rolegrid::prove`]); exit 0 all proved, 1 refuted or unknown, 2 bad
//! input or no solver.

use super::check::ProductArgs;
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, write_out};
use rolegrid::prove::{self, ProductProof, Solver};
use rolegrid::{Problem, ProblemKind, Problems, Snapshot, Store};

/// Output format of `rolegrid prove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ProveFormat {
    /// Per product: a summary, each invariant, the built-in checks (the default).
    #[default]
    Human,
    /// The JSON document (`version`, `passed`, `solver`, `products`).
    Json,
    /// JUnit XML: a suite per product, a test case per check.
    Junit,
    /// GitHub annotations on the invariants and policies concerned.
    Github,
}

/// Arguments of `rolegrid prove`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    products: ProductArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: ProveFormat,
    /// The solver's time limit per query, in milliseconds (past it: unknown).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    timeout_ms: u64,
}

impl Args {
    /// Where problems go besides stderr.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            ProveFormat::Json => ProblemsOut::Json,
            ProveFormat::Junit => ProblemsOut::Junit,
            ProveFormat::Github => ProblemsOut::Github,
            ProveFormat::Human => ProblemsOut::Stderr,
        }
    }
}

/// The proof in the format asked.
fn document(
    format: ProveFormat,
    proofs: &[ProductProof],
    solver: &Solver,
) -> Result<String, Problem> {
    Ok(match format {
        ProveFormat::Human => prove::human(proofs),
        ProveFormat::Json => pretty(&prove::json(proofs, &solver.description)),
        ProveFormat::Github => prove::github(proofs),
        ProveFormat::Junit => prove::junit(proofs).map_err(|e| {
            Problem::new(
                ProblemKind::Internal,
                format!("cannot write JUnit XML: {e}"),
            )
        })?,
    })
}

/// Runs `rolegrid prove`.
pub fn run(args: &Args) -> Outcome {
    let solver = Solver::find()?;
    let store_arg = &args.products.store;
    let options = store_arg.load_options();
    let store = Store::open(&store_arg.root)?;
    let products = if args.products.product.is_empty() {
        store.products()?
    } else {
        args.products.product.clone()
    };
    let snapshots = products
        .iter()
        .map(|product| store.load(product, &options))
        .collect::<Result<Vec<Snapshot>, Problems>>()?;
    let proofs = prove::prove_snapshots(
        &solver,
        &store_arg.root,
        &snapshots,
        &options.limits,
        args.timeout_ms,
    )?;
    write_out(&document(args.format, &proofs, &solver)?)?;
    let passed = proofs.iter().all(|p| p.passed);
    Ok(Finished::keeping(
        if passed {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        },
        snapshots,
    ))
}
