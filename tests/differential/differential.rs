//! Differential tests: rolegrid's answers equal plain cedar-policy's on
//! random stores and requests (proptest).
//!
//! Each case is a random store: entity hierarchies (users in groups and
//! roles, groups and roles in groups and roles, deep chains and several
//! parents, docs in folders in folders), actions in action groups, with or
//! without a schema (optionally namespaced), and random policies: `permit`
//! and `forbid` with principal/resource scopes `==`, `in`, `is T`,
//! `is T in E` or none, action scopes `==`, `in [..]`, `in` a group or none,
//! and `when`/`unless` conditions (attributes, `has`, `in`, `is`, `like`,
//! sets, if-then-else, arithmetic that overflows, attributes of entities
//! that do not exist). Scopes and requests name entities of the store and
//! entities it does not hold.
//!
//! rolegrid loads the store from in-memory files (policies split over
//! several files, entities as JSON or YAML) with positional ids
//! ([`PolicyIds::Positional`]), and answers with [`Snapshot::authorize`];
//! plain cedar-policy parses the concatenated text with
//! [`PolicySet::from_str`] and decides with [`Authorizer::is_authorized`].
//! For every request: both build it or both refuse it, and the decision,
//! the set of determining policies and the set of (policy, message) errors
//! are equal. When a case asks for validation, rolegrid loads iff Cedar's
//! strict validator accepts the policies.
//!
//! - `random_stores_agree`: 300 stores × 12 to 48 requests (~8,700), fixed
//!   seed, on two threads (CI).
//! - `random_stores_agree_many` (ignored, opt-in): 8,000 stores × 10 to 40
//!   requests (~200,000); `ROLEGRID_DIFF_CASES` and
//!   `ROLEGRID_DIFF_SEED` override the count and the seed:
//!   `cargo test --release --test differential -- --ignored --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Response, Schema,
    ValidationMode, Validator,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use rolegrid::{FileKind, Limits, LoadOptions, PolicyIds, SourceFile, Sources, build_snapshot};
use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Instant;

// ---------------------------------------------------------------- the model

/// The entity types of every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
    Role,
    Folder,
    Doc,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::User, Kind::Group, Kind::Role, Kind::Folder, Kind::Doc];

    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Role => "Role",
            Kind::Folder => "Folder",
            Kind::Doc => "Doc",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kind::User => "u",
            Kind::Group => "grp",
            Kind::Role => "role",
            Kind::Folder => "f",
            Kind::Doc => "d",
        }
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(Kind::ALL.to_vec())
}

/// An entity named by a policy or a request: one of the store's (by index
/// among its kind), or one the store does not hold.
#[derive(Debug, Clone)]
struct EntRef {
    kind: Kind,
    index: Index,
    unknown: bool,
}

fn ent_ref_of(kinds: impl Strategy<Value = Kind>) -> impl Strategy<Value = EntRef> {
    (kinds, any::<Index>(), prop::bool::weighted(0.15)).prop_map(|(kind, index, unknown)| EntRef {
        kind,
        index,
        unknown,
    })
}

fn ent_ref() -> impl Strategy<Value = EntRef> {
    ent_ref_of(kind())
}

/// Principal and resource scopes.
#[derive(Debug, Clone)]
enum Scope {
    Any,
    Eq(EntRef),
    In(EntRef),
    Is(Kind),
    IsIn(Kind, EntRef),
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        2 => Just(Scope::Any),
        2 => ent_ref().prop_map(Scope::Eq),
        3 => ent_ref().prop_map(Scope::In),
        1 => kind().prop_map(Scope::Is),
        2 => (kind(), ent_ref()).prop_map(|(k, e)| Scope::IsIn(k, e)),
    ]
}

/// An action or action group, by index among all of them (or an unknown one).
#[derive(Debug, Clone)]
struct ActRef {
    index: Index,
    unknown: bool,
}

fn act_ref() -> impl Strategy<Value = ActRef> {
    (any::<Index>(), prop::bool::weighted(0.05))
        .prop_map(|(index, unknown)| ActRef { index, unknown })
}

#[derive(Debug, Clone)]
enum ActionScope {
    Any,
    Eq(ActRef),
    InList(Vec<ActRef>),
    In(ActRef),
}

fn action_scope() -> impl Strategy<Value = ActionScope> {
    prop_oneof![
        2 => Just(ActionScope::Any),
        3 => act_ref().prop_map(ActionScope::Eq),
        2 => prop::collection::vec(act_ref(), 0..4).prop_map(ActionScope::InList),
        3 => act_ref().prop_map(ActionScope::In),
    ]
}

/// Entity-valued expressions.
#[derive(Debug, Clone, Copy)]
enum Var {
    Principal,
    Resource,
    PrincipalBoss,
    ResourceOwner,
}

fn var() -> impl Strategy<Value = Var> {
    prop_oneof![
        4 => Just(Var::Principal),
        4 => Just(Var::Resource),
        1 => Just(Var::PrincipalBoss),
        2 => Just(Var::ResourceOwner),
    ]
}

/// Long literals, with values that make arithmetic overflow.
fn long_lit() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -3i64..10,
        1 => Just(i64::MAX),
        1 => Just(i64::MIN + 1),
        1 => Just(1i64 << 62),
        1 => Just(-(1i64 << 62)),
        1 => any::<i64>().prop_map(|n| n.max(i64::MIN + 1)),
    ]
}

#[derive(Debug, Clone)]
enum LongE {
    Lit(i64),
    Level(Var),
    CtxN,
    Add(Box<LongE>, Box<LongE>),
    Sub(Box<LongE>, Box<LongE>),
    Mul(Box<LongE>, Box<LongE>),
    Neg(Box<LongE>),
    TagCount(Var),
}

fn long_e() -> impl Strategy<Value = LongE> {
    let leaf = prop_oneof![
        3 => long_lit().prop_map(LongE::Lit),
        3 => var().prop_map(LongE::Level),
        2 => Just(LongE::CtxN),
        1 => var().prop_map(LongE::TagCount),
    ];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| LongE::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| LongE::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| LongE::Mul(Box::new(a), Box::new(b))),
            inner.prop_map(|a| LongE::Neg(Box::new(a))),
        ]
    })
}

const ATTRS: [&str; 7] = ["level", "name", "tags", "boss", "owner", "secret", "nope"];
const STRINGS: [&str; 4] = ["a", "b", "x", "u1"];

