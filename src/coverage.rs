//! Coverage per role and per policy, from the results of a run.
//!
//! A **cell** is one (role, action, resource type) triple the schema allows
//! (the action's `appliesTo` resource types), for every role of the fixture.
//! An expectation covers a cell when its principal holds exactly that one
//! role (matrix rows always do; cases and Cedar tests do when their principal
//! is a single-role user), and its action and resource type are the cell's.
//!
//! A covered cell is **allowed** when every answer in it is allow,
//! **denied** when every answer is deny, **conditional** when some are
//! allowed and some denied (it depends on the resource or the context).
//! Requests across tenants do not cover a cell: tenant isolation denies them
//! all, which says nothing of what the role may do in its own tenant (the
//! matrix's answer). They still count as expectations of the product.
//!
//! Per policy: how many expectations it was a determining policy of.

use crate::diagnostics::Location;
use crate::expect::{RunOutcome, Suite};
use crate::snapshot::Snapshot;
use cedar_policy::{Effect, EntityTypeName};
use std::collections::HashMap;

/// What a cell's answers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellState {
    /// Every answer is allow.
    Allowed,
    /// Every answer is deny.
    Denied,
    /// Some answers allow, some deny.
    Conditional,
    /// No expectation covers the cell.
    Uncovered,
}

impl CellState {
    /// `allowed`, `denied`, `conditional` or `uncovered`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Conditional => "conditional",
            Self::Uncovered => "uncovered",
        }
    }
}

/// One (role, action, resource type) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The action id (without namespace).
    pub action: String,
    /// The resource type (without namespace).
    pub resource_type: String,
    /// How many expectations cover it.
    pub expectations: usize,
    /// How many of the answers that classify it are allow.
    pub allowed: usize,
    /// How many of the answers that classify it are deny.
    pub denied: usize,
    /// What the answers say.
    pub state: CellState,
}

/// The cells of one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCoverage {
    /// The role id.
    pub role: String,
    /// Its role users (fixture users holding only this role), without namespace.
    pub users: Vec<String>,
    /// Every cell, in the schema's order (resource type, then action).
    pub cells: Vec<Cell>,
}

impl RoleCoverage {
    /// How many cells there are.
    pub fn total(&self) -> usize {
        self.cells.len()
    }

    /// How many cells at least one expectation covers.
    pub fn covered(&self) -> usize {
        self.count(|s| s != CellState::Uncovered)
    }

    /// How many cells are in a state.
    pub fn count(&self, pred: impl Fn(CellState) -> bool) -> usize {
        self.cells.iter().filter(|c| pred(c.state)).count()
    }

    /// Covered cells in percent (100 when there are no cells).
    pub fn percent(&self) -> f64 {
        percent(self.covered(), self.total())
    }

    /// The cells no expectation covers.
    pub fn uncovered(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|c| c.state == CellState::Uncovered)
    }
}

/// One policy and how many expectations it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCoverage {
    /// The policy id.
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: &'static str,
    /// Where it was written.
    pub location: Option<Location>,
    /// How many expectations it was a determining policy of.
    pub decided: usize,
}

/// Coverage of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The product.
    pub product: String,
    /// Its namespace.
    pub namespace: String,
    /// One entry per fixture role, in fixture order.
    pub roles: Vec<RoleCoverage>,
    /// Every policy, in file order.
    pub policies: Vec<PolicyCoverage>,
    /// How many expectations (checks) ran.
    pub expectations: usize,
}

/// `part / whole` in percent, rounded down to one decimal (100 for an empty whole).
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    let tenths = (part * 1000) / whole;
    // exact for any realistic count
    tenths as f64 / 10.0
}

impl Coverage {
    /// Computes coverage from a snapshot, its suite and a run of that suite.
    ///
    /// ```
    /// use rolegrid::coverage::Coverage;
    /// use rolegrid::expect::{RunOptions, Suite, run};
    /// use rolegrid::{LoadOptions, Store};
    /// let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
    /// let suite = Suite::load_product(&snapshot)?;
    /// let outcome = run(&suite, &snapshot, &RunOptions::default())?;
    /// let coverage = Coverage::compute(&snapshot, &suite, &outcome);
    /// assert!(coverage.roles.iter().any(|role| role.role == "admin"));
    /// # Ok::<(), rolegrid::Problems>(())
    /// ```
    pub fn compute(snapshot: &Snapshot, suite: &Suite, outcome: &RunOutcome) -> Self {
        // the suite read roles, role users and namespace from the fixture
        let ns = suite.namespace.as_str();
        let pairs = action_type_pairs(snapshot, ns);
        let (tallies, decided) = tally(outcome, ns);
        let roles = suite
            .roles
            .iter()
            .map(|role| role_coverage(suite, role, &pairs, &tallies))
            .collect();
        Self {
            product: snapshot.product().unwrap_or_default().to_owned(),
            namespace: ns.to_owned(),
            roles,
            policies: policy_coverage(snapshot, &decided),
            expectations: outcome.total(),
        }
    }

