//! `rolegrid serve` under load, side by side in one run with cedar-agent
//! (permitio's Cedar HTTP server) and an HTTP floor (the same axum stack
//! answering without deciding), on the Todo example store; the figures of
//! BENCHMARKS.md ("serve").
//!
//! ```sh
//! cargo install oha cedar-agent --root target/bench-tools   # once
//! cargo build --release
//! cargo run --release --example serve_bench -- [SECONDS] [CONNECTIONS]
//! ```
//!
//! oha is the load generator (`--output-format json` gives its figures); it runs on
//! the same machine, so it shares the cores with the server it loads.
//! Run as `serve_bench floor ADDR`, it is the floor server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const MORTY: &str = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const USERS: [&str; 5] = [
    "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
    MORTY,
    "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
    "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
    "CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("floor") {
        floor(&args[2]);
        return;
    }
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tools = root.join("target/bench-tools/bin");
    let oha = tool(&tools, "oha");
    let agent_bin = tool(&tools, "cedar-agent");
    let rolegrid = root.join("target/release/rolegrid");
    assert!(rolegrid.exists(), "build it first: cargo build --release");
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    copy_dir(&root.join("examples/authzen-todo"), &store);

    let serve = Server::start(
        Command::new(&rolegrid).args([
            "serve",
            "--root",
            store.to_str().unwrap(),
            "--product",
            "todo",
            "--listen",
            "127.0.0.1:0",
        ]),
        |line| line.strip_prefix("listening on ").map(str::to_owned),
    );
    let floor = Server::start(
        Command::new(std::env::current_exe().unwrap()).args(["floor", "127.0.0.1:0"]),
        |line| line.strip_prefix("listening on ").map(str::to_owned),
    );
    let agent = start_agent(&agent_bin, &store, work.path());

    let single = json!({"subject": {"type": "user", "id": MORTY}, "action": {"name": "can_create_todo"}, "resource": {"type": "todo", "id": "1"}});
    let agent_single = json!({"principal": format!("Todo::user::\"{MORTY}\""), "action": "Todo::Action::\"can_create_todo\"", "resource": "Todo::todo::\"1\""});
    let batch = batch_body(false);
    let batch_owned = batch_body(true);
    // the same decision from both, before any figure
    assert_eq!(
        post(&format!("{}/access/v1/evaluation", serve.url), &single)["decision"],
        json!(true)
    );
    assert_eq!(
        post(&format!("{}/v1/is_authorized", agent.url), &agent_single)["decision"],
        json!("Allow")
    );

    let load = |url: &str, body: &Value, rate: Option<f64>, pid: u32| {
        Load::run(&oha, url, body, seconds, connections, rate, pid)
    };
    println!(
        "machine: {} cores; {seconds} s per figure, {connections} connections, oha on the same cores",
        cores()
    );
    println!();
    println!("single evaluations (peak, then at half of the peak rate):");
    let rows = [
        (
            "floor (axum, no decision)",
            format!("{}/access/v1/evaluation", floor.url),
            &single,
            floor.pid(),
        ),
        (
            "rolegrid serve",
            format!("{}/access/v1/evaluation", serve.url),
            &single,
            serve.pid(),
        ),
        (
            "cedar-agent 0.2.0",
            format!("{}/v1/is_authorized", agent.url),
            &agent_single,
            agent.pid(),
        ),
    ];
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>11} {:>9} {:>9} {:>10} {:>10}",
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "half req/s",
        "p50 ms",
        "p99 ms",
        "rest MiB",
        "load MiB"
    );
    for (name, url, body, pid) in rows {
        let rest = rss_mib(pid);
        let peak = load(&url, body, None, pid);
        let loaded = peak.peak_rss_mib;
        let half = load(&url, body, Some(peak.rps / 2.0), pid);
        println!(
            "{name:<28} {:>10.0} {:>9.3} {:>9.3} {:>11.0} {:>9.3} {:>9.3} {:>10.1} {:>10.1}",
            peak.rps,
            peak.p50_ms,
            peak.p99_ms,
            half.rps,
            half.p50_ms,
            half.p99_ms,
            rest,
            loaded.max(rest)
        );
    }
    println!();
    println!("batches through /access/v1/evaluations (100 evaluations per call):");
    for (name, body) in [
        ("100 requests, no properties", &batch),
        ("100 todos with ownerID properties", &batch_owned),
    ] {
        let peak = load(
            &format!("{}/access/v1/evaluations", serve.url),
            body,
            None,
            serve.pid(),
        );
        println!(
            "  {name:<36} {:>8.0} calls/s = {:>9.0} decisions/s   p50 {:.3} ms  p99 {:.3} ms",
            peak.rps,
            peak.rps * 100.0,
            peak.p50_ms,
            peak.p99_ms
        );
    }
    println!();
    println!("reload under load (single evaluations; the policy file rewritten every 200 ms):");
    let idle = load(
        &format!("{}/access/v1/evaluation", serve.url),
        &single,
        None,
        serve.pid(),
    );
    let policies = store.join("policies/todo/todo.cedar");
    let original = std::fs::read_to_string(&policies).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&stop);
        let policies = policies.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                std::fs::write(&policies, format!("{original}\n// edit {n}\n")).unwrap();
                std::thread::sleep(Duration::from_millis(200));
            }
            n
        })
    };
    let reloading = load(
        &format!("{}/access/v1/evaluation", serve.url),
        &single,
        None,
        serve.pid(),
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let writes = writer.join().unwrap();
    let metrics = get_text(&format!("{}/metrics", serve.url));
    let swaps = metrics
        .lines()
        .find(|l| l.starts_with("rolegrid_reloads_total{product=\"todo\",outcome=\"swapped\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or("0");
    println!(
        "  idle {:.0} req/s (p99 {:.3} ms); during {writes} writes ({swaps} swaps): {:.0} req/s (p99 {:.3} ms), {:.1}% of idle",
        idle.rps,
        idle.p99_ms,
        reloading.rps,
        reloading.p99_ms,
        reloading.rps / idle.rps * 100.0
    );
}

/// 100 evaluations over the five users and three actions; with `owned`,
/// todos with an `ownerID` property (decided on an overlay of entities).
fn batch_body(owned: bool) -> Value {
    let evaluations: Vec<Value> = (0..100)
        .map(|n| {
            let user = USERS[n % 5];
            if owned {
                json!({"subject": {"type": "user", "id": user}, "action": {"name": "can_update_todo"},
                       "resource": {"type": "todo", "id": n.to_string(), "properties": {"ownerID": "morty@the-citadel.com"}}})
            } else {
                let action = ["can_read_user", "can_read_todos", "can_create_todo"][n % 3];
                let resource = if action == "can_read_user" {
                    json!({"type": "user", "id": USERS[(n + 1) % 5]})
                } else {
                    json!({"type": "todo", "id": n.to_string()})
                };
                json!({"subject": {"type": "user", "id": user}, "action": {"name": action}, "resource": resource})
            }
        })
        .collect();
    json!({"evaluations": evaluations})
}

/// What one oha run measured.
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
}

impl Load {
    #[allow(clippy::too_many_arguments)]
    fn run(
        oha: &Path,
        url: &str,
        body: &Value,
        seconds: u64,
        connections: usize,
        rate: Option<f64>,
        pid: u32,
    ) -> Self {
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let sampling = std::sync::Arc::clone(&sampling);
            std::thread::spawn(move || {
                let mut peak: f64 = 0.0;
                while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                    peak = peak.max(rss_mib(pid));
                    std::thread::sleep(Duration::from_millis(100));
                }
                peak
            })
        };
        let body_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(body_file.path(), body.to_string()).unwrap();
        let mut command = Command::new(oha);
        command
            .args([
                "--no-tui",
                "--output-format",
                "json",
                "--latency-correction",
                "-m",
                "POST",
                "-H",
                "content-type: application/json",
            ])
            .args(["-z", &format!("{seconds}s"), "-c", &connections.to_string()])
            .arg("-D")
            .arg(body_file.path())
            .arg(url);
        if let Some(rate) = rate {
            command.args(["-q", &format!("{rate:.0}")]);
        }
        let output = command.output().unwrap();
        sampling.store(false, std::sync::atomic::Ordering::SeqCst);
        let peak_rss_mib = sampler.join().unwrap();
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("oha: {e}: {}", String::from_utf8_lossy(&output.stderr)));
        let codes = &report["statusCodeDistribution"];
        assert!(
            codes
                .as_object()
                .is_some_and(|c| c.keys().all(|k| k == "200")),
            "{url}: not every answer was 200: {codes}"
        );
        Self {
            rps: report["summary"]["requestsPerSec"].as_f64().unwrap(),
            p50_ms: report["latencyPercentiles"]["p50"].as_f64().unwrap() * 1000.0,
            p99_ms: report["latencyPercentiles"]["p99"].as_f64().unwrap() * 1000.0,
            peak_rss_mib,
        }
    }
}

