//! Cedar's own test format (`*.test.json`), as `cedar run-tests --tests` reads it:
//!
//! ```json
//! [{"name": "alice views", "request": {"principal": "User::\"alice\"",
//!   "action": "Action::\"view\"", "resource": "Photo::\"p\"", "context": {}},
//!   "entities": [...], "decision": "allow", "reason": ["policy0"], "num_errors": 0}]
//! ```
//!
//! As in Cedar: the test's `entities` (a list, or the name of an entities file
//! next to the test file) are *all* the entities of the request, the listed
//! `reason`s must be among the determining policies, and `num_errors` is the
//! exact number of evaluation errors. `reason` and `num_errors` may be omitted
//! (no reasons, no errors).

use super::fixture::Fixture;
use super::item::{Item, ItemKind, Requests};
use super::model::{Check, Expected, ReasonMatch, location_of, parse_decision};
use crate::diagnostics::text::error_chain;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::read_source;
use crate::limits::Limits;
use crate::request::RequestSpec;
use crate::snapshot::Snapshot;
use crate::yaml::parse_yaml_list;
use cedar_policy::{Entities, EntityUid};
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

/// Loads one Cedar test file.
pub(super) fn load(
    snapshot: &Snapshot,
    fixture: &Fixture,
    file: &SourceFile,
) -> Result<Vec<Item>, Problems> {
    let values = crate::json::array_from_str(file.text()).map_err(|e| {
        let offset = file.offset_of(e.line(), e.column());
        Problems::from(
            Problem::new(
                ProblemKind::Expectation,
                format!("invalid Cedar test file: {e}"),
            )
            .in_file(file)
            .at(offset..offset + 1, "here")
            .with_help(
                "a Cedar test file is a JSON list of {name, request, entities, decision, reason, num_errors}",
            ),
        )
    })?;
    // serde_json keeps no places; JSON is YAML, so take each test's place from saphyr
    let spans: Vec<Range<usize>> = parse_yaml_list(file, "tests")
        .map(|items| items.into_iter().map(|(_, span)| span).collect())
        .unwrap_or_default();
    let mut items = Vec::new();
    let mut problems = Problems::new();
    for (index, value) in values.into_iter().enumerate() {
        let span = spans.get(index).cloned().unwrap_or(0..1);
        match load_test(snapshot, fixture, file, index, value, span) {
            Ok(item) => items.push(item),
            Err(problem) => problems.push(*problem),
        }
    }
    problems.into_result(items)
}

fn load_test(
    snapshot: &Snapshot,
    fixture: &Fixture,
    file: &SourceFile,
    index: usize,
    value: serde_json::Value,
    span: Range<usize>,
) -> Result<Item, Box<Problem>> {
    let fail = |message: String| {
        Box::new(
            Problem::new(ProblemKind::Expectation, message)
                .in_file(file)
                .at(span.clone(), "this test"),
        )
    };
    let serde_json::Value::Object(test) = value else {
        return Err(fail("a Cedar test must be a JSON object".to_owned()));
    };
    let name = match test.get("name") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => format!("test {}", index + 1),
    };
    let request = test
        .get("request")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| fail(format!("test `{name}` has no `request` object")))?;
    let in_test = |message: String| fail(format!("test `{name}`: {message}"));
    let spec = test_request(request).map_err(in_test)?;
    let schema = snapshot.schema();
    let entities = test_entities(file, &test, schema)
        .map_err(in_test)?
        .ok_or_else(|| {
            fail(format!(
                "test `{name}` has no `entities` (a list, or the name of an entities file)"
            ))
        })?;
    let expected = test_expected(&test).map_err(in_test)?;
    let built = spec
        .clone()
        .build(schema)
        .map_err(|p| in_test(p.message().to_owned()))?;
    let roles = fixture.roles_of(&entities, &spec.principal);
    let role = match roles.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    Ok(Item {
        kind: ItemKind::CedarTest,
        location: location_of(file, span.start),
        name,
        source: None,
        hint: None,
        requests: Requests::Listed(vec![Check {
            principal: spec.principal,
            action: spec.action,
            resource: spec.resource,
            context: spec.context.unwrap_or_default(),
            roles,
            role,
            same_tenant: None,
            expected,
            request: built,
            entities: Some(Arc::new(entities)),
        }]),
    })
}

/// A test's `request`: principal, action and resource as Cedar uids, and
/// its context (`{}` when absent).
fn test_request(
    request: &serde_json::Map<String, serde_json::Value>,
) -> Result<RequestSpec, String> {
    let uid = |field: &str| -> Result<EntityUid, String> {
        let text = request
            .get(field)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("`request.{field}` is missing"))?;
        EntityUid::from_str(text)
            .map_err(|e| format!("failed to parse {field} `{text}`: {}", error_chain(&e)))
    };
    let context = match request.get("context") {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(c) => c.clone(),
    };
    Ok(RequestSpec {
        principal: uid("principal")?,
        action: uid("action")?,
        resource: uid("resource")?,
        context: Some(context),
    })
}

/// A test's `entities`: a list, or the name of an entities file beside the
/// test file (`None` when absent).
fn test_entities(
    file: &SourceFile,
    test: &serde_json::Map<String, serde_json::Value>,
    schema: Option<&cedar_policy::Schema>,
) -> Result<Option<Entities>, String> {
    match test.get("entities") {
        Some(serde_json::Value::String(path)) => entities_file(file, path, schema).map(Some),
        Some(list @ serde_json::Value::Array(_)) => Entities::from_json_value(list.clone(), schema)
            .map(Some)
            .map_err(|e| format!("failed to parse entities: {}", error_chain(&e))),
        _ => Ok(None),
    }
}

/// What a test expects: its decision, its reasons (a subset of the answer's,
/// sorted) and its number of errors.
fn test_expected(test: &serde_json::Map<String, serde_json::Value>) -> Result<Expected, String> {
    let decision = test
        .get("decision")
        .and_then(serde_json::Value::as_str)
        .and_then(parse_decision)
        .ok_or_else(|| "`decision` must be \"allow\" or \"deny\"".to_owned())?;
    let not_ids = || "`reason` must list policy ids".to_owned();
    let mut reasons: Vec<String> = match test.get("reason") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(not_ids)?,
        Some(_) => return Err(not_ids()),
    };
    reasons.sort();
    reasons.dedup();
    let errors = match test.get("num_errors") {
        None | Some(serde_json::Value::Null) => 0,
        Some(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| "`num_errors` must be a count".to_owned())?,
    };
    Ok(Expected {
        decision,
        reasons: Some(reasons),
        reason_match: ReasonMatch::Subset,
        errors: Some(errors),
    })
}

/// Entities from a file named by a test, which must lie in the test file's folder.
fn entities_file(
    test_file: &SourceFile,
    name: &str,
    schema: Option<&cedar_policy::Schema>,
) -> Result<Entities, String> {
    let dir = test_file
        .path()
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."));
    let path = dir.join(name);
    let canonical = path
        .canonicalize()
        .map_err(|e| format!("cannot read entities file `{}`: {e}", path.display()))?;
    let canonical_dir = dir
        .canonicalize()
        .map_err(|e| format!("cannot read folder `{}`: {e}", dir.display()))?;
    if !canonical.starts_with(&canonical_dir) {
        return Err(format!(
            "entities file `{name}` is outside of the test file's folder"
        ));
    }
    let source = read_source(&path, &Limits::default()).map_err(|p| p.message().to_owned())?;
    Entities::from_json_str(source.text(), schema).map_err(|e| {
        format!(
            "failed to load entities from file `{name}`: {}",
            error_chain(&e)
        )
    })
}
