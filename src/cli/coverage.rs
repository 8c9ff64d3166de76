//! `rolegrid coverage`: coverage per role (cells covered, allowed, denied,
//! conditional, uncovered) and per policy, for every product asked for.

use super::check::ProductArgs;
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, write_out};
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

/// Runs `rolegrid coverage`.
pub fn run(args: &Args) -> Outcome {
    let checked = args.products.check_all()?;
    let mut rest = Vec::new();
    let coverages: Vec<Coverage> = checked
        .into_iter()
        .map(|c| {
            rest.push((c.snapshot, c.suite, c.outcome));
            c.coverage
        })
        .collect();
    let text = match args.format {
        CoverageFormat::Human => report::human::coverage(&coverages),
        CoverageFormat::Json => pretty(&report::json::coverage(&coverages)),
        CoverageFormat::Markdown => report::markdown::coverage(&coverages),
    };
    write_out(&text)?;
    Ok(Finished::keeping(ExitStatus::Success, (rest, coverages)))
}
