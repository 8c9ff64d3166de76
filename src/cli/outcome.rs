//! How a command ended: its exit status, what it built, or its problems.

use rolegrid::Problems;

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

impl ExitStatus {
    pub(super) fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// A command that ran to its end: its status, and what it built (snapshots,
/// reports) for [`super::main`] to leave to the process's exit instead of freeing
/// it piece by piece, which takes seconds for a large store. Dropped like
/// any value everywhere else (`watch` runs `check` in a loop).
pub(crate) struct Finished {
    pub(super) status: ExitStatus,
    _built: Option<Box<dyn std::any::Any + Send>>,
}

impl Finished {
    /// A command that built nothing worth keeping.
    pub(super) fn with(status: ExitStatus) -> Self {
        Self {
            status,
            _built: None,
        }
    }

    /// A command that built `built`.
    pub(super) fn keeping(status: ExitStatus, built: impl std::any::Any + Send) -> Self {
        Self {
            status,
            _built: Some(Box::new(built)),
        }
    }
}

/// What a command gives: how it finished, or the problems that stopped it.
pub(super) type Outcome = Result<Finished, Problems>;
