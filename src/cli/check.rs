//! `rolegrid check`: load and validate products, run every expectation,
//! measure coverage; exit 0 when all holds, 1 when something failed, 2 on
//! invalid input.

use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, report, write_out};
use super::store_arg::StoreArg;
use rolegrid::check::{Checked, Checks, Selection};
use rolegrid::prove::{self, ProductProof, Solver};
use rolegrid::report::{self, CheckOptions, CheckReport, CheckStatus, ProductReport};
use rolegrid::{Problem, ProblemKind, Problems};
use rolegrid::{Snapshot, Store};
use std::time::Instant;

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
    #[command(flatten)]
    pub store: StoreArg,
    /// A product (repeatable); every product of the store by default.
    #[arg(long, short, value_name = "P")]
    pub product: Vec<String>,
}

/// Arguments of `rolegrid check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(super) products: ProductArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: CheckFormat,
    /// Fail when a role of a product covers less than PCT percent of its
    /// cells: `90` or `90%` (a value up to 1 needs the `%`: `0.9` could mean
    /// either 0.9 % or 90 %).
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    min_coverage: Option<f64>,
    /// Do not fail when a policy is never the determining policy of any expectation.
    #[arg(long)]
    allow_untested: bool,
    /// Do not fail when this policy decides no expectation, written
    /// PRODUCT/ID (it must exist); repeatable.
    #[arg(long, value_name = "PRODUCT/ID")]
    allow_untested_policy: Vec<String>,
    /// Run only the expectations whose name matches REGEX; a name is
    /// `PRODUCT/FILE/KIND NAME` (`fireworks/matrix.test.yaml/row view on
    /// Model`). Untested policies and --min-coverage are then not judged.
    #[arg(long, value_name = "REGEX")]
    run: Option<String>,
    /// List every row, case and Cedar test with its result, passing ones too.
    #[arg(long, short)]
    verbose: bool,
    /// Also prove each product's invariants and built-in checks, as
    /// `rolegrid prove` does: `auto` when a solver is found (saying so when
    /// it is not), `always` (no solver: exit 2) or `never`. `watch` never proves.
    #[arg(
        long,
        value_enum,
        default_value_t,
        env = "ROLEGRID_PROVE",
        value_name = "WHEN"
    )]
    prove: ProveMode,
    /// The solver's time limit per query when proving, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    prove_timeout_ms: u64,
}

/// Whether `check` also proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProveMode {
    /// When a solver is found.
    #[default]
    Auto,
    /// Always: no solver is an error.
    Always,
    /// Never.
    Never,
}

/// What `check` proved.
enum Proofs {
    /// Not asked.
    Off,
    /// Asked, no solver: why.
    Skipped(String),
    /// Every product that loaded, and the solver used.
    Done(Vec<ProductProof>, String),
}

impl Proofs {
    fn failed(&self) -> bool {
        matches!(self, Proofs::Done(proofs, _) if proofs.iter().any(|p| !p.passed))
    }
}

/// Proves the products checked, if asked and possible.
fn prove_checked(args: &Args, snapshots: &[Snapshot], watching: bool) -> Result<Proofs, Problems> {
    if args.prove == ProveMode::Never || watching {
        return Ok(Proofs::Off);
    }
    let solver = match Solver::find() {
        Ok(solver) => solver,
        Err(problem) if args.prove == ProveMode::Auto => {
            let help = problem.help_text().unwrap_or_default();
            return Ok(Proofs::Skipped(format!("{}; {help}", problem.message())));
        }
        Err(problem) => return Err(problem.into()),
    };
    let store = &args.products.store;
    let proofs = prove::prove_snapshots(
        &solver,
        &store.root,
        snapshots,
        &store.limits.limits(),
        args.prove_timeout_ms,
    )?;
    Ok(Proofs::Done(proofs, solver.description))
}

impl CheckFormat {
    /// Where problems go besides stderr: the document the format promises.
    pub(super) fn problems_out(self) -> ProblemsOut {
        match self {
            CheckFormat::Human => ProblemsOut::Stderr,
            CheckFormat::Json => ProblemsOut::Json,
            CheckFormat::Junit => ProblemsOut::Junit,
            CheckFormat::Github => ProblemsOut::Github,
        }
    }
}

