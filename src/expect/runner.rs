//! The runner: asks a [`Decider`] for every request of a [`Suite`] and
//! compares the answers with the expectations.

use super::item::Item;
use super::model::{Check, ReasonMatch, decision_name};
use super::suite::Suite;
use crate::answer::Answer;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::snapshot::Snapshot;
use cedar_policy::{Decision, Entities, EntityTypeName, EntityUid, PolicyId, Request};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

/// What the runner asks for decisions: the same call services make.
///
/// [`Snapshot`] implements it with [`Snapshot::authorize`] (or
/// [`Snapshot::authorize_with`] when a check brings its own entities); tests
/// and other engines can implement it too.
pub trait Decider: Sync {
    /// Decides `request` against `entities`, or against the decider's own
    /// entities when `None`.
    fn decide(&self, request: &Request, entities: Option<&Entities>) -> Answer;

    /// Whether a policy of this id exists (expected reasons naming no policy
    /// are reported as such). Defaults to `true`.
    fn has_policy(&self, id: &str) -> bool {
        let _ = id;
        true
    }
}

impl Decider for Snapshot {
    fn decide(&self, request: &Request, entities: Option<&Entities>) -> Answer {
        match entities {
            Some(entities) => self.authorize_with(request, entities),
            None => self.authorize(request),
        }
    }

    fn has_policy(&self, id: &str) -> bool {
        let id = PolicyId::new(id);
        self.policies().policy(&id).is_some() || self.policies().template(&id).is_some()
    }
}

/// How to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Stop at the first failing check (the rest are not run).
    pub fail_fast: bool,
}

/// One way an answer differs from its expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The decision differs.
    Decision {
        /// Expected decision.
        expected: Decision,
        /// Cedar's decision.
        actual: Decision,
    },
    /// The determining policies differ.
    Reasons {
        /// Expected policy ids.
        expected: Vec<String>,
        /// Cedar's determining policies.
        actual: Vec<String>,
        /// Exact set or subset.
        matching: ReasonMatch,
        /// Expected ids that name no policy of the product.
        unknown: Vec<String>,
    },
    /// The number of evaluation errors differs.
    Errors {
        /// Expected count.
        expected: usize,
        /// Cedar's count.
        actual: usize,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decision { expected, actual } => write!(
                f,
                "expected {}, got {}",
                decision_name(*expected),
                decision_name(*actual)
            ),
            Self::Reasons {
                expected,
                actual,
                matching,
                unknown,
            } => {
                let list = |ids: &[String]| {
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        ids.join(", ")
                    }
                };
                match matching {
                    ReasonMatch::Exact => write!(
                        f,
                        "expected determining policies [{}], got [{}]",
                        list(expected),
                        list(actual)
                    )?,
                    ReasonMatch::Subset => write!(
                        f,
                        "expected determining policies to include [{}], got [{}]",
                        list(expected),
                        list(actual)
                    )?,
                }
                if !unknown.is_empty() {
                    write!(f, " (no policy is named {})", unknown.join(", "))?;
                }
                Ok(())
            }
            Self::Errors { expected, actual } => {
                write!(f, "expected {expected} evaluation error(s), got {actual}")
            }
        }
    }
}

/// The answer to one check and how it differs from the expectation.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// Cedar's answer.
    pub answer: Answer,
    /// Empty when the expectation holds.
    pub mismatches: Vec<Mismatch>,
}

impl CheckOutcome {
    /// Whether the expectation holds.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A failing check with its outcome.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The request and its expectation.
    pub check: Check,
    /// Cedar's answer and the mismatches.
    pub outcome: CheckOutcome,
}

/// How many failing checks an [`ItemOutcome`] keeps (the first ones, in order).
pub const KEPT_FAILURES: usize = 10;

/// What the answers of one (role, action, resource type) cell gave, counting
/// the checks asked as exactly one role inside one tenant (or with no tenants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellCount {
    /// The role.
    pub role: String,
    /// The action.
    pub action: EntityUid,
    /// The resource type.
    pub resource_type: EntityTypeName,
    /// Answers that allowed.
    pub allowed: usize,
    /// Answers that denied.
    pub denied: usize,
}

/// What a run's answers exercised, kept as counts rather than answers.
#[derive(Debug, Clone, Default)]
pub struct Exercised {
    /// Per cell, the decisions given.
    pub cells: Vec<CellCount>,
    /// Per policy id, the answers it determined.
    pub determined: HashMap<String, usize>,
    /// Per policy id, the answers in which it failed to evaluate.
    pub erred: HashMap<String, usize>,
}

