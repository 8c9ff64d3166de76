//! Cedar's strict validation of policies, reported in a stable order, with
//! the same suggestion every time, and warnings denied or accepted.

use crate::diagnostics::text::closest_name;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::origin::PolicyOrigin;
use cedar_policy::{Schema, ValidationMode, Validator};

/// [`validate`] with a validator made once for many sets (it caches the
/// schema's request environments).
pub(crate) fn validate_with(
    validator: &Validator,
    schema: &Schema,
    set: &cedar_policy::PolicySet,
    origins: &std::collections::HashMap<cedar_policy::PolicyId, PolicyOrigin>,
) -> Problems {
    let mut problems = Problems::new();
    let result = validator.validate(set, ValidationMode::Strict);
    for error in result.validation_errors() {
        let file = origins.get(error.policy_id()).map(|o| &o.file);
        let mut problem = Problem::from_diagnostic(ProblemKind::PolicyValidation, error, file);
        // Cedar picks among equally close names in the hash order of each
        // schema it builds: choose one the same way every time
        let suggestion = match error {
            cedar_policy::ValidationError::UnrecognizedActionId(_) => {
                closest_action(schema, &error.to_string())
            }
            cedar_policy::ValidationError::UnrecognizedEntityType(_) => {
                closest_entity_type(schema, &error.to_string())
            }
            _ => None,
        };
        if let Some(suggestion) = suggestion {
            problem = problem.with_help(format!("did you mean `{suggestion}`?"));
        }
        problems.push(problem);
    }
    // a warning about a policy that has an error follows from the error (an
    // unknown action makes the policy "impossible"): the error says it all
    let erring: std::collections::HashSet<&cedar_policy::PolicyId> =
        result.validation_errors().map(|e| e.policy_id()).collect();
    for warning in result.validation_warnings() {
        if erring.contains(warning.policy_id()) {
            continue;
        }
        let file = origins.get(warning.policy_id()).map(|o| &o.file);
        problems.push(
            Problem::from_diagnostic(ProblemKind::ValidationWarning, warning, file).as_warning(),
        );
    }
    // Cedar gives them in hash order: report in file order, the same every time
    fold_entity_types(in_file_order(problems))
}

/// One problem for what Cedar reports once per entity type at the same
/// place (`attribute `ownr` on entity type `A` not found`, then `B`, ...,
/// for a policy whose resource may be of several types): the first, its
/// message naming every type. Problems must be in file order.
fn fold_entity_types(problems: Problems) -> Problems {
    const MARK: &str = " on entity type `";
    let mut folded: Vec<(Problem, String, Vec<String>)> = Vec::new();
    for problem in problems {
        let message = problem.message().to_owned();
        let split = message.split_once(MARK).and_then(|(head, rest)| {
            let (name, tail) = rest.split_once('`')?;
            Some((format!("{head}{MARK}{{}}`{tail}"), name.to_owned()))
        });
        let Some((shape, name)) = split else {
            folded.push((problem, String::new(), Vec::new()));
            continue;
        };
        let key = (
            problem.location(),
            problem.help_text().map(str::to_owned),
            shape.clone(),
        );
        match folded.last_mut() {
            Some((last, last_shape, names))
                if !names.is_empty()
                    && (
                        last.location(),
                        last.help_text().map(str::to_owned),
                        last_shape.clone(),
                    ) == key =>
            {
                names.push(name);
            }
            _ => folded.push((problem, shape, vec![name])),
        }
    }
    let mut out = Problems::new();
    for (problem, shape, names) in folded {
        if names.len() > 1 {
            let listed = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = shape.replacen(
                &format!("{MARK}{{}}`"),
                &format!(" on entity types {listed}"),
                1,
            );
            out.push(problem.with_message(message));
        } else {
            out.push(problem);
        }
    }
    out
}

/// Validation problems in a stable order: errors, then warnings, each by
/// place and message (the order of one file's problems whatever the order
/// its policies were validated in).
pub(crate) fn in_file_order(problems: Problems) -> Problems {
    let mut sorted: Vec<Problem> = problems.into_iter().collect();
    sorted.sort_by_cached_key(|p| {
        let at = p.location().map(|l| (l.file, l.line, l.column));
        (p.is_warning(), at, p.message().to_owned())
    });
    let mut problems = Problems::new();
    problems.extend(sorted);
    problems
}

/// The schema action closest to the one an `unrecognized action `...``
/// message names (see [`closest_name`]).
fn closest_action(schema: &Schema, message: &str) -> Option<String> {
    let unknown = named_in(message, "unrecognized action `")?;
    closest_name(schema.actions().map(ToString::to_string), unknown)
}

/// The schema entity type closest to the one an `unrecognized entity type
/// `...`` message names: the one Cedar suggests (`get_suggested_entity_type`:
/// the closest of the schema's entity types by the same distance) when only
/// one is closest.
fn closest_entity_type(schema: &Schema, message: &str) -> Option<String> {
    let unknown = named_in(message, "unrecognized entity type `")?;
    closest_name(schema.entity_types().map(ToString::to_string), unknown)
}

/// What a message quotes after `prefix`, up to the last backquote.
fn named_in<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let named = message.split(prefix).nth(1)?.rsplit_once('`')?.0;
    (!named.is_empty()).then_some(named)
}

/// Adds warnings: as errors when they are denied, else as warnings.
pub(crate) fn push_warnings(problems: &mut Problems, warnings: Problems, deny: bool) {
    for warning in warnings {
        if deny {
            problems.push(
                Problem::from_diagnostic(warning.kind(), &warning, warning.file())
                    .with_help("warnings fail the load; pass --allow-warnings to accept them"),
            );
        } else {
            problems.push(warning);
        }
    }
}
