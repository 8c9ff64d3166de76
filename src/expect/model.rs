//! What an expectation is: a concrete request with its expected answer,
//! and the helpers every expectation format shares.

use crate::diagnostics::{Location, Problem, ProblemKind, SourceFile};
use cedar_policy::{Decision, Entities, EntityUid, Request};
use std::sync::Arc;

/// How expected reasons are compared with Cedar's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonMatch {
    /// The determining policies must be exactly these (rolegrid cases).
    Exact,
    /// These must be among the determining policies (Cedar's `run-tests`).
    Subset,
}

/// The expected answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The decision.
    pub decision: Decision,
    /// Expected determining policy ids (sorted), if the expectation names them.
    pub reasons: Option<Vec<String>>,
    /// How [`Expected::reasons`] is compared.
    pub reason_match: ReasonMatch,
    /// The expected number of evaluation errors (rolegrid: 0 unless a case says `errors:`).
    pub errors: Option<usize>,
}

/// One concrete request and its expected answer.
#[derive(Debug, Clone)]
pub struct Check {
    /// The principal.
    pub principal: EntityUid,
    /// The action.
    pub action: EntityUid,
    /// The resource.
    pub resource: EntityUid,
    /// The request context as written (`{}` when none was given).
    pub context: serde_json::Value,
    /// The roles the principal holds directly (role ids), in fixture order.
    pub roles: Vec<String>,
    /// The role this check is about: for rows, the row's role; otherwise the
    /// principal's role when it holds exactly one.
    pub role: Option<String>,
    /// Whether principal and resource lie in one tenant (`None` when unknown:
    /// no `tenant:` type, or one of them has no tenant).
    pub same_tenant: Option<bool>,
    /// What the answer must be.
    pub expected: Expected,
    pub(super) request: Request,
    pub(super) entities: Option<Arc<Entities>>,
}

impl Check {
    /// The Cedar request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The entities to decide against, when not the snapshot's own (cases
    /// with extra entities; Cedar tests, which bring all their entities).
    pub fn entities(&self) -> Option<&Entities> {
        self.entities.as_deref()
    }
}

/// An expectation problem at a byte range of `file`.
pub(crate) fn problem_at(
    file: &SourceFile,
    span: std::ops::Range<usize>,
    message: impl Into<String>,
    label: impl Into<String>,
) -> Problem {
    Problem::new(ProblemKind::Expectation, message)
        .in_file(file)
        .at(span, label)
}

/// Re-kinds a problem found inside an expectation file as an expectation
/// problem, keeping its place, help and related places.
pub(crate) fn as_expectation(problem: &Problem) -> Problem {
    let mut out = Problem::from_diagnostic(ProblemKind::Expectation, problem, problem.file());
    for related in problem.related_problems() {
        out = out.with_related(related.clone());
    }
    out
}

/// The location of a byte offset in a file.
pub(crate) fn location_of(file: &SourceFile, offset: usize) -> Location {
    let (line, column) = file.line_col(offset);
    Location {
        file: file.path().to_path_buf(),
        line,
        column,
    }
}

/// `allow` / `deny`, in any case.
pub(crate) fn parse_decision(text: &str) -> Option<Decision> {
    match text.to_ascii_lowercase().as_str() {
        "allow" => Some(Decision::Allow),
        "deny" => Some(Decision::Deny),
        _ => None,
    }
}

/// The display name of a decision: `allow` or `deny`.
pub fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    }
}
