//! A store: a folder of products, each a schema plus policy, entity and
//! expectation files; and the loader that turns a product into a [`Snapshot`].
//!
//! Layout:
//!
//! ```text
//! <root>/schemas/<product>.cedarschema
//! <root>/policies/<product>/**/*.cedar              policies, each with @id("...")
//! <root>/policies/<product>/**/*.entities.yaml      entities (Cedar JSON entity format, in YAML)
//! <root>/policies/<product>/**/*.entities.json      entities (Cedar JSON)
//! <root>/policies/<product>/**/*.test.yaml          expectations (matrix and cases)
//! <root>/policies/<product>/**/*.test.json          expectations in Cedar's test format
//! ```

mod entities;
mod extra;
mod pipeline;
mod policies;
mod schema;
mod slices;
#[cfg(test)]
pub(crate) mod test_data;
mod typed_entities;

pub use extra::with_entities;
pub(crate) use extra::with_entity_values;
pub use pipeline::LoadCache;
pub use policies::PolicyIds;

pub(crate) use entities::{BuiltEntities, ParsedEntities, defined_twice};
pub(crate) use policies::ParsedPolicies;
pub(crate) use schema::parse_schema_with;

use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::{FileKind, ProductFiles, entity_kind_of, io_problem, read_source, walk};
use crate::limits::Limits;
use crate::origin::PolicyOrigin;
use crate::parallel::with_large_stack;
use crate::snapshot::{Parts, Snapshot};
use cedar_policy::{Schema, ValidationMode, Validator};
use std::path::{Path, PathBuf};

/// How a load treats what it reads.
///
/// ```
/// let options = rolegrid::LoadOptions::default();
/// assert!(options.deny_warnings);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Validator and schema warnings fail the load (default `true`).
    pub deny_warnings: bool,
    /// Validate policies against the schema in strict mode (default `true`).
    /// Turned off only to reproduce Cedar's own behaviour on policies that do
    /// not validate (the schema still types entities, context and requests).
    pub validate_policies: bool,
    /// How policies get their ids.
    pub policy_ids: PolicyIds,
    /// Size, nesting and count limits.
    pub limits: Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            deny_warnings: true,
            validate_policies: true,
            policy_ids: PolicyIds::RequireAnnotation,
            limits: Limits::default(),
        }
    }
}

