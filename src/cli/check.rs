//! `rolegrid check`: load and validate products, run every expectation,
//! measure coverage; exit 0 when all holds, 1 when something failed, 2 on
//! invalid input.

use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, report, write_out};
use crate::coverage::Coverage;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::expect::{RunOptions, RunOutcome, Suite, run as run_suite};
use crate::parallel::par_map;
use crate::report::{self, CheckOptions, CheckReport, ProductReport};
use crate::snapshot::Snapshot;
use crate::store::{LoadOptions, Store};
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

impl Args {
    /// Where problems go besides stderr: the document `--format` promises.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            CheckFormat::Human => ProblemsOut::Stderr,
            CheckFormat::Json => ProblemsOut::Json,
            CheckFormat::Junit => ProblemsOut::Junit,
            CheckFormat::Github => ProblemsOut::Github,
        }
    }
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
    /// Kept with the results for the process's exit to free (see [`super::outcome::Finished`]).
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
    let results = par_map(
        &products,
        |_| 1,
        |product| check_one(&store, product, &options),
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

/// Runs `rolegrid check`.
pub fn run(args: &Args) -> Outcome {
    let start = Instant::now();
    let checked = check_products(&args.products)?;
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
        CheckFormat::Junit => report::junit::check(&check_report).map_err(|e| {
            Problem::new(
                ProblemKind::Internal,
                format!("cannot write JUnit XML: {e}"),
            )
        })?,
    };
    write_out(&text)?;
    let status = if check_report.passed() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    Ok(Finished::keeping(status, (snapshots, check_report)))
}
