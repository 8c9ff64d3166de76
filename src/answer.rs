//! A decision with the policies that determined it and the errors met on the way,
//! exactly as cedar-policy gives them.

use cedar_policy::{AuthorizationError, Decision, PolicyId, Response};
use serde::Serialize;

/// An authorization answer: Cedar's decision, reasons and errors.
///
/// Reasons and errors are sorted by policy id so output is stable.
///
/// ```
/// use rolegrid::{LoadOptions, Sources, SourceFile, build_snapshot};
/// let sources = Sources {
///     policies: vec![SourceFile::new("p.cedar", r#"@id("nobody") forbid(principal, action, resource);"#)],
///     ..Default::default()
/// };
/// let snapshot = build_snapshot(&sources, None, &LoadOptions::default())?;
/// let request = snapshot.request(r#"User::"a""#, r#"Action::"view""#, r#"File::"f""#, None)?;
/// let answer = snapshot.authorize(&request);
/// assert!(!answer.is_allowed());
/// assert_eq!(answer.reasons()[0].to_string(), "nobody");
/// # Ok::<(), rolegrid::Problems>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    decision: Decision,
    reasons: Vec<PolicyId>,
    errors: Vec<PolicyError>,
}

/// An error Cedar met while evaluating one policy (the policy is then ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    /// The policy that failed to evaluate.
    pub policy: String,
    /// Cedar's message.
    pub message: String,
}

impl Answer {
    /// Converts Cedar's response.
    pub fn from_response(response: Response) -> Self {
        let decision = response.decision();
        let diagnostics = response.diagnostics();
        let mut reasons: Vec<PolicyId> = diagnostics.reason().cloned().collect();
        reasons.sort_unstable_by(|a, b| AsRef::<str>::as_ref(a).cmp(b.as_ref()));
        let mut errors: Vec<PolicyError> = diagnostics
            .errors()
            .map(|error| {
                let AuthorizationError::PolicyEvaluationError(e) = error;
                PolicyError {
                    policy: e.policy_id().to_string(),
                    message: e.inner().to_string(),
                }
            })
            .collect();
        errors.sort_unstable_by(|a, b| a.policy.cmp(&b.policy));
        Self {
            decision,
            reasons,
            errors,
        }
    }

    /// An answer from its parts, in any order: reasons and errors get
    /// sorted by policy id as [`Answer::from_response`] sorts them.
    pub(crate) fn new(
        decision: Decision,
        mut reasons: Vec<PolicyId>,
        mut errors: Vec<PolicyError>,
    ) -> Self {
        reasons.sort_unstable_by(|a, b| AsRef::<str>::as_ref(a).cmp(b.as_ref()));
        errors.sort_unstable_by(|a, b| a.policy.cmp(&b.policy));
        Self {
            decision,
            reasons,
            errors,
        }
    }

    /// Allow with these reasons (sorted by id) and no errors: what Cedar
    /// answers when only permits apply and all are satisfied.
    pub(crate) fn allowed_by(reasons: &[PolicyId]) -> Self {
        Self {
            decision: Decision::Allow,
            reasons: reasons.to_vec(),
            errors: Vec::new(),
        }
    }

    /// Deny with no reasons and no errors: what Cedar answers when no policy applies.
    pub fn denied_by_default() -> Self {
        Self {
            decision: Decision::Deny,
            reasons: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Cedar's decision.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The policies that determined the decision, sorted by id.
    pub fn reasons(&self) -> &[PolicyId] {
        &self.reasons
    }

    /// Evaluation errors, sorted by policy id.
    pub fn errors(&self) -> &[PolicyError] {
        &self.errors
    }

    /// [`Answer::to_json`] as one line of text, written without building the
    /// JSON value (the same text as `to_json().to_string()`).
    ///
    /// ```
    /// # use rolegrid::{LoadOptions, Sources, SourceFile, build_snapshot};
    /// # let sources = Sources {
    /// #     policies: vec![SourceFile::new("p.cedar", r#"@id("all") permit(principal, action, resource);"#)],
    /// #     ..Default::default()
    /// # };
    /// # let snapshot = build_snapshot(&sources, None, &LoadOptions::default())?;
    /// # let request = snapshot.request(r#"User::"a""#, r#"Action::"view""#, r#"File::"f""#, None)?;
    /// let answer = snapshot.authorize(&request);
    /// assert_eq!(answer.to_json_line(), answer.to_json().to_string());
    /// # Ok::<(), rolegrid::Problems>(())
    /// ```
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stable JSON form: `{"decision": "allow"|"deny", "reasons": [...], "errors": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The stable JSON form (the one encoding of an answer): `decision`,
/// `reasons` (policy ids), `errors`, in that order.
impl Serialize for Answer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut answer = serializer.serialize_struct("Answer", 3)?;
        answer.serialize_field("decision", if self.is_allowed() { "allow" } else { "deny" })?;
        let reasons: Vec<&str> = self.reasons.iter().map(AsRef::<str>::as_ref).collect();
        answer.serialize_field("reasons", &reasons)?;
        answer.serialize_field("errors", &self.errors)?;
        answer.end()
    }
}