#[derive(Debug, Clone)]
enum BoolE {
    Lit(bool),
    Cmp(LongE, u8, LongE),
    Has(Var, usize),
    In(Var, EntRef),
    InSet(Var, Vec<EntRef>),
    InVar(Var, Var),
    Is(Var, Kind),
    IsIn(Var, Kind, EntRef),
    EqVar(Var, Var),
    EqEnt(Var, EntRef),
    TagsContains(Var, Option<usize>),
    Secret(Var),
    Like(Var, usize),
    CtxHasS,
    CtxSEq(usize),
    Not(Box<BoolE>),
    And(Box<BoolE>, Box<BoolE>),
    Or(Box<BoolE>, Box<BoolE>),
    If(Box<BoolE>, Box<BoolE>, Box<BoolE>),
}

fn bool_e() -> impl Strategy<Value = BoolE> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(BoolE::Lit),
        4 => (long_e(), 0u8..6, long_e()).prop_map(|(a, op, b)| BoolE::Cmp(a, op, b)),
        3 => (var(), 0..ATTRS.len()).prop_map(|(v, a)| BoolE::Has(v, a)),
        3 => (var(), ent_ref()).prop_map(|(v, e)| BoolE::In(v, e)),
        1 => (var(), prop::collection::vec(ent_ref(), 0..3)).prop_map(|(v, e)| BoolE::InSet(v, e)),
        1 => (var(), var()).prop_map(|(a, b)| BoolE::InVar(a, b)),
        2 => (var(), kind()).prop_map(|(v, k)| BoolE::Is(v, k)),
        1 => (var(), kind(), ent_ref()).prop_map(|(v, k, e)| BoolE::IsIn(v, k, e)),
        2 => (var(), var()).prop_map(|(a, b)| BoolE::EqVar(a, b)),
        1 => (var(), ent_ref()).prop_map(|(v, e)| BoolE::EqEnt(v, e)),
        2 => (var(), prop::option::of(0..STRINGS.len())).prop_map(|(v, s)| BoolE::TagsContains(v, s)),
        2 => var().prop_map(BoolE::Secret),
        1 => (var(), 0usize..4).prop_map(|(v, p)| BoolE::Like(v, p)),
        1 => Just(BoolE::CtxHasS),
        1 => (0..STRINGS.len()).prop_map(BoolE::CtxSEq),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| BoolE::Not(Box::new(a))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| BoolE::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| BoolE::Or(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone(), inner).prop_map(|(a, b, c)| BoolE::If(
                Box::new(a),
                Box::new(b),
                Box::new(c)
            )),
        ]
    })
}

#[derive(Debug, Clone)]
struct PolicySpec {
    id_annotation: bool,
    permit: bool,
    principal: Scope,
    action: ActionScope,
    resource: Scope,
    conditions: Vec<(bool, BoolE)>,
}

fn policy() -> impl Strategy<Value = PolicySpec> {
    (
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.8),
        scope(),
        action_scope(),
        scope(),
        prop_oneof![
            2 => Just(0usize),
            2 => Just(1usize),
            1 => Just(2usize),
        ]
        .prop_flat_map(|n| prop::collection::vec((prop::bool::weighted(0.7), bool_e()), n)),
        prop::option::weighted(0.35, principal_guard()),
    )
        .prop_map(
            |(id_annotation, permit, principal, action, resource, mut conditions, guard)| {
                // a role model's shape: `when { principal in [roles] && rest }` first
                if let Some(guard) = guard {
                    let first = match conditions.first() {
                        Some((true, rest)) => BoolE::And(Box::new(guard), Box::new(rest.clone())),
                        _ => guard,
                    };
                    match conditions.first_mut() {
                        Some(slot @ (true, _)) => slot.1 = first,
                        _ => conditions.insert(0, (true, first)),
                    }
                }
                PolicySpec {
                    id_annotation,
                    permit,
                    principal,
                    action,
                    resource,
                    conditions,
                }
            },
        )
}

/// A first condition that only some principals can pass (the index's
/// principal guard): `principal in E`, `principal in [..]`, `principal == E`,
/// or a disjunction of two of those.
fn principal_guard() -> impl Strategy<Value = BoolE> {
    let leaf = prop_oneof![
        3 => ent_ref().prop_map(|e| BoolE::In(Var::Principal, e)),
        3 => prop::collection::vec(ent_ref(), 0..4).prop_map(|e| BoolE::InSet(Var::Principal, e)),
        1 => ent_ref().prop_map(|e| BoolE::EqEnt(Var::Principal, e)),
    ];
    prop_oneof![
        4 => leaf.clone(),
        1 => (leaf.clone(), leaf).prop_map(|(a, b)| BoolE::Or(Box::new(a), Box::new(b))),
    ]
}

/// Parents among earlier entities of the same kind (`chain`: always the one
/// just before, which makes deep chains), plus parents of other kinds.
#[derive(Debug, Clone)]
struct Parents {
    chain: bool,
    same: Vec<Index>,
    other: Vec<Index>,
}

fn parents() -> impl Strategy<Value = Parents> {
    (
        prop::bool::weighted(0.4),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(any::<Index>(), 0..3),
    )
        .prop_map(|(chain, same, other)| Parents { chain, same, other })
}

#[derive(Debug, Clone)]
struct EntitySpec {
    parents: Parents,
    level: i64,
    /// schema-free stores only: leave out the required attributes
    drop_required: bool,
    tags: Option<Vec<usize>>,
    /// a user's boss or a doc's owner: a user, maybe one not in the store
    link: Option<(Index, bool)>,
    secret: Option<bool>,
}

fn entity_spec() -> impl Strategy<Value = EntitySpec> {
    (
        parents(),
        long_lit(),
        prop::bool::weighted(0.1),
        prop::option::of(prop::collection::vec(0..STRINGS.len(), 0..3)),
        prop::option::weighted(0.6, (any::<Index>(), prop::bool::weighted(0.2))),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(parents, level, drop_required, tags, link, secret)| EntitySpec {
                parents,
                level,
                drop_required,
                tags,
                link,
                secret,
            },
        )
}

#[derive(Debug, Clone)]
struct ActionSpec {
    /// parents among the action groups
    groups: Vec<Index>,
    /// principal types (bits: User, Group), resource types (bits: Doc, Folder, User)
    principals: u8,
    resources: u8,
}

fn action_spec() -> impl Strategy<Value = ActionSpec> {
    (prop::collection::vec(any::<Index>(), 0..3), 1u8..4, 1u8..8).prop_map(
        |(groups, principals, resources)| ActionSpec {
            groups,
            principals,
            resources,
        },
    )
}

