//! Benchmark 4: `rolegrid check`, time and peak memory, on the shipped store
//! and on a generated store of 10,000 policies, 100,000 entities and 10,000
//! expectations (quick mode: 1,000 / 10,000 / 1,000), with the time of each
//! phase measured in-process.
//!
//! `cargo bench --bench check` (`ROLEGRID_BENCH_QUICK=1` for the quick mode).
//! Needs GNU time (`/usr/bin/time`; `apt-get install time`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cedar_policy::Authorizer;
use common::{Stats, fmt_num, quick, save, synth_store, timed};
use rolegrid::coverage::Coverage;
use rolegrid::expect::{RunOptions, Suite, run};
use rolegrid::{Answer, LoadOptions, Store};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// `rolegrid check --root DIR [extra]`, `rounds` times (once when a run
/// takes over a minute): wall seconds and peak RSS.
fn check_cli(root: &Path, rounds: usize, extra: &[&str]) -> serde_json::Value {
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..rounds {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rolegrid"));
        command.arg("check").arg("--root").arg(root).args(extra);
        let usage = timed(&command, Stdio::null(), Stdio::null(), Stdio::null());
        assert_eq!(
            usage.exit,
            0,
            "rolegrid check --root {} failed",
            root.display()
        );
        walls.push(usage.wall.as_secs_f64());
        rss.push(usage.max_rss as f64 / (1024.0 * 1024.0));
        if usage.wall.as_secs() > 60 {
            break;
        }
    }
    let wall = Stats::of(&walls);
    let mem = Stats::of(&rss);
    println!("  rolegrid check: {}", wall.show("s"));
    println!("  peak memory:    {}", mem.show("MiB"));
    serde_json::json!({"wall_s": wall.json(), "peak_rss_mib": mem.json()})
}

/// The phases of a check of one product, timed once, in-process; and
/// rolegrid's answers compared with plain Cedar's on (up to `compare`) checks.
fn phases(root: &Path, product: &str, compare: usize) -> serde_json::Value {
    let options = LoadOptions::default();
    let store = Store::open(root).unwrap();
    let t = Instant::now();
    let (files, sources) = store.read(product, &options).unwrap();
    let read = t.elapsed();
    let t = Instant::now();
    let snapshot = store.build(product, files, &sources, &options).unwrap();
    let build = t.elapsed();
    let t = Instant::now();
    let suite = Suite::load_product(&snapshot).unwrap();
    let load_suite = t.elapsed();
    let t = Instant::now();
    let outcome = run(&suite, &snapshot, &RunOptions::default()).unwrap();
    let run_time = t.elapsed();
    assert_eq!(outcome.failed(), 0);
    let t = Instant::now();
    let _coverage = Coverage::compute(&snapshot, &suite, &outcome);
    let coverage = t.elapsed();

    let checks: Vec<_> = suite
        .items
        .iter()
        .flat_map(|item| item.checks())
        .map(Result::unwrap)
        .collect();
    let step = (checks.len() / compare.max(1)).max(1);
    let authorizer = Authorizer::new();
    let mut compared = 0;
    for check in checks.iter().step_by(step) {
        let entities = check.entities().unwrap_or_else(|| snapshot.entities());
        let ours = snapshot.authorize_with(check.request(), entities);
        let plain = Answer::from_response(authorizer.is_authorized(
            check.request(),
            snapshot.policies(),
            entities,
        ));
        assert_eq!(
            ours, plain,
            "{product}: {} {} {}",
            check.principal, check.action, check.resource
        );
        compared += 1;
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {product}: read {} ms, build snapshot {} ms, load expectations {} ms, run {} checks {} ms, coverage {} ms; {compared} answers equal plain Cedar's",
        fmt_num(ms(read)),
        fmt_num(ms(build)),
        fmt_num(ms(load_suite)),
        checks.len(),
        fmt_num(ms(run_time)),
        fmt_num(ms(coverage)),
    );
    serde_json::json!({
        "product": product,
        "policies": snapshot.policy_count(),
        "entities": snapshot.entity_count(),
        "checks": checks.len(),
        "read_ms": ms(read),
        "build_ms": ms(build),
        "load_expectations_ms": ms(load_suite),
        "run_ms": ms(run_time),
        "coverage_ms": ms(coverage),
        "compared_with_plain_cedar": compared,
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = quick();
    let (policies, entities, expectations) = if quick {
        (1_000, 10_000, 1_000)
    } else {
        (10_000, 100_000, 10_000)
    };
    let mut results = serde_json::Map::new();

    println!(
        "check: the shipped store ({} seed products)",
        common::SEEDS.len()
    );
    let mut shipped = check_cli(&common::root(), if quick { 2 } else { 5 }, &[]);
    let shipped_phases: Vec<_> = common::SEEDS
        .iter()
        .map(|p| phases(&common::root(), p, usize::MAX))
        .collect();
    shipped["phases"] = serde_json::Value::Array(shipped_phases);
    results.insert("shipped".into(), shipped);

    let (store, _) = synth_store(policies, entities, expectations);
    println!(
        "check: generated store, {policies} policies, {entities} entities, {expectations} expectations"
    );
    let mut generated = check_cli(&store, if quick { 1 } else { 3 }, &[]);
    generated["phases"] = phases(&store, "synth", if quick { 100 } else { 200 });
    generated["policies"] = policies.into();
    generated["entities"] = entities.into();
    generated["expectations"] = expectations.into();
    results.insert("generated".into(), generated);

    if !quick {
        // growth along each axis from 1,000 policies, 10,000 entities, 1,000
        // expectations (--allow-untested where there are fewer expectations than policies)
        let mut growth = Vec::new();
        let grid = [
            ("base", 1_000, 10_000, 1_000),
            ("policies", 3_000, 10_000, 1_000),
            ("policies", 10_000, 10_000, 1_000),
            ("entities", 1_000, 30_000, 1_000),
            ("entities", 1_000, 100_000, 1_000),
            ("expectations", 1_000, 10_000, 3_000),
            ("expectations", 1_000, 10_000, 10_000),
        ];
        for (axis, policies, entities, expectations) in grid {
            let (store, _) = synth_store(policies, entities, expectations);
            println!(
                "check: {axis} axis: {policies} policies, {entities} entities, {expectations} expectations"
            );
            let mut run = check_cli(&store, 1, &["--allow-untested"]);
            run["axis"] = axis.into();
            run["policies"] = policies.into();
            run["entities"] = entities.into();
            run["expectations"] = expectations.into();
            growth.push(run);
        }
        results.insert("growth".into(), serde_json::Value::Array(growth));
    }
    save("check", serde_json::Value::Object(results));
}
