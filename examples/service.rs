//! A service's use of rolegrid: open the shipped store, share the evaluator
//! between threads, ask questions, and keep serving while files are edited.
//!
//! Run from the repository root: `cargo run --example service`

use rolegrid::{Evaluator, LoadOptions, Renderer};
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let evaluator = match Evaluator::open(".", LoadOptions::default()) {
        Ok(evaluator) => Arc::new(evaluator),
        Err(problems) => {
            for problem in &problems {
                eprint!("{}", Renderer::plain().render(problem));
            }
            return std::process::ExitCode::from(2);
        }
    };
    // Reload products when their files change; a broken edit keeps the last good snapshot.
    let watch = evaluator.watch(|event| eprintln!("{event}"));

    let questions = [
        (
            "fireworks",
            r#"Fireworks::User::"ivan-inference""#,
            r#"Fireworks::Action::"runInference""#,
            r#"Fireworks::Deployment::"deploy-uma""#,
        ),
        (
            "fireworks",
            r#"Fireworks::User::"ivan-inference""#,
            r#"Fireworks::Action::"delete""#,
            r#"Fireworks::Deployment::"deploy-uma""#,
        ),
        (
            "rudderstack",
            r#"RudderStack::User::"vera-view""#,
            r#"RudderStack::Action::"viewSecrets""#,
            r#"RudderStack::Destination::"acme-dest-bigquery""#,
        ),
    ];
    std::thread::scope(|scope| {
        for (product, principal, action, resource) in questions {
            let evaluator = &evaluator;
            scope.spawn(move || {
                match evaluator.authorize(product, principal, action, resource, None) {
                    Ok(answer) => println!(
                        "{product}: {principal} {action} {resource}: {:?} (reasons {:?})",
                        answer.decision(),
                        answer
                            .reasons()
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    ),
                    Err(problem) => eprint!("{}", Renderer::plain().render(&problem)),
                }
            });
        }
    });
    if let Some(status) = evaluator.status("fireworks") {
        println!(
            "fireworks: generation {}, last reload error: {:?}",
            status.generation,
            status.last_error.is_some()
        );
    }
    drop(watch);
    std::process::ExitCode::SUCCESS
}
