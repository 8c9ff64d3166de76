//! Reading entity files (YAML or Cedar JSON) into Cedar entities, keeping the
//! place each entity was written so errors point at it.

use crate::diagnostics::text::{bad_number, bad_number_reason, chain_text, error_chain, shorten};
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::FileKind;
use crate::graph::{self, HierarchyExcess, check_hierarchy};
use crate::limits::Limits;
use crate::origin::EntityOrigin;
use crate::store::typed_entities::TypedReader;
use crate::yaml::parse_yaml_list_with;
use cedar_policy::{Entities, Entity, EntityUid, Schema};
use std::collections::HashMap;
use std::ops::Range;

/// Entities read from files, not yet joined into Cedar's [`Entities`].
#[derive(Debug, Default)]
pub(crate) struct ParsedEntities {
    pub entities: Vec<Entity>,
    /// Each entity's uid and parents, in the same order, read once (Cedar
    /// gives an entity's parents only with a copy of all its attributes).
    pub links: Vec<Link>,
    pub origins: HashMap<EntityUid, EntityOrigin>,
}

/// Entities joined into Cedar's [`Entities`], with where each was written.
#[derive(Debug, Clone)]
pub(crate) struct BuiltEntities {
    pub entities: Entities,
    pub origins: HashMap<EntityUid, EntityOrigin>,
}

/// An entity's uid and its parents.
pub(crate) type Link = (EntityUid, Vec<EntityUid>);

/// Parses a JSON list (serde_json, refusing duplicate keys: see [`crate::json`]), pointing
/// syntax errors at their line and column.
fn parse_json_list(file: &SourceFile) -> Result<Vec<(serde_json::Value, Range<usize>)>, Problem> {
    let values = crate::json::array_from_str(file.text()).map_err(|e| {
        let offset = file.offset_of(e.line(), e.column());
        let problem = if e.to_string().starts_with("recursion limit exceeded") {
            Problem::new(
                ProblemKind::Limit,
                format!("invalid JSON: {e}: the JSON nests deeper than 128 levels, the most rolegrid reads"),
            )
            .with_help("flatten the data")
        } else {
            Problem::new(ProblemKind::Syntax, format!("invalid JSON: {e}"))
        };
        problem.in_file(file).at(offset..offset + 1, "here")
    })?;
    // serde_json keeps no spans: find where each item of the list starts
    let spans: Vec<Range<usize>> = json_item_starts(file.text())
        .into_iter()
        .map(|start| start..start + 1)
        .collect();
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v, spans.get(i).cloned().unwrap_or(0..1)))
        .collect())
}

/// Where each item of a JSON list starts (the text is valid JSON: serde_json
/// read it), in one pass over the bytes.
fn json_item_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut expect_item = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if depth == 1 && expect_item && !b.is_ascii_whitespace() && b != b']' {
            starts.push(i);
            expect_item = false;
        }
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect_item = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_item = true,
            _ => {}
        }
        i += 1;
    }
    starts
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
            _ => parse_yaml_list_with(file, "entities", limits),
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
        let first_new = self.entities.len();
        let mut typed = schema.map(TypedReader::new);
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
                    .at(span, "this one is over the limit")
                    .with_help("raise the limit (--max-entities) if the store really needs it"),
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
            let (entity, parents) = match read_entity(file, value, &span, schema, typed.as_mut()) {
                Ok(read) => read,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            let uid = entity.uid();
            if let Some(first) = self.origins.get(&uid) {
                problems.push(defined_twice(&uid, file, span, first));
                continue;
            }
            self.origins.insert(
                uid.clone(),
                EntityOrigin {
                    file: file.clone(),
                    span,
                },
            );
            self.links.push((uid, parents));
            self.entities.push(entity);
        }
        // the file's own hierarchy, before anything hands it to Cedar: entities
        // added to a snapshot's (`--entities`, expectation files) are merged by
        // Cedar's `add_entities`, whose closure takes minutes on a long chain
        if problems.is_empty() {
            let added = self.links.get(first_new..).unwrap_or_default();
            if let Some(problem) = find_cycle(added, &self.origins)
                .or_else(|| check_entity_hierarchy(added, &self.origins, limits))
            {
                problems.push(problem);
            }
        }
        problems
    }

    /// Joins the entities into Cedar's [`Entities`] (adding the schema's action
    /// entities), after checking the hierarchy has no cycle, no chain of
    /// parents longer than `max_hierarchy_depth` and no more ancestor links
    /// than `max_ancestor_links` (Cedar's transitive closure grows with both).
    pub fn build_with(
        self,
        schema: Option<&Schema>,
        limits: &Limits,
    ) -> Result<BuiltEntities, Problems> {
        if let Some(problem) = find_cycle(&self.links, &self.origins) {
            return Err(problem.into());
        }
        if let Some(problem) = check_entity_hierarchy(&self.links, &self.origins, limits) {
            return Err(problem.into());
        }
        let error = |e: &dyn std::error::Error| -> Problems {
            Problem::new(ProblemKind::Entity, error_chain(e)).into()
        };
        // Each entity was checked against the schema when it was read (the
        // same conformance check `from_entities` would repeat for all of
        // them): join them with the schema's action entities, which replace
        // any entity of the same uid, as `from_entities` does with a schema.
        let built = match schema {
            Some(schema) => {
                let actions = schema.action_entities().map_err(|e| error(&e))?;
                let declared: std::collections::HashSet<EntityUid> =
                    actions.iter().map(Entity::uid).collect();
                let all = self
                    .entities
                    .into_iter()
                    .filter(|e| !declared.contains(&e.uid()))
                    .chain(actions.iter().cloned());
                Entities::from_entities(all, None)
            }
            None => Entities::from_entities(self.entities, None),
        };
        match built {
            Ok(entities) => Ok(BuiltEntities {
                entities,
                origins: self.origins,
            }),
            Err(e) => Err(error(&e)),
        }
    }
}

