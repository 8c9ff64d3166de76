//! `rolegrid check` and `rolegrid coverage`: every output format, exit codes
//! 0 / 1 / 2 on small stores (`tests/fixtures/check-*`), the shipped seed
//! models, and the runner's `Decider` trait.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use common::{Run, TempStore, fixture, run_in};
use rolegrid::expect::{Decider, RunOptions, Suite, run};
use rolegrid::{Answer, FileKind, SourceFile};

/// Runs the binary inside a fixture store (paths print relative to it).
fn check_in(store: &str, args: &[&str]) -> Run {
    run_in(&fixture(store), args, None)
}

/// Snapshots a run with times and durations masked.
macro_rules! snap {
    ($name:expr, $run:expr) => {
        insta::with_settings!({filters => vec![
            (r"\b\d+(\.\d+)?(ms|s)\b", "[TIME]"),
            (r#""duration_ms": \d+"#, r#""duration_ms": "[MS]""#),
            (r#"time="[0-9.]+""#, r#"time="[TIME]""#),
        ]}, {
            insta::assert_snapshot!($name, $run.snapshot_text(&[]));
        });
    };
}

// ---------------------------------------------------------------- exit 0

#[test]
fn pass_human() {
    let run = check_in("check-pass", &["check"]);
    run.assert_code(0);
    snap!("pass_human", run);
}

#[test]
fn pass_json() {
    let run = check_in("check-pass", &["check", "--format", "json"]);
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "pass");
    assert_eq!(json["products"][0]["coverage"]["percent"], 100.0);
    snap!("pass_json", run);
}

#[test]
fn pass_junit() {
    let run = check_in("check-pass", &["check", "--format", "junit"]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("<?xml"));
    snap!("pass_junit", run);
}

#[test]
fn pass_github() {
    let run = check_in("check-pass", &["check", "--format", "github"]);
    run.assert_code(0);
    assert!(!run.stdout.contains("::error"));
    snap!("pass_github", run);
}

// ---------------------------------------------------------------- exit 1

#[test]
fn fail_human() {
    let run = check_in("check-fail", &["check"]);
    run.assert_code(1);
    snap!("fail_human", run);
}

#[test]
fn fail_json() {
    let run = check_in("check-fail", &["check", "--format", "json"]);
    run.assert_code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "fail");
    // each failing item once, with its counts and its first failing requests
    let failures = json["products"][0]["failures"].as_array().unwrap();
    assert!(failures.iter().all(|f| f["line"].as_u64().unwrap() > 0));
    let failed: u64 = failures.iter().map(|f| f["failed"].as_u64().unwrap()).sum();
    assert_eq!(failed, 5);
    assert!(failures.iter().all(|f| {
        f["first_failures"].as_array().unwrap().len() as u64 == f["failed"].as_u64().unwrap()
    }));
    snap!("fail_json", run);
}

#[test]
fn fail_junit() {
    let run = check_in("check-fail", &["check", "--format", "junit"]);
    run.assert_code(1);
    assert!(run.stdout.contains("<failure"));
    snap!("fail_junit", run);
}

#[test]
fn fail_github() {
    let run = check_in("check-fail", &["check", "--format", "github"]);
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("::error file=policies/docs/matrix.test.yaml,line=12,col=5,")
    );
    snap!("fail_github", run);
}

#[test]
fn untested_policy_fails_unless_allowed() {
    let run = check_in("check-gaps", &["check"]);
    run.assert_code(1);
    snap!("gaps_human", run);
    check_in(
        "check-gaps",
        &["check", "--allow-untested-policy", "docs/auditor-view"],
    )
    .assert_code(0);
    check_in("check-gaps", &["check", "--allow-untested"]).assert_code(0);
}

