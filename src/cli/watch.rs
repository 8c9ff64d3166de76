//! `rolegrid watch`: re-run `check` whenever a product file changes, for
//! policy authors working in an editor.

use super::ExitStatus;
use super::check;
use super::output::report;
use crate::diagnostics::{Problem, ProblemKind};
use notify::RecursiveMode;
use notify_debouncer_full::new_debouncer;
use std::io::{IsTerminal, Write};
use std::sync::mpsc::channel;

/// Runs `check` now and after every change under `schemas/` and `policies/`,
/// until interrupted. The screen is cleared before each run when stdout is a terminal.
pub fn run(args: &check::Args) -> ExitStatus {
    let root = &args.products.root;
    let (tx, changes) = channel();
    let mut debouncer = match new_debouncer(crate::reload::DEBOUNCE * 4, None, tx) {
        Ok(debouncer) => debouncer,
        Err(e) => {
            report(&Problem::new(ProblemKind::Io, format!("cannot watch files: {e}")).into());
            return ExitStatus::Error;
        }
    };
    for folder in ["schemas", "policies"] {
        let path = root.join(folder);
        if let Err(e) = debouncer.watch(&path, RecursiveMode::Recursive) {
            report(
                &Problem::new(
                    ProblemKind::Io,
                    format!("cannot watch {}: {e}", path.display()),
                )
                .into(),
            );
            return ExitStatus::Error;
        }
    }
    let terminal = std::io::stdout().is_terminal();
    loop {
        if terminal {
            // clear the screen and move home
            print!("\x1b[2J\x1b[H");
        }
        let status = check::run(args);
        println!(
            "\n[{}] watching {} for changes (Ctrl-C to stop)",
            match status {
                ExitStatus::Success => "pass",
                ExitStatus::Failure => "FAIL",
                ExitStatus::Error => "invalid input",
            },
            if root.as_os_str() == "." {
                "the store".to_owned()
            } else {
                root.display().to_string()
            }
        );
        let _ = std::io::stdout().flush();
        // wait for a batch of real changes; errors of the watcher are reported and waited through
        loop {
            match changes.recv() {
                Ok(Ok(events)) if events.iter().any(|e| crate::reload::changes_content(e)) => break,
                Ok(Ok(_)) => {}
                Ok(Err(errors)) => {
                    for error in errors {
                        eprintln!("rolegrid: file watcher error: {error}");
                    }
                }
                Err(_) => return ExitStatus::Error,
            }
        }
        // drain what else arrived in the meantime
        while changes.try_recv().is_ok() {}
    }
}
