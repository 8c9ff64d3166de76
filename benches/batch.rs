//! Benchmark 3: `rolegrid authorize --requests FILE --format json` on
//! 100,000 request lines, against the plain-Cedar program doing the same
//! JSON-in/JSON-out loop (`examples/plain_cedar_batch.rs`), process against
//! process, same input, outputs compared byte for byte.
//!
//! Workloads: every seed product (its expectations' requests, cycled to
//! 100,000 lines), and a generated store of 100 policies (not in quick mode).
//! Reported per run: wall time (start-up and loading included), lines per
//! second, CPU cores used ((user + system) / wall) and peak memory, from GNU time.
//!
//! `cargo bench --bench batch` (`ROLEGRID_BENCH_QUICK=1`: 20,000 lines, one round).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[allow(dead_code)]
#[path = "../examples/plain_cedar_batch.rs"]
mod plain_cedar_batch;

use common::{SEEDS, Stats, fmt_num, quick, save, synth_store, timed};
use rolegrid::expect::Suite;
use rolegrid::{LoadOptions, Store};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Request lines of a product's expectations (those without entities of their own).
fn seed_lines(root: &Path, product: &str) -> Vec<String> {
    let snapshot = Store::open(root)
        .unwrap()
        .load(product, &LoadOptions::default())
        .unwrap();
    let suite = Suite::load_product(&snapshot).unwrap();
    suite
        .items
        .iter()
        .flat_map(|item| item.checks())
        .map(Result::unwrap)
        .filter(|check| check.entities().is_none())
        .map(|check| {
            serde_json::json!({
                "principal": check.principal.to_string(),
                "action": check.action.to_string(),
                "resource": check.resource.to_string(),
                "context": check.context,
            })
            .to_string()
        })
        .collect()
}

/// The product's entities as one Cedar JSON file (what the plain program reads).
fn entities_json(root: &Path, product: &str, path: &Path) {
    let snapshot = Store::open(root)
        .unwrap()
        .load(product, &LoadOptions::default())
        .unwrap();
    let values: Vec<serde_json::Value> = snapshot
        .entities()
        .iter()
        .filter(|e| e.uid().type_name().basename() != "Action")
        .map(|e| e.to_json_value().unwrap())
        .collect();
    std::fs::write(path, serde_json::to_string(&values).unwrap()).unwrap();
}

fn run_workload(
    name: &str,
    root: &Path,
    product: &str,
    lines: &[String],
    count: usize,
    rounds: usize,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("requests.jsonl");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        for line in lines.iter().cycle().take(count) {
            writeln!(file, "{line}").unwrap();
        }
    }
    let entities = dir.path().join("entities.json");
    entities_json(root, product, &entities);
    let ours_out = dir.path().join("rolegrid.jsonl");
    let plain_out = dir.path().join("plain.jsonl");
    let mut rolegrid = Command::new(env!("CARGO_BIN_EXE_rolegrid"));
    rolegrid
        .args([
            "authorize",
            "--format",
            "json",
            "--product",
            product,
            "--root",
        ])
        .arg(root)
        .arg("--requests")
        .arg(&input);
    let mut plain = Command::new(std::env::current_exe().unwrap());
    plain
        .arg("--plain-cedar-batch")
        .arg("--policies")
        .arg(root.join("policies").join(product))
        .arg("--schema")
        .arg(root.join("schemas").join(format!("{product}.cedarschema")))
        .arg("--entities")
        .arg(&entities);
    let mut sides = serde_json::Map::new();
    let mut walls = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        // alternate which side goes first, against drift in the machine's load
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            // both read the same file, the plain program on stdin; answers go to files
            let (command, out) = if side == 0 {
                (&plain, &plain_out)
            } else {
                (&rolegrid, &ours_out)
            };
            let usage = timed(
                command,
                Stdio::from(std::fs::File::open(&input).unwrap()),
                Stdio::from(std::fs::File::create(out).unwrap()),
                Stdio::inherit(),
            );
            assert_eq!(
                usage.exit,
                0,
                "{name}: {} exited {}",
                ["plain", "rolegrid"][side],
                usage.exit
            );
            walls[side].push(usage.wall.as_secs_f64());
            let entry = sides
                .entry(["plain", "rolegrid"][side])
                .or_insert_with(|| serde_json::json!({"cores": [], "peak_rss_mib": []}));
            entry["cores"]
                .as_array_mut()
                .unwrap()
                .push(usage.cores().into());
            entry["peak_rss_mib"]
                .as_array_mut()
                .unwrap()
                .push((usage.max_rss as f64 / 1048576.0).into());
        }
        if round == 0 {
            let ours = std::fs::read(&ours_out).unwrap();
            let theirs = std::fs::read(&plain_out).unwrap();
            assert!(
                ours == theirs,
                "{name}: rolegrid's answers differ from plain Cedar's"
            );
            assert_eq!(ours.iter().filter(|b| **b == b'\n').count(), count);
        }
    }
    let plain_wall = Stats::of(&walls[0]);
    let ours_wall = Stats::of(&walls[1]);
    let cores = |side: &str| -> f64 {
        let values: Vec<f64> = sides[side]["cores"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        Stats::of(&values).median
    };
    let rss = |side: &str| -> f64 {
        sides[side]["peak_rss_mib"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .fold(0.0, f64::max)
    };
    let ratio = plain_wall.median / ours_wall.median;
    println!(
        "{name:<22} plain {:>7} lines/s ({} s, {} cores, {} MiB)   rolegrid {:>7} lines/s ({} s, {} cores, {} MiB)   {}x",
        fmt_num(count as f64 / plain_wall.median),
        fmt_num(plain_wall.median),
        fmt_num(cores("plain")),
        fmt_num(rss("plain")),
        fmt_num(count as f64 / ours_wall.median),
        fmt_num(ours_wall.median),
        fmt_num(cores("rolegrid")),
        fmt_num(rss("rolegrid")),
        fmt_num(ratio),
    );
    serde_json::json!({
        "name": name,
        "lines": count,
        "distinct_requests": lines.len(),
        "plain": {"wall_s": plain_wall.json(), "lines_per_s": count as f64 / plain_wall.median, "cores": cores("plain"), "peak_rss_mib": rss("plain")},
        "rolegrid": {"wall_s": ours_wall.json(), "lines_per_s": count as f64 / ours_wall.median, "cores": cores("rolegrid"), "peak_rss_mib": rss("rolegrid")},
        "ratio": ratio,
        "same_answers": true,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--plain-cedar-batch") {
        let stdin = std::io::stdin().lock();
        let stdout = std::io::stdout().lock();
        if let Err(e) = plain_cedar_batch::run(&args[1..], stdin, stdout) {
            eprintln!("plain_cedar_batch: {e}");
            std::process::exit(2);
        }
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let (count, rounds) = if quick() { (20_000, 1) } else { (100_000, 3) };
    println!("authorize --requests: {count} lines, {rounds} round(s), median wall time per run");
    let mut results = Vec::new();
    for product in SEEDS {
        let lines = seed_lines(&common::root(), product);
        results.push(run_workload(
            product,
            &common::root(),
            product,
            &lines,
            count,
            rounds,
        ));
    }
    if !quick() {
        let (root, lines) = synth_store(100, 10_000, 1_000);
        results.push(run_workload(
            "synth-p100-e10000",
            &root,
            "synth",
            &lines,
            count,
            2,
        ));
    }
    save("batch", serde_json::Value::Array(results));
}
