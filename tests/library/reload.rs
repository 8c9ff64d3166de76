//! Hot reload: edits on disk reach the evaluator; broken edits keep the last
//! good snapshot and are reported with their location; fixing restores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rolegrid::{Evaluator, LoadOptions, ReloadEvent, ReloadOutcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A copy of the shipped store in a temp dir.
fn store_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in ["schemas", "policies"] {
        copy_dir(&root.join(folder), &dir.path().join(folder));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Saves a file as careful editors do: write a hidden temporary file, rename it
/// over the original. (An in-place rewrite can be seen half-written: see the README.)
fn save(path: &Path, text: impl AsRef<[u8]>) {
    let temporary = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().unwrap().to_str().unwrap()
    ));
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

struct Harness {
    _dir: tempfile::TempDir,
    root: PathBuf,
    evaluator: Arc<Evaluator>,
    events: Receiver<ReloadEvent>,
    _watch: rolegrid::Watch,
}

impl Harness {
    /// Watches `product` with every swapped-in state settled at once, so a
    /// broken edit always keeps the snapshot served just before it (these
    /// tests are about keep-last-good, not about reverting unsettled states).
    fn new(product: &str) -> Self {
        Self::settling(product, Duration::ZERO)
    }

    /// Watches `product`; a state settles once served `period` unchanged.
    fn settling(product: &str, period: Duration) -> Self {
        let dir = store_copy();
        let root = dir.path().to_path_buf();
        let evaluator = Arc::new(
            Evaluator::open_products(&root, &[product.to_owned()], LoadOptions::default())
                .unwrap()
                .with_settle_period(period),
        );
        let (tx, events) = channel();
        let watch = evaluator
            .watch(move |event| {
                let _ = tx.send(event.clone());
            })
            .unwrap();
        Self {
            _dir: dir,
            root,
            evaluator,
            events,
            _watch: watch,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Waits for the next reload event of `product` that is not `Unchanged`.
    fn next_event(&self, product: &str) -> ReloadEvent {
        loop {
            let event = self
                .events
                .recv_timeout(WAIT)
                .expect("no reload event within the timeout");
            if event.product == product && !matches!(event.outcome, ReloadOutcome::Unchanged) {
                return event;
            }
        }
    }

    fn decide(&self, principal: &str, action: &str, resource: &str) -> bool {
        self.evaluator
            .authorize("fireworks", principal, action, resource, None)
            .unwrap()
            .is_allowed()
    }
}

const INFERENCE: &str = r#"Fireworks::User::"ivan-inference""#;
const VIEW_USERS: &str = r#"Fireworks::Action::"viewUsers""#;
const ACME: &str = r#"Fireworks::Account::"acme""#;
const ACCOUNT_POLICIES: &str = "policies/fireworks/account.cedar";

fn flip_view_users(text: &str) -> String {
    text.replace(
        "@id(\"view-all-users-and-service-accounts\")\npermit",
        "@id(\"view-all-users-and-service-accounts\")\nforbid",
    )
}

#[test]
fn an_edit_is_served_and_a_broken_edit_keeps_the_last_good_snapshot() {
    let h = Harness::new("fireworks");
    let path = h.path(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(h.decide(INFERENCE, VIEW_USERS, ACME));

    save(&path, flip_view_users(&original));
    let event = h.next_event("fireworks");
    assert!(
        matches!(event.outcome, ReloadOutcome::Swapped { generation: 2 }),
        "{event}"
    );
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));

    save(&path, format!("{original}\npermit(\n"));
    let event = h.next_event("fireworks");
    let ReloadOutcome::Failed(problems) = &event.outcome else {
        panic!("expected a failure: {event}")
    };
    let location = problems.iter().next().unwrap().location().unwrap();
    assert!(location.file.ends_with(ACCOUNT_POLICIES), "{location}");
    assert!(location.line > 60, "{location}");
    // still the last good snapshot
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));
    let status = h.evaluator.status("fireworks").unwrap();
    assert_eq!(status.generation, 2);
    assert!(status.last_error.is_some());

    save(&path, &original);
    let event = h.next_event("fireworks");
    assert!(
        matches!(event.outcome, ReloadOutcome::Swapped { generation: 3 }),
        "{event}"
    );
    assert!(h.decide(INFERENCE, VIEW_USERS, ACME));
    assert!(
        h.evaluator
            .status("fireworks")
            .unwrap()
            .last_error
            .is_none()
    );
}

