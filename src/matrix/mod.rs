//! The effective permission matrix of a product: roles × (action, resource
//! type), computed by asking the snapshot itself, like the tables of the
//! products' documentation: ✅ allowed, ❌ denied, 🟡 allowed only under a
//! condition, spelled out.
//!
//! How a cell is computed (see also `README-matrix.md`):
//!
//! - **Roles** are the fixture entities of the schema's `Role` entity types,
//!   in fixture order.
//! - **Principals.** Every fixture principal belongs to a *tenant*: its
//!   ancestors that are not roles. For each role and each tenant, the matrix
//!   asks as every fixture user that holds exactly that role there; where a
//!   tenant has none, it synthesizes one (a copy of a user of that tenant,
//!   with only that role as its role). Tenants matter: user limits and plans
//!   are attributes of the tenant.
//! - **Rows** are the schema's actions, each with every resource type it
//!   applies to, grouped by resource type, in the schema's declaration order.
//! - **Samples.** A cell asks Cedar (through [`Snapshot::authorize_with`],
//!   the same call services use) about every fixture entity of the row's
//!   resource type that lies in the principal's tenant, with every context of
//!   a small set built from the action's context type (see *Context values*
//!   below).
//! - **Verdict.** All allowed: ✅. None: ❌. Some: 🟡, with the condition: the
//!   `@condition` annotations (else the `when`/`unless` clauses) of the permit
//!   policies that allowed (when some requests were denied for want of a
//!   permit) and of the forbid policies that denied ("except when ...").
//!
//! # Context values
//!
//! For each context attribute: a `String` takes the string literals that the
//! policies compare it with, plus every role id (or `""` if that is empty); a
//! `Long` the literals it is compared with, each also minus and plus one, and
//! `0`; a `Bool` both values; an entity the fixture entities of that type in
//! the principal's tenant (and the principal itself); a set the empty set; a
//! record the combinations of its attributes' values. An optional attribute
//! is also left out. At most [`MAX_CONTEXTS`] contexts per request are tried.
//!
//! ```no_run
//! use rolegrid::{LoadOptions, Store};
//! let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
//! let matrix = rolegrid::matrix::Matrix::build(&snapshot)?;
//! print!("{}", matrix.to_markdown());
//! # Ok::<(), rolegrid::Problems>(())
//! ```

mod condition;
mod render;
mod sample;
mod schema_info;

pub use condition::CONDITION_ANNOTATION;

use crate::answer::Answer;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::request::RequestSpec;
use crate::snapshot::Snapshot;
use cedar_policy::{EntityTypeName, EntityUid, PolicyId};
use sample::Sampler;
use schema_info::SchemaInfo;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many contexts are tried per principal, action and resource.
pub const MAX_CONTEXTS: usize = 64;

/// The effective permission matrix of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The version of this JSON shape (1).
    pub format_version: u32,
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

fn matrix_problem(message: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::Entity, message)
}

/// What the requests of one cell gave.
#[derive(Default)]
struct Tally {
    requests: usize,
    allowed: usize,
    /// Denied with no forbid policy in the reasons: no permit applied.
    default_denied: usize,
    permits: BTreeSet<PolicyId>,
    forbids: BTreeSet<PolicyId>,
    /// The distinct reason sets of allowed requests.
    allowed_by: BTreeSet<Vec<PolicyId>>,
    /// The distinct reason sets of requests denied by forbid policies.
    forbidden_by: BTreeSet<Vec<PolicyId>>,
    errors: BTreeSet<String>,
}

