//! Checking a store's products: each loaded, its expectations run and its
//! coverage measured, side by side on every core, reported in order.

use crate::coverage::Coverage;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::expect::{RunOptions, RunOutcome, Suite, run};
use crate::parallel::par_map;
use crate::snapshot::Snapshot;
use crate::store::{LoadOptions, Store};
use std::time::{Duration, Instant};

/// One product loaded, run and measured.
#[derive(Debug)]
pub struct Checked {
    /// The product's name.
    pub product: String,
    /// The snapshot its expectations were run against.
    pub snapshot: Snapshot,
    /// Its expectations.
    pub suite: Suite,
    /// What running them gave.
    pub outcome: RunOutcome,
    /// Its coverage per role and per policy.
    pub coverage: Coverage,
    /// How long loading, running and measuring took.
    pub duration: Duration,
}

/// A product that could not be checked: its files (or its expectation
/// files) did not load.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// The product's name.
    pub product: String,
    /// Why it did not load.
    pub problems: Problems,
}

/// Every product checked, in the order asked. One product that does not
/// load never hides the others' results: it is listed in `invalid`.
#[derive(Debug)]
pub struct Checks {
    /// The products checked.
    pub products: Vec<Checked>,
    /// The products that did not load, in the order asked.
    pub invalid: Vec<Invalid>,
    /// Warnings the loads accepted (`LoadOptions::deny_warnings` off).
    pub warnings: Problems,
}

impl Checks {
    /// Every problem of every invalid product, in order.
    pub fn problems(&self) -> Problems {
        let mut problems = Problems::new();
        for invalid in &self.invalid {
            problems.extend(invalid.problems.clone());
        }
        problems
    }
}

/// Loads each product of `store` (every product when `products` is empty),
/// runs its expectations and measures its coverage: the results of those
/// that loaded, and the problems of those that did not. Fails only when
/// the store itself gives no products.
///
/// ```
/// use rolegrid::{LoadOptions, Store};
/// let checks = rolegrid::check::check_products(&Store::open(".")?, &[], &LoadOptions::default())?;
/// assert!(checks.products.iter().all(|c| c.outcome.failed() == 0));
/// # Ok::<(), rolegrid::Problems>(())
/// ```
pub fn check_products(
    store: &Store,
    products: &[String],
    options: &LoadOptions,
) -> Result<Checks, Problems> {
    check_selected(store, products, options, None)
}

/// Which expectations to run: those whose name matches a regular
/// expression. An item's name is `PRODUCT/FILE/KIND NAME`, the file's name
/// without its folder: `fireworks/matrix.test.yaml/row view on Model`,
/// `docs/cases.test.yaml/case vic cannot edit`.
#[derive(Debug, Clone)]
pub struct Selection {
    pattern: regex::Regex,
}

impl Selection {
    /// A selection by `pattern` (a regular expression, searched anywhere
    /// in the name).
    pub fn new(pattern: &str) -> Result<Self, Problem> {
        regex::Regex::new(pattern)
            .map(|pattern| Self { pattern })
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Usage,
                    format!("--run: not a regular expression: {e}"),
                )
            })
    }

    /// The name an item is selected by.
    pub fn name(product: &str, item: &crate::expect::Item) -> String {
        let file = item
            .location
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{product}/{file}/{} {}", item.kind.code(), item.name)
    }

    /// Whether the item is selected.
    pub fn selects(&self, product: &str, item: &crate::expect::Item) -> bool {
        self.pattern.is_match(&Self::name(product, item))
    }
}

/// [`check_products`] running only the expectations `selection` selects
/// (all when `None`); a product none of whose expectations is selected is
/// left out. Coverage is then measured on what ran.
pub fn check_selected(
    store: &Store,
    products: &[String],
    options: &LoadOptions,
    selection: Option<&Selection>,
) -> Result<Checks, Problems> {
    let (products, invalid, warnings) = each_product(store, products, |product| {
        check_one(store, product, options, selection)
    })?;
    let products = match selection {
        Some(_) => products
            .into_iter()
            .filter(|c: &Checked| !c.suite.items.is_empty())
            .collect(),
        None => products,
    };
    Ok(Checks {
        products,
        invalid,
        warnings,
    })
}

/// One product loaded and its expectation files read, nothing run.
#[derive(Debug)]
pub struct Validated {
    /// The product's name.
    pub product: String,
    /// The snapshot.
    pub snapshot: Snapshot,
    /// Its expectations, loaded (requests built and checked against the schema).
    pub suite: Suite,
    /// How long loading took.
    pub duration: Duration,
}

/// Every product validated, in the order asked, and those that did not load.
#[derive(Debug)]
pub struct Validations {
    /// The products that loaded.
    pub products: Vec<Validated>,
    /// The products that did not load, in the order asked.
    pub invalid: Vec<Invalid>,
    /// Warnings the loads accepted (`LoadOptions::deny_warnings` off).
    pub warnings: Problems,
}

/// Loads each product of `store` (every product when `products` is empty)
/// as [`check_products`] does, policies validated, entities typed and
/// expectation files read, without running an expectation.
///
/// ```
/// use rolegrid::{LoadOptions, Store};
/// let validations = rolegrid::check::validate_products(&Store::open(".")?, &[], &LoadOptions::default())?;
/// assert!(validations.invalid.is_empty());
/// # Ok::<(), rolegrid::Problems>(())
/// ```
pub fn validate_products(
    store: &Store,
    products: &[String],
    options: &LoadOptions,
) -> Result<Validations, Problems> {
    let (products, invalid, warnings) = each_product(store, products, |product| {
        let start = Instant::now();
        let (loaded, warnings) = load_one(store, product, options);
        let validated = loaded.map(|(snapshot, suite)| Validated {
            product: product.to_owned(),
            snapshot,
            suite,
            duration: start.elapsed(),
        });
        (validated, warnings)
    })?;
    Ok(Validations {
        products,
        invalid,
        warnings,
    })
}