/// A server child process and its base URL.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(command: &mut Command, address: impl Fn(&str) -> Option<String>) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = address(&first).unwrap_or_else(|| panic!("first line: {first}"));
        // keep reading so the child never blocks on a full pipe
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Self { child, url }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// cedar-agent on the same policies and entities (its own files: policies
/// as `[{id, content}]`, entities in Cedar's JSON format).
fn start_agent(bin: &Path, store: &Path, work: &Path) -> Server {
    let snapshot = rolegrid::Store::open(store)
        .unwrap()
        .load("todo", &rolegrid::LoadOptions::default())
        .unwrap();
    let policies: Vec<Value> = snapshot
        .policies()
        .policies()
        .map(|p| json!({"id": p.id().to_string(), "content": p.to_string()}))
        .collect();
    let entities: Vec<Value> = snapshot
        .entities()
        .iter()
        .filter(|e| e.uid().type_name().basename() != "Action")
        .map(|e| e.to_json_value().unwrap())
        .collect();
    let policies_file = work.join("agent-policies.json");
    let data_file = work.join("agent-data.json");
    std::fs::write(&policies_file, Value::Array(policies).to_string()).unwrap();
    std::fs::write(&data_file, Value::Array(entities).to_string()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args([
            "--addr",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--log-level",
            "error",
        ])
        .arg("--policies")
        .arg(&policies_file)
        .arg("--data")
        .arg(&data_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if ureq::get(&format!("{url}/v1/")).call().is_ok()
            || ureq::get(&format!("{url}/v1/policies")).call().is_ok()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, url }
}

fn post(url: &str, body: &Value) -> Value {
    let mut response = ureq::post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn get_text(url: &str) -> String {
    ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

fn tool(tools: &Path, name: &str) -> PathBuf {
    let local = tools.join(name);
    if local.exists() {
        return local;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!("{name} not found: cargo install {name} --root target/bench-tools")
    })
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The floor: the same HTTP stack (axum on tokio, the body read whole),
/// answering every POST with a constant decision.
fn floor(listen: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        println!("listening on http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/access/v1/evaluation",
            axum::routing::post(|body: axum::body::Bytes| async move {
                let _ = body.len();
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    "{\"decision\":true}",
                )
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });
}
