//! `rolegrid validate`: load and validate every product (policies against
//! the schema, entities typed, expectation files read and their requests
//! checked) without running an expectation; exit 0 when all loaded, 2 when
//! one did not.

use super::check::{CheckFormat, ProductArgs};
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, report, write_out};
use rolegrid::{Problem, ProblemKind, Store};
use std::time::Instant;

/// Arguments of `rolegrid validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    products: ProductArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: CheckFormat,
}

impl Args {
    /// Where problems go besides stderr: the document `--format` promises.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        self.format.problems_out()
    }
}

/// Runs `rolegrid validate`.
pub fn run(args: &Args) -> Outcome {
    let start = Instant::now();
    let store = Store::open(&args.products.store.root)?;
    let options = args.products.store.load_options();
    let validations = rolegrid::check::validate_products(&store, &args.products.product, &options)?;
    if !validations.warnings.is_empty() {
        // accepted warnings (--allow-warnings): shown, not fatal
        report(&validations.warnings);
    }
    let duration = start.elapsed();
    let text = match args.format {
        CheckFormat::Human => rolegrid::report::human::validate(&validations, duration),
        CheckFormat::Json => pretty(&rolegrid::report::json::validate(&validations, duration)),
        CheckFormat::Github => rolegrid::report::github::validate(&validations),
        CheckFormat::Junit => {
            rolegrid::report::junit::validate(&validations, duration).map_err(|e| {
                Problem::new(
                    ProblemKind::Internal,
                    format!("cannot write JUnit XML: {e}"),
                )
            })?
        }
    };
    write_out(&text)?;
    for invalid in &validations.invalid {
        eprintln!("rolegrid: product `{}` did not load:", invalid.product);
        report(&invalid.problems);
    }
    let status = if validations.invalid.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    };
    Ok(Finished::keeping(status, validations))
}
