//! The command line as users run it: exit codes, the human and JSON answers,
//! batch mode (`--requests FILE` and `-`), explicit mode (`--policies`,
//! `--schema`, `--entities`, positional ids) and extra entities with
//! `--product`. Each run is snapshotted whole: exit code, stdout, stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use common::{Run, TempStore, run, run_stdin};

/// `authorize --root tests/fixtures/shop -p shop` plus `args`.
fn shop(args: &[&str]) -> Run {
    let mut all = vec!["authorize", "--root", "tests/fixtures/shop", "-p", "shop"];
    all.extend_from_slice(args);
    run(&all)
}

/// `authorize --root tests/fixtures/shop -p shop --requests -` with `stdin`.
fn shop_batch(extra: &[&str], stdin: &str) -> Run {
    let mut all = vec![
        "authorize",
        "--root",
        "tests/fixtures/shop",
        "-p",
        "shop",
        "--requests",
        "-",
    ];
    all.extend_from_slice(extra);
    run_stdin(&all, stdin)
}

fn snap(run: &Run) -> String {
    run.snapshot_text(&[])
}

const ALICE: &str = r#"Shop::User::"alice""#;
const GIL: &str = r#"Shop::User::"gil""#;
const VIEW: &str = r#"Shop::Action::"view""#;
const EDIT: &str = r#"Shop::Action::"edit""#;
const README: &str = r#"Shop::Doc::"readme""#;
const PLAN: &str = r#"Shop::Doc::"plan""#;

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_0_when_allowed() {
    let run = shop(&["--principal", ALICE, "--action", VIEW, "--resource", README]);
    run.assert_code(0);
    insta::assert_snapshot!(snap(&run));
}

#[test]
fn exit_0_when_denied_by_default() {
    // a decision was made: denial is an answer, not an error
    let run = shop(&["--principal", ALICE, "--action", VIEW, "--resource", PLAN]);
    run.assert_code(0);
    insta::assert_snapshot!(snap(&run));
}

#[test]
fn exit_0_when_denied_by_a_forbid() {
    let run = shop(&["--principal", GIL, "--action", VIEW, "--resource", README]);
    run.assert_code(0);
    insta::assert_snapshot!(snap(&run));
}

#[test]
fn exit_2_on_invalid_input() {
    // a store that does not load, a request that does not fit the schema
    let broken = crate::bad_inputs::broken_store("policy_missing_semicolon");
    run(&[
        "authorize",
        "--root",
        broken.path().to_str().unwrap(),
        "-p",
        "shop",
        "--principal",
        ALICE,
        "--action",
        VIEW,
        "--resource",
        README,
    ])
    .assert_code(2);
    shop(&[
        "--principal",
        README,
        "--action",
        VIEW,
        "--resource",
        README,
    ])
    .assert_code(2);
}

#[test]
fn exit_2_on_usage_errors() {
    // no request
    let run = shop(&[]);
    run.assert_code(2);
    assert!(run.stderr.contains("--principal"), "{}", run.stderr);
    // neither --product nor --policies
    let run = common::run(&[
        "authorize",
        "--principal",
        ALICE,
        "--action",
        VIEW,
        "--resource",
        README,
    ]);
    run.assert_code(2);
    insta::assert_snapshot!("no_source", snap(&run));
    // both --product and --policies
    common::run(&[
        "authorize",
        "-p",
        "imagekit",
        "--policies",
        "policies/imagekit",
        "--principal",
        ALICE,
        "--action",
        VIEW,
        "--resource",
        README,
    ])
    .assert_code(2);
    // --requests with a single request's flags
    shop(&["--requests", "-", "--principal", ALICE]).assert_code(2);
    // an unknown command, an unknown flag, a bad --format
    common::run(&["authorise"]).assert_code(2);
    shop(&["--principle", ALICE]).assert_code(2);
    shop(&[
        "--principal",
        ALICE,
        "--action",
        VIEW,
        "--resource",
        README,
        "--format",
        "xml",
    ])
    .assert_code(2);
}