/// A broken edit soon after a swap (within the settle period) means the
/// swapped-in state was likely a file seen half-written: the evaluator
/// serves the last settled state again, as a new generation.
#[test]
fn a_broken_edit_soon_after_a_swap_reverts_to_the_settled_state() {
    let h = Harness::settling("fireworks", Duration::from_secs(3600));
    let path = h.path(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    save(&path, flip_view_users(&original));
    let event = h.next_event("fireworks");
    assert!(
        matches!(event.outcome, ReloadOutcome::Swapped { generation: 2 }),
        "{event}"
    );
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));

    save(&path, format!("{original}\npermit(\n"));
    let event = h.next_event("fireworks");
    assert!(
        matches!(event.outcome, ReloadOutcome::Reverted { generation: 3, .. }),
        "{event}"
    );
    assert!(event.to_string().contains("account.cedar:"), "{event}");
    // the state before the unsettled swap, as generation 3
    assert!(h.decide(INFERENCE, VIEW_USERS, ACME));
    let status = h.evaluator.status("fireworks").unwrap();
    assert_eq!(status.generation, 3);
    assert!(status.last_error.is_some());

    // the same broken content again changes nothing; the fix is served
    save(&path, flip_view_users(&original));
    let event = h.next_event("fireworks");
    assert!(
        matches!(event.outcome, ReloadOutcome::Swapped { generation: 4 }),
        "{event}"
    );
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));
}

/// Requests whose answers tell the two versions apart, answered together from one snapshot.
fn answers(evaluator: &Evaluator) -> Vec<bool> {
    let requests = [
        (INFERENCE, VIEW_USERS, ACME),
        (r#"Fireworks::User::"ada-admin""#, VIEW_USERS, ACME),
        (
            INFERENCE,
            r#"Fireworks::Action::"runInference""#,
            r#"Fireworks::Deployment::"deploy-uma""#,
        ),
        (INFERENCE, VIEW_USERS, r#"Fireworks::Account::"globex""#),
    ];
    evaluator
        .with_snapshot("fireworks", |snapshot| {
            requests
                .iter()
                .map(|(p, a, r)| {
                    let request = snapshot.request(p, a, r, None).unwrap();
                    let answer = snapshot.authorize(&request);
                    assert!(answer.errors().is_empty());
                    answer.is_allowed()
                })
                .collect()
        })
        .unwrap()
}

#[test]
fn readers_see_one_whole_version_while_the_store_is_rewritten() {
    let h = Harness::new("fireworks");
    let path = h.path(ACCOUNT_POLICIES);
    let version_a = std::fs::read_to_string(&path).unwrap();
    let version_b = flip_view_users(&version_a);
    let broken = format!("{version_b}\n@id(\"half\") permit(principal, action");
    let expected_a = answers(&h.evaluator);
    let done = std::sync::atomic::AtomicBool::new(false);
    let seen = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut seen = Vec::new();
                    for _ in 0..3_000 {
                        if done.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        seen.push(answers(&h.evaluator));
                    }
                    seen
                })
            })
            .collect();
        // the writer: A -> B -> broken -> A -> broken -> B ..., waiting for each reload
        for round in 0..12 {
            let text = match round % 3 {
                0 => &version_b,
                1 => &broken,
                _ => &version_a,
            };
            save(&path, text);
            let event = h.next_event("fireworks");
            match round % 3 {
                1 => assert!(matches!(event.outcome, ReloadOutcome::Failed(_)), "{event}"),
                _ => assert!(
                    matches!(event.outcome, ReloadOutcome::Swapped { .. }),
                    "{event}"
                ),
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        readers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    });
    save(&path, &version_b);
    h.next_event("fireworks");
    let expected_b = answers(&h.evaluator);
    assert_ne!(expected_a, expected_b);
    assert!(!seen.is_empty());
    for answers in &seen {
        assert!(
            answers == &expected_a || answers == &expected_b,
            "mixed answers {answers:?}"
        );
    }
}

