//! Reload under load: clients keep asking while the store is rewritten
//! between two versions; every batch is answered wholly by one version,
//! never with an error or a mix.

use crate::common;
use crate::harness::{self, BETH, JERRY, MORTY, RICK, SUMMER, user};
use rolegrid::server::ServerConfig;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const READ_ALLOWED: &str = "@id(\"read-todos\")\npermit (principal, action == Todo::Action::\"can_read_todos\", resource);\n";
const READ_DENIED: &str = "@id(\"read-todos\")\nforbid (principal, action == Todo::Action::\"can_read_todos\", resource);\n";

#[test]
fn every_batch_during_reloads_is_one_version_never_a_mix_or_an_error() {
    let store = common::TempStore::new();
    common::copy_dir(&common::root().join("examples/authzen-todo"), store.path());
    let policies = store.path().join("policies/todo/todo.cedar");
    let base = std::fs::read_to_string(&policies)
        .unwrap()
        .replace("@id(\"read-todos\")\npermit (principal, action == Todo::Action::\"can_read_todos\", resource);\n", "");
    let version = |read: &str| format!("{base}\n{read}");
    std::fs::write(&policies, version(READ_ALLOWED)).unwrap();
    let server = Arc::new(harness::start(store.path(), ServerConfig::default()));
    let evaluations: Vec<_> = [RICK, MORTY, SUMMER, BETH, JERRY]
        .iter()
        .flat_map(|subject| (0..20).map(move |n| json!({"subject": user(subject), "resource": {"type": "todo", "id": n.to_string()}})))
        .collect();
    let body = json!({"action": {"name": "can_read_todos"}, "evaluations": evaluations});
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let server = Arc::clone(&server);
            let stop = Arc::clone(&stop);
            let body = body.clone();
            std::thread::spawn(move || {
                let (mut all_allowed, mut all_denied) = (0, 0);
                while !stop.load(Ordering::SeqCst) {
                    let reply = server.post("/access/v1/evaluations", &body);
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    let answers = reply.json()["evaluations"].as_array().unwrap().clone();
                    assert_eq!(answers.len(), 100);
                    let allowed = answers
                        .iter()
                        .filter(|a| **a == json!({"decision": true}))
                        .count();
                    let denied = answers
                        .iter()
                        .filter(|a| **a == json!({"decision": false}))
                        .count();
                    assert!(
                        allowed == 100 || denied == 100,
                        "a mixed batch: {}",
                        reply.body
                    );
                    if allowed == 100 {
                        all_allowed += 1
                    } else {
                        all_denied += 1
                    }
                }
                (all_allowed, all_denied)
            })
        })
        .collect();
    let started = Instant::now();
    let mut writes = 0;
    while started.elapsed() < Duration::from_secs(4) {
        let read = if writes % 2 == 0 {
            READ_DENIED
        } else {
            READ_ALLOWED
        };
        std::fs::write(&policies, version(read)).unwrap();
        writes += 1;
        std::thread::sleep(Duration::from_millis(150));
    }
    stop.store(true, Ordering::SeqCst);
    let (mut allowed, mut denied) = (0, 0);
    for client in clients {
        let (a, d) = client.join().unwrap();
        allowed += a;
        denied += d;
    }
    assert!(
        allowed > 0 && denied > 0,
        "both versions answered: {allowed} all-allowed, {denied} all-denied batches"
    );
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("rolegrid_reloads_total{product=\"todo\",outcome=\"swapped\"}"),
        "{metrics}"
    );
}
