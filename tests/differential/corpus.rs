//! Differential tests against Cedar's own integration tests
//! (`../shared/corpus/cedar-integration-tests/`, see its README).
//!
//! Each test file names a policy file, a schema, an entity file and requests
//! with the expected decision, reasons and erroring policies. rolegrid loads
//! the files in explicit mode (positional policy ids, warnings allowed,
//! policies validated only where the file says `shouldValidate: true`) and
//! must reproduce every expectation; plain cedar-policy, called directly, is
//! run beside it and must agree too.
//!
//! - `handwritten_tests`: the 22 handwritten files (74 requests), always run.
//! - `full_corpus` (ignored, opt-in): the 62,472 generated requests of
//!   `corpus-tests.tar.gz`, unpacked with `tar` to a temporary folder:
//!   `cargo test --release --test corpus -- --ignored --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Response, Schema,
};
use rolegrid::{LoadOptions, PolicyIds, RequestSpec, Snapshot, Sources, build_snapshot, parse_uid};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

fn corpus_dir() -> PathBuf {
    common::root().join("../shared/corpus/cedar-integration-tests")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestFile {
    policies: String,
    entities: String,
    schema: String,
    should_validate: bool,
    requests: Vec<TestRequest>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestRequest {
    description: String,
    principal: serde_json::Value,
    action: serde_json::Value,
    resource: serde_json::Value,
    #[serde(default)]
    context: serde_json::Value,
    #[serde(default = "yes")]
    validate_request: bool,
    decision: String,
    reason: Vec<String>,
    errors: Vec<String>,
}

/// A decision as the test files write it: `allow`/`deny`, reasons and the
/// erroring policies, as sets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    decision: String,
    reasons: BTreeSet<String>,
    errors: BTreeSet<String>,
}

impl Outcome {
    fn expected(request: &TestRequest) -> Self {
        Self {
            decision: request.decision.to_lowercase(),
            reasons: request.reason.iter().cloned().collect(),
            errors: request.errors.iter().cloned().collect(),
        }
    }

    fn of_answer(answer: &rolegrid::Answer) -> Self {
        Self {
            decision: if answer.is_allowed() { "allow" } else { "deny" }.to_owned(),
            reasons: answer.reasons().iter().map(ToString::to_string).collect(),
            errors: answer.errors().iter().map(|e| e.policy.clone()).collect(),
        }
    }

    fn of_response(response: &Response) -> Self {
        Self {
            decision: match response.decision() {
                Decision::Allow => "allow",
                Decision::Deny => "deny",
            }
            .to_owned(),
            reasons: response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect(),
            errors: response
                .diagnostics()
                .errors()
                .map(
                    |cedar_policy::AuthorizationError::PolicyEvaluationError(e)| {
                        e.policy_id().to_string()
                    },
                )
                .collect(),
        }
    }
}

/// What running one test file gave.
#[derive(Debug, Default)]
struct Tally {
    files: usize,
    requests: usize,
    /// rolegrid reproduced the expectation.
    rolegrid_ok: usize,
    /// plain cedar-policy reproduced the expectation.
    cedar_ok: usize,
    /// files rolegrid refused to load (each costs all its requests)
    rolegrid_load_failures: usize,
    /// requests rolegrid refused to build
    rolegrid_request_failures: usize,
    mismatches: Vec<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.files += other.files;
        self.requests += other.requests;
        self.rolegrid_ok += other.rolegrid_ok;
        self.cedar_ok += other.cedar_ok;
        self.rolegrid_load_failures += other.rolegrid_load_failures;
        self.rolegrid_request_failures += other.rolegrid_request_failures;
        self.mismatches.extend(other.mismatches);
    }

    fn summary(&self) -> String {
        format!(
            "{} files, {} requests: rolegrid reproduced {}, plain cedar-policy {}; rolegrid load failures {} (files), request failures {}; mismatches {}",
            self.files,
            self.requests,
            self.rolegrid_ok,
            self.cedar_ok,
            self.rolegrid_load_failures,
            self.rolegrid_request_failures,
            self.mismatches.len()
        )
    }
}

/// Plain cedar-policy, as the integration tests' harness calls it.
struct Plain {
    schema: Schema,
    policies: PolicySet,
    entities: Entities,
}

