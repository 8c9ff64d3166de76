//! Parsing `.cedar` files into one policy set with stable ids and the place
//! each policy came from.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use crate::origin::PolicyOrigin;
use cedar_policy::{Policy, PolicyId, PolicySet, Template};
use std::collections::HashMap;
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

/// Policies parsed from files, with their origins.
#[derive(Debug, Default)]
pub(crate) struct ParsedPolicies {
    pub set: PolicySet,
    pub origins: HashMap<PolicyId, PolicyOrigin>,
    /// The deepest expression of the files parsed (an upper bound).
    pub depth: usize,
    next_positional: usize,
}

enum Item {
    Static(Policy),
    Template(Template),
}

impl ParsedPolicies {
    /// Nothing parsed yet; the next policy without an id from `@id` is
    /// `policy<position>`.
    pub fn counting_from(position: usize) -> Self {
        Self {
            next_positional: position,
            ..Self::default()
        }
    }

    /// The position the next policy would have: every policy of the files
    /// parsed so far counts, with `@id` or without.
    pub fn next_position(&self) -> usize {
        self.next_positional
    }

    /// Parses one file and adds its policies, reporting every problem found.
    pub fn add_file(&mut self, file: &SourceFile, ids: PolicyIds, limits: &Limits) -> Problems {
        let mut problems = Problems::new();
        let items = match parse_items(file, limits) {
            Ok((items, depth)) => {
                self.depth = self.depth.max(depth);
                items
            }
            Err(problems) => return problems,
        };
        let mut cursor = 0;
        for item in items {
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
                    let first_line = span.start..span.start + first_line_len(&text);
                    problems.push(missing_id(file, first_line));
                    continue;
                }
            };
            let policy = match item {
                Item::Static(policy) => policy,
                Item::Template(_) => {
                    problems.push(template(file, &id, span));
                    continue;
                }
            };
            let origin = PolicyOrigin {
                file: file.clone(),
                span,
            };
            if let Err(problem) = self.add(policy, PolicyId::new(id), origin) {
                problems.push(problem);
            }
        }
        problems
    }

    /// Adds one policy with its id, unless the id is taken.
    fn add(&mut self, policy: Policy, id: PolicyId, origin: PolicyOrigin) -> Result<(), Problem> {
        if let Some(first) = self.origins.get(&id) {
            return Err(duplicate_id(id.as_ref(), &origin, first));
        }
        if let Err(e) = self.set.add(policy.new_id(id.clone())) {
            return Err(Problem::from_diagnostic(
                ProblemKind::PolicySyntax,
                &e,
                Some(&origin.file),
            )
            .at(origin.span.clone(), "this policy"));
        }
        self.origins.insert(id, origin);
        Ok(())
    }
}

/// A file's policies and templates in the order written, or its problems
/// (nesting past the limits, or Cedar's syntax errors).
fn parse_items(file: &SourceFile, limits: &Limits) -> Result<(Vec<Item>, usize), Problems> {
    let depth = check_depth(file, Grammar::Policy, limits)?;
    let parsed = PolicySet::from_str(file.text()).map_err(|errors| {
        let mut problems = Problems::new();
        for error in errors.iter() {
            problems.push(Problem::from_diagnostic(
                ProblemKind::PolicySyntax,
                error,
                Some(file),
            ));
        }
        problems
    })?;
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
    Ok((items.into_iter().map(|(_, item)| item).collect(), depth))
}

/// A template: refused, since nothing in a store links it (a template that
/// loads and never applies would be a policy silently ignored).
fn template(file: &SourceFile, id: &str, span: std::ops::Range<usize>) -> Problem {
    Problem::new(
        ProblemKind::Template,
        format!("policy `{id}` is a template (it uses `?principal` or `?resource`): rolegrid links no templates, so it would never apply"),
    )
    .in_file(file)
    .at(span, "this template")
    .with_help("write the principal or resource out (`principal == User::\"alice\"`, `principal in Role::\"admin\"`)")
}

/// A policy without `@id` where ids come from it.
fn missing_id(file: &SourceFile, first_line: std::ops::Range<usize>) -> Problem {
    Problem::new(
        ProblemKind::MissingPolicyId,
        "policy has no `@id` annotation",
    )
    .in_file(file)
    .at(first_line, "this policy")
    .with_help("give every policy of a product a unique `@id(\"...\")`")
}

