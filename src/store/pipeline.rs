//! The one load pipeline, for products and explicit files alike: each file
//! is parsed (and its policies validated) on its own, in parallel on every
//! core, and the results are kept in a [`LoadCache`] so a reload re-reads
//! only the files that changed (explicit files use a cache for one load).
//!
//! This is exact, not approximate: Cedar validates each policy on its own
//! (strict validation has no cross-policy rule), and an entity file's
//! entities are read against the schema alone, so per-file results with the
//! same file and schema content are the same results. What spans files
//! (duplicate policy ids and entity uids, positional policy ids, the entity
//! hierarchy, the policy index) is recomputed on every load.

use super::entities::{BuiltEntities, ParsedEntities, defined_twice};
use super::options::LoadOptions;
use super::policies::{ParsedPolicies, PolicyIds, duplicate_id};
use super::schema::parse_schema_with;
use super::slices;
use super::sources::Sources;
use super::validate::{in_file_order, push_warnings, validate_with};

/// Policies validated together in one task.
const VALIDATION_CHUNK: usize = 8;

/// Policy files validated together, each with its slice of the schema.
const FILES_PER_BATCH: usize = 16;
use crate::diagnostics::{Problem, ProblemKind, Problems, SourceFile};
use crate::files::FileKind;
use crate::index::{Prepared, prepare};
use crate::parallel::{join, par_map};
use crate::schema_info::SchemaInfo;
use crate::snapshot::{Origin, Parts, Snapshot};
use cedar_policy::Schema;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What earlier loads of one product computed, reused by the next load for
/// every file whose content (and schema) did not change.
#[derive(Debug, Default)]
pub(crate) struct LoadCache {
    schema: Option<CachedSchema>,
    policies: HashMap<FileKey, PolicyFile>,
    entities: HashMap<FileKey, EntityFile>,
    /// The entities of the last successful load, with the key of the entity
    /// files and schema they were built from.
    built: Option<CachedEntities>,
    /// For one load only: the join moves the entities out of their files'
    /// results instead of copying them, and keeps no copy of the result.
    single_use: bool,
}

/// A schema read from a file, with its warnings and declaration order.
#[derive(Debug, Clone)]
struct CachedSchema {
    hash: u64,
    schema: Schema,
    warnings: Problems,
    info: Arc<SchemaInfo>,
}

#[derive(Debug)]
struct CachedEntities {
    key: u64,
    built: BuiltEntities,
}

impl LoadCache {
    /// A cache for a single load (`Store::load`, `rolegrid check`): what a
    /// later load would reuse is not kept, which spares copying every entity.
    pub(crate) fn single_use() -> Self {
        Self {
            single_use: true,
            ..Self::default()
        }
    }
}

#[derive(Debug)]
struct PolicyFile {
    hash: u64,
    parsed: ParsedPolicies,
    problems: Problems,
    /// What the policy index derives from the policies.
    prepared: Prepared,
    /// (schema hash, validation problems)
    validation: Option<(u64, Problems)>,
}

#[derive(Debug)]
struct EntityFile {
    hash: u64,
    schema_hash: u64,
    parsed: ParsedEntities,
    problems: Problems,
}

/// A file of a load: its path, and how many files of the same kind with the
/// same path came before it (a store names each file once; explicit sources
/// may name one twice, and each is then read as a file of its own).
type FileKey = (PathBuf, usize);

/// The key of each file, in order.
fn file_keys<'a>(files: impl Iterator<Item = &'a SourceFile>) -> Vec<FileKey> {
    let mut seen: HashMap<&Path, usize> = HashMap::new();
    files
        .map(|file| {
            let nth = seen.entry(file.path()).or_insert(0);
            let key = (file.path().to_path_buf(), *nth);
            *nth += 1;
            key
        })
        .collect()
}

fn hash_text(file: &SourceFile) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    file.text().hash(&mut hasher);
    hasher.finish()
}

