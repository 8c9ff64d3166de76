//! The evaluation endpoints, their options, per-product base URLs, the
//! metadata and the request id.

use crate::common;
use crate::harness::{self, BETH, MORTY, RICK, todo_of, user};
use rolegrid::server::ServerConfig;
use serde_json::json;

#[test]
fn a_deny_is_status_200_with_decision_false_and_nothing_else() {
    let server = harness::todo();
    let reply = server.post(
        "/access/v1/evaluation",
        &json!({"subject": user(BETH), "action": {"name": "can_delete_todo"}, "resource": todo_of("1", "beth@the-smiths.com")}),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, r#"{"decision":false}"#);
}

#[test]
fn explain_adds_the_determining_policies_when_the_request_or_the_server_asks() {
    let body = json!({
        "subject": user(MORTY), "action": {"name": "can_update_todo"},
        "resource": todo_of("1", "morty@the-citadel.com"), "options": {"explain": true}
    });
    let server = harness::todo();
    let reply = server.post("/access/v1/evaluation", &body);
    assert_eq!(
        reply.json(),
        json!({"decision": true, "context": {"reasons": ["update-todo-owner"], "errors": []}})
    );
    let explaining = harness::start(
        &common::root().join("examples/authzen-todo"),
        ServerConfig {
            explain: true,
            ..ServerConfig::default()
        },
    );
    let mut plain = body.clone();
    plain.as_object_mut().unwrap().remove("options");
    assert_eq!(
        explaining.post("/access/v1/evaluation", &plain).json()["context"]["reasons"],
        json!(["update-todo-owner"])
    );
}

#[test]
fn evaluations_take_defaults_from_the_top_level_and_items_override_them() {
    let server = harness::todo();
    let reply = server.post(
        "/access/v1/evaluations",
        &json!({
            "subject": user(MORTY),
            "action": {"name": "can_update_todo"},
            "context": {},
            "evaluations": [
                {"resource": todo_of("1", "morty@the-citadel.com")},
                {"resource": todo_of("2", "beth@the-smiths.com")},
                {"action": {"name": "can_read_todos"}, "resource": todo_of("3", "beth@the-smiths.com")},
                {"subject": user(RICK), "resource": todo_of("4", "beth@the-smiths.com")}
            ]
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        r#"{"evaluations":[{"decision":true},{"decision":false},{"decision":true},{"decision":true}]}"#
    );
}

#[test]
fn absent_or_empty_evaluations_behave_as_one_evaluation() {
    let server = harness::todo();
    let single = json!({"subject": user(MORTY), "action": {"name": "can_create_todo"}, "resource": {"type": "todo", "id": "1"}});
    assert_eq!(
        server.post("/access/v1/evaluations", &single).body,
        r#"{"decision":true}"#
    );
    let mut empty = single.clone();
    empty["evaluations"] = json!([]);
    assert_eq!(
        server.post("/access/v1/evaluations", &empty).body,
        r#"{"decision":true}"#
    );
}

fn three_documents(semantic: &str) -> serde_json::Value {
    // allow, deny, allow
    json!({
        "subject": user(MORTY),
        "action": {"name": "can_update_todo"},
        "options": {"evaluations_semantic": semantic},
        "evaluations": [
            {"resource": todo_of("1", "morty@the-citadel.com")},
            {"resource": todo_of("2", "beth@the-smiths.com")},
            {"resource": todo_of("3", "morty@the-citadel.com")}
        ]
    })
}

#[test]
fn each_evaluations_semantic_runs_as_the_specification_says() {
    let server = harness::todo();
    let answer = |semantic| {
        server
            .post("/access/v1/evaluations", &three_documents(semantic))
            .body
    };
    assert_eq!(
        answer("execute_all"),
        r#"{"evaluations":[{"decision":true},{"decision":false},{"decision":true}]}"#
    );
    assert_eq!(
        answer("deny_on_first_deny"),
        r#"{"evaluations":[{"decision":true},{"decision":false}]}"#
    );
    assert_eq!(
        answer("permit_on_first_permit"),
        r#"{"evaluations":[{"decision":true}]}"#
    );
    let unknown = server.post("/access/v1/evaluations", &three_documents("some_of_them"));
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.message().contains("evaluations_semantic"),
        "{}",
        unknown.body
    );
}

#[test]
fn a_refused_evaluation_in_a_batch_is_answered_in_its_place_and_stops_deny_on_first_deny() {
    let server = harness::todo();
    let mut body = three_documents("execute_all");
    body["evaluations"][1] =
        json!({"resource": {"type": "todo", "id": "2", "properties": {"ownerID": 7}}});
    let reply = server.post("/access/v1/evaluations", &body);
    assert_eq!(reply.status, 200);
    let answers = reply.json()["evaluations"].clone();
    assert_eq!(answers[0], json!({"decision": true}));
    assert_eq!(answers[1]["decision"], json!(false));
    assert_eq!(answers[1]["context"]["error"]["status"], json!(400));
    assert!(
        answers[1]["context"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ownerID")
    );
    assert_eq!(answers[2], json!({"decision": true}));
    body["options"]["evaluations_semantic"] = json!("deny_on_first_deny");
    assert_eq!(
        server.post("/access/v1/evaluations", &body).json()["evaluations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn the_request_id_is_echoed_on_answers_and_errors() {
    let server = harness::todo();
    let ok = server.post_text(
        "/access/v1/evaluation",
        &json!({"subject": user(MORTY), "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}}).to_string(),
        &[("X-Request-ID", "bfe9eb29-ab87-4ca3-be83-a1d5d8305716")],
    );
    assert_eq!(
        ok.header("x-request-id"),
        Some("bfe9eb29-ab87-4ca3-be83-a1d5d8305716")
    );
    let bad = server.post_text("/access/v1/evaluation", "{", &[("X-Request-ID", "r-2")]);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header("x-request-id"), Some("r-2"));
    let none = server.post_text("/access/v1/evaluation", "{}", &[]);
    assert_eq!(none.header("x-request-id"), None);
}

#[test]
fn the_metadata_names_every_endpoint_of_the_root_and_of_each_product() {
    let server = harness::todo();
    let base = format!("http://{}", server.addr);
    let root = server.get("/.well-known/authzen-configuration");
    assert_eq!(root.status, 200);
    assert_eq!(
        root.json(),
        json!({
            "policy_decision_point": base,
            "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
            "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
            "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
            "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
            "search_action_endpoint": format!("{base}/access/v1/search/action"),
        })
    );
    let product = server.get("/.well-known/authzen-configuration/todo").json();
    assert_eq!(
        product["policy_decision_point"],
        json!(format!("{base}/todo"))
    );
    assert_eq!(
        product["access_evaluations_endpoint"],
        json!(format!("{base}/products/todo/access/v1/evaluations"))
    );
    let nested = server
        .get("/.well-known/authzen-configuration/products/todo")
        .json();
    assert_eq!(
        nested["policy_decision_point"],
        json!(format!("{base}/products/todo"))
    );
    assert_eq!(
        server.get("/.well-known/authzen-configuration/nope").status,
        404
    );
    // every endpoint the metadata names answers
    for (key, url) in product.as_object().unwrap() {
        if key.ends_with("_endpoint") {
            let path = url.as_str().unwrap().strip_prefix(&base).unwrap();
            let reply = server.post(path, &json!({}));
            assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        }
    }
}

#[test]
fn public_url_sets_the_metadata_base() {
    let server = harness::start(
        &common::root().join("examples/authzen-todo"),
        ServerConfig {
            public_url: Some("https://pdp.example.com/".into()),
            ..ServerConfig::default()
        },
    );
    let metadata = server.get("/.well-known/authzen-configuration").json();
    assert_eq!(
        metadata["policy_decision_point"],
        json!("https://pdp.example.com")
    );
    assert_eq!(
        metadata["search_action_endpoint"],
        json!("https://pdp.example.com/access/v1/search/action")
    );
}

#[test]
fn each_product_of_a_store_answers_under_its_own_base_url() {
    let server = harness::start(&common::root(), ServerConfig::default());
    let ask = json!({
        "subject": {"type": "User", "id": "ada-admin"},
        "action": {"name": "viewUsers"},
        "resource": {"type": "Account", "id": "acme"}
    });
    let reply = server.post("/products/fireworks/access/v1/evaluation", &ask);
    assert_eq!(reply.body, r#"{"decision":true}"#);
    // the type may be written with its namespace
    let mut qualified = ask.clone();
    qualified["subject"]["type"] = json!("Fireworks::User");
    assert_eq!(
        server
            .post("/products/fireworks/access/v1/evaluation", &qualified)
            .body,
        r#"{"decision":true}"#
    );
    // five products and no --product: the root has no default
    let root = server.post("/access/v1/evaluation", &ask);
    assert_eq!(root.status, 404);
    assert!(
        root.message().contains("/products/<product>"),
        "{}",
        root.body
    );
    assert_eq!(server.get("/.well-known/authzen-configuration").status, 404);
    let unknown = server.post("/products/nope/access/v1/evaluation", &ask);
    assert_eq!(unknown.status, 404);
    assert!(unknown.message().contains("fireworks"), "{}", unknown.body);
    // --product serves one of them at the root too
    let with_default = harness::start(
        &common::root(),
        ServerConfig {
            default_product: Some("fireworks".into()),
            ..ServerConfig::default()
        },
    );
    assert_eq!(
        with_default.post("/access/v1/evaluation", &ask).body,
        r#"{"decision":true}"#
    );
}

#[test]
fn properties_are_laid_over_the_stored_entity_for_this_request_only() {
    let server = harness::todo();
    let ask = |subject: serde_json::Value| {
        server
            .post(
                "/access/v1/evaluation",
                &json!({"subject": subject, "action": {"name": "can_update_todo"}, "resource": todo_of("1", "beth@the-smiths.com")}),
            )
            .body
    };
    // Morty (an editor) does not own Beth's todo ...
    assert_eq!(ask(user(MORTY)), r#"{"decision":false}"#);
    // ... unless this request says his email is Beth's: his stored role
    // (a parent) is kept, his stored email replaced
    let as_beth =
        json!({"type": "user", "id": MORTY, "properties": {"email": "beth@the-smiths.com"}});
    assert_eq!(ask(as_beth), r#"{"decision":true}"#);
    // the next request sees the stored entity again
    assert_eq!(ask(user(MORTY)), r#"{"decision":false}"#);
    // a user the directory does not hold gets no role from properties
    let stranger = json!({"type": "user", "id": "stranger", "properties": {"email": "beth@the-smiths.com", "name": "S"}});
    assert_eq!(ask(stranger), r#"{"decision":false}"#);
}
