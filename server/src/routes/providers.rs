//! `POST /api/providers/{provider}/notify`: where each wallet provider sends its notifications
//! (WeChat Pay's `notify_url`, Alipay's `notify_url`, the PayPal webhook, the sandbox wallet).
//! The raw body and headers go to the provider for verification before anything is parsed; the
//! answer is exactly what that provider expects.

use super::AppState;
use crate::error::ApiError;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};

/// Largest notification body accepted, in bytes (providers send a few KiB).
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

pub async fn notify(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match state.payments.handle_notification(&provider, &body, &headers).await {
        Some(answer) => answer,
        None => ApiError::not_found("provider").into_response(),
    }
}
