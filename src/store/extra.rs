//! Entities added to a snapshot's own for some requests (`authorize
//! --entities`, expectation cases with entities of their own): read against
//! the snapshot's schema, joined with its entities, checked for cycles.

use super::entities::{ParsedEntities, cycle_problem};
use crate::diagnostics::text::error_chain;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::entity_kind_of;
use crate::graph;
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
/// entities (which have none): it passes through an extra entity, and
/// maybe through snapshot entities whose parents the extra ones define. It
/// is reported at its extra entity written first.
fn cycle_through(
    snapshot: &Snapshot,
    extra: &[cedar_policy::Entity],
    origins: &HashMap<EntityUid, EntityOrigin>,
) -> Option<Problem> {
    // nodes: the extra entities, then the snapshot entities they reach
    let mut nodes: Vec<EntityUid> = extra.iter().map(cedar_policy::Entity::uid).collect();
    let mut next: Vec<Vec<EntityUid>> = extra
        .iter()
        .map(|e| e.clone().into_inner().2.into_iter().collect())
        .collect();
    let mut index: HashMap<EntityUid, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, u)| (u.clone(), i))
        .collect();
    let mut at = 0;
    while let Some(parents) = next.get(at).cloned() {
        for parent in parents {
            if !index.contains_key(&parent) {
                index.insert(parent.clone(), nodes.len());
                let ancestors = snapshot.entities().ancestors(&parent);
                next.push(ancestors.map(|a| a.cloned().collect()).unwrap_or_default());
                nodes.push(parent);
            }
        }
        at += 1;
    }
    let graph: Vec<Vec<usize>> = next
        .iter()
        .map(|parents| {
            parents
                .iter()
                .filter_map(|p| index.get(p).copied())
                .collect()
        })
        .collect();
    let first = graph::find_cycle(&graph)?
        .into_iter()
        .filter(|&i| i < extra.len())
        .min()?;
    let start = nodes.get(first)?;
    let message = format!("the entity hierarchy has a cycle through {start}");
    Some(cycle_problem(message, origins.get(start)))
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
