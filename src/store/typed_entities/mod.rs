//! Building an entity straight from its Cedar JSON value when the schema
//! types every attribute it gives and each value has the one simple form its
//! type allows.
//!
//! Cedar's own reader (`Entity::from_json_value`) first tries each attribute
//! value, on a copy, as every escape form (`__extn`, `__entity`, `__expr`)
//! and builds an error message for each form that does not fit, which is
//! most of its time on large files (BENCHMARKS.md). Most entity files
//! hold only strings, numbers, booleans, entity references, sets and records
//! of them, which the schema already tells apart. For those, [`TypedReader`]
//! builds the same attribute values with Cedar's typed constructors, and
//! Cedar's schema conformance check (the one its reader runs) accepts or
//! rejects the result. Anything else (an escape, an extension value, a tag,
//! an action, an attribute the schema does not type, a value of another
//! type, a result Cedar rejects) is left to Cedar's reader, so errors are
//! always Cedar's. The tests (`tests.rs` beside this file) check that both
//! give equal entities on the shipped models, a generated store and Cedar's
//! data, each also changed attribute by attribute into other forms.

mod described;

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema};
use cedar_policy_core::entities::conformance::EntitySchemaConformanceChecker;
use cedar_policy_core::entities::{AttributeType, EntityTypeDescription, SchemaType};
use cedar_policy_core::extensions::Extensions;
use cedar_policy_core::validator::CoreSchema;
use described::{DescribedSchema, Description};
use serde_json::{Map, Value};
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

/// Builds entities from Cedar JSON values by the schema's attribute types;
/// `None` means "ask Cedar's reader".
///
/// ```ignore
/// let reader = TypedReader::new(&schema);
/// let (entity, parents) = reader.read(&value).unwrap_or_else(|| cedar_reads(value));
/// ```
pub(crate) struct TypedReader<'s> {
    types: Types<'s>,
    values: Values,
}

/// The schema's entity types, each looked up once.
struct Types<'s> {
    schema: DescribedSchema<'s>,
    /// Each entity type's schema entry and attribute types.
    described: HashMap<EntityTypeName, Option<Described>>,
}

/// Reads attribute values (and entity references) of a known type.
#[derive(Default)]
struct Values {
    /// Entity type names as written, parsed once (`None`: not a plain name).
    names: HashMap<String, Option<EntityTypeName>>,
}

/// An entity type's schema entry and the attribute types looked up so far.
struct Described {
    description: Description,
    attrs: HashMap<String, Option<SchemaType>>,
}

impl<'s> TypedReader<'s> {
    /// A reader for entities of `schema`.
    pub(crate) fn new(schema: &'s Schema) -> Self {
        Self {
            types: Types {
                schema: DescribedSchema::new(CoreSchema::new(schema.as_ref())),
                described: HashMap::new(),
            },
            values: Values::default(),
        }
    }

    /// The entity `value` describes, with its parents in the order written,
    /// when it has the simple form and Cedar's conformance check accepts it.
    pub(crate) fn read(&mut self, value: &Value) -> Option<(Entity, Vec<EntityUid>)> {
        let object = value.as_object()?;
        if object
            .keys()
            .any(|k| !matches!(k.as_str(), "uid" | "attrs" | "parents"))
        {
            return None;
        }
        let uid = self.values.uid(object.get("uid")?)?;
        let type_name = uid.type_name();
        if type_name.basename() == "Action" {
            return None;
        }
        let attrs_json = object.get("attrs")?.as_object()?;
        let mut attrs = HashMap::with_capacity(attrs_json.len());
        for (name, value) in attrs_json {
            let ty = self.types.attr_type(type_name, name)?;
            let attr = self.values.value(value, ty)?;
            attrs.insert(name.clone(), attr);
        }
        // the parents in the order written, each once
        let written = object.get("parents")?.as_array()?;
        let mut parents = Vec::with_capacity(written.len());
        let mut parent_set = HashSet::with_capacity(written.len());
        for parent in written {
            let parent = self.values.uid(parent)?;
            if parent_set.insert(parent.clone()) {
                parents.push(parent);
            }
        }
        let entity = Entity::new(uid, attrs, parent_set).ok()?;
        EntitySchemaConformanceChecker::new(&self.types.schema, Extensions::all_available())
            .validate_entity(entity.as_ref())
            .ok()?;
        Some((entity, parents))
    }
}

