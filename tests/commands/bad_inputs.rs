//! Bad input never crashes: a corpus of broken stores, each a copy of the
//! seed store `tests/bad/seed/` with one thing broken, by the files of its
//! folder `tests/bad/<case>/` (copied over the seed) and/or a generator below
//! (huge, binary and file-system cases are generated, never committed).
//!
//! Every case is checked three ways:
//! - `cli`: `rolegrid authorize -p shop …` in the broken store exits 2 within
//!   [`HANG_GUARD`], never panics or aborts, names the file (and line) where
//!   there is one; the whole run is snapshotted (`bad_inputs__<case>.snap`);
//! - `library`: [`Store::load`] returns problems of the expected kind and place;
//! - `reload`: the same break applied to the files of a running, watching
//!   [`Evaluator`] is reported as a failed reload, and the last good snapshot
//!   keeps answering as before.
//!
//! Malformed request lines are checked by `requests_*`. Each test prints how
//! long it took (`cargo test --test bad_inputs -- --nocapture`).
//!
//! To see how another build of rolegrid fares on the corpus (e.g. an older
//! commit), set `BAD_INPUTS_BIN=/path/to/rolegrid`: the `cli` checks then run
//! that binary and skip the snapshots.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rolegrid::{
    Evaluator, Limits, LoadOptions, ProblemKind, Problems, ReloadEvent, ReloadOutcome, RequestSpec,
    Store, build_snapshot,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The bound asserted on every case: a hang guard, far above the actual
/// times (see the report printed by each test).
const HANG_GUARD: Duration = Duration::from_secs(30);

const PRODUCT: &str = "shop";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad")
}

// ------------------------------------------------------------------- cases

/// What a case expects: a problem of `kind`, in a file whose path ends with
/// `file` (if there is a file), starting on `line` (if known).
#[derive(Debug, Clone, Copy)]
struct Expect {
    kind: ProblemKind,
    file: Option<&'static str>,
    line: Option<usize>,
}

const fn at(kind: ProblemKind, file: &'static str, line: usize) -> Expect {
    Expect {
        kind,
        file: Some(file),
        line: Some(line),
    }
}

const fn in_file(kind: ProblemKind, file: &'static str) -> Expect {
    Expect {
        kind,
        file: Some(file),
        line: None,
    }
}

const fn nowhere(kind: ProblemKind) -> Expect {
    Expect {
        kind,
        file: None,
        line: None,
    }
}

/// One broken store: the seed, the case folder's files (if any), then `make`.
struct Case {
    expect: Expect,
    make: fn(&Path),
    /// The product asked for (the seed's `shop` unless the case is about another).
    product: &'static str,
    /// Whether the break can be applied to a running evaluator's files.
    reload: bool,
}

fn nothing(_: &Path) {}

