//! The library API as services use it: one `Arc<Snapshot>` shared by many
//! threads gives exactly the single-threaded answers; explicit sources;
//! requests from text and JSON; extra entities; where policies and entities
//! came from.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use cedar_policy::{Decision, EntityUid, PolicyId, Request};
use rolegrid::{
    Answer, FileKind, Limits, LoadOptions, PolicyIds, ProblemKind, RequestSpec, Snapshot,
    SourceFile, Sources, build_snapshot,
};
use std::sync::Arc;

const PRODUCTS: [&str; 5] = [
    "dataimporter",
    "fireworks",
    "imagekit",
    "imagekit-2020",
    "rudderstack",
];

/// The uids of a snapshot's entities.
fn uids_of(snapshot: &Snapshot) -> Vec<EntityUid> {
    snapshot
        .entities()
        .iter()
        .map(cedar_policy::Entity::uid)
        .collect()
}

/// Every request the schema allows between the fixture's users, the actions
/// and the fixture's entities (with a context where an action needs one).
fn all_requests(snapshot: &Snapshot) -> Vec<Request> {
    let schema = snapshot.schema().unwrap();
    let uids = uids_of(snapshot);
    let mut requests = Vec::new();
    for action in schema.actions() {
        let principals: Vec<_> = schema.principals_for_action(action).unwrap().collect();
        let resources: Vec<_> = schema.resources_for_action(action).unwrap().collect();
        for principal in uids.iter().filter(|u| principals.contains(&u.type_name())) {
            for resource in uids.iter().filter(|u| resources.contains(&u.type_name())) {
                let build = |context| {
                    RequestSpec {
                        principal: principal.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        context,
                    }
                    .build(Some(schema))
                    .ok()
                };
                let request = build(None)
                    .or_else(|| build(Some(serde_json::json!({"role": "developer"}))))
                    .unwrap_or_else(|| panic!("{principal} {action} {resource}: no context fits"));
                requests.push(request);
            }
        }
    }
    requests
}

#[test]
fn many_threads_share_one_snapshot_and_agree_with_one_thread() {
    let threads = 4;
    let rounds = 1;
    for product in PRODUCTS {
        let snapshot: Arc<Snapshot> = common::load(product);
        let requests = Arc::new(all_requests(&snapshot));
        assert!(
            requests.len() > 100,
            "{product}: {} requests",
            requests.len()
        );
        let expected: Vec<Answer> = requests.iter().map(|r| snapshot.authorize(r)).collect();
        assert!(expected.iter().any(Answer::is_allowed));
        assert!(expected.iter().any(|a| !a.is_allowed()));
        // scoped threads borrowing one Arc'd snapshot, each a bounded loop
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let snapshot = Arc::clone(&snapshot);
                    let requests = Arc::clone(&requests);
                    scope.spawn(move || {
                        let mut answers = Vec::with_capacity(requests.len() * rounds);
                        for round in 0..rounds {
                            // each thread walks the requests from its own offset
                            let offset = (t * 7 + round * 13) % requests.len();
                            for i in 0..requests.len() {
                                let index = (offset + i) % requests.len();
                                answers.push((index, snapshot.authorize(&requests[index])));
                            }
                        }
                        answers
                    })
                })
                .collect();
            for handle in handles {
                let answers = handle.join().expect("no thread panics");
                assert_eq!(answers.len(), requests.len() * rounds);
                for (index, answer) in answers {
                    assert_eq!(answer, expected[index], "{product}: request {index}");
                }
            }
        });
    }
}

#[test]
fn threads_with_their_own_arc_and_extra_entities() {
    let snapshot = common::load("fireworks");
    let extra = rolegrid::with_entities(&snapshot,
            &[SourceFile::new(
                "new.entities.yaml",
                "- uid: {type: Fireworks::Deployment, id: fresh}\n  attrs: {owner: {type: Fireworks::User, id: cora-contributor}}\n  parents: [{type: Fireworks::Account, id: acme}]\n",
            )],
            &Limits::default(),
        )
        .unwrap();
    let extra = Arc::new(extra);
    let request = snapshot
        .request(
            r#"Fireworks::User::"cora-contributor""#,
            r#"Fireworks::Action::"delete""#,
            r#"Fireworks::Deployment::"fresh""#,
            None,
        )
        .unwrap();
    let expected = snapshot.authorize_with(&request, &extra);
    assert!(expected.is_allowed());
    assert_eq!(common::reasons(&expected), ["manage-own-resources"]);
    // without the extra entity the deployment does not exist: the owner check errors
    let without = snapshot.authorize(&request);
    assert!(!without.is_allowed());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let snapshot = Arc::clone(&snapshot);
            let extra = Arc::clone(&extra);
            let request = request.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|_| snapshot.authorize_with(&request, &extra))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        for answer in handle.join().unwrap() {
            assert_eq!(answer, expected);
        }
    }
}

