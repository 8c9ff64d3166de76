//! Benchmarks 1 and 2: one decision, as a library call, rolegrid
//! (`Snapshot::authorize`, the policy index) against plain Cedar
//! (`Authorizer::is_authorized` on the full policy set, same prebuilt
//! entities), side by side in the same run, on the same requests.
//!
//! 1. each seed model, on every request of its expectations (the fixture's requests);
//! 2. generated stores of 100, 1,000 and 10,000 policies (10,000 entities),
//!    and of 1,000 policies with 100,000 entities, on a sample of their
//!    expectations' requests.
//!
//! Before timing, every request's answer from rolegrid is asserted equal to
//! plain Cedar's. After the run, the median time per decision of each side
//! and their ratio are printed, and saved to `target/bench-results/decision.json`.
//!
//! `cargo bench --bench decision` (`ROLEGRID_BENCH_QUICK=1` for the quick mode;
//! criterion's own options after `--`, e.g. `-- seed-fireworks`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cedar_policy::{Authorizer, Entities, Request};
use common::{SEEDS, fmt_num, quick, save, synth_store, target_dir};
use criterion::{Criterion, Throughput};
use rolegrid::expect::Suite;
use rolegrid::{Answer, LoadOptions, Snapshot, Store};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// One benchmark's requests: each with the entities it is decided against
/// (`None`: the snapshot's own).
struct Workload {
    name: String,
    snapshot: Snapshot,
    requests: Vec<(Request, Option<Entities>)>,
    about: serde_json::Value,
}

impl Workload {
    fn rolegrid(&self, request: &Request, entities: Option<&Entities>) -> Answer {
        match entities {
            Some(entities) => self.snapshot.authorize_with(request, entities),
            None => self.snapshot.authorize(request),
        }
    }

    /// Asserts rolegrid's answers equal plain Cedar's on every request.
    fn assert_same_answers(&self) -> (usize, usize) {
        let authorizer = Authorizer::new();
        let mut allowed = 0;
        for (request, entities) in &self.requests {
            let entities_ref = entities
                .as_ref()
                .unwrap_or_else(|| self.snapshot.entities());
            let plain = Answer::from_response(authorizer.is_authorized(
                request,
                self.snapshot.policies(),
                entities_ref,
            ));
            let ours = self.rolegrid(request, entities.as_ref());
            assert_eq!(ours, plain, "{}: answers differ on {request}", self.name);
            allowed += usize::from(ours.is_allowed());
        }
        (self.requests.len(), allowed)
    }
}

fn seed_workload(product: &str) -> Workload {
    let snapshot = Store::open(common::root())
        .unwrap()
        .load(product, &LoadOptions::default())
        .unwrap();
    let suite = Suite::load_product(&snapshot).unwrap();
    let requests: Vec<(Request, Option<Entities>)> = suite
        .items
        .iter()
        .flat_map(|item| item.checks())
        .map(Result::unwrap)
        .map(|check| (check.request().clone(), check.entities().cloned()))
        .collect();
    Workload {
        name: format!("seed-{product}"),
        about: serde_json::json!({"product": product, "policies": snapshot.policy_count(), "entities": snapshot.entity_count()}),
        snapshot,
        requests,
    }
}

/// A generated store's snapshot and `sample` of its expectations' requests,
/// evenly spaced. Loaded without policy validation, which changes no
/// decision and is what makes loading 10,000 policies slow (see the check bench).
fn synth_workload(policies: usize, entities: usize, sample: usize) -> Workload {
    let (root, lines) = synth_store(policies, entities, policies.max(1000));
    let options = LoadOptions {
        validate_policies: false,
        ..LoadOptions::default()
    };
    let started = std::time::Instant::now();
    let snapshot = Store::open(&root).unwrap().load("synth", &options).unwrap();
    eprintln!("loaded {} in {:.1?}", root.display(), started.elapsed());
    let step = (lines.len() / sample.max(1)).max(1);
    let requests = lines
        .iter()
        .step_by(step)
        .take(sample)
        .map(|line| {
            let spec = rolegrid::RequestSpec::from_json_line(line).unwrap();
            (spec.build(snapshot.schema()).unwrap(), None)
        })
        .collect();
    Workload {
        name: format!("synth-p{policies}-e{entities}"),
        about: serde_json::json!({"policies": policies, "entities": entities}),
        snapshot,
        requests,
    }
}