fn case(name: &str) -> Case {
    use ProblemKind as K;
    let plain = |expect| Case {
        expect,
        make: nothing,
        product: PRODUCT,
        reload: true,
    };
    let made = |expect, make: fn(&Path)| Case {
        expect,
        make,
        product: PRODUCT,
        reload: true,
    };
    match name {
        // policies that do not parse
        "policy_missing_semicolon" => plain(at(K::PolicySyntax, "broken.cedar", 6)),
        "policy_unterminated_string" => plain(at(K::PolicySyntax, "broken.cedar", 1)),
        "policy_unknown_keyword" => plain(at(K::PolicySyntax, "broken.cedar", 3)),
        "policy_truncated" => plain(at(K::PolicySyntax, "broken.cedar", 3)),
        "policy_integer_overflow" => plain(at(K::PolicySyntax, "broken.cedar", 3)),
        // policies that do not validate
        "policy_unknown_action" => plain(at(K::PolicyValidation, "broken.cedar", 2)),
        "policy_unknown_attribute" => plain(at(K::PolicyValidation, "broken.cedar", 3)),
        "policy_unknown_type" => plain(at(K::PolicyValidation, "broken.cedar", 3)),
        "policy_type_mismatch" => plain(at(K::PolicyValidation, "broken.cedar", 3)),
        // policy ids
        "policy_duplicate_id" => plain(at(K::DuplicatePolicyId, "views.cedar", 2)),
        "policy_missing_id" => plain(at(K::MissingPolicyId, "anonymous.cedar", 2)),
        "policy_template" => plain(at(K::Template, "shared.cedar", 3)),
        "policy_three_validation_errors" => plain(at(K::PolicyValidation, "bad.cedar", 4)),
        // schemas
        "schema_syntax" => plain(at(K::Schema, "shop.cedarschema", 7)),
        "schema_undeclared_type" => plain(in_file(K::Schema, "shop.cedarschema")),
        "schema_duplicate_type" => plain(in_file(K::Schema, "shop.cedarschema")),
        "schema_common_type_cycle" => plain(at(K::Schema, "shop.cedarschema", 4)),
        "schema_empty" => plain(in_file(K::PolicyValidation, "rules.cedar")),
        "schema_truncated" => plain(in_file(K::Schema, "shop.cedarschema")),
        // YAML and JSON
        "yaml_syntax" => plain(at(K::Syntax, "team.entities.yaml", 3)),
        "yaml_tabs" => plain(at(K::Syntax, "team.entities.yaml", 2)),
        "yaml_duplicate_key" => plain(at(K::Syntax, "team.entities.yaml", 3)),
        "yaml_empty" => plain(in_file(K::Syntax, "team.entities.yaml")),
        "yaml_truncated" => plain(at(K::Syntax, "team.entities.yaml", 3)),
        "yaml_not_a_list" => plain(at(K::Syntax, "team.entities.yaml", 2)),
        "json_syntax" => plain(at(K::Syntax, "more.entities.json", 4)),
        "json_duplicate_key" => plain(at(K::Syntax, "more.entities.json", 5)),
        // entities that do not fit the schema
        "entity_unknown_type" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_wrong_attribute_type" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_missing_attribute" => plain(at(K::Entity, "team.entities.yaml", 1)),
        "entity_unknown_attribute" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_forbidden_parent" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_duplicate_uid" => plain(at(K::DuplicateEntity, "team.entities.yaml", 3)),
        "entity_cycle" => plain(in_file(K::HierarchyCycle, "team.entities.yaml")),
        "entity_cycle_self" => plain(at(K::HierarchyCycle, "roles.entities.yaml", 2)),
        "entity_misfits_each_named" => plain(at(K::Entity, "docs.entities.yaml", 6)),
        "entity_duplicate_uid_across_files" => {
            plain(at(K::DuplicateEntity, "repeat.entities.yaml", 2))
        }
        "entity_integer_overflow" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_fraction" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_bad_uid" => plain(at(K::Entity, "team.entities.yaml", 2)),
        "entity_chain_5000" => made(
            at(K::Limit, "chain.entities.yaml", 9797),
            make_entity_chain_5000,
        ),
        "entity_many_ancestors" => made(
            in_file(K::Limit, "hub.entities.yaml"),
            make_entity_many_ancestors,
        ),
        // encodings
        "policy_not_utf8" => made(at(K::Syntax, "latin1.cedar", 1), make_policy_not_utf8),
        "entities_binary" => made(at(K::Syntax, "blob.entities.yaml", 1), make_entities_binary),
        "schema_binary" => made(at(K::Syntax, "shop.cedarschema", 1), make_schema_binary),
        // sizes and nesting
        "policy_one_megabyte_line" => made(
            at(K::PolicySyntax, "long.cedar", 1),
            make_policy_one_megabyte_line,
        ),
        "file_over_size_limit" => made(
            in_file(K::Limit, "huge.entities.json"),
            make_file_over_size_limit,
        ),
        "policy_1000_parentheses" => made(at(K::Limit, "deep.cedar", 3), |root| {
            write_parens(root, 1000)
        }),
        "policy_100000_parentheses" => made(at(K::Limit, "deep.cedar", 3), |root| {
            write_parens(root, 100_000)
        }),
        "policy_500000_additions" => made(at(K::Limit, "deep.cedar", 3), make_additions),
        "policy_100000_if_then_else" => made(at(K::Limit, "deep.cedar", 3), make_if_chain),
        "yaml_100000_brackets" => made(at(K::Limit, "deep.entities.yaml", 2), make_yaml_brackets),
        "yaml_alias_bomb" => made(in_file(K::Limit, "bomb.entities.yaml"), make_alias_bomb),
        "schema_100000_nested_records" => made(
            at(K::Limit, "shop.cedarschema", 18),
            make_schema_nested_records,
        ),
        "schema_common_type_chain" => made(
            in_file(K::Limit, "shop.cedarschema"),
            make_schema_common_type_chain,
        ),
        "schema_entity_type_chain" => made(
            in_file(K::Limit, "shop.cedarschema"),
            make_schema_entity_type_chain,
        ),
        "schema_action_chain" => made(
            in_file(K::Limit, "shop.cedarschema"),
            make_schema_action_chain,
        ),
        // the file system
        "symlink_loop_file" => made(in_file(K::Io, "a.cedar"), make_symlink_loop_file),
        "symlink_loop_folder" => made(in_file(K::Io, "loop"), make_symlink_loop_folder),
        "symlink_dangling" => made(in_file(K::Io, "gone.cedar"), make_symlink_dangling),
        "unreadable_file" => made(in_file(K::Io, "locked.entities.yaml"), make_unreadable_file),
        "named_pipe" => made(in_file(K::Io, "pipe.cedar"), make_named_pipe),
        "device_file" => made(in_file(K::Io, "zero.entities.yaml"), make_device_file),
        "store_unknown_file_name" => plain(nowhere(K::UnknownFile)),
        "store_file_name_not_utf8" => made(nowhere(K::UnknownFile), make_file_name_not_utf8),
        "store_empty" => Case {
            expect: nowhere(K::UnknownProduct),
            make: make_store_empty,
            product: PRODUCT,
            reload: true,
        },
        "store_missing_product" => Case {
            expect: nowhere(K::UnknownProduct),
            make: nothing,
            product: "warehouse",
            reload: false,
        },
        "store_product_without_folder" => {
            made(nowhere(K::MissingFolder), make_product_without_folder)
        }
        "store_without_policies_folder" => made(
            nowhere(K::MissingFolder),
            make_store_without_policies_folder,
        ),
        other => panic!("no case {other}"),
    }
}

// -------------------------------------------------------------- generators

/// Writes a file atomically (a hidden temporary file renamed into place), so
/// a watching evaluator never sees it half-written.
fn put(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let temporary = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, &path).unwrap();
}

fn seed_schema() -> String {
    std::fs::read_to_string(corpus().join("seed/schemas/shop.cedarschema")).unwrap()
}

/// A chain of 5,000 roles, each the parent of the one before.
fn make_entity_chain_5000(root: &Path) {
    let n = 5000;
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("- uid: {{type: Shop::Role, id: r{i}}}\n"));
        if i + 1 < n {
            text.push_str(&format!(
                "  parents: [{{type: Shop::Role, id: r{}}}]\n",
                i + 1
            ));
        }
    }
    put(root, "policies/shop/chain.entities.yaml", text);
}

