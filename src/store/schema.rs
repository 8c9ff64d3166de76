//! Reading a `.cedarschema` file.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use cedar_policy::Schema;

/// Parses a schema in Cedar's human format; warnings come back as warning problems.
pub(crate) fn parse_schema(file: &SourceFile) -> Result<(Schema, Problems), Problems> {
    match Schema::from_cedarschema_str(file.text()) {
        Ok((schema, warnings)) => {
            let mut problems = Problems::new();
            for warning in warnings {
                problems.push(
                    Problem::from_diagnostic(ProblemKind::Schema, &warning, Some(file))
                        .as_warning(),
                );
            }
            Ok((schema, problems))
        }
        Err(error) => {
            let mut problem = Problem::from_diagnostic(ProblemKind::Schema, &error, Some(file));
            if problem.spans().next().is_none() {
                // semantic errors (e.g. an undeclared type) often carry no span: name the file at least
                problem = problem.at(0..0, "in this schema");
            }
            Err(problem.into())
        }
    }
}
