//! JUnit XML (via `quick-junit`), as CI systems read it: one `<testsuite>`
//! per product; one `<testcase>` per matrix row, case and Cedar test (with
//! `file` and `line` attributes), one per policy ("decides an expectation")
//! and, with `--min-coverage`, one per role.

use super::human::{failure_lines, request_text};
use super::{CheckReport, Failure, ProductReport, percent_text};
use crate::check::Validations;
use crate::coverage::{PolicyCoverage, RoleCoverage};
use crate::diagnostics::Problems;
use crate::expect::{Item, ItemOutcome};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};

fn with_place(case: &mut TestCase, file: &str, line: Option<usize>) {
    case.extra
        .insert(XmlString::new("file"), XmlString::new(file));
    if let Some(line) = line {
        case.extra
            .insert(XmlString::new("line"), XmlString::new(line.to_string()));
    }
}

/// `docs.matrix` for `policies/docs/matrix.test.yaml` of product `docs`.
fn class_name(product: &str, file: &std::path::Path) -> String {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = crate::files::FileKind::stem(&name).unwrap_or(&name);
    format!("{product}.{stem}")
}

fn failed(kind: NonSuccessKind, message: String, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(message);
    if !description.is_empty() {
        status.set_description(description);
    }
    status
}

fn product_suite(product: &ProductReport) -> TestSuite {
    let mut suite = TestSuite::new(product.product.as_str());
    suite.set_time(product.duration);
    for (item, outcome) in product.suite.items.iter().zip(&product.outcome.items) {
        suite.add_test_case(item_case(product, item, outcome));
    }
    for policy in &product.coverage.policies {
        suite.add_test_case(policy_case(product, policy));
    }
    if let Some(min) = product.min_coverage {
        for role in &product.coverage.roles {
            suite.add_test_case(role_case(product, role, min));
        }
    }
    suite
}

/// The test case of an expectation item (row, case or Cedar test).
fn item_case(product: &ProductReport, item: &Item, outcome: &ItemOutcome) -> TestCase {
    let status = if outcome.passed() {
        TestCaseStatus::success()
    } else {
        item_failure(product, item, outcome)
    };
    let mut case = TestCase::new(format!("{} {}", item.kind.code(), item.name), status);
    case.set_classname(class_name(&product.product, &item.location.file));
    case.set_assertions(item.check_count());
    with_place(
        &mut case,
        &item.location.file.display().to_string(),
        Some(item.location.line),
    );
    case
}

/// A failed item: its first mismatch, and every failed request with why.
fn item_failure(product: &ProductReport, item: &Item, outcome: &ItemOutcome) -> TestCaseStatus {
    let ns = &product.coverage.namespace;
    let mut description = String::new();
    if let Some(source) = &item.source {
        description.push_str(&format!("source: {source:?}\n"));
    }
    if let Some(hint) = &item.hint {
        description.push_str(&format!("hint: {hint}\n"));
    }
    let mut first = None;
    for failed in &outcome.failures {
        let o = &failed.outcome;
        let failure = Failure {
            item,
            check: &failed.check,
            outcome: o,
        };
        first.get_or_insert_with(|| {
            o.mismatches
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        });
        description.push_str(&request_text(&failure, ns));
        description.push('\n');
        for line in failure_lines(&failure, product) {
            description.push_str(&format!("  {line}\n"));
        }
    }
    let more = outcome.failed().saturating_sub(outcome.failures.len());
    if more > 0 {
        description.push_str(&format!("… and {more} more\n"));
    }
    failed(
        NonSuccessKind::Failure,
        format!(
            "{}: {} of {} failed: {}",
            item.location,
            outcome.failed(),
            outcome.run,
            first.unwrap_or_default()
        ),
        description,
    )
}

