//! A server in this process on 127.0.0.1:0, and a small HTTP client.

use rolegrid::server::{Server, ServerConfig};
use rolegrid::{Evaluator, LoadOptions};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A running server; dropping it shuts it down and waits for it.
pub struct Running {
    pub addr: SocketAddr,
    _evaluator: Arc<Evaluator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a JSON document.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_text(path, &body.to_string(), &[])
    }

    /// POSTs a body as given, with extra headers.
    pub fn post_text(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = agent()
            .post(&self.url(path))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::of(request.send(body).unwrap())
    }

    /// GETs a path.
    pub fn get(&self, path: &str) -> Reply {
        Reply::of(agent().get(&self.url(path)).call().unwrap())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An HTTP answer: status, headers, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    fn of(mut response: ureq::http::Response<ureq::Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error message of an error answer.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Starts a server on the store at `root` with `config` (its `listen` is
/// replaced by 127.0.0.1:0).
pub fn start(root: &Path, config: ServerConfig) -> Running {
    let evaluator = Arc::new(Evaluator::open(root, LoadOptions::default()).unwrap());
    start_with(evaluator, config)
}

pub fn start_with(evaluator: Arc<Evaluator>, config: ServerConfig) -> Running {
    let config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    let server = Server::bind(Arc::clone(&evaluator), config).unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        server
            .run(async move {
                let _ = stopped.await;
            })
            .unwrap();
    });
    Running {
        addr,
        _evaluator: evaluator,
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// The Todo example store, its product served at the root.
pub fn todo() -> Running {
    start(
        &crate::common::root().join("examples/authzen-todo"),
        ServerConfig {
            default_product: Some("todo".into()),
            ..ServerConfig::default()
        },
    )
}

pub const RICK: &str = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
pub const MORTY: &str = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
pub const SUMMER: &str = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
pub const BETH: &str = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
pub const JERRY: &str = "CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

/// A todo resource owned by `owner`.
pub fn todo_of(id: &str, owner: &str) -> Value {
    serde_json::json!({"type": "todo", "id": id, "properties": {"ownerID": owner}})
}

pub fn user(id: &str) -> Value {
    serde_json::json!({"type": "user", "id": id})
}