/// A store folder (`schemas/` and `policies/`).
///
/// ```no_run
/// let store = rolegrid::Store::open(".")?;
/// for product in store.products()? {
///     let snapshot = store.load(&product, &rolegrid::LoadOptions::default())?;
///     println!("{product}: {} policies", snapshot.policy_count());
/// }
/// # Ok::<(), rolegrid::Problems>(())
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store at `root`; it must have `schemas/` and `policies/` folders.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, Problems> {
        let mut root = root.into();
        if root.as_os_str() == "." {
            // paths in messages read `policies/p/x.cedar`, not `./policies/p/x.cedar`
            root = PathBuf::new();
        }
        let mut problems = Problems::new();
        for folder in ["schemas", "policies"] {
            let path = root.join(folder);
            if !path.is_dir() {
                problems.push(
                    Problem::new(
                        ProblemKind::MissingFolder,
                        format!("{} is not a folder", path.display()),
                    )
                    .with_help(format!(
                        "a store holds `schemas/<product>.cedarschema` and `policies/<product>/`; is {} the store you meant (--root)?",
                        display_root(&root)
                    )),
                );
            }
        }
        problems.into_result(Self { root })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The products, named by `schemas/*.cedarschema`, sorted.
    pub fn products(&self) -> Result<Vec<String>, Problems> {
        let dir = self.root.join("schemas");
        let entries = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        })
        .map_err(|e| Problems::from(io_problem(&dir, &e)))?;
        let mut products: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".cedarschema"))
                    .map(str::to_owned)
            })
            .collect();
        products.sort();
        Ok(products)
    }

    /// The files of one product, checked for names rolegrid does not know.
    pub fn product_files(&self, product: &str, limits: &Limits) -> Result<ProductFiles, Problems> {
        let schema = self
            .root
            .join("schemas")
            .join(format!("{product}.cedarschema"));
        let folder = self.root.join("policies").join(product);
        let valid_name = !product.is_empty()
            && product
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !product.starts_with('.');
        if !valid_name || !schema.is_file() {
            let known = self.products().unwrap_or_default();
            return Err(Problem::new(
                ProblemKind::UnknownProduct,
                format!("no product `{product}` in {}", display_root(&self.root)),
            )
            .with_help(if known.is_empty() {
                "this store has no products: add schemas/<product>.cedarschema".to_owned()
            } else {
                format!("products here: {}", known.join(", "))
            })
            .into());
        }
        if !folder.is_dir() {
            return Err(Problem::new(
                ProblemKind::MissingFolder,
                format!(
                    "product `{product}` has a schema but no folder {}",
                    folder.display()
                ),
            )
            .with_help(format!(
                "create {} for its policies and entities",
                folder.display()
            ))
            .into());
        }
        let mut files = ProductFiles {
            schema,
            ..ProductFiles::default()
        };
        let mut problems = Problems::new();
        for path in walk(&folder, limits)? {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            match FileKind::of(name) {
                Ok(Some(FileKind::Policies)) => files.policies.push(path),
                Ok(Some(kind @ (FileKind::EntitiesYaml | FileKind::EntitiesJson))) => {
                    files.entities.push((path, kind));
                }
                Ok(Some(kind)) => files.expectations.push((path, kind)),
                Ok(None) => {}
                Err(help) => problems.push(
                    Problem::new(
                        ProblemKind::UnknownFile,
                        format!(
                            "{}: rolegrid does not know what this file holds",
                            path.display()
                        ),
                    )
                    .with_help(help),
                ),
            }
        }
        problems.into_result(files)
    }

    /// Loads one product into a validated snapshot: all of it or nothing.
    pub fn load(&self, product: &str, options: &LoadOptions) -> Result<Snapshot, Problems> {
        let (files, sources) = self.read(product, options)?;
        self.build(product, files, &sources, options)
    }

    /// Reads a product's files (the first half of [`Store::load`]).
    pub fn read(
        &self,
        product: &str,
        options: &LoadOptions,
    ) -> Result<(ProductFiles, Sources), Problems> {
        let files = self.product_files(product, &options.limits)?;
        let sources = Sources::read(&files, &options.limits)?;
        Ok((files, sources))
    }

    /// Builds a product's snapshot from what [`Store::read`] read.
    pub fn build(
        &self,
        product: &str,
        files: ProductFiles,
        sources: &Sources,
        options: &LoadOptions,
    ) -> Result<Snapshot, Problems> {
        self.build_cached(
            product,
            files,
            sources,
            options,
            &mut LoadCache::single_use(),
        )
    }

    /// Like [`Store::build`], reusing what `cache` kept from earlier loads of
    /// this product for the files that did not change, and refreshing it.
    pub fn build_cached(
        &self,
        product: &str,
        files: ProductFiles,
        sources: &Sources,
        options: &LoadOptions,
        cache: &mut LoadCache,
    ) -> Result<Snapshot, Problems> {
        let mut snapshot = if options.policy_ids == PolicyIds::RequireAnnotation {
            with_large_stack(|| pipeline::build_product(sources, product, options, cache))
                .map_err(Problems::from)??
        } else {
            build_snapshot(sources, Some(product), options)?
        };
        snapshot.set_origin(self.root.clone(), files, sources.fingerprint());
        Ok(snapshot)
    }
}

/// The root as users wrote it (`.` for the current folder).
fn display_root(root: &Path) -> String {
    if root.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        root.display().to_string()
    }
}

/// The text of every file a snapshot is built from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The schema, if any (explicit mode may have none).
    pub schema: Option<SourceFile>,
    /// Policy files, in order.
    pub policies: Vec<SourceFile>,
    /// Entity files with their kinds, in order.
    pub entities: Vec<(SourceFile, FileKind)>,
}

