//! The synthetic store generator: deterministic, and its stores load, agree
//! with plain Cedar and pass `rolegrid check`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use cedar_policy::Authorizer;
use rolegrid::{Answer, LoadOptions, Store};
use rolegrid_synth::{SynthConfig, SynthStore};

fn small() -> SynthConfig {
    SynthConfig {
        seed: 7,
        policies: 200,
        entities: 2_000,
        expectations: 240,
        ..SynthConfig::default()
    }
}

#[test]
fn same_config_same_files_other_seed_other_files() {
    let a = SynthStore::generate(&small()).unwrap();
    let b = SynthStore::generate(&small()).unwrap();
    assert_eq!(a.files(), b.files());
    let c = SynthStore::generate(&SynthConfig { seed: 8, ..small() }).unwrap();
    assert_ne!(a.files(), c.files());
    // the layout: a schema, a global policy file, a policy and an entity file per type
    let product = &a.products()[0];
    let paths: Vec<String> = a
        .files()
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(paths.contains(&"schemas/synth.cedarschema".to_owned()));
    assert!(paths.contains(&"policies/synth/global.cedar".to_owned()));
    assert!(paths.contains(&"policies/synth/accounts.entities.yaml".to_owned()));
    assert!(paths.contains(&"policies/synth/expectations-000.test.yaml".to_owned()));
    let cedar_files = paths.iter().filter(|p| p.ends_with(".cedar")).count();
    assert_eq!(cedar_files, product.resource_types + 1);
}

#[test]
fn sizes_are_as_asked() {
    let config = SynthConfig {
        products: 2,
        policies: 123,
        entities: 1_500,
        expectations: 130,
        ..small()
    };
    let store = SynthStore::generate(&config).unwrap();
    assert_eq!(store.products().len(), 2);
    for product in store.products() {
        assert_eq!(product.policies, 123);
        assert_eq!(product.entities, 1_500);
        assert_eq!(product.cases.len(), 130);
        assert!(product.undecided.is_empty(), "{:?}", product.undecided);
    }
    assert_eq!(store.products()[0].name, "synth-0");
    assert_eq!(store.products()[1].namespace, "Synth1");
}

#[test]
fn store_loads_agrees_with_plain_cedar_and_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let generated = SynthStore::generate(&small()).unwrap();
    generated.write(dir.path()).unwrap();
    let product = &generated.products()[0];
    assert!(product.undecided.is_empty(), "{:?}", product.undecided);

    let snapshot = Store::open(dir.path())
        .unwrap()
        .load("synth", &LoadOptions::default())
        .unwrap_or_else(|problems| panic!("{}", common::render(&problems)));
    assert_eq!(snapshot.policy_count(), product.policies);
    assert_eq!(snapshot.entity_count(), product.entities);

    // rolegrid (indexed) = plain Cedar on the full set = the generator's expectations
    let authorizer = Authorizer::new();
    let mut allowed = 0;
    for case in &product.cases {
        let request = snapshot
            .request(&case.principal, &case.action, &case.resource, None)
            .unwrap();
        let ours = snapshot.authorize(&request);
        let plain = Answer::from_response(authorizer.is_authorized(
            &request,
            snapshot.policies(),
            snapshot.entities(),
        ));
        assert_eq!(ours, plain, "{case:?}");
        assert_eq!(ours.decision(), case.decision, "{case:?}");
        let reasons: Vec<String> = ours.reasons().iter().map(ToString::to_string).collect();
        assert_eq!(reasons, case.reasons, "{case:?}");
        allowed += usize::from(ours.is_allowed());
    }
    // both ways: most cases are made to exercise a permit, forbids and random requests deny
    assert!(allowed > product.cases.len() / 2, "{allowed} allowed");
    assert!(
        allowed < product.cases.len() * 95 / 100,
        "{allowed} allowed"
    );

    let root = dir.path().to_str().unwrap();
    let run = common::run(&["check", "--root", root]);
    run.assert_code(0);
    assert!(run.stdout.contains("240 expectations"), "{}", run.stdout);
}

#[test]
fn write_refuses_a_folder_with_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let store = SynthStore::generate(&SynthConfig {
        policies: 20,
        entities: 200,
        expectations: 20,
        ..small()
    })
    .unwrap();
    let problem = store.write(dir.path()).unwrap_err();
    assert!(
        problem.message().contains("not empty"),
        "{}",
        problem.message()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn request_lines_are_cedar_json_requests() {
    let store = SynthStore::generate(&SynthConfig {
        policies: 20,
        entities: 200,
        expectations: 20,
        ..small()
    })
    .unwrap();
    let lines = store.products()[0].request_lines(45);
    assert_eq!(lines.len(), 45);
    assert_eq!(lines[0], lines[20]);
    let spec = rolegrid::RequestSpec::from_json_line(&lines[3]).unwrap();
    assert!(spec.principal.to_string().starts_with("Synth::User::"));
}

/// Entities written as Cedar JSON are the same entities as in YAML: the
/// snapshots answer every case alike, and `check` passes.
#[test]
fn entities_as_cedar_json_load_to_the_same_entities() {
    let yaml_dir = tempfile::tempdir().unwrap();
    let json_dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        policies: 60,
        entities: 400,
        expectations: 80,
        ..small()
    };
    let yaml = SynthStore::generate(&config).unwrap();
    let json = SynthStore::generate(&SynthConfig {
        entities_json: true,
        ..config
    })
    .unwrap();
    yaml.write(yaml_dir.path()).unwrap();
    json.write(json_dir.path()).unwrap();
    assert!(
        json.files()
            .iter()
            .any(|f| f.path.to_string_lossy().ends_with("accounts.entities.json"))
    );
    assert!(
        !json
            .files()
            .iter()
            .any(|f| f.path.to_string_lossy().ends_with(".entities.yaml"))
    );
    let load = |dir: &std::path::Path| {
        Store::open(dir)
            .unwrap()
            .load("synth", &LoadOptions::default())
            .unwrap_or_else(|problems| panic!("{}", common::render(&problems)))
    };
    let (from_yaml, from_json) = (load(yaml_dir.path()), load(json_dir.path()));
    assert_eq!(from_json.entity_count(), from_yaml.entity_count());
    for entity in from_yaml.entities().iter() {
        let other = from_json.entities().get(&entity.uid()).unwrap();
        assert!(entity.deep_eq(other), "{}", entity.uid());
    }
    for case in &json.products()[0].cases {
        let request = from_json
            .request(&case.principal, &case.action, &case.resource, None)
            .unwrap();
        assert_eq!(
            from_json.authorize(&request).decision(),
            case.decision,
            "{case:?}"
        );
    }
    common::run(&["check", "--root", json_dir.path().to_str().unwrap()]).assert_code(0);
}
