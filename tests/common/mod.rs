//! Shared helpers for rolegrid's integration tests: the repository's store,
//! running the built binary with a clean environment, whole-run snapshots
//! (exit code, stdout, stderr) and temporary stores.
//!
//! Each test file includes this module with `mod common;`; not every file
//! uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rolegrid::{Answer, LoadOptions, Problems, Snapshot, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// The crate root (where `schemas/` and `policies/` of the seed models live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture folder under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests").join("fixtures").join(name)
}

/// The seed of the bad-input corpus (`tests/bad/seed`): a small valid store
/// with the product `shop`, of which every broken case is a copy.
pub const SEED: &str = "tests/bad/seed";

/// The bad-input seed store's folder.
pub fn seed() -> PathBuf {
    root().join(SEED)
}

/// The repository's store.
pub fn store() -> Store {
    Store::open(root()).expect("the repository is a store")
}

/// Loads one seed product with the default (strict) options.
pub fn load(product: &str) -> Arc<Snapshot> {
    match store().load(product, &LoadOptions::default()) {
        Ok(snapshot) => Arc::new(snapshot),
        Err(problems) => panic!("{product} does not load:\n{}", render(&problems)),
    }
}

/// Renders problems as plain miette reports (what the CLI prints with NO_COLOR).
pub fn render(problems: &Problems) -> String {
    let renderer = rolegrid::Renderer::plain();
    problems.iter().map(|p| renderer.render(p)).collect()
}

/// Decides a request given as Cedar text uids against a snapshot's own entities.
pub fn decide(
    snapshot: &Snapshot,
    principal: &str,
    action: &str,
    resource: &str,
    context: Option<serde_json::Value>,
) -> Answer {
    let request = snapshot
        .request(principal, action, resource, context)
        .unwrap_or_else(|p| {
            panic!(
                "request {principal} {action} {resource} is invalid:\n{}",
                rolegrid::Renderer::plain().render(&p)
            )
        });
    snapshot.authorize(&request)
}

/// The reasons of an answer as plain strings.
pub fn reasons(answer: &Answer) -> Vec<String> {
    answer.reasons().iter().map(ToString::to_string).collect()
}

/// One run of the `rolegrid` binary.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The whole run as one text for a snapshot: exit code, stdout, stderr,
    /// with `replace` pairs applied (e.g. a temporary folder to `[TMP]`).
    pub fn snapshot_text(&self, replace: &[(&str, &str)]) -> String {
        let mut text = format!(
            "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code
                .map_or_else(|| "signal".to_owned(), |c| c.to_string()),
            self.stdout,
            self.stderr
        );
        for (from, to) in replace {
            if !from.is_empty() {
                text = text.replace(from, to);
            }
        }
        text
    }

    /// Panics with the whole run unless it exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n{}",
            self.snapshot_text(&[])
        );
        self
    }
}

/// Runs the built binary in `cwd` with `args`, `NO_COLOR=1`, no inherited
/// Rust/terminal settings, and `stdin` (empty when `None`).
pub fn run_in(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolegrid"));
    command
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        // `check` proves only where a test asks (tests/commands/prove.rs)
        .env("ROLEGRID_PROVE", "never")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env("COLUMNS", "100")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the rolegrid binary starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = input.to_owned();
        // write on a thread: a large input must not dead-lock against a full stdout pipe
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let output = child.wait_with_output().expect("the rolegrid binary ends");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the binary in the crate root (paths in its output are relative to it).
pub fn run(args: &[&str]) -> Run {
    run_in(&root(), args, None)
}

/// Runs the binary in the crate root with `stdin`.
pub fn run_stdin(args: &[&str], stdin: &str) -> Run {
    run_in(&root(), args, Some(stdin))
}

/// A store in a temporary folder, built file by file.
pub struct TempStore {
    dir: tempfile::TempDir,
}

impl TempStore {
    /// An empty temporary folder.
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("rolegrid-test-")
                .tempdir()
                .expect("a temporary folder"),
        }
    }

    /// A store with `schemas/` and `policies/<product>/`, the schema given.
    pub fn with_product(product: &str, schema: &str) -> Self {
        let store = Self::new();
        store.write(&format!("schemas/{product}.cedarschema"), schema);
        std::fs::create_dir_all(store.path().join("policies").join(product)).unwrap();
        store
    }

    /// A copy of the bad-input seed store ([`SEED`]), to change freely.
    pub fn copy_of_seed() -> Self {
        let store = Self::new();
        copy_dir(&seed(), store.path());
        store
    }

    /// A copy of the shipped store (the repository's `schemas/`,
    /// `policies/` and `invariants/`), to change freely.
    pub fn copy_of_shipped() -> Self {
        let store = Self::new();
        for folder in ["schemas", "policies", "invariants"] {
            copy_dir(&root().join(folder), &store.path().join(folder));
        }
        store
    }

    /// A copy of a fixture folder (`tests/fixtures/<name>`), to change freely.
    pub fn copy_of(name: &str) -> Self {
        let store = Self::new();
        copy_dir(&fixture(name), store.path());
        store
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder as text, for output filters.
    pub fn path_str(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Writes a file (creating folders), relative to the store.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        self.write_bytes(relative, text.as_bytes())
    }

    /// Writes raw bytes (e.g. text that is not UTF-8).
    pub fn write_bytes(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs the binary inside the store (so paths print relative to it).
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args, None)
    }

    /// Runs the binary inside the store with `stdin`.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_in(self.path(), args, Some(stdin))
    }
}

impl Default for TempStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `rolegrid ARGS` in `dir` to its end, its output going to `out`;
/// gives its exit code and the highest peak resident memory (`VmHWM`, KiB)
/// read while it ran, every 10 ms.
#[cfg(target_os = "linux")]
pub fn peak_kib_of_run(dir: &Path, args: &[&str], out: &Path) -> (Option<i32>, u64) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        let high_water = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok());
        peak = peak.max(high_water.unwrap_or(0));
        if let Some(exit) = child.try_wait().unwrap() {
            return (exit.code(), peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `rolegrid ARGS` running in the background, each line it prints on stdout
/// sent on the receiver as it comes (stderr is discarded). Kill it when done.
pub fn spawn_lines(args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolegrid"))
        .args(args)
        .env("NO_COLOR", "1")
        // `check` proves only where a test asks (tests/commands/prove.rs)
        .env("ROLEGRID_PROVE", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    (child, received)
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A policy file whose condition nests `depth` parentheses on one line.
pub fn nested_parens_policy(depth: usize) -> String {
    format!(
        "@id(\"deep\")\npermit (principal, action, resource)\nwhen {{ {}true{} }};\n",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

/// Whether a solver is here; under CI its absence fails the test.
#[allow(dead_code)]
pub fn solver_present() -> bool {
    match rolegrid::prove::Solver::find() {
        Ok(_) => true,
        Err(problem) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: {}", problem.message());
            false
        }
        Err(problem) => panic!("CI installs cvc5: {}", problem.message()),
    }
}

/// A "solver" in `folder` that answers `unknown` to every query, as a
/// time-out does.
#[cfg(unix)]
#[allow(dead_code)]
pub fn unknown_solver(folder: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let fake = folder.join("cvc5");
    std::fs::write(
        &fake,
        "#!/bin/sh\nwhile read -r line; do case \"$line\" in *check-sat*) echo unknown;; esac; done\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}
