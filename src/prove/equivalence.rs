//! Two policy sets compared over every request and entity store the schema
//! allows, one request environment (principal type, action, resource type)
//! at a time, with cedar-policy-symcc: equivalent, or which way they
//! differ, with counterexamples the concrete authorizer confirms.

use super::pool::{self, Worker};
use super::solver::Solver;
use cedar_policy::{Authorizer, Decision, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::{CompiledPolicySet, Env};
use serde::Serialize;

/// What the proof found for one request environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The two sets decide every request alike.
    Equivalent,
    /// The new set allows some request the base denied (and no less).
    Widens,
    /// The new set denies some request the base allowed (and no more).
    Narrows,
    /// Both.
    WidensAndNarrows,
    /// The solver gave no answer (a time-out): never taken as equivalent.
    Unknown,
    /// Not compared (a reason is given).
    Skipped,
}

/// A request the two sets decide differently, with the entities it needs,
/// written as an expectation case.
#[derive(Debug, Clone, Serialize)]
pub struct Counterexample {
    /// `widen` (the new set allows it) or `narrow` (it denies it).
    pub direction: &'static str,
    /// The principal, as Cedar writes a uid.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The context (Cedar JSON).
    pub context: serde_json::Value,
    /// The entities the request needs (Cedar JSON).
    pub entities: serde_json::Value,
    /// The base's decision and the new one, from the concrete authorizer.
    pub before: &'static str,
    /// The new set's decision.
    pub after: &'static str,
    /// Whether the concrete authorizer decides it as the proof says.
    pub confirmed: bool,
}

/// The proof for one request environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvProof {
    /// The principal type.
    pub principal_type: String,
    /// The action.
    pub action: String,
    /// The resource type.
    pub resource_type: String,
    /// What was found.
    pub outcome: Outcome,
    /// Why it was skipped or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One counterexample per direction that differs.
    pub counterexamples: Vec<Counterexample>,
}

pub(super) fn word(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    }
}

/// A counterexample the solver gave, decided by both sets concretely.
fn counterexample(
    env: &Env,
    before: &PolicySet,
    after: &PolicySet,
    direction: &'static str,
) -> Counterexample {
    let authorizer = Authorizer::new();
    let old = authorizer
        .is_authorized(&env.request, before, &env.entities)
        .decision();
    let new = authorizer
        .is_authorized(&env.request, after, &env.entities)
        .decision();
    let expected = if direction == "widen" {
        (Decision::Deny, Decision::Allow)
    } else {
        (Decision::Allow, Decision::Deny)
    };
    Counterexample {
        direction,
        principal: uid_text(env.request.principal()),
        action: uid_text(env.request.action()),
        resource: uid_text(env.request.resource()),
        context: env
            .request
            .context()
            .and_then(|context| context.to_json_value().ok())
            .unwrap_or(serde_json::Value::Null),
        entities: entities_needed(&env.entities),
        before: word(old),
        after: word(new),
        confirmed: (old, new) == expected,
    }
}

/// A request's uid as Cedar writes it (empty when unknown).
pub(super) fn uid_text(uid: Option<&cedar_policy::EntityUid>) -> String {
    uid.map(ToString::to_string).unwrap_or_default()
}

/// The entities a counterexample needs, without the schema's actions
/// (every store has those).
pub(super) fn entities_needed(entities: &cedar_policy::Entities) -> serde_json::Value {
    serde_json::Value::Array(
        entities
            .iter()
            .filter(|entity| entity.uid().type_name().basename() != "Action")
            .filter_map(|entity| entity.to_json_value().ok())
            .collect(),
    )
}

/// The skeleton of an environment's proof.
fn proof_of(env: &RequestEnv, outcome: Outcome, reason: Option<String>) -> EnvProof {
    EnvProof {
        principal_type: env.principal().to_string(),
        action: env.action().to_string(),
        resource_type: env.resource().to_string(),
        outcome,
        reason,
        counterexamples: Vec::new(),
    }
}

/// Proves one environment on `worker`'s solver.
fn prove_env(
    worker: &mut Worker<'_>,
    env: &RequestEnv,
    schema: &Schema,
    before: &PolicySet,
    after: &PolicySet,
) -> EnvProof {
    let compile = |set: &PolicySet, side: &str| {
        CompiledPolicySet::compile(set, env, schema)
            .map_err(|e| format!("the {side} policies: {e}"))
    };
    let (old, new) = match (compile(before, "base's"), compile(after, "new")) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(why), _) | (_, Err(why)) => return proof_of(env, Outcome::Skipped, Some(why)),
    };
    let (narrow, widen) = match (worker.implies(&old, &new), worker.implies(&new, &old)) {
        (Ok(narrow), Ok(widen)) => (narrow, widen),
        (Err(e), _) | (_, Err(e)) => return proof_of(env, Outcome::Unknown, Some(e)),
    };
    let outcome = match (&widen, &narrow) {
        (None, None) => Outcome::Equivalent,
        (Some(_), None) => Outcome::Widens,
        (None, Some(_)) => Outcome::Narrows,
        (Some(_), Some(_)) => Outcome::WidensAndNarrows,
    };
    let mut proof = proof_of(env, outcome, None);
    proof
        .counterexamples
        .extend(widen.map(|cex| counterexample(&cex, before, after, "widen")));
    proof
        .counterexamples
        .extend(narrow.map(|cex| counterexample(&cex, before, after, "narrow")));
    proof
}

/// Proves every request environment of `schema` for the two sets, on
/// `threads` threads each with its own solver process.
pub fn prove_equivalence(
    solver: &Solver,
    schema: &Schema,
    before: &PolicySet,
    after: &PolicySet,
    timeout_ms: u64,
    threads: usize,
) -> Vec<EnvProof> {
    let envs: Vec<RequestEnv> = schema.request_envs().collect();
    pool::run(
        solver,
        timeout_ms,
        threads,
        &envs,
        |worker, env| prove_env(worker, env, schema, before, after),
        |env, why| proof_of(env, Outcome::Unknown, Some(why.to_owned())),
    )
    .results
}
