//! Payment sessions: create (idempotent), read, cancel.

use super::AppState;
use crate::{
    domain::{now_millis, IdempotencyKey, ReturnUrl, SessionEvent},
    error::{ApiError, JsonBody, PathId, QueryParams},
    providers::PaymentRequest,
    store::{NewSession, Reservation, SessionRecord, Transition},
};
use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::{net::SocketAddr, time::Duration};
use wallet_checkout_contract::{
    CreateSessionRequest, ErrorCode, OrderStatus, Session, SessionId, SessionStatus, IDEMPOTENCY_KEY_HEADER,
};

/// Header set on a replayed answer to a reused idempotency key.
const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a request waits for a concurrent request with the same key to finish.
const CONCURRENT_KEY_WAIT_MS: u64 = 5_000;
const CONCURRENT_KEY_POLL_MS: u64 = 25;

pub async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateSessionRequest>,
) -> Result<Response, ApiError> {
    let client = state.client_address(&headers, peer);
    if let Err(wait) = state.session_limiter.check(client, std::time::Instant::now()) {
        tracing::warn!(%client, "session creation rate limited");
        return Err(ApiError::rate_limited(wait));
    }
    let key =
        headers.get(IDEMPOTENCY_KEY_HEADER).map(|value| value.to_str().unwrap_or("\u{0}")).unwrap_or("");
    let key = IdempotencyKey::parse(key).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    let return_url =
        ReturnUrl::parse(&request.return_url).map_err(|e| ApiError::invalid_request(e.to_string()))?;
    if !state.is_store_page(&return_url, &headers) {
        return Err(ApiError::invalid_request(
            "return_url must be a page of the store: on one of the allowed origins or this server's public URL",
        ));
    }
    let request_hash = request_hash(&request);

    if let Some(existing) = state.store.session_by_idempotency_key(&key).await.map_err(ApiError::internal)? {
        return replay(&state, existing, &request_hash).await;
    }

    let order = state.find_order(&request.order_id).await?;
    if order.status != OrderStatus::Open {
        return Err(ApiError::new(ErrorCode::OrderNotPayable, "the order is already paid or canceled"));
    }
    let provider = state.providers.provider_for(&request.wallet_id).cloned().ok_or_else(|| {
        ApiError::new(ErrorCode::WalletUnavailable, format!("wallet {} is not offered", request.wallet_id))
    })?;

    let now = now_millis();
    let new = NewSession {
        id: crate::domain::new_session_id(),
        order_id: order.id,
        wallet_id: request.wallet_id.clone(),
        amount: order.amount,
        return_url,
        device: request.device,
        idempotency_key: key,
        request_hash: request_hash.clone(),
        created_at: now,
        expires_at: now + (state.config.session_ttl_secs as i64) * 1000,
    };
    let session = match state.store.reserve_session(&new).await.map_err(ApiError::internal)? {
        Reservation::Existing(existing) => return replay(&state, existing, &request_hash).await,
        Reservation::Reserved(session) => session,
    };

    let public_base = state.public_base(&headers);
    let payment = provider
        .create_payment(PaymentRequest {
            session_id: &session.id,
            wallet_id: &session.wallet_id,
            amount: session.amount,
            device: session.device,
            public_base: &public_base,
        })
        .await;
    let payment = match payment {
        Ok(payment) => payment,
        Err(error) => {
            tracing::error!(session_id = %session.id, %error, "provider could not create the payment");
            if let Err(error) = state.store.discard_reservation(&session.id).await {
                tracing::error!(session_id = %session.id, %error, "could not discard the reservation");
            }
            return Err(ApiError::new(
                ErrorCode::ProviderError,
                "the wallet provider could not start the payment",
            ));
        }
    };
    state
        .store
        .attach_action(&session.id, &payment.next_action, &payment.reference, now_millis())
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(session_id = %session.id, order_id = %session.order_id, wallet = %session.wallet_id, "session created");
    let session = state.find_session(&session.id).await?;
    Ok((StatusCode::CREATED, Json(session.view(now_millis()))).into_response())
}

