//! Where the commands' output goes: their documents on stdout, problems as
//! miette reports on stderr (and, in machine formats, on stdout too). Every
//! problem a command returns is rendered here, by [`problems`].

use rolegrid::report;
use rolegrid::{Problem, ProblemKind, Problems, Renderer};
use std::io::{IsTerminal, Write};

/// Output formats of `authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Readable text.
    #[default]
    Human,
    /// JSON (one object per answer).
    Json,
}

/// How a command's problems are given besides the reports on stderr: in
/// the document its format promises on stdout, so a pipeline reading stdout
/// sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProblemsOut {
    /// Reports on stderr only.
    Stderr,
    /// Also as the JSON document of `check --format json`.
    Json,
    /// Also as that document on one line (`authorize --format json`, whose
    /// output is JSON Lines).
    JsonLine,
    /// Also as JUnit XML.
    Junit,
    /// Also as GitHub Actions annotations.
    Github,
}

/// Renders problems as miette reports on stderr (colours on a terminal).
pub(crate) fn report(problems: &Problems) {
    let renderer = Renderer::for_terminal(std::io::stderr().is_terminal());
    for problem in problems {
        eprint!("{}", renderer.render(problem));
    }
}

/// Renders the problems a command ended with: reports on stderr, and the
/// document `out` names on stdout.
pub(crate) fn problems(problems: &Problems, out: ProblemsOut) {
    report(problems);
    let text = match out {
        ProblemsOut::Stderr => return,
        ProblemsOut::Json => pretty(&report::json::problems(problems)),
        ProblemsOut::JsonLine => {
            let mut line =
                serde_json::to_string(&report::json::problems(problems)).unwrap_or_default();
            line.push('\n');
            line
        }
        ProblemsOut::Junit => report::junit::problems(problems).unwrap_or_default(),
        ProblemsOut::Github => report::github::problems(problems),
    };
    // stdout closed: the reports on stderr are all that can be given
    let _ = write_out(&text);
}

/// A JSON document, indented, with a final line end.
pub(crate) fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes a whole document to stdout and flushes it.
pub(crate) fn write_out(text: &str) -> Result<(), Problems> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| stdout_problem(&e))
}

/// stdout could not be written. When its reader has gone (a closed pipe)
/// there is nobody to tell: no problem is given, and the exit status is 2.
pub(crate) fn stdout_problem(e: &std::io::Error) -> Problems {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Problems::new();
    }
    Problem::new(
        ProblemKind::Internal,
        format!("cannot write to stdout: {e}"),
    )
    .into()
}
