//! `rolegrid prove` (and `check` proving): the seed models' invariants and
//! built-in checks are proved; broken variants are refuted with
//! counterexamples the authorizer confirms and whose cases paste into the
//! product's expectations; a time-out is unknown, never proved.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use crate::common::{self, Run, TempStore};
use serde_json::Value;

/// `prove --format json` in `store` (the repository when `None`).
fn prove_json(store: Option<&TempStore>, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["prove", "--format", "json"];
    all.extend(args);
    let run = match store {
        Some(store) => store.run(&all),
        None => common::run(&all),
    };
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", run.snapshot_text(&[])));
    (run, json)
}

/// The check named `kind` about `subject` in the product's proof.
fn check<'a>(product: &'a Value, kind: &str, subject: &str) -> &'a Value {
    product["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind && c["subject"] == subject)
        .unwrap_or_else(|| panic!("no {kind} {subject} in {product:#}"))
}

#[test]
fn every_seed_model_proves_its_invariants_and_the_built_in_checks() {
    if !common::solver_present() {
        return;
    }
    let (run, json) = prove_json(None, &[]);
    run.assert_code(0);
    assert_eq!(json["version"], 1);
    assert_eq!(json["passed"], true);
    let products = json["products"].as_array().unwrap();
    let names: Vec<&str> = products
        .iter()
        .map(|p| p["product"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "dataimporter",
            "fireworks",
            "imagekit",
            "imagekit-2020",
            "rudderstack"
        ]
    );
    for product in products {
        let checks = product["checks"].as_array().unwrap();
        let invariants: Vec<&Value> = checks.iter().filter(|c| c["kind"] == "invariant").collect();
        assert!(invariants.len() >= 3, "{product:#}");
        // each kind of claim is used, tenant isolation everywhere
        check(product, "invariant", "tenant-isolation");
        check(product, "deny-by-default", "");
        for check in checks {
            assert_eq!(check["status"], "proved", "{check:#}");
        }
        assert!(product["queries"].as_u64().unwrap() > 0);
    }
    let musts: std::collections::BTreeSet<&str> = products
        .iter()
        .flat_map(|p| p["checks"].as_array().unwrap())
        .filter_map(|c| c["must"].as_str())
        .collect();
    assert_eq!(
        musts.into_iter().collect::<Vec<_>>(),
        ["always", "never", "within"]
    );
}

/// A copy of the shipped store with `edit` applied to one of its files.
fn broken(file: &str, edit: impl FnOnce(String) -> String) -> TempStore {
    let store = TempStore::copy_of_shipped();
    let path = store.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
    store
}

/// A copy of the shipped store with one more file.
fn with_file(file: &str, text: &str) -> TempStore {
    let store = TempStore::copy_of_shipped();
    store.write(file, text);
    store
}

/// Proves `product` in `store`: exit 1, the check refuted, each of its
/// counterexamples confirmed by the authorizer; returns the check.
fn refuted(store: &TempStore, product: &str, kind: &str, subject: &str) -> Value {
    let (run, json) = prove_json(Some(store), &["--product", product]);
    run.assert_code(1);
    let proof = &json["products"][0];
    assert_eq!(proof["passed"], false);
    let found = check(proof, kind, subject).clone();
    assert_eq!(found["status"], "refuted", "{found:#}");
    let witnesses = found["counterexamples"].as_array().unwrap();
    assert!(!witnesses.is_empty(), "{found:#}");
    for witness in witnesses {
        assert_eq!(witness["confirmed"], true, "{witness:#}");
    }
    // nothing else fails
    for other in proof["checks"].as_array().unwrap() {
        if other != &found && other["severity"] == "error" {
            assert_eq!(other["status"], "proved", "{other:#}");
        }
    }
    found
}

/// The shipped store with ImageKit's tenant isolation lifted for `action`.
fn tenant_open_for(action: &str) -> TempStore {
    broken("policies/imagekit/tenant.cedar", |text| {
        text.replace(
            "forbid (principal, action, resource)\n",
            &format!("forbid (principal, action, resource)\nwhen {{ action != ImageKit::Action::\"{action}\" }}\n"),
        )
    })
}

#[test]
fn tenant_isolation_weakened_for_one_action_is_refuted_on_that_action() {
    if !common::solver_present() {
        return;
    }
    let store = tenant_open_for("viewUsers");
    let found = refuted(&store, "imagekit", "invariant", "tenant-isolation");
    let witness = &found["counterexamples"][0];
    assert_eq!(witness["action"], "ImageKit::Action::\"viewUsers\"");
    assert_eq!(
        (witness["decision"].as_str(), witness["expected"].as_str()),
        (Some("allow"), Some("deny"))
    );
}

