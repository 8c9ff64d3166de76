//! Shared output helpers: formats and problem rendering.

use crate::diagnostics::{Problems, Renderer};
use std::io::IsTerminal;

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Readable text (the default).
    #[default]
    Human,
    /// Stable JSON.
    Json,
}

/// Renders problems on stderr as miette reports (plain unless stderr is a terminal).
pub(crate) fn report(problems: &Problems) {
    let renderer = Renderer::for_terminal(std::io::stderr().is_terminal());
    for problem in problems {
        eprint!("{}", renderer.render(problem));
    }
}
