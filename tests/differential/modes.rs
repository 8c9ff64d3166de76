//! Every way of asking gives plain Cedar's answer: random stores (the
//! generator of [`crate::differential`]) asked through the library, the
//! command line one request at a time, a batch of request lines, and
//! `check` with expectation cases, each compared with cedar-policy's
//! `Authorizer::is_authorized` on the same store.
//!
//! Single and batch modes read the store's files in explicit mode with
//! positional ids (`--positional-ids --no-validate`), as plain Cedar parses
//! them. `check` reads them as a product (a schema is required there, and
//! policies are validated), each policy named `policy<N>` by `@id`; its
//! cases expect plain Cedar's decision, determining policies and error
//! count, and it must pass having checked every one of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;
use crate::differential::{Case, Outcome, case};
use cedar_policy::{
    Authorizer, Context, Entities, EntityUid, PolicySet, Request, Schema, ValidationMode, Validator,
};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestRunner};
use rolegrid::{FileKind, LoadOptions, PolicyIds, SourceFile, Sources, build_snapshot};
use std::path::Path;
use std::str::FromStr;

/// Plain cedar-policy over a case's store.
struct Plain {
    schema: Option<Schema>,
    policies: PolicySet,
    entities: Entities,
}

/// One request as text, and plain Cedar's answer (`None`: refused).
struct Asked {
    principal: String,
    action: String,
    resource: String,
    context: serde_json::Value,
    want: Option<Outcome>,
}

impl Plain {
    fn new(case: &Case) -> Self {
        let schema = case
            .schema
            .then(|| Schema::from_cedarschema_str(&case.schema_text()).unwrap().0);
        let policies = PolicySet::from_str(&case.policy_files().1).unwrap();
        let entities = Entities::from_json_value(
            serde_json::Value::Array(case.entities_json()),
            schema.as_ref(),
        )
        .unwrap();
        Self {
            schema,
            policies,
            entities,
        }
    }

    fn answer(
        &self,
        principal: &str,
        action: &str,
        resource: &str,
        context: &serde_json::Value,
    ) -> Option<Outcome> {
        let action = EntityUid::from_str(action).ok()?;
        let context =
            Context::from_json_value(context.clone(), self.schema.as_ref().map(|s| (s, &action)))
                .ok()?;
        let request = Request::new(
            EntityUid::from_str(principal).ok()?,
            action,
            EntityUid::from_str(resource).ok()?,
            context,
            self.schema.as_ref(),
        )
        .ok()?;
        let response = Authorizer::new().is_authorized(&request, &self.policies, &self.entities);
        Some(Outcome::of_response(&response))
    }

    fn holds(&self, uid: &str) -> bool {
        EntityUid::from_str(uid).is_ok_and(|uid| self.entities.get(&uid).is_some())
    }

    /// Whether a store may hold the policies: a schema, and Cedar's strict
    /// validator accepts them.
    fn validates(&self) -> bool {
        self.schema.as_ref().is_some_and(|schema| {
            Validator::new(schema.clone())
                .validate(&self.policies, ValidationMode::Strict)
                .validation_passed()
        })
    }
}

