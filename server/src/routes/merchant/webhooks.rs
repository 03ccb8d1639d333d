//! `/api/v1/webhook-endpoint` (admin) and `/api/v1/events` (operator): where events go, its
//! signing secret (shown when made or rotated), and the events with their delivery state.

use super::{audit, limit, time, Page};
use crate::domain::AuditAction;
use crate::{
    auth::Caller,
    db::EventRecord,
    domain::Role,
    error::{ApiError, JsonBody, QueryParams},
    state::AppState,
    webhooks::{self, Endpoint},
};
use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetEndpoint {
    pub url: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Serialize)]
pub struct EndpointView {
    pub url: String,
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
    /// The signing secret: only in the answer that made or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(endpoint: Endpoint, show_secret: bool) -> EndpointView {
    EndpointView {
        url: endpoint.shown_url,
        enabled: endpoint.enabled,
        created_at: time(endpoint.created_at),
        updated_at: time(endpoint.updated_at),
        secret: show_secret.then_some(endpoint.secret),
    }
}

pub async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Role::Admin)?;
    let endpoint = webhooks::endpoint(&state.db, &state.vault)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    Ok(Json(view(endpoint, false)))
}

/// `PUT`: sets the URL and whether events are sent. The first time, the answer holds the secret.
pub async fn set_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<SetEndpoint>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Role::Admin)?;
    let url = webhooks::check_url(&request.url, state.config.livemode(), &state.egress)
        .map_err(ApiError::invalid_request)?;
    let (endpoint, created) =
        webhooks::set_endpoint(&state.db, &state.vault, &url, request.enabled, state.now())
            .await
            .map_err(ApiError::internal)?;
    audit(
        &state,
        &caller,
        AuditAction::WebhookEndpointUpdate,
        &endpoint.id,
        serde_json::json!({ "url": endpoint.shown_url, "enabled": request.enabled }),
    )
    .await?;
    Ok(Json(view(endpoint, created)))
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Role::Admin)?;
    let endpoint = webhooks::rotate_secret(&state.db, &state.vault, state.now())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    audit(&state, &caller, AuditAction::WebhookEndpointRotateSecret, &endpoint.id, serde_json::json!({}))
        .await?;
    Ok(Json(view(endpoint, true)))
}

#[derive(Debug, Serialize)]
pub struct DeliveryView {
    /// `delivered`, `pending` (will be tried again), `failed` (given up) or `skipped` (no endpoint).
    pub state: &'static str,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub session_id: String,
    pub created_at: String,
    pub delivery: DeliveryView,
    /// The body sent to the endpoint.
    pub payload: serde_json::Value,
}

impl From<EventRecord> for EventView {
    fn from(event: EventRecord) -> Self {
        let state = event.delivery_state();
        Self {
            id: event.id,
            kind: event.kind,
            session_id: event.session_id,
            created_at: time(event.created_at),
            delivery: DeliveryView {
                state,
                attempts: event.attempts,
                next_attempt_at: (state == "pending").then(|| time(event.next_attempt_at)),
                last_error: event.last_error,
            },
            payload: serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    limit: Option<String>,
    session: Option<String>,
}

pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<EventsQuery>,
) -> Result<Json<Page<EventView>>, ApiError> {
    caller.require(Role::Operator)?;
    let limit = limit(query.limit.as_deref())?;
    if let Some(session) = &query.session {
        wallet_checkout_contract::SessionId::parse(session.as_str())
            .map_err(|e| ApiError::invalid_request(format!("session {e}")))?;
    }
    let events = state.db.events(query.session.as_deref(), limit + 1).await.map_err(ApiError::internal)?;
    Ok(Json(Page::from_rows(events, limit, EventView::from)))
}

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub actor: serde_json::Value,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    limit: Option<String>,
}

/// `GET /api/v1/audit-log` (admin): who changed what, when; newest first.
pub async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    caller.require(Role::Admin)?;
    let limit = limit(query.limit.as_deref())?;
    let entries = state.db.audit_log(limit + 1).await.map_err(ApiError::internal)?;
    Ok(Json(Page::from_rows(entries, limit, |e| AuditView {
        id: e.id,
        at: time(e.at),
        actor: serde_json::json!({ "key_id": e.actor_id, "name": e.actor_name }),
        action: e.action,
        target: e.target,
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
    })))
}
