//! Problems found in user input, with the file, line and column they point at.
//!
//! Every error rolegrid reports about a store, a request or an expectation file
//! is a [`Problem`]: a typed [`ProblemKind`], a message, and (where there is
//! one) the source file and the spans that show the offending text. Problems
//! render as miette reports; [`Problems`] gathers several of them so that one
//! load reports everything wrong at once.

pub(crate) mod text;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode, SourceSpan};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A file that was read, kept so problems can point into it.
///
/// ```
/// let file = rolegrid::SourceFile::new("p.cedar", "permit(principal, action, resource);");
/// assert_eq!(file.line_col(8), (1, 9));
/// ```
#[derive(Clone)]
pub struct SourceFile {
    path: Arc<Path>,
    text: Arc<str>,
    /// Where each line starts, found on first use (a large file with many
    /// located items would otherwise be scanned from the top for each).
    line_starts: Arc<OnceLock<Vec<usize>>>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("path", &self.path)
            .finish()
    }
}

impl SourceFile {
    /// Wraps a file's path and text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: Arc::from(path.into()),
            text: text.into(),
            line_starts: Arc::default(),
        }
    }

    /// The path the file was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        if !self.text.is_char_boundary(offset) {
            return line_col(&self.text, offset);
        }
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        // the lines that start at or before the offset: the last is its line
        let line = starts.partition_point(|&start| start <= offset);
        let start = starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line.max(1), column)
    }

    /// Byte offset of a 1-based line and column (in characters), clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let mut offset = 0;
        for (index, l) in self.text.split_inclusive('\n').enumerate() {
            if index + 1 == line {
                let col = l
                    .char_indices()
                    .nth(column.saturating_sub(1))
                    .map_or(l.trim_end_matches('\n').len(), |(i, _)| i);
                return offset + col;
            }
            offset += l.len();
        }
        self.text.len()
    }

    fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.path.display().to_string(), Arc::clone(&self.text))
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Longest source line a report shows; longer lines are named by location only.
const MAX_SNIPPET_LINE: usize = 400;

/// What kind of problem a [`Problem`] is. Stable: JSON output carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// A file or folder could not be read.
    Io,
    /// The store has no product of that name.
    UnknownProduct,
    /// A folder the store layout requires is missing.
    MissingFolder,
    /// A product folder (`policies/<p>/`) has no schema (`schemas/<p>.cedarschema`).
    MissingSchema,
    /// A file in a product folder whose name says nothing rolegrid knows.
    UnknownFile,
    /// A file exceeds a configured limit (size, nesting, count).
    Limit,
    /// A `.cedar` file does not parse.
    PolicySyntax,
    /// A policy template (`?principal`, `?resource`): rolegrid links none,
    /// so it would never apply.
    Template,
    /// A policy has no `@id` annotation where one is required.
    MissingPolicyId,
    /// Two policies of one product share an id.
    DuplicatePolicyId,
    /// A policy does not validate against the schema.
    PolicyValidation,
    /// The validator warns about a policy.
    ValidationWarning,
    /// A `.cedarschema` file does not parse or is not a valid schema.
    Schema,
    /// A YAML or JSON file does not parse.
    Syntax,
    /// An entity is malformed or does not fit the schema.
    Entity,
    /// Two entities share a uid.
    DuplicateEntity,
    /// The entity hierarchy has a cycle.
    HierarchyCycle,
    /// A request is malformed or does not fit the schema.
    Request,
    /// An expectation file is malformed.
    Expectation,
    /// The store does not give the matrix what it needs (a schema, a role
    /// type, roles, users holding them).
    Matrix,
    /// The command line asks for something it cannot do (a missing or
    /// conflicting argument).
    Usage,
    /// rolegrid itself failed (a worker stopped, output could not be
    /// written): not the input's fault.
    Internal,
}

impl ProblemKind {
    /// The stable kebab-case code of this kind, e.g. `policy-syntax`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Io => "io",
            Self::UnknownProduct => "unknown-product",
            Self::MissingFolder => "missing-folder",
            Self::MissingSchema => "missing-schema",
            Self::UnknownFile => "unknown-file",
            Self::Limit => "limit",
            Self::PolicySyntax => "policy-syntax",
            Self::Template => "template",
            Self::MissingPolicyId => "missing-policy-id",
            Self::DuplicatePolicyId => "duplicate-policy-id",
            Self::PolicyValidation => "policy-validation",
            Self::ValidationWarning => "validation-warning",
            Self::Schema => "schema",
            Self::Syntax => "syntax",
            Self::Entity => "entity",
            Self::DuplicateEntity => "duplicate-entity",
            Self::HierarchyCycle => "hierarchy-cycle",
            Self::Request => "request",
            Self::Expectation => "expectation",
            Self::Matrix => "matrix",
            Self::Usage => "usage",
            Self::Internal => "internal",
        }
    }
}