/// 1,000 roles below one role that has 1,000 parents: two levels deep, but
/// 1,000,000 ancestor links once closed.
fn make_entity_many_ancestors(root: &Path) {
    let w = 1000;
    let mut text = String::from("- uid: {type: Shop::Role, id: hub}\n  parents: [");
    text.push_str(
        &(0..w)
            .map(|i| format!("{{type: Shop::Role, id: top{i}}}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("]\n");
    for i in 0..w {
        text.push_str(&format!("- uid: {{type: Shop::Role, id: top{i}}}\n"));
    }
    for i in 0..w {
        text.push_str(&format!(
            "- uid: {{type: Shop::Role, id: below{i}}}\n  parents: [{{type: Shop::Role, id: hub}}]\n"
        ));
    }
    put(root, "policies/shop/hub.entities.yaml", text);
}

fn make_policy_not_utf8(root: &Path) {
    put(
        root,
        "policies/shop/latin1.cedar",
        b"// caf\xe9 policies\n@id(\"latin1\")\npermit (principal, action, resource);\n",
    );
}

/// A binary file (NUL bytes, escape sequences, invalid UTF-8) named as entities.
fn make_entities_binary(root: &Path) {
    let mut bytes = b"- uid: {type: Shop::Role, id: x}\x00\x1b[31m\x07".to_vec();
    bytes.extend((0u8..=255).cycle().take(4096));
    put(root, "policies/shop/blob.entities.yaml", bytes);
}

fn make_schema_binary(root: &Path) {
    let mut bytes = b"\x00\x01\x02 \x1b]0;title\x07".to_vec();
    bytes.extend(seed_schema().as_bytes());
    put(root, "schemas/shop.cedarschema", bytes);
}

/// One line of 1 MB: thousands of policies, the last one broken.
fn make_policy_one_megabyte_line(root: &Path) {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 1_000_000 {
        text.push_str(&format!(
            "@id(\"p{i}\") permit (principal, action == Shop::Action::\"view\", resource) when {{ resource.size > {i} }}; "
        ));
        i += 1;
    }
    text.push_str("@id(\"last\") permit (principal, action, resource) when { resource.size > };");
    put(root, "policies/shop/long.cedar", text);
}

/// A Cedar JSON entity file just over the 16 MiB default limit.
fn make_file_over_size_limit(root: &Path) {
    let limit = usize::try_from(Limits::default().max_file_bytes).unwrap();
    let entry = r#"{"uid": {"type": "Shop::Role", "id": "padding"}, "attrs": {}, "parents": []}"#;
    let mut text = String::with_capacity(limit + entry.len() + 16);
    text.push('[');
    while text.len() <= limit {
        text.push_str(entry);
        text.push(',');
    }
    text.push_str(entry);
    text.push(']');
    put(root, "policies/shop/huge.entities.json", text);
}

fn write_parens(root: &Path, depth: usize) {
    put(
        root,
        "policies/shop/deep.cedar",
        format!(
            "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{ {}true{} }};\n",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
    );
}

/// `1 + 1 + … > 0`, 500,000 terms without a bracket: a 500,000-deep tree.
fn make_additions(root: &Path) {
    put(
        root,
        "policies/shop/deep.cedar",
        format!(
            "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{ {} > 0 }};\n",
            vec!["1"; 500_000].join(" + ")
        ),
    );
}

fn make_if_chain(root: &Path) {
    let depth = 100_000;
    put(
        root,
        "policies/shop/deep.cedar",
        format!(
            "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{ {}true{} }};\n",
            "if resource.public then ".repeat(depth),
            " else false".repeat(depth)
        ),
    );
}

fn make_yaml_brackets(root: &Path) {
    let depth = 100_000;
    put(
        root,
        "policies/shop/deep.entities.yaml",
        format!(
            "- uid: {{type: Shop::Role, id: deep}}\n  attrs: {{x: {}{}}}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
}

/// "Billion laughs": nine aliases of nine aliases of …, nine levels deep.
fn make_alias_bomb(root: &Path) {
    let mut text = String::from(
        "- uid: {type: Shop::Role, id: bomb}\n  attrs:\n    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (before, name) = (pair[0], pair[1]);
        let uses = vec![format!("*{before}"); 9].join(",");
        text.push_str(&format!("    {name}: &{name} [{uses}]\n"));
    }
    put(root, "policies/shop/bomb.entities.yaml", text);
}

fn with_schema_line(root: &Path, after: &str, extra: &str) {
    let schema = seed_schema();
    assert!(schema.contains(after));
    put(
        root,
        "schemas/shop.cedarschema",
        schema.replacen(after, &format!("{after}\n{extra}"), 1),
    );
}

/// An optional attribute whose type is 100,000 nested records.
fn make_schema_nested_records(root: &Path) {
    let depth = 100_000;
    let deep = format!("{}Long{}", "{a: ".repeat(depth), "}".repeat(depth));
    with_schema_line(root, "    public: Bool,", &format!("    deep?: {deep},"));
}

/// `type T0 = {a: T1}; type T1 = {a: T2}; …` 1,000 times: each type is
/// shallow, but expanded they nest 1,000 deep (10,000 took minutes before).
fn make_schema_common_type_chain(root: &Path) {
    let n = 1000;
    let mut types: String = (0..n - 1)
        .map(|i| format!("  type T{i} = {{a: T{}}};\n", i + 1))
        .collect();
    types.push_str(&format!("  type T{} = Long;", n - 1));
    with_schema_line(root, "namespace Shop {", &types);
}

/// `entity E0 in [E1]; entity E1 in [E2]; …` 1,000 entity types deep.
fn make_schema_entity_type_chain(root: &Path) {
    let n = 1000;
    let mut types: String = (0..n - 1)
        .map(|i| format!("  entity E{i} in [E{}];\n", i + 1))
        .collect();
    types.push_str(&format!("  entity E{};", n - 1));
    with_schema_line(root, "namespace Shop {", &types);
}

/// `action a0 in [a1]; …` 1,000 action groups deep.
fn make_schema_action_chain(root: &Path) {
    let n = 1000;
    let mut actions: String = (0..n - 1)
        .map(|i| format!("  action a{i} in [a{}];\n", i + 1))
        .collect();
    actions.push_str(&format!("  action a{};", n - 1));
    with_schema_line(root, "namespace Shop {", &actions);
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// `a.cedar → b.cedar → a.cedar`.
fn make_symlink_loop_file(root: &Path) {
    let folder = root.join("policies/shop");
    symlink("b.cedar", &folder.join("a.cedar"));
    symlink("a.cedar", &folder.join("b.cedar"));
}

/// `policies/shop/nested/loop → ..` (a folder that contains itself).
fn make_symlink_loop_folder(root: &Path) {
    let folder = root.join("policies/shop/nested");
    std::fs::create_dir_all(&folder).unwrap();
    symlink("..", &folder.join("loop"));
}

fn make_symlink_dangling(root: &Path) {
    symlink("nowhere.cedar", &root.join("policies/shop/gone.cedar"));
}

/// Whether this process can read a file whose permissions forbid it (root can).
fn reads_past_permissions() -> bool {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe");
    std::fs::write(&path, "x").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::read(&path).is_ok()
}

/// A file that cannot be read. `chmod 000` where that stops reads; as root
/// (tests often run as root, which reads past permissions) a link to
/// `/proc/self/mem`, which every process fails to read at offset 0 (EIO).
fn make_unreadable_file(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let path = root.join("policies/shop/locked.entities.yaml");
    if reads_past_permissions() {
        symlink("/proc/self/mem", &path);
    } else {
        // locked before it appears, so it is never seen readable
        let temporary = root.join("policies/shop/.locked.tmp");
        std::fs::write(&temporary, "[]\n").unwrap();
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
    }
}

/// A named pipe: reading it would block until someone writes.
fn make_named_pipe(root: &Path) {
    let path = root.join("policies/shop/pipe.cedar");
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success());
}

/// A link to `/dev/zero`: a file that never ends.
fn make_device_file(root: &Path) {
    symlink("/dev/zero", &root.join("policies/shop/zero.entities.yaml"));
}

/// Nothing left: no schema, no product folder.
fn make_store_empty(root: &Path) {
    std::fs::remove_file(root.join("schemas/shop.cedarschema")).unwrap();
    std::fs::remove_dir_all(root.join("policies/shop")).unwrap();
}

/// The product folder goes in one step (a watching evaluator must not see
/// it half-deleted, which could be a valid store).
fn make_product_without_folder(root: &Path) {
    let away = root.join(".removed-shop");
    std::fs::rename(root.join("policies/shop"), &away).unwrap();
    std::fs::remove_dir_all(away).unwrap();
}

/// The tenant-isolation policy moved to a file whose name is not UTF-8
/// (once skipped without a word, so cross-tenant requests were allowed).
fn make_file_name_not_utf8(root: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let folder = root.join("policies/shop");
    let rules = std::fs::read_to_string(folder.join("rules.cedar")).unwrap();
    let (kept, tenant) = rules.split_at(rules.find("// Nobody acts across tenants.").unwrap());
    // the new file first, each write atomic: no step is a valid store
    let name = std::ffi::OsStr::from_bytes(b"tenant-\xff.cedar");
    put(root, "policies/shop/.tenant.tmp", tenant);
    std::fs::rename(folder.join(".tenant.tmp"), folder.join(name)).unwrap();
    put(root, "policies/shop/rules.cedar", kept);
}

/// No `policies/` folder at all (the schema stays).
fn make_store_without_policies_folder(root: &Path) {
    let away = root.join(".removed-policies");
    std::fs::rename(root.join("policies"), &away).unwrap();
    std::fs::remove_dir_all(away).unwrap();
}

// ----------------------------------------------------------------- helpers

/// Copies a folder (files only; the corpus has no links).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            put(
                to,
                &entry.file_name().to_string_lossy(),
                std::fs::read(entry.path()).unwrap(),
            );
        }
    }
}

/// The seed store in a fresh temporary folder.
fn seed_store() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("rolegrid-bad-")
        .tempdir()
        .unwrap();
    copy_dir(&corpus().join("seed"), dir.path());
    dir
}

