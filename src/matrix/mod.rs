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
pub mod html;
mod model;
mod render;
mod sample;

pub use condition::CONDITION_ANNOTATION;
pub use model::{Cell, Group, MAX_CONTEXTS, Matrix, Principal, RoleColumn, Row, Verdict};

use crate::diagnostics::Problems;
use crate::request::RequestSpec;
use crate::schema_info::SchemaInfo;
use crate::snapshot::Snapshot;
use cedar_policy::{EntityTypeName, EntityUid, Schema};
use model::{Tally, matrix_problem};
use sample::Sampler;
use std::collections::BTreeSet;

/// The schema's (action, resource type) pairs as rows grouped by resource
/// type, types and actions in the schema's declaration order.
fn rows_by_type<'s>(
    schema: &'s Schema,
    info: &SchemaInfo,
) -> Vec<(EntityTypeName, Vec<&'s EntityUid>)> {
    let mut actions: Vec<&EntityUid> = schema.actions().collect();
    actions.sort_by_key(|a| (info.action_position(a).unwrap_or(usize::MAX), a.to_string()));
    let mut groups: Vec<(EntityTypeName, Vec<&EntityUid>)> = Vec::new();
    for action in actions {
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
            match groups.iter_mut().find(|(t, _)| t == ty) {
                Some((_, rows)) => rows.push(action),
                None => groups.push((ty.clone(), vec![action])),
            }
        }
    }
    groups
}

/// What the matrix asks its requests of.
struct Asked<'a> {
    snapshot: &'a Snapshot,
    schema: &'a Schema,
    sampler: &'a Sampler<'a>,
}

impl Asked<'_> {
    /// One row: a cell per role from the requests its samples make, and
    /// how many requests that took. A sampled request that does not fit
    /// the schema is skipped with a note.
    fn row(
        &self,
        action: &EntityUid,
        ty: &EntityTypeName,
        notes: &mut BTreeSet<String>,
    ) -> (Row, usize) {
        let mut requests = 0;
        let mut cells = Vec::new();
        for role in self.sampler.roles() {
            let mut tally = Tally::default();
            for sample in self.sampler.samples(role, action, ty, notes) {
                let spec = RequestSpec {
                    principal: sample.principal.clone(),
                    action: action.clone(),
                    resource: sample.resource.clone(),
                    context: Some(sample.context),
                };
                match spec.build(Some(self.schema)) {
                    Ok(request) => {
                        tally.add(
                            &self
                                .snapshot
                                .authorize_with(&request, self.sampler.entities()),
                        );
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
            cells.push(self.sampler.cell(role, tally));
        }
        let row = Row {
            action: action.to_string(),
            action_id: action.id().unescaped().to_owned(),
            cells,
        };
        (row, requests)
    }
}

impl Matrix {
    /// Computes the matrix of a loaded product by asking its snapshot.
    ///
    /// Fails when the snapshot has no schema, the schema no `Role` entity
    /// type, or the fixture no roles or no principals.
    ///
    /// ```
    /// use rolegrid::matrix::Matrix;
    /// use rolegrid::{LoadOptions, Store};
    /// let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
    /// let matrix = Matrix::build(&snapshot)?;
    /// assert!(matrix.to_markdown().contains("admin"));
    /// # Ok::<(), rolegrid::Problems>(())
    /// ```
    pub fn build(snapshot: &Snapshot) -> Result<Self, Problems> {
        let schema = snapshot.schema().ok_or_else(|| {
            Problems::from(
                matrix_problem(
                    "the matrix needs a schema: it lists the actions and resource types",
                )
                .with_help("load a product (--product P), whose schema is schemas/P.cedarschema"),
            )
        })?;
        let info = snapshot.schema_info();
        let sampler = Sampler::new(snapshot, schema, info)?;
        let product = snapshot.product().unwrap_or_default().to_owned();

        let mut requests = 0;
        let mut notes = BTreeSet::new();
        let mut groups = Vec::new();
        for (ty, actions) in rows_by_type(schema, info) {
            let rows = actions
                .into_iter()
                .map(|action| {
                    let asked = Asked {
                        snapshot,
                        schema,
                        sampler: &sampler,
                    };
                    let (row, asked_requests) = asked.row(action, &ty, &mut notes);
                    requests += asked_requests;
                    row
                })
                .collect();
            groups.push(Group {
                resource_type: ty.to_string(),
                rows,
            });
        }

        Ok(Self {
            version: crate::json::DOCUMENT_VERSION,
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

    /// A self-contained HTML page (inline CSS and SVG marks, no script, no
    /// external assets).
    pub fn to_html(&self) -> String {
        html::matrix_page(self)
    }

    /// Terminal tables, wrapped to `width` columns.
    pub fn to_human(&self, width: u16) -> String {
        render::human(self, width)
    }
}
