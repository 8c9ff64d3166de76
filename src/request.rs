//! Requests in Cedar's JSON shape, one per line for batches.

use crate::diagnostics::text::{bad_number, bad_number_reason, error_chain, shorten};
use crate::diagnostics::{Problem, ProblemKind};
use cedar_policy::{Context, EntityUid, Request, Schema};
use std::str::FromStr;

/// A request before validation: principal, action, resource and context.
///
/// ```
/// let line = r#"{"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "File::\"f\""}"#;
/// let spec = rolegrid::RequestSpec::from_json_line(line)?;
/// let request = spec.build(None)?;
/// assert_eq!(request.principal().map(|p| p.to_string()), Some(r#"User::"a""#.to_string()));
/// # Ok::<(), rolegrid::Problem>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// The principal.
    pub principal: EntityUid,
    /// The action.
    pub action: EntityUid,
    /// The resource.
    pub resource: EntityUid,
    /// The context as JSON (an object), if given.
    pub context: Option<serde_json::Value>,
}

/// What a snapshot knows of one schema action, to build requests without
/// validating each against the schema: its empty context (read against the
/// schema), whether that context is valid for it, and the entity types it
/// applies to whose every id is valid (not enumerated types).
#[derive(Debug, Clone)]
pub(crate) struct KnownAction {
    pub empty_context: Context,
    pub empty_context_valid: bool,
    pub principals: Vec<cedar_policy::EntityTypeName>,
    pub resources: Vec<cedar_policy::EntityTypeName>,
}

impl KnownAction {
    /// The action of `schema` named `action`, if its empty context reads.
    pub(crate) fn new(schema: &Schema, action: &EntityUid) -> Option<Self> {
        let empty_context =
            Context::from_json_value(serde_json::json!({}), Some((schema, action))).ok()?;
        let empty_context_valid = empty_context.validate(schema, action).is_ok();
        let open = |name: &&cedar_policy::EntityTypeName| !is_enumerated(schema, name);
        Some(Self {
            empty_context_valid,
            principals: schema
                .principals_for_action(action)
                .map(|types| types.filter(open).cloned().collect())
                .unwrap_or_default(),
            resources: schema
                .resources_for_action(action)
                .map(|types| types.filter(open).cloned().collect())
                .unwrap_or_default(),
            empty_context,
        })
    }

    /// Whether a request of this action from `principal` on `resource`
    /// with the empty context is valid against the schema.
    fn admits(&self, principal: &EntityUid, resource: &EntityUid) -> bool {
        self.empty_context_valid
            && self.principals.contains(principal.type_name())
            && self.resources.contains(resource.type_name())
    }
}

/// Whether the schema declares `name` as an enumerated type (whose ids it lists).
fn is_enumerated(schema: &Schema, name: &cedar_policy::EntityTypeName) -> bool {
    use cedar_policy_core::validator::ValidatorEntityTypeKind;
    let core: &cedar_policy_core::validator::ValidatorSchema = schema.as_ref();
    core.get_entity_type(name.as_ref())
        .is_some_and(|et| matches!(et.kind, ValidatorEntityTypeKind::Enum(_)))
}

/// A request problem; messages that quote a huge input are shortened.
/// The type the schema gives `action`'s context, as Cedar writes it.
fn context_type(schema: &Schema, action: &EntityUid) -> Option<String> {
    let core: &cedar_policy_core::validator::ValidatorSchema = schema.as_ref();
    let expected = core.get_action_id(action.as_ref())?.context_type()?;
    Some(expected.to_string())
}

fn request_problem(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Request, shorten(message.into()))
}

