//! A matrix row's requests, planned when the row loads and built one at a
//! time as they are run: a row holds its principals, its resources and
//! which resources each principal asks about, never the requests
//! themselves, so its memory grows with principals plus resources, not with
//! their product (1,000 users by 1,000 models is a million requests).

use super::model::{Check, Expected, ReasonMatch};
use cedar_policy::{Context, Decision, EntityTypeName, EntityUid, Request, Schema};
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// A principal a row asks as, with its roles and tenants.
#[derive(Debug, Clone)]
pub(super) struct Who {
    pub(super) uid: EntityUid,
    pub(super) roles: Vec<String>,
    pub(super) role: Option<String>,
    pub(super) tenants: Vec<EntityUid>,
    /// Named in the row's `principals:` (asks a named resource across tenants).
    pub(super) explicit: bool,
}

/// One of the row's actions, with its context as Cedar reads it for that action.
#[derive(Debug, Clone)]
pub(super) struct RowAction {
    pub(super) uid: EntityUid,
    pub(super) context: Context,
    /// The principal types the schema lets ask it (`None`: no schema).
    pub(super) principal_types: Option<Vec<EntityTypeName>>,
}

/// What a row asks, before it is planned.
pub(super) struct RowAsk {
    pub(super) actions: Vec<RowAction>,
    pub(super) who: Vec<Who>,
    /// The resources with their tenants.
    pub(super) resources: Vec<(EntityUid, Vec<EntityUid>)>,
    /// Whether the row names one resource (rather than a type).
    pub(super) named: bool,
    /// Whether the file declares a tenant type (requests stay inside tenants).
    pub(super) tenanted: bool,
    pub(super) allow: HashSet<String>,
    /// The context as written.
    pub(super) context: serde_json::Value,
}

/// A request of a row that the schema refuses, and why.
#[derive(Debug, Clone)]
pub(super) struct InvalidRequest {
    pub(super) principal: EntityUid,
    pub(super) action: EntityUid,
    pub(super) resource: EntityUid,
    pub(super) why: String,
}

/// A principal asking an action: the resources it asks about and the index
/// of its first request.
#[derive(Debug, Clone, Copy)]
struct Pair {
    action: usize,
    who: usize,
    set: usize,
    first: usize,
}

/// Every request of a row, in order: for each action, for each principal the
/// schema lets ask it, for each resource it may ask about.
#[derive(Debug, Clone)]
pub struct RowPlan {
    actions: Vec<RowAction>,
    who: Vec<Who>,
    resources: Vec<(EntityUid, Vec<EntityUid>)>,
    /// Distinct lists of resource indices; principals of one tenant share one.
    sets: Vec<Vec<usize>>,
    pairs: Vec<Pair>,
    count: usize,
    allow: HashSet<String>,
    context: serde_json::Value,
}

/// Whether two tenant lists share a tenant.
pub(super) fn share(a: &[EntityUid], b: &[EntityUid]) -> bool {
    a.iter().any(|t| b.contains(t))
}

/// Whether principal and resource lie in one tenant (`None`: one has none).
pub(super) fn same_tenant(p: &[EntityUid], r: &[EntityUid]) -> Option<bool> {
    if p.is_empty() || r.is_empty() {
        None
    } else {
        Some(share(p, r))
    }
}

