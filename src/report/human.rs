//! Readable text: short when all is well (a line per product and a line per
//! role), with every failure at its file and line otherwise.

use super::{CheckReport, Failure, ProductReport, Shortfall, duration_text, percent_text};
use crate::check::{Validated, Validations};
use crate::coverage::{CellState, Coverage, RoleCoverage};
use crate::expect::{Item, ItemKind, ItemOutcome, short_uid};
use std::fmt::Write;

/// Failing checks shown per item before "and N more".
const PER_ITEM: usize = 5;
/// Failing items shown per product before "and N more".
const PER_PRODUCT: usize = 20;

/// The request of a failure in a short form:
/// `User::"vic-view" (media-view) viewMedia File::"logo"`.
pub(crate) fn request_text(failure: &Failure<'_>, namespace: &str) -> String {
    let check = failure.check;
    let mut text = short_uid(&check.principal, namespace);
    if !check.roles.is_empty() {
        let _ = write!(text, " ({})", check.roles.join(", "));
    }
    let _ = write!(
        text,
        " {} {}",
        check.action.id().unescaped(),
        short_uid(&check.resource, namespace)
    );
    if check.context.as_object().is_some_and(|o| !o.is_empty()) {
        let _ = write!(text, " context {}", check.context);
    }
    text
}

/// What went wrong and who decided, one line each.
pub(crate) fn failure_lines(failure: &Failure<'_>, product: &ProductReport) -> Vec<String> {
    let mut lines: Vec<String> = failure
        .outcome
        .mismatches
        .iter()
        .map(ToString::to_string)
        .collect();
    let answer = &failure.outcome.answer;
    if answer.reasons().is_empty() {
        lines.push(format!(
            "no policy applies: {} by default",
            if answer.is_allowed() {
                "allowed"
            } else {
                "denied"
            }
        ));
    }
    for reason in answer.reasons() {
        let id = reason.to_string();
        match product.policy_location(&id) {
            Some(location) => lines.push(format!("decided by {id} ({location})")),
            None => lines.push(format!("decided by {id}")),
        }
    }
    for error in answer.errors() {
        lines.push(format!("error in {}: {}", error.policy, error.message));
    }
    lines
}

/// `48 rows, 12 cases, 3 Cedar tests` (kinds present only).
pub(crate) fn item_counts(product: &ProductReport) -> String {
    let mut parts = Vec::new();
    for (kind, one, many) in [
        (ItemKind::Row, "row", "rows"),
        (ItemKind::Case, "case", "cases"),
        (ItemKind::CedarTest, "Cedar test", "Cedar tests"),
    ] {
        let n = product.suite.count(kind);
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    if parts.is_empty() {
        "no expectation files".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One line for a role: `  finance   28/28 cells 100%  6 allowed  20 denied  2 conditional`.
pub(crate) fn role_line(role: &RoleCoverage, width: usize) -> String {
    let cells = format!("{}/{}", role.covered(), role.total());
    format!(
        "  {:<width$}  {cells:>7} cells {:>5}  {:>3} allowed  {:>3} denied  {:>3} conditional",
        role.role,
        percent_text(role.percent()),
        role.count(|s| s == CellState::Allowed),
        role.count(|s| s == CellState::Denied),
        role.count(|s| s == CellState::Conditional),
    )
}

/// The product's summary line.
pub(crate) fn product_line(product: &ProductReport, width: usize) -> String {
    let outcome = &product.outcome;
    let coverage = &product.coverage;
    let status = if product.passed() { "ok  " } else { "FAIL" };
    let expectations = if outcome.failed() == 0 {
        format!("{} expectations", outcome.total())
    } else {
        format!(
            "{} of {} expectations failed",
            outcome.failed(),
            outcome.total()
        )
    };
    let decided = coverage.policies.len() - coverage.undecided().count();
    let cells = if coverage.total() == 0 {
        "no role cells (the fixture has no roles)".to_owned()
    } else {
        format!(
            "{}/{} cells covered ({})",
            coverage.covered(),
            coverage.total(),
            percent_text(coverage.percent())
        )
    };
    format!(
        "{:<width$}  {status}  {expectations} ({}), {decided}/{} policies decide expectations, {cells}, {}",
        product.product,
        item_counts(product),
        coverage.policies.len(),
        duration_text(product.duration),
    )
}

/// Every item of a product with its result and number of requests.
fn every_item(out: &mut String, product: &ProductReport) {
    for (item, outcome) in product.suite.items.iter().zip(&product.outcome.items) {
        let result = if outcome.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "  {result}  {}: {} `{}`: {}",
            item.location,
            item.kind.code(),
            item.name,
            plural(outcome.run, "request")
        );
    }
}

fn product_details(out: &mut String, product: &ProductReport) {
    let failing_items: Vec<usize> = product
        .outcome
        .items
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.passed())
        .map(|(i, _)| i)
        .collect();
    for (shown, index) in failing_items.iter().enumerate() {
        if shown == PER_PRODUCT {
            let _ = writeln!(
                out,
                "  … and {} more failing items (--format json lists them all)",
                failing_items.len() - shown
            );
            break;
        }
        if let (Some(item), Some(outcome)) = (
            product.suite.items.get(*index),
            product.outcome.items.get(*index),
        ) {
            failing_item(out, product, item, outcome);
        }
    }
    for policy in &product.untested {
        let place = policy
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {place}policy `{}` ({}) is never the determining policy of any expectation (dead or untested; --allow-untested-policy {}/{} accepts it)",
            policy.id, policy.effect, product.product, policy.id
        );
    }
    for shortfall in &product.shortfalls {
        coverage_shortfall(out, product, shortfall);
    }
}

