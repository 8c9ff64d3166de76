//! `rolegrid coverage`: coverage per role (cells covered, allowed, denied,
//! conditional, uncovered) and per policy, for every product asked for.

use super::check::ProductArgs;
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, report, write_out};
use rolegrid::coverage::Coverage;
use rolegrid::report;

/// Output formats of `coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CoverageFormat {
    /// Readable text.
    #[default]
    Human,
    /// Stable JSON (documented in the README).
    Json,
    /// Markdown tables, with the cells of every role.
    Markdown,
}

/// Arguments of `rolegrid coverage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    products: ProductArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: CoverageFormat,
}

impl Args {
    /// Where problems go besides stderr: JSON for `--format json`.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            CoverageFormat::Json => ProblemsOut::Json,
            CoverageFormat::Human | CoverageFormat::Markdown => ProblemsOut::Stderr,
        }
    }
}

/// Runs `rolegrid coverage`. A product that does not load hides no other
/// product's coverage: it is listed as invalid (its problems on stderr, and
/// in the JSON document), and the exit is 2.
pub fn run(args: &Args) -> Outcome {
    let checks = args.products.check()?;
    let mut rest = Vec::new();
    let coverages: Vec<Coverage> = checks
        .products
        .into_iter()
        .map(|c| {
            rest.push((c.snapshot, c.suite, c.outcome));
            c.coverage
        })
        .collect();
    let invalid = checks.invalid;
    let mut text = match args.format {
        CoverageFormat::Human => report::human::coverage(&coverages),
        CoverageFormat::Json => pretty(&report::json::coverage_with(&coverages, &invalid)),
        CoverageFormat::Markdown => report::markdown::coverage(&coverages),
    };
    if args.format != CoverageFormat::Json {
        for product in &invalid {
            text.push_str(&format!(
                "\n{}: INVALID, {} problem(s) (reported on stderr)\n",
                product.product,
                product.problems.len()
            ));
        }
    }
    write_out(&text)?;
    for product in &invalid {
        eprintln!("rolegrid: product `{}` did not load:", product.product);
        report(&product.problems);
    }
    let status = if invalid.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    };
    Ok(Finished::keeping(status, (rest, coverages, invalid)))
}
