//! What a server is told: where it listens, whom it admits, what it limits.

use super::decision_log::DecisionLogTarget;
use super::tokens::Tokens;
use std::net::SocketAddr;
use std::time::Duration;

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
    /// How long a request body may take to arrive, and a search to run (408
    /// after it); decisions are synchronous.
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