/// A failing item: where, how many of its requests failed, and the first
/// few of them with why.
fn failing_item(out: &mut String, product: &ProductReport, item: &Item, outcome: &ItemOutcome) {
    let ns = &product.coverage.namespace;
    let _ = writeln!(
        out,
        "  {}: {} `{}`: {} of {} failed",
        item.location,
        item.kind.code(),
        item.name,
        outcome.failed(),
        outcome.run
    );
    if let Some(source) = &item.source {
        let _ = writeln!(out, "    source: {source:?}");
    }
    if let Some(hint) = &item.hint {
        let _ = writeln!(out, "    hint: {hint}");
    }
    for failed in outcome.failures.iter().take(PER_ITEM) {
        let failure = Failure {
            item,
            check: &failed.check,
            outcome: &failed.outcome,
        };
        let _ = writeln!(out, "    {}", request_text(&failure, ns));
        for line in failure_lines(&failure, product) {
            let _ = writeln!(out, "      {line}");
        }
    }
    let shown = outcome.failures.len().min(PER_ITEM);
    if outcome.failed() > shown {
        let _ = writeln!(out, "    … and {} more", outcome.failed() - shown);
    }
}

/// A role below `--min-coverage`, with its uncovered cells.
fn coverage_shortfall(out: &mut String, product: &ProductReport, shortfall: &Shortfall) {
    let _ = writeln!(
        out,
        "  role `{}` covers {}/{} cells ({}), below --min-coverage {}",
        shortfall.role,
        shortfall.covered,
        shortfall.cells,
        percent_text(shortfall.percent),
        percent_text(shortfall.min)
    );
    if let Some(role) = product
        .coverage
        .roles
        .iter()
        .find(|r| r.role == shortfall.role)
    {
        let cells: Vec<String> = role
            .uncovered()
            .map(|c| format!("{} {}", c.action, c.resource_type))
            .collect();
        let _ = writeln!(out, "    uncovered: {}", cells.join(", "));
    }
}

/// The human report of `check`.
pub fn check(report: &CheckReport) -> String {
    check_listing(report, false)
}

/// [`check`], listing every row, case and Cedar test with its result.
pub fn check_verbose(report: &CheckReport) -> String {
    check_listing(report, true)
}

fn check_listing(report: &CheckReport, verbose: bool) -> String {
    let mut out = String::new();
    let width = report
        .products
        .iter()
        .map(|p| p.product.len())
        .chain(report.invalid.iter().map(|i| i.product.len()))
        .max()
        .unwrap_or(0);
    for product in &report.products {
        let _ = writeln!(out, "{}", product_line(product, width));
        if verbose {
            every_item(&mut out, product);
        }
        product_details(&mut out, product);
        let role_width = product
            .coverage
            .roles
            .iter()
            .map(|r| r.role.len())
            .max()
            .unwrap_or(0);
        for role in &product.coverage.roles {
            let _ = writeln!(out, "{}", role_line(role, role_width));
        }
    }
    for invalid in &report.invalid {
        let _ = writeln!(
            out,
            "{:width$}  INVALID  {} (reported on stderr)",
            invalid.product,
            plural(invalid.problems.len(), "problem"),
        );
    }
    let failed_products = report.products.iter().filter(|p| !p.passed()).count();
    if let Some(pattern) = &report.options.selection {
        let _ = writeln!(
            out,
            "--run {pattern:?}: only the expectations it selects ran; untested policies and --min-coverage were not judged"
        );
    }
    if !report.invalid.is_empty() {
        let others = if report.products.is_empty() {
            String::new()
        } else {
            format!(
                "; of the others {failed_products} failed, {} of {} expectations failed",
                report.failed(),
                report.expectations()
            )
        };
        let _ = writeln!(
            out,
            "check INVALID: {} of {} did not load{others}, {}",
            report.invalid.len(),
            plural(report.products.len() + report.invalid.len(), "product"),
            duration_text(report.duration)
        );
    } else if report.passed() {
        let _ = writeln!(
            out,
            "check passed: {}, {} expectations, {}",
            plural(report.products.len(), "product"),
            report.expectations(),
            duration_text(report.duration)
        );
    } else {
        let _ = writeln!(
            out,
            "check FAILED: {failed_products} of {}: {}, {}",
            plural(report.products.len(), "product"),
            what_failed(report),
            duration_text(report.duration)
        );
    }
    out
}

