//! The OpenID AuthZEN Authorization API 1.0 over a product's snapshot,
//! without HTTP: request documents read ([`document`]), decided
//! ([`Decider`]), searched ([`search`]), and the answers written as the
//! specification shapes them. [`crate::server`] serves them over HTTP.
//!
//! How AuthZEN maps to Cedar:
//!
//! - `subject` and `resource` `{type, id}` become entity uids: the type as
//!   written, qualified (`Todo::user`) or in the product's namespace
//!   (`user` is `Todo::user`), declared by the schema; `id` is the entity id.
//! - `properties` become that entity's attributes for this request only:
//!   laid over the stored entity when the product's files define it (its
//!   other attributes and its parents kept), else a new entity with no
//!   parents; checked against the schema (a wrong type, a missing required
//!   attribute or an undeclared one is refused).
//! - `action.name` is the action id (`can_read`), or a full action uid;
//!   the schema must declare it.
//! - `context` is Cedar's context, checked against the action's context type.
//! - The decision is Cedar's: `{"decision": true}` for allow, `false` for
//!   deny. With `"options": {"explain": true}` in the request (or a server
//!   that always explains), `context` carries `reasons` (the determining
//!   policy ids) and `errors` (`policy`, `message`).
//!
//! A request that is not valid (a missing member, a wrong JSON type, an
//! unknown type, action or attribute, a context or properties that do not
//! fit the schema) is a [`Rejection`] with status 400 and a message naming
//! the member. In a batch, a refused evaluation is answered in its place as
//! `{"decision": false, "context": {"error": {"status": 400, "message": ...}}}`
//! (the specification's per-evaluation errors); a batch whose document is
//! malformed is refused whole.

mod answer;
mod decide;
pub mod document;
mod rejection;
pub mod search;

pub use answer::{Decision, EvaluationsResponse, metadata};
pub use decide::{Decided, Decider, Given, Outcome};
pub use document::Semantic;
pub use rejection::Rejection;
