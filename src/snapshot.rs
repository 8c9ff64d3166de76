//! The validated, immutable state of one product, and the decisions it gives.

use crate::answer::Answer;
use crate::diagnostics::{Location, Problem, Problems};
use crate::directory::Directory;
use crate::files::ProductFiles;
use crate::index::{PolicyIndex, Prepared, Selection};
use crate::origin::{EntityOrigin, PolicyOrigin};
use crate::parallel::LOAD_STACK_BYTES;
use crate::request::{KnownAction, RequestSpec};
use crate::roles::Roles;
use crate::schema_info::SchemaInfo;
use cedar_policy::{Authorizer, Entities, EntityUid, PolicyId, PolicySet, Request, Schema};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// One product's schema, policies and entities, validated together. Immutable:
/// share it in an `Arc` and call [`Snapshot::authorize`] from any thread.
///
/// ```
/// use rolegrid::{LoadOptions, Sources, SourceFile, build_snapshot};
/// let sources = Sources {
///     policies: vec![SourceFile::new("p.cedar", r#"@id("all") permit(principal, action, resource);"#)],
///     ..Default::default()
/// };
/// let snapshot = build_snapshot(&sources, None, &LoadOptions::default())?;
/// let request = snapshot.request(r#"User::"a""#, r#"Action::"view""#, r#"File::"f""#, None)?;
/// assert!(snapshot.authorize(&request).is_allowed());
/// # Ok::<(), rolegrid::Problems>(())
/// ```
#[derive(Debug)]
pub struct Snapshot {
    product: Option<String>,
    schema: Option<Schema>,
    policies: PolicySet,
    policy_origins: HashMap<PolicyId, PolicyOrigin>,
    entities: Entities,
    entity_origins: HashMap<EntityUid, EntityOrigin>,
    warnings: Problems,
    loaded_at: SystemTime,
    origin: Option<Origin>,
    schema_info: Arc<SchemaInfo>,
    /// Made on first use from the schema and entities.
    roles: OnceLock<Roles>,
    /// Made on first use from the schema and entities.
    directory: OnceLock<Directory>,
    index: Option<PolicyIndex>,
    /// What each schema action needs to build requests (see [`KnownAction`]), read once.
    known_actions: HashMap<EntityUid, KnownAction>,
    authorizer: Authorizer,
    /// The stack an evaluation needs left when it starts (see [`stack_needed`]).
    stack_needed: usize,
}

/// What a snapshot is made of: schema, policies and entities that the
/// loader validated together, with where each was written.
pub(crate) struct Parts {
    pub product: Option<String>,
    pub schema: Option<Schema>,
    pub policies: PolicySet,
    pub policy_origins: HashMap<PolicyId, PolicyOrigin>,
    /// The deepest expression of the policies (an upper bound).
    pub expression_depth: usize,
    pub entities: Entities,
    pub entity_origins: HashMap<EntityUid, EntityOrigin>,
    /// Warnings the load accepted.
    pub warnings: Problems,
    /// The store's files it comes from (none for explicit files).
    pub origin: Option<Origin>,
    /// The schema's declaration order and context types.
    pub schema_info: Arc<SchemaInfo>,
}

/// Where a product's snapshot comes from: the store's root, the product's
/// files, and a hash of their content.
#[derive(Debug)]
pub(crate) struct Origin {
    pub root: PathBuf,
    pub files: ProductFiles,
    pub fingerprint: u64,
}

impl Snapshot {
    /// The snapshot of `parts`, with its policy index (from what `prepared`
    /// derived of each policy, or derived here).
    pub(crate) fn new(parts: Parts, prepared: &Prepared) -> Self {
        let Parts {
            product,
            schema,
            policies,
            policy_origins,
            expression_depth,
            entities,
            entity_origins,
            warnings,
            origin,
            schema_info,
        } = parts;
        let index = PolicyIndex::build(&policies, schema.as_ref(), &entities, prepared);
        let known_actions = schema
            .iter()
            .flat_map(|schema| {
                schema.actions().filter_map(move |action| {
                    KnownAction::new(schema, action).map(|known| (action.clone(), known))
                })
            })
            .collect();
        Self {
            index,
            known_actions,
            product,
            schema,
            policies,
            policy_origins,
            entities,
            entity_origins,
            warnings,
            loaded_at: SystemTime::now(),
            origin,
            schema_info,
            roles: OnceLock::new(),
            directory: OnceLock::new(),
            authorizer: Authorizer::new(),
            stack_needed: stack_needed(expression_depth),
        }
    }

    /// A hash of the files it was built from (see [`crate::Sources::fingerprint`];
    /// 0 for explicit files).
    pub fn fingerprint(&self) -> u64 {
        self.origin.as_ref().map_or(0, |origin| origin.fingerprint)
    }

    /// The product's name (`None` for explicit files).
    pub fn product(&self) -> Option<&str> {
        self.product.as_deref()
    }

    /// The schema, if there is one.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }

    /// The policy set, with ids from `@id` annotations (or positional).
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The entities, including the schema's action entities.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }

    /// How many static policies and templates the snapshot holds.
    pub fn policy_count(&self) -> usize {
        self.policies.policies().count() + self.policies.templates().count()
    }

    /// How many entities the files defined.
    pub fn entity_count(&self) -> usize {
        self.entity_origins.len()
    }

    /// Warnings the load accepted (only when warnings are allowed).
    pub fn warnings(&self) -> &Problems {
        &self.warnings
    }

    /// When the snapshot was built.
    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// The store root it came from (product mode).
    pub fn root(&self) -> Option<&Path> {
        self.origin.as_ref().map(|origin| origin.root.as_path())
    }

