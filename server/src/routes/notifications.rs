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
use crate::{
    domain::ClientKey,
    error::ApiError,
    providers::{Ack, Reply},
};
use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, Path, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;

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
    if state.notification_limiter.peek(client, state.now()).is_err() {
        tracing::warn!(
            provider,
            client = %state.pseudonyms.client(client),
            "notification turned away unread: too many refused from this client; a wallet sends it again"
        );
        return named.acknowledge(Ack::RetryLater).into_response();
    }
    let ack = state.app.handle_notification(named.as_ref(), &body, &headers).await;
    if ack == Ack::Refused {
        let _ = state.notification_limiter.check(client, state.now());
    }
    named.acknowledge(ack).into_response()
}

/// A provider's answer as it goes out: its status, its `Content-Type` if it has one, and its body;
/// an empty body is sent as no body at all.
impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = if self.body.is_empty() { Body::empty() } else { Body::from(self.body) };
        let mut response = (self.status, body).into_response();
        if let Some(content_type) = self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{http::StatusCode, Json};
    use serde_json::json;

    /// Status, headers and body bytes of a response.
    async fn parts(response: Response) -> (StatusCode, HeaderMap, Bytes) {
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap())
    }

    /// Each kind of reply goes out exactly as the answer the providers built with axum before.
    #[tokio::test]
    async fn a_reply_is_sent_as_the_providers_answer_was() {
        let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        let refused = json!({ "code": "FAIL", "message": "notification refused" });
        let cases = [
            (Reply::empty(StatusCode::NO_CONTENT), StatusCode::NO_CONTENT.into_response()),
            (Reply::empty(StatusCode::OK), StatusCode::OK.into_response()),
            (
                Reply::text(StatusCode::BAD_REQUEST, "refused"),
                (StatusCode::BAD_REQUEST, "refused").into_response(),
            ),
            (Reply::text(StatusCode::OK, "success"), (StatusCode::OK, plain, "success").into_response()),
            (
                Reply::json(StatusCode::BAD_REQUEST, &refused),
                (StatusCode::BAD_REQUEST, Json(refused.clone())).into_response(),
            ),
        ];
        for (reply, before) in cases {
            assert_eq!(parts(reply.clone().into_response()).await, parts(before).await, "{reply:?}");
        }
        let (_, _, body) = parts(Reply::json(StatusCode::BAD_REQUEST, &refused).into_response()).await;
        assert_eq!(&body[..], br#"{"code":"FAIL","message":"notification refused"}"#);
    }
}
