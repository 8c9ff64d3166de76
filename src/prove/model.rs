//! What `prove` found for a product: one result per check, each proved,
//! refuted (with counterexamples the concrete authorizer confirms), unknown
//! (never taken as proved) or skipped (with why).

use super::invariants::Must;
use serde::Serialize;
use std::time::Duration;

/// What a check asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// An invariant of `invariants/<product>/`.
    Invariant,
    /// A policy never errors on a request and entities the schema allows.
    NeverErrors,
    /// A principal holding none of the product's roles is denied everything.
    DenyByDefault,
    /// Removing a policy changes some decision.
    NotRedundant,
    /// A policy matches some request.
    NotDead,
}

impl CheckKind {
    /// How the kind is written in reports.
    pub fn word(self) -> &'static str {
        match self {
            CheckKind::Invariant => "invariant",
            CheckKind::NeverErrors => "never-errors",
            CheckKind::DenyByDefault => "deny-by-default",
            CheckKind::NotRedundant => "not-redundant",
            CheckKind::NotDead => "not-dead",
        }
    }
}

/// What the solver found for a check over every request environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It holds for every request and entity store the schema allows.
    Proved,
    /// It does not hold (see the counterexamples or the reason).
    Refuted,
    /// The solver gave no answer (a time-out or a failure).
    Unknown,
    /// Not asked (see the reason).
    Skipped,
}

impl Status {
    /// How the status is written in reports.
    pub fn word(self) -> &'static str {
        match self {
            Status::Proved => "proved",
            Status::Refuted => "refuted",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
        }
    }
}

/// How much a refuted check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Refuted: `prove` fails.
    Error,
    /// Refuted: reported, `prove` does not fail (redundant or dead policies).
    Warning,
}

/// A request the solver gave, as text: uids as Cedar writes them, the
/// context as Cedar JSON.
#[derive(Debug, Clone, Serialize)]
pub struct RequestText {
    /// The principal.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The context.
    pub context: serde_json::Value,
}

impl RequestText {
    /// The text of `request` (empty uids and a null context where unknown).
    pub(crate) fn of(request: &cedar_policy::Request) -> Self {
        let uid = |uid: Option<&cedar_policy::EntityUid>| {
            uid.map(ToString::to_string).unwrap_or_default()
        };
        Self {
            principal: uid(request.principal()),
            action: uid(request.action()),
            resource: uid(request.resource()),
            context: request
                .context()
                .and_then(|context| context.to_json_value().ok())
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A request and the entities it needs on which a check fails, decided by
/// the concrete authorizer.
#[derive(Debug, Clone, Serialize)]
pub struct Witness {
    /// The request.
    #[serde(flatten)]
    pub request: RequestText,
    /// The entities it needs besides the schema's actions and those the
    /// product's fixture holds as they are (Cedar JSON).
    pub entities: serde_json::Value,
    /// The product's decision.
    pub decision: &'static str,
    /// The decision the check asks for.
    pub expected: &'static str,
    /// The errors the policy checked gives on it (never-errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Whether the concrete authorizer decides it as the solver says.
    pub confirmed: bool,
}

impl Witness {
    /// The witness as an expectation case to paste under `cases:` (a YAML
    /// flow mapping, which is JSON), asking for what the check asks.
    pub fn case_text(&self, name: &str) -> String {
        let mut case = serde_json::json!({
            "name": name,
            "principal": self.request.principal,
            "action": self.request.action,
            "resource": self.request.resource,
            "context": self.request.context,
            "entities": self.entities,
            "decision": self.expected,
        });
        if !self.errors.is_empty()
            && let Some(case) = case.as_object_mut()
        {
            case.insert("errors".to_owned(), serde_json::json!(0));
        }
        case.to_string()
    }
}

/// One check's result over every request environment.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// What it asks.
    pub kind: CheckKind,
    /// The invariant's id or the policy's id (empty for deny-by-default).
    pub subject: String,
    /// An invariant's `@must`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub must: Option<Must>,
    /// How much a refutation matters.
    pub severity: Severity,
    /// What was found.
    pub status: Status,
    /// Why it is refuted without a counterexample, unknown or skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Requests on which it fails, one per request environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counterexamples: Vec<Witness>,
    /// The file it is about (the invariant's or the policy's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line it starts on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl CheckResult {
    /// Whether it makes `prove` fail: an error refuted, or anything unknown.
    pub fn fails(&self) -> bool {
        match self.status {
            Status::Proved | Status::Skipped => false,
            Status::Unknown => true,
            Status::Refuted => self.severity == Severity::Error,
        }
    }

    /// A name for reports: `invariant tenant-isolation (never)`.
    pub fn title(&self) -> String {
        match (self.kind, self.must) {
            (CheckKind::Invariant, Some(must)) => {
                format!("invariant {} ({})", self.subject, must.word())
            }
            (CheckKind::DenyByDefault, _) => "deny by default".to_owned(),
            (kind, _) => format!("{} {}", kind.word(), self.subject),
        }
    }
}

/// Everything `prove` found for one product.
#[derive(Debug, Clone, Serialize)]
pub struct ProductProof {
    /// The product.
    pub product: String,
    /// Whether nothing failed (see [`CheckResult::fails`]).
    pub passed: bool,
    /// The schema's request environments (principal type, action, resource type).
    pub environments: usize,
    /// Queries asked (those the compiler settles alone included).
    pub queries: usize,
    /// Wall-clock time of the product's proof.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Time spent in queries, summed over threads.
    #[serde(rename = "query_time_ms", serialize_with = "millis")]
    pub query_time: Duration,
    /// Every check, invariants first in file order, then the built-in ones.
    pub checks: Vec<CheckResult>,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

impl ProductProof {
    /// Results of one status.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Warnings: refuted checks of warning severity.
    pub fn warnings(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Refuted && c.severity == Severity::Warning)
            .count()
    }
}