/// Cedar's "did you mean" for an unknown action picks among the schema's
/// actions in hash order: snapshots hide it.
const ACTION_SUGGESTION: (&str, &str) = (
    r#"did you mean `Shop::Action::"\w+"`\?"#,
    r#"did you mean `Shop::Action::"[one of the schema's actions]"`?"#,
);

/// A case's broken store in a fresh temporary folder.
pub fn broken_store(name: &str) -> tempfile::TempDir {
    let store = seed_store();
    break_store(name, store.path());
    store
}

/// Applies a case to a store folder: its corpus folder's files, then its generator.
/// How many files a case's folder writes.
fn case_files(name: &str) -> usize {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    count(&corpus().join(name))
}

fn break_store(name: &str, root: &Path) {
    let folder = corpus().join(name);
    if folder.is_dir() {
        copy_dir(&folder, root);
    }
    (case(name).make)(root);
}

/// A finished run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the binary in `cwd`, killing it (by its id) after [`HANG_GUARD`].
fn run_binary(cwd: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let started = Instant::now();
    let binary =
        std::env::var_os("BAD_INPUTS_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_rolegrid").into());
    let mut child = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env("COLUMNS", "100")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&input);
        });
    }
    let pid = child.id();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(HANG_GUARD) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("rolegrid {args:?} ran longer than {HANG_GUARD:?}: killed");
        }
    };
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Longest line a snapshot keeps: a report that quotes a 1 MB line must not
/// make a 1 MB snapshot.
const SNAPSHOT_LINE: usize = 300;