/// A place in a file: byte span plus the 1-based line and column of its start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The file's path as given to rolegrid.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One problem in user input, rendered as a miette report.
///
/// ```
/// use rolegrid::{Problem, ProblemKind, SourceFile};
/// let file = SourceFile::new("fixture.entities.yaml", "- uid: x\n");
/// let p = Problem::new(ProblemKind::Entity, "bad uid").in_file(&file).at(2..8, "here");
/// assert_eq!(p.location().map(|l| (l.line, l.column)), Some((1, 3)));
/// ```
#[derive(Debug, Clone)]
pub struct Problem(Box<Inner>);

/// The fields of a [`Problem`], boxed so that `Result<_, Problem>` stays small.
#[derive(Debug, Clone)]
struct Inner {
    kind: ProblemKind,
    message: String,
    file: Option<SourceFile>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    severity: Severity,
    related: Vec<Problem>,
}

impl Problem {
    /// A problem of `kind` with a message and nothing to point at yet.
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
            severity: Severity::Error,
            related: Vec::new(),
        }))
    }

    /// Names the file the problem is in.
    #[must_use]
    pub fn in_file(mut self, file: &SourceFile) -> Self {
        self.0.file = Some(file.clone());
        self
    }

    /// Points at a byte range of the file with a short label.
    #[must_use]
    pub fn at(mut self, span: std::ops::Range<usize>, label: impl Into<String>) -> Self {
        let len = span.end.saturating_sub(span.start);
        self.0
            .labels
            .push(LabeledSpan::new(Some(label.into()), span.start, len));
        self
    }

    /// Points at spans taken from another diagnostic (e.g. one of Cedar's).
    #[must_use]
    pub fn with_labels(mut self, labels: impl IntoIterator<Item = LabeledSpan>) -> Self {
        self.0.labels.extend(labels);
        self
    }

    /// Adds a hint on how to fix the problem.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }

    /// Adds a related problem (e.g. the other place of a duplicate).
    #[must_use]
    pub fn with_related(mut self, other: Problem) -> Self {
        self.0.related.push(other);
        self
    }

    /// The same problem with another message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }

    /// Marks the problem as a warning.
    #[must_use]
    pub fn as_warning(mut self) -> Self {
        self.0.severity = Severity::Warning;
        self
    }

    /// Builds a problem from any miette diagnostic (Cedar's errors are),
    /// keeping its message, help and labels, in `file` when given.
    pub fn from_diagnostic(
        kind: ProblemKind,
        diagnostic: &dyn Diagnostic,
        file: Option<&SourceFile>,
    ) -> Self {
        let mut problem = Self::new(kind, diagnostic.to_string());
        if let Some(file) = file {
            problem = problem.in_file(file);
        }
        if let Some(labels) = diagnostic.labels() {
            problem.0.labels.extend(labels);
        }
        if let Some(help) = diagnostic.help() {
            problem.0.help = Some(help.to_string());
        }
        problem
    }

    /// The kind of problem.
    pub fn kind(&self) -> ProblemKind {
        self.0.kind
    }

    /// The message, without location.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The help text, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// Related problems (other places).
    pub fn related_problems(&self) -> &[Problem] {
        &self.0.related
    }

    /// Whether this is a warning rather than an error.
    pub fn is_warning(&self) -> bool {
        self.0.severity == Severity::Warning
    }

    /// The file, if the problem is in one.
    pub fn file(&self) -> Option<&SourceFile> {
        self.0.file.as_ref()
    }

    /// Where the problem is: its file and the line and column of its first label.
    pub fn location(&self) -> Option<Location> {
        let file = self.0.file.as_ref()?;
        let offset = self.0.labels.first().map_or(0, |l| l.offset());
        let (line, column) = file.line_col(offset);
        Some(Location {
            file: file.path().to_path_buf(),
            line,
            column,
        })
    }

    /// Whether a labelled line is longer than a report can usefully show.
    fn has_long_line(&self) -> bool {
        let Some(file) = &self.0.file else {
            return false;
        };
        let text = file.text();
        self.0.labels.iter().any(|label| {
            let offset = label.offset().min(text.len());
            let start = text
                .get(..offset)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            let end = text
                .get(offset..)
                .and_then(|t| t.find('\n'))
                .map_or(text.len(), |i| offset + i);
            end - start > MAX_SNIPPET_LINE
        }) || self.0.related.iter().any(Problem::has_long_line)
    }

    /// The same problem with its location in the message instead of a source snippet.
    fn without_snippet(&self) -> Problem {
        let mut problem = self.clone();
        if let Some(location) = self.location() {
            problem.0.message = format!("{location}: {}", self.0.message);
            problem.0.file = None;
        }
        problem.0.labels.clear();
        problem.0.related = self
            .0
            .related
            .iter()
            .map(Problem::without_snippet)
            .collect();
        problem
    }

    /// The byte spans this problem points at.
    pub fn spans(&self) -> impl Iterator<Item = SourceSpan> + '_ {
        self.0.labels.iter().map(|l| *l.inner())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.file, self.0.labels.is_empty()) {
            (Some(file), true) => write!(f, "{}: {}", file.path().display(), self.0.message),
            _ => f.write_str(&self.0.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("rolegrid::{}", self.0.kind.code())))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.0.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.0.labels.is_empty() {
            return None;
        }
        self.0.file.as_ref().map(|f| &f.text as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.0.labels.is_empty() || self.0.file.is_none() {
            return None;
        }
        Some(Box::new(self.0.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.0.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.0.related.iter().map(|p| p as &dyn Diagnostic),
        ))
    }
}