/// Builds a snapshot file by file, reusing and refreshing `cache`: all of it
/// or every problem found.
pub(crate) fn build(
    sources: &Sources,
    product: Option<&str>,
    origin: Option<Origin>,
    options: &LoadOptions,
    cache: &mut LoadCache,
) -> Result<Snapshot, Problems> {
    let mut problems = Problems::new();
    let schema_hash = sources.schema.as_ref().map_or(0, hash_text);
    let (schema, schema_info) =
        match read_schema(sources, schema_hash, options, cache, &mut problems) {
            Some(read) => (Some(read.schema), read.info),
            None => (None, Arc::default()),
        };
    let policy_keys = file_keys(sources.policies.iter());
    read_policy_files(cache, sources, &policy_keys, options);
    let (merged, prepared) = merge_policies(&cache.policies, &policy_keys, &mut problems);
    if sources.schema.is_some() && schema.is_none() {
        // without the schema nothing else can be checked meaningfully
        return Err(problems);
    }
    let entity_keys = file_keys(sources.entities.iter().map(|(file, _)| file));
    read_entity_files(
        &mut cache.entities,
        sources,
        &entity_keys,
        schema.as_ref(),
        schema_hash,
        options,
    );
    let keys = (policy_keys.as_slice(), entity_keys.as_slice());
    let schema_read = schema.as_ref().map(|schema| (schema, schema_hash));
    let built = validate_and_join(cache, keys, schema_read, options, &mut problems)?;
    let parts = Parts {
        product: product.map(str::to_owned),
        schema,
        policies: merged.set,
        policy_origins: merged.origins,
        expression_depth: merged.depth,
        entities: built.entities,
        entity_origins: built.origins,
        warnings: problems,
        origin,
        schema_info,
    };
    Ok(Snapshot::new(parts, &prepared))
}

/// Parses the policy files that are new or changed into `cache`, and
/// forgets the files that are gone.
fn read_policy_files(
    cache: &mut LoadCache,
    sources: &Sources,
    keys: &[FileKey],
    options: &LoadOptions,
) {
    let stale: Vec<(&SourceFile, &FileKey, u64)> = sources
        .policies
        .iter()
        .zip(keys)
        .map(|(file, key)| (file, key, hash_text(file)))
        .filter(|(_, key, hash)| cache.policies.get(*key).is_none_or(|c| c.hash != *hash))
        .collect();
    for (key, file) in parse_policy_files(&stale, options) {
        cache.policies.insert(key, file);
    }
    cache.policies.retain(|key, _| keys.contains(key));
}

/// The policy files' policies and templates in one set, in file order, with
/// what the index derived of each; the files' problems and ids defined
/// twice across files added to `problems`.
fn merge_policies(
    files: &HashMap<FileKey, PolicyFile>,
    keys: &[FileKey],
    problems: &mut Problems,
) -> (ParsedPolicies, Prepared) {
    let mut merged = ParsedPolicies::default();
    let mut prepared = Prepared::default();
    for file in keys.iter().filter_map(|key| files.get(key)) {
        problems.extend(file.problems.iter().cloned());
        merged.depth = merged.depth.max(file.parsed.depth);
        let mut policies: Vec<_> = file.parsed.set.policies().collect();
        policies.sort_by_key(|p| file.parsed.origins.get(p.id()).map_or(0, |o| o.span.start));
        for policy in policies {
            let Some(origin) = file.parsed.origins.get(policy.id()) else {
                continue;
            };
            if let Some(first) = merged.origins.get(policy.id()) {
                problems.push(duplicate_id(policy.id().as_ref(), origin, first));
                continue;
            }
            if merged.set.add(policy.clone()).is_ok() {
                merged.origins.insert(policy.id().clone(), origin.clone());
                if let Some(prep) = file.prepared.get(policy.id()) {
                    prepared.insert(policy.id().clone(), prep.clone());
                }
            }
        }
        for template in file.parsed.set.templates() {
            let Some(origin) = file.parsed.origins.get(template.id()) else {
                continue;
            };
            if let Some(first) = merged.origins.get(template.id()) {
                problems.push(duplicate_id(template.id().as_ref(), origin, first));
                continue;
            }
            if merged.set.add_template(template.clone()).is_ok() {
                merged.origins.insert(template.id().clone(), origin.clone());
            }
        }
    }
    (merged, prepared)
}