#[test]
fn help_and_version_exit_0() {
    let run = common::run(&["--help"]);
    run.assert_code(0);
    assert!(run.stdout.contains("authorize"));
    let run = common::run(&["authorize", "--help"]);
    run.assert_code(0);
    for flag in [
        "--root",
        "--product",
        "--policies",
        "--schema",
        "--entities",
        "--requests",
        "--format",
    ] {
        assert!(run.stdout.contains(flag), "{flag} missing from --help");
    }
    let run = common::run(&["--version"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("rolegrid {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn no_color_gives_plain_reports() {
    let run = shop(&[
        "--principal",
        README,
        "--action",
        VIEW,
        "--resource",
        README,
    ]);
    run.assert_code(2);
    assert!(!run.stderr.contains('\u{1b}'), "escape codes with NO_COLOR");
    assert!(!run.stdout.contains('\u{1b}'));
}

// ------------------------------------------------------------- JSON answers

#[test]
fn json_answer_shape() {
    let run = shop(&[
        "--principal",
        ALICE,
        "--action",
        EDIT,
        "--resource",
        PLAN,
        "--context",
        r#"{"ticket": 7}"#,
        "--format",
        "json",
    ]);
    run.assert_code(0);
    insta::assert_snapshot!(snap(&run));
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let object = value.as_object().unwrap();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, ["decision", "reasons", "errors"]);
    assert_eq!(value["decision"], "allow");
    assert_eq!(value["reasons"], serde_json::json!(["owner-edits"]));
    assert_eq!(value["errors"], serde_json::json!([]));
    // exactly one line
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn json_answer_with_evaluation_errors() {
    // explicit mode without a schema: nothing is validated, so a policy can
    // fail at evaluation; the error names the policy and the request goes on
    let store = TempStore::new();
    store.write(
        "p.cedar",
        concat!(
            "@id(\"needs-level\")\n",
            "permit (principal, action, resource) when { context.level > 3 };\n",
            "@id(\"everyone\")\n",
            "permit (principal, action, resource);\n",
            "forbid (principal, action, resource) when { principal.banned };\n",
        ),
    );
    let args = [
        "authorize",
        "--policies",
        "p.cedar",
        "--principal",
        r#"User::"a""#,
        "--action",
        r#"Action::"view""#,
        "--resource",
        r#"File::"f""#,
    ];
    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let run = store.run(&json);
    run.assert_code(0);
    insta::assert_snapshot!("json_evaluation_errors", snap(&run));
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["decision"], "allow");
    assert_eq!(value["reasons"], serde_json::json!(["everyone"]));
    let errors = value["errors"].as_array().unwrap();
    let policies: Vec<&str> = errors
        .iter()
        .map(|e| e["policy"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["needs-level", "policy2"]);
    for error in errors {
        let keys: Vec<&str> = error
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["policy", "message"]);
    }
    let run = store.run(&args);
    run.assert_code(0);
    insta::assert_snapshot!("human_evaluation_errors", snap(&run));
}

// ---------------------------------------------------------------- batch mode

/// Five request lines; the third is not JSON, the fifth names an action the
/// schema lacks. One blank line is skipped (but counted).
fn batch_lines() -> String {
    [
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#,
        r#"{"principal": {"type": "Shop::User", "id": "alice"}, "action": {"type": "Shop::Action", "id": "edit"}, "resource": {"type": "Shop::Doc", "id": "plan"}, "context": {"ticket": 1}}"#,
        r#"{"principal": "Shop::User::\"alice\"", "action": "#,
        "",
        r#"{"principal": "Shop::User::\"gil\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#,
        r#"{"principal": "Shop::User::\"gil\"", "action": "Shop::Action::\"share\"", "resource": "Shop::Doc::\"readme\""}"#,
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"plan\"", "context": {}}"#,
    ]
    .join("\n")
        + "\n"
}

#[test]
fn batch_from_stdin_answers_every_line_and_exits_2_on_a_bad_one() {
    let run = shop_batch(&[], &batch_lines());
    run.assert_code(2);
    insta::assert_snapshot!(snap(&run));
    let numbers: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "5", "6", "7"]);
}

#[test]
fn batch_from_a_file_in_json() {
    let store = TempStore::new();
    let requests = store.write("requests.jsonl", &batch_lines());
    let run = common::run(&[
        "authorize",
        "--root",
        "tests/fixtures/shop",
        "-p",
        "shop",
        "--requests",
        requests.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.assert_code(2);
    insta::assert_snapshot!(run.snapshot_text(&[(&store.path_str(), "[TMP]")]));
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    for (index, line) in lines.iter().enumerate() {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        if index == 2 || index == 4 {
            assert_eq!(keys, ["error"]);
            let error_keys: Vec<&str> = line["error"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(error_keys, ["line", "kind", "message"]);
        } else {
            assert_eq!(keys, ["line", "decision", "reasons", "errors"]);
        }
    }
    assert_eq!(lines[2]["error"]["line"], 3);
    assert_eq!(lines[4]["error"]["line"], 6);
    assert_eq!(lines[4]["error"]["kind"], "request");
}

#[test]
fn batch_of_good_lines_exits_0_and_keeps_order() {
    let line = |who: &str, doc: &str| {
        format!(
            r#"{{"principal": "Shop::User::\"{who}\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"{doc}\""}}"#
        )
    };
    let mut input = String::new();
    let mut expected = String::new();
    for i in 0..200 {
        let (who, doc, answer) = match i % 3 {
            0 => ("alice", "readme", "ALLOW (public-view)"),
            1 => ("alice", "plan", "DENY"),
            _ => ("gil", "readme", "DENY (tenant-isolation)"),
        };
        input.push_str(&line(who, doc));
        input.push('\n');
        expected.push_str(&format!("{}: {answer}\n", i + 1));
    }
    let run = shop_batch(&[], &input);
    run.assert_code(0);
    assert_eq!(run.stdout, expected);
    assert!(run.stderr.is_empty());
}

#[test]
fn batch_of_many_lines_keeps_order_and_numbers_across_chunks() {
    // more lines than one round of parallel answering, bad lines scattered
    let good = |who: &str, doc: &str| {
        format!(
            r#"{{"principal": "Shop::User::\"{who}\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"{doc}\""}}"#
        )
    };
    let mut input = String::new();
    let mut expected = String::new();
    for i in 1..=9000 {
        let (line, answer) = match i % 7 {
            0 => (
                "{not json".to_owned(),
                "error: not a JSON request".to_owned(),
            ),
            1 | 3 => (good("alice", "readme"), "ALLOW (public-view)".to_owned()),
            2 | 5 => (good("gil", "readme"), "DENY (tenant-isolation)".to_owned()),
            _ => (good("alice", "plan"), "DENY".to_owned()),
        };
        input.push_str(&line);
        input.push('\n');
        if i % 1000 == 0 {
            input.push('\n'); // a blank line: skipped, but counted
        }
        expected.push_str(&format!("{i}: {answer}\n"));
    }
    let run = shop_batch(&[], &input);
    run.assert_code(2);
    // the line numbers after each blank line move on by one
    let mut shift = 0;
    let mut want = String::new();
    for (index, line) in expected.lines().enumerate() {
        let i = index + 1;
        let (_, answer) = line.split_once(": ").unwrap();
        want.push_str(&format!("{}: {answer}\n", i + shift));
        if i % 1000 == 0 {
            shift += 1;
        }
    }
    let got: Vec<String> = run
        .stdout
        .lines()
        .map(|l| match l.split_once(": error: not a JSON request") {
            Some((number, _)) => format!("{number}: error: not a JSON request"),
            None => l.to_owned(),
        })
        .collect();
    assert_eq!(got.len(), 9000);
    assert_eq!(got.join("\n") + "\n", want);
}

#[test]
fn batch_of_nothing_exits_0() {
    let run = shop_batch(&[], "");
    run.assert_code(0);
    assert!(run.stdout.is_empty());
    let run = shop_batch(&[], "\n  \n\n");
    run.assert_code(0);
    assert!(run.stdout.is_empty());
}

#[test]
fn batch_request_errors_by_kind() {
    let input = [
        // not an object
        "[1, 2]",
        // a field rolegrid does not know
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\"", "contxt": {}}"#,
        // a missing field
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\""}"#,
        // a bad uid
        r#"{"principal": "alice", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#,
        // a context of the wrong type
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"edit\"", "resource": "Shop::Doc::\"plan\"", "context": {"ticket": "one"}}"#,
        // a context that is not an object
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"edit\"", "resource": "Shop::Doc::\"plan\"", "context": 1}"#,
        // fine
        r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"edit\"", "resource": "Shop::Doc::\"plan\"", "context": {"ticket": 1}}"#,
    ]
    .join("\n");
    let run = shop_batch(&["--format", "json"], &input);
    run.assert_code(2);
    insta::assert_snapshot!(snap(&run));
    assert_eq!(run.stdout.lines().count(), 7);
}

