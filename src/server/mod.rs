//! `rolegrid serve`: an AuthZEN 1.0 decision point over HTTP (axum on
//! tokio), answering from the evaluator's hot-reloaded snapshots.
//!
//! Routes (each product also under `/products/<product>`):
//!
//! | route | what |
//! |---|---|
//! | `POST /access/v1/evaluation` | one decision |
//! | `POST /access/v1/evaluations` | a batch, with defaults and the three semantics |
//! | `POST /access/v1/search/{subject,resource,action}` | searches, paginated |
//! | `GET /.well-known/authzen-configuration[/<product>]` | metadata |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | operations |
//!
//! The root paths serve the default product: the one `--product` names, or
//! the store's only product when the server starts. Guarantees: every answer to one HTTP request
//! comes from one snapshot (a batch is never a mix of two); a failed reload
//! keeps the last good snapshot (and shows in `/readyz` and the metrics);
//! body size, request time and concurrent requests are limited (413, 408,
//! 503, each with a message); errors are JSON
//! (`{"error": {"status": 400, "message": "..."}}`), never a 500 for bad input.
//!
//! ```no_run
//! use rolegrid::server::{Server, ServerConfig};
//! use rolegrid::{Evaluator, LoadOptions};
//! use std::sync::Arc;
//!
//! let evaluator = Arc::new(Evaluator::open("examples/authzen-todo", LoadOptions::default())?);
//! let config = ServerConfig { listen: "127.0.0.1:0".parse()?, ..ServerConfig::default() };
//! let server = Server::bind(evaluator, config)?;
//! println!("listening on http://{}", server.local_addr());
//! server.run(rolegrid::server::shutdown_signal())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod app;
mod config;
mod decision_log;
mod handlers;
mod metrics;
mod ops;
mod routes;
mod tokens;

pub use config::{DEFAULT_LISTEN, ServerConfig};
pub use decision_log::DecisionLogTarget;
pub use tokens::Tokens;

use crate::diagnostics::{Problem, ProblemKind};
use crate::evaluator::Evaluator;
use app::App;
use decision_log::DecisionLog;
use metrics::Metrics;
use routes::router;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// What a server calls after each reload.
type ReloadReport = Box<dyn Fn(&crate::ReloadEvent) + Send + 'static>;

/// A server bound to its address, not yet answering.
pub struct Server {
    listener: std::net::TcpListener,
    app: Arc<App>,
    on_reload: Option<ReloadReport>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the address and checks the configuration: the default product
    /// must be served; the decision log must open.
    pub fn bind(evaluator: Arc<Evaluator>, config: ServerConfig) -> Result<Self, Problem> {
        if let Some(product) = &config.default_product
            && evaluator.snapshot(product).is_none()
        {
            return Err(Problem::new(
                ProblemKind::UnknownProduct,
                format!(
                    "--product: the store has no product `{product}` (products: {})",
                    evaluator.products().join(", ")
                ),
            ));
        }
        let listener = std::net::TcpListener::bind(config.listen)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Io,
                    format!("cannot listen on {}: {e}", config.listen),
                )
            })?;
        let log = DecisionLog::open(&config.decision_log).map_err(|e| {
            Problem::new(
                ProblemKind::Io,
                format!("cannot open the decision log: {e}"),
            )
        })?;
        let metrics = Metrics::new();
        for product in evaluator.products() {
            if let Some(status) = evaluator.status(&product) {
                metrics.serving(&product, status.generation);
            }
        }
        Ok(Self {
            listener,
            app: Arc::new(App {
                default_product: config.default_product.clone().or_else(|| {
                    let products = evaluator.products();
                    match products.as_slice() {
                        [only] => Some(only.clone()),
                        _ => None,
                    }
                }),
                evaluator,
                config,
                metrics,
                log,
                draining: AtomicBool::new(false),
                unserved: Mutex::new(BTreeMap::new()),
            }),
            on_reload: None,
        })
    }

    /// Calls `report` after every reload the watch makes (after the
    /// server's own bookkeeping), e.g. to print it.
    #[must_use]
    pub fn on_reload(mut self, report: impl Fn(&crate::ReloadEvent) + Send + 'static) -> Self {
        self.on_reload = Some(Box::new(report));
        self
    }

    /// The address it listens on (with the port chosen when it was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.app.config.listen)
    }

    /// Answers requests until `shutdown` completes, then stops accepting,
    /// finishes the requests in flight and returns. Watches the store for
    /// changes while it runs (unless the configuration says not to).
    pub fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), Problem> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("rolegrid-serve")
            .build()
            .map_err(|e| Problem::new(ProblemKind::Io, format!("cannot start the server: {e}")))?;
        let _watch = if self.app.config.watch {
            let app = Arc::clone(&self.app);
            let report = self.on_reload;
            Some(self.app.evaluator.watch(move |event| {
                app.reloaded(event);
                if let Some(report) = &report {
                    report(event);
                }
            })?)
        } else {
            None
        };
        let app = Arc::clone(&self.app);
        let router = router(Arc::clone(&self.app));
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)
                .map_err(|e| Problem::new(ProblemKind::Io, format!("cannot listen: {e}")))?;
            let draining = async move {
                shutdown.await;
                app.draining
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            };
            axum::serve(listener, router)
                .with_graceful_shutdown(draining)
                .await
                .map_err(|e| Problem::new(ProblemKind::Io, format!("the server stopped: {e}")))
        })
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C): the shutdown a service manager
/// or a terminal asks for.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