impl Types<'_> {
    /// The declared type of attribute `name` of `type_name`, looked up once;
    /// `None` for a type not in the schema, with open attributes or tags, or
    /// an attribute it does not declare.
    fn attr_type(&mut self, type_name: &EntityTypeName, name: &str) -> Option<&SchemaType> {
        use cedar_policy_core::entities::Schema as _;
        if !self.described.contains_key(type_name) {
            let described = self
                .schema
                .entity_type(type_name.as_ref())
                .filter(|d| !d.open_attributes() && d.tag_type().is_none())
                .map(|d| Described {
                    description: d,
                    attrs: HashMap::new(),
                });
            self.described.insert(type_name.clone(), described);
        }
        let described = self.described.get_mut(type_name)?.as_mut()?;
        if !described.attrs.contains_key(name) {
            let ty = described.description.attr_type(name);
            described.attrs.insert(name.to_owned(), ty);
        }
        described.attrs.get(name)?.as_ref()
    }
}

impl Values {
    /// An entity reference written `{"type": T, "id": I}` or
    /// `{"__entity": {"type": T, "id": I}}`, with `T` a name as Cedar writes it.
    fn uid(&mut self, value: &Value) -> Option<EntityUid> {
        let object = value.as_object()?;
        let object = match object.get("__entity") {
            Some(inner) if object.len() == 1 => inner.as_object()?,
            Some(_) => return None,
            None => object,
        };
        if object.len() != 2 {
            return None;
        }
        let type_text = object.get("type")?.as_str()?;
        let id = object.get("id")?.as_str()?;
        let type_name = match self.names.get(type_text) {
            Some(name) => name.clone()?,
            None => {
                // only the normal form, as Cedar's JSON reader requires
                let name = EntityTypeName::from_str(type_text)
                    .ok()
                    .filter(|name| name.to_string() == type_text);
                self.names.insert(type_text.to_owned(), name.clone());
                name?
            }
        };
        Some(EntityUid::from_type_name_and_id(
            type_name,
            EntityId::new(id),
        ))
    }

    /// A value of type `ty` in the one form Cedar reads without an escape.
    fn value(&mut self, value: &Value, ty: &SchemaType) -> Option<RestrictedExpression> {
        match (ty, value) {
            (SchemaType::Bool, Value::Bool(b)) => Some(RestrictedExpression::new_bool(*b)),
            (SchemaType::Long, Value::Number(n)) => n.as_i64().map(RestrictedExpression::new_long),
            (SchemaType::String, Value::String(s)) => {
                Some(RestrictedExpression::new_string(s.clone()))
            }
            (SchemaType::Entity { .. }, Value::Object(_)) => {
                self.uid(value).map(RestrictedExpression::new_entity_uid)
            }
            (SchemaType::Set { element_ty }, Value::Array(items)) => {
                let items = items
                    .iter()
                    .map(|item| self.value(item, element_ty))
                    .collect::<Option<Vec<_>>>()?;
                Some(RestrictedExpression::new_set(items))
            }
            (SchemaType::Record { attrs, open_attrs }, Value::Object(given)) => {
                self.record(given, attrs, *open_attrs)
            }
            _ => None,
        }
    }

    /// A record with exactly the attributes its type declares (each required
    /// one present), none of them an escape.
    fn record<K: Borrow<str> + Ord + ToString>(
        &mut self,
        given: &Map<String, Value>,
        declared: &BTreeMap<K, AttributeType>,
        open: bool,
    ) -> Option<RestrictedExpression> {
        if open || given.keys().any(|k| k.starts_with("__")) {
            return None;
        }
        if given.keys().any(|k| !declared.contains_key(k.as_str())) {
            return None;
        }
        let mut fields = Vec::with_capacity(given.len());
        for (name, ty) in declared {
            match given.get(name.borrow()) {
                Some(value) => {
                    fields.push((name.to_string(), self.value(value, ty.schema_type())?))
                }
                None if ty.is_required() => return None,
                None => {}
            }
        }
        RestrictedExpression::new_record(fields).ok()
    }
}

#[cfg(test)]
mod tests;
