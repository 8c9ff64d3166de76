//! The plain-Cedar baseline of `rolegrid authorize --requests`: the same
//! JSON-in/JSON-out loop written directly on `cedar-policy`, as a service
//! without rolegrid would (see BENCHMARKS.md, benchmark 3).
//!
//! It reads Cedar policies (a `.cedar` file or every `.cedar` file under a
//! folder; ids from `@id` annotations), a Cedar schema and Cedar JSON entity
//! files, then answers JSON Lines requests from stdin (`{"principal",
//! "action", "resource", "context"?}`, uids as Cedar text or `{"type",
//! "id"}`), one line each on stdout, in rolegrid's answer shape
//! (`{"line", "decision", "reasons", "errors"}`, sorted by policy id) so that the two
//! outputs can be compared byte for byte. Requests are validated against the
//! schema, as rolegrid does. One thread, `Authorizer::is_authorized` on the
//! full policy set.
//!
//! ```text
//! cargo run --release --example plain_cedar_batch -- \
//!     --policies policies/fireworks --schema schemas/fireworks.cedarschema \
//!     --entities fireworks.entities.json < requests.jsonl > answers.jsonl
//! ```

use cedar_policy::{
    AuthorizationError, Authorizer, Context, Entities, EntityUid, PolicyId, PolicySet, Request,
    Schema,
};
use std::error::Error;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args, std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plain_cedar_batch: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Parses the arguments, loads the files, answers every line of `input` on `output`.
pub fn run(args: &[String], input: impl BufRead, output: impl Write) -> Result<()> {
    let mut policies = None;
    let mut schema = None;
    let mut entity_files = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .map(PathBuf::from)
                .ok_or(format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--policies" => policies = Some(value()?),
            "--schema" => schema = Some(value()?),
            "--entities" => entity_files.push(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let policies = policies.ok_or("--policies is required")?;
    let schema_path = schema.ok_or("--schema is required")?;
    let (schema, _warnings) =
        Schema::from_cedarschema_str(&std::fs::read_to_string(&schema_path)?)?;
    let policy_set = load_policies(&policies)?;
    let mut entities = Entities::empty();
    for file in &entity_files {
        let more = Entities::from_json_str(&std::fs::read_to_string(file)?, Some(&schema))?;
        entities = entities.add_entities(more, Some(&schema))?;
    }
    if entity_files.is_empty() {
        entities = Entities::from_json_str("[]", Some(&schema))?;
    }
    answer_lines(&policy_set, &schema, &entities, input, output)
}

/// Every `.cedar` file under `path` (or `path` itself), in path order, as one
/// set whose ids are the policies' `@id` annotations.
fn load_policies(path: &Path) -> Result<PolicySet> {
    let mut files = Vec::new();
    collect_cedar_files(path, &mut files)?;
    files.sort();
    let mut set = PolicySet::new();
    for file in files {
        let parsed = PolicySet::from_str(&std::fs::read_to_string(&file)?)?;
        for policy in parsed.policies() {
            let id = policy
                .annotation("id")
                .ok_or_else(|| format!("a policy in {} has no @id", file.display()))?;
            set.add(policy.new_id(PolicyId::new(id)))?;
        }
    }
    Ok(set)
}

fn collect_cedar_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_cedar_files(&entry?.path(), files)?;
        }
    } else if path.extension().is_some_and(|e| e == "cedar") {
        files.push(path.to_path_buf());
    }
    Ok(())
}

fn uid(value: Option<&serde_json::Value>, field: &str) -> Result<EntityUid> {
    match value {
        Some(serde_json::Value::String(text)) => Ok(EntityUid::from_str(text)?),
        Some(object @ serde_json::Value::Object(_)) => Ok(EntityUid::from_json(object.clone())?),
        _ => Err(format!("`{field}` is missing or not a uid").into()),
    }
}

fn request(line: &str, schema: &Schema) -> Result<Request> {
    let value: serde_json::Value = serde_json::from_str(line)?;
    let principal = uid(value.get("principal"), "principal")?;
    let action = uid(value.get("action"), "action")?;
    let resource = uid(value.get("resource"), "resource")?;
    let context = match value.get("context") {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(context) => context.clone(),
    };
    let context = Context::from_json_value(context, Some((schema, &action)))?;
    Ok(Request::new(
        principal,
        action,
        resource,
        context,
        Some(schema),
    )?)
}

fn answer_lines(
    policies: &PolicySet,
    schema: &Schema,
    entities: &Entities,
    input: impl BufRead,
    output: impl Write,
) -> Result<()> {
    let authorizer = Authorizer::new();
    let mut out = BufWriter::new(output);
    for (number, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match request(&line, schema) {
            Ok(request) => {
                let response = authorizer.is_authorized(&request, policies, entities);
                let mut reasons: Vec<String> = response
                    .diagnostics()
                    .reason()
                    .map(ToString::to_string)
                    .collect();
                reasons.sort();
                let mut errors: Vec<(String, String)> = response
                    .diagnostics()
                    .errors()
                    .map(|error| {
                        let AuthorizationError::PolicyEvaluationError(e) = error;
                        (e.policy_id().to_string(), e.inner().to_string())
                    })
                    .collect();
                errors.sort();
                serde_json::json!({
                    "line": number + 1,
                    "decision": if response.decision() == cedar_policy::Decision::Allow { "allow" } else { "deny" },
                    "reasons": reasons,
                    "errors": errors
                        .into_iter()
                        .map(|(policy, message)| serde_json::json!({"policy": policy, "message": message}))
                        .collect::<Vec<_>>(),
                })
            }
            Err(e) => serde_json::json!({"error": {"line": number + 1, "message": e.to_string()}}),
        };
        writeln!(out, "{answer}")?;
    }
    out.flush()?;
    Ok(())
}
