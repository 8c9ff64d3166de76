//! Parsing `.cedar` files into one policy set with stable ids and the place
//! each policy came from.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use cedar_policy::{Policy, PolicyId, PolicySet, Template};
use std::collections::HashMap;
use std::ops::Range;
use std::str::FromStr;

/// How policies get their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PolicyIds {
    /// Every policy must carry `@id("...")` (product mode).
    #[default]
    RequireAnnotation,
    /// `@id("...")` when present, else Cedar's positional id (`policy0`, ...),
    /// counted in file order across files, as Cedar's CLI does.
    AnnotationOrPositional,
    /// Always Cedar's positional id, ignoring `@id` (as `PolicySet::from_str`).
    Positional,
}

/// Where a policy was written.
#[derive(Debug, Clone)]
pub struct PolicyOrigin {
    /// The file.
    pub file: SourceFile,
    /// Byte range of the policy's text in the file.
    pub span: Range<usize>,
}

/// Policies parsed from files, with their origins.
#[derive(Debug, Default)]
pub(crate) struct ParsedPolicies {
    pub set: PolicySet,
    pub origins: HashMap<PolicyId, PolicyOrigin>,
    next_positional: usize,
}

enum Item {
    Static(Policy),
    Template(Template),
}

impl ParsedPolicies {
    /// Parses one file and adds its policies, reporting every problem found.
    pub fn add_file(&mut self, file: &SourceFile, ids: PolicyIds, limits: &Limits) -> Problems {
        let mut problems = Problems::new();
        if let Some(problem) = check_nesting(file, limits.max_nesting) {
            problems.push(problem);
            return problems;
        }
        let parsed = match PolicySet::from_str(file.text()) {
            Ok(set) => set,
            Err(errors) => {
                for error in errors.iter() {
                    problems.push(Problem::from_diagnostic(
                        ProblemKind::PolicySyntax,
                        error,
                        Some(file),
                    ));
                }
                return problems;
            }
        };
        let mut items: Vec<(usize, Item)> = parsed
            .policies()
            .map(|p| (positional_index(p.id()), Item::Static(p.clone())))
            .chain(
                parsed
                    .templates()
                    .map(|t| (positional_index(t.id()), Item::Template(t.clone()))),
            )
            .collect();
        items.sort_by_key(|(index, _)| *index);
        let mut cursor = 0;
        for (_, item) in items {
            let (text, annotation) = match &item {
                Item::Static(p) => (p.to_string(), p.annotation("id").map(str::to_owned)),
                Item::Template(t) => (t.to_string(), t.annotation("id").map(str::to_owned)),
            };
            let span = match file.text().get(cursor..).and_then(|rest| rest.find(&text)) {
                Some(start) => {
                    let start = cursor + start;
                    cursor = start + text.len();
                    start..start + text.len()
                }
                None => cursor..cursor,
            };
            let positional = format!("policy{}", self.next_positional);
            self.next_positional += 1;
            let id = match (ids, annotation) {
                (PolicyIds::Positional, _) => positional,
                (_, Some(id)) => id,
                (PolicyIds::AnnotationOrPositional, None) => positional,
                (PolicyIds::RequireAnnotation, None) => {
                    problems.push(
                        Problem::new(
                            ProblemKind::MissingPolicyId,
                            "policy has no `@id` annotation",
                        )
                        .in_file(file)
                        .at(
                            span.start..span.start + first_line_len(&text),
                            "this policy",
                        )
                        .with_help("give every policy of a product a unique `@id(\"...\")`"),
                    );
                    continue;
                }
            };
            let id = PolicyId::new(id);
            if let Some(first) = self.origins.get(&id) {
                problems.push(
                    Problem::new(
                        ProblemKind::DuplicatePolicyId,
                        format!("two policies have the id `{id}`"),
                    )
                    .in_file(file)
                    .at(
                        span.start..span.start + first_line_len(&text),
                        "defined again here",
                    )
                    .with_related(
                        Problem::new(
                            ProblemKind::DuplicatePolicyId,
                            format!("`{id}` first defined here"),
                        )
                        .in_file(&first.file)
                        .at(
                            first.span.start
                                ..first.span.start
                                    + first_line_len(
                                        first
                                            .file
                                            .text()
                                            .get(first.span.clone())
                                            .unwrap_or_default(),
                                    ),
                            "first defined here",
                        ),
                    )
                    .with_help("policy ids must be unique within a product"),
                );
                continue;
            }
            let added = match item {
                Item::Static(p) => self.set.add(p.new_id(id.clone())),
                Item::Template(t) => self.set.add_template(t.new_id(id.clone())),
            };
            if let Err(e) = added {
                problems.push(
                    Problem::from_diagnostic(ProblemKind::PolicySyntax, &e, Some(file))
                        .at(span.clone(), "this policy"),
                );
                continue;
            }
            self.origins.insert(
                id,
                PolicyOrigin {
                    file: file.clone(),
                    span,
                },
            );
        }
        problems
    }
}

fn positional_index(id: &PolicyId) -> usize {
    AsRef::<str>::as_ref(id)
        .strip_prefix("policy")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

fn first_line_len(text: &str) -> usize {
    text.find('\n').unwrap_or(text.len())
}

/// Rejects bracket nesting deeper than `max`, which would overflow the stack
/// of Cedar's recursive parser. Strings and comments are skipped.
pub(crate) fn check_nesting(file: &SourceFile, max: usize) -> Option<Problem> {
    let bytes = file.text().as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
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
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while let Some(&c) = bytes.get(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(
                        Problem::new(
                            ProblemKind::Limit,
                            format!("brackets nest deeper than {max} levels"),
                        )
                        .in_file(file)
                        .at(i..i + 1, format!("nesting level {depth} here"))
                        .with_help("split the expression, or raise the `max_nesting` limit"),
                    );
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
