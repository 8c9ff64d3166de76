//! What the entity fixture says about roles, role users and tenants, and how
//! short names in expectation files resolve against the schema.

use crate::snapshot::Snapshot;
use cedar_policy::{Entities, EntityId, EntityTypeName, EntityUid, Schema};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

/// The fixture of a product seen as roles and the users holding them.
///
/// Roles are the fixture's `<NS>::Role` entities (`NS` being the schema's
/// namespace). A *role user* is a fixture entity holding exactly one role
/// directly (a role implied by another role it holds does not count).
#[derive(Debug, Clone)]
pub struct Fixture {
    namespace: String,
    role_type: Option<EntityTypeName>,
    roles: Vec<String>,
    role_users: Vec<(EntityUid, String)>,
    by_type: HashMap<EntityTypeName, Vec<EntityUid>>,
    /// Every fixture entity, for lookups.
    known: HashSet<EntityUid>,
    entity_types: HashSet<EntityTypeName>,
    actions: HashSet<EntityUid>,
    action_type: Option<EntityTypeName>,
}

impl Fixture {
    /// Reads roles, role users and entities by type from a snapshot.
    pub fn new(snapshot: &Snapshot) -> Self {
        let schema = snapshot.schema();
        let namespace = schema.map(namespace_of).unwrap_or_default();
        let role_type = EntityTypeName::from_str(&qualify(&namespace, "Role")).ok();
        let action_type = EntityTypeName::from_str(&qualify(&namespace, "Action")).ok();
        // fixture entities in the order they were written (files by path)
        let placed: Vec<(&Path, usize, EntityUid)> = snapshot
            .entities()
            .iter()
            .filter_map(|e| {
                let uid = e.uid();
                let origin = snapshot.entity_origin(&uid)?;
                Some((origin.file.path(), origin.span.start, uid))
            })
            .collect();
        let mut paths: Vec<&Path> = placed.iter().map(|(path, _, _)| *path).collect();
        paths.sort_unstable();
        paths.dedup();
        let rank: HashMap<&Path, usize> = paths.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        let mut ordered: Vec<(usize, usize, EntityUid)> = placed
            .into_iter()
            .map(|(path, start, uid)| (rank.get(path).copied().unwrap_or(usize::MAX), start, uid))
            .collect();
        ordered.sort_unstable_by_key(|(rank, start, _)| (*rank, *start));
        let mut by_type: HashMap<EntityTypeName, Vec<EntityUid>> = HashMap::new();
        for (_, _, uid) in &ordered {
            by_type
                .entry(uid.type_name().clone())
                .or_default()
                .push(uid.clone());
        }
        let roles: Vec<String> = role_type
            .as_ref()
            .and_then(|t| by_type.get(t))
            .map(|uids| uids.iter().map(|u| u.id().unescaped().to_owned()).collect())
            .unwrap_or_default();
        let mut fixture = Self {
            namespace,
            role_type,
            roles,
            role_users: Vec::new(),
            known: ordered.iter().map(|(_, _, uid)| uid.clone()).collect(),
            by_type,
            entity_types: schema
                .map(|s| s.entity_types().cloned().collect())
                .unwrap_or_default(),
            actions: schema
                .map(|s| s.actions().cloned().collect())
                .unwrap_or_default(),
            action_type,
        };
        let entities = snapshot.entities();
        let role_users = ordered
            .iter()
            .filter(|(_, _, uid)| Some(uid.type_name()) != fixture.role_type.as_ref())
            .filter_map(
                |(_, _, uid)| match fixture.roles_of(entities, uid).as_slice() {
                    [role] => Some((uid.clone(), role.clone())),
                    _ => None,
                },
            )
            .collect();
        fixture.role_users = role_users;
        fixture
    }

    /// The schema's namespace (`""` when it has none or several).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Role ids, in fixture order.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Every role user with its role, in fixture order.
    pub fn role_users(&self) -> &[(EntityUid, String)] {
        &self.role_users
    }

