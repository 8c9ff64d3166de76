//! Two sides of a product compared: cells of their matrices, their
//! policies by id, their expectation files by path.

use super::model::{
    CellChange, ChangeKind, FileChange, FileChangeKind, PolicyChange, Presence, ProductDiff, State,
};
use crate::matrix::{Matrix, Verdict};
use crate::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// One side of a comparison: a loaded product, its matrix, and the root
/// its files' paths are relative to.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The product's snapshot.
    pub snapshot: &'a Snapshot,
    /// Its effective matrix.
    pub matrix: &'a Matrix,
    /// The store's root (to print paths relative to it).
    pub root: &'a Path,
}

/// What a cell says on one side.
#[derive(Debug, Clone)]
struct CellState {
    state: State,
    condition: Option<String>,
    policies: Vec<String>,
}

/// Cells by (role, resource type basename, action id), with the order each
/// role, type and action has in the matrix.
#[derive(Debug, Default)]
struct Cells {
    cells: HashMap<(String, String, String), CellState>,
    roles: Vec<String>,
    order: HashMap<(String, String), usize>,
}

fn basename(name: &str) -> &str {
    name.rsplit("::").next().unwrap_or(name)
}

impl Cells {
    fn of(matrix: &Matrix, rename: &HashMap<&str, &str>) -> Self {
        let mut cells = Cells::default();
        let name = |role: &str| rename.get(role).copied().unwrap_or(role).to_owned();
        cells.roles = matrix.roles.iter().map(|r| name(&r.id)).collect();
        for group in &matrix.groups {
            let ty = basename(&group.resource_type).to_owned();
            for row in &group.rows {
                let at = cells.order.len();
                cells
                    .order
                    .entry((ty.clone(), row.action_id.clone()))
                    .or_insert(at);
                for cell in &row.cells {
                    let state = match cell.verdict {
                        Verdict::Allowed => State::Allow,
                        Verdict::Denied => State::Deny,
                        Verdict::Conditional => State::Conditional,
                        Verdict::Untested => State::Absent,
                    };
                    let policies = cell.permits.iter().chain(&cell.forbids).cloned().collect();
                    cells.cells.insert(
                        (name(&cell.role), ty.clone(), row.action_id.clone()),
                        CellState {
                            state,
                            condition: cell.condition.clone(),
                            policies,
                        },
                    );
                }
            }
        }
        cells
    }
}

/// Compares a product's base with its new version; either may be missing
/// (a product added or removed). `role_map` pairs base roles with new ones
/// (`accountant` → `finance`); roles of the same name pair by themselves.
pub fn compare_products(
    base: Option<Side<'_>>,
    new: Option<Side<'_>>,
    base_product: &str,
    product: &str,
    role_map: &[(String, String)],
) -> ProductDiff {
    let rename: HashMap<&str, &str> = role_map
        .iter()
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();
    let before = base.map_or_else(Cells::default, |side| Cells::of(side.matrix, &rename));
    let after = new.map_or_else(Cells::default, |side| {
        Cells::of(side.matrix, &HashMap::new())
    });
    let presence = match (base.is_some(), new.is_some()) {
        (false, true) => Presence::Added,
        (true, false) => Presence::Removed,
        _ => Presence::Compared,
    };
    let roles_before: BTreeSet<&String> = before.roles.iter().collect();
    let roles_after: BTreeSet<&String> = after.roles.iter().collect();
    let (actions_before, actions_after) = (actions(base), actions(new));
    ProductDiff {
        product: product.to_owned(),
        base_product: base_product.to_owned(),
        presence,
        changes: cell_changes(&before, &after),
        roles_only_in_base: roles_before
            .difference(&roles_after)
            .map(|r| (*r).clone())
            .collect(),
        roles_only_in_new: roles_after
            .difference(&roles_before)
            .map(|r| (*r).clone())
            .collect(),
        actions_only_in_base: actions_before.difference(&actions_after).cloned().collect(),
        actions_only_in_new: actions_after.difference(&actions_before).cloned().collect(),
        role_map: role_map.to_vec(),
        policies: policy_changes(base, new),
        expectations: expectation_changes(base, new),
        proof: None,
        locations: policies(base)
            .into_iter()
            .chain(policies(new))
            .filter_map(|(id, (_, at))| Some((id, at?)))
            .collect(),
    }
}

