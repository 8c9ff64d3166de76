//! The README's `rolegrid serve` examples, replayed: every `$ curl` line of
//! the section's example block is sent to the example store's server and
//! its answer compared with the line below it, byte for byte.

use crate::common;
use crate::harness;

/// The example block of the README's `rolegrid serve` section.
fn console_block() -> String {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme.split("## `rolegrid serve`").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let block = section.split("```text\n$ curl").nth(1).unwrap();
    format!("$ curl{}", block.split("```").next().unwrap())
}

/// The URL path and the `-d` body of a `curl -s URL [-d 'BODY']` line.
fn parse_curl(line: &str) -> (String, Option<String>) {
    let rest = line.strip_prefix("$ curl -s ").unwrap();
    let (url, body) = match rest.split_once(" -d '") {
        Some((url, body)) => (url, Some(body.strip_suffix('\'').unwrap().to_owned())),
        None => (rest, None),
    };
    let path = url.strip_prefix("localhost:8190").unwrap().to_owned();
    (path, body)
}

#[test]
fn every_request_of_the_readme_section_gets_the_answer_it_shows() {
    let server = harness::todo();
    let block = console_block();
    let lines: Vec<&str> = block.lines().collect();
    let mut replayed = 0;
    for pair in lines.chunks(2) {
        let [command, expected] = pair else {
            panic!("a command without its answer: {pair:?}");
        };
        let (path, body) = parse_curl(command);
        let reply = match &body {
            Some(body) => server.post_text(&path, body, &[]),
            None => server.get(&path),
        };
        let answer = reply
            .body
            .replace(&server.addr.to_string(), "localhost:8190");
        assert_eq!(&answer, expected, "{command}");
        replayed += 1;
    }
    assert!(replayed >= 7, "{replayed} requests");
}
