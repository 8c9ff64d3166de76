//! The diff as text: for a terminal, a pull-request comment, and GitHub
//! annotations on the policy lines responsible. (The JSON document is
//! [`super::Diff::to_json`].)

use super::model::{CellChange, ChangeKind, Diff, FileChangeKind, Presence, ProductDiff, State};

fn state_text(state: State, condition: Option<&str>) -> String {
    match (state, condition) {
        (State::Conditional, Some(condition)) => format!("conditional ({condition})"),
        _ => state.word().to_owned(),
    }
}

fn sign(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Widen => "+",
        ChangeKind::Narrow => "-",
        ChangeKind::Changed => "~",
    }
}

fn title(product: &ProductDiff) -> String {
    if product.base_product == product.product {
        product.product.clone()
    } else {
        format!("{} → {}", product.base_product, product.product)
    }
}

/// Counts of widening, narrowing and other changes.
fn counts(product: &ProductDiff) -> (usize, usize, usize) {
    let count = |kind| product.changes.iter().filter(|c| c.kind == kind).count();
    (
        count(ChangeKind::Widen),
        count(ChangeKind::Narrow),
        count(ChangeKind::Changed),
    )
}

fn summary(product: &ProductDiff) -> String {
    match product.presence {
        Presence::Added => {
            return format!("added ({})", plural(product.changes.len(), "cell", "cells"));
        }
        Presence::Removed => {
            return format!(
                "removed ({})",
                plural(product.changes.len(), "cell", "cells")
            );
        }
        Presence::Compared if product.is_empty() => return "no change".to_owned(),
        Presence::Compared => {}
    }
    let (widen, narrow, changed) = counts(product);
    let mut parts = vec![format!(
        "{} ({widen} granted, {narrow} taken away, {changed} changed)",
        plural(product.changes.len(), "cell changed", "cells changed")
    )];
    if !product.policies.is_empty() {
        parts.push(plural(
            product.policies.len(),
            "policy changed",
            "policies changed",
        ));
    }
    if !product.expectations.is_empty() {
        parts.push(plural(
            product.expectations.len(),
            "expectation file changed",
            "expectation files changed",
        ));
    }
    parts.join(", ")
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn change_line(change: &CellChange) -> String {
    let policies = if change.after.grants_something() || change.policies_before.is_empty() {
        &change.policies_after
    } else {
        &change.policies_before
    };
    let by = if policies.is_empty() {
        String::new()
    } else {
        format!(" (by {})", policies.join(", "))
    };
    format!(
        "{} {} on {}: {} → {}{by}",
        sign(change.kind),
        change.action,
        change.resource_type,
        state_text(change.before, change.condition_before.as_deref()),
        state_text(change.after, change.condition_after.as_deref()),
    )
}

impl State {
    fn grants_something(self) -> bool {
        matches!(self, State::Allow | State::Conditional)
    }
}

fn change_word(kind: FileChangeKind) -> &'static str {
    match kind {
        FileChangeKind::Added => "added",
        FileChangeKind::Removed => "removed",
        FileChangeKind::Changed => "changed",
    }
}

/// Changes grouped by role, in order.
fn by_role(product: &ProductDiff) -> Vec<(&str, Vec<&CellChange>)> {
    let mut groups: Vec<(&str, Vec<&CellChange>)> = Vec::new();
    for change in &product.changes {
        match groups.last_mut() {
            Some((role, changes)) if *role == change.role => changes.push(change),
            _ => groups.push((&change.role, vec![change])),
        }
    }
    groups
}

fn only_lines(product: &ProductDiff) -> Vec<String> {
    let mut lines = Vec::new();
    let list = |what: &str, side: &str, items: &[String]| {
        (!items.is_empty()).then(|| format!("{what} only in {side}: {}", items.join(", ")))
    };
    lines.extend(list(
        "roles",
        &product.base_product,
        &product.roles_only_in_base,
    ));
    lines.extend(list("roles", &product.product, &product.roles_only_in_new));
    lines.extend(list(
        "actions",
        &product.base_product,
        &product.actions_only_in_base,
    ));
    lines.extend(list(
        "actions",
        &product.product,
        &product.actions_only_in_new,
    ));
    if !product.role_map.is_empty() {
        let pairs: Vec<String> = product
            .role_map
            .iter()
            .map(|(old, new)| format!("{old} → {new}"))
            .collect();
        lines.push(format!("roles mapped: {}", pairs.join(", ")));
    }
    lines
}

