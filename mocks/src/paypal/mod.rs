//! PayPal's REST API as the Orders v2 integration meets it: OAuth 2.0 client credentials with
//! tokens that expire (a `401` for an expired or unknown one), orders (`CREATED` /
//! `PAYER_ACTION_REQUIRED` → `APPROVED` → `COMPLETED`), captures, refunds, `PayPal-Request-Id`
//! idempotency, PayPal's error bodies (`name`, `message`, `debug_id`, `details[]`), the approval
//! page where the shopper pays or cancels (and is sent to `return_url?token=…&PayerID=…` or
//! `cancel_url?token=…`), webhooks signed as PayPal signs them (RSA-SHA256 over
//! `transmission_id|transmission_time|webhook_id|crc32(body)`, with a certificate made at start and
//! served at `PAYPAL-CERT-URL`), and `POST /v1/notifications/verify-webhook-signature`, which
//! really checks a transmission against the event exactly as it is posted back.
//!
//! A control side lets tests play the shopper and break things: approve an order, choose how
//! captures and refunds come out and settle pending ones, fail or slow the next call, expire the
//! tokens, count calls, register where webhooks go.

mod api;
mod page;
mod webhook;

use crate::Keys;
use axum::{
    routing::{get, post, put},
    Router,
};
use rand::{distributions::Uniform, Rng};
use rsa::RsaPrivateKey;
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub use webhook::crc32;

/// The events a webhook of this app is subscribed to by default (those the server acts on).
pub const DEFAULT_EVENT_TYPES: [&str; 8] = [
    "CHECKOUT.ORDER.APPROVED",
    "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REFUNDED",
    "PAYMENT.CAPTURE.REVERSED",
];

/// Currencies PayPal takes, and those it takes without decimals.
pub const CURRENCIES: [&str; 25] = [
    "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD", "NZD",
    "NOK", "PHP", "PLN", "GBP", "RUB", "SGD", "SEK", "CHF", "THB", "USD",
];
pub const NO_DECIMALS: [&str; 3] = ["HUF", "JPY", "TWD"];

/// Default life of an access token, in seconds (PayPal's are about 9 hours).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 32_400;

/// A call the control side can fail, slow down or count: `token`, `create_order`, `get_order`,
/// `capture`, `refund`, `get_refund`, `verify`, `get_webhook`.
pub type Operation = &'static str;

/// The mock, shared by its routes and the test that drives it.
#[derive(Clone)]
pub struct PayPalMock {
    state: Arc<State>,
}

pub(crate) struct State {
    /// Where the API is reached (`http://127.0.0.1:port` or a proxy's prefix), without `/` at the end.
    base: String,
    client_id: String,
    client_secret: String,
    webhook_id: String,
    merchant_id: String,
    key: RsaPrivateKey,
    cert_pem: String,
    cert_url: String,
    http: reqwest::Client,
    inner: Mutex<Inner>,
}

pub(crate) struct Inner {
    tokens: HashMap<String, Instant>,
    token_ttl: Duration,
    orders: HashMap<String, Order>,
    /// Capture id → order id.
    captures: HashMap<String, String>,
    refunds: HashMap<String, Refund>,
    /// (operation, `PayPal-Request-Id`) → the first successful answer (status, body).
    idempotent: HashMap<(String, String), (u16, String)>,
    invoice_ids: HashSet<String>,
    capture_outcome: CaptureOutcome,
    refund_outcome: RefundOutcome,
    failures: Vec<Rule>,
    delays: Vec<Rule>,
    calls: BTreeMap<String, u64>,
    webhook_url: Option<String>,
    webhook_events: Vec<String>,
    deliveries: Vec<Delivery>,
}

/// A failure or a delay waiting for the next call (of one operation, or of any).
#[derive(Debug, Clone)]
struct Rule {
    operation: Option<String>,
    remaining: u32,
    /// The status to fail with, or the delay in milliseconds.
    value: u64,
}

/// How the next captures come out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOutcome {
    Completed,
    Pending,
    /// The capture is made with status `DECLINED` (the order is `COMPLETED`).
    Declined,
    /// The payer's funding source fails: `422 INSTRUMENT_DECLINED`, the order stays `APPROVED`.
    InstrumentDeclined,
}

/// How the next refunds come out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Completed,
    Pending,
}