#[test]
fn batch_goes_on_after_a_line_that_is_not_utf8() {
    let store = TempStore::new();
    let good = r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(good.as_bytes());
    bytes.extend_from_slice(b"\n{\"principal\": \"Shop::User::\\\"al\xffce\\\"\"}\n");
    bytes.extend_from_slice(good.as_bytes());
    bytes.push(b'\n');
    let requests = store.write_bytes("requests.jsonl", &bytes);
    let run = common::run(&[
        "authorize",
        "--root",
        "tests/fixtures/shop",
        "-p",
        "shop",
        "--requests",
        requests.to_str().unwrap(),
    ]);
    run.assert_code(2);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.snapshot_text(&[]));
    assert_eq!(lines[0], "1: ALLOW (public-view)");
    assert!(lines[1].starts_with("2: error"));
    assert_eq!(lines[2], "3: ALLOW (public-view)");
}

/// A request line longer than `--max-file-size` is answered with an error
/// (no more than the limit of it is held); the lines after it are answered.
#[test]
fn batch_refuses_a_line_longer_than_the_size_limit_and_goes_on() {
    let good = r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#;
    // valid JSON, the same request padded to 2 KiB
    let long = format!("{}{}}}", &good[..good.len() - 1], " ".repeat(2048));
    let input = format!("{good}\n{long}\n{good}\n{long}");
    for format in ["human", "json"] {
        let run = shop_batch(&["--max-file-size", "1K", "--format", format], &input);
        run.assert_code(2);
        insta::assert_snapshot!(format!("batch_line_too_long_{format}"), run.stdout);
    }
}

#[test]
fn batch_file_that_does_not_exist() {
    let run = shop(&["--requests", "tests/fixtures/no-such-requests.jsonl"]);
    run.assert_code(2);
    insta::assert_snapshot!(snap(&run));
}

// ------------------------------------------------------------- explicit mode

const EXPLICIT: &str = "tests/fixtures/explicit-basic";

fn explicit(extra: &[&str], principal: &str, action: &str, resource: &str) -> Run {
    let policies = format!("{EXPLICIT}/policies.cedar");
    let schema = format!("{EXPLICIT}/schema.cedarschema");
    let entities = format!("{EXPLICIT}/entities.json");
    let mut args = vec![
        "authorize",
        "--policies",
        &policies,
        "--schema",
        &schema,
        "--entities",
        &entities,
    ];
    args.extend_from_slice(extra);
    args.extend([
        "--principal",
        principal,
        "--action",
        action,
        "--resource",
        resource,
    ]);
    run(&args)
}

#[test]
fn explicit_mode_uses_positional_ids_where_there_is_no_id() {
    // policy0 allows alice to view the album; policy2 forbids others' private photos
    let run = explicit(
        &[],
        r#"User::"alice""#,
        r#"Action::"view""#,
        r#"Photo::"beach.jpg""#,
    );
    run.assert_code(0);
    insta::assert_snapshot!("explicit_positional_allow", snap(&run));
    let run = explicit(
        &[],
        r#"User::"alice""#,
        r#"Action::"view""#,
        r#"Photo::"diary.jpg""#,
    );
    run.assert_code(0);
    insta::assert_snapshot!("explicit_positional_forbid", snap(&run));
    // the annotated policy keeps its @id
    let run = explicit(
        &["--format", "json"],
        r#"User::"bob""#,
        r#"Action::"edit""#,
        r#"Photo::"diary.jpg""#,
    );
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "{\"decision\":\"allow\",\"reasons\":[\"owners-edit\"],\"errors\":[]}\n"
    );
}

