//! Shared pieces of rolegrid's fuzz targets: the shipped seed products
//! (loaded once per process) and a differential check of every answer
//! against plain cedar-policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cedar_policy::{Authorizer, Entities, Request};
use rolegrid::{Answer, LoadOptions, Snapshot, Store};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The five seed products, in a fixed order (the first input byte picks one).
pub const PRODUCTS: [&str; 5] = [
    "dataimporter",
    "fireworks",
    "imagekit",
    "imagekit-2020",
    "rudderstack",
];

/// rolegrid's crate root (the store of the seed models).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The seed products' snapshots, loaded once with the default (strict) options.
pub fn seeds() -> &'static [Snapshot] {
    static SEEDS: OnceLock<Vec<Snapshot>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let store = Store::open(root()).expect("rolegrid's root is a store");
        PRODUCTS
            .iter()
            .map(|p| {
                store
                    .load(p, &LoadOptions::default())
                    .unwrap_or_else(|e| panic!("seed product {p} does not load: {e:?}"))
            })
            .collect()
    })
}

/// The seed snapshot a selector byte picks.
pub fn seed(selector: u8) -> &'static Snapshot {
    let seeds = seeds();
    &seeds[usize::from(selector) % seeds.len()]
}

/// The text of a seed product's schema.
pub fn seed_schema_text(selector: u8) -> &'static str {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        PRODUCTS
            .iter()
            .map(|p| {
                std::fs::read_to_string(root().join("schemas").join(format!("{p}.cedarschema")))
                    .expect("seed schema")
            })
            .collect()
    });
    &texts[usize::from(selector) % texts.len()]
}

/// Decides `request` with the snapshot and with plain cedar-policy on the
/// same policy set and entities; they must give the same answer (decision,
/// reasons, erroring policies and messages).
pub fn authorize_both(
    snapshot: &Snapshot,
    request: &Request,
    entities: Option<&Entities>,
) -> Answer {
    let ours = match entities {
        Some(entities) => snapshot.authorize_with(request, entities),
        None => snapshot.authorize(request),
    };
    let plain = Answer::from_response(Authorizer::new().is_authorized(
        request,
        snapshot.policies(),
        entities.unwrap_or_else(|| snapshot.entities()),
    ));
    assert_eq!(
        ours, plain,
        "rolegrid and cedar-policy disagree on {request}"
    );
    ours
}

/// Splits fuzz input into at most `n` parts at NUL bytes (the last part
/// keeps any further NULs), each as text (invalid UTF-8 replaced).
pub fn split_parts(data: &[u8], n: usize) -> Vec<Vec<u8>> {
    data.splitn(n, |b| *b == 0).map(<[u8]>::to_vec).collect()
}
