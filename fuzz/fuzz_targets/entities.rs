//! The entity-file loader: one entity file (YAML or Cedar JSON) loaded with a
//! seed product's schema (or none), then merged into that product's
//! snapshot as extra entities (`Snapshot::with_entities`).
//!
//! Input: a selector byte (bits 0-2: the seed product, 5-7 = no schema;
//! bit 3: JSON instead of YAML), then the file's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolegrid::{FileKind, Limits, LoadOptions, SourceFile, Sources, build_snapshot};
use rolegrid_fuzz::{authorize_both, seed, seed_schema_text};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(text).into_owned();
    let product = selector & 0b111;
    let (kind, name) = if selector & 0b1000 == 0 {
        (FileKind::EntitiesYaml, "fixture.entities.yaml")
    } else {
        (FileKind::EntitiesJson, "fixture.entities.json")
    };
    let file = SourceFile::new(name, text);
    let sources = Sources {
        schema: (product < 5).then(|| SourceFile::new("p.cedarschema", seed_schema_text(product))),
        policies: Vec::new(),
        entities: vec![(file.clone(), kind)],
    };
    let options = LoadOptions {
        deny_warnings: false,
        ..LoadOptions::default()
    };
    if let Ok(snapshot) = build_snapshot(&sources, Some("fuzz"), &options) {
        let fixture = rolegrid::expect::Fixture::new(&snapshot);
        let _ = fixture.role_users();
    }
    // the same file as extra entities of a seed product
    let snapshot = seed(product);
    if let Ok(entities) = rolegrid::with_entities(&snapshot, &[file], &Limits::default()) {
        // decide a few requests against the merged entities
        // the file's own entities (sorted: the set's order differs between
        // runs), and one of the seed's
        let mut uids: Vec<_> = entities
            .iter()
            .map(|e| e.uid())
            .filter(|uid| snapshot.entities().get(uid).is_none())
            .collect();
        uids.sort_by_key(ToString::to_string);
        uids.truncate(3);
        uids.extend(
            snapshot
                .entities()
                .iter()
                .map(|e| e.uid())
                .filter(|uid| snapshot.entity_origin(uid).is_some())
                .min_by_key(ToString::to_string),
        );
        let mut actions: Vec<_> = snapshot
            .schema()
            .map(|s| s.actions().cloned().collect())
            .unwrap_or_default();
        actions.sort_by_key(ToString::to_string);
        actions.truncate(3);
        for principal in &uids {
            for resource in &uids {
                for action in &actions {
                    if let Ok(request) = snapshot.request(
                        &principal.to_string(),
                        &action.to_string(),
                        &resource.to_string(),
                        None,
                    ) {
                        authorize_both(snapshot, &request, Some(&entities));
                    }
                }
            }
        }
    }
});