/// A webhook the mock sent, and what the receiver answered (`None`: no answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_type: String,
    pub status: Option<u16>,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    id: String,
    status: String,
    reference_id: String,
    custom_id: Option<String>,
    invoice_id: Option<String>,
    description: Option<String>,
    currency: String,
    value: String,
    /// The amount in PayPal's units of the currency (cents, or whole units).
    units: u64,
    return_url: String,
    cancel_url: String,
    brand_name: Option<String>,
    user_action: String,
    payer_id: Option<String>,
    capture: Option<Capture>,
    create_time: String,
    update_time: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Capture {
    id: String,
    status: String,
    reason: Option<String>,
    refunded_units: u64,
    create_time: String,
    update_time: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    id: String,
    capture_id: String,
    status: String,
    currency: String,
    value: String,
    units: u64,
    custom_id: Option<String>,
    note_to_payer: Option<String>,
    create_time: String,
    update_time: String,
}

impl PayPalMock {
    /// A mock whose API (and approval page) is reached at `base`.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Self::with_keys(base, Keys::Shared)
    }

    /// A mock whose webhook signing key is `keys` (`Keys::Own`: another signer).
    pub fn with_keys(base: &str, keys: Keys) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let (key, cert_pem) = webhook::key_and_certificate(keys)?;
        let cert_url = format!("{base}/v1/notifications/certs/CERT-360caa42-fca2a594-{}", random_hex(8));
        Ok(Self {
            state: Arc::new(State {
                client_id: format!("A{}", random_text(79, ALNUM)),
                client_secret: format!("E{}", random_text(79, ALNUM)),
                webhook_id: random_text(17, UPPER_ALNUM),
                merchant_id: random_text(13, UPPER_ALNUM),
                key,
                cert_pem,
                cert_url,
                base,
                http: reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build()?,
                inner: Mutex::new(Inner {
                    tokens: HashMap::new(),
                    token_ttl: Duration::from_secs(DEFAULT_TOKEN_TTL_SECS),
                    orders: HashMap::new(),
                    captures: HashMap::new(),
                    refunds: HashMap::new(),
                    idempotent: HashMap::new(),
                    invoice_ids: HashSet::new(),
                    capture_outcome: CaptureOutcome::Completed,
                    refund_outcome: RefundOutcome::Completed,
                    failures: Vec::new(),
                    delays: Vec::new(),
                    calls: BTreeMap::new(),
                    webhook_url: None,
                    webhook_events: DEFAULT_EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
                    deliveries: Vec::new(),
                }),
            }),
        })
    }

    /// A mock on its own port on loopback (server tests run it in-process).
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mock = Self::new(&format!("http://{}", listener.local_addr()?))?;
        let router = mock.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(mock)
    }

    /// The API, the approval page, the certificate and the control side.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/oauth2/token", post(api::token))
            .route("/v2/checkout/orders", post(api::create_order))
            .route("/v2/checkout/orders/{id}", get(api::get_order))
            .route("/v2/checkout/orders/{id}/capture", post(api::capture))
            .route("/v2/payments/captures/{id}/refund", post(api::refund))
            .route("/v2/payments/refunds/{id}", get(api::get_refund))
            .route("/v1/notifications/verify-webhook-signature", post(webhook::verify))
            .route("/v1/notifications/webhooks/{id}", get(webhook::get_webhook))
            .route("/v1/notifications/certs/{id}", get(webhook::certificate))
            .route("/checkoutnow", get(page::show))
            .route("/checkoutnow/approve", post(page::approve))
            .route("/checkoutnow/cancel", post(page::cancel))
            .route("/control/webhook", put(api::control_webhook))
            .route("/control/orders/{id}/approve", post(api::control_approve))
            .route("/control/capture-outcome", post(api::control_capture_outcome))
            .route("/control/fail-next", post(api::control_fail_next))
            .route("/control/slow-next", post(api::control_slow_next))
            .route("/control/expire-tokens", post(api::control_expire_tokens))
            .route("/control/calls", get(api::control_calls))
            .layer(axum::middleware::from_fn_with_state(self.state.clone(), api::answer_late))
            .with_state(self.state.clone())
    }

    /// The server's `[providers.paypal]` table for this mock.
    pub fn config_toml(&self) -> String {
        let s = &self.state;
        format!(
            "[providers.paypal]\nenvironment = \"sandbox\"\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nwebhook_id = \"{}\"\nbrand_name = \"Mock Tea House\"\n",
            s.base, s.client_id, s.client_secret, s.webhook_id
        )
    }

    pub fn base(&self) -> &str {
        &self.state.base
    }

    pub fn client_id(&self) -> &str {
        &self.state.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.state.client_secret
    }

    pub fn webhook_id(&self) -> &str {
        &self.state.webhook_id
    }

    pub fn cert_url(&self) -> &str {
        &self.state.cert_url
    }

    /// Registers where this app's webhook sends events (as in PayPal's dashboard).
    pub fn set_webhook(&self, url: &str) {
        self.state.lock().webhook_url = Some(url.to_owned());
    }

    /// The events the webhook is subscribed to.
    pub fn set_webhook_events(&self, events: &[&str]) {
        self.state.lock().webhook_events = events.iter().map(|e| (*e).to_owned()).collect();
    }

    /// The order made for a session (its `custom_id`).
    pub fn order_of(&self, session_id: &str) -> Option<String> {
        let inner = self.state.lock();
        inner.orders.values().find(|o| o.custom_id.as_deref() == Some(session_id)).map(|o| o.id.clone())
    }

    /// An order as `GET /v2/checkout/orders/{id}` shows it.
    pub fn order_json(&self, order_id: &str) -> Option<Value> {
        let inner = self.state.lock();
        inner.orders.get(order_id).map(|order| api::order_json(&self.state, order))
    }

    /// The capture of an order as PayPal shows it (the resource of `PAYMENT.CAPTURE.*`).
    pub fn capture_json(&self, order_id: &str) -> Option<Value> {
        let inner = self.state.lock();
        let order = inner.orders.get(order_id)?;
        order.capture.as_ref().map(|capture| api::capture_json(&self.state, order, capture))
    }

    /// A refund as PayPal shows it (the resource of `PAYMENT.CAPTURE.REFUNDED`).
    pub fn refund_json(&self, refund_id: &str) -> Option<Value> {
        let inner = self.state.lock();
        inner.refunds.get(refund_id).map(|refund| api::refund_json(&self.state, refund))
    }

    /// The shopper approves the order on PayPal's page: answers where PayPal sends the browser
    /// (`return_url?token=…&PayerID=…`), and sends `CHECKOUT.ORDER.APPROVED`.
    pub fn approve(&self, order_id: &str) -> Option<String> {
        page::approve_order(&self.state, order_id)
    }

    /// How the next captures come out (until changed).
    pub fn set_capture_outcome(&self, outcome: CaptureOutcome) {
        self.state.lock().capture_outcome = outcome;
    }

    /// A pending capture completes (`PAYMENT.CAPTURE.COMPLETED`) or is denied
    /// (`PAYMENT.CAPTURE.DENIED`).
    pub fn settle_capture(&self, order_id: &str, completed: bool) -> bool {
        api::settle_capture(&self.state, order_id, completed)
    }

    /// How the next refunds come out (until changed).
    pub fn set_refund_outcome(&self, outcome: RefundOutcome) {
        self.state.lock().refund_outcome = outcome;
    }

    /// A pending refund completes (`PAYMENT.CAPTURE.REFUNDED`) or fails.
    pub fn settle_refund(&self, refund_id: &str, completed: bool) -> bool {
        api::settle_refund(&self.state, refund_id, completed)
    }

    /// The next `count` calls of `operation` (any call: `None`) fail with `status` and PayPal's
    /// error body for it.
    pub fn fail_next(&self, operation: Option<Operation>, count: u32, status: u16) {
        self.state.lock().failures.push(Rule {
            operation: operation.map(str::to_owned),
            remaining: count,
            value: u64::from(status),
        });
    }

    /// The next call of `operation` (any call: `None`) is carried out at once and answered after
    /// `delay` (a caller that times out meanwhile has had its call done all the same).
    pub fn slow_next(&self, operation: Option<Operation>, delay: Duration) {
        self.state.lock().delays.push(Rule {
            operation: operation.map(str::to_owned),
            remaining: 1,
            value: delay.as_millis() as u64,
        });
    }

    /// Every access token issued so far expires now.
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for expiry in self.state.lock().tokens.values_mut() {
            *expiry = now;
        }
    }

    /// Every access token issued so far (tests check that none reaches a log).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().tokens.keys().cloned().collect()
    }

    /// How long new tokens live (`expires_in`).
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state.lock().token_ttl = ttl;
    }

    /// How often `operation` was called.
    pub fn calls(&self, operation: Operation) -> u64 {
        self.state.lock().calls.get(operation).copied().unwrap_or(0)
    }

    /// The webhooks sent so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().deliveries.clone()
    }

    /// An event body as PayPal writes it (keys in PayPal's order, `/` written `\/`), with a new id.
    pub fn event(&self, event_type: &str, resource_type: &str, resource: &Value) -> String {
        webhook::event_body(&self.state, event_type, resource_type, resource)
    }

    /// The headers of a transmission of `body`, signed for `webhook_id` at `transmission_time`
    /// (RFC 3339): `PAYPAL-TRANSMISSION-ID`, `-TIME`, `-SIG`, `PAYPAL-CERT-URL`, `PAYPAL-AUTH-ALGO`.
    pub fn sign(&self, body: &str, webhook_id: &str, transmission_time: &str) -> Vec<(String, String)> {
        webhook::transmission_headers(&self.state, body, webhook_id, transmission_time)
    }

    /// Sends `body` to the registered webhook URL, signed now for this app's webhook; answers the
    /// receiver's status.
    pub async fn deliver(&self, body: &str) -> Option<u16> {
        webhook::deliver(&self.state, "custom", body.to_owned()).await
    }

    /// PayPal reverses an approval that was not captured in time
    /// (`CHECKOUT.PAYMENT-APPROVAL.REVERSED`): the order is voided.
    pub fn reverse_approval(&self, order_id: &str) -> bool {
        api::reverse_approval(&self.state, order_id)
    }
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_text(length: usize, alphabet: &[u8]) -> String {
    let pick = Uniform::from(0..alphabet.len());
    rand::thread_rng().sample_iter(pick).take(length).map(|i| alphabet[i] as char).collect()
}

