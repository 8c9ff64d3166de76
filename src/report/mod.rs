//! Results of `rolegrid check` and `rolegrid coverage`, and the reporters
//! that format them: [`human`], [`json`], [`junit`], [`github`] and
//! [`markdown`]. Reporters only format: everything they print is computed
//! here (from the runner's outcomes and the coverage) before they run.
//!
//! ```
//! use rolegrid::report::{CheckOptions, CheckReport, ProductReport, human};
//! use rolegrid::{LoadOptions, Store};
//! let checks = rolegrid::check::check_products(&Store::open(".")?, &[], &LoadOptions::default())?;
//! let options = CheckOptions::default();
//! let products = checks
//!     .products
//!     .into_iter()
//!     .map(|c| ProductReport::new(c.product, c.suite, c.outcome, c.coverage, &options, c.duration))
//!     .collect();
//! let report = CheckReport {
//!     products,
//!     invalid: checks.invalid,
//!     options,
//!     duration: std::time::Duration::ZERO,
//! };
//! assert!(report.passed());
//! assert!(human::check(&report).contains("check passed"));
//! # Ok::<(), rolegrid::Problems>(())
//! ```

pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;

use crate::coverage::{Coverage, PolicyCoverage};
use crate::diagnostics::Location;
use crate::expect::{Check, CheckOutcome, Item, RunOutcome, Suite};
use std::time::Duration;

/// What makes `check` fail besides failing expectations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckOptions {
    /// Every role must cover at least this percentage of its cells.
    pub min_coverage: Option<f64>,
    /// Accept every policy that decides no expectation.
    pub allow_untested: bool,
    /// Accept these policies deciding no expectation, each written
    /// `<product>/<policy id>` (ids repeat across products).
    pub allowed_untested: Vec<String>,
    /// The `--run` pattern when only some expectations ran: untested
    /// policies and coverage thresholds are then not judged (what did not
    /// run proves nothing either way), and the reports say so.
    pub selection: Option<String>,
}

impl CheckOptions {
    /// Whether a product's policy may decide no expectation.
    pub fn untested_allowed(&self, product: &str, id: &str) -> bool {
        self.allow_untested
            || self
                .allowed_untested
                .iter()
                .any(|allowed| allowed.split_once('/') == Some((product, id)))
    }

    /// Problems with the allowed policies, given the products checked (with
    /// their snapshots) and every product of the store: an entry that is
    /// not `<product>/<id>`, names no product of the store, or names a
    /// policy its product (when checked) does not have. An allowance for
    /// nothing would pass silently what was meant to be looked at.
    pub fn allowlist_problems<'a>(
        &self,
        checked: impl Iterator<Item = (&'a str, &'a crate::Snapshot)> + Clone,
        store_products: &[String],
    ) -> crate::Problems {
        use crate::diagnostics::{Problem, ProblemKind};
        let mut problems = crate::Problems::new();
        for entry in &self.allowed_untested {
            let Some((product, id)) = entry.split_once('/') else {
                let owners: Vec<String> = checked
                    .clone()
                    .filter(|(_, s)| {
                        s.policies()
                            .policy(&cedar_policy::PolicyId::new(entry))
                            .is_some()
                    })
                    .map(|(p, _)| format!("{p}/{entry}"))
                    .collect();
                problems.push(
                    Problem::new(
                        ProblemKind::Usage,
                        format!("--allow-untested-policy {entry}: name the product too, as <product>/<policy id>"),
                    )
                    .with_help(if owners.is_empty() {
                        "no product checked has a policy with that id".to_owned()
                    } else {
                        format!("did you mean {}?", owners.join(" or "))
                    }),
                );
                continue;
            };
            if !store_products.iter().any(|p| p == product) {
                problems.push(
                    Problem::new(
                        ProblemKind::Usage,
                        format!(
                            "--allow-untested-policy {entry}: the store has no product `{product}`"
                        ),
                    )
                    .with_help(format!("products here: {}", store_products.join(", "))),
                );
                continue;
            }
            let Some((_, snapshot)) = checked.clone().find(|(p, _)| *p == product) else {
                continue;
            };
            if snapshot
                .policies()
                .policy(&cedar_policy::PolicyId::new(id))
                .is_none()
            {
                problems.push(Problem::new(
                    ProblemKind::Usage,
                    format!(
                        "--allow-untested-policy {entry}: product `{product}` has no policy `{id}`"
                    ),
                ));
            }
        }
        problems
    }
}

/// A role whose coverage is below `--min-coverage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// The role.
    pub role: String,
    /// Covered cells.
    pub covered: usize,
    /// All cells.
    pub cells: usize,
    /// Covered in percent.
    pub percent: f64,
    /// The threshold.
    pub min: f64,
}

