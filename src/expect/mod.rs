//! Expectations: what a product's policies must decide, and the runner that
//! checks them.
//!
//! A product's expectation files live next to its policies:
//!
//! - `*.test.yaml`: rolegrid's format, with matrix rows (an action, a resource
//!   type or a named fixture resource, and the roles expecting allow; every
//!   other role expects deny) and cases (one explicit request each);
//! - `*.test.json`: Cedar's own test format, the JSON `cedar run-tests --tests`
//!   reads (`[{name, request, entities, decision, reason, num_errors}]`).
//!
//! Loading ([`Suite::load`]) turns every row, case and Cedar test into an
//! [`Item`] holding the concrete requests ([`Check`]s) it stands for, each
//! with its expected decision; malformed files are [`Problem`]s of kind
//! [`ProblemKind::Expectation`] pointing at
//! the file, line and column. Running ([`run`]) asks a [`Decider`] (a
//! [`Snapshot`], as services do) for each request and compares.
//!
//! ```
//! use rolegrid::{LoadOptions, SourceFile, Sources, build_snapshot};
//! use rolegrid::expect::{RunOptions, Suite, run};
//!
//! let sources = Sources {
//!     schema: Some(SourceFile::new("s.cedarschema",
//!         "namespace App { entity Role; entity User in [Role]; entity Doc;
//!          action view appliesTo { principal: User, resource: Doc }; }")),
//!     policies: vec![SourceFile::new("p.cedar",
//!         r#"@id("readers") permit(principal in App::Role::"reader", action, resource);"#)],
//!     entities: vec![(SourceFile::new("f.entities.yaml", r#"
//! - {uid: {type: App::Role, id: reader}}
//! - {uid: {type: App::Role, id: guest}}
//! - {uid: {type: App::User, id: rita}, parents: [{type: App::Role, id: reader}]}
//! - {uid: {type: App::User, id: gus}, parents: [{type: App::Role, id: guest}]}
//! - {uid: {type: App::Doc, id: d1}}
//! "#), rolegrid::FileKind::EntitiesYaml)],
//! };
//! let snapshot = build_snapshot(&sources, Some("app"), &LoadOptions::default())?;
//! let tests = SourceFile::new("matrix.test.yaml", "
//! matrix:
//!   - action: view
//!     resource: Doc
//!     allow: [reader]
//! ");
//! let suite = Suite::load(&snapshot, &[(tests, rolegrid::FileKind::ExpectationsYaml)])?;
//! assert_eq!(suite.check_count(), 2); // rita (reader) and gus (guest) on d1
//! let outcome = run(&suite, &snapshot, &RunOptions::default());
//! assert_eq!(outcome.failed(), 0);
//! # Ok::<(), rolegrid::Problems>(())
//! ```

mod cedar;
mod fixture;
mod runner;
mod yaml;

pub use fixture::{Fixture, short_uid};
pub use runner::{CheckOutcome, Decider, ItemOutcome, Mismatch, RunOptions, RunOutcome, run};

use crate::diagnostics::{Location, Problem, ProblemKind, Problems, SourceFile};
use crate::files::FileKind;
use crate::limits::Limits;
use crate::snapshot::Snapshot;
use cedar_policy::{Decision, Entities, EntityUid, Request};
use std::path::PathBuf;
use std::sync::Arc;

/// What an [`Item`] was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ItemKind {
    /// A row of a `matrix:` list (expected decision per role).
    Row,
    /// An entry of a `cases:` list (one explicit request).
    Case,
    /// A test of a Cedar `*.test.json` file.
    CedarTest,
}

impl ItemKind {
    /// The stable kebab-case name: `row`, `case`, `cedar-test`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Row => "row",
            Self::Case => "case",
            Self::CedarTest => "cedar-test",
        }
    }
}

/// One matrix row, case or Cedar test as written, with the requests it stands for.
#[derive(Debug, Clone)]
pub struct Item {
    /// Row, case or Cedar test.
    pub kind: ItemKind,
    /// Where it was written (the start of the row, case or test).
    pub location: Location,
    /// The case's or test's name; for rows, a label such as `viewMedia on File`.
    pub name: String,
    /// The `source:` quote, if any.
    pub source: Option<String>,
    /// The concrete requests and their expected answers.
    pub checks: Vec<Check>,
}

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
    request: Request,
    entities: Option<Arc<Entities>>,
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

/// Every expectation of one product, loaded and expanded into requests.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    /// The expectation files read, in order.
    pub files: Vec<PathBuf>,
    /// The rows, cases and Cedar tests, in file order.
    pub items: Vec<Item>,
    /// The product's roles (ids of the fixture's `<NS>::Role` entities), in fixture order.
    pub roles: Vec<String>,
    /// The product's namespace (from the schema), `""` when none.
    pub namespace: String,
    /// The fixture's role users (holding exactly one role directly) with
    /// their role, in fixture order.
    pub role_users: Vec<(cedar_policy::EntityUid, String)>,
}

impl Suite {
    /// Reads and loads the expectation files of a product snapshot (the files
    /// its store listed; none for snapshots built from explicit files).
    pub fn load_product(snapshot: &Snapshot) -> Result<Self, Problems> {
        let limits = Limits::default();
        let mut problems = Problems::new();
        let mut files = Vec::new();
        if let Some(product_files) = snapshot.files() {
            for (path, kind) in &product_files.expectations {
                match crate::files::read_source(path, &limits) {
                    Ok(file) => files.push((file, *kind)),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Self::load(snapshot, &files)
    }

    /// Loads expectation files (rolegrid YAML or Cedar JSON tests) against a
    /// snapshot, reporting every problem found in any of them.
    pub fn load(snapshot: &Snapshot, files: &[(SourceFile, FileKind)]) -> Result<Self, Problems> {
        let fixture = Fixture::new(snapshot);
        let mut suite = Suite {
            files: files.iter().map(|(f, _)| f.path().to_path_buf()).collect(),
            items: Vec::new(),
            roles: fixture.roles().to_vec(),
            namespace: fixture.namespace().to_owned(),
            role_users: fixture.role_users().to_vec(),
        };
        let mut problems = Problems::new();
        // each file on its own, on every core, then in the files' order
        let loaded = crate::parallel::par_map(
            files,
            |(file, _)| file.text().len(),
            |(file, kind)| match kind {
                FileKind::CedarTests => cedar::load(snapshot, &fixture, file),
                _ => yaml::load(snapshot, &fixture, file),
            },
        );
        for loaded in loaded {
            match loaded {
                Ok(items) => suite.items.extend(items),
                Err(more) => problems.extend(more),
            }
        }
        problems.into_result(suite)
    }

    /// How many concrete requests the suite checks.
    pub fn check_count(&self) -> usize {
        self.items.iter().map(|i| i.checks.len()).sum()
    }

    /// How many items of a kind the suite holds.
    pub fn count(&self, kind: ItemKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
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
