//! Stable JSON (`"version": 2`), documented in the README: each document a
//! serde type whose fields are written in the order declared.

use super::{CheckReport, Failure, ProductReport, Shortfall};
use crate::answer::Answer;
use crate::check::{Invalid, Validations};
use crate::coverage::{Coverage, PolicyCoverage};
use crate::diagnostics::{Location, Problem, Problems};
use crate::expect::{Item, ItemKind, ItemOutcome, ReasonMatch, decision_name};
use serde::Serialize;
use serde_json::Value;

/// The version of the JSON shapes below; bumped on incompatible changes.
pub const VERSION: u32 = crate::json::DOCUMENT_VERSION;

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A place in a file (`null`s when unknown), written inline in its object.
#[derive(Serialize, Default)]
struct Place {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
}

impl Place {
    fn of(location: Option<&Location>) -> Self {
        location.map_or_else(Self::default, |l| Self {
            file: Some(l.file.display().to_string()),
            line: Some(l.line),
            column: Some(l.column),
        })
    }
}

#[derive(Serialize)]
struct PolicyJson<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'a str>,
    #[serde(flatten)]
    place: Place,
}

impl<'a> PolicyJson<'a> {
    fn of(p: &'a PolicyCoverage) -> Self {
        Self {
            id: &p.id,
            effect: Some(p.effect),
            place: Place::of(p.location.as_ref()),
        }
    }
}

#[derive(Serialize)]
struct ExpectedJson<'a> {
    decision: &'static str,
    reasons: &'a Option<Vec<String>>,
    reason_match: &'a ReasonMatch,
    errors: &'a Option<usize>,
}

/// A failing row, case or Cedar test: once, with its counts and its first
/// failing requests.
#[derive(Serialize)]
struct FailedItemJson<'a> {
    file: String,
    line: usize,
    column: usize,
    kind: &'static str,
    name: &'a str,
    source: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: &'a Option<String>,
    requests: usize,
    failed: usize,
    /// The first failing requests (at most
    /// [`KEPT_FAILURES`](crate::expect::KEPT_FAILURES)), in order.
    first_failures: Vec<FailureJson<'a>>,
}

impl<'a> FailedItemJson<'a> {
    fn of(item: &'a Item, outcome: &'a ItemOutcome, product: &'a ProductReport) -> Self {
        Self {
            file: item.location.file.display().to_string(),
            line: item.location.line,
            column: item.location.column,
            kind: item.kind.code(),
            name: &item.name,
            source: &item.source,
            hint: &item.hint,
            requests: outcome.run,
            failed: outcome.failed(),
            first_failures: outcome
                .failures
                .iter()
                .map(|failed| {
                    FailureJson::of(
                        &Failure {
                            item,
                            check: &failed.check,
                            outcome: &failed.outcome,
                        },
                        product,
                    )
                })
                .collect(),
        }
    }
}

/// One failing request.
#[derive(Serialize)]
struct FailureJson<'a> {
    principal: String,
    action: String,
    resource: String,
    context: &'a Value,
    role: &'a Option<String>,
    roles: &'a [String],
    expected: ExpectedJson<'a>,
    actual: &'a Answer,
    mismatches: Vec<String>,
    determining_policies: Vec<PolicyJson<'a>>,
}

