//! What `prove` found, as text for a terminal, JSON, JUnit XML and GitHub
//! annotations.

use super::model::{CheckKind, CheckResult, ProductProof, Severity, Status, Witness};
use crate::report::github::{escape_data, escape_property};
use std::fmt::Write;

/// Version of the JSON document.
pub const PROVE_VERSION: u32 = 1;

fn place(check: &CheckResult) -> String {
    match (&check.file, check.line) {
        (Some(file), Some(line)) => format!(" ({file}:{line})"),
        _ => String::new(),
    }
}

fn status_word(check: &CheckResult) -> &'static str {
    match (check.status, check.severity) {
        (Status::Refuted, Severity::Warning) => "warning",
        (Status::Refuted, Severity::Error) => "REFUTED",
        (Status::Unknown, _) => "UNKNOWN",
        (status, _) => status.word(),
    }
}

/// The witness in words: the request, the decisions and the case to paste.
fn witness_lines(check: &CheckResult, witness: &Witness, indent: &str) -> String {
    let confirmed = if witness.confirmed {
        "confirmed by the authorizer"
    } else {
        "NOT confirmed by the authorizer"
    };
    let mut out = format!(
        "{indent}counterexample ({confirmed}): {} {} {}",
        witness.request.principal, witness.request.action, witness.request.resource
    );
    if witness.errors.is_empty() {
        let _ = write!(
            out,
            ": the product decides {}, the check asks {}",
            witness.decision, witness.expected
        );
    } else {
        let _ = write!(out, ": {}", witness.errors.join("; "));
    }
    let name = format!("prove: {} ({})", check.title(), witness.request.action);
    let _ = write!(
        out,
        "\n{indent}expectation case: {}\n",
        witness.case_text(&name)
    );
    out
}

fn check_lines(check: &CheckResult) -> String {
    let mut out = format!(
        "  {:<8} {}{}",
        status_word(check),
        check.title(),
        place(check)
    );
    if let Some(reason) = &check.reason {
        let _ = write!(out, ": {reason}");
    }
    out.push('\n');
    for witness in &check.counterexamples {
        out.push_str(&witness_lines(check, witness, "           "));
    }
    out
}

/// One line on a built-in check over every policy: how many hold.
fn built_in_line(product: &ProductProof, kind: CheckKind, what: &str) -> Option<String> {
    let of_kind: Vec<&CheckResult> = product.checks.iter().filter(|c| c.kind == kind).collect();
    let proved = of_kind
        .iter()
        .filter(|c| c.status == Status::Proved)
        .count();
    (!of_kind.is_empty())
        .then(|| format!("  {what}: {proved} of {} policies proved\n", of_kind.len()))
}

/// The product's first line: passed or failed, counts, time.
pub fn summary(product: &ProductProof) -> String {
    let per_query = if product.queries == 0 {
        0.0
    } else {
        product.query_time.as_secs_f64() * 1000.0 / product.queries as f64
    };
    format!(
        "{}: {}: {} checks, {} proved, {} refuted ({} warnings), {} unknown, {} skipped; {} request environments, {} queries, {:.2} s ({per_query:.1} ms per query)",
        product.product,
        if product.passed { "passed" } else { "FAILED" },
        product.checks.len(),
        product.count(Status::Proved),
        product.count(Status::Refuted),
        product.warnings(),
        product.count(Status::Unknown),
        product.count(Status::Skipped),
        product.environments,
        product.queries,
        product.duration.as_secs_f64(),
    )
}

/// For a terminal: per product, its summary, every invariant and deny by
/// default, then the built-in checks per policy (listed when not proved).
pub fn human(products: &[ProductProof]) -> String {
    let mut out = String::new();
    for product in products {
        out.push_str(&summary(product));
        out.push('\n');
        for check in product
            .checks
            .iter()
            .filter(|c| matches!(c.kind, CheckKind::Invariant | CheckKind::DenyByDefault))
        {
            out.push_str(&check_lines(check));
        }
        for (kind, what) in [
            (CheckKind::NeverErrors, "never errors"),
            (CheckKind::NotDead, "can match (not dead)"),
            (
                CheckKind::NotRedundant,
                "changes some decision (not redundant)",
            ),
        ] {
            out.extend(built_in_line(product, kind, what));
            for check in product
                .checks
                .iter()
                .filter(|c| c.kind == kind && c.status != Status::Proved)
            {
                out.push_str(&check_lines(check));
            }
        }
    }
    out
}

