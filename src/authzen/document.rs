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

/// The plain form of a `/access/v1/evaluation` request read without a
/// JSON tree: exactly `subject` and `resource` with a string `type` and
/// `id`, `action` with a string `name`, no other member anywhere and no
/// escape in the strings. Anything else is `None`: [`single`] reads it, with
/// its messages. What both read, they read alike (tested).
pub fn plain_single(body: &[u8]) -> Option<Evaluation<'_>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Plain<'a> {
        #[serde(borrow)]
        subject: PlainEntity<'a>,
        #[serde(borrow)]
        action: PlainAction<'a>,
        #[serde(borrow)]
        resource: PlainEntity<'a>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PlainEntity<'a> {
        #[serde(rename = "type")]
        written_type: &'a str,
        id: &'a str,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PlainAction<'a> {
        name: &'a str,
    }
    fn entity(e: PlainEntity<'_>) -> EntityRef<'_> {
        EntityRef {
            written_type: e.written_type,
            id: Some(e.id),
            properties: None,
        }
    }
    let plain: Plain<'_> = serde_json::from_slice(body).ok()?;
    Some(Evaluation {
        subject: entity(plain.subject),
        action: plain.action.name,
        resource: entity(plain.resource),
        context: None,
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

#[cfg(test)]
mod tests {
    use super::{plain_single, single};

    /// What an evaluation names, to compare the two readers.
    fn names(e: &super::Evaluation<'_>) -> String {
        format!(
            "{}/{:?}/{:?} {} {}/{:?}/{:?} {:?}",
            e.subject.written_type,
            e.subject.id,
            e.subject.properties,
            e.action,
            e.resource.written_type,
            e.resource.id,
            e.resource.properties,
            e.context
        )
    }

    #[test]
    fn the_plain_reader_reads_what_it_reads_as_the_general_one_and_leaves_the_rest() {
        let plain = [
            r#"{"subject":{"type":"user","id":"a"},"action":{"name":"can_read"},"resource":{"type":"todo","id":"1"}}"#,
            r#" { "resource" : {"id":"1","type":"Todo::todo"}, "action":{"name":"x"}, "subject":{"id":"","type":""} } "#,
        ];
        for body in plain {
            let fast = plain_single(body.as_bytes()).expect("plain");
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(names(&fast), names(&single(&value).unwrap()), "{body}");
        }
        let general = [
            // members the plain form does not have
            r#"{"subject":{"type":"user","id":"a","properties":{}},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user","id":"a"},"action":{"name":"r"},"resource":{"type":"t","id":"1"},"context":{}}"#,
            r#"{"subject":{"type":"user","id":"a"},"action":{"name":"r"},"resource":{"type":"t","id":"1"},"options":{"explain":true}}"#,
            r#"{"subject":{"type":"user","id":"a"},"action":{"name":"r","properties":{}},"resource":{"type":"t","id":"1"}}"#,
            // a key twice: the strict reader refuses it
            r#"{"subject":{"type":"user","id":"a"},"subject":{"type":"user","id":"b"},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user","id":"a","id":"b"},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            // escapes, wrong types, missing members, trailing text, not an object
            r#"{"subject":{"type":"us\u0065r","id":"a"},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user","id":1},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user","id":null},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user"},"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"action":{"name":"r"},"resource":{"type":"t","id":"1"}}"#,
            r#"{"subject":{"type":"user","id":"a"},"action":{"name":"r"},"resource":{"type":"t","id":"1"}} x"#,
            r#"[1]"#,
            "",
        ];
        for body in general {
            assert!(plain_single(body.as_bytes()).is_none(), "{body}");
        }
    }
}
