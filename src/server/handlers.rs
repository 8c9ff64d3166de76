//! The access endpoints: admit the client, find the product, read the
//! body within its limit, then decide or search against one snapshot.

use super::app::{App, error_response};
use super::decision_log::LogContext;
use super::metrics::Tally;
use crate::authzen::search::{self, SearchKind};
use crate::authzen::{Decider, Decision, EvaluationsResponse, Outcome, Rejection, document};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// Which access endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Evaluation,
    Evaluations,
    Search(SearchKind),
}

impl Endpoint {
    /// The endpoint's name in metrics and the decision log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Endpoint::Evaluation => "evaluation",
            Endpoint::Evaluations => "evaluations",
            Endpoint::Search(SearchKind::Subject) => "search/subject",
            Endpoint::Search(SearchKind::Resource) => "search/resource",
            Endpoint::Search(SearchKind::Action) => "search/action",
        }
    }
}

type Product = Option<Path<String>>;

pub(super) async fn evaluation(
    State(app): State<Arc<App>>,
    product: Product,
    request: Request,
) -> Response {
    app.access(Endpoint::Evaluation, product, request).await
}

pub(super) async fn evaluations(
    State(app): State<Arc<App>>,
    product: Product,
    request: Request,
) -> Response {
    app.access(Endpoint::Evaluations, product, request).await
}

pub(super) async fn search_subject(
    State(app): State<Arc<App>>,
    product: Product,
    request: Request,
) -> Response {
    app.access(Endpoint::Search(SearchKind::Subject), product, request)
        .await
}

pub(super) async fn search_resource(
    State(app): State<Arc<App>>,
    product: Product,
    request: Request,
) -> Response {
    app.access(Endpoint::Search(SearchKind::Resource), product, request)
        .await
}

pub(super) async fn search_action(
    State(app): State<Arc<App>>,
    product: Product,
    request: Request,
) -> Response {
    app.access(Endpoint::Search(SearchKind::Action), product, request)
        .await
}

