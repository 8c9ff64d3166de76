//! Synthetic stores: role models of any size, for benchmarks and scale tests.
//!
//! [`SynthStore::generate`] builds a store folder's worth of files from a
//! [`SynthConfig`], deterministically from its seed (the same config gives
//! byte-identical files on every machine and every run). Each product gets:
//!
//! - `schemas/<p>.cedarschema`: one namespace with `Account` (the tenant,
//!   with a `plan` and a `limit`), `Role`, `User in [Role, Account]` and
//!   `resource_types` resource types (`Document`, `Folder`, `Project`, ...,
//!   then `Document2`, ...), each `in [Account]` with an `owner`, `editors`,
//!   `size` and `locked`; each type has its own actions (`viewDocument`,
//!   `listDocument`, `createDocument`, ...); the view and list actions of
//!   every type are members of the action group `read`;
//! - `policies/<p>/global.cedar`: a tenant-isolation forbid (every request
//!   whose resource lies in another account is denied), an account-admin
//!   grant of every action and an auditor grant of the `read` group;
//! - `policies/<p>/<type>.cedar`, one file per resource type, holding that
//!   type's share of the policies, shaped like the seed models': role grants
//!   (`principal in Role::"r"`, `action in [...]`, `resource is T`), grants to
//!   roles listed in the condition, ownership (`resource.owner ==
//!   principal`) and sharing (`principal in resource.editors`) conditions,
//!   plan and limit comparisons, seniority (`principal.level >= k`), forbids
//!   (locked resources, free plans over their limit) and noise: grants to one
//!   user on one resource;
//! - `policies/<p>/accounts.entities.yaml` (accounts, roles, users) and
//!   `policies/<p>/<type>.entities.yaml` (each type's resources);
//! - `policies/<p>/expectations-NNN.test.yaml`: `expectations` cases (1,000
//!   per file) in the `cases:` form of the seed models' `matrix.test.yaml`.
//!   The first cases each target one policy (a request that policy decides),
//!   so that with at least as many expectations as policies every policy is
//!   exercised and `rolegrid check` passes; further cases are random
//!   requests. Expected decisions and reasons come from plain Cedar
//!   (`Authorizer::is_authorized`) evaluated on the policies the generator
//!   wrote for the request's action and resource type (plus the global ones).
//!
//! Sizes are per product. When `resource_types` is `None` there is one type
//! per 40 policies, so a request's action and types select a few dozen
//! policies whatever the store's size, as in real role models where each
//! resource type has its own actions.
//!
//! ```
//! use rolegrid_synth::{SynthConfig, SynthStore};
//! let config = SynthConfig { policies: 60, entities: 300, expectations: 80, ..SynthConfig::default() };
//! let store = SynthStore::generate(&config)?;
//! let product = &store.products()[0];
//! assert_eq!(product.policies, 60);
//! assert_eq!(product.entities, 300);
//! assert_eq!(product.cases.len(), 80);
//! assert!(product.undecided.is_empty()); // every policy decides a case
//! // store.write(std::path::Path::new("/tmp/synth"))?;
//! # Ok::<(), rolegrid::Problem>(())
//! ```
//!
//! The command-line front end is `rolegrid-synth` (`cargo run --release --bin
//! rolegrid-synth -- --help`).

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, Policy, PolicyId, PolicySet, Request,
    Schema,
};
use rolegrid::{Problem, ProblemKind};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The generator's format version: bumped whenever the same config would
/// generate different files (caches of generated stores key on it).
pub const VERSION: u32 = 1;

/// Policies per resource type when [`SynthConfig::resource_types`] is `None`.
pub const POLICIES_PER_TYPE: usize = 40;

/// Cases per expectation file.
pub const CASES_PER_FILE: usize = 1000;

/// What to generate. Sizes are per product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// The seed: equal configs give identical stores.
    pub seed: u64,
    /// How many products (`synth` when one, else `synth-0`, `synth-1`, ...).
    pub products: usize,
    /// Roles per product (at least 2: `admin` and `auditor` come first).
    pub roles: usize,
    /// Resource types per product; `None`: one per [`POLICIES_PER_TYPE`] policies.
    pub resource_types: Option<usize>,
    /// Actions per resource type (1 to 12: view, list, create, update, delete, share, ...).
    pub actions_per_type: usize,
    /// Policies per product (the 3 global ones included).
    pub policies: usize,
    /// Entities per product: accounts, roles, users and resources. Raised
    /// when too small for the types (4 resources each) and roles.
    pub entities: usize,
    /// Expectation cases per product.
    pub expectations: usize,
    /// Write entity files in Cedar's JSON entity format (`*.entities.json`,
    /// one entity per line) instead of YAML: the same entities, the form
    /// generated data of that size is usually in.
    pub entities_json: bool,
}

impl Default for SynthConfig {
    /// 1 product, 8 roles, 6 actions per type, 1,000 policies, 10,000
    /// entities, 1,000 expectations, seed 42.
    fn default() -> Self {
        Self {
            seed: 42,
            products: 1,
            roles: 8,
            resource_types: None,
            actions_per_type: 6,
            policies: 1000,
            entities: 10_000,
            expectations: 1000,
            entities_json: false,
        }
    }
}

/// One generated file, its path relative to the store root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFile {
    /// e.g. `policies/synth/document.cedar`.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
}

/// One expectation case: a request (Cedar uid text) and Cedar's answer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthCase {
    /// e.g. `Synth::User::"user-000001"`.
    pub principal: String,
    /// e.g. `Synth::Action::"viewDocument"`.
    pub action: String,
    /// e.g. `Synth::Document::"document-0001"`.
    pub resource: String,
    /// Cedar's decision.
    pub decision: Decision,
    /// The determining policies, sorted.
    pub reasons: Vec<String>,
    /// The policy the case was made to exercise, if any.
    pub target: Option<String>,
}

impl SynthCase {
    /// The request as one JSON line in Cedar's request shape (what
    /// `rolegrid authorize --requests` reads).
    pub fn request_line(&self) -> String {
        serde_json::json!({
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
        })
        .to_string()
    }
}

