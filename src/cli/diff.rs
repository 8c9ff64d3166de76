//! `rolegrid diff`: what a change does to who can do what, against another
//! store folder or a git revision (see [`rolegrid::diff`]).

use super::outcome::{ExitStatus, Finished, Outcome};
use super::output::{ProblemsOut, pretty, write_out};
use super::store_arg::StoreArg;
use rolegrid::diff::{Diff, ProductDiff, Side, compare_products, open_base};
use rolegrid::matrix::Matrix;
use rolegrid::{LoadOptions, Problem, ProblemKind, Problems, Snapshot, Store};
use std::collections::BTreeSet;
use std::path::Path;

/// Output format of `rolegrid diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum DiffFormat {
    /// Grouped by product and role, granted first (the default).
    #[default]
    Human,
    /// A pull-request comment: a summary line and a table per role.
    Markdown,
    /// The JSON document (`version`, `base`, `products`).
    Json,
    /// GitHub annotations on the policy lines responsible.
    Github,
}

/// Which changes make `diff` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A role gains something (deny or absent to allow or conditional, conditional to allow).
    Widen,
    /// A role loses something.
    Narrow,
    /// Either.
    Any,
}

/// Arguments of `rolegrid diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The base: a store's folder, or a git revision of the repository
    /// holding --root (`HEAD~1`, `origin/main`, a tag).
    #[arg(long, value_name = "BASE")]
    base: String,
    #[command(flatten)]
    store: StoreArg,
    /// Compare only this product (default: every product of either side).
    #[arg(long, short, value_name = "P")]
    product: Option<String>,
    /// The base's product to compare with --product (default: the same name).
    #[arg(long, value_name = "Q", requires = "product")]
    base_product: Option<String>,
    /// Pair base roles with new ones: `OLD=NEW,...` (same names pair by themselves).
    #[arg(long, value_name = "OLD=NEW,...", value_delimiter = ',')]
    role_map: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: DiffFormat,
    /// Exit 1 when a role gains (`widen`), loses (`narrow`) or does either (`any`).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Also prove, for every request environment of the schema and every
    /// entity store it allows, whether the new policies are equivalent to
    /// the base's, with confirmed counterexamples (needs cvc5 1.3).
    #[arg(long)]
    prove: bool,
    /// The solver's time limit per check, in milliseconds (past it: unknown).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    timeout_ms: u64,
}

impl Args {
    /// Where problems go besides stderr.
    pub(super) fn problems_out(&self) -> ProblemsOut {
        match self.format {
            DiffFormat::Json => ProblemsOut::Json,
            _ => ProblemsOut::Stderr,
        }
    }

    fn role_map(&self) -> Result<Vec<(String, String)>, Problem> {
        self.role_map
            .iter()
            .filter(|pair| !pair.trim().is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((old, new)) if !old.trim().is_empty() && !new.trim().is_empty() => {
                    Ok((old.trim().to_owned(), new.trim().to_owned()))
                }
                _ => Err(Problem::new(
                    ProblemKind::Usage,
                    format!("--role-map: `{pair}` is not OLD=NEW"),
                )
                .with_help("e.g. --role-map accountant=finance,marketer=media-full")),
            })
            .collect()
    }
}

/// A side loaded: its snapshot and matrix.
struct Loaded {
    snapshot: Snapshot,
    matrix: Matrix,
}

fn load(store: &Store, product: &str, options: &LoadOptions) -> Result<Option<Loaded>, Problems> {
    if !store.products()?.iter().any(|p| p == product) {
        return Ok(None);
    }
    let snapshot = store.load(product, options)?;
    let matrix = Matrix::build(&snapshot)?;
    Ok(Some(Loaded { snapshot, matrix }))
}

fn side<'a>(loaded: &'a Option<Loaded>, root: &'a Path) -> Option<Side<'a>> {
    loaded.as_ref().map(|loaded| Side {
        snapshot: &loaded.snapshot,
        matrix: &loaded.matrix,
        root,
    })
}

/// The pairs of products to compare: (base product, product).
fn pairs(args: &Args, base: &Store, new: &Store) -> Result<Vec<(String, String)>, Problems> {
    if let Some(product) = &args.product {
        let base_product = args.base_product.clone().unwrap_or_else(|| product.clone());
        return Ok(vec![(base_product, product.clone())]);
    }
    let all: BTreeSet<String> = base
        .products()?
        .into_iter()
        .chain(new.products()?)
        .collect();
    Ok(all.into_iter().map(|p| (p.clone(), p)).collect())
}