#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    principal: EntRef,
    action: ActRef,
    resource: EntRef,
    n: i64,
    s: Option<usize>,
    /// with a schema, take principal and resource types the action applies to
    fit: bool,
    /// aim at a policy: take its scopes' entities (or members of them) and
    /// actions, so scopes match often
    aim: Option<(Index, Index)>,
}

fn request_spec() -> impl Strategy<Value = RequestSpec> {
    (
        ent_ref(),
        act_ref(),
        ent_ref(),
        long_lit(),
        prop::option::of(0..STRINGS.len()),
        prop::bool::weighted(0.9),
        prop::option::weighted(0.5, (any::<Index>(), any::<Index>())),
    )
        .prop_map(
            |(principal, action, resource, n, s, fit, aim)| RequestSpec {
                principal,
                action,
                resource,
                n,
                s,
                fit,
                aim,
            },
        )
}

#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) schema: bool,
    namespace: bool,
    validate: bool,
    yaml: bool,
    /// the entities after the cut come as extra entities (`Snapshot::with_entities`,
    /// then `Snapshot::authorize_with`), not from the store
    extra: bool,
    users: Vec<EntitySpec>,
    groups: Vec<EntitySpec>,
    roles: Vec<EntitySpec>,
    folders: Vec<EntitySpec>,
    docs: Vec<EntitySpec>,
    actions: Vec<ActionSpec>,
    action_groups: Vec<Vec<Index>>,
    policies: Vec<PolicySpec>,
    policy_cuts: Vec<Index>,
    entity_cut: Index,
    pub(crate) requests: Vec<RequestSpec>,
}

pub(crate) fn case(max_requests: usize) -> impl Strategy<Value = Case> {
    let flags = (
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.25),
        any::<bool>(),
        prop::bool::weighted(0.25),
    );
    let entities = (
        prop::collection::vec(entity_spec(), 0..10),
        prop::collection::vec(entity_spec(), 0..8),
        prop::collection::vec(entity_spec(), 0..7),
        prop::collection::vec(entity_spec(), 0..6),
        prop::collection::vec(entity_spec(), 0..7),
    );
    let actions = (
        prop::collection::vec(action_spec(), 1..6),
        prop::collection::vec(prop::collection::vec(any::<Index>(), 0..3), 0..4),
    );
    let rest = (
        prop::collection::vec(policy(), 1..12),
        prop::collection::vec(any::<Index>(), 0..3),
        any::<Index>(),
        prop::collection::vec(request_spec(), max_requests / 4..=max_requests),
    );
    (flags, entities, actions, rest).prop_map(
        |(
            (schema, namespace, validate, yaml, extra),
            (users, groups, roles, folders, docs),
            (actions, action_groups),
            (policies, policy_cuts, entity_cut, requests),
        )| Case {
            schema,
            namespace: namespace && schema,
            validate: validate && schema,
            yaml,
            extra,
            users,
            groups,
            roles,
            folders,
            docs,
            actions,
            action_groups,
            policies,
            policy_cuts,
            entity_cut,
            requests,
        },
    )
}

// ---------------------------------------------------------------- rendering