    /// Cells over all roles.
    pub fn total(&self) -> usize {
        self.roles.iter().map(RoleCoverage::total).sum()
    }

    /// Covered cells over all roles.
    pub fn covered(&self) -> usize {
        self.roles.iter().map(RoleCoverage::covered).sum()
    }

    /// Covered cells over all roles, in percent.
    pub fn percent(&self) -> f64 {
        percent(self.covered(), self.total())
    }

    /// The policies no expectation was decided by.
    pub fn undecided(&self) -> impl Iterator<Item = &PolicyCoverage> {
        self.policies.iter().filter(|p| p.decided == 0)
    }

    /// The stable JSON form (documented in the README, `coverage` object).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The `coverage` object of the JSON reports.
impl serde::Serialize for Coverage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CoverageJson::of(self).serialize(serializer)
    }
}

/// The `coverage` object's fields, in the order written.
#[derive(serde::Serialize)]
struct CoverageJson<'a> {
    product: &'a str,
    namespace: &'a str,
    expectations: usize,
    cells: usize,
    covered: usize,
    percent: f64,
    roles: Vec<RoleJson<'a>>,
    policies: Vec<PolicyJson<'a>>,
}

#[derive(serde::Serialize)]
struct RoleJson<'a> {
    role: &'a str,
    users: &'a [String],
    cells: usize,
    covered: usize,
    percent: f64,
    allowed: usize,
    denied: usize,
    conditional: usize,
    uncovered: Vec<CellPlace<'a>>,
    matrix: Vec<CellJson<'a>>,
}

#[derive(serde::Serialize)]
struct CellPlace<'a> {
    action: &'a str,
    resource_type: &'a str,
}

#[derive(serde::Serialize)]
struct CellJson<'a> {
    action: &'a str,
    resource_type: &'a str,
    state: &'static str,
    expectations: usize,
    allowed: usize,
    denied: usize,
}

#[derive(serde::Serialize)]
struct PolicyJson<'a> {
    id: &'a str,
    effect: &'a str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    decided: usize,
}

impl<'a> CoverageJson<'a> {
    fn of(coverage: &'a Coverage) -> Self {
        Self {
            product: &coverage.product,
            namespace: &coverage.namespace,
            expectations: coverage.expectations,
            cells: coverage.total(),
            covered: coverage.covered(),
            percent: coverage.percent(),
            roles: coverage.roles.iter().map(RoleJson::of).collect(),
            policies: coverage.policies.iter().map(PolicyJson::of).collect(),
        }
    }
}

impl<'a> RoleJson<'a> {
    fn of(r: &'a RoleCoverage) -> Self {
        Self {
            role: &r.role,
            users: &r.users,
            cells: r.total(),
            covered: r.covered(),
            percent: r.percent(),
            allowed: r.count(|s| s == CellState::Allowed),
            denied: r.count(|s| s == CellState::Denied),
            conditional: r.count(|s| s == CellState::Conditional),
            uncovered: r
                .uncovered()
                .map(|c| CellPlace {
                    action: &c.action,
                    resource_type: &c.resource_type,
                })
                .collect(),
            matrix: r
                .cells
                .iter()
                .map(|c| CellJson {
                    action: &c.action,
                    resource_type: &c.resource_type,
                    state: c.state.code(),
                    expectations: c.expectations,
                    allowed: c.allowed,
                    denied: c.denied,
                })
                .collect(),
        }
    }
}

impl<'a> PolicyJson<'a> {
    fn of(p: &'a PolicyCoverage) -> Self {
        Self {
            id: &p.id,
            effect: p.effect,
            file: p.location.as_ref().map(|l| l.file.display().to_string()),
            line: p.location.as_ref().map(|l| l.line),
            column: p.location.as_ref().map(|l| l.column),
            decided: p.decided,
        }
    }
}

