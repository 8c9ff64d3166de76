//! Every decision the server gives equals the library's for the same
//! request: the seed models' fixtures, asked through
//! `/access/v1/evaluations` with the reasons.

use crate::common;
use crate::harness;
use rolegrid::server::ServerConfig;
use serde_json::{Value, json};

const PRODUCTS: [&str; 5] = [
    "imagekit",
    "imagekit-2020",
    "dataimporter",
    "rudderstack",
    "fireworks",
];
const MOST: usize = 1500;

/// `{type, id}` of a uid, the type short (without the namespace) or as Cedar writes it.
fn entity(uid: &cedar_policy::EntityUid, short: bool) -> Value {
    let written = if short {
        uid.type_name().basename().to_owned()
    } else {
        uid.type_name().to_string()
    };
    json!({"type": written, "id": uid.id().unescaped()})
}

#[test]
fn the_server_decides_every_seed_request_as_the_library_does() {
    let server = harness::start(&common::root(), ServerConfig::default());
    for product in PRODUCTS {
        let snapshot = common::load(product);
        let schema = snapshot.schema().unwrap();
        let fixture: Vec<_> = snapshot
            .entities()
            .iter()
            .map(|e| e.uid())
            .filter(|uid| uid.type_name().basename() != "Action")
            .collect();
        let mut requests = Vec::new();
        for action in schema.actions() {
            for principal in &fixture {
                for resource in &fixture {
                    if let Ok(request) = snapshot.request(
                        &principal.to_string(),
                        &action.to_string(),
                        &resource.to_string(),
                        None,
                    ) {
                        requests.push((
                            principal.clone(),
                            action.clone(),
                            resource.clone(),
                            snapshot.authorize(&request),
                        ));
                    }
                }
            }
        }
        let stride = requests.len().div_ceil(MOST).max(1);
        let asked: Vec<_> = requests.into_iter().step_by(stride).collect();
        assert!(asked.len() > 100, "{product}: {}", asked.len());
        let mut allowed = 0;
        for (batch_at, batch) in asked.chunks(100).enumerate() {
            let evaluations: Vec<Value> = batch
                .iter()
                .enumerate()
                .map(|(at, (principal, action, resource, _))| {
                    let short = (batch_at + at) % 2 == 0;
                    json!({
                        "subject": entity(principal, short),
                        "action": {"name": action.id().unescaped()},
                        "resource": entity(resource, short),
                    })
                })
                .collect();
            let reply = server.post(
                &format!("/products/{product}/access/v1/evaluations"),
                &json!({"evaluations": evaluations, "options": {"explain": true}}),
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
            let answers = reply.json()["evaluations"].as_array().unwrap().clone();
            assert_eq!(answers.len(), batch.len());
            for ((principal, action, resource, expected), answer) in batch.iter().zip(&answers) {
                let reasons: Vec<String> = common::reasons(expected);
                let errors = serde_json::to_value(expected.errors()).unwrap();
                assert_eq!(
                    answer,
                    &json!({"decision": expected.is_allowed(), "context": {"reasons": reasons, "errors": errors}}),
                    "{product}: {principal} {action} {resource}"
                );
                allowed += usize::from(expected.is_allowed());
            }
        }
        assert!(allowed > 0, "{product}: some requests are allowed");
    }
}