impl Args {
    /// Whether the output is JSON.
    pub(super) fn is_json(&self) -> bool {
        self.format == CheckFormat::Json
    }

    /// Where problems go besides stderr: the document `--format` promises.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        self.format.problems_out()
    }
}

impl ProductArgs {
    /// Loads, runs and measures the products asked for (see
    /// [`rolegrid::check::check_products`]); accepted warnings are shown.
    pub(super) fn check(&self) -> Result<Checks, Problems> {
        self.check_selected(None)
    }

    /// [`ProductArgs::check`] running only the expectations `selection` selects.
    pub(super) fn check_selected(&self, selection: Option<&Selection>) -> Result<Checks, Problems> {
        let options = self.store.load_options();
        let store = Store::open(&self.store.root)?;
        let checks = rolegrid::check::check_selected(&store, &self.product, &options, selection)?;
        if !checks.warnings.is_empty() {
            // accepted warnings (--allow-warnings): shown, not fatal
            report(&checks.warnings);
        }
        Ok(checks)
    }

    /// [`ProductArgs::check`] for commands that need every product: any
    /// product that did not load makes the whole run invalid input.
    pub(super) fn check_all(&self) -> Result<Vec<Checked>, Problems> {
        let checks = self.check()?;
        if checks.invalid.is_empty() {
            Ok(checks.products)
        } else {
            Err(checks.problems())
        }
    }
}

/// A percentage: `90` or `90%`; a value in (0, 1] needs its `%`.
fn parse_percent(text: &str) -> Result<f64, String> {
    let (number, marked) = match text.strip_suffix('%') {
        Some(number) => (number, true),
        None => (text, false),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("{value} is not between 0 and 100"));
    }
    if !marked && value > 0.0 && value <= 1.0 {
        return Err(format!(
            "`{text}` is ambiguous: write {}% for {} percent, or {text}% for {text} percent",
            value * 100.0,
            value * 100.0
        ));
    }
    Ok(value)
}

/// One run of `rolegrid watch`: its number and when it started (RFC 3339).
#[derive(Debug, Clone, serde::Serialize)]
pub(super) struct WatchRun {
    pub run: u64,
    pub time: String,
}

/// A document of `watch --format json`: the run, then the check document.
#[derive(serde::Serialize)]
pub(super) struct WatchLine<'a, T: serde::Serialize> {
    #[serde(flatten)]
    pub run: &'a WatchRun,
    #[serde(flatten)]
    pub document: T,
}

/// A document on one line.
pub(super) fn json_line(value: &impl serde::Serialize) -> String {
    let mut line = serde_json::to_string(value).unwrap_or_default();
    line.push('\n');
    line
}

/// The proofs as the `prove` member of the JSON document.
fn proofs_json(proofs: &Proofs) -> Option<serde_json::Value> {
    match proofs {
        Proofs::Off => None,
        Proofs::Skipped(why) => Some(serde_json::json!({ "skipped": why })),
        Proofs::Done(proofs, solver) => Some(prove::json(proofs, solver)),
    }
}

/// The proofs after the check's text, in the format asked.
fn proofs_text(format: CheckFormat, proofs: &Proofs) -> String {
    match (format, proofs) {
        (_, Proofs::Off) | (CheckFormat::Json | CheckFormat::Junit, _) => String::new(),
        (CheckFormat::Human, Proofs::Skipped(why)) => format!("prove skipped: {why}\n"),
        (CheckFormat::Human, Proofs::Done(proofs, _)) => {
            let failed = proofs.iter().filter(|p| !p.passed).count();
            let verdict = if failed == 0 {
                String::new()
            } else {
                format!(
                    "check FAILED: the proof failed for {failed} of {} products\n",
                    proofs.len()
                )
            };
            format!("\n{}{verdict}", prove::human(proofs))
        }
        (CheckFormat::Github, Proofs::Skipped(why)) => format!(
            "::notice title=rolegrid prove::{}\n",
            report::github::escape_data(&format!("skipped: {why}"))
        ),
        (CheckFormat::Github, Proofs::Done(proofs, _)) => prove::github(proofs),
    }
}

