//! The Todo example store answers the interop scenario's rules
//! (../shared/authzen/todo-scenario.md) for every user and action, as the
//! scenario's PEP asks: one evaluation at a time and as a batch.

use crate::harness::{self, BETH, JERRY, MORTY, RICK, SUMMER, todo_of, user};
use serde_json::json;

const USERS: [(&str, &str, &[&str]); 5] = [
    (RICK, "rick@the-citadel.com", &["admin", "evil_genius"]),
    (MORTY, "morty@the-citadel.com", &["editor"]),
    (SUMMER, "summer@the-smiths.com", &["editor"]),
    (BETH, "beth@the-smiths.com", &["viewer"]),
    (JERRY, "jerry@the-smiths.com", &["viewer"]),
];

/// The scenario's table: may a user with `roles` and `email` do `action`
/// on a todo owned by `owner`?
fn rule(action: &str, roles: &[&str], email: &str, owner: &str) -> bool {
    let has = |role| roles.contains(&role);
    let owns = email == owner;
    match action {
        "can_read_user" | "can_read_todos" => true,
        "can_create_todo" => has("admin") || has("editor"),
        "can_update_todo" => has("evil_genius") || (has("editor") && owns),
        "can_delete_todo" => has("admin") || (has("editor") && owns),
        _ => false,
    }
}

const TODO_ACTIONS: [&str; 4] = [
    "can_read_todos",
    "can_create_todo",
    "can_update_todo",
    "can_delete_todo",
];

#[test]
fn every_user_and_action_is_answered_by_the_scenario_rules() {
    let server = harness::todo();
    for (subject, email, roles) in USERS {
        for (_, reader_of, _) in USERS {
            let reply = server.post(
                "/access/v1/evaluation",
                &json!({"subject": user(subject), "action": {"name": "can_read_user"}, "resource": {"type": "user", "id": reader_of}}),
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(reply.body, r#"{"decision":true}"#);
        }
        for action in TODO_ACTIONS {
            for (_, owner, _) in USERS {
                let expected = rule(action, roles, email, owner);
                let reply = server.post(
                    "/access/v1/evaluation",
                    &json!({"subject": user(subject), "action": {"name": action}, "resource": todo_of("1", owner)}),
                );
                assert_eq!(reply.status, 200, "{}", reply.body);
                // the PEP compares the text: nothing but the decision
                assert_eq!(
                    reply.body,
                    format!(r#"{{"decision":{expected}}}"#),
                    "{email} {action} on a todo of {owner}"
                );
            }
        }
    }
}

#[test]
fn a_batch_of_todos_for_one_subject_and_action_is_answered_in_order() {
    let server = harness::todo();
    for (subject, email, roles) in USERS {
        for action in TODO_ACTIONS {
            let owners: Vec<&str> = USERS.iter().map(|(_, owner, _)| *owner).collect();
            let evaluations: Vec<_> = owners
                .iter()
                .enumerate()
                .map(|(at, owner)| json!({"resource": todo_of(&at.to_string(), owner)}))
                .collect();
            let reply = server.post(
                "/access/v1/evaluations",
                &json!({"subject": user(subject), "action": {"name": action}, "evaluations": evaluations}),
            );
            let expected: Vec<String> = owners
                .iter()
                .map(|owner| format!(r#"{{"decision":{}}}"#, rule(action, roles, email, owner)))
                .collect();
            assert_eq!(
                reply.body,
                format!(r#"{{"evaluations":[{}]}}"#, expected.join(","))
            );
        }
    }
}

#[test]
fn a_todo_asked_about_in_general_has_no_owner_and_is_decided_by_role_alone() {
    let server = harness::todo();
    let ask = |subject: &str, action: &str| {
        server
            .post(
                "/access/v1/evaluation",
                &json!({"subject": user(subject), "action": {"name": action}, "resource": {"type": "todo", "id": "todo-1"}}),
            )
            .body
    };
    assert_eq!(ask(BETH, "can_read_todos"), r#"{"decision":true}"#);
    assert_eq!(ask(MORTY, "can_create_todo"), r#"{"decision":true}"#);
    assert_eq!(ask(BETH, "can_create_todo"), r#"{"decision":false}"#);
    // without an owner, an editor owns nothing
    assert_eq!(ask(MORTY, "can_update_todo"), r#"{"decision":false}"#);
    assert_eq!(ask(RICK, "can_update_todo"), r#"{"decision":true}"#);
}
