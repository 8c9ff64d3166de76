//! The typed path against Cedar's reader: whenever [`TypedReader::read`]
//! gives an entity, Cedar's `Entity::from_json_value` on the same value and
//! schema gives an equal one (uid, attributes, tags, parents); where Cedar
//! refuses a value, the typed path gives nothing.
//!
//! Inputs: the shipped models, a generated store, Cedar's sample data, and
//! every one of them changed attribute by attribute into values of other
//! types and forms (escapes, unknowns, extra keys, missing attributes). The
//! whole Cedar corpus is the opt-in `typed_entities_match_cedar_on_the_corpus`.

use super::TypedReader;
use crate::diagnostics::SourceFile;
use crate::store::test_data::{cedar_tests, ending, generated, root, unpacked_corpus};
use crate::yaml::parse_yaml_list;
use cedar_policy::{Entity, EntityUid, Schema};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;

/// How a batch of values went.
#[derive(Debug, Default)]
struct Tally {
    typed: usize,
    left_to_cedar: usize,
    refused_by_cedar: usize,
}

/// Reads `value` both ways and checks they agree; returns whether the typed
/// path gave the entity.
fn agree(reader: &mut TypedReader<'_>, schema: &Schema, value: &Value, tally: &mut Tally) {
    let typed = reader.read(value);
    let cedar = Entity::from_json_value(value.clone(), Some(schema));
    match (typed, cedar) {
        (Some((entity, parents)), Ok(expected)) => {
            assert!(
                entity.as_ref().deep_eq(expected.as_ref()),
                "typed {entity:?}\n  != Cedar's {expected:?}\n  for {value}"
            );
            let (_, _, cedar_parents) = expected.into_inner();
            let parents: HashSet<EntityUid> = parents.into_iter().collect();
            assert_eq!(parents, cedar_parents, "parents of {value}");
            tally.typed += 1;
        }
        (Some((entity, _)), Err(e)) => {
            panic!("typed path gave {entity:?} where Cedar refuses {value}: {e}")
        }
        (None, Ok(_)) => tally.left_to_cedar += 1,
        (None, Err(_)) => tally.refused_by_cedar += 1,
    }
}

/// The values of an entity file (YAML or JSON), with the defaults the store
/// fills in for YAML (`attrs: {}`, `parents: []`).
fn entity_values(file: &SourceFile) -> Vec<Value> {
    parse_yaml_list(file, "entities")
        .unwrap()
        .into_iter()
        .map(|(mut value, _)| {
            if let Some(object) = value.as_object_mut() {
                object.entry("attrs").or_insert_with(|| json!({}));
                object.entry("parents").or_insert_with(|| json!([]));
            }
            value
        })
        .collect()
}

fn schema_of(path: &Path) -> Schema {
    let text = std::fs::read_to_string(path).unwrap();
    Schema::from_cedarschema_str(&text).unwrap().0
}

