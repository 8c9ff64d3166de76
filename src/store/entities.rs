//! Reading entity files (YAML or Cedar JSON) into Cedar entities, keeping the
//! place each entity was written so errors point at it.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use crate::store::files::FileKind;
use cedar_policy::{Entities, Entity, EntityUid, Schema};
use serde_saphyr::Spanned;
use std::collections::HashMap;
use std::ops::Range;

/// Where an entity was written.
#[derive(Debug, Clone)]
pub struct EntityOrigin {
    /// The file.
    pub file: SourceFile,
    /// Byte range of (the start of) the entity in the file.
    pub span: Range<usize>,
}

/// Entities read from files, not yet joined into Cedar's [`Entities`].
#[derive(Debug, Default)]
pub(crate) struct ParsedEntities {
    pub entities: Vec<Entity>,
    pub origins: HashMap<EntityUid, EntityOrigin>,
}

/// YAML options: duplicate keys are errors, only `true`/`false` are booleans,
/// the default budget guards against alias bombs and deep nesting.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// Parses a YAML (or JSON, which is YAML) list, keeping where each item starts.
pub(crate) fn parse_yaml_list(
    file: &SourceFile,
    what: &str,
) -> Result<Vec<(serde_json::Value, Range<usize>)>, Problem> {
    if file.text().trim().is_empty() {
        return Err(Problem::new(
            ProblemKind::Syntax,
            format!("{} is empty", file.path().display()),
        )
        .with_help(format!("write `[]` for a file with no {what}")));
    }
    let items: Vec<Spanned<serde_json::Value>> =
        serde_saphyr::from_str_with_options(file.text(), yaml_options())
            .map_err(|e| yaml_problem(file, &e))?;
    Ok(items
        .into_iter()
        .map(|item| {
            let span = span_of(file, &item.referenced);
            (item.value, span)
        })
        .collect())
}

/// The problem for a YAML error, pointing at its location.
pub(crate) fn yaml_problem(file: &SourceFile, error: &serde_saphyr::Error) -> Problem {
    let message = error.without_snippet().to_string();
    let message = message.lines().next().unwrap_or_default().to_string();
    let problem =
        Problem::new(ProblemKind::Syntax, format!("invalid YAML: {message}")).in_file(file);
    match error.location() {
        Some(location) => {
            let span = span_of(file, &location);
            problem.at(span, "here")
        }
        None => problem,
    }
}

/// Byte range for a saphyr location: its span if known, else its line and column.
pub(crate) fn span_of(file: &SourceFile, location: &serde_saphyr::Location) -> Range<usize> {
    let span = location.span();
    let start = match span.byte_offset() {
        Some(offset) => usize::try_from(offset).unwrap_or(0),
        None => file.offset_of(
            usize::try_from(location.line()).unwrap_or(1),
            usize::try_from(location.column()).unwrap_or(1),
        ),
    };
    let len = span
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(1)
        .max(1);
    let line_end = file
        .text()
        .get(start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(file.text().len(), |i| start + i);
    start..(start + len).min(line_end.max(start + 1))
}

/// Parses a JSON list with Cedar's own JSON reader (serde_json), pointing
/// syntax errors at their line and column.
fn parse_json_list(file: &SourceFile) -> Result<Vec<(serde_json::Value, Range<usize>)>, Problem> {
    let values: Vec<serde_json::Value> = serde_json::from_str(file.text()).map_err(|e| {
        let offset = file.offset_of(e.line(), e.column());
        Problem::new(ProblemKind::Syntax, format!("invalid JSON: {e}"))
            .in_file(file)
            .at(offset..offset + 1, "here")
    })?;
    // serde_json keeps no spans; where the file is also valid YAML, take each item's place from there.
    let spans: Vec<Range<usize>> = serde_saphyr::from_str_with_options::<
        Vec<Spanned<serde::de::IgnoredAny>>,
    >(file.text(), yaml_options())
    .map(|items| items.iter().map(|i| span_of(file, &i.referenced)).collect())
    .unwrap_or_default();
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v, spans.get(i).cloned().unwrap_or(0..1)))
        .collect())
}

impl ParsedEntities {
    /// Reads one entity file and adds its entities, reporting every problem.
    pub fn add_file(
        &mut self,
        file: &SourceFile,
        kind: FileKind,
        schema: Option<&Schema>,
        limits: &Limits,
    ) -> Problems {
        let items = match kind {
            FileKind::EntitiesJson => parse_json_list(file),
            _ => parse_yaml_list(file, "entities"),
        };
        let items = match items {
            Ok(items) => items,
            Err(problem) => return problem.into(),
        };
        let fill_defaults = kind == FileKind::EntitiesYaml;
        self.add_values(file, items, fill_defaults, schema, limits)
    }

