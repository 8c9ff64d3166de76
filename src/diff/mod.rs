//! What a change does to who can do what: two versions of a product (or two
//! models of one product) compared cell by cell over their effective
//! matrices ([`crate::matrix`]), with the policies and expectation files
//! that changed.
//!
//! A cell is `(role, action, resource type)`; its state on each side is
//! `allow`, `deny`, `conditional` (allowed for some of the fixture's
//! requests, with the condition in words) or `absent` (the role, action or
//! type is not in that side's model, or the fixture has nothing to ask).
//! A change *widens* when the new state grants more (`deny`/`absent` →
//! `conditional` → `allow`), *narrows* when it grants less, and is
//! *changed* otherwise (a different condition). A cell that grants nothing
//! on either side (`deny` or `absent`) is not a change.

mod compare;
mod model;
mod render;
mod source;

pub use compare::{Side, compare_products};
pub use model::{
    CellChange, ChangeKind, DIFF_VERSION, Diff, FileChange, FileChangeKind, PolicyChange, Presence,
    ProductDiff, State,
};
pub use render::{github, human, markdown};
pub use source::{BaseStore, open_base};
