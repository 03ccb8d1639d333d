//! HTTP routes, one file per resource (the state they share is `state::AppState`).

pub mod assets;
pub mod demo_shop;
pub mod health;
pub mod merchant;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod paypal_return;
pub mod sandbox_pay_page;
pub mod sessions;
pub mod steps;

use crate::{domain::IdempotencyKey, error::ApiError};
use axum::http::HeaderMap;

/// The request's `Idempotency-Key`, if it sent one; a key that is not one is refused.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get(wallet_checkout_contract::IDEMPOTENCY_KEY_HEADER) else { return Ok(None) };
    IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}"))
        .map(Some)
        .map_err(|error| ApiError::invalid_request(error.to_string()))
}

/// Answer for paths under the API that match no route.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("endpoint")
}

/// Answer for a known API path with the wrong method.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::invalid_request("this method is not allowed on this path")
}