#[test]
fn snapshot_and_answer_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Snapshot>();
    send_sync::<Arc<Snapshot>>();
    send_sync::<Answer>();
    send_sync::<rolegrid::Problems>();
}

#[test]
fn explicit_sources_with_positional_and_annotated_ids() {
    let sources = Sources {
        policies: vec![
            SourceFile::new(
                "a.cedar",
                "permit (principal, action, resource) when { context.n > 1 };\n@id(\"named\")\nforbid (principal, action, resource) when { context.n > 5 };\n",
            ),
            SourceFile::new(
                "b.cedar",
                "permit (principal, action, resource) when { context.n == 0 };\n",
            ),
        ],
        ..Default::default()
    };
    let decide = |ids: PolicyIds, n: i64| {
        let options = LoadOptions {
            policy_ids: ids,
            ..LoadOptions::default()
        };
        let snapshot = build_snapshot(&sources, None, &options).unwrap();
        let request = snapshot
            .request(
                r#"User::"u""#,
                r#"Action::"a""#,
                r#"R::"r""#,
                Some(serde_json::json!({"n": n})),
            )
            .unwrap();
        let answer = snapshot.authorize(&request);
        (answer.decision(), common::reasons(&answer))
    };
    assert_eq!(
        decide(PolicyIds::AnnotationOrPositional, 0),
        (Decision::Allow, vec!["policy2".to_owned()])
    );
    assert_eq!(
        decide(PolicyIds::AnnotationOrPositional, 3),
        (Decision::Allow, vec!["policy0".to_owned()])
    );
    assert_eq!(
        decide(PolicyIds::AnnotationOrPositional, 9),
        (Decision::Deny, vec!["named".to_owned()])
    );
    assert_eq!(
        decide(PolicyIds::Positional, 9),
        (Decision::Deny, vec!["policy1".to_owned()])
    );
    // product mode wants every @id
    let problems = build_snapshot(&sources, None, &LoadOptions::default()).unwrap_err();
    assert!(
        problems
            .iter()
            .all(|p| p.kind() == ProblemKind::MissingPolicyId)
    );
    assert_eq!(problems.len(), 2);
}

