//! A product proved: its invariants and the built-in checks, asked in every
//! request environment of its schema (independent: spread over a pool of
//! solver processes), then each check's answers combined.

use super::equivalence::{entities_needed, word};
use super::invariants::{Invariant, Must};
use super::model::{CheckKind, CheckResult, ProductProof, RequestText, Severity, Status, Witness};
use super::pool::{self, SolverPool, Worker};
use crate::diagnostics::{Problem, ProblemKind};
use crate::snapshot::Snapshot;
use cedar_policy::{Authorizer, Decision, Effect, Policy, PolicyId, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::{CompiledPolicy, CompiledPolicySet, Env, SymEnv};
use std::time::Instant;

/// Counterexamples kept per check (one per request environment).
const WITNESSES_KEPT: usize = 5;

/// What one request environment says about one check.
enum Verdict {
    /// It holds here (for not-dead and not-redundant: the policy matters here).
    Holds,
    /// It fails here, with a request when the solver gave one.
    Fails(Option<Box<Witness>>),
    /// The solver gave no answer.
    Unknown(String),
    /// The check is not about this environment.
    Outside,
}

/// An invariant (or deny by default) ready to ask.
struct Claim {
    must: Must,
    set: PolicySet,
    /// `within`: the requests its scope covers.
    scope: Option<PolicySet>,
}

/// Everything asked in each environment, in report order.
struct Questions<'a> {
    schema: &'a Schema,
    /// The product's own entities (a witness leaves out those it shares).
    fixture: &'a cedar_policy::Entities,
    product: &'a PolicySet,
    claims: Vec<Claim>,
    /// The product's policies, in file order.
    members: Vec<&'a Policy>,
}

/// `permit` matching every request whose principal holds none of `roles`
/// (none without roles).
fn deny_by_default(roles: &[cedar_policy::EntityUid]) -> Option<PolicySet> {
    if roles.is_empty() {
        return None;
    }
    let held: Vec<String> = roles
        .iter()
        .map(|role| format!("principal in {role}"))
        .collect();
    let text = format!(
        "permit (principal, action, resource) unless {{ {} }};",
        held.join(" || ")
    );
    let policy = Policy::parse(Some(PolicyId::new("deny-by-default")), text).ok()?;
    PolicySet::from_policies([policy]).ok()
}

/// The entities a witness needs besides the schema's actions and those the
/// product's fixture holds as they are (a case pasted into the product's
/// expectations adds these to the fixture).
fn entities_beyond(
    env: &Env,
    sets: &[&PolicySet],
    fixture: &cedar_policy::Entities,
) -> serde_json::Value {
    let needed = entities_needed(env, sets);
    let serde_json::Value::Array(needed) = needed else {
        return needed;
    };
    let held = |entity: &serde_json::Value| {
        let uid = entity
            .get("uid")
            .and_then(|uid| cedar_policy::EntityUid::from_json(uid.clone()).ok());
        uid.and_then(|uid| fixture.get(&uid))
            .and_then(|own| own.to_json_value().ok())
            .is_some_and(|own| &own == entity)
    };
    serde_json::Value::Array(needed.into_iter().filter(|e| !held(e)).collect())
}

fn decide(env: &Env, set: &PolicySet) -> cedar_policy::Response {
    Authorizer::new().is_authorized(&env.request, set, &env.entities)
}

/// A request the solver gave, decided by the product and the claim.
fn claim_witness(env: &Env, questions: &Questions<'_>, claim: &Claim) -> Witness {
    let decision = decide(env, questions.product).decision();
    let matched = decide(env, &claim.set).decision() == Decision::Allow;
    let (confirmed, expected) = match claim.must {
        Must::Never => (decision == Decision::Allow && matched, "deny"),
        Must::Within => (decision == Decision::Allow && !matched, "deny"),
        Must::Always => (decision == Decision::Deny && matched, "allow"),
    };
    witness(
        env,
        &[questions.product, &claim.set],
        questions.fixture,
        decision,
        expected,
        Vec::new(),
        confirmed,
    )
}

/// A request on which `policy` errors, decided by the product.
fn error_witness(env: &Env, questions: &Questions<'_>, policy: &Policy) -> Witness {
    let decision = decide(env, questions.product).decision();
    let alone = PolicySet::from_policies([policy.clone()]).unwrap_or_default();
    let errors: Vec<String> = decide(env, &alone)
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    let confirmed = !errors.is_empty();
    witness(
        env,
        &[questions.product, &alone],
        questions.fixture,
        decision,
        word(decision),
        errors,
        confirmed,
    )
}