/// The JSON document: version, whether everything passed, the solver, and
/// per product every check.
pub fn json(products: &[ProductProof], solver: &str) -> serde_json::Value {
    serde_json::json!({
        "version": PROVE_VERSION,
        "passed": products.iter().all(|p| p.passed),
        "solver": solver,
        "products": products,
    })
}

/// The message of a check that did not pass.
fn message(check: &CheckResult) -> String {
    let mut out = format!("{}: {}", check.title(), check.status.word());
    if let Some(reason) = &check.reason {
        let _ = write!(out, ": {reason}");
    }
    for witness in &check.counterexamples {
        out.push('\n');
        out.push_str(&witness_lines(check, witness, ""));
    }
    out.trim_end().to_owned()
}

/// GitHub annotations: an error per check that fails, a warning per
/// redundant or dead policy, a notice per skipped check, then a summary
/// line per product.
pub fn github(products: &[ProductProof]) -> String {
    let mut out = String::new();
    for product in products {
        for check in &product.checks {
            let level = match (check.status, check.fails()) {
                (_, true) => "error",
                (Status::Refuted, false) => "warning",
                (Status::Skipped, _) => "notice",
                _ => continue,
            };
            let mut properties = Vec::new();
            if let (Some(file), Some(line)) = (&check.file, check.line) {
                properties.push(format!("file={}", escape_property(file)));
                properties.push(format!("line={line}"));
            }
            properties.push(format!(
                "title={}",
                escape_property(&format!("rolegrid prove: {}", product.product))
            ));
            let _ = writeln!(
                out,
                "::{level} {}::{}",
                properties.join(","),
                escape_data(&message(check))
            );
        }
        let _ = writeln!(out, "{}", summary(product));
    }
    out
}

/// JUnit XML: a suite per product (`prove.<product>`), a test case per
/// check; failing checks are failures (unknown ones errors), warnings pass
/// with their message in the case's output.
pub fn junit_suites(products: &[ProductProof]) -> Vec<quick_junit::TestSuite> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite, XmlString};
    products
        .iter()
        .map(|product| {
            let mut suite = TestSuite::new(format!("prove.{}", product.product));
            suite.set_time(product.duration);
            for check in &product.checks {
                let status = match check.status {
                    Status::Skipped => TestCaseStatus::skipped(),
                    _ if !check.fails() => TestCaseStatus::success(),
                    status => {
                        let kind = if status == Status::Unknown {
                            NonSuccessKind::Error
                        } else {
                            NonSuccessKind::Failure
                        };
                        let mut failed = TestCaseStatus::non_success(kind);
                        failed.set_message(format!("{}: {}", check.title(), status.word()));
                        failed.set_description(message(check));
                        failed
                    }
                };
                let mut case = TestCase::new(check.title(), status);
                case.set_classname(format!("prove.{}", product.product));
                if check.status == Status::Refuted && !check.fails() {
                    case.set_system_out(message(check));
                }
                if let (Some(file), Some(line)) = (&check.file, check.line) {
                    case.extra
                        .insert(XmlString::new("file"), XmlString::new(file));
                    case.extra
                        .insert(XmlString::new("line"), XmlString::new(line.to_string()));
                }
                suite.add_test_case(case);
            }
            suite
        })
        .collect()
}

/// JUnit XML of `prove`.
pub fn junit(products: &[ProductProof]) -> Result<String, quick_junit::SerializeError> {
    let mut report = quick_junit::Report::new("rolegrid prove");
    report.add_test_suites(junit_suites(products));
    report.to_string()
}
