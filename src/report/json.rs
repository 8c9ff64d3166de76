//! Stable JSON (`"version": 1`), documented in the README.

use super::{CheckReport, Failure, ProductReport};
use crate::coverage::{Coverage, PolicyCoverage};
use crate::diagnostics::{Location, Problems};
use crate::expect::{ItemKind, decision_name};
use serde_json::{Value, json};

/// The version of the JSON shapes below; bumped on incompatible changes.
pub const VERSION: u32 = 1;

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn place(location: Option<&Location>) -> (Value, Value, Value) {
    match location {
        Some(l) => (
            json!(l.file.display().to_string()),
            json!(l.line),
            json!(l.column),
        ),
        None => (Value::Null, Value::Null, Value::Null),
    }
}

fn policy(p: &PolicyCoverage) -> Value {
    let (file, line, column) = place(p.location.as_ref());
    json!({"id": p.id, "effect": p.effect, "file": file, "line": line, "column": column})
}

fn failure(f: &Failure<'_>, product: &ProductReport) -> Value {
    let check = f.check;
    let answer = &f.outcome.answer;
    json!({
        "file": f.item.location.file.display().to_string(),
        "line": f.item.location.line,
        "column": f.item.location.column,
        "kind": f.item.kind.code(),
        "name": f.item.name,
        "source": f.item.source,
        "principal": check.principal.to_string(),
        "action": check.action.to_string(),
        "resource": check.resource.to_string(),
        "context": check.context,
        "role": check.role,
        "roles": check.roles,
        "expected": {
            "decision": decision_name(check.expected.decision),
            "reasons": check.expected.reasons,
            "reason_match": check.expected.reason_match,
            "errors": check.expected.errors,
        },
        "actual": answer.to_json(),
        "mismatches": f.outcome.mismatches.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "determining_policies": answer.reasons().iter().map(|r| {
            let id = r.to_string();
            let (file, line, column) = place(product.policy_location(&id));
            json!({"id": id, "file": file, "line": line, "column": column})
        }).collect::<Vec<_>>(),
    })
}

fn product(p: &ProductReport) -> Value {
    json!({
        "product": p.product,
        "namespace": p.coverage.namespace,
        "status": if p.passed() { "pass" } else { "fail" },
        "duration_ms": millis(p.duration),
        "files": p.suite.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "expectations": {
            "total": p.outcome.total(),
            "passed": p.outcome.passed(),
            "failed": p.outcome.failed(),
            "rows": p.suite.count(ItemKind::Row),
            "cases": p.suite.count(ItemKind::Case),
            "cedar_tests": p.suite.count(ItemKind::CedarTest),
        },
        "failures": p.failures().map(|f| failure(&f, p)).collect::<Vec<_>>(),
        "untested_policies": p.untested.iter().map(policy).collect::<Vec<_>>(),
        "allowed_untested_policies": p.allowed_untested.iter().map(policy).collect::<Vec<_>>(),
        "coverage_failures": p.shortfalls.iter().map(|s| json!({
            "role": s.role, "covered": s.covered, "cells": s.cells, "percent": s.percent, "min": s.min,
        })).collect::<Vec<_>>(),
        "coverage": p.coverage.to_json(),
    })
}

/// The JSON report of `check`.
pub fn check(report: &CheckReport) -> Value {
    json!({
        "version": VERSION,
        "status": if report.passed() { "pass" } else { "fail" },
        "duration_ms": millis(report.duration),
        "summary": {
            "products": report.products.len(),
            "failed_products": report.products.iter().filter(|p| !p.passed()).count(),
            "expectations": report.expectations(),
            "passed": report.expectations() - report.failed(),
            "failed": report.failed(),
        },
        "options": {
            "min_coverage": report.options.min_coverage,
            "allow_untested": report.options.allow_untested,
            "allow_untested_policies": report.options.allowed_untested,
        },
        "products": report.products.iter().map(product).collect::<Vec<_>>(),
    })
}

/// The JSON report of `coverage`.
pub fn coverage(coverages: &[Coverage]) -> Value {
    json!({
        "version": VERSION,
        "products": coverages.iter().map(Coverage::to_json).collect::<Vec<_>>(),
    })
}

/// The JSON report of invalid input (exit 2): every problem with its place.
pub fn problems(problems: &Problems) -> Value {
    json!({
        "version": VERSION,
        "status": "error",
        "problems": problems.iter().map(|p| {
            let location = p.location();
            let (file, line, column) = match (&location, p.file()) {
                (Some(l), _) if p.spans().next().is_some() => place(Some(l)),
                (_, Some(f)) => (json!(f.path().display().to_string()), Value::Null, Value::Null),
                _ => (Value::Null, Value::Null, Value::Null),
            };
            json!({
                "kind": p.kind().code(),
                "severity": if p.is_warning() { "warning" } else { "error" },
                "message": p.message(),
                "file": file,
                "line": line,
                "column": column,
                "help": p.help_text(),
            })
        }).collect::<Vec<_>>(),
    })
}