fn witness(
    env: &Env,
    sets: &[&PolicySet],
    fixture: &cedar_policy::Entities,
    decision: Decision,
    expected: &'static str,
    errors: Vec<String>,
    confirmed: bool,
) -> Witness {
    Witness {
        request: RequestText::of(&env.request),
        entities: entities_beyond(env, sets, fixture),
        decision: word(decision),
        expected,
        errors,
        confirmed,
    }
}

/// Compiles policies for one request environment, its symbolic
/// environment built once (what `compile` builds each time).
struct EnvCompiler<'a> {
    env: &'a RequestEnv,
    schema: &'a Schema,
    symenv: Result<SymEnv, String>,
}

impl<'a> EnvCompiler<'a> {
    fn new(env: &'a RequestEnv, schema: &'a Schema) -> Self {
        let symenv = SymEnv::new(schema, env).map_err(|e| format!("cannot compile: {e}"));
        Self {
            env,
            schema,
            symenv,
        }
    }

    fn policy(&self, policy: &Policy) -> Result<CompiledPolicy, String> {
        let symenv = self.symenv.clone()?;
        CompiledPolicy::compile_with_custom_symenv(policy, self.env, self.schema, symenv)
            .map_err(|e| format!("cannot compile: {e}"))
    }

    fn set(&self, set: &PolicySet) -> Result<CompiledPolicySet, String> {
        let symenv = self.symenv.clone()?;
        CompiledPolicySet::compile_with_custom_symenv(set, self.env, self.schema, symenv)
            .map_err(|e| format!("cannot compile: {e}"))
    }
}

/// A claim asked in one environment.
fn ask_claim(
    worker: &mut Worker<'_>,
    at: &EnvCompiler<'_>,
    product: &CompiledPolicySet,
    questions: &Questions<'_>,
    claim: &Claim,
) -> Verdict {
    if let Some(scope) = &claim.scope {
        let Some(policy) = scope.policies().next() else {
            return Verdict::Unknown("the invariant has no scope".to_owned());
        };
        match at.policy(policy).and_then(|c| worker.never_matches(&c)) {
            Ok(true) => return Verdict::Outside,
            Ok(false) => {}
            Err(why) => return Verdict::Unknown(why),
        }
    }
    let set = match at.set(&claim.set) {
        Ok(set) => set,
        Err(why) => return Verdict::Unknown(why),
    };
    let found = match claim.must {
        Must::Never => worker.overlap(product, &set),
        Must::Within => worker.implies(product, &set),
        Must::Always => worker.implies(&set, product),
    };
    match found {
        Ok(None) => Verdict::Holds,
        Ok(Some(cex)) => Verdict::Fails(Some(Box::new(claim_witness(&cex, questions, claim)))),
        Err(why) => Verdict::Unknown(why),
    }
}

/// A policy of the product in one environment: compiled, and whether it
/// never matches there.
struct Placed {
    compiled: Result<CompiledPolicy, String>,
    never_matches: pool::Answer<bool>,
}

/// Never-errors, not-dead and not-redundant for one policy in one
/// environment; `product` is compiled from `live`, the policies that can
/// match here (those that cannot decide nothing here).
fn ask_member(
    worker: &mut Worker<'_>,
    at: &EnvCompiler<'_>,
    (product, live): (&CompiledPolicySet, &[&Policy]),
    questions: &Questions<'_>,
    member: &Policy,
    placed: &Placed,
) -> [Verdict; 3] {
    let compiled = match &placed.compiled {
        Ok(compiled) => compiled,
        Err(why) => {
            return [
                Verdict::Unknown(why.clone()),
                Verdict::Unknown(why.clone()),
                Verdict::Unknown(why.clone()),
            ];
        }
    };
    let errors = match worker.errs(compiled) {
        Ok(None) => Verdict::Holds,
        Ok(Some(cex)) => Verdict::Fails(Some(Box::new(error_witness(&cex, questions, member)))),
        Err(why) => Verdict::Unknown(why),
    };
    let dead = match &placed.never_matches {
        Ok(true) => Verdict::Fails(None),
        Ok(false) => Verdict::Holds,
        Err(why) => Verdict::Unknown(why.clone()),
    };
    if matches!(placed.never_matches, Ok(true)) {
        return [errors, dead, Verdict::Outside];
    }
    let others = live
        .iter()
        .filter(|p| p.id() != member.id())
        .map(|p| (*p).clone());
    let others = PolicySet::from_policies(others).unwrap_or_default();
    let redundant = match at.set(&others) {
        Err(why) => Verdict::Unknown(why),
        // removing a permit can only take away, a forbid only grant
        Ok(others) => match match member.effect() {
            Effect::Permit => worker.implies_only(product, &others),
            Effect::Forbid => worker.implies_only(&others, product),
        } {
            Ok(true) => Verdict::Fails(None),
            Ok(false) => Verdict::Holds,
            Err(why) => Verdict::Unknown(why),
        },
    };
    [errors, dead, redundant]
}

