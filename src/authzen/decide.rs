//! AuthZEN evaluations decided by a snapshot: subjects, resources and
//! actions mapped to Cedar uids through the product's [`Directory`],
//! properties laid over the stored entities, the context read against the
//! schema, and the decision exactly Cedar's ([`Snapshot::authorize`]).

use super::document::{EntityRef, Evaluation, Semantic};
use super::rejection::Rejection;
use crate::answer::Answer;
use crate::directory::Directory;
use crate::request::RequestSpec;
use crate::snapshot::Snapshot;
use cedar_policy::{Entities, Entity, EntityUid};
use serde_json::{Map, Value};

/// One evaluation decided: the Cedar request's uids and Cedar's answer.
#[derive(Debug, Clone)]
pub struct Decided {
    /// The principal.
    pub principal: EntityUid,
    /// The action.
    pub action: EntityUid,
    /// The resource.
    pub resource: EntityUid,
    /// Cedar's answer.
    pub answer: Answer,
}

/// An entity a request names, the properties it gives it, and where in
/// the request it is (for messages).
pub type Given<'a> = (&'a EntityUid, Option<&'a Map<String, Value>>, &'a str);

/// What one evaluation of a batch gave.
pub type Outcome = Result<Decided, Rejection>;

/// Decides AuthZEN evaluations against one snapshot.
///
/// ```
/// use rolegrid::{LoadOptions, Store, authzen};
/// let snapshot = Store::open("examples/authzen-todo")?.load("todo", &LoadOptions::default())?;
/// let body = serde_json::json!({
///     "subject": {"type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
///     "action": {"name": "can_update_todo"},
///     "resource": {"type": "todo", "id": "7", "properties": {"ownerID": "morty@the-citadel.com"}}
/// });
/// let evaluation = authzen::document::single(&body)?;
/// let decided = authzen::Decider::new(&snapshot).decide(&evaluation)?;
/// assert!(decided.answer.is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Decider<'s> {
    snapshot: &'s Snapshot,
    directory: &'s Directory,
}

impl<'s> Decider<'s> {
    /// A decider over `snapshot`.
    pub fn new(snapshot: &'s Snapshot) -> Self {
        Self {
            snapshot,
            directory: snapshot.directory(),
        }
    }

