//! Two policy sets compared over every request and entity store the schema
//! allows, one request environment (principal type, action, resource type)
//! at a time, with cedar-policy-symcc: equivalent, or which way they
//! differ, with counterexamples the concrete authorizer confirms.

use super::model::RequestText;
use super::pool::{SolverPool, Worker};
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
    /// The request.
    #[serde(flatten)]
    pub request: RequestText,
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
        request: RequestText::of(&env.request),
        entities: entities_needed(env, &[before, after]),
        before: word(old),
        after: word(new),
        confirmed: (old, new) == expected,
    }
}

/// Every entity uid `value` (Cedar JSON) names: `__entity` references at
/// any depth, and the `{type, id}` items of a `parents` list.
fn named_uids(value: &serde_json::Value, out: &mut Vec<cedar_policy::EntityUid>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(uid) = map.get("__entity") {
                out.extend(cedar_policy::EntityUid::from_json(uid.clone()).ok());
            }
            if let Some(serde_json::Value::Array(parents)) = map.get("parents") {
                out.extend(
                    parents
                        .iter()
                        .filter_map(|p| cedar_policy::EntityUid::from_json(p.clone()).ok()),
                );
            }
            map.values().for_each(|v| named_uids(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| named_uids(v, out)),
        _ => {}
    }
}

/// The entities reachable from the request (its principal, resource and
/// context, then attributes and parents), with the schema's actions.
fn reachable(env: &Env) -> Option<cedar_policy::Entities> {
    let mut queue: Vec<cedar_policy::EntityUid> = [env.request.principal(), env.request.resource()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if let Some(context) = env.request.context().and_then(|c| c.to_json_value().ok()) {
        named_uids(&context, &mut queue);
    }
    let mut kept = std::collections::HashSet::new();
    while let Some(uid) = queue.pop() {
        if let Some(json) = env.entities.get(&uid).and_then(|e| e.to_json_value().ok())
            && kept.insert(uid)
        {
            named_uids(&json, &mut queue);
        }
    }
    let chosen = env
        .entities
        .iter()
        .filter(|e| kept.contains(&e.uid()) || e.uid().type_name().basename() == "Action")
        .cloned();
    cedar_policy::Entities::from_entities(chosen, None).ok()
}

/// The entities a counterexample needs, without the schema's actions
/// (every store has those): those reachable from the request when every
/// set in `sets` decides it alike with them as with all the solver's.
pub(super) fn entities_needed(env: &Env, sets: &[&PolicySet]) -> serde_json::Value {
    let authorizer = Authorizer::new();
    let outcome = |entities: &cedar_policy::Entities, set: &PolicySet| {
        let response = authorizer.is_authorized(&env.request, set, entities);
        (response.decision(), response.diagnostics().errors().count())
    };
    let reduced = reachable(env).filter(|reduced| {
        sets.iter()
            .all(|set| outcome(reduced, set) == outcome(&env.entities, set))
    });
    serde_json::Value::Array(
        reduced
            .as_ref()
            .unwrap_or(&env.entities)
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
    SolverPool::new(solver, timeout_ms, threads)
        .run(
            &envs,
            |worker, env| prove_env(worker, env, schema, before, after),
            |env, why| proof_of(env, Outcome::Unknown, Some(why.to_owned())),
        )
        .results
}