/// The proofs as JUnit suites: one per product, or one skipped case.
fn proofs_junit(proofs: &Proofs) -> Vec<quick_junit::TestSuite> {
    use quick_junit::{TestCase, TestCaseStatus, TestSuite};
    match proofs {
        Proofs::Off => Vec::new(),
        Proofs::Done(proofs, _) => prove::junit_suites(proofs),
        Proofs::Skipped(why) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(why.clone());
            let mut suite = TestSuite::new("prove");
            suite.add_test_case(TestCase::new("prove", status));
            vec![suite]
        }
    }
}

/// The check document with its `prove` member last.
#[derive(serde::Serialize)]
struct WithProofs<T: serde::Serialize> {
    #[serde(flatten)]
    check: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    prove: Option<serde_json::Value>,
}

/// The report in the format asked (for a run of `watch`, JSON on one line).
fn document(
    args: &Args,
    check_report: &CheckReport,
    proofs: &Proofs,
    watching: Option<&WatchRun>,
) -> Result<String, Problems> {
    let json = || WithProofs {
        check: report::json::check(check_report),
        prove: proofs_json(proofs),
    };
    let text = match args.format {
        CheckFormat::Human if args.verbose => report::human::check_verbose(check_report),
        CheckFormat::Human => report::human::check(check_report),
        CheckFormat::Json => match watching {
            Some(run) => json_line(&WatchLine {
                run,
                document: json(),
            }),
            None => pretty(&json()),
        },
        CheckFormat::Github => report::github::check(check_report),
        CheckFormat::Junit => report::junit::check_with(check_report, proofs_junit(proofs))
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Internal,
                    format!("cannot write JUnit XML: {e}"),
                )
            })?,
    };
    Ok(text + &proofs_text(args.format, proofs))
}

/// Runs `rolegrid check`.
pub fn run(args: &Args) -> Outcome {
    run_as(args, None)
}

/// Runs `rolegrid check`; for a run of `watch`, `--format json` writes the
/// document on one line, led by the run's number and time.
pub(super) fn run_as(args: &Args, watching: Option<&WatchRun>) -> Outcome {
    let start = Instant::now();
    let selection = args.run.as_deref().map(Selection::new).transpose()?;
    let Checks {
        products: checked,
        invalid,
        ..
    } = args.products.check_selected(selection.as_ref())?;
    if let Some(pattern) = &args.run
        && checked.is_empty()
        && invalid.is_empty()
    {
        return Err(Problem::new(
            ProblemKind::Usage,
            format!("--run {pattern:?} selects no expectation"),
        )
        .with_help("a name is PRODUCT/FILE/KIND NAME, e.g. `fireworks/matrix.test.yaml/row view on Model`; `rolegrid check --verbose` lists them")
        .into());
    }
    let options = CheckOptions {
        min_coverage: args.min_coverage,
        allow_untested: args.allow_untested,
        allowed_untested: args.allow_untested_policy.clone(),
        selection: args.run.clone(),
    };
    if !options.allowed_untested.is_empty() {
        let store_products = Store::open(&args.products.store.root)?.products()?;
        let problems = options.allowlist_problems(
            checked.iter().map(|c| (c.product.as_str(), &c.snapshot)),
            &store_products,
        );
        if !problems.is_empty() {
            return Err(problems);
        }
    }
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
    // the check's time is the expectations'; each proof reports its own
    let check_report = CheckReport {
        products,
        invalid,
        options,
        duration: start.elapsed(),
    };
    let proofs = prove_checked(args, &snapshots, watching.is_some())?;
    let text = document(args, &check_report, &proofs, watching)?;
    write_out(&text)?;
    // the products that did not load: their reports, each under its name
    for invalid in &check_report.invalid {
        eprintln!("rolegrid: product `{}` did not load:", invalid.product);
        report(&invalid.problems);
    }
    let status = match check_report.status() {
        CheckStatus::Error => ExitStatus::Error,
        CheckStatus::Fail => ExitStatus::Failure,
        CheckStatus::Pass if proofs.failed() => ExitStatus::Failure,
        CheckStatus::Pass => ExitStatus::Success,
    };
    Ok(Finished::keeping(status, (snapshots, check_report)))
}