    /// The files it was built from (product mode).
    pub fn files(&self) -> Option<&ProductFiles> {
        self.origin.as_ref().map(|origin| &origin.files)
    }

    /// Where a policy was written.
    pub fn policy_origin(&self, id: &PolicyId) -> Option<&PolicyOrigin> {
        self.policy_origins.get(id)
    }

    /// The file, line and column where a policy starts.
    pub fn policy_location(&self, id: &PolicyId) -> Option<Location> {
        let origin = self.policy_origins.get(id)?;
        let (line, column) = origin.file.line_col(origin.span.start);
        Some(Location {
            file: origin.file.path().to_path_buf(),
            line,
            column,
        })
    }

    /// The product's roles and role users, from its schema and fixture.
    pub fn roles(&self) -> &Roles {
        self.roles
            .get_or_init(|| Roles::new(self.schema.as_ref(), &self.entities, &self.entity_origins))
    }

    /// The names the product answers to from outside: entity types with or
    /// without the namespace, action ids, entities by type in id order.
    pub fn directory(&self) -> &Directory {
        self.directory.get_or_init(|| {
            Directory::new(
                self.roles().namespace(),
                self.schema.as_ref(),
                &self.entities,
                |action| self.schema_info.action_position(action),
            )
        })
    }

    /// The schema's declaration order and context types.
    pub(crate) fn schema_info(&self) -> &SchemaInfo {
        &self.schema_info
    }

    /// Where each entity the files defined was written.
    pub(crate) fn entity_origins(&self) -> &HashMap<EntityUid, EntityOrigin> {
        &self.entity_origins
    }

    /// Where an entity was written.
    pub fn entity_origin(&self, uid: &EntityUid) -> Option<&EntityOrigin> {
        self.entity_origins.get(uid)
    }

    /// Builds a request from Cedar's textual uids (`NS::User::"alice"`) and an
    /// optional JSON context, validated against the schema when there is one.
    pub fn request(
        &self,
        principal: &str,
        action: &str,
        resource: &str,
        context: Option<serde_json::Value>,
    ) -> Result<Request, Problem> {
        self.build_request(RequestSpec::from_strs(
            principal, action, resource, context,
        )?)
    }

    /// Builds Cedar's request from a [`RequestSpec`], validated against the
    /// schema when there is one: the same request and errors as
    /// [`RequestSpec::build`], faster for requests without a context.
    ///
    /// ```
    /// use rolegrid::{LoadOptions, RequestSpec, Store};
    /// let snapshot = Store::open(".")?.load("fireworks", &LoadOptions::default())?;
    /// let spec = RequestSpec::from_json_line(
    ///     r#"{"principal": "Fireworks::User::\"ada-admin\"", "action": "Fireworks::Action::\"viewUsers\"", "resource": "Fireworks::Account::\"acme\""}"#,
    /// )?;
    /// assert!(snapshot.authorize(&snapshot.build_request(spec)?).is_allowed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_request(&self, spec: RequestSpec) -> Result<Request, Problem> {
        spec.build_with(self.schema.as_ref(), |action| {
            self.known_actions.get(action)
        })
    }

    /// Decides a request against the snapshot's own entities.
    ///
    /// Only the policies whose scope can match the request are evaluated (see
    /// the policy index); the answer is exactly Cedar's on the full set.
    pub fn authorize(&self, request: &Request) -> Answer {
        self.decide(request, &self.entities, true)
    }

    /// Decides a request against `entities` (e.g. from [`crate::with_entities`]).
    pub fn authorize_with(&self, request: &Request, entities: &Entities) -> Answer {
        let indexed = std::ptr::eq(entities, &self.entities)
            || self
                .index
                .as_ref()
                .is_some_and(|index| index.valid_for(request, entities));
        self.decide(request, entities, indexed)
    }

    /// Decides on a stack with room for the deepest policy: the same answer
    /// on any thread (Cedar's evaluator gives up, with "recursion limit
    /// reached", when less than 100 KiB of stack is left).
    fn decide(&self, request: &Request, entities: &Entities, use_index: bool) -> Answer {
        stacker::maybe_grow(self.stack_needed, LOAD_STACK_BYTES, || {
            self.decide_here(request, entities, use_index)
        })
    }

    fn decide_here(&self, request: &Request, entities: &Entities, use_index: bool) -> Answer {
        let selection = match (&self.index, use_index) {
            (Some(index), true) => index.select(request, entities, &self.policies),
            _ => Selection::Policies(&self.policies),
        };
        match selection {
            Selection::Nothing => Answer::denied_by_default(),
            Selection::Policies(policies) => self.cedar(request, policies, entities),
            Selection::Cell(cell) => cell
                .decide(request, entities)
                .unwrap_or_else(|| self.cedar(request, cell.combined(&self.policies), entities)),
        }
    }

    fn cedar(&self, request: &Request, policies: &PolicySet, entities: &Entities) -> Answer {
        Answer::from_response(self.authorizer.is_authorized(request, policies, entities))
    }
}

/// The stack Cedar's evaluator needs for expressions `depth` deep, with a
/// margin: measured at about 6 KiB a level in release builds and 64 KiB in
/// debug builds (a 500-`||` condition needs 3 MiB and 32 MiB). Deciding on a
/// thread with less left runs on a new stack segment of
/// [`LOAD_STACK_BYTES`] (`stacker`), so the answer never depends on the
/// caller's stack; on rolegrid's own threads (that size already) and for
/// shallow policies, nothing is allocated.
fn stack_needed(depth: usize) -> usize {
    let (base, per_level) = if cfg!(debug_assertions) {
        (2 << 20, 80 << 10)
    } else {
        (512 << 10, 10 << 10)
    };
    depth.saturating_mul(per_level).saturating_add(base)
}
