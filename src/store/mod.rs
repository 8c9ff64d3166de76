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
mod options;
mod pipeline;
mod policies;
mod policy_files;
mod schema;
mod slices;
mod sources;
#[cfg(test)]
pub(crate) mod test_data;
mod typed_entities;
mod validate;

pub use extra::with_entities;
pub(crate) use extra::with_entity_values;
pub use options::LoadOptions;
pub(crate) use pipeline::LoadCache;
pub use policies::PolicyIds;
pub(crate) use policy_files::read_policy_folder;
pub use sources::Sources;

use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::files::{FileKind, ProductFiles, io_problem, walk};
use crate::limits::Limits;
use crate::parallel::with_large_stack;
use crate::snapshot::{Origin, Snapshot};
use std::path::{Path, PathBuf};

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

    /// The root as users wrote it, for messages (`.` for the current folder).
    pub fn root_text(&self) -> String {
        display_root(&self.root)
    }

    /// The products, named by `schemas/*.cedarschema`, sorted. A schema
    /// whose name is not UTF-8 is an error, never a product left out.
    pub fn products(&self) -> Result<Vec<String>, Problems> {
        let dir = self.root.join("schemas");
        let entries = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        })
        .map_err(|e| Problems::from(io_problem(&dir, &e)))?;
        let mut products = Vec::new();
        let mut problems = Problems::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(io_problem(&dir, &e));
                    continue;
                }
            };
            let name = entry.file_name();
            match name.to_str() {
                Some(name) => {
                    if let Some(product) = crate::files::schema_product(name) {
                        if products.iter().any(|p| p == product) {
                            problems.push(two_schemas(&dir, product));
                        } else {
                            products.push(product.to_owned());
                        }
                    }
                }
                None if name.as_encoded_bytes().ends_with(b".cedarschema")
                    || name.as_encoded_bytes().ends_with(b".cedarschema.json") =>
                {
                    problems.push(name_not_utf8(&entry.path()));
                }
                None => {}
            }
        }
        products.sort();
        problems.extend(self.strays(&products));
        problems.into_result(products)
    }

    /// What under `policies/` belongs to no product: a folder without a
    /// schema, a product file outside any product folder. Hidden entries
    /// and notes (names rolegrid ignores) are left alone.
    fn strays(&self, products: &[String]) -> Problems {
        let mut problems = Problems::new();
        let folder = self.root.join("policies");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            // a missing policies/ is reported when a product loads
            return problems;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                problems.push(name_not_utf8(&path));
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                if !products.contains(&name) {
                    problems.push(folder_without_schema(&path, &name));
                }
            } else if !matches!(FileKind::of(&name), Ok(None)) {
                problems.push(
                    Problem::new(
                        ProblemKind::UnknownFile,
                        format!(
                            "{}: a product file outside any product folder",
                            path.display()
                        ),
                    )
                    .with_help("move it into policies/<product>/"),
                );
            }
        }
        problems
    }

    /// The files of one product, checked for names rolegrid does not know.
    pub fn product_files(&self, product: &str, limits: &Limits) -> Result<ProductFiles, Problems> {
        let schemas = self.root.join("schemas");
        let json_schema = schemas.join(format!("{product}.cedarschema.json"));
        let schema = if json_schema.is_file() {
            json_schema
        } else {
            schemas.join(format!("{product}.cedarschema"))
        };
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
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                problems.push(name_not_utf8(&path));
                continue;
            };
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
    pub(crate) fn build_cached(
        &self,
        product: &str,
        files: ProductFiles,
        sources: &Sources,
        options: &LoadOptions,
        cache: &mut LoadCache,
    ) -> Result<Snapshot, Problems> {
        let origin = Origin {
            root: self.root.clone(),
            files,
            fingerprint: sources.fingerprint(),
        };
        with_large_stack(|| pipeline::build(sources, Some(product), Some(origin), options, cache))
            .map_err(Problems::from)?
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

/// Builds a validated snapshot from sources: schema, then policies, then
/// entities, collecting every problem; nothing is returned unless all is valid.
pub fn build_snapshot(
    sources: &Sources,
    product: Option<&str>,
    options: &LoadOptions,
) -> Result<Snapshot, Problems> {
    let mut cache = LoadCache::single_use();
    with_large_stack(|| pipeline::build(sources, product, None, options, &mut cache))
        .map_err(Problems::from)?
}

/// A product with a schema in both formats: which one holds is not clear.
fn two_schemas(dir: &Path, product: &str) -> Problem {
    Problem::new(
        ProblemKind::UnknownFile,
        format!(
            "{}: product `{product}` has two schemas, `{product}.cedarschema` and `{product}.cedarschema.json`",
            dir.display()
        ),
    )
    .with_help("keep one of them")
}

/// A file whose name is not UTF-8: rolegrid cannot tell what it holds, so
/// it is refused rather than skipped.
fn name_not_utf8(path: &Path) -> Problem {
    Problem::new(
        ProblemKind::UnknownFile,
        format!("{}: the file name is not valid UTF-8", path.display()),
    )
    .with_help("rename the file: rolegrid reads only files whose names it can tell apart")
}

/// A product folder without its schema: nothing in it would be loaded.
fn folder_without_schema(path: &Path, product: &str) -> Problem {
    Problem::new(
        ProblemKind::MissingSchema,
        format!(
            "{} has no schema: nothing in it is loaded or checked",
            path.display()
        ),
    )
    .with_help(format!(
        "add schemas/{product}.cedarschema, or move the folder out of policies/"
    ))
}