fn random_hex(length: usize) -> String {
    random_text(length, b"0123456789abcdef")
}

/// PayPal's id style: 17 upper-case letters and digits (`5O190127TN364715T`).
fn paypal_id() -> String {
    random_text(17, UPPER_ALNUM)
}

/// Now as PayPal writes times (`2024-12-16T09:16:41Z`).
fn now_text() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// Decimals PayPal takes for a currency.
fn decimals(currency: &str) -> u32 {
    if NO_DECIMALS.contains(&currency) {
        0
    } else {
        2
    }
}

/// A PayPal `value` in the currency's PayPal units (`"10.50"` USD → 1050), or the issue PayPal
/// answers for it.
fn parse_value(currency: &str, value: &str) -> Result<u64, &'static str> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if value.is_empty() || value.len() > 32 || !digits(whole) || !digits(fraction) || value.ends_with('.') {
        return Err("INVALID_PARAMETER_SYNTAX");
    }
    let places = decimals(currency) as usize;
    if places == 0 && value.contains('.') {
        return Err("DECIMALS_NOT_SUPPORTED");
    }
    if fraction.len() > places {
        return Err("DECIMAL_PRECISION");
    }
    let text = format!("{}{fraction:0<places$}", if whole.is_empty() { "0" } else { whole });
    let units = text.parse::<u64>().map_err(|_| "INVALID_PARAMETER_VALUE")?;
    if units == 0 {
        return Err("CANNOT_BE_ZERO_OR_NEGATIVE");
    }
    Ok(units)
}

/// PayPal units written as a `value`.
fn format_value(currency: &str, units: u64) -> String {
    match decimals(currency) {
        0 => units.to_string(),
        places => {
            let scale = 10u64.pow(places);
            format!("{}.{:0width$}", units / scale, units % scale, width = places as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_paypal_decimals() {
        assert_eq!(parse_value("USD", "10.50"), Ok(1050));
        assert_eq!(parse_value("USD", "10.5"), Ok(1050));
        assert_eq!(parse_value("USD", "10.505"), Err("DECIMAL_PRECISION"));
        assert_eq!(parse_value("HUF", "6800"), Ok(6800));
        assert_eq!(parse_value("HUF", "6800.00"), Err("DECIMALS_NOT_SUPPORTED"));
        assert_eq!(parse_value("JPY", "1.5"), Err("DECIMALS_NOT_SUPPORTED"));
        assert_eq!(parse_value("USD", "0.00"), Err("CANNOT_BE_ZERO_OR_NEGATIVE"));
        assert_eq!(parse_value("USD", "-1"), Err("INVALID_PARAMETER_SYNTAX"));
        assert_eq!(format_value("USD", 1050), "10.50");
        assert_eq!(format_value("TWD", 123), "123");
    }
}