/// At once: Cedar's validation of the policies on every core (when there
/// is a schema and nothing is wrong yet), and the join of the entities
/// (mostly Cedar's transitive closure, one core). The entities, or every
/// problem: the policies' first, then the entities', as the files are listed.
fn validate_and_join(
    cache: &mut LoadCache,
    (policy_keys, entity_keys): (&[FileKey], &[FileKey]),
    schema: Option<(&Schema, u64)>,
    options: &LoadOptions,
    problems: &mut Problems,
) -> Result<BuiltEntities, Problems> {
    let schema_hash = schema.map_or(0, |(_, hash)| hash);
    let validate = schema
        .map(|(schema, _)| schema)
        .filter(|_| options.validate_policies && !problems.has_errors());
    let LoadCache {
        policies,
        entities,
        built,
        single_use,
        ..
    } = cache;
    let keep = (!*single_use).then_some(built);
    let ((), joined) = join(
        || {
            if let Some(schema) = validate {
                validate_files(policies, schema, schema_hash);
            }
        },
        || {
            let schema = schema.map(|(schema, _)| schema);
            join_entities(entities, keep, entity_keys, schema, schema_hash, options)
        },
    );
    if validate.is_some() {
        add_validation(policies, policy_keys, options, problems);
    }
    let built = match joined {
        Joined::Cached(built) => built,
        Joined::Fresh {
            problems: more,
            built,
        } => {
            problems.extend(more);
            match built {
                Some(Ok(built)) if !problems.has_errors() => built,
                // a join that failed is reported only when nothing else was wrong
                Some(Err(failed)) if !problems.has_errors() => return Err(failed),
                _ => return Err(std::mem::take(problems)),
            }
        }
    };
    if problems.has_errors() {
        return Err(std::mem::take(problems));
    }
    Ok(built)
}

/// Adds each policy file's validation problems, in file order: errors,
/// then warnings (as errors when warnings are denied).
fn add_validation(
    policies: &HashMap<FileKey, PolicyFile>,
    keys: &[FileKey],
    options: &LoadOptions,
    problems: &mut Problems,
) {
    let mut warnings = Problems::new();
    for key in keys {
        if let Some((_, result)) = policies.get(key).and_then(|f| f.validation.as_ref()) {
            for problem in result {
                if problem.is_warning() {
                    warnings.push(problem.clone());
                } else {
                    problems.push(problem.clone());
                }
            }
        }
    }
    push_warnings(problems, warnings, options.deny_warnings);
}

/// The schema (from the cache when its text did not change), its warnings
/// added to `problems` (as errors when warnings are denied); `None` with its
/// errors added when it does not parse, or when there is none.
fn read_schema(
    sources: &Sources,
    hash: u64,
    options: &LoadOptions,
    cache: &mut LoadCache,
    problems: &mut Problems,
) -> Option<CachedSchema> {
    let file = sources.schema.as_ref()?;
    let read = match cache.schema.take().filter(|cached| cached.hash == hash) {
        Some(cached) => cached,
        None => match parse_schema_with(file, &options.limits) {
            Ok((schema, warnings)) => CachedSchema {
                hash,
                schema,
                warnings,
                info: Arc::new(SchemaInfo::from_cedarschema(
                    &super::schema::cedar_syntax(file).unwrap_or_default(),
                )),
            },
            Err(errors) => {
                problems.extend(errors);
                return None;
            }
        },
    };
    push_warnings(problems, read.warnings.clone(), options.deny_warnings);
    cache.schema = Some(read.clone());
    Some(read)
}

/// Parses policy files, each with what the policy index derives from its
/// policies. With ids from `@id` (a product), on every core; with positional
/// ids, in order, each file's positions counted on from the files before it,
/// as Cedar's CLI counts them.
fn parse_policy_files(
    stale: &[(&SourceFile, &FileKey, u64)],
    options: &LoadOptions,
) -> Vec<(FileKey, PolicyFile)> {
    let parse = |parsed: &mut ParsedPolicies, file: &SourceFile| {
        parsed.add_file(file, options.policy_ids, &options.limits)
    };
    let finish = |key: &FileKey, hash: u64, parsed: ParsedPolicies, problems| {
        let prepared = prepare(&parsed.set);
        let file = PolicyFile {
            hash,
            parsed,
            problems,
            prepared,
            validation: None,
        };
        (key.clone(), file)
    };
    if options.policy_ids == PolicyIds::RequireAnnotation {
        return par_map(
            stale,
            |(file, _, _)| file.text().len(),
            |(file, key, hash)| {
                let mut parsed = ParsedPolicies::default();
                let problems = parse(&mut parsed, file);
                finish(key, *hash, parsed, problems)
            },
        );
    }
    let mut position = 0;
    stale
        .iter()
        .map(|(file, key, hash)| {
            let mut parsed = ParsedPolicies::counting_from(position);
            let problems = parse(&mut parsed, file);
            position = parsed.next_position();
            finish(key, *hash, parsed, problems)
        })
        .collect()
}

