//! The errors users see, in detail: for the broken stores of the bad-input
//! corpus (`tests/bad/`, whose cases `bad_inputs.rs` snapshots whole), that
//! each problem has the right kind and count and points at the right line and
//! column, naming every place involved; plus the runs no corpus case covers
//! (a missing store, deep nesting, text that is not UTF-8, bad requests),
//! snapshotted here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::bad_inputs::broken_store;
use crate::common;

use common::{Run, SEED, TempStore, nested_parens_policy, run};
use rolegrid::{
    Limits, LoadOptions, PolicyIds, Problem, ProblemKind, Problems, Sources, Store, build_snapshot,
};

const VIEW: [&str; 6] = [
    "--principal",
    r#"Shop::User::"alice""#,
    "--action",
    r#"Shop::Action::"view""#,
    "--resource",
    r#"Shop::Doc::"readme""#,
];

/// Loads the product `shop` of a bad-input case's store and returns its problems.
fn problems_of(case: &str) -> Problems {
    let store = broken_store(case);
    let store = Store::open(store.path()).expect("the case is a store");
    match store.load("shop", &LoadOptions::default()) {
        Ok(_) => panic!("{case} loaded without problems"),
        Err(problems) => problems,
    }
}

/// A file name, line and column.
type Place = (String, usize, usize);

/// `(file name, line, column)` of a problem.
fn place(problem: &Problem) -> Place {
    let location = problem.location().expect("the problem has a location");
    (
        location
            .file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        location.line,
        location.column,
    )
}

/// Snapshots a whole run, failing first if the exit code is not 2.
macro_rules! assert_run_snapshot {
    ($name:expr, $run:expr) => {{
        let run: &Run = &$run;
        run.assert_code(2);
        insta::assert_snapshot!($name, run.snapshot_text(&[]));
    }};
    ($name:expr, $run:expr, $store:expr) => {{
        let run: &Run = &$run;
        run.assert_code(2);
        insta::assert_snapshot!($name, run.snapshot_text(&[(&$store.path_str(), "[TMP]")]));
    }};
}

// ------------------------------------------------------------------ policies

#[test]
fn policy_syntax() {
    let problems = problems_of("policy_missing_semicolon");
    assert!(
        problems
            .iter()
            .all(|p| p.kind() == ProblemKind::PolicySyntax)
    );
    assert_eq!(problems.len(), 1, "{}", common::render(&problems));
    assert_eq!(
        place(problems.iter().next().unwrap()),
        ("broken.cedar".to_owned(), 6, 1)
    );
}

#[test]
fn validation_errors_unknown_action_attribute_and_type() {
    let problems = problems_of("policy_three_validation_errors");
    let errors: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.kind() == ProblemKind::PolicyValidation)
        .collect();
    assert_eq!(errors.len(), 3, "{}", common::render(&problems));
    let found: Vec<(usize, &str)> = errors.iter().map(|p| (place(p).1, p.message())).collect();
    assert!(
        found[0]
            .1
            .contains(r#"unrecognized action `Shop::Action::"viewAll"`"#)
    );
    assert_eq!(found[0].0, 4);
    assert!(found[1].1.contains("attribute `publik`"));
    assert_eq!(found[1].0, 8);
    assert_eq!(errors[1].help_text(), Some("did you mean `public`?"));
    assert!(found[2].1.contains("unrecognized entity type `Shop::Usr`"));
    assert_eq!(found[2].0, 11);
    assert_eq!(errors[2].help_text(), Some("did you mean `Shop::User`?"));
    // the validator's warnings are denied by default, so they fail the load too
    assert!(
        problems
            .iter()
            .filter(|p| p.kind() == ProblemKind::ValidationWarning)
            .all(|p| p
                .help_text()
                .is_some_and(|h| h.contains("--allow-warnings")))
    );
}