/// Two policies with one id: where the second is, pointing at the first.
pub(crate) fn duplicate_id(id: &str, again: &PolicyOrigin, first: &PolicyOrigin) -> Problem {
    let first_line = |o: &PolicyOrigin| {
        let text = o.file.text().get(o.span.clone()).unwrap_or_default();
        o.span.start..o.span.start + text.find('\n').unwrap_or(text.len())
    };
    Problem::new(
        ProblemKind::DuplicatePolicyId,
        format!("two policies have the id `{id}`"),
    )
    .in_file(&again.file)
    .at(first_line(again), "defined again here")
    .with_related(
        Problem::new(
            ProblemKind::DuplicatePolicyId,
            format!("`{id}` first defined here"),
        )
        .in_file(&first.file)
        .at(first_line(first), "first defined here"),
    )
    .with_help("policy ids must be unique within a product")
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

/// What a file is, for [`check_depth`]: the brackets and operators differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grammar {
    /// Cedar policies: brackets `(`, `[`, `{`; expressions with operators.
    Policy,
    /// A Cedar schema: brackets `(`, `[`, `{` and `<` (as in `Set<Long>`).
    Schema,
}

/// Operator tiers, loosest first: `||`, `&&` (and `when`/`unless` clauses,
/// which Cedar joins with `&&`), relations, `+ -`, `*`, `!`, `.`.
const TIERS: usize = 7;
const TIER_OR: usize = 0;
const TIER_AND: usize = 1;
const TIER_RELATION: usize = 2;
const TIER_ADD: usize = 3;
const TIER_MULTIPLY: usize = 4;
const TIER_UNARY: usize = 5;
const TIER_MEMBER: usize = 6;

/// One bracket level of an expression being scanned: a running upper bound
/// of the depth of the tree Cedar will build for it.
///
/// Cedar's binary operators are left-associative, so a chain of `n`
/// operators of one tier is `n` deep above its deepest operand; tighter
/// operators nest below looser ones. Per tier, `count` is the operators of
/// the current operand chain and `below` the deepest finished operand.
#[derive(Debug, Default, Clone)]
struct Level {
    count: [usize; TIERS],
    below: [usize; TIERS],
    /// `if`, `then`, `else` seen in this operand chain.
    conditionals: usize,
    /// The deepest chain already finished at this level (before a `,` or `;`).
    finished: usize,
}

impl Level {
    /// An operator of `tier`: the tighter chains before it are finished operands.
    fn operator(&mut self, tier: usize) {
        for upper in (tier + 1..TIERS).rev() {
            self.fold(upper);
        }
        if let Some(count) = self.count.get_mut(tier) {
            *count += 1;
        }
    }

    /// Ends the chain of `tier`, making it an operand of the next looser tier.
    fn fold(&mut self, tier: usize) {
        let value =
            self.count.get(tier).copied().unwrap_or(0) + self.below.get(tier).copied().unwrap_or(0);
        if let Some(below) = tier
            .checked_sub(1)
            .and_then(|lower| self.below.get_mut(lower))
        {
            *below = (*below).max(value);
        }
        if let Some(count) = self.count.get_mut(tier) {
            *count = 0;
        }
        if let Some(below) = self.below.get_mut(tier) {
            *below = 0;
        }
    }

    /// A finished bracketed operand (or literal) of depth `depth`.
    fn operand(&mut self, depth: usize) {
        if let Some(below) = self.below.get_mut(TIER_MEMBER) {
            *below = (*below).max(depth);
        }
    }

    /// Ends the current chain (at `,`, `;` or the closing bracket).
    fn end_chain(&mut self) {
        let value = self.current();
        *self = Level {
            finished: self.finished.max(value),
            ..Level::default()
        };
    }

    /// The exact bound of the current chain.
    fn current(&self) -> usize {
        let mut level = self.clone();
        for tier in (1..TIERS).rev() {
            level.fold(tier);
        }
        level.count.first().copied().unwrap_or(0)
            + level.below.first().copied().unwrap_or(0)
            + level.conditionals
    }

    /// A cheap bound, never below [`Level::current`] or `finished`: checked as the scan goes.
    fn bound(&self) -> usize {
        let chain = self.count.iter().sum::<usize>()
            + self.below.iter().copied().max().unwrap_or(0)
            + self.conditionals;
        chain.max(self.finished)
    }

    /// The level's depth once closed.
    fn value(&self) -> usize {
        self.current().max(self.finished)
    }
}