fn snapshot_text(run: &Run, tmp: &Path) -> String {
    let text = format!(
        "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        run.code
            .map_or_else(|| "signal".to_owned(), |c| c.to_string()),
        run.stdout,
        run.stderr
    );
    // an unreadable file fails with EACCES, or as root (see make_unreadable_file) with EIO
    let text = text
        .replace(&tmp.display().to_string(), "[TMP]")
        .replace("Permission denied (os error 13)", "[cannot read]")
        .replace("Input/output error (os error 5)", "[cannot read]");
    text.lines()
        .map(|line| match line.char_indices().nth(SNAPSHOT_LINE) {
            Some((cut, _)) => format!("{}… [{} more bytes]", &line[..cut], line.len() - cut),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// No sign of a crash in a run's output.
fn assert_no_crash(name: &str, run: &Run) {
    for output in [&run.stdout, &run.stderr] {
        for sign in [
            "panicked",
            "overflowed its stack",
            "RUST_BACKTRACE",
            "fatal runtime error",
        ] {
            assert!(
                !output.contains(sign),
                "{name}: `{sign}` in the output:\n{}",
                clip(output)
            );
        }
    }
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(4000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

const ALICE: &str = r#"Shop::User::"alice""#;
const BOB: &str = r#"Shop::User::"bob""#;
const VIEW: &str = r#"Shop::Action::"view""#;
const EDIT: &str = r#"Shop::Action::"edit""#;
const PLAN: &str = r#"Shop::Doc::"plan""#;
const README: &str = r#"Shop::Doc::"readme""#;

// ------------------------------------------------------------- the checks

/// The command line: exit 2, a report naming the file (and line), a snapshot.
fn check_cli(name: &str) {
    let case = case(name);
    let store = seed_store();
    break_store(name, store.path());
    let run = run_binary(
        store.path(),
        &[
            "authorize",
            "-p",
            case.product,
            "--principal",
            ALICE,
            "--action",
            VIEW,
            "--resource",
            README,
        ],
        None,
    );
    println!("TIME cli {name}: {:.3} s", run.took.as_secs_f64());
    assert_no_crash(name, &run);
    assert_eq!(
        run.code,
        Some(2),
        "{name}: expected exit 2\n{}",
        clip(&snapshot_text(&run, store.path()))
    );
    assert!(run.stdout.is_empty(), "{name}: {}", clip(&run.stdout));
    let expect = case.expect;
    assert!(
        run.stderr
            .contains(&format!("rolegrid::{}", expect.kind.code())),
        "{name}: no `{}` problem\n{}",
        expect.kind.code(),
        clip(&run.stderr)
    );
    if let Some(file) = expect.file {
        let place = match expect.line {
            Some(line) => format!("{file}:{line}:"),
            None => file.to_owned(),
        };
        assert!(
            run.stderr.contains(&place),
            "{name}: the report does not name {place}\n{}",
            clip(&run.stderr)
        );
    }
    assert!(run.took < HANG_GUARD);
    if std::env::var_os("BAD_INPUTS_BIN").is_none() {
        insta::with_settings!({filters => vec![ACTION_SUGGESTION]}, {
            insta::assert_snapshot!(name, snapshot_text(&run, store.path()));
        });
    }
}

/// The library: the expected kind of problem, at the expected place.
fn check_library(name: &str) {
    let case = case(name);
    let store = seed_store();
    break_store(name, store.path());
    let started = Instant::now();
    let result =
        Store::open(store.path()).and_then(|s| s.load(case.product, &LoadOptions::default()));
    println!(
        "TIME library {name}: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let problems = match result {
        Ok(_) => panic!("{name}: the broken store loaded"),
        Err(problems) => problems,
    };
    assert_expected(name, &problems, case.expect);
}

fn assert_expected(name: &str, problems: &Problems, expect: Expect) {
    let found = problems.iter().any(|p| {
        p.kind() == expect.kind
            && expect.file.is_none_or(|file| {
                p.location().is_some_and(|l| {
                    l.file.to_string_lossy().ends_with(file)
                        && expect.line.is_none_or(|line| l.line == line)
                }) || p.message().contains(file)
            })
    });
    let listed: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} at {}: {}",
                p.kind().code(),
                p.location().map(|l| l.to_string()).unwrap_or_default(),
                clip(p.message())
            )
        })
        .collect();
    assert!(
        found,
        "{name}: expected {expect:?}, got:\n{}",
        listed.join("\n")
    );
}

/// The answers that tell the seed apart from anything else.
fn answers(evaluator: &Evaluator) -> Vec<bool> {
    let requests = [
        (ALICE, VIEW, PLAN, None),
        (BOB, VIEW, PLAN, None),
        (BOB, VIEW, README, None),
        (ALICE, EDIT, PLAN, Some(serde_json::json!({"ticket": 7}))),
    ];
    requests
        .into_iter()
        .map(|(p, a, r, c)| {
            evaluator
                .authorize(PRODUCT, p, a, r, c)
                .unwrap()
                .is_allowed()
        })
        .collect()
}

/// Waits for the watcher's next reload of the product that changed something.
fn next_outcome(events: &Receiver<ReloadEvent>, name: &str) -> ReloadEvent {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{name}: no reload reported within {HANG_GUARD:?}"));
        if event.product == PRODUCT && !matches!(event.outcome, ReloadOutcome::Unchanged) {
            return event;
        }
    }
}

/// A running evaluator whose files are broken: the failure is reported, the
/// last good snapshot keeps answering; putting the files back recovers.
fn check_reload(name: &str) {
    let case = case(name);
    if !case.reload {
        println!("{name}: not a reload edit");
        return;
    }
    let store = seed_store();
    let evaluator = std::sync::Arc::new(
        Evaluator::open_products(store.path(), &[PRODUCT.to_owned()], LoadOptions::default())
            .unwrap(),
    );
    let good = answers(&evaluator);
    assert_eq!(good, [true, false, true, true]);
    let (tx, events) = channel();
    let watch = evaluator
        .watch(move |event| {
            let _ = tx.send(event.clone());
        })
        .unwrap();
    let started = Instant::now();
    break_store(name, store.path());
    // a case of several files is written one file at a time: on a busy
    // machine a state with only some of them (valid) may be served first,
    // and the failure then reverts to the settled state
    let mut swaps = 0;
    let (problems, generation) = loop {
        let event = next_outcome(&events, name);
        match event.outcome {
            ReloadOutcome::Failed(problems) => break (problems, 1 + swaps),
            ReloadOutcome::Reverted {
                problems,
                generation,
            } => break (problems, generation),
            ReloadOutcome::Swapped { .. } if case_files(name) > 1 => swaps += 1,
            _ => panic!("{name}: a broken store was served: {event}"),
        }
    };
    println!(
        "TIME reload {name}: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    assert_expected(name, &problems, case.expect);
    assert_eq!(answers(&evaluator), good, "{name}: the answers changed");
    let status = evaluator.status(PRODUCT).unwrap();
    assert_eq!(status.generation, generation, "{name}");
    assert!(
        status.last_error.is_some(),
        "{name}: the failure is not recorded"
    );
    drop(watch);
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every case's name, for the corpus checks.
        const CASES: &[&str] = &[$(stringify!($name)),*];
        $(
            mod $name {
                #[test]
                fn cli() {
                    super::check_cli(stringify!($name));
                }
                #[test]
                fn library() {
                    super::check_library(stringify!($name));
                }
                #[test]
                fn reload() {
                    super::check_reload(stringify!($name));
                }
            }
        )*
    };
}

