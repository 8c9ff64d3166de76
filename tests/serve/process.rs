//! The `rolegrid serve` binary: its first stdout line, its answers, its
//! graceful shutdown, and bad configuration (exit 2).

use crate::common;
use crate::harness::{MORTY, user};
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

fn serve(extra: &[&str]) -> (std::process::Child, String) {
    let root = common::root().join("examples/authzen-todo");
    let root = root.to_str().unwrap();
    let mut args = vec!["serve", "--root", root, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (child, lines) = common::spawn_lines(&args);
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line: {first}"))
        .to_owned();
    (child, addr)
}

fn terminate(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_first_line_names_the_address_and_sigterm_finishes_in_flight_requests_then_exits_0() {
    let (mut child, addr) = serve(&["--product", "todo"]);
    let body = json!({"subject": user(MORTY), "action": {"name": "can_create_todo"}, "resource": {"type": "todo", "id": "1"}}).to_string();
    // a request in flight: headers and half the body sent
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let half = body.len() / 2;
    write!(
        stream,
        "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..half]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    terminate(&child);
    std::thread::sleep(Duration::from_millis(200));
    // new connections are refused once it stopped accepting
    stream.write_all(&body.as_bytes()[half..]).unwrap();
    let mut answer = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"decision":true}"#), "{answer}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(std::net::TcpStream::connect(&addr).is_err());
}

#[test]
fn bad_configuration_exits_2_with_a_message() {
    let root = common::root().join("examples/authzen-todo");
    let root = root.to_str().unwrap();
    let run = common::run(&[
        "serve",
        "--root",
        root,
        "--product",
        "nope",
        "--listen",
        "127.0.0.1:0",
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("no product `nope`"), "{}", run.stderr);
    let empty = tempfile::NamedTempFile::new().unwrap();
    let run = common::run(&[
        "serve",
        "--root",
        root,
        "--tokens",
        empty.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("no token"), "{}", run.stderr);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = busy.local_addr().unwrap().to_string();
    let run = common::run(&["serve", "--root", root, "--listen", &taken]);
    run.assert_code(2);
    assert!(run.stderr.contains("cannot listen on"), "{}", run.stderr);
}