/// `t` without the namespace prefix.
fn short_type(t: &EntityTypeName, ns: &str) -> String {
    let text = t.to_string();
    text.strip_prefix(&format!("{ns}::"))
        .map(str::to_owned)
        .unwrap_or(text)
}

/// The schema's (action id, short resource type) pairs, sorted.
fn action_type_pairs(snapshot: &Snapshot, ns: &str) -> Vec<(String, String)> {
    let info = snapshot.schema_info();
    let mut keyed: Vec<((usize, usize), (String, String))> = Vec::new();
    if let Some(schema) = snapshot.schema() {
        for action in schema.actions() {
            if let Some(types) = schema.resources_for_action(action) {
                for t in types {
                    let at = (
                        info.type_position(&t.to_string()).unwrap_or(usize::MAX),
                        info.action_position(action).unwrap_or(usize::MAX),
                    );
                    keyed.push((at, (action.id().unescaped().to_owned(), short_type(t, ns))));
                }
            }
        }
    }
    // the schema's order, as the matrix shows it: by resource type, then action
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| (&a.1.1, &a.1.0).cmp(&(&b.1.1, &b.1.0)))
    });
    keyed.dedup_by(|a, b| a.1 == b.1);
    keyed.into_iter().map(|(_, pair)| pair).collect()
}

/// What the checks of one (role, action, resource type) inside one tenant
/// gave: [allowed, denied].
#[derive(Default)]
struct Tally {
    inside: [usize; 2],
}

type Tallies = HashMap<(String, String, String), Tally>;

/// Each (role, action, resource type) cell's tally over the checks asked as
/// exactly one role, and how many answers each policy determined.
fn tally(outcome: &RunOutcome, ns: &str) -> (Tallies, HashMap<String, usize>) {
    let mut tallies: Tallies = HashMap::new();
    let exercised = outcome.exercised();
    for cell in &exercised.cells {
        let key = (
            cell.role.clone(),
            cell.action.id().unescaped().to_owned(),
            short_type(&cell.resource_type, ns),
        );
        let tally = tallies.entry(key).or_default();
        tally.inside[0] += cell.allowed;
        tally.inside[1] += cell.denied;
    }
    (tallies, exercised.determined)
}

/// One role's users and cells; a cell's state comes from its checks inside
/// one tenant (a cell with only cross-tenant checks is uncovered).
fn role_coverage(
    suite: &Suite,
    role: &str,
    pairs: &[(String, String)],
    tallies: &Tallies,
) -> RoleCoverage {
    let users = suite
        .role_users
        .iter()
        .filter(|(_, r)| r == role)
        .map(|(uid, _)| uid.id().unescaped().to_owned())
        .collect();
    let cells = pairs
        .iter()
        .map(|(action, resource_type)| {
            let key = (role.to_owned(), action.clone(), resource_type.clone());
            let [allowed, denied] = tallies.get(&key).map_or([0, 0], |t| t.inside);
            let count = allowed + denied;
            let state = match (count, allowed, denied) {
                (0, _, _) => CellState::Uncovered,
                (_, 0, _) => CellState::Denied,
                (_, _, 0) => CellState::Allowed,
                _ => CellState::Conditional,
            };
            Cell {
                action: action.clone(),
                resource_type: resource_type.clone(),
                expectations: count,
                allowed,
                denied,
                state,
            }
        })
        .collect();
    RoleCoverage {
        role: role.to_owned(),
        users,
        cells,
    }
}

/// Every policy and template with how many answers it determined, in file order.
fn policy_coverage(snapshot: &Snapshot, decided: &HashMap<String, usize>) -> Vec<PolicyCoverage> {
    let mut policies: Vec<PolicyCoverage> = snapshot
        .policies()
        .policies()
        .map(|p| (p.id(), p.effect()))
        .chain(
            snapshot
                .policies()
                .templates()
                .map(|t| (t.id(), t.effect())),
        )
        .map(|(id, effect)| PolicyCoverage {
            id: id.to_string(),
            effect: match effect {
                Effect::Permit => "permit",
                Effect::Forbid => "forbid",
            },
            location: snapshot.policy_location(id),
            decided: decided.get(AsRef::<str>::as_ref(id)).copied().unwrap_or(0),
        })
        .collect();
    policies.sort_by(|a, b| {
        let key = |p: &PolicyCoverage| {
            p.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    policies
}