/// Checks that every role the map names exists on its side.
fn check_role_map(
    map: &[(String, String)],
    base: &Option<Loaded>,
    new: &Option<Loaded>,
) -> Result<(), Problem> {
    let has = |loaded: &Option<Loaded>, role: &str| {
        loaded
            .as_ref()
            .is_none_or(|l| l.matrix.roles.iter().any(|r| r.id == role))
    };
    for (old, new_role) in map {
        if !has(base, old) {
            return Err(Problem::new(
                ProblemKind::Usage,
                format!("--role-map: the base has no role `{old}`"),
            ));
        }
        if !has(new, new_role) {
            return Err(Problem::new(
                ProblemKind::Usage,
                format!("--role-map: the new side has no role `{new_role}`"),
            ));
        }
    }
    Ok(())
}

/// The proof for one product: the new schema's request environments,
/// both policy sets typed against it (an environment where the base's
/// policies do not type-check against the new schema is skipped, with why).
fn prove(
    solver: &rolegrid::prove::Solver,
    before: &Loaded,
    after: &Loaded,
    timeout_ms: u64,
) -> Vec<rolegrid::prove::EnvProof> {
    let Some(schema) = after.snapshot.schema() else {
        return Vec::new();
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut proof = rolegrid::prove::prove_equivalence(
        solver,
        schema,
        before.snapshot.policies(),
        after.snapshot.policies(),
        timeout_ms,
        threads,
    );
    // environments only the base's schema has are not compared: say so
    if let Some(base_schema) = before.snapshot.schema() {
        let compared: BTreeSet<String> = schema.request_envs().map(|env| env_key(&env)).collect();
        for env in base_schema.request_envs() {
            if !compared.contains(&env_key(&env)) {
                proof.push(rolegrid::prove::EnvProof {
                    principal_type: env.principal().to_string(),
                    action: env.action().to_string(),
                    resource_type: env.resource().to_string(),
                    outcome: rolegrid::prove::Outcome::Skipped,
                    reason: Some("only the base's schema has this request environment".to_owned()),
                    counterexamples: Vec::new(),
                });
            }
        }
    }
    proof
}

fn env_key(env: &cedar_policy::RequestEnv) -> String {
    format!("{} {} {}", env.principal(), env.action(), env.resource())
}

/// Runs `rolegrid diff`.
pub fn run(args: &Args) -> Outcome {
    let role_map = args.role_map()?;
    let solver = if args.prove {
        Some(rolegrid::prove::Solver::find()?)
    } else {
        None
    };
    let options = args.store.load_options();
    let new_store = Store::open(&args.store.root)?;
    let base = open_base(&args.base, &args.store.root)?;
    let mut products: Vec<ProductDiff> = Vec::new();
    for (base_product, product) in pairs(args, &base.store, &new_store)? {
        let before = load(&base.store, &base_product, &options)?;
        let after = load(&new_store, &product, &options)?;
        if before.is_none() && after.is_none() {
            return Err(Problem::new(
                ProblemKind::UnknownProduct,
                format!("no product `{product}` on either side"),
            )
            .into());
        }
        check_role_map(&role_map, &before, &after)?;
        let mut compared = compare_products(
            side(&before, &base.root),
            side(&after, &args.store.root),
            &base_product,
            &product,
            &role_map,
        );
        if let (Some(solver), Some(before), Some(after)) = (&solver, &before, &after) {
            compared.proof = Some(prove(solver, before, after, args.timeout_ms));
        }
        products.push(compared);
    }
    let diff = Diff {
        version: rolegrid::diff::DIFF_VERSION,
        base: args.base.clone(),
        products,
    };
    let text = match args.format {
        DiffFormat::Human => rolegrid::diff::human(&diff),
        DiffFormat::Markdown => rolegrid::diff::markdown(&diff),
        DiffFormat::Github => rolegrid::diff::github(&diff),
        DiffFormat::Json => pretty(&diff.to_json()),
    };
    write_out(&text)?;
    let failed = match args.fail_on {
        None => false,
        Some(FailOn::Widen) => diff.widens(),
        Some(FailOn::Narrow) => diff.narrows(),
        Some(FailOn::Any) => diff.widens() || diff.narrows(),
    };
    Ok(Finished::with(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }))
}
