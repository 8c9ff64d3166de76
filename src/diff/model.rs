//! The change report: products, cells, policies and files that changed.

use serde::Serialize;

/// The version of the diff's JSON document.
pub const DIFF_VERSION: u32 = 1;

/// A whole comparison: one entry per product compared.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// [`DIFF_VERSION`].
    pub version: u32,
    /// What the base is (a folder or a git revision), as given.
    pub base: String,
    /// The products compared, in name order.
    pub products: Vec<ProductDiff>,
}

impl Diff {
    /// Whether any product changed at all.
    pub fn is_empty(&self) -> bool {
        self.products.iter().all(ProductDiff::is_empty)
    }

    /// Whether any cell widens (a role gains something), or the proof
    /// finds a request the new policies allow and the base denied.
    pub fn widens(&self) -> bool {
        use crate::prove::Outcome;
        self.products.iter().any(|p| {
            p.changes.iter().any(|c| c.kind == ChangeKind::Widen)
                || p.proofs()
                    .any(|e| matches!(e.outcome, Outcome::Widens | Outcome::WidensAndNarrows))
        })
    }

    /// Whether any cell narrows (a role loses something), or the proof
    /// finds a request the new policies deny and the base allowed.
    pub fn narrows(&self) -> bool {
        use crate::prove::Outcome;
        self.products.iter().any(|p| {
            p.changes.iter().any(|c| c.kind == ChangeKind::Narrow)
                || p.proofs()
                    .any(|e| matches!(e.outcome, Outcome::Narrows | Outcome::WidensAndNarrows))
        })
    }

    /// The JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// How a product appears in the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// On both sides.
    Compared,
    /// Only in the new version.
    Added,
    /// Only in the base.
    Removed,
}

/// One product compared.
#[derive(Debug, Clone, Serialize)]
pub struct ProductDiff {
    /// The product (new side).
    pub product: String,
    /// The base's product (the same name unless `--base-product`).
    pub base_product: String,
    /// Compared, added or removed.
    pub presence: Presence,
    /// Cells whose state changed, grouped by role, widening first.
    pub changes: Vec<CellChange>,
    /// Roles only the base has (after the role map), and only the new side.
    pub roles_only_in_base: Vec<String>,
    /// Roles only the new side has.
    pub roles_only_in_new: Vec<String>,
    /// Actions only the base declares, and only the new side.
    pub actions_only_in_base: Vec<String>,
    /// Actions only the new side declares.
    pub actions_only_in_new: Vec<String>,
    /// The role map applied (`base role` → `new role`).
    pub role_map: Vec<(String, String)>,
    /// Policies added, removed or changed (by id).
    pub policies: Vec<PolicyChange>,
    /// Expectation files added, removed or changed.
    pub expectations: Vec<FileChange>,
    /// The symbolic proof over every request the schema allows (`--prove`):
    /// one entry per request environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<Vec<crate::prove::EnvProof>>,
    /// Where each policy of either side is written (`path:line`), the new
    /// side's place first: for annotations.
    #[serde(skip)]
    pub locations: std::collections::BTreeMap<String, String>,
}

impl ProductDiff {
    /// The proof's environments (none without `--prove`).
    pub fn proofs(&self) -> impl Iterator<Item = &crate::prove::EnvProof> {
        self.proof.iter().flatten()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.presence == Presence::Compared
            && self.changes.is_empty()
            && self.policies.is_empty()
            && self.expectations.is_empty()
            && self.roles_only_in_base.is_empty()
            && self.roles_only_in_new.is_empty()
            && self.actions_only_in_base.is_empty()
            && self.actions_only_in_new.is_empty()
            && self
                .proofs()
                .all(|e| e.outcome == crate::prove::Outcome::Equivalent)
    }
}

/// The state of a cell on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The role, action or type is not in the model, or nothing to ask.
    Absent,
    /// Never allowed.
    Deny,
    /// Allowed for some requests.
    Conditional,
    /// Always allowed.
    Allow,
}

impl State {
    /// How much it grants: absent and deny grant nothing.
    fn grants(self) -> u8 {
        match self {
            State::Absent | State::Deny => 0,
            State::Conditional => 1,
            State::Allow => 2,
        }
    }

    /// The word the reports use.
    pub fn word(self) -> &'static str {
        match self {
            State::Absent => "absent",
            State::Deny => "deny",
            State::Conditional => "conditional",
            State::Allow => "allow",
        }
    }
}

/// Whether a change grants more, less, or something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The role gains something.
    Widen,
    /// The role loses something.
    Narrow,
    /// A different condition.
    Changed,
}

impl ChangeKind {
    /// The kind of a change from `before` to `after` (with conditions).
    pub fn of(before: State, after: State) -> Self {
        match after.grants().cmp(&before.grants()) {
            std::cmp::Ordering::Greater => ChangeKind::Widen,
            std::cmp::Ordering::Less => ChangeKind::Narrow,
            std::cmp::Ordering::Equal => ChangeKind::Changed,
        }
    }
}

/// One cell whose state changed.
#[derive(Debug, Clone, Serialize)]
pub struct CellChange {
    /// The role (its new name when the role map renames it).
    pub role: String,
    /// The action id.
    pub action: String,
    /// The resource type, without its namespace.
    pub resource_type: String,
    /// The state in the base.
    pub before: State,
    /// The state now.
    pub after: State,
    /// Widen, narrow or changed.
    pub kind: ChangeKind,
    /// The base's condition, for a conditional cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_before: Option<String>,
    /// The new condition, for a conditional cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_after: Option<String>,
    /// The policies that decided the cell in the base (permits, then forbids).
    pub policies_before: Vec<String>,
    /// The policies that decide it now.
    pub policies_after: Vec<String>,
}

/// A policy added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyChange {
    /// Its `@id`.
    pub id: String,
    /// Added, removed or changed.
    pub change: FileChangeKind,
    /// Where it was written in the base (`path:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Where it is written now (`path:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileChangeKind {
    /// Only the new side has it.
    Added,
    /// Only the base has it.
    Removed,
    /// Both, different.
    Changed,
}

/// An expectation file added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Its path in the product's folder.
    pub path: String,
    /// Added, removed or changed.
    pub change: FileChangeKind,
}
