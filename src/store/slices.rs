//! Strict validation against the part of the schema a policy can reach.
//!
//! Cedar's strict validator types each policy once per request environment
//! of the schema (every principal type, action and resource type the
//! schema's `appliesTo` allows): with 1,501 actions, 1,501 environments or
//! more for every policy, though a policy naming one action can match only
//! that action's. A policy's condition is `principal scope && (action scope
//! && (resource scope && body))`, and in an environment whose action the
//! action scope cannot match, Cedar's typechecker gives the action scope the
//! type `false` (the action is a literal there, looked up in the schema's
//! action hierarchy) and types nothing after it. What such an environment
//! contributes therefore depends on its principal type alone (the principal
//! scope is all that is typed in it).
//!
//! So a policy whose action scope names declared actions is validated, with
//! Cedar's own validator, against a copy of the schema where the actions the
//! scope can match keep their environments, and every other action keeps at
//! most one environment for each principal type not already kept: the same
//! entity types, actions and action hierarchy, so the same entity, action
//! and `appliesTo` checks. A policy for which that finds any error or
//! warning is validated again against the whole schema, so what is reported
//! is always exactly what Cedar reports with the whole schema. The unit
//! tests (and the opt-in run over Cedar's corpus) check that a slice finds
//! exactly what the whole schema does, so the policies found clean are
//! clean with the whole schema too.
//!
//! Policies whose scope matches any action (or names an undeclared one),
//! template-linked policies and templates are validated against the whole
//! schema, as are policies whose slice would keep more than half of the
//! schema's environments.

use cedar_policy::{Policy, PolicySet, Schema, Validator};
use cedar_policy_core::ast::{self, ActionConstraint, EntityType, EntityUID};
use cedar_policy_core::validator::{ValidatorActionId, ValidatorSchema};
use ref_cast::RefCast;
use std::collections::HashSet;

/// A file's policies, split by the schema they are validated against.
pub(crate) struct Plan {
    /// Policies validated against the whole schema.
    pub(crate) whole: Vec<Policy>,
    /// Policies validated against one slice of the schema, with the slice.
    pub(crate) sliced: Option<(Slice, Vec<Policy>)>,
}

/// A copy of a schema with fewer request environments (see the module
/// documentation), and Cedar's validator for it.
pub(crate) struct Slice {
    validator: cedar_policy_core::validator::Validator,
}

impl Slice {
    /// Cedar's validator for the slice.
    pub(crate) fn validator(&self) -> &Validator {
        Validator::ref_cast(&self.validator)
    }
}

/// What planning needs of a schema, worked out once for all its files.
pub(crate) struct Slicer<'s> {
    schema: &'s ValidatorSchema,
    /// The schema's actions by name: the order slices keep environments in.
    actions: Vec<&'s ValidatorActionId>,
    /// The schema's request environments.
    total: usize,
}

impl<'s> Slicer<'s> {
    /// A slicer for `schema`.
    pub(crate) fn new(schema: &'s Schema) -> Self {
        let schema: &ValidatorSchema = schema.as_ref();
        let mut actions: Vec<&ValidatorActionId> = schema.action_ids().collect();
        actions.sort_unstable_by(|a, b| a.name().cmp(b.name()));
        Self {
            schema,
            total: environments(actions.iter().copied()),
            actions,
        }
    }

