//! `/api/v1/orders`: create (idempotently), list, read with sessions and their history, cancel.

use super::{audit, limit, time, Page};
use crate::domain::AuditAction;
use crate::{
    auth::Caller,
    db::{
        DbError, NewMerchantOrder, NewOrder, OrderCancel, OrderCreation, OrderRecord, SessionRecord,
        StatusChange,
    },
    domain::Role,
    domain::{new_order_id, text::check_readable},
    error::{ApiError, JsonBody, PathId, QueryParams},
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wallet_checkout_contract::{Amount, ErrorCode, OrderId, OrderStatus, Session};

pub const MAX_DESCRIPTION_CHARS: usize = 200;
pub const MAX_REFERENCE_CHARS: usize = 100;
pub const MAX_METADATA_KEYS: usize = 20;
pub const MAX_METADATA_KEY_CHARS: usize = 40;
pub const MAX_METADATA_VALUE_CHARS: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub amount: Amount,
    pub description: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub description: String,
    pub amount: Amount,
    pub status: OrderStatus,
    pub reference: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub paid_session_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<OrderRecord> for OrderView {
    fn from(order: OrderRecord) -> Self {
        Self {
            id: order.id,
            description: order.description,
            amount: order.amount,
            status: order.status,
            reference: order.reference,
            metadata: order.metadata,
            paid_session_id: order.paid_session_id.map(|id| id.to_string()),
            created_at: time(order.created_at),
            updated_at: time(order.updated_at),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusChangeView {
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: String,
    pub at: String,
}

impl From<StatusChange> for StatusChangeView {
    fn from(change: StatusChange) -> Self {
        Self {
            from: change.from.map(|s| s.as_str()),
            to: change.to.as_str(),
            reason: change.reason,
            at: time(change.at),
        }
    }
}

/// A session as the merchant sees it: the contract's view, the flag for the merchant, the times,
/// and the history of its status.
#[derive(Debug, Serialize)]
pub struct MerchantSession {
    #[serde(flatten)]
    pub session: Session,
    pub flag: Option<crate::domain::Flag>,
    pub created_at: String,
    pub updated_at: String,
    /// When the money moved (`null` if it did not): what a refund can give back.
    pub paid_at: Option<String>,
    /// The wallet provider that took the payment, and its references.
    pub provider: Option<String>,
    pub provider_references: ProviderReferences,
    pub history: Vec<StatusChangeView>,
}

/// A provider's own ids for a payment, to find it in the provider's dashboard.
#[derive(Debug, Serialize)]
pub struct ProviderReferences {
    /// The provider's order or trade made at creation (PayPal order id).
    pub order_id: Option<String>,
    /// The money movement (WeChat Pay `transaction_id`, Alipay `trade_no`).
    pub transaction_id: Option<String>,
    /// The capture (PayPal).
    pub capture_id: Option<String>,
}

impl MerchantSession {
    pub fn new(record: &SessionRecord, history: Vec<StatusChange>, now: crate::domain::UnixMillis) -> Self {
        Self {
            session: record.view(now),
            flag: record.flag,
            created_at: time(record.created_at),
            updated_at: time(record.updated_at),
            paid_at: record.paid_at.map(time),
            provider: record.provider.clone(),
            provider_references: ProviderReferences {
                order_id: record.refs.order_id.clone(),
                transaction_id: record.refs.transaction_id.clone(),
                capture_id: record.refs.capture_id.clone(),
            },
            history: history.into_iter().map(StatusChangeView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OrderWithSessions {
    #[serde(flatten)]
    pub order: OrderView,
    pub sessions: Vec<MerchantSession>,
    /// The order's refunds, oldest first.
    pub refunds: Vec<serde_json::Value>,
}

fn check(request: &CreateOrder) -> Result<(), ApiError> {
    let description = request.description.trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid_request(format!(
            "description must be 1 to {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    if request.amount.minor_units() == 0 {
        return Err(ApiError::invalid_request("amount.minor_units must be more than 0"));
    }
    if let Some(reference) = &request.reference {
        if reference.trim().is_empty() || reference.chars().count() > MAX_REFERENCE_CHARS {
            return Err(ApiError::invalid_request(format!(
                "reference must be 1 to {MAX_REFERENCE_CHARS} characters"
            )));
        }
    }
    if request.metadata.len() > MAX_METADATA_KEYS {
        return Err(ApiError::invalid_request(format!("metadata may have at most {MAX_METADATA_KEYS} keys")));
    }
    for (key, value) in &request.metadata {
        if key.is_empty() || key.chars().count() > MAX_METADATA_KEY_CHARS {
            return Err(ApiError::invalid_request(format!(
                "metadata keys must be 1 to {MAX_METADATA_KEY_CHARS} characters"
            )));
        }
        if value.chars().count() > MAX_METADATA_VALUE_CHARS {
            return Err(ApiError::invalid_request(format!(
                "metadata values must be at most {MAX_METADATA_VALUE_CHARS} characters"
            )));
        }
    }
    readable("description", description)?;
    if let Some(reference) = &request.reference {
        readable("reference", reference)?;
    }
    for (key, value) in &request.metadata {
        readable("metadata keys", key)?;
        readable("metadata values", value)?;
    }
    Ok(())
}

/// Refuses text that would read differently than it is (`domain::text`).
pub fn readable(field: &str, text: &str) -> Result<(), ApiError> {
    check_readable(text).map_err(|error| ApiError::invalid_request(format!("{field} must not hold {error}")))
}

fn request_hash(request: &CreateOrder) -> String {
    crate::domain::request_hash(&serde_json::json!({
        "amount": request.amount,
        "description": request.description,
        "reference": request.reference,
        "metadata": request.metadata,
    }))
}

/// `POST /api/v1/orders` (operator): a new order. With an `Idempotency-Key`, the same request
/// again returns the same order.
pub async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<CreateOrder>,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let key = crate::routes::idempotency_key(&headers)?;
    check(&request)?;
    let new = NewMerchantOrder {
        order: NewOrder {
            id: new_order_id(),
            description: request.description.trim().to_owned(),
            amount: request.amount,
            reference: request.reference.as_deref().map(|r| r.trim().to_owned()),
            metadata: request.metadata.clone(),
            created_at: state.now(),
        },
        idempotency_key: key,
        request_hash: request_hash(&request),
    };
    let (order, replayed) = match state.db.create_order(&new).await {
        Ok(OrderCreation::Created(order)) => (order, false),
        Ok(OrderCreation::Replayed(order)) => (order, true),
        Err(DbError::KeyReused) => {
            return Err(ApiError::new(
                ErrorCode::IdempotencyConflict,
                "this Idempotency-Key was used with a different request",
            ))
        }
        Err(error) => return Err(ApiError::internal(error)),
    };
    if !replayed {
        audit(
            &state,
            &caller,
            AuditAction::OrderCreate,
            order.id.as_str(),
            serde_json::json!({ "amount": order.amount, "reference": order.reference }),
        )
        .await?;
        tracing::info!(order_id = %order.id, key_id = %caller.key.id, "order created");
    }
    let mut response = (StatusCode::CREATED, Json(OrderView::from(order))).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

/// `GET /api/v1/orders` (operator): newest first; `starting_after` pages on.
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Page<OrderView>>, ApiError> {
    caller.require(Role::Operator)?;
    let limit = limit(query.limit.as_deref())?;
    let after = query
        .starting_after
        .map(OrderId::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_request(format!("starting_after {e}")))?;
    let orders = state.db.orders(limit + 1, after.as_ref()).await.map_err(ApiError::internal)?;
    Ok(Json(Page::from_rows(orders, limit, OrderView::from)))
}

/// `GET /api/v1/orders/{id}` (operator): the order, its sessions and their status history.
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<OrderId>,
) -> Result<Json<OrderWithSessions>, ApiError> {
    caller.require(Role::Operator)?;
    let order = state.find_order(&id).await?;
    Ok(Json(with_sessions(&state, order).await?))
}

pub async fn with_sessions(state: &AppState, order: OrderRecord) -> Result<OrderWithSessions, ApiError> {
    let mut sessions = Vec::new();
    for session in state.db.sessions_of(&order.id).await.map_err(ApiError::internal)? {
        if session.next_action.is_none() && session.status.as_str() == "pending" {
            continue; // a reservation whose provider call has not finished
        }
        let history = state.db.history(&session.id).await.map_err(ApiError::internal)?;
        sessions.push(MerchantSession::new(&session, history, state.now()));
    }
    let refunds = state.db.refunds_of(&order.id).await.map_err(ApiError::internal)?;
    Ok(OrderWithSessions {
        order: OrderView::from(order),
        sessions,
        refunds: refunds.iter().map(crate::db::RefundRecord::view).collect(),
    })
}

/// `POST /api/v1/orders/{id}/cancel` (operator): cancels an open order and its pending sessions.
pub async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<OrderId>,
) -> Result<Json<OrderWithSessions>, ApiError> {
    caller.require(Role::Operator)?;
    let order = match state.app.cancel_order(&id).await? {
        OrderCancel::NotFound => return Err(ApiError::not_found("order")),
        OrderCancel::Closed(order) if order.status == OrderStatus::Paid => {
            return Err(ApiError::new(
                ErrorCode::OrderNotPayable,
                "the order is paid and can no longer be canceled",
            ))
        }
        OrderCancel::Closed(order) => order,
        OrderCancel::PaymentInProgress(_) => {
            return Err(ApiError::new(
                ErrorCode::PaymentInProgress,
                "a payment of this order is being confirmed by the wallet; it cannot be canceled now",
            ))
        }
        OrderCancel::Canceled(order) => {
            audit(&state, &caller, AuditAction::OrderCancel, id.as_str(), serde_json::json!({})).await?;
            tracing::info!(order_id = %id, key_id = %caller.key.id, "order canceled");
            order
        }
    };
    Ok(Json(with_sessions(&state, order).await?))
}
