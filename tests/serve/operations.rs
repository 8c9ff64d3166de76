//! Health, readiness, metrics, the decision log, bearer tokens and the
//! limits on body size, request time and concurrent requests.

use crate::common;
use crate::harness::{self, MORTY, user};
use rolegrid::server::{DecisionLogTarget, ServerConfig, Tokens};
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

fn ask() -> serde_json::Value {
    json!({"subject": user(MORTY), "action": {"name": "can_create_todo"}, "resource": {"type": "todo", "id": "1"}})
}

fn todo_with(config: ServerConfig) -> harness::Running {
    harness::start(&common::root().join("examples/authzen-todo"), config)
}

#[test]
fn healthz_and_readyz_answer_with_each_products_generation() {
    let server = harness::todo();
    assert_eq!(server.get("/healthz").json(), json!({"status": "ok"}));
    let ready = server.get("/readyz");
    assert_eq!(ready.status, 200);
    let json = ready.json();
    assert_eq!(json["ready"], json!(true));
    assert_eq!(json["products"][0]["product"], json!("todo"));
    assert_eq!(json["products"][0]["generation"], json!(1));
    assert_eq!(json["products"][0]["last_reload_error"], json!(null));
}

#[test]
fn metrics_count_decisions_by_outcome_and_requests_by_status() {
    let server = harness::todo();
    server.post("/access/v1/evaluation", &ask());
    let mut deny = ask();
    deny["action"]["name"] = json!("can_delete_todo");
    server.post("/access/v1/evaluation", &deny);
    server.post(
        "/access/v1/evaluations",
        &json!({"subject": user(MORTY), "action": {"name": "can_create_todo"}, "evaluations": [
            {"resource": {"type": "todo", "id": "1"}},
            {"resource": {"type": "todo", "id": "1", "properties": {"ownerID": 1}}}
        ]}),
    );
    server.post_text("/access/v1/evaluation", "{", &[]);
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    for line in [
        "rolegrid_decisions_total{product=\"todo\",outcome=\"allow\"} 2",
        "rolegrid_decisions_total{product=\"todo\",outcome=\"deny\"} 1",
        "rolegrid_decisions_total{product=\"todo\",outcome=\"error\"} 1",
        "rolegrid_http_requests_total{endpoint=\"evaluation\",status=\"200\"} 2",
        "rolegrid_http_requests_total{endpoint=\"evaluation\",status=\"400\"} 1",
        "rolegrid_request_duration_seconds_count{endpoint=\"evaluations\"} 1",
        "rolegrid_generation{product=\"todo\"} 1",
    ] {
        assert!(text.contains(line), "`{line}` not in\n{text}");
    }
}

#[test]
fn the_decision_log_has_one_line_per_decision() {
    let folder = tempfile::tempdir().unwrap();
    let log = folder.path().join("decisions.jsonl");
    let server = todo_with(ServerConfig {
        decision_log: DecisionLogTarget::File(log.clone()),
        ..ServerConfig::default()
    });
    server.post_text(
        "/access/v1/evaluation",
        &ask().to_string(),
        &[("X-Request-ID", "req-1")],
    );
    server.post(
        "/access/v1/evaluations",
        &json!({"subject": user(MORTY), "action": {"name": "can_delete_todo"}, "evaluations": [
            {"resource": {"type": "todo", "id": "1", "properties": {"ownerID": "morty@the-citadel.com"}}},
            {"resource": {"type": "todo", "id": "2"}}
        ]}),
    );
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let first = &lines[0];
    assert_eq!(first["request_id"], json!("req-1"));
    assert_eq!(first["product"], json!("todo"));
    assert_eq!(first["generation"], json!(1));
    assert_eq!(
        first["principal"],
        json!(format!("Todo::user::\"{MORTY}\""))
    );
    assert_eq!(first["action"], json!("Todo::Action::\"can_create_todo\""));
    assert_eq!(first["resource"], json!("Todo::todo::\"1\""));
    assert_eq!(first["decision"], json!("allow"));
    assert_eq!(first["reasons"], json!(["create-todo-editor"]));
    assert!(first["latency_us"].is_u64() && first["time"].is_string());
    assert_eq!(lines[1]["reasons"], json!(["delete-todo-owner"]));
    assert_eq!(lines[2]["decision"], json!("deny"));
}

#[test]
fn a_bearer_token_is_required_when_the_server_has_tokens() {
    let server = todo_with(ServerConfig {
        tokens: Some(Tokens::from_text("s3cret\nother\n")),
        ..ServerConfig::default()
    });
    let body = ask().to_string();
    let none = server.post_text("/access/v1/evaluation", &body, &[]);
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    assert!(
        none.message().contains("Authorization: Bearer"),
        "{}",
        none.body
    );
    let wrong = server.post_text(
        "/access/v1/evaluation",
        &body,
        &[("Authorization", "Bearer nope")],
    );
    assert_eq!(wrong.status, 401);
    let right = server.post_text(
        "/access/v1/evaluation",
        &body,
        &[("Authorization", "Bearer other")],
    );
    assert_eq!(right.status, 200);
    assert_eq!(right.body, r#"{"decision":true}"#);
    // operations routes stay open for probes and scrapers
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/.well-known/authzen-configuration").status, 200);
}

/// Sends the headers of a POST whose body is `declared` bytes long and
/// `sent` bytes of it, and leaves the connection open.
fn slow_post(server: &harness::Running, declared: usize, sent: usize) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{}",
        " ".repeat(sent)
    )
    .unwrap();
    stream.flush().unwrap();
    stream
}

fn read_all(mut stream: std::net::TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

#[test]
fn a_request_slower_than_the_timeout_is_answered_408() {
    let server = todo_with(ServerConfig {
        request_timeout: Duration::from_millis(200),
        ..ServerConfig::default()
    });
    let stream = slow_post(&server, 100, 10);
    let answer = read_all(stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("not answered within 200 ms"), "{answer}");
}

#[test]
fn requests_beyond_the_concurrency_limit_are_answered_503() {
    let server = todo_with(ServerConfig {
        max_concurrent: 1,
        request_timeout: Duration::from_secs(3),
        ..ServerConfig::default()
    });
    let held = slow_post(&server, 100, 10);
    std::thread::sleep(Duration::from_millis(100));
    let refused = server.post("/access/v1/evaluation", &ask());
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        refused.message().contains("answering 1 requests"),
        "{}",
        refused.body
    );
    drop(held);
    // once the held request is gone, requests are answered again
    let mut answered = false;
    for _ in 0..50 {
        if server.post("/access/v1/evaluation", &ask()).status == 200 {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(answered);
}

#[test]
fn a_body_over_the_limit_is_answered_413_even_without_a_length() {
    let server = todo_with(ServerConfig {
        max_body_bytes: 64,
        ..ServerConfig::default()
    });
    let reply = server.post("/access/v1/evaluation", &ask());
    assert_eq!(reply.status, 413);
    assert!(
        reply.message().contains("larger than 64 bytes"),
        "{}",
        reply.body
    );
    // chunked: no Content-Length to refuse early
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    let chunk = "x".repeat(100);
    write!(
        stream,
        "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    )
    .unwrap();
    let answer = read_all(stream);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}
