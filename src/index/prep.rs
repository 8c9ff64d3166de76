//! What the policy index derives from each policy, once per policy file:
//! its principal guard, and the copies handed to Cedar inside the index
//! (without the action list that is always true there, and without a guard
//! the principal is known to hold). Read from Cedar's JSON form of the
//! policy (EST), converted from the policy Cedar evaluates.

use cedar_policy::{
    ActionConstraint, Effect, EntityUid, Policy, PolicyId, PolicySet, PrincipalConstraint,
    ResourceConstraint,
};
use std::collections::HashMap;
use std::sync::Arc;

/// What the index derives from each policy, computed once per policy file and
/// kept with it, so a reload does not recompute the unchanged ones.
pub(crate) type Prepared = HashMap<PolicyId, Arc<PolicyPrep>>;

/// What the index derives from one policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyPrep {
    /// The principal guard of a policy: entities such that the policy can be
    /// satisfied, or raise an error, only for a principal that is one of them or
    /// descends from one. `None`: no such set is known (any principal).
    ///
    /// From the scope (`principal == E`, `principal in E`, `principal is T in E`)
    /// or, failing that, from the policy's first condition when it is a `when`
    /// whose leftmost conjunct is `principal in E`, `principal in [E1, ...]` or
    /// `principal == E`, or a disjunction of those. Both are evaluated before
    /// anything else that could fail, and cannot fail themselves.
    pub(super) guard: Option<Vec<EntityUid>>,
    /// The same policy without its `action in [...]` constraint (see [`narrow`]).
    pub(super) narrowed: Option<Policy>,
    /// Also without the guard, when it is `principal in E` in the scope
    /// (`principal is T in E` becomes `principal is T`), or the leftmost
    /// conjunct of the first `when` made of `in` tests: for principals known
    /// to hold one of its entities it is true, and `true && rest` is `rest`,
    /// errors included.
    pub(super) stripped: Option<Policy>,
}

impl PolicyPrep {
    pub(super) fn of(policy: &Policy) -> Self {
        let principal = policy.principal_constraint();
        let scope_guard = scope_guard(&principal);
        let scope_in = matches!(
            principal,
            PrincipalConstraint::In(_) | PrincipalConstraint::IsIn(..)
        );
        let action_list = matches!(policy.action_constraint(), ActionConstraint::In(_));
        let conditions = scope_guard.is_none() && policy.has_non_scope_constraint();
        // Cedar's JSON form, only when something needs it
        let Some(est) = (action_list || conditions || scope_in)
            .then(|| est_of(policy))
            .flatten()
        else {
            return Self {
                guard: scope_guard,
                ..Self::default()
            };
        };
        let from_condition = if conditions {
            first_condition_guard_kind(&est)
        } else {
            None
        };
        let stripped = match &from_condition {
            _ if scope_in => strip_scope(policy, est.clone(), action_list),
            Some((_, true)) => strip(policy, est.clone(), action_list),
            _ => None,
        };
        Self {
            guard: scope_guard.or(from_condition.map(|(uids, _)| uids)),
            narrowed: if action_list {
                narrow(policy, est)
            } else {
                None
            },
            stripped,
        }
    }
}

/// Cedar's JSON form (EST) of a policy, converted from the policy Cedar
/// evaluates (its AST) as Cedar's own `From` does: no second parse of the
/// text, which `Policy::to_json` does and which cost more than the rest of
/// preparing the index. The conditions come as one `when`, the conjunction
/// Cedar evaluates, in the order written.
fn est_of(policy: &Policy) -> Option<serde_json::Value> {
    let est = cedar_policy_core::est::Policy::from(policy.as_ref().clone());
    serde_json::to_value(est).ok()
}