cases! {
    policy_missing_semicolon,
    policy_unterminated_string,
    policy_unknown_keyword,
    policy_truncated,
    policy_integer_overflow,
    policy_unknown_action,
    policy_unknown_attribute,
    policy_unknown_type,
    policy_type_mismatch,
    policy_duplicate_id,
    policy_missing_id,
    policy_three_validation_errors,
    policy_template,
    schema_syntax,
    schema_undeclared_type,
    schema_duplicate_type,
    schema_common_type_cycle,
    schema_empty,
    schema_truncated,
    yaml_syntax,
    yaml_tabs,
    yaml_duplicate_key,
    yaml_empty,
    yaml_truncated,
    yaml_not_a_list,
    json_syntax,
    json_duplicate_key,
    entity_unknown_type,
    entity_wrong_attribute_type,
    entity_missing_attribute,
    entity_unknown_attribute,
    entity_forbidden_parent,
    entity_duplicate_uid,
    entity_cycle,
    entity_cycle_self,
    entity_misfits_each_named,
    entity_duplicate_uid_across_files,
    entity_integer_overflow,
    entity_fraction,
    entity_bad_uid,
    entity_chain_5000,
    entity_many_ancestors,
    policy_not_utf8,
    entities_binary,
    schema_binary,
    policy_one_megabyte_line,
    file_over_size_limit,
    policy_1000_parentheses,
    policy_100000_parentheses,
    policy_500000_additions,
    policy_100000_if_then_else,
    yaml_100000_brackets,
    yaml_alias_bomb,
    schema_100000_nested_records,
    schema_common_type_chain,
    schema_entity_type_chain,
    schema_action_chain,
    symlink_loop_file,
    symlink_loop_folder,
    symlink_dangling,
    unreadable_file,
    named_pipe,
    device_file,
    store_unknown_file_name,
    store_file_name_not_utf8,
    store_empty,
    store_missing_product,
    store_product_without_folder,
    store_without_policies_folder,
}

#[test]
fn the_seed_is_valid_and_every_case_folder_is_a_case() {
    let store = seed_store();
    let run = run_binary(
        store.path(),
        &[
            "authorize",
            "-p",
            PRODUCT,
            "--principal",
            ALICE,
            "--action",
            VIEW,
            "--resource",
            PLAN,
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.starts_with("ALLOW"));
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() && name != "seed" {
            assert!(
                CASES.contains(&name.as_str()),
                "tests/bad/{name} is not in the case list"
            );
        }
    }
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
}

// ---------------------------------------------------------------- requests