/// Every check asked in one environment, in report order. The product is
/// compiled from the policies that can match in the environment: the same
/// decisions there, and each policy's "others" stay small.
fn ask_env(worker: &mut Worker<'_>, env: &RequestEnv, questions: &Questions<'_>) -> Vec<Verdict> {
    let count = questions.claims.len() + 3 * questions.members.len();
    let at = EnvCompiler::new(env, questions.schema);
    let placed: Vec<Placed> = questions
        .members
        .iter()
        .map(|member| {
            let compiled = at.policy(member);
            let never_matches = match &compiled {
                Ok(compiled) => worker.never_matches(compiled),
                Err(why) => Err(why.clone()),
            };
            Placed {
                compiled,
                never_matches,
            }
        })
        .collect();
    let live: Vec<&Policy> = questions
        .members
        .iter()
        .zip(&placed)
        .filter(|(_, placed)| !matches!(placed.never_matches, Ok(true)))
        .map(|(member, _)| *member)
        .collect();
    let set = PolicySet::from_policies(live.iter().map(|p| (*p).clone())).unwrap_or_default();
    let product = match at.set(&set) {
        Ok(product) => product,
        Err(why) => {
            return (0..count).map(|_| Verdict::Unknown(why.clone())).collect();
        }
    };
    let mut verdicts = Vec::with_capacity(count);
    for claim in &questions.claims {
        verdicts.push(ask_claim(worker, &at, &product, questions, claim));
    }
    for (member, placed) in questions.members.iter().zip(&placed) {
        verdicts.extend(ask_member(
            worker,
            &at,
            (&product, &live),
            questions,
            member,
            placed,
        ));
    }
    verdicts
}

/// A check before its answers: what it asks and where it was written.
struct Frame {
    kind: CheckKind,
    subject: String,
    must: Option<Must>,
    place: Option<(String, usize)>,
}

impl Frame {
    fn result(
        self,
        status: Status,
        reason: Option<String>,
        counterexamples: Vec<Witness>,
    ) -> CheckResult {
        let severity = match self.kind {
            CheckKind::NotDead | CheckKind::NotRedundant => Severity::Warning,
            _ => Severity::Error,
        };
        let (file, line) = self.place.map_or((None, None), |(f, l)| (Some(f), Some(l)));
        CheckResult {
            kind: self.kind,
            subject: self.subject,
            must: self.must,
            severity,
            status,
            reason,
            counterexamples,
            file,
            line,
        }
    }
}

/// One check's answers over every environment, combined.
fn combine(
    frame: Frame,
    verdicts: impl Iterator<Item = Verdict>,
    effect: Option<Effect>,
) -> CheckResult {
    let (mut holds, mut fails, mut inside) = (false, false, false);
    let mut unknown: Option<String> = None;
    let mut witnesses = Vec::new();
    for verdict in verdicts {
        match verdict {
            Verdict::Holds => (holds, inside) = (true, true),
            Verdict::Fails(witness) => {
                (fails, inside) = (true, true);
                if witnesses.len() < WITNESSES_KEPT {
                    witnesses.extend(witness.map(|w| *w));
                }
            }
            Verdict::Unknown(why) => {
                inside = true;
                unknown.get_or_insert(why);
            }
            Verdict::Outside => {}
        }
    }
    // not-dead and not-redundant hold as soon as one environment shows it
    let shown_by_one = matches!(frame.kind, CheckKind::NotDead | CheckKind::NotRedundant);
    if shown_by_one {
        return match (holds, unknown) {
            (true, _) => frame.result(Status::Proved, None, witnesses),
            (false, Some(why)) => frame.result(Status::Unknown, Some(why), witnesses),
            (false, None) => {
                let why = match (frame.kind, effect, inside) {
                    (CheckKind::NotDead, _, _) | (_, _, false) => {
                        "it matches no request the schema allows".to_owned()
                    }
                    (_, Some(Effect::Forbid), _) => "every request it denies, the other policies deny too: removing it changes no decision".to_owned(),
                    _ => "every request it allows, the other policies allow too: removing it changes no decision".to_owned(),
                };
                frame.result(Status::Refuted, Some(why), witnesses)
            }
        };
    }
    match (fails, unknown) {
        (true, _) => frame.result(Status::Refuted, None, witnesses),
        (false, Some(why)) => frame.result(Status::Unknown, Some(why), witnesses),
        (false, None) if !inside && frame.must == Some(Must::Within) => frame.result(
            Status::Proved,
            Some("its scope covers no request environment of the schema".to_owned()),
            witnesses,
        ),
        (false, None) => frame.result(Status::Proved, None, witnesses),
    }
}

