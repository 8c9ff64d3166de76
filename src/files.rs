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

/// Every kind with the name endings that say it (lower case), most
/// specific first where one ends another (`.entities.yaml` before `.yaml`).
const ENDINGS: &[(FileKind, &[&str])] = &[
    (FileKind::Policies, &[".cedar"]),
    (FileKind::EntitiesYaml, &[".entities.yaml", ".entities.yml"]),
    (
        FileKind::EntitiesJson,
        &[".entities.json", ".cedarentities.json"],
    ),
    (FileKind::ExpectationsYaml, &[".test.yaml", ".test.yml"]),
    (FileKind::CedarTests, &[".test.json", ".tests.json"]),
];

impl FileKind {
    /// `name` without the ending that says its kind (`matrix` for
    /// `matrix.test.yaml`), or `None` when no ending of a kind ends it.
    pub fn stem(name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        let ending = ENDINGS
            .iter()
            .flat_map(|(_, endings)| endings.iter())
            .find(|ending| lower.ends_with(*ending))?;
        name.get(..name.len() - ending.len())
    }

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
        let known = ENDINGS
            .iter()
            .find(|(_, endings)| endings.iter().any(|ending| lower.ends_with(ending)));
        if let Some((kind, _)) = known {
            return Ok(Some(*kind));
        }
        if lower.ends_with(".cedarschema") || lower.ends_with(".cedarschema.json") {
            Err(
                "a product's schema lives at `schemas/<product>.cedarschema` (or `.cedarschema.json`), not under `policies/`",
            )
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
            Err(
                "name entity files `*.entities.yaml` (or `*.entities.json`) and expectation files `*.test.yaml` (or Cedar's `*.test.json`)",
            )
        } else {
            Ok(None)
        }
    }
}

/// The product a schema file name stands for: `<product>.cedarschema` (Cedar
/// schema syntax) or `<product>.cedarschema.json` (Cedar's JSON schema).
pub(crate) fn schema_product(name: &str) -> Option<&str> {
    name.strip_suffix(".cedarschema.json")
        .or_else(|| name.strip_suffix(".cedarschema"))
}

/// Whether a schema file is in Cedar's JSON schema format (by its name).
pub(crate) fn is_json_schema(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

impl FileKind {
    /// The kind of an entity file by its name: Cedar JSON for `.json`, YAML
    /// otherwise (explicit mode reads any name).
    pub fn entities_of(path: &Path) -> Self {
        entity_kind_of(path)
    }
}

/// The files of one product, sorted by path within each kind.
#[derive(Debug, Clone, Default)]
pub struct ProductFiles {
    /// `schemas/<product>.cedarschema` or `schemas/<product>.cedarschema.json`.
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
    let mut folders = 0usize;
    let mut problems = Problems::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let real = match std::fs::canonicalize(&current) {
            Ok(real) => real,
            Err(e) => {
                problems.push(io_problem(&current, &e));
                continue;
            }
        };
        if !seen.insert(real.clone()) {
            continue;
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
                Ok(meta) if meta.is_dir() => {
                    let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                    let target = if link {
                        std::fs::canonicalize(&path).ok()
                    } else {
                        None
                    };
                    match target {
                        // a link to a folder that contains it: reading it would never end
                        Some(target) if real.starts_with(&target) => problems.push(
                            Problem::new(
                                ProblemKind::Io,
                                format!(
                                    "cannot read {}: it links to `{}`, a folder that contains it (a loop)",
                                    path.display(),
                                    std::fs::read_link(&path)
                                        .map_or_else(|_| target.display().to_string(), |t| t.display().to_string())
                                ),
                            )
                            .with_help("remove the link, or point it at a folder outside this one"),
                        ),
                        _ => {
                            folders += 1;
                            stack.push(path);
                        }
                    }
                }
                Ok(_) => out.push(path),
                Err(e) => problems.push(io_problem(&path, &e)),
            }
            if out.len() + folders > limits.max_files {
                problems.push(
                    Problem::new(
                        ProblemKind::Limit,
                        format!(
                            "{} holds more than {} files and folders (limit `max_files`)",
                            dir.display(),
                            limits.max_files
                        ),
                    )
                    .with_help("raise the limit (--max-files) if the product really needs them"),
                );
                return Err(problems);
            }
        }
    }
    out.sort();
    problems.into_result(out)
}

