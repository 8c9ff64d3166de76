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
//! Within a key, a policy may also have a *principal guard*: entities one of
//! which the principal must be, or descend from, for the policy to be
//! satisfied (see [`PolicyPrep`]): the `E` of `principal == E`, `principal in E`
//! or `principal is T in E`, or the entities of a first `when` clause that
//! starts with `principal in [E1, E2]`, `principal in E` or `principal == E`
//! (the roles of a role model). At request time the principal's ancestors
//! (one lookup in the entities the request is decided against) pick the
//! guarded policies that stay; the subset of each combination is built once,
//! on first use.
//!
//! In the index's sets, a policy with `action in [...]` is replaced by the same
//! policy (same id and annotations) without that constraint: a policy is in a
//! set only for actions its list matches, so there the constraint is always
//! true, and Cedar would rebuild the list on every evaluation. For a
//! principal that holds a policy's guard of `in` tests, the policy is also
//! handed over without that first conjunct, which is true for it (see
//! [`prep`]).
//!
//! Within a key, a permit whose copy handed to Cedar has no condition and a
//! scope that tests only what the key fixes (see [`Cell`]) is satisfied by
//! every request of the key: it is *granted*, and Cedar's evaluator
//! evaluates only the other policies ([`Cell::decide`] completes the answer).
//!
//! Cedar evaluates a policy's scope, then its first condition, left to right
//! and stops at the first false conjunct; scope tests, and `in`/`==` between
//! `principal` and entity literals, never error. So a policy left out here
//! could neither be satisfied nor raise an error for that request: decisions,
//! reasons and errors are exactly those of the full policy set. A request
//! with no policy left is denied by default without calling Cedar. Requests
//! whose key is unknown (no schema, or types the schema does not have) use
//! the per-action slice, or the full set.

mod cell;
mod prep;

pub(crate) use cell::Cell;
pub(crate) use prep::{PolicyPrep, Prepared, prepare};

