//! `rolegrid diff`: the change report between two versions of a product
//! (a folder or a git revision), or two models of one product.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use crate::common::{self, TempStore};

const IMAGEKIT_2020: [&str; 9] = [
    "diff",
    "--base",
    ".",
    "--product",
    "imagekit",
    "--base-product",
    "imagekit-2020",
    "--role-map",
    "accountant=finance,marketer=media-full",
];

#[test]
fn imagekit_since_2020_in_every_format() {
    for format in ["human", "markdown", "json", "github"] {
        let mut args = IMAGEKIT_2020.to_vec();
        args.extend(["--format", format]);
        let run = common::run(&args);
        run.assert_code(0);
        insta::assert_snapshot!(
            format!("diff_imagekit_2020_{format}"),
            run.snapshot_text(&[])
        );
    }
}

#[test]
fn fail_on_widen_exits_1_when_a_role_gains_and_narrow_does_not() {
    let mut widen = IMAGEKIT_2020.to_vec();
    widen.extend(["--fail-on", "widen"]);
    common::run(&widen).assert_code(1);
    let mut narrow = IMAGEKIT_2020.to_vec();
    narrow.extend(["--fail-on", "narrow"]);
    common::run(&narrow).assert_code(0);
    let mut any = IMAGEKIT_2020.to_vec();
    any.extend(["--fail-on", "any"]);
    common::run(&any).assert_code(1);
}

#[test]
fn an_unchanged_store_and_a_reformatted_one_report_no_change() {
    let root = common::root();
    let same = common::run(&["diff", "--base", root.to_str().unwrap()]);
    same.assert_code(0);
    assert!(same.stdout.ends_with("no change\n"), "{}", same.stdout);
    assert_eq!(
        same.stdout.matches(": no change").count(),
        5,
        "{}",
        same.stdout
    );
    // comments, blank lines, whitespace and policy order changed everywhere
    let store = TempStore::copy_of_shipped();
    for entry in std::fs::read_dir(store.path().join("policies")).unwrap() {
        for file in std::fs::read_dir(entry.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("cedar") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut policies: Vec<String> = text
                .split_inclusive(";\n")
                .map(|p| format!("// moved\n\n{}\n", p.replace("\n  ", "\n      ")))
                .collect();
            policies.reverse();
            std::fs::write(&path, policies.concat()).unwrap();
        }
    }
    let reformatted = common::run(&[
        "diff",
        "--base",
        root.to_str().unwrap(),
        "--root",
        &store.path_str(),
    ]);
    reformatted.assert_code(0);
    assert_eq!(
        reformatted.stdout.matches(": no change").count(),
        5,
        "{}",
        reformatted.stdout
    );
}

#[test]
fn a_git_revision_is_read_without_touching_the_work_tree() {
    let store = TempStore::copy_of_shipped();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(store.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "shipped"]);
    // inference users may now add users; admins may no longer delete them
    let account = store.path().join("policies/fireworks/account.cedar");
    let mut text = std::fs::read_to_string(&account)
        .unwrap()
        .replace(",\n     Fireworks::Action::\"deleteUser\"]", "]");
    text.push_str("\n@id(\"inference-user-add-users\")\npermit (principal in Fireworks::Role::\"inference-user\", action == Fireworks::Action::\"addUser\", resource);\n");
    std::fs::write(&account, &text).unwrap();
    let run = store.run(&["diff", "--base", "HEAD", "-p", "fireworks"]);
    run.assert_code(0);
    insta::assert_snapshot!("diff_git_revision", run.snapshot_text(&[]));
    store
        .run(&["diff", "--base", "HEAD", "--fail-on", "widen"])
        .assert_code(1);
    store
        .run(&["diff", "--base", "HEAD", "--fail-on", "narrow"])
        .assert_code(1);
    store
        .run(&[
            "diff",
            "--base",
            "HEAD",
            "-p",
            "imagekit",
            "--fail-on",
            "any",
        ])
        .assert_code(0);
    // the work tree is as it was
    assert_eq!(std::fs::read_to_string(&account).unwrap(), text);
    let unknown = store.run(&["diff", "--base", "no-such-rev"]);
    unknown.assert_code(2);
    assert!(unknown.stderr.contains("no-such-rev"), "{}", unknown.stderr);
}

