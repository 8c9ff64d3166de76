//! A request refused: the HTTP status it maps to and a message.

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
