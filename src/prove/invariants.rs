//! A product's invariants: Cedar policies in `invariants/<product>/**/*.cedar`
//! (outside `policies/`, never loaded as policies), each a `permit` with an
//! `@id` and a `@must` saying what it asserts about the product's policies.

use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::limits::Limits;
use crate::origin::PolicyOrigin;
use cedar_policy::{Effect, Policy, PolicyId, PolicySet, Schema};
use serde::Serialize;
use std::path::Path;

/// What an invariant asserts about the requests it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Must {
    /// The product allows none of the requests it matches.
    Never,
    /// Of the requests its scope covers, the product allows only those it
    /// matches (its scope names actions and entity types only).
    Within,
    /// The product allows every request it matches.
    Always,
}

impl Must {
    /// The annotation's value.
    pub fn word(self) -> &'static str {
        match self {
            Must::Never => "never",
            Must::Within => "within",
            Must::Always => "always",
        }
    }

    fn of(word: &str) -> Option<Self> {
        [Must::Never, Must::Within, Must::Always]
            .into_iter()
            .find(|must| must.word() == word)
    }
}

/// One invariant, read and validated against the product's schema.
#[derive(Debug, Clone)]
pub struct Invariant {
    /// Its `@id`.
    pub id: String,
    /// Its `@must`.
    pub must: Must,
    /// The policy.
    pub policy: Policy,
    /// Where it was written.
    pub origin: PolicyOrigin,
}

impl Invariant {
    /// A set of just this policy.
    pub(crate) fn as_set(&self) -> PolicySet {
        PolicySet::from_policies([self.policy.clone()]).unwrap_or_default()
    }

    /// The policy without its conditions: the requests its scope covers.
    pub(crate) fn scope(&self) -> Option<PolicySet> {
        let mut json = self.policy.to_json().ok()?;
        json.as_object_mut()?
            .insert("conditions".to_owned(), serde_json::json!([]));
        let scope = Policy::from_json(Some(PolicyId::new(&self.id)), json).ok()?;
        PolicySet::from_policies([scope]).ok()
    }
}

/// The folder of a product's invariants in a store.
pub fn invariants_folder(root: &Path, product: &str) -> std::path::PathBuf {
    root.join("invariants").join(product)
}

/// Reads `invariants/<product>/` of the store at `root` (no folder: none).
pub fn read_invariants(
    root: &Path,
    product: &str,
    schema: &Schema,
    limits: &Limits,
) -> Result<Vec<Invariant>, Problems> {
    let folder = invariants_folder(root, product);
    let (set, origins) = crate::store::read_policy_folder(&folder, schema, limits)?;
    let mut problems = Problems::new();
    let mut invariants = Vec::new();
    let mut placed: Vec<(&PolicyOrigin, &Policy)> = set
        .policies()
        .filter_map(|policy| origins.get(policy.id()).map(|origin| (origin, policy)))
        .collect();
    placed.sort_by(|(a, _), (b, _)| {
        (a.file.path(), a.span.start).cmp(&(b.file.path(), b.span.start))
    });
    for (origin, policy) in placed {
        match invariant(policy, origin) {
            Ok(invariant) => invariants.push(invariant),
            Err(problem) => problems.push(problem),
        }
    }
    problems.into_result(invariants)
}

fn invariant(policy: &Policy, origin: &PolicyOrigin) -> Result<Invariant, Problem> {
    let located = |message: String, help: &str| {
        Problem::new(ProblemKind::PolicyValidation, message)
            .in_file(&origin.file)
            .at(origin.span.clone(), "this invariant")
            .with_help(help.to_owned())
    };
    const MUST_HELP: &str = "@must(\"never\"): the product allows none of the requests it matches; @must(\"within\"): of the requests its scope covers, the product allows only those it matches; @must(\"always\"): the product allows every request it matches";
    let id = policy.id().to_string();
    if policy.effect() != Effect::Permit {
        return Err(located(
            format!("invariant `{id}` is a forbid"),
            "an invariant is a `permit` matching the requests it is about; @must says what holds for them",
        ));
    }
    let must = match policy.annotation("must") {
        None => {
            return Err(located(
                format!("invariant `{id}` has no @must annotation"),
                MUST_HELP,
            ));
        }
        Some(word) => Must::of(word).ok_or_else(|| {
            located(
                format!("invariant `{id}`: @must(\"{word}\") is not never, within or always"),
                MUST_HELP,
            )
        })?,
    };
    if must == Must::Within && !scope_names_types_only(policy) {
        return Err(located(
            format!("invariant `{id}` is `within` and its scope names entities"),
            "a `within` invariant's scope names actions and entity types only (`principal is T`, `action in [...]`); write `principal in ...` in its `when` condition",
        ));
    }
    Ok(Invariant {
        id,
        must,
        policy: policy.clone(),
        origin: origin.clone(),
    })
}

/// Whether the principal and resource scopes are `All` or `is T`.
fn scope_names_types_only(policy: &Policy) -> bool {
    let Ok(json) = policy.to_json() else {
        return false;
    };
    ["principal", "resource"].iter().all(|var| {
        let constraint = json.get(*var);
        match constraint
            .and_then(|c| c.get("op"))
            .and_then(|op| op.as_str())
        {
            Some("All") => true,
            Some("is") => constraint.and_then(|c| c.get("in")).is_none(),
            _ => false,
        }
    })
}