/// An entity defined again at `span` of `file`, after `first`.
pub(crate) fn defined_twice(
    uid: &EntityUid,
    file: &SourceFile,
    span: Range<usize>,
    first: &EntityOrigin,
) -> Problem {
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
    )
}

/// Finds a cycle in the parent relation, iteratively (deep chains must not
/// overflow the stack), and reports it at one of its entities.
fn find_cycle(links: &[Link], origins: &HashMap<EntityUid, EntityOrigin>) -> Option<Problem> {
    let index: HashMap<&EntityUid, usize> = links
        .iter()
        .enumerate()
        .map(|(i, (uid, _))| (uid, i))
        .collect();
    let next: Vec<Vec<usize>> = links
        .iter()
        .map(|(_, parents)| {
            parents
                .iter()
                .filter_map(|p| index.get(p).copied())
                .collect()
        })
        .collect();
    // searched from the entities in file order: the same files always report the same cycle
    let cycle: Vec<&EntityUid> = graph::find_cycle(&next)?
        .into_iter()
        .filter_map(|i| links.get(i).map(|(uid, _)| uid))
        .collect();
    let names: Vec<String> = cycle.iter().map(ToString::to_string).collect();
    let message = format!("the entity hierarchy has a cycle: {}", names.join(" → "));
    let at = cycle.first().and_then(|uid| origins.get(*uid));
    Some(cycle_problem(message, at))
}

/// A cycle in the entity hierarchy, pointing at an entity on it.
pub(crate) fn cycle_problem(message: String, at: Option<&EntityOrigin>) -> Problem {
    let problem = Problem::new(ProblemKind::HierarchyCycle, message);
    match at {
        Some(origin) => problem
            .in_file(&origin.file)
            .at(origin.span.clone(), "this entity is its own ancestor"),
        None => problem,
    }
}

/// The attribute a Cedar entity error names (`in attribute `pinned` on
/// ...`, `attribute `colour` on ... should not exist`).
fn named_attribute(message: &str) -> Option<&str> {
    let rest = message.split("attribute `").nth(1)?;
    rest.split('`').next().filter(|name| !name.is_empty())
}

/// Where the entity at `span` writes attribute `name` as a key (`name:`,
/// `"name":`), searching its text up to the next YAML list item (at most
/// 64 KiB).
fn attribute_span(file: &SourceFile, span: &Range<usize>, name: &str) -> Option<Range<usize>> {
    let text = file.text();
    let end = text
        .len()
        .min(span.end.max(span.start.saturating_add(1 << 16)));
    let window = text.get(span.start..end)?;
    // a YAML list's next entity starts a line with `- `
    let window = window.get(..window.find("\n- ").unwrap_or(window.len()))?;
    window.match_indices(name).find_map(|(at, _)| {
        let before = window.get(..at)?;
        let quoted = before.ends_with('"') || before.ends_with('\'');
        let key_start = if quoted { at - 1 } else { at };
        let prefix_ok = window
            .get(..key_start)?
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, '{' | ',' | ' ' | '\n' | '\t'));
        let after = window.get(at + name.len()..)?;
        let after = if quoted { after.get(1..)? } else { after };
        let colon = after.trim_start_matches([' ', '\t']).starts_with(':');
        (prefix_ok && colon)
            .then(|| span.start + key_start..span.start + at + name.len() + usize::from(quoted))
    })
}

/// One entity from its Cedar JSON value, with its parents: by the typed
/// path where it applies, else by Cedar's reader (whose errors are kept).
fn read_entity(
    file: &SourceFile,
    value: serde_json::Value,
    span: &Range<usize>,
    schema: Option<&Schema>,
    typed: Option<&mut TypedReader<'_>>,
) -> Result<(Entity, Vec<EntityUid>), Problem> {
    if let Some(problem) = check_numbers(file, &value, span) {
        return Err(problem);
    }
    if let Some(read) = typed.and_then(|reader| reader.read(&value)) {
        return Ok(read);
    }
    let entity = Entity::from_json_value(value, schema).map_err(|e| {
        let message = error_chain(&e);
        let problem = Problem::new(
            ProblemKind::Entity,
            format!("invalid entity: {}", shorten(message.clone())),
        )
        .in_file(file);
        // an attribute's error points at the attribute, not the whole entity
        match named_attribute(&message).and_then(|name| attribute_span(file, span, name)) {
            Some(at) => problem.at(at, "this attribute"),
            None => problem.at(span.clone(), "this entity"),
        }
    })?;
    let parents = parents_of(&entity);
    Ok((entity, parents))
}

