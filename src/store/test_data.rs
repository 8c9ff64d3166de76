//! Where the unit tests find their data: the project's own files and the
//! shared Cedar corpus beside it (read from `../shared/`, never copied).

use std::path::PathBuf;

/// The project's root folder.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cedar's integration tests folder in `../shared/`.
pub(crate) fn cedar_tests() -> PathBuf {
    root().join("../shared/corpus/cedar-integration-tests")
}

/// Cedar's generated corpus (7,809 tests, 139 MB unpacked) unpacked into a
/// temporary folder, and the `corpus-tests` folder within it.
pub(crate) fn unpacked_corpus() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(cedar_tests().join("corpus-tests.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let tests = dir.path().join("corpus-tests");
    (dir, tests)
}

/// A generated store of `policies` policies and `entities` entities (and a
/// few expectations), the same every time.
pub(crate) fn generated(policies: usize, entities: usize) -> rolegrid_synth::SynthStore {
    rolegrid_synth::SynthStore::generate(&rolegrid_synth::SynthConfig {
        policies,
        entities,
        expectations: 10,
        ..Default::default()
    })
    .unwrap()
}

/// The files of `store` whose path ends with `suffix`.
pub(crate) fn ending<'s>(
    store: &'s rolegrid_synth::SynthStore,
    suffix: &'s str,
) -> impl Iterator<Item = &'s rolegrid_synth::SynthFile> {
    store
        .files()
        .iter()
        .filter(move |f| f.path.to_string_lossy().ends_with(suffix))
}
