//! Choosing whom, on what and with which context the matrix asks: principals
//! per role and tenant (fixture users, or synthesized ones), resources in the
//! principal's tenant, and context values from the schema and the policies.

use super::condition::{ContextLiteral, context_literals, needs_parens, policy_condition};
use super::model::{Cell, MAX_CONTEXTS, Principal, RoleColumn, Tally, Verdict, matrix_problem};
use crate::diagnostics::Problems;
use crate::diagnostics::text::error_chain;
use crate::roles::Roles;
use crate::schema_info::{Attr, AttrType, SchemaInfo};
use crate::snapshot::Snapshot;
use cedar_policy::{Entities, Entity, EntityTypeName, EntityUid, PolicyId, Schema};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;

/// A role column.
pub(crate) struct RoleRef {
    uid: EntityUid,
    id: String,
}

/// A principal asked as some role.
struct PrincipalRef {
    uid: EntityUid,
    tenant: Vec<EntityUid>,
    synthesized: bool,
}

/// One request to ask.
pub(crate) struct Sample {
    pub principal: EntityUid,
    pub resource: EntityUid,
    pub context: Value,
}

/// Everything the samples are drawn from.
pub(crate) struct Sampler<'a> {
    snapshot: &'a Snapshot,
    schema: &'a Schema,
    info: &'a SchemaInfo,
    role_types: Vec<String>,
    roles: Vec<RoleRef>,
    /// Per role (same index as `roles`).
    principals: Vec<Vec<PrincipalRef>>,
    /// The snapshot's entities plus the synthesized principals.
    entities: Entities,
    /// Fixture entities by type, in fixture order.
    by_type: HashMap<EntityTypeName, Vec<EntityUid>>,
    literals: BTreeSet<(Vec<String>, ContextLiteral)>,
}

type OrderKey = (u8, PathBuf, usize, String);

fn policy_order(snapshot: &Snapshot, id: &PolicyId) -> OrderKey {
    match snapshot.policy_origin(id) {
        Some(origin) => (
            0,
            origin.file.path().to_path_buf(),
            origin.span.start,
            id.to_string(),
        ),
        None => (1, PathBuf::new(), 0, id.to_string()),
    }
}

fn uid_json(uid: &EntityUid) -> Value {
    json!({"type": uid.type_name().to_string(), "id": uid.id().unescaped()})
}