#[test]
fn explicit_mode_positional_ids_flag_ignores_annotations() {
    let run = explicit(
        &["--positional-ids", "--format", "json"],
        r#"User::"bob""#,
        r#"Action::"edit""#,
        r#"Photo::"diary.jpg""#,
    );
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "{\"decision\":\"allow\",\"reasons\":[\"policy1\"],\"errors\":[]}\n"
    );
}

#[test]
fn explicit_mode_with_yaml_and_json_entities() {
    let yaml = format!("{EXPLICIT}/more.entities.yaml");
    let run = explicit(
        &["--entities", &yaml],
        r#"User::"bob""#,
        r#"Action::"view""#,
        r#"Photo::"sunset.jpg""#,
    );
    run.assert_code(0);
    insta::assert_snapshot!("explicit_yaml_entities", snap(&run));
}

#[test]
fn explicit_mode_with_a_folder_counts_positions_across_files() {
    let args = |level: &str| {
        vec![
            "authorize".to_owned(),
            "--policies".to_owned(),
            "tests/fixtures/explicit-folder/policies".to_owned(),
            "--principal".to_owned(),
            r#"User::"a""#.to_owned(),
            "--action".to_owned(),
            r#"Action::"view""#.to_owned(),
            "--resource".to_owned(),
            r#"File::"f""#.to_owned(),
            "--context".to_owned(),
            format!("{{\"level\": {level}}}"),
            "--format".to_owned(),
            "json".to_owned(),
        ]
    };
    let decide = |level: &str| {
        let args = args(level);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run(&args);
        run.assert_code(0);
        run.stdout
    };
    assert_eq!(
        decide("1"),
        "{\"decision\":\"allow\",\"reasons\":[\"policy2\"],\"errors\":[]}\n"
    );
    assert_eq!(
        decide("5"),
        "{\"decision\":\"allow\",\"reasons\":[\"policy0\"],\"errors\":[]}\n"
    );
    assert_eq!(
        decide("9"),
        "{\"decision\":\"deny\",\"reasons\":[\"policy1\"],\"errors\":[]}\n"
    );
}

#[test]
fn explicit_mode_validates_against_the_schema() {
    let store = TempStore::new();
    store.write(
        "p.cedar",
        "permit (principal, action == Action::\"view\", resource) when { resource.colour == \"red\" };\n",
    );
    store.write(
        "s.cedarschema",
        "entity User;\nentity Photo { private: Bool };\naction view appliesTo { principal: User, resource: Photo };\n",
    );
    let request = [
        "--principal",
        r#"User::"a""#,
        "--action",
        r#"Action::"view""#,
        "--resource",
        r#"Photo::"p""#,
    ];
    let mut args = vec![
        "authorize",
        "--policies",
        "p.cedar",
        "--schema",
        "s.cedarschema",
    ];
    args.extend(request);
    let run = store.run(&args);
    run.assert_code(2);
    insta::assert_snapshot!("explicit_validation_error", snap(&run));
    // --no-validate: the schema still types the request, the policy is not checked
    args.push("--no-validate");
    let run = store.run(&args);
    run.assert_code(0);
    assert!(run.stdout.starts_with("DENY"), "{}", run.stdout);
    // without a schema nothing is validated
    let mut args = vec!["authorize", "--policies", "p.cedar"];
    args.extend(request);
    store.run(&args).assert_code(0);
}

#[test]
fn explicit_mode_batch() {
    let input = [
        r#"{"principal": "User::\"alice\"", "action": "Action::\"view\"", "resource": "Photo::\"beach.jpg\""}"#,
        r#"{"principal": "User::\"alice\"", "action": "Action::\"view\"", "resource": "Photo::\"diary.jpg\""}"#,
        r#"{"principal": "User::\"bob\"", "action": "Action::\"edit\"", "resource": "Photo::\"diary.jpg\""}"#,
        r#"{"principal": "User::\"bob\"", "action": "Action::\"edit\"", "resource": "Album::\"vacation\""}"#,
    ]
    .join("\n");
    let run = run_stdin(
        &[
            "authorize",
            "--policies",
            "tests/fixtures/explicit-basic/policies.cedar",
            "--schema",
            "tests/fixtures/explicit-basic/schema.cedarschema",
            "--entities",
            "tests/fixtures/explicit-basic/entities.json",
            "--requests",
            "-",
        ],
        &input,
    );
    run.assert_code(2);
    insta::assert_snapshot!(snap(&run));
}

// ------------------------------------------- extra entities with --product

