//! The state every handler shares, and the JSON error answer.

use super::config::ServerConfig;
use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use crate::evaluator::Evaluator;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// The state every handler shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(super) evaluator: Arc<Evaluator>,
    pub(super) config: ServerConfig,
    /// The product the root paths serve: `--product`, or the store's only
    /// product when the server started.
    pub(super) default_product: Option<String>,
    pub(super) metrics: Metrics,
    pub(super) log: Option<DecisionLog>,
    /// Set once shutdown starts: `/readyz` answers 503 while in-flight
    /// requests finish.
    pub(super) draining: AtomicBool,
    /// Products the store holds that failed to load when they appeared
    /// (served products keep their failures in the evaluator's status).
    pub(super) unserved: Mutex<BTreeMap<String, String>>,
}

impl App {
    pub(super) fn reloaded(&self, event: &crate::ReloadEvent) {
        let served = self.evaluator.status(&event.product);
        let failing = match &served {
            Some(status) => status.last_error.is_some(),
            None => true,
        };
        self.metrics.reloaded(event, failing);
        let mut unserved = self
            .unserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (&served, &event.outcome) {
            (None, crate::ReloadOutcome::Failed(problems)) => {
                unserved.insert(event.product.clone(), problems_text(problems));
            }
            _ => {
                unserved.remove(&event.product);
            }
        }
    }
}

/// A JSON error answer: `{"error": {"status": ..., "message": ...}}`.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let body = crate::authzen::Rejection::new(status.as_u16(), message).to_json();
    (status, axum::Json(body)).into_response()
}

/// Problems on one line each, with their file, line and column.
pub(super) fn problems_text(problems: &crate::Problems) -> String {
    problems
        .iter()
        .map(|problem| match problem.location() {
            Some(location) => format!("{location}: {}", problem.message()),
            None => problem.message().to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
