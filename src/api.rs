//! Calls to the merchant backend's checkout endpoint (contract version 1), each with a timeout,
//! every failure mapped to one small error type. Answers are read as text, parsed by the browser
//! and checked field by field (`json`), so a malformed answer is an error value, never a panic.

use crate::json::{self, Decode, JsonValue};
use std::{cell::Cell, rc::Rc};
use wallet_checkout_contract::{
    CheckoutStep, CreateSessionRequest, DeviceKind, ErrorCode, OrderId, OrderResponse, Session, SessionId,
    SessionStatus, WalletId, IDEMPOTENCY_KEY_HEADER,
};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A request that has not answered after this long is abandoned.
pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

/// The first pause between attempts at one request; it doubles with each attempt.
pub const RETRY_BASE_MS: u32 = 500;

/// Attempts at one request while it fails transiently (the tracker has its own backoff and
/// makes one attempt per poll).
pub const REQUEST_ATTEMPTS: u32 = 3;

/// Longest pause a backend's `Retry-After` is granted; a longer one is cut to this.
pub const MAX_RETRY_AFTER_MS: u32 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: offline, DNS, CORS refusal.
    Network,
    /// No answer within `REQUEST_TIMEOUT_MS`.
    Timeout,
    /// The backend answered with an error status and (if readable) a contract error code, and
    /// for `429` and `503` the pause its `Retry-After` asked for.
    Backend { status: u16, code: ErrorCode, retry_after_ms: Option<u32> },
    /// A success status with a body that is not what the contract promises, or that is about
    /// another order or session than the one asked for (see `answers`).
    BadAnswer,
}

impl ApiError {
    /// Whether trying the same request again may help. A `429` is, whoever sent it (a proxy's
    /// has no contract body).
    pub fn is_transient(self) -> bool {
        match self {
            ApiError::Network | ApiError::Timeout => true,
            ApiError::Backend { status, code, .. } => {
                status >= 500
                    || status == 429
                    || code == ErrorCode::RateLimited
                    || code == ErrorCode::IdempotencyKeyInUse
            }
            ApiError::BadAnswer => false,
        }
    }

    /// The pause the backend asked for before the next attempt, if it asked.
    pub fn retry_after_ms(self) -> Option<u32> {
        match self {
            ApiError::Backend { retry_after_ms, .. } => retry_after_ms,
            _ => None,
        }
    }

    /// Whether the backend said it does not know what was asked for (`404 not_found`).
    pub fn is_not_found(self) -> bool {
        matches!(self, ApiError::Backend { status: 404, code: ErrorCode::NotFound, .. })
    }
}

/// How one request is sent.
#[derive(Debug, Clone, Copy)]
struct Call<'a> {
    body: Option<&'a str>,
    idempotency_key: Option<&'a str>,
    /// Tries while it fails transiently, with exponential backoff and jitter in between.
    attempts: u32,
    timeout_ms: u32,
    /// The request outlives the page: if the page is left while it is under way, the browser
    /// sends it again (see `fetch`).
    keepalive: bool,
    /// The element the loader may have begun this request for (see `Request::begun_for`).
    begun_for: Option<&'a web_sys::HtmlElement>,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Self {
            body: None,
            idempotency_key: None,
            attempts: REQUEST_ATTEMPTS,
            timeout_ms: 0,
            keepalive: false,
            begun_for: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    endpoint: String,
    /// A request not answered after this long is abandoned (`REQUEST_TIMEOUT_MS`).
    timeout_ms: u32,
    /// The first pause between attempts at one request (`RETRY_BASE_MS`).
    retry_base_ms: u32,
}