    /// Splits `policies` into those validated against the whole schema and
    /// those validated against the slice that keeps the actions any of them
    /// can match.
    pub(crate) fn plan<'p>(&self, policies: impl IntoIterator<Item = &'p Policy>) -> Plan {
        self.plan_up_to(policies, 50)
    }

    /// [`Slicer::plan`], slicing only where the slice keeps at most
    /// `percent` percent of the schema's request environments.
    fn plan_up_to<'p>(
        &self,
        policies: impl IntoIterator<Item = &'p Policy>,
        percent: usize,
    ) -> Plan {
        let worth = |environments: usize| environments * 100 <= self.total * percent;
        let mut whole = Vec::new();
        let mut sliced = Vec::new();
        let mut reached: HashSet<&EntityUID> = HashSet::new();
        for policy in policies {
            match reach(self.schema, policy) {
                Some(actions) if worth(environments(actions.iter().copied())) => {
                    reached.extend(actions.iter().map(|a| a.name()));
                    sliced.push(policy.clone());
                }
                _ => whole.push(policy.clone()),
            }
        }
        if sliced.is_empty() {
            return Plan {
                whole,
                sliced: None,
            };
        }
        let slice = self.slice(&reached);
        if !worth(environments(slice.action_ids())) {
            // the policies' actions together reach most of the schema: slicing saves nothing
            whole.extend(sliced);
            return Plan {
                whole,
                sliced: None,
            };
        }
        Plan {
            whole,
            sliced: Some((
                Slice {
                    validator: cedar_policy_core::validator::Validator::new(slice),
                },
                sliced,
            )),
        }
    }

    /// The schema with the request environments of the actions not
    /// `reached` cut to one for each principal type they cover that no
    /// earlier action (by name) has kept; everything else (entity types,
    /// actions, hierarchy, contexts, the reached actions' `appliesTo`) is
    /// the schema's.
    fn slice(&self, reached: &HashSet<&EntityUID>) -> ValidatorSchema {
        let mut kept: HashSet<&EntityType> = HashSet::new();
        let mut actions: Vec<ValidatorActionId> = Vec::with_capacity(self.actions.len());
        for &action in &self.actions {
            let context = match action.context_type() {
                Some(context) if !reached.contains(action.name()) => context,
                // reached, or declared `external` (no environments): as it is
                _ => {
                    actions.push(action.clone());
                    continue;
                }
            };
            let resource = action.applies_to_resources().next();
            let principals: Vec<EntityType> = match resource {
                Some(_) => action
                    .applies_to_principals()
                    .filter(|p| kept.insert(*p))
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            actions.push(ValidatorActionId::new_defined(
                action.name().clone(),
                principals,
                resource.cloned(),
                action.descendants().cloned(),
                context.clone(),
                action.loc().cloned(),
            ));
        }
        ValidatorSchema::new(self.schema.entity_types().cloned(), actions)
    }
}

/// The request environments a schema's actions give (before templates'
/// slots are linked).
fn environments<'a>(actions: impl Iterator<Item = &'a ValidatorActionId>) -> usize {
    actions
        .map(|a| a.applies_to_principals().count() * a.applies_to_resources().count())
        .sum()
}

/// The schema's actions the action scope of a static `policy` can match:
/// the action it names, or those it lists and their members (Cedar's
/// hierarchy, closed). `None` where the scope matches any action, names an
/// action the schema does not declare or an empty list, or the policy is a
/// template link.
fn reach<'s>(schema: &'s ValidatorSchema, policy: &Policy) -> Option<Vec<&'s ValidatorActionId>> {
    let policy: &ast::Policy = policy.as_ref();
    if !policy.is_static() {
        return None;
    }
    let named: Vec<&EntityUID> = match policy.action_constraint() {
        ActionConstraint::Eq(action) => vec![action.as_ref()],
        // `action in []` is a type error, after which Cedar types the rest
        // of the condition in every environment
        ActionConstraint::In(actions) if !actions.is_empty() => {
            actions.iter().map(AsRef::as_ref).collect()
        }
        _ => return None,
    };
    let mut reached = Vec::new();
    for action in named {
        let declared = schema.get_action_id(action)?;
        reached.push(declared);
        for member in declared.descendants() {
            reached.push(schema.get_action_id(member)?);
        }
    }
    Some(reached)
}

/// A policy set of `policies` (they come from one valid set).
pub(crate) fn set_of(policies: &[Policy]) -> Option<PolicySet> {
    PolicySet::from_policies(policies.iter().cloned()).ok()
}

#[cfg(test)]
mod tests;