#[test]
fn read_explicit_files_from_disk() {
    let root = common::fixture("explicit-basic");
    let sources = Sources::read_explicit(
        &root.join("policies.cedar"),
        Some(&root.join("schema.cedarschema")),
        &[root.join("entities.json"), root.join("more.entities.yaml")],
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(sources.policies.len(), 1);
    assert!(sources.schema.is_some());
    let kinds: Vec<FileKind> = sources.entities.iter().map(|(_, k)| *k).collect();
    assert_eq!(kinds, [FileKind::EntitiesJson, FileKind::EntitiesYaml]);
    let options = LoadOptions {
        policy_ids: PolicyIds::AnnotationOrPositional,
        ..LoadOptions::default()
    };
    let snapshot = build_snapshot(&sources, None, &options).unwrap();
    assert_eq!(snapshot.product(), None);
    assert_eq!(snapshot.policy_count(), 3);
    assert_eq!(snapshot.entity_count(), 6);
    let location = snapshot
        .policy_location(&PolicyId::new("owners-edit"))
        .unwrap();
    assert_eq!((location.line, location.column), (7, 1));
    assert!(location.file.ends_with("policies.cedar"));
    let sunset: EntityUid = r#"Photo::"sunset.jpg""#.parse().unwrap();
    let origin = snapshot.entity_origin(&sunset).unwrap();
    assert!(origin.file.path().ends_with("more.entities.yaml"));
    assert_eq!(origin.file.line_col(origin.span.start), (2, 3));
}

#[test]
fn product_snapshots_know_their_files_and_origins() {
    let snapshot = common::load("dataimporter");
    assert_eq!(snapshot.product(), Some("dataimporter"));
    let files = snapshot.files().unwrap();
    assert!(files.schema.ends_with("schemas/dataimporter.cedarschema"));
    assert_eq!(files.policies.len(), 3);
    assert_eq!(files.entities.len(), 1);
    let location = snapshot
        .policy_location(&PolicyId::new("tenant-isolation"))
        .unwrap();
    assert!(
        location
            .file
            .ends_with("policies/dataimporter/tenant.cedar")
    );
    assert_eq!(location.line, 2);
    let uid: EntityUid = r#"Dataimporter::User::"ada-admin""#.parse().unwrap();
    let origin = snapshot.entity_origin(&uid).unwrap();
    assert!(origin.file.path().ends_with("fixture.entities.yaml"));
}

#[test]
fn requests_from_text_json_lines_and_objects_agree() {
    let snapshot = common::load("imagekit");
    let from_text = snapshot
        .request(
            r#"ImageKit::User::"fin-frank""#,
            r#"ImageKit::Action::"cancelSubscription""#,
            r#"ImageKit::Account::"acme""#,
            None,
        )
        .unwrap();
    let from_line = RequestSpec::from_json_line(
        r#"{"principal": "ImageKit::User::\"fin-frank\"", "action": "ImageKit::Action::\"cancelSubscription\"", "resource": "ImageKit::Account::\"acme\""}"#,
    )
    .unwrap()
    .build(snapshot.schema())
    .unwrap();
    let from_objects = RequestSpec::from_json(&serde_json::json!({
        "principal": {"type": "ImageKit::User", "id": "fin-frank"},
        "action": {"__entity": {"type": "ImageKit::Action", "id": "cancelSubscription"}},
        "resource": {"type": "ImageKit::Account", "id": "acme"},
        "context": {}
    }))
    .unwrap()
    .build(snapshot.schema())
    .unwrap();
    let answers: Vec<Answer> = [from_text, from_line, from_objects]
        .iter()
        .map(|r| snapshot.authorize(r))
        .collect();
    assert!(answers[0].is_allowed());
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(
        answers[0].to_json(),
        serde_json::json!({"decision": "allow", "reasons": ["finance-cancel-subscription"], "errors": []})
    );
}

#[test]
fn extra_entities_that_clash_name_both_places() {
    let snapshot = common::load("dataimporter");
    let problems = rolegrid::with_entities(
        &snapshot,
        &[SourceFile::new(
            "clash.entities.yaml",
            "- uid: {type: Dataimporter::Role, id: admin}\n",
        )],
        &Limits::default(),
    )
    .unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::DuplicateEntity);
    assert_eq!(
        problem.location().unwrap().file.to_str(),
        Some("clash.entities.yaml")
    );
    let first = problem.related_problems()[0].location().unwrap();
    assert!(
        first
            .file
            .ends_with("policies/dataimporter/fixture.entities.yaml")
    );
    assert_eq!(first.line, 5);
    // and extra entities that do not fit the schema
    let problems = rolegrid::with_entities(&snapshot,
            &[SourceFile::new(
                "misfit.entities.json",
                r#"[{"uid": {"type": "Dataimporter::Job", "id": "j"}, "attrs": {"x": 1}, "parents": []}]"#,
            )],
            &Limits::default(),
        )
        .unwrap_err();
    assert_eq!(problems.iter().next().unwrap().kind(), ProblemKind::Entity);
}

