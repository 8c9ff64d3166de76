//! `rolegrid matrix`: the effective role × action table of a product,
//! computed from its policies.

use super::ExitStatus;
use super::output::report;
use crate::matrix::Matrix;
use crate::store::{LoadOptions, Store};
use std::io::Write;
use std::path::PathBuf;

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
    /// The store's root folder (holding `schemas/` and `policies/`).
    #[arg(long, default_value = ".", value_name = "DIR")]
    root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: MatrixFormat,
}

/// The width human output wraps to: `$COLUMNS`, else 120.
fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(120)
}

/// Runs `rolegrid matrix`.
pub fn run(args: &Args) -> ExitStatus {
    let snapshot = match Store::open(&args.root)
        .and_then(|store| store.load(&args.product, &LoadOptions::default()))
    {
        Ok(snapshot) => snapshot,
        Err(problems) => {
            report(&problems);
            return ExitStatus::Error;
        }
    };
    let matrix = match Matrix::build(&snapshot) {
        Ok(matrix) => matrix,
        Err(problems) => {
            report(&problems);
            return ExitStatus::Error;
        }
    };
    let text = match args.format {
        MatrixFormat::Human => matrix.to_human(terminal_width()),
        MatrixFormat::Markdown => matrix.to_markdown(),
        MatrixFormat::Html => matrix.to_html(),
        MatrixFormat::Json => {
            let mut text = serde_json::to_string_pretty(&matrix.to_json()).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitStatus::Error;
    }
    ExitStatus::Success
}