#[test]
fn product_with_extra_entities() {
    // an outsider: a user of a third tenant, and a new document of acme
    let store = TempStore::new();
    store.write(
        "outsider.entities.yaml",
        concat!(
            "- uid: {type: Shop::Account, id: initech}\n",
            "- uid: {type: Shop::User, id: olga}\n",
            "  attrs: {account: {type: Shop::Account, id: initech}}\n",
            "  parents: [{type: Shop::Account, id: initech}]\n",
            "- uid: {type: Shop::Doc, id: olgas-notes}\n",
            "  attrs: {owner: {type: Shop::User, id: olga}, public: true}\n",
            "  parents: [{type: Shop::Account, id: initech}]\n",
        ),
    );
    let extra = store.path().join("outsider.entities.yaml");
    let extra = extra.to_str().unwrap();
    let run = shop(&[
        "--entities",
        extra,
        "--principal",
        r#"Shop::User::"olga""#,
        "--action",
        VIEW,
        "--resource",
        README,
    ]);
    run.assert_code(0);
    assert!(
        run.stdout
            .starts_with("DENY\n  because of tenant-isolation"),
        "{}",
        run.stdout
    );
    let run = shop(&[
        "--entities",
        extra,
        "--principal",
        r#"Shop::User::"olga""#,
        "--action",
        VIEW,
        "--resource",
        r#"Shop::Doc::"olgas-notes""#,
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("ALLOW\n  because of public-view"),
        "{}",
        run.stdout
    );
    // the extra entities serve batch mode too
    let run = shop_batch(
        &["--entities", extra],
        concat!(
            r#"{"principal": "Shop::User::\"olga\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"olgas-notes\""}"#,
            "\n",
            r#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"olgas-notes\""}"#,
            "\n"
        ),
    );
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "1: ALLOW (public-view)\n2: DENY (tenant-isolation)\n"
    );
}

#[test]
fn product_with_extra_entities_that_clash() {
    let store = TempStore::new();
    store.write(
        "clash.entities.yaml",
        concat!(
            "# alice is already in the product's fixture\n",
            "- uid: {type: Shop::User, id: alice}\n",
            "  attrs: {account: {type: Shop::Account, id: globex}}\n",
            "  parents: [{type: Shop::Account, id: globex}]\n",
        ),
    );
    store.write(
        "misfit.entities.yaml",
        "- uid: {type: Shop::Doc, id: memo}\n  attrs: {public: maybe}\n",
    );
    for file in ["clash.entities.yaml", "misfit.entities.yaml"] {
        let path = store.path().join(file);
        let run = shop(&[
            "--entities",
            path.to_str().unwrap(),
            "--principal",
            ALICE,
            "--action",
            VIEW,
            "--resource",
            README,
        ]);
        run.assert_code(2);
        insta::assert_snapshot!(
            format!("extra_entities_{}", file.split('.').next().unwrap()),
            run.snapshot_text(&[(&store.path_str(), "[TMP]")])
        );
    }
}

/// Resident memory of a process in KiB (`VmRSS` in `/proc/<pid>/status`).
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The status lines of a running `rolegrid watch` (`[pass] watching ...`).
struct WatchRuns(std::sync::mpsc::Receiver<String>);

impl WatchRuns {
    /// The next run's status line, or an error after `timeout`.
    fn recv_timeout(&self, timeout: std::time::Duration) -> Result<String, ()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.0.recv_timeout(left).map_err(|_| ())?;
            if line.contains("] watching") {
                return Ok(line);
            }
        }
    }
}

/// `rolegrid watch` frees each run's snapshots and report before the next
/// run: its memory stays flat over many re-runs of `check` on the shipped
/// store (each run builds several MB, which were once kept for good).
#[test]
#[cfg(target_os = "linux")]
fn watch_memory_stays_flat_over_many_runs() {
    const WARM_UP: usize = 5;
    const RUNS: usize = 40;
    let store = TempStore::copy_of_shipped();
    let (mut child, lines) = common::spawn_lines(&["watch", "--root", &store.path_str()]);
    let pid = child.id();
    let ran = WatchRuns(lines);
    let edited = store.path().join("policies/fireworks/tenant.cedar");
    let original = std::fs::read_to_string(&edited).unwrap();
    let mut after_warm_up = 0;
    for run in 1..=RUNS {
        let line = ran
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("run {run} of watch did not finish"));
        assert!(line.starts_with("[pass]"), "run {run}: {line}");
        if run == WARM_UP {
            after_warm_up = resident_kib(pid);
        }
        if run < RUNS {
            // a change the next run must read: a comment more each time
            std::fs::write(&edited, format!("{original}\n// edit {run}\n")).unwrap();
        }
    }
    let at_end = resident_kib(pid);
    let _ = child.kill();
    let _ = child.wait();
    let grown = at_end.saturating_sub(after_warm_up);
    assert!(
        grown < 40 * 1024,
        "watch grew by {grown} KiB over {} runs ({after_warm_up} KiB after run {WARM_UP}, {at_end} KiB after run {RUNS})",
        RUNS - WARM_UP
    );
}

/// `rolegrid watch` keeps watching a `policies/` folder replaced whole
/// (deleted and copied back): a broken edit afterwards is reported as
/// invalid input, not passed over with the last `[pass]`.
#[test]
fn watch_follows_a_policies_folder_replaced_whole() {
    let store = TempStore::copy_of_shipped();
    let (mut child, lines) = common::spawn_lines(&["watch", "--root", &store.path_str()]);
    let ran = WatchRuns(lines);
    let next_run = |what: &str| {
        ran.recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no run of watch after {what}"))
    };
    assert!(next_run("the start").starts_with("[pass]"));
    let policies = store.path().join("policies");
    let backup = TempStore::new();
    common::copy_dir(&policies, backup.path());
    std::fs::remove_dir_all(&policies).unwrap();
    common::copy_dir(backup.path(), &policies);
    // the folder went and came back: at least one run, the last one passing
    let mut last = next_run("the folder was replaced");
    while let Ok(line) = ran.recv_timeout(std::time::Duration::from_millis(500)) {
        last = line;
    }
    assert!(last.starts_with("[pass]"), "{last}");
    std::fs::write(policies.join("fireworks/tenant.cedar"), "permit (").unwrap();
    let line = next_run("a broken edit in the new folder");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("[invalid input]"), "{line}");
}