impl Tally {
    fn add(&mut self, answer: &Answer) {
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

impl Matrix {
    /// Computes the matrix of a loaded product by asking its snapshot.
    ///
    /// Fails when the snapshot has no schema, the schema no `Role` entity
    /// type, or the fixture no roles or no principals.
    pub fn build(snapshot: &Snapshot) -> Result<Self, Problems> {
        let schema = snapshot.schema().ok_or_else(|| {
            Problems::from(
                matrix_problem(
                    "the matrix needs a schema: it lists the actions and resource types",
                )
                .with_help("load a product (--product P), whose schema is schemas/P.cedarschema"),
            )
        })?;
        let info = snapshot
            .files()
            .and_then(|files| std::fs::read_to_string(&files.schema).ok())
            .map(|text| SchemaInfo::from_cedarschema(&text))
            .unwrap_or_default();
        let sampler = Sampler::new(snapshot, schema, &info)?;
        let product = snapshot.product().unwrap_or_default().to_owned();

        // rows: (action, resource type), grouped by resource type
        let mut actions: Vec<&EntityUid> = schema.actions().collect();
        actions.sort_by_key(|a| (info.action_position(a).unwrap_or(usize::MAX), a.to_string()));
        let mut group_order: Vec<EntityTypeName> = Vec::new();
        let mut group_rows: BTreeMap<String, Vec<&EntityUid>> = BTreeMap::new();
        for action in &actions {
            let Some(types) = schema.resources_for_action(action) else {
                continue;
            };
            let mut types: Vec<&EntityTypeName> = types.collect();
            types.sort_by_key(|t| {
                (
                    info.type_position(&t.to_string()).unwrap_or(usize::MAX),
                    t.to_string(),
                )
            });
            types.dedup();
            for ty in types {
                let rows = group_rows.entry(ty.to_string()).or_default();
                if rows.is_empty() {
                    group_order.push(ty.clone());
                }
                rows.push(action);
            }
        }

        let mut requests = 0;
        let mut notes = BTreeSet::new();
        let mut groups = Vec::new();
        for ty in &group_order {
            let mut rows = Vec::new();
            for action in group_rows.get(&ty.to_string()).into_iter().flatten() {
                let mut cells = Vec::new();
                for role in sampler.roles() {
                    let mut tally = Tally::default();
                    for sample in sampler.samples(role, action, ty, &mut notes) {
                        let spec = RequestSpec {
                            principal: sample.principal.clone(),
                            action: (*action).clone(),
                            resource: sample.resource.clone(),
                            context: Some(sample.context),
                        };
                        match spec.build(Some(schema)) {
                            Ok(request) => {
                                tally.add(&snapshot.authorize_with(&request, sampler.entities()));
                            }
                            Err(problem) => {
                                notes.insert(format!(
                                    "{action} on {ty}: a sampled request was not valid ({}); it was skipped",
                                    problem.message()
                                ));
                            }
                        }
                    }
                    requests += tally.requests;
                    cells.push(sampler.cell(role, tally));
                }
                rows.push(Row {
                    action: action.to_string(),
                    action_id: action.id().unescaped().to_owned(),
                    cells,
                });
            }
            groups.push(Group {
                resource_type: ty.to_string(),
                rows,
            });
        }

        Ok(Self {
            format_version: 1,
            product,
            roles: sampler.columns(),
            groups,
            requests,
            notes: notes.into_iter().collect(),
        })
    }

    /// The cell of a role (by id) for an action (by id) on a resource type
    /// (by basename, e.g. `Deployment`, or full name).
    ///
    /// ```no_run
    /// # let snapshot = rolegrid::Store::open(".")?.load("fireworks", &Default::default())?;
    /// let matrix = rolegrid::matrix::Matrix::build(&snapshot)?;
    /// let cell = matrix.cell("contributor", "update", "Deployment");
    /// assert_eq!(cell.and_then(|c| c.condition.as_deref()), Some("own resources only"));
    /// # Ok::<(), rolegrid::Problems>(())
    /// ```
    pub fn cell(&self, role: &str, action: &str, resource_type: &str) -> Option<&Cell> {
        let group = self.groups.iter().find(|g| {
            g.resource_type == resource_type
                || g.resource_type.rsplit("::").next() == Some(resource_type)
        })?;
        let row = group.rows.iter().find(|r| r.action_id == action)?;
        let index = self.roles.iter().position(|r| r.id == role)?;
        row.cells.get(index)
    }

    /// The stable JSON form (see `README-matrix.md` for its fields).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Markdown fit to paste into a product's documentation: a legend, then
    /// one table per resource type.
    pub fn to_markdown(&self) -> String {
        render::markdown(self)
    }

    /// A self-contained HTML page (inline CSS, no external assets).
    pub fn to_html(&self) -> String {
        render::html(self)
    }

    /// Terminal tables, wrapped to `width` columns.
    pub fn to_human(&self, width: u16) -> String {
        render::human(self, width)
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