#[test]
fn editor_style_saves_new_files_and_deletions_are_seen() {
    let h = Harness::new("fireworks");
    let path = h.path(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    // save by writing a temporary file and renaming it over the original
    let temporary = h.path("policies/fireworks/.account.cedar.swp");
    std::fs::write(&temporary, flip_view_users(&original)).unwrap();
    std::fs::rename(&temporary, &path).unwrap();
    assert!(matches!(
        h.next_event("fireworks").outcome,
        ReloadOutcome::Swapped { .. }
    ));
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));

    // a new file in a new subfolder
    std::fs::create_dir_all(h.path("policies/fireworks/extra")).unwrap();
    std::fs::write(
        h.path("policies/fireworks/extra/deny.cedar"),
        "@id(\"no-inference-on-uma\")\nforbid (principal, action == Fireworks::Action::\"runInference\", resource == Fireworks::Deployment::\"deploy-uma\");\n",
    )
    .unwrap();
    assert!(matches!(
        h.next_event("fireworks").outcome,
        ReloadOutcome::Swapped { .. }
    ));
    let run = r#"Fireworks::Action::"runInference""#;
    let uma = r#"Fireworks::Deployment::"deploy-uma""#;
    assert!(!h.decide(INFERENCE, run, uma));

    // deleting it restores the earlier decision
    std::fs::remove_file(h.path("policies/fireworks/extra/deny.cedar")).unwrap();
    assert!(matches!(
        h.next_event("fireworks").outcome,
        ReloadOutcome::Swapped { .. }
    ));
    assert!(h.decide(INFERENCE, run, uma));

    // an entity edit: ivan leaves the inference-user role, so is denied
    let fixture = h.path("policies/fireworks/fixture.entities.yaml");
    let entities = std::fs::read_to_string(&fixture).unwrap();
    let edited = entities.replacen(
        "{type: Fireworks::Role, id: inference-user}, {type: Fireworks::Account, id: acme}",
        "{type: Fireworks::Account, id: acme}",
        1,
    );
    assert_ne!(edited, entities, "fixture layout changed: update this test");
    save(&fixture, edited);
    assert!(matches!(
        h.next_event("fireworks").outcome,
        ReloadOutcome::Swapped { .. }
    ));
    assert!(!h.decide(INFERENCE, run, uma));

    // a broken schema keeps the last good snapshot and says where
    let schema = h.path("schemas/fireworks.cedarschema");
    let text = std::fs::read_to_string(&schema).unwrap();
    save(&schema, format!("{text}\nentity Broken {{"));
    let event = h.next_event("fireworks");
    let ReloadOutcome::Failed(problems) = &event.outcome else {
        panic!("{event}")
    };
    assert!(
        problems.iter().any(|p| p
            .location()
            .is_some_and(|l| l.file.ends_with("schemas/fireworks.cedarschema"))),
        "{event}"
    );
    assert!(!h.decide(INFERENCE, run, uma));
}

#[test]
fn same_content_does_not_swap() {
    let h = Harness::new("fireworks");
    let event = h.evaluator.reload("fireworks");
    assert!(matches!(event.outcome, ReloadOutcome::Unchanged), "{event}");
    assert_eq!(h.evaluator.status("fireworks").unwrap().generation, 1);
}

