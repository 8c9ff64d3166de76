//! Why a request got its answer: for every policy, whether each part of its
//! scope matched and what its condition gave, every fact computed by
//! Cedar's own authorizer on that policy alone (its scope, one part of its
//! scope, or the whole policy), never by re-implementing Cedar's semantics.
//! The decision, reasons and errors stay those of [`Snapshot::authorize`].
//!
//! ```
//! use rolegrid::{LoadOptions, Store};
//! let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
//! let request = snapshot.request(
//!     r#"Fireworks::User::"ivan-inference""#,
//!     r#"Fireworks::Action::"create""#,
//!     r#"Fireworks::Model::"new-model-ivan""#,
//!     None,
//! )?;
//! let explanation = rolegrid::explain::explain(&snapshot, &request, snapshot.entities());
//! assert!(!explanation.answer.is_allowed());
//! // the permits that came closest: their scope or condition is what failed
//! assert!(!explanation.closest_permits().is_empty());
//! # Ok::<(), rolegrid::Problems>(())
//! ```

use crate::answer::Answer;
use crate::diagnostics::Location;
use crate::snapshot::Snapshot;
use cedar_policy::{Authorizer, Effect, Entities, Policy, PolicySet, Request};
use serde::Serialize;

/// What a policy's condition gave for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "error")]
pub enum Condition {
    /// The scope did not match: the condition was not evaluated.
    NotEvaluated,
    /// True: the policy applies (it is a determining policy).
    True,
    /// False.
    False,
    /// Evaluating it failed (Cedar then ignores the policy), with Cedar's message.
    Error(String),
}

/// Which parts of a policy's scope matched the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScopeMatch {
    /// The principal constraint.
    pub principal: bool,
    /// The action constraint.
    pub action: bool,
    /// The resource constraint.
    pub resource: bool,
}

impl ScopeMatch {
    /// Whether the whole scope matched.
    pub fn all(&self) -> bool {
        self.principal && self.action && self.resource
    }

    /// How many of the three parts matched.
    pub fn count(&self) -> usize {
        usize::from(self.principal) + usize::from(self.action) + usize::from(self.resource)
    }
}

/// One policy's part in an answer.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyTrace {
    /// The policy id.
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: &'static str,
    /// Where it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Which parts of its scope matched.
    pub scope: ScopeMatch,
    /// What its condition gave.
    pub condition: Condition,
}

impl PolicyTrace {
    /// How near the policy came to applying: the scope parts that matched,
    /// plus one for a condition that was evaluated.
    fn nearness(&self) -> usize {
        self.scope.count() + usize::from(self.condition != Condition::NotEvaluated)
    }
}

/// An answer with every policy's part in it. Its JSON form is the
/// answer's (`decision`, `reasons`, `errors`) followed by `policies` (each
/// trace) and `closest_permits` (their ids).
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The answer, exactly [`Snapshot::authorize_with`]'s.
    pub answer: Answer,
    /// Every policy, in the snapshot's order.
    pub policies: Vec<PolicyTrace>,
}

/// Permits listed as closest to applying, at most.
const CLOSEST: usize = 3;

impl Explanation {
    /// The permits that did not apply, nearest first (scope parts matched,
    /// then a condition evaluated), at most three; none when the request is
    /// allowed.
    pub fn closest_permits(&self) -> Vec<&PolicyTrace> {
        if self.answer.is_allowed() {
            return Vec::new();
        }
        let mut permits: Vec<&PolicyTrace> = self
            .policies
            .iter()
            .filter(|p| p.effect == "permit" && p.condition != Condition::True)
            .collect();
        permits.sort_by_key(|p| std::cmp::Reverse(p.nearness()));
        permits.truncate(CLOSEST);
        permits
    }
}

