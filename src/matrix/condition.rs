//! Reading policies for the matrix: the condition a policy states (its
//! `@condition` annotation, or a compact rendering of its `when`/`unless`
//! clauses), and the literals policies compare context attributes with.
//!
//! This only *reads* policies (through Cedar's policy structure tree); every
//! decision in the matrix comes from Cedar's authorizer.

use cedar_policy::Policy;
use cedar_policy::pst::{BinaryOp, Clause, Expr, Literal, UnaryOp, Var};
use std::collections::BTreeSet;

/// The annotation that spells out a policy's condition in words.
pub const CONDITION_ANNOTATION: &str = "condition";

/// The condition a policy states, in words: its `@condition("...")`
/// annotation, or else its `when`/`unless` clauses rendered compactly, without
/// the conjuncts that only test the principal's role or the resource's type
/// (the matrix's row and column already say those). `None` when nothing is
/// left: the policy holds unconditionally for its role and resource type.
pub(crate) fn policy_condition(policy: &Policy, role_types: &[String]) -> Option<String> {
    if let Some(text) = policy.annotation(CONDITION_ANNOTATION) {
        let text = text.trim();
        if !text.is_empty() {
            return Some(text.to_owned());
        }
    }
    clause_condition(policy, role_types)
}

/// Whether a condition text is Cedar code with `&&` or `||` at its top, to be
/// parenthesized when joined with others.
pub(crate) fn needs_parens(text: &str, policy: &Policy) -> bool {
    policy
        .annotation(CONDITION_ANNOTATION)
        .is_none_or(|a| a.trim().is_empty())
        && (text.contains("&&") || text.contains("||"))
}

fn clause_condition(policy: &Policy, role_types: &[String]) -> Option<String> {
    let pst = policy.to_pst().ok()?;
    let parts: Vec<String> = pst
        .body()
        .clauses()
        .iter()
        .filter_map(|clause| render_clause(clause, role_types))
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" && "))
    }
}

fn render_clause(clause: &Clause, role_types: &[String]) -> Option<String> {
    match clause {
        Clause::When(expr) => {
            let kept: Vec<String> = conjuncts(expr)
                .into_iter()
                .filter(|e| !is_role_test(e, role_types) && !is_type_test(e))
                .map(|e| strip_parens(&e.to_string()).to_owned())
                .collect();
            if kept.is_empty() {
                None
            } else {
                Some(kept.join(" && "))
            }
        }
        Clause::Unless(expr) => {
            if is_type_test(expr) {
                return None;
            }
            Some(format!("!({})", strip_parens(&expr.to_string())))
        }
    }
}

fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryOp {
            op: BinaryOp::And,
            left,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        other => vec![other],
    }
}

fn is_role_literal(expr: &Expr, role_types: &[String]) -> bool {
    match expr {
        Expr::Literal(Literal::EntityUID(uid)) => role_types.contains(&uid.ty.to_string()),
        Expr::Set(items) => {
            !items.is_empty() && items.iter().all(|i| is_role_literal(i, role_types))
        }
        _ => false,
    }
}

/// `principal in Role::"r"`, `principal in [Role::"a", Role::"b"]`, or
/// `principal is User in Role::"r"`, or a disjunction of those.
fn is_role_test(expr: &Expr, role_types: &[String]) -> bool {
    match expr {
        Expr::BinaryOp {
            op: BinaryOp::In,
            left,
            right,
        } => matches!(**left, Expr::Var(Var::Principal)) && is_role_literal(right, role_types),
        Expr::Is {
            expr,
            in_expr: Some(parent),
            ..
        } => matches!(**expr, Expr::Var(Var::Principal)) && is_role_literal(parent, role_types),
        Expr::BinaryOp {
            op: BinaryOp::Or,
            left,
            right,
        } => is_role_test(left, role_types) && is_role_test(right, role_types),
        _ => false,
    }
}

/// `resource is T` (or of principal), or a disjunction of such tests: the
/// matrix's rows are per resource type already.
fn is_type_test(expr: &Expr) -> bool {
    match expr {
        Expr::Is {
            expr,
            in_expr: None,
            ..
        } => matches!(**expr, Expr::Var(Var::Resource | Var::Principal)),
        Expr::BinaryOp {
            op: BinaryOp::Or,
            left,
            right,
        } => is_type_test(left) && is_type_test(right),
        _ => false,
    }
}

/// Removes one pair of parentheses around the whole text, if they match.
fn strip_parens(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for c in inner.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return text;
                }
            }
            _ => {}
        }
    }
    if depth == 0 { inner } else { text }
}

/// A literal a policy compares a context attribute with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ContextLiteral {
    /// A string literal.
    String(String),
    /// A long literal.
    Long(i64),
}

/// `(attribute path, literal)` pairs: every literal that a policy compares a
/// context attribute with (`==`, `!=`, `<`, `<=`, `>`, `>=`, or
/// `[..].contains(context.a)`), the path being `["a"]` for `context.a`,
/// `["a", "b"]` for `context.a.b`.
pub(crate) fn context_literals<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
) -> BTreeSet<(Vec<String>, ContextLiteral)> {
    let mut out = BTreeSet::new();
    for policy in policies {
        let Ok(pst) = policy.to_pst() else { continue };
        for clause in pst.body().clauses() {
            let (Clause::When(expr) | Clause::Unless(expr)) = clause;
            collect_literals(expr, &mut out, 0);
        }
    }
    out
}