#[test]
fn authorize_watch_as_a_child_process_sees_an_edit_without_restarting() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let dir = store_copy();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args([
            "authorize",
            "--product",
            "fireworks",
            "--watch",
            "--requests",
            "-",
            "--format",
            "json",
            "--root",
        ])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, reloads) = channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let request = r#"{"principal": "Fireworks::User::\"ivan-inference\"", "action": "Fireworks::Action::\"viewUsers\"", "resource": "Fireworks::Account::\"acme\""}"#;
    let mut ask = |stdin: &mut std::process::ChildStdin| {
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    };
    assert!(ask(&mut stdin).contains(r#""decision":"allow""#));
    let path = dir.path().join(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    save(&path, flip_view_users(&original));
    loop {
        let line = reloads
            .recv_timeout(WAIT)
            .expect("no reload reported on stderr");
        if line.contains("fireworks: reloaded (generation 2") {
            break;
        }
    }
    assert!(ask(&mut stdin).contains(r#""decision":"deny""#));
    // let the edit settle, so the broken edit below keeps it (not reverts it)
    std::thread::sleep(rolegrid::SETTLE_PERIOD + Duration::from_millis(100));
    // a broken edit: reported on stderr with its location, answers go on
    save(&path, format!("{original}\npermit("));
    let mut report = String::new();
    loop {
        let line = reloads
            .recv_timeout(WAIT)
            .expect("no failure reported on stderr");
        report.push_str(&line);
        report.push('\n');
        if line.contains("account.cedar:") {
            break;
        }
    }
    assert!(report.contains("reload failed"), "{report}");
    assert!(ask(&mut stdin).contains(r#""decision":"deny""#));
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// An evaluator serving fireworks from a store copy, not watching; every
/// swapped-in state is settled at once (see [`Harness::new`]).
fn open_fireworks(root: &Path) -> Evaluator {
    Evaluator::open_products(root, &["fireworks".to_owned()], LoadOptions::default())
        .unwrap()
        .with_settle_period(Duration::ZERO)
}

/// Incremental reload reuses unchanged files' results; a schema change must
/// still re-validate every policy file, even those that did not change.
#[test]
fn a_schema_edit_revalidates_unchanged_policy_files() {
    let dir = store_copy();
    let evaluator = open_fireworks(dir.path());
    let schema = dir.path().join("schemas/fireworks.cedarschema");
    let text = std::fs::read_to_string(&schema).unwrap();
    // `serviceAccount` is used by account.cedar, which we do not touch
    let broken = text.replace("serviceAccount: Bool", "serviceAcct: Bool");
    assert_ne!(broken, text, "schema layout changed: update this test");
    save(&schema, &broken);
    let event = evaluator.reload("fireworks");
    let ReloadOutcome::Failed(problems) = &event.outcome else {
        panic!("{event}")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.kind() == rolegrid::ProblemKind::PolicyValidation
                && p.message().contains("serviceAccount")),
        "{event}"
    );
    save(&schema, &text);
    assert!(matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Unchanged | ReloadOutcome::Swapped { .. }
    ));
}

/// A reload that reuses cached files gives exactly what a fresh load gives.
#[test]
fn incremental_reload_equals_a_fresh_load() {
    let dir = store_copy();
    let evaluator = open_fireworks(dir.path());
    let path = dir.path().join(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    save(&path, flip_view_users(&original));
    assert!(matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Swapped { generation: 2 }
    ));
    let reloaded = evaluator.snapshot("fireworks").unwrap();
    let fresh = rolegrid::Store::open(dir.path())
        .unwrap()
        .load("fireworks", &LoadOptions::default())
        .unwrap();
    let ids = |s: &rolegrid::Snapshot| {
        let mut ids: Vec<String> = s
            .policies()
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&reloaded), ids(&fresh));
    assert_eq!(reloaded.entity_count(), fresh.entity_count());
    for user in [
        "ivan-inference",
        "cora-contributor",
        "uma-user",
        "ada-admin",
        "nora-norole",
    ] {
        for (action, resource) in [
            ("viewUsers", r#"Fireworks::Account::"acme""#),
            ("delete", r#"Fireworks::Model::"model-uma""#),
        ] {
            let principal = format!(r#"Fireworks::User::"{user}""#);
            let action = format!(r#"Fireworks::Action::"{action}""#);
            let a = reloaded.authorize(
                &reloaded
                    .request(&principal, &action, resource, None)
                    .unwrap(),
            );
            let b = fresh.authorize(&fresh.request(&principal, &action, resource, None).unwrap());
            assert_eq!(a, b, "{user} {action} {resource}");
        }
    }
}

/// The built entities are reused while the entity files and schema stay the
/// same, and rebuilt when an entity file changes, also after a policy edit.
#[test]
fn entity_edits_are_seen_and_policy_edits_reuse_the_entities() {
    let dir = store_copy();
    let evaluator = open_fireworks(dir.path());
    let decide = |principal: &str| {
        let snapshot = evaluator.snapshot("fireworks").unwrap();
        let request = snapshot
            .request(
                &format!(r#"Fireworks::User::"{principal}""#),
                r#"Fireworks::Action::"addUser""#,
                r#"Fireworks::Account::"acme""#,
                None,
            )
            .unwrap();
        snapshot.authorize(&request).is_allowed()
    };
    assert!(decide("ada-admin"));

    // ada loses the admin role: a new decision
    let entities = dir.path().join("policies/fireworks/fixture.entities.yaml");
    let original = std::fs::read_to_string(&entities).unwrap();
    let demoted = original.replace(
        "  parents: [{type: Fireworks::Role, id: admin}, {type: Fireworks::Account, id: acme}]",
        "  parents: [{type: Fireworks::Account, id: acme}]",
    );
    assert_ne!(demoted, original);
    save(&entities, &demoted);
    assert!(matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Swapped { generation: 2 }
    ));
    assert!(!decide("ada-admin"));

    // a policy edit keeps the entities of the last load, not older ones
    let policies = dir.path().join(ACCOUNT_POLICIES);
    let text = std::fs::read_to_string(&policies).unwrap();
    save(&policies, format!("{text}\n// an edit\n"));
    assert!(matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Swapped { generation: 3 }
    ));
    assert!(!decide("ada-admin"));

    // a broken entity file keeps the last good snapshot; restoring it restores ada
    save(&entities, "- uid: {type: Fireworks::User");
    assert!(!matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Swapped { .. }
    ));
    assert!(!decide("ada-admin"));
    save(&entities, &original);
    assert!(matches!(
        evaluator.reload("fireworks").outcome,
        ReloadOutcome::Swapped { generation: 4 }
    ));
    assert!(decide("ada-admin"));
}

/// A file deleted while its creation is still settling is seen as deleted,
/// when a reload triggered by another file already read it. Before rolegrid
/// debounced by product, notify-debouncer-full 0.7 dropped a file's create
/// and remove events when the remove came within the debounce window of the
/// create (notify-rs/notify#900): the reload that had read the file was the
/// last, and the deleted file's policy kept being served.
#[test]
fn a_file_deleted_right_after_a_reload_read_it_is_seen() {
    let h = Harness::new("fireworks");
    let run = r#"Fireworks::Action::"runInference""#;
    let uma = r#"Fireworks::Deployment::"deploy-uma""#;
    let other = h.path("policies/fireworks/tenant.cedar");
    let other_text = std::fs::read_to_string(&other).unwrap();
    let deny = h.path("policies/fireworks/deny.cedar");
    for round in 0..5 {
        assert!(h.decide(INFERENCE, run, uma), "round {round}");
        // another file's change settles while the new file's creation still does
        save(&other, &other_text);
        std::thread::sleep(Duration::from_millis(12));
        std::fs::write(
            &deny,
            "@id(\"no-inference-on-uma\")\nforbid (principal, action == Fireworks::Action::\"runInference\", resource == Fireworks::Deployment::\"deploy-uma\");\n",
        )
        .unwrap();
        let event = h.next_event("fireworks");
        assert!(
            matches!(event.outcome, ReloadOutcome::Swapped { .. }),
            "round {round}: {event}"
        );
        assert!(!h.decide(INFERENCE, run, uma), "round {round}");
        std::fs::remove_file(&deny).unwrap();
        let event = h.next_event("fireworks");
        assert!(
            matches!(event.outcome, ReloadOutcome::Swapped { .. }),
            "round {round}: {event}"
        );
    }
    assert!(h.decide(INFERENCE, run, uma));
}

/// A running `authorize --watch --requests - --format json` child on a store copy.
struct WatchChild {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    stderr: Receiver<String>,
}

impl WatchChild {
    fn start(root: &Path, product: &str) -> Self {
        Self::start_with(root, product, &[])
    }

    fn start_with(root: &Path, product: &str, more: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_rolegrid"))
            .args(["authorize", "--product", product, "--watch"])
            .args(more)
            .args(["--requests", "-", "--format", "json", "--root"])
            .arg(root)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            stdin,
            stdout,
            stderr: lines,
        }
    }

    /// Asks one request and returns its answer line.
    fn ask(&mut self, principal: &str, action: &str, resource: &str) -> String {
        use std::io::{BufRead, Write};
        let line =
            serde_json::json!({"principal": principal, "action": action, "resource": resource});
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).unwrap();
        answer
    }

    /// Waits for a stderr line containing `text`; returns everything read.
    fn wait_for(&self, text: &str) -> String {
        let mut seen = String::new();
        loop {
            let line = self
                .stderr
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("no `{text}` on stderr; saw:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(text) {
                return seen;
            }
        }
    }

    fn finish(mut self) {
        drop(self.stdin);
        assert_eq!(self.child.wait().unwrap().code(), Some(0));
    }
}

const ADA_ADMIN: &str = r#"Fireworks::User::"ada-admin""#;
const ADD_USER: &str = r#"Fireworks::Action::"addUser""#;
const GLOBEX: &str = r#"Fireworks::Account::"globex""#;

/// A file rewritten in place by a slow writer: truncated (an empty policy
/// file is valid Cedar, so that state can load), a pause, then a version
/// with a typo. The service must not keep the emptied state as its last
/// good one: the cross-tenant request is denied after the failed reload.
#[test]
fn an_in_place_save_that_pauses_then_fails_does_not_keep_the_emptied_file() {
    for pause_ms in [30, 100, 500] {
        let dir = store_copy();
        let tenant = dir.path().join("policies/fireworks/tenant.cedar");
        let original = std::fs::read_to_string(&tenant).unwrap();
        let mut child = WatchChild::start(dir.path(), "fireworks");
        assert!(
            child
                .ask(ADA_ADMIN, ADD_USER, GLOBEX)
                .contains(r#""decision":"deny""#)
        );
        // truncate in place, pause, then write the rest with a typo
        let file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&tenant)
            .unwrap();
        file.sync_all().unwrap();
        drop(file);
        std::thread::sleep(Duration::from_millis(pause_ms));
        std::fs::write(&tenant, original.replace("unless", "unles")).unwrap();
        child.wait_for("reload failed");
        let answer = child.ask(ADA_ADMIN, ADD_USER, GLOBEX);
        assert!(
            answer.contains(r#""decision":"deny""#),
            "pause {pause_ms} ms: the emptied tenant policy was kept: {answer}"
        );
        child.finish();
    }
}

/// An edit saved while `authorize --watch` is starting is served: the watch
/// is in place before the files are (re)read, so no edit falls between the
/// first load and the watch. Edits at 0 to 20 ms after the start, repeated.
#[test]
fn an_edit_saved_while_watch_starts_is_served() {
    let mut missed = Vec::new();
    for round in 0..2 {
        for delay_ms in (0..=20).step_by(2) {
            let dir = store_copy();
            let path = dir.path().join(ACCOUNT_POLICIES);
            let original = std::fs::read_to_string(&path).unwrap();
            let mut child = WatchChild::start(dir.path(), "fireworks");
            std::thread::sleep(Duration::from_millis(delay_ms));
            save(&path, flip_view_users(&original));
            let started = std::time::Instant::now();
            let served = loop {
                if child
                    .ask(INFERENCE, VIEW_USERS, ACME)
                    .contains(r#""decision":"deny""#)
                {
                    break true;
                }
                if started.elapsed() > Duration::from_secs(3) {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if !served {
                missed.push((round, delay_ms));
            }
            child.finish();
        }
    }
    assert!(
        missed.is_empty(),
        "edits never served at (round, ms): {missed:?}"
    );
}

// --------------------------------------------- links and replaced folders

/// A watching evaluator on `root` (the whole store), its events on a channel.
fn watch_whole(root: &Path) -> (Arc<Evaluator>, Receiver<ReloadEvent>, rolegrid::Watch) {
    let evaluator = Arc::new(
        Evaluator::open(root, LoadOptions::default())
            .unwrap()
            .with_settle_period(Duration::ZERO),
    );
    let (tx, events) = channel();
    let watch = evaluator
        .watch(move |event| {
            let _ = tx.send(event.clone());
        })
        .unwrap();
    (evaluator, events, watch)
}

/// Waits until `product` answers `allowed` for ivan's viewUsers on acme.
fn wait_for_answer(evaluator: &Evaluator, product: &str, allowed: bool, what: &str) {
    let started = std::time::Instant::now();
    loop {
        let answer = evaluator
            .authorize(product, INFERENCE, VIEW_USERS, ACME, None)
            .unwrap()
            .is_allowed();
        if answer == allowed {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "{what}: {product} still answers {answer}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces a link in one step, as `ln -sfn` does (a new link renamed over).
fn repoint(link: &Path, target: &Path) {
    let temporary = link.with_file_name(".relink.tmp");
    std::os::unix::fs::symlink(target, &temporary).unwrap();
    std::fs::rename(&temporary, link).unwrap();
}

#[test]
fn edits_through_a_linked_product_folder_are_seen_and_it_can_be_repointed() {
    let dir = store_copy();
    let outside = tempfile::tempdir().unwrap();
    let (v1, v2) = (outside.path().join("v1"), outside.path().join("v2"));
    let product = dir.path().join("policies/fireworks");
    copy_dir(&product, &v1);
    copy_dir(&product, &v2);
    std::fs::remove_dir_all(&product).unwrap();
    std::os::unix::fs::symlink(&v1, &product).unwrap();
    let (evaluator, _events, _watch) = watch_whole(dir.path());
    let original = std::fs::read_to_string(v1.join("account.cedar")).unwrap();

    save(&v1.join("account.cedar"), flip_view_users(&original));
    wait_for_answer(
        &evaluator,
        "fireworks",
        false,
        "an edit in the linked folder",
    );
    repoint(&product, &v2);
    wait_for_answer(&evaluator, "fireworks", true, "the link re-pointed");
    save(&v2.join("account.cedar"), flip_view_users(&original));
    wait_for_answer(&evaluator, "fireworks", false, "an edit in the new target");
    // the old target no longer matters
    save(&v1.join("account.cedar"), &original);
    std::fs::write(v2.join("account.cedar"), &original).unwrap();
    wait_for_answer(
        &evaluator,
        "fireworks",
        true,
        "an in-place edit in the new target",
    );
}

#[test]
fn edits_to_a_linked_policy_file_are_seen() {
    let dir = store_copy();
    let shared = tempfile::tempdir().unwrap();
    let file = dir.path().join(ACCOUNT_POLICIES);
    let target = shared.path().join("account.cedar");
    std::fs::rename(&file, &target).unwrap();
    std::os::unix::fs::symlink(&target, &file).unwrap();
    let (evaluator, _events, _watch) = watch_whole(dir.path());
    let original = std::fs::read_to_string(&target).unwrap();

    // saved atomically (a new file renamed over the target), then in place
    save(&target, flip_view_users(&original));
    wait_for_answer(
        &evaluator,
        "fireworks",
        false,
        "an atomic save of the target",
    );
    std::fs::write(&target, &original).unwrap();
    wait_for_answer(
        &evaluator,
        "fireworks",
        true,
        "an in-place save of the target",
    );
}

#[test]
fn an_alias_link_to_a_product_folder_follows_both_and_can_be_removed() {
    let dir = store_copy();
    let root = dir.path();
    for alias in ["fw", "zz-fireworks"] {
        std::os::unix::fs::symlink("fireworks", root.join("policies").join(alias)).unwrap();
        std::os::unix::fs::symlink(
            "fireworks.cedarschema",
            root.join("schemas").join(format!("{alias}.cedarschema")),
        )
        .unwrap();
    }
    let (evaluator, _events, _watch) = watch_whole(root);
    let path = root.join(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();

    save(&path, flip_view_users(&original));
    for product in ["fireworks", "fw", "zz-fireworks"] {
        wait_for_answer(
            &evaluator,
            product,
            false,
            "an edit seen through every name",
        );
    }
    // removing one alias silences nothing else
    std::fs::remove_file(root.join("policies/fw")).unwrap();
    std::fs::remove_file(root.join("schemas/fw.cedarschema")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    save(&path, &original);
    for product in ["fireworks", "zz-fireworks"] {
        wait_for_answer(&evaluator, product, true, "an edit after an alias went");
    }
}

#[test]
fn a_replaced_policies_folder_keeps_reloading() {
    let dir = store_copy();
    let root = dir.path();
    let (evaluator, _events, _watch) = watch_whole(root);
    let path = root.join(ACCOUNT_POLICIES);
    let original = std::fs::read_to_string(&path).unwrap();
    let policies = root.join("policies");

    // a new copy renamed over the folder (the old one moved away first)
    copy_dir(&policies, &root.join("policies.new"));
    std::fs::rename(&policies, root.join("policies.old")).unwrap();
    std::fs::rename(root.join("policies.new"), &policies).unwrap();
    std::fs::remove_dir_all(root.join("policies.old")).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    save(&path, flip_view_users(&original));
    wait_for_answer(
        &evaluator,
        "fireworks",
        false,
        "an edit after a rename over",
    );

    // deleted, then copied back
    let backup = tempfile::tempdir().unwrap();
    copy_dir(&policies, backup.path());
    std::fs::remove_dir_all(&policies).unwrap();
    copy_dir(backup.path(), &policies);
    std::thread::sleep(Duration::from_millis(200));
    save(&path, &original);
    wait_for_answer(
        &evaluator,
        "fireworks",
        true,
        "an edit after delete and copy",
    );
}

/// `--watch --entities FILE`: after a reload the extra entities no longer
/// fit, every answer was a plain-text line even with `--format json`, and a
/// full report went to stderr per request. Now: one report per generation,
/// and JSON error answers.
#[test]
fn extra_entities_that_stop_fitting_give_json_errors_and_one_report() {
    let dir = store_copy();
    let extra = dir.path().join("zed.entities.yaml");
    std::fs::write(
        &extra,
        "- uid: {type: Fireworks::User, id: zed}\n  attrs: {account: {type: Fireworks::Account, id: acme}}\n  parents: [{type: Fireworks::Role, id: admin}, {type: Fireworks::Account, id: acme}]\n",
    )
    .unwrap();
    let mut child = WatchChild::start_with(
        dir.path(),
        "fireworks",
        &["--entities", extra.to_str().unwrap()],
    );
    let zed = r#"Fireworks::User::"zed""#;
    assert!(
        child
            .ask(zed, ADD_USER, ACME)
            .contains(r#""decision":"allow""#)
    );
    // the fixture now defines zed too: the extra file clashes with it
    let fixture = dir.path().join("policies/fireworks/fixture.entities.yaml");
    let text = std::fs::read_to_string(&fixture).unwrap();
    save(
        &fixture,
        format!(
            "{text}- uid: {{type: Fireworks::User, id: zed}}\n  attrs: {{account: {{type: Fireworks::Account, id: acme}}}}\n  parents: [{{type: Fireworks::Account, id: acme}}]\n"
        ),
    );
    child.wait_for("reloaded (generation 2");
    for _ in 0..3 {
        let answer = child.ask(zed, ADD_USER, ACME);
        let json: serde_json::Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("not a JSON answer ({e}): {answer}"));
        assert_eq!(json["error"]["kind"], "entity", "{answer}");
    }
    drop(child.stdin);
    let _ = child.child.wait();
    // the reader thread ends with stderr: everything the child wrote
    let mut rest = String::new();
    while let Ok(line) = child.stderr.recv_timeout(WAIT) {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert_eq!(rest.matches("do not fit generation 2").count(), 1, "{rest}");
}
