//! Every console example of the README runs as written: each `$ rolegrid
//! ...` line in a ```console block is run from the repository root and its
//! output (stdout and stderr, in order) must be the text below it (`...`
//! stands for any lines, `[..]` for any text in a line), with its exit code
//! (`? 2`; success when none is given). So the README cannot drift from
//! what the tool does.

#[test]
fn readme_console_examples_run_as_written() {
    trycmd::TestCases::new()
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .register_bin("rolegrid", trycmd::cargo::cargo_bin!("rolegrid"))
        .case("README.md");
}
