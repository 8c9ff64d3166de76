//! Policy files read on their own, outside a product's policy set (a
//! product's invariants): parsed with `@id`s required and strictly
//! validated against the product's schema, every problem located.

use super::policies::{ParsedPolicies, PolicyIds};
use super::validate::validate_with;
use crate::diagnostics::Problems;
use crate::files::{read_source, walk};
use crate::limits::Limits;
use crate::origin::PolicyOrigin;
use cedar_policy::{PolicyId, PolicySet, Schema};
use std::collections::HashMap;
use std::path::Path;

/// The policies of every `*.cedar` file under `folder` (none when it does
/// not exist), with where each was written.
pub(crate) fn read_policy_folder(
    folder: &Path,
    schema: &Schema,
    limits: &Limits,
) -> Result<(PolicySet, HashMap<PolicyId, PolicyOrigin>), Problems> {
    if !folder.is_dir() {
        return Ok((PolicySet::new(), HashMap::new()));
    }
    let mut parsed = ParsedPolicies::counting_from(0);
    let mut problems = Problems::new();
    for path in walk(folder, limits)? {
        if path.extension().is_none_or(|e| e != "cedar") {
            continue;
        }
        match read_source(&path, limits) {
            Ok(file) => {
                problems.extend(parsed.add_file(&file, PolicyIds::RequireAnnotation, limits))
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        let validator = cedar_policy::Validator::new(schema.clone());
        let found = validate_with(&validator, schema, &parsed.set, &parsed.origins);
        problems.extend(found.iter().filter(|p| !p.is_warning()).cloned());
    }
    problems.into_result((parsed.set, parsed.origins))
}