impl RowPlan {
    /// Plans a row: which resources each principal asks about, and which
    /// principals ask each action.
    pub(super) fn new(ask: RowAsk) -> Self {
        let mut sets: Vec<Vec<usize>> = Vec::new();
        let mut known: HashMap<Vec<usize>, usize> = HashMap::new();
        let who_sets: Vec<usize> = ask
            .who
            .iter()
            .map(|w| {
                let set: Vec<usize> = ask
                    .resources
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, tenants))| {
                        !ask.tenanted || (ask.named && w.explicit) || share(&w.tenants, tenants)
                    })
                    .map(|(index, _)| index)
                    .collect();
                *known.entry(set).or_insert_with_key(|set| {
                    sets.push(set.clone());
                    sets.len() - 1
                })
            })
            .collect();
        let mut pairs = Vec::new();
        let mut count = 0usize;
        for (a, action) in ask.actions.iter().enumerate() {
            for ((w, who), set) in ask.who.iter().enumerate().zip(&who_sets) {
                let fits = action
                    .principal_types
                    .as_ref()
                    .is_none_or(|types| types.contains(who.uid.type_name()));
                let size = sets.get(*set).map_or(0, Vec::len);
                if fits && size > 0 {
                    pairs.push(Pair {
                        action: a,
                        who: w,
                        set: *set,
                        first: count,
                    });
                    count = count.saturating_add(size);
                }
            }
        }
        Self {
            actions: ask.actions,
            who: ask.who,
            resources: ask.resources,
            sets,
            pairs,
            count,
            allow: ask.allow,
            context: ask.context,
        }
    }

    /// How many requests the row makes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the row makes no request.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The roles of the principals that ask something.
    pub(super) fn asked_roles(&self) -> HashSet<&str> {
        self.pairs
            .iter()
            .filter_map(|p| self.who.get(p.who)?.role.as_deref())
            .collect()
    }

    /// Validates against the schema one request for every principal asking
    /// each action and one for every resource asked with it: Cedar's request
    /// validation looks at each uid (its type, an enumerated id) and the
    /// context, never at a pair of them, so this covers every request.
    pub(super) fn validate(&self, schema: &Schema) -> Result<(), Box<InvalidRequest>> {
        let mut checked: HashSet<(usize, usize)> = HashSet::new();
        for pair in &self.pairs {
            let set = self.sets.get(pair.set).map_or(&[][..], Vec::as_slice);
            let first = set.first().copied();
            let unchecked = set
                .iter()
                .copied()
                .filter(|r| checked.insert((pair.action, *r)));
            for resource in first.into_iter().chain(unchecked) {
                if let Some(Err(invalid)) = self.request(pair, resource, Some(schema)) {
                    return Err(invalid);
                }
            }
        }
        Ok(())
    }

    /// The request of `pair` on resource `resource`, validated when a schema
    /// is given.
    fn request(
        &self,
        pair: &Pair,
        resource: usize,
        schema: Option<&Schema>,
    ) -> Option<Result<Request, Box<InvalidRequest>>> {
        let action = self.actions.get(pair.action)?;
        let who = self.who.get(pair.who)?;
        let (resource, _) = self.resources.get(resource)?;
        let request = Request::new(
            who.uid.clone(),
            action.uid.clone(),
            resource.clone(),
            action.context.clone(),
            schema,
        );
        Some(request.map_err(|e| {
            Box::new(InvalidRequest {
                principal: who.uid.clone(),
                action: action.uid.clone(),
                resource: resource.clone(),
                why: crate::diagnostics::text::error_chain(&e),
            })
        }))
    }

    /// The requests numbered `range`, in order.
    pub(super) fn checks(&self, range: Range<usize>) -> RowChecks<'_> {
        let pair = self
            .pairs
            .partition_point(|p| p.first <= range.start)
            .saturating_sub(1);
        RowChecks {
            plan: self,
            pair,
            next: range.start,
            end: range.end.min(self.count),
        }
    }

    /// Request `index` of `pair` (whose set holds `offset`).
    fn check(&self, pair: &Pair, offset: usize) -> Option<Result<Check, String>> {
        let resource = *self.sets.get(pair.set)?.get(offset)?;
        let request = self.request(pair, resource, None)?;
        let who = self.who.get(pair.who)?;
        let action = self.actions.get(pair.action)?;
        let (uid, tenants) = self.resources.get(resource)?;
        let allowed = who.roles.iter().any(|r| self.allow.contains(r));
        Some(request.map_err(|invalid| invalid.why).map(|request| Check {
            same_tenant: same_tenant(&who.tenants, tenants),
            principal: who.uid.clone(),
            action: action.uid.clone(),
            resource: uid.clone(),
            context: self.context.clone(),
            roles: who.roles.clone(),
            role: who.role.clone(),
            expected: Expected {
                decision: if allowed {
                    Decision::Allow
                } else {
                    Decision::Deny
                },
                reasons: None,
                reason_match: ReasonMatch::Exact,
                errors: Some(0),
            },
            request,
            entities: None,
        }))
    }
}

