//! Payment sessions: create (idempotent), read, cancel.

use crate::state::AppState;
use crate::{
    app::{StartPayment, Started},
    domain::{ClientKey, IdempotencyKeyError, ReturnUrl},
    error::{ApiError, JsonBody, PathId, QueryParams},
};
use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use std::{net::SocketAddr, time::Duration};
use wallet_checkout_contract::{CreateSessionRequest, Session, SessionId, SessionStatus};

/// Header set on a replayed answer to a reused idempotency key.
const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

pub async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let client = state.client_address(&headers, peer);
    let client_key = ClientKey::of(client);
    if let Err(wait) = state.session_limiter.check(client_key, state.now()) {
        tracing::warn!(client = %state.pseudonyms.client(client_key), "session creation rate limited");
        return Err(ApiError::rate_limited(wait));
    }
    let key = super::idempotency_key(&headers)?
        .ok_or_else(|| ApiError::invalid_request(IdempotencyKeyError::Missing.to_string()))?;
    let return_url =
        ReturnUrl::parse(&request.return_url).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    if !state.is_store_page(&return_url, &headers) {
        return Err(ApiError::invalid_request(
            "return_url must be a page of the store: on one of the allowed origins or this server's public URL",
        ));
    }
    let start = StartPayment {
        request_hash: request_hash(&request),
        order_id: request.order_id,
        wallet_id: request.wallet_id,
        return_url,
        device: request.device,
        idempotency_key: key,
        client_ip: client,
        public_base: state.public_base(&headers),
    };
    let (session, replayed) = match state.app.start(start).await? {
        Started::Created(session) => {
            state.session_counter.made(client_key);
            (session, false)
        }
        Started::Replayed(session) => (session, true),
    };
    let mut response = (StatusCode::CREATED, Json(session.view(state.now()))).into_response();
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

use wallet_checkout_contract::MAX_WAIT_SECS;

/// `GET /sessions/{id}?wait=N&status=S`: without `wait`, the session now. With `wait`, the answer
/// comes as soon as the session's status differs from `status` (default: its status when the
/// request arrives), or after `wait` seconds (at most 25) with the session as it is.
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    wait: Option<String>,
    status: Option<String>,
}

pub async fn get_session(
    State(state): State<AppState>,
    PathId(id): PathId<SessionId>,
    QueryParams(query): QueryParams<WaitQuery>,
) -> Result<Json<Session>, ApiError> {
    let wait = match query.wait.as_deref() {
        None => 0,
        Some(raw) => raw
            .parse::<u64>()
            .map_err(|_| ApiError::invalid_request("wait must be a whole number of seconds"))?
            .min(MAX_WAIT_SECS),
    };
    let known = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(SessionStatus::parse(raw).ok_or_else(|| {
            ApiError::invalid_request(
                "status must be one of pending, processing, succeeded, failed, expired, canceled",
            )
        })?),
    };
    if wait == 0 {
        let session = state.app.session(&id).await?;
        return Ok(Json(session.view(state.now())));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    // Subscribe before reading, so a change between the read and the wait is not missed.
    let notifier = state.db.notifier().clone();
    let subscription = notifier.subscribe(id.as_str());
    let mut changed = Box::pin(subscription.changed());
    changed.as_mut().enable();
    let mut session = state.app.session(&id).await?;
    let known = known.unwrap_or(session.status);
    while session.status == known && !notifier.is_shutting_down() {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        subscription.wait(changed.as_mut(), deadline - now).await;
        changed.set(subscription.changed());
        changed.as_mut().enable();
        session = state.app.session(&id).await?;
    }
    Ok(Json(session.view(state.now())))
}

pub async fn cancel_session(
    State(state): State<AppState>,
    PathId(id): PathId<SessionId>,
) -> Result<Json<Session>, ApiError> {
    let session = state.app.cancel_session(&id).await?;
    Ok(Json(session.view(state.now())))
}

/// Digest of everything in a create request, to tell a retry from a reused key.
pub fn request_hash(request: &CreateSessionRequest) -> String {
    crate::domain::request_hash(&serde_json::json!({
        "order_id": request.order_id,
        "wallet_id": request.wallet_id,
        "return_url": request.return_url,
        "device": request.device,
    }))
}
