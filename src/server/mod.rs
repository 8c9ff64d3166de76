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
//! the store's only product. Guarantees: every answer to one HTTP request
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

mod decision_log;
mod handlers;
mod metrics;
mod ops;
mod tokens;

pub use decision_log::DecisionLogTarget;
pub use tokens::Tokens;

use crate::diagnostics::{Problem, ProblemKind};
use crate::evaluator::Evaluator;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use decision_log::DecisionLog;
use metrics::Metrics;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::{BoxError, ServiceBuilder};

/// How a server listens, whom it admits and what it limits.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on (loopback by default; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The product the root paths serve (else the store's only product).
    pub default_product: Option<String>,
    /// The base URL clients use (`https://pdp.example.com`), for the
    /// metadata; by default `http://` and the request's `Host` header.
    pub public_url: Option<String>,
    /// Every decision carries its reasons and errors in `context`.
    pub explain: bool,
    /// Bearer tokens the access endpoints require (none: open).
    pub tokens: Option<Tokens>,
    /// Where decisions are logged.
    pub decision_log: DecisionLogTarget,
    /// The largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// How long a request may take, body included (408 after it).
    pub request_timeout: Duration,
    /// Requests answered at once; more are refused with 503.
    pub max_concurrent: usize,
    /// Reload products when their files change.
    pub watch: bool,
}

/// The address `rolegrid serve` listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8190";

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8190)),
            default_product: None,
            public_url: None,
            explain: false,
            tokens: None,
            decision_log: DecisionLogTarget::Off,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(5),
            max_concurrent: 512,
            watch: true,
        }
    }
}

/// The state every handler shares.
#[derive(Debug)]
pub(crate) struct App {
    evaluator: Arc<Evaluator>,
    config: ServerConfig,
    metrics: Metrics,
    log: Option<DecisionLog>,
    /// Set once shutdown starts: `/readyz` answers 503 while in-flight
    /// requests finish.
    draining: AtomicBool,
    /// Products the store holds that failed to load when they appeared
    /// (served products keep their failures in the evaluator's status).
    unserved: Mutex<BTreeMap<String, String>>,
}

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

impl App {
    fn reloaded(&self, event: &crate::ReloadEvent) {
        let served = self.evaluator.status(&event.product);
        let failing = match &served {
            Some(status) => status.last_error.is_some(),
            None => true,
        };
        self.metrics.reloaded(event, failing);
        let mut unserved = self
            .unserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (&served, &event.outcome) {
            (None, crate::ReloadOutcome::Failed(problems)) => {
                unserved.insert(event.product.clone(), ops::problems_text(problems));
            }
            _ => {
                unserved.remove(&event.product);
            }
        }
    }
}

/// Every route, with the limits on the access endpoints.
fn router(app: Arc<App>) -> Router {
    let config = &app.config;
    let timeout = config.request_timeout;
    let concurrent = config.max_concurrent;
    let limits = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |error: BoxError| async move {
            limit_response(&error, timeout, concurrent)
        }))
        .load_shed()
        .concurrency_limit(concurrent.max(1))
        .timeout(timeout);
    let access = Router::new()
        .route("/access/v1/evaluation", post(handlers::evaluation))
        .route("/access/v1/evaluations", post(handlers::evaluations))
        .route("/access/v1/search/subject", post(handlers::search_subject))
        .route(
            "/access/v1/search/resource",
            post(handlers::search_resource),
        )
        .route("/access/v1/search/action", post(handlers::search_action));
    let products = Router::new()
        .route(
            "/{product}/access/v1/evaluation",
            post(handlers::evaluation),
        )
        .route(
            "/{product}/access/v1/evaluations",
            post(handlers::evaluations),
        )
        .route(
            "/{product}/access/v1/search/subject",
            post(handlers::search_subject),
        )
        .route(
            "/{product}/access/v1/search/resource",
            post(handlers::search_resource),
        )
        .route(
            "/{product}/access/v1/search/action",
            post(handlers::search_action),
        );
    let limited = access.nest("/products", products).layer(limits);
    Router::new()
        .merge(limited)
        .route(
            "/.well-known/authzen-configuration",
            get(ops::metadata_root),
        )
        .route(
            "/.well-known/authzen-configuration/{product}",
            get(ops::metadata_product),
        )
        .route(
            "/.well-known/authzen-configuration/products/{product}",
            get(ops::metadata_products),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn(echo_request_id))
        .with_state(app)
}

/// The answer to a request a limit stopped.
fn limit_response(error: &BoxError, timeout: Duration, concurrent: usize) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        return error_response(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the request was not answered within {} ms (the server's --timeout-ms)",
                timeout.as_millis()
            ),
        );
    }
    if error.is::<tower::load_shed::error::Overloaded>() {
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the server is answering {concurrent} requests already (its --max-concurrent); retry shortly"
            ),
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_static("1"),
        );
        return response;
    }
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("the request failed: {error}"),
    )
}

/// A JSON error answer: `{"error": {"status": ..., "message": ...}}`.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    let body = crate::authzen::Rejection::new(status.as_u16(), message).to_json();
    (status, axum::Json(body)).into_response()
}

/// Copies the request's `X-Request-ID` onto its answer.
async fn echo_request_id(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = request.headers().get("x-request-id").cloned();
    let mut response = next.run(request).await;
    if let Some(id) = id {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}