impl<'a> FailureJson<'a> {
    fn of(f: &Failure<'a>, product: &'a ProductReport) -> Self {
        let check = f.check;
        let answer = &f.outcome.answer;
        Self {
            principal: check.principal.to_string(),
            action: check.action.to_string(),
            resource: check.resource.to_string(),
            context: &check.context,
            role: &check.role,
            roles: &check.roles,
            expected: ExpectedJson {
                decision: decision_name(check.expected.decision),
                reasons: &check.expected.reasons,
                reason_match: &check.expected.reason_match,
                errors: &check.expected.errors,
            },
            actual: answer,
            mismatches: f
                .outcome
                .mismatches
                .iter()
                .map(ToString::to_string)
                .collect(),
            determining_policies: answer
                .reasons()
                .iter()
                .map(|r| PolicyJson {
                    id: r.as_ref(),
                    effect: None,
                    place: Place::of(product.policy_location(r.as_ref())),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct ExpectationsJson {
    total: usize,
    passed: usize,
    failed: usize,
    rows: usize,
    cases: usize,
    cedar_tests: usize,
}

#[derive(Serialize)]
struct ShortfallJson<'a> {
    role: &'a str,
    covered: usize,
    cells: usize,
    percent: f64,
    min: f64,
}

impl<'a> ShortfallJson<'a> {
    fn of(s: &'a Shortfall) -> Self {
        Self {
            role: &s.role,
            covered: s.covered,
            cells: s.cells,
            percent: s.percent,
            min: s.min,
        }
    }
}

#[derive(Serialize)]
struct ProductJson<'a> {
    product: &'a str,
    namespace: &'a str,
    status: &'static str,
    duration_ms: u64,
    files: Vec<String>,
    expectations: ExpectationsJson,
    failures: Vec<FailedItemJson<'a>>,
    untested_policies: Vec<PolicyJson<'a>>,
    allowed_untested_policies: Vec<PolicyJson<'a>>,
    coverage_failures: Vec<ShortfallJson<'a>>,
    coverage: &'a Coverage,
}

impl<'a> ProductJson<'a> {
    fn of(p: &'a ProductReport) -> Self {
        Self {
            product: &p.product,
            namespace: &p.coverage.namespace,
            status: pass_or_fail(p.passed()),
            duration_ms: millis(p.duration),
            files: p
                .suite
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
            expectations: ExpectationsJson {
                total: p.outcome.total(),
                passed: p.outcome.passed(),
                failed: p.outcome.failed(),
                rows: p.suite.count(ItemKind::Row),
                cases: p.suite.count(ItemKind::Case),
                cedar_tests: p.suite.count(ItemKind::CedarTest),
            },
            failures: p
                .suite
                .items
                .iter()
                .zip(&p.outcome.items)
                .filter(|(_, outcome)| !outcome.passed())
                .map(|(item, outcome)| FailedItemJson::of(item, outcome, p))
                .collect(),
            untested_policies: p.untested.iter().map(PolicyJson::of).collect(),
            allowed_untested_policies: p.allowed_untested.iter().map(PolicyJson::of).collect(),
            coverage_failures: p.shortfalls.iter().map(ShortfallJson::of).collect(),
            coverage: &p.coverage,
        }
    }
}

fn pass_or_fail(passed: bool) -> &'static str {
    if passed { "pass" } else { "fail" }
}

#[derive(Serialize)]
struct SummaryJson {
    products: usize,
    invalid_products: usize,
    failed_products: usize,
    expectations: usize,
    passed: usize,
    failed: usize,
}

#[derive(Serialize)]
struct OptionsJson<'a> {
    min_coverage: Option<f64>,
    allow_untested: bool,
    allow_untested_policies: &'a [String],
    /// The `--run` pattern, when only the expectations it selects ran.
    run: Option<&'a str>,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    version: u32,
    status: &'static str,
    duration_ms: u64,
    summary: SummaryJson,
    options: OptionsJson<'a>,
    products: Vec<ProductJson<'a>>,
    /// Products that did not load, each with its number of problems.
    invalid_products: Vec<InvalidJson<'a>>,
    /// Their problems, each naming its product.
    problems: Vec<ProblemJson<'a>>,
}

#[derive(Serialize)]
struct InvalidJson<'a> {
    product: &'a str,
    status: &'static str,
    problems: usize,
}

/// The JSON report of `check`.
pub fn check(report: &CheckReport) -> impl Serialize + '_ {
    CheckJson {
        version: VERSION,
        status: report.status().as_str(),
        duration_ms: millis(report.duration),
        summary: SummaryJson {
            products: report.products.len() + report.invalid.len(),
            invalid_products: report.invalid.len(),
            failed_products: report.products.iter().filter(|p| !p.passed()).count(),
            expectations: report.expectations(),
            passed: report.expectations() - report.failed(),
            failed: report.failed(),
        },
        options: OptionsJson {
            min_coverage: report.options.min_coverage,
            allow_untested: report.options.allow_untested,
            allow_untested_policies: &report.options.allowed_untested,
            run: report.options.selection.as_deref(),
        },
        products: report.products.iter().map(ProductJson::of).collect(),
        invalid_products: invalid_products(&report.invalid),
        problems: product_problems(&report.invalid),
    }
}

