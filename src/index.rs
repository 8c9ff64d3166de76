//! The policy index: at load time, the policies each kind of request can
//! possibly match, so a request is evaluated against only those.
//!
//! A request is keyed by its action and the entity types of its principal and
//! resource. A policy belongs to a key unless its scope rules the key out:
//!
//! - action: `action == A` matches only `A`; `action in [G, ...]` matches the
//!   listed actions and their members (the action hierarchy of the snapshot's
//!   entities, which a schema fixes); no action constraint matches all;
//! - principal and resource: `== E` needs the type of `E`, `is T` and
//!   `is T in E` need `T`; `in E` and no constraint keep every type.
//!
//! Cedar evaluates a policy's scope before its conditions and stops at the
//! first false conjunct, and scope tests never error, so a policy left out
//! here could neither be satisfied nor raise an error for that request:
//! decisions, reasons and errors are exactly those of the full policy set.
//! A key with no policy is denied by default without calling Cedar. Requests
//! whose key is unknown (no schema, or types the schema does not have) use
//! the per-action slice, or the full set.

use cedar_policy::{
    ActionConstraint, Entities, EntityTypeName, EntityUid, Policy, PolicySet, PrincipalConstraint,
    Request, ResourceConstraint, Schema,
};
use std::collections::{HashMap, HashSet};

/// Policies per (action, principal type, resource type), and per action.
#[derive(Debug, Default)]
pub(crate) struct PolicyIndex {
    by_key: HashMap<EntityUid, HashMap<EntityTypeName, HashMap<EntityTypeName, PolicySet>>>,
    by_action: HashMap<EntityUid, PolicySet>,
    /// Policies whose action constraint matches any action.
    any_action: PolicySet,
    /// Each indexed action's ancestors when the index was built: the index is
    /// valid for other entities only where these are the same.
    action_ancestors: HashMap<EntityUid, HashSet<EntityUid>>,
}

/// What the index selects for a request.
pub(crate) enum Selection<'a> {
    /// Evaluate these policies.
    Policies(&'a PolicySet),
    /// No policy can apply: deny by default.
    Nothing,
}

impl PolicyIndex {
    /// Builds the index, or `None` when the set has templates (the full set is used then).
    pub fn build(
        policies: &PolicySet,
        schema: Option<&Schema>,
        entities: &Entities,
    ) -> Option<Self> {
        if policies.templates().next().is_some() {
            return None;
        }
        let all: Vec<&Policy> = policies.policies().collect();
        let mut actions: HashSet<EntityUid> = HashSet::new();
        if let Some(schema) = schema {
            actions.extend(schema.actions().cloned());
        }
        // without a schema, action entities of the store can still be members of groups
        actions.extend(
            entities
                .iter()
                .map(|e| e.uid())
                .filter(|uid| uid.type_name().basename() == "Action"),
        );
        for policy in &all {
            match policy.action_constraint() {
                ActionConstraint::Eq(action) => {
                    actions.insert(action);
                }
                ActionConstraint::In(list) => actions.extend(list),
                ActionConstraint::Any => {}
            }
        }
        let mut index = Self::default();
        for policy in &all {
            if matches!(policy.action_constraint(), ActionConstraint::Any) {
                index.any_action.add((*policy).clone()).ok()?;
            }
        }
        for action in &actions {
            let ancestors: HashSet<&EntityUid> = entities
                .ancestors(action)
                .map(|a| a.collect())
                .unwrap_or_default();
            index.action_ancestors.insert(
                action.clone(),
                ancestors.iter().map(|a| (*a).clone()).collect(),
            );
            let matching: Vec<&Policy> = all
                .iter()
                .copied()
                .filter(|p| action_matches(&p.action_constraint(), action, &ancestors))
                .collect();
            index.by_action.insert(action.clone(), set_of(&matching)?);
            if let Some(schema) = schema {
                let principals = schema.principals_for_action(action);
                let resources = schema.resources_for_action(action);
                let (Some(principals), Some(resources)) = (principals, resources) else {
                    continue;
                };
                let resources: Vec<&EntityTypeName> = resources.collect();
                let by_principal = index.by_key.entry(action.clone()).or_default();
                for principal in principals {
                    let by_resource = by_principal.entry(principal.clone()).or_default();
                    for resource in &resources {
                        let slice: Vec<&Policy> = matching
                            .iter()
                            .copied()
                            .filter(|p| principal_may(&p.principal_constraint(), principal))
                            .filter(|p| resource_may(&p.resource_constraint(), resource))
                            .collect();
                        by_resource.insert((*resource).clone(), set_of(&slice)?);
                    }
                }
            }
        }
        Some(index)
    }

    /// Whether the index holds for a request decided against `entities`
    /// instead of the snapshot's own: the request's action must have the same
    /// ancestors in both (it does when `entities` extends the snapshot's).
    pub fn valid_for(&self, request: &Request, entities: &Entities) -> bool {
        let Some(action) = request.action() else {
            return false;
        };
        let expected = self.action_ancestors.get(action);
        match (expected, entities.ancestors(action)) {
            (Some(expected), Some(actual)) => {
                let mut count = 0;
                for ancestor in actual {
                    if !expected.contains(ancestor) {
                        return false;
                    }
                    count += 1;
                }
                count == expected.len()
            }
            (Some(expected), None) => expected.is_empty(),
            // an action the index never saw: only policies of any action apply, unless `entities` gives it groups
            (None, Some(mut actual)) => actual.next().is_none(),
            (None, None) => true,
        }
    }

    /// The policies to evaluate for a request, given the full set as fallback.
    pub fn select<'a>(&'a self, request: &Request, full: &'a PolicySet) -> Selection<'a> {
        let Some(action) = request.action() else {
            return Selection::Policies(full);
        };
        let keyed = match (request.principal(), request.resource()) {
            (Some(principal), Some(resource)) => self
                .by_key
                .get(action)
                .and_then(|m| m.get(principal.type_name()))
                .and_then(|m| m.get(resource.type_name())),
            _ => None,
        };
        let set = keyed.or_else(|| self.by_action.get(action));
        match set {
            Some(set) if set.is_empty() => Selection::Nothing,
            Some(set) => Selection::Policies(set),
            None if self.any_action.is_empty() => Selection::Nothing,
            None => Selection::Policies(&self.any_action),
        }
    }
}

fn set_of(policies: &[&Policy]) -> Option<PolicySet> {
    let mut set = PolicySet::new();
    for policy in policies {
        set.add((*policy).clone()).ok()?;
    }
    Some(set)
}

fn action_matches(
    constraint: &ActionConstraint,
    action: &EntityUid,
    ancestors: &HashSet<&EntityUid>,
) -> bool {
    match constraint {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => a == action,
        ActionConstraint::In(list) => list.iter().any(|a| a == action || ancestors.contains(a)),
    }
}

fn principal_may(constraint: &PrincipalConstraint, ty: &EntityTypeName) -> bool {
    match constraint {
        PrincipalConstraint::Any | PrincipalConstraint::In(_) => true,
        PrincipalConstraint::Eq(uid) => uid.type_name() == ty,
        PrincipalConstraint::Is(t) | PrincipalConstraint::IsIn(t, _) => t == ty,
    }
}

fn resource_may(constraint: &ResourceConstraint, ty: &EntityTypeName) -> bool {
    match constraint {
        ResourceConstraint::Any | ResourceConstraint::In(_) => true,
        ResourceConstraint::Eq(uid) => uid.type_name() == ty,
        ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => t == ty,
    }
}