use cedar_policy::{
    ActionConstraint, Entities, EntityTypeName, EntityUid, Policy, PolicySet, PrincipalConstraint,
    Request, ResourceConstraint, Schema,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// The index's maps are read on every request: a fast hasher (the keys are
/// the store's own entity uids and type names).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// At most this many guard entities get a bit per key (the subsets are
/// `2^GUARD_BITS`); policies guarded by others are always evaluated.
const GUARD_BITS: usize = 6;

/// Policies per (action, principal type, resource type), and per action.
///
/// The build only sorts policy numbers into keys; each key's policy set is
/// made on its first request, so a reload of a large store pays for the keys
/// that are asked, when they are asked.
#[derive(Debug, Default)]
pub(crate) struct PolicyIndex {
    /// The static policies, numbered.
    numbered: Numbered,
    by_key: FastMap<EntityUid, FastMap<EntityTypeName, FastMap<EntityTypeName, Slice>>>,
    by_action: FastMap<EntityUid, LazySet>,
    /// Policies whose action constraint matches any action.
    any_action: LazySet,
    /// Each indexed action's ancestors when the index was built: the index is
    /// valid for other entities only where these are the same.
    action_ancestors: HashMap<EntityUid, HashSet<EntityUid>>,
}

/// What the index selects for a request.
pub(crate) enum Selection<'a> {
    /// Evaluate these policies.
    Policies(&'a PolicySet),
    /// The policies of a key (see [`Cell`]).
    Cell(&'a Cell),
    /// No policy can apply: deny by default.
    Nothing,
}

/// Some of the index's policies (by number), as a set made on first use
/// (`None` inside: it could not be made, use the full set).
#[derive(Debug, Default)]
struct LazySet {
    members: Vec<u32>,
    set: OnceLock<Option<PolicySet>>,
}

impl LazySet {
    fn new(members: Vec<u32>) -> Self {
        Self {
            members,
            set: OnceLock::new(),
        }
    }

    fn get<'a>(&'a self, numbered: &Numbered, full: &'a PolicySet) -> &'a PolicySet {
        self.set
            .get_or_init(|| set_of(self.members.iter().filter_map(|&p| numbered.policy(p))))
            .as_ref()
            .unwrap_or(full)
    }
}

/// The policies of one key, and their subsets by principal guard.
#[derive(Debug)]
struct Slice {
    /// Every policy of the key.
    every: Vec<u32>,
    /// Their cell, made on first use.
    every_cell: OnceLock<Option<Cell>>,
    /// The guard entities that have a bit, with it.
    bits: FastMap<EntityUid, u64>,
    /// Each policy with the bits of its guard (0: always evaluated).
    members: Vec<(u32, u64)>,
    /// The cell for each combination of bits, built on first use.
    subsets: Box<[OnceLock<Option<Cell>>]>,
}

impl Slice {
    fn new(policies: &[(u32, Option<&[EntityUid]>)]) -> Self {
        // the guard entities guarding the most policies get the bits
        let mut counts: Vec<(&EntityUid, usize)> = Vec::new();
        for uid in policies.iter().filter_map(|(_, g)| *g).flatten() {
            match counts.iter_mut().find(|(u, _)| *u == uid) {
                Some((_, n)) => *n += 1,
                None => counts.push((uid, 1)),
            }
        }
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let bits: FastMap<EntityUid, u64> = counts
            .iter()
            .take(GUARD_BITS)
            .enumerate()
            .map(|(i, (uid, _))| ((*uid).clone(), 1u64 << i))
            .collect();
        let members: Vec<(u32, u64)> = policies
            .iter()
            .map(|(policy, guard)| {
                let mask = guard
                    .and_then(|uids| {
                        uids.iter()
                            .try_fold(0u64, |mask, uid| bits.get(uid).map(|bit| mask | bit))
                    })
                    .unwrap_or(0);
                (*policy, mask)
            })
            .collect();
        let guarded = members.iter().any(|(_, mask)| *mask != 0);
        let subsets = if guarded {
            (0..1usize << bits.len()).map(|_| OnceLock::new()).collect()
        } else {
            Box::default()
        };
        Self {
            every: policies.iter().map(|(p, _)| *p).collect(),
            every_cell: OnceLock::new(),
            bits,
            members,
            subsets,
        }
    }

    /// The cell of every policy of the key (`None`: use the full set).
    fn every(&self, numbered: &Numbered) -> Option<&Cell> {
        self.every_cell
            .get_or_init(|| Cell::new(self.every.iter().filter_map(|&p| numbered.policy(p))))
            .as_ref()
    }

    /// The policies that can apply to a request by `principal` (`None`: use the full set).
    fn select(
        &self,
        principal: Option<&EntityUid>,
        entities: &Entities,
        numbered: &Numbered,
    ) -> Option<&Cell> {
        let Some(principal) = principal.filter(|_| !self.subsets.is_empty()) else {
            return self.every(numbered);
        };
        let mut held = self.bits.get(principal).copied().unwrap_or(0);
        if let Some(ancestors) = entities.ancestors(principal) {
            for ancestor in ancestors {
                held |= self.bits.get(ancestor).copied().unwrap_or(0);
            }
        }
        let cell = usize::try_from(held)
            .ok()
            .and_then(|at| self.subsets.get(at));
        let Some(cell) = cell else {
            return self.every(numbered);
        };
        cell.get_or_init(|| {
            Cell::new(self.members.iter().filter_map(|&(p, mask)| {
                if mask == 0 {
                    numbered.policy(p)
                } else if mask & held != 0 {
                    // the principal holds the guard: it is true, and can go
                    numbered.stripped(p).or_else(|| numbered.policy(p))
                } else {
                    None
                }
            }))
        })
        .as_ref()
    }
}

/// The index's policies by number, with what it derived from each.
#[derive(Debug, Default)]
struct Numbered {
    originals: Vec<Policy>,
    preps: Vec<Arc<PolicyPrep>>,
}

impl Numbered {
    /// Policy `p` as the index's sets hold it (without its action list: see `prep::narrow`).
    fn policy(&self, p: u32) -> Option<&Policy> {
        let at = usize::try_from(p).ok()?;
        let prep = self.preps.get(at)?;
        prep.narrowed.as_ref().or_else(|| self.originals.get(at))
    }

    /// Policy `p` without its guard, where it has one to drop (see `prep::strip`).
    fn stripped(&self, p: u32) -> Option<&Policy> {
        self.preps.get(usize::try_from(p).ok()?)?.stripped.as_ref()
    }
}

impl PolicyIndex {
    /// Builds the index, or `None` when the set has templates (the full set
    /// is used then) or more than `u32::MAX` policies. `prepared` holds what
    /// the index derives from each policy where already known (the others
    /// are computed).
    ///
    /// Linear in the policies and the actions: each policy's constraints are
    /// read once and the policy is added to the actions it can match.
    pub fn build(
        policies: &PolicySet,
        schema: Option<&Schema>,
        entities: &Entities,
        prepared: &Prepared,
    ) -> Option<Self> {
        if policies.templates().next().is_some() {
            return None;
        }
        let all: Vec<Entry<'_>> = policies
            .policies()
            .map(|p| Entry::new(p, prepared.get(p.id())))
            .collect();
        u32::try_from(all.len()).ok()?;
        let actions = known_actions(schema, entities, &all);
        let mut index = Self::default();
        let (matching, any) = index.policies_by_action(&actions, entities, &all);
        for (action, specific) in actions.iter().zip(&matching) {
            let mut chosen: Vec<u32> = specific.iter().chain(&any).copied().collect();
            chosen.sort_unstable();
            if let Some(schema) = schema {
                index.add_keys(schema, action, &chosen, &all);
            }
            index.by_action.insert(action.clone(), LazySet::new(chosen));
        }
        index.any_action = LazySet::new(any);
        index.numbered = Numbered {
            originals: all.iter().map(|e| e.policy.clone()).collect(),
            preps: all.iter().map(|e| Arc::clone(&e.prep)).collect(),
        };
        Some(index)
    }

    /// Each action's ancestors (kept in the index) and, in the set's
    /// order, the policies each action can match (by the action itself or a
    /// group holding it), and the policies of any action.
    fn policies_by_action(
        &mut self,
        actions: &[EntityUid],
        entities: &Entities,
        all: &[Entry<'_>],
    ) -> (Vec<Vec<u32>>, Vec<u32>) {
        // each action's ancestors, and each group's members (the reverse)
        let mut position: HashMap<&EntityUid, usize> = HashMap::new();
        let mut members: HashMap<EntityUid, Vec<usize>> = HashMap::new();
        for (at, action) in actions.iter().enumerate() {
            position.insert(action, at);
            let ancestors: HashSet<EntityUid> = entities
                .ancestors(action)
                .map(|a| a.cloned().collect())
                .unwrap_or_default();
            for ancestor in &ancestors {
                members.entry(ancestor.clone()).or_default().push(at);
            }
            self.action_ancestors.insert(action.clone(), ancestors);
        }
        let mut matching: Vec<Vec<u32>> = vec![Vec::new(); actions.len()];
        let mut any: Vec<u32> = Vec::new();
        for (p, entry) in (0u32..).zip(all) {
            let mut targets: Vec<usize> = Vec::new();
            match &entry.action {
                ActionConstraint::Any => any.push(p),
                ActionConstraint::Eq(action) => targets.extend(position.get(action)),
                ActionConstraint::In(list) => {
                    for action in list {
                        targets.extend(position.get(action));
                        targets.extend(members.get(action).into_iter().flatten());
                    }
                }
            }
            targets.sort_unstable();
            targets.dedup();
            for target in targets {
                if let Some(list) = matching.get_mut(target) {
                    list.push(p);
                }
            }
        }
        (matching, any)
    }

    /// The slices of `chosen` (an action's policies) for each principal and
    /// resource type the schema gives the action: those whose scope can
    /// match them.
    fn add_keys(&mut self, schema: &Schema, action: &EntityUid, chosen: &[u32], all: &[Entry<'_>]) {
        let (Some(principals), Some(resources)) = (
            schema.principals_for_action(action),
            schema.resources_for_action(action),
        ) else {
            return;
        };
        let resources: Vec<&EntityTypeName> = resources.collect();
        let by_principal = self.by_key.entry(action.clone()).or_default();
        for principal in principals {
            let by_resource = by_principal.entry(principal.clone()).or_default();
            for resource in &resources {
                let slice: Vec<(u32, Option<&[EntityUid]>)> = chosen
                    .iter()
                    .filter_map(|&p| Some((p, number_entry(all, p)?)))
                    .filter(|(_, e)| principal_may(&e.principal, principal))
                    .filter(|(_, e)| resource_may(&e.resource, resource))
                    .map(|(p, e)| (p, e.prep.guard.as_deref()))
                    .collect();
                by_resource.insert((*resource).clone(), Slice::new(&slice));
            }
        }
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

    /// The policies to evaluate for a request decided against `entities`,
    /// given the full set as fallback.
    pub fn select<'a>(
        &'a self,
        request: &Request,
        entities: &Entities,
        full: &'a PolicySet,
    ) -> Selection<'a> {
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
        let set = match keyed {
            Some(slice) => {
                return match slice.select(request.principal(), entities, &self.numbered) {
                    Some(cell) if cell.is_empty() => Selection::Nothing,
                    Some(cell) => Selection::Cell(cell),
                    None => Selection::Policies(full),
                };
            }
            None => match self.by_action.get(action) {
                Some(set) => set.get(&self.numbered, full),
                None => self.any_action.get(&self.numbered, full),
            },
        };
        if set.is_empty() {
            Selection::Nothing
        } else {
            Selection::Policies(set)
        }
    }
}

fn number_entry<'e, 'p>(all: &'e [Entry<'p>], p: u32) -> Option<&'e Entry<'p>> {
    all.get(usize::try_from(p).ok()?)
}

/// One policy's scope, read once, and what the index derives from it.
struct Entry<'a> {
    policy: &'a Policy,
    action: ActionConstraint,
    principal: PrincipalConstraint,
    resource: ResourceConstraint,
    prep: Arc<PolicyPrep>,
}

impl<'a> Entry<'a> {
    fn new(policy: &'a Policy, known: Option<&Arc<PolicyPrep>>) -> Self {
        Self {
            prep: known
                .map(Arc::clone)
                .unwrap_or_else(|| Arc::new(PolicyPrep::of(policy))),
            policy,
            action: policy.action_constraint(),
            principal: policy.principal_constraint(),
            resource: policy.resource_constraint(),
        }
    }
}

fn set_of<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> Option<PolicySet> {
    let mut set = PolicySet::new();
    for policy in policies {
        set.add(policy.clone()).ok()?;
    }
    Some(set)
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

/// Every action the index keys: the schema's, the action entities of the
/// store (without a schema, members of groups), and those policies name;
/// each once, in that order.
fn known_actions(
    schema: Option<&Schema>,
    entities: &Entities,
    all: &[Entry<'_>],
) -> Vec<EntityUid> {
    let mut actions: Vec<EntityUid> = Vec::new();
    let mut known: HashSet<EntityUid> = HashSet::new();
    let mut add_action = |uid: &EntityUid| {
        if known.insert(uid.clone()) {
            actions.push(uid.clone());
        }
    };
    if let Some(schema) = schema {
        schema.actions().for_each(&mut add_action);
    }
    for entity in entities.iter() {
        let uid = entity.uid();
        if uid.type_name().basename() == "Action" {
            add_action(&uid);
        }
    }
    for entry in all {
        match &entry.action {
            ActionConstraint::Eq(action) => add_action(action),
            ActionConstraint::In(list) => list.iter().for_each(&mut add_action),
            ActionConstraint::Any => {}
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    /// A request of `U::"user"` to `v` the file `F::"file"`.
    fn request_of(user: &str, file: &str, schema: &Schema) -> TestResult<Request> {
        Ok(Request::new(
            format!(r#"U::"{user}""#).parse()?,
            r#"Action::"v""#.parse()?,
            format!(r#"F::"{file}""#).parse()?,
            cedar_policy::Context::empty(),
            Some(schema),
        )?)
    }

    /// Guard shapes against principals that hold a role directly, through a
    /// group, or not at all, with permits granted by the scope, satisfied
    /// forbids and policies that err: the index's sets, and the cells'
    /// decisions, are the full set's.
    #[test]
    fn selected_sets_decide_as_the_full_set() -> TestResult {
        let policies: PolicySet = r#"
            permit(principal, action == Action::"v", resource) when { principal == R::"a" && resource.locked == false };
            permit(principal, action in [Action::"v"], resource) when { principal in [R::"b"] && resource.locked };
            permit(principal, action == Action::"v", resource) when { principal in R::"a" || principal == U::"ab" };
            forbid(principal, action == Action::"v", resource) when { principal in R::"b" && resource.nope };
            permit(principal is U, action == Action::"v", resource is F);
            permit(principal, action, resource) when { principal in R::"a" && resource.nope };
        "#
        .parse()?;
        let schema: Schema = r#"
            entity R in [R]; entity U in [R]; entity F { locked: Bool, nope?: Bool };
            action v appliesTo { principal: U, resource: F };
        "#
        .parse()?;
        let entities = Entities::from_json_value(
            serde_json::json!([
                {"uid": {"type": "R", "id": "a"}, "attrs": {}, "parents": [{"type": "R", "id": "b"}]},
                {"uid": {"type": "U", "id": "ab"}, "attrs": {}, "parents": [{"type": "R", "id": "a"}]},
                {"uid": {"type": "U", "id": "b"}, "attrs": {}, "parents": [{"type": "R", "id": "b"}]},
                {"uid": {"type": "U", "id": "none"}, "attrs": {}, "parents": []},
                {"uid": {"type": "F", "id": "open"}, "attrs": {"locked": false}, "parents": []},
                {"uid": {"type": "F", "id": "shut"}, "attrs": {"locked": true}, "parents": []},
                {"uid": {"type": "F", "id": "nope"}, "attrs": {"locked": false, "nope": true}, "parents": []},
            ]),
            Some(&schema),
        )?;
        let index = PolicyIndex::build(&policies, Some(&schema), &entities, &prepare(&policies))
            .ok_or("no index")?;
        let authorizer = cedar_policy::Authorizer::new();
        for user in ["ab", "b", "none", "ghost"] {
            for file in ["open", "shut", "nope"] {
                let request = request_of(user, file, &schema)?;
                let full = crate::Answer::from_response(
                    authorizer.is_authorized(&request, &policies, &entities),
                );
                let ours = match index.select(&request, &entities, &policies) {
                    Selection::Nothing => crate::Answer::denied_by_default(),
                    Selection::Policies(set) => crate::Answer::from_response(
                        authorizer.is_authorized(&request, set, &entities),
                    ),
                    Selection::Cell(cell) => {
                        let cedar = crate::Answer::from_response(authorizer.is_authorized(
                            &request,
                            cell.combined(&policies),
                            &entities,
                        ));
                        assert_eq!(cedar, full, "{user} on {file}: the cell's set");
                        cell.decide(&request, &entities)
                            .ok_or("no unknowns: decided")?
                    }
                };
                assert_eq!(ours, full, "{user} on {file}");
            }
        }
        Ok(())
    }

    #[test]
    fn a_principal_without_the_role_skips_the_guarded_policies() -> TestResult {
        let policies: PolicySet = r#"
            permit(principal in R::"a", action == Action::"v", resource);
            permit(principal, action == Action::"v", resource) when { principal in [R::"b"] };
            forbid(principal, action == Action::"v", resource) when { resource.locked };
        "#
        .parse()?;
        let schema: Schema = r#"
            entity R; entity U in [R]; entity F { locked: Bool };
            action v appliesTo { principal: U, resource: F };
        "#
        .parse()?;
        let entities = Entities::from_json_value(
            serde_json::json!([
                {"uid": {"type": "U", "id": "ab"}, "attrs": {}, "parents": [{"type": "R", "id": "a"}, {"type": "R", "id": "b"}]},
                {"uid": {"type": "U", "id": "none"}, "attrs": {}, "parents": []},
                {"uid": {"type": "F", "id": "f"}, "attrs": {"locked": false}, "parents": []},
            ]),
            Some(&schema),
        )?;
        let index = PolicyIndex::build(&policies, Some(&schema), &entities, &Prepared::default())
            .ok_or("no index")?;
        // the policies Cedar evaluates, and those granted by the scope alone
        let selected = |user: &str| -> TestResult<(Vec<String>, Vec<String>)> {
            let request = request_of(user, "f", &schema)?;
            Ok(match index.select(&request, &entities, &policies) {
                Selection::Nothing => (Vec::new(), Vec::new()),
                Selection::Policies(_) => Err("a keyed request gets a cell")?,
                Selection::Cell(cell) => {
                    let mut ids: Vec<String> =
                        cell.evaluated_ids().map(ToString::to_string).collect();
                    ids.sort();
                    let granted = cell.granted().iter().map(ToString::to_string).collect();
                    (ids, granted)
                }
            })
        };
        let strings =
            |ids: &[&str]| -> Vec<String> { ids.iter().map(|&id| id.to_owned()).collect() };
        // positional ids: policy0 is "a", policy1 "b", policy2 the forbid of all;
        // for a principal holding both roles, both permits lose their guard
        // and are satisfied whatever the file: only the forbid is evaluated
        assert_eq!(
            selected("ab")?,
            (strings(&["policy2"]), strings(&["policy0", "policy1"]))
        );
        assert_eq!(selected("none")?, (strings(&["policy2"]), Vec::new()));
        // twice: the subset built on first use is reused
        assert_eq!(selected("none")?, (strings(&["policy2"]), Vec::new()));
        // an unknown principal holds no role
        assert_eq!(selected("ghost")?, (strings(&["policy2"]), Vec::new()));
        Ok(())
    }
}