    /// Adds entities given as Cedar JSON values with their places in `file`.
    pub fn add_values(
        &mut self,
        file: &SourceFile,
        items: Vec<(serde_json::Value, Range<usize>)>,
        fill_defaults: bool,
        schema: Option<&Schema>,
        limits: &Limits,
    ) -> Problems {
        let mut problems = Problems::new();
        for (mut value, span) in items {
            if self.entities.len() >= limits.max_entities {
                problems.push(
                    Problem::new(
                        ProblemKind::Limit,
                        format!(
                            "more than {} entities (limit `max_entities`)",
                            limits.max_entities
                        ),
                    )
                    .in_file(file)
                    .at(span, "this one is over the limit"),
                );
                break;
            }
            if fill_defaults && let Some(object) = value.as_object_mut() {
                object
                    .entry("attrs")
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                object
                    .entry("parents")
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            }
            let entity = match Entity::from_json_value(value, schema) {
                Ok(entity) => entity,
                Err(e) => {
                    problems.push(
                        Problem::new(
                            ProblemKind::Entity,
                            format!("invalid entity: {}", error_chain(&e)),
                        )
                        .in_file(file)
                        .at(span, "this entity"),
                    );
                    continue;
                }
            };
            let uid = entity.uid();
            if let Some(first) = self.origins.get(&uid) {
                problems.push(
                    Problem::new(
                        ProblemKind::DuplicateEntity,
                        format!("entity {uid} is defined twice"),
                    )
                    .in_file(file)
                    .at(span, "defined again here")
                    .with_related(
                        Problem::new(
                            ProblemKind::DuplicateEntity,
                            format!("{uid} first defined here"),
                        )
                        .in_file(&first.file)
                        .at(first.span.clone(), "first defined here"),
                    ),
                );
                continue;
            }
            self.origins.insert(
                uid,
                EntityOrigin {
                    file: file.clone(),
                    span,
                },
            );
            self.entities.push(entity);
        }
        problems
    }

    /// Joins the entities into Cedar's [`Entities`] (adding the schema's action
    /// entities), after checking the hierarchy has no cycle.
    pub fn build(
        self,
        schema: Option<&Schema>,
    ) -> Result<(Entities, HashMap<EntityUid, EntityOrigin>), Problems> {
        if let Some(problem) = find_cycle(&self.entities, &self.origins) {
            return Err(problem.into());
        }
        match Entities::from_entities(self.entities, schema) {
            Ok(entities) => Ok((entities, self.origins)),
            Err(e) => Err(Problem::new(ProblemKind::Entity, error_chain(&e)).into()),
        }
    }
}

/// A message with its causes, as Cedar nests the useful part in `source()`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Finds a cycle in the parent relation, iteratively (deep chains must not
/// overflow the stack), and reports it at one of its entities.
fn find_cycle(entities: &[Entity], origins: &HashMap<EntityUid, EntityOrigin>) -> Option<Problem> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let parents: HashMap<EntityUid, Vec<EntityUid>> =
        entities.iter().map(|e| (e.uid(), parents_of(e))).collect();
    let mut marks: HashMap<&EntityUid, Mark> = HashMap::new();
    for start in parents.keys() {
        if marks.contains_key(start) {
            continue;
        }
        let mut path: Vec<(&EntityUid, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some((node, next)) = path.last_mut() {
            let node: &EntityUid = node;
            let children = parents.get(node).map(Vec::as_slice).unwrap_or_default();
            if let Some(parent) = children.get(*next) {
                *next += 1;
                match marks.get(parent) {
                    Some(Mark::Open) => {
                        let mut cycle: Vec<String> = path
                            .iter()
                            .skip_while(|(n, _)| *n != parent)
                            .map(|(n, _)| n.to_string())
                            .collect();
                        cycle.push(parent.to_string());
                        let mut problem = Problem::new(
                            ProblemKind::HierarchyCycle,
                            format!("the entity hierarchy has a cycle: {}", cycle.join(" → ")),
                        );
                        if let Some(origin) = origins.get(parent) {
                            problem = problem
                                .in_file(&origin.file)
                                .at(origin.span.clone(), "this entity is its own ancestor");
                        }
                        return Some(problem);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        if parents.contains_key(parent) {
                            let key = parents.get_key_value(parent).map(|(k, _)| k);
                            if let Some(key) = key {
                                marks.insert(key, Mark::Open);
                                path.push((key, 0));
                            }
                        }
                    }
                }
            } else {
                marks.insert(node, Mark::Done);
                path.pop();
            }
        }
    }
    None
}

fn parents_of(entity: &Entity) -> Vec<EntityUid> {
    let (_, _, parents) = entity.clone().into_inner();
    parents.into_iter().collect()
}
