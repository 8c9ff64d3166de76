//! Hot reload: edits on disk reach the evaluator; broken edits keep the last
//! good snapshot and are reported with their location; fixing restores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

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

struct Harness {
    _dir: tempfile::TempDir,
    root: PathBuf,
    evaluator: Arc<Evaluator>,
    events: Receiver<ReloadEvent>,
    _watch: rolegrid::Watch,
}

impl Harness {
    fn new(product: &str) -> Self {
        let dir = store_copy();
        let root = dir.path().to_path_buf();
        let evaluator = Arc::new(
            Evaluator::open_products(&root, &[product.to_owned()], LoadOptions::default()).unwrap(),
        );
        let (tx, events) = channel();
        let watch = evaluator
            .watch(move |event| {
                let _ = tx.send(event.clone());
            })
            .unwrap();
        Self { _dir: dir, root, evaluator, events, _watch: watch }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Waits for the next reload event of `product` that is not `Unchanged`.
    fn next_event(&self, product: &str) -> ReloadEvent {
        loop {
            let event = self.events.recv_timeout(WAIT).expect("no reload event within the timeout");
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

    std::fs::write(&path, flip_view_users(&original)).unwrap();
    let event = h.next_event("fireworks");
    assert!(matches!(event.outcome, ReloadOutcome::Swapped { generation: 2 }), "{event}");
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));

    std::fs::write(&path, format!("{original}\npermit(\n")).unwrap();
    let event = h.next_event("fireworks");
    let ReloadOutcome::Failed(problems) = &event.outcome else { panic!("expected a failure: {event}") };
    let location = problems.iter().next().unwrap().location().unwrap();
    assert!(location.file.ends_with(ACCOUNT_POLICIES), "{location}");
    assert!(location.line > 60, "{location}");
    // still the last good snapshot
    assert!(!h.decide(INFERENCE, VIEW_USERS, ACME));
    let status = h.evaluator.status("fireworks").unwrap();
    assert_eq!(status.generation, 2);
    assert!(status.last_error.is_some());

    std::fs::write(&path, &original).unwrap();
    let event = h.next_event("fireworks");
    assert!(matches!(event.outcome, ReloadOutcome::Swapped { generation: 3 }), "{event}");
    assert!(h.decide(INFERENCE, VIEW_USERS, ACME));
    assert!(h.evaluator.status("fireworks").unwrap().last_error.is_none());
}