#[derive(Serialize)]
struct ValidatedJson<'a> {
    product: &'a str,
    status: &'static str,
    duration_ms: u64,
    policies: usize,
    entities: usize,
    expectation_files: usize,
    expectations: usize,
}

#[derive(Serialize)]
struct ValidateJson<'a> {
    version: u32,
    status: &'static str,
    duration_ms: u64,
    products: Vec<ValidatedJson<'a>>,
    invalid_products: Vec<InvalidJson<'a>>,
    problems: Vec<ProblemJson<'a>>,
}

/// The problems of products that did not load, each naming its product.
fn product_problems(invalid: &[Invalid]) -> Vec<ProblemJson<'_>> {
    invalid
        .iter()
        .flat_map(|i| {
            i.problems.iter().map(|p| ProblemJson {
                product: Some(&i.product),
                ..ProblemJson::of(p)
            })
        })
        .collect()
}

fn invalid_products(invalid: &[Invalid]) -> Vec<InvalidJson<'_>> {
    invalid
        .iter()
        .map(|i| InvalidJson {
            product: &i.product,
            status: "error",
            problems: i.problems.len(),
        })
        .collect()
}

/// The JSON report of `validate`: `status` is `pass` when every product
/// loaded, `error` otherwise.
pub fn validate(validations: &Validations, duration: std::time::Duration) -> impl Serialize + '_ {
    ValidateJson {
        version: VERSION,
        status: if validations.invalid.is_empty() {
            "pass"
        } else {
            "error"
        },
        duration_ms: millis(duration),
        products: validations
            .products
            .iter()
            .map(|p| ValidatedJson {
                product: &p.product,
                status: "valid",
                duration_ms: millis(p.duration),
                policies: p.snapshot.policy_count(),
                entities: p.snapshot.entity_count(),
                expectation_files: p.suite.files.len(),
                expectations: p.suite.check_count(),
            })
            .collect(),
        invalid_products: invalid_products(&validations.invalid),
        problems: product_problems(&validations.invalid),
    }
}

#[derive(Serialize)]
struct CoverageJson<'a> {
    version: u32,
    products: &'a [Coverage],
    invalid_products: Vec<InvalidJson<'a>>,
    problems: Vec<ProblemJson<'a>>,
}

/// The JSON report of `coverage`.
pub fn coverage(coverages: &[Coverage]) -> impl Serialize + '_ {
    coverage_with(coverages, &[])
}

/// The JSON report of `coverage` with the products that did not load
/// (`invalid_products` and their `problems`, as in `check`'s document).
pub fn coverage_with<'a>(coverages: &'a [Coverage], invalid: &'a [Invalid]) -> impl Serialize + 'a {
    CoverageJson {
        version: VERSION,
        products: coverages,
        invalid_products: invalid_products(invalid),
        problems: product_problems(invalid),
    }
}

#[derive(Serialize)]
struct ProblemJson<'a> {
    /// The product the problem belongs to (in `check`'s document).
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<&'a str>,
    kind: &'static str,
    severity: &'static str,
    message: &'a str,
    #[serde(flatten)]
    place: Place,
    help: Option<&'a str>,
}

impl<'a> ProblemJson<'a> {
    fn of(p: &'a Problem) -> Self {
        let location = p.location();
        let place = match (&location, p.file()) {
            (Some(l), _) if p.spans().next().is_some() => Place::of(Some(l)),
            (_, Some(f)) => Place {
                file: Some(f.path().display().to_string()),
                ..Place::default()
            },
            _ => Place::default(),
        };
        Self {
            product: None,
            kind: p.kind().code(),
            severity: if p.is_warning() { "warning" } else { "error" },
            message: p.message(),
            place,
            help: p.help_text(),
        }
    }
}

#[derive(Serialize)]
struct ProblemsJson<'a> {
    version: u32,
    status: &'static str,
    problems: Vec<ProblemJson<'a>>,
}

/// The JSON report of invalid input (exit 2): every problem with its place.
pub fn problems(problems: &Problems) -> impl Serialize + '_ {
    ProblemsJson {
        version: VERSION,
        status: "error",
        problems: problems.iter().map(ProblemJson::of).collect(),
    }
}
