//! Prometheus metrics of a server (prometheus-client: one registry per
//! server, no global state): decisions by product and outcome, request
//! latency by endpoint, requests by endpoint and status, reloads by outcome,
//! and the generation each product serves.

use crate::evaluator::{ReloadEvent, ReloadOutcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    product: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    product: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProductLabels {
    product: String,
}

/// The access endpoints, by the names metrics give them.
const ENDPOINTS: [&str; 5] = [
    "evaluation",
    "evaluations",
    "search/subject",
    "search/resource",
    "search/action",
];

/// One product's decision counters, looked up by a borrowed name.
#[derive(Debug)]
struct ProductCounters {
    allow: Counter,
    deny: Counter,
    error: Counter,
}

impl ProductCounters {
    fn count(&self, tally: Tally) {
        for (counter, count) in [
            (&self.allow, tally.allow),
            (&self.deny, tally.deny),
            (&self.error, tally.error),
        ] {
            if count > 0 {
                counter.inc_by(count);
            }
        }
    }
}

/// How many decisions of each outcome one request made.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub allow: u64,
    pub deny: u64,
    pub error: u64,
}

/// The handles one endpoint's answers update, looked up once.
#[derive(Debug)]
struct EndpointHandles {
    endpoint: &'static str,
    latency: Histogram,
    ok: Counter,
}

/// Every metric of one server.
#[derive(Debug)]
pub(crate) struct Metrics {
    endpoints: Vec<EndpointHandles>,
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    by_product: RwLock<HashMap<String, Arc<ProductCounters>>>,
    latency: Family<EndpointLabels, Histogram>,
    requests: Family<RequestLabels, Counter>,
    reloads: Family<ReloadLabels, Counter>,
    generation: Family<ProductLabels, Gauge>,
    reload_failing: Family<ProductLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 25 µs to 2.5 s: a decision, a batch, a large search
    Histogram::new([
        0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("rolegrid");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "decisions",
            "Decisions made, by product and outcome (allow, deny, error: an evaluation refused in a batch)",
            decisions.clone(),
        );
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer, by endpoint",
            latency.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by endpoint and status",
            requests.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads by product and outcome (swapped, failed, reverted)",
            reloads.clone(),
        );
        let generation = Family::<ProductLabels, Gauge>::default();
        registry.register(
            "generation",
            "The generation each product serves (1 at start, +1 per swap)",
            generation.clone(),
        );
        let reload_failing = Family::<ProductLabels, Gauge>::default();
        registry.register(
            "reload_failing",
            "1 while a product's files fail to load (the last good snapshot is served)",
            reload_failing.clone(),
        );
        let endpoints = ENDPOINTS
            .iter()
            .map(|&endpoint| EndpointHandles {
                endpoint,
                latency: latency.get_or_create_owned(&EndpointLabels { endpoint }),
                ok: requests.get_or_create_owned(&RequestLabels {
                    endpoint,
                    status: 200,
                }),
            })
            .collect();
        Self {
            endpoints,
            registry,
            decisions,
            by_product: RwLock::new(HashMap::new()),
            latency,
            requests,
            reloads,
            generation,
            reload_failing,
        }
    }

    fn counters(&self, product: &str) -> Arc<ProductCounters> {
        if let Some(counters) = self
            .by_product
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(product)
        {
            return Arc::clone(counters);
        }
        let counter = |outcome| {
            self.decisions.get_or_create_owned(&DecisionLabels {
                product: product.to_owned(),
                outcome,
            })
        };
        let counters = Arc::new(ProductCounters {
            allow: counter("allow"),
            deny: counter("deny"),
            error: counter("error"),
        });
        self.by_product
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(product.to_owned(), Arc::clone(&counters));
        counters
    }

    /// Counts one request's decisions.
    pub(crate) fn decided(&self, product: &str, tally: Tally) {
        // the usual case: the product's counters exist, counted under the read lock
        if let Some(counters) = self
            .by_product
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(product)
        {
            counters.count(tally);
            return;
        }
        self.counters(product).count(tally);
    }

    /// Records one answered request.
    pub(crate) fn answered(&self, endpoint: &'static str, status: u16, took: Duration) {
        match self
            .endpoints
            .iter()
            .find(|handles| handles.endpoint == endpoint)
        {
            Some(handles) => {
                handles.latency.observe(took.as_secs_f64());
                if status == 200 {
                    handles.ok.inc();
                    return;
                }
            }
            None => self
                .latency
                .get_or_create(&EndpointLabels { endpoint })
                .observe(took.as_secs_f64()),
        }
        self.requests
            .get_or_create(&RequestLabels { endpoint, status })
            .inc();
    }

    /// Sets a product's generation (at start and on every swap).
    pub(crate) fn serving(&self, product: &str, generation: u64) {
        let labels = ProductLabels {
            product: product.to_owned(),
        };
        self.generation
            .get_or_create(&labels)
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
    }

    /// Records a reload; `failing` when the product's files still fail to
    /// load after it (the evaluator's status says).
    pub(crate) fn reloaded(&self, event: &ReloadEvent, failing: bool) {
        let outcome = match &event.outcome {
            ReloadOutcome::Swapped { generation } => {
                self.serving(&event.product, *generation);
                Some("swapped")
            }
            ReloadOutcome::Unchanged => None,
            ReloadOutcome::Failed(_) => Some("failed"),
            ReloadOutcome::Reverted { generation, .. } => {
                self.serving(&event.product, *generation);
                Some("reverted")
            }
        };
        if let Some(outcome) = outcome {
            self.reloads
                .get_or_create(&ReloadLabels {
                    product: event.product.clone(),
                    outcome,
                })
                .inc();
        }
        self.reload_failing
            .get_or_create(&ProductLabels {
                product: event.product.clone(),
            })
            .set(i64::from(failing));
    }

    /// The metrics in Prometheus' text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // writing to a String does not fail
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
