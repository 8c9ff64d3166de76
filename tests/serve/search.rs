//! The search endpoints and their pagination.

use crate::common;
use crate::harness::{self, MORTY, todo_of, user};
use rolegrid::server::ServerConfig;
use serde_json::{Value, json};

/// The ids the library allows for every fixture entity of `entity_type`
/// as the resource (or the principal), in id order.
fn allowed_by_library(
    product: &str,
    searched: &str,
    fixed: &str,
    action: &str,
    as_resource: bool,
) -> Vec<String> {
    let snapshot = common::load(product);
    let namespace = snapshot.roles().namespace().to_owned();
    let searched_type: cedar_policy::EntityTypeName =
        format!("{namespace}::{searched}").parse().unwrap();
    let mut ids: Vec<String> = snapshot
        .entities()
        .iter()
        .map(|entity| entity.uid())
        .filter(|uid| uid.type_name() == &searched_type)
        .filter(|uid| {
            let candidate = uid.to_string();
            let action = format!("{namespace}::Action::\"{action}\"");
            let (principal, resource) = if as_resource {
                (fixed.to_owned(), candidate)
            } else {
                (candidate, fixed.to_owned())
            };
            common::decide(&snapshot, &principal, &action, &resource, None).is_allowed()
        })
        .map(|uid| uid.id().unescaped().to_owned())
        .collect();
    ids.sort();
    ids
}