/// An allowance for nothing once passed silently: a policy that does not
/// exist, or an id without its product (ids repeat across products).
#[test]
fn allowed_untested_policies_must_exist_and_name_their_product() {
    for (entry, says) in [
        ("something-else", "name the product too"),
        ("auditor-view", "did you mean docs/auditor-view?"),
        (
            "docs/auditor-veiw",
            "product `docs` has no policy `auditor-veiw`",
        ),
        ("doc/auditor-view", "the store has no product `doc`"),
    ] {
        let run = check_in("check-gaps", &["check", "--allow-untested-policy", entry]);
        run.assert_code(2);
        assert!(run.stderr.contains(says), "{entry}: {}", run.stderr);
        assert!(
            run.stderr.contains("rolegrid::usage"),
            "{entry}: {}",
            run.stderr
        );
    }
}

/// `--min-coverage 0.9` meant 0.9 % (and passed at 84.8 %): a value up to 1
/// without `%` is refused as ambiguous.
#[test]
fn an_ambiguous_coverage_threshold_is_refused() {
    let run = check_in("check-gaps", &["check", "--min-coverage", "0.9"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("ambiguous: write 90% for 90 percent"),
        "{}",
        run.stderr
    );
    check_in(
        "check-gaps",
        &["check", "--allow-untested", "--min-coverage", "0.9%"],
    )
    .assert_code(0);
    check_in(
        "check-gaps",
        &["check", "--allow-untested", "--min-coverage", "0"],
    )
    .assert_code(0);
}

#[test]
fn coverage_below_the_minimum_fails() {
    let run = check_in(
        "check-gaps",
        &["check", "--allow-untested", "--min-coverage", "90"],
    );
    run.assert_code(1);
    snap!("gaps_min_coverage_human", run);
    let run = check_in(
        "check-gaps",
        &[
            "check",
            "--allow-untested",
            "--min-coverage",
            "90",
            "--format",
            "json",
        ],
    );
    run.assert_code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["products"][0]["coverage_failures"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let run = check_in(
        "check-gaps",
        &[
            "check",
            "--allow-untested",
            "--min-coverage",
            "90",
            "--format",
            "junit",
        ],
    );
    run.assert_code(1);
    snap!("gaps_min_coverage_junit", run);
    let run = check_in(
        "check-gaps",
        &[
            "check",
            "--allow-untested",
            "--min-coverage",
            "90",
            "--format",
            "github",
        ],
    );
    run.assert_code(1);
    snap!("gaps_min_coverage_github", run);
    check_in(
        "check-gaps",
        &["check", "--allow-untested", "--min-coverage", "80"],
    )
    .assert_code(0);
    check_in("check-pass", &["check", "--min-coverage", "100%"]).assert_code(0);
}

// ---------------------------------------------------------------- exit 2

#[test]
fn invalid_expectations_human() {
    let run = check_in("check-invalid", &["check"]);
    run.assert_code(2);
    snap!("invalid_human", run);
}

#[test]
fn invalid_expectations_json() {
    let run = check_in("check-invalid", &["check", "--format", "json"]);
    run.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "error");
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 6);
    assert!(problems.iter().all(|p| p["kind"] == "expectation"));
    assert!(problems.iter().all(|p| p["product"] == "docs"));
    assert_eq!(json["invalid_products"][0]["product"], "docs");
    assert!(problems.iter().all(|p| p["line"].as_u64().is_some()));
    // stdout only: stderr carries the same problems as reports
    insta::with_settings!({filters => vec![(r#""duration_ms": \d+"#, r#""duration_ms": "[MS]""#)]}, {
        insta::assert_snapshot!("invalid_json", run.stdout);
    });
}

#[test]
fn invalid_expectations_junit_and_github() {
    let run = check_in("check-invalid", &["check", "--format", "junit"]);
    run.assert_code(2);
    insta::with_settings!({filters => vec![(r#"time="[0-9.]+""#, r#"time="[TIME]""#)]}, {
        insta::assert_snapshot!("invalid_junit", run.stdout);
    });
    let run = check_in("check-invalid", &["check", "--format", "github"]);
    run.assert_code(2);
    insta::assert_snapshot!("invalid_github", run.stdout);
}

#[test]
fn yaml_syntax_and_shape_errors_point_at_the_file() {
    let store = common::TempStore::copy_of("check-pass");
    store.write(
        "policies/docs/matrix.test.yaml",
        "tenant: Org\nmatrix:\n  - action: view\n    resource: Doc\n    alow: [admin]\n",
    );
    let run = store.run(&["check"]);
    run.assert_code(2);
    snap!("shape_error", run);
    store.write(
        "policies/docs/matrix.test.yaml",
        "tenant: Org\nmatrix:\n  - action: [view\n",
    );
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("rolegrid::expectation"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("matrix.test.yaml"), "{}", run.stderr);
}

#[test]
fn a_role_expecting_allow_that_nothing_asks_is_an_error() {
    let store = common::TempStore::copy_of("check-pass");
    store.write(
        "policies/docs/extra.test.yaml",
        "tenant: Org\nmatrix:\n  - action: view\n    resource: Doc::\"report\"\n    allow: [admin, viewer]\n",
    );
    let run = store.run(&["check"]);
    run.assert_code(2);
    snap!("allow_checks_nothing", run);
}

#[test]
fn unknown_product_is_invalid_input() {
    let run = check_in("check-pass", &["check", "--product", "nope"]);
    run.assert_code(2);
    snap!("unknown_product", run);
}

// ---------------------------------------------------------------- coverage

#[test]
fn coverage_human() {
    let run = check_in("check-gaps", &["coverage"]);
    run.assert_code(0);
    snap!("coverage_human", run);
}

#[test]
fn coverage_json() {
    let run = check_in("check-gaps", &["coverage", "--format", "json"]);
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let product = &json["products"][0];
    assert_eq!(product["cells"], 15);
    assert_eq!(product["covered"], 12);
    snap!("coverage_json", run);
}

#[test]
fn coverage_markdown() {
    let run = check_in("check-pass", &["coverage", "--format", "markdown"]);
    run.assert_code(0);
    snap!("coverage_markdown", run);
}

#[test]
fn coverage_of_invalid_input_exits_2() {
    check_in("check-invalid", &["coverage"]).assert_code(2);
}

// ---------------------------------------------------------------- the seed models

#[test]
fn the_shipped_store_passes_with_full_coverage_for_every_role() {
    let run = common::run(&["check", "--format", "json", "--min-coverage", "100"]);
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let products = json["products"].as_array().unwrap();
    assert!(products.len() >= 5);
    for product in products {
        let name = product["product"].as_str().unwrap();
        assert_eq!(product["status"], "pass", "{name}");
        assert!(
            product["expectations"]["total"].as_u64().unwrap() > 100,
            "{name}"
        );
        assert!(product["untested_policies"].as_array().unwrap().is_empty());
        for role in product["coverage"]["roles"].as_array().unwrap() {
            assert_eq!(role["percent"], 100.0, "{name}: {}", role["role"]);
        }
    }
    // the human output is one line per product and per role, plus the summary
    let run = common::run(&["check"]);
    run.assert_code(0);
    let roles: usize = products
        .iter()
        .map(|p| p["coverage"]["roles"].as_array().unwrap().len())
        .sum();
    assert_eq!(run.stdout.lines().count(), products.len() + roles + 1);
}

// ---------------------------------------------------------------- the runner

/// A decider that denies everything: every expected allow fails.
struct DenyAll;

impl Decider for DenyAll {
    fn decide(
        &self,
        request: &cedar_policy::Request,
        entities: Option<&cedar_policy::Entities>,
    ) -> Answer {
        let policies: cedar_policy::PolicySet = "".parse().unwrap();
        let empty = cedar_policy::Entities::empty();
        Answer::from_response(cedar_policy::Authorizer::new().is_authorized(
            request,
            &policies,
            entities.unwrap_or(&empty),
        ))
    }
}

#[test]
fn the_runner_asks_any_decider() {
    let store = rolegrid::Store::open(fixture("check-pass")).unwrap();
    let snapshot = store
        .load("docs", &rolegrid::LoadOptions::default())
        .unwrap();
    let suite = Suite::load_product(&snapshot).unwrap();
    let through_snapshot = run(&suite, &snapshot, &RunOptions::default()).unwrap();
    assert_eq!(through_snapshot.failed(), 0);
    let denied = run(&suite, &DenyAll, &RunOptions::default()).unwrap();
    let expected_allows = suite
        .items
        .iter()
        .flat_map(|i| i.checks())
        .map(Result::unwrap)
        .filter(|c| c.expected.decision == cedar_policy::Decision::Allow)
        .count();
    assert!(expected_allows > 0);
    // every expected allow fails; expected denies with expected reasons fail too
    assert!(denied.failed() >= expected_allows);
    let fast = run(&suite, &DenyAll, &RunOptions { fail_fast: true }).unwrap();
    assert_eq!(fast.failed(), 1);
}

#[test]
fn expectations_load_from_memory_with_short_names() {
    let store = rolegrid::Store::open(fixture("check-pass")).unwrap();
    let snapshot = store
        .load("docs", &rolegrid::LoadOptions::default())
        .unwrap();
    let file = SourceFile::new(
        "inline.test.yaml",
        "tenant: Docs::Org\nmatrix:\n  - action: Docs::Action::\"view\"\n    resource: Docs::Folder\n    allow: [admin, editor, viewer]\ncases:\n  - principal: Docs::User::\"vic\"\n    action: Action::\"edit\"\n    resource: Folder::\"acme-root\"\n    decision: deny\n",
    );
    let suite = Suite::load(&snapshot, &[(file, FileKind::ExpectationsYaml)]).unwrap();
    // view Folder: ada, eve, vic on acme-root, gus on globex-root; plus the case
    assert_eq!(suite.check_count(), 5);
    assert_eq!(
        suite.items[1].name,
        "User::\"vic\" edit Folder::\"acme-root\""
    );
    assert_eq!(
        run(&suite, &snapshot, &RunOptions::default())
            .unwrap()
            .failed(),
        0
    );
}

/// A case naming an entity that no entity file defines (a typo) was
/// evaluated anyway, as an entity with no attributes and no parents; a
/// `deny` expectation then passed without checking anything.
#[test]
fn a_case_naming_an_unknown_entity_is_invalid_input() {
    let store = TempStore::copy_of("check-pass");
    store.write(
        "policies/docs/typo.test.yaml",
        "cases:\n  - name: a viewer cannot share\n    principal: User::\"vick\"\n    action: share\n    resource: Doc::\"plan\"\n    context: {public: false}\n    decision: deny\n",
    );
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(r#"Docs::User::"vick" is in neither the product's entity files nor this case's `entities:`"#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(r#"did you mean `Docs::User::"vic"`?"#),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("typo.test.yaml:3:"), "{}", run.stderr);
    // the entity defined by the case itself is fine
    store.write(
        "policies/docs/typo.test.yaml",
        "cases:\n  - name: a stranger cannot share\n    principal: User::\"vick\"\n    action: share\n    resource: Doc::\"plan\"\n    context: {public: false}\n    entities:\n      - uid: {type: Docs::User, id: vick}\n        attrs: {org: {type: Docs::Org, id: acme}}\n        parents: []\n    decision: deny\n",
    );
    let run = store.run(&["check", "--allow-untested"]);
    assert_ne!(run.code, Some(2), "{}", run.stderr);
}

/// A fixture user whose role parent is a typo held no role, and check said
/// only that nothing asks the role: the typo is now named, with the role meant.
#[test]
fn a_fixture_parent_no_entity_file_defines_is_named() {
    let store = TempStore::copy_of("check-pass");
    let fixture = store.path().join("policies/docs/fixture.entities.yaml");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let typo = text.replace(
        "parents: [{type: Docs::Role, id: viewer}",
        "parents: [{type: Docs::Role, id: viewr}",
    );
    assert_ne!(typo, text);
    std::fs::write(&fixture, typo).unwrap();
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            r#"Docs::User::"vic" has the parent Docs::Role::"viewr", which no entity file defines"#
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(r#"did you mean `Docs::Role::"viewer"`?"#),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("fixture.entities.yaml:12:3"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("nothing asks it"), "{}", run.stderr);
}

/// One product with a broken expectation file hid every other product's
/// results (the JSON document was `status: error` with problems naming no
/// product): now every product that loaded is reported, the broken one is
/// listed with its problems, each naming its product, and the exit is 2.
#[test]
fn a_product_that_does_not_load_hides_no_other_result() {
    let store = TempStore::copy_of("check-pass");
    // a second product: the same model under another name, its expectations broken
    std::fs::copy(
        store.path().join("schemas/docs.cedarschema"),
        store.path().join("schemas/wiki.cedarschema"),
    )
    .unwrap();
    common::copy_dir(
        &store.path().join("policies/docs"),
        &store.path().join("policies/wiki"),
    );
    store.write("policies/wiki/broken.test.yaml", "cases: [");
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(run.stdout.contains("docs  ok "), "{}", run.stdout);
    assert!(
        run.stdout.contains("wiki  INVALID  1 problem"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("product `wiki` did not load"),
        "{}",
        run.stderr
    );
    let run = store.run(&["check", "--format", "json"]);
    run.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "error");
    assert_eq!(json["products"][0]["product"], "docs");
    assert_eq!(json["products"][0]["status"], "pass");
    assert_eq!(json["invalid_products"][0]["product"], "wiki");
    assert_eq!(json["problems"][0]["product"], "wiki");
}

/// A cell whose only expectation asks across tenants was called `denied`
/// for the role (tenant isolation denies it), while the matrix shows what
/// the role may do in its own tenant: allowed. Such a cell is not covered.
#[test]
fn a_cross_tenant_expectation_alone_does_not_cover_a_cell() {
    let store = TempStore::copy_of("check-pass");
    std::fs::remove_file(store.path().join("policies/docs/cedar.test.json")).unwrap();
    store.write(
        "policies/docs/matrix.test.yaml",
        "tenant: Org\ncases:\n  - name: a viewer reads no other tenant's document\n    principal: User::\"vic\"\n    action: view\n    resource: Doc::\"report\"\n    decision: deny\n",
    );
    let run = store.run(&["coverage", "--format", "json"]);
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let viewer = json["products"][0]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "viewer")
        .unwrap()
        .clone();
    assert_eq!(viewer["denied"], 0, "{viewer}");
    assert_eq!(viewer["covered"], 0, "{viewer}");
    assert!(
        viewer["uncovered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["action"] == "view" && c["resource_type"] == "Doc"),
        "{viewer}"
    );
}

/// A store whose one matrix row asks `users` × `models` requests, all
/// failing (the row expects deny where the policy allows).
fn wide_row_store(users: usize, models: usize) -> TempStore {
    let store = TempStore::with_product(
        "wide",
        "namespace Wide { entity Role; entity User in [Role]; entity Model;
         action view appliesTo { principal: User, resource: Model }; }",
    );
    store.write(
        "policies/wide/view.cedar",
        r#"@id("members-view") permit (principal in Wide::Role::"member", action, resource);"#,
    );
    let mut fixture = String::from("- {uid: {type: Wide::Role, id: member}}\n");
    for u in 0..users {
        fixture.push_str(&format!(
            "- {{uid: {{type: Wide::User, id: u{u}}}, parents: [{{type: Wide::Role, id: member}}]}}\n"
        ));
    }
    for m in 0..models {
        fixture.push_str(&format!("- {{uid: {{type: Wide::Model, id: m{m}}}}}\n"));
    }
    store.write("policies/wide/fixture.entities.yaml", &fixture);
    store.write(
        "policies/wide/matrix.test.yaml",
        "matrix:\n  - action: view\n    resource: Model\n    allow: []\n",
    );
    store
}

/// `check` kept every expanded request and every answer (about 1.5 KB
/// each; 2 million of them took 3.1 GB, and 14.8 GB with `--format json`),
/// and listed every failing request. A row's requests are now built as they
/// run, and a failing row is reported once, with its count and its first
/// failures, in every format.
#[test]
#[cfg(target_os = "linux")]
fn a_failing_row_of_many_requests_is_reported_once_in_bounded_memory() {
    const USERS: usize = 400;
    const MODELS: usize = 400;
    let store = wide_row_store(USERS, MODELS);
    let out = store.path().join("report.json");
    let (code, peak) = common::peak_kib_of_run(store.path(), &["check", "--format", "json"], &out);
    assert_eq!(code, Some(1));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let failures = json["products"][0]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "the row is reported once");
    let row = &failures[0];
    assert_eq!(row["requests"], USERS * MODELS);
    assert_eq!(row["failed"], USERS * MODELS);
    assert_eq!(
        row["first_failures"].as_array().unwrap().len(),
        rolegrid::expect::KEPT_FAILURES
    );
    assert_eq!(json["summary"]["failed"], USERS * MODELS);
    assert!(
        peak < 150 * 1024,
        "check peaked at {} MiB for {} requests",
        peak / 1024,
        USERS * MODELS
    );
    let human = store.run(&["check"]);
    human.assert_code(1);
    assert!(human.stdout.contains(&format!(
        "row `view on Model`: {0} of {0} failed",
        USERS * MODELS
    )));
    assert!(
        human
            .stdout
            .contains(&format!("… and {} more", USERS * MODELS - 5))
    );
}

/// Only `authorize` took the limit flags: a store a service loads with a
/// raised limit could not be checked in CI (`check --max-hierarchy-depth`
/// was an unexpected argument), and `matrix` had no `--allow-warnings`.
/// Every command that loads a store now takes the same store, warning and
/// limit flags, and the limit report names the flag that raises it.
#[test]
fn every_command_that_loads_a_store_takes_the_same_limit_and_warning_flags() {
    let commands: [&[&str]; 4] = [
        &["check"],
        &["coverage"],
        &["matrix", "-p", "docs"],
        &[
            "authorize",
            "-p",
            "docs",
            "--principal",
            r#"Docs::User::"ada""#,
            "--action",
            r#"Docs::Action::"view""#,
            "--resource",
            r#"Docs::Doc::"d""#,
        ],
    ];
    for command in commands {
        let with = |extra: &[&str]| {
            let mut args = command.to_vec();
            args.extend_from_slice(extra);
            check_in("check-pass", &args)
        };
        let limited = with(&["--max-entities", "3"]);
        limited.assert_code(2);
        assert!(
            limited.stderr.contains("limit `max_entities`")
                && limited.stderr.contains("raise the limit (--max-entities)"),
            "{command:?}: {}",
            limited.stderr
        );
        with(&[
            "--max-entities",
            "100000",
            "--max-hierarchy-depth",
            "500",
            "--allow-warnings",
        ])
        .assert_code(0);
    }
}

/// There was no way to load and validate a store without running its
/// expectations (Cedar's `validate`, `opa check`, `cerbos compile
/// --skip-tests`). `validate` loads every product, exits 0 when all load,
/// whatever the expectations would give, and 2 when one does not, in every
/// format.
#[test]
fn validate_loads_without_running_expectations() {
    // expectations that fail do not fail validation
    check_in("check-fail", &["check"]).assert_code(1);
    let run = check_in("check-fail", &["validate"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("docs  ok  6 policies"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("validate passed: 1 product"),
        "{}",
        run.stdout
    );
    // a product that does not load: exit 2, named in every format
    let store = TempStore::copy_of("check-pass");
    store.write("policies/docs/docs.cedar", "permit (");
    for format in ["human", "json", "junit", "github"] {
        let run = store.run(&["validate", "--format", format]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("product `docs` did not load"),
            "{format}"
        );
        match format {
            "json" => {
                let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                assert_eq!(json["status"], "error");
                assert_eq!(json["invalid_products"][0]["product"], "docs");
                assert_eq!(json["problems"][0]["product"], "docs");
                assert_eq!(json["problems"][0]["kind"], "policy-syntax");
            }
            "junit" => assert!(run.stdout.contains("<error"), "{}", run.stdout),
            "github" => assert!(
                run.stdout.contains("::error file=policies/docs/docs.cedar"),
                "{}",
                run.stdout
            ),
            _ => assert!(run.stdout.contains("docs  INVALID"), "{}", run.stdout),
        }
    }
}

/// There was no way to run a subset of the expectations (`opa test --run`)
/// or to see the passing ones (`opa test -v`). `--run REGEX` runs the
/// items whose `PRODUCT/FILE/KIND NAME` matches, says that it did, and
/// judges neither untested policies nor coverage on the part that ran;
/// `--verbose` lists every item with its result.
#[test]
fn check_runs_a_selection_and_lists_every_item_when_verbose() {
    // the failing rows are not selected: the selection passes
    let run = check_in(
        "check-fail",
        &[
            "check",
            "--run",
            "view on (Doc|Folder)$",
            "--format",
            "json",
        ],
    );
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["summary"]["expectations"], 11);
    assert_eq!(json["options"]["run"], "view on (Doc|Folder)$");
    // a failing row selected by its product and file fails
    check_in(
        "check-fail",
        &["check", "--run", "^docs/matrix.test.yaml/row edit on Doc"],
    )
    .assert_code(1);
    let none = check_in("check-fail", &["check", "--run", "no such thing"]);
    none.assert_code(2);
    assert!(
        none.stderr.contains("selects no expectation"),
        "{}",
        none.stderr
    );
    check_in("check-fail", &["check", "--run", "("]).assert_code(2);
    let verbose = check_in("check-pass", &["check", "--verbose"]);
    verbose.assert_code(0);
    let listed = verbose
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ok    "))
        .count();
    assert_eq!(listed, 13, "{}", verbose.stdout);
    assert!(
        verbose.stdout.contains("row `view on Doc`: 7 requests"),
        "{}",
        verbose.stdout
    );
}

/// A product whose fixture has no roles showed "0/0 cells covered (100%)".
#[test]
fn a_product_without_roles_says_it_has_no_role_cells() {
    let store = TempStore::with_product(
        "plain",
        "entity User; entity Doc; action view appliesTo { principal: User, resource: Doc };",
    );
    store.write(
        "policies/plain/p.cedar",
        r#"@id("all") permit (principal, action, resource);"#,
    );
    store.write(
        "policies/plain/fixture.entities.yaml",
        "- {uid: {type: User, id: u}}\n- {uid: {type: Doc, id: d}}\n",
    );
    store.write(
        "policies/plain/cases.test.yaml",
        "cases:\n  - {principal: 'User::\"u\"', action: view, resource: 'Doc::\"d\"', decision: allow, reasons: [all]}\n",
    );
    let run = store.run(&["check"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("no role cells (the fixture has no roles)")
            && !run.stdout.contains("0/0"),
        "{}",
        run.stdout
    );
}

/// Forgetting `tenant:` gave rows whose cross-tenant requests all failed
/// ("decided by tenant-isolation") with no word of why: a failing row of a
/// file without `tenant:`, in a fixture whose role users each lie in one of
/// several tenants, now carries a hint naming the line to add.
#[test]
fn a_failing_row_of_a_file_without_tenant_says_to_add_it() {
    let store = TempStore::copy_of("check-pass");
    let path = store.path().join("policies/docs/matrix.test.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("tenant: Org\n", "")).unwrap();
    let run = store.run(&["check"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains(
            "hint: this file has no `tenant:`, so its rows ask every role user about every resource, across the fixture's 2 `Org`s; add `tenant: Org` to ask inside each one"
        ),
        "{}",
        run.stdout
    );
    let json = store.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        json["products"][0]["failures"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("add `tenant: Org`")
    );
}

/// A row whose resources lie in no tenant said "checks nothing … add the
/// entities the row needs"; it now names the cause: no resource of the
/// type has an ancestor of the tenant type.
#[test]
fn a_row_whose_resources_have_no_tenant_says_so() {
    let store = TempStore::copy_of("check-pass");
    let path = store.path().join("policies/docs/fixture.entities.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    // the folders lose their organisation
    let text = text
        .replace(
            "- uid: {type: Docs::Folder, id: acme-root}\n  parents: [{type: Docs::Org, id: acme}]",
            "- uid: {type: Docs::Folder, id: acme-root}",
        )
        .replace(
            "- uid: {type: Docs::Folder, id: globex-root}\n  parents: [{type: Docs::Org, id: globex}]",
            "- uid: {type: Docs::Folder, id: globex-root}",
        );
    std::fs::write(&path, text).unwrap();
    let run = store.run(&["check", "--format", "json"]);
    run.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let problem = &json["problems"][0];
    assert!(
        problem["message"].as_str().unwrap().contains(
            "no `Folder` of the fixture has an ancestor of type `Org` (the file's `tenant:`)"
        ),
        "{problem}"
    );
    assert_eq!(
        problem["help"],
        "give each `Folder` a parent in its `Org` (directly or through its ancestors)"
    );
}

/// `schemas/x.cedarschema.json` was silently ignored, and `--schema
/// s.cedarschema.json` failed with cedar-policy's library help text. Cedar's
/// JSON schema format is read wherever a schema is: a store whose schemas
/// are all JSON checks exactly as the same store in Cedar syntax.
#[test]
fn cedar_json_schemas_are_read_wherever_a_schema_is() {
    let store = TempStore::new();
    common::copy_dir(
        &common::root().join("policies"),
        &store.path().join("policies"),
    );
    std::fs::create_dir_all(store.path().join("schemas")).unwrap();
    for entry in std::fs::read_dir(common::root().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (fragment, _) = cedar_policy::SchemaFragment::from_cedarschema_str(&text).unwrap();
        let name = format!("{}.json", path.file_name().unwrap().to_str().unwrap());
        store.write(
            &format!("schemas/{name}"),
            &fragment.to_json_string().unwrap(),
        );
    }
    let json_run = store.run(&["check", "--format", "json"]);
    json_run.assert_code(0);
    let seed_run = common::run(&["check", "--format", "json"]);
    let summary = |run: &Run| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap()["summary"].clone()
    };
    assert_eq!(summary(&json_run), summary(&seed_run));
    // explicit mode takes a JSON schema too
    let explicit = store.run(&[
        "authorize",
        "--policies",
        "policies/fireworks",
        "--schema",
        "schemas/fireworks.cedarschema.json",
        "--entities",
        "policies/fireworks/fixture.entities.yaml",
        "--principal",
        r#"Fireworks::User::"ada-admin""#,
        "--action",
        r#"Fireworks::Action::"view""#,
        "--resource",
        r#"Fireworks::Model::"model-ada""#,
    ]);
    explicit.assert_code(0);
    assert!(explicit.stdout.starts_with("ALLOW"), "{}", explicit.stdout);
    // a broken JSON schema is reported at its line and column
    store.write(
        "schemas/fireworks.cedarschema.json",
        "{\n  \"Fireworks\": {\n    \"entityTypes\": {,\n",
    );
    let broken = store.run(&["validate", "-p", "fireworks", "--format", "json"]);
    broken.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(&broken.stdout).unwrap();
    let problem = &json["problems"][0];
    assert_eq!(problem["file"], "schemas/fireworks.cedarschema.json");
    assert_eq!(problem["line"], 3);
    // both formats for one product is ambiguous
    store.write("schemas/fireworks.cedarschema", "namespace Fireworks {}");
    let two = store.run(&["validate"]);
    two.assert_code(2);
    assert!(two.stderr.contains("has two schemas"), "{}", two.stderr);
}

/// `coverage` failed whole when one product did not load; like `check`, it
/// now gives the others' coverage, lists the broken one as invalid (its
/// problems on stderr and in the JSON document) and exits 2.
#[test]
fn coverage_of_the_other_products_when_one_does_not_load() {
    let store = TempStore::copy_of_shipped();
    store.write("policies/fireworks/tenant.cedar", "permit (");
    let run = store.run(&["coverage"]);
    run.assert_code(2);
    assert!(run.stdout.contains("imagekit: 6 roles"), "{}", run.stdout);
    assert!(run.stdout.contains("fireworks: INVALID"), "{}", run.stdout);
    assert!(
        run.stderr.contains("product `fireworks` did not load"),
        "{}",
        run.stderr
    );
    let json = store.run(&["coverage", "--format", "json"]);
    json.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["products"].as_array().unwrap().len(), 4);
    assert_eq!(json["invalid_products"][0]["product"], "fireworks");
    assert_eq!(json["problems"][0]["product"], "fireworks");
}
