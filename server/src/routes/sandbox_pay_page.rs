//! The sandbox wallet's pay page: what a shopper sees after scanning the QR code or being
//! redirected. Each button is an outcome the sandbox wallet carries out and then notifies the
//! server of, over HTTP, as a real wallet does: the payment succeeds, is declined, stays
//! processing and then fails, or is paid after the session expired.

use crate::state::AppState;
use crate::{
    db::SessionRecord,
    error::ApiError,
    html::{self, escape, page},
    providers::sandbox::{Outcome, SandboxProvider},
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
    let order = state.db.order(&session.order_id).await.ok().flatten();
    let description = order.map(|order| order.description).unwrap_or_default();
    let scheduled = match &state.sandbox {
        Some(_) => state.db.sandbox_payment(session.id.as_str()).await.ok().flatten().and_then(|p| p.script),
        None => None,
    };
    let body = if session.status == SessionStatus::Pending && scheduled.is_none() {
        format!(
            "<main class=\"sbx\">\n<p class=\"sbx__badge\">Sandbox wallet: no real money moves</p>\n\
             <h1 class=\"sbx__wallet\">{wallet}</h1>\n<p class=\"sbx__description\">{description}</p>\n\
             <p class=\"sbx__amount\" data-testid=\"amount\">{amount}</p>\n\
             <div class=\"sbx__actions\">\n{buttons}</div>\n\
             <p class=\"sbx__hint\">The last two are scripted outcomes for testing: the payment stays \
             processing for a few seconds and then fails, or it is paid only after the session expired.</p>\n</main>",
            wallet = escape(wallet_name(&session)),
            description = escape(&description),
            amount = escape(&display_amount(&session)),
            buttons = buttons(&session),
        )
    } else {
        outcome_body(&session, session.status)
    };
    html::response(StatusCode::OK, page("Sandbox wallet", STYLESHEET, "", &body))
}

/// The pay page's buttons, one form per outcome.
fn buttons(session: &SessionRecord) -> String {
    Outcome::ALL
        .iter()
        .map(|outcome| {
            let (class, label) = match outcome {
                Outcome::Succeed => ("sbx__approve", "Approve payment"),
                Outcome::Decline => ("sbx__decline", "Decline"),
                Outcome::ProcessThenFail => ("sbx__script", "Approve, then fail while processing"),
                Outcome::PayAfterExpiry => ("sbx__script", "Pay after the session expires"),
            };
            format!(
                "<form method=\"post\" action=\"/sandbox/pay/{id}/{path}\"><button class=\"{class}\" type=\"submit\">{label}</button></form>\n",
                id = escape(session.id.as_str()),
                path = outcome.path(),
            )
        })
        .collect()
}

/// `POST /sandbox/pay/{id}/{outcome}`: the sandbox wallet carries out the outcome and notifies
/// the server; a redirect flow then goes back to the store.
pub async fn decide(State(state): State<AppState>, Path((id, outcome)): Path<(String, String)>) -> Response {
    let Some(outcome) = Outcome::parse(&outcome) else { return not_found() };
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Some(sandbox) = state.sandbox.as_ref() else { return not_found() };
    // A code past its time is closed by the wallet, which says so at once; the session expires
    // when the sweep comes to it.
    let closed = match sandbox.decide(session.id.as_str(), outcome, session.expires_at).await {
        Ok(Some(payment)) => payment.status == "closed",
        Ok(None) => return not_found(),
        Err(error) => return ApiError::internal(error).into_response(),
    };
    let session = match find(&state, &id).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    tracing::info!(session_id = %session.id, outcome = outcome.path(), status = %session.status, "sandbox decision made");
    if matches!(session.next_action, Some(NextAction::Redirect { .. })) {
        let back = session.return_url.with_param(RETURN_SESSION_PARAM, session.id.as_str());
        return (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response();
    }
    let shown = if closed && !session.status.is_final() { SessionStatus::Expired } else { session.status };
    html::response(StatusCode::OK, page("Sandbox wallet", STYLESHEET, "", &outcome_body(&session, shown)))
}

fn not_found() -> Response {
    let body = "<main class=\"sbx\"><h1>No such payment</h1><p>This payment link is not valid.</p></main>";
    html::response(StatusCode::NOT_FOUND, page("Sandbox wallet", STYLESHEET, "", body))
}

async fn find(state: &AppState, id: &str) -> Result<SessionRecord, Response> {
    let id = SessionId::parse(id).map_err(|_| not_found())?;
    match state.app.session(&id).await {
        Ok(session) if session.provider.as_deref() == Some("sandbox") => Ok(session),
        Ok(_) => Err(not_found()),
        Err(error) => {
            let error = ApiError::from(error);
            if error.code == wallet_checkout_contract::ErrorCode::NotFound {
                Err(not_found())
            } else {
                Err(error.into_response())
            }
        }
    }
}

fn wallet_name(session: &SessionRecord) -> &'static str {
    SandboxProvider::wallet_name(&session.wallet_id).unwrap_or("Sandbox wallet")
}

fn display_amount(session: &SessionRecord) -> String {
    format!("{} {}", session.amount.currency(), session.amount.to_decimal_string())
}

/// The page after a decision: what the payment came to (`status`, the session's or the wallet's
/// own when it closed an expired code).
fn outcome_body(session: &SessionRecord, status: SessionStatus) -> String {
    let (title, text) = match status {
        SessionStatus::Succeeded => ("Payment approved", "You can close this page and return to the store."),
        SessionStatus::Processing => {
            ("Payment processing", "The wallet is confirming the payment. You can return to the store.")
        }
        SessionStatus::Failed => ("Payment declined", "No money was taken. You can return to the store."),
        SessionStatus::Expired => {
            ("Payment expired", "This payment can no longer be made. Return to the store to start again.")
        }
        SessionStatus::Canceled => ("Payment canceled", "The store canceled this payment."),
        SessionStatus::Pending => (
            "Payment scheduled",
            "The sandbox wallet will pay once the session has expired, as a late payment.",
        ),
    };
    let back = if matches!(session.next_action, Some(NextAction::Redirect { .. })) || status.is_final() {
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
        amount = escape(&display_amount(session)),
    )
}
