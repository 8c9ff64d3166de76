//! `rolegrid-synth`: writes a synthetic store (see the `rolegrid_synth` crate) for
//! benchmarks and scale tests.
//!
//! ```text
//! cargo run --release --bin rolegrid-synth -- --out /tmp/synth-10k \
//!     --policies 10000 --entities 100000 --expectations 10000
//! cargo run --release -- check --root /tmp/synth-10k
//! ```

use clap::Parser;
use rolegrid_synth::{SynthConfig, SynthStore};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Writes a synthetic rolegrid store: schema, policies split over one file
/// per resource type, YAML entities and expectation cases, deterministic
/// from the seed. Sizes are per product.
#[derive(Debug, Parser)]
#[command(name = "rolegrid-synth", version)]
struct Args {
    /// The store folder to create (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The seed: the same options give the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How many products.
    #[arg(long, default_value_t = 1)]
    products: usize,
    /// Roles per product (at least 2).
    #[arg(long, default_value_t = 8)]
    roles: usize,
    /// Resource types per product [default: one per 40 policies].
    #[arg(long, value_name = "N")]
    resource_types: Option<usize>,
    /// Actions per resource type (1 to 12).
    #[arg(long, default_value_t = 6)]
    actions_per_type: usize,
    /// Policies per product.
    #[arg(long, default_value_t = 1000)]
    policies: usize,
    /// Entities per product.
    #[arg(long, default_value_t = 10_000)]
    entities: usize,
    /// Expectation cases per product.
    #[arg(long, default_value_t = 1000)]
    expectations: usize,
    /// Write entity files as Cedar JSON (`*.entities.json`) instead of YAML.
    #[arg(long)]
    entities_json: bool,
    /// Also write this many request lines (JSON Lines, cycling through the
    /// first product's expectation requests) to FILE.
    #[arg(long, value_names = ["FILE", "N"], num_args = 2)]
    requests: Option<Vec<String>>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = SynthConfig {
        seed: args.seed,
        products: args.products,
        roles: args.roles,
        resource_types: args.resource_types,
        actions_per_type: args.actions_per_type,
        policies: args.policies,
        entities: args.entities,
        expectations: args.expectations,
        entities_json: args.entities_json,
    };
    let started = std::time::Instant::now();
    let store = match SynthStore::generate(&config)
        .and_then(|store| store.write(&args.out).map(|()| store))
    {
        Ok(store) => store,
        Err(problem) => {
            eprint!("{}", rolegrid::Renderer::plain().render(&problem));
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for product in store.products() {
        let _ = writeln!(
            out,
            "{}: {} policies, {} entities, {} expectations, {} resource types, {} actions{}",
            product.name,
            product.policies,
            product.entities,
            product.cases.len(),
            product.resource_types,
            product.actions,
            if product.undecided.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} policies decide no expectation",
                    product.undecided.len()
                )
            }
        );
    }
    if let (Some([file, count]), Some(product)) =
        (args.requests.as_deref(), store.products().first())
    {
        let Ok(count) = count.parse::<usize>() else {
            eprintln!("rolegrid-synth: --requests FILE N: `{count}` is not a number");
            return ExitCode::from(2);
        };
        let written = std::fs::File::create(file).and_then(|f| {
            let mut lines = std::io::BufWriter::new(f);
            for line in product.request_lines(count) {
                writeln!(lines, "{line}")?;
            }
            lines.flush()
        });
        if let Err(e) = written {
            eprintln!("rolegrid-synth: cannot write {file}: {e}");
            return ExitCode::from(2);
        }
        let _ = writeln!(out, "{file}: {count} requests");
    }
    let _ = writeln!(
        out,
        "wrote {} files to {} in {:.1?}",
        store.files().len(),
        args.out.display(),
        started.elapsed()
    );
    ExitCode::SUCCESS
}