impl Plain {
    fn load(base: &Path, test: &TestFile) -> Result<Self, String> {
        let schema_text =
            std::fs::read_to_string(base.join(&test.schema)).map_err(|e| e.to_string())?;
        let (schema, _) = Schema::from_cedarschema_str(&schema_text).map_err(|e| e.to_string())?;
        let policy_text =
            std::fs::read_to_string(base.join(&test.policies)).map_err(|e| e.to_string())?;
        let policies = PolicySet::from_str(&policy_text).map_err(|e| e.to_string())?;
        let entity_text =
            std::fs::read_to_string(base.join(&test.entities)).map_err(|e| e.to_string())?;
        let entities =
            Entities::from_json_str(&entity_text, Some(&schema)).map_err(|e| e.to_string())?;
        Ok(Self {
            schema,
            policies,
            entities,
        })
    }

    fn decide(&self, request: &TestRequest) -> Result<Outcome, String> {
        let uid =
            |v: &serde_json::Value| EntityUid::from_json(v.clone()).map_err(|e| e.to_string());
        let principal = uid(&request.principal)?;
        let action = uid(&request.action)?;
        let resource = uid(&request.resource)?;
        let context =
            Context::from_json_value(request.context.clone(), Some((&self.schema, &action)))
                .map_err(|e| e.to_string())?;
        let schema = request.validate_request.then_some(&self.schema);
        let request = Request::new(principal, action, resource, context, schema)
            .map_err(|e| e.to_string())?;
        let response = Authorizer::new().is_authorized(&request, &self.policies, &self.entities);
        Ok(Outcome::of_response(&response))
    }
}

/// rolegrid in explicit mode.
fn rolegrid_load(base: &Path, test: &TestFile) -> Result<Snapshot, String> {
    let options = LoadOptions {
        deny_warnings: false,
        validate_policies: test.should_validate,
        policy_ids: PolicyIds::Positional,
        ..LoadOptions::default()
    };
    let sources = Sources::read_explicit(
        &base.join(&test.policies),
        Some(&base.join(&test.schema)),
        &[base.join(&test.entities)],
        &options.limits,
    )
    .map_err(|p| common::render(&p))?;
    build_snapshot(&sources, None, &options).map_err(|p| common::render(&p))
}

fn rolegrid_decide(snapshot: &Snapshot, request: &TestRequest) -> Result<Outcome, String> {
    let uid = |field: &str, v: &serde_json::Value| parse_uid(field, v).map_err(|p| p.to_string());
    let context = match &request.context {
        serde_json::Value::Null => None,
        other => Some(other.clone()),
    };
    let spec = RequestSpec {
        principal: uid("principal", &request.principal)?,
        action: uid("action", &request.action)?,
        resource: uid("resource", &request.resource)?,
        context,
    };
    // rolegrid always validates a request against the schema it has; the
    // corpus asks for that on every request (`validateRequest` true)
    let request = spec.build(snapshot.schema()).map_err(|p| p.to_string())?;
    Ok(Outcome::of_answer(&snapshot.authorize(&request)))
}

/// Runs one test file: rolegrid and plain Cedar against the expectations.
fn run_file(base: &Path, file: &Path) -> Tally {
    let mut tally = Tally {
        files: 1,
        ..Tally::default()
    };
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(file).unwrap();
    let test: TestFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not a test file: {e}", file.display()));
    tally.requests = test.requests.len();
    let plain = Plain::load(base, &test);
    let ours = rolegrid_load(base, &test);
    if let Err(problems) = &ours {
        tally.rolegrid_load_failures += 1;
        tally.mismatches.push(format!(
            "{name}: rolegrid does not load it ({} requests lost); plain cedar {}:\n{problems}",
            test.requests.len(),
            if plain.is_ok() {
                "loads it"
            } else {
                "fails too"
            }
        ));
    }
    for (index, request) in test.requests.iter().enumerate() {
        let expected = Outcome::expected(request);
        let theirs = match &plain {
            Ok(plain) => plain.decide(request),
            Err(e) => Err(format!("plain cedar does not load the files: {e}")),
        };
        match &theirs {
            Ok(outcome) if *outcome == expected => tally.cedar_ok += 1,
            other => tally.mismatches.push(format!(
                "{name} #{index} ({}): plain cedar-policy gives {other:?}, the file expects {expected:?}",
                request.description
            )),
        }
        let Ok(snapshot) = &ours else { continue };
        match rolegrid_decide(snapshot, request) {
            Ok(outcome) if outcome == expected => tally.rolegrid_ok += 1,
            Ok(outcome) => tally.mismatches.push(format!(
                "{name} #{index} ({}): rolegrid gives {outcome:?}, the file expects {expected:?}, plain cedar-policy {theirs:?}",
                request.description
            )),
            Err(problem) => {
                tally.rolegrid_request_failures += 1;
                tally.mismatches.push(format!(
                    "{name} #{index} ({}): rolegrid refuses the request: {problem}; the file expects {expected:?}, plain cedar-policy {theirs:?}",
                    request.description
                ));
            }
        }
    }
    tally
}