/// A JSON answer with status 200.
fn json_response(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

impl App {
    async fn access(
        self: Arc<Self>,
        endpoint: Endpoint,
        product: Product,
        request: Request,
    ) -> Response {
        let started = Instant::now();
        let product = product.map(|Path(product)| product);
        let (parts, body) = request.into_parts();
        let response = match self
            .answer(endpoint, product, &parts.headers, body, started)
            .await
        {
            Ok(response) => response,
            Err(rejection) => {
                let status =
                    StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut response = error_response(status, &rejection.message);
                if status == StatusCode::UNAUTHORIZED {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                response
            }
        };
        self.metrics.answered(
            endpoint.name(),
            response.status().as_u16(),
            started.elapsed(),
        );
        response
    }

    async fn answer(
        self: &Arc<Self>,
        endpoint: Endpoint,
        product: Option<String>,
        headers: &HeaderMap,
        body: Body,
        started: Instant,
    ) -> Result<Response, Rejection> {
        self.admit(headers)?;
        let product = self.product(product.as_deref())?;
        let body = self.read_body(headers, body).await?;
        let value = parse(&body)?;
        let request_id = headers.get("x-request-id").and_then(|id| id.to_str().ok());
        match endpoint {
            Endpoint::Search(kind) => {
                let app = Arc::clone(self);
                let product = product.to_owned();
                let request_id = request_id.map(str::to_owned);
                tokio::task::spawn_blocking(move || {
                    app.search(kind, &product, &value, request_id.as_deref(), started)
                })
                .await
                .map_err(|e| Rejection::new(500, format!("the search failed: {e}")))?
            }
            _ => self.decide(endpoint, product, &value, request_id, started),
        }
    }

    /// 401 unless the server admits everyone or the request carries a token.
    fn admit(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let Some(tokens) = &self.config.tokens else {
            return Ok(());
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        if tokens.admits(given) {
            Ok(())
        } else if given.is_none() {
            Err(Rejection::new(
                401,
                "this server needs `Authorization: Bearer <token>`",
            ))
        } else {
            Err(Rejection::new(
                401,
                "the bearer token is not one this server accepts",
            ))
        }
    }

    /// The product a request is for: named in its path (whether it is
    /// served is known when its snapshot is read), or the default.
    fn product<'a>(&'a self, named: Option<&'a str>) -> Result<&'a str, Rejection> {
        match named {
            Some(product) => Ok(product),
            None => self.default_product.as_deref().ok_or_else(|| {
                Rejection::new(
                    404,
                    format!(
                        "this server has no default product: ask /products/<product>/access/v1/... (products: {}), or start it with --product",
                        self.evaluator.products().join(", ")
                    ),
                )
            }),
        }
    }

    async fn read_body(&self, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
        let limit = self.config.max_body_bytes;
        let too_large = || {
            Rejection::new(
                413,
                format!("the body is larger than {limit} bytes (the server's --max-body)"),
            )
        };
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<usize>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        axum::body::to_bytes(body, limit).await.map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|source| source.to_string().contains("length limit"))
            {
                too_large()
            } else {
                Rejection::bad_request(format!("the body could not be read: {e}"))
            }
        })
    }

    fn decide(
        &self,
        endpoint: Endpoint,
        product: &str,
        value: &Value,
        request_id: Option<&str>,
        started: Instant,
    ) -> Result<Response, Rejection> {
        let explain = self.config.explain || document::explain(value);
        let decided = self
            .evaluator
            .with_generation(product, |snapshot, generation| {
                let decider = Decider::new(snapshot);
                let (outcomes, batched) = match endpoint {
                    Endpoint::Evaluation => {
                        (vec![decider.decide(&document::single(value)?)], false)
                    }
                    _ => {
                        let batch = document::batch(value)?;
                        (
                            decider.decide_all(&batch.items, batch.semantic),
                            batch.batched,
                        )
                    }
                };
                Ok::<_, Rejection>((outcomes, batched, generation))
            });
        let (outcomes, batched, generation) =
            decided.unwrap_or_else(|| Err(self.unknown_product(product)))?;
        if !batched && let Some(Err(rejection)) = outcomes.first() {
            return Err(rejection.clone());
        }
        let body = if batched {
            serde_json::to_vec(&EvaluationsResponse {
                evaluations: outcomes
                    .iter()
                    .map(|outcome| Decision::of(outcome, explain))
                    .collect(),
            })
        } else {
            outcomes
                .first()
                .map(|outcome| serde_json::to_vec(&Decision::of(outcome, explain)))
                .unwrap_or_else(|| Ok(b"{\"decision\":false}".to_vec()))
        }
        .map_err(|e| Rejection::new(500, format!("the answer could not be written: {e}")))?;
        self.record(
            endpoint, product, generation, request_id, &outcomes, started,
        );
        Ok(json_response(body))
    }

    fn search(
        &self,
        kind: SearchKind,
        product: &str,
        value: &Value,
        request_id: Option<&str>,
        started: Instant,
    ) -> Result<Response, Rejection> {
        let found = self
            .evaluator
            .with_generation(product, |snapshot, generation| {
                search::search(&Decider::new(snapshot), kind, value)
                    .map(|found| (found, generation))
            })
            .unwrap_or_else(|| Err(self.unknown_product(product)))?;
        let (response, generation) = found;
        if let Some(log) = &self.log {
            log.searched(
                LogContext {
                    request_id,
                    product,
                    generation,
                    endpoint: Endpoint::Search(kind).name(),
                    latency_us: micros(started),
                },
                response.results.len(),
            );
        }
        let body = serde_json::to_vec(&response)
            .map_err(|e| Rejection::new(500, format!("the answer could not be written: {e}")))?;
        Ok(json_response(body))
    }

    /// A product the server does not serve (or no longer).
    fn unknown_product(&self, product: &str) -> Rejection {
        Rejection::new(
            404,
            format!(
                "no product `{product}` (products: {})",
                self.evaluator.products().join(", ")
            ),
        )
    }

    fn record(
        &self,
        endpoint: Endpoint,
        product: &str,
        generation: u64,
        request_id: Option<&str>,
        outcomes: &[Outcome],
        started: Instant,
    ) {
        let mut tally = Tally::default();
        for outcome in outcomes {
            match outcome {
                Ok(decided) if decided.answer.is_allowed() => tally.allow += 1,
                Ok(_) => tally.deny += 1,
                Err(_) => tally.error += 1,
            }
        }
        self.metrics.decided(product, tally);
        if let Some(log) = &self.log {
            log.record(
                LogContext {
                    request_id,
                    product,
                    generation,
                    endpoint: endpoint.name(),
                    latency_us: micros(started),
                },
                outcomes,
            );
        }
    }
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The body as a JSON object (keys named twice are refused).
fn parse(body: &[u8]) -> Result<Value, Rejection> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Rejection::bad_request(format!("the body is not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Err(Rejection::bad_request(
            "the body is empty: send a JSON object",
        ));
    }
    let value = crate::json::from_str(text)
        .map_err(|e| Rejection::bad_request(format!("the body is not JSON: {e}")))?;
    document::object(&value, "")?;
    Ok(value)
}
