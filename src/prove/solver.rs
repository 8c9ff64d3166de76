//! The SMT solver cedar-policy-symcc talks to: cvc5 1.3, as `$CVC5`, a
//! `cvc5` on PATH, or PyPI's `cvc5` wheel (library and Python bindings, no
//! executable) run through a small adapter that reads SMT-LIB from stdin.

use crate::diagnostics::{Problem, ProblemKind};
use cedar_policy_symcc::solver::LocalSolver;
use std::ffi::OsString;
use std::path::PathBuf;

/// The adapter that makes PyPI's wheel an interactive `cvc5 --lang smt`.
const ADAPTER: &str = include_str!("cvc5_adapter.py");

/// How to start a solver process.
#[derive(Debug, Clone)]
pub struct Solver {
    program: OsString,
    args: Vec<OsString>,
    /// What was found, for messages.
    pub description: String,
}

/// How to get a solver, for the message when there is none.
pub const HOW_TO_GET_ONE: &str = "install cvc5 1.3: `pip install cvc5==1.3.1` (rolegrid runs PyPI's wheel through python3), or set CVC5 to a cvc5 1.3 executable";

fn no_solver(why: &str) -> Problem {
    Problem::new(
        ProblemKind::Usage,
        format!("no SMT solver for the proof: {why}"),
    )
    .with_help(HOW_TO_GET_ONE)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// The version a command prints, if it runs.
fn output_of(program: &OsString, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether a cvc5 version text is 1.3 or newer (symcc 0.8 needs 1.3).
fn recent(version: &str) -> bool {
    let numbers: Vec<u32> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .take(2)
        .filter_map(|part| part.parse().ok())
        .collect();
    matches!(numbers.as_slice(), [major, minor] if (*major, *minor) >= (1, 3))
}

impl Solver {
    /// Finds a solver: `$CVC5` (taken as given), else a `cvc5` 1.3+ on
    /// PATH, else python3 with the `cvc5` 1.3+ module.
    pub fn find() -> Result<Self, Problem> {
        if let Some(path) = std::env::var_os("CVC5") {
            let given = PathBuf::from(&path);
            if !given.is_file() && on_path(&given.to_string_lossy()).is_none() {
                return Err(no_solver(&format!(
                    "CVC5 names {}, which is not a file",
                    given.display()
                )));
            }
            return Ok(Self {
                description: format!("$CVC5 ({})", PathBuf::from(&path).display()),
                program: path,
                args: vec!["--lang".into(), "smt".into()],
            });
        }
        if let Some(path) = on_path("cvc5") {
            let program = path.clone().into_os_string();
            let version = output_of(&program, &["--version"]).unwrap_or_default();
            let line = version.lines().next().unwrap_or_default().to_owned();
            if recent(line.split("version").nth(1).unwrap_or_default()) {
                return Ok(Self {
                    description: format!("{} ({line})", path.display()),
                    program,
                    args: vec!["--lang".into(), "smt".into()],
                });
            }
            if on_path("python3").is_none() {
                return Err(no_solver(&format!(
                    "{} is `{line}`; the proof needs 1.3",
                    path.display()
                )));
            }
        }
        let python: OsString = "python3".into();
        let version = output_of(&python, &["-c", "import cvc5; print(cvc5.__version__)"])
            .ok_or_else(|| no_solver("no cvc5 on PATH, and python3 has no `cvc5` module"))?;
        let version = version.trim().to_owned();
        if !recent(&version) {
            return Err(no_solver(&format!(
                "python3's `cvc5` module is {version}; the proof needs 1.3"
            )));
        }
        Ok(Self {
            description: format!("python3 with PyPI's cvc5 {version}"),
            program: python,
            args: vec!["-c".into(), ADAPTER.into(), "--lang".into(), "smt".into()],
        })
    }

    /// A new solver process; each check gives up after `timeout_ms` (the
    /// answer is then unknown).
    pub(crate) fn spawn(&self, timeout_ms: u64) -> Result<LocalSolver, String> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .arg(format!("--tlimit-per={timeout_ms}"))
            .kill_on_drop(true);
        LocalSolver::from_command(&mut command).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::recent;

    #[test]
    fn only_cvc5_1_3_and_later_are_recent_enough() {
        assert!(recent("1.3.1"));
        assert!(recent(" 1.4.2 [git tag]"));
        assert!(!recent("1.0.3"));
        assert!(!recent(""));
    }
}