fn ids(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| found["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn resource_search_gives_what_the_library_allows_with_the_type_as_written() {
    let server = harness::start(&common::root(), ServerConfig::default());
    let reply = server.post(
        "/products/fireworks/access/v1/search/resource",
        &json!({"subject": {"type": "User", "id": "ada-admin"}, "action": {"name": "view"}, "resource": {"type": "Deployment"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expected = allowed_by_library(
        "fireworks",
        "Deployment",
        r#"Fireworks::User::"ada-admin""#,
        "view",
        true,
    );
    assert!(!expected.is_empty());
    assert_eq!(ids(&reply.json()), expected);
    // no page asked and one page enough: no `page`; members in the
    // specification's order
    assert!(
        reply
            .body
            .starts_with(r#"{"results":[{"type":"Deployment","id":""#),
        "{}",
        reply.body
    );
    let qualified = server.post(
        "/products/fireworks/access/v1/search/resource",
        &json!({"subject": {"type": "User", "id": "ada-admin"}, "action": {"name": "view"}, "resource": {"type": "Fireworks::Deployment"}}),
    );
    assert!(
        qualified
            .body
            .starts_with(r#"{"results":[{"type":"Fireworks::Deployment","id":""#),
        "{}",
        qualified.body
    );
}

#[test]
fn subject_search_gives_what_the_library_allows() {
    let server = harness::start(&common::root(), ServerConfig::default());
    let reply = server.post(
        "/products/fireworks/access/v1/search/subject",
        &json!({"subject": {"type": "User"}, "action": {"name": "viewUsers"}, "resource": {"type": "Account", "id": "acme"}}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expected = allowed_by_library(
        "fireworks",
        "User",
        r#"Fireworks::Account::"acme""#,
        "viewUsers",
        false,
    );
    assert!(!expected.is_empty());
    assert_eq!(ids(&reply.json()), expected);
}

#[test]
fn action_search_gives_the_allowed_actions_in_schema_order() {
    let server = harness::todo();
    let reply = server.post(
        "/access/v1/search/action",
        &json!({"subject": user(MORTY), "resource": todo_of("1", "morty@the-citadel.com")}),
    );
    assert_eq!(
        reply.body,
        r#"{"results":[{"name":"can_read_todos"},{"name":"can_create_todo"},{"name":"can_update_todo"},{"name":"can_delete_todo"}]}"#
    );
    let not_owner = server.post(
        "/access/v1/search/action",
        &json!({"subject": user(MORTY), "resource": todo_of("1", "beth@the-smiths.com")}),
    );
    assert_eq!(
        not_owner.body,
        r#"{"results":[{"name":"can_read_todos"},{"name":"can_create_todo"}]}"#
    );
}

fn search_page(server: &harness::Running, limit: u64, token: Option<&str>) -> harness::Reply {
    let mut page = json!({"limit": limit});
    if let Some(token) = token {
        page["token"] = json!(token);
    }
    server.post(
        "/access/v1/search/subject",
        &json!({"subject": {"type": "user"}, "action": {"name": "can_read_todos"}, "resource": {"type": "todo", "id": "1"}, "page": page}),
    )
}

#[test]
fn pagination_walks_every_result_once_and_ends_with_an_empty_token() {
    let server = harness::todo();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let reply = search_page(&server, 2, token.as_deref());
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        assert!(
            reply.body.starts_with(r#"{"page":"#),
            "page comes first: {}",
            reply.body
        );
        assert_eq!(json["page"]["total"], json!(5));
        assert_eq!(
            json["page"]["count"].as_u64().unwrap() as usize,
            json["results"].as_array().unwrap().len()
        );
        seen.extend(ids(&json));
        pages += 1;
        let next = json["page"]["next_token"].as_str().unwrap().to_owned();
        if next.is_empty() {
            break;
        }
        token = Some(next);
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "in id order, none twice");
    assert_eq!(seen.len(), 5);
}

#[test]
fn a_token_sent_with_a_changed_request_or_made_up_is_refused() {
    let server = harness::todo();
    let first = search_page(&server, 2, None).json();
    let token = first["page"]["next_token"].as_str().unwrap();
    let changed = search_page(&server, 3, Some(token));
    assert_eq!(changed.status, 400);
    assert!(
        changed.message().contains("another request"),
        "{}",
        changed.body
    );
    let made_up = search_page(&server, 2, Some("bm90LWEtdG9rZW4"));
    assert_eq!(made_up.status, 400);
    assert!(made_up.message().contains("page.token"), "{}", made_up.body);
}

#[test]
fn a_token_that_outlives_its_snapshot_continues_after_its_place() {
    let store = common::TempStore::new();
    common::copy_dir(&common::root().join("examples/authzen-todo"), store.path());
    let evaluator = std::sync::Arc::new(
        rolegrid::Evaluator::open(store.path(), rolegrid::LoadOptions::default()).unwrap(),
    );
    let server = harness::start_with(
        std::sync::Arc::clone(&evaluator),
        ServerConfig {
            watch: false,
            ..ServerConfig::default()
        },
    );
    let first = search_page(&server, 2, None).json();
    let given = ids(&first);
    let token = first["page"]["next_token"].as_str().unwrap().to_owned();
    // a new user sorted first and one sorted last appear between two pages
    let users = store.path().join("policies/todo/users.entities.yaml");
    let mut text = std::fs::read_to_string(&users).unwrap();
    text.push_str(
        "- uid: {type: Todo::user, id: AAAA}\n  attrs: {email: a@x, name: A}\n  parents: []\n",
    );
    text.push_str(
        "- uid: {type: Todo::user, id: zzzz}\n  attrs: {email: z@x, name: Z}\n  parents: []\n",
    );
    std::fs::write(&users, text).unwrap();
    let event = evaluator.reload("todo");
    assert!(
        matches!(event.outcome, rolegrid::ReloadOutcome::Swapped { .. }),
        "{event}"
    );
    let mut rest = Vec::new();
    let mut token = Some(token);
    while let Some(current) = token.take() {
        let page = search_page(&server, 2, Some(&current)).json();
        rest.extend(ids(&page));
        let next = page["page"]["next_token"].as_str().unwrap().to_owned();
        token = (!next.is_empty()).then_some(next);
    }
    // nothing repeated; the one added after the token's place is given, the
    // one added before it is not
    assert!(
        rest.iter().all(|id| !given.contains(id)),
        "{given:?} {rest:?}"
    );
    assert!(rest.contains(&"zzzz".to_owned()));
    assert!(!rest.contains(&"AAAA".to_owned()));
    assert_eq!(given.len() + rest.len(), 6);
}
