//! Markdown coverage: a summary table per product, the cells of every role
//! (allowed ✅, denied ❌, conditional 🟡, uncovered –, as the matrix marks them) and the policies.

use super::percent_text;
use crate::coverage::{CellState, Coverage, RoleCoverage};
use std::fmt::Write;

fn symbol(state: CellState) -> &'static str {
    match state {
        CellState::Allowed => "✅",
        CellState::Denied => "❌",
        CellState::Conditional => "🟡",
        CellState::Uncovered => "–",
    }
}

/// Escapes `|` in table cells.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The Markdown report of `coverage`.
pub fn coverage(coverages: &[Coverage]) -> String {
    let mut out = String::new();
    for (index, coverage) in coverages.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "## {}\n", cell(&coverage.product));
        let _ = writeln!(
            out,
            "{}/{} cells covered ({}) by {} expectations.\n",
            coverage.covered(),
            coverage.total(),
            percent_text(coverage.percent()),
            coverage.expectations
        );
        roles_table(&mut out, coverage);
        cells_table(&mut out, coverage);
        policies_table(&mut out, coverage);
    }
    out
}

/// A row per role: covered, allowed, denied, conditional, uncovered cells.
fn roles_table(out: &mut String, coverage: &Coverage) {
    let _ = writeln!(
        out,
        "| role | covered | allowed | denied | conditional | uncovered cells |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    for role in &coverage.roles {
        let uncovered: Vec<String> = role
            .uncovered()
            .map(|c| format!("{} {}", c.action, c.resource_type))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {}/{} ({}) | {} | {} | {} | {} |",
            cell(&role.role),
            role.covered(),
            role.total(),
            percent_text(role.percent()),
            role.count(|s| s == CellState::Allowed),
            role.count(|s| s == CellState::Denied),
            role.count(|s| s == CellState::Conditional),
            if uncovered.is_empty() {
                "—".to_owned()
            } else {
                cell(&uncovered.join(", "))
            }
        );
    }
}

/// Every (action, resource) cell's state for each role.
fn cells_table(out: &mut String, coverage: &Coverage) {
    let _ = writeln!(
        out,
        "\n### Cells\n\n✅ allowed, ❌ denied, 🟡 conditional (allowed for some resources or contexts), – no expectation\n"
    );
    let _ = write!(out, "| action | resource |");
    for role in &coverage.roles {
        let _ = write!(out, " {} |", cell(&role.role));
    }
    let _ = write!(out, "\n|---|---|");
    for _ in &coverage.roles {
        let _ = write!(out, ":---:|");
    }
    out.push('\n');
    let rows = coverage
        .roles
        .first()
        .map_or(&[][..], |r: &RoleCoverage| r.cells.as_slice());
    for (index, first) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "| {} | {} |",
            cell(&first.action),
            cell(&first.resource_type)
        );
        for role in &coverage.roles {
            let state = role
                .cells
                .get(index)
                .map_or(CellState::Uncovered, |c| c.state);
            let _ = write!(out, " {} |", symbol(state));
        }
        out.push('\n');
    }
}

/// Every policy: its effect, how many expectations it decided, where.
fn policies_table(out: &mut String, coverage: &Coverage) {
    let _ = writeln!(out, "\n### Policies\n");
    let _ = writeln!(out, "| policy | effect | expectations decided | where |");
    let _ = writeln!(out, "|---|---|---:|---|");
    for policy in &coverage.policies {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            cell(&policy.id),
            policy.effect,
            policy.decided,
            policy
                .location
                .as_ref()
                .map(|l| cell(&l.to_string()))
                .unwrap_or_default()
        );
    }
}
