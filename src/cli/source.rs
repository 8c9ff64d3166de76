//! Arguments that say where policies come from: a product of a store, or explicit files.

use super::store_arg::StoreArg;
use cedar_policy::Entities;
use rolegrid::Snapshot;
use rolegrid::{LoadOptions, PolicyIds, Sources, Store, build_snapshot, with_entities};
use rolegrid::{Problem, ProblemKind, Problems};
use std::path::{Path, PathBuf};

/// Where the policies come from.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A product of the store.
    #[arg(long, short, value_name = "P", conflicts_with = "policies")]
    pub product: Option<String>,
    /// Explicit mode: a `.cedar` file or a folder of them (instead of --product).
    #[arg(long, value_name = "PATH")]
    pub policies: Option<PathBuf>,
    /// Explicit mode: a schema file, Cedar syntax (`.cedarschema`) or Cedar's
    /// JSON format (`.json`); without it nothing is validated.
    #[arg(long, value_name = "PATH", requires = "policies")]
    pub schema: Option<PathBuf>,
    /// Entities, repeatable: a file (YAML or Cedar JSON; `@FILE` works too) or
    /// Cedar JSON inline (`'[{"uid": ...}]'`). With --product they are added
    /// to the product's fixture.
    #[arg(long, value_name = "PATH|@FILE|JSON")]
    pub entities: Vec<String>,
    /// Explicit mode: ignore `@id` annotations and use Cedar's positional ids
    /// (`policy0`, `policy1`, ...), as `PolicySet::from_str` does.
    #[arg(long, requires = "policies")]
    pub positional_ids: bool,
    /// Explicit mode: do not validate policies against the schema (the schema
    /// still types entities, context and requests), as plain Cedar evaluates.
    #[arg(long, requires = "schema")]
    pub no_validate: bool,
}

/// A loaded snapshot with the entities requests are decided against.
pub(crate) struct Loaded {
    pub snapshot: Snapshot,
    pub entities: Option<Entities>,
}

impl Loaded {
    pub fn entities(&self) -> &Entities {
        self.entities
            .as_ref()
            .unwrap_or_else(|| self.snapshot.entities())
    }
}

impl SourceArgs {
    /// Reads the `--entities` files.
    /// Reads the `--entities` values: files, or inline JSON (named
    /// `(--entities N).entities.json` in reports, N counted from 1).
    pub(crate) fn read_entity_files(&self) -> Result<Vec<rolegrid::SourceFile>, Problems> {
        let limits = self.load_options().limits;
        let mut files = Vec::new();
        let mut problems = Problems::new();
        for (index, value) in self.entities.iter().enumerate() {
            if value.trim_start().starts_with(['[', '{']) {
                files.push(rolegrid::SourceFile::new(
                    format!("(--entities {}).entities.json", index + 1),
                    value.as_str(),
                ));
                continue;
            }
            let path = Path::new(value.strip_prefix('@').unwrap_or(value));
            match rolegrid::SourceFile::read(path, &limits) {
                Ok(file) => files.push(file),
                Err(p) => problems.push(p),
            }
        }
        problems.into_result(files)
    }

    pub(crate) fn load_options(&self) -> LoadOptions {
        LoadOptions {
            validate_policies: !self.no_validate,
            policy_ids: if self.positional_ids {
                PolicyIds::Positional
            } else if self.policies.is_some() {
                PolicyIds::AnnotationOrPositional
            } else {
                PolicyIds::RequireAnnotation
            },
            ..self.store.load_options()
        }
    }

    /// Loads the product or the explicit files, plus extra entities.
    pub(crate) fn load(&self) -> Result<Loaded, Problems> {
        let options = self.load_options();
        if let Some(policies) = &self.policies {
            // every file that cannot be read is reported, not the first
            let read =
                Sources::read_explicit(policies, self.schema.as_deref(), &[], &options.limits);
            let sources = match (read, self.read_entity_files()) {
                (Ok(mut sources), Ok(files)) => {
                    for file in files {
                        let kind = rolegrid::FileKind::entities_of(file.path());
                        sources.entities.push((file, kind));
                    }
                    sources
                }
                (Err(mut problems), Err(more)) => {
                    problems.extend(more);
                    return Err(problems);
                }
                (Err(problems), Ok(_)) | (Ok(_), Err(problems)) => return Err(problems),
            };
            let snapshot = build_snapshot(&sources, None, &options)?;
            return Ok(Loaded {
                snapshot,
                entities: None,
            });
        }
        let Some(product) = &self.product else {
            return Err(Problem::new(ProblemKind::Usage, "say which policies to use")
                .with_help("pass --product P (a product of the store at --root), or --policies PATH for explicit files")
                .into());
        };
        let snapshot = Store::open(&self.store.root)?.load(product, &options)?;
        if self.entities.is_empty() {
            return Ok(Loaded {
                snapshot,
                entities: None,
            });
        }
        let files = self.read_entity_files()?;
        let entities = with_entities(&snapshot, &files, &options.limits)?;
        Ok(Loaded {
            snapshot,
            entities: Some(entities),
        })
    }
}