/// Rejects bracket nesting deeper than [`Limits::nesting`] and (for
/// policies) expressions deeper than [`Limits::expression_depth`], before
/// Cedar's recursive parser sees them; else gives the file's expression
/// depth (an upper bound; 0 for schemas). Strings and comments are skipped.
///
/// Expression depth is estimated from the text: brackets, plus the
/// operators of chains written without brackets, with Cedar's precedence
/// (so `a.b == 1 && c.d == 2 && …` counts about one level per `&&`). The
/// estimate is never below the depth of the tree Cedar builds.
///
/// Longer than most functions here on purpose: one pass of one state
/// machine over the text (strings, comments, brackets and operator tiers),
/// which reads best whole.
pub(crate) fn check_depth(
    file: &SourceFile,
    grammar: Grammar,
    limits: &Limits,
) -> Result<usize, Problem> {
    let mut deepest = 0;
    let max_nesting = limits.nesting();
    let max_depth = limits.expression_depth();
    let bytes = file.text().as_bytes();
    // one level per open bracket; `outer` holds, per open bracket, the bound of the levels around it
    let mut levels: Vec<Level> = vec![Level::default()];
    let mut outer: Vec<usize> = vec![0];
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        let mut step = 1;
        let mut tier = None;
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
                if let Some(level) = levels.last_mut() {
                    level.operand(0);
                }
            }
            b'/' if next == Some(b'/') => {
                while let Some(&c) = bytes.get(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                let depth = levels.len();
                if depth > max_nesting {
                    return Err(nesting_problem(file, grammar, i, depth, max_nesting));
                }
                let around =
                    outer.last().copied().unwrap_or(0) + levels.last().map_or(0, Level::bound) + 1;
                deepest = deepest.max(around);
                outer.push(around);
                levels.push(Level::default());
                if grammar == Grammar::Policy && around > max_depth {
                    return Err(depth_problem(file, i, around, max_depth));
                }
            }
            b'<' if grammar == Grammar::Schema => {
                let depth = levels.len();
                if depth > max_nesting {
                    return Err(nesting_problem(file, grammar, i, depth, max_nesting));
                }
                outer.push(0);
                levels.push(Level::default());
            }
            b')' | b']' | b'}' if levels.len() > 1 => {
                let value = levels.pop().map_or(0, |l| l.value());
                outer.pop();
                if let Some(level) = levels.last_mut() {
                    level.operand(value + 1);
                }
            }
            b'>' if grammar == Grammar::Schema && levels.len() > 1 => {
                levels.pop();
                outer.pop();
            }
            b',' | b';' => {
                if let Some(level) = levels.last_mut() {
                    level.end_chain();
                }
            }
            _ if grammar == Grammar::Schema => {}
            b'|' if next == Some(b'|') => (tier, step) = (Some(TIER_OR), 2),
            b'&' if next == Some(b'&') => (tier, step) = (Some(TIER_AND), 2),
            b'=' | b'!' | b'<' | b'>' if next == Some(b'=') => {
                (tier, step) = (Some(TIER_RELATION), 2)
            }
            b'<' | b'>' => tier = Some(TIER_RELATION),
            b'+' | b'-' => tier = Some(TIER_ADD),
            b'*' => tier = Some(TIER_MULTIPLY),
            b'!' => tier = Some(TIER_UNARY),
            b'.' => tier = Some(TIER_MEMBER),
            b':' if next == Some(b':') => step = 2,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = bytes
                    .get(i..)
                    .and_then(|rest| {
                        rest.iter()
                            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    })
                    .map_or(bytes.len(), |n| i + n);
                step = end - i;
                match bytes.get(i..end).unwrap_or_default() {
                    b"if" | b"then" | b"else" => {
                        if let Some(level) = levels.last_mut() {
                            level.conditionals += 1;
                        }
                    }
                    b"in" | b"has" | b"like" | b"is" => tier = Some(TIER_RELATION),
                    b"when" | b"unless" => tier = Some(TIER_AND),
                    _ => {}
                }
            }
            _ => {}
        }
        if let Some(tier) = tier
            && let Some(level) = levels.last_mut()
        {
            level.operator(tier);
        }
        if grammar == Grammar::Policy {
            let depth = outer.last().copied().unwrap_or(0) + levels.last().map_or(0, Level::bound);
            deepest = deepest.max(depth);
            if depth > max_depth {
                return Err(depth_problem(file, i, depth, max_depth));
            }
        }
        i += step;
    }
    Ok(deepest)
}

fn nesting_problem(
    file: &SourceFile,
    grammar: Grammar,
    at: usize,
    depth: usize,
    max: usize,
) -> Problem {
    let split = match grammar {
        Grammar::Policy => "split the expression",
        Grammar::Schema => "flatten the type",
    };
    Problem::new(
        ProblemKind::Limit,
        format!("brackets nest deeper than {max} levels"),
    )
    .in_file(file)
    .at(at..at + 1, format!("nesting level {depth} here"))
    .with_help(if max >= Limits::NESTING_CEILING {
        format!("{split}: {max} levels is the most rolegrid accepts")
    } else {
        format!("{split}, or raise the `max_nesting` limit (--max-nesting)")
    })
}

fn depth_problem(file: &SourceFile, at: usize, depth: usize, max: usize) -> Problem {
    let raise = if max >= Limits::EXPRESSION_DEPTH_CEILING {
        format!("{max} levels is the most rolegrid accepts")
    } else {
        "or raise the `max_expression_depth` limit (--max-expression-depth)".to_owned()
    };
    Problem::new(
        ProblemKind::Limit,
        format!("expression nests deeper than {max} levels"),
    )
    .in_file(file)
    .at(at..at + 1, format!("level {depth} here"))
    .with_help(format!(
        "a chain of operators (`a || b || …`, `1 + 1 + …`, `if … else if …`) is as deep as its length: \
         split the policy, or test a set instead (`principal in [...]`, `[...].contains(x)`); {raise}"
    ))
}
