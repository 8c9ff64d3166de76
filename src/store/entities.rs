//! Reading entity files (YAML or Cedar JSON) into Cedar entities, keeping the
//! place each entity was written so errors point at it.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use crate::store::files::FileKind;
use crate::store::typed_entities::TypedReader;
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

/// YAML options: duplicate keys are errors, only `true`/`false` are
/// booleans, at most `max_yaml_nodes` nodes (each use
/// of an alias counts its whole content again) and `max_nesting` levels.
pub(super) fn yaml_options_with(limits: &Limits) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = limits.max_yaml_nodes;
    // every node is one event, every list and map one more at its end
    budget.max_events = limits
        .max_yaml_nodes
        .saturating_mul(2)
        .saturating_add(1_000);
    budget.max_depth = limits.nesting();
    // an anchor is copied at each use: legitimate files share small values
    budget.max_recorded_anchor_events = (limits.max_yaml_nodes / 10).max(1_000);
    budget.flow_nesting_limit = limits.nesting().saturating_add(1);
    options.budget = Some(budget);
    options
}

/// Parses a YAML (or JSON, which is YAML) list, keeping where each item
/// starts, within the default limits.
pub(crate) fn parse_yaml_list(
    file: &SourceFile,
    what: &str,
) -> Result<Vec<(serde_json::Value, Range<usize>)>, Problem> {
    parse_yaml_list_with(file, what, &Limits::default())
}

/// Parses a YAML (or JSON, which is YAML) list, keeping where each item
/// starts; a file over the YAML limits is a `limit` problem.
pub(crate) fn parse_yaml_list_with(
    file: &SourceFile,
    what: &str,
    limits: &Limits,
) -> Result<Vec<(serde_json::Value, Range<usize>)>, Problem> {
    let blank = |line: &str| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#')
    };
    if file.text().lines().all(blank) {
        let what_is_there = if file.text().trim().is_empty() {
            "is empty"
        } else {
            "holds only comments"
        };
        return Err(Problem::new(
            ProblemKind::Syntax,
            format!("{} {what_is_there}", file.path().display()),
        )
        .with_help(format!("write `[]` for a file with no {what}")));
    }
    let options = yaml_options_with(limits);
    // lists of plain data are read from the parser's events; the rest, and
    // every error, by serde-saphyr
    if let Some(budget) = &options.budget
        && let Some(items) = super::plain_yaml::read_list(file.text(), budget)
    {
        return Ok(items
            .into_iter()
            .map(|(value, at)| {
                let span = item_span(file, at.start, Some(at.len()));
                (value, span)
            })
            .collect());
    }
    let items: Vec<Spanned<serde_json::Value>> =
        serde_saphyr::from_str_with_options(file.text(), options).map_err(|e| {
            yaml_limit_problem(file, &e, limits).unwrap_or_else(|| {
                let problem = yaml_problem(file, &e);
                if problem.message().contains("expected sequence start") {
                    problem.with_help(format!(
                        "the file must be a list, one item per `- ` line (write `[]` for a file with no {what})"
                    ))
                } else {
                    problem
                }
            })
        })?;
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

/// A `limit` problem for a YAML budget breach, in words users know.
fn yaml_limit_problem(
    file: &SourceFile,
    error: &serde_saphyr::Error,
    limits: &Limits,
) -> Option<Problem> {
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = error;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let serde_saphyr::Error::Budget { breach, .. } = inner else {
        // the parser's own bracket limit, which the budget sets to `max_nesting`
        let text = inner.to_string();
        if !text.contains("recursion limit exceeded") {
            return None;
        }
        let problem = yaml_problem(file, error);
        return Some(
            Problem::new(
                ProblemKind::Limit,
                format!(
                    "{}: the YAML nests deeper than {} levels (limit `max_nesting`)",
                    problem.message(),
                    limits.nesting()
                ),
            )
            .in_file(file)
            .with_labels(problem_labels(&problem))
            .with_help("flatten the data"),
        );
    };
    let (message, help) = match breach {
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => (
            format!(
                "the YAML holds more than {} nodes, counting the content of an alias at each use (limit `max_yaml_nodes`)",
                limits.max_yaml_nodes
            ),
            "a few aliases of aliases can stand for billions of values (an \"alias bomb\"); \
             if the file is simply large, split it, write it as Cedar JSON (`*.entities.json`), \
             or raise the limit (--max-yaml-nodes)",
        ),
        BudgetBreach::Depth { .. } => (
            format!(
                "the YAML nests deeper than {} levels (limit `max_nesting`)",
                limits.nesting()
            ),
            "flatten the data",
        ),
        BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. }
        | BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. } => (
            format!(
                "the YAML's aliases copy their anchors more than {} times in all (a tenth of the limit `max_yaml_nodes`)",
                (limits.max_yaml_nodes / 10).max(1_000)
            ),
            "a few aliases of aliases can stand for billions of values (an \"alias bomb\"); \
             write the values out, or raise the limit (--max-yaml-nodes)",
        ),
        other => (
            format!("the YAML is larger than rolegrid reads ({other:?})"),
            "split the file, or write it as Cedar JSON (`*.entities.json`)",
        ),
    };
    let problem = Problem::new(ProblemKind::Limit, message)
        .in_file(file)
        .with_help(help);
    Some(match error.location() {
        Some(location) => problem.at(span_of(file, &location), "here"),
        None => problem,
    })
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
    item_span(
        file,
        start,
        span.byte_len().and_then(|l| usize::try_from(l).ok()),
    )
}