fn actions(side: Option<Side<'_>>) -> BTreeSet<String> {
    side.and_then(|side| side.snapshot.schema())
        .map(|schema| {
            schema
                .actions()
                .map(|a| a.id().unescaped().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A condition's alternatives (`A or B`, `except when A or B`), in any
/// order: policies written in another order give the same condition.
fn alternatives(condition: Option<&str>) -> (bool, BTreeSet<&str>) {
    let text = condition.unwrap_or_default();
    let (except, rest) = match text.strip_prefix("except when ") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    (except, rest.split(" or ").collect())
}

/// Every cell whose state or condition differs, by role (new roles in
/// order, then roles only the base has), widening first.
fn cell_changes(before: &Cells, after: &Cells) -> Vec<CellChange> {
    let absent = CellState {
        state: State::Absent,
        condition: None,
        policies: Vec::new(),
    };
    let keys: BTreeSet<&(String, String, String)> =
        before.cells.keys().chain(after.cells.keys()).collect();
    let mut changes: Vec<(usize, usize, CellChange)> = Vec::new();
    for key in keys {
        let old = before.cells.get(key).unwrap_or(&absent);
        let new = after.cells.get(key).unwrap_or(&absent);
        let same_condition = old.state != State::Conditional
            || alternatives(old.condition.as_deref()) == alternatives(new.condition.as_deref());
        let grants_nothing = |state: State| matches!(state, State::Absent | State::Deny);
        if (old.state == new.state && same_condition)
            || (grants_nothing(old.state) && grants_nothing(new.state))
        {
            continue;
        }
        let (role, ty, action) = key;
        let role_at = after
            .roles
            .iter()
            .chain(&before.roles)
            .position(|r| r == role)
            .unwrap_or(usize::MAX);
        let cell_key = (ty.clone(), action.clone());
        let at = after
            .order
            .get(&cell_key)
            .or_else(|| before.order.get(&cell_key))
            .copied()
            .unwrap_or(usize::MAX);
        changes.push((
            role_at,
            at,
            CellChange {
                role: role.clone(),
                action: action.clone(),
                resource_type: ty.clone(),
                before: old.state,
                after: new.state,
                kind: ChangeKind::of(old.state, new.state),
                condition_before: old.condition.clone(),
                condition_after: new.condition.clone(),
                policies_before: old.policies.clone(),
                policies_after: new.policies.clone(),
            },
        ));
    }
    changes.sort_by_key(|(role_at, at, change)| (*role_at, change.kind, *at));
    changes.into_iter().map(|(_, _, change)| change).collect()
}

/// `path` relative to `base` when it lies under it (both resolved first:
/// one may be written `./x`, the other absolute), else as given.
fn relative(path: &Path, base: &Path) -> String {
    let resolve = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    resolve(path)
        .strip_prefix(resolve(base))
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// Where a policy is written, as `path:line` relative to the side's root.
fn place(side: Side<'_>, id: &cedar_policy::PolicyId) -> Option<String> {
    let location = side.snapshot.policy_location(id)?;
    Some(format!(
        "{}:{}",
        relative(&location.file, side.root),
        location.line
    ))
}

/// Each policy of a side by id, as Cedar's JSON form (whitespace,
/// comments and order do not count).
fn policies(side: Option<Side<'_>>) -> BTreeMap<String, (serde_json::Value, Option<String>)> {
    let Some(side) = side else {
        return BTreeMap::new();
    };
    side.snapshot
        .policies()
        .policies()
        .map(|policy| {
            let json = policy.to_json().unwrap_or(serde_json::Value::Null);
            (policy.id().to_string(), (json, place(side, policy.id())))
        })
        .collect()
}

fn policy_changes(base: Option<Side<'_>>, new: Option<Side<'_>>) -> Vec<PolicyChange> {
    let (before, after) = (policies(base), policies(new));
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    ids.into_iter()
        .filter_map(|id| {
            let (old, new) = (before.get(id), after.get(id));
            let change = match (old, new) {
                (Some(_), None) => FileChangeKind::Removed,
                (None, Some(_)) => FileChangeKind::Added,
                (Some((a, _)), Some((b, _))) if a != b => FileChangeKind::Changed,
                _ => return None,
            };
            Some(PolicyChange {
                id: id.clone(),
                change,
                before: old.and_then(|(_, at)| at.clone()),
                after: new.and_then(|(_, at)| at.clone()),
            })
        })
        .collect()
}

/// Each expectation file of a side by its path in the product's folder,
/// with its content.
fn expectation_files(side: Option<Side<'_>>) -> BTreeMap<String, Vec<u8>> {
    let Some(side) = side else {
        return BTreeMap::new();
    };
    let Some(files) = side.snapshot.files() else {
        return BTreeMap::new();
    };
    let product_dir = side
        .root
        .join("policies")
        .join(side.snapshot.product().unwrap_or_default());
    files
        .expectations
        .iter()
        .map(|(path, _)| {
            // the paths are the root joined with each file's place
            (
                relative(path, &product_dir),
                std::fs::read(path).unwrap_or_default(),
            )
        })
        .collect()
}

fn expectation_changes(base: Option<Side<'_>>, new: Option<Side<'_>>) -> Vec<FileChange> {
    let (before, after) = (expectation_files(base), expectation_files(new));
    let paths: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let change = match (before.get(path), after.get(path)) {
                (Some(_), None) => FileChangeKind::Removed,
                (None, Some(_)) => FileChangeKind::Added,
                (Some(a), Some(b)) if a != b => FileChangeKind::Changed,
                _ => return None,
            };
            Some(FileChange {
                path: path.clone(),
                change,
            })
        })
        .collect()
}
