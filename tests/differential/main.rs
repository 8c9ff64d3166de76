//! rolegrid against plain Cedar: random stores (proptest) and Cedar's own integration tests.
//!
//! One test binary of a few (build time, disk): each module below was a test
//! binary of its own.

#[path = "../common/mod.rs"]
mod common;

mod corpus;
mod differential;
mod modes;
