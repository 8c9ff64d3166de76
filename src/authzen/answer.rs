//! The answers the specification shapes: decision objects, the batch
//! answer and the metadata document.

use super::decide::Outcome;
use serde::Serialize;
use serde_json::Value;

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
