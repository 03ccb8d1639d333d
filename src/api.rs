//! Calls to the merchant backend's checkout endpoint (contract version 1), each with a timeout,
//! every failure mapped to one small error type. Answers are read as text and then decoded, so a
//! malformed answer is an error value, never a panic.

use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use std::{cell::Cell, rc::Rc};
use wallet_checkout_contract::{
    paths, CreateSessionRequest, ErrorBody, ErrorCode, OrderId, OrderResponse, Session, SessionId,
    IDEMPOTENCY_KEY_HEADER,
};
use wasm_bindgen::{closure::Closure, JsCast};

/// A request that has not answered after this long is abandoned.
pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: offline, DNS, CORS refusal.
    Network,
    /// No answer within `REQUEST_TIMEOUT_MS`.
    Timeout,
    /// The backend answered with an error status and (if readable) a contract error code.
    Backend { status: u16, code: ErrorCode },
    /// A success status with a body that is not what the contract promises.
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

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint, path)
    }

    pub async fn order(&self, id: &OrderId) -> Result<OrderResponse, ApiError> {
        send(Request::get(&self.url(&paths::order(id))), None).await
    }

    pub async fn create_session(
        &self,
        request: &CreateSessionRequest,
        idempotency_key: &str,
    ) -> Result<Session, ApiError> {
        let body = serde_json::to_string(request).map_err(|_| ApiError::BadAnswer)?;
        let builder = Request::post(&self.url(paths::sessions()))
            .header("Content-Type", "application/json")
            .header(IDEMPOTENCY_KEY_HEADER, idempotency_key);
        send(builder, Some(body)).await
    }

    pub async fn session(&self, id: &SessionId) -> Result<Session, ApiError> {
        send(Request::get(&self.url(&paths::session(id))), None).await
    }

    pub async fn cancel_session(&self, id: &SessionId) -> Result<Session, ApiError> {
        send(Request::post(&self.url(&paths::cancel_session(id))), None).await
    }
}

async fn send<T: DeserializeOwned>(builder: RequestBuilder, body: Option<String>) -> Result<T, ApiError> {
    let controller = web_sys::AbortController::new().ok();
    let timed_out = Rc::new(Cell::new(false));
    let timer = controller.as_ref().and_then(|controller| {
        let controller = controller.clone();
        let timed_out = timed_out.clone();
        let on_timeout = Closure::once_into_js(move || {
            timed_out.set(true);
            controller.abort();
        });
        web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                REQUEST_TIMEOUT_MS as i32,
            )
            .ok()
    });
    let builder = builder
        .header("Accept", "application/json")
        .abort_signal(controller.as_ref().map(|c| c.signal()).as_ref());
    let request = match body {
        Some(body) => builder.body(body),
        None => builder.build(),
    };
    let result = match request {
        Ok(request) => request.send().await,
        Err(_) => return Err(ApiError::Network),
    };
    if let (Some(timer), Some(window)) = (timer, web_sys::window()) {
        window.clear_timeout_with_handle(timer);
    }
    let response = match result {
        Ok(response) => response,
        Err(_) if timed_out.get() => return Err(ApiError::Timeout),
        Err(_) => return Err(ApiError::Network),
    };
    let status = response.status();
    let text = match response.text().await {
        Ok(text) => text,
        Err(_) if timed_out.get() => return Err(ApiError::Timeout),
        Err(_) => return Err(ApiError::Network),
    };
    decode(status, &text)
}

/// Reads an answer: a 2xx body as `T`, anything else as the contract's error body.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|_| ApiError::BadAnswer);
    }
    let code = serde_json::from_str::<ErrorBody>(body).map(|b| b.error.code).unwrap_or(ErrorCode::Unknown);
    Err(ApiError::Backend { status, code })
}

#[cfg(test)]
mod tests {
    use super::*;

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
