//! `rolegrid authorize`: decide one request from flags, or a stream of JSON Lines.

use super::ExitStatus;
use super::output::{Format, report};
use super::source::{Loaded, SourceArgs};
use crate::answer::Answer;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::request::RequestSpec;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Arguments of `rolegrid authorize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: SourceArgs,
    /// The principal, e.g. 'ImageKit::User::"alice"'.
    #[arg(long, required_unless_present = "requests", value_name = "UID")]
    principal: Option<String>,
    /// The action, e.g. 'ImageKit::Action::"viewMedia"'.
    #[arg(long, required_unless_present = "requests", value_name = "UID")]
    action: Option<String>,
    /// The resource, e.g. 'ImageKit::File::"logo"'.
    #[arg(long, required_unless_present = "requests", value_name = "UID")]
    resource: Option<String>,
    /// The context, a JSON object.
    #[arg(long, value_name = "JSON")]
    context: Option<String>,
    /// JSON Lines of requests (`-` for stdin); one answer line per request, in order.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action", "resource", "context"])]
    requests: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `rolegrid authorize`.
pub fn run(args: &Args) -> ExitStatus {
    let loaded = match args.source.load() {
        Ok(loaded) => loaded,
        Err(problems) => {
            report(&problems);
            return ExitStatus::Error;
        }
    };
    match &args.requests {
        Some(path) => run_batch(args, &loaded, path),
        None => run_single(args, &loaded),
    }
}

fn run_single(args: &Args, loaded: &Loaded) -> ExitStatus {
    let context = match args
        .context
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(e)) => {
            report(
                &Problem::new(ProblemKind::Request, format!("--context is not JSON: {e}")).into(),
            );
            return ExitStatus::Error;
        }
    };
    let (Some(principal), Some(action), Some(resource)) =
        (&args.principal, &args.action, &args.resource)
    else {
        report(
            &Problem::new(
                ProblemKind::Request,
                "--principal, --action and --resource are required",
            )
            .into(),
        );
        return ExitStatus::Error;
    };
    let request = match loaded
        .snapshot
        .request(principal, action, resource, context)
    {
        Ok(request) => request,
        Err(problem) => {
            report(&problem.into());
            return ExitStatus::Error;
        }
    };
    let answer = loaded.snapshot.authorize_with(&request, loaded.entities());
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => writeln!(out, "{}", answer.to_json()),
        Format::Human => write!(out, "{}", human(&answer, loaded)),
    };
    if written.is_err() {
        return ExitStatus::Error;
    }
    ExitStatus::Success
}

/// The readable form of an answer: the decision, then why.
fn human(answer: &Answer, loaded: &Loaded) -> String {
    let mut text = String::from(if answer.is_allowed() {
        "ALLOW\n"
    } else {
        "DENY\n"
    });
    if answer.reasons().is_empty() {
        text.push_str("  no policy applies: denied by default\n");
    }
    for reason in answer.reasons() {
        match loaded.snapshot.policy_location(reason) {
            Some(location) => text.push_str(&format!("  because of {reason} ({location})\n")),
            None => text.push_str(&format!("  because of {reason}\n")),
        }
    }
    for error in answer.errors() {
        text.push_str(&format!("  error in {}: {}\n", error.policy, error.message));
    }
    text
}

fn run_batch(args: &Args, loaded: &Loaded, path: &std::path::Path) -> ExitStatus {
    let input: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(std::io::BufReader::new(file)),
            Err(e) => {
                report(&crate::store::io_problem(path, &e).into());
                return ExitStatus::Error;
            }
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut status = ExitStatus::Success;
    let schema = loaded.snapshot.schema();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                report(&Problems::from(Problem::new(
                    ProblemKind::Io,
                    format!("cannot read line {number}: {e}"),
                )));
                return ExitStatus::Error;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let result = RequestSpec::from_json_line(&line).and_then(|spec| spec.build(schema));
        let written = match result {
            Ok(request) => {
                let answer = loaded.snapshot.authorize_with(&request, loaded.entities());
                match args.format {
                    Format::Json => writeln!(out, "{}", answer.to_json()),
                    Format::Human => {
                        let reasons: Vec<&str> =
                            answer.reasons().iter().map(AsRef::as_ref).collect();
                        let mut text = format!(
                            "{number}: {}",
                            if answer.is_allowed() { "ALLOW" } else { "DENY" }
                        );
                        if !reasons.is_empty() {
                            text.push_str(&format!(" ({})", reasons.join(", ")));
                        }
                        for error in answer.errors() {
                            text.push_str(&format!(
                                "; error in {}: {}",
                                error.policy, error.message
                            ));
                        }
                        writeln!(out, "{text}")
                    }
                }
            }
            Err(problem) => {
                status = ExitStatus::Error;
                match args.format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"error": {"line": number, "kind": problem.kind().code(), "message": problem.message()}})
                    ),
                    Format::Human => writeln!(out, "{number}: error: {}", problem.message()),
                }
            }
        };
        if written.is_err() {
            return ExitStatus::Error;
        }
    }
    if out.flush().is_err() {
        return ExitStatus::Error;
    }
    status
}
