//! Webhooks (admin): where events go (the URL with any credentials in it masked, as the merchant
//! API shows it), whether they are sent, the signing secret (shown once when made or rotated,
//! rotated after a second page that asks), the delivery log with each failure in our words, and
//! a failed delivery sent again through the outbox.

use super::super::{
    auth::Staff,
    layout::{copyable, csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, daily, forbidden, internal_error, problem, respond};
use crate::domain::AuditAction;
use crate::{domain::Role, state::AppState, webhooks};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/webhooks";

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    page: Option<String>,
}

/// The endpoint form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    enabled: Option<String>,
}

async fn body(
    state: &AppState,
    staff: &Staff,
    typed: Option<&EndpointForm>,
    secret: Option<&str>,
    page: i64,
) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let endpoint = state.db.webhook_endpoint().await.map_err(|error| internal_error(lang, error))?;
    let mut events = state
        .db
        .events_page(daily::PAGE_SIZE + 1, (page - 1) * daily::PAGE_SIZE)
        .await
        .map_err(|error| internal_error(lang, error))?;
    let has_more = events.len() as i64 > daily::PAGE_SIZE;
    events.truncate(daily::PAGE_SIZE as usize);
    let enabled = match typed {
        Some(typed) => typed.enabled.is_some(),
        None => endpoint.as_ref().is_none_or(|e| e.enabled != 0),
    };
    Ok(html! {
        @if let Some(secret) = secret {
            section.card.card--secret aria-labelledby="secret" data-testid="new-secret" {
                h2 #secret { (t("webhooks.secret_title")) }
                p { (t("webhooks.secret_once")) }
                (copyable(lang, "webhook-secret", secret))
            }
        }
        section.card aria-labelledby="endpoint" {
            h2 #endpoint { (t("webhooks.endpoint")) }
            @match &endpoint {
                Some(endpoint) => {
                    dl.facts data-testid="endpoint" {
                        dt { (t("webhooks.url")) } dd { code { (endpoint.url) } }
                        dt { (t("webhooks.sending")) } dd { (if endpoint.enabled != 0 { t("webhooks.on") } else { t("webhooks.off") }) }
                        dt { (t("webhooks.updated")) } dd { (lang.datetime(endpoint.updated_at)) }
                        dt { (t("webhooks.secret")) } dd { (t("webhooks.secret_hidden")) }
                    }
                    form.form--inline method="post" action=(format!("{PATH}/rotate")) {
                        (csrf_field(staff))
                        button.button.button--quiet type="submit" { (t("webhooks.rotate")) }
                    }
                },
                None => p data-testid="no-endpoint" { (t("webhooks.none")) },
            }
            form.form method="post" action=(PATH) {
                (csrf_field(staff))
                label for="webhook-url" { (t("webhooks.new_url")) }
                input #webhook-url type="url" name="url" value=(typed.map(|f| f.url.as_str()).unwrap_or("")) maxlength="2048" required autocomplete="off" aria-describedby="webhook-url-hint";
                span #webhook-url-hint.hint { (t("webhooks.url_hint")) }
                label.check { input type="checkbox" name="enabled" value="1" checked[enabled]; " " (t("webhooks.enabled")) }
                button.button type="submit" { (t("webhooks.save")) }
            }
        }
        section aria-labelledby="log" {
            h2 #log { (t("webhooks.log")) }
            @if events.is_empty() {
                p { (t("webhooks.no_events")) }
            } @else {
                (scroll_region(&t("webhooks.log"), daily::deliveries_table(lang, Some(staff), &events)))
            }
            (daily::pager(lang, PATH, &[], page, has_more))
        }
    })
}

async fn page(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    typed: Option<&EndpointForm>,
    secret: Option<&str>,
    page: i64,
) -> Response {
    match body(state, staff, typed, secret, page).await {
        Ok(body) => respond(state, staff, PATH, &staff.lang.t("webhooks.title"), notice, body),
        Err(answer) => answer,
    }
}

/// `GET /console/webhooks` (admin).
pub async fn show(State(state): State<AppState>, staff: Staff, Query(query): Query<LogQuery>) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    match daily::parse_page(query.page.as_deref()) {
        Ok(number) => page(&state, &staff, None, None, None, number).await,
        Err(_) => {
            page(&state, &staff, Some(Notice::Problem(staff.lang.t("orders.bad_page"))), None, None, 1).await
        }
    }
}

/// `POST /console/webhooks` (admin): sets the URL and whether events are sent; a new endpoint's
/// secret is shown on this answer only.
pub async fn set_endpoint(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<EndpointForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let url = match webhooks::check_url(form.url.trim(), state.config.livemode(), &state.egress) {
        Ok(url) => url,
        Err(_) => {
            let key = if state.config.livemode() { "webhooks.bad_url_live" } else { "webhooks.bad_url" };
            return page(&state, &staff, Some(Notice::Problem(lang.t(key))), Some(&form), None, 1).await;
        }
    };
    let enabled = form.enabled.is_some();
    let (endpoint, created) =
        match webhooks::set_endpoint(&state.db, &state.vault, &url, enabled, state.now()).await {
            Ok(set) => set,
            Err(error) => return internal_error(lang, error),
        };
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::WebhookEndpointUpdate,
        &endpoint.id,
        serde_json::json!({ "url": endpoint.shown_url, "enabled": enabled }),
    )
    .await
    {
        return answer;
    }
    let secret = created.then_some(endpoint.secret.as_str());
    page(&state, &staff, Some(Notice::Done(lang.t("webhooks.saved"))), None, secret, 1).await
}

#[derive(Debug, Deserialize)]
pub struct RotateForm {
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /console/webhooks/rotate` (admin): asks first, then makes a new signing secret.
pub async fn rotate(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<RotateForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    if form.confirm.as_deref() != Some("1") {
        return daily::confirm_page(
            &state,
            &staff,
            PATH,
            &lang.t("webhooks.rotate_title"),
            &lang.t("webhooks.rotate_question"),
            &format!("{PATH}/rotate"),
            &[],
            &lang.t("webhooks.rotate_confirm"),
            PATH,
            true,
        );
    }
    let endpoint = match webhooks::rotate_secret(&state.db, &state.vault, state.now()).await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
        Err(error) => return internal_error(lang, error),
    };
    if let Err(answer) =
        audit(&state, &staff, AuditAction::WebhookEndpointRotateSecret, &endpoint.id, serde_json::json!({}))
            .await
    {
        return answer;
    }
    page(&state, &staff, Some(Notice::Done(lang.t("webhooks.rotated"))), None, Some(&endpoint.secret), 1)
        .await
}

#[derive(Debug, Deserialize)]
pub struct ResendForm {
    csrf: String,
}

/// `POST /console/webhooks/events/{id}/resend` (admin): a failed or skipped delivery goes back
/// into the outbox; the delivery worker sends it at its next round.
pub async fn resend(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ResendForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let notice = match state.db.resend_event(&id, state.now()).await {
        Ok(true) => {
            if let Err(answer) =
                audit(&state, &staff, AuditAction::EventResend, &id, serde_json::json!({})).await
            {
                return answer;
            }
            Notice::Done(lang.tf("webhooks.resent", &[("event", &id)]))
        }
        Ok(false) => match state.db.event(&id).await {
            Ok(Some(_)) => Notice::Problem(lang.t("webhooks.not_failed")),
            Ok(None) => return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
            Err(error) => return internal_error(lang, error),
        },
        Err(error) => return internal_error(lang, error),
    };
    page(&state, &staff, Some(notice), None, None, 1).await
}
