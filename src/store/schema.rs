//! Reading a schema (`.cedarschema`, or Cedar's JSON format in
//! `.cedarschema.json`), within the limits: bracket nesting, the
//! depth of types once common types are expanded, and the size of the entity
//! type and action hierarchies (Cedar closes both transitively).

use crate::diagnostics::text::chain_text;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::graph::{HierarchyExcess, check_hierarchy, find_cycle, parents_first};
use crate::limits::Limits;
use crate::store::policies::{Grammar, check_depth};
use cedar_policy::{Schema, SchemaFragment};
use serde_json::Value;
use std::collections::HashMap;

/// Parses a schema in Cedar's human format; warnings come back as warning
/// problems. Before Cedar builds the schema, checks that brackets nest no
/// deeper than `max_nesting`, that no type nests deeper than that once common
/// types are expanded, and that the hierarchies of entity types and of
/// actions are within `max_hierarchy_depth` and `max_ancestor_links`.
pub(crate) fn parse_schema_with(
    file: &SourceFile,
    limits: &Limits,
) -> Result<(Schema, Problems), Problems> {
    let size = u64::try_from(file.text().len()).unwrap_or(u64::MAX);
    if size > limits.max_schema_bytes {
        return Err(Problem::new(
            ProblemKind::Limit,
            format!(
                "{} is {size} bytes, more than the limit of {} for a schema (`max_schema_bytes`)",
                file.path().display(),
                limits.max_schema_bytes
            ),
        )
        .with_help("Cedar's schema parser takes seconds per 100 KB: raise the limit (--max-schema-size) if the schema really is this large")
        .into());
    }
    // parse into a fragment (cheap), check its structure, then build the
    // schema from it (where Cedar's cost is): one parse, as `Schema::from_cedarschema_str`
    let mut problems = Problems::new();
    let fragment = if crate::files::is_json_schema(file.path()) {
        json_fragment(file)?
    } else {
        if let Err(problem) = check_depth(file, Grammar::Schema, limits) {
            return Err(problem.into());
        }
        let (fragment, warnings) = SchemaFragment::from_cedarschema_str(file.text())
            .map_err(|error| Problems::from(schema_problem(file, &error)))?;
        for warning in warnings {
            problems.push(
                Problem::from_diagnostic(ProblemKind::Schema, &warning, Some(file)).as_warning(),
            );
        }
        fragment
    };
    if let Ok(json) = fragment.clone().to_json_value()
        && let Some(problem) = check_fragment(file, &json, limits)
    {
        return Err(problem.into());
    }
    match Schema::from_schema_fragments([fragment]) {
        Ok(schema) => Ok((schema, problems)),
        Err(error) => Err(schema_problem(file, &error).into()),
    }
}

/// A schema in Cedar's JSON format: read strictly (a key named twice is an
/// error) with syntax errors at their line and column, then by Cedar.
fn json_fragment(file: &SourceFile) -> Result<SchemaFragment, Problems> {
    let value = crate::json::from_str(file.text()).map_err(|e| {
        let offset = file.offset_of(e.line(), e.column());
        Problems::from(
            Problem::new(ProblemKind::Schema, format!("invalid JSON schema: {e}"))
                .in_file(file)
                .at(offset..offset + 1, "here"),
        )
    })?;
    SchemaFragment::from_json_value(value)
        .map_err(|error| Problems::from(schema_problem(file, &error)))
}

/// The schema's text in Cedar's schema syntax (a JSON schema converted),
/// for what reads declarations in order.
pub(crate) fn cedar_syntax(file: &SourceFile) -> Option<String> {
    if !crate::files::is_json_schema(file.path()) {
        return Some(file.text().to_owned());
    }
    let value = crate::json::from_str(file.text()).ok()?;
    SchemaFragment::from_json_value(value)
        .ok()?
        .to_cedarschema()
        .ok()
}

fn schema_problem(file: &SourceFile, error: &dyn miette::Diagnostic) -> Problem {
    let problem = Problem::from_diagnostic(ProblemKind::Schema, error, Some(file));
    if problem.spans().next().is_none() {
        // semantic errors (e.g. an undeclared type) often carry no span: name the file at least
        problem.at(0..0, "in this schema")
    } else {
        problem
    }
}

/// The schema's JSON form, namespace by namespace.
fn namespaces(json: &Value) -> impl Iterator<Item = (&str, &serde_json::Map<String, Value>)> {
    json.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, body)| body.as_object().map(|b| (name.as_str(), b)))
}

fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}::{name}")
    }
}

/// A name as written in `namespace`, resolved as Cedar does: a declared name
/// of that namespace first, else as written (qualified, or in the empty namespace).
fn resolve(namespace: &str, name: &str, declared: &HashMap<String, usize>) -> String {
    if !name.contains("::") {
        let local = qualified(namespace, name);
        if declared.contains_key(&local) {
            return local;
        }
    }
    name.to_owned()
}

