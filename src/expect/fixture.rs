//! What the entity fixture says about roles, role users and tenants, and how
//! short names in expectation files resolve against the schema.

use crate::roles::Roles;
use crate::snapshot::Snapshot;
use cedar_policy::{Entities, EntityId, EntityTypeName, EntityUid};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The fixture of a product seen as roles and the users holding them (the
/// snapshot's [`Roles`]), with the names expectation files may use.
#[derive(Debug, Clone)]
pub struct Fixture<'a> {
    model: &'a Roles,
    roles: Vec<String>,
    by_type: HashMap<EntityTypeName, Vec<EntityUid>>,
    /// Every fixture entity, for lookups.
    known: HashSet<EntityUid>,
    entity_types: HashSet<EntityTypeName>,
    actions: HashSet<EntityUid>,
    action_type: Option<EntityTypeName>,
}

impl<'a> Fixture<'a> {
    /// The fixture of a snapshot.
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let schema = snapshot.schema();
        let model = snapshot.roles();
        let mut by_type: HashMap<EntityTypeName, Vec<EntityUid>> = HashMap::new();
        for uid in model.fixture() {
            by_type
                .entry(uid.type_name().clone())
                .or_default()
                .push(uid.clone());
        }
        Self {
            model,
            roles: model.ids().map(str::to_owned).collect(),
            by_type,
            known: model.fixture().iter().cloned().collect(),
            entity_types: schema
                .map(|s| s.entity_types().cloned().collect())
                .unwrap_or_default(),
            actions: schema
                .map(|s| s.actions().cloned().collect())
                .unwrap_or_default(),
            action_type: EntityTypeName::from_str(&qualify(model.namespace(), "Action")).ok(),
        }
    }

    /// The schema's namespace (`""` when it has none).
    pub fn namespace(&self) -> &str {
        self.model.namespace()
    }

    /// Role ids, in fixture order.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Every role user with its role, in fixture order.
    pub fn role_users(&self) -> &[(EntityUid, String)] {
        self.model.role_users()
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

    /// The roles `uid` holds directly in `entities` (see [`Roles::direct_roles`]).
    pub fn roles_of(&self, entities: &Entities, uid: &EntityUid) -> Vec<String> {
        self.model.direct_roles(entities, uid)
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
        let candidates = [text.to_owned(), qualify(self.model.namespace(), text)];
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
        if !self.model.namespace().is_empty()
            && let Ok(qualified) = EntityUid::from_str(&qualify(self.model.namespace(), text))
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
                && !self.model.namespace().is_empty()
            {
                EntityUid::from_str(&qualify(self.model.namespace(), text)).unwrap_or(parsed)
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

    /// The type whose entities look like the fixture's tenants: at least two
    /// of them, and every role user lies in exactly one (for a hint when an
    /// expectation file has no `tenant:`).
    pub fn tenant_candidate(&self, entities: &Entities) -> Option<(EntityTypeName, usize)> {
        let users = self.role_users();
        let first = users.first()?;
        let mut candidates: Vec<&EntityTypeName> = self
            .by_type
            .keys()
            .filter(|t| t.basename() != "Role" && *t != first.0.type_name())
            .collect();
        candidates.sort_by_key(|t| t.to_string());
        candidates.into_iter().find_map(|t| {
            let count = self.entities_of_type(t).len();
            let each_in_one = users
                .iter()
                .all(|(uid, _)| self.tenants_of(entities, uid, t).len() == 1);
            (count >= 2 && each_in_one).then(|| (t.clone(), count))
        })
    }

    /// The id of the schema's action closest to `text` (an id or a uid), for
    /// a did-you-mean.
    pub fn closest_action(&self, text: &str) -> Option<String> {
        let id = text
            .rsplit_once("::")
            .map_or(text, |(_, id)| id)
            .trim()
            .trim_matches('"');
        crate::diagnostics::text::closest_name(self.action_ids().into_iter(), id)
    }

    /// The fixture entity of `uid`'s type whose id is closest to `uid`'s,
    /// for a did-you-mean.
    pub fn closest_entity(&self, uid: &EntityUid) -> Option<EntityUid> {
        let same_type = self.entities_of_type(uid.type_name());
        let near = crate::diagnostics::text::closest_name(
            same_type
                .iter()
                .map(|known| known.id().unescaped().to_owned()),
            uid.id().unescaped(),
        )?;
        same_type
            .iter()
            .find(|known| known.id().unescaped() == near)
            .cloned()
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