/// A policy whose condition has 500 `||` alternatives (well under the
/// nesting limit) is decided alike in single mode, in a batch and in
/// `check`: every mode decides on a stack of the same size (batch workers
/// and check's products once ran on 2 MiB stacks, where Cedar's evaluator
/// gave up with "recursion limit reached" and the request was denied).
#[test]
fn a_deep_condition_is_decided_alike_in_every_mode() {
    let store = TempStore::with_product(
        "app",
        "namespace App { entity User; entity Doc; action view appliesTo { principal: User, resource: Doc }; }\n",
    );
    let alternatives: Vec<String> = (0..499)
        .map(|i| format!("principal == App::User::\"x{i}\""))
        .chain(["true".to_owned()])
        .collect();
    store.write(
        "policies/app/many.cedar",
        &format!(
            "@id(\"many\")\npermit (principal, action == App::Action::\"view\", resource) when {{ {} }};\n",
            alternatives.join(" || ")
        ),
    );
    store.write(
        "policies/app/fixture.entities.yaml",
        "- uid: {type: App::User, id: a}\n- uid: {type: App::Doc, id: d}\n",
    );
    store.write(
        "policies/app/cases.test.yaml",
        "cases:\n  - name: a views d\n    principal: App::User::\"a\"\n    action: view\n    resource: App::Doc::\"d\"\n    decision: allow\n",
    );
    let request = [
        "--principal",
        r#"App::User::"a""#,
        "--action",
        r#"App::Action::"view""#,
        "--resource",
        r#"App::Doc::"d""#,
    ];
    let single = store.run(&[&["authorize", "-p", "app"][..], &request].concat());
    single.assert_code(0);
    assert!(single.stdout.starts_with("ALLOW"), "{}", single.stdout);
    let line = r#"{"principal": "App::User::\"a\"", "action": "App::Action::\"view\"", "resource": "App::Doc::\"d\""}"#;
    let batch = store.run_stdin(&["authorize", "-p", "app", "--requests", "-"], line);
    batch.assert_code(0);
    assert_eq!(batch.stdout, "1: ALLOW (many)\n");
    store.run(&["check"]).assert_code(0);
}

