//! `/api/v1/orders/{id}/refunds` and `/api/v1/refunds/{id}` (operator): give money back from an
//! order's payment, in full or in part, with a reason; idempotent with `Idempotency-Key`; each
//! refund has its own status, which follows the provider.

use super::Page;
use crate::{
    app::{RefundInput, RefundOutcome},
    auth::Caller,
    db::RefundRecord,
    domain::Role,
    error::{ApiError, JsonBody, PathId},
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use wallet_checkout_contract::{Amount, OrderId, SessionId};

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

/// `POST /api/v1/orders/{id}/refunds`: a refund of the order's payment.
pub async fn create_refund(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    PathId(order_id): PathId<OrderId>,
    JsonBody(request): JsonBody<CreateRefund>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let key = crate::routes::idempotency_key(&headers)?;
    let input = RefundInput {
        order_id,
        session_id: request.session_id,
        amount: request.amount,
        reason: request.reason,
        idempotency_key: key.map(|key| key.as_str().to_owned()),
        by: caller.actor(),
        public_base: state.public_base(&headers),
    };
    let (refund, replayed) = match state.app.refund(input).await? {
        RefundOutcome::Created(refund) => (refund, false),
        RefundOutcome::Replayed(refund) => (refund, true),
    };
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