/// Checks the limits that need the schema's structure; the first problem found.
fn check_fragment(file: &SourceFile, json: &Value, limits: &Limits) -> Option<Problem> {
    check_type_depth(file, json, limits)
        .or_else(|| check_entity_types(file, json, limits))
        .or_else(|| check_actions(file, json, limits))
}

/// Interns names into indices, keeping the names.
#[derive(Default)]
struct Names {
    index: HashMap<String, usize>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: String) -> usize {
        let next = self.names.len();
        *self.index.entry(name.clone()).or_insert_with(|| {
            self.names.push(name);
            next
        })
    }

    fn name(&self, id: usize) -> String {
        self.names.get(id).cloned().unwrap_or_default()
    }
}

/// `entity A in [B, C]`: the entity types' hierarchy.
fn check_entity_types(file: &SourceFile, json: &Value, limits: &Limits) -> Option<Problem> {
    let mut names = Names::default();
    for (namespace, body) in namespaces(json) {
        for name in body
            .get("entityTypes")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|types| types.keys())
        {
            names.id(qualified(namespace, name));
        }
    }
    let declared = names.index.clone();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (namespace, body) in namespaces(json) {
        for (name, declaration) in body
            .get("entityTypes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let child = names.id(qualified(namespace, name));
            for parent in declaration
                .get("memberOfTypes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let parent = names.id(resolve(namespace, parent, &declared));
                edges.push((child, parent));
            }
        }
    }
    let excess = check_hierarchy(&adjacency(names.names.len(), &edges), limits).err()?;
    Some(hierarchy_problem(
        file,
        "entity types",
        &names,
        excess,
        limits,
        |name| {
            let short = name.rsplit("::").next().unwrap_or(name);
            format!("entity {short}")
        },
    ))
}

/// `action a in [b]`: the actions' hierarchy.
fn check_actions(file: &SourceFile, json: &Value, limits: &Limits) -> Option<Problem> {
    let mut names = Names::default();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for (namespace, body) in namespaces(json) {
        let action_type = qualified(namespace, "Action");
        for (id, declaration) in body
            .get("actions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let child = names.id(format!("{action_type}::{id:?}"));
            for parent in declaration
                .get("memberOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(parent_id) = parent.get("id").and_then(Value::as_str) else {
                    continue;
                };
                let parent_type = match parent.get("type").and_then(Value::as_str) {
                    None => action_type.clone(),
                    Some(t) if t.contains("::") => t.to_owned(),
                    Some(t) => qualified(namespace, t),
                };
                edges.push((child, names.id(format!("{parent_type}::{parent_id:?}"))));
            }
        }
    }
    let excess = check_hierarchy(&adjacency(names.names.len(), &edges), limits).err()?;
    Some(hierarchy_problem(
        file,
        "actions",
        &names,
        excess,
        limits,
        |name| {
            let id = name.rsplit("::").next().unwrap_or(name);
            format!("action {}", id.trim_matches('"'))
        },
    ))
}

fn adjacency(nodes: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut parents = vec![Vec::new(); nodes];
    for &(child, parent) in edges {
        if let Some(list) = parents.get_mut(child) {
            list.push(parent);
        }
    }
    parents
}

fn hierarchy_problem(
    file: &SourceFile,
    what: &str,
    names: &Names,
    excess: HierarchyExcess,
    limits: &Limits,
    declaration: impl Fn(&str) -> String,
) -> Problem {
    let (node, problem) = match excess {
        HierarchyExcess::Depth(chain) => {
            let chain_names: Vec<String> = chain.iter().map(|&i| names.name(i)).collect();
            (
                chain.first().copied().unwrap_or(0),
                Problem::new(
                    ProblemKind::Limit,
                    format!(
                        "the schema's {what} nest deeper than {} levels with `in` (limit `max_hierarchy_depth`): {}",
                        limits.max_hierarchy_depth,
                        chain_text(&chain_names)
                    ),
                ),
            )
        }
        HierarchyExcess::Links { node, own, total } => (
            node,
            Problem::new(
                ProblemKind::Limit,
                format!(
                    "the schema's {what} have more than {} ancestor links once closed (limit `max_ancestor_links`): \
                     {} reaches {own}, {total} links so far",
                    limits.max_ancestor_links,
                    names.name(node)
                ),
            ),
        ),
    };
    let name = names.name(node);
    point_at(file, problem, &declaration(&name))
        .with_help("Cedar computes every ancestor of every type and action when it builds the schema; raise the limit (--max-hierarchy-depth, --max-ancestor-links) if the schema really needs it")
}