#[test]
fn with_entities_leaves_the_snapshot_untouched() {
    let snapshot = common::load("rudderstack");
    let before = snapshot.entities().iter().count();
    let extra = rolegrid::with_entities(&snapshot,
            &[SourceFile::new(
                "x.entities.yaml",
                "- uid: {type: RudderStack::Workspace, id: extra}\n  attrs: {plan: free, teammates: 0}\n",
            )],
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(extra.iter().count(), before + 1);
    assert_eq!(snapshot.entities().iter().count(), before);
    // no files: the snapshot's own entities
    let same = rolegrid::with_entities(&snapshot, &[], &Limits::default()).unwrap();
    assert_eq!(same.iter().count(), before);
}

#[test]
fn problems_render_with_file_line_and_column() {
    let sources = Sources {
        policies: vec![SourceFile::new(
            "x.cedar",
            "@id(\"a\")\npermit (principal, action, resource) when { 1 + };\n",
        )],
        ..Default::default()
    };
    let problems = build_snapshot(&sources, None, &LoadOptions::default()).unwrap_err();
    let problem = problems.iter().next().unwrap();
    let location = problem.location().unwrap();
    assert_eq!(location.to_string(), "x.cedar:2:49");
    let text = rolegrid::Renderer::plain().render(problem);
    assert!(text.contains("rolegrid::policy-syntax"));
    assert!(text.contains("[x.cedar:2:49]"), "{text}");
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn answers_equal_plain_cedar_for_every_fixture_request() {
    // rolegrid's decision, reasons and errors are Cedar's own
    for product in PRODUCTS {
        let snapshot = common::load(product);
        let authorizer = cedar_policy::Authorizer::new();
        for request in all_requests(&snapshot) {
            let ours = snapshot.authorize(&request);
            let theirs =
                authorizer.is_authorized(&request, snapshot.policies(), snapshot.entities());
            assert_eq!(ours, Answer::from_response(theirs), "{product}: {request}");
        }
    }
}

/// The policy index (only policies whose scope can match are evaluated) must
/// give Cedar's answer on the full set for every scope shape: `==`, `is`,
/// `is … in`, `in`, action groups, policies that error, and extra entities.
#[test]
fn policy_index_answers_like_plain_cedar_for_every_scope_shape() {
    let schema = r#"
entity Group;
entity User in [Group] { level: Long };
entity Bot;
entity Folder;
entity Doc in [Folder] { public: Bool };
action read;
action view in [read] appliesTo { principal: [User, Bot], resource: [Doc, Folder], context: { flag: Bool } };
action list in [read] appliesTo { principal: [User, Bot], resource: [Folder], context: { flag: Bool } };
action edit appliesTo { principal: [User], resource: [Doc], context: { flag: Bool } };
"#;
    let principals = [
        "principal",
        "principal == User::\"u\"",
        "principal == Bot::\"b\"",
        "principal is User",
        "principal is Bot",
        "principal is User in Group::\"g\"",
        "principal in Group::\"g\"",
    ];
    let actions = [
        "action",
        "action == Action::\"view\"",
        "action == Action::\"edit\"",
        "action in Action::\"read\"",
        "action in [Action::\"edit\", Action::\"list\"]",
    ];
    let resources = [
        "resource",
        "resource is Doc",
        "resource == Folder::\"f\"",
        "resource in Folder::\"f\"",
        "resource is Doc in Folder::\"f\"",
    ];
    // conditions: none, one that holds sometimes, one that errors for bots and folders
    let conditions = [
        "",
        " when { context.flag }",
        " when { principal.level > 1 && resource.public }",
    ];
    let mut text = String::new();
    let mut n = 0usize;
    for p in principals {
        for a in actions {
            for r in resources {
                let effect = if n % 5 == 4 { "forbid" } else { "permit" };
                let condition = conditions[n % conditions.len()];
                text.push_str(&format!("{effect} ({p}, {a}, {r}){condition};\n"));
                n += 1;
            }
        }
    }
    let entities = r#"[
  {"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": []},
  {"uid": {"type": "User", "id": "u"}, "attrs": {"level": 2}, "parents": [{"type": "Group", "id": "g"}]},
  {"uid": {"type": "User", "id": "v"}, "attrs": {"level": 0}, "parents": []},
  {"uid": {"type": "Bot", "id": "b"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Folder", "id": "f"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Doc", "id": "d"}, "attrs": {"public": true}, "parents": [{"type": "Folder", "id": "f"}]},
  {"uid": {"type": "Doc", "id": "e"}, "attrs": {"public": false}, "parents": []}
]"#;
    let sources = Sources {
        schema: Some(SourceFile::new("s.cedarschema", schema)),
        policies: vec![SourceFile::new("p.cedar", text.clone())],
        entities: vec![(SourceFile::new("e.json", entities), FileKind::EntitiesJson)],
    };
    let options = LoadOptions {
        deny_warnings: false,
        validate_policies: false,
        policy_ids: PolicyIds::Positional,
        ..LoadOptions::default()
    };
    let snapshot = build_snapshot(&sources, None, &options).unwrap();
    assert_eq!(snapshot.policy_count(), n);
    // plain Cedar beside it
    let (cedar_schema, _) = cedar_policy::Schema::from_cedarschema_str(schema).unwrap();
    let cedar_policies: cedar_policy::PolicySet = text.parse().unwrap();
    let cedar_entities =
        cedar_policy::Entities::from_json_str(entities, Some(&cedar_schema)).unwrap();
    // extra entities: a new user in the group, a new doc in the folder
    let extra = rolegrid::with_entities(&snapshot,
            &[SourceFile::new(
                "x.entities.yaml",
                "- uid: {type: User, id: w}\n  attrs: {level: 5}\n  parents: [{type: Group, id: g}]\n- uid: {type: Doc, id: x}\n  attrs: {public: true}\n  parents: [{type: Folder, id: f}]\n",
            )],
            &Limits::default(),
        )
        .unwrap();
    let authorizer = cedar_policy::Authorizer::new();
    let mut compared = 0;
    let (mut allowed, mut with_errors, mut forbidden) = (0, 0, 0);
    for principal in [
        r#"User::"u""#,
        r#"User::"v""#,
        r#"User::"w""#,
        r#"Bot::"b""#,
    ] {
        for action in ["view", "list", "edit"] {
            for resource in [
                r#"Doc::"d""#,
                r#"Doc::"e""#,
                r#"Doc::"x""#,
                r#"Folder::"f""#,
            ] {
                for flag in [true, false] {
                    let Ok(request) = snapshot.request(
                        principal,
                        &format!("Action::\"{action}\""),
                        resource,
                        Some(serde_json::json!({"flag": flag})),
                    ) else {
                        continue; // not a request the schema allows
                    };
                    let plain = Answer::from_response(authorizer.is_authorized(
                        &request,
                        &cedar_policies,
                        &cedar_entities,
                    ));
                    assert_eq!(snapshot.authorize(&request), plain, "{request}");
                    allowed += usize::from(plain.is_allowed());
                    with_errors += usize::from(!plain.errors().is_empty());
                    forbidden += usize::from(!plain.is_allowed() && !plain.reasons().is_empty());
                    assert_eq!(
                        snapshot.authorize_with(&request, snapshot.entities()),
                        plain,
                        "{request}"
                    );
                    let plain_extra = Answer::from_response(authorizer.is_authorized(
                        &request,
                        &cedar_policies,
                        &extra,
                    ));
                    assert_eq!(
                        snapshot.authorize_with(&request, &extra),
                        plain_extra,
                        "{request} with extra entities"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 50, "{compared}");
    // the cases are not all alike
    assert!(
        allowed > 0 && with_errors > 0 && forbidden > 0,
        "{allowed} {with_errors} {forbidden}"
    );
}

/// `Snapshot::build_request` (empty contexts read once per action) builds the
/// same requests, and reports the same problems, as `RequestSpec::build`.
#[test]
fn build_request_equals_the_reference_build() {
    for product in PRODUCTS {
        let snapshot = common::load(product);
        let schema = snapshot.schema().unwrap();
        let uids = uids_of(snapshot.as_ref());
        let mut compared = 0;
        for action in schema.actions() {
            for principal in uids.iter().step_by(4) {
                for resource in uids.iter().skip(1).step_by(7) {
                    for context in [
                        None,
                        Some(serde_json::Value::Null),
                        Some(serde_json::json!({})),
                        Some(serde_json::json!({"role": "developer"})),
                        Some(serde_json::json!([])),
                    ] {
                        let spec = RequestSpec {
                            principal: principal.clone(),
                            action: action.clone(),
                            resource: resource.clone(),
                            context,
                        };
                        let reference = spec.clone().build(Some(schema));
                        let fast = snapshot.build_request(spec);
                        match (reference, fast) {
                            (Ok(a), Ok(b)) => {
                                assert_eq!(format!("{a:?}"), format!("{b:?}"));
                                assert_eq!(snapshot.authorize(&a), snapshot.authorize(&b));
                            }
                            (Err(a), Err(b)) => {
                                assert_eq!(a.message(), b.message());
                                assert_eq!(a.kind(), b.kind());
                            }
                            (a, b) => panic!("{product}: {a:?} against {b:?}"),
                        }
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 100, "{product}: {compared}");
    }
}

/// The snapshot's entities, joined without Cedar repeating its schema
/// conformance check, are the entities Cedar builds with the schema:
/// the same entities, attributes, ancestors and action entities.
#[test]
fn entities_equal_cedars_schema_built_entities() {
    for product in PRODUCTS {
        let snapshot = common::load(product);
        let schema = snapshot.schema().unwrap();
        let ours = snapshot.entities();
        // the files' entities, through Cedar's own schema-checked constructor
        let files: Vec<cedar_policy::Entity> = ours
            .iter()
            .filter(|e| snapshot.entity_origin(&e.uid()).is_some())
            .cloned()
            .collect();
        let cedars = cedar_policy::Entities::from_entities(files, Some(schema)).unwrap();
        assert_eq!(ours.len(), cedars.len(), "{product}");
        for entity in cedars.iter() {
            let uid = entity.uid();
            let mine = ours
                .get(&uid)
                .unwrap_or_else(|| panic!("{product}: {uid} missing"));
            assert!(mine.deep_eq(entity), "{product}: {uid} differs");
            let ancestors = |e: &cedar_policy::Entities| {
                let mut a: Vec<String> = e
                    .ancestors(&uid)
                    .unwrap()
                    .map(ToString::to_string)
                    .collect();
                a.sort();
                a
            };
            assert_eq!(ancestors(ours), ancestors(&cedars), "{product}: {uid}");
        }
    }
}

/// A permit decided by its scope alone joins the reasons only where Cedar
/// would name it: an entity attribute holding an unknown leaves a forbid
/// undecided, and then Cedar allows with no reasons at all.
#[test]
fn permits_decided_by_the_scope_answer_like_cedar_with_unknowns_and_extra_entities() {
    let sources = Sources {
        schema: Some(SourceFile::new(
            "s.cedarschema",
            "entity R; entity U in [R]; entity F { secret: Bool };\n\
             action v appliesTo { principal: U, resource: F };\n",
        )),
        policies: vec![SourceFile::new(
            "p.cedar",
            "@id(\"role\") permit (principal in R::\"r\", action == Action::\"v\", resource);\n\
             @id(\"open\") permit (principal, action, resource is F);\n\
             @id(\"hidden\") forbid (principal, action, resource) when { resource.secret };\n",
        )],
        entities: vec![(
            SourceFile::new(
                "e.entities.json",
                r#"[
                  {"uid": {"type": "R", "id": "r"}, "attrs": {}, "parents": []},
                  {"uid": {"type": "U", "id": "u"}, "attrs": {}, "parents": [{"type": "R", "id": "r"}]},
                  {"uid": {"type": "U", "id": "v"}, "attrs": {}, "parents": []},
                  {"uid": {"type": "F", "id": "known"}, "attrs": {"secret": false}, "parents": []},
                  {"uid": {"type": "F", "id": "shut"}, "attrs": {"secret": true}, "parents": []},
                  {"uid": {"type": "F", "id": "unknown"}, "attrs": {"secret": {"__extn": {"fn": "unknown", "arg": "s"}}}, "parents": []}
                ]"#,
            ),
            FileKind::EntitiesJson,
        )],
    };
    let with_unknowns = build_snapshot(&sources, None, &LoadOptions::default()).unwrap();
    let mut known_only = sources.clone();
    known_only.entities[0].0 = SourceFile::new(
        "e.entities.json",
        sources.entities[0]
            .0
            .text()
            .replace(r#"{"__extn": {"fn": "unknown", "arg": "s"}}"#, "false"),
    );
    let without_unknowns = build_snapshot(&known_only, None, &LoadOptions::default()).unwrap();
    // the same files as a product of a store (the other loader)
    let store = common::TempStore::with_product("p", sources.schema.as_ref().unwrap().text());
    store.write("policies/p/p.cedar", sources.policies[0].text());
    store.write("policies/p/e.entities.json", sources.entities[0].0.text());
    let product = rolegrid::Store::open(store.path())
        .unwrap()
        .load("p", &LoadOptions::default())
        .unwrap();
    let extra = [SourceFile::new(
        "x.entities.json",
        r#"[{"uid": {"type": "U", "id": "w"}, "attrs": {}, "parents": [{"type": "R", "id": "r"}]}]"#,
    )];
    let mut checked = 0;
    for snapshot in [&with_unknowns, &without_unknowns, &product] {
        let extended = rolegrid::with_entities(snapshot, &extra, &Limits::default()).unwrap();
        for user in ["u", "v", "w"] {
            for file in ["known", "shut", "unknown"] {
                let request = snapshot
                    .request(
                        &format!(r#"U::"{user}""#),
                        r#"Action::"v""#,
                        &format!(r#"F::"{file}""#),
                        None,
                    )
                    .unwrap();
                for entities in [snapshot.entities(), &extended] {
                    let plain = plain_cedar(snapshot, &request, entities);
                    assert_eq!(
                        snapshot.authorize_with(&request, entities),
                        plain,
                        "{user} on {file}"
                    );
                    checked += 1;
                }
                assert_eq!(
                    snapshot.authorize(&request),
                    plain_cedar(snapshot, &request, snapshot.entities())
                );
            }
        }
    }
    assert_eq!(checked, 54);
    // the case that needs care: allowed by Cedar with no reasons
    let request = with_unknowns
        .request(r#"U::"u""#, r#"Action::"v""#, r#"F::"unknown""#, None)
        .unwrap();
    let answer = with_unknowns.authorize(&request);
    assert_eq!(answer.decision(), Decision::Allow);
    assert!(answer.reasons().is_empty());
    assert_eq!(product.authorize(&request), answer);
    // and without unknowns, the permits of the scope are the reasons
    let request = without_unknowns
        .request(r#"U::"u""#, r#"Action::"v""#, r#"F::"known""#, None)
        .unwrap();
    assert_eq!(
        common::reasons(&without_unknowns.authorize(&request)),
        ["open", "role"]
    );
}

/// Plain Cedar's answer on the snapshot's whole policy set.
fn plain_cedar(
    snapshot: &Snapshot,
    request: &cedar_policy::Request,
    entities: &cedar_policy::Entities,
) -> Answer {
    Answer::from_response(cedar_policy::Authorizer::new().is_authorized(
        request,
        snapshot.policies(),
        entities,
    ))
}

/// Extra entities that close a cycle through a snapshot entity (one whose
/// parent only the extra entities define) are refused, pointing at the
/// extra entity on the cycle.
#[test]
fn extra_entities_closing_a_cycle_through_the_snapshot_are_refused() {
    let sources = Sources {
        policies: vec![SourceFile::new(
            "p.cedar",
            r#"@id("all") permit(principal, action, resource);"#,
        )],
        entities: vec![(
            SourceFile::new(
                "fixture.entities.yaml",
                "- uid: {type: User, id: u}\n  parents: [{type: Group, id: g}]\n",
            ),
            FileKind::EntitiesYaml,
        )],
        ..Default::default()
    };
    let snapshot = build_snapshot(&sources, None, &LoadOptions::default()).unwrap();
    let extra = SourceFile::new(
        "extra.entities.yaml",
        "- uid: {type: Group, id: x}\n- uid: {type: Group, id: g}\n  parents: [{type: User, id: u}]\n",
    );
    let problems = rolegrid::with_entities(&snapshot, &[extra], &Limits::default()).unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.kind(), ProblemKind::HierarchyCycle);
    assert_eq!(
        problem.message(),
        r#"the entity hierarchy has a cycle through Group::"g""#
    );
    assert_eq!(problem.location().map(|l| l.line), Some(2));
}

/// The library decides a deep condition alike on any thread: a service
/// calling `Snapshot::authorize` on a 2 MiB thread (a tokio worker's size)
/// got "recursion limit reached" and deny for a 500-`||` policy that every
/// command allows; evaluation now starts with room for the deepest policy.
#[test]
fn a_deep_condition_is_decided_alike_on_a_small_stack() {
    let alternatives: Vec<String> = (0..499)
        .map(|i| format!("principal == App::User::\"x{i}\""))
        .chain(["true".to_owned()])
        .collect();
    let sources = rolegrid::Sources {
        schema: Some(rolegrid::SourceFile::new(
            "s.cedarschema",
            "namespace App { entity User; entity Doc; action view appliesTo { principal: User, resource: Doc }; }",
        )),
        policies: vec![rolegrid::SourceFile::new(
            "p.cedar",
            format!(
                "@id(\"many\")\npermit (principal, action == App::Action::\"view\", resource) when {{ {} }};\n",
                alternatives.join(" || ")
            ),
        )],
        ..Default::default()
    };
    let snapshot = std::sync::Arc::new(
        rolegrid::build_snapshot(&sources, None, &rolegrid::LoadOptions::default()).unwrap(),
    );
    let answer = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let request = snapshot
                .request(
                    r#"App::User::"a""#,
                    r#"App::Action::"view""#,
                    r#"App::Doc::"d""#,
                    None,
                )
                .unwrap();
            snapshot.authorize(&request)
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(answer.is_allowed(), "{answer:?}");
    assert!(answer.errors().is_empty(), "{answer:?}");
}

/// An explanation agrees with Cedar's answer on every seed expectation
/// request (every twelfth): the policies it says apply are exactly the
/// determining ones of the effect that decided (none for a default deny),
/// the ones it says erred are exactly the answer's errors, and a policy
/// whose scope does not match is never said to apply.
#[test]
fn explanations_agree_with_cedars_answers_on_the_seed_models() {
    use rolegrid::explain::{Condition, explain};
    use std::collections::BTreeSet;
    let store = rolegrid::Store::open(common::root()).unwrap();
    let mut explained = 0;
    for product in store.products().unwrap() {
        let snapshot = store
            .load(&product, &rolegrid::LoadOptions::default())
            .unwrap();
        let suite = rolegrid::expect::Suite::load_product(&snapshot).unwrap();
        let checks: Vec<_> = suite
            .items
            .iter()
            .flat_map(|item| item.checks())
            .map(Result::unwrap)
            .collect();
        for check in checks.iter().step_by(12) {
            let entities = check.entities().unwrap_or_else(|| snapshot.entities());
            let explanation = explain(&snapshot, check.request(), entities);
            let answer = snapshot.authorize_with(check.request(), entities);
            assert_eq!(explanation.answer, answer);
            let applying = |effect: &str| -> BTreeSet<String> {
                explanation
                    .policies
                    .iter()
                    .filter(|p| p.effect == effect && p.condition == Condition::True)
                    .map(|p| p.id.clone())
                    .collect()
            };
            let reasons: BTreeSet<String> =
                answer.reasons().iter().map(ToString::to_string).collect();
            match (answer.is_allowed(), reasons.is_empty()) {
                (true, _) => {
                    assert_eq!(applying("permit"), reasons);
                    assert!(applying("forbid").is_empty());
                }
                (false, false) => assert_eq!(applying("forbid"), reasons),
                (false, true) => {
                    assert!(applying("permit").is_empty() && applying("forbid").is_empty());
                }
            }
            let erred: BTreeSet<String> = explanation
                .policies
                .iter()
                .filter(|p| matches!(p.condition, Condition::Error(_)))
                .map(|p| p.id.clone())
                .collect();
            let errors: BTreeSet<String> =
                answer.errors().iter().map(|e| e.policy.clone()).collect();
            assert_eq!(erred, errors);
            for policy in &explanation.policies {
                assert!(policy.scope.all() || policy.condition == Condition::NotEvaluated);
            }
            if !answer.is_allowed() {
                assert!(explanation.closest_permits().len() <= 3);
            }
            explained += 1;
        }
    }
    assert!(explained > 150, "{explained}");
}

/// Requests are built without re-validating each against the schema when
/// the snapshot already knows them valid; whatever the schema would refuse
/// (a type the action does not apply to, an id an enumerated type does not
/// list, a context an action's type needs) is still refused, with Cedar's
/// message, and what it accepts decides as Cedar does.
#[test]
fn requests_the_schema_refuses_are_refused_on_every_path() {
    let schema = r#"
        entity User;
        entity Color enum ["red", "blue"];
        entity Doc;
        action view appliesTo { principal: User, resource: [Doc, Color] };
        action paint appliesTo { principal: User, resource: Color, context: { n: Long } };
    "#;
    let sources = Sources {
        schema: Some(SourceFile::new("s.cedarschema", schema)),
        policies: vec![SourceFile::new(
            "p.cedar",
            "@id(\"all\")\npermit (principal, action, resource);",
        )],
        ..Default::default()
    };
    let snapshot = build_snapshot(&sources, None, &LoadOptions::default()).unwrap();
    let ask = |principal: &str, action: &str, resource: &str| {
        snapshot
            .request(principal, action, resource, None)
            .map(|request| snapshot.authorize(&request).is_allowed())
            .map_err(|problem| problem.message().to_owned())
    };
    assert_eq!(
        ask(r#"User::"a""#, r#"Action::"view""#, r#"Doc::"d""#),
        Ok(true)
    );
    assert_eq!(
        ask(r#"User::"a""#, r#"Action::"view""#, r#"Color::"red""#),
        Ok(true)
    );
    let not_listed = ask(r#"User::"a""#, r#"Action::"view""#, r#"Color::"green""#).unwrap_err();
    assert!(
        not_listed.contains("enumerated entity type"),
        "{not_listed}"
    );
    let wrong_type = ask(r#"Doc::"d""#, r#"Action::"view""#, r#"Doc::"d""#).unwrap_err();
    assert!(
        wrong_type.contains("principal type `Doc` is not valid"),
        "{wrong_type}"
    );
    let needs_context = ask(r#"User::"a""#, r#"Action::"paint""#, r#"Color::"red""#).unwrap_err();
    assert!(needs_context.contains("context"), "{needs_context}");
}