/// An answer of the command line in JSON (`None`: an error answer).
fn outcome_of_json(answer: &serde_json::Value) -> Option<Outcome> {
    if answer.get("error").is_some() {
        return None;
    }
    Some(Outcome {
        allow: answer["decision"] == "allow",
        reasons: answer["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect(),
        errors: answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["policy"].as_str().unwrap().to_owned(),
                    e["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    })
}

/// The explicit-mode arguments that read a case's files as plain Cedar does.
fn explicit_args(dir: &Path, schema: bool) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "authorize".into(),
        "--policies".into(),
        dir.join("p.cedar").display().to_string(),
        "--entities".into(),
        dir.join("e.entities.json").display().to_string(),
        "--positional-ids".into(),
        "--allow-warnings".into(),
        "--format".into(),
        "json".into(),
    ];
    if schema {
        args.push("--schema".into());
        args.push(dir.join("s.cedarschema").display().to_string());
        args.push("--no-validate".into());
    }
    args
}

/// Writes a case's files: explicit ones, and a product store when `store`.
fn write_case(case: &Case, dir: &Path, store: bool) {
    std::fs::write(dir.join("p.cedar"), case.policy_files().1).unwrap();
    let entities = serde_json::to_string_pretty(&case.entities_json()).unwrap();
    std::fs::write(dir.join("e.entities.json"), &entities).unwrap();
    if case.schema {
        std::fs::write(dir.join("s.cedarschema"), case.schema_text()).unwrap();
    }
    if store {
        let product = dir.join("store/policies/random");
        std::fs::create_dir_all(&product).unwrap();
        std::fs::create_dir_all(dir.join("store/schemas")).unwrap();
        std::fs::write(
            dir.join("store/schemas/random.cedarschema"),
            case.schema_text(),
        )
        .unwrap();
        std::fs::write(product.join("policies.cedar"), case.store_policy_text()).unwrap();
        std::fs::write(product.join("fixture.entities.json"), &entities).unwrap();
    }
}

/// The library's answers: the case's files as in-memory sources.
fn library_answers(case: &Case, asked: &[Asked]) -> Vec<Option<Outcome>> {
    let sources = Sources {
        schema: case
            .schema
            .then(|| SourceFile::new("s.cedarschema", case.schema_text())),
        policies: vec![SourceFile::new("p.cedar", case.policy_files().1)],
        entities: vec![(
            SourceFile::new(
                "e.entities.json",
                serde_json::to_string(&case.entities_json()).unwrap(),
            ),
            FileKind::EntitiesJson,
        )],
    };
    let options = LoadOptions {
        deny_warnings: false,
        validate_policies: false,
        policy_ids: PolicyIds::Positional,
        ..LoadOptions::default()
    };
    let snapshot = build_snapshot(&sources, None, &options).unwrap();
    asked
        .iter()
        .map(|a| {
            let request = snapshot
                .request(
                    &a.principal,
                    &a.action,
                    &a.resource,
                    Some(a.context.clone()),
                )
                .ok()?;
            Some(Outcome::of_answer(&snapshot.authorize(&request)))
        })
        .collect()
}

/// The answers of one `authorize --requests` batch.
fn batch_answers(dir: &Path, case: &Case, asked: &[Asked]) -> Vec<Option<Outcome>> {
    let lines: String = asked
        .iter()
        .map(|a| {
            serde_json::json!({
                "principal": a.principal, "action": a.action,
                "resource": a.resource, "context": a.context,
            })
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(dir.join("requests.jsonl"), lines).unwrap();
    let mut args = explicit_args(dir, case.schema);
    args.push("--requests".into());
    args.push(dir.join("requests.jsonl").display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::run_in(dir, &args, None);
    let answers: Vec<Option<Outcome>> = run
        .stdout
        .lines()
        .map(|line| outcome_of_json(&serde_json::from_str(line).unwrap()))
        .collect();
    assert_eq!(answers.len(), asked.len(), "batch answers: {}", run.stderr);
    answers
}

/// The answer of one single `authorize` (an error exits 2).
fn single_answer(dir: &Path, case: &Case, a: &Asked) -> Option<Outcome> {
    let mut args = explicit_args(dir, case.schema);
    let context = a.context.to_string();
    for (flag, value) in [
        ("--principal", &a.principal),
        ("--action", &a.action),
        ("--resource", &a.resource),
        ("--context", &context),
    ] {
        args.push(flag.into());
        args.push(value.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = common::run_in(dir, &args, None);
    match run.code {
        Some(0) => outcome_of_json(&serde_json::from_str(run.stdout.trim()).unwrap()),
        Some(2) => None,
        other => panic!("authorize exited {other:?}: {}", run.stderr),
    }
}

/// Runs `check` over cases expecting plain Cedar's answers to the requests
/// about entities the store holds; returns how many it checked.
fn check_passes(dir: &Path, plain: &Plain, asked: &[Asked]) -> usize {
    let cases: Vec<serde_json::Value> = asked
        .iter()
        .filter(|a| plain.holds(&a.principal) && plain.holds(&a.resource))
        .filter_map(|a| {
            let want = a.want.as_ref()?;
            Some(serde_json::json!({
                "principal": a.principal, "action": a.action, "resource": a.resource,
                "context": a.context,
                "decision": if want.allow { "allow" } else { "deny" },
                "reasons": want.reasons.iter().collect::<Vec<_>>(),
                "errors": want.errors.len(),
            }))
        })
        .collect();
    if cases.is_empty() {
        return 0;
    }
    // JSON is YAML: the cases as one flow document
    let tests = serde_json::json!({ "cases": cases }).to_string();
    std::fs::write(dir.join("store/policies/random/cases.test.yaml"), tests).unwrap();
    let run = common::run_in(
        &dir.join("store"),
        &[
            "check",
            "--allow-untested",
            "--allow-warnings",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(
        run.code,
        Some(0),
        "check disagrees with plain Cedar:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let checked = report["summary"]["expectations"].as_u64().unwrap();
    assert_eq!(checked as usize, cases.len(), "check skipped cases");
    cases.len()
}

/// How many requests each mode compared.
#[derive(Debug, Default)]
struct Compared {
    stores: usize,
    library: usize,
    batch: usize,
    single: usize,
    check: usize,
    checked_stores: usize,
}

/// Requests asked one at a time per store (each is a process).
const SINGLE_PER_STORE: usize = 3;

/// Requests over the store's own entities added per store (most random
/// requests name entities or actions the store does not hold, which
/// `check` cases refuse).
const HELD_PER_STORE: usize = 24;

/// Up to [`HELD_PER_STORE`] requests between entities the store holds, on
/// the schema's actions, with the case's contexts, spread evenly over all
/// such triples that plain Cedar accepts.
fn held_requests(case: &Case, plain: &Plain, contexts: &[serde_json::Value]) -> Vec<[String; 3]> {
    let (Some(schema), Some(_)) = (&plain.schema, contexts.first()) else {
        return Vec::new();
    };
    let uids: Vec<String> = case
        .entities_json()
        .iter()
        .map(|e| EntityUid::from_json(e["uid"].clone()).unwrap().to_string())
        .collect();
    let actions: Vec<String> = schema.actions().map(ToString::to_string).collect();
    let mut triples = Vec::new();
    for p in &uids {
        for a in &actions {
            for r in &uids {
                let context = &contexts[triples.len() % contexts.len()];
                if plain.answer(p, a, r, context).is_some() {
                    triples.push([p.clone(), a.clone(), r.clone()]);
                }
            }
        }
    }
    let step = (triples.len() / HELD_PER_STORE).max(1);
    triples
        .into_iter()
        .step_by(step)
        .take(HELD_PER_STORE)
        .collect()
}

/// The case's requests, then requests between held entities; each with
/// plain Cedar's answer.
fn asked_of(case: &Case, plain: &Plain) -> Vec<Asked> {
    let members = case.members();
    let mut texts: Vec<(String, String, String, serde_json::Value)> = case
        .requests
        .iter()
        .map(|r| case.request(r, &members))
        .collect();
    let contexts: Vec<serde_json::Value> = texts.iter().map(|t| t.3.clone()).collect();
    for (i, [p, a, r]) in held_requests(case, plain, &contexts)
        .into_iter()
        .enumerate()
    {
        let context = contexts[i % contexts.len()].clone();
        texts.push((p, a, r, context));
    }
    texts
        .into_iter()
        .map(|(principal, action, resource, context)| {
            let want = plain.answer(&principal, &action, &resource, &context);
            Asked {
                principal,
                action,
                resource,
                context,
                want,
            }
        })
        .collect()
}

fn compare_case(case: &Case, compared: &mut Compared) {
    let plain = Plain::new(case);
    let asked = asked_of(case, &plain);
    let dir = tempfile::tempdir().unwrap();
    let store = plain.validates();
    write_case(case, dir.path(), store);
    let describe = |a: &Asked| {
        format!(
            "{} {} {} {}\n--- policies\n{}",
            a.principal,
            a.action,
            a.resource,
            a.context,
            case.policy_files().1
        )
    };
    let library = library_answers(case, &asked);
    let batch = batch_answers(dir.path(), case, &asked);
    for ((a, lib), bat) in asked.iter().zip(&library).zip(&batch) {
        assert_eq!(lib, &a.want, "library: {}", describe(a));
        assert_eq!(bat, &a.want, "batch: {}", describe(a));
    }
    for a in asked.iter().take(SINGLE_PER_STORE) {
        let single = single_answer(dir.path(), case, a);
        assert_eq!(single, a.want, "single: {}", describe(a));
    }
    compared.stores += 1;
    compared.library += asked.len();
    compared.batch += asked.len();
    compared.single += asked.len().min(SINGLE_PER_STORE);
    if store {
        compared.check += check_passes(dir.path(), &plain, &asked);
        compared.checked_stores += 1;
    }
}

/// Random stores compared per run.
const STORES: usize = 64;

#[test]
fn every_mode_gives_plain_cedars_answer() {
    let config = Config {
        rng_seed: RngSeed::Fixed(0x6d6f_6465_7321),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = case(16);
    let mut compared = Compared::default();
    for _ in 0..STORES {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        compare_case(&case, &mut compared);
    }
    println!("every_mode_gives_plain_cedars_answer: {compared:?}");
    // every mode must meet many requests, `check` among them
    assert!(compared.checked_stores >= STORES / 8, "{compared:?}");
    assert!(compared.check >= 200, "{compared:?}");
    assert!(compared.single >= 150, "{compared:?}");
    assert!(compared.batch >= 1_000, "{compared:?}");
}
