//! The command line as users run it: every command, format, exit code and error report.
//!
//! One test binary of a few (build time, disk): each module below was a test
//! binary of its own.

#[path = "../common/mod.rs"]
mod common;

mod bad_inputs;
mod check;
mod cli;
mod diff;
mod errors;
mod matrix;
mod prove;
