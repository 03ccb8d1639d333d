//! A server with PayPal configured against the PayPal mock (in this process, on its own port), the
//! sandbox wallet off, and what the PayPal tests do again and again: orders, sessions, the
//! shopper's return, signed webhooks, waiting for a status.

use super::make_key;
use super::{spawn_with, JsonAnswer, TestApp};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use std::time::Duration;
use wallet_checkout_mocks::paypal::PayPalMock;
use wallet_checkout_server::{config::Config, domain::Role, providers::ProviderSettings};

pub struct PayPal {
    pub app: TestApp,
    pub mock: PayPalMock,
    /// An operator key of the merchant API.
    pub operator: String,
}

/// The server's `[providers.paypal]` for `mock`, with `extra` settings added.
pub fn provider_settings(mock: &PayPalMock, extra: &str) -> ProviderSettings {
    ProviderSettings::from_toml(&format!("{}{extra}", mock.config_toml())).expect("the mock's settings read")
}

/// A server with PayPal only; its webhook registered at the server's notification URL.
pub async fn start() -> PayPal {
    start_with("", |_| {}).await
}

/// As `start`, with more `[providers.paypal]` settings and other configuration. The sweep asks
/// PayPal only at expiry (`provider_check_ms` = 60 s), so that it never races what a test does;
/// tests of the reconciliation set it back.
pub async fn start_with(extra: &str, adjust: impl FnOnce(&mut Config)) -> PayPal {
    let mock = PayPalMock::start().await.expect("the PayPal mock starts");
    let settings = provider_settings(&mock, extra);
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.providers = settings;
        config.provider_check_ms = 60_000;
        adjust(config);
    })
    .await;
    mock.set_webhook(&app.url("/api/providers/paypal/notify"));
    let operator = make_key(&app.store().await, "operator", Role::Operator, true, "test").await.unwrap().1;
    PayPal { app, mock, operator }
}

impl PayPal {
    pub fn merchant(&self, method: Method, path: &str) -> RequestBuilder {
        self.app.client.request(method, self.app.url(&format!("/api/v1{path}"))).bearer_auth(&self.operator)
    }

    /// An order of `minor_units` of `currency` (merchant API): its id.
    pub async fn order(&self, minor_units: u64, currency: &str) -> String {
        let body = json!({ "amount": { "minor_units": minor_units, "currency": currency }, "description": "Jasmine tea" });
        let order: Value = self.merchant(Method::POST, "/orders").json(&body).json_answer().await;
        order["id"].as_str().expect("an order id").to_owned()
    }

    /// The merchant's view of an order (with its sessions and their history).
    pub async fn merchant_order(&self, order: &str) -> Value {
        self.merchant(Method::GET, &format!("/orders/{order}")).json_answer().await
    }

    /// A PayPal session for a new order of USD 12.50: (order id, session JSON).
    pub async fn session(&self) -> (String, Value) {
        let order = self.order(1250, "USD").await;
        let session = self.app.session_for(&order, "paypal").await;
        (order, session)
    }

    /// The PayPal order made for a session.
    pub fn paypal_order(&self, session: &Value) -> String {
        self.mock.order_of(session["id"].as_str().unwrap()).expect("a PayPal order for the session")
    }

    /// The shopper approves on PayPal's page and the browser comes back to the server's return
    /// URL (redirects not followed): the server's answer.
    pub async fn approve_and_return(&self, session: &Value) -> Response {
        let back = self.mock.approve(&self.paypal_order(session)).expect("the order exists");
        self.app.client.get(back).send().await.unwrap()
    }

    /// Waits (at most 15 s) until the session has `status`; answers it.
    pub async fn wait_for(&self, session_id: &str, status: &str) -> Value {
        let mut seen = Value::Null;
        super::eventually_within(
            &format!("session {session_id} to be {status}"),
            Duration::from_secs(15),
            async || {
                seen = self.app.get_session(session_id).await;
                seen["status"] == status
            },
        )
        .await;
        seen
    }

    /// Posts a webhook to the server as PayPal would, with these headers.
    pub async fn notify(&self, body: &str, headers: &[(String, String)]) -> Response {
        let mut request = self
            .app
            .client
            .post(self.app.url("/api/providers/paypal/notify"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.send().await.unwrap()
    }

    /// A webhook transmission of `body` signed now for this app's webhook.
    pub fn signed(&self, body: &str) -> Vec<(String, String)> {
        self.mock.sign(body, self.mock.webhook_id(), &now_rfc3339(0))
    }
}

/// Now plus `offset_secs`, as PayPal writes transmission times (`2024-12-16T09:16:41Z`).
pub fn now_rfc3339(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    let (year, month, day) = (t.year(), u8::from(t.month()), t.day());
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", t.hour(), t.minute(), t.second())
}

/// Replaces one header's value.
pub fn with_header(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case(name) {
                (n.clone(), value.to_owned())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect()
}