impl<'a> Sampler<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        schema: &'a Schema,
        info: &'a SchemaInfo,
    ) -> Result<Self, Problems> {
        let model = snapshot.roles();
        let roles = fixture_roles(model)?;
        let users = role_holders(snapshot)?;
        let mut by_type: HashMap<EntityTypeName, Vec<EntityUid>> = HashMap::new();
        for uid in model.fixture() {
            by_type
                .entry(uid.type_name().clone())
                .or_default()
                .push(uid.clone());
        }
        let (principals, synthesized) = principals_per_role(snapshot, schema, &roles, &users)?;
        let entities = if synthesized.is_empty() {
            snapshot.entities().clone()
        } else {
            snapshot
                .entities()
                .clone()
                .add_entities(synthesized, Some(schema))
                .map_err(|e| {
                    Problems::from(matrix_problem(format!(
                        "cannot add the matrix's synthesized principals: {}",
                        error_chain(&e)
                    )))
                })?
        };
        Ok(Self {
            snapshot,
            schema,
            info,
            role_types: model.role_types().iter().map(ToString::to_string).collect(),
            roles,
            principals,
            entities,
            by_type,
            literals: context_literals(snapshot.policies().policies()),
        })
    }

    /// The roles, in fixture order.
    pub fn roles(&self) -> impl Iterator<Item = (usize, &RoleRef)> {
        self.roles.iter().enumerate()
    }

    /// The entities requests are decided against.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }

    /// The columns of the matrix.
    pub fn columns(&self) -> Vec<RoleColumn> {
        self.roles
            .iter()
            .zip(&self.principals)
            .map(|(role, principals)| RoleColumn {
                id: role.id.clone(),
                entity: role.uid.to_string(),
                principals: principals
                    .iter()
                    .map(|p| Principal {
                        uid: p.uid.to_string(),
                        tenant: p.tenant.iter().map(ToString::to_string).collect(),
                        synthesized: p.synthesized,
                    })
                    .collect(),
            })
            .collect()
    }

    fn in_tenant(&self, resource: &EntityUid, tenant: &[EntityUid]) -> bool {
        tenant.is_empty()
            || tenant
                .iter()
                .any(|t| t == resource || self.entities.is_ancestor_of(t, resource))
    }

    /// Every request of one cell: each principal of the role, each fixture
    /// entity of `ty` in its tenant, each context.
    pub fn samples(
        &self,
        (index, _role): (usize, &RoleRef),
        action: &EntityUid,
        ty: &EntityTypeName,
        notes: &mut BTreeSet<String>,
    ) -> Vec<Sample> {
        let principal_types: HashSet<&EntityTypeName> = self
            .schema
            .principals_for_action(action)
            .map(Iterator::collect)
            .unwrap_or_default();
        let mut out = Vec::new();
        let resources = self.by_type.get(ty).map_or(&[][..], Vec::as_slice);
        for principal in self.principals.get(index).into_iter().flatten() {
            if !principal_types.contains(principal.uid.type_name()) {
                continue;
            }
            let in_tenant: Vec<&EntityUid> = resources
                .iter()
                .filter(|r| self.in_tenant(r, &principal.tenant))
                .collect();
            if in_tenant.is_empty() {
                continue;
            }
            let contexts = match self.contexts(action, principal) {
                Ok((contexts, capped)) => {
                    if capped {
                        notes.insert(format!(
                            "{action}: more than {MAX_CONTEXTS} contexts; only the first {MAX_CONTEXTS} were tried"
                        ));
                    }
                    contexts
                }
                Err(why) => {
                    notes.insert(format!("{action}: {why}; its cells are untested"));
                    return Vec::new();
                }
            };
            for resource in in_tenant {
                for context in &contexts {
                    out.push(Sample {
                        principal: principal.uid.clone(),
                        resource: resource.clone(),
                        context: context.clone(),
                    });
                }
            }
        }
        out
    }

    fn contexts(
        &self,
        action: &EntityUid,
        principal: &PrincipalRef,
    ) -> Result<(Vec<Value>, bool), String> {
        let attrs = self.info.context(action);
        let mut path = Vec::new();
        self.record_values(attrs, &mut path, principal)
    }

    fn record_values(
        &self,
        attrs: &[Attr],
        path: &mut Vec<String>,
        principal: &PrincipalRef,
    ) -> Result<(Vec<Value>, bool), String> {
        let mut records = vec![Map::new()];
        let mut capped = false;
        for attr in attrs {
            path.push(attr.name.clone());
            let (values, inner_capped) = self.values(&attr.ty, path, principal)?;
            path.pop();
            capped |= inner_capped;
            let mut options: Vec<Option<Value>> = Vec::new();
            if !attr.required {
                options.push(None);
            }
            options.extend(values.into_iter().map(Some));
            let mut next = Vec::new();
            'outer: for record in &records {
                for option in &options {
                    if next.len() >= MAX_CONTEXTS {
                        capped = true;
                        break 'outer;
                    }
                    let mut record = record.clone();
                    if let Some(value) = option {
                        record.insert(attr.name.clone(), value.clone());
                    }
                    next.push(record);
                }
            }
            records = next;
        }
        Ok((records.into_iter().map(Value::Object).collect(), capped))
    }

    fn values(
        &self,
        ty: &AttrType,
        path: &mut Vec<String>,
        principal: &PrincipalRef,
    ) -> Result<(Vec<Value>, bool), String> {
        let literals = || {
            self.literals
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, literal)| literal)
        };
        let values = match ty {
            AttrType::String => {
                let mut strings: BTreeSet<String> = literals()
                    .filter_map(|l| match l {
                        ContextLiteral::String(s) => Some(s.clone()),
                        ContextLiteral::Long(_) => None,
                    })
                    .collect();
                strings.extend(self.roles.iter().map(|r| r.id.clone()));
                if strings.is_empty() {
                    strings.insert(String::new());
                }
                strings.into_iter().map(Value::String).collect()
            }
            AttrType::Long => {
                let mut longs: BTreeSet<i64> = BTreeSet::from([0]);
                for literal in literals() {
                    if let ContextLiteral::Long(n) = literal {
                        longs.extend(
                            [n.checked_sub(1), Some(*n), n.checked_add(1)]
                                .into_iter()
                                .flatten(),
                        );
                    }
                }
                longs.into_iter().map(Value::from).collect()
            }
            AttrType::Bool => vec![Value::Bool(false), Value::Bool(true)],
            AttrType::Entity(name) => {
                let Ok(ty) = EntityTypeName::from_str(name) else {
                    return Err(format!(
                        "context attribute `{}` has the unknown entity type {name}",
                        path.join(".")
                    ));
                };
                let all = self.by_type.get(&ty).map_or(&[][..], Vec::as_slice);
                let mut uids: Vec<&EntityUid> = all
                    .iter()
                    .filter(|uid| self.in_tenant(uid, &principal.tenant))
                    .collect();
                if principal.uid.type_name() == &ty && !uids.contains(&&principal.uid) {
                    uids.push(&principal.uid);
                }
                if uids.is_empty() {
                    uids = all.iter().collect();
                }
                if uids.is_empty() {
                    return Err(format!(
                        "context attribute `{}` is an entity of type {name}, and the fixture has none",
                        path.join(".")
                    ));
                }
                uids.into_iter()
                    .map(|uid| json!({"__entity": uid_json(uid)}))
                    .collect()
            }
            AttrType::Set(_) => vec![Value::Array(Vec::new())],
            AttrType::Record(attrs) => return self.record_values(attrs, path, principal),
            AttrType::Other(name) => {
                return Err(format!(
                    "context attribute `{}` has type {name}, which the matrix cannot enumerate",
                    path.join(".")
                ));
            }
        };
        Ok((values, false))
    }

    /// The cell of a role from what its requests gave.
    pub fn cell(&self, (_, role): (usize, &RoleRef), tally: Tally) -> Cell {
        let verdict = if tally.requests == 0 {
            Verdict::Untested
        } else if tally.allowed == tally.requests {
            Verdict::Allowed
        } else if tally.allowed == 0 {
            Verdict::Denied
        } else {
            Verdict::Conditional
        };
        let sorted = |ids: &BTreeSet<PolicyId>| -> Vec<PolicyId> {
            let mut ids: Vec<PolicyId> = ids.iter().cloned().collect();
            ids.sort_by_cached_key(|id| policy_order(self.snapshot, id));
            ids
        };
        let permits = sorted(&tally.permits);
        let forbids = sorted(&tally.forbids);
        let condition =
            (verdict == Verdict::Conditional).then(|| self.condition(&tally, &permits, &forbids));
        Cell {
            role: role.id.clone(),
            verdict,
            condition,
            requests: tally.requests,
            allowed: tally.allowed,
            permits: permits.iter().map(ToString::to_string).collect(),
            forbids: forbids.iter().map(ToString::to_string).collect(),
            errors: tally.errors.into_iter().collect(),
        }
    }

    /// The condition of a conditional cell, in words.
    fn condition(&self, tally: &Tally, permits: &[PolicyId], forbids: &[PolicyId]) -> String {
        let policies = self.snapshot.policies();
        // (text, Cedar code with && or || at its top)
        let text_of = |id: &PolicyId| {
            let policy = policies.policy(id)?;
            let text = policy_condition(policy, &self.role_types)?;
            let code = needs_parens(&text, policy);
            Some((text, code))
        };
        let join = |texts: &[(String, bool)]| {
            let several = texts.len() > 1;
            texts
                .iter()
                .map(|(text, code)| {
                    if several && *code {
                        format!("({text})")
                    } else {
                        text.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let mut parts = Vec::new();
        if tally.default_denied > 0 {
            // some requests found no permit: the permits that allowed are conditional
            let mut texts: Vec<(String, bool)> = Vec::new();
            for id in &cover(permits, &tally.allowed_by) {
                let text = text_of(id).unwrap_or_else(|| (format!("where `{id}` applies"), false));
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
            if !texts.is_empty() {
                parts.push(join(&texts));
            }
        }
        let mut texts: Vec<(String, bool)> = Vec::new();
        for id in &cover(forbids, &tally.forbidden_by) {
            let text = text_of(id).unwrap_or_else(|| (format!("`{id}` applies"), false));
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
        if !texts.is_empty() {
            parts.push(format!("except when {}", join(&texts)));
        }
        if parts.is_empty() {
            "depends on the resource or context".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// A small subset of `policies` (given in file order, and returned so) such
/// that every reason set holds one of them: greedy set cover, so that a
/// condition names only the policies it needs ("shared as viewer or editor",
/// not also "shared as editor", which only ever allowed along with it).
fn cover(policies: &[PolicyId], reason_sets: &BTreeSet<Vec<PolicyId>>) -> Vec<PolicyId> {
    let mut uncovered: Vec<&Vec<PolicyId>> = reason_sets.iter().collect();
    let mut chosen: Vec<usize> = Vec::new();
    while !uncovered.is_empty() {
        let best = policies
            .iter()
            .enumerate()
            .map(|(index, id)| {
                (
                    uncovered.iter().filter(|set| set.contains(id)).count(),
                    index,
                )
            })
            // most sets covered; on a tie, the earliest in file order
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some((count, index)) = best else { break };
        let Some(id) = policies.get(index) else { break };
        if count == 0 {
            break;
        }
        chosen.push(index);
        uncovered.retain(|set| !set.contains(id));
    }
    chosen.sort_unstable();
    chosen
        .into_iter()
        .filter_map(|index| policies.get(index).cloned())
        .collect()
}

/// A copy of `template` (a user of `tenant`) whose only role is `role`.
fn synthesize(
    entities: &Entities,
    schema: &Schema,
    template: &EntityUid,
    role: &RoleRef,
    tenant: &[EntityUid],
    taken: &mut HashSet<EntityUid>,
) -> Result<Entity, Problems> {
    let problem = |why: String| {
        Problems::from(matrix_problem(format!(
            "cannot synthesize a principal with the role `{}` in {}: {why}",
            role.id,
            tenant
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    };
    let entity = entities
        .get(template)
        .ok_or_else(|| problem(format!("{template} is missing")))?;
    let mut value = entity
        .to_json_value()
        .map_err(|e| problem(error_chain(&e)))?;
    let tenant_ids: Vec<&str> = tenant.iter().map(|t| t.id().unescaped()).collect();
    let base = format!("matrix:{}@{}", role.id, tenant_ids.join("+"));
    let mut id = base.clone();
    let mut n = 1;
    let uid = loop {
        let uid = EntityUid::from_type_name_and_id(
            template.type_name().clone(),
            cedar_policy::EntityId::new(&id),
        );
        if taken.insert(uid.clone()) {
            break uid;
        }
        n += 1;
        id = format!("{base}#{n}");
    };
    let object = value
        .as_object_mut()
        .ok_or_else(|| problem("the template is not a JSON object".to_owned()))?;
    object.insert("uid".to_owned(), uid_json(&uid));
    let mut parents = vec![uid_json(&role.uid)];
    parents.extend(tenant.iter().map(uid_json));
    object.insert("parents".to_owned(), Value::Array(parents));
    Entity::from_json_value(value, Some(schema)).map_err(|e| problem(error_chain(&e)))
}

/// The fixture's roles, in fixture order: there must be a role type and a role.
fn fixture_roles(model: &Roles) -> Result<Vec<RoleRef>, Problems> {
    if model.role_types().is_empty() {
        return Err(matrix_problem("the schema declares no `Role` entity type")
            .with_help("roles are entities of type `<Namespace>::Role`; users hold them as parents")
            .into());
    }
    let roles: Vec<RoleRef> = model
        .roles()
        .iter()
        .map(|uid| RoleRef {
            id: uid.id().unescaped().to_owned(),
            uid: uid.clone(),
        })
        .collect();
    if roles.is_empty() {
        return Err(matrix_problem("the fixture defines no roles")
            .with_help("add the role entities (e.g. `{uid: {type: NS::Role, id: admin}}`) to the product's entity files")
            .into());
    }
    Ok(roles)
}

/// A fixture user: its uid, the roles it holds, its tenant (its ancestors
/// that are not roles).
type Holder = (EntityUid, BTreeSet<EntityUid>, Vec<EntityUid>);

/// The fixture entities of the types whose entities hold roles, in fixture order.
fn role_holders(snapshot: &Snapshot) -> Result<Vec<Holder>, Problems> {
    let model = snapshot.roles();
    let entities = snapshot.entities();
    let held_roles = |uid: &EntityUid| -> BTreeSet<EntityUid> {
        model.held(entities, uid).into_iter().collect()
    };
    let user_types: HashSet<EntityTypeName> = model
        .fixture()
        .iter()
        .filter(|uid| !model.is_role(uid) && !held_roles(uid).is_empty())
        .map(|uid| uid.type_name().clone())
        .collect();
    let users: Vec<Holder> = model
        .fixture()
        .iter()
        .filter(|uid| user_types.contains(uid.type_name()))
        .map(|uid| {
            let tenant: Vec<EntityUid> = entities
                .ancestors(uid)
                .map(|a| {
                    a.filter(|a| !model.is_role(a))
                        .cloned()
                        .collect::<BTreeSet<_>>()
                })
                .unwrap_or_default()
                .into_iter()
                .collect();
            (uid.clone(), held_roles(uid), tenant)
        })
        .collect();
    if users.is_empty() {
        return Err(matrix_problem("no fixture user holds a role")
            .with_help(
                "the matrix asks as the fixture's users: give at least one a role as a parent",
            )
            .into());
    }
    Ok(users)
}

/// For each role and tenant, the fixture users holding exactly that role
/// (and what it implies), or a principal synthesized from a user of the
/// tenant; the synthesized entities aside.
fn principals_per_role(
    snapshot: &Snapshot,
    schema: &Schema,
    roles: &[RoleRef],
    users: &[Holder],
) -> Result<(Vec<Vec<PrincipalRef>>, Vec<Entity>), Problems> {
    let entities = snapshot.entities();
    let mut tenants: Vec<&Vec<EntityUid>> = Vec::new();
    for (_, _, tenant) in users {
        if !tenants.contains(&tenant) {
            tenants.push(tenant);
        }
    }
    let mut principals = Vec::new();
    let mut synthesized = Vec::new();
    let mut taken: HashSet<EntityUid> = entities.iter().map(Entity::uid).collect();
    for role in roles {
        let mut wanted: BTreeSet<EntityUid> = snapshot
            .roles()
            .held(entities, &role.uid)
            .into_iter()
            .collect();
        wanted.insert(role.uid.clone());
        let mut mine = Vec::new();
        for tenant in &tenants {
            let exact: Vec<&EntityUid> = users
                .iter()
                .filter(|(_, held, t)| t == *tenant && *held == wanted)
                .map(|(uid, _, _)| uid)
                .collect();
            if !exact.is_empty() {
                mine.extend(exact.into_iter().map(|uid| PrincipalRef {
                    uid: uid.clone(),
                    tenant: (*tenant).clone(),
                    synthesized: false,
                }));
                continue;
            }
            let Some((template, _, _)) = users.iter().find(|(_, _, t)| t == *tenant) else {
                continue;
            };
            let entity = synthesize(entities, schema, template, role, tenant, &mut taken)?;
            mine.push(PrincipalRef {
                uid: entity.uid(),
                tenant: (*tenant).clone(),
                synthesized: true,
            });
            synthesized.push(entity);
        }
        principals.push(mine);
    }
    Ok((principals, synthesized))
}
