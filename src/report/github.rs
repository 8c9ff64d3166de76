//! GitHub Actions workflow commands: an `::error file=...,line=...::`
//! annotation per failing row, case or Cedar test, per untested policy and
//! per role under `--min-coverage`, then one summary line per product.

use super::human::{failure_lines, product_line, request_text, validated_line};
use super::{CheckReport, Failure, ProductReport, percent_text};
use crate::check::Validations;
use crate::diagnostics::{Location, Problems};
use crate::expect::{Item, ItemOutcome};
use std::fmt::Write;

/// Failing requests listed per annotation before "and N more".
const PER_ITEM: usize = 10;

/// Escapes a message (`%`, CR, LF) as GitHub's workflow commands require.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(out: &mut String, location: Option<&Location>, title: &str, message: &str) {
    let mut properties = Vec::new();
    if let Some(l) = location {
        properties.push(format!(
            "file={}",
            escape_property(&l.file.display().to_string())
        ));
        properties.push(format!("line={}", l.line));
        properties.push(format!("col={}", l.column));
    }
    properties.push(format!("title={}", escape_property(title)));
    let _ = writeln!(
        out,
        "::error {}::{}",
        properties.join(","),
        escape_data(message)
    );
}

/// The GitHub annotations of `check`.
pub fn check(report: &CheckReport) -> String {
    let mut out = String::new();
    for product in &report.products {
        for (item, outcome) in product.suite.items.iter().zip(&product.outcome.items) {
            if !outcome.passed() {
                annotation(
                    &mut out,
                    Some(&item.location),
                    &format!("rolegrid: {} expectation failed", product.product),
                    &item_message(product, item, outcome),
                );
            }
        }
        for policy in &product.untested {
            annotation(
                &mut out,
                policy.location.as_ref(),
                &format!("rolegrid: {} untested policy", product.product),
                &format!(
                    "policy `{}` ({}) is never the determining policy of any expectation (dead or untested)",
                    policy.id, policy.effect
                ),
            );
        }
        for shortfall in &product.shortfalls {
            annotation(
                &mut out,
                None,
                &format!("rolegrid: {} coverage", product.product),
                &format!(
                    "role `{}` covers {}/{} cells ({}), below --min-coverage {}",
                    shortfall.role,
                    shortfall.covered,
                    shortfall.cells,
                    percent_text(shortfall.percent),
                    percent_text(shortfall.min)
                ),
            );
        }
    }
    for invalid in &report.invalid {
        out.push_str(&problems(&invalid.problems));
    }
    let width = report
        .products
        .iter()
        .map(|p| p.product.len())
        .max()
        .unwrap_or(0);
    for product in &report.products {
        let _ = writeln!(out, "{}", product_line(product, width));
    }
    out
}

/// The GitHub annotations of `validate`: one per problem of each product
/// that did not load, then a line per product that did.
pub fn validate(validations: &Validations) -> String {
    let mut out = String::new();
    for invalid in &validations.invalid {
        out.push_str(&problems(&invalid.problems));
    }
    let width = validations
        .products
        .iter()
        .map(|p| p.product.len())
        .max()
        .unwrap_or(0);
    for product in &validations.products {
        let _ = writeln!(out, "{}", validated_line(product, width));
    }
    out
}

/// A failed item: how many of its requests failed, and the first few with why.
fn item_message(product: &ProductReport, item: &Item, outcome: &ItemOutcome) -> String {
    let ns = &product.coverage.namespace;
    let mut message = format!(
        "{} `{}`: {} of {} failed",
        item.kind.code(),
        item.name,
        outcome.failed(),
        outcome.run
    );
    if let Some(hint) = &item.hint {
        let _ = write!(message, "\nhint: {hint}");
    }
    let failing = outcome.failed();
    for (shown, failed) in outcome.failures.iter().enumerate() {
        if shown == PER_ITEM {
            let _ = write!(message, "\n… and {} more", failing - shown);
            break;
        }
        let failure = Failure {
            item,
            check: &failed.check,
            outcome: &failed.outcome,
        };
        let _ = write!(message, "\n{}", request_text(&failure, ns));
        for line in failure_lines(&failure, product) {
            let _ = write!(message, "\n  {line}");
        }
    }
    message
}

/// GitHub annotations for invalid input.
pub fn problems(problems: &Problems) -> String {
    let mut out = String::new();
    for problem in problems {
        let location = problem
            .location()
            .filter(|_| problem.spans().next().is_some());
        let mut message = problem.message().to_owned();
        if let Some(help) = problem.help_text() {
            let _ = write!(message, "\nhelp: {help}");
        }
        match (&location, problem.file()) {
            (None, Some(file)) => {
                let _ = writeln!(
                    out,
                    "::error file={},title={}::{}",
                    escape_property(&file.path().display().to_string()),
                    escape_property(&format!("rolegrid: {}", problem.kind().code())),
                    escape_data(&message)
                );
            }
            _ => annotation(
                &mut out,
                location.as_ref(),
                &format!("rolegrid: {}", problem.kind().code()),
                &message,
            ),
        }
    }
    out
}
