//! `rolegrid serve` over real HTTP on 127.0.0.1 with ephemeral ports:
//! every AuthZEN endpoint, the operations routes, the limits, bad input,
//! answers equal to the library's, and reload under load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod differential;
mod endpoints;
mod harness;
mod operations;
mod process;
mod readme;
mod reload;
mod search;
mod todo;
