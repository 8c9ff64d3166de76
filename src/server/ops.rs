//! The operations routes: metadata, health, readiness, metrics, and the
//! answer to a path no route serves.

use super::app::{App, error_response, problems_text};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The base URL clients reach the server at: `--public-url`, or `http://`
/// and the request's `Host`.
fn base_url(app: &App, headers: &HeaderMap) -> String {
    if let Some(url) = &app.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map_or_else(|| app.config.listen.to_string(), str::to_owned);
    format!("http://{host}")
}

/// `GET /.well-known/authzen-configuration`: the default product's endpoints.
pub(super) async fn metadata_root(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let base = base_url(&app, &headers);
    if app.default_product.is_some() {
        return axum::Json(crate::authzen::metadata(&base)).into_response();
    }
    let listed: Vec<String> = app
        .evaluator
        .products()
        .iter()
        .map(|product| format!("{base}/.well-known/authzen-configuration/{product}"))
        .collect();
    error_response(
        StatusCode::NOT_FOUND,
        &format!(
            "this server has no default product (start it with --product); each product has its own metadata: {}",
            listed.join(", ")
        ),
    )
}

/// `GET /.well-known/authzen-configuration/<product>` (and
/// `.../products/<product>`): the product's own decision point, whose
/// endpoints are under `/products/<product>`.
pub(super) async fn metadata_product(
    State(app): State<Arc<App>>,
    Path(product): Path<String>,
    headers: HeaderMap,
) -> Response {
    metadata_of(&app, &product, &headers, false)
}

/// `GET /.well-known/authzen-configuration/products/<product>`: the same
/// endpoints, for a client whose decision point is `<base>/products/<product>`.
pub(super) async fn metadata_products(
    State(app): State<Arc<App>>,
    Path(product): Path<String>,
    headers: HeaderMap,
) -> Response {
    metadata_of(&app, &product, &headers, true)
}

fn metadata_of(app: &App, product: &str, headers: &HeaderMap, under_products: bool) -> Response {
    if app.evaluator.snapshot(product).is_none() {
        return error_response(
            StatusCode::NOT_FOUND,
            &format!(
                "no product `{product}` (products: {})",
                app.evaluator.products().join(", ")
            ),
        );
    }
    let base = base_url(app, headers);
    let served = format!("{base}/products/{product}");
    let mut document = crate::authzen::metadata(&served);
    if !under_products && let Some(object) = document.as_object_mut() {
        // the identifier the well-known URL was formed from (RFC 8615)
        object.insert(
            "policy_decision_point".to_owned(),
            format!("{base}/{product}").into(),
        );
    }
    axum::Json(document).into_response()
}

/// `GET /healthz`: the process answers.
pub(super) async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when every product of the store is served and the
/// server is not shutting down, else 503; the body details each product
/// (generation, when it was loaded, the last failed reload).
pub(super) async fn readyz(State(app): State<Arc<App>>) -> Response {
    let draining = app.draining.load(Ordering::SeqCst);
    let mut products = Vec::new();
    for product in app.evaluator.products() {
        let Some(status) = app.evaluator.status(&product) else {
            continue;
        };
        let failure = status.last_error.as_ref().map(|failure| {
            serde_json::json!({
                "at": chrono::DateTime::<chrono::Utc>::from(failure.at).to_rfc3339(),
                "problems": problems_text(&failure.problems),
            })
        });
        products.push(serde_json::json!({
            "product": product,
            "serving": true,
            "generation": status.generation,
            "loaded_at": chrono::DateTime::<chrono::Utc>::from(status.loaded_at).to_rfc3339(),
            "last_reload_error": failure,
        }));
    }
    let unserved = app
        .unserved
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    for (product, problems) in &unserved {
        products.push(serde_json::json!({
            "product": product,
            "serving": false,
            "last_reload_error": {"problems": problems},
        }));
    }
    let ready = !draining && unserved.is_empty();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": ready,
        "draining": draining,
        "products": products,
    });
    (status, axum::Json(body)).into_response()
}

/// `GET /metrics`: Prometheus' text format.
pub(super) async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        app.metrics.encode(),
    )
        .into_response()
}

/// Any other path.
pub(super) async fn not_found(uri: axum::http::Uri) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        &format!(
            "no endpoint at {}: the access endpoints are POST /access/v1/evaluation, /access/v1/evaluations and /access/v1/search/{{subject,resource,action}} (or under /products/<product>); metadata at GET /.well-known/authzen-configuration",
            uri.path()
        ),
    )
}

/// A wrong method on a known path.
pub(super) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!(
            "{method} is not served at {}: the access endpoints take POST, the others GET",
            uri.path()
        ),
    )
}