/// Points a problem at the first place the schema's text has `needle`
/// (a declaration), else at the start of the file.
fn point_at(file: &SourceFile, problem: Problem, needle: &str) -> Problem {
    let text = file.text();
    let found = text.match_indices(needle).find(|(at, _)| {
        let after = text.as_bytes().get(at + needle.len()).copied();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
    });
    match found {
        Some((at, _)) => problem
            .in_file(file)
            .at(at..at + needle.len(), "declared here"),
        None => problem.in_file(file).at(0..0, "in this schema"),
    }
}

/// Types nest deeper than `max_nesting` once common types are expanded
/// (`type A = {a: B}; type B = {b: C}; …`): Cedar expands them recursively.
fn check_type_depth(file: &SourceFile, json: &Value, limits: &Limits) -> Option<Problem> {
    let max = limits.nesting();
    // each common type: the deepest nesting of its own text, and the common
    // types it names with the nesting at which it names them
    let mut names = Names::default();
    let mut declared_types: Vec<(String, &Value)> = Vec::new();
    for (namespace, body) in namespaces(json) {
        for (name, ty) in body
            .get("commonTypes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let full = qualified(namespace, name);
            names.id(full.clone());
            declared_types.push((namespace.to_owned(), ty));
        }
    }
    let declared = names.index.clone();
    let mut references: Vec<Vec<(usize, usize)>> = vec![Vec::new(); declared_types.len()];
    let mut own_depth: Vec<usize> = vec![0; declared_types.len()];
    for (i, (namespace, ty)) in declared_types.iter().enumerate() {
        let mut refs = Vec::new();
        let depth = walk_type(ty, namespace, &declared, 1, &mut refs);
        if let Some(slot) = own_depth.get_mut(i) {
            *slot = depth;
        }
        if let Some(slot) = references.get_mut(i) {
            *slot = refs;
        }
    }
    let parents: Vec<Vec<usize>> = references
        .iter()
        .map(|r| r.iter().map(|&(t, _)| t).collect())
        .collect();
    if let Some(cycle) = find_cycle(&parents) {
        let chain: Vec<String> = cycle.iter().map(|&i| names.name(i)).collect();
        let first = chain.first().cloned().unwrap_or_default();
        let short = first.rsplit("::").next().unwrap_or(&first).to_owned();
        let problem = Problem::new(
            ProblemKind::Schema,
            format!(
                "common types refer to each other in a cycle: {}",
                chain_text(&chain)
            ),
        )
        .with_help(
            "Cedar has no recursive types: break the cycle (an entity type can refer to itself)",
        );
        return Some(point_at(file, problem, &format!("type {short}")));
    }
    // expanded depth, iteratively (a chain of aliases can be long): a
    // reference at nesting n to a type of expanded depth d is n + d deep
    let order = parents_first(&parents);
    let mut expanded: Vec<usize> = own_depth.clone();
    for node in order {
        let mut depth = own_depth.get(node).copied().unwrap_or(0);
        for &(target, at) in references.get(node).into_iter().flatten() {
            depth = depth.max(at + expanded.get(target).copied().unwrap_or(0));
        }
        if let Some(slot) = expanded.get_mut(node) {
            *slot = depth;
        }
        if depth > max {
            let name = names.name(node);
            let short = name.rsplit("::").next().unwrap_or(&name).to_owned();
            let problem = Problem::new(
                ProblemKind::Limit,
                format!(
                    "type {name} nests deeper than {max} levels once the common types it names are expanded"
                ),
            )
            .with_help("Cedar expands common types where they are used: flatten the chain of `type` declarations, or raise the `max_nesting` limit (--max-nesting)");
            return Some(point_at(file, problem, &format!("type {short}")));
        }
    }
    None
}

/// The nesting depth of a JSON-schema type (a record or set is one level),
/// collecting the common types it names with the depth at which it names them.
/// Recursion is bounded by the bracket nesting already checked.
fn walk_type(
    ty: &Value,
    namespace: &str,
    declared: &HashMap<String, usize>,
    at: usize,
    refs: &mut Vec<(usize, usize)>,
) -> usize {
    let Some(object) = ty.as_object() else {
        return at;
    };
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "Record" => object
            .get("attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(_, attribute)| walk_type(attribute, namespace, declared, at + 1, refs))
            .max()
            .unwrap_or(at),
        "Set" => object.get("element").map_or(at, |element| {
            walk_type(element, namespace, declared, at + 1, refs)
        }),
        "Entity" | "Extension" | "Long" | "String" | "Boolean" => at,
        other => {
            // a named type: `EntityOrCommon` with `name`, or a common type by name
            let name = object.get("name").and_then(Value::as_str).unwrap_or(other);
            let full = resolve(namespace, name, declared);
            if let Some(&target) = declared.get(&full) {
                refs.push((target, at));
            }
            at
        }
    }
}
