//! What a matrix is: role columns, groups of rows by resource type, and
//! cells with their verdicts and the policies behind them.

use crate::answer::Answer;
use crate::diagnostics::{Problem, ProblemKind};
use cedar_policy::PolicyId;
use serde::Serialize;
use std::collections::BTreeSet;

/// At most this many contexts are tried per principal, action and resource.
pub const MAX_CONTEXTS: usize = 64;

/// The effective permission matrix of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The version of rolegrid's JSON documents ([`crate::json::DOCUMENT_VERSION`]).
    pub version: u32,
    /// The product's name.
    pub product: String,
    /// The columns, in fixture order.
    pub roles: Vec<RoleColumn>,
    /// The rows, grouped by resource type.
    pub groups: Vec<Group>,
    /// How many requests were decided.
    pub requests: usize,
    /// Limits met while sampling (unsupported context types, capped contexts).
    pub notes: Vec<String>,
}

/// A role (a column) and the principals asked as it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleColumn {
    /// The role id, e.g. `admin`.
    pub id: String,
    /// The role entity, e.g. `Fireworks::Role::"admin"`.
    pub entity: String,
    /// The principals that hold exactly this role, one or more per tenant.
    pub principals: Vec<Principal>,
}

/// A principal the matrix asked as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Its uid, e.g. `Fireworks::User::"ada-admin"`.
    pub uid: String,
    /// Its tenant: its ancestors that are not roles.
    pub tenant: Vec<String>,
    /// Made up by the matrix (no fixture user holds exactly this role in the tenant).
    pub synthesized: bool,
}

/// The rows of one resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The resource type, e.g. `Fireworks::Deployment`.
    pub resource_type: String,
    /// One row per action that applies to the type, in schema order.
    pub rows: Vec<Row>,
}

/// One action on one resource type, for every role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The action's uid, e.g. `Fireworks::Action::"update"`.
    pub action: String,
    /// The action's id, e.g. `update`.
    pub action_id: String,
    /// One cell per role, in the order of [`Matrix::roles`].
    pub cells: Vec<Cell>,
}

/// What one role may do: the verdict over every request asked for the cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The role id.
    pub role: String,
    /// Allowed, denied, conditional, or untested.
    pub verdict: Verdict,
    /// For a conditional cell: when it is allowed, in words.
    pub condition: Option<String>,
    /// How many requests were asked.
    pub requests: usize,
    /// How many of them were allowed.
    pub allowed: usize,
    /// The permit policies that allowed some request (by id, in file order).
    pub permits: Vec<String>,
    /// The forbid policies that denied some request (by id, in file order).
    pub forbids: Vec<String>,
    /// Evaluation errors met (`policy: message`), sorted.
    pub errors: Vec<String>,
}

/// The verdict of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every request was allowed.
    Allowed,
    /// No request was allowed.
    Denied,
    /// Some requests were allowed: see [`Cell::condition`].
    Conditional,
    /// Nothing to ask: the fixture has no entity of the resource type in the
    /// tenants of the role's principals.
    Untested,
}

impl Verdict {
    /// The mark the documents use: ✅, ❌, 🟡, or – when untested.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Allowed => "✅",
            Self::Denied => "❌",
            Self::Conditional => "🟡",
            Self::Untested => "–",
        }
    }
}

pub(super) fn matrix_problem(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Matrix, message)
}

/// What the requests of one cell gave.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) requests: usize,
    pub(super) allowed: usize,
    /// Denied with no forbid policy in the reasons: no permit applied.
    pub(super) default_denied: usize,
    pub(super) permits: BTreeSet<PolicyId>,
    pub(super) forbids: BTreeSet<PolicyId>,
    /// The distinct reason sets of allowed requests.
    pub(super) allowed_by: BTreeSet<Vec<PolicyId>>,
    /// The distinct reason sets of requests denied by forbid policies.
    pub(super) forbidden_by: BTreeSet<Vec<PolicyId>>,
    pub(super) errors: BTreeSet<String>,
}

impl Tally {
    pub(super) fn add(&mut self, answer: &Answer) {
        self.requests += 1;
        if answer.is_allowed() {
            self.allowed += 1;
            self.permits.extend(answer.reasons().iter().cloned());
            self.allowed_by.insert(answer.reasons().to_vec());
        } else if answer.reasons().is_empty() {
            self.default_denied += 1;
        } else {
            self.forbids.extend(answer.reasons().iter().cloned());
            self.forbidden_by.insert(answer.reasons().to_vec());
        }
        for error in answer.errors() {
            self.errors
                .insert(format!("{}: {}", error.policy, error.message));
        }
    }
}

impl Cell {
    /// The cell as the documents write it: the mark, and for a conditional
    /// cell the condition (`🟡 own resources only`).
    pub fn text(&self) -> String {
        match (&self.verdict, &self.condition) {
            (Verdict::Conditional, Some(condition)) => format!("🟡 {condition}"),
            (verdict, _) => verdict.mark().to_owned(),
        }
    }
}