/// For a terminal: per product, a summary line, then the changes grouped by
/// role (granted first), the policies and the expectation files.
pub fn human(diff: &Diff) -> String {
    let mut out = String::new();
    for product in &diff.products {
        out.push_str(&format!("{}: {}\n", title(product), summary(product)));
        for line in only_lines(product) {
            out.push_str(&format!("  {line}\n"));
        }
        for (role, changes) in by_role(product) {
            out.push_str(&format!("  {role}\n"));
            for change in changes {
                out.push_str(&format!("    {}\n", change_line(change)));
            }
        }
        if !product.policies.is_empty() {
            out.push_str("  policies\n");
            for policy in &product.policies {
                let at = match (&policy.before, &policy.after) {
                    (Some(before), Some(after)) if before != after => format!("{before} → {after}"),
                    (_, Some(at)) | (Some(at), None) => at.clone(),
                    (None, None) => String::new(),
                };
                out.push_str(&format!(
                    "    {:<8} {} ({at})\n",
                    change_word(policy.change),
                    policy.id
                ));
            }
        }
        if let Some(proof) = &product.proof {
            out.push_str(&proof_text(proof, "  "));
        }
        if !product.expectations.is_empty() {
            out.push_str("  expectation files\n");
            for file in &product.expectations {
                out.push_str(&format!(
                    "    {:<8} {}\n",
                    change_word(file.change),
                    file.path
                ));
            }
        }
    }
    let (widen, narrow) = (diff.widens(), diff.narrows());
    out.push_str(&match (diff.is_empty(), widen, narrow) {
        (true, _, _) => "no change\n".to_owned(),
        (false, true, true) => "roles gain and lose permissions\n".to_owned(),
        (false, true, false) => "roles gain permissions\n".to_owned(),
        (false, false, true) => "roles lose permissions\n".to_owned(),
        (false, false, false) => "no role gains or loses a permission\n".to_owned(),
    });
    out
}

/// A counterexample as an expectation case (JSON is YAML).
pub fn case_text(cex: &crate::prove::Counterexample) -> String {
    serde_json::json!({
        "name": format!("proof: {} {}", cex.direction, cex.request.action),
        "principal": cex.request.principal,
        "action": cex.request.action,
        "resource": cex.request.resource,
        "context": cex.request.context,
        "entities": cex.entities,
        "decision": cex.after,
    })
    .to_string()
}

