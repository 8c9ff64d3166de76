//! The command line: one module per command, each with its arguments and a
//! `run` returning `Result<Finished, Problems>`; problems are rendered in
//! one place ([`output::problems`]) and mapped to exit code 2.

mod authorize;
mod check;
mod coverage;
mod diff;
mod limits;
mod matrix;
mod names;
mod outcome;
mod output;
mod prove;
mod report;
mod serve;
mod source;
mod store_arg;
mod validate;
mod watch;

use clap::{Parser, Subcommand};
use output::ProblemsOut;
use rolegrid::Problems;
use std::io::Write;

pub use outcome::ExitStatus;
use outcome::Outcome;

/// rolegrid: Cedar policies for product permission matrices: authorize, check, cover.
#[derive(Debug, Parser)]
#[command(name = "rolegrid", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide requests: one from flags, or many from JSON Lines.
    Authorize(Box<authorize::Args>),
    /// Re-run `check` on every change to the store (for policy authors).
    Watch(check::Args),
    /// Load and validate the store's products without running expectations: exit 0 valid, 2 invalid.
    Validate(validate::Args),
    /// Run every expectation of the store's products (CI): exit 0 all hold, 1 failed, 2 invalid.
    Check(check::Args),
    /// Coverage per role and per policy of the products' expectations.
    Coverage(coverage::Args),
    /// Render the effective role × action table computed from the policies.
    Matrix(matrix::Args),
    /// Write one HTML page with every product's coverage and matrix (for CI to publish).
    Report(report::Args),
    /// What a change does to who can do what, against another store or a git revision.
    Diff(Box<diff::Args>),
    /// Prove the products' invariants and built-in checks for every request the schema allows: exit 0 proved, 1 refuted or unknown, 2 invalid.
    Prove(prove::Args),
    /// Serve the store's products as AuthZEN 1.0 decision points over HTTP, hot-reloaded.
    Serve(serve::Args),
}

impl Command {
    /// Where the command's problems go besides stderr.
    fn problems_out(&self) -> ProblemsOut {
        match self {
            Command::Check(args) => args.problems_out(),
            Command::Validate(args) => args.problems_out(),
            Command::Coverage(args) => args.problems_out(),
            Command::Authorize(args) => args.problems_out(),
            Command::Matrix(args) => args.problems_out(),
            Command::Diff(args) => args.problems_out(),
            Command::Prove(args) => args.problems_out(),
            Command::Watch(_) | Command::Report(_) | Command::Serve(_) => ProblemsOut::Stderr,
        }
    }

    fn run(&self) -> Outcome {
        match self {
            Command::Authorize(args) => authorize::run(args),
            Command::Watch(args) => watch::run(args),
            Command::Check(args) => check::run(args),
            Command::Validate(args) => validate::run(args),
            Command::Coverage(args) => coverage::run(args),
            Command::Matrix(args) => matrix::run(args),
            Command::Report(args) => report::run(args),
            Command::Serve(args) => serve::run(args),
            Command::Diff(args) => diff::run(args),
            Command::Prove(args) => prove::run(args),
        }
    }
}

/// Parses the process arguments, runs the command and exits with its code.
///
/// What the command built is not freed: stdout is flushed, then the process
/// exits, and the operating system takes its memory back at once.
pub fn main() -> ! {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let status = if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            };
            std::process::exit(status.code());
        }
    };
    // on a stack as large as the pool's: a request decides the same in
    // every mode, single or batch
    let outcome = rolegrid::parallel::with_large_stack(|| cli.command.run())
        .map_err(Problems::from)
        .and_then(|outcome| outcome);
    let status = match &outcome {
        Ok(finished) => finished.status,
        Err(problems) => {
            output::problems(problems, cli.command.problems_out());
            ExitStatus::Error
        }
    };
    let _ = std::io::stdout().flush();
    // `outcome` stays alive: exiting here skips its destructors
    std::process::exit(status.code());
}
