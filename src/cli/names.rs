//! Names on the command line as expectation files take them: full Cedar
//! uids, or short forms resolved in the product's namespace (`update`,
//! `Action::"update"`, `User::"ada"`), with a did-you-mean when a name is
//! unknown; and JSON given inline, as `@FILE`, or as a file's path.

use cedar_policy::{Entities, EntityUid};
use rolegrid::expect::{Fixture, short_uid};
use rolegrid::{Problem, ProblemKind, Snapshot};
use std::path::Path;

/// Resolves the names of one request against a snapshot.
pub(crate) struct Names<'a> {
    fixture: Fixture<'a>,
}

impl<'a> Names<'a> {
    pub(crate) fn new(snapshot: &'a Snapshot) -> Self {
        Self {
            fixture: Fixture::new(snapshot),
        }
    }

    /// A principal or resource: a uid, with or without the namespace.
    pub(crate) fn entity(&self, flag: &str, text: &str) -> Result<EntityUid, Problem> {
        self.fixture.entity_uid(text).map_err(|message| {
            Problem::new(ProblemKind::Request, format!("{flag}: {message}")).with_help(format!(
                r#"write a uid: `Type::"id"` (the namespace `{}` may be left out)"#,
                self.fixture.namespace()
            ))
        })
    }

    /// An action: an id (`update`) or a uid, which the schema declares.
    pub(crate) fn action(&self, text: &str) -> Result<EntityUid, Problem> {
        self.fixture.action(text).map_err(|message| {
            let problem = Problem::new(ProblemKind::Request, format!("--action: {message}"));
            match self.fixture.closest_action(text) {
                Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                None => problem,
            }
        })
    }

    /// A note for an entity the request names that `entities` does not
    /// hold: Cedar decides it as an entity with no attributes and no
    /// parents, which is seldom what the author meant.
    pub(crate) fn absent(
        &self,
        flag: &str,
        uid: &EntityUid,
        entities: &Entities,
    ) -> Option<String> {
        if entities.get(uid).is_some() {
            return None;
        }
        let namespace = self.fixture.namespace();
        let mut note = format!(
            "rolegrid: note: {flag} {} is in no entity file: Cedar decides it as an entity with no attributes and no parents",
            short_uid(uid, namespace)
        );
        if let Some(near) = self.fixture.closest_entity(uid) {
            note.push_str(&format!("; did you mean {}?", short_uid(&near, namespace)));
        }
        Some(note)
    }
}

/// JSON given on the command line: inline (`{"a": 1}`), `@FILE`, or the
/// path of a file. `what` names the flag in messages.
pub(crate) fn json_argument(what: &str, text: &str) -> Result<serde_json::Value, Problem> {
    let (source, from_file) = match text.strip_prefix('@') {
        Some(path) => (read_json_file(what, Path::new(path))?, true),
        None if !text.trim_start().starts_with(['{', '[']) && Path::new(text).is_file() => {
            (read_json_file(what, Path::new(text))?, true)
        }
        None => (text.to_owned(), false),
    };
    rolegrid::json::from_str(&source).map_err(|e| {
        let problem = Problem::new(ProblemKind::Request, format!("{what} is not JSON: {e}"));
        if from_file {
            problem
        } else {
            problem.with_help("give a JSON object inline, `@FILE`, or the path of a JSON file")
        }
    })
}

fn read_json_file(what: &str, path: &Path) -> Result<String, Problem> {
    std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            ProblemKind::Io,
            format!("{what}: cannot read {}: {e}", path.display()),
        )
    })
}
