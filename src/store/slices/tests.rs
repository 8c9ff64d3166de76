//! Validation against a slice of the schema against Cedar's validation with
//! the whole schema: for every policy the slice is used for, the errors and
//! warnings (kind, place, policy, message, as Cedar's `Debug` shows them)
//! are the same, whether the slice is the policy's own or one shared by the
//! policies of a file. Cedar's reports are the whole schema's in any case
//! (the loader validates again where the slice finds anything); this checks
//! that the slice neither misses nor adds anything.
//!
//! Inputs: every combination of a set of scopes and conditions over a
//! schema with two namespaces, action groups, an action that applies to
//! nothing and actions that apply to different principal types; the shipped
//! models; Cedar's example policies; a generated store. The whole Cedar
//! corpus is the opt-in `slices_match_cedar_on_the_corpus`.

use super::{Plan, Slicer};
use crate::store::test_data::{cedar_tests, ending, generated, root, unpacked_corpus};
use cedar_policy::{Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use cedar_policy_core::validator::ValidatorSchema;
use std::collections::HashMap;
use std::path::PathBuf;

/// Cedar's errors and warnings for each of `policies`, sorted.
fn diagnostics<'p>(
    validator: &Validator,
    policies: impl IntoIterator<Item = &'p Policy>,
) -> HashMap<PolicyId, Vec<String>> {
    let policies: Vec<&Policy> = policies.into_iter().collect();
    let Ok(set) = PolicySet::from_policies(policies.iter().map(|p| (*p).clone())) else {
        panic!("policies of one set make a set");
    };
    let mut found: HashMap<PolicyId, Vec<String>> = policies
        .iter()
        .map(|p| (p.id().clone(), Vec::new()))
        .collect();
    let result = validator.validate(&set, ValidationMode::Strict);
    let errors = result
        .validation_errors()
        .map(|e| (e.policy_id(), format!("error {e:?}")));
    let warnings = result
        .validation_warnings()
        .map(|w| (w.policy_id(), format!("warning {w:?}")));
    for (id, diagnostic) in errors.chain(warnings) {
        found
            .entry(id.clone())
            .or_default()
            .push(without_suggestions(&diagnostic));
    }
    for list in found.values_mut() {
        list.sort();
    }
    found
}

/// `diagnostic` without the names Cedar suggests for an unknown entity type
/// or action: it picks among equally close names in the hash order of the
/// schema instance, which differs between two instances of the same schema.
fn without_suggestions(diagnostic: &str) -> String {
    let mut out = diagnostic.to_owned();
    for field in ["suggested_entity_type: Some(", "suggested_action_id: Some("] {
        if let Some(start) = out.find(field).map(|at| at + field.len())
            && let Some(len) = out.get(start..).and_then(|rest| rest.find(')'))
        {
            out.replace_range(start..start + len, "_");
        }
    }
    out
}

/// How the policies of one check went.
#[derive(Debug, Default)]
struct Tally {
    /// Policies checked against a slice (their own or a shared one).
    sliced: usize,
    /// Of those, policies Cedar finds something wrong with.
    with_diagnostics: usize,
    /// Policies the plan leaves to the whole schema.
    whole: usize,
}

/// Checks every policy of `policies` that a plan slices: alone, and with
/// all of `policies` sharing one slice.
fn check(schema: &Schema, policies: &[Policy]) -> Tally {
    let expected = diagnostics(&Validator::new(schema.clone()), policies);
    let compare = |plan: &Plan, tally: &mut Tally| {
        if let Some((slice, sliced)) = &plan.sliced {
            for (id, found) in diagnostics(slice.validator(), sliced) {
                let policy = policies.iter().find(|p| *p.id() == id);
                assert_eq!(found, expected[&id], "policy {policy:?}");
                tally.sliced += 1;
                tally.with_diagnostics += usize::from(!found.is_empty());
            }
        }
        tally.whole += plan.whole.len();
    };
    let slicer = Slicer::new(schema);
    let mut tally = Tally::default();
    for policy in policies {
        // every policy that can have a slice, however large
        compare(&slicer.plan_up_to([policy], 100), &mut tally);
    }
    let mut shared = Tally::default();
    compare(&slicer.plan_up_to(policies, 100), &mut shared);
    compare(&slicer.plan(policies), &mut shared);
    tally
}

