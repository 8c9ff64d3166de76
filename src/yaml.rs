//! Reading YAML (and JSON, which is YAML) lists within rolegrid's limits,
//! keeping where each item starts; YAML errors as located problems.

mod plain;

use crate::diagnostics::{Problem, ProblemKind, SourceFile};
use crate::limits::Limits;
use serde_saphyr::Spanned;
use std::ops::Range;

/// YAML options: duplicate keys are errors, only `true`/`false` are
/// booleans, at most `max_yaml_nodes` nodes (each use
/// of an alias counts its whole content again) and `max_nesting` levels.
pub(crate) fn yaml_options_with(limits: &Limits) -> serde_saphyr::Options {
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
        && let Some(items) = plain::read_list(file.text(), budget)
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
            .with_help("flatten the data, or raise the limit (--max-nesting)"),
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
            "flatten the data, or raise the limit (--max-nesting)",
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

fn problem_labels(problem: &Problem) -> Vec<miette::LabeledSpan> {
    problem
        .spans()
        .map(|span| miette::LabeledSpan::new(Some("here".to_owned()), span.offset(), span.len()))
        .collect()
}
