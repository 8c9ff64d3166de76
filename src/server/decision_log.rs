//! The decision log: one JSON line per decision (off, stdout or a file),
//! written whole under a lock so lines never interleave.

use crate::authzen::Outcome;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// Where decisions are logged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DecisionLogTarget {
    /// Nowhere (the default).
    #[default]
    Off,
    /// Standard output, after the `listening on` line.
    Stdout,
    /// A file, appended to (created if missing).
    File(PathBuf),
}

/// What one request adds to the log besides its decisions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogContext<'a> {
    pub request_id: Option<&'a str>,
    pub product: &'a str,
    pub generation: u64,
    pub endpoint: &'static str,
    pub latency_us: u64,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    request_id: Option<&'a str>,
    product: &'a str,
    generation: u64,
    endpoint: &'static str,
    principal: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    decision: &'static str,
    reasons: Vec<&'a str>,
    errors: &'a [crate::PolicyError],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    latency_us: u64,
}

/// An open decision log.
pub(crate) struct DecisionLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionLog")
    }
}

impl DecisionLog {
    /// Opens the log `target` names (`None` when it is off).
    pub(crate) fn open(target: &DecisionLogTarget) -> std::io::Result<Option<Self>> {
        let out: Box<dyn Write + Send> = match target {
            DecisionLogTarget::Off => return Ok(None),
            DecisionLogTarget::Stdout => Box::new(std::io::stdout()),
            DecisionLogTarget::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        };
        Ok(Some(Self {
            out: Mutex::new(out),
        }))
    }

    /// Writes one line for a search: how many results it gave.
    pub(crate) fn searched(&self, context: LogContext<'_>, results: usize) {
        let line = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "request_id": context.request_id,
            "product": context.product,
            "generation": context.generation,
            "endpoint": context.endpoint,
            "results": results,
            "latency_us": context.latency_us,
        });
        let mut text = line.to_string();
        text.push('\n');
        self.write(text.as_bytes());
    }

    fn write(&self, text: &[u8]) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = out.write_all(text).and_then(|()| out.flush()) {
            tracing::warn!(%error, "could not write the decision log");
        }
    }

    /// Writes one line per outcome, in order, as one write.
    pub(crate) fn record(&self, context: LogContext<'_>, outcomes: &[Outcome]) {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut text = Vec::with_capacity(outcomes.len() * 256);
        for outcome in outcomes {
            let line = match outcome {
                Ok(decided) => Line {
                    time: time.clone(),
                    request_id: context.request_id,
                    product: context.product,
                    generation: context.generation,
                    endpoint: context.endpoint,
                    principal: Some(decided.principal.to_string()),
                    action: Some(decided.action.to_string()),
                    resource: Some(decided.resource.to_string()),
                    decision: if decided.answer.is_allowed() {
                        "allow"
                    } else {
                        "deny"
                    },
                    reasons: decided.answer.reasons().iter().map(AsRef::as_ref).collect(),
                    errors: decided.answer.errors(),
                    error: None,
                    latency_us: context.latency_us,
                },
                Err(rejection) => Line {
                    time: time.clone(),
                    request_id: context.request_id,
                    product: context.product,
                    generation: context.generation,
                    endpoint: context.endpoint,
                    principal: None,
                    action: None,
                    resource: None,
                    decision: "error",
                    reasons: Vec::new(),
                    errors: &[],
                    error: Some(&rejection.message),
                    latency_us: context.latency_us,
                },
            };
            if serde_json::to_writer(&mut text, &line).is_ok() {
                text.push(b'\n');
            }
        }
        self.write(&text);
    }
}