impl Sources {
    /// A hash of every file's path and content: equal fingerprints mean a
    /// reload would build the same snapshot.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for file in self
            .schema
            .iter()
            .chain(&self.policies)
            .chain(self.entities.iter().map(|(f, _)| f))
        {
            file.path().hash(&mut hasher);
            file.text().hash(&mut hasher);
        }
        hasher.finish()
    }

    /// Reads a product's files.
    pub fn read(files: &ProductFiles, limits: &Limits) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let mut sources = Sources::default();
        match read_source(&files.schema, limits) {
            Ok(file) => sources.schema = Some(file),
            Err(p) => problems.push(p),
        }
        for path in &files.policies {
            match read_source(path, limits) {
                Ok(file) => sources.policies.push(file),
                Err(p) => problems.push(p),
            }
        }
        for (path, kind) in &files.entities {
            match read_source(path, limits) {
                Ok(file) => sources.entities.push((file, *kind)),
                Err(p) => problems.push(p),
            }
        }
        problems.into_result(sources)
    }

    /// Reads explicit files: policies (a file or every `*.cedar` under a
    /// folder), an optional schema, entity files (YAML or JSON by name).
    pub fn read_explicit(
        policies: &Path,
        schema: Option<&Path>,
        entities: &[PathBuf],
        limits: &Limits,
    ) -> Result<Self, Problems> {
        let mut problems = Problems::new();
        let mut sources = Sources::default();
        let policy_paths = if policies.is_dir() {
            walk(policies, limits)?
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
                .collect()
        } else {
            vec![policies.to_path_buf()]
        };
        for path in &policy_paths {
            match read_source(path, limits) {
                Ok(file) => sources.policies.push(file),
                Err(p) => problems.push(p),
            }
        }
        if let Some(path) = schema {
            match read_source(path, limits) {
                Ok(file) => sources.schema = Some(file),
                Err(p) => problems.push(p),
            }
        }
        for path in entities {
            let kind = entity_kind_of(path);
            match read_source(path, limits) {
                Ok(file) => sources.entities.push((file, kind)),
                Err(p) => problems.push(p),
            }
        }
        problems.into_result(sources)
    }
}

/// Builds a validated snapshot from sources: schema, then policies, then
/// entities, collecting every problem; nothing is returned unless all is valid.
pub fn build_snapshot(
    sources: &Sources,
    product: Option<&str>,
    options: &LoadOptions,
) -> Result<Snapshot, Problems> {
    with_large_stack(|| build_snapshot_inner(sources, product, options)).map_err(Problems::from)?
}

fn build_snapshot_inner(
    sources: &Sources,
    product: Option<&str>,
    options: &LoadOptions,
) -> Result<Snapshot, Problems> {
    let mut problems = Problems::new();
    let schema: Option<Schema> = match &sources.schema {
        Some(file) => match parse_schema_with(file, &options.limits) {
            Ok((schema, warnings)) => {
                push_warnings(&mut problems, warnings, options.deny_warnings);
                Some(schema)
            }
            Err(errors) => {
                problems.extend(errors);
                None
            }
        },
        None => None,
    };
    let mut policies = ParsedPolicies::default();
    for file in &sources.policies {
        problems.extend(policies.add_file(file, options.policy_ids, &options.limits));
    }
    if sources.schema.is_some() && schema.is_none() {
        // without the schema nothing else can be checked meaningfully
        return Err(problems);
    }
    if let Some(schema) = &schema
        && options.validate_policies
        && !problems.has_errors()
    {
        let mut warnings = Problems::new();
        for problem in validate(schema, &policies.set, &policies.origins) {
            if problem.is_warning() {
                warnings.push(problem);
            } else {
                problems.push(problem);
            }
        }
        push_warnings(&mut problems, warnings, options.deny_warnings);
    }
    let mut entities = ParsedEntities::default();
    for (file, kind) in &sources.entities {
        problems.extend(entities.add_file(file, *kind, schema.as_ref(), &options.limits));
    }
    if problems.has_errors() {
        return Err(problems);
    }
    let entities = entities.build_with(schema.as_ref(), &options.limits)?;
    let parts = Parts {
        product: product.map(str::to_owned),
        schema,
        policies: policies.set,
        policy_origins: policies.origins,
        entities: entities.entities,
        entity_origins: entities.origins,
        warnings: problems,
    };
    Ok(Snapshot::new(parts, &crate::index::Prepared::default()))
}