/// Reads a whole file as UTF-8 text within the size limit.
///
/// Only regular files are read (a FIFO would block, a device never end); the
/// size is checked before reading and again while reading (files in `/proc`
/// report size 0, and files grow). A leading byte-order mark is dropped.
/// Text that is not UTF-8, or that holds control characters no text format
/// here allows (a sign of a binary file), is a `syntax` problem pointing at
/// the first bad byte, shown with control characters made visible.
pub(crate) fn read_source(path: &Path, limits: &Limits) -> Result<SourceFile, Problem> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| io_problem(path, &e))?;
    if !meta.is_file() {
        return Err(Problem::new(
            ProblemKind::Io,
            format!(
                "cannot read {}: not a regular file ({})",
                path.display(),
                file_type_name(&meta)
            ),
        )
        .with_help("policy, schema and entity files must be regular files (or links to them)"));
    }
    let too_large = |size: String| {
        Problem::new(
            ProblemKind::Limit,
            format!(
                "{} is {size} bytes, more than the limit of {} (`max_file_bytes`)",
                path.display(),
                limits.max_file_bytes
            ),
        )
        .with_help("split the file, or raise the limit (`--max-file-size`)")
    };
    if meta.len() > limits.max_file_bytes {
        return Err(too_large(meta.len().to_string()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(limits.max_file_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(|e| io_problem(path, &e))?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > limits.max_file_bytes) {
        return Err(too_large("more than that".to_owned()));
    }
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    let bad_control = bytes.iter().position(|&b| is_bad_control(b));
    match String::from_utf8(bytes) {
        Ok(text) => match bad_control {
            None => Ok(SourceFile::new(path, text)),
            Some(offset) => Err(binary_problem(path, text.as_bytes(), offset)),
        },
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let first = bad_control.map_or(offset, |c| c.min(offset));
            Err(binary_problem(path, &bytes, first))
        }
    }
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// C0 control characters, which no text format rolegrid reads needs raw
/// (JSON and YAML forbid them, Cedar has `\u{…}` escapes): a sign of a
/// binary file, and a way to garble a terminal through error reports. Tab,
/// line feed, carriage return and form feed are fine; so is DEL (U+007F),
/// which Cedar and JSON allow raw in strings.
fn is_bad_control(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r' | 0x0c)
}

fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// The problem for a file that is not text: it points at the first bad byte
/// of a copy whose control characters and invalid bytes are shown as visible
/// symbols, so the report cannot garble a terminal.
fn binary_problem(path: &Path, bytes: &[u8], offset: usize) -> Problem {
    let before = visible(bytes.get(..offset).unwrap_or_default());
    let at = before.len();
    let text = before + &visible(bytes.get(offset..).unwrap_or_default());
    let (what, label) = match bytes.get(offset) {
        Some(&b) if is_bad_control(b) => (
            format!("file holds the control character U+{b:04X}: is it a binary file?"),
            "control character here",
        ),
        _ => (
            "file is not valid UTF-8 text".to_owned(),
            "invalid UTF-8 here",
        ),
    };
    let file = SourceFile::new(path, text);
    Problem::new(ProblemKind::Syntax, what)
        .in_file(&file)
        .at(at..at + 1, label)
}

/// Bytes as text with invalid UTF-8 as U+FFFD and control characters other
/// than tab and line feed as their visible Unicode symbols (U+2400...).
fn visible(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\t' | '\n' => c,
            c if u32::from(c) < 0x20 => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            c => c,
        })
        .collect()
}

/// An I/O problem naming the path.
pub(crate) fn io_problem(path: &Path, error: &std::io::Error) -> Problem {
    Problem::new(
        ProblemKind::Io,
        format!("cannot read {}: {error}", path.display()),
    )
}

/// Entity file kind by extension: `.json` is Cedar JSON, anything else YAML.
pub(crate) fn entity_kind_of(path: &Path) -> FileKind {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        FileKind::EntitiesJson
    } else {
        FileKind::EntitiesYaml
    }
}

impl SourceFile {
    /// Reads a file within `limits` (its size; a folder, a device or a file
    /// that is not UTF-8 is a problem naming it).
    pub fn read(path: &Path, limits: &Limits) -> Result<Self, Problem> {
        read_source(path, limits)
    }
}

impl Problem {
    /// A file or folder that could not be read or written, named with what
    /// went wrong.
    pub fn io(path: &Path, error: &std::io::Error) -> Self {
        io_problem(path, error)
    }
}
