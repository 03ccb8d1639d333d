//! `POST /api/providers/{provider}/notify`: where each wallet provider sends its notifications
//! (WeChat Pay's `notify_url`, Alipay's `notify_url`, the PayPal webhook, the sandbox wallet).
//! The raw body and headers go to the provider for verification before anything is parsed; the
//! answer is exactly what that provider expects.
//!
//! Anyone can post here, so what an anonymous request costs is bounded: the body's size (by the
//! route, then by each provider's own limit), work linear in it, and a budget of refused
//! notifications per client. A client past its budget is answered "send it again later" unread:
//! a wallet does send it again, so a genuine notification is delayed, never lost; and a genuine
//! notification, which verifies, never spends the budget.

use crate::state::AppState;
use crate::{domain::ClientKey, error::ApiError, providers::Ack};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, Path, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use std::{net::SocketAddr, time::Instant};

pub async fn notify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(named) = state.app.providers().named(&provider) else {
        return ApiError::not_found("provider").into_response();
    };
    let client = ClientKey::of(state.client_address(&headers, peer));
    if state.notification_limiter.peek(client, Instant::now()).is_err() {
        tracing::warn!(
            provider,
            client = %state.pseudonyms.client(client),
            "notification turned away unread: too many refused from this client; a wallet sends it again"
        );
        return named.acknowledge(Ack::RetryLater);
    }
    let ack = state.app.handle_notification(named.as_ref(), &body, &headers).await;
    if ack == Ack::Refused {
        let _ = state.notification_limiter.check(client, Instant::now());
    }
    named.acknowledge(ack)
}