fn policies_of(text: &str) -> Vec<Policy> {
    let set: PolicySet = text.parse().unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    set.policies().cloned().collect()
}

const SCHEMA: &str = r#"
namespace NS {
  entity Group;
  entity User in [Group] { level: Long };
  entity Admin in [Group];
  entity Folder;
  entity Doc in [Folder] { owner: User };
  action group;
  action read in [group] appliesTo { principal: [User, Admin], resource: [Doc, Folder], context: { ip: String } };
  action write in [group] appliesTo { principal: [User], resource: [Doc], context: {} };
  action admin appliesTo { principal: [Admin], resource: [Folder], context: { ip: Long } };
  action none;
}
namespace Other {
  entity Thing;
  action ping appliesTo { principal: [Thing, NS::User], resource: [Thing], context: {} };
}
"#;

/// Every principal scope, action scope, resource scope and condition below,
/// combined: 792 policies, valid and not.
#[test]
fn slices_match_cedar_on_every_combination_of_scopes() {
    let schema = Schema::from_cedarschema_str(SCHEMA).unwrap().0;
    let principals = [
        "principal",
        r#"principal == NS::User::"a""#,
        r#"principal == NS::Admin::"a""#,
        r#"principal in NS::Group::"g""#,
        "principal is NS::User",
        r#"principal is NS::Admin in NS::Group::"g""#,
        r#"principal == NS::Action::"read""#,
        r#"principal in Other::Thing::"x""#,
        "principal is Undeclared",
    ];
    let actions = [
        r#"action == NS::Action::"read""#,
        r#"action in [NS::Action::"read", NS::Action::"write"]"#,
        r#"action in NS::Action::"group""#,
        r#"action in [NS::Action::"read", Other::Action::"ping"]"#,
        r#"action == NS::Action::"none""#,
        r#"action == NS::Action::"missing""#,
        "action in []",
        "action",
    ];
    let resources = [
        "resource",
        "resource is NS::Doc",
        r#"resource in NS::Folder::"f""#,
        r#"resource == NS::Doc::"d""#,
        "resource is NS::User",
    ];
    let conditions = [
        "",
        "when { principal.level > 1 }",
        "when { resource.owner == principal }",
        r#"when { context.ip == "10.0.0.1" }"#,
        r#"when { 1 + "a" == 2 }"#,
        r#"unless { action == NS::Action::"write" }"#,
        r#"when { action in NS::Action::"group" }"#,
    ];
    // every scope with every other, and every condition with every
    // principal and action scope (Cedar types the condition only where the
    // scope is not false)
    let mut text = String::new();
    for p in principals {
        for a in actions {
            for r in resources {
                text.push_str(&format!("permit({p}, {a}, {r});\n"));
            }
            for c in conditions.iter().skip(1) {
                text.push_str(&format!("permit({p}, {a}, resource) {c};\n"));
            }
        }
    }
    let policies = policies_of(&text);
    assert_eq!(policies.len(), 9 * 8 * (5 + 6));
    let tally = check(&schema, &policies);
    assert!(
        tally.sliced > 450 && tally.with_diagnostics > 300 && tally.whole > 0,
        "{tally:?}"
    );
}

/// The slice keeps every entity type, action and member: rebuilt from its
/// parts, a schema is the same schema (so `ValidatorSchema::new`, which the
/// slices are made with, loses nothing).
#[test]
fn a_schema_rebuilt_from_its_parts_is_the_same() {
    for text in std::iter::once(SCHEMA.to_owned()).chain(shipped().map(|(schema, _)| schema)) {
        let schema = Schema::from_cedarschema_str(&text).unwrap().0;
        let core: &ValidatorSchema = schema.as_ref();
        let rebuilt =
            ValidatorSchema::new(core.entity_types().cloned(), core.action_ids().cloned());
        assert!(rebuilt == *core);
    }
}