impl Case {
    fn ns(&self) -> &'static str {
        if self.namespace { "App::" } else { "" }
    }

    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::User => self.users.len(),
            Kind::Group => self.groups.len(),
            Kind::Role => self.roles.len(),
            Kind::Folder => self.folders.len(),
            Kind::Doc => self.docs.len(),
        }
    }

    fn uid(&self, kind: Kind, id: &str) -> String {
        format!("{}{}::\"{id}\"", self.ns(), kind.name())
    }

    fn ent(&self, e: &EntRef) -> String {
        self.uid_of(e.kind, &e.index, e.unknown)
    }

    fn uid_of(&self, kind: Kind, index: &Index, unknown: bool) -> String {
        let n = self.count(kind);
        if unknown || n == 0 {
            self.uid(kind, &format!("ghost{}", index.index(3)))
        } else {
            self.uid(kind, &format!("{}{}", kind.prefix(), index.index(n)))
        }
    }

    fn type_name(&self, kind: Kind) -> String {
        format!("{}{}", self.ns(), kind.name())
    }

    /// Action ids: `a0..` then the groups `ag0..`.
    fn action_id(&self, a: &ActRef) -> String {
        let n = self.actions.len() + self.action_groups.len();
        if a.unknown {
            "zz".to_owned()
        } else {
            let i = a.index.index(n);
            if i < self.actions.len() {
                format!("a{i}")
            } else {
                format!("ag{}", i - self.actions.len())
            }
        }
    }

    fn action(&self, a: &ActRef) -> String {
        format!("{}Action::\"{}\"", self.ns(), self.action_id(a))
    }

    fn var(v: Var) -> &'static str {
        match v {
            Var::Principal => "principal",
            Var::Resource => "resource",
            Var::PrincipalBoss => "principal.boss",
            Var::ResourceOwner => "resource.owner",
        }
    }

    fn long(&self, e: &LongE) -> String {
        match e {
            LongE::Lit(n) if *n < 0 => format!("({n})"),
            LongE::Lit(n) => n.to_string(),
            LongE::Level(v) => format!("{}.level", Self::var(*v)),
            LongE::CtxN => "context.n".to_owned(),
            LongE::Add(a, b) => format!("({} + {})", self.long(a), self.long(b)),
            LongE::Sub(a, b) => format!("({} - {})", self.long(a), self.long(b)),
            LongE::Mul(a, b) => format!("({} * {})", self.long(a), self.long(b)),
            LongE::Neg(a) => format!("(-{})", self.long(a)),
            LongE::TagCount(v) => {
                format!("(if {0}.tags.contains(\"a\") then 1 else 0)", Self::var(*v))
            }
        }
    }

    fn cond(&self, e: &BoolE) -> String {
        match e {
            BoolE::Lit(b) => b.to_string(),
            BoolE::Cmp(a, op, b) => {
                let op = ["<", "<=", ">", ">=", "==", "!="][usize::from(*op) % 6];
                format!("{} {op} {}", self.long(a), self.long(b))
            }
            BoolE::Has(v, a) => format!("{} has {}", Self::var(*v), ATTRS[*a]),
            BoolE::In(v, e) => format!("{} in {}", Self::var(*v), self.ent(e)),
            BoolE::InSet(v, es) => format!(
                "{} in [{}]",
                Self::var(*v),
                es.iter()
                    .map(|e| self.ent(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            BoolE::InVar(a, b) => format!("{} in {}", Self::var(*a), Self::var(*b)),
            BoolE::Is(v, k) => format!("{} is {}", Self::var(*v), self.type_name(*k)),
            BoolE::IsIn(v, k, e) => {
                format!(
                    "{} is {} in {}",
                    Self::var(*v),
                    self.type_name(*k),
                    self.ent(e)
                )
            }
            BoolE::EqVar(a, b) => format!("{} == {}", Self::var(*a), Self::var(*b)),
            BoolE::EqEnt(v, e) => format!("{} == {}", Self::var(*v), self.ent(e)),
            BoolE::TagsContains(v, Some(s)) => {
                format!("{}.tags.contains(\"{}\")", Self::var(*v), STRINGS[*s])
            }
            BoolE::TagsContains(v, None) => format!("{}.tags.contains(context.s)", Self::var(*v)),
            BoolE::Secret(v) => format!("{}.secret", Self::var(*v)),
            BoolE::Like(v, p) => {
                let pattern = ["u*", "*1", "*", "grp?"][*p];
                format!("{}.name like \"{pattern}\"", Self::var(*v))
            }
            BoolE::CtxHasS => "context has s".to_owned(),
            BoolE::CtxSEq(s) => format!("context.s == \"{}\"", STRINGS[*s]),
            BoolE::Not(a) => format!("!({})", self.cond(a)),
            BoolE::And(a, b) => format!("({}) && ({})", self.cond(a), self.cond(b)),
            BoolE::Or(a, b) => format!("({}) || ({})", self.cond(a), self.cond(b)),
            BoolE::If(a, b, c) => format!(
                "if ({}) then ({}) else ({})",
                self.cond(a),
                self.cond(b),
                self.cond(c)
            ),
        }
    }

    fn scope(&self, var: &str, s: &Scope) -> String {
        match s {
            Scope::Any => var.to_owned(),
            Scope::Eq(e) => format!("{var} == {}", self.ent(e)),
            Scope::In(e) => format!("{var} in {}", self.ent(e)),
            Scope::Is(k) => format!("{var} is {}", self.type_name(*k)),
            Scope::IsIn(k, e) => format!("{var} is {} in {}", self.type_name(*k), self.ent(e)),
        }
    }

    fn policy_text(&self, index: usize, p: &PolicySpec) -> String {
        let mut out = String::new();
        if p.id_annotation {
            // ignored by positional ids, on both sides
            let _ = writeln!(out, "@id(\"named{index}\")");
        }
        let action = match &p.action {
            ActionScope::Any => "action".to_owned(),
            ActionScope::Eq(a) => format!("action == {}", self.action(a)),
            ActionScope::InList(list) => format!(
                "action in [{}]",
                list.iter()
                    .map(|a| self.action(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ActionScope::In(a) => format!("action in {}", self.action(a)),
        };
        let _ = write!(
            out,
            "{}(\n  {},\n  {action},\n  {}\n)",
            if p.permit { "permit" } else { "forbid" },
            self.scope("principal", &p.principal),
            self.scope("resource", &p.resource)
        );
        for (when, c) in &p.conditions {
            let _ = write!(
                out,
                "\n{} {{ {} }}",
                if *when { "when" } else { "unless" },
                self.cond(c)
            );
        }
        out.push_str(";\n");
        out
    }

    /// The policies as a product of a store holds them: each named
    /// `policy<N>` by `@id` (its own `@id`, if any, left out), so a store
    /// gives them the ids plain Cedar's positional parse gives.
    pub(crate) fn store_policy_text(&self) -> String {
        self.policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let unnamed = PolicySpec {
                    id_annotation: false,
                    ..p.clone()
                };
                format!("@id(\"policy{i}\")\n{}", self.policy_text(i, &unnamed))
            })
            .collect()
    }

    /// The policy files rolegrid reads (the policies cut into up to 4 files,
    /// some maybe empty), and their concatenation, which plain Cedar reads.
    pub(crate) fn policy_files(&self) -> (Vec<String>, String) {
        let texts: Vec<String> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| self.policy_text(i, p))
            .collect();
        let mut cuts: Vec<usize> = self
            .policy_cuts
            .iter()
            .map(|c| c.index(texts.len() + 1))
            .collect();
        cuts.push(texts.len());
        cuts.sort_unstable();
        let mut files = Vec::new();
        let mut start = 0;
        for cut in cuts {
            files.push(texts[start..cut].concat());
            start = cut;
        }
        (files, texts.concat())
    }

    pub(crate) fn schema_text(&self) -> String {
        let mut s = String::new();
        if self.namespace {
            s.push_str("namespace App {\n");
        }
        s.push_str(
            "entity Role in [Role];
entity Group in [Group, Role];
entity User in [Group, Role] { level: Long, name: String, tags?: Set<String>, boss?: User };
entity Folder in [Folder] { level: Long, name: String };
entity Doc in [Folder] { owner: User, level: Long, name: String, secret?: Bool };
",
        );
        for (i, parents) in self.action_groups.iter().enumerate() {
            let _ = writeln!(
                s,
                "action \"ag{i}\"{};",
                self.group_parents_decl(i, parents)
            );
        }
        for (i, a) in self.actions.iter().enumerate() {
            let principals: Vec<String> = [Kind::User, Kind::Group]
                .iter()
                .enumerate()
                .filter(|(bit, _)| a.principals & (1 << bit) != 0)
                .map(|(_, k)| k.name().to_owned())
                .collect();
            let resources: Vec<String> = [Kind::Doc, Kind::Folder, Kind::User]
                .iter()
                .enumerate()
                .filter(|(bit, _)| a.resources & (1 << bit) != 0)
                .map(|(_, k)| k.name().to_owned())
                .collect();
            let _ = writeln!(
                s,
                "action \"a{i}\"{} appliesTo {{ principal: [{}], resource: [{}], context: {{ n: Long, s?: String }} }};",
                self.action_parents_decl(&a.groups),
                principals.join(", "),
                resources.join(", ")
            );
        }
        if self.namespace {
            s.push_str("}\n");
        }
        s
    }

    /// Action group `i`'s parents: groups after it (acyclic).
    fn group_parent_ids(&self, i: usize, parents: &[Index]) -> Vec<String> {
        let later = self.action_groups.len() - i - 1;
        let mut ids: Vec<String> = parents
            .iter()
            .filter(|_| later > 0)
            .map(|p| format!("ag{}", i + 1 + p.index(later)))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn action_parent_ids(&self, groups: &[Index]) -> Vec<String> {
        let n = self.action_groups.len();
        let mut ids: Vec<String> = groups
            .iter()
            .filter(|_| n > 0)
            .map(|g| format!("ag{}", g.index(n)))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    fn group_parents_decl(&self, i: usize, parents: &[Index]) -> String {
        Self::in_list(&self.group_parent_ids(i, parents))
    }

    fn action_parents_decl(&self, groups: &[Index]) -> String {
        Self::in_list(&self.action_parent_ids(groups))
    }

    fn in_list(ids: &[String]) -> String {
        if ids.is_empty() {
            String::new()
        } else {
            format!(
                " in [{}]",
                ids.iter()
                    .map(|id| format!("\"{id}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }

    fn uid_json(&self, kind: Kind, id: &str) -> serde_json::Value {
        serde_json::json!({"type": self.type_name(kind), "id": id})
    }

    fn parent_uids(&self, kind: Kind, i: usize, p: &Parents) -> Vec<serde_json::Value> {
        let mut ids: Vec<(Kind, usize)> = Vec::new();
        // the schema lets groups, roles and folders nest; without one, anything goes
        let nests = !self.schema || matches!(kind, Kind::Group | Kind::Role | Kind::Folder);
        if i > 0 && nests {
            if p.chain {
                ids.push((kind, i - 1));
            }
            ids.extend(p.same.iter().map(|x| (kind, x.index(i))));
        }
        // parents of other kinds the schema allows
        let others: &[Kind] = match kind {
            Kind::User => &[Kind::Group, Kind::Role],
            Kind::Group => &[Kind::Role],
            Kind::Doc => &[Kind::Folder],
            Kind::Role | Kind::Folder => &[],
        };
        for (n, x) in p.other.iter().enumerate() {
            if let Some(&other) = others.get(n % others.len().max(1))
                && self.count(other) > 0
            {
                ids.push((other, x.index(self.count(other))));
            }
        }
        ids.sort_by_key(|(k, i)| (k.name(), *i));
        ids.dedup_by_key(|(k, i)| (k.name(), *i));
        ids.into_iter()
            .map(|(k, i)| self.uid_json(k, &format!("{}{i}", k.prefix())))
            .collect()
    }

    fn entity_json(&self, kind: Kind, i: usize, e: &EntitySpec) -> serde_json::Value {
        let mut attrs = serde_json::Map::new();
        let drop = e.drop_required && !self.schema;
        let link = |target: Option<&(Index, bool)>| {
            let id = match target {
                Some((index, false)) if !self.users.is_empty() => {
                    format!("u{}", index.index(self.users.len()))
                }
                _ => "ghost0".to_owned(),
            };
            serde_json::json!({"__entity": self.uid_json(Kind::User, &id)})
        };
        match kind {
            Kind::User | Kind::Folder | Kind::Doc => {
                if !drop {
                    attrs.insert("level".into(), e.level.into());
                    attrs.insert("name".into(), format!("{}{i}", kind.prefix()).into());
                }
            }
            Kind::Group | Kind::Role => {}
        }
        if kind == Kind::User {
            if let Some(tags) = &e.tags {
                let mut tags: Vec<&str> = tags.iter().map(|t| STRINGS[*t]).collect();
                tags.sort_unstable();
                tags.dedup();
                attrs.insert("tags".into(), tags.into());
            }
            if let Some(boss) = &e.link {
                attrs.insert("boss".into(), link(Some(boss)));
            }
        }
        if kind == Kind::Doc {
            match &e.link {
                Some(owner) => {
                    attrs.insert("owner".into(), link(Some(owner)));
                }
                None if !self.schema => {}
                None => {
                    attrs.insert("owner".into(), link(None));
                }
            }
            if let Some(secret) = e.secret {
                attrs.insert("secret".into(), secret.into());
            }
        }
        serde_json::json!({
            "uid": self.uid_json(kind, &format!("{}{i}", kind.prefix())),
            "attrs": attrs,
            "parents": self.parent_uids(kind, i, &e.parents),
        })
    }

    /// Every entity as Cedar JSON; without a schema, the action entities too.
    pub(crate) fn entities_json(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for (kind, list) in [
            (Kind::Role, &self.roles),
            (Kind::Group, &self.groups),
            (Kind::User, &self.users),
            (Kind::Folder, &self.folders),
            (Kind::Doc, &self.docs),
        ] {
            for (i, e) in list.iter().enumerate() {
                out.push(self.entity_json(kind, i, e));
            }
        }
        if !self.schema {
            let action = |id: &str, parents: Vec<String>| {
                serde_json::json!({
                    "uid": {"type": format!("{}Action", self.ns()), "id": id},
                    "attrs": {},
                    "parents": parents
                        .iter()
                        .map(|p| serde_json::json!({"type": format!("{}Action", self.ns()), "id": p}))
                        .collect::<Vec<_>>(),
                })
            };
            for (i, parents) in self.action_groups.iter().enumerate() {
                out.push(action(&format!("ag{i}"), self.group_parent_ids(i, parents)));
            }
            for (i, a) in self.actions.iter().enumerate() {
                out.push(action(&format!("a{i}"), self.action_parent_ids(&a.groups)));
            }
        }
        out
    }

    /// The request's principal, action and resource uids and its context.
    /// Every entity's and action's members (itself, its children, their
    /// children...), from the generated parents.
    pub(crate) fn members(&self) -> HashMap<String, Vec<String>> {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        let mut edge =
            |child: String, parent: String| children.entry(parent).or_default().push(child);
        for e in self.entities_json() {
            let uid = |v: &serde_json::Value| EntityUid::from_json(v.clone()).unwrap().to_string();
            for p in e["parents"].as_array().unwrap() {
                edge(uid(&e["uid"]), uid(p));
            }
        }
        let action = |id: &str| format!("{}Action::\"{id}\"", self.ns());
        for (i, parents) in self.action_groups.iter().enumerate() {
            for p in self.group_parent_ids(i, parents) {
                edge(action(&format!("ag{i}")), action(&p));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            for p in self.action_parent_ids(&a.groups) {
                edge(action(&format!("a{i}")), action(&p));
            }
        }
        let mut members = HashMap::new();
        for root in children.keys() {
            let mut seen = vec![root.clone()];
            let mut next = 0;
            while let Some(current) = seen.get(next).cloned() {
                next += 1;
                for child in children.get(&current).into_iter().flatten() {
                    if !seen.contains(child) {
                        seen.push(child.clone());
                    }
                }
            }
            members.insert(root.clone(), seen);
        }
        members
    }

    /// A member of `group` (maybe itself), picked by `pick`.
    fn member_of(group: String, pick: &Index, members: &HashMap<String, Vec<String>>) -> String {
        match members.get(&group) {
            Some(list) => list[pick.index(list.len())].clone(),
            None => group,
        }
    }

    /// A principal or resource aimed at a scope (`None`: not aimed).
    fn aimed(
        &self,
        scope: &Scope,
        pick: &Index,
        members: &HashMap<String, Vec<String>>,
    ) -> Option<String> {
        match scope {
            Scope::Any => None,
            Scope::Eq(e) => Some(self.ent(e)),
            Scope::In(e) => Some(Self::member_of(self.ent(e), pick, members)),
            Scope::IsIn(k, e) => {
                // a member of the right type if there is one
                let group = self.ent(e);
                let prefix = format!("{}::", self.type_name(*k));
                let list = members
                    .get(&group)
                    .cloned()
                    .unwrap_or_else(|| vec![group.clone()]);
                let typed: Vec<&String> = list.iter().filter(|m| m.starts_with(&prefix)).collect();
                Some(if typed.is_empty() {
                    list[pick.index(list.len())].clone()
                } else {
                    typed[pick.index(typed.len())].clone()
                })
            }
            Scope::Is(k) => Some(self.uid_of(*k, pick, false)),
        }
    }

    pub(crate) fn request(
        &self,
        r: &RequestSpec,
        members: &HashMap<String, Vec<String>>,
    ) -> (String, String, String, serde_json::Value) {
        let mut principal = r.principal.clone();
        let mut resource = r.resource.clone();
        let action_index = r
            .action
            .index
            .index(self.actions.len() + self.action_groups.len());
        let mut aimed = (None, None, None);
        if let Some((policy, pick)) = &r.aim {
            let p = &self.policies[policy.index(self.policies.len())];
            aimed.0 = self.aimed(&p.principal, pick, members);
            aimed.2 = self.aimed(&p.resource, pick, members);
            aimed.1 = match &p.action {
                ActionScope::Any => None,
                ActionScope::Eq(a) => Some(self.action(a)),
                ActionScope::In(a) => Some(Self::member_of(self.action(a), pick, members)),
                ActionScope::InList(list) if list.is_empty() => None,
                ActionScope::InList(list) => Some(Self::member_of(
                    self.action(&list[pick.index(list.len())]),
                    pick,
                    members,
                )),
            };
        }
        if self.schema
            && r.fit
            && !r.action.unknown
            && let Some(a) = self.actions.get(action_index)
        {
            let allowed = |mask: u8, kinds: &[Kind]| -> Vec<Kind> {
                kinds
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| mask & (1 << bit) != 0)
                    .map(|(_, k)| *k)
                    .collect()
            };
            let ps = allowed(a.principals, &[Kind::User, Kind::Group]);
            let rs = allowed(a.resources, &[Kind::Doc, Kind::Folder, Kind::User]);
            principal.kind = ps[principal.index.index(ps.len())];
            resource.kind = rs[resource.index.index(rs.len())];
        }
        let mut context = serde_json::json!({"n": r.n});
        if let Some(s) = r.s {
            context["s"] = STRINGS[s].into();
        }
        (
            aimed.0.unwrap_or_else(|| self.ent(&principal)),
            aimed.1.unwrap_or_else(|| self.action(&r.action)),
            aimed.2.unwrap_or_else(|| self.ent(&resource)),
            context,
        )
    }
}

// ---------------------------------------------------------------- comparing

/// An answer as a set-valued outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) allow: bool,
    pub(crate) reasons: BTreeSet<String>,
    pub(crate) errors: BTreeSet<(String, String)>,
}

impl Outcome {
    pub(crate) fn of_answer(answer: &rolegrid::Answer) -> Self {
        Self {
            allow: answer.is_allowed(),
            reasons: answer.reasons().iter().map(ToString::to_string).collect(),
            errors: answer
                .errors()
                .iter()
                .map(|e| (e.policy.clone(), e.message.clone()))
                .collect(),
        }
    }

    pub(crate) fn of_response(response: &Response) -> Self {
        Self {
            allow: response.decision() == Decision::Allow,
            reasons: response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect(),
            errors: response
                .diagnostics()
                .errors()
                .map(
                    |cedar_policy::AuthorizationError::PolicyEvaluationError(e)| {
                        (e.policy_id().to_string(), e.inner().to_string())
                    },
                )
                .collect(),
        }
    }
}

/// What one case met, for the figures.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    cases: usize,
    requests: usize,
    refused: usize,
    allowed: usize,
    with_errors: usize,
    forbid_reasons: usize,
    /// answers determined by a policy with a principal or resource scope
    scoped_reasons: usize,
    not_validated: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.cases += o.cases;
        self.requests += o.requests;
        self.refused += o.refused;
        self.allowed += o.allowed;
        self.with_errors += o.with_errors;
        self.forbid_reasons += o.forbid_reasons;
        self.scoped_reasons += o.scoped_reasons;
        self.not_validated += o.not_validated;
    }
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Runs one case: loads the store both ways and compares every request.
/// Who answers on rolegrid's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Under {
    /// rolegrid's `Snapshot::authorize` / `authorize_with`.
    Rolegrid,
    /// A deliberately wrong policy index over the snapshot's policies (it
    /// follows only direct parents for `in` scopes), to show the harness
    /// catches such bugs.
    DirectParentIndex,
    /// A deliberately wrong index that matches `in` scopes against the
    /// snapshot's own hierarchy even when the request brings extra entities.
    SnapshotHierarchyIndex,
}

/// A mutant index: keeps the policies whose principal and resource scopes
/// match by `within` (is the first entity in the second?), then decides
/// with those only.
fn mutant_index(
    snapshot: &rolegrid::Snapshot,
    request: &Request,
    entities: &Entities,
    within: impl Fn(&EntityUid, &EntityUid) -> bool,
) -> rolegrid::Answer {
    use cedar_policy::{PrincipalConstraint, ResourceConstraint};
    let principal = request.principal().unwrap();
    let resource = request.resource().unwrap();
    let kept = snapshot.policies().policies().filter(|p| {
        let principal_ok = match p.principal_constraint() {
            PrincipalConstraint::Any => true,
            PrincipalConstraint::Eq(e) => &e == principal,
            PrincipalConstraint::In(e) => within(principal, &e),
            PrincipalConstraint::Is(t) => principal.type_name() == &t,
            PrincipalConstraint::IsIn(t, e) => principal.type_name() == &t && within(principal, &e),
        };
        let resource_ok = match p.resource_constraint() {
            ResourceConstraint::Any => true,
            ResourceConstraint::Eq(e) => &e == resource,
            ResourceConstraint::In(e) => within(resource, &e),
            ResourceConstraint::Is(t) => resource.type_name() == &t,
            ResourceConstraint::IsIn(t, e) => resource.type_name() == &t && within(resource, &e),
        };
        principal_ok && resource_ok
    });
    let set = PolicySet::from_policies(kept.cloned()).unwrap();
    rolegrid::Answer::from_response(Authorizer::new().is_authorized(request, &set, entities))
}

fn check_case_under(case: &Case, under: Under) -> Result<Counts, TestCaseError> {
    let mut counts = Counts {
        cases: 1,
        ..Counts::default()
    };
    let (policy_files, policy_text) = case.policy_files();
    let schema_text = case.schema.then(|| case.schema_text());
    let entities = case.entities_json();
    let entities_text = serde_json::to_string_pretty(&entities).unwrap();
    let describe = || {
        format!(
            "--- schema\n{}\n--- policies\n{policy_text}\n--- entities\n{entities_text}",
            schema_text.as_deref().unwrap_or("(none)")
        )
    };

    // plain cedar-policy
    let schema = schema_text
        .as_deref()
        .map(|t| {
            Schema::from_cedarschema_str(t)
                .map(|(s, _)| s)
                .map_err(|e| e.to_string())
        })
        .transpose()
        .map_err(|e| {
            fail(format!(
                "the generated schema does not parse: {e}\n{}",
                describe()
            ))
        })?;
    let policies = PolicySet::from_str(&policy_text).map_err(|e| {
        fail(format!(
            "the generated policies do not parse: {e}\n{}",
            describe()
        ))
    })?;
    let plain_entities =
        Entities::from_json_value(serde_json::Value::Array(entities.clone()), schema.as_ref())
            .map_err(|e| {
                fail(format!(
                    "the generated entities do not load: {e}\n{}",
                    describe()
                ))
            })?;

    // rolegrid, from in-memory files
    let cut = case.entity_cut.index(entities.len() + 1);
    let kind = if case.yaml {
        FileKind::EntitiesYaml
    } else {
        FileKind::EntitiesJson
    };
    let ext = if case.yaml { "yaml" } else { "json" };
    let mut entity_files: Vec<SourceFile> = [&entities[..cut], &entities[cut..]]
        .iter()
        .enumerate()
        .map(|(i, part)| {
            SourceFile::new(
                format!("e{i}.entities.{ext}"),
                serde_json::to_string_pretty(part).unwrap(),
            )
        })
        .collect();
    let extra_files = if case.extra {
        entity_files.split_off(1)
    } else {
        Vec::new()
    };
    let sources = Sources {
        schema: schema_text
            .as_deref()
            .map(|t| SourceFile::new("s.cedarschema", t)),
        policies: policy_files
            .iter()
            .enumerate()
            .map(|(i, text)| SourceFile::new(format!("p{i}.cedar"), text.as_str()))
            .collect(),
        entities: entity_files.into_iter().map(|f| (f, kind)).collect(),
    };
    let mut options = LoadOptions {
        deny_warnings: false,
        validate_policies: case.validate,
        policy_ids: PolicyIds::Positional,
        ..LoadOptions::default()
    };
    let loaded = build_snapshot(&sources, None, &options);
    let snapshot = if case.validate {
        let valid = Validator::new(schema.clone().unwrap())
            .validate(&policies, ValidationMode::Strict)
            .validation_passed();
        match (loaded, valid) {
            (Ok(snapshot), true) => snapshot,
            (Err(_), false) => {
                counts.not_validated += 1;
                options.validate_policies = false;
                build_snapshot(&sources, None, &options).map_err(|p| {
                    fail(format!(
                        "rolegrid does not load the store: {p:?}\n{}",
                        describe()
                    ))
                })?
            }
            (Ok(_), false) => {
                return Err(fail(format!(
                    "rolegrid loads policies Cedar's validator rejects\n{}",
                    describe()
                )));
            }
            (Err(p), true) => {
                return Err(fail(format!(
                    "rolegrid rejects policies Cedar's validator accepts: {p:?}\n{}",
                    describe()
                )));
            }
        }
    } else {
        loaded.map_err(|p| {
            fail(format!(
                "rolegrid does not load the store: {p:?}\n{}",
                describe()
            ))
        })?
    };
    prop_assert_eq!(snapshot.policy_count(), policies.policies().count());
    let extra_entities = if case.extra {
        Some(
            rolegrid::with_entities(&snapshot, &extra_files, &Limits::default()).map_err(|p| {
                fail(format!(
                    "rolegrid refuses the extra entities: {p:?}\n{}",
                    describe()
                ))
            })?,
        )
    } else {
        None
    };

    let direct_parents: std::collections::HashMap<String, Vec<String>> = entities
        .iter()
        .map(|e| {
            let uid = |v: &serde_json::Value| EntityUid::from_json(v.clone()).unwrap().to_string();
            (
                uid(&e["uid"]),
                e["parents"].as_array().unwrap().iter().map(uid).collect(),
            )
        })
        .collect();
    let members = case.members();
    let authorizer = Authorizer::new();
    for r in &case.requests {
        let (principal, action, resource, context) = case.request(r, &members);
        counts.requests += 1;
        let ours = snapshot.request(&principal, &action, &resource, Some(context.clone()));
        let theirs = (|| {
            let action = EntityUid::from_str(&action).map_err(|e| e.to_string())?;
            let context =
                Context::from_json_value(context.clone(), schema.as_ref().map(|s| (s, &action)))
                    .map_err(|e| e.to_string())?;
            Request::new(
                EntityUid::from_str(&principal).map_err(|e| e.to_string())?,
                action,
                EntityUid::from_str(&resource).map_err(|e| e.to_string())?,
                context,
                schema.as_ref(),
            )
            .map_err(|e| e.to_string())
        })();
        let (ours, theirs) = match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => (ours, theirs),
            (Err(_), Err(_)) => {
                counts.refused += 1;
                continue;
            }
            (ours, theirs) => {
                return Err(fail(format!(
                    "request {principal} {action} {resource} {context}: rolegrid builds it: {}, cedar-policy: {}\n{}",
                    ours.is_ok(),
                    theirs.is_ok(),
                    describe()
                )));
            }
        };
        let got = Outcome::of_answer(&match (&extra_entities, under) {
            (Some(entities), Under::Rolegrid) => snapshot.authorize_with(&ours, entities),
            (None, Under::Rolegrid) => snapshot.authorize(&ours),
            (entities, Under::DirectParentIndex) => mutant_index(
                &snapshot,
                &ours,
                entities.as_ref().unwrap_or_else(|| snapshot.entities()),
                |uid, group| {
                    uid == group
                        || direct_parents
                            .get(&uid.to_string())
                            .is_some_and(|ps| ps.contains(&group.to_string()))
                },
            ),
            (entities, Under::SnapshotHierarchyIndex) => mutant_index(
                &snapshot,
                &ours,
                entities.as_ref().unwrap_or_else(|| snapshot.entities()),
                |uid, group| snapshot.entities().is_ancestor_of(group, uid),
            ),
        });
        let want =
            Outcome::of_response(&authorizer.is_authorized(&theirs, &policies, &plain_entities));
        if got != want {
            return Err(fail(format!(
                "request {principal} {action} {resource} {context}:\nrolegrid:     {got:?}\ncedar-policy: {want:?}\n{}",
                describe()
            )));
        }
        counts.allowed += usize::from(want.allow);
        counts.with_errors += usize::from(!want.errors.is_empty());
        counts.forbid_reasons += usize::from(!want.allow && !want.reasons.is_empty());
        counts.scoped_reasons += usize::from(want.reasons.iter().any(|id| {
            let p = &case.policies[id.strip_prefix("policy").unwrap().parse::<usize>().unwrap()];
            !matches!((&p.principal, &p.resource), (Scope::Any, Scope::Any))
        }));
    }
    Ok(counts)
}

/// Runs `cases` random cases from `seed`; returns the counts and the time.
/// How many runners share the cases (each on its own thread, with its own
/// seed): fixed, so a seed names the same cases on every machine.
const WORKERS: u64 = 2;

/// Runs `cases` random cases from `seed` (split over [`WORKERS`] threads);
/// returns the counts and the time.
fn run(cases: u32, seed: u64, max_requests: usize) -> (Counts, std::time::Duration) {
    let started = Instant::now();
    let results: Vec<Result<Counts, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let share = cases / WORKERS as u32 + u32::from(u64::from(cases) % WORKERS > worker);
                scope.spawn(move || run_worker(share, seed.wrapping_add(worker), max_requests))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let mut total = Counts::default();
    for result in results {
        match result {
            Ok(counts) => total.add(counts),
            Err(e) => panic!("{e}"),
        }
    }
    (total, elapsed)
}

fn run_worker(cases: u32, seed: u64, max_requests: usize) -> Result<Counts, String> {
    run_worker_under(cases, seed, max_requests, Under::Rolegrid, 2_000)
}

fn run_worker_under(
    cases: u32,
    seed: u64,
    max_requests: usize,
    under: Under,
    max_shrink_iters: u32,
) -> Result<Counts, String> {
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let total = Cell::new(Counts::default());
    runner
        .run(&case(max_requests), |case| {
            let counts = check_case_under(&case, under)?;
            let mut sum = total.get();
            sum.add(counts);
            total.set(sum);
            Ok(())
        })
        .map_err(|e| format!("rolegrid and cedar-policy disagree (worker seed {seed}):\n{e}"))?;
    Ok(total.get())
}

fn report(name: &str, seed: u64, counts: Counts, elapsed: std::time::Duration) {
    println!(
        "{name} (seed {seed}): {} stores, {} requests ({} refused by both, {} allowed, {} with errors, {} denied by a forbid, {} decided by a scoped policy; {} stores failed validation and were compared unvalidated) in {elapsed:.2?}",
        counts.cases,
        counts.requests,
        counts.refused,
        counts.allowed,
        counts.with_errors,
        counts.forbid_reasons,
        counts.scoped_reasons,
        counts.not_validated,
    );
}

#[test]
fn random_stores_agree() {
    let seed = 0x726f_6c65_6772_6964;
    let (counts, elapsed) = run(300, seed, 48);
    report("random_stores_agree", seed, counts, elapsed);
    // the generator must reach every interesting outcome
    assert!(counts.requests > 5_000, "{counts:?}");
    assert!(counts.allowed > counts.requests / 20, "{counts:?}");
    assert!(counts.with_errors > counts.requests / 50, "{counts:?}");
    assert!(counts.forbid_reasons > counts.requests / 100, "{counts:?}");
    assert!(counts.scoped_reasons > counts.requests / 20, "{counts:?}");
    assert!(counts.refused < counts.requests / 2, "{counts:?}");
}

#[test]
#[ignore = "opt-in: ≥ 100,000 requests (cargo test --release --test differential -- --ignored --nocapture)"]
fn random_stores_agree_many() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env("ROLEGRID_DIFF_SEED").unwrap_or(0x0dd5_eed0_0001);
    let cases = env("ROLEGRID_DIFF_CASES").map_or(8_000, |n| u32::try_from(n).unwrap());
    let (counts, elapsed) = run(cases, seed, 40);
    report("random_stores_agree_many", seed, counts, elapsed);
    assert!(counts.requests >= 100_000, "{counts:?}");
}

/// The generator's output is what it says: a schema'd, namespaced store and
/// one of its policies, rendered.
#[test]
fn rendering_example() {
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(7),
        ..Config::default()
    });
    let mut case = case(3).new_tree(&mut runner).unwrap().current();
    case.schema = true;
    case.namespace = true;
    let schema = case.schema_text();
    assert!(Schema::from_cedarschema_str(&schema).is_ok(), "{schema}");
    let (_, text) = case.policy_files();
    assert!(PolicySet::from_str(&text).is_ok(), "{text}");
    assert!(text.contains("App::"), "{text}");
}

/// The harness catches a wrong policy index: one that follows only direct
/// parents for `in` scopes (a store's deep chains and transitive memberships
/// make it decide differently within a few dozen stores).
#[test]
fn harness_catches_a_non_transitive_index() {
    let seed = 0x726f_6c65_6772_6964;
    let found = run_worker_under(300, seed, 48, Under::DirectParentIndex, 0);
    let message = found.expect_err("300 stores did not reveal the mutant index");
    assert!(message.contains("rolegrid:"), "{message}");
}

/// The harness catches an index built from the snapshot's hierarchy that
/// `Snapshot::authorize_with` would use with other entities.
#[test]
fn harness_catches_an_index_blind_to_extra_entities() {
    let seed = 0x726f_6c65_6772_6964;
    let found = run_worker_under(300, seed, 48, Under::SnapshotHierarchyIndex, 0);
    let message = found.expect_err("300 stores did not reveal the mutant index");
    assert!(message.contains("rolegrid:"), "{message}");
}
