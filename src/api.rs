//! Calls to the merchant backend's checkout endpoint (contract version 1), each with a timeout,
//! every failure mapped to one small error type. Answers are read as text, parsed by the browser
//! and checked field by field (`json`), so a malformed answer is an error value, never a panic.

use crate::json::{self, Decode, JsonValue};
use std::{cell::Cell, rc::Rc};
use wallet_checkout_contract::{
    paths, CreateSessionRequest, ErrorCode, OrderId, OrderResponse, Session, SessionId, SessionStatus,
    IDEMPOTENCY_KEY_HEADER,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A request that has not answered after this long is abandoned.
pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

/// Attempts at one request while it fails transiently (the tracker has its own backoff and
/// makes one attempt per poll).
pub const REQUEST_ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: offline, DNS, CORS refusal.
    Network,
    /// No answer within `REQUEST_TIMEOUT_MS`.
    Timeout,
    /// The backend answered with an error status and (if readable) a contract error code.
    Backend { status: u16, code: ErrorCode },
    /// A success status with a body that is not what the contract promises, or that is about
    /// another order or session than the one asked for (see `answers`).
    BadAnswer,
}

impl ApiError {
    /// Whether trying the same request again may help.
    pub fn is_transient(self) -> bool {
        match self {
            ApiError::Network | ApiError::Timeout => true,
            ApiError::Backend { status, code } => {
                status >= 500 || code == ErrorCode::RateLimited || code == ErrorCode::IdempotencyKeyInUse
            }
            ApiError::BadAnswer => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    endpoint: String,
}

impl Api {
    /// `endpoint` is absolute and has no trailing slash (see `config::parse`).
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self { endpoint: endpoint.into() }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub async fn order(&self, id: &OrderId) -> Result<OrderResponse, ApiError> {
        decode(self.call("GET", &paths::order(id), None, None, REQUEST_ATTEMPTS).await)
    }

    /// Creates a session. Retries after a lost answer carry the same key, so they return the
    /// same session.
    pub async fn create_session(
        &self,
        request: &CreateSessionRequest,
        idempotency_key: &str,
    ) -> Result<Session, ApiError> {
        let body = create_session_body(request);
        decode(
            self.call("POST", paths::sessions(), Some(&body), Some(idempotency_key), REQUEST_ATTEMPTS).await,
        )
    }

    /// Reads a session, retrying transient failures.
    pub async fn session(&self, id: &SessionId) -> Result<Session, ApiError> {
        decode(self.call("GET", &paths::session(id), None, None, REQUEST_ATTEMPTS).await)
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
        let path = paths::wait_for_session(id, known, wait_secs);
        decode(
            self.call_with_timeout("GET", &path, None, None, 1, REQUEST_TIMEOUT_MS + wait_secs as u32 * 1000)
                .await,
        )
    }

    pub async fn cancel_session(&self, id: &SessionId) -> Result<Session, ApiError> {
        decode(self.call("POST", &paths::cancel_session(id), None, None, REQUEST_ATTEMPTS).await)
    }

    /// One request, tried up to `attempts` times while it fails transiently, with exponential
    /// backoff and jitter in between. Answers the parsed JSON of a success.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
        attempts: u32,
    ) -> Result<JsValue, ApiError> {
        self.call_with_timeout(method, path, body, idempotency_key, attempts, REQUEST_TIMEOUT_MS).await
    }

    async fn call_with_timeout(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
        attempts: u32,
        timeout_ms: u32,
    ) -> Result<JsValue, ApiError> {
        let mut url = String::with_capacity(self.endpoint.len() + path.len());
        url.push_str(&self.endpoint);
        url.push_str(path);
        let mut attempt = 0;
        loop {
            let result = match fetch(method, &url, body, idempotency_key, None, timeout_ms).await {
                Ok((status, text)) => classify(status, json::parse(&text)),
                Err(error) => Err(error),
            };
            match result {
                Err(error) if error.is_transient() && attempt + 1 < attempts => {
                    let ceiling = 500.0 * f64::from(1u32 << attempt);
                    crate::browser::sleep((ceiling / 2.0 + ceiling / 2.0 * crate::browser::random()) as u32)
                        .await;
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
/// has one). `parsed` is `None` when the body is not JSON at all.
pub fn classify<J: JsonValue>(status: u16, parsed: Option<J>) -> Result<J, ApiError> {
    if (200..300).contains(&status) {
        return parsed.ok_or(ApiError::BadAnswer);
    }
    let code = parsed.as_ref().and_then(json::error_code).unwrap_or(ErrorCode::Unknown);
    Err(ApiError::Backend { status, code })
}

/// The request body as JSON, written by the browser's `JSON.stringify`.
fn create_session_body(request: &CreateSessionRequest) -> String {
    let object = js_sys::Object::new();
    for (key, value) in [
        ("order_id", request.order_id.as_str()),
        ("wallet_id", request.wallet_id.as_str()),
        ("return_url", request.return_url.as_str()),
        ("device", request.device.as_str()),
    ] {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    js_sys::JSON::stringify(&object).map(String::from).unwrap_or_default()
}

struct AbortOnDrop(web_sys::AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `fetch` with a timeout: the status and the body text, or why there is none. `integrity` is
/// an SRI hash the body must match.
pub async fn fetch(
    method: &str,
    url: &str,
    body: Option<&str>,
    idempotency_key: Option<&str>,
    integrity: Option<&str>,
    timeout_ms: u32,
) -> Result<(u16, String), ApiError> {
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
    let _ = headers.set("Accept", "application/json");
    if let Some(body) = body {
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(key) = idempotency_key {
        let _ = headers.set(IDEMPOTENCY_KEY_HEADER, key);
    }
    init.set_headers(&headers);
    if let Some(integrity) = integrity {
        init.set_integrity(integrity);
    }
    let controller = web_sys::AbortController::new().ok();
    if let Some(controller) = &controller {
        init.set_signal(Some(&controller.signal()));
    }
    // A request whose future is dropped (the widget was removed) is aborted in the browser too,
    // so no waiting read stays open on the server.
    let _abort_on_drop = controller.clone().map(AbortOnDrop);
    let timed_out = Rc::new(Cell::new(false));
    let timer = controller.and_then(|controller| {
        let timed_out = timed_out.clone();
        crate::browser::Timer::once(timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    });
    let outcome = async {
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.ok()?.dyn_into().ok()?;
        let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        Some((response.status(), text))
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
        let value = classify(status, serde_json::from_str::<Value>(body).ok())?;
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
            Err(ApiError::Backend { status: 409, code: ErrorCode::OrderNotPayable })
        );
        assert_eq!(
            decode::<Session>(502, "Bad Gateway"),
            Err(ApiError::Backend { status: 502, code: ErrorCode::Unknown })
        );
    }

    #[test]
    fn only_network_trouble_and_server_errors_are_retried() {
        assert!(ApiError::Network.is_transient());
        assert!(ApiError::Timeout.is_transient());
        assert!(ApiError::Backend { status: 503, code: ErrorCode::Unknown }.is_transient());
        assert!(!ApiError::Backend { status: 404, code: ErrorCode::NotFound }.is_transient());
        assert!(!ApiError::BadAnswer.is_transient());
    }
}