impl Exercised {
    /// Counts one answer to `check`.
    fn count(&mut self, check: &Check, answer: &Answer) {
        for reason in answer.reasons() {
            bump(&mut self.determined, reason.as_ref());
        }
        for error in answer.errors() {
            bump(&mut self.erred, &error.policy);
        }
        let (Some(role), [_]) = (&check.role, check.roles.as_slice()) else {
            return;
        };
        if check.same_tenant == Some(false) {
            return;
        }
        let resource_type = check.resource.type_name();
        let cell = match self.cells.iter_mut().position(|c| {
            c.role == *role && c.action == check.action && c.resource_type == *resource_type
        }) {
            Some(at) => self.cells.get_mut(at),
            None => {
                self.cells.push(CellCount {
                    role: role.clone(),
                    action: check.action.clone(),
                    resource_type: resource_type.clone(),
                    allowed: 0,
                    denied: 0,
                });
                self.cells.last_mut()
            }
        };
        if let Some(cell) = cell {
            match answer.decision() {
                Decision::Allow => cell.allowed += 1,
                Decision::Deny => cell.denied += 1,
            }
        }
    }

    /// Adds another count to this one.
    fn merge(&mut self, other: Self) {
        for (id, n) in other.determined {
            *self.determined.entry(id).or_default() += n;
        }
        for (id, n) in other.erred {
            *self.erred.entry(id).or_default() += n;
        }
        for cell in other.cells {
            match self.cells.iter_mut().find(|c| {
                c.role == cell.role
                    && c.action == cell.action
                    && c.resource_type == cell.resource_type
            }) {
                Some(mine) => {
                    mine.allowed += cell.allowed;
                    mine.denied += cell.denied;
                }
                None => self.cells.push(cell),
            }
        }
    }
}

/// Adds one to the count of `id`, allocating only for a new id.
fn bump(counts: &mut HashMap<String, usize>, id: &str) {
    match counts.get_mut(id) {
        Some(n) => *n += 1,
        None => {
            counts.insert(id.to_owned(), 1);
        }
    }
}

/// The outcome of one item's checks: counts, the first failures, and what
/// the answers exercised. Memory does not grow with the item's checks.
#[derive(Debug, Clone, Default)]
pub struct ItemOutcome {
    /// How many checks ran (fewer than the item's when a fail-fast run stopped).
    pub run: usize,
    /// How many of them failed.
    pub failed: usize,
    /// The first [`KEPT_FAILURES`] failing checks, in order.
    pub failures: Vec<Failed>,
    /// What the answers exercised.
    pub exercised: Exercised,
}

impl ItemOutcome {
    /// Whether every check run holds.
    pub fn passed(&self) -> bool {
        self.failed == 0
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Counts one outcome.
    fn count(&mut self, check: Cow<'_, Check>, outcome: CheckOutcome) {
        self.run += 1;
        self.exercised.count(&check, &outcome.answer);
        if outcome.passed() {
            return;
        }
        self.failed += 1;
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(Failed {
                check: check.into_owned(),
                outcome,
            });
        }
    }

    /// Adds the outcome of the item's next checks.
    fn merge(&mut self, later: Self) {
        self.run += later.run;
        self.failed += later.failed;
        let room = KEPT_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(later.failures.into_iter().take(room));
        self.exercised.merge(later.exercised);
    }
}

/// The outcome of a run: one [`ItemOutcome`] per item of the suite, in order.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Parallel to [`Suite::items`].
    pub items: Vec<ItemOutcome>,
    /// How long the run took.
    pub duration: Duration,
}

impl RunOutcome {
    /// How many checks ran.
    pub fn total(&self) -> usize {
        self.items.iter().map(|i| i.run).sum()
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.items.iter().map(ItemOutcome::failed).sum()
    }

    /// How many checks held.
    pub fn passed(&self) -> usize {
        self.total() - self.failed()
    }

    /// What every answer exercised, all items together.
    pub fn exercised(&self) -> Exercised {
        let mut all = Exercised::default();
        for item in &self.items {
            all.merge(item.exercised.clone());
        }
        all
    }
}

