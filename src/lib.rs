//! rolegrid: permission matrices as Cedar policies, checked and served.
//!
//! A *store* is a folder with `schemas/<product>.cedarschema` and
//! `policies/<product>/` holding that product's `*.cedar` policies and YAML
//! entity files. Loading a product builds a [`Snapshot`]: schema, policies
//! and entities validated together, immutable, ready to answer requests with
//! exactly cedar-policy's decisions, reasons and errors.
//!
//! ```no_run
//! use rolegrid::{LoadOptions, Store};
//! use std::sync::Arc;
//!
//! let store = Store::open(".")?;
//! let snapshot = Arc::new(store.load("fireworks", &LoadOptions::default())?);
//! let request = snapshot.request(
//!     r#"Fireworks::User::"ada-admin""#,
//!     r#"Fireworks::Action::"viewUsers""#,
//!     r#"Fireworks::Account::"acme""#,
//!     None,
//! )?;
//! let answer = snapshot.authorize(&request);
//! println!("{:?} because of {:?}", answer.decision(), answer.reasons());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Errors are [`Problem`]s: a typed [`ProblemKind`], the file, line and column,
//! rendered as miette reports by [`Renderer`].
//!
//! What a service uses: [`Store`] and [`LoadOptions`] (with [`Limits`]) to
//! load, or [`build_snapshot`] for explicit files; [`Snapshot`] to decide
//! (with [`with_entities`] for request-specific entities); [`Evaluator`] to
//! serve a store hot-reloaded ([`Watch`], [`Status`]); [`RequestSpec`] and
//! [`UidCache`] for requests read as JSON ([`json`]: read strictly, a key
//! given twice is an error); [`expect`], [`check`],
//! [`coverage`], [`matrix`] and [`report`] for what `rolegrid check` does;
//! [`roles`] for a product's roles; [`parallel`] to decide on threads whose
//! stacks give the same answers as every command; [`prove`] for proofs over
//! every request the schema allows (invariants, built-in checks, two policy
//! sets compared) and [`diff`] for what a change does.

mod answer;
#[cfg(test)]
mod architecture;
pub mod authzen;
pub mod check;
pub mod coverage;
mod diagnostics;
pub mod diff;
mod directory;
mod evaluator;
pub mod expect;
pub mod explain;
mod files;
mod graph;
mod index;
pub mod json;
mod limits;
pub mod matrix;
mod origin;
pub mod parallel;
pub mod prove;
mod reload;
pub mod report;
mod request;
pub mod roles;
mod schema_info;
pub mod server;
mod snapshot;
mod store;
mod yaml;

pub use answer::{Answer, PolicyError};
pub use diagnostics::{Location, Problem, ProblemKind, Problems, Renderer, SourceFile};
pub use directory::Directory;
pub use evaluator::{Evaluator, ReloadEvent, ReloadFailure, ReloadOutcome, SETTLE_PERIOD, Status};
pub use files::{FileKind, ProductFiles};
pub use limits::Limits;
pub use origin::{EntityOrigin, PolicyOrigin};
pub use reload::Watch;
pub use request::{RequestSpec, UidCache, parse_uid};
pub use snapshot::Snapshot;
pub use store::{LoadOptions, PolicyIds, Sources, Store, build_snapshot, with_entities};