#[test]
fn an_admin_grant_leaking_to_another_role_is_refuted() {
    if !common::solver_present() {
        return;
    }
    let store = with_file(
        "policies/fireworks/leak.cedar",
        "@id(\"users-change-roles\")\npermit (\n  principal in Fireworks::Role::\"user\",\n  action == Fireworks::Action::\"updateUserRole\",\n  resource\n);\n",
    );
    let found = refuted(&store, "fireworks", "invariant", "only-admins-manage-users");
    assert_eq!(found["must"], "within");
    assert_eq!(
        found["counterexamples"][0]["action"],
        "Fireworks::Action::\"updateUserRole\""
    );
}

#[test]
fn a_forbid_removed_is_refuted() {
    if !common::solver_present() {
        return;
    }
    let store = broken("policies/imagekit/users.cedar", |text| {
        let start = text.find("@id(\"max-users\")").unwrap();
        let end = start + text[start..].find(";\n").unwrap() + 2;
        format!("{}{}", &text[..start], &text[end..])
    });
    let found = refuted(&store, "imagekit", "invariant", "no-user-past-the-limit");
    assert_eq!(found["counterexamples"][0]["decision"], "allow");
}

#[test]
fn a_condition_that_errors_is_refuted_with_the_error() {
    if !common::solver_present() {
        return;
    }
    let store = with_file(
        "policies/imagekit/overflow.cedar",
        "@id(\"finance-big-accounts\")\npermit (\n  principal in ImageKit::Role::\"finance\",\n  action == ImageKit::Action::\"viewPerformance\",\n  resource\n)\nwhen { resource.userCount + resource.maxUsers > 10 };\n",
    );
    let found = refuted(&store, "imagekit", "never-errors", "finance-big-accounts");
    let errors = found["counterexamples"][0]["errors"].as_array().unwrap();
    assert!(
        errors[0].as_str().unwrap().contains("overflow"),
        "{found:#}"
    );
}

#[test]
fn redundant_and_dead_policies_are_warnings_that_do_not_fail() {
    if !common::solver_present() {
        return;
    }
    let store = with_file(
        "policies/imagekit/extra.cedar",
        concat!(
            "@id(\"media-view-again\")\n",
            "permit (principal in ImageKit::Role::\"media-view\", action == ImageKit::Action::\"viewMedia\", resource);\n",
            "@id(\"never-matches\")\n",
            "permit (principal, action == ImageKit::Action::\"tagMedia\", resource)\n",
            "when { resource.viewers.contains(principal) && !resource.viewers.contains(principal) };\n",
        ),
    );
    let (run, json) = prove_json(Some(&store), &["--product", "imagekit"]);
    run.assert_code(0);
    let proof = &json["products"][0];
    for (kind, subject) in [
        ("not-redundant", "media-view-again"),
        ("not-redundant", "media-view-only"),
        ("not-dead", "never-matches"),
    ] {
        let found = check(proof, kind, subject);
        assert_eq!(
            (found["status"].as_str(), found["severity"].as_str()),
            (Some("refuted"), Some("warning")),
            "{found:#}"
        );
        assert!(found["reason"].is_string());
    }
    assert_eq!(
        check(proof, "not-dead", "media-view-again")["status"],
        "proved"
    );
    assert_eq!(
        check(proof, "not-redundant", "media-full-access")["status"],
        "proved"
    );
}

