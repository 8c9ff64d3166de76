//! The events reader against serde-saphyr: wherever [`read_list`] reads a
//! file, serde-saphyr reads the same values with the same item positions;
//! the files it leaves are left whole. Inputs: the shipped models' entity
//! and expectation files, a generated store, and files written to hit each
//! rule (every scalar spelling below, tags, anchors, keys, documents).

use super::read_list;
use crate::limits::Limits;
use crate::store::test_data::{ending, generated, root};
use crate::yaml::yaml_options_with;
use serde_json::Value;
use std::ops::Range;

/// serde-saphyr's items with the byte range of each one's location.
fn saphyr(text: &str) -> Result<Vec<(Value, Range<usize>)>, String> {
    let items: Vec<serde_saphyr::Spanned<Value>> =
        serde_saphyr::from_str_with_options(text, yaml_options_with(&Limits::default()))
            .map_err(|e| e.to_string())?;
    Ok(items
        .into_iter()
        .map(|item| {
            let span = item.referenced.span();
            let start = usize::try_from(span.byte_offset().unwrap()).unwrap();
            let len = usize::try_from(span.byte_len().unwrap()).unwrap();
            (item.value, start..start + len)
        })
        .collect())
}

/// Checks that the events reader gives serde-saphyr's items where it reads
/// `text`; returns whether it did.
fn agree(text: &str) -> bool {
    let options = yaml_options_with(&Limits::default());
    let Some(read) = read_list(text, options.budget.as_ref().unwrap()) else {
        return false;
    };
    match saphyr(text) {
        Ok(expected) => assert_eq!(read, expected, "for\n{text}"),
        Err(e) => panic!("read {read:?} where serde-saphyr fails: {e}\nfor\n{text}"),
    }
    true
}

#[test]
fn the_shipped_models_files_are_read_as_serde_saphyr_reads_them() {
    let mut files = 0;
    for file in crate::files::walk(&root().join("policies"), &Limits::default()).unwrap() {
        let name = file.to_string_lossy().into_owned();
        if !name.ends_with(".entities.yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(agree(&text), "{name} left to serde-saphyr");
        files += 1;
    }
    assert_eq!(files, 5);
}

#[test]
fn a_generated_store_is_read_as_serde_saphyr_reads_it() {
    let store = generated(100, 2000);
    let mut files = 0;
    for file in ending(&store, ".entities.yaml") {
        assert!(agree(&file.text), "{} left", file.path.display());
        files += 1;
    }
    assert!(files > 2, "{files}");
}

/// Each spelling as a value, a key, a list item and a record field: where
/// the events reader reads it, it reads it as serde-saphyr does.
#[test]
fn every_scalar_spelling_is_read_as_serde_saphyr_reads_it_or_left() {
    let spellings = [
        "alice",
        "Alice Smith",
        "a-b_c.d/e@f",
        "Synth::User",
        "x:y",
        "null",
        "Null",
        "NULL",
        "~",
        "true",
        "false",
        "True",
        "TRUE",
        "False",
        "FALSE",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "0",
        "1",
        "42",
        "-7",
        "-0",
        "007",
        "0x1F",
        "0o17",
        "0b101",
        "1_000",
        "+1",
        "1e3",
        "1.5",
        ".5",
        "-1.5",
        "inf",
        "-inf",
        ".inf",
        "Infinity",
        "nan",
        ".NaN",
        "NaN",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "999999999999999999",
        "1999999999999999999",
        "e5",
        "E",
        "2024-01-01",
        "12:30",
        "'quoted'",
        "\"double\"",
        "\"esc\\u00e9\\n\"",
        "'it''s'",
        "\"\"",
        "''",
        "é",
        "_x",
        "$x",
    ];
    let mut read = 0;
    for s in spellings {
        for text in [
            format!("- {s}\n"),
            format!("- {{{s}: 1}}\n"),
            format!("- k: {s}\n"),
            format!("- [{s}, {s}]\n"),
            format!("[{s}]"),
        ] {
            read += usize::from(agree(&text));
        }
    }
    assert!(read > 100, "{read}");
}

/// What the events reader leaves: serde-saphyr then reads it (or reports
/// its error); and what it reads: the same as serde-saphyr.
#[test]
fn structures_are_read_as_serde_saphyr_reads_them_or_left() {
    let read = [
        "[]",
        "- a\n- b\n",
        "# a comment\n- uid: {type: T, id: a}  # after\n  attrs: {}\n  parents: []\n",
        "- uid:\n    type: T\n    id: a\n  attrs:\n    n: 1\n    s:\n      - x\n      - y\n",
        "---\n- a\n...\n",
        "- {a: [1, {b: c}], 'd': \"e\"}\n",
        "- |\n  two\n  lines\n- >\n  folded\n  text\n",
        "- key: a long\n    plain scalar\n",
        "  - indented\n  - list\n",
        "[{\"uid\": {\"type\": \"T\", \"id\": \"a\"}, \"attrs\": {}, \"parents\": []}]",
        "- {}\n- []\n",
        "\t- a\n",
    ];
    for text in read {
        assert!(agree(text), "left:\n{text}");
    }
    let left = [
        "- &a x\n- *a\n",
        "- !!str 1\n",
        "- !custom x\n",
        "- {a: 1, a: 2}\n",
        "- {<<: {a: 1}}\n",
        "- {? [a]: 1}\n",
        "- {1: a}\n",
        "- a\n---\n- b\n",
        "%YAML 1.2\n---\n- a\n",
        "a: 1\n",
        "x\n",
        "- [a\n",
        "- {a: }\n",
        "- \n",
        "- a: b\n c\n",
    ];
    for text in left {
        assert!(!agree(text), "read:\n{text}");
    }
}

/// Deep nesting and long files are left to serde-saphyr, whose budget
/// reports them.
#[test]
fn files_near_the_yaml_limits_are_left() {
    let limits = Limits::default();
    let deep = format!(
        "- {}{}\n",
        "[".repeat(limits.nesting()),
        "]".repeat(limits.nesting())
    );
    assert!(!agree(&deep));
    let options = yaml_options_with(&limits);
    let budget = options.budget.as_ref().unwrap();
    let long = "- a\n".repeat(budget.max_nodes / 2 + 10);
    assert!(read_list(&long, budget).is_none());
}