fn context_path(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::GetAttr { expr, attr } => {
            if matches!(**expr, Expr::Var(Var::Context)) {
                Some(vec![attr.to_string()])
            } else {
                let mut path = context_path(expr)?;
                path.push(attr.to_string());
                Some(path)
            }
        }
        _ => None,
    }
}

fn literal_of(expr: &Expr) -> Option<ContextLiteral> {
    match expr {
        Expr::Literal(Literal::String(s)) => Some(ContextLiteral::String(s.to_string())),
        Expr::Literal(Literal::Long(n)) => Some(ContextLiteral::Long(*n)),
        Expr::UnaryOp {
            op: UnaryOp::Neg,
            expr,
        } => match **expr {
            Expr::Literal(Literal::Long(n)) => n.checked_neg().map(ContextLiteral::Long),
            _ => None,
        },
        _ => None,
    }
}

fn collect_literals(expr: &Expr, out: &mut BTreeSet<(Vec<String>, ContextLiteral)>, depth: usize) {
    if depth > 256 {
        return;
    }
    match expr {
        Expr::BinaryOp { op, left, right } => {
            match op {
                BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Less
                | BinaryOp::LessEq
                | BinaryOp::Greater
                | BinaryOp::GreaterEq => {
                    for (a, b) in [(left, right), (right, left)] {
                        if let (Some(path), Some(lit)) = (context_path(a), literal_of(b)) {
                            out.insert((path, lit));
                        }
                    }
                }
                BinaryOp::Contains => {
                    if let (Expr::Set(items), Some(path)) = (&**left, context_path(right)) {
                        for item in items {
                            if let Some(lit) = literal_of(item) {
                                out.insert((path.clone(), lit));
                            }
                        }
                    }
                }
                _ => {}
            }
            collect_literals(left, out, depth + 1);
            collect_literals(right, out, depth + 1);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::GetAttr { expr, .. }
        | Expr::HasAttr { expr, .. }
        | Expr::Like { expr, .. } => collect_literals(expr, out, depth + 1),
        Expr::Is { expr, in_expr, .. } => {
            collect_literals(expr, out, depth + 1);
            if let Some(parent) = in_expr {
                collect_literals(parent, out, depth + 1);
            }
        }
        Expr::IfThenElse {
            cond,
            then_expr,
            else_expr,
        } => {
            for e in [cond, then_expr, else_expr] {
                collect_literals(e, out, depth + 1);
            }
        }
        Expr::Set(items) => {
            for item in items {
                collect_literals(item, out, depth + 1);
            }
        }
        Expr::Record(fields) => {
            for item in fields.values() {
                collect_literals(item, out, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn policy(text: &str) -> Result<Policy, Box<dyn std::error::Error>> {
        Ok(Policy::parse(None, text)?)
    }

    #[test]
    fn annotation_wins() -> TestResult {
        let p = policy(
            r#"@condition("own resources only") permit(principal, action, resource) when { resource.owner == principal };"#,
        )?;
        assert_eq!(
            policy_condition(&p, &[]).as_deref(),
            Some("own resources only")
        );
        Ok(())
    }

    #[test]
    fn role_and_type_tests_are_dropped() -> TestResult {
        let roles = vec!["NS::Role".to_owned()];
        let p = policy(
            r#"permit(principal, action, resource) when {
                principal in [NS::Role::"a", NS::Role::"b"] && resource.owner == principal && !resource.serviceAccount
            };"#,
        )?;
        assert_eq!(
            policy_condition(&p, &roles).as_deref(),
            Some("resource.owner == principal && !resource.serviceAccount")
        );
        let p = policy(
            r#"permit(principal, action, resource) when { resource is NS::Job || resource is NS::Formula };"#,
        )?;
        assert_eq!(policy_condition(&p, &roles), None);
        let p = policy(r#"permit(principal in NS::Role::"a", action, resource);"#)?;
        assert_eq!(policy_condition(&p, &roles), None);
        let p = policy(
            r#"forbid(principal, action, resource) unless { resource.userCount < resource.maxUsers };"#,
        )?;
        assert_eq!(
            policy_condition(&p, &roles).as_deref(),
            Some("!(resource.userCount < resource.maxUsers)")
        );
        Ok(())
    }

    #[test]
    fn parens_are_stripped_only_when_they_match() {
        assert_eq!(strip_parens("(a || b)"), "a || b");
        assert_eq!(strip_parens("(a) || (b)"), "(a) || (b)");
        assert_eq!(strip_parens(r#"(a == ")(")"#), r#"a == ")(""#);
    }

    #[test]
    fn literals_compared_with_context() -> TestResult {
        let p = policy(
            r#"permit(principal, action, resource) when {
                ["x", "y"].contains(context.role) && context.role != "z" && context.n < 5 && context.r.k == "q" && resource.plan == "free"
            };"#,
        )?;
        let found = context_literals([&p]);
        let role = vec!["role".to_owned()];
        assert!(found.contains(&(role.clone(), ContextLiteral::String("x".into()))));
        assert!(found.contains(&(role.clone(), ContextLiteral::String("y".into()))));
        assert!(found.contains(&(role, ContextLiteral::String("z".into()))));
        assert!(found.contains(&(vec!["n".to_owned()], ContextLiteral::Long(5))));
        assert!(found.contains(&(
            vec!["r".to_owned(), "k".to_owned()],
            ContextLiteral::String("q".into())
        )));
        assert_eq!(found.len(), 5);
        Ok(())
    }
}
