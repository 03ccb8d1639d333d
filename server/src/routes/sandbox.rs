//! The sandbox wallet's pay page: what a shopper sees after scanning the QR code or being
//! redirected. Approve and Decline drive the session through the same state machine a real
//! wallet's notifications would.

use super::{sessions::current, AppState};
use crate::{
    domain::{now_millis, SessionEvent},
    error::ApiError,
    html::{self, escape, page},
    providers::sandbox::SandboxProvider,
    store::{SessionRecord, Transition},
};
use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use wallet_checkout_contract::{NextAction, SessionId, SessionStatus, RETURN_SESSION_PARAM};

const STYLESHEET: &str = "/static/sandbox.css";

pub async fn pay_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let order = state.store.order(&session.order_id).await.ok().flatten();
    let description = order.map(|order| order.description).unwrap_or_default();
    let body = if session.status == SessionStatus::Pending {
        format!(
            "<main class=\"sbx\">\n<p class=\"sbx__badge\">Sandbox wallet: no real money moves</p>\n\
             <h1 class=\"sbx__wallet\">{wallet}</h1>\n<p class=\"sbx__description\">{description}</p>\n\
             <p class=\"sbx__amount\" data-testid=\"amount\">{amount}</p>\n\
             <div class=\"sbx__actions\">\n\
             <form method=\"post\" action=\"/sandbox/pay/{id}/approve\"><button class=\"sbx__approve\" type=\"submit\">Approve payment</button></form>\n\
             <form method=\"post\" action=\"/sandbox/pay/{id}/decline\"><button class=\"sbx__decline\" type=\"submit\">Decline</button></form>\n\
             </div>\n</main>",
            wallet = escape(wallet_name(&session)),
            description = escape(&description),
            amount = escape(&display_amount(&session)),
            id = escape(session.id.as_str()),
        )
    } else {
        outcome_body(&session)
    };
    html::response(StatusCode::OK, page("Sandbox wallet", STYLESHEET, "", &body))
}

pub async fn approve(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    decide_page(state, id, SessionEvent::Approved).await
}

pub async fn decline(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    decide_page(state, id, SessionEvent::Declined).await
}

async fn decide_page(state: AppState, id: String, event: SessionEvent) -> Response {
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let mut outcome = state.store.apply(&session.id, event, now_millis()).await;
    if event == SessionEvent::Approved {
        // The sandbox confirms an approved payment at once; a real wallet would notify later.
        if let Ok(Transition::Applied(approved)) = &outcome {
            tracing::info!(session_id = %approved.id, "sandbox payment approved");
            outcome = state.store.apply(&approved.id, SessionEvent::Confirmed, now_millis()).await;
        }
    }
    let session = match outcome {
        Ok(Transition::Applied(session) | Transition::Refused(_, session)) => session,
        Err(error) => return ApiError::internal(error).into_response(),
    };
    tracing::info!(session_id = %session.id, status = %session.status, "sandbox decision recorded");
    if matches!(session.next_action, Some(NextAction::Redirect { .. })) {
        let back = session.return_url.with_param(RETURN_SESSION_PARAM, session.id.as_str());
        return (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    }
    html::response(StatusCode::OK, page("Sandbox wallet", STYLESHEET, "", &outcome_body(&session)))
}

async fn find(state: &AppState, id: &str) -> Result<SessionRecord, Response> {
    let not_found = || {
        let body =
            "<main class=\"sbx\"><h1>No such payment</h1><p>This payment link is not valid.</p></main>";
        html::response(StatusCode::NOT_FOUND, page("Sandbox wallet", STYLESHEET, "", body))
    };
    let id = SessionId::parse(id).map_err(|_| not_found())?;
    match current(state, &id).await {
        Ok(session) => Ok(session),
        Err(error) if error.code == wallet_checkout_contract::ErrorCode::NotFound => Err(not_found()),
        Err(error) => Err(error.into_response()),
    }
}

fn wallet_name(session: &SessionRecord) -> &'static str {
    SandboxProvider::wallet_name(&session.wallet_id).unwrap_or("Sandbox wallet")
}

fn display_amount(session: &SessionRecord) -> String {
    format!("{} {}", session.amount.currency(), session.amount.to_decimal_string())
}

fn outcome_body(session: &SessionRecord) -> String {
    let (title, text) = match session.status {
        SessionStatus::Succeeded | SessionStatus::Processing => {
            ("Payment approved", "You can close this page and return to the store.")
        }
        SessionStatus::Failed => ("Payment declined", "No money was taken. You can return to the store."),
        SessionStatus::Expired => {
            ("Payment expired", "This payment can no longer be made. Return to the store to start again.")
        }
        SessionStatus::Canceled => ("Payment canceled", "The store canceled this payment."),
        SessionStatus::Pending => ("Payment pending", ""),
    };
    let back =
        if matches!(session.next_action, Some(NextAction::Redirect { .. })) || session.status.is_final() {
            format!(
                "<p><a class=\"sbx__back\" href=\"{}\">Return to the store</a></p>",
                escape(&session.return_url.with_param(RETURN_SESSION_PARAM, session.id.as_str()))
            )
        } else {
            String::new()
        };
    format!(
        "<main class=\"sbx\">\n<p class=\"sbx__badge\">Sandbox wallet: no real money moves</p>\n\
         <h1 class=\"sbx__result sbx__result--{status}\" data-testid=\"result\">{title}</h1>\n\
         <p class=\"sbx__amount\">{amount}</p>\n<p>{text}</p>\n{back}\n</main>",
        status = session.status,
        amount = escape(&display_amount(session)),
    )
}
