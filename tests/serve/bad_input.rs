//! Bad input gets a 4xx with a message naming what is wrong: never a 500,
//! never a crash, never a framework's default answer.

use crate::common;
use crate::harness::{self, MORTY, user};
use proptest::prelude::*;
use rolegrid::server::ServerConfig;
use serde_json::{Value, json};
use std::io::{Read, Write};

fn valid() -> Value {
    json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}})
}

#[test]
fn each_malformed_document_is_a_400_naming_the_member() {
    let server = harness::todo();
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "not JSON"),
        ("".into(), "empty"),
        ("[1, 2]".into(), "must be an object"),
        ("\"text\"".into(), "must be an object"),
        (r#"{"subject": 1}"#.into(), "`subject` must be an object, not a number"),
        (json!({"action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`subject` is required"),
        (json!({"subject": {"id": MORTY}, "action": {"name": "a"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`subject.type` is required"),
        (json!({"subject": {"type": "user"}, "action": {"name": "a"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`subject.id` is required"),
        (json!({"subject": {"type": "user", "id": 5}, "action": {"name": "a"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`subject.id` must be a string, not a number"),
        (json!({"subject": user(MORTY), "action": {}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`action.name` is required"),
        (json!({"subject": user(MORTY), "action": "read", "resource": {"type": "todo", "id": "1"}}).to_string(), "`action` must be an object"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}, "context": []}).to_string(), "`context` must be an object"),
        (json!({"subject": {"type": "user", "id": MORTY, "properties": 3}, "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "`subject.properties` must be an object"),
        (r#"{"subject": {"type": "user", "type": "todo", "id": "x"}}"#.into(), "appears twice"),
        (json!({"subject": {"type": "usr", "id": MORTY}, "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "no entity type `usr`; did you mean `user`?"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todo"}, "resource": {"type": "todo", "id": "1"}}).to_string(), "no action `can_read_todo`; did you mean `can_read_todos`?"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "user", "id": "1"}}).to_string(), "not valid for"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1", "properties": {"owner": "x"}}}).to_string(), "`owner`"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1", "properties": {"ownerID": ["x"]}}}).to_string(), "ownerID"),
        (json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}, "context": {"ip": "1.2.3.4"}}).to_string(), "context"),
        (json!({"evaluations": [{"subject": user(MORTY)}]}).to_string(), "`evaluations[0].action` is required"),
        (json!({"evaluations": 3}).to_string(), "`evaluations` must be an array"),
    ];
    for (body, expected) in cases {
        for endpoint in ["/access/v1/evaluation", "/access/v1/evaluations"] {
            if body.contains("evaluations") && endpoint.ends_with("evaluation") {
                continue;
            }
            let reply = server.post_text(endpoint, &body, &[]);
            assert_eq!(reply.status, 400, "{endpoint} {body}: {}", reply.body);
            assert!(
                reply.message().contains(expected),
                "{endpoint} {body}: `{expected}` not in {}",
                reply.body
            );
        }
    }
}

#[test]
fn unknown_members_are_ignored() {
    let server = harness::todo();
    let mut body = valid();
    body["extra"] = json!({"anything": [1, 2]});
    body["subject"]["unknown"] = json!(true);
    body["action"]["properties"] = json!({"method": "GET"});
    assert_eq!(
        server.post("/access/v1/evaluation", &body).body,
        r#"{"decision":true}"#
    );
}

#[test]
fn deeply_nested_and_huge_bodies_are_refused_with_400_and_413() {
    let server = harness::todo();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let reply = server.post_text("/access/v1/evaluation", &deep, &[]);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.message().contains("recursion limit"),
        "{}",
        reply.body
    );
    let mut nested_context = json!({});
    for _ in 0..200 {
        nested_context = json!({"a": nested_context});
    }
    let mut body = valid();
    body["context"] = nested_context;
    let reply = server.post_text("/access/v1/evaluation", &body.to_string(), &[]);
    assert_eq!(reply.status, 400, "{}", reply.body);
    // a declared length over the limit is refused before the body is read
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        2 << 20
    )
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 1048576 bytes"), "{answer}");
}

#[test]
fn a_product_whose_reload_failed_is_answered_from_its_last_good_snapshot() {
    let store = common::TempStore::new();
    common::copy_dir(&common::root().join("examples/authzen-todo"), store.path());
    let evaluator = std::sync::Arc::new(
        rolegrid::Evaluator::open(store.path(), rolegrid::LoadOptions::default())
            .unwrap()
            .with_settle_period(std::time::Duration::ZERO),
    );
    let server = harness::start_with(
        std::sync::Arc::clone(&evaluator),
        ServerConfig {
            watch: false,
            ..ServerConfig::default()
        },
    );
    store.write(
        "policies/todo/todo.cedar",
        "permit (principal, action, resource) when { nope };",
    );
    let event = evaluator.reload("todo");
    assert!(
        matches!(event.outcome, rolegrid::ReloadOutcome::Failed(_)),
        "{event}"
    );
    let reply = server.post("/access/v1/evaluation", &valid());
    assert_eq!(reply.body, r#"{"decision":true}"#);
    let ready = server.get("/readyz");
    assert_eq!(ready.status, 200);
    let detail = ready.json()["products"][0]["last_reload_error"]["problems"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("todo.cedar:1:"), "{detail}");
}

#[test]
fn a_wrong_method_or_path_is_answered_with_a_json_message() {
    let server = harness::todo();
    let get = server.get("/access/v1/evaluation");
    assert_eq!(get.status, 405);
    assert!(get.message().contains("POST"), "{}", get.body);
    let nowhere = server.post("/access/v2/evaluation", &valid());
    assert_eq!(nowhere.status, 404);
    assert!(
        nowhere.message().contains("/access/v1/evaluation"),
        "{}",
        nowhere.body
    );
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            "user",
            "todo",
            "Todo::user",
            "Todo::Action",
            "can_read_todos",
            "can_update_todo",
            MORTY,
            "",
            "x::y",
            "\"",
            "ownerID",
            "email",
            "execute_all",
            "deny_on_first_deny",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "subject",
                        "action",
                        "resource",
                        "context",
                        "type",
                        "id",
                        "name",
                        "properties",
                        "evaluations",
                        "options",
                        "evaluations_semantic",
                        "page",
                        "limit",
                        "token",
                        "ownerID",
                        "email",
                        "explain",
                    ]),
                    inner
                ),
                0..6
            )
            .prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn random_documents_get_an_answer_or_a_4xx_never_a_500(body in json_value(), endpoint in 0usize..5) {
        let server = server();
        let path = [
            "/access/v1/evaluation",
            "/access/v1/evaluations",
            "/access/v1/search/subject",
            "/access/v1/search/resource",
            "/access/v1/search/action",
        ][endpoint];
        let reply = server.post(path, &body);
        prop_assert!(reply.status == 200 || reply.status == 400, "{path} {body}: {} {}", reply.status, reply.body);
        let answer = reply.json();
        if reply.status == 400 {
            prop_assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}

/// One server for every case of the property test.
fn server() -> &'static harness::Running {
    static SERVER: std::sync::OnceLock<harness::Running> = std::sync::OnceLock::new();
    SERVER.get_or_init(harness::todo)
}
