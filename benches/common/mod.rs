//! Shared helpers of rolegrid's benchmarks: quick mode, synthetic stores
//! (generated once and cached under `target/synth-cache/`), statistics,
//! GNU time, and the result files BENCHMARKS.md is written from.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rolegrid_synth::{SynthConfig, SynthProduct, SynthStore};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The crate root (the shipped store).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo's target folder.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Quick mode: `ROLEGRID_BENCH_QUICK=1` or `--quick` (fewer rounds, smaller stores).
pub fn quick() -> bool {
    std::env::var("ROLEGRID_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
        || std::env::args().any(|a| a == "--quick")
}

/// The seed products.
pub const SEEDS: &[&str] = &[
    "dataimporter",
    "fireworks",
    "imagekit",
    "imagekit-2020",
    "rudderstack",
];

/// A synthetic store of one product (`synth`) with `policies` policies,
/// `entities` entities and `expectations` cases: generated once, written
/// under `target/synth-cache/` with the cases' requests beside it
/// (`requests.jsonl`), and reused. Returns the store's root and the request lines.
pub fn synth_store(
    policies: usize,
    entities: usize,
    expectations: usize,
) -> (PathBuf, Vec<String>) {
    let config = SynthConfig {
        policies,
        entities,
        expectations,
        ..SynthConfig::default()
    };
    let dir = target_dir().join("synth-cache").join(format!(
        "v{}-p{policies}-e{entities}-x{expectations}-s{}",
        rolegrid_synth::VERSION,
        config.seed
    ));
    let store_dir = dir.join("store");
    let requests = dir.join("requests.jsonl");
    if !requests.is_file() {
        let started = std::time::Instant::now();
        let store = SynthStore::generate(&config).unwrap_or_else(|p| panic!("{}", p.message()));
        let product: &SynthProduct = &store.products()[0];
        assert!(
            expectations < policies || product.undecided.is_empty(),
            "policies no case decides: {:?}",
            product.undecided
        );
        let _ = std::fs::remove_dir_all(&dir);
        store
            .write(&store_dir)
            .unwrap_or_else(|p| panic!("{}", p.message()));
        let lines = product.request_lines(product.cases.len());
        std::fs::write(&requests, lines.join("\n") + "\n").unwrap();
        eprintln!(
            "generated {} ({policies} policies, {} entities, {expectations} expectations) in {:.1?}",
            store_dir.display(),
            product.entities,
            started.elapsed()
        );
    }
    let lines = std::fs::read_to_string(&requests)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (store_dir, lines)
}

/// Median, minimum, maximum and median absolute deviation of some timings.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub mad: f64,
    pub n: usize,
}

impl Stats {
    pub fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = median_sorted(&sorted);
        let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        Self {
            median,
            min: sorted.first().copied().unwrap_or(0.0),
            max: sorted.last().copied().unwrap_or(0.0),
            mad: median_sorted(&deviations),
            n: values.len(),
        }
    }

    /// `median (min–max, ±MAD, n)` with a unit.
    pub fn show(&self, unit: &str) -> String {
        format!(
            "{} {unit} (min {}, max {}, ±{} MAD, n={})",
            fmt_num(self.median),
            fmt_num(self.min),
            fmt_num(self.max),
            fmt_num(self.mad),
            self.n
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"median": self.median, "min": self.min, "max": self.max, "mad": self.mad, "n": self.n})
    }
}

fn median_sorted(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A number with 3 significant digits.
pub fn fmt_num(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// What GNU time says about one process.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size, bytes.
    pub max_rss: u64,
    pub exit: i32,
}

impl Usage {
    /// CPU time over wall time: 2.0 means both cores busy all along.
    pub fn cores(&self) -> f64 {
        (self.user + self.sys).as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
}

/// GNU time, which reports peak memory (`apt-get install time` where missing).
pub fn gnu_time() -> &'static str {
    if Path::new("/usr/bin/time").is_file() {
        "/usr/bin/time"
    } else {
        panic!("these benchmarks need GNU time at /usr/bin/time: apt-get install time")
    }
}

/// Runs `command` (program, arguments, folder and environment) under GNU
/// time, with these standard streams.
pub fn timed(command: &Command, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Usage {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut wrapped = Command::new(gnu_time());
    wrapped
        .arg("-f")
        .arg("%e %U %S %M %x")
        .arg("-o")
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr);
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let status = wrapped.status().unwrap();
    let text = std::fs::read_to_string(report.path()).unwrap();
    let line = text.lines().last().unwrap_or_default();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(
        fields.len() == 5,
        "GNU time said {text:?} (status {status})"
    );
    let secs = |s: &str| Duration::from_secs_f64(s.parse::<f64>().unwrap());
    Usage {
        wall: secs(fields[0]),
        user: secs(fields[1]),
        sys: secs(fields[2]),
        max_rss: fields[3].parse::<u64>().unwrap() * 1024,
        exit: fields[4].parse().unwrap(),
    }
}

/// The machine: cores, load, CPU model, for the result files.
pub fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    serde_json::json!({
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "cpu": cpu,
        "load": load(),
    })
}

/// The 1-minute load average.
pub fn load() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Writes a bench's results to `target/bench-results/<name>.json`.
pub fn save(name: &str, results: serde_json::Value) {
    let dir = target_dir().join("bench-results");
    std::fs::create_dir_all(&dir).unwrap();
    let value = serde_json::json!({
        "bench": name,
        "quick": quick(),
        "machine": machine(),
        "results": results,
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
    eprintln!("results: {}", path.display());
}
