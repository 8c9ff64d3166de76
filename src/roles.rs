//! The roles of a product, as its fixture defines them: one model for
//! expectations, coverage and the matrix.
//!
//! A *role* is a fixture entity of a role type: an entity type named `Role`
//! in the schema (in any namespace; without a schema, among the fixture's
//! types). An entity *holds* the roles among its ancestors, and holds one
//! *directly* unless another role it holds implies it. A *role user* is a
//! fixture entity, not a role, that holds exactly one role directly.
//! Fixture order is the order entities were written in: files by path, then
//! position in the file.

use crate::origin::EntityOrigin;
use cedar_policy::{Entities, EntityTypeName, EntityUid, Schema};
use std::collections::HashMap;
use std::path::Path;

/// Roles, role users and the fixture's entities in order.
///
/// ```
/// use rolegrid::{LoadOptions, Store};
/// let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
/// let roles = snapshot.roles();
/// assert_eq!(roles.namespace(), "Fireworks");
/// assert!(roles.ids().any(|id| id == "admin"));
/// # Ok::<(), rolegrid::Problems>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Roles {
    namespace: String,
    role_types: Vec<EntityTypeName>,
    /// Every fixture entity, in fixture order.
    fixture: Vec<EntityUid>,
    /// The roles, in fixture order.
    roles: Vec<EntityUid>,
    role_users: Vec<(EntityUid, String)>,
}

impl Roles {
    /// The roles of the entities `origins` places (the fixture), typed by `schema`.
    pub(crate) fn new(
        schema: Option<&Schema>,
        entities: &Entities,
        origins: &HashMap<EntityUid, EntityOrigin>,
    ) -> Self {
        let mut placed: Vec<(&Path, usize, &EntityUid)> = origins
            .iter()
            .map(|(uid, origin)| (origin.file.path(), origin.span.start, uid))
            .collect();
        placed.sort_unstable();
        let fixture: Vec<EntityUid> = placed.into_iter().map(|(_, _, uid)| uid.clone()).collect();
        let mut role_types: Vec<EntityTypeName> = match schema {
            Some(schema) => schema.entity_types().cloned().collect(),
            None => fixture.iter().map(|uid| uid.type_name().clone()).collect(),
        };
        role_types.retain(|t| t.basename() == "Role");
        role_types.sort_by_key(ToString::to_string);
        role_types.dedup();
        let roles = fixture
            .iter()
            .filter(|uid| role_types.contains(uid.type_name()))
            .cloned()
            .collect();
        let mut model = Self {
            namespace: schema.map(namespace_of).unwrap_or_default(),
            role_types,
            fixture,
            roles,
            role_users: Vec::new(),
        };
        model.role_users = model
            .fixture
            .iter()
            .filter(|uid| !model.is_role(uid))
            .filter_map(|uid| match model.direct_roles(entities, uid).as_slice() {
                [role] => Some((uid.clone(), role.clone())),
                _ => None,
            })
            .collect();
        model
    }

    /// The schema's namespace: the one most of its entity types share (`""`
    /// when none has one).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The role types (entity types named `Role`), by name.
    pub fn role_types(&self) -> &[EntityTypeName] {
        &self.role_types
    }

    /// Whether `uid` is of a role type.
    pub fn is_role(&self, uid: &EntityUid) -> bool {
        self.role_types.contains(uid.type_name())
    }

    /// The roles, in fixture order.
    pub fn roles(&self) -> &[EntityUid] {
        &self.roles
    }

    /// The roles' ids, in fixture order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(|uid| uid.id().unescaped())
    }

    /// Every fixture entity, in fixture order.
    pub fn fixture(&self) -> &[EntityUid] {
        &self.fixture
    }

    /// Every role user with the id of its role, in fixture order.
    pub fn role_users(&self) -> &[(EntityUid, String)] {
        &self.role_users
    }

    /// The roles `uid` holds in `entities`: its ancestors of a role type.
    pub fn held(&self, entities: &Entities, uid: &EntityUid) -> Vec<EntityUid> {
        entities
            .ancestors(uid)
            .map(|ancestors| {
                ancestors
                    .filter(|a| self.is_role(a) && *a != uid)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The ids of the roles `uid` holds directly in `entities` (not implied
    /// by another role it holds): the fixture's roles in fixture order first,
    /// then others by id.
    pub fn direct_roles(&self, entities: &Entities, uid: &EntityUid) -> Vec<String> {
        let held = self.held(entities, uid);
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
                self.ids().position(|x| x == r).unwrap_or(usize::MAX),
                r.clone(),
            )
        });
        direct
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