/// The answer to a reused idempotency key: the same session, once its creator has finished.
async fn replay(state: &AppState, existing: SessionRecord, request_hash: &str) -> Result<Response, ApiError> {
    if existing.request_hash != request_hash {
        return Err(ApiError::new(
            ErrorCode::IdempotencyConflict,
            "this Idempotency-Key was used with a different request",
        ));
    }
    let mut session = existing;
    let mut waited = 0;
    while session.next_action.is_none() {
        if waited >= CONCURRENT_KEY_WAIT_MS {
            return Err(ApiError::new(
                ErrorCode::IdempotencyKeyInUse,
                "a request with this Idempotency-Key is still in progress",
            ));
        }
        tokio::time::sleep(Duration::from_millis(CONCURRENT_KEY_POLL_MS)).await;
        waited += CONCURRENT_KEY_POLL_MS;
        session = match state.store.session(&session.id).await.map_err(ApiError::internal)? {
            Some(session) => session,
            // The first request failed and released the key: the client may retry.
            None => {
                return Err(ApiError::new(
                    ErrorCode::ProviderError,
                    "the wallet provider could not start the payment",
                ))
            }
        };
    }
    let mut response = (StatusCode::CREATED, Json(session.view(now_millis()))).into_response();
    response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
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
        let session = current(&state, &id).await?;
        return Ok(Json(session.view(now_millis())));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    // Subscribe before reading, so a change between the read and the wait is not missed.
    let notifier = state.store.notifier().clone();
    let subscription = notifier.subscribe(id.as_str());
    let mut changed = Box::pin(subscription.changed());
    changed.as_mut().enable();
    let mut session = current(&state, &id).await?;
    let known = known.unwrap_or(session.status);
    while session.status == known && !notifier.is_shutting_down() {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            break;
        }
        subscription.wait(changed.as_mut(), deadline - now).await;
        changed.set(subscription.changed());
        changed.as_mut().enable();
        session = current(&state, &id).await?;
    }
    Ok(Json(session.view(now_millis())))
}

pub async fn cancel_session(
    State(state): State<AppState>,
    PathId(id): PathId<SessionId>,
) -> Result<Json<Session>, ApiError> {
    let session = current(&state, &id).await?;
    let session = match state.store.apply(&session.id, SessionEvent::Canceled, now_millis()).await {
        Ok(Transition::Applied(session)) => {
            tracing::info!(session_id = %session.id, "session canceled");
            session
        }
        Ok(Transition::Refused(_, session)) if session.status == SessionStatus::Canceled => session,
        Ok(Transition::Refused(_, session)) => {
            return Err(ApiError::new(
                ErrorCode::SessionFinal,
                format!("the session is {} and can no longer be canceled", session.status),
            ))
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    Ok(Json(session.view(now_millis())))
}

/// The session as it stands now, expiring it first if its time is up.
pub async fn current(state: &AppState, id: &SessionId) -> Result<SessionRecord, ApiError> {
    let session = state.find_session(id).await?;
    let now = now_millis();
    if session.status == SessionStatus::Pending && now >= session.expires_at {
        return match state.store.apply(id, SessionEvent::ExpiryReached, now).await {
            Ok(Transition::Applied(session) | Transition::Refused(_, session)) => Ok(session),
            Err(error) => Err(ApiError::internal(error)),
        };
    }
    Ok(session)
}

/// Digest of everything in a create request, to tell a retry from a reused key.
fn request_hash(request: &CreateSessionRequest) -> String {
    let mut hasher = Sha256::new();
    for part in [
        request.order_id.as_str(),
        request.wallet_id.as_str(),
        request.return_url.as_str(),
        match request.device {
            wallet_checkout_contract::DeviceKind::Desktop => "desktop",
            wallet_checkout_contract::DeviceKind::Mobile => "mobile",
        },
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
