//! Every route, the limits on the access endpoints, and the request id
//! copied onto every answer (tower-http's header propagation).

use super::app::{App, error_response};
use super::{handlers, ops};
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;
use tower::{BoxError, ServiceBuilder};
use tower_http::propagate_header::PropagateHeaderLayer;

/// Every route, with the limits on the access endpoints.
pub(super) fn router(app: Arc<App>) -> Router {
    let config = &app.config;
    let concurrent = config.max_concurrent;
    let limits = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |error: BoxError| async move {
            limit_response(&error, concurrent)
        }))
        .load_shed()
        .concurrency_limit(concurrent.max(1));
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
        .layer(PropagateHeaderLayer::new(HeaderName::from_static(
            "x-request-id",
        )))
        .with_state(app)
}

/// The answer to a request a limit stopped.
fn limit_response(error: &BoxError, concurrent: usize) -> Response {
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
