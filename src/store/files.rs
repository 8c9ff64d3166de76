//! Finding a product's files and telling their kinds apart by name.

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::limits::Limits;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What a file in a product folder holds, told by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// `*.cedar`: Cedar policies.
    Policies,
    /// `*.entities.yaml`, `*.entities.yml`: entities, YAML holding Cedar's JSON entity format.
    EntitiesYaml,
    /// `*.entities.json`, `*.cedarentities.json`: Cedar JSON entities.
    EntitiesJson,
    /// `*.test.yaml`, `*.test.yml`: rolegrid expectations (matrix and cases).
    ExpectationsYaml,
    /// `*.test.json`, `*.tests.json`: Cedar's own test format (`cedar run-tests`).
    CedarTests,
}

impl FileKind {
    /// The kind a file name says, `None` for files rolegrid ignores
    /// (documentation, hidden and editor temporary files).
    ///
    /// ```
    /// use rolegrid::FileKind;
    /// assert_eq!(FileKind::of("fixture.entities.yaml"), Ok(Some(FileKind::EntitiesYaml)));
    /// assert_eq!(FileKind::of("README.md"), Ok(None));
    /// assert!(FileKind::of("users.yaml").is_err());
    /// ```
    pub fn of(name: &str) -> Result<Option<Self>, &'static str> {
        if name.starts_with('.') || name.starts_with('#') || name.ends_with('~') {
            return Ok(None);
        }
        let lower = name.to_ascii_lowercase();
        let kind = if lower.ends_with(".cedar") {
            Self::Policies
        } else if lower.ends_with(".entities.yaml") || lower.ends_with(".entities.yml") {
            Self::EntitiesYaml
        } else if lower.ends_with(".entities.json") || lower.ends_with(".cedarentities.json") {
            Self::EntitiesJson
        } else if lower.ends_with(".test.yaml") || lower.ends_with(".test.yml") {
            Self::ExpectationsYaml
        } else if lower.ends_with(".test.json") || lower.ends_with(".tests.json") {
            Self::CedarTests
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
            return Err(
                "name entity files `*.entities.yaml` (or `*.entities.json`) and expectation files `*.test.yaml` (or Cedar's `*.test.json`)",
            );
        } else if lower.ends_with(".cedarschema") {
            return Err(
                "a product's schema lives at `schemas/<product>.cedarschema`, not under `policies/`",
            );
        } else {
            return Ok(None);
        };
        Ok(Some(kind))
    }
}

/// The files of one product, sorted by path within each kind.
#[derive(Debug, Clone, Default)]
pub struct ProductFiles {
    /// `schemas/<product>.cedarschema`.
    pub schema: PathBuf,
    /// `*.cedar` files.
    pub policies: Vec<PathBuf>,
    /// Entity files (YAML or JSON).
    pub entities: Vec<(PathBuf, FileKind)>,
    /// Expectation files (rolegrid YAML or Cedar JSON tests).
    pub expectations: Vec<(PathBuf, FileKind)>,
}

/// Lists every file under `dir` (recursively, following links, never looping),
/// sorted by path, with the limits' file count checked.
pub(crate) fn walk(dir: &Path, limits: &Limits) -> Result<Vec<PathBuf>, Problems> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut problems = Problems::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        match std::fs::canonicalize(&current) {
            Ok(real) => {
                if !seen.insert(real) {
                    continue;
                }
            }
            Err(e) => {
                problems.push(io_problem(&current, &e));
                continue;
            }
        }
        let entries = match std::fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(io_problem(&current, &e));
                continue;
            }
        };
        for entry in entries {
            let path = match entry {
                Ok(entry) => entry.path(),
                Err(e) => {
                    problems.push(io_problem(&current, &e));
                    continue;
                }
            };
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => stack.push(path),
                Ok(_) => out.push(path),
                Err(e) => problems.push(io_problem(&path, &e)),
            }
            if out.len() > limits.max_files {
                problems.push(Problem::new(
                    ProblemKind::Limit,
                    format!(
                        "{} holds more than {} files (limit `max_files`)",
                        dir.display(),
                        limits.max_files
                    ),
                ));
                return Err(problems);
            }
        }
    }
    out.sort();
    problems.into_result(out)
}

/// Reads a whole file as UTF-8 text within the size limit.
pub(crate) fn read_source(path: &Path, limits: &Limits) -> Result<SourceFile, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| io_problem(path, &e))?;
    if meta.len() > limits.max_file_bytes {
        return Err(Problem::new(
            ProblemKind::Limit,
            format!(
                "{} is {} bytes, more than the limit of {} (`max_file_bytes`)",
                path.display(),
                meta.len(),
                limits.max_file_bytes
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| io_problem(path, &e))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(path, lossy);
            // the lossy text has the same prefix, so the offset still points at the bad byte
            Err(
                Problem::new(ProblemKind::Syntax, "file is not valid UTF-8 text")
                    .in_file(&file)
                    .at(offset..offset + 1, "invalid UTF-8 here"),
            )
        }
    }
}

/// An I/O problem naming the path.
pub(crate) fn io_problem(path: &Path, error: &std::io::Error) -> Problem {
    Problem::new(
        ProblemKind::Io,
        format!("cannot read {}: {error}", path.display()),
    )
}