/// Malformed request lines, each with what it gets wrong. Every one gets an
/// error answer on its own line; the good line between them is still answered.
fn request_lines() -> Vec<(&'static str, Vec<u8>)> {
    let line = |principal: &str, action: &str, resource: &str, context: Option<&str>| {
        let mut text = format!(
            r#"{{"principal": {principal:?}, "action": {action:?}, "resource": {resource:?}"#
        );
        if let Some(context) = context {
            text.push_str(&format!(r#", "context": {context}"#));
        }
        text.push('}');
        text.into_bytes()
    };
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let long_key = format!(r#"{{"{}": 1}}"#, "k".repeat(1_000_000));
    vec![
        ("uid without quotes", line("Shop::User::alice", VIEW, README, None)),
        ("unknown action", line(ALICE, r#"Shop::Action::"delete""#, README, None)),
        ("action of a non-action type", line(ALICE, r#"Shop::User::"view""#, README, None)),
        ("context attribute of the wrong type", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": "T-1"}"#))),
        ("context integer overflow", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": 9223372036854775808}"#))),
        ("context integer underflow", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": -9223372036854775809}"#))),
        ("context fraction", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": 1.5}"#))),
        ("context number beyond JSON's range", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": 1e400}"#))),
        ("missing context attribute", line(ALICE, EDIT, PLAN, None)),
        ("unknown context attribute", line(ALICE, VIEW, PLAN, Some(r#"{"urgent": true}"#))),
        ("context that is not a record", line(ALICE, VIEW, PLAN, Some(r#""urgent""#))),
        ("principal of the wrong type", line(r#"Shop::Doc::"plan""#, VIEW, PLAN, None)),
        ("unknown entity type", line(r#"Shop::Robot::"r2""#, VIEW, PLAN, None)),
        ("empty principal", line("", VIEW, PLAN, None)),
        ("good request between bad ones", line(BOB, VIEW, README, None)),
        ("not JSON", br#"{principal: Shop::User::"alice"}"#.to_vec()),
        ("a JSON list", b"[1, 2, 3]".to_vec()),
        ("unknown field", br#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\"", "when": "now"}"#.to_vec()),
        ("missing resource", br#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Action::\"view\""}"#.to_vec()),
        ("truncated line", br#"{"principal": "Shop::User::\"alice\"", "action": "Shop::Ac"#.to_vec()),
        ("lone surrogate escape", br#"{"principal": "Shop::User::\"al\ud800\"", "action": "Shop::Action::\"view\"", "resource": "Shop::Doc::\"readme\""}"#.to_vec()),
        ("not UTF-8", b"{\"principal\": \"Shop::User::\\\"caf\xe9\\\"\"}".to_vec()),
        ("100,000 nested brackets in the context", line(ALICE, EDIT, PLAN, Some(&deep))),
        ("a 1 MB context key", line(ALICE, VIEW, PLAN, Some(&long_key))),
        // once the last `principal` won silently: bob, denied, was asked as alice
        ("a key given twice", format!(r#"{{"principal": {BOB:?}, "principal": {ALICE:?}, "action": {VIEW:?}, "resource": {PLAN:?}}}"#).into_bytes()),
        ("a context key given twice", line(ALICE, EDIT, PLAN, Some(r#"{"ticket": 0, "ticket": 7}"#))),
    ]
}

fn request_input() -> Vec<u8> {
    let mut input = Vec::new();
    for (_, line) in request_lines() {
        input.extend(line);
        input.push(b'\n');
    }
    input
}

#[test]
fn requests_each_malformed_line_gets_an_error_answer() {
    let store = seed_store();
    for format in ["human", "json"] {
        let run = run_binary(
            store.path(),
            &[
                "authorize",
                "-p",
                PRODUCT,
                "--requests",
                "-",
                "--format",
                format,
            ],
            Some(request_input()),
        );
        println!("TIME requests ({format}): {:.3} s", run.took.as_secs_f64());
        assert_no_crash("requests", &run);
        assert_eq!(run.code, Some(2), "{}", clip(&run.stderr));
        assert!(run.took < HANG_GUARD);
        let answers: Vec<&str> = run.stdout.lines().collect();
        let lines = request_lines();
        assert_eq!(
            answers.len(),
            lines.len(),
            "one answer per line:\n{}",
            clip(&run.stdout)
        );
        for (number, ((what, _), answer)) in lines.iter().zip(&answers).enumerate() {
            let number = number + 1;
            if *what == "good request between bad ones" {
                assert!(
                    answer.contains("allow") || answer.contains("ALLOW"),
                    "line {number} ({what}): {answer}"
                );
                continue;
            }
            let expected = match format {
                "json" => format!(r#"{{"error":{{"line":{number},"#),
                _ => format!("{number}: error: "),
            };
            assert!(
                answer.starts_with(&expected),
                "line {number} ({what}): {}",
                clip(answer)
            );
        }
        insta::assert_snapshot!(
            format!("requests_{format}"),
            snapshot_text(&run, store.path())
        );
    }
}

#[test]
fn requests_errors_in_the_library_are_request_problems() {
    let store = seed_store();
    let snapshot = Store::open(store.path())
        .unwrap()
        .load(PRODUCT, &LoadOptions::default())
        .unwrap();
    for (what, line) in request_lines() {
        let Ok(text) = std::str::from_utf8(&line) else {
            continue; // not UTF-8: the reader's business, checked above
        };
        let result =
            RequestSpec::from_json_line(text).and_then(|spec| spec.build(snapshot.schema()));
        match (what, result) {
            ("good request between bad ones", result) => assert!(result.is_ok(), "{what}"),
            (_, Ok(_)) => panic!("{what}: accepted"),
            (_, Err(problem)) => {
                assert_eq!(problem.kind(), ProblemKind::Request, "{what}");
                assert!(
                    problem.message().len() < 2_000,
                    "{what}: a {} byte message",
                    problem.message().len()
                );
            }
        }
    }
}

// ------------------------------------------------------------------ limits

/// Loads `files` (relative path, text) over the seed, with `limits`:
/// reads the product's files and builds them with [`build_snapshot`].
fn load_with(files: &[(&str, String)], limits: Limits) -> Result<rolegrid::Snapshot, Problems> {
    let store = seed_store();
    for (path, text) in files {
        put(store.path(), path, text);
    }
    let options = LoadOptions {
        limits,
        ..LoadOptions::default()
    };
    let (_, sources) = Store::open(store.path())?.read(PRODUCT, &options)?;
    build_snapshot(&sources, Some(PRODUCT), &options)
}

/// The same through [`Store::load`], the product path (cached, file by file).
fn load_product_with(
    files: &[(&str, String)],
    limits: Limits,
) -> Result<rolegrid::Snapshot, Problems> {
    let store = seed_store();
    for (path, text) in files {
        put(store.path(), path, text);
    }
    let options = LoadOptions {
        limits,
        ..LoadOptions::default()
    };
    Store::open(store.path())?.load(PRODUCT, &options)
}

#[test]
fn configured_limits_reach_the_product_path() {
    let chain = vec![("policies/shop/chain.entities.yaml", role_chain(300))];
    let raised = Limits {
        max_hierarchy_depth: 500,
        ..Limits::default()
    };
    assert_loads(load_product_with(&chain, raised));
    let small = Limits {
        max_schema_bytes: 100,
        ..Limits::default()
    };
    let message = limit_message(load_product_with(&[], small));
    assert!(message.contains("(`max_schema_bytes`)"), "{message}");
}

fn limit_message(result: Result<rolegrid::Snapshot, Problems>) -> String {
    match result {
        Ok(_) => panic!("loaded within the limit"),
        Err(problems) => {
            let problem = problems
                .iter()
                .find(|p| p.kind() == ProblemKind::Limit)
                .unwrap_or_else(|| panic!("no limit problem: {problems:?}"));
            problem.message().to_owned()
        }
    }
}

fn role_chain(n: usize) -> String {
    (0..n)
        .map(|i| {
            let parent = if i + 1 < n {
                format!("\n  parents: [{{type: Shop::Role, id: c{}}}]", i + 1)
            } else {
                String::new()
            };
            format!("- uid: {{type: Shop::Role, id: c{i}}}{parent}\n")
        })
        .collect()
}

#[test]
fn hierarchy_depth_limit_is_exact_and_configurable() {
    let chain = |n| vec![("policies/shop/chain.entities.yaml", role_chain(n))];
    // 101 roles: 100 parent links, the default limit
    assert_loads(load_with(&chain(101), Limits::default()));
    let message = limit_message(load_with(&chain(102), Limits::default()));
    assert!(message.contains("deeper than 100 levels"), "{message}");
    let limits = Limits {
        max_hierarchy_depth: 500,
        ..Limits::default()
    };
    assert_loads(load_with(&chain(300), limits));
}

#[test]
fn ancestor_links_limit_is_configurable() {
    // 50 roles under a role with 50 parents: 50 × 51 links, plus the top's
    let mut text = String::from("- uid: {type: Shop::Role, id: hub}\n  parents: [");
    text.push_str(
        &(0..50)
            .map(|i| format!("{{type: Shop::Role, id: t{i}}}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push_str("]\n");
    for i in 0..50 {
        text.push_str(&format!(
            "- uid: {{type: Shop::Role, id: b{i}}}\n  parents: [{{type: Shop::Role, id: hub}}]\n"
        ));
    }
    let files = vec![("policies/shop/hub.entities.yaml", text)];
    assert_loads(load_with(&files, Limits::default()));
    let small = Limits {
        max_ancestor_links: 1_000,
        ..Limits::default()
    };
    let message = limit_message(load_with(&files, small));
    assert!(
        message.contains("more than 1000 ancestor links"),
        "{message}"
    );
}

/// A policy whose condition is `n` clauses joined by `||`, each `clause`.
fn policy_of_clauses(clause: &str, n: usize) -> Vec<(&'static str, String)> {
    let body = vec![clause; n].join(" || ");
    vec![(
        "policies/shop/long.cedar",
        format!(
            "@id(\"long\")\npermit (principal, action == Shop::Action::\"view\", resource)\nwhen {{ {body} }};\n"
        ),
    )]
}

#[test]
fn expression_depth_counts_chains_with_precedence() {
    // 400 clauses of four operators each: about 400 deep, not 1,600
    let clause = r#"resource.tags.contains("a") && resource.size > 1"#;
    assert_loads(load_with(
        &policy_of_clauses(clause, 400),
        Limits::default(),
    ));
    // 1,200 `||`: over the default 1,000
    let message = limit_message(load_with(
        &policy_of_clauses("resource.public", 1_200),
        Limits::default(),
    ));
    assert!(
        message.contains("expression nests deeper than 1000 levels"),
        "{message}"
    );
    // raised, it loads; past the ceiling, raising does not help
    let raised = Limits {
        max_expression_depth: 2_000,
        ..Limits::default()
    };
    assert_loads(load_with(
        &policy_of_clauses("resource.public", 1_200),
        raised,
    ));
    let unlimited = Limits::unlimited();
    let message = limit_message(load_with(
        &policy_of_clauses("resource.public", 5_000),
        unlimited,
    ));
    assert!(message.contains("deeper than 4000 levels"), "{message}");
}

#[test]
fn sets_and_lists_do_not_count_as_depth() {
    // 20,000 users in one set: wide, not deep
    let users: Vec<String> = (0..20_000)
        .map(|i| format!("Shop::User::\"u{i}\""))
        .collect();
    let files = vec![(
        "policies/shop/wide.cedar",
        format!(
            "@id(\"wide\")\npermit (principal, action == Shop::Action::\"view\", resource)\nwhen {{ principal in [{}] }};\n",
            users.join(", ")
        ),
    )];
    assert_loads(load_with(&files, Limits::default()));
}

#[test]
fn size_count_and_yaml_limits_are_configurable() {
    let limits = |f: fn(&mut Limits)| {
        let mut limits = Limits::default();
        f(&mut limits);
        limits
    };
    let message = limit_message(load_with(&[], limits(|l| l.max_file_bytes = 500)));
    assert!(
        message.contains("more than the limit of 500 (`max_file_bytes`)"),
        "{message}"
    );
    let message = limit_message(load_with(&[], limits(|l| l.max_schema_bytes = 100)));
    assert!(message.contains("(`max_schema_bytes`)"), "{message}");
    let message = limit_message(load_with(&[], limits(|l| l.max_files = 1)));
    assert!(message.contains("(limit `max_files`)"), "{message}");
    let message = limit_message(load_with(&[], limits(|l| l.max_entities = 3)));
    assert!(message.contains("more than 3 entities"), "{message}");
    let message = limit_message(load_with(&[], limits(|l| l.max_yaml_nodes = 20)));
    assert!(message.contains("more than 20 nodes"), "{message}");
    let message = limit_message(load_with(
        &[(
            "policies/shop/deep.cedar",
            format!(
                "@id(\"d\") permit (principal, action, resource) when {{ {}true{} }};",
                "(".repeat(20),
                ")".repeat(20)
            ),
        )],
        limits(|l| l.max_nesting = 10),
    ));
    assert!(
        message.contains("brackets nest deeper than 10 levels"),
        "{message}"
    );
}

#[test]
fn text_files_with_a_byte_order_mark_or_crlf_load() {
    let store = seed_store();
    for path in [
        "schemas/shop.cedarschema",
        "policies/shop/rules.cedar",
        "policies/shop/fixture.entities.yaml",
        "policies/shop/more.entities.json",
    ] {
        let text = std::fs::read_to_string(store.path().join(path)).unwrap();
        put(
            store.path(),
            path,
            format!("\u{feff}{}", text.replace('\n', "\r\n")),
        );
    }
    let run = run_binary(
        store.path(),
        &[
            "authorize",
            "-p",
            PRODUCT,
            "--principal",
            ALICE,
            "--action",
            VIEW,
            "--resource",
            PLAN,
        ],
        None,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.starts_with("ALLOW"));
}

/// Entities added to a product's with `--entities` are held to the same
/// limits (before: a 3,000-long chain ran for over 120 s and took 850 MB).
#[test]
fn extra_entities_are_held_to_the_hierarchy_limits() {
    let store = seed_store();
    make_entity_chain_5000(store.path());
    std::fs::rename(
        store.path().join("policies/shop/chain.entities.yaml"),
        store.path().join("chain.entities.yaml"),
    )
    .unwrap();
    let run = run_binary(
        store.path(),
        &[
            "authorize",
            "-p",
            PRODUCT,
            "--entities",
            "chain.entities.yaml",
            "--principal",
            ALICE,
            "--action",
            VIEW,
            "--resource",
            README,
        ],
        None,
    );
    println!(
        "TIME cli extra entities chain: {:.3} s",
        run.took.as_secs_f64()
    );
    assert_eq!(run.code, Some(2), "{}", clip(&run.stderr));
    assert!(
        run.stderr.contains("max_hierarchy_depth"),
        "{}",
        clip(&run.stderr)
    );
}

/// A load that must succeed; when it fails, the problems are the message.
#[track_caller]
fn assert_loads(loaded: Result<rolegrid::Snapshot, Problems>) {
    if let Err(problems) = loaded {
        panic!("the load failed:\n{}", crate::common::render(&problems));
    }
}
