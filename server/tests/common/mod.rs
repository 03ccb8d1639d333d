//! A real server on port 0 with a temporary database, and a plain HTTP client to talk to it.

#![allow(dead_code)]

use reqwest::{redirect::Policy, Client, Response};
use serde_json::{json, Value};
use std::path::PathBuf;
use tempfile::TempDir;
use wallet_checkout_server::{config::Config, startup::Application};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub data_dir: PathBuf,
    _dir: Option<TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = TempDir::new().expect("temporary directory");
    let mut app = spawn_in(dir.path().to_path_buf(), adjust).await;
    app._dir = Some(dir);
    app
}

/// Starts a server on an existing data directory (to test restarts).
pub async fn spawn_in(data_dir: PathBuf, adjust: impl FnOnce(&mut Config)) -> TestApp {
    wallet_checkout_server::telemetry::init();
    let mut config = Config::for_tests(data_dir.clone());
    adjust(&mut config);
    let app = Application::build(config).await.expect("the app builds");
    let base = format!("http://{}", app.address());
    let server = tokio::spawn(async move {
        app.run_until_stopped().await.expect("the server runs");
    });
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    TestApp { base, client, data_dir, _dir: None, server }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/checkout{}", self.base, path)
    }

    /// Creates an order through the demo store and returns its id.
    pub async fn new_order(&self) -> String {
        let response = self.client.get(self.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.strip_prefix("/store/orders/").expect("redirect to the order page").to_owned()
    }

    pub async fn create_session(&self, key: &str, body: &Value) -> Response {
        self.client
            .post(self.api("/sessions"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a session for a new order and returns its JSON.
    pub async fn new_session(&self, wallet: &str) -> Value {
        let order = self.new_order().await;
        let response = self.create_session(&format!("key-{order}"), &session_body(&order, wallet)).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn get_session(&self, id: &str) -> Value {
        let response = self.client.get(self.api(&format!("/sessions/{id}"))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Presses a button on the sandbox pay page.
    pub async fn sandbox(&self, session_id: &str, decision: &str) -> Response {
        self.client.post(self.url(&format!("/sandbox/pay/{session_id}/{decision}"))).send().await.unwrap()
    }
}

pub fn session_body(order: &str, wallet: &str) -> Value {
    json!({
        "order_id": order,
        "wallet_id": wallet,
        "return_url": format!("http://127.0.0.1/store/orders/{order}"),
        "device": "desktop",
    })
}

/// Asserts the contract's error body and returns its code.
pub async fn error_code(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("an error body in JSON");
    let message = body["error"]["message"].as_str().expect("error.message is a string");
    assert!(!message.is_empty());
    body["error"]["code"].as_str().expect("error.code is a string").to_owned()
}