/// The policy without its first condition's leftmost conjunct (and without
/// its action list when `action_list`), same id and annotations.
fn strip(policy: &Policy, mut est: serde_json::Value, action_list: bool) -> Option<Policy> {
    if action_list {
        *est.get_mut("action")? = serde_json::json!({"op": "All"});
    }
    let conditions = est.get_mut("conditions")?.as_array_mut()?;
    let first = conditions.first_mut()?;
    match without_leftmost(first.get("body")?) {
        Some(rest) => *first.get_mut("body")? = rest,
        None => {
            conditions.remove(0);
        }
    }
    Policy::from_json(Some(policy.id().clone()), est).ok()
}

/// The policy without its scope's `principal in E` (`principal is T in E`
/// keeps `is T`), and without its action list when `action_list`; same id
/// and annotations.
fn strip_scope(policy: &Policy, mut est: serde_json::Value, action_list: bool) -> Option<Policy> {
    if action_list {
        *est.get_mut("action")? = serde_json::json!({"op": "All"});
    }
    let principal = est.get_mut("principal")?;
    match principal.get("op")?.as_str()? {
        "in" => *principal = serde_json::json!({"op": "All"}),
        "is" => {
            principal.as_object_mut()?.remove("in")?;
        }
        _ => return None,
    }
    Policy::from_json(Some(policy.id().clone()), est).ok()
}

/// Whether a policy, as an index key's set holds it, is satisfied without
/// error by every request of the key: a permit with no condition whose
/// scope tests only the types and the action the key fixes (`principal`,
/// `principal is P`, `action`, `action == A`, `resource`, `resource is R`;
/// a policy is in a key only where those hold).
pub(super) fn granted_in_key(policy: &Policy) -> bool {
    policy.effect() == Effect::Permit
        && !policy.has_non_scope_constraint()
        && matches!(
            policy.principal_constraint(),
            PrincipalConstraint::Any | PrincipalConstraint::Is(_)
        )
        && matches!(
            policy.action_constraint(),
            ActionConstraint::Any | ActionConstraint::Eq(_)
        )
        && matches!(
            policy.resource_constraint(),
            ResourceConstraint::Any | ResourceConstraint::Is(_)
        )
}

/// What the index derives from each static policy of a set.
pub(crate) fn prepare(policies: &PolicySet) -> Prepared {
    policies
        .policies()
        .map(|p| (p.id().clone(), Arc::new(PolicyPrep::of(p))))
        .collect()
}

/// The policy with `action in [...]` replaced by `action`, for the index's
/// sets only: a policy is in a set only for actions its list matches, so
/// there its action constraint is always true, and Cedar, which builds the
/// list as a set on every evaluation, need not. Scope constraints
/// never error, so decisions, reasons and errors are the same. The id and
/// annotations are kept.
fn narrow(policy: &Policy, mut est: serde_json::Value) -> Option<Policy> {
    let action = est.get_mut("action")?;
    *action = serde_json::json!({"op": "All"});
    Policy::from_json(Some(policy.id().clone()), est).ok()
}

/// The guard a principal scope gives.
pub(super) fn scope_guard(principal: &PrincipalConstraint) -> Option<Vec<EntityUid>> {
    match principal {
        PrincipalConstraint::Eq(uid)
        | PrincipalConstraint::In(uid)
        | PrincipalConstraint::IsIn(_, uid) => Some(vec![uid.clone()]),
        PrincipalConstraint::Any | PrincipalConstraint::Is(_) => None,
    }
}

/// The guard of a policy's first condition, from its JSON form (EST), and
/// whether it is made of `in` tests only.
fn first_condition_guard_kind(est: &serde_json::Value) -> Option<(Vec<EntityUid>, bool)> {
    let first = est.get("conditions")?.as_array()?.first()?;
    if first.get("kind")?.as_str()? != "when" {
        return None;
    }
    condition_guard_kind(first.get("body")?)
}

