//! Mutation check of the seed models: deleting any single policy, or flipping
//! any `permit` to `forbid`, must make at least one expectation fail.
//!
//! Mutants are built in memory: the product's sources with one policy's text
//! (found by `Snapshot::policy_origin`) blanked out or its effect flipped.
//! The expectations are loaded once against the unmutated snapshot (the
//! mutants share its schema and entities) and run fail-fast on each mutant.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cedar_policy::Effect;
use rolegrid::expect::{RunOptions, Suite, run};
use rolegrid::{
    FileKind, Limits, LoadOptions, PolicyOrigin, Snapshot, SourceFile, Sources, build_snapshot,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    Delete,
    Flip,
}

/// The offset of the effect keyword (`permit`/`forbid`) in a policy's text,
/// skipping annotations, strings and comments.
fn effect_offset(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ if text[i..].starts_with("permit") || text[i..].starts_with("forbid") => {
                let before_ok =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let after = bytes.get(i + 6).copied().unwrap_or(b' ');
                if before_ok && !(after.is_ascii_alphanumeric() || after == b'_') {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The product's sources with one policy mutated.
fn mutate(sources: &Sources, origin: &PolicyOrigin, mutation: Mutation) -> Sources {
    let mut mutated = sources.clone();
    let file = mutated
        .policies
        .iter_mut()
        .find(|f| f.path() == origin.file.path())
        .expect("the policy's file is among the sources");
    let text = file.text().to_owned();
    let span = origin.span.clone();
    let policy = &text[span.clone()];
    let replaced = match mutation {
        Mutation::Delete => policy
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect::<String>(),
        Mutation::Flip => {
            let at = effect_offset(policy).expect("the policy has an effect keyword");
            assert_eq!(&policy[at..at + 6], "permit");
            format!("{}forbid{}", &policy[..at], &policy[at + 6..])
        }
    };
    let new_text = format!("{}{}{}", &text[..span.start], replaced, &text[span.end..]);
    *file = SourceFile::new(file.path(), new_text);
    mutated
}

fn expectation_files(snapshot: &Snapshot) -> Vec<(SourceFile, FileKind)> {
    snapshot
        .files()
        .expect("a store product knows its files")
        .expectations
        .iter()
        .map(|(path, kind)| {
            (
                SourceFile::new(path, std::fs::read_to_string(path).unwrap()),
                *kind,
            )
        })
        .collect()
}

/// Mutates every policy of one seed product and asserts every mutant fails an expectation.
fn mutation_check(product: &str) {
    let store = common::store();
    let limits = Limits::default();
    let options = LoadOptions::default();
    // a deletion or an effect flip cannot make a valid policy set invalid (the
    // unmutated product validates): mutants skip strict validation, for speed
    let mutant_options = LoadOptions {
        validate_policies: false,
        ..LoadOptions::default()
    };
    let files = store.product_files(product, &limits).unwrap();
    let sources = Sources::read(&files, &limits).unwrap();
    let base = store.load(product, &options).unwrap();
    let suite = Suite::load(&base, &expectation_files(&base)).unwrap_or_else(|p| {
        panic!(
            "{product}: expectations do not load:\n{}",
            common::render(&p)
        )
    });
    let baseline = run(&suite, &base, &RunOptions::default());
    assert_eq!(
        baseline.failed(),
        0,
        "{product}: the unmutated model must pass"
    );
    let mut policies: Vec<_> = base
        .policies()
        .policies()
        .map(|p| (p.id().clone(), p.effect()))
        .collect();
    policies.sort_by_key(|(id, _)| id.to_string());
    assert!(!policies.is_empty());
    let mut mutants = 0;
    let mut survivors = Vec::new();
    for (id, effect) in policies {
        let origin = base.policy_origin(&id).expect("every policy has an origin");
        let mut mutations = vec![Mutation::Delete];
        if effect == Effect::Permit {
            mutations.push(Mutation::Flip);
        }
        for mutation in mutations {
            let mutated = mutate(&sources, origin, mutation);
            let mutant =
                build_snapshot(&mutated, Some(product), &mutant_options).unwrap_or_else(|p| {
                    panic!(
                        "{product}: {mutation:?} {id} does not load:\n{}",
                        common::render(&p)
                    )
                });
            let expected_count = base.policy_count() - usize::from(mutation == Mutation::Delete);
            assert_eq!(
                mutant.policy_count(),
                expected_count,
                "{product}: {mutation:?} {id}"
            );
            mutants += 1;
            let outcome = run(&suite, &mutant, &RunOptions { fail_fast: true });
            if outcome.failed() == 0 {
                survivors.push(format!("{mutation:?} {id}"));
            }
        }
    }
    assert!(
        survivors.is_empty(),
        "{product}: {} of {mutants} mutants survive (no expectation fails):\n{}",
        survivors.len(),
        survivors.join("\n")
    );
}

#[test]
fn the_store_holds_the_five_seed_models() {
    let products = common::store().products().unwrap();
    for seed in [
        "dataimporter",
        "fireworks",
        "imagekit",
        "imagekit-2020",
        "rudderstack",
    ] {
        assert!(
            products.iter().any(|p| p == seed),
            "{seed} is missing: {products:?}"
        );
    }
}

#[test]
fn dataimporter_kills_every_mutant() {
    mutation_check("dataimporter");
}

#[test]
fn fireworks_kills_every_mutant() {
    mutation_check("fireworks");
}

#[test]
fn imagekit_kills_every_mutant() {
    mutation_check("imagekit");
}

#[test]
fn imagekit_2020_kills_every_mutant() {
    mutation_check("imagekit-2020");
}

#[test]
fn rudderstack_kills_every_mutant() {
    mutation_check("rudderstack");
}

#[test]
fn effect_keyword_is_found_after_annotations_and_comments() {
    let text = "@id(\"permit-all\")\n@condition(\"forbid if x\")\n// permit everyone\npermit (principal, action, resource);";
    let at = effect_offset(text).unwrap();
    assert!(text[at..].starts_with("permit ("));
}