/// Runs files on a few threads (the corpus is large), in a stable order.
fn run_files(base: &Path, files: &[PathBuf]) -> Tally {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4);
    let chunk = files.len().div_ceil(threads).max(1);
    let mut total = Tally::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    for file in chunk {
                        tally.add(run_file(base, file));
                    }
                    tally
                })
            })
            .collect();
        for handle in handles {
            total.add(handle.join().expect("a corpus worker panicked"));
        }
    });
    total
}

#[track_caller]
fn assert_all_reproduced(tally: &Tally) {
    let shown: Vec<&String> = tally.mismatches.iter().take(30).collect();
    assert!(
        tally.mismatches.is_empty()
            && tally.rolegrid_ok == tally.requests
            && tally.cedar_ok == tally.requests,
        "{}\nfirst mismatches:\n{}",
        tally.summary(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn handwritten_tests() {
    let base = corpus_dir();
    let mut files = Vec::new();
    for folder in ["decimal", "example_use_cases", "ip", "multi"] {
        for entry in std::fs::read_dir(base.join("tests").join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    let started = Instant::now();
    let tally = run_files(&base, &files);
    println!(
        "handwritten: {} in {:.2?}",
        tally.summary(),
        started.elapsed()
    );
    assert_eq!(tally.files, 22);
    assert_eq!(tally.requests, 74);
    assert_all_reproduced(&tally);
}

#[test]
#[ignore = "opt-in: 62,472 requests (cargo test --release --test corpus -- --ignored --nocapture)"]
fn full_corpus() {
    let base = tempfile::Builder::new()
        .prefix("rolegrid-corpus-")
        .tempdir()
        .unwrap();
    let started = Instant::now();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(corpus_dir().join("corpus-tests.tar.gz"))
        .arg("-C")
        .arg(base.path())
        .status()
        .expect("the `tar` command runs");
    assert!(status.success(), "tar failed: {status}");
    let unpacked = started.elapsed();
    let mut files: Vec<PathBuf> = std::fs::read_dir(base.path().join("corpus-tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".entities.json")
        })
        .collect();
    files.sort();
    let started = Instant::now();
    let tally = run_files(base.path(), &files);
    println!(
        "full corpus: {} in {:.2?} (unpacking took {:.2?})",
        tally.summary(),
        started.elapsed(),
        unpacked
    );
    assert_eq!(tally.files, 7809);
    assert_eq!(tally.requests, 62_472);
    assert_all_reproduced(&tally);
}

/// Found by `full_corpus`: 70 generated tests hold U+007F (DEL) unescaped in
/// JSON entity ids and attribute names, which JSON and Cedar accept.
#[test]
fn a_raw_del_character_in_json_entities_and_policies_loads_like_plain_cedar() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "entity A;\naction \"act\" appliesTo { principal: A, resource: A };\n";
    let entities =
        "[{\"uid\": {\"type\": \"A\", \"id\": \"\u{7f}#\"}, \"attrs\": {}, \"parents\": []}]\n";
    let policies = "permit (principal == A::\"\u{7f}#\", action, resource);\n";
    std::fs::write(dir.path().join("s.cedarschema"), schema).unwrap();
    std::fs::write(dir.path().join("e.entities.json"), entities).unwrap();
    std::fs::write(dir.path().join("p.cedar"), policies).unwrap();
    let test = TestFile {
        policies: "p.cedar".into(),
        entities: "e.entities.json".into(),
        schema: "s.cedarschema".into(),
        should_validate: true,
        requests: vec![TestRequest {
            description: "DEL in ids".into(),
            principal: serde_json::json!({"type": "A", "id": "\u{7f}#"}),
            action: serde_json::json!({"type": "Action", "id": "act"}),
            resource: serde_json::json!({"type": "A", "id": "\u{7f}#"}),
            context: serde_json::json!({}),
            validate_request: true,
            decision: "allow".into(),
            reason: vec!["policy0".into()],
            errors: vec![],
        }],
    };
    let plain = Plain::load(dir.path(), &test).expect("plain cedar-policy loads the files");
    let expected = Outcome::expected(&test.requests[0]);
    assert_eq!(plain.decide(&test.requests[0]).unwrap(), expected);
    let snapshot = rolegrid_load(dir.path(), &test).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(
        rolegrid_decide(&snapshot, &test.requests[0]).unwrap(),
        expected
    );
}