fn parents_of(entity: &Entity) -> Vec<EntityUid> {
    let (_, _, parents) = entity.clone().into_inner();
    parents.into_iter().collect()
}

/// Checks the entity hierarchy against `max_hierarchy_depth` and
/// `max_ancestor_links`, reporting at the entity where a limit was passed.
fn check_entity_hierarchy(
    links: &[Link],
    origins: &HashMap<EntityUid, EntityOrigin>,
    limits: &Limits,
) -> Option<Problem> {
    let mut index: HashMap<&EntityUid, usize> = HashMap::with_capacity(links.len());
    let mut uids: Vec<&EntityUid> = Vec::with_capacity(links.len());
    for (uid, _) in links {
        index.entry(uid).or_insert_with(|| {
            uids.push(uid);
            uids.len() - 1
        });
    }
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); uids.len()];
    for (uid, own) in links {
        let Some(&child) = index.get(uid) else {
            continue;
        };
        let mut list = Vec::new();
        for parent in own {
            let next = uids.len();
            let at = *index.entry(parent).or_insert_with(|| {
                uids.push(parent);
                next
            });
            list.push(at);
        }
        if parents.len() < uids.len() {
            parents.resize(uids.len(), Vec::new());
        }
        if let Some(slot) = parents.get_mut(child) {
            *slot = list;
        }
    }
    let name = |i: &usize| uids.get(*i).map(ToString::to_string).unwrap_or_default();
    let (node, mut problem) = match check_hierarchy(&parents, limits).err()? {
        HierarchyExcess::Depth(chain) => {
            let names: Vec<String> = chain.iter().map(name).collect();
            (
                chain.first().copied().unwrap_or(0),
                Problem::new(
                    ProblemKind::Limit,
                    format!(
                        "the entity hierarchy is deeper than {} levels (limit `max_hierarchy_depth`): {}",
                        limits.max_hierarchy_depth,
                        chain_text(&names)
                    ),
                )
                .with_help(
                    "Cedar stores every ancestor of every entity, so long chains cost time and memory \
                     quadratically; raise the limit (--max-hierarchy-depth) if the store really needs it",
                ),
            )
        }
        HierarchyExcess::Links { node, own, total } => (
            node,
            Problem::new(
                ProblemKind::Limit,
                format!(
                    "the entity hierarchy has more than {} ancestor links once closed (limit `max_ancestor_links`): \
                     {} reaches {own} ancestors, {total} links so far",
                    limits.max_ancestor_links,
                    name(&node)
                ),
            )
            .with_help(
                "Cedar stores every ancestor of every entity: an entity with many parents passes them all \
                 to every entity below it; raise the limit (--max-ancestor-links) if the store really needs it",
            ),
        ),
    };
    if let Some(origin) = uids.get(node).and_then(|uid| origins.get(*uid)) {
        problem = problem
            .in_file(&origin.file)
            .at(origin.span.clone(), "here");
    }
    Some(problem)
}

/// An entity attribute that holds a number Cedar cannot: a problem pointing
/// at the number where it can be found, else at the entity.
fn check_numbers(
    file: &SourceFile,
    value: &serde_json::Value,
    span: &Range<usize>,
) -> Option<Problem> {
    let attrs = value.get("attrs")?;
    let (path, number, whole) = bad_number(attrs, "")?;
    let uid = value
        .get("uid")
        .and_then(|uid| {
            let uid = uid.get("__entity").unwrap_or(uid);
            Some(format!(
                "{}::{:?}",
                uid.get("type")?.as_str()?,
                uid.get("id")?.as_str()?
            ))
        })
        .unwrap_or_else(|| "this entity".to_owned());
    let help = if whole {
        "a Long is a 64-bit signed integer"
    } else {
        r#"write fractions as decimals: {"__extn": {"fn": "decimal", "arg": "0.5"}}"#
    };
    let problem = Problem::new(
        ProblemKind::Entity,
        format!(
            "invalid entity: attribute `{}` of {uid}: {}",
            path,
            bad_number_reason(&number, whole)
        ),
    )
    .in_file(file)
    .with_help(help);
    // the number as written, after the entity's start and before the next item
    let text = file.text();
    let window_end = text.len().min(span.start.saturating_add(1 << 16));
    let found = text
        .get(span.start..window_end)
        .and_then(|window| {
            window.match_indices(number.as_str()).find(|(at, _)| {
                let before = window.as_bytes().get(at.wrapping_sub(1)).copied();
                let after = window.as_bytes().get(at + number.len()).copied();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
            })
        })
        .map(|(at, _)| span.start + at);
    Some(match found {
        Some(at) => problem.at(at..at + number.len(), "this number"),
        None => problem.at(span.clone(), "this entity"),
    })
}
