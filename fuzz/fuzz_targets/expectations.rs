//! The expectation-file loader (`src/expect/`): one `*.test.yaml` (rolegrid's
//! matrix and cases) or `*.test.json` (Cedar's test format) file loaded
//! against a seed product, then run.
//!
//! Input: a selector byte (bits 0-2: the seed product; bit 3: Cedar's JSON
//! format instead of YAML), then the file's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolegrid::expect::{RunOptions, Suite, run};
use rolegrid::{FileKind, SourceFile};
use rolegrid_fuzz::seed;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(text).into_owned();
    let snapshot = seed(selector & 0b111);
    // a folder that does not exist: Cedar tests naming entity files read nothing
    let (kind, name) = if selector & 0b1000 == 0 {
        (
            FileKind::ExpectationsYaml,
            "/nonexistent-rolegrid-fuzz/m.test.yaml",
        )
    } else {
        (
            FileKind::CedarTests,
            "/nonexistent-rolegrid-fuzz/c.test.json",
        )
    };
    let file = SourceFile::new(name, text);
    if let Ok(suite) = Suite::load(snapshot, &[(file, kind)]) {
        if suite.check_count() <= 10_000 {
            if let Ok(outcome) = run(&suite, snapshot, &RunOptions::default()) {
                let _ = outcome.failed();
            }
        }
    }
});
