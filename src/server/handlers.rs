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

/// A request body as read: a JSON tree, or a plain single evaluation read
/// without one ([`document::plain_single`]).
#[derive(Clone, Copy)]
enum Input<'a> {
    Tree(&'a Value),
    Plain(document::Evaluation<'a>),
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
        let body = self.read_body_in_time(headers, body).await?;
        let request_id = headers.get("x-request-id").and_then(|id| id.to_str().ok());
        if endpoint == Endpoint::Evaluation
            && let Some(evaluation) = document::plain_single(&body)
        {
            return self.decide(
                endpoint,
                product,
                Input::Plain(evaluation),
                request_id,
                started,
            );
        }
        let value = parse(&body)?;
        match endpoint {
            Endpoint::Search(kind) => {
                let app = Arc::clone(self);
                let product = product.to_owned();
                let request_id = request_id.map(str::to_owned);
                let search = tokio::task::spawn_blocking(move || {
                    app.search(kind, &product, &value, request_id.as_deref(), started)
                });
                tokio::time::timeout(self.config.request_timeout, search)
                    .await
                    .map_err(|_| self.too_slow())?
                    .map_err(|e| Rejection::new(500, format!("the search failed: {e}")))?
            }
            _ => self.decide(endpoint, product, Input::Tree(&value), request_id, started),
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

    /// The answer to a request not answered within the time limit.
    fn too_slow(&self) -> Rejection {
        Rejection::new(
            408,
            format!(
                "the request was not answered within {} ms (the server's --timeout-ms)",
                self.config.request_timeout.as_millis()
            ),
        )
    }

    /// The body, read within the request's time limit. A body already
    /// received (the usual case: it came with the headers) is read without
    /// arming a timer; decisions are synchronous, so a request's time is
    /// spent waiting here or in a search.
    async fn read_body_in_time(&self, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
        let mut read = std::pin::pin!(self.read_body(headers, body));
        let first = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(read.as_mut(), cx))
        })
        .await;
        match first {
            std::task::Poll::Ready(body) => body,
            std::task::Poll::Pending => tokio::time::timeout(self.config.request_timeout, read)
                .await
                .map_err(|_| self.too_slow())?,
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
        input: Input<'_>,
        request_id: Option<&str>,
        started: Instant,
    ) -> Result<Response, Rejection> {
        let explain =
            self.config.explain || matches!(input, Input::Tree(value) if document::explain(value));
        let decided = self
            .evaluator
            .with_generation(product, |snapshot, generation| {
                let decider = Decider::new(snapshot);
                let (outcomes, batched) = match (input, endpoint) {
                    (Input::Plain(evaluation), _) => (vec![decider.decide(&evaluation)], false),
                    (Input::Tree(value), Endpoint::Evaluation) => {
                        (vec![decider.decide(&document::single(value)?)], false)
                    }
                    (Input::Tree(value), _) => {
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