#[test]
fn validation_suggestion_for_an_unknown_action_is_the_same_every_time() {
    let helps: std::collections::BTreeSet<String> = (0..20)
        .map(|_| {
            let problems = problems_of("policy_three_validation_errors");
            problems
                .iter()
                .find(|p| p.kind() == ProblemKind::PolicyValidation)
                .and_then(Problem::help_text)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(helps.len(), 1, "{helps:?}");
}

/// Cedar suggests the schema's entity type closest to an unknown one, and
/// picks among equally close ones in the hash order of each schema it
/// builds: rolegrid names the first by name, the same every time.
#[test]
fn validation_suggestion_for_an_unknown_entity_type_is_the_same_every_time() {
    let sources = rolegrid::Sources {
        schema: Some(rolegrid::SourceFile::new(
            "s.cedarschema",
            "entity Usb; entity Usa; entity Usc; entity Doc; action view appliesTo { principal: [Usa], resource: [Doc] };",
        )),
        policies: vec![rolegrid::SourceFile::new(
            "p.cedar",
            "@id(\"p\") permit (principal is Usx, action, resource);",
        )],
        ..Default::default()
    };
    let helps: std::collections::BTreeSet<String> = (0..30)
        .map(|_| {
            let problems = match rolegrid::build_snapshot(&sources, None, &LoadOptions::default()) {
                Ok(_) => panic!("an unknown entity type loaded"),
                Err(problems) => problems,
            };
            let problem = problems
                .iter()
                .find(|p| p.kind() == ProblemKind::PolicyValidation)
                .expect("a validation error");
            assert!(
                problem.message().contains("unrecognized entity type `Usx`"),
                "{}",
                problem.message()
            );
            problem.help_text().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        helps.into_iter().collect::<Vec<_>>(),
        ["did you mean `Usa`?"]
    );
}

#[test]
fn duplicate_policy_id_names_both_places() {
    let problems = problems_of("policy_duplicate_id");
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::DuplicatePolicyId);
    assert_eq!(problems.len(), 1);
    // rules.cedar sorts before views.cedar: the second definition is in views.cedar
    assert_eq!(place(problem), ("views.cedar".to_owned(), 2, 1));
    let first = &problem.related_problems()[0];
    assert_eq!(place(first), ("rules.cedar".to_owned(), 7, 1));
}

#[test]
fn missing_policy_id() {
    let problems = problems_of("policy_missing_id");
    assert_eq!(problems.len(), 1);
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::MissingPolicyId);
    assert_eq!(place(problem), ("anonymous.cedar".to_owned(), 2, 1));
}

// -------------------------------------------------------------------- schema

#[test]
fn schema_syntax() {
    let problems = problems_of("schema_syntax");
    assert_eq!(
        problems.len(),
        1,
        "nothing else is checked without a schema"
    );
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::Schema);
    assert_eq!(place(problem), ("shop.cedarschema".to_owned(), 7, 10));
}

#[test]
fn schema_naming_an_undeclared_type() {
    let problems = problems_of("schema_undeclared_type");
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::Schema);
    assert_eq!(place(problem), ("shop.cedarschema".to_owned(), 13, 11));
}

// ------------------------------------------------------------------ entities

#[test]
fn yaml_syntax() {
    let problems = problems_of("yaml_syntax");
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::Syntax);
    assert_eq!(place(problem).0, "team.entities.yaml");
    assert_eq!(place(problem).1, 3);
}

#[test]
fn entities_that_do_not_fit_the_schema_are_pointed_at() {
    let problems = problems_of("entity_misfits_each_named");
    assert_eq!(problems.len(), 2, "{}", common::render(&problems));
    let places: Vec<Place> = problems.iter().map(place).collect();
    // the attribute of the second and of the third entity that does not
    // fit, not the entity's start nor the file's
    assert_eq!(
        places,
        vec![
            ("docs.entities.yaml".to_owned(), 6, 49),
            ("docs.entities.yaml".to_owned(), 9, 83)
        ]
    );
    assert!(problems.iter().all(|p| p.kind() == ProblemKind::Entity));
    let messages: Vec<&str> = problems.iter().map(Problem::message).collect();
    assert!(
        messages[0].contains(r#"Shop::Doc::"minutes""#),
        "{messages:?}"
    );
    assert!(messages[1].contains("colour"), "{messages:?}");
}

#[test]
fn duplicate_uids_name_both_places() {
    let problems = problems_of("entity_duplicate_uid_across_files");
    assert!(
        problems
            .iter()
            .all(|p| p.kind() == ProblemKind::DuplicateEntity)
    );
    let pairs: Vec<(Place, Place)> = problems
        .iter()
        .map(|p| (place(p), place(&p.related_problems()[0])))
        .collect();
    // files load in name order: copies.entities.json, fixture.entities.yaml, …, repeat.entities.yaml
    assert_eq!(
        pairs,
        vec![
            (
                ("fixture.entities.yaml".to_owned(), 7, 3),
                ("copies.entities.json".to_owned(), 3, 3)
            ),
            (
                ("repeat.entities.yaml".to_owned(), 2, 3),
                ("copies.entities.json".to_owned(), 2, 3)
            ),
        ]
    );
}

#[test]
fn hierarchy_cycle() {
    let problems = problems_of("entity_cycle_self");
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::HierarchyCycle);
    assert_eq!(place(problem), ("roles.entities.yaml".to_owned(), 2, 3));
}

