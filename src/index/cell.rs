//! The policies of one index key for one combination of principal guards,
//! and how a request of that key is decided with them.
//!
//! A cell keeps two kinds of policies:
//! - *granted* permits: no condition, and a scope that tests only what the
//!   key fixes (`principal`/`principal is P`, `action`/`action == A`,
//!   `resource`/`resource is R`, as handed over after the index dropped an
//!   action list and a guard the principal holds). Every request of the key
//!   satisfies them, without error, whatever the entities;
//! - *evaluated* policies: the others, each with the expression Cedar
//!   evaluates for it (`cedar_policy_core::ast::Policy::condition`: scope and
//!   conditions as one conjunction), built once here instead of on every
//!   request.
//!
//! [`Cell::decide`] evaluates the evaluated policies with Cedar's own
//! evaluator (`cedar_policy_core::evaluator::Evaluator`, what
//! `Authorizer::is_authorized` runs for each policy) and combines the
//! results by Cedar's rules (`Response` from `PartialResponse` in
//! cedar-policy-core): allowed iff a permit is satisfied and no forbid is;
//! the reasons are the satisfied forbids if there is one, else the satisfied
//! permits; every policy whose evaluation errs is an error and counts as not
//! satisfied. Where the evaluator leaves a policy undecided (a residual: only
//! an unknown in the context or the entities makes one), or gives a value
//! that is not a boolean (which Cedar's `&&` never does), Cedar's
//! `Authorizer` decides the whole cell instead.

use crate::answer::{Answer, PolicyError};
use cedar_policy::{Decision, Effect, Entities, Policy, PolicyId, PolicySet, Request};
use cedar_policy_core::ast::{self, Literal, PartialValue, ValueKind};
use cedar_policy_core::evaluator::Evaluator;
use cedar_policy_core::extensions::Extensions;
use std::sync::OnceLock;

/// The policies of a key for one combination of principal guards, split in
/// two: those Cedar must evaluate, and the permits its scope alone decides
/// (see the module documentation).
#[derive(Debug)]
pub(crate) struct Cell {
    /// What Cedar must evaluate, in the set's order.
    evaluated: Vec<Evaluated>,
    /// The granted permits' ids, sorted as [`crate::Answer`] sorts reasons.
    granted: Vec<PolicyId>,
    /// Every policy of the cell (the evaluated, then the granted).
    policies: Vec<Policy>,
    /// All of them in one set, made on first use.
    combined: OnceLock<Option<PolicySet>>,
}

/// A policy Cedar must evaluate, with the expression it evaluates.
#[derive(Debug)]
struct Evaluated {
    id: PolicyId,
    effect: Effect,
    /// `ast::Policy::condition()`, which Cedar's authorizer rebuilds per request.
    condition: ast::Expr,
    /// The policy's slot values (empty: the index holds static policies only).
    env: ast::SlotEnv,
}

impl Cell {
    /// The cell of these policies (`None`: two share an id).
    pub fn new<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> Option<Self> {
        let mut evaluated = Vec::new();
        let mut granted_policies = Vec::new();
        let mut all = Vec::new();
        for policy in policies {
            if super::prep::granted_in_key(policy) {
                granted_policies.push(policy.clone());
            } else {
                let core: &ast::Policy = policy.as_ref();
                evaluated.push(Evaluated {
                    id: policy.id().clone(),
                    effect: policy.effect(),
                    condition: core.condition(),
                    env: core.env().clone(),
                });
                all.push(policy.clone());
            }
        }
        let mut granted: Vec<PolicyId> = granted_policies.iter().map(|p| p.id().clone()).collect();
        granted.sort_unstable_by(|a, b| AsRef::<str>::as_ref(a).cmp(b.as_ref()));
        let ids = evaluated.len() + granted.len();
        all.extend(granted_policies);
        let mut unique: Vec<&str> = all.iter().map(|p| p.id().as_ref()).collect();
        unique.sort_unstable();
        unique.dedup();
        (unique.len() == ids).then_some(Self {
            evaluated,
            granted,
            policies: all,
            combined: OnceLock::new(),
        })
    }

    /// The ids of the policies Cedar must evaluate, in the set's order.
    #[cfg(test)]
    pub fn evaluated_ids(&self) -> impl Iterator<Item = &PolicyId> {
        self.evaluated.iter().map(|p| &p.id)
    }

    /// The permits satisfied by every request of the key, sorted by id.
    #[cfg(test)]
    pub fn granted(&self) -> &[PolicyId] {
        &self.granted
    }

    /// Whether the cell has no policy (a request of it is denied by default).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Every policy of the cell in one set (`full` if it cannot be made).
    pub fn combined<'a>(&'a self, full: &'a PolicySet) -> &'a PolicySet {
        self.combined
            .get_or_init(|| PolicySet::from_policies(self.policies.iter().cloned()).ok())
            .as_ref()
            .unwrap_or(full)
    }

    /// Cedar's answer for a request of the cell's key decided against
    /// `entities`, or `None` where Cedar's evaluator leaves a policy undecided
    /// (an unknown): then ask Cedar's authorizer with [`Cell::combined`].
    pub fn decide(&self, request: &Request, entities: &Entities) -> Option<Answer> {
        if self.evaluated.is_empty() {
            return Some(Answer::allowed_by(&self.granted));
        }
        let core: &ast::Request = request.as_ref();
        let evaluator =
            Evaluator::new(core.clone(), entities.as_ref(), Extensions::all_available());
        let mut forbids: Vec<PolicyId> = Vec::new();
        let mut permits: Vec<PolicyId> = Vec::new();
        let mut errors: Vec<PolicyError> = Vec::new();
        for policy in &self.evaluated {
            // as `Evaluator::partial_evaluate` does with `policy.condition()`,
            // a conjunction: a value is a boolean (Cedar's `&&` makes nothing
            // else), and anything else is left to Cedar's authorizer
            let satisfied = match evaluator.partial_interpret(&policy.condition, &policy.env) {
                Ok(PartialValue::Value(value)) => match value.value_kind() {
                    ValueKind::Lit(Literal::Bool(satisfied)) => Ok(*satisfied),
                    _ => return None,
                },
                Ok(PartialValue::Residual(_)) => return None,
                Err(error) => Err(error),
            };
            match (satisfied, policy.effect) {
                (Ok(false), _) => {}
                (Ok(true), Effect::Forbid) => forbids.push(policy.id.clone()),
                (Ok(true), Effect::Permit) => permits.push(policy.id.clone()),
                (Err(error), _) => errors.push(PolicyError {
                    policy: policy.id.to_string(),
                    message: error.to_string(),
                }),
            }
        }
        Some(if forbids.is_empty() {
            permits.extend_from_slice(&self.granted);
            let decision = if permits.is_empty() {
                Decision::Deny
            } else {
                Decision::Allow
            };
            Answer::new(decision, permits, errors)
        } else {
            Answer::new(Decision::Deny, forbids, errors)
        })
    }
}
