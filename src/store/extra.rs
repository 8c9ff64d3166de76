//! Entities added to a snapshot's own for some requests (`authorize
//! --entities`, expectation cases with entities of their own): read against
//! the snapshot's schema, joined with its entities, checked for cycles.

use super::entities::ParsedEntities;
use crate::diagnostics::text::error_chain;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::entity_kind_of;
use crate::limits::Limits;
use crate::origin::EntityOrigin;
use crate::snapshot::Snapshot;
use cedar_policy::{Entities, EntityUid};
use std::collections::HashMap;

/// The snapshot's entities plus extra ones read from files (YAML or JSON,
/// Cedar's entity format), validated against the schema. A uid defined
/// twice (by the snapshot or the files) is an error naming both places.
/// Build once and reuse for many requests.
pub fn with_entities(
    snapshot: &Snapshot,
    files: &[SourceFile],
    limits: &Limits,
) -> Result<Entities, Problems> {
    let mut parsed = ParsedEntities {
        origins: snapshot.entity_origins().clone(),
        ..ParsedEntities::default()
    };
    let mut problems = Problems::new();
    for file in files {
        problems.extend(parsed.add_file(
            file,
            entity_kind_of(file.path()),
            snapshot.schema(),
            limits,
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    merge(snapshot, parsed.entities, &parsed.origins, files.first())
}

/// A cycle in the hierarchy made by adding `extra` to the snapshot's
/// entities (which have none): one must pass through an extra entity.
fn cycle_through(
    snapshot: &Snapshot,
    extra: &[cedar_policy::Entity],
    origins: &HashMap<EntityUid, EntityOrigin>,
) -> Option<Problem> {
    let parents: HashMap<EntityUid, Vec<EntityUid>> = extra
        .iter()
        .map(|e| {
            let (uid, _, parents) = e.clone().into_inner();
            (uid, parents.into_iter().collect())
        })
        .collect();
    // in file order, so the report is the same every time
    for start in extra.iter().map(cedar_policy::Entity::uid) {
        let start = &start;
        let mut seen: std::collections::HashSet<EntityUid> = std::collections::HashSet::new();
        let mut stack: Vec<EntityUid> = parents.get(start).cloned().unwrap_or_default();
        while let Some(uid) = stack.pop() {
            if &uid == start {
                let mut problem = Problem::new(
                    ProblemKind::HierarchyCycle,
                    format!("the entity hierarchy has a cycle through {start}"),
                );
                if let Some(origin) = origins.get(start) {
                    problem = problem
                        .in_file(&origin.file)
                        .at(origin.span.clone(), "this entity is its own ancestor");
                }
                return Some(problem);
            }
            if !seen.insert(uid.clone()) {
                continue;
            }
            match parents.get(&uid) {
                Some(next) => stack.extend(next.iter().cloned()),
                None => {
                    if let Some(ancestors) = snapshot.entities().ancestors(&uid) {
                        stack.extend(ancestors.cloned());
                    }
                }
            }
        }
    }
    None
}

/// Like [`with_entities`], from Cedar JSON entity values placed in `file`.
pub(crate) fn with_entity_values(
    snapshot: &Snapshot,
    file: &SourceFile,
    items: Vec<(serde_json::Value, std::ops::Range<usize>)>,
    fill_defaults: bool,
    limits: &Limits,
) -> Result<Entities, Problems> {
    let mut parsed = ParsedEntities {
        origins: snapshot.entity_origins().clone(),
        ..ParsedEntities::default()
    };
    let problems = parsed.add_values(file, items, fill_defaults, snapshot.schema(), limits);
    if !problems.is_empty() {
        return Err(problems);
    }
    merge(snapshot, parsed.entities, &parsed.origins, Some(file))
}

fn merge(
    snapshot: &Snapshot,
    extra: Vec<cedar_policy::Entity>,
    origins: &HashMap<EntityUid, EntityOrigin>,
    file: Option<&SourceFile>,
) -> Result<Entities, Problems> {
    if extra.is_empty() {
        return Ok(snapshot.entities().clone());
    }
    if let Some(problem) = cycle_through(snapshot, &extra, origins) {
        return Err(problem.into());
    }
    snapshot
        .entities()
        .clone()
        .add_entities(extra, snapshot.schema())
        .map_err(|e| {
            let mut problem = Problem::new(ProblemKind::Entity, error_chain(&e));
            if let Some(file) = file {
                problem = problem.in_file(file);
            }
            Problems::from(problem)
        })
}