/// What was generated for one product.
#[derive(Debug, Clone)]
pub struct SynthProduct {
    /// The product's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// How many policies.
    pub policies: usize,
    /// How many entities the entity files hold.
    pub entities: usize,
    /// How many resource types.
    pub resource_types: usize,
    /// How many actions the schema declares (the `read` group included).
    pub actions: usize,
    /// The expectation cases, in file order.
    pub cases: Vec<SynthCase>,
    /// Policies no case is decided by (then `check` reports them as untested);
    /// empty whenever there are at least as many expectations as policies.
    pub undecided: Vec<String>,
}

impl SynthProduct {
    /// `n` request lines (JSON), cycling through the cases' requests.
    pub fn request_lines(&self, n: usize) -> Vec<String> {
        self.cases
            .iter()
            .cycle()
            .take(if self.cases.is_empty() { 0 } else { n })
            .map(SynthCase::request_line)
            .collect()
    }
}

/// A generated store: its files and what each product holds.
#[derive(Debug, Clone)]
pub struct SynthStore {
    files: Vec<SynthFile>,
    products: Vec<SynthProduct>,
}

impl SynthStore {
    /// Generates a store from a config; deterministic for a given config.
    pub fn generate(config: &SynthConfig) -> Result<Self, Problem> {
        let mut files = Vec::new();
        let mut products = Vec::new();
        for index in 0..config.products.max(1) {
            let (name, namespace) = if config.products <= 1 {
                ("synth".to_owned(), "Synth".to_owned())
            } else {
                (format!("synth-{index}"), format!("Synth{index}"))
            };
            let seed = config.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let generated = Generator::new(config, name, namespace, seed).run()?;
            files.extend(generated.0);
            products.push(generated.1);
        }
        Ok(Self { files, products })
    }

    /// The files, in a fixed order.
    pub fn files(&self) -> &[SynthFile] {
        &self.files
    }

    /// One summary per product.
    pub fn products(&self) -> &[SynthProduct] {
        &self.products
    }