/// Validates the policy files whose validation is missing or was against
/// another schema, on every core, keeping each file's result with it.
fn validate_files(policies: &mut HashMap<FileKey, PolicyFile>, schema: &Schema, schema_hash: u64) {
    let stale: Vec<(&FileKey, &PolicyFile)> = policies
        .iter()
        .filter(|(_, f)| f.validation.as_ref().is_none_or(|(h, _)| *h != schema_hash))
        .collect();
    let validator = cedar_policy::Validator::new(schema.clone());
    let slicer = slices::Slicer::new(schema);
    // a batch of files at a time: each file's slice of the schema is a copy
    // of most of it, so only a batch's slices are kept at once
    let mut results: Vec<(FileKey, Problems)> = Vec::with_capacity(stale.len());
    for batch in stale.chunks(FILES_PER_BATCH) {
        let validated = validate_batch(batch, schema, &validator, &slicer);
        for ((path, _), problems) in batch.iter().zip(validated) {
            results.push(((*path).clone(), problems));
        }
    }
    for (key, result) in results {
        if let Some(file) = policies.get_mut(&key) {
            file.validation = Some((schema_hash, in_file_order(result)));
        }
    }
}

/// Validates a batch of policy files, on every core: each file's problems.
fn validate_batch(
    stale: &[(&FileKey, &PolicyFile)],
    schema: &Schema,
    validator: &cedar_policy::Validator,
    slicer: &slices::Slicer<'_>,
) -> Vec<Problems> {
    // Cedar validates each policy on its own: a file's policies are cut
    // into chunks so one large edited file still uses every core, and each
    // policy is validated against the slice of the schema it can reach
    let plans: Vec<Option<slices::Plan>> = par_map(
        stale,
        |(_, file)| file.parsed.set.policies().count(),
        |(_, file)| {
            // templates and their links are validated together, against the whole schema
            let has_templates = file.parsed.set.templates().next().is_some();
            (!has_templates).then(|| slicer.plan(file.parsed.set.policies()))
        },
    );
    let mut chunks: Vec<(usize, Option<&slices::Slice>, cedar_policy::PolicySet)> = Vec::new();
    for (at, ((_, file), plan)) in stale.iter().zip(&plans).enumerate() {
        let Some(plan) = plan else {
            chunks.push((at, None, file.parsed.set.clone()));
            continue;
        };
        let parts = plan.whole.chunks(VALIDATION_CHUNK).map(|part| (None, part));
        let sliced = plan.sliced.iter().flat_map(|(slice, policies)| {
            policies
                .chunks(VALIDATION_CHUNK)
                .map(move |part| (Some(slice), part))
        });
        for (slice, part) in parts.chain(sliced) {
            match slices::set_of(part) {
                Some(set) => chunks.push((at, slice, set)),
                None => chunks.push((at, None, file.parsed.set.clone())),
            }
        }
    }
    let validated = par_map(
        &chunks,
        |(_, _, set)| set.policies().count(),
        |(at, slice, set)| {
            let Some(origins) = stale.get(*at).map(|(_, f)| &f.parsed.origins) else {
                return (*at, Problems::new());
            };
            let problems = match slice {
                Some(slice) => {
                    let problems = validate_with(slice.validator(), schema, set, origins);
                    if problems.is_empty() {
                        problems
                    } else {
                        // what is reported is always what the whole schema gives
                        validate_with(validator, schema, set, origins)
                    }
                }
                None => validate_with(validator, schema, set, origins),
            };
            (*at, problems)
        },
    );
    let mut results: Vec<Problems> = stale.iter().map(|_| Problems::new()).collect();
    for (at, problems) in validated {
        if let Some(result) = results.get_mut(at) {
            result.extend(problems);
        }
    }
    results
}

