//! Benchmark 5: the time from a file write to the new decision being served,
//! for a one-file edit, at seed size (the shipped `fireworks`) and at 10,000
//! policies (a generated store of 10,000 policies and 10,000 entities).
//!
//! An [`Evaluator`] watches a copy of the store. Each round saves one policy
//! file atomically (written beside it, renamed over it, as editors save),
//! alternately adding a forbid aimed at one allowed request and taking it
//! out again; the clock runs from just before the save until a request to
//! the evaluator (polled every 0.2 ms) answers with the new decision. The
//! reload's own duration (`ReloadEvent::took`) is reported beside it. After
//! each round the served answer is checked against plain Cedar on the new
//! snapshot's full policy set.
//!
//! `cargo bench --bench reload` (`ROLEGRID_BENCH_QUICK=1`: fewer rounds).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Stats, quick, save, synth_store};
use rolegrid::{Evaluator, LoadOptions, ReloadOutcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Saves `text` to `path` as editors do: a temporary file beside it (whose
/// name the store ignores), renamed over it.
fn save_atomically(path: &Path, text: &str) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct Target {
    principal: String,
    action: String,
    resource: String,
    file: PathBuf,
}

/// The first of `lines` the product allows, and the file of a policy that allows it.
fn allowed_request(evaluator: &Evaluator, product: &str, lines: &[String]) -> Target {
    let snapshot = evaluator.snapshot(product).unwrap();
    for line in lines {
        let spec = rolegrid::RequestSpec::from_json_line(line).unwrap();
        let (principal, action, resource) = (
            spec.principal.to_string(),
            spec.action.to_string(),
            spec.resource.to_string(),
        );
        let request = spec.build(snapshot.schema()).unwrap();
        let answer = snapshot.authorize(&request);
        if let (true, Some(reason)) = (answer.is_allowed(), answer.reasons().first()) {
            let origin = snapshot.policy_origin(reason).unwrap();
            return Target {
                principal,
                action,
                resource,
                file: origin.file.path().to_path_buf(),
            };
        }
    }
    panic!("{product}: no allowed request");
}

fn measure(
    name: &str,
    source: &Path,
    product: &str,
    lines: &[String],
    rounds: usize,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    copy_dir(&source.join("schemas"), &root.join("schemas"));
    copy_dir(&source.join("policies"), &root.join("policies"));
    let started = Instant::now();
    let evaluator = Arc::new(
        Evaluator::open_products(&root, &[product.to_owned()], LoadOptions::default()).unwrap(),
    );
    let open = started.elapsed();
    let (events_tx, events) = mpsc::channel();
    let _watch = evaluator.watch(move |event| {
        let _ = events_tx.send((event.outcome.clone(), event.took));
    });
    let target = allowed_request(&evaluator, product, lines);
    let original = std::fs::read_to_string(&target.file).unwrap();
    let edited = format!(
        "{original}\n// benchmark edit\n@id(\"bench-edit\")\nforbid (\n  principal == {},\n  action == {},\n  resource == {}\n);\n",
        target.principal, target.action, target.resource
    );
    let decide = || {
        evaluator
            .authorize(
                product,
                &target.principal,
                &target.action,
                &target.resource,
                None,
            )
            .unwrap()
    };
    assert!(decide().is_allowed());
    let mut served = Vec::new();
    let mut reloads = Vec::new();
    for round in 0..rounds {
        // settle: no reload pending from the previous round
        std::thread::sleep(Duration::from_millis(150));
        while events.try_recv().is_ok() {}
        let deny = round % 2 == 0;
        let t = Instant::now();
        save_atomically(&target.file, if deny { &edited } else { &original });
        loop {
            if decide().is_allowed() != deny {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "{name}: the edit was never served"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        served.push(t.elapsed().as_secs_f64() * 1000.0);
        // the reload that served it
        loop {
            let (outcome, took) = events.recv_timeout(Duration::from_secs(120)).unwrap();
            match outcome {
                ReloadOutcome::Swapped { .. } => {
                    reloads.push(took.as_secs_f64() * 1000.0);
                    break;
                }
                ReloadOutcome::Failed(problems) => panic!("{name}: reload failed: {problems:?}"),
                _ => {}
            }
        }
        // the served answer is plain Cedar's on the new snapshot's full policy set
        let snapshot = evaluator.snapshot(product).unwrap();
        let request = snapshot
            .request(&target.principal, &target.action, &target.resource, None)
            .unwrap();
        assert_eq!(
            snapshot.authorize(&request),
            rolegrid::Answer::from_response(cedar_policy::Authorizer::new().is_authorized(
                &request,
                snapshot.policies(),
                snapshot.entities()
            ))
        );
    }
    save_atomically(&target.file, &original);
    let served = Stats::of(&served);
    let reloads = Stats::of(&reloads);
    println!(
        "{name:<24} write → new decision served: {}   (the reload itself: {}; initial load {:.0} ms)",
        served.show("ms"),
        reloads.show("ms"),
        open.as_secs_f64() * 1000.0
    );
    let snapshot = evaluator.snapshot(product).unwrap();
    serde_json::json!({
        "name": name,
        "policies": snapshot.policy_count(),
        "entities": snapshot.entity_count(),
        "edited_file": target.file.strip_prefix(&root).unwrap_or(&target.file).display().to_string(),
        "served_ms": served.json(),
        "reload_ms": reloads.json(),
        "initial_load_ms": open.as_secs_f64() * 1000.0,
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = quick();
    let mut results = Vec::new();
    let seed_lines: Vec<String> = vec![
        serde_json::json!({"principal": "Fireworks::User::\"cora-contributor\"", "action": "Fireworks::Action::\"update\"", "resource": "Fireworks::Model::\"model-cora\""}).to_string(),
    ];
    results.push(measure(
        "seed (fireworks)",
        &common::root(),
        "fireworks",
        &seed_lines,
        if quick { 6 } else { 20 },
    ));
    let (store, lines) = synth_store(10_000, 10_000, 10_000);
    results.push(measure(
        "10,000 policies",
        &store,
        "synth",
        &lines,
        if quick { 2 } else { 6 },
    ));
    save("reload", serde_json::Value::Array(results));
}
