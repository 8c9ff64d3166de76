//! The command line: one module per command, each with its arguments and a
//! `run` returning an [`ExitStatus`].

mod authorize;
mod check;
mod coverage;
mod matrix;
mod output;
mod source;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use output::Format;

/// How a command ended; mapped to fixed exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success (checks pass; for `authorize`, a decision was made).
    Success,
    /// 1: a check failed.
    Failure,
    /// 2: invalid input or usage.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

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
    /// Run every expectation of the store's products (CI): exit 0 all hold, 1 failed, 2 invalid.
    Check(check::Args),
    /// Coverage per role and per policy of the products' expectations.
    Coverage(coverage::Args),
    /// Render the effective role × action table computed from the policies.
    Matrix(matrix::Args),
}

/// Parses the process arguments, runs the command, returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    run(cli).into()
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Authorize(args) => authorize::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Coverage(args) => coverage::run(&args),
        Command::Matrix(args) => matrix::run(&args),
    }
}