impl Serialize for Explanation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(flatten)]
            answer: &'a Answer,
            policies: &'a [PolicyTrace],
            closest_permits: Vec<&'a str>,
        }
        Json {
            answer: &self.answer,
            policies: &self.policies,
            closest_permits: self
                .closest_permits()
                .into_iter()
                .map(|p| p.id.as_str())
                .collect(),
        }
        .serialize(serializer)
    }
}

impl PolicyTrace {
    /// What the trace says, in words: `applies`, `scope matches; condition
    /// false`, `scope does not match: principal, resource`, ...
    pub fn summary(&self) -> String {
        match &self.condition {
            Condition::True => "applies".to_owned(),
            Condition::False => "scope matches; condition false".to_owned(),
            Condition::Error(message) => format!("scope matches; condition error: {message}"),
            Condition::NotEvaluated => {
                let parts: Vec<&str> = [
                    (self.scope.principal, "principal"),
                    (self.scope.action, "action"),
                    (self.scope.resource, "resource"),
                ]
                .into_iter()
                .filter(|(matched, _)| !matched)
                .map(|(_, name)| name)
                .collect();
                format!("scope does not match: {}", parts.join(", "))
            }
        }
    }
}

/// Explains the answer to `request` against `entities`.
pub fn explain(snapshot: &Snapshot, request: &Request, entities: &Entities) -> Explanation {
    let policies = snapshot
        .policies()
        .policies()
        .map(|policy| trace(snapshot, policy, request, entities))
        .collect();
    Explanation {
        answer: snapshot.authorize_with(request, entities),
        policies,
    }
}

/// One policy's trace.
fn trace(
    snapshot: &Snapshot,
    policy: &Policy,
    request: &Request,
    entities: &Entities,
) -> PolicyTrace {
    let part = |keep: [bool; 3]| scope_part(policy, keep).map(|p| applies(&p, request, entities));
    let scope = ScopeMatch {
        principal: part([true, false, false]).is_some_and(|r| r == Applies::Yes),
        action: part([false, true, false]).is_some_and(|r| r == Applies::Yes),
        resource: part([false, false, true]).is_some_and(|r| r == Applies::Yes),
    };
    let condition = if scope.all() {
        match applies(policy, request, entities) {
            Applies::Yes => Condition::True,
            Applies::No => Condition::False,
            Applies::Error(message) => Condition::Error(message),
        }
    } else {
        Condition::NotEvaluated
    };
    PolicyTrace {
        id: policy.id().to_string(),
        effect: match policy.effect() {
            Effect::Permit => "permit",
            Effect::Forbid => "forbid",
        },
        location: snapshot.policy_location(policy.id()),
        scope,
        condition,
    }
}

/// Whether a policy alone applies to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Applies {
    Yes,
    No,
    Error(String),
}

/// Asks Cedar whether `policy` alone applies: it is a determining policy of
/// the answer of a set holding only it.
fn applies(policy: &Policy, request: &Request, entities: &Entities) -> Applies {
    let Ok(set) = PolicySet::from_policies([policy.clone()]) else {
        return Applies::No;
    };
    let response = Authorizer::new().is_authorized(request, &set, entities);
    let diagnostics = response.diagnostics();
    if let Some(error) = diagnostics.errors().next() {
        let cedar_policy::AuthorizationError::PolicyEvaluationError(e) = error;
        return Applies::Error(e.inner().to_string());
    }
    if diagnostics.reason().next().is_some() {
        Applies::Yes
    } else {
        Applies::No
    }
}

/// The policy with the scope parts not kept made `All` and no condition:
/// it applies exactly when the kept parts of the scope match.
fn scope_part(policy: &Policy, keep: [bool; 3]) -> Option<Policy> {
    let mut json = policy.to_json().ok()?;
    let object = json.as_object_mut()?;
    for (name, kept) in ["principal", "action", "resource"].into_iter().zip(keep) {
        if !kept {
            object.insert(name.to_owned(), serde_json::json!({"op": "All"}));
        }
    }
    object.insert("conditions".to_owned(), serde_json::json!([]));
    Policy::from_json(Some(policy.id().clone()), json).ok()
}