/// Compares one answer with its check's expectation.
fn compare(check: &Check, answer: &Answer, decider: &dyn Decider) -> Vec<Mismatch> {
    let expected = &check.expected;
    if answer.decision() != expected.decision {
        return vec![Mismatch::Decision {
            expected: expected.decision,
            actual: answer.decision(),
        }];
    }
    let mut mismatches = Vec::new();
    if let Some(reasons) = &expected.reasons {
        let actual: Vec<String> = answer.reasons().iter().map(ToString::to_string).collect();
        let holds = match expected.reason_match {
            ReasonMatch::Exact => *reasons == actual,
            ReasonMatch::Subset => reasons.iter().all(|r| actual.contains(r)),
        };
        if !holds {
            mismatches.push(Mismatch::Reasons {
                unknown: reasons
                    .iter()
                    .filter(|r| !decider.has_policy(r))
                    .cloned()
                    .collect(),
                expected: reasons.clone(),
                actual,
                matching: expected.reason_match,
            });
        }
    }
    if let Some(errors) = expected.errors
        && answer.errors().len() != errors
    {
        mismatches.push(Mismatch::Errors {
            expected: errors,
            actual: answer.errors().len(),
        });
    }
    mismatches
}

/// Checks run as one task: a long row is split so that every core shares it.
const PIECE: usize = 8192;

/// Runs every check of `suite` through `decider`. Memory stays bounded by
/// the suite's size as written: rows' requests are built as they run and
/// only counts and the first failures of each item are kept.
///
/// A request that could not be built (which a loaded suite does not hold)
/// is an error, never a skipped check.
pub fn run(
    suite: &Suite,
    decider: &dyn Decider,
    options: &RunOptions,
) -> Result<RunOutcome, Problems> {
    let start = Instant::now();
    let items = if options.fail_fast {
        run_until_failure(suite, decider)?
    } else {
        run_all(suite, decider)?
    };
    Ok(RunOutcome {
        items,
        duration: start.elapsed(),
    })
}

/// Every item in order, up to the first failing check.
fn run_until_failure(suite: &Suite, decider: &dyn Decider) -> Result<Vec<ItemOutcome>, Problems> {
    let mut items = Vec::with_capacity(suite.items.len());
    let mut failed = false;
    for item in &suite.items {
        let outcome = if failed {
            ItemOutcome::default()
        } else {
            run_piece(item, 0..item.check_count(), decider, true)?
        };
        failed |= !outcome.passed();
        items.push(outcome);
    }
    Ok(items)
}

/// Every item, in pieces of at most [`PIECE`] checks on every core, put
/// back together in order.
fn run_all(suite: &Suite, decider: &dyn Decider) -> Result<Vec<ItemOutcome>, Problems> {
    let pieces: Vec<(usize, Range<usize>)> = suite
        .items
        .iter()
        .enumerate()
        .flat_map(|(index, item)| {
            let count = item.check_count();
            (0..count)
                .step_by(PIECE)
                .map(move |start| (index, start..count.min(start + PIECE)))
        })
        .collect();
    let outcomes = crate::parallel::par_map(
        &pieces,
        |(_, range)| range.len(),
        |(index, range)| match suite.items.get(*index) {
            Some(item) => run_piece(item, range.clone(), decider, false),
            None => Ok(ItemOutcome::default()),
        },
    );
    let mut items = vec![ItemOutcome::default(); suite.items.len()];
    let mut problems = Problems::new();
    for ((index, _), outcome) in pieces.iter().zip(outcomes) {
        match (items.get_mut(*index), outcome) {
            (Some(item), Ok(piece)) => item.merge(piece),
            (_, Err(problem)) => problems.push(problem),
            (None, Ok(_)) => {}
        }
    }
    problems.into_result(items)
}

/// Checks `range` of one item; with `stop_at_failure`, up to its first failure.
fn run_piece(
    item: &Item,
    range: Range<usize>,
    decider: &dyn Decider,
    stop_at_failure: bool,
) -> Result<ItemOutcome, Problem> {
    let mut outcome = ItemOutcome::default();
    for check in item.checks_in(range) {
        let check = check.map_err(|why| unbuilt(item, &why))?;
        let answer = decider.decide(check.request(), check.entities());
        let mismatches = compare(&check, &answer, decider);
        outcome.count(check, CheckOutcome { answer, mismatches });
        if stop_at_failure && !outcome.passed() {
            break;
        }
    }
    Ok(outcome)
}

/// A request of `item` that could not be built.
fn unbuilt(item: &Item, why: &str) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        format!(
            "{}: {} `{}`: a request could not be built: {why}",
            item.location,
            item.kind.code(),
            item.name
        ),
    )
}