    /// The fixture entities of a type, in fixture order.
    pub fn entities_of_type(&self, entity_type: &EntityTypeName) -> &[EntityUid] {
        self.by_type
            .get(entity_type)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether the fixture defines an entity.
    pub fn contains(&self, uid: &EntityUid) -> bool {
        self.known.contains(uid)
    }

    /// The roles `uid` holds directly in `entities`: its `<NS>::Role`
    /// ancestors that are not implied by another of them; fixture roles in
    /// fixture order first, then others by name.
    pub fn roles_of(&self, entities: &Entities, uid: &EntityUid) -> Vec<String> {
        let Some(role_type) = &self.role_type else {
            return Vec::new();
        };
        let Some(ancestors) = entities.ancestors(uid) else {
            return Vec::new();
        };
        let held: Vec<&EntityUid> = ancestors
            .filter(|a| a.type_name() == role_type && *a != uid)
            .collect();
        let mut direct: Vec<String> = held
            .iter()
            .filter(|role| {
                !held
                    .iter()
                    .any(|other| other != *role && entities.is_ancestor_of(role, other))
            })
            .map(|role| role.id().unescaped().to_owned())
            .collect();
        direct.sort_by_key(|r| {
            (
                self.roles.iter().position(|x| x == r).unwrap_or(usize::MAX),
                r.clone(),
            )
        });
        direct
    }

    /// The tenants of `uid` in `entities`: itself if it is of the tenant
    /// type, else its ancestors of that type (sorted).
    pub fn tenants_of(
        &self,
        entities: &Entities,
        uid: &EntityUid,
        tenant_type: &EntityTypeName,
    ) -> Vec<EntityUid> {
        if uid.type_name() == tenant_type {
            return vec![uid.clone()];
        }
        let mut tenants: Vec<EntityUid> = entities
            .ancestors(uid)
            .map(|a| {
                a.filter(|t| t.type_name() == tenant_type)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        tenants.sort_by_key(ToString::to_string);
        tenants
    }

    /// Resolves an entity type written with or without the namespace.
    pub fn entity_type(&self, text: &str) -> Result<EntityTypeName, String> {
        let text = text.trim();
        let candidates = [text.to_owned(), qualify(&self.namespace, text)];
        for candidate in candidates.iter() {
            if let Ok(name) = EntityTypeName::from_str(candidate)
                && (self.entity_types.is_empty() || self.entity_types.contains(&name))
            {
                return Ok(name);
            }
        }
        Err(format!("no entity type `{text}` in the schema"))
    }

    /// Resolves an entity uid written as Cedar text, with or without the namespace.
    pub fn entity_uid(&self, text: &str) -> Result<EntityUid, String> {
        let text = text.trim();
        let parsed = EntityUid::from_str(text)
            .map_err(|e| format!("`{text}` is not an entity uid: {}", first_line(&e)))?;
        if self.entity_types.is_empty()
            || self.entity_types.contains(parsed.type_name())
            || Some(parsed.type_name()) == self.action_type.as_ref()
        {
            return Ok(parsed);
        }
        if !self.namespace.is_empty()
            && let Ok(qualified) = EntityUid::from_str(&qualify(&self.namespace, text))
            && self.entity_types.contains(qualified.type_name())
        {
            return Ok(qualified);
        }
        Err(format!(
            "no entity type `{}` in the schema",
            parsed.type_name()
        ))
    }

    /// Resolves an action written as an id (`viewMedia`) or a uid
    /// (`Action::"viewMedia"`, `NS::Action::"viewMedia"`), checked against the schema.
    pub fn action(&self, text: &str) -> Result<EntityUid, String> {
        let text = text.trim();
        let uid = if text.contains('"') {
            let parsed = EntityUid::from_str(text)
                .map_err(|e| format!("`{text}` is not an action uid: {}", first_line(&e)))?;
            if parsed.type_name().basename() == "Action"
                && parsed.type_name().namespace().is_empty()
                && !self.namespace.is_empty()
            {
                EntityUid::from_str(&qualify(&self.namespace, text)).unwrap_or(parsed)
            } else {
                parsed
            }
        } else {
            let action_type = self
                .action_type
                .clone()
                .ok_or_else(|| format!("`{text}` is not an action"))?;
            EntityUid::from_type_name_and_id(action_type, EntityId::new(text))
        };
        if self.actions.is_empty() || self.actions.contains(&uid) {
            Ok(uid)
        } else {
            Err(format!(
                "no action `{}` in the schema",
                uid.id().unescaped()
            ))
        }
    }

    /// The schema's actions, sorted by id, as short ids.
    pub fn action_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .actions
            .iter()
            .map(|a| a.id().unescaped().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

/// `NS::name`, or `name` when the namespace is empty.
fn qualify(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}::{name}")
    }
}

/// The namespace most of the schema's entity types share (`""` if none).
pub(crate) fn namespace_of(schema: &Schema) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for name in schema.entity_types() {
        let ns = name.namespace();
        if !ns.is_empty() {
            *counts.entry(ns).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(ns, _)| ns)
        .unwrap_or_default()
}

fn first_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `uid` without the namespace prefix, for short human output.
pub fn short_uid(uid: &EntityUid, namespace: &str) -> String {
    let text = uid.to_string();
    if namespace.is_empty() {
        return text;
    }
    text.strip_prefix(&format!("{namespace}::"))
        .map(str::to_owned)
        .unwrap_or(text)
}