/// Validates a policy set in strict mode: errors, then warnings (as warning problems).
pub(crate) fn validate(
    schema: &Schema,
    set: &cedar_policy::PolicySet,
    origins: &std::collections::HashMap<cedar_policy::PolicyId, PolicyOrigin>,
) -> Problems {
    validate_with(&Validator::new(schema.clone()), schema, set, origins)
}

/// [`validate`] with a validator made once for many sets (it caches the
/// schema's request environments).
pub(crate) fn validate_with(
    validator: &Validator,
    schema: &Schema,
    set: &cedar_policy::PolicySet,
    origins: &std::collections::HashMap<cedar_policy::PolicyId, PolicyOrigin>,
) -> Problems {
    let mut problems = Problems::new();
    let result = validator.validate(set, ValidationMode::Strict);
    for error in result.validation_errors() {
        let file = origins.get(error.policy_id()).map(|o| &o.file);
        let mut problem = Problem::from_diagnostic(ProblemKind::PolicyValidation, error, file);
        // Cedar picks among equally close names in the hash order of each
        // schema it builds: choose one the same way every time
        let suggestion = match error {
            cedar_policy::ValidationError::UnrecognizedActionId(_) => {
                closest_action(schema, &error.to_string())
            }
            cedar_policy::ValidationError::UnrecognizedEntityType(_) => {
                closest_entity_type(schema, &error.to_string())
            }
            _ => None,
        };
        if let Some(suggestion) = suggestion {
            problem = problem.with_help(format!("did you mean `{suggestion}`?"));
        }
        problems.push(problem);
    }
    for warning in result.validation_warnings() {
        let file = origins.get(warning.policy_id()).map(|o| &o.file);
        problems.push(
            Problem::from_diagnostic(ProblemKind::ValidationWarning, warning, file).as_warning(),
        );
    }
    // Cedar gives them in hash order: report in file order, the same every time
    in_file_order(problems)
}

/// Validation problems in a stable order: errors, then warnings, each by
/// place and message (the order of one file's problems whatever the order
/// its policies were validated in).
pub(crate) fn in_file_order(problems: Problems) -> Problems {
    let mut sorted: Vec<Problem> = problems.into_iter().collect();
    sorted.sort_by_cached_key(|p| {
        let at = p.location().map(|l| (l.file, l.line, l.column));
        (p.is_warning(), at, p.message().to_owned())
    });
    let mut problems = Problems::new();
    problems.extend(sorted);
    problems
}

/// The schema action closest to the one an `unrecognized action `...``
/// message names (see [`closest_name`]).
fn closest_action(schema: &Schema, message: &str) -> Option<String> {
    let unknown = named_in(message, "unrecognized action `")?;
    closest_name(schema.actions().map(ToString::to_string), unknown)
}

/// The schema entity type closest to the one an `unrecognized entity type
/// `...`` message names: the one Cedar suggests (`get_suggested_entity_type`:
/// the closest of the schema's entity types by the same distance) when only
/// one is closest.
fn closest_entity_type(schema: &Schema, message: &str) -> Option<String> {
    let unknown = named_in(message, "unrecognized entity type `")?;
    closest_name(schema.entity_types().map(ToString::to_string), unknown)
}

/// What a message quotes after `prefix`, up to the last backquote.
fn named_in<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let named = message.split(prefix).nth(1)?.rsplit_once('`')?.0;
    (!named.is_empty()).then_some(named)
}

/// The name closest to `unknown` by edit distance, then by name: the same
/// choice every time among equally close names.
fn closest_name(names: impl Iterator<Item = String>, unknown: &str) -> Option<String> {
    names.min_by(|a, b| {
        strsim::levenshtein(a, unknown)
            .cmp(&strsim::levenshtein(b, unknown))
            .then_with(|| a.cmp(b))
    })
}

/// Adds warnings: as errors when they are denied, else as warnings.
pub(crate) fn push_warnings(problems: &mut Problems, warnings: Problems, deny: bool) {
    for warning in warnings {
        if deny {
            problems.push(
                Problem::from_diagnostic(warning.kind(), &warning, warning.file())
                    .with_help("warnings fail the load; pass --allow-warnings to accept them"),
            );
        } else {
            problems.push(warning);
        }
    }
}