/// Benchmarks both sides of one workload in one criterion group.
fn bench(c: &mut Criterion, workload: &Workload, slow: bool) -> serde_json::Value {
    let (n, allowed) = workload.assert_same_answers();
    eprintln!(
        "{}: {n} requests ({allowed} allowed): rolegrid's answers equal plain Cedar's",
        workload.name
    );
    let mut group = c.benchmark_group(&workload.name);
    group.throughput(Throughput::Elements(n as u64));
    if slow {
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(if quick() { 3 } else { 8 }));
    } else {
        group.sample_size(if quick() { 20 } else { 50 });
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(if quick() { 1 } else { 3 }));
    }
    let authorizer = Authorizer::new();
    let policies = workload.snapshot.policies();
    let own = workload.snapshot.entities();
    group.bench_function("plain", |b| {
        b.iter(|| {
            for (request, entities) in &workload.requests {
                black_box(authorizer.is_authorized(
                    request,
                    policies,
                    entities.as_ref().unwrap_or(own),
                ));
            }
        });
    });
    group.bench_function("rolegrid", |b| {
        b.iter(|| {
            for (request, entities) in &workload.requests {
                black_box(workload.rolegrid(request, entities.as_ref()));
            }
        });
    });
    group.finish();
    let mut about = workload.about.clone();
    about["requests"] = n.into();
    about["allowed"] = allowed.into();
    about["name"] = workload.name.clone().into();
    about
}

/// Criterion's median (and its 95% interval) per iteration, in ns, from this run.
fn estimate(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<(f64, f64, f64)> {
    let path = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let median = &value["median"];
    Some((
        median["point_estimate"].as_f64()?,
        median["confidence_interval"]["lower_bound"].as_f64()?,
        median["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

fn main() {
    let started = SystemTime::now();
    let output = target_dir().join("criterion");
    let mut c = Criterion::default()
        .output_directory(&output)
        .configure_from_args();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut runs = Vec::new();
    for product in SEEDS {
        runs.push(bench(&mut c, &seed_workload(product), false));
    }
    let sample = if quick() { 20 } else { 100 };
    let mut sizes = vec![(100, 10_000), (1_000, 10_000), (10_000, 10_000)];
    if !quick() {
        sizes.push((1_000, 100_000));
    }
    for (policies, entities) in sizes {
        let workload = synth_workload(policies, entities, sample);
        runs.push(bench(&mut c, &workload, policies >= 10_000));
    }
    c.final_summary();

    println!(
        "\n{:<28} {:>9} {:>9} {:>22} {:>22} {:>8}",
        "workload", "policies", "requests", "plain / decision", "rolegrid / decision", "ratio"
    );
    let mut results = Vec::new();
    for mut run in runs {
        let name = run["name"].as_str().unwrap_or_default().to_owned();
        let n = run["requests"].as_f64().unwrap_or(1.0).max(1.0);
        let (Some(plain), Some(ours)) = (
            estimate(&output, &name, "plain", started),
            estimate(&output, &name, "rolegrid", started),
        ) else {
            continue;
        };
        let per = |(m, lo, hi): (f64, f64, f64)| (m / n, lo / n, hi / n);
        let (plain, ours) = (per(plain), per(ours));
        let ratio = plain.0 / ours.0;
        let show = |(m, lo, hi): (f64, f64, f64)| {
            format!(
                "{} µs [{}–{}]",
                fmt_num(m / 1000.0),
                fmt_num(lo / 1000.0),
                fmt_num(hi / 1000.0)
            )
        };
        println!(
            "{name:<28} {:>9} {:>9} {:>22} {:>22} {:>7}x",
            run["policies"],
            n,
            show(plain),
            show(ours),
            fmt_num(ratio)
        );
        run["plain_ns"] = serde_json::json!({"median": plain.0, "ci95": [plain.1, plain.2]});
        run["rolegrid_ns"] = serde_json::json!({"median": ours.0, "ci95": [ours.1, ours.2]});
        run["ratio"] = ratio.into();
        results.push(run);
    }
    save("decision", serde_json::Value::Array(results));
}