/// The guard of a condition in Cedar's JSON policy format (EST).
/// The guard of a condition, and whether it is made of `in` tests only (then
/// it is true for every principal that holds one of its entities; a `==`
/// test is not).
fn condition_guard_kind(expr: &serde_json::Value) -> Option<(Vec<EntityUid>, bool)> {
    let object = expr.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let (op, operands) = object.iter().next()?;
    let left = operands.get("left")?;
    let right = operands.get("right")?;
    match op.as_str() {
        "&&" => condition_guard_kind(left),
        "||" => {
            let (mut uids, left_in) = condition_guard_kind(left)?;
            let (more, right_in) = condition_guard_kind(right)?;
            uids.extend(more);
            Some((uids, left_in && right_in))
        }
        "in" | "==" if left.get("Var").and_then(serde_json::Value::as_str) == Some("principal") => {
            let is_in = op == "in";
            if let Some(value) = right.get("Value") {
                return entity_literal(value).map(|uid| (vec![uid], is_in));
            }
            if is_in {
                let uids = right
                    .get("Set")?
                    .as_array()?
                    .iter()
                    .map(|item| item.get("Value").and_then(entity_literal))
                    .collect::<Option<Vec<EntityUid>>>()?;
                return Some((uids, true));
            }
            None
        }
        _ => None,
    }
}

/// The condition without its leftmost conjunct: `None` when the condition
/// is that conjunct alone.
fn without_leftmost(expr: &serde_json::Value) -> Option<serde_json::Value> {
    let operands = expr.get("&&")?;
    let left = operands.get("left")?;
    let right = operands.get("right")?;
    Some(match without_leftmost(left) {
        Some(rest) => serde_json::json!({"&&": {"left": rest, "right": right}}),
        None => right.clone(),
    })
}

