//! AuthZEN request documents read from JSON: the members each endpoint
//! requires, with a message naming the member when one is missing or has
//! the wrong JSON type. Unknown members are ignored, as the specification
//! asks.

use super::rejection::Rejection;
use serde_json::{Map, Value};

/// A subject or a resource as written: `type`, `id`, `properties`.
#[derive(Debug, Clone, Copy)]
pub struct EntityRef<'a> {
    /// The type exactly as the request wrote it.
    pub written_type: &'a str,
    /// The id (absent in the searched-for entity of a search).
    pub id: Option<&'a str>,
    /// Attributes for this request, if any.
    pub properties: Option<&'a Map<String, Value>>,
}

/// One access evaluation: subject, action name, resource and context.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// The subject (principal).
    pub subject: EntityRef<'a>,
    /// The action's name (`action.name`).
    pub action: &'a str,
    /// The resource.
    pub resource: EntityRef<'a>,
    /// The context object, if given.
    pub context: Option<&'a Value>,
}

/// How a batch of evaluations is run (`options.evaluations_semantic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semantic {
    /// Every evaluation, every answer (the default).
    #[default]
    ExecuteAll,
    /// Stop after the first deny (or error), like `&&`.
    DenyOnFirstDeny,
    /// Stop after the first permit, like `||`.
    PermitOnFirstPermit,
}

/// A parsed `/access/v1/evaluations` request.
#[derive(Debug)]
pub struct Evaluations<'a> {
    /// The evaluations, defaults applied; one when `evaluations` is absent or empty.
    pub items: Vec<Evaluation<'a>>,
    /// Whether the request had a non-empty `evaluations` array (the answer
    /// is then `{"evaluations": [...]}`, else a single decision).
    pub batched: bool,
    /// The semantic asked for.
    pub semantic: Semantic,
}

/// The JSON object of a request body, or why it is not one.
pub fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Rejection> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Rejection::bad_request(format!(
            "{} must be an object, not {}",
            name(path),
            kind(other)
        ))),
    }
}

/// `path` for messages: the member in backquotes, or "the body".
fn name(path: &str) -> String {
    if path.is_empty() {
        "the body".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

/// A member that must be a string when present (`null` counts as absent).
fn string<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    member: &str,
) -> Result<Option<&'a str>, Rejection> {
    match map.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(Rejection::bad_request(format!(
            "`{}` must be a string, not {}",
            join(path, member),
            kind(other)
        ))),
    }
}

fn required_string<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    member: &str,
) -> Result<&'a str, Rejection> {
    string(map, path, member)?
        .ok_or_else(|| Rejection::bad_request(format!("`{}` is required", join(path, member))))
}

/// A member that must be an object when present (`null` counts as absent).
fn optional_object<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    member: &str,
) -> Result<Option<&'a Map<String, Value>>, Rejection> {
    match map.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => object(value, &join(path, member)).map(Some),
    }
}

/// A subject or resource at `path`; `needs_id` when its `id` is required.
pub fn entity<'a>(
    value: &'a Value,
    path: &str,
    needs_id: bool,
) -> Result<EntityRef<'a>, Rejection> {
    let map = object(value, path)?;
    let written_type = required_string(map, path, "type")?;
    let id = if needs_id {
        Some(required_string(map, path, "id")?)
    } else {
        // a searched-for entity's id "MUST be ignored", whatever its type
        map.get("id").and_then(Value::as_str)
    };
    Ok(EntityRef {
        written_type,
        id,
        properties: optional_object(map, path, "properties")?,
    })
}

/// An action at `path`: its `name`.
pub fn action<'a>(value: &'a Value, path: &str) -> Result<&'a str, Rejection> {
    let map = object(value, path)?;
    optional_object(map, path, "properties")?;
    required_string(map, path, "name")
}

/// A member of `item`, or of `defaults` when `item` lacks it.
fn member<'a>(
    item: Option<&'a Map<String, Value>>,
    defaults: &'a Map<String, Value>,
    key: &str,
) -> Option<(&'a Value, bool)> {
    let own = item
        .and_then(|item| item.get(key))
        .filter(|value| !value.is_null());
    match own {
        Some(value) => Some((value, true)),
        None => defaults
            .get(key)
            .filter(|value| !value.is_null())
            .map(|value| (value, false)),
    }
}

/// One evaluation from `item`'s members over the request's `defaults`.
fn evaluation<'a>(
    item: Option<&'a Map<String, Value>>,
    defaults: &'a Map<String, Value>,
    path: &str,
) -> Result<Evaluation<'a>, Rejection> {
    let required = |key: &str| {
        member(item, defaults, key).ok_or_else(|| {
            Rejection::bad_request(if item.is_some() {
                format!(
                    "`{path}.{key}` is required (neither the evaluation nor the request gives one)"
                )
            } else {
                format!("`{key}` is required")
            })
        })
    };
    let at = |key: &str, own: bool| {
        if own && item.is_some() {
            format!("{path}.{key}")
        } else {
            key.to_owned()
        }
    };
    let (subject, own) = required("subject")?;
    let subject = entity(subject, &at("subject", own), true)?;
    let (action_value, own) = required("action")?;
    let action = action(action_value, &at("action", own))?;
    let (resource, own) = required("resource")?;
    let resource = entity(resource, &at("resource", own), true)?;
    let context = match member(item, defaults, "context") {
        None => None,
        Some((value, own)) => {
            object(value, &at("context", own))?;
            Some(value)
        }
    };
    Ok(Evaluation {
        subject,
        action,
        resource,
        context,
    })
}

/// A `/access/v1/evaluation` request.
pub fn single(body: &Value) -> Result<Evaluation<'_>, Rejection> {
    evaluation(None, object(body, "")?, "")
}

/// A `/access/v1/evaluations` request: top-level members are defaults that
/// each evaluation's own members override.
pub fn batch(body: &Value) -> Result<Evaluations<'_>, Rejection> {
    let defaults = object(body, "")?;
    let semantic = semantic(defaults)?;
    let listed: &[Value] = match defaults.get("evaluations") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Rejection::bad_request(format!(
                "`evaluations` must be an array, not {}",
                kind(other)
            )));
        }
    };
    if listed.is_empty() {
        return Ok(Evaluations {
            items: vec![evaluation(None, defaults, "")?],
            batched: false,
            semantic,
        });
    }
    let items = listed
        .iter()
        .enumerate()
        .map(|(at, item)| {
            let path = format!("evaluations[{at}]");
            evaluation(Some(object(item, &path)?), defaults, &path)
        })
        .collect::<Result<_, _>>()?;
    Ok(Evaluations {
        items,
        batched: true,
        semantic,
    })
}

fn semantic(defaults: &Map<String, Value>) -> Result<Semantic, Rejection> {
    let Some(options) = optional_object(defaults, "", "options")? else {
        return Ok(Semantic::default());
    };
    match string(options, "options", "evaluations_semantic")? {
        None | Some("execute_all") => Ok(Semantic::ExecuteAll),
        Some("deny_on_first_deny") => Ok(Semantic::DenyOnFirstDeny),
        Some("permit_on_first_permit") => Ok(Semantic::PermitOnFirstPermit),
        Some(other) => Err(Rejection::bad_request(format!(
            "`options.evaluations_semantic` must be `execute_all`, `deny_on_first_deny` or `permit_on_first_permit`, not `{other}`"
        ))),
    }
}

/// Whether the request asks for the policies behind each decision
/// (`"options": {"explain": true}`).
pub fn explain(body: &Value) -> bool {
    body.get("options")
        .and_then(|options| options.get("explain"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}
