//! `/api/v1/orders/{id}/refunds` and `/api/v1/refunds/{id}` (operator): give money back from an
//! order's payment, in full or in part, with a reason; idempotent with `Idempotency-Key`; each
//! refund has its own status, which follows the provider.

use super::{audit, Page};
use crate::domain::AuditAction;
use crate::{
    app::{RefundInput, RefundOutcome},
    auth::Caller,
    db::RefundRecord,
    domain::Role,
    domain::{text::check_readable, IdempotencyKey},
    error::{ApiError, JsonBody, PathId},
    routes::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wallet_checkout_contract::{Amount, OrderId, SessionId, IDEMPOTENCY_KEY_HEADER};

/// Longest refund reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// How much; by default all that is left of the payment.
    #[serde(default)]
    pub amount: Option<Amount>,
    /// Why, for the merchant's records (and the wallet's, where it takes one).
    pub reason: String,
    /// Which payment of the order; by default the one that paid it.
    #[serde(default)]
    pub session_id: Option<SessionId>,
}

fn request_hash(order: &OrderId, request: &CreateRefund) -> String {
    let canonical = serde_json::json!({
        "order": order,
        "amount": request.amount,
        "reason": request.reason,
        "session_id": request.session_id,
    });
    Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /api/v1/orders/{id}/refunds`: a refund of the order's payment.
pub async fn create_refund(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    PathId(order_id): PathId<OrderId>,
    JsonBody(request): JsonBody<CreateRefund>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        None => None,
        Some(value) => Some(
            IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}"))
                .map_err(|e| ApiError::invalid_request(e.to_string()))?,
        ),
    };
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::invalid_request(format!("reason must be 1 to {MAX_REASON_CHARS} characters")));
    }
    check_readable(reason)
        .map_err(|error| ApiError::invalid_request(format!("reason must not hold {error}")))?;
    let input = RefundInput {
        order_id: order_id.clone(),
        session_id: request.session_id.clone(),
        amount: request.amount,
        reason: reason.to_owned(),
        idempotency_key: key.map(|key| key.as_str().to_owned()),
        request_hash: request_hash(&order_id, &request),
        created_by: caller.key.id.clone(),
        public_base: state.public_base(&headers),
    };
    let (refund, replayed) = match state.app.refund(input).await? {
        RefundOutcome::Created(refund) => (refund, false),
        RefundOutcome::Replayed(refund) => (refund, true),
    };
    if !replayed {
        audit(
            &state,
            &caller,
            AuditAction::RefundCreate,
            &refund.id,
            serde_json::json!({ "order_id": refund.order_id, "session_id": refund.session_id, "amount": refund.amount, "reason": refund.reason, "status": refund.status.as_str() }),
        )
        .await?;
    }
    let mut response = (StatusCode::CREATED, Json(refund.view())).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `GET /api/v1/orders/{id}/refunds`: the order's refunds, oldest first.
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    PathId(order_id): PathId<OrderId>,
) -> Result<Json<Page<serde_json::Value>>, ApiError> {
    caller.require(Role::Operator)?;
    state.find_order(&order_id).await?;
    let refunds = state.db.refunds_of(&order_id).await.map_err(ApiError::internal)?;
    Ok(Json(Page { data: refunds.iter().map(RefundRecord::view).collect(), has_more: false }))
}

/// `GET /api/v1/refunds/{id}`: one refund.
pub async fn get_refund(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Operator)?;
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::invalid_request("the id in the path is not a refund id"));
    }
    let refund = state
        .db
        .refund(&id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("refund"))?;
    Ok(Json(refund.view()))
}