impl Api {
    /// `endpoint` is absolute and has no trailing slash (see `config::parse`); the times are
    /// `config::Timing`'s.
    pub fn new(endpoint: impl Into<String>, timeout_ms: u32, retry_base_ms: u32) -> Self {
        Self { endpoint: endpoint.into(), timeout_ms, retry_base_ms }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Reads the order. `host` is the widget's element: the loader may have begun this read for
    /// it already (`js/wallet-checkout.js`), and then its first attempt is that read.
    pub async fn order(
        &self,
        id: &OrderId,
        host: Option<&web_sys::HtmlElement>,
    ) -> Result<OrderResponse, ApiError> {
        decode(
            self.call("GET", &["/orders/", id.as_str()], Call { begun_for: host, ..Call::default() }).await,
        )
    }

    /// Creates a session. Retries after a lost answer carry the same key, so they return the
    /// same session.
    pub async fn create_session(
        &self,
        request: &CreateSessionRequest,
        idempotency_key: &str,
    ) -> Result<Session, ApiError> {
        let body = create_session_body(request);
        let call = Call { body: Some(&body), idempotency_key: Some(idempotency_key), ..Call::default() };
        decode(self.call("POST", &["/sessions"], call).await)
    }

    /// Reads a session, retrying transient failures.
    pub async fn session(&self, id: &SessionId) -> Result<Session, ApiError> {
        decode(self.call("GET", &["/sessions/", id.as_str()], Call::default()).await)
    }

    /// Reads a session once, asking the backend to answer only when its status differs from
    /// `known` or after `wait_secs` (a backend may ignore this and answer at once). The tracker
    /// decides when to try again.
    pub async fn wait_for_session(
        &self,
        id: &SessionId,
        known: SessionStatus,
        wait_secs: u64,
    ) -> Result<Session, ApiError> {
        let wait = crate::text::digits(wait_secs);
        let path = ["/sessions/", id.as_str(), "?wait=", &wait, "&status=", known.as_str()];
        let timeout_ms = self.timeout_ms.saturating_add((wait_secs as u32).saturating_mul(1000));
        decode(self.call("GET", &path, Call { attempts: 1, timeout_ms, ..Call::default() }).await)
    }

    /// Reports a step of the shopper's path (`POST /steps`): one attempt that outlives the page,
    /// and whatever the answer, nothing follows from it.
    pub async fn report_step(
        &self,
        order: &OrderId,
        step: CheckoutStep,
        wallet: Option<&WalletId>,
        device: DeviceKind,
        locale: &str,
    ) {
        let body = json_body(&[
            ("order_id", order.as_str()),
            ("step", step.as_str()),
            ("wallet_id", wallet.map_or("", |wallet| wallet.as_str())),
            ("device", device.as_str()),
            ("locale", locale),
        ]);
        let call = Call { body: Some(&body), attempts: 1, keepalive: true, ..Call::default() };
        let _ = self.call("POST", &["/steps"], call).await;
    }

    /// Cancels a session. Any success status is an answer, whatever its body; the request
    /// outlives the page, so it goes on when the shopper leaves.
    pub async fn cancel_session(&self, id: &SessionId) -> Result<(), ApiError> {
        match self
            .call(
                "POST",
                &["/sessions/", id.as_str(), "/cancel"],
                Call { keepalive: true, ..Call::default() },
            )
            .await
        {
            Ok(_) | Err(ApiError::BadAnswer) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// One request, tried up to `call.attempts` times while it fails transiently, with
    /// exponential backoff and jitter in between (never sooner than a `Retry-After` asks).
    /// Answers the parsed JSON of a success. `path` is written in parts after the endpoint (the
    /// contract's `paths`, without `core::fmt`).
    async fn call(&self, method: &str, path: &[&str], call: Call<'_>) -> Result<JsValue, ApiError> {
        let mut url = self.endpoint.clone();
        for part in path {
            url.push_str(part);
        }
        let timeout_ms = if call.timeout_ms > 0 { call.timeout_ms } else { self.timeout_ms };
        let mut attempt = 0;
        loop {
            let request = Request {
                method,
                url: &url,
                body: call.body,
                idempotency_key: call.idempotency_key,
                timeout_ms,
                keepalive: call.keepalive,
                // Only the first attempt can be the loader's; a retry asks again.
                begun_for: call.begun_for.filter(|_| attempt == 0),
            };
            let result = match fetch(&request).await {
                Ok(reply) => classify(reply.status, json::parse(&reply.body), reply.retry_after_ms),
                Err(error) => Err(error),
            };
            match result {
                Err(error) if error.is_transient() && attempt + 1 < call.attempts => {
                    let ceiling = f64::from(self.retry_base_ms) * f64::from(1u32 << attempt.min(16));
                    let backoff = (ceiling / 2.0 + ceiling / 2.0 * crate::browser::random()) as u32;
                    crate::browser::sleep(backoff.max(error.retry_after_ms().unwrap_or(0))).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

fn decode<T: Decode>(answer: Result<JsValue, ApiError>) -> Result<T, ApiError> {
    T::decode(&answer?).ok_or(ApiError::BadAnswer)
}

/// Sorts an answer: the JSON of a 2xx, or the error (with the contract's code when the body
/// has one, and the pause a `Retry-After` asked for). `parsed` is `None` when the body is not
/// JSON at all.
pub fn classify<J: JsonValue>(
    status: u16,
    parsed: Option<J>,
    retry_after_ms: Option<u32>,
) -> Result<J, ApiError> {
    if (200..300).contains(&status) {
        return parsed.ok_or(ApiError::BadAnswer);
    }
    let code = parsed.as_ref().and_then(json::error_code).unwrap_or(ErrorCode::Unknown);
    Err(ApiError::Backend { status, code, retry_after_ms })
}

/// The pause a `Retry-After` header asks for, in milliseconds, at most `MAX_RETRY_AFTER_MS`:
/// a number of seconds, or an HTTP date that `parse_date` reads (milliseconds since the epoch,
/// compared with `now_ms`). `None` when the value is neither.
pub fn retry_after_ms(value: &str, now_ms: f64, parse_date: impl Fn(&str) -> Option<f64>) -> Option<u32> {
    let value = value.trim();
    let ms = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse::<u32>().map_or(f64::INFINITY, |secs| f64::from(secs) * 1000.0)
    } else {
        parse_date(value)? - now_ms
    };
    Some(ms.clamp(0.0, f64::from(MAX_RETRY_AFTER_MS)) as u32)
}

/// Whether an answer with this status may ask for a pause with `Retry-After`.
fn may_ask_for_a_pause(status: u16) -> bool {
    status == 429 || status == 503
}

/// The request body as JSON, written by the browser's `JSON.stringify`.
fn create_session_body(request: &CreateSessionRequest) -> String {
    json_body(&[
        ("order_id", request.order_id.as_str()),
        ("wallet_id", request.wallet_id.as_str()),
        ("return_url", request.return_url.as_str()),
        ("device", request.device.as_str()),
    ])
}

/// A JSON object of strings, written by the browser's `JSON.stringify`; an empty value is left
/// out.
fn json_body(fields: &[(&str, &str)]) -> String {
    let object = js_sys::Object::new();
    for (key, value) in fields.iter().filter(|(_, value)| !value.is_empty()) {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    js_sys::JSON::stringify(&object).map(String::from).unwrap_or_default()
}

#[wasm_bindgen]
extern "C" {
    /// `fetchLater`: a request the browser sends when the page is left, unless its signal
    /// aborts it first. Missing outside Chromium and insecure pages, refused in some frames.
    #[wasm_bindgen(js_name = fetchLater, catch)]
    fn fetch_later(url: &str, init: &web_sys::RequestInit) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(module = "/js/element.js")]
extern "C" {
    /// The request the loader began for `host` if it was for `url` (once: a second call answers
    /// `None`; one for another URL is aborted). `signal` aborts it from now on.
    #[wasm_bindgen(js_name = takeBegunRead)]
    fn take_begun_read(
        host: &web_sys::HtmlElement,
        url: &str,
        signal: &web_sys::AbortSignal,
    ) -> Option<js_sys::Promise>;
}

struct AbortOnDrop(web_sys::AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One `fetch`.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub body: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub timeout_ms: u32,
    /// The request outlives the page (see `fetch`).
    pub keepalive: bool,
    /// The element whose loader may have begun this very request (the same URL) before the
    /// module ran: then that request's answer, or its failure, is this one's, and nothing is sent.
    /// Each such request is handed over once.
    pub begun_for: Option<&'a web_sys::HtmlElement>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// For `429` and `503`: the pause `Retry-After` asked for (on another origin, only when the
    /// backend exposes the header to CORS).
    pub retry_after_ms: Option<u32>,
}

/// `fetch` with a timeout: the answer, or why there is none. A request whose future is dropped
/// is aborted in the browser too.
pub async fn fetch(request: &Request<'_>) -> Result<Reply, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let init = web_sys::RequestInit::new();
    init.set_method(request.method);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
    let _ = headers.set("Accept", "application/json");
    if let Some(body) = request.body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(key) = request.idempotency_key {
        let _ = headers.set(IDEMPOTENCY_KEY_HEADER, key);
    }
    init.set_headers(&headers);
    let controller = web_sys::AbortController::new().ok();
    if let Some(controller) = &controller {
        init.set_signal(Some(&controller.signal()));
    }
    let begun = match (request.begun_for, &controller) {
        (Some(host), Some(controller)) => take_begun_read(host, request.url, &controller.signal()),
        _ => None,
    };
    // A request that must outlive the page goes out as an ordinary one, which its deadline (and
    // a drop) really aborts, with a copy the browser sends if the page is left meanwhile
    // (`fetchLater`; the same signal withdraws it). Sent with `keepalive` instead it could not be
    // aborted: Chromium rejects its promise but keeps it open, so one that hangs would hold one of
    // the few connections the browser opens to the backend, and the waiting read would queue
    // behind it. Where there is no `fetchLater` (or it is refused), `keepalive` it is.
    if request.keepalive && fetch_later(request.url, &init).is_err() {
        // Not in web-sys's `RequestInit` yet.
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    }
    // A request whose future is dropped (the widget was removed, the shopper started over) is
    // aborted in the browser too, so no waiting read stays open on the server.
    let _abort_on_drop = controller.clone().map(AbortOnDrop);
    let timed_out = Rc::new(Cell::new(false));
    let timer = controller.and_then(|controller| {
        let timed_out = timed_out.clone();
        crate::browser::Timer::once(request.timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    });
    let outcome = async {
        let sent = begun.unwrap_or_else(|| window.fetch_with_str_and_init(request.url, &init));
        let response: web_sys::Response = JsFuture::from(sent).await.ok()?.dyn_into().ok()?;
        let status = response.status();
        let retry_after = if may_ask_for_a_pause(status) {
            let value = response.headers().get("Retry-After").ok().flatten();
            value.and_then(|value| {
                retry_after_ms(&value, js_sys::Date::now(), |date| {
                    Some(js_sys::Date::parse(date)).filter(|ms| !ms.is_nan())
                })
            })
        } else {
            None
        };
        let body = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        Some(Reply { status, body, retry_after_ms: retry_after })
    }
    .await;
    drop(timer);
    outcome.ok_or(if timed_out.get() { ApiError::Timeout } else { ApiError::Network })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn decode<T: Decode>(status: u16, body: &str) -> Result<T, ApiError> {
        let value = classify(status, serde_json::from_str::<Value>(body).ok(), None)?;
        T::decode(&value).ok_or(ApiError::BadAnswer)
    }

    #[test]
    fn success_bodies_decode_into_contract_types() {
        let body = r#"{"id":"ses_1","order_id":"o","wallet_id":"paypal","status":"pending",
            "amount":{"minor_units":1,"currency":"USD"},"expires_at":"x","expires_in_secs":5,"next_action":null}"#;
        let session: Session = decode(200, body).unwrap();
        assert_eq!(session.id.as_str(), "ses_1");
    }

    #[test]
    fn malformed_success_bodies_are_bad_answers() {
        assert_eq!(decode::<Session>(200, "<html>"), Err(ApiError::BadAnswer));
        assert_eq!(decode::<Session>(200, r#"{"id":"ses_1","status":"paid"}"#), Err(ApiError::BadAnswer));
    }

    #[test]
    fn error_bodies_carry_their_code_and_unknown_bodies_do_not_break() {
        let body = r#"{"error":{"code":"order_not_payable","message":"paid"}}"#;
        assert_eq!(
            decode::<Session>(409, body),
            Err(ApiError::Backend { status: 409, code: ErrorCode::OrderNotPayable, retry_after_ms: None })
        );
        assert_eq!(
            decode::<Session>(502, "Bad Gateway"),
            Err(ApiError::Backend { status: 502, code: ErrorCode::Unknown, retry_after_ms: None })
        );
    }

    fn backend(status: u16, code: ErrorCode) -> ApiError {
        ApiError::Backend { status, code, retry_after_ms: None }
    }

    #[test]
    fn only_network_trouble_and_server_errors_are_retried() {
        assert!(ApiError::Network.is_transient());
        assert!(ApiError::Timeout.is_transient());
        assert!(backend(503, ErrorCode::Unknown).is_transient());
        assert!(backend(429, ErrorCode::RateLimited).is_transient());
        assert!(!backend(404, ErrorCode::NotFound).is_transient());
        assert!(
            !backend(409, ErrorCode::SessionFinal).is_transient(),
            "a final session is not canceled by trying again"
        );
        assert!(!ApiError::BadAnswer.is_transient());
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date_and_capped() {
        let no_dates = |_: &str| None;
        assert_eq!(retry_after_ms("3", 0.0, no_dates), Some(3_000));
        assert_eq!(retry_after_ms(" 0 ", 0.0, no_dates), Some(0));
        assert_eq!(retry_after_ms("120", 0.0, no_dates), Some(MAX_RETRY_AFTER_MS), "capped");
        assert_eq!(retry_after_ms("99999999999999999999", 0.0, no_dates), Some(MAX_RETRY_AFTER_MS));
        let date = |value: &str| (value == "Wed, 21 Oct 2026 07:28:00 GMT").then_some(1_000_000.0);
        assert_eq!(retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT", 995_000.0, date), Some(5_000));
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2026 07:28:00 GMT", 2_000_000.0, date),
            Some(0),
            "a date past"
        );
        assert_eq!(retry_after_ms("soon", 0.0, date), None);
        assert_eq!(retry_after_ms("-5", 0.0, no_dates), None);
        assert_eq!(retry_after_ms("", 0.0, no_dates), None);
    }

    #[test]
    fn only_429_and_503_answers_may_ask_for_a_pause() {
        assert!(may_ask_for_a_pause(429));
        assert!(may_ask_for_a_pause(503));
        for status in [200, 404, 500, 502] {
            assert!(!may_ask_for_a_pause(status), "{status}");
        }
    }

    #[test]
    fn the_pause_asked_for_travels_with_the_error() {
        let error = classify::<Value>(429, None, Some(3_000)).unwrap_err();
        assert_eq!(error.retry_after_ms(), Some(3_000));
        assert!(error.is_transient());
        assert!(backend(404, ErrorCode::NotFound).is_not_found());
        assert!(!backend(404, ErrorCode::Unknown).is_not_found(), "only a 404 that says not_found");
        assert!(!backend(500, ErrorCode::NotFound).is_not_found());
    }
}