/// Parses an entity uid given as Cedar text (`NS::User::"alice"`) or as a
/// JSON object (`{"type": "NS::User", "id": "alice"}`, or `{"__entity": {...}}`).
pub fn parse_uid(field: &str, value: &serde_json::Value) -> Result<EntityUid, Problem> {
    match value {
        serde_json::Value::String(text) => EntityUid::from_str(text).map_err(|e| {
            request_problem(format!(
                "`{field}` is not an entity uid: {text:?}: {}",
                error_chain(&e)
            ))
            .with_help(r#"write uids as Cedar does: `Namespace::Type::"id"`"#)
        }),
        serde_json::Value::Object(_) => EntityUid::from_json(value.clone()).map_err(|e| {
            request_problem(format!(
                "`{field}` is not an entity uid: {}",
                error_chain(&e)
            ))
        }),
        serde_json::Value::Null => Err(request_problem(format!("`{field}` is missing"))),
        other => Err(request_problem(format!(
            "`{field}` must be a string like `NS::Type::\"id\"`, not {other}"
        ))),
    }
}

/// Uids already read from their text, so a stream of requests parses each
/// distinct uid once (it starts afresh past 100,000 uids: memory stays bounded).
#[derive(Debug, Default)]
pub struct UidCache(std::collections::HashMap<String, EntityUid>);

/// Most uids a cache keeps before it starts afresh.
const UID_CACHE_LIMIT: usize = 100_000;

impl UidCache {
    /// [`parse_uid`], remembering uids given as text.
    fn parse(&mut self, field: &str, value: &serde_json::Value) -> Result<EntityUid, Problem> {
        let serde_json::Value::String(text) = value else {
            return parse_uid(field, value);
        };
        if let Some(uid) = self.0.get(text) {
            return Ok(uid.clone());
        }
        let uid = parse_uid(field, value)?;
        if self.0.len() >= UID_CACHE_LIMIT {
            self.0.clear();
        }
        self.0.insert(text.clone(), uid.clone());
        Ok(uid)
    }
}

impl RequestSpec {
    /// From Cedar's textual uids and an optional JSON context.
    pub fn from_strs(
        principal: &str,
        action: &str,
        resource: &str,
        context: Option<serde_json::Value>,
    ) -> Result<Self, Problem> {
        Ok(Self {
            principal: parse_uid(
                "principal",
                &serde_json::Value::String(principal.to_owned()),
            )?,
            action: parse_uid("action", &serde_json::Value::String(action.to_owned()))?,
            resource: parse_uid("resource", &serde_json::Value::String(resource.to_owned()))?,
            context,
        })
    }

    /// From one JSON line: `{"principal", "action", "resource", "context"?}`.
    pub fn from_json_line(line: &str) -> Result<Self, Problem> {
        let value = crate::json::from_str(line)
            .map_err(|e| request_problem(format!("not a JSON request: {e}")))?;
        Self::from_json(&value)
    }

    /// [`RequestSpec::from_json`] for a stream of parsed lines: each
    /// distinct uid text is parsed once (the same answers and errors).
    pub fn from_json_cached(
        value: &serde_json::Value,
        cache: &mut UidCache,
    ) -> Result<Self, Problem> {
        Self::read(value, Some(cache))
    }

    /// From a parsed JSON object: `{"principal", "action", "resource",
    /// "context"?, "id"?}`. An `id` (any JSON value) is the client's
    /// correlation id: it takes no part in the request (the command line
    /// echoes it in the answer).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, Problem> {
        Self::read(value, None)
    }

    fn read(value: &serde_json::Value, mut cache: Option<&mut UidCache>) -> Result<Self, Problem> {
        let object = value.as_object().ok_or_else(|| {
            request_problem(
                "a request must be a JSON object with principal, action, resource and context",
            )
        })?;
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "principal" | "action" | "resource" | "context" | "id"
            ) {
                return Err(request_problem(format!("unknown field `{key}` in request"))
                    .with_help(
                        "a request has `principal`, `action`, `resource`, and optionally `context` and `id`",
                    ));
            }
        }
        let get = |k: &str| object.get(k).unwrap_or(&serde_json::Value::Null);
        let mut uid = |field: &str| match cache.as_deref_mut() {
            Some(cache) => cache.parse(field, get(field)),
            None => parse_uid(field, get(field)),
        };
        Ok(Self {
            principal: uid("principal")?,
            action: uid("action")?,
            resource: uid("resource")?,
            context: object.get("context").cloned(),
        })
    }

    /// Builds Cedar's request, reading the context and validating it all
    /// against the schema when there is one.
    pub fn build(self, schema: Option<&Schema>) -> Result<Request, Problem> {
        self.build_with(schema, |_| None)
    }

    /// [`RequestSpec::build`], taking the empty context of an action from
    /// `empty_context` when it has it (the same value Cedar would read from
    /// `{}` against the schema: reading it is most of a request's cost).
    pub(crate) fn build_with<'c>(
        self,
        schema: Option<&Schema>,
        known_action: impl Fn(&EntityUid) -> Option<&'c KnownAction>,
    ) -> Result<Request, Problem> {
        // an action known to the snapshot is declared: no need to look for it
        let action_known = known_action(&self.action);
        let known = action_known.map(|known| &known.empty_context);
        if let Some(schema) = schema
            && known.is_none()
            && !schema.actions().any(|a| a == &self.action)
        {
            return Err(request_problem(format!(
                "action {} is not declared in the schema",
                self.action
            ))
            .with_help("the schema's actions are listed in its `action` declarations"));
        }
        if let Some(context) = &self.context
            && let Some((path, text, whole)) = bad_number(context, "")
        {
            return Err(request_problem(format!(
                "invalid context: attribute `{path}`: {}",
                bad_number_reason(&text, whole)
            ))
            .with_help(if whole {
                "a Long is a 64-bit signed integer"
            } else {
                r#"write fractions as decimals: {"__extn": {"fn": "decimal", "arg": "0.5"}}"#
            }));
        }
        let empty = match &self.context {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::Object(map)) => map.is_empty(),
            Some(_) => false,
        };
        if empty
            && schema.is_some()
            && let Some(known) = action_known
            && known.admits(&self.principal, &self.resource)
        {
            // what validating against the schema would check, checked once
            // per snapshot: the same request, without re-validating it
            return Request::new(
                self.principal,
                self.action,
                self.resource,
                known.empty_context.clone(),
                None,
            )
            .map_err(|e| request_problem(format!("invalid request: {}", error_chain(&e))));
        }
        let context = match self.context {
            // with a schema, an omitted context is the empty record, checked like any other
            _ if empty && schema.is_some() => match known {
                Some(context) => Ok(context.clone()),
                None => Context::from_json_value(
                    serde_json::json!({}),
                    schema.map(|s| (s, &self.action)),
                ),
            },
            None | Some(serde_json::Value::Null) => Ok(Context::empty()),
            Some(value) => Context::from_json_value(value, schema.map(|s| (s, &self.action))),
        }
        .map_err(|e| request_problem(format!("invalid context: {}", error_chain(&e))))?;
        Request::new(self.principal, self.action, self.resource, context, schema).map_err(|e| {
            let problem = request_problem(format!("invalid request: {}", error_chain(&e)));
            // Cedar says which context is wrong, not how: give the type it must have
            let cedar_policy::RequestValidationError::InvalidContext(invalid) = &e else {
                return problem;
            };
            let action = invalid.action();
            match schema.and_then(|schema| context_type(schema, action)) {
                Some(expected) => problem.with_help(format!(
                    "the context of {action} must have the type `{expected}`"
                )),
                None => problem,
            }
        })
    }
}
