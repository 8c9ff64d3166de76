//! `rolegrid report --out DIR`: one HTML page with every product's coverage
//! per role and permission matrix, for a CI job to publish.

use super::check::ProductArgs;
use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::write_out;
use rolegrid::matrix::Matrix;
use rolegrid::{Problem, ProblemKind};
use std::path::PathBuf;

/// Arguments of `rolegrid report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    products: ProductArgs,
    /// The folder to write `index.html` into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `rolegrid report`.
pub fn run(args: &Args) -> Outcome {
    let checked = args.products.check_all()?;
    let mut pages = Vec::with_capacity(checked.len());
    let mut kept = Vec::with_capacity(checked.len());
    for c in checked {
        let matrix = Matrix::build(&c.snapshot)?;
        pages.push((c.coverage, matrix));
        kept.push((c.snapshot, c.suite, c.outcome));
    }
    let html = rolegrid::report::html::products(&pages);
    let written = || -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&args.out)?;
        let path = args.out.join("index.html");
        std::fs::write(&path, html.as_bytes())?;
        Ok(path)
    };
    let path = written().map_err(|e| {
        Problem::new(
            ProblemKind::Io,
            format!(
                "cannot write {}: {e}",
                args.out.join("index.html").display()
            ),
        )
    })?;
    write_out(&format!(
        "wrote {} ({} products)\n",
        path.display(),
        pages.len()
    ))?;
    Ok(Finished::keeping(ExitStatus::Success, (kept, pages)))
}
