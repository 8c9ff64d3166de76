//! `rolegrid serve`: the store's products as AuthZEN 1.0 decision points
//! over HTTP, hot-reloaded (see [`rolegrid::server`]).

use super::outcome::{ExitStatus, Finished, Outcome};
use super::store_arg::StoreArg;
use rolegrid::server::{DEFAULT_LISTEN, DecisionLogTarget, Server, ServerConfig, Tokens};
use rolegrid::{Evaluator, Problem, ProblemKind, ReloadOutcome};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `rolegrid serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// Also serve this product at the root paths (`/access/v1/...`); by
    /// default the root serves the store's only product (when it starts).
    #[arg(long, value_name = "PRODUCT")]
    product: Option<String>,
    /// The address to listen on; port 0 picks a free port (the first line
    /// on stdout says which).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The base URL clients reach the server at, for the metadata
    /// (default: `http://` and the request's Host header).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Every decision carries its reasons and errors in `context` (a
    /// request can ask with `"options": {"explain": true}`).
    #[arg(long)]
    explain: bool,
    /// Require `Authorization: Bearer <token>` on the access endpoints,
    /// with the tokens of this file (one per line; `#` starts a comment).
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Log every decision as a JSON line: `off`, `stdout`, or a file's path.
    #[arg(long, value_name = "off|stdout|FILE", default_value = "off")]
    decision_log: String,
    /// The largest request body accepted, in bytes (413 above it).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_body: usize,
    /// How long a request body may take to arrive, and a search to run (408
    /// after it); decisions are synchronous.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    timeout_ms: u64,
    /// Requests answered at once; more are refused with 503 and Retry-After.
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_concurrent: usize,
    /// Serve the files as loaded at start, without watching them.
    #[arg(long)]
    no_watch: bool,
}

impl Args {
    fn config(&self) -> Result<ServerConfig, Problem> {
        let decision_log = match self.decision_log.as_str() {
            "off" => DecisionLogTarget::Off,
            "stdout" | "-" => DecisionLogTarget::Stdout,
            path => DecisionLogTarget::File(PathBuf::from(path)),
        };
        if self.max_concurrent == 0 {
            return Err(Problem::new(
                ProblemKind::Usage,
                "--max-concurrent must be at least 1",
            ));
        }
        Ok(ServerConfig {
            listen: self.listen,
            default_product: self.product.clone(),
            public_url: self.public_url.clone(),
            explain: self.explain,
            tokens: self.tokens.as_deref().map(Tokens::from_file).transpose()?,
            decision_log,
            max_body_bytes: self.max_body,
            request_timeout: Duration::from_millis(self.timeout_ms.max(1)),
            max_concurrent: self.max_concurrent,
            watch: !self.no_watch,
        })
    }
}

/// Runs `rolegrid serve` until SIGTERM or SIGINT.
pub fn run(args: &Args) -> Outcome {
    let config = args.config()?;
    let evaluator = Arc::new(Evaluator::open(
        &args.store.root,
        args.store.load_options(),
    )?);
    let server = Server::bind(evaluator, config)?.on_reload(|event| {
        if !matches!(event.outcome, ReloadOutcome::Unchanged) {
            eprintln!("rolegrid: {event}");
        }
    });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on http://{}", server.local_addr())
        .and_then(|()| stdout.flush())
        .map_err(|e| Problem::new(ProblemKind::Io, format!("cannot write to stdout: {e}")))?;
    server.run(rolegrid::server::shutdown_signal())?;
    eprintln!("rolegrid: stopped");
    Ok(Finished::with(ExitStatus::Success))
}