/// The case printed for a counterexample, pasted into the product's
/// expectations: it fails on the broken store and holds once fixed.
#[test]
fn a_counterexample_case_pastes_into_the_expectations() {
    if !common::solver_present() {
        return;
    }
    let shipped =
        std::fs::read_to_string(common::root().join("policies/imagekit/tenant.cedar")).unwrap();
    let store = tenant_open_for("viewBilling");
    let run = store.run(&["prove", "--product", "imagekit"]);
    run.assert_code(1);
    let case = run
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("expectation case: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let tests = store.path().join("policies/imagekit/matrix.test.yaml");
    let text = std::fs::read_to_string(&tests).unwrap();
    std::fs::write(
        &tests,
        text.replacen("cases:\n", &format!("cases:\n  - {case}\n"), 1),
    )
    .unwrap();
    let failing = store.run(&["check", "--product", "imagekit"]);
    failing.assert_code(1);
    assert!(
        failing.stdout.contains("prove: invariant tenant-isolation"),
        "{}",
        failing.stdout
    );
    std::fs::write(store.path().join("policies/imagekit/tenant.cedar"), shipped).unwrap();
    store
        .run(&["check", "--product", "imagekit"])
        .assert_code(0);
}

#[test]
#[cfg(unix)]
fn a_solver_without_an_answer_leaves_checks_unknown_and_fails() {
    let folder = tempfile::tempdir().unwrap();
    let fake = common::unknown_solver(folder.path());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args(["prove", "--product", "fireworks", "--format", "json"])
        .current_dir(common::root())
        .env("CVC5", &fake)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let proof = &json["products"][0];
    let tenant = check(proof, "invariant", "tenant-isolation");
    assert_eq!(tenant["status"], "unknown", "{tenant:#}");
    let statuses: Vec<&str> = proof["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"unknown"));
}

#[test]
fn bad_invariants_are_located_errors_exit_2() {
    let cases = [
        (
            "forbid",
            "@id(\"x\")\n@must(\"never\")\nforbid (principal, action, resource);\n",
            "is a forbid",
        ),
        (
            "no must",
            "@id(\"x\")\npermit (principal, action, resource);\n",
            "has no @must",
        ),
        (
            "bad must",
            "@id(\"x\")\n@must(\"sometimes\")\npermit (principal, action, resource);\n",
            "is not never, within or always",
        ),
        (
            "within naming an entity",
            "@id(\"x\")\n@must(\"within\")\npermit (principal in Fireworks::Role::\"admin\", action, resource);\n",
            "its scope names entities",
        ),
        (
            "no id",
            "@must(\"never\")\npermit (principal, action, resource);\n",
            "@id",
        ),
        (
            "unknown attribute",
            "@id(\"x\")\n@must(\"never\")\npermit (principal, action, resource) when { principal.nope == 1 };\n",
            "nope",
        ),
        (
            "syntax",
            "@id(\"x\")\n@must(\"never\")\npermit (principal, action, resource) when {;\n",
            "unexpected",
        ),
    ];
    for (name, text, message) in cases {
        let store = TempStore::copy_of_shipped();
        store.write("invariants/fireworks/bad.cedar", text);
        let run = store.run(&["prove", "--product", "fireworks"]);
        run.assert_code(2);
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("invariants/fireworks/bad.cedar:"),
            "{name}: {}",
            run.stderr
        );
    }
    let store = TempStore::copy_of_shipped();
    store.write("invariants/nosuch/a.cedar", "");
    let run = store.run(&["prove"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("not a product of this store"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_format_reports_the_refutation() {
    if !common::solver_present() {
        return;
    }
    let store = tenant_open_for("viewUsers");
    let junit = store.run(&["prove", "-p", "imagekit", "--format", "junit"]);
    junit.assert_code(1);
    assert!(
        junit.stdout.contains("<testsuite name=\"prove.imagekit\""),
        "{}",
        junit.stdout
    );
    assert!(
        junit
            .stdout
            .contains("<failure message=\"invariant tenant-isolation (never): refuted\""),
        "{}",
        junit.stdout
    );
    assert!(
        junit
            .stdout
            .contains("file=\"invariants/imagekit/tenant.cedar\""),
        "{}",
        junit.stdout
    );
    let github = store.run(&["prove", "-p", "imagekit", "--format", "github"]);
    github.assert_code(1);
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l.starts_with("::error file=invariants/imagekit/tenant.cedar,line=4,")),
        "{}",
        github.stdout
    );
    let human = store.run(&["prove", "-p", "imagekit"]);
    human.assert_code(1);
    assert!(
        human.stdout.starts_with("imagekit: FAILED: "),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains(
        "REFUTED  invariant tenant-isolation (never) (invariants/imagekit/tenant.cedar:4)"
    ));
}

#[test]
fn check_proves_when_a_solver_is_present_and_says_when_it_is_not() {
    // a hole no expectation of the fixture shows: adding a finance user
    let store = broken("policies/imagekit/tenant.cedar", |text| {
        text.replace(
            "unless { resource in principal.account };",
            "unless { resource in principal.account || (context has role && context.role == \"finance\") };",
        )
    });
    let run_with = |solver: Option<&str>, mode: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rolegrid"));
        command
            .args(["check", "--product", "imagekit", "--prove", mode])
            .current_dir(store.path())
            .env("NO_COLOR", "1");
        if let Some(solver) = solver {
            command.env("CVC5", solver);
        }
        command.output().unwrap()
    };
    // without a solver: the expectations pass, the proof says it was skipped
    let skipped = run_with(Some("/nonexistent/cvc5"), "auto");
    assert_eq!(skipped.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&skipped.stdout);
    assert!(stdout.contains("prove skipped: no SMT solver"), "{stdout}");
    assert_eq!(
        run_with(Some("/nonexistent/cvc5"), "always").status.code(),
        Some(2)
    );
    assert_eq!(
        run_with(Some("/nonexistent/cvc5"), "never").status.code(),
        Some(0)
    );
    if !common::solver_present() {
        return;
    }
    // with one: the fixture's expectations pass, the proof fails the check
    let proved = run_with(None, "auto");
    assert_eq!(proved.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&proved.stdout);
    assert!(
        stdout.contains("REFUTED  invariant tenant-isolation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("check FAILED: the proof failed for 1 of 1 products"),
        "{stdout}"
    );
}