/// Values like `value` with one thing changed: each attribute (and each
/// record field and set item one level down) replaced by a value of every
/// other form, removed, or joined by one the schema does not declare; the
/// uid and parents written in other forms.
fn mutations(value: &Value) -> Vec<Value> {
    let forms = [
        json!("text"),
        json!(7),
        json!(-9_223_372_036_854_775_808_i64),
        json!(18_446_744_073_709_551_615_u64),
        json!(1.5),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!([1, "two"]),
        json!({"type": "User", "id": "x"}),
        json!({"type": "User", "id": "x", "more": 1}),
        json!({"__entity": {"type": "User", "id": "x"}}),
        json!({"__extn": {"fn": "unknown", "arg": "u"}}),
        json!({"__extn": {"fn": "ip", "arg": "10.0.0.1"}}),
        json!({"fn": "decimal", "arg": "1.5"}),
        json!({"__expr": "1"}),
        json!("10.0.0.1"),
    ];
    let mut out = Vec::new();
    let Some(object) = value.as_object() else {
        return out;
    };
    let attrs = object
        .get("attrs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let with_attrs = |attrs: serde_json::Map<String, Value>| {
        let mut changed = object.clone();
        changed.insert("attrs".into(), Value::Object(attrs));
        Value::Object(changed)
    };
    for (name, current) in &attrs {
        for form in &forms {
            let mut changed = attrs.clone();
            changed.insert(name.clone(), form.clone());
            out.push(with_attrs(changed));
        }
        let mut removed = attrs.clone();
        removed.remove(name);
        out.push(with_attrs(removed));
        // one level down: a record's fields, a set's first item
        match current {
            Value::Object(fields) if !fields.is_empty() => {
                for form in &forms {
                    let mut inner = fields.clone();
                    if let Some(first) = inner.keys().next().cloned() {
                        inner.insert(first, form.clone());
                    }
                    let mut changed = attrs.clone();
                    changed.insert(name.clone(), Value::Object(inner.clone()));
                    out.push(with_attrs(changed));
                    inner.insert("__extn".into(), form.clone());
                    let mut changed = attrs.clone();
                    changed.insert(name.clone(), Value::Object(inner));
                    out.push(with_attrs(changed));
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for form in &forms {
                    let mut inner = items.clone();
                    if let Some(first) = inner.first_mut() {
                        *first = form.clone();
                    }
                    let mut changed = attrs.clone();
                    changed.insert(name.clone(), Value::Array(inner));
                    out.push(with_attrs(changed));
                }
            }
            _ => {}
        }
    }
    let mut extra = attrs.clone();
    extra.insert("undeclared".into(), json!(1));
    out.push(with_attrs(extra));
    // the uid and parents in other forms, and keys Cedar ignores or refuses
    if let Some(uid) = object.get("uid") {
        for changed_uid in [
            json!({"__entity": uid}),
            json!({"__expr": "User::\"x\""}),
            json!({"type": uid.get("type"), "id": 1}),
            json!({"type": " Synth::User", "id": "x"}),
        ] {
            let mut changed = object.clone();
            changed.insert("uid".into(), changed_uid);
            out.push(Value::Object(changed));
        }
        let mut changed = object.clone();
        changed.insert("parents".into(), json!([uid, {"__entity": uid}, uid]));
        out.push(Value::Object(changed));
    }
    for (key, extra) in [
        ("tags", json!({"t": 1})),
        ("tags", json!({})),
        ("other", json!(1)),
    ] {
        let mut changed = object.clone();
        changed.insert(key.into(), extra);
        out.push(Value::Object(changed));
    }
    let mut no_parents = object.clone();
    no_parents.remove("parents");
    out.push(Value::Object(no_parents));
    out
}

/// Checks every value and its mutations against Cedar.
fn check_all(schema: &Schema, values: &[Value]) -> Tally {
    let mut reader = TypedReader::new(schema);
    let mut tally = Tally::default();
    for value in values {
        agree(&mut reader, schema, value, &mut tally);
        for changed in mutations(value) {
            agree(&mut reader, schema, &changed, &mut tally);
        }
    }
    tally
}

#[test]
fn typed_entities_match_cedar_on_the_shipped_models() {
    let mut products = 0;
    for entry in std::fs::read_dir(root().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        let product = path.file_stem().unwrap().to_string_lossy().into_owned();
        let schema = schema_of(&path);
        let mut values = Vec::new();
        for file in std::fs::read_dir(root().join("policies").join(&product)).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".entities.yaml") || name.ends_with(".entities.json") {
                let text = std::fs::read_to_string(&file).unwrap();
                values.extend(entity_values(&SourceFile::new(&file, text)));
            }
        }
        // the entities as written all take the typed path
        let mut reader = TypedReader::new(&schema);
        let mut plain = Tally::default();
        for value in &values {
            agree(&mut reader, &schema, value, &mut plain);
        }
        assert_eq!(plain.typed, values.len(), "{product}: {plain:?}");
        let tally = check_all(&schema, &values);
        assert!(
            tally.refused_by_cedar > 0 && tally.typed > values.len(),
            "{product}: {tally:?}"
        );
        products += 1;
    }
    assert_eq!(products, 5);
}

