//! The OpenID AuthZEN Authorization API 1.0 over a product's snapshot,
//! without HTTP: request documents read ([`document`]), decided
//! ([`Decider`]), searched ([`search`]), and the answers written as the
//! specification shapes them. [`crate::server`] serves them over HTTP.
//!
//! How AuthZEN maps to Cedar:
//!
//! - `subject` and `resource` `{type, id}` become entity uids: the type as
//!   written, qualified (`Todo::user`) or in the product's namespace
//!   (`user` is `Todo::user`), declared by the schema; `id` is the entity id.
//! - `properties` become that entity's attributes for this request only:
//!   laid over the stored entity when the product's files define it (its
//!   other attributes and its parents kept), else a new entity with no
//!   parents; checked against the schema (a wrong type, a missing required
//!   attribute or an undeclared one is refused).
//! - `action.name` is the action id (`can_read`), or a full action uid;
//!   the schema must declare it.
//! - `context` is Cedar's context, checked against the action's context type.
//! - The decision is Cedar's: `{"decision": true}` for allow, `false` for
//!   deny. With `"options": {"explain": true}` in the request (or a server
//!   that always explains), `context` carries `reasons` (the determining
//!   policy ids) and `errors` (`policy`, `message`).
//!
//! A request that is not valid (a missing member, a wrong JSON type, an
//! unknown type, action or attribute, a context or properties that do not
//! fit the schema) is a [`Rejection`] with status 400 and a message naming
//! the member. In a batch, a refused evaluation is answered in its place as
//! `{"decision": false, "context": {"error": {"status": 400, "message": ...}}}`
//! (the specification's per-evaluation errors); a batch whose document is
//! malformed is refused whole.

mod decide;
pub mod document;
pub mod search;

pub use decide::{Decided, Decider, Outcome};
pub use document::Semantic;
use serde::Serialize;
use serde_json::Value;

/// A request refused, with the HTTP status it maps to and a message for
/// the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The HTTP status (400, 401, 404, 413, ...).
    pub status: u16,
    /// What was wrong.
    pub message: String,
}

impl Rejection {
    /// A 400: the request does not fit the specification or the product.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// A refusal with any status.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The error body: `{"error": {"status": 400, "message": "..."}}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"error": {"status": self.status, "message": self.message}})
    }
}

/// A decision object: `decision`, then `context` only when there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Allow (`true`) or deny.
    pub decision: bool,
    /// Reasons and errors (when asked for), or the evaluation's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

impl Decision {
    /// The decision object of an outcome; `explain` adds the reasons and errors.
    pub fn of(outcome: &Outcome, explain: bool) -> Self {
        match outcome {
            Ok(decided) => Self {
                decision: decided.answer.is_allowed(),
                context: explain.then(|| {
                    let reasons: Vec<&str> =
                        decided.answer.reasons().iter().map(AsRef::as_ref).collect();
                    serde_json::json!({"reasons": reasons, "errors": decided.answer.errors()})
                }),
            },
            Err(rejection) => Self {
                decision: false,
                context: Some(rejection.to_json()),
            },
        }
    }
}

/// The answer to `/access/v1/evaluations`: `{"evaluations": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationsResponse {
    /// One decision per evaluation run, in request order.
    pub evaluations: Vec<Decision>,
}

/// The metadata document of a decision point whose base URL is `base`
/// (no trailing slash): every endpoint it serves.
pub fn metadata(base: &str) -> Value {
    serde_json::json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
        "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
        "search_action_endpoint": format!("{base}/access/v1/search/action"),
    })
}