#[test]
fn hierarchy_cycle_is_reported_the_same_way_every_time() {
    // a ring auditor -> reviewer -> lead -> auditor: report it from the first entity in file order
    let messages: std::collections::BTreeSet<String> = (0..20)
        .map(|_| {
            let problems = problems_of("entity_cycle");
            let problem = problems.iter().next().unwrap();
            assert_eq!(problem.kind(), ProblemKind::HierarchyCycle);
            format!("{:?} {}", place(problem), problem.message())
        })
        .collect();
    assert_eq!(
        messages.into_iter().collect::<Vec<_>>(),
        vec![
            r#"("team.entities.yaml", 1, 3) the entity hierarchy has a cycle: Shop::Role::"auditor" → Shop::Role::"reviewer" → Shop::Role::"lead" → Shop::Role::"auditor""#
        ]
    );
}

// -------------------------------------------------------- store and products

#[test]
fn unknown_product_names_are_refused_whatever_they_look_like() {
    let store = Store::open(common::seed()).unwrap();
    for name in ["shopp", "", "../seed/schemas/shop", ".hidden", "a/b"] {
        let problems = store.load(name, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            problems.iter().next().unwrap().kind(),
            ProblemKind::UnknownProduct,
            "{name:?}"
        );
    }
}

#[test]
fn missing_store_folders() {
    // a root that does not exist: both folders are missing
    let mut args = vec![
        "authorize",
        "--root",
        "tests/fixtures/no-such-store",
        "-p",
        "shop",
    ];
    args.extend(VIEW);
    assert_run_snapshot!("missing_store_folders", run(&args));
    let kinds = |root: &std::path::Path| -> Vec<ProblemKind> {
        match Store::open(root).and_then(|s| s.load("shop", &LoadOptions::default())) {
            Ok(_) => panic!("{} loaded", root.display()),
            Err(problems) => problems.iter().map(Problem::kind).collect(),
        }
    };
    assert_eq!(
        kinds(&common::fixture("no-such-store")),
        vec![ProblemKind::MissingFolder, ProblemKind::MissingFolder]
    );
    for case in [
        "store_without_policies_folder",
        "store_product_without_folder",
    ] {
        assert_eq!(
            kinds(broken_store(case).path()),
            vec![ProblemKind::MissingFolder],
            "{case}"
        );
    }
}

#[test]
fn unknown_file_names() {
    let problems = problems_of("store_unknown_file_name");
    // README.md is ignored; the misnamed YAML and the schema under policies/ are not
    let mut names: Vec<String> = problems
        .iter()
        .map(|p| {
            assert_eq!(p.kind(), ProblemKind::UnknownFile);
            p.message().to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].contains("shop.cedarschema"), "{names:?}");
    assert!(names[1].contains("team.yaml"), "{names:?}");
}

#[test]
fn a_schema_whose_name_is_not_utf8_is_an_error_not_a_product_left_out() {
    use std::os::unix::ffi::OsStrExt;
    let store = TempStore::copy_of_seed();
    let name = std::ffi::OsStr::from_bytes(b"sh\xffp.cedarschema");
    std::fs::copy(
        store.path().join("schemas/shop.cedarschema"),
        store.path().join("schemas").join(name),
    )
    .unwrap();
    let problems = Store::open(store.path()).unwrap().products().unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::UnknownFile);
    assert!(problem.message().contains("not valid UTF-8"), "{problem}");
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(run.stderr.contains("not valid UTF-8"), "{}", run.stderr);
}