/// Reads the entity files that are new or changed (or were read against
/// another schema), on every core, and forgets the files that are gone.
fn read_entity_files(
    cached: &mut HashMap<FileKey, EntityFile>,
    sources: &Sources,
    keys: &[FileKey],
    schema: Option<&Schema>,
    schema_hash: u64,
    options: &LoadOptions,
) {
    let stale: Vec<(&SourceFile, FileKind, &FileKey, u64)> = sources
        .entities
        .iter()
        .zip(keys)
        .map(|((file, kind), key)| (file, *kind, key, hash_text(file)))
        .filter(|(_, _, key, hash)| {
            cached
                .get(*key)
                .is_none_or(|c| c.hash != *hash || c.schema_hash != schema_hash)
        })
        .collect();
    let read = par_map(
        &stale,
        |(file, _, _, _)| file.text().len(),
        |(file, kind, key, hash)| {
            let mut parsed = ParsedEntities::default();
            let problems = parsed.add_file(file, *kind, schema, &options.limits);
            (
                (*key).clone(),
                EntityFile {
                    hash: *hash,
                    schema_hash,
                    parsed,
                    problems,
                },
            )
        },
    );
    for (key, file) in read {
        cached.insert(key, file);
    }
    cached.retain(|key, _| keys.contains(key));
}

/// What a join depends on: the schema, the limits, and each entity file
/// with its content.
fn join_key(
    files: &HashMap<FileKey, EntityFile>,
    keys: &[FileKey],
    schema_hash: u64,
    options: &LoadOptions,
) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    schema_hash.hash(&mut hasher);
    options.limits.hash(&mut hasher);
    for key in keys {
        key.hash(&mut hasher);
        files.get(key).map(|f| f.hash).hash(&mut hasher);
    }
    hasher.finish()
}

/// The product's entities, joined from its entity files.
enum Joined {
    /// The same files on the same schema as the last good load: its entities.
    Cached(BuiltEntities),
    /// Joined anew: the files' problems (with entities defined twice and
    /// the count limit), and the entities unless those have errors.
    Fresh {
        problems: Problems,
        built: Option<Result<BuiltEntities, Problems>>,
    },
}

/// Joins the entity files' entities into Cedar's `Entities`, or reuses the
/// last good load's when the files and schema are the same.
///
/// With no `cached` (a single load), the entities are moved out of `files`
/// rather than copied, and the result is not kept.
fn join_entities(
    files: &mut HashMap<FileKey, EntityFile>,
    mut cached: Option<&mut Option<CachedEntities>>,
    keys: &[FileKey],
    schema: Option<&Schema>,
    schema_hash: u64,
    options: &LoadOptions,
) -> Joined {
    let key = join_key(files, keys, schema_hash, options);
    if let Some(cached) = cached.as_deref_mut() {
        if let Some(same) = cached.as_ref().filter(|b| b.key == key) {
            return Joined::Cached(same.built.clone());
        }
        *cached = None;
    }
    let keep = cached.is_some();
    let mut problems = Problems::new();
    let mut entities = ParsedEntities::default();
    for key in keys {
        let Some(file) = files.get_mut(key) else {
            continue;
        };
        problems.extend(file.problems.iter().cloned());
        let (read, links) = if keep {
            (file.parsed.entities.clone(), file.parsed.links.clone())
        } else {
            (
                std::mem::take(&mut file.parsed.entities),
                std::mem::take(&mut file.parsed.links),
            )
        };
        for (entity, link) in read.into_iter().zip(links) {
            let uid = &link.0;
            let Some(origin) = file.parsed.origins.get(uid) else {
                continue;
            };
            if let Some(first) = entities.origins.get(uid) {
                problems.push(defined_twice(uid, &origin.file, origin.span.clone(), first));
                continue;
            }
            entities.origins.insert(uid.clone(), origin.clone());
            entities.links.push(link);
            entities.entities.push(entity);
        }
    }
    if entities.entities.len() > options.limits.max_entities {
        problems.push(
            Problem::new(
                ProblemKind::Limit,
                format!(
                    "more than {} entities (limit `max_entities`)",
                    options.limits.max_entities
                ),
            )
            .with_help("raise the limit (--max-entities) if the store really needs it"),
        );
    }
    if problems.has_errors() {
        return Joined::Fresh {
            problems,
            built: None,
        };
    }
    let built = entities.build_with(schema, &options.limits);
    if let (Ok(built), Some(cached)) = (&built, cached) {
        *cached = Some(CachedEntities {
            key,
            built: built.clone(),
        });
    }
    Joined::Fresh {
        problems,
        built: Some(built),
    }
}
