//! `rolegrid check`: load and validate products, run every expectation,
//! measure coverage; exit 0 when all holds, 1 when something failed, 2 on
//! invalid input.

use super::ExitStatus;
use super::output::report;
use crate::coverage::Coverage;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::expect::{RunOptions, RunOutcome, Suite, run as run_suite};
use crate::report::{self, CheckOptions, CheckReport, ProductReport};
use crate::snapshot::Snapshot;
use crate::store::{LoadOptions, Store};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CheckFormat {
    /// Readable text: a line per product and per role, failures at file:line.
    #[default]
    Human,
    /// Stable JSON (documented in the README).
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// GitHub Actions annotations (`::error file=...,line=...::`).
    Github,
}

/// Which products of which store.
#[derive(Debug, Clone, clap::Args)]
pub struct ProductArgs {
    /// The store's root folder (holding `schemas/` and `policies/`).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// A product to check (repeatable); every product of the store by default.
    #[arg(long, short, value_name = "P")]
    pub product: Vec<String>,
    /// Accept validator and schema warnings instead of failing.
    #[arg(long)]
    pub allow_warnings: bool,
}

/// Arguments of `rolegrid check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(super) products: ProductArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: CheckFormat,
    /// Fail when a role of a product covers less than PCT percent of its cells.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    min_coverage: Option<f64>,
    /// Do not fail when a policy is never the determining policy of any expectation.
    #[arg(long)]
    allow_untested: bool,
    /// Do not fail when this policy (id) decides no expectation; repeatable.
    #[arg(long, value_name = "ID")]
    allow_untested_policy: Vec<String>,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    if (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 100"))
    }
}

/// One product loaded, run and measured.
pub(super) struct Checked {
    pub product: String,
    /// Kept, not dropped in the worker: see [`exit_without_freeing`].
    pub snapshot: Snapshot,
    pub suite: Suite,
    pub outcome: RunOutcome,
    pub coverage: Coverage,
    pub duration: Duration,
}

/// Loads every product asked for, runs its expectations and measures its
/// coverage; all problems of all products, or the results.
pub(super) fn check_products(args: &ProductArgs) -> Result<Vec<Checked>, Problems> {
    let store = Store::open(&args.root)?;
    let products = if args.product.is_empty() {
        store.products()?
    } else {
        let mut seen = Vec::new();
        for p in &args.product {
            if !seen.contains(p) {
                seen.push(p.clone());
            }
        }
        seen
    };
    if products.is_empty() {
        return Err(Problem::new(
            ProblemKind::UnknownProduct,
            format!("the store at {} has no products", args.root.display()),
        )
        .with_help(
            "a product is a `schemas/<product>.cedarschema` with its `policies/<product>/` folder",
        )
        .into());
    }
    let options = LoadOptions {
        deny_warnings: !args.allow_warnings,
        ..LoadOptions::default()
    };
    // products are independent: check them side by side, report them in order
    let results: Vec<(Result<Checked, Problems>, Problems)> = std::thread::scope(|scope| {
        let handles: Vec<_> = products
            .iter()
            .map(|product| {
                let job = || check_one(&store, product, &options);
                (
                    std::thread::Builder::new()
                        .name(format!("check-{product}"))
                        .spawn_scoped(scope, job),
                    product,
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(handle, product)| match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    (
                        Err(Problem::new(
                            ProblemKind::Io,
                            format!("internal error: checking `{product}` stopped unexpectedly"),
                        )
                        .into()),
                        Problems::new(),
                    )
                }),
                // no thread to be had: check it here
                Err(_) => check_one(&store, product, &options),
            })
            .collect()
    });
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
    if !problems.is_empty() {
        // accepted warnings (--allow-warnings): shown, not fatal
        report(&problems);
    }
    Ok(checked)
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
    let outcome = run_suite(&suite, &snapshot, &RunOptions::default());
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

/// Prints problems of invalid input in the chosen format (miette reports on
/// stderr always; the machine formats also on stdout).
pub(super) fn report_problems(problems: &Problems, format: CheckFormat) -> ExitStatus {
    report(problems);
    let text = match format {
        CheckFormat::Human => return ExitStatus::Error,
        CheckFormat::Json => pretty(&report::json::problems(problems)),
        CheckFormat::Junit => report::junit::problems(problems).unwrap_or_default(),
        CheckFormat::Github => report::github::problems(problems),
    };
    let _ = write_out(&text);
    ExitStatus::Error
}

pub(super) fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn write_out(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Runs `rolegrid check`.
pub fn run(args: &Args) -> ExitStatus {
    let start = Instant::now();
    let checked = match check_products(&args.products) {
        Ok(checked) => checked,
        Err(problems) => return report_problems(&problems, args.format),
    };
    let options = CheckOptions {
        min_coverage: args.min_coverage,
        allow_untested: args.allow_untested,
        allowed_untested: args.allow_untested_policy.clone(),
    };
    let mut snapshots = Vec::new();
    let products = checked
        .into_iter()
        .map(|c| {
            snapshots.push(c.snapshot);
            ProductReport::new(
                c.product, c.suite, c.outcome, c.coverage, &options, c.duration,
            )
        })
        .collect();
    let check_report = CheckReport {
        products,
        options,
        duration: start.elapsed(),
    };
    let text = match args.format {
        CheckFormat::Human => report::human::check(&check_report),
        CheckFormat::Json => pretty(&report::json::check(&check_report)),
        CheckFormat::Github => report::github::check(&check_report),
        CheckFormat::Junit => match report::junit::check(&check_report) {
            Ok(xml) => xml,
            Err(e) => {
                report(
                    &Problem::new(ProblemKind::Io, format!("cannot write JUnit XML: {e}")).into(),
                );
                return ExitStatus::Error;
            }
        },
    };
    if write_out(&text).is_err() {
        return ExitStatus::Error;
    }
    let status = if check_report.passed() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    exit_without_freeing((snapshots, check_report));
    status
}

/// Leaves `data` to the operating system, which takes a finished process's
/// memory back at once: freeing a large store's snapshot and report piece by
/// piece took seconds (1.5 s for 100,000 entities) after the answer was known.
pub(super) fn exit_without_freeing<T>(data: T) {
    std::mem::forget(data);
}