/// One line for a product that loaded: what it holds.
pub(super) fn validated_line(product: &Validated, width: usize) -> String {
    format!(
        "{:width$}  ok  {}, {}, {} ({} expectations), {}",
        product.product,
        plural(product.snapshot.policy_count(), "policy"),
        plural(product.snapshot.entity_count(), "entity"),
        plural(product.suite.files.len(), "expectation file"),
        product.suite.check_count(),
        duration_text(product.duration)
    )
}

/// The human report of `validate`: a line per product, then the verdict.
pub fn validate(validations: &Validations, duration: std::time::Duration) -> String {
    let mut out = String::new();
    let width = validations
        .products
        .iter()
        .map(|p| p.product.len())
        .chain(validations.invalid.iter().map(|i| i.product.len()))
        .max()
        .unwrap_or(0);
    for product in &validations.products {
        let _ = writeln!(out, "{}", validated_line(product, width));
    }
    for invalid in &validations.invalid {
        let _ = writeln!(
            out,
            "{:width$}  INVALID  {} (reported on stderr)",
            invalid.product,
            plural(invalid.problems.len(), "problem"),
        );
    }
    let all = validations.products.len() + validations.invalid.len();
    if validations.invalid.is_empty() {
        let _ = writeln!(
            out,
            "validate passed: {}, {}",
            plural(all, "product"),
            duration_text(duration)
        );
    } else {
        let _ = writeln!(
            out,
            "validate INVALID: {} of {} did not load, {}",
            validations.invalid.len(),
            plural(all, "product"),
            duration_text(duration)
        );
    }
    out
}

/// What made a check fail: failed expectations, untested policies and
/// roles below the coverage threshold, those there are.
fn what_failed(report: &CheckReport) -> String {
    let untested: usize = report.products.iter().map(|p| p.untested.len()).sum();
    let short: usize = report.products.iter().map(|p| p.shortfalls.len()).sum();
    let mut parts = Vec::new();
    if report.failed() > 0 || (untested == 0 && short == 0) {
        parts.push(format!(
            "{} of {} expectations failed",
            report.failed(),
            report.expectations()
        ));
    }
    if untested > 0 {
        parts.push(format!(
            "{} never decides an expectation",
            plural(untested, "policy")
        ));
    }
    if short > 0 {
        parts.push(format!("{} below --min-coverage", plural(short, "role")));
    }
    parts.join(", ")
}

/// The human report of `coverage`.
pub fn coverage(coverages: &[Coverage]) -> String {
    let mut out = String::new();
    for (index, coverage) in coverages.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let per_role = coverage.roles.first().map_or(0, RoleCoverage::total);
        let _ = writeln!(
            out,
            "{}: {} roles × {} cells, {}/{} covered ({}), {} expectations",
            coverage.product,
            coverage.roles.len(),
            per_role,
            coverage.covered(),
            coverage.total(),
            percent_text(coverage.percent()),
            coverage.expectations
        );
        let width = coverage
            .roles
            .iter()
            .map(|r| r.role.len())
            .max()
            .unwrap_or(0);
        for role in &coverage.roles {
            let _ = writeln!(out, "{}", role_line(role, width));
        }
        let uncovered: Vec<&RoleCoverage> = coverage
            .roles
            .iter()
            .filter(|r| r.covered() < r.total())
            .collect();
        if uncovered.is_empty() {
            let _ = writeln!(out, "  every cell is covered");
        } else {
            let _ = writeln!(out, "  uncovered cells:");
            for role in uncovered {
                let cells: Vec<String> = role
                    .uncovered()
                    .map(|c| format!("{} {}", c.action, c.resource_type))
                    .collect();
                let _ = writeln!(out, "    {}: {}", role.role, cells.join(", "));
            }
        }
        let _ = writeln!(out, "  policies (expectations each decides):");
        let id_width = coverage
            .policies
            .iter()
            .map(|p| p.id.len())
            .max()
            .unwrap_or(0);
        for policy in &coverage.policies {
            let place = policy
                .location
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<id_width$}  {:<6}  {:>5}  {place}",
                policy.id, policy.effect, policy.decided
            );
        }
    }
    out
}

/// `1 product`, `5 products`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}
