//! Mutation check of the seed models: deleting any single policy, or flipping
//! any `permit` to `forbid`, must make at least one expectation fail.
//!
//! A mutant is the product's policy set with one policy removed, or replaced
//! by its text (cut at `Snapshot::policy_origin`) with `permit` turned into
//! `forbid`; it decides through the runner's `Decider` trait against the
//! product's entities, as `Snapshot::authorize` does. The expectations are
//! loaded once (mutants share the schema and entities) and run fail-fast.
//! Per product, the first permit's two mutants are also rebuilt from mutated
//! files (`Sources` in memory) to show both ways give the same failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::common;

use cedar_policy::{Authorizer, Effect, Entities, Policy, PolicyId, PolicySet, Request};
use rolegrid::expect::{Decider, RunOptions, Suite, run};
use rolegrid::{
    Answer, FileKind, Limits, LoadOptions, PolicyOrigin, Snapshot, SourceFile, Sources,
    build_snapshot,
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

/// The mutant's text of a policy: blanked out (`None`) or with its effect flipped.
fn mutated_text(origin: &PolicyOrigin, mutation: Mutation) -> Option<String> {
    let policy = &origin.file.text()[origin.span.clone()];
    match mutation {
        Mutation::Delete => None,
        Mutation::Flip => {
            let at = effect_offset(policy).expect("the policy has an effect keyword");
            Some(format!("{}forbid{}", &policy[..at], &policy[at + 6..]))
        }
    }
}

/// A mutant decided in memory: the snapshot's policies with one deleted or
/// replaced, against the snapshot's entities, through the runner's `Decider`.
struct Mutant<'a> {
    policies: PolicySet,
    base: &'a Snapshot,
    authorizer: Authorizer,
}

impl<'a> Mutant<'a> {
    fn new(base: &'a Snapshot, id: &PolicyId, mutation: Mutation) -> Self {
        let origin = base.policy_origin(id).expect("every policy has an origin");
        let mut policies: Vec<Policy> = base
            .policies()
            .policies()
            .filter(|p| p.id() != id)
            .cloned()
            .collect();
        if let Some(text) = mutated_text(origin, mutation) {
            policies
                .push(Policy::parse(Some(id.clone()), text).expect("the flipped policy parses"));
        }
        Self {
            policies: PolicySet::from_policies(policies).unwrap(),
            base,
            authorizer: Authorizer::new(),
        }
    }
}

impl Decider for Mutant<'_> {
    fn decide(&self, request: &Request, entities: Option<&Entities>) -> Answer {
        Answer::from_response(self.authorizer.is_authorized(
            request,
            &self.policies,
            entities.unwrap_or_else(|| self.base.entities()),
        ))
    }
}

/// Mutates every policy of one seed product and asserts every mutant fails an expectation.
fn mutation_check(product: &str) {
    let store = common::store();
    let limits = Limits::default();
    let options = LoadOptions::default();
    let base = store.load(product, &options).unwrap();
    let suite = Suite::load(&base, &expectation_files(&base)).unwrap_or_else(|p| {
        panic!(
            "{product}: expectations do not load:\n{}",
            common::render(&p)
        )
    });
    let baseline = run(&suite, &base, &RunOptions::default()).unwrap();
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

    // the in-memory mutants decide as the product rebuilt from mutated files
    // would: check it on the first permit, both ways
    let sources = Sources::read(&store.product_files(product, &limits).unwrap(), &limits).unwrap();
    let (first, _) = policies
        .iter()
        .find(|(_, e)| *e == Effect::Permit)
        .expect("a permit");
    for mutation in [Mutation::Delete, Mutation::Flip] {
        let origin = base.policy_origin(first).unwrap();
        let rebuilt = build_snapshot(&mutate(&sources, origin, mutation), Some(product), &options)
            .unwrap_or_else(|p| panic!("{product}: {mutation:?} {first}:\n{}", common::render(&p)));
        assert_eq!(
            rebuilt.policy_count(),
            base.policy_count() - usize::from(mutation == Mutation::Delete)
        );
        let from_files = run(&suite, &rebuilt, &RunOptions::default()).unwrap();
        let in_memory = run(
            &suite,
            &Mutant::new(&base, first, mutation),
            &RunOptions::default(),
        )
        .unwrap();
        assert_eq!(
            from_files.failed(),
            in_memory.failed(),
            "{product}: {mutation:?} {first}"
        );
        assert!(from_files.failed() > 0);
    }

    let mut mutants = 0;
    let mut survivors = Vec::new();
    for (id, effect) in policies {
        let mut mutations = vec![Mutation::Delete];
        if effect == Effect::Permit {
            mutations.push(Mutation::Flip);
        }
        // the items whose answers the policy decided (or errored in) first:
        // a mutant that fails does so there, almost always, and fail-fast stops
        let name = id.to_string();
        let focused = Suite {
            items: suite
                .items
                .iter()
                .zip(&baseline.items)
                .filter(|(_, outcome)| {
                    outcome.exercised.determined.contains_key(&name)
                        || outcome.exercised.erred.contains_key(&name)
                })
                .map(|(item, _)| item.clone())
                .collect(),
            ..suite.clone()
        };
        for mutation in mutations {
            mutants += 1;
            let mutant = Mutant::new(&base, &id, mutation);
            let fast = RunOptions { fail_fast: true };
            let killed = run(&focused, &mutant, &fast).unwrap().failed() > 0
                || run(&suite, &mutant, &fast).unwrap().failed() > 0;
            if !killed {
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
