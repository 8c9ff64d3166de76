//! Cedar's schema for its entity conformance check, each entity type
//! described once.
//!
//! Cedar's `CoreSchema` makes an entity type's description anew each time
//! the conformance check asks for it, once per entity: a copy of the type's
//! schema entry and its allowed parent types, found by scanning every
//! entity type of the schema: work that grows with entities × types.
//! [`DescribedSchema`] hands the check the same descriptions, made by
//! `CoreSchema` on first use and shared after.

use cedar_policy_core::ast::{Eid, Entity, EntityType, EntityUID, UnreservedId};
use cedar_policy_core::entities::{EntityTypeDescription, Schema, SchemaType};
use cedar_policy_core::pst::{NonEmpty, SmolStr};
use cedar_policy_core::validator::CoreSchema;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// `CoreSchema`'s description of an entity type.
type CoreDescription = <CoreSchema<'static> as Schema>::EntityTypeDescription;

/// A [`CoreSchema`] whose entity type descriptions are made once.
pub(super) struct DescribedSchema<'s> {
    schema: CoreSchema<'s>,
    described: RefCell<HashMap<EntityType, Description>>,
}

impl<'s> DescribedSchema<'s> {
    /// Describes the entity types of `schema` as they are asked for.
    pub(super) fn new(schema: CoreSchema<'s>) -> Self {
        Self {
            schema,
            described: RefCell::new(HashMap::new()),
        }
    }
}

/// One entity type's description, shared.
#[derive(Clone)]
pub(super) struct Description(Arc<CoreDescription>);

impl<'s> Schema for DescribedSchema<'s> {
    type EntityTypeDescription = Description;
    type ActionEntityIterator = <CoreSchema<'s> as Schema>::ActionEntityIterator;

    fn entity_type(&self, entity_type: &EntityType) -> Option<Description> {
        if let Ok(described) = self.described.try_borrow()
            && let Some(found) = described.get(entity_type)
        {
            return Some(found.clone());
        }
        let found = Description(Arc::new(self.schema.entity_type(entity_type)?));
        if let Ok(mut described) = self.described.try_borrow_mut() {
            described.insert(entity_type.clone(), found.clone());
        }
        Some(found)
    }

    fn action(&self, action: &EntityUID) -> Option<Arc<Entity>> {
        self.schema.action(action)
    }

    fn entity_types_with_basename<'a>(
        &'a self,
        basename: &'a UnreservedId,
    ) -> Box<dyn Iterator<Item = EntityType> + 'a> {
        self.schema.entity_types_with_basename(basename)
    }

    fn action_entities(&self) -> Self::ActionEntityIterator {
        self.schema.action_entities()
    }
}

impl EntityTypeDescription for Description {
    fn entity_type(&self) -> EntityType {
        self.0.entity_type()
    }

    fn attr_type(&self, attr: &str) -> Option<SchemaType> {
        self.0.attr_type(attr)
    }

    fn tag_type(&self) -> Option<SchemaType> {
        self.0.tag_type()
    }

    fn required_attrs<'s>(&'s self) -> Box<dyn Iterator<Item = SmolStr> + 's> {
        self.0.required_attrs()
    }

    fn allowed_parent_types(&self) -> Arc<HashSet<EntityType>> {
        self.0.allowed_parent_types()
    }

    fn open_attributes(&self) -> bool {
        self.0.open_attributes()
    }

    fn enum_entity_eids(&self) -> Option<&NonEmpty<Eid>> {
        self.0.enum_entity_eids()
    }

    fn is_external(&self) -> bool {
        self.0.is_external()
    }
}
