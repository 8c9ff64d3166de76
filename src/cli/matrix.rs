//! `rolegrid matrix`: the effective role × action table of a product,
//! computed from its policies.

use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, write_out};
use super::store_arg::StoreArg;
use rolegrid::Store;
use rolegrid::matrix::Matrix;
use std::io::IsTerminal;

/// Output format of `rolegrid matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum MatrixFormat {
    /// Terminal tables (the default).
    #[default]
    Human,
    /// Markdown tables, fit to paste into documentation.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// Stable JSON.
    Json,
}

/// Arguments of `rolegrid matrix`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The product whose matrix to compute.
    #[arg(long, short, value_name = "P")]
    product: String,
    #[command(flatten)]
    pub store: StoreArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: MatrixFormat,
}

impl Args {
    /// Where problems go besides stderr: the JSON document with `--format json`.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            MatrixFormat::Json => ProblemsOut::Json,
            MatrixFormat::Human | MatrixFormat::Markdown | MatrixFormat::Html => {
                ProblemsOut::Stderr
            }
        }
    }
}

/// The width human output fits in: the terminal's when stdout is one,
/// else `$COLUMNS`, else 80.
fn terminal_width() -> u16 {
    let from_terminal = std::io::stdout()
        .is_terminal()
        .then(|| terminal_size::terminal_size_of(std::io::stdout()))
        .flatten()
        .map(|(terminal_size::Width(w), _)| w);
    from_terminal
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<u16>().ok())
        })
        .filter(|w| *w >= 40)
        .unwrap_or(80)
}

/// Runs `rolegrid matrix`.
pub fn run(args: &Args) -> Outcome {
    let snapshot =
        Store::open(&args.store.root)?.load(&args.product, &args.store.load_options())?;
    let matrix = Matrix::build(&snapshot)?;
    let text = match args.format {
        MatrixFormat::Human => matrix.to_human(terminal_width()),
        MatrixFormat::Markdown => matrix.to_markdown(),
        MatrixFormat::Html => matrix.to_html(),
        MatrixFormat::Json => pretty(&matrix.to_json()),
    };
    write_out(&text)?;
    Ok(Finished::with(ExitStatus::Success))
}
