//! Items: rows, cases and Cedar tests as written, with the requests each
//! stands for (listed, or planned and built as they are taken).

use super::model::Check;
use super::row::{RowChecks, RowPlan};
use crate::diagnostics::Location;
use std::borrow::Cow;
use std::ops::Range;

/// What an [`Item`] was written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ItemKind {
    /// A row of a `matrix:` list (expected decision per role).
    Row,
    /// An entry of a `cases:` list (one explicit request).
    Case,
    /// A test of a Cedar `*.test.json` file.
    CedarTest,
}

impl ItemKind {
    /// The stable kebab-case name: `row`, `case`, `cedar-test`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Row => "row",
            Self::Case => "case",
            Self::CedarTest => "cedar-test",
        }
    }
}

/// One matrix row, case or Cedar test as written, with the requests it stands for.
#[derive(Debug, Clone)]
pub struct Item {
    /// Row, case or Cedar test.
    pub kind: ItemKind,
    /// Where it was written (the start of the row, case or test).
    pub location: Location,
    /// The case's or test's name; for rows, a label such as `viewMedia on File`.
    pub name: String,
    /// The `source:` quote, if any.
    pub source: Option<String>,
    /// What may explain a failure of this item, shown only when it fails
    /// (a row of a file without `tenant:` in a fixture of several tenants).
    pub hint: Option<String>,
    /// The concrete requests and their expected answers.
    pub(super) requests: Requests,
}

/// An item's requests: listed (cases, Cedar tests) or planned (rows).
#[derive(Debug, Clone)]
pub(super) enum Requests {
    Listed(Vec<Check>),
    Row(Box<RowPlan>),
}

impl Item {
    /// How many concrete requests the item stands for.
    pub fn check_count(&self) -> usize {
        match &self.requests {
            Requests::Listed(checks) => checks.len(),
            Requests::Row(plan) => plan.len(),
        }
    }

    /// Its requests with their expected answers, in order. A row's requests
    /// are built as they are taken (a row of a million requests holds none
    /// of them); each was validated against the schema when the row loaded,
    /// so an `Err` (a request that could not be built) does not occur for a
    /// suite that loaded, and is reported rather than skipped if it does.
    pub fn checks(&self) -> ItemChecks<'_> {
        self.checks_in(0..self.check_count())
    }

    /// The requests numbered `range` (see [`Item::checks`]).
    pub(crate) fn checks_in(&self, range: Range<usize>) -> ItemChecks<'_> {
        match &self.requests {
            Requests::Listed(checks) => {
                let end = range.end.min(checks.len());
                let start = range.start.min(end);
                ItemChecks(Listed(checks.get(start..end).unwrap_or_default().iter()))
            }
            Requests::Row(plan) => ItemChecks(Planned(plan.checks(range))),
        }
    }
}

/// The requests of an [`Item`], in order (see [`Item::checks`]).
#[derive(Debug, Clone)]
pub struct ItemChecks<'a>(Taken<'a>);

#[derive(Debug, Clone)]
enum Taken<'a> {
    Listed(std::slice::Iter<'a, Check>),
    Planned(RowChecks<'a>),
}
use Taken::{Listed, Planned};

impl<'a> Iterator for ItemChecks<'a> {
    type Item = Result<Cow<'a, Check>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Listed(checks) => checks.next().map(|c| Ok(Cow::Borrowed(c))),
            Planned(checks) => checks.next().map(|c| c.map(Cow::Owned)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            Listed(checks) => checks.size_hint(),
            Planned(checks) => checks.size_hint(),
        }
    }
}