/// The test case "this policy decides an expectation".
fn policy_case(product: &ProductReport, policy: &PolicyCoverage) -> TestCase {
    let status = if policy.decided > 0 {
        TestCaseStatus::success()
    } else if product.allowed_untested.iter().any(|p| p.id == policy.id) {
        let mut status = TestCaseStatus::skipped();
        status.set_message("decides no expectation; allowed by --allow-untested");
        status
    } else {
        failed(
            NonSuccessKind::Failure,
            format!(
                "policy `{}` is never the determining policy of any expectation (dead or untested)",
                policy.id
            ),
            String::new(),
        )
    };
    let mut case = TestCase::new(
        format!("policy {} decides an expectation", policy.id),
        status,
    );
    case.set_classname(format!("{}.policies", product.product));
    if let Some(location) = &policy.location {
        with_place(
            &mut case,
            &location.file.display().to_string(),
            Some(location.line),
        );
    }
    case
}

/// The test case "this role covers at least `min` percent of its cells".
fn role_case(product: &ProductReport, role: &RoleCoverage, min: f64) -> TestCase {
    let status = match product.shortfalls.iter().find(|s| s.role == role.role) {
        None => TestCaseStatus::success(),
        Some(s) => {
            let uncovered: Vec<String> = role
                .uncovered()
                .map(|c| format!("{} {}", c.action, c.resource_type))
                .collect();
            failed(
                NonSuccessKind::Failure,
                format!(
                    "role `{}` covers {}/{} cells ({}), below {}",
                    s.role,
                    s.covered,
                    s.cells,
                    percent_text(s.percent),
                    percent_text(min)
                ),
                format!("uncovered: {}", uncovered.join(", ")),
            )
        }
    };
    let mut case = TestCase::new(
        format!("role {} covers at least {}", role.role, percent_text(min)),
        status,
    );
    case.set_classname(format!("{}.coverage", product.product));
    case
}

/// The JUnit XML report of `check`.
pub fn check(report: &CheckReport) -> Result<String, quick_junit::SerializeError> {
    check_with(report, Vec::new())
}

/// [`check`] with more suites after the products' (the proofs').
pub fn check_with(
    report: &CheckReport,
    extra: Vec<TestSuite>,
) -> Result<String, quick_junit::SerializeError> {
    let mut junit = Report::new("rolegrid check");
    junit.set_time(report.duration);
    for product in &report.products {
        junit.add_test_suite(product_suite(product));
    }
    for invalid in &report.invalid {
        junit.add_test_suite(problems_suite(&invalid.product, &invalid.problems));
    }
    junit.add_test_suites(extra);
    junit.to_string()
}

/// The JUnit XML report of `validate`: a suite per product with one test
/// case "loads and validates", or one erroring case per problem.
pub fn validate(
    validations: &Validations,
    duration: std::time::Duration,
) -> Result<String, quick_junit::SerializeError> {
    let mut junit = Report::new("rolegrid validate");
    junit.set_time(duration);
    for product in &validations.products {
        let mut suite = TestSuite::new(product.product.as_str());
        let mut case = TestCase::new("loads and validates", TestCaseStatus::success());
        case.set_classname(format!("rolegrid.{}", product.product));
        case.set_time(product.duration);
        suite.add_test_case(case);
        junit.add_test_suite(suite);
    }
    for invalid in &validations.invalid {
        junit.add_test_suite(problems_suite(&invalid.product, &invalid.problems));
    }
    junit.to_string()
}

/// A JUnit XML report of invalid input: one erroring test case per problem.
pub fn problems(problems: &Problems) -> Result<String, quick_junit::SerializeError> {
    let mut junit = Report::new("rolegrid check");
    junit.add_test_suite(problems_suite("rolegrid", problems));
    junit.to_string()
}

/// A suite of one erroring test case per problem.
fn problems_suite(name: &str, problems: &Problems) -> TestSuite {
    let mut suite = TestSuite::new(name);
    for problem in problems {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(problem.message());
        status.set_type(problem.kind().code());
        if let Some(help) = problem.help_text() {
            status.set_description(help);
        }
        let mut case = TestCase::new(
            format!("{}: {}", problem.kind().code(), problem.message()),
            status,
        );
        case.set_classname("rolegrid.load");
        if let Some(location) = problem.location() {
            let line = problem.spans().next().map(|_| location.line);
            with_place(&mut case, &location.file.display().to_string(), line);
        }
        suite.add_test_case(case);
    }
    suite
}