/// The proof's findings: a count per outcome, then each environment that
/// is not equivalent with its counterexamples.
fn proof_text(proof: &[crate::prove::EnvProof], indent: &str) -> String {
    use crate::prove::Outcome;
    let count = |outcome: Outcome| proof.iter().filter(|e| e.outcome == outcome).count();
    let mut out = format!(
        "{indent}proof over every request the schema allows: {} environments, {} equivalent, {} widen, {} narrow, {} both, {} unknown, {} skipped\n",
        proof.len(),
        count(Outcome::Equivalent),
        count(Outcome::Widens),
        count(Outcome::Narrows),
        count(Outcome::WidensAndNarrows),
        count(Outcome::Unknown),
        count(Outcome::Skipped),
    );
    for env in proof.iter().filter(|e| e.outcome != Outcome::Equivalent) {
        let outcome = serde_json::to_value(&env.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "{indent}  {outcome}: {} {} {}",
            env.principal_type, env.action, env.resource_type
        ));
        if let Some(reason) = &env.reason {
            out.push_str(&format!(" ({reason})"));
        }
        out.push('\n');
        for cex in &env.counterexamples {
            let confirmed = if cex.confirmed {
                "confirmed"
            } else {
                "NOT confirmed"
            };
            out.push_str(&format!(
                "{indent}    {} → {} ({confirmed} by the authorizer); as an expectation case:\n{indent}    - {}\n",
                cex.before,
                cex.after,
                case_text(cex)
            ));
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A pull-request comment: a summary line, then a table per role.
pub fn markdown(diff: &Diff) -> String {
    let changed = diff.products.iter().filter(|p| !p.is_empty()).count();
    let cells: usize = diff.products.iter().map(|p| p.changes.len()).sum();
    let mut out = format!(
        "### rolegrid diff against `{}`\n\n{} of {} products changed, {cells} cells.\n",
        diff.base,
        changed,
        diff.products.len()
    );
    for product in &diff.products {
        out.push_str(&format!(
            "\n#### {}: {}\n",
            title(product),
            summary(product)
        ));
        for line in only_lines(product) {
            out.push_str(&format!("\n- {line}"));
        }
        if !only_lines(product).is_empty() {
            out.push('\n');
        }
        for (role, changes) in by_role(product) {
            out.push_str(&format!(
                "\n**{role}**\n\n| | action | resource | before | after | policies |\n|---|---|---|---|---|---|\n"
            ));
            for change in changes {
                let policies: Vec<String> = change
                    .policies_before
                    .iter()
                    .chain(&change.policies_after)
                    .map(|p| format!("`{p}`"))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                out.push_str(&format!(
                    "| {} | `{}` | {} | {} | {} | {} |\n",
                    match change.kind {
                        ChangeKind::Widen => "➕",
                        ChangeKind::Narrow => "➖",
                        ChangeKind::Changed => "✏️",
                    },
                    change.action,
                    change.resource_type,
                    cell(&state_text(
                        change.before,
                        change.condition_before.as_deref()
                    )),
                    cell(&state_text(change.after, change.condition_after.as_deref())),
                    policies.join(", ")
                ));
            }
        }
        if !product.policies.is_empty() {
            out.push_str("\n| policy | change | where |\n|---|---|---|\n");
            for policy in &product.policies {
                let at = policy
                    .after
                    .as_ref()
                    .or(policy.before.as_ref())
                    .cloned()
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    policy.id,
                    change_word(policy.change),
                    at
                ));
            }
        }
        if let Some(proof) = &product.proof {
            out.push_str(&format!("\n```text\n{}```\n", proof_text(proof, "")));
        }
        if !product.expectations.is_empty() {
            out.push('\n');
            for file in &product.expectations {
                out.push_str(&format!(
                    "- expectation file `{}` {}\n",
                    file.path,
                    change_word(file.change)
                ));
            }
        }
    }
    out
}

/// GitHub workflow annotations: one per changed cell, on the line of each
/// policy responsible (warnings for grants, notices otherwise).
pub fn github(diff: &Diff) -> String {
    let mut out = String::new();
    for product in &diff.products {
        for env in product.proofs() {
            let level = match env.outcome {
                crate::prove::Outcome::Equivalent => continue,
                crate::prove::Outcome::Widens | crate::prove::Outcome::WidensAndNarrows => {
                    "warning"
                }
                _ => "notice",
            };
            let outcome = serde_json::to_value(&env.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut message = format!(
                "{}: proof: {outcome} for {} {} {}",
                title(product),
                env.principal_type,
                env.action,
                env.resource_type
            );
            if let Some(reason) = &env.reason {
                message.push_str(&format!(" ({reason})"));
            }
            for cex in &env.counterexamples {
                message.push_str(&format!("%0Aexpectation case: {}", case_text(cex)));
            }
            out.push_str(&format!(
                "::{level} title=rolegrid diff --prove::{message}\n"
            ));
        }
        for change in &product.changes {
            let level = if change.kind == ChangeKind::Widen {
                "warning"
            } else {
                "notice"
            };
            let message = format!(
                "{}: {}: {}",
                title(product),
                change.role,
                change_line(change)
            );
            let responsible: Vec<&String> = change
                .policies_after
                .iter()
                .chain(&change.policies_before)
                .collect();
            let placed: Vec<(&str, &str)> = responsible
                .iter()
                .filter_map(|id| product.locations.get(*id))
                .filter_map(|at| at.rsplit_once(':'))
                .collect();
            match placed.first() {
                Some((file, line)) => out.push_str(&format!(
                    "::{level} file={file},line={line},title=rolegrid diff::{message}\n"
                )),
                None => out.push_str(&format!("::{level} title=rolegrid diff::{message}\n")),
            }
        }
    }
    out
}