/// A row's requests over a range, built as they are taken. Each was
/// validated against the schema when the row loaded ([`RowPlan::validate`]),
/// so they are built without validating again; building one without a
/// schema cannot fail, and would be yielded as an error if it did.
#[derive(Debug, Clone)]
pub(super) struct RowChecks<'a> {
    plan: &'a RowPlan,
    pair: usize,
    next: usize,
    end: usize,
}

impl Iterator for RowChecks<'_> {
    type Item = Result<Check, String>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.end {
            let pair = self.plan.pairs.get(self.pair)?;
            let offset = self.next.checked_sub(pair.first)?;
            if offset >= self.plan.sets.get(pair.set).map_or(0, Vec::len) {
                self.pair += 1;
                continue;
            }
            self.next += 1;
            return self.plan.check(pair, offset);
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end.saturating_sub(self.next);
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn uid(text: &str) -> EntityUid {
        text.parse().unwrap()
    }

    /// Two tenants of different sizes, a principal with none, two actions.
    fn plan() -> RowPlan {
        let acme = uid(r#"T::"acme""#);
        let globex = uid(r#"T::"globex""#);
        let who = |id: &str, tenants: Vec<EntityUid>| Who {
            uid: uid(&format!(r#"User::"{id}""#)),
            roles: vec!["r".to_owned()],
            role: Some("r".to_owned()),
            tenants,
            explicit: false,
        };
        let resources = (0..7)
            .map(|i| {
                let tenant = if i < 5 { acme.clone() } else { globex.clone() };
                (uid(&format!(r#"Doc::"d{i}""#)), vec![tenant])
            })
            .collect();
        let action = |id: &str| RowAction {
            uid: uid(&format!(r#"Action::"{id}""#)),
            context: Context::empty(),
            principal_types: None,
        };
        RowPlan::new(RowAsk {
            actions: vec![action("view"), action("edit")],
            who: vec![
                who("a", vec![acme.clone()]),
                who("nobody", Vec::new()),
                who("g", vec![globex]),
                who("b", vec![acme]),
            ],
            resources,
            named: false,
            tenanted: true,
            allow: HashSet::new(),
            context: serde_json::json!({}),
        })
    }

    fn names(checks: impl Iterator<Item = Result<Check, String>>) -> Vec<String> {
        checks
            .map(|c| {
                let c = c.unwrap();
                format!("{} {} {}", c.principal, c.action, c.resource)
            })
            .collect()
    }

    #[test]
    fn principals_ask_the_resources_of_their_tenants_only() {
        let plan = plan();
        // per action: a and b see 5 acme docs, g 2 globex docs, nobody none
        assert_eq!(plan.len(), 2 * (5 + 2 + 5));
        let all = names(plan.checks(0..plan.len()));
        assert_eq!(all.len(), plan.len());
        assert_eq!(all[0], r#"User::"a" Action::"view" Doc::"d0""#);
        assert_eq!(all[5], r#"User::"g" Action::"view" Doc::"d5""#);
        assert_eq!(all[12], r#"User::"a" Action::"edit" Doc::"d0""#);
        assert!(!all.iter().any(|c| c.contains("nobody")));
    }

    #[test]
    fn any_split_into_ranges_gives_every_request_once_in_order() {
        let plan = plan();
        let all = names(plan.checks(0..plan.len()));
        for piece in 1..=plan.len() + 1 {
            let mut joined = Vec::new();
            let mut start = 0;
            while start < plan.len() {
                let end = (start + piece).min(plan.len());
                joined.extend(names(plan.checks(start..end)));
                start = end;
            }
            assert_eq!(joined, all, "pieces of {piece}");
        }
        assert!(names(plan.checks(plan.len()..plan.len() + 3)).is_empty());
    }
}
