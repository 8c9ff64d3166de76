//! The runner: asks a [`Decider`] for every request of a [`Suite`] and
//! compares the answers with the expectations.

use super::model::{Check, ReasonMatch, decision_name};
use super::suite::Suite;
use crate::answer::Answer;
use crate::snapshot::Snapshot;
use cedar_policy::{Decision, Entities, PolicyId, Request};
use std::fmt;
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

/// The outcomes of one item's checks, in order (fewer than its checks when a
/// fail-fast run stopped).
#[derive(Debug, Clone, Default)]
pub struct ItemOutcome {
    /// One per check run.
    pub checks: Vec<CheckOutcome>,
}

impl ItemOutcome {
    /// Whether every check run holds.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(CheckOutcome::passed)
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed()).count()
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
        self.items.iter().map(|i| i.checks.len()).sum()
    }

    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.items.iter().map(ItemOutcome::failed).sum()
    }

    /// How many checks held.
    pub fn passed(&self) -> usize {
        self.total() - self.failed()
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

/// Runs every check of `suite` through `decider`.
pub fn run(suite: &Suite, decider: &dyn Decider, options: &RunOptions) -> RunOutcome {
    let start = Instant::now();
    let check = |check: &Check| {
        let answer = decider.decide(check.request(), check.entities());
        let mismatches = compare(check, &answer, decider);
        CheckOutcome { answer, mismatches }
    };
    let items = if options.fail_fast {
        // in order, up to the first failure
        let mut items = Vec::with_capacity(suite.items.len());
        let mut stop = false;
        for item in &suite.items {
            let mut outcome = ItemOutcome::default();
            if !stop {
                for one in &item.checks {
                    let result = check(one);
                    let failed = !result.passed();
                    outcome.checks.push(result);
                    if failed {
                        stop = true;
                        break;
                    }
                }
            }
            items.push(outcome);
        }
        items
    } else {
        // every item on its own, on every core
        crate::parallel::par_map(
            &suite.items,
            |item| item.checks.len(),
            |item| ItemOutcome {
                checks: item.checks.iter().map(check).collect(),
            },
        )
    };
    RunOutcome {
        items,
        duration: start.elapsed(),
    }
}
