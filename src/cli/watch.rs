//! `rolegrid watch`: re-run `check` whenever a product file changes, for
//! policy authors working in an editor.

use super::check;
use super::outcome::{ExitStatus, Outcome};
use super::output::{problems as render_problems, report, write_out};
use rolegrid::Watch;
use rolegrid::{Problem, ProblemKind};
use std::io::{IsTerminal, Write};
use std::sync::mpsc::channel;

/// Runs `check` now and after every change under `schemas/` and `policies/`,
/// until interrupted. The screen is cleared before each run when stdout is a
/// terminal. Each run's snapshots and report are freed before the next run.
/// With `--format json` stdout is JSON Lines: one check document per run,
/// led by `run` (counted from 1) and `time` (RFC 3339, UTC); the status
/// line goes to stderr.
pub fn run(args: &check::Args) -> Outcome {
    let root = &args.products.store.root;
    let (tx, changes) = channel();
    let _watch = Watch::store(
        root,
        move || {
            let _ = tx.send(());
        },
        |error| eprintln!("rolegrid: file watcher error: {error}"),
    )?;
    let json = args.is_json();
    let terminal = std::io::stdout().is_terminal() && !json;
    for number in 1.. {
        if terminal {
            // clear the screen and move home
            print!("\x1b[2J\x1b[H");
        }
        let run = check::WatchRun {
            run: number,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let status = match check::run_as(args, Some(&run)) {
            Ok(finished) => finished.status,
            Err(problems) => {
                if json {
                    report(&problems);
                    let line = check::json_line(&check::WatchLine {
                        run: &run,
                        document: rolegrid::report::json::problems(&problems),
                    });
                    let _ = write_out(&line);
                } else {
                    render_problems(&problems, args.problems_out());
                }
                ExitStatus::Error
            }
        };
        let line = format!(
            "[{}] watching {} for changes (Ctrl-C to stop)",
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
        if json {
            eprintln!("{line}");
        } else {
            println!("\n{line}");
        }
        let _ = std::io::stdout().flush();
        // wait until changes have settled (the watcher reports its errors itself)
        if changes.recv().is_err() {
            return Err(Problem::new(ProblemKind::Internal, "the file watcher stopped").into());
        }
        // drain what else arrived in the meantime
        while changes.try_recv().is_ok() {}
    }
    Err(Problem::new(ProblemKind::Internal, "too many runs").into())
}
