//! The library as services use it, and the seed models' answers, guarantees and reloads.
//!
//! One test binary of a few (build time, disk): each module below was a test
//! binary of its own.

#[path = "../common/mod.rs"]
mod common;

mod guarantees;
mod library;
mod mutation;
mod reload;
mod seed_models;
mod synth;