fn entity_literal(value: &serde_json::Value) -> Option<EntityUid> {
    value.get("__entity")?;
    EntityUid::from_json(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    fn guard_of(text: &str) -> TestResult<Option<Vec<String>>> {
        let policy: Policy = text.parse()?;
        Ok(PolicyPrep::of(&policy)
            .guard
            .map(|uids| uids.iter().map(ToString::to_string).collect()))
    }

    #[test]
    fn guards_come_from_the_scope_or_the_first_when_clause() -> TestResult {
        let some = |uids: &[&str]| Some(uids.iter().map(|u| (*u).to_owned()).collect());
        let cases = [
            (
                r#"permit(principal in R::"a", action, resource);"#,
                some(&[r#"R::"a""#]),
            ),
            (
                r#"permit(principal == U::"u", action, resource) when { resource.x };"#,
                some(&[r#"U::"u""#]),
            ),
            (
                r#"permit(principal is U in R::"a", action, resource);"#,
                some(&[r#"R::"a""#]),
            ),
            (
                r#"permit(principal, action, resource) when { principal in [R::"a", R::"b"] && resource.x };"#,
                some(&[r#"R::"a""#, r#"R::"b""#]),
            ),
            (
                r#"permit(principal, action, resource) when { principal in R::"a" || principal == U::"u" };"#,
                some(&[r#"R::"a""#, r#"U::"u""#]),
            ),
            (
                r#"permit(principal, action, resource) when { principal in [] };"#,
                some(&[]),
            ),
            // not evaluated first, or not only entity literals: no guard
            (
                r#"permit(principal, action, resource) when { resource.x && principal in R::"a" };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) unless { resource.x } when { principal in R::"a" };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) when { principal in R::"a" || resource.x };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) when { principal in resource.owners };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) when { principal in [R::"a", resource] };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) when { R::"a" == principal };"#,
                None,
            ),
            (
                r#"permit(principal, action, resource) when { !(principal in R::"a") };"#,
                None,
            ),
            (r#"permit(principal is U, action, resource);"#, None),
            (r#"permit(principal, action, resource);"#, None),
        ];
        for (text, expected) in cases {
            assert_eq!(guard_of(text)?, expected, "{text}");
        }
        Ok(())
    }

    #[test]
    fn narrowing_drops_only_the_action_list() -> TestResult {
        let text = r#"@id("p") @note("kept") permit(principal in R::"a", action in [Action::"v", Action::"w"], resource is F) when { resource.x };"#;
        let policy: Policy = text.parse()?;
        let narrowed = PolicyPrep::of(&policy)
            .narrowed
            .ok_or("an action list is narrowed")?;
        assert_eq!(narrowed.id(), policy.id());
        assert_eq!(narrowed.annotation("note"), Some("kept"));
        assert!(matches!(
            narrowed.action_constraint(),
            ActionConstraint::Any
        ));
        assert_eq!(
            narrowed.principal_constraint(),
            policy.principal_constraint()
        );
        assert_eq!(narrowed.resource_constraint(), policy.resource_constraint());
        assert_eq!(
            narrowed.to_json()?["conditions"],
            policy.to_json()?["conditions"]
        );
        // `action == A` and no action constraint are left as they are
        for text in [
            r#"permit(principal, action == Action::"v", resource);"#,
            r#"permit(principal, action, resource);"#,
        ] {
            let policy: Policy = text.parse()?;
            assert!(PolicyPrep::of(&policy).narrowed.is_none(), "{text}");
        }
        Ok(())
    }

    #[test]
    fn stripping_drops_the_leftmost_in_guard_only() -> TestResult {
        let stripped = |text: &str| -> TestResult<Option<serde_json::Value>> {
            let policy: Policy = text.parse()?;
            // compared as the conjunction Cedar evaluates (`est_of`'s one `when`)
            match PolicyPrep::of(&policy).stripped {
                Some(p) => Ok(Some(est_of(&p).ok_or("EST")?["conditions"].clone())),
                None => Ok(None),
            }
        };
        let conditions = |text: &str| -> TestResult<serde_json::Value> {
            let policy: Policy = text.parse()?;
            Ok(est_of(&policy).ok_or("EST")?["conditions"].clone())
        };
        assert_eq!(
            stripped(
                r#"permit(principal, action in [Action::"v"], resource) when { principal in [R::"a", R::"b"] && resource.x && resource.y } unless { resource.z };"#
            )?,
            Some(conditions(
                r#"permit(principal, action, resource) when { resource.x && resource.y } unless { resource.z };"#
            )?)
        );
        assert_eq!(
            stripped(
                r#"permit(principal, action, resource) when { principal in R::"a" || principal in R::"b" } when { resource.x };"#
            )?,
            Some(conditions(
                r#"permit(principal, action, resource) when { resource.x };"#
            )?)
        );
        // `==` holds only for that principal, not for its descendants: kept
        for text in [
            r#"permit(principal, action, resource) when { principal == U::"u" && resource.x };"#,
            r#"permit(principal, action, resource) when { principal in R::"a" || principal == U::"u" };"#,
            r#"permit(principal == U::"u", action, resource);"#,
        ] {
            assert_eq!(stripped(text)?, None, "{text}");
        }
        // a scope's `in` goes, its `is` and the conditions stay
        let stripped_scope = |text: &str| -> TestResult<Option<String>> {
            let policy: Policy = text.parse()?;
            Ok(PolicyPrep::of(&policy).stripped.map(|p| {
                let principal = match p.principal_constraint() {
                    PrincipalConstraint::Any => "principal".to_owned(),
                    PrincipalConstraint::Is(t) => format!("principal is {t}"),
                    other => format!("{other:?}"),
                };
                format!("{principal}, conditions: {}", p.has_non_scope_constraint())
            }))
        };
        assert_eq!(
            stripped_scope(
                r#"permit(principal in R::"a", action in [Action::"v"], resource) when { resource.x };"#
            )?,
            Some("principal, conditions: true".to_owned())
        );
        assert_eq!(
            stripped_scope(r#"permit(principal is U in R::"a", action, resource);"#)?,
            Some("principal is U, conditions: false".to_owned())
        );
        Ok(())
    }
}