/// The shipped models' schema and policy texts.
fn shipped() -> impl Iterator<Item = (String, String)> {
    let mut products: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    products.sort();
    products.into_iter().map(|folder| {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let schema =
            std::fs::read_to_string(root().join("schemas").join(format!("{name}.cedarschema")))
                .unwrap();
        let mut policies = String::new();
        for file in crate::store::walk(&folder, &crate::limits::Limits::default()).unwrap() {
            if file.extension().is_some_and(|e| e == "cedar") {
                policies.push_str(&std::fs::read_to_string(&file).unwrap());
                policies.push('\n');
            }
        }
        (schema, policies)
    })
}

#[test]
fn slices_match_cedar_on_the_shipped_models() {
    let mut sliced = 0;
    for (schema, policies) in shipped() {
        let schema = Schema::from_cedarschema_str(&schema).unwrap().0;
        sliced += check(&schema, &policies_of(&policies)).sliced;
    }
    assert!(sliced > 50, "{sliced}");
}

/// Cedar's example use cases and the other integration tests that come
/// with a schema (their policies and schemas as the corpus has them).
#[test]
fn slices_match_cedar_on_cedar_example_policies() {
    let corpus = cedar_tests();
    let mut checked = 0;
    for folder in ["example_use_cases", "multi", "ip", "decimal"] {
        let mut tests: Vec<PathBuf> = std::fs::read_dir(corpus.join("tests").join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        tests.sort();
        for test in tests {
            let spec: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&test).unwrap()).unwrap();
            let path = |key: &str| corpus.join(spec[key].as_str().unwrap());
            let schema = std::fs::read_to_string(path("schema")).unwrap();
            let schema = Schema::from_cedarschema_str(&schema).unwrap().0;
            let policies = policies_of(&std::fs::read_to_string(path("policies")).unwrap());
            checked += check(&schema, &policies).sliced;
        }
    }
    assert!(checked > 10, "{checked}");
}

#[test]
fn slices_match_cedar_on_a_generated_store() {
    let store = generated(400, 100);
    let text_of = |suffix: &str| -> String {
        ending(&store, suffix)
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let schema = Schema::from_cedarschema_str(&text_of(".cedarschema"))
        .unwrap()
        .0;
    let tally = check(&schema, &policies_of(&text_of(".cedar")));
    assert!(tally.sliced > 300 && tally.whole > 0, "{tally:?}");
}

/// Every policy and schema of Cedar's generated corpus (7,809 tests,
/// policies the fuzzer wrote, most of them invalid). Opt-in:
/// `cargo test --release --lib slices -- --ignored --nocapture`.
#[test]
#[ignore = "unpacks Cedar's corpus (139 MB); run on demand"]
fn slices_match_cedar_on_the_corpus() {
    let (_dir, corpus) = unpacked_corpus();
    let mut total = Tally::default();
    let mut tests = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "cedarschema") {
            continue;
        }
        let Ok((schema, _)) =
            Schema::from_cedarschema_str(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        let Ok(set) = std::fs::read_to_string(path.with_extension("cedar"))
            .unwrap()
            .parse::<PolicySet>()
        else {
            continue;
        };
        let policies: Vec<Policy> = set.policies().cloned().collect();
        let tally = check(&schema, &policies);
        total.sliced += tally.sliced;
        total.with_diagnostics += tally.with_diagnostics;
        total.whole += tally.whole;
        tests += 1;
    }
    println!("{tests} corpus tests: {total:?}");
    assert!(tests > 7000 && total.sliced > 1000, "{tests}: {total:?}");
}

/// Policies that need the whole schema are left to it: any action, a
/// template link.
#[test]
fn what_a_slice_cannot_serve_is_left_to_the_whole_schema() {
    let schema = Schema::from_cedarschema_str(SCHEMA).unwrap().0;
    let any = policies_of(r#"permit(principal, action, resource);"#);
    assert_eq!(Slicer::new(&schema).plan(&any).whole.len(), 1);
    let mut set: PolicySet =
        r#"@id("t") permit(principal == ?principal, action == NS::Action::"read", resource);"#
            .parse()
            .unwrap();
    set.link(
        PolicyId::new("policy0"),
        PolicyId::new("link"),
        [(
            cedar_policy::SlotId::principal(),
            r#"NS::User::"a""#.parse().unwrap(),
        )]
        .into(),
    )
    .unwrap();
    let plan = Slicer::new(&schema).plan(set.policies());
    assert!(plan.sliced.is_none() && plan.whole.len() == 1);
}