    /// The snapshot it decides with.
    pub fn snapshot(&self) -> &'s Snapshot {
        self.snapshot
    }

    /// The uid of a subject or resource; `path` names it in messages.
    pub fn uid(
        &self,
        entity: &EntityRef<'_>,
        id: &str,
        path: &str,
    ) -> Result<EntityUid, Rejection> {
        self.directory
            .entity_uid(entity.written_type, id)
            .ok_or_else(|| {
                let mut message = format!(
                    "`{path}.type`: the product has no entity type `{}`",
                    entity.written_type
                );
                if let Some(near) = self.directory.closest_type(entity.written_type) {
                    message.push_str(&format!("; did you mean `{near}`?"));
                }
                Rejection::bad_request(message)
            })
    }

    /// The uid of an action named `name`.
    pub fn action(&self, name: &str, path: &str) -> Result<EntityUid, Rejection> {
        self.directory.action(name).ok_or_else(|| {
            let mut message = format!("`{path}.name`: the product has no action `{name}`");
            if let Some(near) = self.directory.closest_action(name) {
                message.push_str(&format!("; did you mean `{near}`?"));
            }
            Rejection::bad_request(message)
        })
    }

    /// Decides one evaluation.
    pub fn decide(&self, evaluation: &Evaluation<'_>) -> Outcome {
        let principal = self.uid(
            &evaluation.subject,
            evaluation.subject.id.unwrap_or_default(),
            "subject",
        )?;
        let resource = self.uid(
            &evaluation.resource,
            evaluation.resource.id.unwrap_or_default(),
            "resource",
        )?;
        let action = self.action(evaluation.action, "action")?;
        let overlay = self.overlay(&[
            (&principal, evaluation.subject.properties, "subject"),
            (&resource, evaluation.resource.properties, "resource"),
        ])?;
        let answer = self.answer(
            &principal,
            &action,
            &resource,
            evaluation.context,
            overlay.as_ref(),
        )?;
        Ok(Decided {
            principal,
            action,
            resource,
            answer,
        })
    }

    /// Cedar's answer to one request, against `entities` when given (an
    /// overlay of properties) or the snapshot's own.
    pub fn answer(
        &self,
        principal: &EntityUid,
        action: &EntityUid,
        resource: &EntityUid,
        context: Option<&Value>,
        entities: Option<&Entities>,
    ) -> Result<Answer, Rejection> {
        let spec = RequestSpec {
            principal: principal.clone(),
            action: action.clone(),
            resource: resource.clone(),
            context: context.cloned(),
        };
        let request = self
            .snapshot
            .build_request(spec)
            .map_err(|problem| Rejection::bad_request(problem_text(&problem)))?;
        Ok(match entities {
            Some(entities) => self.snapshot.authorize_with(&request, entities),
            None => self.snapshot.authorize(&request),
        })
    }

    /// The snapshot's entities with `properties` laid over the entities
    /// named (their stored attributes kept where the properties do not
    /// give them, their parents kept), checked against the schema; `None`
    /// when no properties are given.
    pub fn overlay(&self, entities: &[Given<'_>]) -> Result<Option<Entities>, Rejection> {
        let mut laid = Vec::new();
        for (uid, properties, path) in entities {
            let Some(properties) = properties else {
                continue;
            };
            laid.push(self.entity_with(uid, properties, path)?);
        }
        if laid.is_empty() {
            return Ok(None);
        }
        self.snapshot
            .entities()
            .clone()
            .upsert_entities(laid, self.snapshot.schema())
            .map(Some)
            .map_err(|e| {
                Rejection::bad_request(format!(
                    "properties: {}",
                    crate::diagnostics::text::error_chain(&e)
                ))
            })
    }

    fn entity_with(
        &self,
        uid: &EntityUid,
        properties: &Map<String, Value>,
        path: &str,
    ) -> Result<Entity, Rejection> {
        let stored = self
            .snapshot
            .entities()
            .get(uid)
            .and_then(|entity| entity.to_json_value().ok());
        let (mut attrs, parents) = match stored {
            Some(Value::Object(mut stored)) => (
                match stored.remove("attrs") {
                    Some(Value::Object(attrs)) => attrs,
                    _ => Map::new(),
                },
                stored.remove("parents").unwrap_or(Value::Array(Vec::new())),
            ),
            _ => (Map::new(), Value::Array(Vec::new())),
        };
        for (name, value) in properties {
            attrs.insert(name.clone(), value.clone());
        }
        let json = serde_json::json!({
            "uid": {"type": uid.type_name().to_string(), "id": uid.id().unescaped()},
            "attrs": attrs,
            "parents": parents,
        });
        Entity::from_json_value(json, self.snapshot.schema()).map_err(|e| {
            Rejection::bad_request(format!(
                "`{path}.properties`: {}",
                crate::diagnostics::text::error_chain(&e)
            ))
        })
    }

    /// Decides a batch in order under `semantic`: every evaluation, or up
    /// to the first deny (an error counts as a deny) or the first permit.
    pub fn decide_all(&self, items: &[Evaluation<'_>], semantic: Semantic) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let outcome = self.decide(item);
            let allowed = matches!(&outcome, Ok(decided) if decided.answer.is_allowed());
            outcomes.push(outcome);
            let stop = match semantic {
                Semantic::ExecuteAll => false,
                Semantic::DenyOnFirstDeny => !allowed,
                Semantic::PermitOnFirstPermit => allowed,
            };
            if stop {
                break;
            }
        }
        outcomes
    }
}

/// A problem's message with its help, on one line.
fn problem_text(problem: &crate::Problem) -> String {
    match problem.help_text() {
        Some(help) => format!("{} ({help})", problem.message()),
        None => problem.message().to_owned(),
    }
}