/// `policies/<p>/` without `schemas/<p>.cedarschema` was ignored: `check`
/// passed with a policy inside that does not even parse.
#[test]
fn a_policy_folder_without_a_schema_fails_check() {
    let store = TempStore::copy_of_seed();
    store.write("policies/warehouse/broken.cedar", "permit (");
    store.write(
        "policies/stray.cedar",
        "@id(\"x\") permit (principal, action, resource);",
    );
    store.write("policies/README.md", "notes are fine here");
    let run = store.run(&["check"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("rolegrid::missing-schema"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("schemas/warehouse.cedarschema"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("stray.cedar: a product file outside"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("README.md"), "{}", run.stderr);
    let problems = Store::open(store.path()).unwrap().products().unwrap_err();
    let kinds: Vec<ProblemKind> = problems.iter().map(Problem::kind).collect();
    assert_eq!(
        kinds,
        [ProblemKind::MissingSchema, ProblemKind::UnknownFile]
    );
    // a product asked for by name still loads
    let mut args = vec!["authorize", "-p", "shop"];
    args.extend(VIEW);
    store.run(&args).assert_code(0);
}

// -------------------------------------------------------------- deep nesting

/// A temporary copy of the base store with `policies/shop/deep.cedar`.
fn store_with_policy(text: &str) -> TempStore {
    let store = TempStore::copy_of_seed();
    store.write("policies/shop/deep.cedar", text);
    store
}

fn authorize_temp(store: &TempStore) -> Run {
    let mut args = vec!["authorize", "-p", "shop"];
    args.extend(VIEW);
    store.run(&args)
}

#[test]
fn nesting_1000_parentheses_is_a_clean_error() {
    let store = store_with_policy(&nested_parens_policy(1000));
    let run = authorize_temp(&store);
    run.assert_code(2);
    assert!(run.stderr.contains("rolegrid::limit"), "{}", run.stderr);
    assert!(run.stderr.contains("brackets nest deeper than 128 levels"));
    // the `{` of `when {` is level 1: the 128th parenthesis is level 129
    assert!(run.stderr.contains("deep.cedar:3:135"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn nesting_100000_parentheses_is_a_clean_error() {
    let store = store_with_policy(&nested_parens_policy(100_000));
    let run = authorize_temp(&store);
    run.assert_code(2);
    assert!(run.stderr.contains("rolegrid::limit"));
    assert!(run.stderr.contains("brackets nest deeper than 128 levels"));
    assert!(!run.stderr.contains("overflow"));
}

#[test]
fn nesting_one_parenthesis_per_line_is_a_readable_report() {
    let depth = 1000;
    let text = format!(
        "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{\n{}true{}\n}};\n",
        "(\n".repeat(depth),
        ")".repeat(depth)
    );
    let store = store_with_policy(&text);
    assert_run_snapshot!("nesting_1000_lines", authorize_temp(&store), store);
}

#[test]
fn nesting_report_on_one_long_line_stays_small() {
    let store = store_with_policy(&nested_parens_policy(100_000));
    let run = authorize_temp(&store);
    run.assert_code(2);
    assert!(
        run.stderr.len() < 4096,
        "the report is {} bytes",
        run.stderr.len()
    );
}

#[test]
fn nesting_100000_if_then_else_is_a_clean_error() {
    let depth = 100_000;
    let text = format!(
        "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{ {}true{} }};\n",
        "if true then ".repeat(depth),
        " else false".repeat(depth)
    );
    let store = store_with_policy(&text);
    let run = authorize_temp(&store);
    assert_eq!(
        run.code,
        Some(2),
        "{}",
        &run.stderr[..run.stderr.len().min(2000)]
    );
    assert!(run.stderr.contains("rolegrid::"));
}

#[test]
fn nesting_100000_records_in_a_schema_is_a_clean_error() {
    let store = TempStore::copy_of_seed();
    let schema = std::fs::read_to_string(common::seed().join("schemas/shop.cedarschema")).unwrap();
    let depth = 100_000;
    let deep = format!("{}Long{}", "{a: ".repeat(depth), "}".repeat(depth));
    store.write(
        "schemas/shop.cedarschema",
        &schema.replace(
            "public: Bool,",
            &format!("public: Bool,\n    deep?: {deep},"),
        ),
    );
    let run = authorize_temp(&store);
    assert_eq!(
        run.code,
        Some(2),
        "{}",
        &run.stderr[..run.stderr.len().min(2000)]
    );
    assert!(run.stderr.contains("rolegrid::"));
}

#[test]
fn nesting_100000_brackets_in_entity_files_is_a_clean_error() {
    let store = TempStore::copy_of_seed();
    let depth = 100_000;
    store.write(
        "policies/shop/deep.entities.yaml",
        &format!(
            "- uid: {{type: Shop::Doc, id: deep}}\n  attrs: {{owner: {{type: Shop::User, id: alice}}, public: true, x: {}{}}}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    store.write(
        "policies/shop/deep.entities.json",
        &format!(
            "[{{\"uid\": {{\"type\": \"Shop::Doc\", \"id\": \"deeper\"}}, \"parents\": [], \"attrs\": {{\"x\": {}{}}}}}]\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    let run = authorize_temp(&store);
    run.assert_code(2);
    assert!(run.stderr.contains("recursion limit exceeded"));
    assert!(
        run.stderr
            .contains("invalid JSON: recursion limit exceeded")
    );
}

#[test]
fn nesting_100000_brackets_in_a_request_context_is_a_clean_error() {
    // too long for a command-line argument: sent as a request line on stdin
    let depth = 100_000;
    let line = format!(
        r#"{{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"edit\"", "resource": "Shop::Doc::\"readme\"", "context": {{"ticket": {}1{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    ) + "\n";
    let run = common::run_stdin(
        &["authorize", "--root", SEED, "-p", "shop", "--requests", "-"],
        &line,
    );
    run.assert_code(2);
    assert!(
        run.stdout.starts_with(
            "1: error: not a JSON request: recursion limit exceeded at line 1 column "
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1);
}

/// Runs `child_load_nested_parens_without_limit` (this test binary again) in a
/// child process, so a stack overflow fails the test instead of aborting the run.
fn load_in_child_without_nesting_limit(depth: usize) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "errors::child_load_nested_parens_without_limit",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ROLEGRID_CHILD_DEPTH", depth.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("CHILD-OK"),
        "depth {depth}: the child failed ({:?})\n{stdout}\n{}",
        output.status,
        &stderr[..stderr.len().min(2000)]
    );
}

/// The library with the nesting limit lifted: Cedar's parser gets 1,000
/// nested parentheses on the loader's large stack, and copes.
#[test]
fn nesting_1000_with_the_limit_lifted_loads_in_the_library() {
    load_in_child_without_nesting_limit(1000);
}

#[test]
fn nesting_100000_with_the_limit_lifted_does_not_overflow_in_the_library() {
    load_in_child_without_nesting_limit(100_000);
}

#[test]
#[ignore = "child process of nesting_with_the_limit_lifted_does_not_overflow_in_the_library"]
fn child_load_nested_parens_without_limit() {
    let Some(depth) = std::env::var("ROLEGRID_CHILD_DEPTH")
        .ok()
        .and_then(|d| d.parse::<usize>().ok())
    else {
        return; // run directly: nothing to do
    };
    let sources = Sources {
        policies: vec![rolegrid::SourceFile::new(
            "deep.cedar",
            nested_parens_policy(depth),
        )],
        ..Default::default()
    };
    let options = LoadOptions {
        policy_ids: PolicyIds::RequireAnnotation,
        limits: Limits {
            max_nesting: usize::MAX,
            ..Limits::default()
        },
        ..LoadOptions::default()
    };
    // either a snapshot (Cedar copes) or problems: both are fine, a crash is not
    match build_snapshot(&sources, None, &options) {
        Ok(snapshot) => {
            let request = snapshot
                .request(r#"User::"a""#, r#"Action::"view""#, r#"File::"f""#, None)
                .unwrap();
            let answer = snapshot.authorize(&request);
            println!("CHILD-OK loaded, {:?}", answer.decision());
        }
        Err(problems) => println!("CHILD-OK problems: {problems}"),
    }
}

// ------------------------------------------------------------ not UTF-8 text

#[test]
fn files_that_are_not_utf8() {
    let store = TempStore::copy_of_seed();
    store.write_bytes(
        "policies/shop/latin1.cedar",
        b"// caf\xe9\n@id(\"latin1\")\npermit (principal, action, resource);\n",
    );
    store.write_bytes(
        "policies/shop/latin1.entities.yaml",
        b"- uid: {type: Shop::Role, id: \"r\xf4le\"}\n",
    );
    assert_run_snapshot!(
        "not_utf8_policy_and_entities",
        authorize_temp(&store),
        store
    );

    let store = TempStore::copy_of_seed();
    let mut schema = std::fs::read(common::seed().join("schemas/shop.cedarschema")).unwrap();
    schema.splice(0..0, b"// \xff\xfe\n".iter().copied());
    store.write_bytes("schemas/shop.cedarschema", &schema);
    assert_run_snapshot!("not_utf8_schema", authorize_temp(&store), store);

    let problems = Sources::read_explicit(
        &store.path().join("policies/shop/rules.cedar"),
        Some(&store.path().join("schemas/shop.cedarschema")),
        &[],
        &Limits::default(),
    )
    .unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::Syntax);
    assert_eq!(place(problem), ("shop.cedarschema".to_owned(), 1, 4));
}

// ------------------------------------------------------------------ requests

fn authorize_base(principal: &str, action: &str, resource: &str, context: Option<&str>) -> Run {
    let mut args = vec![
        "authorize",
        "--root",
        SEED,
        "-p",
        "shop",
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ];
    if let Some(context) = context {
        args.extend(["--context", context]);
    }
    run(&args)
}

#[test]
fn request_with_a_bad_uid() {
    assert_run_snapshot!(
        "request_bad_uid",
        authorize_base(
            "Shop::User::alice",
            r#"Shop::Action::"view""#,
            r#"Shop::Doc::"readme""#,
            None
        )
    );
}

#[test]
fn request_with_an_unknown_action() {
    assert_run_snapshot!(
        "request_unknown_action",
        authorize_base(
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"delete""#,
            r#"Shop::Doc::"readme""#,
            None
        )
    );
}

#[test]
fn request_with_a_wrong_context_type() {
    assert_run_snapshot!(
        "request_wrong_context_type",
        authorize_base(
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"edit""#,
            r#"Shop::Doc::"readme""#,
            Some(r#"{"ticket": "T-1"}"#)
        )
    );
}

/// Cedar's message names the context, not what is wrong with it: the help
/// gives the type the schema expects, attribute by attribute.
#[test]
fn request_with_a_wrong_context_type_names_the_attribute_and_type() {
    let run = authorize_base(
        r#"Shop::User::"alice""#,
        r#"Shop::Action::"edit""#,
        r#"Shop::Doc::"readme""#,
        Some(r#"{"ticket": "T-1"}"#),
    );
    run.assert_code(2);
    assert!(run.stderr.contains("ticket"));
    assert!(run.stderr.to_lowercase().contains("long"), "{}", run.stderr);
}

#[test]
fn request_with_a_missing_context_attribute() {
    assert_run_snapshot!(
        "request_missing_context",
        authorize_base(
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"edit""#,
            r#"Shop::Doc::"readme""#,
            None
        )
    );
}

#[test]
fn request_with_a_principal_of_the_wrong_type() {
    assert_run_snapshot!(
        "request_wrong_principal_type",
        authorize_base(
            r#"Shop::Doc::"plan""#,
            r#"Shop::Action::"view""#,
            r#"Shop::Doc::"readme""#,
            None
        )
    );
}

#[test]
fn request_with_a_context_that_is_not_json() {
    assert_run_snapshot!(
        "request_context_not_json",
        authorize_base(
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"edit""#,
            r#"Shop::Doc::"readme""#,
            Some("{ticket: 1}")
        )
    );
}

#[test]
fn request_errors_in_the_library_are_request_problems() {
    let snapshot = Store::open(common::seed())
        .unwrap()
        .load("shop", &LoadOptions::default())
        .unwrap();
    let cases: [(&str, &str, &str, Option<serde_json::Value>); 5] = [
        (
            "Shop::User::alice",
            r#"Shop::Action::"view""#,
            r#"Shop::Doc::"readme""#,
            None,
        ),
        (
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"delete""#,
            r#"Shop::Doc::"readme""#,
            None,
        ),
        (
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"edit""#,
            r#"Shop::Doc::"readme""#,
            Some(serde_json::json!({"ticket": "T-1"})),
        ),
        (
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"edit""#,
            r#"Shop::Doc::"readme""#,
            None,
        ),
        (
            r#"Shop::User::"alice""#,
            r#"Shop::Action::"view""#,
            r#"Shop::Doc::"readme""#,
            Some(serde_json::json!([1, 2])),
        ),
    ];
    for (principal, action, resource, context) in cases {
        let problem = snapshot
            .request(principal, action, resource, context.clone())
            .unwrap_err();
        assert_eq!(
            problem.kind(),
            ProblemKind::Request,
            "{principal} {action} {context:?}"
        );
    }
}

// ------------------------------------------------------- smaller findings

#[test]
fn hierarchy_cycle_in_extra_entities_points_at_the_entity() {
    let snapshot = Store::open(common::seed())
        .unwrap()
        .load("shop", &LoadOptions::default())
        .unwrap();
    let problems = rolegrid::with_entities(
            &snapshot,
            &[rolegrid::SourceFile::new(
                "loop.entities.yaml",
                "# loops\n- uid: {type: Shop::Role, id: loop}\n  parents: [{type: Shop::Role, id: loop}]\n",
            )],
            &Limits::default(),
        )
        .unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::HierarchyCycle, "{}", problem);
    assert_eq!(place(problem), ("loop.entities.yaml".to_owned(), 2, 3));
}

#[test]
fn a_cycle_through_extra_entities_is_refused() {
    // whatever the kind, a cycle must not load
    let snapshot = Store::open(common::seed())
        .unwrap()
        .load("shop", &LoadOptions::default())
        .unwrap();
    let result = rolegrid::with_entities(
        &snapshot,
        &[rolegrid::SourceFile::new(
            "loop.entities.yaml",
            "- uid: {type: Shop::Role, id: a}\n  parents: [{type: Shop::Role, id: b}]\n- uid: {type: Shop::Role, id: b}\n  parents: [{type: Shop::Role, id: a}]\n",
        )],
        &Limits::default(),
    );
    assert!(result.is_err());
}

#[test]
fn a_policy_file_with_a_byte_order_mark() {
    let store = TempStore::copy_of_seed();
    store.write(
        "policies/shop/bom.cedar",
        "\u{feff}@id(\"bom\")\npermit (principal, action == Shop::Action::\"view\", resource);\n",
    );
    let run = authorize_temp(&store);
    let clear = run.code == Some(0)
        || run.stderr.to_lowercase().contains("byte order mark")
        || run.stderr.contains("BOM");
    assert!(clear, "{}", run.snapshot_text(&[]));
}

#[test]
fn an_entity_file_with_a_byte_order_mark_loads() {
    let store = TempStore::copy_of_seed();
    store.write(
        "policies/shop/bom.entities.yaml",
        "\u{feff}- uid: {type: Shop::Role, id: bom}\n",
    );
    authorize_temp(&store).assert_code(0);
}

#[test]
fn an_empty_entity_file_is_an_error_with_help() {
    let store = TempStore::copy_of_seed();
    store.write("policies/shop/empty.entities.yaml", "\n  \n");
    assert_run_snapshot!("empty_entity_file", authorize_temp(&store), store);
}

#[test]
fn an_entity_file_of_only_comments_is_treated_like_an_empty_one() {
    let store = TempStore::copy_of_seed();
    store.write(
        "policies/shop/empty.entities.yaml",
        "# the entities will go here\n",
    );
    authorize_temp(&store).assert_code(2);
}

#[test]
fn a_yaml_alias_bomb_is_a_clean_error() {
    let store = TempStore::copy_of_seed();
    let mut text = String::from("- &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (name, previous) in [
        ("b", "a"),
        ("c", "b"),
        ("d", "c"),
        ("e", "d"),
        ("f", "e"),
        ("g", "f"),
        ("h", "g"),
    ] {
        let refs = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("- &{name} [{refs}]\n"));
    }
    store.write("policies/shop/bomb.entities.yaml", &text);
    let run = authorize_temp(&store);
    run.assert_code(2);
    // a syntax or limit problem, whichever: at the file, quickly, no crash
    assert!(run.stderr.starts_with("rolegrid::"), "{}", run.stderr);
    assert!(
        run.stderr.contains("policies/shop/bomb.entities.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn windows_line_endings_keep_locations() {
    let store = TempStore::copy_of_seed();
    store.write(
        "policies/shop/crlf.cedar",
        "@id(\"crlf\")\r\npermit (principal, action, resource)\r\nwhen { resource.nope };\r\n",
    );
    let run = authorize_temp(&store);
    run.assert_code(2);
    assert!(
        run.stderr.contains("[policies/shop/crlf.cedar:3:8]"),
        "{}",
        run.stderr
    );
}

#[test]
fn explicit_files_that_do_not_exist() {
    let run = run(&[
        "authorize",
        "--policies",
        "tests/fixtures/no-such.cedar",
        "--schema",
        "tests/fixtures/no-such.cedarschema",
        "--entities",
        "tests/fixtures/no-such.entities.json",
        VIEW[0],
        VIEW[1],
        VIEW[2],
        VIEW[3],
        VIEW[4],
        VIEW[5],
    ]);
    assert_run_snapshot!("explicit_missing_files", run);
}

/// A file's policies are validated in chunks on every core: its problems are
/// still all reported, in file order, every time.
#[test]
fn validation_problems_of_a_large_file_come_in_file_order() {
    let mut text = String::new();
    let broken = [2usize, 9, 17, 18, 30];
    for i in 0..32 {
        let attribute = if broken.contains(&i) {
            "publik"
        } else {
            "public"
        };
        text.push_str(&format!(
            "@id(\"p{i}\")\npermit(principal, action == Shop::Action::\"view\", resource is Shop::Doc)\nwhen {{ resource.{attribute} }};\n"
        ));
    }
    let store = store_with_policy(&text);
    let lines = || -> Vec<usize> {
        let problems = match Store::open(store.path())
            .unwrap()
            .load("shop", &LoadOptions::default())
        {
            Ok(_) => panic!("the broken policies loaded"),
            Err(problems) => problems,
        };
        problems
            .iter()
            .filter(|p| p.kind() == ProblemKind::PolicyValidation)
            .map(|p| place(p).1)
            .collect()
    };
    // policy i starts on line 3i+1; its condition is on line 3i+3
    let expected: Vec<usize> = broken.iter().map(|i| 3 * i + 3).collect();
    for _ in 0..3 {
        assert_eq!(lines(), expected);
    }
}

/// Validation runs beside the join of the entities: a hierarchy cycle across
/// two entity files (found only when they are joined) is reported when the
/// policies are valid, and left out, as before, when they are not.
#[test]
fn a_cycle_across_entity_files_is_reported_unless_the_policies_are_invalid() {
    let store = TempStore::with_product(
        "shop",
        "namespace Shop { entity Group in [Group]; entity User in [Group]; entity Doc; \
         action view appliesTo { principal: User, resource: Doc }; }",
    );
    store.write(
        "policies/shop/a.entities.yaml",
        "- uid: {type: Shop::Group, id: a}\n  parents: [{type: Shop::Group, id: b}]\n",
    );
    store.write(
        "policies/shop/b.entities.yaml",
        "- uid: {type: Shop::Group, id: b}\n  parents: [{type: Shop::Group, id: a}]\n",
    );
    let kinds = || -> Vec<ProblemKind> {
        match Store::open(store.path())
            .unwrap()
            .load("shop", &LoadOptions::default())
        {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(Problem::kind).collect(),
        }
    };
    store.write(
        "policies/shop/p.cedar",
        "@id(\"view\") permit (principal, action == Shop::Action::\"view\", resource);\n",
    );
    assert_eq!(kinds(), [ProblemKind::HierarchyCycle]);
    store.write(
        "policies/shop/p.cedar",
        "@id(\"view\") permit (principal, action == Shop::Action::\"view\", resource) when { resource.nope };\n",
    );
    assert_eq!(kinds(), [ProblemKind::PolicyValidation]);
}
