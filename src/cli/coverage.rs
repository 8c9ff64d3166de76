//! `rolegrid coverage`: coverage per role (cells covered, allowed, denied,
//! conditional, uncovered) and per policy, for every product asked for.

use super::ExitStatus;
use super::check::{
    CheckFormat, ProductArgs, check_products, exit_without_freeing, pretty, report_problems,
    write_out,
};
use crate::coverage::Coverage;
use crate::report;

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

/// Runs `rolegrid coverage`.
pub fn run(args: &Args) -> ExitStatus {
    let checked = match check_products(&args.products) {
        Ok(checked) => checked,
        Err(problems) => {
            let format = match args.format {
                CoverageFormat::Json => CheckFormat::Json,
                _ => CheckFormat::Human,
            };
            return report_problems(&problems, format);
        }
    };
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
    let status = if write_out(&text).is_err() {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    };
    exit_without_freeing((rest, coverages));
    status
}
