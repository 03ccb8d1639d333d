//! API keys (admin): the keys the merchant's servers use, made with a role and a mode (the
//! secret shown once, with a copy button, never again), listed by their prefix, and revoked
//! after a second page that asks. Keys are made and revoked as the merchant API does.

use super::super::{
    auth::Staff,
    layout::{copyable, csrf_field, scroll_region, Notice},
};
use super::{check_form, daily, forbidden, internal_error, problem, respond};
use crate::{
    app::{api_keys, AppError},
    domain::Role,
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;
use wallet_checkout_contract::ErrorCode;

const PATH: &str = "/console/keys";

/// The form as typed, to show again when it is refused.
#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    mode: String,
}

async fn body(
    state: &AppState,
    staff: &Staff,
    typed: &CreateForm,
    secret: Option<&str>,
) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let keys = state.db.api_keys().await.map_err(|error| internal_error(lang, error))?;
    let default_mode = if state.config.livemode() { "live" } else { "test" };
    let mode = if typed.mode.is_empty() { default_mode } else { typed.mode.as_str() };
    Ok(html! {
        @if let Some(secret) = secret {
            section.card.card--secret aria-labelledby="secret" data-testid="new-secret" {
                h2 #secret { (t("keys.secret_title")) }
                p { (t("keys.secret_once")) }
                (copyable(lang, "new-key-secret", secret))
            }
        }
        p { (t("keys.intro")) }
        (scroll_region(&t("keys.title"), html! {
            table.table data-testid="keys" {
                thead { tr {
                    th scope="col" { (t("keys.name")) }
                    th scope="col" { (t("keys.prefix")) }
                    th scope="col" { (t("table.role")) }
                    th scope="col" { (t("keys.mode")) }
                    th scope="col" { (t("keys.created_at")) }
                    th scope="col" { (t("keys.last_used")) }
                    th scope="col" { (t("table.state")) }
                    th scope="col" { span.visually-hidden { (t("keys.revoke")) } }
                } }
                tbody {
                    @for key in &keys {
                        tr data-testid="key-row" {
                            td { (key.name) }
                            td { code { (key.prefix) "…" } }
                            td { (t(&format!("role.{}", key.role))) }
                            td { (if key.livemode != 0 { t("keys.mode_live") } else { t("keys.mode_test") }) }
                            td { (lang.datetime(key.created_at)) }
                            td { (key.last_used_at.map(|at| lang.datetime(at)).unwrap_or_else(|| t("common.never"))) }
                            td {
                                @match key.revoked_at {
                                    Some(at) => span.status.status--failed { (lang.tf("keys.revoked_at", &[("at", &lang.datetime(at))])) },
                                    None => span.status.status--succeeded { (t("keys.active")) },
                                }
                            }
                            td {
                                @if key.revoked_at.is_none() {
                                    form.form--inline method="post" action=(format!("{PATH}/{}/revoke", key.id)) {
                                        (csrf_field(staff))
                                        button.button.button--quiet type="submit" aria-label=(lang.tf("keys.revoke_label", &[("name", &key.name), ("prefix", &key.prefix)])) { (t("keys.revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }))
        section.card aria-labelledby="new-key" {
            h2 #new-key { (t("keys.create")) }
            form.form method="post" action=(PATH) {
                (csrf_field(staff))
                label for="key-name" { (t("keys.name")) }
                input #key-name type="text" name="name" value=(typed.name) maxlength="100" required autocomplete="off";
                label for="key-role" { (t("table.role")) }
                select #key-role name="role" {
                    @for role in ["viewer", "operator", "admin"] {
                        option value=(role) selected[typed.role == role] { (t(&format!("role.{role}"))) }
                    }
                }
                fieldset.choice {
                    legend { (t("keys.mode")) }
                    label.check { input type="radio" name="mode" value="test" checked[mode == "test"]; " " (t("keys.mode_test")) }
                    label.check { input type="radio" name="mode" value="live" checked[mode == "live"]; " " (t("keys.mode_live")) }
                }
                p.hint { (t("keys.mode_hint")) }
                button.button type="submit" { (t("keys.create_button")) }
            }
        }
    })
}

async fn page(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    typed: &CreateForm,
    secret: Option<&str>,
) -> Response {
    match body(state, staff, typed, secret).await {
        Ok(body) => respond(state, staff, PATH, &staff.lang.t("keys.title"), notice, body),
        Err(answer) => answer,
    }
}

/// `GET /console/keys` (admin).
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    page(&state, &staff, None, &CreateForm::default(), None).await
}

/// `POST /console/keys` (admin): a new key; its secret is on this answer only.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let livemode = match form.mode.as_str() {
        "live" => true,
        "test" => false,
        _ => return page(&state, &staff, Some(Notice::Problem(lang.t("keys.invalid"))), &form, None).await,
    };
    let Some(role) = Role::parse(&form.role) else {
        return page(&state, &staff, Some(Notice::Problem(lang.t("keys.invalid"))), &form, None).await;
    };
    let made = api_keys::make_key(&state.db, &form.name, role, livemode, &staff.actor(), state.now()).await;
    let (record, secret) = match made {
        Ok(made) => made,
        Err(AppError::Refused { code: ErrorCode::InvalidRequest, .. }) => {
            return page(&state, &staff, Some(Notice::Problem(lang.t("keys.invalid"))), &form, None).await
        }
        Err(error) => return internal_error(lang, error),
    };
    let notice = Notice::Done(lang.tf("keys.created", &[("name", &record.name)]));
    page(&state, &staff, Some(notice), &CreateForm::default(), Some(&secret)).await
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /console/keys/{id}/revoke` (admin): asks first, then revokes (never the last live
/// admin key, as the merchant API).
pub async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let key = match state.db.api_key(&id).await {
        Ok(Some(key)) => key,
        Ok(None) => return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
        Err(error) => return internal_error(lang, error),
    };
    if form.confirm.as_deref() != Some("1") {
        return daily::confirm_page(
            &state,
            &staff,
            PATH,
            &lang.t("keys.revoke_title"),
            &lang.tf("keys.revoke_question", &[("name", &key.name), ("prefix", &key.prefix)]),
            &format!("{PATH}/{}/revoke", key.id),
            &[],
            &lang.t("keys.revoke_confirm"),
            PATH,
            true,
        );
    }
    let notice = match api_keys::revoke_key(&state.db, &id, &staff.actor(), state.now()).await {
        Ok(api_keys::Revoked::Now(record) | api_keys::Revoked::Already(record)) => {
            Notice::Done(lang.tf("keys.revoked", &[("name", &record.name)]))
        }
        Err(AppError::Refused { code: ErrorCode::Forbidden, .. }) => {
            Notice::Problem(lang.t("keys.last_admin"))
        }
        Err(AppError::Refused { code: ErrorCode::NotFound, .. }) => {
            return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found")
        }
        Err(error) => return internal_error(lang, error),
    };
    page(&state, &staff, Some(notice), &CreateForm::default(), None).await
}