    /// Writes the files under `root`, which must not exist or be an empty folder.
    pub fn write(&self, root: &Path) -> Result<(), Problem> {
        if root.exists() {
            let mut entries = std::fs::read_dir(root).map_err(|e| io_problem(root, &e))?;
            if entries.next().is_some() {
                return Err(Problem::new(
                    ProblemKind::Io,
                    format!("{} is not empty", root.display()),
                )
                .with_help("write a synthetic store into a new or empty folder"));
            }
        }
        for file in &self.files {
            let path = root.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_problem(parent, &e))?;
            }
            std::fs::write(&path, &file.text).map_err(|e| io_problem(&path, &e))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// deterministic randomness (SplitMix64: stable across versions and platforms)

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// `k` distinct items, in their original order.
    fn subset<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut chosen: Vec<usize> = Vec::new();
        let k = k.min(items.len());
        while chosen.len() < k {
            let i = self.below(items.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        chosen
            .iter()
            .filter_map(|i| items.get(*i).cloned())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// the model

const TYPE_NOUNS: &[&str] = &[
    "Document",
    "Folder",
    "Project",
    "Dashboard",
    "Report",
    "Invoice",
    "Dataset",
    "Pipeline",
    "Notebook",
    "Model",
    "Deployment",
    "Secret",
    "ApiKey",
    "Webhook",
    "Channel",
    "Message",
    "Ticket",
    "Repository",
    "Branch",
    "Build",
    "Release",
    "Environment",
    "Cluster",
    "Database",
    "Bucket",
    "Queue",
    "Topic",
    "Alert",
    "Monitor",
    "Incident",
    "Runbook",
    "Survey",
    "Form",
    "Campaign",
    "Segment",
    "Contact",
    "Lead",
    "Opportunity",
    "Contract",
    "Order",
    "Product",
    "Catalog",
    "Warehouse",
    "Shipment",
    "Workflow",
    "Template",
    "Space",
    "Page",
];

const VERBS: &[&str] = &[
    "view", "list", "create", "update", "delete", "share", "export", "archive", "comment",
    "publish", "approve", "restore",
];

/// Verbs in the `read` action group.
const READ_VERBS: &[&str] = &["view", "list"];

/// Verbs a locked resource forbids.
const MUTATING_VERBS: &[&str] = &["update", "delete", "share", "archive", "publish", "restore"];

const ROLE_NAMES: &[&str] = &[
    "admin",
    "auditor",
    "owner",
    "editor",
    "viewer",
    "billing",
    "support",
    "developer",
    "analyst",
    "guest",
    "manager",
    "contractor",
];

const PLANS: &[&str] = &["free", "team", "enterprise"];
const LIMITS: &[i64] = &[100, 250, 500, 1000];

const ADMIN: usize = 0;
const AUDITOR: usize = 1;

struct ResourceType {
    name: String,
    /// lower-case name: file names and entity ids
    slug: String,
    verbs: Vec<&'static str>,
}

struct Account {
    id: String,
    plan: &'static str,
    limit: i64,
}

struct User {
    id: String,
    account: usize,
    roles: Vec<usize>,
    level: i64,
}

struct Resource {
    id: String,
    account: usize,
    owner: usize,
    editors: Vec<usize>,
    size: i64,
    locked: bool,
}

#[derive(Clone)]
enum Kind {
    TenantIsolation,
    AdminAll,
    AuditorRead,
    /// `principal in Role::"r"`, no condition
    Grant(usize),
    /// `principal` unscoped, `when { principal in [roles] }`
    GrantWhen(Vec<usize>),
    Owner,
    Shared,
    /// role grant with a plan/limit condition
    Plan(usize),
    /// role grant for seniority `level >= k`
    Level(usize, i64),
    ForbidLocked,
    /// forbid free plans acting on resources over their limit
    ForbidOverLimit,
    /// one user, one action, one resource
    Individual {
        user: usize,
        resource: usize,
    },
}

struct GenPolicy {
    id: String,
    ty: Option<usize>,
    verbs: Vec<&'static str>,
    kind: Kind,
}

struct Generator<'c> {
    config: &'c SynthConfig,
    name: String,
    ns: String,
    rng: Rng,
    roles: Vec<String>,
    types: Vec<ResourceType>,
    accounts: Vec<Account>,
    users: Vec<User>,
    resources: Vec<Resource>,
    /// resources of each type
    by_type: Vec<Vec<usize>>,
    /// users of each (account, role)
    by_account_role: HashMap<(usize, usize), Vec<usize>>,
    /// users of each account
    by_account: Vec<Vec<usize>>,
    policies: Vec<GenPolicy>,
}

fn internal(message: impl Into<String>) -> Problem {
    Problem::new(
        ProblemKind::Io,
        format!("synthetic store: {}", message.into()),
    )
    .with_help("this is a bug in the generator; please report the config that caused it")
}

impl<'c> Generator<'c> {
    fn new(config: &'c SynthConfig, name: String, ns: String, seed: u64) -> Self {
        let roles = (0..config.roles.max(2))
            .map(|i| match ROLE_NAMES.get(i) {
                Some(name) => (*name).to_owned(),
                None => format!("role-{i}"),
            })
            .collect();
        Self {
            config,
            name,
            ns,
            rng: Rng(seed),
            roles,
            types: Vec::new(),
            accounts: Vec::new(),
            users: Vec::new(),
            resources: Vec::new(),
            by_type: Vec::new(),
            by_account_role: HashMap::new(),
            by_account: Vec::new(),
            policies: Vec::new(),
        }
    }

    fn run(mut self) -> Result<(Vec<SynthFile>, SynthProduct), Problem> {
        self.make_types();
        self.make_entities();
        self.make_policies();
        let schema_text = self.schema_text();
        let policy_files = self.policy_files();
        let entity_values = self.entity_values();
        let mut oracle = Oracle::new(&self, &schema_text, &entity_values)?;
        let entity_files: Vec<(String, String)> = entity_values
            .iter()
            .map(|(name, title, values)| {
                if self.config.entities_json {
                    (
                        name.replace(".entities.yaml", ".entities.json"),
                        entities_json(values),
                    )
                } else {
                    (name.clone(), entities_yaml(title, values))
                }
            })
            .collect();
        let cases = self.make_cases(&mut oracle)?;
        let mut decided: HashMap<&str, usize> = HashMap::new();
        for case in &cases {
            for reason in &case.reasons {
                *decided.entry(reason.as_str()).or_default() += 1;
            }
        }
        let undecided = self
            .policies
            .iter()
            .filter(|p| !decided.contains_key(p.id.as_str()))
            .map(|p| p.id.clone())
            .collect();
        let folder = PathBuf::from("policies").join(&self.name);
        let mut files = vec![SynthFile {
            path: PathBuf::from("schemas").join(format!("{}.cedarschema", self.name)),
            text: schema_text,
        }];
        for (name, text) in policy_files.into_iter().chain(entity_files) {
            files.push(SynthFile {
                path: folder.join(name),
                text,
            });
        }
        for (n, chunk) in cases.chunks(CASES_PER_FILE).enumerate() {
            files.push(SynthFile {
                path: folder.join(format!("expectations-{n:03}.test.yaml")),
                text: self.cases_text(chunk),
            });
        }
        let product = SynthProduct {
            name: self.name.clone(),
            namespace: self.ns.clone(),
            policies: self.policies.len(),
            entities: self.accounts.len()
                + self.roles.len()
                + self.users.len()
                + self.resources.len(),
            resource_types: self.types.len(),
            actions: self.types.iter().map(|t| t.verbs.len()).sum::<usize>() + 1,
            cases,
            undecided,
        };
        Ok((files, product))
    }

    // --- sizes --------------------------------------------------------------

    fn make_types(&mut self) {
        let per_type = self.config.policies.saturating_sub(3);
        let count = self
            .config
            .resource_types
            .unwrap_or_else(|| per_type.div_ceil(POLICIES_PER_TYPE))
            .max(1);
        let verbs = self.config.actions_per_type.clamp(1, VERBS.len());
        for i in 0..count {
            let noun = TYPE_NOUNS
                .get(i % TYPE_NOUNS.len())
                .copied()
                .unwrap_or("Thing");
            let round = i / TYPE_NOUNS.len();
            let name = if round == 0 {
                noun.to_owned()
            } else {
                format!("{noun}{}", round + 1)
            };
            self.types.push(ResourceType {
                slug: name.to_ascii_lowercase(),
                name,
                verbs: VERBS.iter().take(verbs).copied().collect(),
            });
        }
    }

    fn make_entities(&mut self) {
        let roles = self.roles.len();
        let types = self.types.len();
        let budget = self.config.entities;
        let accounts = (budget / 400).max(2);
        let min_resources = types * 4;
        // at least one user per role in every account, and a few more
        let users_wanted =
            (budget.saturating_sub(accounts + roles) / 5).max(accounts * (roles + 2));
        let resources = budget
            .saturating_sub(accounts + roles + users_wanted)
            .max(min_resources);
        for a in 0..accounts {
            // account 0 is on the free plan, so the over-limit forbids can apply
            let plan = if a == 0 {
                "free"
            } else {
                PLANS
                    .get(self.rng.below(PLANS.len()))
                    .copied()
                    .unwrap_or("free")
            };
            let limit = LIMITS
                .get(self.rng.below(LIMITS.len()))
                .copied()
                .unwrap_or(100);
            self.accounts.push(Account {
                id: format!("acct-{a:04}"),
                plan,
                limit,
            });
        }
        self.by_account = vec![Vec::new(); accounts];
        for u in 0..users_wanted {
            let account = u % accounts;
            let roll = self.rng.below(100);
            let count = match roll {
                0..8 => 0,
                8..80 => 1,
                _ => 2,
            };
            let mut user_roles = Vec::new();
            // the first users of an account hold each role alone, so every role has a user everywhere
            if u / accounts < roles {
                user_roles.push(u / accounts);
            } else {
                while user_roles.len() < count.min(roles) {
                    let role = self.role_for_user();
                    if !user_roles.contains(&role) {
                        user_roles.push(role);
                    }
                }
            }
            let level = 1 + self.rng.below(5) as i64;
            let index = self.users.len();
            for role in &user_roles {
                self.by_account_role
                    .entry((account, *role))
                    .or_default()
                    .push(index);
            }
            if let Some(list) = self.by_account.get_mut(account) {
                list.push(index);
            }
            self.users.push(User {
                id: format!("user-{u:06}"),
                account,
                roles: user_roles,
                level,
            });
        }
        self.by_type = vec![Vec::new(); types];
        for r in 0..resources {
            let ty = r % types;
            // every type's first resource is locked, and its second lies in the
            // free account over its limit, so every forbid shape has a case
            let nth = r / types;
            let account = if nth == 1 {
                0
            } else {
                self.rng.below(accounts)
            };
            let members = self.by_account.get(account).cloned().unwrap_or_default();
            let owner = if self.rng.chance(95) {
                self.rng.pick(&members).copied().unwrap_or(0)
            } else {
                self.rng.below(self.users.len())
            };
            let editor_count = self.rng.below(4);
            let editors = self.rng.subset(&members, editor_count);
            let mut size = self.rng.below(1200) as i64;
            if nth == 1 {
                let limit = self.accounts.first().map_or(0, |a| a.limit);
                size = limit + 1 + self.rng.below(100) as i64;
            }
            let locked = nth == 0 || self.rng.chance(12);
            let slug = self
                .types
                .get(ty)
                .map(|t| t.slug.clone())
                .unwrap_or_default();
            let index = self.resources.len();
            if let Some(list) = self.by_type.get_mut(ty) {
                list.push(index);
            }
            self.resources.push(Resource {
                id: format!("{slug}-{:05}", r / types),
                account,
                owner,
                editors,
                size,
                locked,
            });
        }
    }

    /// A role for a user: admins and auditors are rare.
    fn role_for_user(&mut self) -> usize {
        let roles = self.roles.len();
        if roles <= 2 || self.rng.chance(10) {
            self.rng.below(roles.min(2))
        } else {
            2 + self.rng.below(roles - 2)
        }
    }

    // --- policies -----------------------------------------------------------

    fn make_policies(&mut self) {
        let total = self.config.policies;
        let globals = [
            ("tenant-isolation", Kind::TenantIsolation),
            ("account-admin-all", Kind::AdminAll),
            ("auditor-read-all", Kind::AuditorRead),
        ];
        for (id, kind) in globals.into_iter().take(total) {
            self.policies.push(GenPolicy {
                id: id.to_owned(),
                ty: None,
                verbs: Vec::new(),
                kind,
            });
        }
        let rest = total.saturating_sub(self.policies.len());
        let types = self.types.len().max(1);
        for ty in 0..self.types.len() {
            let count = rest / types + usize::from(ty < rest % types);
            for k in 0..count {
                let policy = self.make_policy(ty, k);
                self.policies.push(policy);
            }
        }
    }

    /// The `k`-th policy of a type: the first ones cycle through every
    /// shape, then shapes are drawn with realistic weights.
    fn make_policy(&mut self, ty: usize, k: usize) -> GenPolicy {
        let verbs = self
            .types
            .get(ty)
            .map(|t| t.verbs.clone())
            .unwrap_or_default();
        let roles = self.roles.len();
        // roles other than admin and auditor (admins may do everything already)
        let base_role = if roles > 2 { 2 } else { 1 };
        let shape = if k < 9 { k } else { self.weighted_shape() };
        let some_role = |rng: &mut Rng| base_role + rng.below(roles - base_role);
        let (kind, chosen): (Kind, Vec<&'static str>) = match shape {
            0 => {
                let r = some_role(&mut self.rng);
                (
                    Kind::Grant(r),
                    pick_verbs(&mut self.rng, &verbs, READ_VERBS, 2),
                )
            }
            1 => (
                Kind::Owner,
                pick_verbs(&mut self.rng, &verbs, MUTATING_VERBS, 3),
            ),
            2 => (
                Kind::Shared,
                pick_verbs(&mut self.rng, &verbs, &["view", "update", "comment"], 2),
            ),
            3 => {
                let r = some_role(&mut self.rng);
                let n = 1 + self.rng.below(3);
                (Kind::Grant(r), self.rng.subset(&verbs, n))
            }
            4 => (
                Kind::ForbidLocked,
                pick_verbs(&mut self.rng, &verbs, MUTATING_VERBS, 3),
            ),
            5 => {
                let r = some_role(&mut self.rng);
                (
                    Kind::Plan(r),
                    pick_verbs(&mut self.rng, &verbs, &["create", "export", "publish"], 2),
                )
            }
            6 => {
                let r = some_role(&mut self.rng);
                let level = 2 + self.rng.below(3) as i64;
                let n = 1 + self.rng.below(2);
                (Kind::Level(r, level), self.rng.subset(&verbs, n))
            }
            7 => {
                let n = 2 + self.rng.below(2);
                let candidates: Vec<usize> = (base_role..roles).collect();
                let chosen_roles = self.rng.subset(&candidates, n);
                let verb = self.rng.pick(&verbs).copied().unwrap_or("view");
                (Kind::GrantWhen(chosen_roles), vec![verb])
            }
            8 => (
                Kind::ForbidOverLimit,
                pick_verbs(&mut self.rng, &verbs, &["create", "export"], 1),
            ),
            _ => {
                // an unlocked resource and a verb no forbid shape names, so the grant can decide
                let resources: Vec<usize> = self
                    .by_type
                    .get(ty)
                    .map(|list| {
                        list.iter()
                            .copied()
                            .filter(|r| self.resources.get(*r).is_some_and(|r| !r.locked))
                            .collect()
                    })
                    .unwrap_or_default();
                let resource = self.rng.pick(&resources).copied().unwrap_or(0);
                let account = self.resources.get(resource).map_or(0, |r| r.account);
                let members = self.by_account.get(account).cloned().unwrap_or_default();
                let user = self.rng.pick(&members).copied().unwrap_or(0);
                let verb = pick_verbs(&mut self.rng, &verbs, &["view", "list", "comment"], 1);
                (Kind::Individual { user, resource }, verb)
            }
        };
        let slug = self
            .types
            .get(ty)
            .map(|t| t.slug.clone())
            .unwrap_or_default();
        let label = match &kind {
            Kind::Grant(_) | Kind::GrantWhen(_) => "grant",
            Kind::Owner => "owner",
            Kind::Shared => "shared",
            Kind::Plan(_) => "plan",
            Kind::Level(..) => "senior",
            Kind::ForbidLocked => "forbid-locked",
            Kind::ForbidOverLimit => "forbid-over-limit",
            Kind::Individual { .. } => "direct",
            Kind::TenantIsolation | Kind::AdminAll | Kind::AuditorRead => "global",
        };
        GenPolicy {
            id: format!("{slug}-{label}-{k}"),
            ty: Some(ty),
            verbs: if chosen.is_empty() {
                verbs.first().copied().into_iter().collect()
            } else {
                chosen
            },
            kind,
        }
    }

    /// Shapes after the first cycle: mostly role grants.
    fn weighted_shape(&mut self) -> usize {
        match self.rng.below(100) {
            0..35 => 3,
            35..45 => 0,
            45..55 => 7,
            55..63 => 1,
            63..71 => 2,
            71..78 => 5,
            78..85 => 6,
            85..89 => 4,
            89..92 => 8,
            _ => 9,
        }
    }

    // --- text ---------------------------------------------------------------

    fn action(&self, verb: &str, ty: &ResourceType) -> String {
        format!("{}::Action::\"{verb}{}\"", self.ns, ty.name)
    }

    fn role_uid(&self, role: usize) -> String {
        format!(
            "{}::Role::\"{}\"",
            self.ns,
            self.roles.get(role).map_or("", String::as_str)
        )
    }

    fn schema_text(&self) -> String {
        let ns = &self.ns;
        let mut text = format!(
            "// Synthetic product `{}` (rolegrid-synth, seed {}): {} resource types, {} roles.\n\
             namespace {ns} {{\n\
             \x20 // The tenant: every user and resource lies in one account.\n\
             \x20 entity Account {{\n    plan: String,\n    limit: Long,\n  }};\n\
             \x20 entity Role;\n\
             \x20 entity User in [Role, Account] {{\n    account: Account,\n    level: Long,\n  }};\n",
            self.name,
            self.config.seed,
            self.types.len(),
            self.roles.len(),
        );
        for chunk in self.types.chunks(8) {
            let names: Vec<&str> = chunk.iter().map(|t| t.name.as_str()).collect();
            let _ = write!(
                text,
                "  entity {} in [Account] {{\n    account: Account,\n    owner: User,\n    editors: Set<User>,\n    size: Long,\n    locked: Bool,\n  }};\n",
                names.join(", ")
            );
        }
        text.push_str("\n  // The view and list actions of every type.\n  action read;\n");
        for ty in &self.types {
            for verb in &ty.verbs {
                let group = if READ_VERBS.contains(verb) {
                    " in [read]"
                } else {
                    ""
                };
                let _ = writeln!(
                    text,
                    "  action {verb}{}{group} appliesTo {{ principal: User, resource: {} }};",
                    ty.name, ty.name
                );
            }
        }
        text.push_str("}\n");
        text
    }

    fn policy_text(&self, policy: &GenPolicy) -> String {
        let ns = &self.ns;
        let ty = policy.ty.and_then(|t| self.types.get(t));
        let actions = match ty {
            Some(ty) => {
                let uids: Vec<String> = policy.verbs.iter().map(|v| self.action(v, ty)).collect();
                match uids.as_slice() {
                    [one] => format!("action == {one}"),
                    _ => format!("action in [{}]", uids.join(", ")),
                }
            }
            None => "action".to_owned(),
        };
        let is_type = ty
            .map(|t| format!("resource is {ns}::{}", t.name))
            .unwrap_or_default();
        let type_name = ty.map(|t| t.slug.as_str()).unwrap_or_default();
        let verbs = policy.verbs.join(", ");
        let head = format!("@id(\"{}\")\n", policy.id);
        match &policy.kind {
            Kind::TenantIsolation => format!(
                "// Tenant isolation: nothing outside one's own account, whatever the role.\n{head}forbid (principal, action, resource)\nunless {{ resource in principal.account }};\n"
            ),
            Kind::AdminAll => format!(
                "// Account admins may do everything in their account.\n{head}permit (principal in {}, action, resource);\n",
                self.role_uid(ADMIN)
            ),
            Kind::AuditorRead => format!(
                "// Auditors may view and list everything.\n{head}permit (\n  principal in {},\n  action in [{ns}::Action::\"read\"],\n  resource\n);\n",
                self.role_uid(AUDITOR)
            ),
            Kind::Grant(role) => format!(
                "// {} may {verbs} {type_name}s.\n{head}permit (\n  principal in {},\n  {actions},\n  {is_type}\n);\n",
                self.roles.get(*role).map_or("", String::as_str),
                self.role_uid(*role)
            ),
            Kind::GrantWhen(roles) => {
                let list: Vec<String> = roles.iter().map(|r| self.role_uid(*r)).collect();
                let names: Vec<&str> = roles
                    .iter()
                    .filter_map(|r| self.roles.get(*r))
                    .map(String::as_str)
                    .collect();
                format!(
                    "// {} may {verbs} {type_name}s.\n{head}permit (\n  principal,\n  {actions},\n  {is_type}\n)\nwhen {{\n  principal in\n    [{}]\n}};\n",
                    names.join(", "),
                    list.join(",\n     ")
                )
            }
            Kind::Owner => format!(
                "// Owners may {verbs} their own {type_name}s.\n{head}permit (\n  principal,\n  {actions},\n  {is_type}\n)\nwhen {{ resource.owner == principal }};\n"
            ),
            Kind::Shared => format!(
                "// Editors a {type_name} is shared with may {verbs} it.\n{head}permit (\n  principal,\n  {actions},\n  {is_type}\n)\nwhen {{ principal in resource.editors }};\n"
            ),
            Kind::Plan(role) => format!(
                "// {} may {verbs} {type_name}s on the enterprise plan, or within the plan's limit.\n{head}permit (\n  principal in {},\n  {actions},\n  {is_type}\n)\nwhen {{\n  principal.account.plan == \"enterprise\" ||\n  resource.size <= principal.account.limit\n}};\n",
                self.roles.get(*role).map_or("", String::as_str),
                self.role_uid(*role)
            ),
            Kind::Level(role, level) => format!(
                "// Senior {}s (level {level}+) may {verbs} {type_name}s.\n{head}permit (\n  principal in {},\n  {actions},\n  {is_type}\n)\nwhen {{ principal.level >= {level} }};\n",
                self.roles.get(*role).map_or("", String::as_str),
                self.role_uid(*role)
            ),
            Kind::ForbidLocked => format!(
                "// Locked {type_name}s cannot be changed ({verbs}) except by admins.\n{head}forbid (\n  principal,\n  {actions},\n  {is_type}\n)\nwhen {{ resource.locked }}\nunless {{ principal in {} }};\n",
                self.role_uid(ADMIN)
            ),
            Kind::ForbidOverLimit => format!(
                "// Free plans cannot {verbs} {type_name}s over their limit.\n{head}forbid (\n  principal,\n  {actions},\n  {is_type}\n)\nwhen {{\n  principal.account.plan == \"free\" &&\n  resource.size > principal.account.limit\n}};\n"
            ),
            Kind::Individual { user, resource } => {
                let user_id = self.users.get(*user).map_or("", |u| u.id.as_str());
                let resource_id = self.resources.get(*resource).map_or("", |r| r.id.as_str());
                let ty_name = ty.map_or("", |t| t.name.as_str());
                format!(
                    "// A direct grant to one user on one {type_name}.\n{head}permit (\n  principal == {ns}::User::\"{user_id}\",\n  {actions},\n  resource == {ns}::{ty_name}::\"{resource_id}\"\n);\n"
                )
            }
        }
    }

    /// `global.cedar` and one file per resource type.
    fn policy_files(&self) -> Vec<(String, String)> {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for policy in &self.policies {
            let name = match policy.ty.and_then(|t| self.types.get(t)) {
                Some(ty) => format!("{}.cedar", ty.slug),
                None => "global.cedar".to_owned(),
            };
            let text = files.entry(name).or_default();
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&self.policy_text(policy));
        }
        files.into_iter().collect()
    }

    fn uid_json(&self, ty: &str, id: &str) -> serde_json::Value {
        serde_json::json!({"type": format!("{}::{ty}", self.ns), "id": id})
    }

    fn account_id(&self, account: usize) -> &str {
        self.accounts.get(account).map_or("", |a| a.id.as_str())
    }

    fn user_id(&self, user: usize) -> &str {
        self.users.get(user).map_or("", |u| u.id.as_str())
    }

    /// The entities in Cedar's JSON entity format, grouped by file:
    /// `accounts.entities.yaml` (accounts, roles, users) and one file per type.
    fn entity_values(&self) -> Vec<(String, String, Vec<serde_json::Value>)> {
        let mut people = Vec::new();
        for account in &self.accounts {
            people.push(serde_json::json!({
                "uid": self.uid_json("Account", &account.id),
                "attrs": {"plan": account.plan, "limit": account.limit},
                "parents": [],
            }));
        }
        for role in &self.roles {
            people.push(
                serde_json::json!({"uid": self.uid_json("Role", role), "attrs": {}, "parents": []}),
            );
        }
        for user in &self.users {
            let account = self.account_id(user.account);
            let mut parents: Vec<serde_json::Value> = user
                .roles
                .iter()
                .map(|r| self.uid_json("Role", self.roles.get(*r).map_or("", String::as_str)))
                .collect();
            parents.push(self.uid_json("Account", account));
            people.push(serde_json::json!({
                "uid": self.uid_json("User", &user.id),
                "attrs": {"account": self.uid_json("Account", account), "level": user.level},
                "parents": parents,
            }));
        }
        let mut files = vec![(
            "accounts.entities.yaml".to_owned(),
            "Accounts (tenants), roles and users.".to_owned(),
            people,
        )];
        for (ty, members) in self.types.iter().zip(&self.by_type) {
            let mut list = Vec::new();
            for resource in members.iter().filter_map(|r| self.resources.get(*r)) {
                let account = self.uid_json("Account", self.account_id(resource.account));
                let editors: Vec<serde_json::Value> = resource
                    .editors
                    .iter()
                    .map(|e| self.uid_json("User", self.user_id(*e)))
                    .collect();
                list.push(serde_json::json!({
                    "uid": self.uid_json(&ty.name, &resource.id),
                    "attrs": {
                        "account": account,
                        "owner": self.uid_json("User", self.user_id(resource.owner)),
                        "editors": editors,
                        "size": resource.size,
                        "locked": resource.locked,
                    },
                    "parents": [account],
                }));
            }
            files.push((
                format!("{}.entities.yaml", ty.slug),
                format!("{} resources.", ty.name),
                list,
            ));
        }
        files
    }

    fn cases_text(&self, cases: &[SynthCase]) -> String {
        let prefix = format!("{}::", self.ns);
        let short = |uid: &str| uid.strip_prefix(&prefix).unwrap_or(uid).to_owned();
        let mut text = String::from(
            "# Synthetic expectations: decisions and reasons as plain Cedar gives them.\ntenant: Account\ncases:\n",
        );
        for case in cases {
            let action = short(&case.action);
            let action = action
                .strip_prefix("Action::\"")
                .and_then(|a| a.strip_suffix('"'))
                .unwrap_or(&action)
                .to_owned();
            let name = match &case.target {
                Some(target) => format!("{target} decides"),
                None => format!(
                    "{} {action} {}",
                    short(&case.principal),
                    short(&case.resource)
                ),
            };
            let decision = if case.decision == Decision::Allow {
                "allow"
            } else {
                "deny"
            };
            let _ = writeln!(
                text,
                "  - name: {}\n    principal: {}\n    action: {action}\n    resource: {}\n    decision: {decision}\n    reasons: [{}]",
                yaml_quote(&name),
                yaml_quote(&short(&case.principal)),
                yaml_quote(&short(&case.resource)),
                case.reasons.join(", ")
            );
        }
        text
    }

    // --- expectations -------------------------------------------------------

    fn make_cases(&mut self, oracle: &mut Oracle) -> Result<Vec<SynthCase>, Problem> {
        let wanted = self.config.expectations;
        let mut cases = Vec::with_capacity(wanted);
        // target policies in an order that samples every type when there are fewer cases than policies
        let mut order: Vec<usize> = (0..self.policies.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.rng.below(i + 1);
            order.swap(i, j);
        }
        for index in order.into_iter().take(wanted) {
            if let Some(case) = self.targeted_case(index, oracle)? {
                cases.push(case);
            }
        }
        while cases.len() < wanted {
            let case = self.random_case(oracle)?;
            cases.push(case);
        }
        Ok(cases)
    }

    fn targeted_case(
        &mut self,
        index: usize,
        oracle: &mut Oracle,
    ) -> Result<Option<SynthCase>, Problem> {
        let Some(policy) = self.policies.get(index) else {
            return Ok(None);
        };
        let id = policy.id.clone();
        let kind = policy.kind.clone();
        let ty = policy.ty;
        let verbs = policy.verbs.clone();
        for _attempt in 0..64 {
            let Some((user, verb_ty, verb, resource)) = self.candidate(&kind, ty, &verbs) else {
                continue;
            };
            let mut case = self.decide(user, verb_ty, verb, resource, oracle)?;
            if case.reasons.contains(&id) {
                case.target = Some(id);
                return Ok(Some(case));
            }
        }
        Ok(None)
    }

    /// A request likely to be decided by a policy of this kind.
    fn candidate(
        &mut self,
        kind: &Kind,
        ty: Option<usize>,
        verbs: &[&'static str],
    ) -> Option<(usize, usize, &'static str, usize)> {
        let ty = match ty {
            Some(ty) => ty,
            None => self.rng.below(self.types.len()),
        };
        let type_verbs = self.types.get(ty)?.verbs.clone();
        let verb = match kind {
            Kind::TenantIsolation | Kind::AdminAll => *self.rng.pick(&type_verbs)?,
            Kind::AuditorRead => {
                let reads: Vec<&'static str> = type_verbs
                    .iter()
                    .copied()
                    .filter(|v| READ_VERBS.contains(v))
                    .collect();
                *self.rng.pick(&reads)?
            }
            _ => *self.rng.pick(verbs)?,
        };
        let resources = self.by_type.get(ty)?;
        let resource = match kind {
            Kind::Individual { resource, .. } => *resource,
            Kind::ForbidLocked | Kind::ForbidOverLimit => {
                let over_limit = |r: &Resource| {
                    self.accounts
                        .get(r.account)
                        .is_some_and(|a| a.plan == "free" && r.size > a.limit)
                };
                let matching: Vec<usize> = resources
                    .iter()
                    .copied()
                    .filter(|i| {
                        self.resources.get(*i).is_some_and(|r| match kind {
                            Kind::ForbidLocked => r.locked,
                            _ => over_limit(r),
                        })
                    })
                    .collect();
                *self.rng.pick(&matching)?
            }
            _ => *self.rng.pick(resources)?,
        };
        let r = self.resources.get(resource)?;
        let account = r.account;
        let members = self.by_account.get(account)?;
        let in_role = |g: &Self, role: usize| {
            g.by_account_role
                .get(&(account, role))
                .cloned()
                .unwrap_or_default()
        };
        let user = match kind {
            Kind::TenantIsolation => {
                let other =
                    (account + 1 + self.rng.below(self.accounts.len().saturating_sub(1).max(1)))
                        % self.accounts.len().max(1);
                let others = self.by_account.get(other)?.clone();
                *self.rng.pick(&others)?
            }
            Kind::AdminAll => *self.rng.pick(&in_role(self, ADMIN))?,
            Kind::AuditorRead => *self.rng.pick(&in_role(self, AUDITOR))?,
            Kind::Grant(role) | Kind::Plan(role) | Kind::Level(role, _) => {
                *self.rng.pick(&in_role(self, *role))?
            }
            Kind::GrantWhen(roles) => {
                let role = *self.rng.pick(roles)?;
                *self.rng.pick(&in_role(self, role))?
            }
            Kind::Owner => r.owner,
            Kind::Shared => *self.rng.pick(&r.editors)?,
            Kind::ForbidLocked | Kind::ForbidOverLimit => *self.rng.pick(members)?,
            Kind::Individual { user, .. } => *user,
        };
        Some((user, ty, verb, resource))
    }

    fn random_case(&mut self, oracle: &mut Oracle) -> Result<SynthCase, Problem> {
        let ty = self.rng.below(self.types.len());
        let verbs = self
            .types
            .get(ty)
            .map(|t| t.verbs.clone())
            .unwrap_or_default();
        let verb = self.rng.pick(&verbs).copied().unwrap_or("view");
        let resources = self.by_type.get(ty).cloned().unwrap_or_default();
        let resource = self.rng.pick(&resources).copied().unwrap_or(0);
        let account = self.resources.get(resource).map_or(0, |r| r.account);
        let user = if self.rng.chance(85) {
            let members = self.by_account.get(account).cloned().unwrap_or_default();
            self.rng.pick(&members).copied().unwrap_or(0)
        } else {
            self.rng.below(self.users.len())
        };
        self.decide(user, ty, verb, resource, oracle)
    }

    fn decide(
        &self,
        user: usize,
        ty: usize,
        verb: &'static str,
        resource: usize,
        oracle: &mut Oracle,
    ) -> Result<SynthCase, Problem> {
        let rt = self.types.get(ty).ok_or_else(|| internal("no such type"))?;
        let principal = format!("{}::User::\"{}\"", self.ns, self.user_id(user));
        let action = self.action(verb, rt);
        let resource = format!(
            "{}::{}::\"{}\"",
            self.ns,
            rt.name,
            self.resources.get(resource).map_or("", |r| r.id.as_str())
        );
        let (decision, reasons) = oracle.decide(ty, verb, &principal, &action, &resource)?;
        Ok(SynthCase {
            principal,
            action,
            resource,
            decision,
            reasons,
            target: None,
        })
    }
}

/// Verbs of `preferred` the type has (up to `k`, at least one), or any of the type's verbs.
fn pick_verbs(
    rng: &mut Rng,
    verbs: &[&'static str],
    preferred: &[&str],
    k: usize,
) -> Vec<&'static str> {
    let matching: Vec<&'static str> = verbs
        .iter()
        .copied()
        .filter(|v| preferred.contains(v))
        .collect();
    let pool = if matching.is_empty() {
        verbs.to_vec()
    } else {
        matching
    };
    let n = 1 + rng.below(k.max(1));
    rng.subset(&pool, n)
}

/// An entity file: a comment, then one block-style list item per entity
/// with flow-style values, as the seed models' fixtures are written.
fn entities_yaml(title: &str, values: &[serde_json::Value]) -> String {
    let mut text = format!("# {title}\n");
    for value in values {
        let Some(object) = value.as_object() else {
            continue;
        };
        let mut first = true;
        let fields = ["uid", "attrs", "parents"]
            .into_iter()
            .filter_map(|key| object.get(key).map(|field| (key, field)))
            // rolegrid's YAML entities may leave out empty attrs and parents
            .filter(|(_, field)| !is_empty_collection(field));
        for (key, field) in fields {
            text.push_str(if first { "- " } else { "  " });
            first = false;
            let _ = writeln!(text, "{key}: {}", flow_yaml(field));
        }
    }
    text
}

/// Entities in Cedar's JSON entity format, one per line (every entity has
/// its `attrs` and `parents`, which that format requires).
fn entities_json(values: &[serde_json::Value]) -> String {
    let lines: Vec<String> = values
        .iter()
        .map(|value| {
            let mut value = value.clone();
            if let Some(object) = value.as_object_mut() {
                object
                    .entry("attrs")
                    .or_insert_with(|| serde_json::json!({}));
                object
                    .entry("parents")
                    .or_insert_with(|| serde_json::json!([]));
            }
            value.to_string()
        })
        .collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

fn is_empty_collection(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map.is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// A JSON value in YAML flow style.
fn flow_yaml(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", yaml_quote(k), flow_yaml(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow_yaml).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::String(s) => yaml_quote(s),
        other => other.to_string(),
    }
}

/// A YAML scalar, quoted when it holds anything but plain characters.
fn yaml_quote(text: &str) -> String {
    // `::` is plain in flow context (`Synth::User`); a trailing `:` or `: ` is not
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !text.ends_with(':')
        && !matches!(text, "true" | "false" | "null" | "Null" | "NULL");
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// Plain Cedar on the policies a request's action and resource type can
/// reach (those the generator wrote for that type and action, and the
/// global ones), with every entity.
struct Oracle {
    entities: Entities,
    authorizer: Authorizer,
    /// per (type, verb): the policies that name that action, plus the global ones
    sets: HashMap<(usize, &'static str), PolicySet>,
}

impl Oracle {
    fn new(
        generator: &Generator<'_>,
        schema_text: &str,
        entity_files: &[(String, String, Vec<serde_json::Value>)],
    ) -> Result<Self, Problem> {
        let (schema, _) = Schema::from_cedarschema_str(schema_text)
            .map_err(|e| internal(format!("the schema does not parse: {e}")))?;
        let mut parsed: Vec<Policy> = Vec::new();
        for policy in &generator.policies {
            let text = generator.policy_text(policy);
            let parsed_policy = Policy::parse(Some(PolicyId::new(&policy.id)), &text)
                .map_err(|e| internal(format!("policy {} does not parse: {e}", policy.id)))?;
            parsed.push(parsed_policy);
        }
        let mut sets: HashMap<(usize, &'static str), PolicySet> = HashMap::new();
        for (ty_index, ty) in generator.types.iter().enumerate() {
            for verb in &ty.verbs {
                let mut set = PolicySet::new();
                for (policy, cedar) in generator.policies.iter().zip(&parsed) {
                    if policy.ty.is_none()
                        || (policy.ty == Some(ty_index) && policy.verbs.contains(verb))
                    {
                        set.add(cedar.clone())
                            .map_err(|e| internal(format!("policy set: {e}")))?;
                    }
                }
                sets.insert((ty_index, verb), set);
            }
        }
        let values: Vec<serde_json::Value> = entity_files
            .iter()
            .flat_map(|(_, _, values)| values.iter().cloned())
            .collect();
        let entities = Entities::from_json_value(serde_json::Value::Array(values), Some(&schema))
            .map_err(|e| internal(format!("entities: {}", e)))?;
        Ok(Self {
            entities,
            authorizer: Authorizer::new(),
            sets,
        })
    }

    fn decide(
        &mut self,
        ty: usize,
        verb: &'static str,
        principal: &str,
        action: &str,
        resource: &str,
    ) -> Result<(Decision, Vec<String>), Problem> {
        let uid = |text: &str| {
            EntityUid::from_str(text).map_err(|e| internal(format!("uid {text}: {e}")))
        };
        let request = Request::new(
            uid(principal)?,
            uid(action)?,
            uid(resource)?,
            Context::empty(),
            // the generator only makes requests the schema allows; validating each is slow
            None,
        )
        .map_err(|e| internal(format!("request: {e}")))?;
        let set = self
            .sets
            .get(&(ty, verb))
            .ok_or_else(|| internal("no policies for an action"))?;
        let response = self.authorizer.is_authorized(&request, set, &self.entities);
        let mut reasons: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        reasons.sort();
        if response.diagnostics().errors().next().is_some() {
            return Err(internal(format!(
                "evaluation errors for {principal} {action} {resource}"
            )));
        }
        Ok((response.decision(), reasons))
    }
}

/// A file or folder that could not be written or read.
fn io_problem(path: &Path, error: &std::io::Error) -> Problem {
    Problem::new(ProblemKind::Io, format!("{}: {error}", path.display()))
}