/// The products asked for (every product of the store when none), each
/// once, in order; an error when there are none.
fn product_names(store: &Store, products: &[String]) -> Result<Vec<String>, Problems> {
    let products = if products.is_empty() {
        store.products()?
    } else {
        let mut seen: Vec<String> = Vec::new();
        for p in products {
            if !seen.contains(p) {
                seen.push(p.clone());
            }
        }
        seen
    };
    if products.is_empty() {
        return Err(Problem::new(
            ProblemKind::UnknownProduct,
            format!("the store at {} has no products", store.root_text()),
        )
        .with_help(
            "a product is a `schemas/<product>.cedarschema` with its `policies/<product>/` folder",
        )
        .into());
    }
    Ok(products)
}

/// Runs `one` on each product on every core: what it gave for each, those
/// that failed with their problems, and the warnings accepted.
#[allow(clippy::type_complexity)]
fn each_product<T: Send>(
    store: &Store,
    products: &[String],
    one: impl Fn(&str) -> (Result<T, Problems>, Problems) + Sync + Send,
) -> Result<(Vec<T>, Vec<Invalid>, Problems), Problems> {
    let products = product_names(store, products)?;
    let results = par_map(&products, |_| 1, |product| one(product));
    let mut warnings = Problems::new();
    let mut done = Vec::new();
    let mut invalid = Vec::new();
    for (product, (result, accepted)) in products.iter().zip(results) {
        warnings.extend(accepted);
        match result {
            Ok(one) => done.push(one),
            Err(problems) => invalid.push(Invalid {
                product: product.clone(),
                problems,
            }),
        }
    }
    Ok((done, invalid, warnings))
}

/// Parents that no entity file defines. Cedar accepts them (as entities
/// with no attributes), but in a fixture they are typos: a user whose role
/// parent is `Role::"membr"` holds no role, and the expectations asking
/// for that role would say only that nothing asks it.
fn dangling_parents(snapshot: &Snapshot) -> Problems {
    let entities = snapshot.entities();
    let mut problems = Problems::new();
    let mut holders: Vec<(&cedar_policy::EntityUid, &crate::origin::EntityOrigin)> =
        snapshot.entity_origins().iter().collect();
    // in file order, so the report is the same every time
    holders
        .sort_by(|a, b| (a.1.file.path(), a.1.span.start).cmp(&(b.1.file.path(), b.1.span.start)));
    for (uid, origin) in holders {
        let Some(entity) = entities.get(uid) else {
            continue;
        };
        let (_, _, parents) = entity.clone().into_inner();
        let mut parents: Vec<_> = parents
            .into_iter()
            .filter(|parent| entities.get(parent).is_none())
            .collect();
        parents.sort_by_key(ToString::to_string);
        for parent in parents {
            problems.push(dangling_parent(snapshot, uid, &parent, origin));
        }
    }
    problems
}

/// Loads a product and its expectation files: the snapshot and suite, or
/// the problems; and the warnings the load accepted.
fn load_one(
    store: &Store,
    product: &str,
    options: &LoadOptions,
) -> (Result<(Snapshot, Suite), Problems>, Problems) {
    let snapshot = match store.load(product, options) {
        Ok(snapshot) => snapshot,
        Err(problems) => return (Err(problems), Problems::new()),
    };
    let warnings = snapshot.warnings().clone();
    let dangling = dangling_parents(&snapshot);
    if !dangling.is_empty() {
        return (Err(dangling), warnings);
    }
    match Suite::load_product(&snapshot) {
        Ok(suite) => (Ok((snapshot, suite)), warnings),
        Err(problems) => (Err(problems), warnings),
    }
}

fn check_one(
    store: &Store,
    product: &str,
    options: &LoadOptions,
    selection: Option<&Selection>,
) -> (Result<Checked, Problems>, Problems) {
    let start = Instant::now();
    let (loaded, warnings) = load_one(store, product, options);
    let checked = loaded.and_then(|(snapshot, mut suite)| {
        if let Some(selection) = selection {
            suite.items.retain(|item| selection.selects(product, item));
        }
        let outcome = run(&suite, &snapshot, &RunOptions::default())?;
        let coverage = Coverage::compute(&snapshot, &suite, &outcome);
        Ok(Checked {
            product: product.to_owned(),
            snapshot,
            suite,
            outcome,
            coverage,
            duration: start.elapsed(),
        })
    });
    (checked, warnings)
}

/// A parent no entity file defines, with the closest entity of its type.
fn dangling_parent(
    snapshot: &Snapshot,
    uid: &cedar_policy::EntityUid,
    parent: &cedar_policy::EntityUid,
    origin: &crate::origin::EntityOrigin,
) -> Problem {
    let same_type = snapshot
        .entity_origins()
        .keys()
        .filter(|known| known.type_name() == parent.type_name())
        .map(|known| known.id().unescaped().to_owned());
    let help = match crate::diagnostics::text::closest_name(same_type, parent.id().unescaped()) {
        Some(near) => format!("did you mean `{}::\"{near}\"`?", parent.type_name()),
        None => format!("define {parent} in an entity file, or remove the parent"),
    };
    Problem::new(
        ProblemKind::Entity,
        format!("{uid} has the parent {parent}, which no entity file defines"),
    )
    .in_file(&origin.file)
    .at(origin.span.clone(), "this entity")
    .with_help(help)
}