#[test]
fn a_bad_role_map_is_a_usage_error() {
    let run = common::run(&[
        "diff",
        "--base",
        ".",
        "-p",
        "imagekit",
        "--base-product",
        "imagekit-2020",
        "--role-map",
        "accountant",
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("not OLD=NEW"), "{}", run.stderr);
    let run = common::run(&[
        "diff",
        "--base",
        ".",
        "-p",
        "imagekit",
        "--base-product",
        "imagekit-2020",
        "--role-map",
        "nobody=finance",
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("the base has no role `nobody`"),
        "{}",
        run.stderr
    );
}

/// Every permit of each seed model that grants some role a cell of its
/// matrix, deleted or turned into a forbid, is reported: the policy as
/// removed or changed, and at least one cell taken away.
#[test]
fn each_granting_permit_deleted_or_turned_into_a_forbid_is_reported_as_narrowing() {
    use rolegrid::matrix::{Matrix, Verdict};
    for product in [
        "imagekit",
        "imagekit-2020",
        "dataimporter",
        "rudderstack",
        "fireworks",
    ] {
        let snapshot = common::load(product);
        let matrix = Matrix::build(&snapshot).unwrap();
        let granting: std::collections::BTreeSet<String> = matrix
            .groups
            .iter()
            .flat_map(|g| &g.rows)
            .flat_map(|r| &r.cells)
            .filter(|c| c.verdict == Verdict::Allowed && c.permits.len() == 1)
            .flat_map(|c| c.permits.clone())
            .collect();
        assert!(!granting.is_empty(), "{product}");
        for id in &granting {
            let policy = snapshot
                .policies()
                .policy(&cedar_policy::PolicyId::new(id))
                .unwrap();
            let (relative, text, span) = policy_source(&snapshot, policy);
            let written = &text[span];
            for (mutation, replacement) in [
                ("deleted", String::new()),
                (
                    "turned into a forbid",
                    written.replacen("permit", "forbid", 1),
                ),
            ] {
                let store = TempStore::copy_of_shipped();
                std::fs::write(
                    store.path().join(&relative),
                    text.replacen(written, &replacement, 1),
                )
                .unwrap();
                let run = common::run(&[
                    "diff",
                    "--base",
                    common::root().to_str().unwrap(),
                    "--root",
                    &store.path_str(),
                    "-p",
                    product,
                    "--format",
                    "json",
                    "--allow-warnings",
                ]);
                run.assert_code(0);
                let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
                let diff = &json["products"][0];
                assert!(
                    diff["policies"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["id"] == id.as_str()),
                    "{product}: {id} {mutation}: the policy is not listed"
                );
                assert!(
                    diff["changes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c["kind"] == "narrow"),
                    "{product}: {id} {mutation}: no cell taken away"
                );
            }
        }
    }
}

/// The Todo store with the editors' ownership conditions weakened: the
/// fixture holds no todo, so no cell shows it; the proof does, with
/// counterexamples the authorizer confirms.
#[test]
fn prove_finds_what_the_fixture_cannot_show() {
    if !common::solver_present() {
        return;
    }
    let store = todo_without_ownership();
    let base = common::root().join("examples/authzen-todo");
    let base = base.to_str().unwrap();
    let run = store.run(&["diff", "--base", base, "--prove", "--format", "json"]);
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let product = &json["products"][0];
    assert_eq!(
        product["changes"],
        serde_json::json!([]),
        "the fixture shows nothing"
    );
    let proof = product["proof"].as_array().unwrap();
    assert_eq!(proof.len(), 5);
    for env in proof {
        let action = env["action"].as_str().unwrap();
        let weakened = action.contains("can_update_todo") || action.contains("can_delete_todo");
        let expected = if weakened { "widens" } else { "equivalent" };
        assert_eq!(env["outcome"], expected, "{env}");
        if weakened {
            let cex = &env["counterexamples"][0];
            assert_eq!(cex["direction"], "widen");
            assert_eq!(
                (cex["before"].as_str(), cex["after"].as_str()),
                (Some("deny"), Some("allow"))
            );
            assert_eq!(cex["confirmed"], true, "{cex}");
        }
    }
    store
        .run(&["diff", "--base", base, "--prove", "--fail-on", "widen"])
        .assert_code(1);
    // the unchanged store is equivalent everywhere
    let same = common::run(&[
        "diff",
        "--base",
        base,
        "--root",
        base,
        "--prove",
        "--fail-on",
        "any",
    ]);
    same.assert_code(0);
    assert!(
        same.stdout.contains("5 environments, 5 equivalent"),
        "{}",
        same.stdout
    );
}

#[test]
fn prove_without_a_solver_exits_2_saying_how_to_get_one() {
    let root = common::root().join("examples/authzen-todo");
    let root = root.to_str().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args(["diff", "--base", root, "--root", root, "--prove"])
        .env("CVC5", "/nonexistent/cvc5")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pip install cvc5==1.3.1"), "{stderr}");
    // the concrete diff still works without one
    common::run(&["diff", "--base", root, "--root", root]).assert_code(0);
}

/// A policy's text with another action added to its scope (`action ==
/// A` becomes `action in [A, B]`; `action in [A]` gains B), one text per
/// other action of the schema.
fn with_action_added(written: &str, actions: &[String]) -> Vec<String> {
    let Some(scope) = regex::Regex::new(r#"action\s*(==|in)\s*(\[)?"#).ok() else {
        return Vec::new();
    };
    let Some(found) = scope.captures(written) else {
        return Vec::new();
    };
    let (Some(all), Some(operator)) = (found.get(0), found.get(1)) else {
        return Vec::new();
    };
    let listed = found.get(2).is_some();
    actions
        .iter()
        .filter(|action| !written.contains(action.as_str()))
        .filter_map(|action| {
            if operator.as_str() == "in" && listed {
                Some(written.replacen(all.as_str(), &format!("{}{action}, ", all.as_str()), 1))
            } else if operator.as_str() == "==" {
                // `action == A`: A runs up to the closing quote of its id
                let rest = &written[all.end()..];
                let end = rest.find("\"")? + 1;
                let close = rest[end..].find('"')? + end + 1;
                let first = &rest[..close];
                Some(format!(
                    "{}action in [{first}, {action}]{}",
                    &written[..all.start()],
                    &rest[close..]
                ))
            } else {
                None
            }
        })
        .collect()
}

/// A policy's text with its conditions (`when`/`unless` clauses) removed.
fn without_conditions(written: &str) -> Option<String> {
    let start = regex::Regex::new(r"\b(when|unless)\s*\{")
        .ok()?
        .find(written)?
        .start();
    let end = written.rfind('}')?;
    Some(format!("{}{}", &written[..start], &written[end + 1..]))
}

/// Every policy of each seed model deleted, flipped (permit ↔ forbid), with
/// its conditions dropped or with another action added to its scope (the
/// first that validates) is reported: by a cell of the concrete diff,
/// else by the proof with a counterexample the authorizer confirms, else
/// the proof shows the mutation changes no decision at all.
#[test]
fn every_single_policy_mutation_is_reported_by_the_diff_or_the_proof() {
    use rolegrid::diff::{Side, compare_products};
    use rolegrid::matrix::Matrix;
    use rolegrid::prove::{Outcome, Solver, prove_equivalence};
    let solver = common::solver_present().then(|| Solver::find().unwrap());
    let (mut by_cells, mut by_proof, mut no_op, mut added) = (0, 0, Vec::new(), 0);
    for product in [
        "imagekit",
        "imagekit-2020",
        "dataimporter",
        "rudderstack",
        "fireworks",
    ] {
        let base = common::load(product);
        let actions: Vec<String> = base
            .schema()
            .unwrap()
            .actions()
            .map(ToString::to_string)
            .collect();
        let base_matrix = Matrix::build(&base).unwrap();
        let root = common::root();
        for policy in base.policies().policies() {
            let (relative, text, span) = policy_source(&base, policy);
            let written = &text[span];
            let flipped = if written.contains("permit") {
                written.replacen("permit", "forbid", 1)
            } else {
                written.replacen("forbid", "permit", 1)
            };
            let mut mutations = vec![("deleted", vec![String::new()]), ("flipped", vec![flipped])];
            mutations
                .extend(without_conditions(written).map(|text| ("conditions dropped", vec![text])));
            mutations.push(("action added", with_action_added(written, &actions)));
            for (mutation, candidates) in mutations {
                let store = TempStore::copy_of_shipped();
                let options = rolegrid::LoadOptions {
                    deny_warnings: false,
                    ..Default::default()
                };
                // the first candidate that validates (a mutation that does not
                // validate is not a policy change to review)
                let Some(mutated) = candidates.iter().find_map(|replacement| {
                    std::fs::write(
                        store.path().join(&relative),
                        text.replacen(written, replacement, 1),
                    )
                    .unwrap();
                    rolegrid::Store::open(store.path())
                        .unwrap()
                        .load(product, &options)
                        .ok()
                }) else {
                    continue;
                };
                if mutation == "action added" {
                    added += 1;
                }
                let matrix = Matrix::build(&mutated).unwrap();
                let diff = compare_products(
                    Some(Side {
                        snapshot: &base,
                        matrix: &base_matrix,
                        root: &root,
                    }),
                    Some(Side {
                        snapshot: &mutated,
                        matrix: &matrix,
                        root: store.path(),
                    }),
                    product,
                    product,
                    &[],
                );
                let what = format!("{product}: {} {mutation}", policy.id());
                assert!(
                    diff.policies
                        .iter()
                        .any(|p| p.id == policy.id().to_string())
                        || mutation != "deleted",
                    "{what}: not listed"
                );
                if !diff.changes.is_empty() {
                    by_cells += 1;
                    continue;
                }
                let Some(solver) = &solver else {
                    continue;
                };
                let proof = prove_equivalence(
                    solver,
                    mutated.schema().unwrap(),
                    base.policies(),
                    mutated.policies(),
                    60_000,
                    2,
                );
                assert!(
                    proof.iter().all(|env| env.outcome != Outcome::Unknown),
                    "{what}: {proof:?}"
                );
                let differing: Vec<_> = proof
                    .iter()
                    .filter(|env| {
                        env.outcome != Outcome::Equivalent && env.outcome != Outcome::Skipped
                    })
                    .collect();
                if differing.is_empty() {
                    no_op.push(what);
                    continue;
                }
                for env in differing {
                    assert!(
                        !env.counterexamples.is_empty()
                            && env.counterexamples.iter().all(|c| c.confirmed),
                        "{what}: {env:?}"
                    );
                }
                by_proof += 1;
            }
        }
    }
    eprintln!(
        "mutations reported by cells: {by_cells}, by the proof only: {by_proof}; changing no decision: {no_op:?}; policies with an action added: {added}"
    );
    assert!(by_cells > 50, "{by_cells}");
    assert!(added > 20, "{added} policies had an action added");
}

/// A solver that answers `unknown` to every check (as a time-out does):
/// every environment that needs the solver is `unknown`, never
/// `equivalent` (identical policies are proved equivalent without it).
#[test]
#[cfg(unix)]
fn a_solver_that_gives_no_answer_makes_environments_unknown_never_equivalent() {
    let folder = tempfile::tempdir().unwrap();
    let fake = common::unknown_solver(folder.path());
    let store = todo_without_ownership();
    let base = common::root().join("examples/authzen-todo");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args([
            "diff",
            "--base",
            base.to_str().unwrap(),
            "--prove",
            "--format",
            "json",
        ])
        .current_dir(store.path())
        .env("CVC5", &fake)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let proof = json["products"][0]["proof"].as_array().unwrap();
    for env in proof {
        let action = env["action"].as_str().unwrap();
        if action.contains("can_update_todo") || action.contains("can_delete_todo") {
            assert_eq!(env["outcome"], "unknown", "{env}");
        }
    }
}

/// The Todo example store with the editors' ownership conditions weakened
/// to `resource has ownerID`: the fixture holds no todo to show it.
fn todo_without_ownership() -> TempStore {
    let store = TempStore::new();
    common::copy_dir(&common::root().join("examples/authzen-todo"), store.path());
    let policies = store.path().join("policies/todo/todo.cedar");
    let text = std::fs::read_to_string(&policies).unwrap().replace(
        "when { resource has ownerID && resource.ownerID == principal.email };",
        "when { resource has ownerID };",
    );
    std::fs::write(&policies, text).unwrap();
    store
}

/// Where a shipped policy is written: its file relative to the repository,
/// the file's text, and the policy's byte range in it.
fn policy_source(
    snapshot: &rolegrid::Snapshot,
    policy: &cedar_policy::Policy,
) -> (std::path::PathBuf, String, std::ops::Range<usize>) {
    let root = common::root();
    let origin = snapshot.policy_origin(policy.id()).unwrap();
    let relative = origin
        .file
        .path()
        .strip_prefix(&root)
        .unwrap_or(origin.file.path())
        .to_path_buf();
    let text = std::fs::read_to_string(root.join(&relative)).unwrap();
    (relative, text, origin.span.clone())
}