/// A batch held up to 4,096 lines at once whatever their size: 200 lines of
/// 15 MB peaked at 3.1 GB. Chunks are now bounded in bytes too, so 60 lines of
/// 4 MB (240 MB in all) take less than holding them all would. The bound
/// leaves room for the allocator (mimalloc keeps freed blocks per thread):
/// about 130-155 MiB here, for 60 lines as for 240.
#[test]
#[cfg(target_os = "linux")]
fn batch_memory_is_bounded_by_a_few_lines_not_the_chunk() {
    use std::io::Write;
    const LINES: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let requests = dir.path().join("big.jsonl");
    let pad = "x".repeat(4_000_000);
    let line = format!(
        r#"{{"principal": "ImageKit::User::\"ada-admin\"", "action": "ImageKit::Action::\"addUser\"", "resource": "ImageKit::Account::\"acme\"", "context": {{"role": "{pad}"}}}}"#
    );
    let mut file = std::io::BufWriter::new(std::fs::File::create(&requests).unwrap());
    for _ in 0..LINES {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let path = requests.to_str().unwrap();
    let answers = dir.path().join("answers.jsonl");
    let root = common::root();
    let (code, peak) = common::peak_kib_of_run(
        &root,
        &[
            "authorize",
            "-p",
            "imagekit",
            "--requests",
            path,
            "--format",
            "json",
        ],
        &answers,
    );
    assert_eq!(code, Some(0));
    let answers = std::fs::read_to_string(&answers).unwrap();
    assert_eq!(answers.lines().count(), LINES);
    assert!(
        answers
            .lines()
            .all(|answer| answer.contains("role-must-exist"))
    );
    assert!(
        peak < 200 * 1024,
        "batch peaked at {} MiB for {LINES} lines of 4 MB",
        peak / 1024
    );
}

/// `authorize` took only full uids and inline JSON: `--action addUser` was
/// "not an entity uid" and `--context ctx.json` "not JSON". It now takes
/// what expectation files take, and a context inline, as `@FILE` or a path.
#[test]
fn authorize_takes_short_names_and_a_context_file() {
    let dir = tempfile::tempdir().unwrap();
    let context = dir.path().join("ctx.json");
    std::fs::write(&context, r#"{"role": "developer"}"#).unwrap();
    let at_file = format!("@{}", context.display());
    let path = context.display().to_string();
    let ask = |principal: &str, action: &str, resource: &str, context: &str| {
        let run = common::run(&[
            "authorize",
            "-p",
            "imagekit",
            "--principal",
            principal,
            "--action",
            action,
            "--resource",
            resource,
            "--context",
            context,
            "--format",
            "json",
        ]);
        run.assert_code(0);
        run.stdout
    };
    let full = ask(
        r#"ImageKit::User::"ada-admin""#,
        r#"ImageKit::Action::"addUser""#,
        r#"ImageKit::Account::"acme""#,
        r#"{"role": "developer"}"#,
    );
    assert!(full.contains(r#""decision":"allow""#), "{full}");
    assert_eq!(
        ask(
            r#"User::"ada-admin""#,
            "addUser",
            r#"Account::"acme""#,
            &at_file
        ),
        full
    );
    assert_eq!(
        ask(
            r#"User::"ada-admin""#,
            r#"Action::"addUser""#,
            r#"Account::"acme""#,
            &path
        ),
        full
    );
}

/// An unknown action got no did-you-mean, and a single `authorize --format
/// json` error reached stderr only: a pipeline reading stdout saw nothing.
#[test]
fn authorize_names_the_action_meant_and_gives_json_errors_on_stdout() {
    let run = common::run(&[
        "authorize",
        "-p",
        "imagekit",
        "--principal",
        r#"User::"ada-admin""#,
        "--action",
        "viewMeda",
        "--resource",
        r#"File::"logo""#,
        "--format",
        "json",
    ]);
    run.assert_code(2);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(json["status"], "error");
    assert_eq!(json["problems"][0]["kind"], "request");
    assert_eq!(json["problems"][0]["help"], "did you mean `viewMedia`?");
    assert!(run.stderr.contains("did you mean `viewMedia`?"));
}

/// A typo'd principal was decided without a word (Cedar decides an absent
/// entity as one with no attributes and no parents): the answer now comes
/// with a note naming the entity meant.
#[test]
fn authorize_notes_an_entity_no_file_holds() {
    let run = common::run(&[
        "authorize",
        "-p",
        "imagekit",
        "--principal",
        r#"User::"ada-admn""#,
        "--action",
        "addUser",
        "--resource",
        r#"Account::"acme""#,
        "--context",
        r#"{"role": "developer"}"#,
    ]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("DENY"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains(r#"--principal User::"ada-admn" is in no entity file"#)
            && run.stderr.contains(r#"did you mean User::"ada-admin"?"#),
        "{}",
        run.stderr
    );
}

/// Answers carried no line number and no correlation id (`{"id": ...}` was
/// an unknown field), so a client that lost count could not resync; and
/// `--watch` without `--requests` was silently ignored.
#[test]
fn every_answer_names_its_line_and_echoes_the_requests_id() {
    let request = |id: &str| {
        format!(
            r#"{{{id}"principal": "Fireworks::User::\"ada-admin\"", "action": "Fireworks::Action::\"view\"", "resource": "Fireworks::Model::\"model-ada\""}}"#
        )
    };
    let input = format!(
        "{}\n\n{}\n{{\"id\": 7, \"principal\": \"bad\"}}\n",
        request(r#""id": "req-42", "#),
        request("")
    );
    for mode in [&["--requests", "-"][..], &["--watch", "--requests", "-"]] {
        let mut args = vec!["authorize", "-p", "fireworks", "--format", "json"];
        args.extend_from_slice(mode);
        let run = common::run_in(&common::root(), &args, Some(&input));
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{mode:?}: {}", run.stdout);
        assert_eq!(lines[0]["line"], 1);
        assert_eq!(lines[0]["id"], "req-42");
        assert_eq!(lines[0]["decision"], "allow");
        // the blank line 2 gets no answer; a line without an id gets none back
        assert_eq!(lines[1]["line"], 3);
        assert!(lines[1].get("id").is_none());
        assert_eq!(lines[2]["error"]["line"], 4);
        assert_eq!(lines[2]["error"]["id"], 7);
    }
    let run = common::run(&[
        "authorize",
        "-p",
        "fireworks",
        "--watch",
        "--principal",
        r#"User::"ada-admin""#,
        "--action",
        "view",
        "--resource",
        r#"Model::"model-ada""#,
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("--watch needs --requests"),
        "{}",
        run.stderr
    );
}

/// `watch --format json` mixed `[pass] watching…` lines with pretty-printed
/// multi-line documents: no client could read it as a stream, and runs had
/// no time. stdout is now JSON Lines, one check document per run, led by
/// its number and time; the status line goes to stderr.
#[test]
fn watch_in_json_writes_one_document_per_run() {
    let store = TempStore::copy_of("check-pass");
    let (mut child, ran) =
        common::spawn_lines(&["watch", "--root", &store.path_str(), "--format", "json"]);
    let next = |what: &str| -> serde_json::Value {
        let line = ran
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no line from watch after {what}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON document: {e}: {line}"))
    };
    let first = next("the start");
    assert_eq!(first["run"], 1);
    assert_eq!(first["status"], "pass");
    assert_eq!(first["version"], 2);
    let time = first["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && time.contains('T'), "{time}");
    store.write("policies/docs/docs.cedar", "permit (");
    let second = next("a broken edit");
    assert_eq!(second["run"], 2);
    assert_eq!(second["status"], "error");
    let _ = child.kill();
    let _ = child.wait();
}

/// Authors could not see why a request was denied without reading Cedar's
/// evaluator. `--explain` lists every policy with what of its scope
/// matched and what its condition gave, and the permits that came closest,
/// in single and batch mode, human and JSON.
#[test]
fn explain_says_why_a_request_is_denied() {
    let ask = [
        "authorize",
        "-p",
        "fireworks",
        "--principal",
        r#"User::"ivan-inference""#,
        "--action",
        "create",
        "--resource",
        r#"Model::"new-model-ivan""#,
        "--explain",
    ];
    let run = common::run(&ask);
    run.assert_code(0);
    assert!(run.stdout.starts_with("DENY\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "create-new-resources                        permit  scope matches; condition false"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("closest permits:\n    create-new-resources: scope matches; condition false"),
        "{}",
        run.stdout
    );
    let mut json_args = ask.to_vec();
    json_args.extend(["--format", "json"]);
    let run = common::run(&json_args);
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["closest_permits"][0], "create-new-resources");
    let policies = json["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 11);
    let tenant = policies
        .iter()
        .find(|p| p["id"] == "tenant-isolation")
        .unwrap();
    assert_eq!(
        tenant["scope"],
        serde_json::json!({"principal": true, "action": true, "resource": true})
    );
    assert_eq!(tenant["condition"]["result"], "false");
    let line = r#"{"principal": "Fireworks::User::\"ivan-inference\"", "action": "Fireworks::Action::\"create\"", "resource": "Fireworks::Model::\"new-model-ivan\""}"#;
    let run = common::run_in(
        &common::root(),
        &[
            "authorize",
            "-p",
            "fireworks",
            "--requests",
            "-",
            "--explain",
            "--format",
            "json",
        ],
        Some(&format!("{line}\n")),
    );
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(answer["line"], 1);
    assert_eq!(answer["policies"].as_array().unwrap().len(), 11);
}

/// The HTML matrix showed every mark as a missing-glyph box in a browser
/// without an emoji font, and there was no page with every product. `rolegrid
/// report` writes one page with each product's coverage and matrix, marks
/// drawn as inline SVG. The page is opened in headless Chromium (installed
/// by `.ci/run`; the test fails in CI without it): its DOM holds each
/// product and every mark as SVG, and a screenshot is left for reviewers in
/// `target/tmp/report-screenshot.png`.
#[test]
fn report_page_shows_every_product_with_font_independent_marks() {
    let out = tempfile::tempdir().unwrap();
    let run = common::run(&["report", "--out", out.path().to_str().unwrap()]);
    run.assert_code(0);
    let page = out.path().join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for emoji in ['✅', '❌', '🟡', '⚠'] {
        assert!(!html.contains(emoji), "the page uses the emoji {emoji}");
    }
    // one SVG mark per matrix cell, and the legends' marks
    let mut cells = 0;
    let mut products = 0;
    for product in [
        "dataimporter",
        "fireworks",
        "imagekit",
        "imagekit-2020",
        "rudderstack",
    ] {
        assert!(
            html.contains(&format!("<h2 id=\"{product}\">{product}</h2>")),
            "{product}"
        );
        let json = common::run(&["matrix", "-p", product, "--format", "json"]);
        let matrix: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        for group in matrix["groups"].as_array().unwrap() {
            for row in group["rows"].as_array().unwrap() {
                cells += row["cells"].as_array().unwrap().len();
            }
        }
        products += 1;
    }
    let marks = html.matches("<svg class=\"mark ").count();
    assert!(
        marks >= cells && marks <= cells + 4 * products,
        "{marks} marks for {cells} cells"
    );
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing: .ci/run installs it"
        );
        eprintln!("report test: no chromium here, the page was not opened in a browser");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let browse = |extra: &[&str]| {
        std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let dom = String::from_utf8(browse(&["--dump-dom"]).stdout).unwrap();
    assert!(
        dom.contains("<h1>rolegrid: roles and permissions</h1>"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert_eq!(dom.matches("<svg class=\"mark ").count(), marks);
    assert!(dom.contains("<h2 id=\"rudderstack\">rudderstack</h2>"));
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    browse(&[
        "--window-size=1200,1600",
        &format!("--screenshot={}", shot.display()),
    ]);
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot at {}", shot.display());
    println!("report screenshot: {}", shot.display());
}

/// `--entities` took only a path; it now takes Cedar JSON inline and
/// `@FILE` as well, like `--context`, in product and explicit mode.
#[test]
fn authorize_takes_entities_inline_or_as_at_file() {
    let zed = r#"[{"uid": {"type": "Fireworks::User", "id": "zed"}, "attrs": {"account": {"type": "Fireworks::Account", "id": "acme"}}, "parents": [{"type": "Fireworks::Role", "id": "admin"}, {"type": "Fireworks::Account", "id": "acme"}]}]"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zed.entities.json");
    std::fs::write(&file, zed).unwrap();
    let at_file = format!("@{}", file.display());
    for entities in [zed, at_file.as_str()] {
        let run = common::run(&[
            "authorize",
            "-p",
            "fireworks",
            "--entities",
            entities,
            "--principal",
            r#"User::"zed""#,
            "--action",
            "view",
            "--resource",
            r#"Model::"model-ada""#,
        ]);
        run.assert_code(0);
        assert!(run.stdout.starts_with("ALLOW"), "{}", run.stdout);
    }
    // a misfit inline is reported as such, with its place
    let run = common::run(&[
        "authorize",
        "-p",
        "fireworks",
        "--entities",
        r#"[{"uid": {"type": "Fireworks::User", "id": "zed"}, "attrs": {}, "parents": []}]"#,
        "--principal",
        r#"User::"zed""#,
        "--action",
        "view",
        "--resource",
        r#"Model::"model-ada""#,
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("(--entities 1).entities.json:1:2"),
        "{}",
        run.stderr
    );
}
