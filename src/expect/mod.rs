//! Expectations: what a product's policies must decide, and the runner that
//! checks them.
//!
//! A product's expectation files live next to its policies:
//!
//! - `*.test.yaml`: rolegrid's format, with matrix rows (an action, a resource
//!   type or a named fixture resource, and the roles expecting allow; every
//!   other role expects deny) and cases (one explicit request each);
//! - `*.test.json`: Cedar's own test format, the JSON `cedar run-tests --tests`
//!   reads (`[{name, request, entities, decision, reason, num_errors}]`).
//!
//! Loading ([`Suite::load`]) turns every row, case and Cedar test into an
//! [`Item`] holding the concrete requests ([`Check`]s) it stands for, each
//! with its expected decision; malformed files are [`Problem`](crate::Problem)s of kind
//! [`ProblemKind::Expectation`](crate::ProblemKind::Expectation) pointing at
//! the file, line and column. Running ([`run`]) asks a [`Decider`] (a
//! [`Snapshot`](crate::Snapshot), as services do) for each request and compares.
//!
//! ```
//! use rolegrid::{LoadOptions, SourceFile, Sources, build_snapshot};
//! use rolegrid::expect::{RunOptions, Suite, run};
//!
//! let sources = Sources {
//!     schema: Some(SourceFile::new("s.cedarschema",
//!         "namespace App { entity Role; entity User in [Role]; entity Doc;
//!          action view appliesTo { principal: User, resource: Doc }; }")),
//!     policies: vec![SourceFile::new("p.cedar",
//!         r#"@id("readers") permit(principal in App::Role::"reader", action, resource);"#)],
//!     entities: vec![(SourceFile::new("f.entities.yaml", r#"
//! - {uid: {type: App::Role, id: reader}}
//! - {uid: {type: App::Role, id: guest}}
//! - {uid: {type: App::User, id: rita}, parents: [{type: App::Role, id: reader}]}
//! - {uid: {type: App::User, id: gus}, parents: [{type: App::Role, id: guest}]}
//! - {uid: {type: App::Doc, id: d1}}
//! "#), rolegrid::FileKind::EntitiesYaml)],
//! };
//! let snapshot = build_snapshot(&sources, Some("app"), &LoadOptions::default())?;
//! let tests = SourceFile::new("matrix.test.yaml", "
//! matrix:
//!   - action: view
//!     resource: Doc
//!     allow: [reader]
//! ");
//! let suite = Suite::load(&snapshot, &[(tests, rolegrid::FileKind::ExpectationsYaml)])?;
//! assert_eq!(suite.check_count(), 2); // rita (reader) and gus (guest) on d1
//! let outcome = run(&suite, &snapshot, &RunOptions::default())?;
//! assert_eq!(outcome.failed(), 0);
//! # Ok::<(), rolegrid::Problems>(())
//! ```

mod cedar;
mod fixture;
mod item;
mod model;
mod row;
mod runner;
mod suite;
mod yaml;

pub use fixture::{Fixture, short_uid};
pub use item::{Item, ItemChecks, ItemKind};
pub use model::{Check, Expected, ReasonMatch, decision_name};
pub use runner::{
    CellCount, CheckOutcome, Decider, Exercised, Failed, ItemOutcome, KEPT_FAILURES, Mismatch,
    RunOptions, RunOutcome, run,
};
pub use suite::Suite;