fn place_of(origin: &crate::origin::PolicyOrigin) -> (String, usize) {
    let (line, _) = origin.file.line_col(origin.span.start);
    let path = origin.file.path();
    let path = path.strip_prefix(".").unwrap_or(path);
    (path.display().to_string(), line)
}

/// What a product's proof asks, and the checks it reports without asking.
struct Plan<'a> {
    questions: Questions<'a>,
    /// One frame per verdict `ask_env` gives, in its order, with the
    /// policy's effect for the built-in checks.
    frames: Vec<(Frame, Option<Effect>)>,
    /// Checks not asked (with why).
    skipped: Vec<CheckResult>,
}

fn frame(
    kind: CheckKind,
    subject: String,
    must: Option<Must>,
    place: Option<(String, usize)>,
) -> Frame {
    Frame {
        kind,
        subject,
        must,
        place,
    }
}

/// The invariants, deny by default (when the fixture has roles), then per
/// policy in file order never-errors, not-dead and not-redundant.
fn plan<'a>(snapshot: &'a Snapshot, schema: &'a Schema, invariants: &[Invariant]) -> Plan<'a> {
    let mut frames = Vec::new();
    let mut claims = Vec::new();
    let mut skipped = Vec::new();
    for invariant in invariants {
        let place = Some(place_of(&invariant.origin));
        let must = Some(invariant.must);
        frames.push((
            frame(CheckKind::Invariant, invariant.id.clone(), must, place),
            None,
        ));
        claims.push(Claim {
            must: invariant.must,
            set: invariant.as_set(),
            scope: (invariant.must == Must::Within)
                .then(|| invariant.scope())
                .flatten(),
        });
    }
    let no_role = frame(CheckKind::DenyByDefault, String::new(), None, None);
    match deny_by_default(snapshot.roles().roles()) {
        Some(set) => {
            frames.push((no_role, None));
            claims.push(Claim {
                must: Must::Never,
                set,
                scope: None,
            });
        }
        None => skipped.push(no_role.result(
            Status::Skipped,
            Some(
                "the product's fixture has no role entities (an entity type named Role)".to_owned(),
            ),
            Vec::new(),
        )),
    }
    let mut members: Vec<&Policy> = snapshot.policies().policies().collect();
    members.sort_by_key(|member| {
        snapshot
            .policy_origin(member.id())
            .map(|o| (o.file.path().to_path_buf(), o.span.start))
    });
    for member in &members {
        let place = snapshot.policy_origin(member.id()).map(place_of);
        for kind in [
            CheckKind::NeverErrors,
            CheckKind::NotDead,
            CheckKind::NotRedundant,
        ] {
            let subject = member.id().to_string();
            frames.push((
                frame(kind, subject, None, place.clone()),
                Some(member.effect()),
            ));
        }
    }
    Plan {
        questions: Questions {
            schema,
            fixture: snapshot.entities(),
            product: snapshot.policies(),
            claims,
            members,
        },
        frames,
        skipped,
    }
}

/// Proves a product's invariants and the built-in checks (never errors,
/// deny by default, not redundant, not dead) for every request and entity
/// store its schema allows.
pub fn prove_product(
    solvers: &mut SolverPool<'_>,
    snapshot: &Snapshot,
    invariants: &[Invariant],
) -> Result<ProductProof, Problem> {
    let started = Instant::now();
    let product = snapshot.product().unwrap_or_default().to_owned();
    let schema = snapshot.schema().ok_or_else(|| {
        Problem::new(
            ProblemKind::Usage,
            format!("product `{product}` has no schema: there is nothing to prove over"),
        )
    })?;
    let Plan {
        questions,
        frames,
        skipped,
    } = plan(snapshot, schema, invariants);
    let envs: Vec<RequestEnv> = schema.request_envs().collect();
    let pooled = solvers.run(
        &envs,
        |worker, env| ask_env(worker, env, &questions),
        |_, why| {
            let count = frames.len();
            (0..count)
                .map(|_| Verdict::Unknown(format!("the solver did not start: {why}")))
                .collect()
        },
    );
    let mut columns: Vec<std::vec::IntoIter<Verdict>> =
        pooled.results.into_iter().map(Vec::into_iter).collect();
    let mut checks: Vec<CheckResult> = frames
        .into_iter()
        .map(|(frame, effect)| {
            combine(frame, columns.iter_mut().filter_map(Iterator::next), effect)
        })
        .collect();
    checks.extend(skipped);
    let passed = !checks.iter().any(CheckResult::fails);
    Ok(ProductProof {
        product,
        passed,
        environments: envs.len(),
        queries: pooled.queries,
        duration: started.elapsed(),
        query_time: pooled.busy,
        checks,
    })
}