#[test]
fn typed_entities_match_cedar_on_a_generated_store() {
    let store = generated(100, 600);
    let schema_file = ending(&store, ".cedarschema").next().unwrap();
    let schema = Schema::from_cedarschema_str(&schema_file.text).unwrap().0;
    let values: Vec<Value> = ending(&store, ".entities.yaml")
        .flat_map(|f| entity_values(&SourceFile::new(&f.path, f.text.as_str())))
        .collect();
    assert!(values.len() >= 600);
    let tally = check_all(&schema, &values[..200]);
    assert!(tally.typed > 200 && tally.refused_by_cedar > 0, "{tally:?}");
    let mut reader = TypedReader::new(&schema);
    let mut plain = Tally::default();
    for value in &values {
        agree(&mut reader, &schema, value, &mut plain);
    }
    assert_eq!(plain.typed, values.len(), "{plain:?}");
}

/// Cedar's sample data uses extension values (`ipaddr`, `decimal`) and
/// records: those entities go to Cedar's reader, the rest agree.
#[test]
fn typed_entities_match_cedar_on_cedar_sample_data() {
    let corpus = cedar_tests().join("sample-data");
    for (folder, schema) in [
        ("sandbox_a", "schema.cedarschema"),
        ("sandbox_b", "schema.cedarschema"),
        ("sandbox_b", "schema_exts.cedarschema"),
    ] {
        let schema = schema_of(&corpus.join(folder).join(schema));
        let text = std::fs::read_to_string(corpus.join(folder).join("entities.json")).unwrap();
        let values: Vec<Value> = serde_json::from_str(&text).unwrap();
        let tally = check_all(&schema, &values);
        assert!(tally.typed > 0, "{folder}: {tally:?}");
    }
}

/// Every entity file of Cedar's generated corpus (7,809 tests, entity ids
/// with NUL and control characters), with mutations. Opt-in:
/// `cargo test --release --lib typed_entities -- --ignored --nocapture`.
#[test]
#[ignore = "unpacks Cedar's corpus (139 MB); run on demand"]
fn typed_entities_match_cedar_on_the_corpus() {
    let (_dir, corpus) = unpacked_corpus();
    let mut total = Tally::default();
    let mut files = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(hash) = name.strip_suffix(".entities.json") else {
            continue;
        };
        let schema_text =
            std::fs::read_to_string(path.with_file_name(format!("{hash}.cedarschema"))).unwrap();
        let Ok((schema, _)) = Schema::from_cedarschema_str(&schema_text) else {
            continue;
        };
        let values: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let tally = check_all(&schema, &values);
        total.typed += tally.typed;
        total.left_to_cedar += tally.left_to_cedar;
        total.refused_by_cedar += tally.refused_by_cedar;
        files += 1;
    }
    println!("{files} entity files: {total:?}");
    assert!(files > 7000 && total.typed > 0, "{files}: {total:?}");
}

/// Records whose declared fields look like Cedar's escapes: a record with an
/// `__extn` field holding `{"fn": "unknown", ...}` is an unknown to Cedar,
/// not a record, and `fn`/`arg` fields are plain fields.
#[test]
fn typed_entities_match_cedar_on_escape_like_records() {
    let schema = Schema::from_cedarschema_str(
        r#"
        entity User;
        entity Doc {
            meta: { "__extn"?: { "fn": String, arg: String }, "fn"?: String, arg?: String },
            owner?: User,
            marks: Set<{ a: Long, b?: Bool }>,
        };
        "#,
    )
    .unwrap()
    .0;
    let doc = |meta: Value| json!({"uid": {"type": "Doc", "id": "d"}, "attrs": {"meta": meta, "marks": [{"a": 1}, {"a": 2, "b": true}]}, "parents": []});
    let values = [
        doc(json!({"__extn": {"fn": "unknown", "arg": "x"}})),
        doc(json!({"__extn": {"fn": "decimal", "arg": "1.0"}})),
        doc(json!({"fn": "unknown", "arg": "x"})),
        doc(json!({"fn": "decimal"})),
        doc(json!({})),
    ];
    let mut reader = TypedReader::new(&schema);
    let mut tally = Tally::default();
    for value in &values {
        agree(&mut reader, &schema, value, &mut tally);
    }
    assert_eq!(tally.typed, 3, "{tally:?}");
    let tally = check_all(&schema, &values);
    assert!(tally.typed > 3, "{tally:?}");
}
