//! The whole product loader: fuzz input split at NUL bytes into a product's
//! files in a temporary store, loaded with `Store::load` (schema, policies,
//! entities validated together), its expectations loaded and run, and
//! requests over its entities decided (rolegrid must equal plain
//! cedar-policy on every one).
//!
//! Parts, in order: `schemas/p.cedarschema`, `policies/p/a.cedar`,
//! `policies/p/fixture.entities.yaml`, `policies/p/b.cedar`,
//! `policies/p/more.entities.json`, `policies/p/matrix.test.yaml`; a missing
//! part is a missing file. A policy part starting with `!` (dropped from
//! the file) asks for permissive options (positional ids, warnings allowed,
//! no validation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolegrid::expect::{RunOptions, Suite, run};
use rolegrid::{LoadOptions, PolicyIds, Store};
use rolegrid_fuzz::{authorize_both, split_parts};
use std::path::PathBuf;
use std::sync::OnceLock;

const FILES: [&str; 6] = [
    "schemas/p.cedarschema",
    "policies/p/a.cedar",
    "policies/p/fixture.entities.yaml",
    "policies/p/b.cedar",
    "policies/p/more.entities.json",
    "policies/p/matrix.test.yaml",
];

fn store_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("rolegrid-fuzz-product-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("schemas")).unwrap();
        std::fs::create_dir_all(dir.join("policies/p")).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = store_dir();
    let mut parts = split_parts(data, FILES.len());
    // a policy part starting with `!` asks for the permissive options
    let permissive = parts.get(1).is_some_and(|p| p.first() == Some(&b'!'));
    if permissive && let Some(part) = parts.get_mut(1) {
        part.remove(0);
    }
    for (i, name) in FILES.iter().enumerate() {
        let path = dir.join(name);
        match parts.get(i) {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let options = if permissive {
        LoadOptions {
            deny_warnings: false,
            validate_policies: false,
            policy_ids: PolicyIds::Positional,
            ..LoadOptions::default()
        }
    } else {
        LoadOptions::default()
    };
    let store = Store::open(dir).unwrap();
    let Ok(snapshot) = store.load("p", &options) else {
        return;
    };
    if let Ok(suite) = Suite::load_product(&snapshot) {
        if suite.check_count() <= 10_000 {
            let _ = run(&suite, &snapshot, &RunOptions::default());
        }
    }
    // every pair of (up to 5) entities with every (up to 4) action
    // sorted: the entity set's order differs between runs
    let mut uids: Vec<_> = snapshot.entities().iter().map(|e| e.uid()).collect();
    uids.sort_by_key(ToString::to_string);
    uids.truncate(5);
    let mut actions: Vec<_> = snapshot
        .schema()
        .map(|s| s.actions().cloned().collect())
        .unwrap_or_default();
    actions.sort_by_key(ToString::to_string);
    actions.truncate(4);
    for principal in &uids {
        for resource in &uids {
            for action in &actions {
                if let Ok(request) = snapshot.request(
                    &principal.to_string(),
                    &action.to_string(),
                    &resource.to_string(),
                    None,
                ) {
                    authorize_both(&snapshot, &request, None);
                }
            }
        }
    }
});