/// A problem with its file as a miette `NamedSource`, so reports name the file
/// in their header (`╭─[path:line:col]`).
pub(crate) struct NamedProblem {
    problem: Problem,
    source: Option<NamedSource<Arc<str>>>,
    related: Vec<NamedProblem>,
}

impl NamedProblem {
    pub(crate) fn new(problem: &Problem) -> Self {
        Self {
            source: problem.0.file.as_ref().map(SourceFile::named),
            related: problem.0.related.iter().map(NamedProblem::new).collect(),
            problem: problem.clone(),
        }
    }
}

impl fmt::Debug for NamedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.problem, f)
    }
}
impl fmt::Display for NamedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.problem, f)
    }
}
impl std::error::Error for NamedProblem {}
impl Diagnostic for NamedProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.problem.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem.help()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.problem.0.labels.is_empty() {
            return None;
        }
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.problem.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Several problems found by one operation (a load reports all it finds).
#[derive(Debug, Clone, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a problem.
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// Whether any is an error (not a warning).
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|p| !p.is_warning())
    }

    /// `Ok(value)` when empty, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Problem> for Problems {
    fn from(problem: Problem) -> Self {
        Self(vec![problem])
    }
}

impl Extend<Problem> for Problems {
    fn extend<I: IntoIterator<Item = Problem>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Problems {
    type Item = &'a Problem;
    type IntoIter = std::slice::Iter<'a, Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => fmt::Display::fmt(one, f),
            many => write!(f, "{} problems", many.len()),
        }
    }
}

impl std::error::Error for Problems {}

/// Several problems as one miette diagnostic: each problem is a related
/// diagnostic, so `miette::Report::new(problems)` shows them all.
impl Diagnostic for Problems {
    fn severity(&self) -> Option<Severity> {
        (!self.has_errors()).then_some(Severity::Warning)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.0.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// Renders problems as miette reports, plain (no colour) or fancy.
///
/// ```
/// use rolegrid::{Problem, ProblemKind, Renderer};
/// let text = Renderer::plain().render(&Problem::new(ProblemKind::UnknownProduct, "no product `x`"));
/// assert!(text.contains("no product `x`"));
/// ```
#[derive(Debug, Clone)]
pub struct Renderer {
    handler: miette::GraphicalReportHandler,
}

impl Renderer {
    /// Unicode, no colour, 100 columns: stable output for files, pipes and tests.
    pub fn plain() -> Self {
        Self {
            handler: miette::GraphicalReportHandler::new_themed(
                miette::GraphicalTheme::unicode_nocolor(),
            )
            .with_width(100)
            .with_links(false),
        }
    }

    /// Colours for a terminal.
    pub fn fancy() -> Self {
        Self {
            handler: miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
                .with_width(100)
                .with_links(false),
        }
    }

    /// Plain unless `NO_COLOR` is unset and `is_terminal` is true.
    pub fn for_terminal(is_terminal: bool) -> Self {
        if is_terminal && std::env::var_os("NO_COLOR").is_none() {
            Self::fancy()
        } else {
            Self::plain()
        }
    }

    /// One problem as a report. Where the offending line is too long to show
    /// (minified or generated files), the report gives its location instead.
    pub fn render(&self, problem: &Problem) -> String {
        let shortened;
        let problem = if problem.has_long_line() {
            shortened = problem.without_snippet();
            &shortened
        } else {
            problem
        };
        let named = NamedProblem::new(problem);
        let mut out = String::new();
        if self.handler.render_report(&mut out, &named).is_err() {
            out = problem.to_string();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_with_the_line_index_equals_the_scan_from_the_top() {
        let text = "é\r\nline two\n\n  — third: ünï\nlast without newline";
        let file = SourceFile::new("f.yaml", text);
        for offset in (0..=text.len() + 2).filter(|&o| o > text.len() || text.is_char_boundary(o)) {
            assert_eq!(
                file.line_col(offset),
                line_col(text, offset),
                "offset {offset}"
            );
        }
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(SourceFile::new("e", "").line_col(3), (1, 1));
    }
}