/// The check of one product.
#[derive(Debug, Clone)]
pub struct ProductReport {
    /// The product.
    pub product: String,
    /// The expectations.
    pub suite: Suite,
    /// Their outcomes, parallel to `suite.items`.
    pub outcome: RunOutcome,
    /// Coverage per role and per policy.
    pub coverage: Coverage,
    /// Policies deciding no expectation, not allowed by the options.
    pub untested: Vec<PolicyCoverage>,
    /// Policies deciding no expectation, allowed by the options.
    pub allowed_untested: Vec<PolicyCoverage>,
    /// Roles below `--min-coverage`.
    pub shortfalls: Vec<Shortfall>,
    /// The `--min-coverage` threshold applied, if any.
    pub min_coverage: Option<f64>,
    /// Time to load, run and measure the product.
    pub duration: Duration,
}

/// A failing check with the item it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The row, case or Cedar test.
    pub item: &'a Item,
    /// The request and its expectation.
    pub check: &'a Check,
    /// Cedar's answer and the mismatches.
    pub outcome: &'a CheckOutcome,
}

impl ProductReport {
    /// Puts a product's results together, applying the options.
    pub fn new(
        product: impl Into<String>,
        suite: Suite,
        outcome: RunOutcome,
        coverage: Coverage,
        options: &CheckOptions,
        duration: Duration,
    ) -> Self {
        let product = product.into();
        let (allowed_untested, untested): (Vec<_>, Vec<_>) =
            coverage.undecided().cloned().partition(|p| {
                options.selection.is_some() || options.untested_allowed(&product, &p.id)
            });
        let shortfalls = match options.min_coverage {
            None => Vec::new(),
            Some(_) if options.selection.is_some() => Vec::new(),
            Some(min) => coverage
                .roles
                .iter()
                .filter(|r| r.percent() < min)
                .map(|r| Shortfall {
                    role: r.role.clone(),
                    covered: r.covered(),
                    cells: r.total(),
                    percent: r.percent(),
                    min,
                })
                .collect(),
        };
        Self {
            product,
            suite,
            outcome,
            coverage,
            untested,
            allowed_untested,
            shortfalls,
            min_coverage: options.min_coverage,
            duration,
        }
    }

    /// Whether every expectation holds, every policy decides one (or is
    /// allowed not to) and coverage reaches the threshold.
    pub fn passed(&self) -> bool {
        self.outcome.failed() == 0 && self.untested.is_empty() && self.shortfalls.is_empty()
    }

    /// The first failing checks of every item (at most
    /// [`KEPT_FAILURES`](crate::expect::KEPT_FAILURES) each; each item's
    /// outcome counts them all), in file order.
    pub fn failures(&self) -> impl Iterator<Item = Failure<'_>> {
        self.suite
            .items
            .iter()
            .zip(&self.outcome.items)
            .flat_map(|(item, outcome)| {
                outcome.failures.iter().map(move |failed| Failure {
                    item,
                    check: &failed.check,
                    outcome: &failed.outcome,
                })
            })
    }

    /// Where a policy of the product was written.
    pub fn policy_location(&self, id: &str) -> Option<&Location> {
        self.coverage
            .policies
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.location.as_ref())
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Every product loaded and passed.
    Pass,
    /// Every product loaded; an expectation, a policy or coverage failed.
    Fail,
    /// A product did not load (invalid input).
    Error,
}

impl CheckStatus {
    /// `pass`, `fail` or `error`, as the JSON document says.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Error => "error",
        }
    }
}

/// The check of every product asked for.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// One per product checked, in the order checked.
    pub products: Vec<ProductReport>,
    /// The products that did not load (reported with their problems; the
    /// check as a whole is then invalid input).
    pub invalid: Vec<crate::check::Invalid>,
    /// The options applied.
    pub options: CheckOptions,
    /// Total time.
    pub duration: Duration,
}

impl CheckReport {
    /// Whether every product loaded and passed.
    pub fn passed(&self) -> bool {
        self.invalid.is_empty() && self.products.iter().all(ProductReport::passed)
    }

    /// The outcome of the whole check.
    pub fn status(&self) -> CheckStatus {
        if !self.invalid.is_empty() {
            CheckStatus::Error
        } else if self.passed() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        }
    }

    /// Expectations (checks) run over all products.
    pub fn expectations(&self) -> usize {
        self.products.iter().map(|p| p.outcome.total()).sum()
    }

    /// Failing expectations over all products.
    pub fn failed(&self) -> usize {
        self.products.iter().map(|p| p.outcome.failed()).sum()
    }
}

/// A duration for people: `850ms`, `1.24s`.
pub fn duration_text(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.2}s", duration.as_secs_f64())
    }
}

/// A percentage for people: `100%`, `85.7%`.
pub fn percent_text(percent: f64) -> String {
    if percent.fract() == 0.0 {
        format!("{percent:.0}%")
    } else {
        format!("{percent:.1}%")
    }
}
