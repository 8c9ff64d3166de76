//! The names a product answers to from outside (an AuthZEN client, a
//! search): entity types written with or without the product's namespace,
//! action ids, and the entities of each type in id order. Made once per
//! snapshot ([`crate::Snapshot::directory`]).

use cedar_policy::{Entities, EntityTypeName, EntityUid, Schema};
use std::collections::HashMap;
use std::str::FromStr;

/// Lookups from written names to Cedar's, for one snapshot.
#[derive(Debug, Default)]
pub struct Directory {
    namespace: String,
    /// Entity types by every way a request may write them (`user`, `NS::user`).
    types: HashMap<String, EntityTypeName>,
    /// The product's actions by id (`can_read`), and by qualified uid text.
    actions: HashMap<String, EntityUid>,
    /// The schema's actions in declaration order (then by id).
    action_order: Vec<EntityUid>,
    /// Every entity the files define, by type, sorted by id.
    by_type: HashMap<EntityTypeName, Vec<EntityUid>>,
}

impl Directory {
    /// The directory of a product: its namespace (`""` for none), schema and
    /// entities (action entities are left out of the by-type lists).
    pub(crate) fn new(
        namespace: &str,
        schema: Option<&Schema>,
        entities: &Entities,
        action_position: impl Fn(&EntityUid) -> Option<usize>,
    ) -> Self {
        let mut directory = Self {
            namespace: namespace.to_owned(),
            ..Self::default()
        };
        let declared: Vec<EntityTypeName> = match schema {
            Some(schema) => schema.entity_types().cloned().collect(),
            None => entities
                .iter()
                .map(|e| e.uid().type_name().clone())
                .collect(),
        };
        for name in declared {
            directory.add_type(name);
        }
        if let Some(schema) = schema {
            let mut actions: Vec<EntityUid> = schema.actions().cloned().collect();
            actions.sort_by_cached_key(|a| {
                (
                    action_position(a).unwrap_or(usize::MAX),
                    a.id().unescaped().to_owned(),
                )
            });
            for action in &actions {
                directory.add_action(action);
            }
            directory.action_order = actions;
        }
        for entity in entities.iter() {
            let uid = entity.uid();
            if uid.type_name().basename() == "Action" {
                continue;
            }
            directory
                .by_type
                .entry(uid.type_name().clone())
                .or_default()
                .push(uid);
        }
        for uids in directory.by_type.values_mut() {
            uids.sort_unstable_by(|a, b| a.id().unescaped().cmp(b.id().unescaped()));
        }
        directory
    }

    fn add_type(&mut self, name: EntityTypeName) {
        let full = name.to_string();
        let own_namespace = name.namespace() == self.namespace;
        if own_namespace || name.namespace().is_empty() {
            // the short form names the product's own type before a root one
            let short = name.basename().to_owned();
            if own_namespace || !self.types.contains_key(&short) {
                self.types.insert(short, name.clone());
            }
        }
        self.types.insert(full, name);
    }

    fn add_action(&mut self, action: &EntityUid) {
        let id = action.id().unescaped().to_owned();
        if action.type_name().namespace() == self.namespace {
            self.actions.insert(id, action.clone());
        } else {
            self.actions.entry(id).or_insert_with(|| action.clone());
        }
        self.actions.insert(action.to_string(), action.clone());
    }

    /// The product's namespace (`""` when it has none).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The entity type a request wrote as `written`: qualified (`NS::user`)
    /// or in the product's namespace (`user`). `None` when the schema
    /// declares no such type.
    pub fn entity_type(&self, written: &str) -> Option<&EntityTypeName> {
        self.types.get(written)
    }

    /// The entity uid of `id` of the type written as `written`.
    pub fn entity_uid(&self, written: &str, id: &str) -> Option<EntityUid> {
        let name = self.entity_type(written)?;
        Some(EntityUid::from_type_name_and_id(
            name.clone(),
            cedar_policy::EntityId::new(id),
        ))
    }

    /// The action a request names as `name`: its id (`can_read`) or its uid
    /// text (`NS::Action::"can_read"`). `None` when the schema declares no
    /// such action (or, without a schema, when `name` is not a uid).
    pub fn action(&self, name: &str) -> Option<EntityUid> {
        if let Some(action) = self.actions.get(name) {
            return Some(action.clone());
        }
        if !self.action_order.is_empty() {
            return None;
        }
        // without a schema: a uid as written, or an id of the namespace's `Action`
        if let Ok(uid) = EntityUid::from_str(name) {
            return Some(uid);
        }
        let action_type = if self.namespace.is_empty() {
            "Action".to_owned()
        } else {
            format!("{}::Action", self.namespace)
        };
        let action_type = EntityTypeName::from_str(&action_type).ok()?;
        Some(EntityUid::from_type_name_and_id(
            action_type,
            cedar_policy::EntityId::new(name),
        ))
    }

    /// The schema's actions, in declaration order.
    pub fn actions(&self) -> &[EntityUid] {
        &self.action_order
    }

    /// The entities of a type that the product's files define, in id order.
    pub fn entities_of_type(&self, name: &EntityTypeName) -> &[EntityUid] {
        self.by_type.get(name).map_or(&[], Vec::as_slice)
    }

    /// The entity types declared closest to `written`, for a did-you-mean.
    pub fn closest_type(&self, written: &str) -> Option<String> {
        crate::diagnostics::text::closest_name(self.types.keys().cloned(), written)
    }

    /// The action id closest to `name`, for a did-you-mean.
    pub fn closest_action(&self, name: &str) -> Option<String> {
        crate::diagnostics::text::closest_name(
            self.action_order
                .iter()
                .map(|a| a.id().unescaped().to_owned()),
            name,
        )
    }
}
