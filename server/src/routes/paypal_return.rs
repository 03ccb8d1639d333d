//! Where PayPal sends the shopper back: `GET /api/providers/paypal/return/{session_id}` after
//! approving, `.../cancel/{session_id}` after canceling on PayPal's page. Both end on the store's
//! page (`return_url` with `wc_session`), where the widget picks the session up.
//!
//! The return's query (`token`, `PayerID`) is never trusted: the order is asked of PayPal, and an
//! approved one is captured through the payments layer (`apply_state`), which captures a pending
//! session before its expiry only, once (the capture's `PayPal-Request-Id` is the session's).
//! The cancel cancels only with the session's own PayPal order id as its `token` (which only
//! PayPal's page and the shopper know): a session id alone, which shows in links and QR codes,
//! cancels nothing.

use crate::state::AppState;
use crate::{app::payment_ref, error::ApiError, providers::paypal};
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use wallet_checkout_contract::{SessionId, SessionStatus, RETURN_SESSION_PARAM};

pub async fn returned(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if session.status == SessionStatus::Pending {
        if let Some(provider) = state.providers.named(paypal::NAME) {
            match provider.query(&payment_ref(&session)).await {
                Ok(verdict) => {
                    if let Err(error) = state.app.apply_state(&session, verdict, state.now()).await {
                        tracing::error!(session_id = %session.id, ?error, "the return from PayPal could not be applied");
                    }
                }
                // The sweep asks again shortly; the widget follows the session meanwhile.
                Err(error) => {
                    tracing::warn!(session_id = %session.id, %error, "PayPal could not say how the order stands")
                }
            }
        }
    }
    back_to_store(&session)
}

/// The query PayPal adds to the cancel link: its order id.
#[derive(Debug, serde::Deserialize)]
pub struct CancelQuery {
    #[serde(default)]
    token: Option<String>,
}

pub async fn canceled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CancelQuery>,
) -> Response {
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let order_id = session.refs.order_id.as_deref();
    if order_id.is_none() || query.token.as_deref() != order_id {
        tracing::warn!(session_id = %session.id, "a cancel link without the session's PayPal order; nothing canceled");
        return back_to_store(&session);
    }
    // A session that moved on meanwhile (paid through the webhook, say) keeps its status.
    if let Err(error) = state.app.cancel_session(&session.id).await {
        tracing::info!(session_id = %session.id, error = ?ApiError::from(error).code, "a return from PayPal's cancel link did not cancel the session");
    }
    back_to_store(&session)
}

fn back_to_store(session: &crate::db::SessionRecord) -> Response {
    let back = session.return_url.with_param(RETURN_SESSION_PARAM, session.id.as_str());
    (StatusCode::SEE_OTHER, [(header::LOCATION, back), (header::CACHE_CONTROL, "no-store".into())])
        .into_response()
}

/// The PayPal session with this id, or the contract's `not_found`.
async fn find(state: &AppState, id: &str) -> Result<crate::db::SessionRecord, Response> {
    let id = SessionId::parse(id).map_err(|_| ApiError::not_found("session").into_response())?;
    match state.find_session(&id).await {
        Ok(session) if session.provider.as_deref() == Some(paypal::NAME) => Ok(session),
        Ok(_) => Err(ApiError::not_found("session").into_response()),
        Err(error) => Err(error.into_response()),
    }
}