/// The range from byte `start`, `len` bytes long (at least one, one when
/// unknown) but not past the end of its line.
fn item_span(file: &SourceFile, start: usize, len: Option<usize>) -> Range<usize> {
    let len = len.unwrap_or(1).max(1);
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
            if let Some(problem) = check_numbers(file, &value, &span) {
                problems.push(problem);
                continue;
            }
            // the typed path where it applies, else Cedar's reader
            let typed = typed.as_mut().and_then(|reader| reader.read(&value));
            let read = match typed {
                Some((entity, parents)) => Ok((entity, parents)),
                None => Entity::from_json_value(value, schema).map(|entity| {
                    let parents = parents_of(&entity);
                    (entity, parents)
                }),
            };
            let (entity, parents) = match read {
                Ok(read) => read,
                Err(e) => {
                    problems.push(
                        Problem::new(
                            ProblemKind::Entity,
                            format!("invalid entity: {}", shorten(error_chain(&e))),
                        )
                        .in_file(file)
                        .at(span, "this entity"),
                    );
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
fn find_cycle(links: &[Link], origins: &HashMap<EntityUid, EntityOrigin>) -> Option<Problem> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let parents: HashMap<&EntityUid, &Vec<EntityUid>> =
        links.iter().map(|(uid, parents)| (uid, parents)).collect();
    let mut marks: HashMap<&EntityUid, Mark> = HashMap::new();
    // start from the entities in file order, so the same files always report the same cycle
    let starts: Vec<&EntityUid> = links
        .iter()
        .filter_map(|(uid, _)| parents.get_key_value(uid).map(|(k, _)| *k))
        .collect();
    for start in starts {
        if marks.contains_key(start) {
            continue;
        }
        let mut path: Vec<(&EntityUid, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some((node, next)) = path.last_mut() {
            let node: &EntityUid = node;
            let children = parents.get(node).map(|p| p.as_slice()).unwrap_or_default();
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
                            let key = parents.get_key_value(parent).map(|(k, _)| *k);
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

/// Why a hierarchy is over a limit (see [`check_hierarchy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HierarchyExcess {
    /// A chain of parents longer than `max_hierarchy_depth`, from the node
    /// where it was found up to the top.
    Depth(Vec<usize>),
    /// More ancestor links than `max_ancestor_links`: the node where the
    /// count went over, its own ancestors, and the count so far.
    Links {
        node: usize,
        own: usize,
        total: usize,
    },
}

/// Checks the depth and the transitive closure's size of a hierarchy given
/// as each node's parents (indices into `parents`; cycles are ignored here,
/// they are reported elsewhere). Linear in the nodes and links for depth;
/// for links, the work stops soon after the limit is passed.
pub(crate) fn check_hierarchy(
    parents: &[Vec<usize>],
    limits: &Limits,
) -> Result<(), HierarchyExcess> {
    use std::collections::HashSet;
    let order = parents_first(parents);
    let count_links = limits.max_ancestor_links != usize::MAX;
    let mut depth: Vec<usize> = vec![0; parents.len()];
    let mut deepest_parent: Vec<Option<usize>> = vec![None; parents.len()];
    let mut ancestors: Vec<HashSet<usize>> =
        vec![HashSet::new(); if count_links { parents.len() } else { 0 }];
    let mut total = 0usize;
    // work guards against many parents that share ancestors (the union is
    // then much more work than its size): Cedar's closure does the same work
    let mut work = 0usize;
    let work_limit = limits.max_ancestor_links.saturating_mul(8);
    for &node in &order {
        let Some(node_parents) = parents.get(node) else {
            continue;
        };
        let mut best: Option<(usize, usize)> = None;
        for &parent in node_parents {
            let d = depth.get(parent).copied().unwrap_or(0) + 1;
            if best.is_none_or(|(b, _)| d > b) {
                best = Some((d, parent));
            }
        }
        if let Some((d, parent)) = best {
            if let Some(slot) = depth.get_mut(node) {
                *slot = d;
            }
            if let Some(slot) = deepest_parent.get_mut(node) {
                *slot = Some(parent);
            }
            if d > limits.max_hierarchy_depth {
                let mut chain = vec![node];
                let mut at = node;
                while let Some(Some(up)) = deepest_parent.get(at) {
                    chain.push(*up);
                    at = *up;
                }
                return Err(HierarchyExcess::Depth(chain));
            }
        }
        if !count_links || node_parents.is_empty() {
            continue;
        }
        let mut own: HashSet<usize> = HashSet::new();
        for &parent in node_parents {
            own.insert(parent);
            work += 1;
            if let Some(above) = ancestors.get(parent) {
                work += above.len();
                own.extend(above.iter().copied());
            }
            if total + own.len() > limits.max_ancestor_links || work > work_limit {
                return Err(HierarchyExcess::Links {
                    node,
                    own: own.len(),
                    total: total + own.len(),
                });
            }
        }
        total += own.len();
        if let Some(slot) = ancestors.get_mut(node) {
            *slot = own;
        }
    }
    Ok(())
}

/// The nodes in an order where every node comes after its parents
/// (iterative depth-first search; edges that close a cycle are skipped).
pub(crate) fn parents_first(parents: &[Vec<usize>]) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; parents.len()];
    let mut order = Vec::with_capacity(parents.len());
    for start in 0..parents.len() {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(mark) = marks.get_mut(start) {
            *mark = Mark::Open;
        }
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            match parents.get(node).and_then(|p| p.get(*next)) {
                Some(&parent) => {
                    *next += 1;
                    if marks.get(parent) == Some(&Mark::New) {
                        if let Some(mark) = marks.get_mut(parent) {
                            *mark = Mark::Open;
                        }
                        path.push((parent, 0));
                    }
                }
                None => {
                    if let Some(mark) = marks.get_mut(node) {
                        *mark = Mark::Done;
                    }
                    order.push(node);
                    path.pop();
                }
            }
        }
    }
    order
}

/// Names of a chain for a message: the first three and the last two.
pub(crate) fn chain_text(names: &[String]) -> String {
    if names.len() <= 6 {
        return names.join(" → ");
    }
    let head = names
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(" → ");
    let tail = names
        .iter()
        .skip(names.len() - 2)
        .cloned()
        .collect::<Vec<_>>()
        .join(" → ");
    format!("{head} → … ({} more) … → {tail}", names.len() - 5)
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

fn problem_labels(problem: &Problem) -> Vec<miette::LabeledSpan> {
    problem
        .spans()
        .map(|span| miette::LabeledSpan::new(Some("here".to_owned()), span.offset(), span.len()))
        .collect()
}

/// A number Cedar cannot hold: the path to it, its text, and whether it is
/// a whole number (too large) rather than a fraction.
struct BadNumber {
    path: String,
    text: String,
    whole: bool,
}

/// Finds the first number in `value` that is not a 64-bit integer. Cedar's
/// own error for one is "data did not match any variant of untagged enum".
pub(crate) fn bad_number(value: &serde_json::Value, path: &str) -> Option<(String, String, bool)> {
    find_bad_number(value, path).map(|b| (b.path, b.text, b.whole))
}

fn find_bad_number(value: &serde_json::Value, path: &str) -> Option<BadNumber> {
    match value {
        serde_json::Value::Number(n) if n.as_i64().is_none() => {
            let whole = n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0);
            Some(BadNumber {
                path: path.to_owned(),
                text: n.to_string(),
                whole,
            })
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_bad_number(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            find_bad_number(item, &path)
        }),
        _ => None,
    }
}

/// Why a number is not a Long, for messages.
pub(crate) fn bad_number_reason(text: &str, whole: bool) -> String {
    if whole {
        format!(
            "{text} is out of range for a Long ({} to {})",
            i64::MIN,
            i64::MAX
        )
    } else {
        format!("{text} is not a whole number, and Cedar's numbers (Long) are")
    }
}

/// An entity attribute that holds a number Cedar cannot: a problem pointing
/// at the number where it can be found, else at the entity.
fn check_numbers(
    file: &SourceFile,
    value: &serde_json::Value,
    span: &Range<usize>,
) -> Option<Problem> {
    let attrs = value.get("attrs")?;
    let bad = find_bad_number(attrs, "")?;
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
    let help = if bad.whole {
        "a Long is a 64-bit signed integer"
    } else {
        r#"write fractions as decimals: {"__extn": {"fn": "decimal", "arg": "0.5"}}"#
    };
    let problem = Problem::new(
        ProblemKind::Entity,
        format!(
            "invalid entity: attribute `{}` of {uid}: {}",
            bad.path,
            bad_number_reason(&bad.text, bad.whole)
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
            window.match_indices(bad.text.as_str()).find(|(at, _)| {
                let before = window.as_bytes().get(at.wrapping_sub(1)).copied();
                let after = window.as_bytes().get(at + bad.text.len()).copied();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
            })
        })
        .map(|(at, _)| span.start + at);
    Some(match found {
        Some(at) => problem.at(at..at + bad.text.len(), "this number"),
        None => problem.at(span.clone(), "this entity"),
    })
}

/// Longest message rolegrid builds from an error that may quote the input.
const MAX_MESSAGE: usize = 1_000;

/// Cuts a message that quotes a huge piece of input (a 1 MB string, say)
/// down to [`MAX_MESSAGE`] bytes, saying how much was left out.
pub(crate) fn shorten(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut cut = MAX_MESSAGE;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    let left = message.len() - cut;
    format!(
        "{}… [{left} more bytes]",
        message.get(..cut).unwrap_or_default()
    )
}
