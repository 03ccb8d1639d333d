//! The console's pages, one file per section, and the answers they share.
//!
//! Checks answer `Err(Response)`: the page to send instead, which a handler returns as it is.
#![allow(clippy::result_large_err)]

pub mod account;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod backups;
pub mod business;
pub mod counters;
pub mod daily;
pub mod golive;
pub mod login;
pub mod orders;
pub mod overview;
pub mod setup;
pub mod staff;
pub mod testpay;
pub mod webhooks;

use super::{
    auth::{NotSignedIn, Staff},
    i18n::Lang,
    layout::{page, Frame, Notice},
};
use crate::{html, state::AppState};
use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use maud::{html as markup, Markup};

/// A console page for a signed-in member.
pub fn respond(
    state: &AppState,
    staff: &Staff,
    path: &str,
    title: &str,
    notice: Option<Notice>,
    body: Markup,
) -> Response {
    let frame = Frame { staff: Some(staff), lang: staff.lang, live: state.config.livemode(), path };
    html::response(StatusCode::OK, page(&frame, title, notice, body))
}

/// A page that says what went wrong, with the status that goes with it.
pub fn problem(
    state: &AppState,
    staff: Option<&Staff>,
    lang: Lang,
    status: StatusCode,
    key: &str,
) -> Response {
    let frame = Frame { staff, lang, live: state.config.livemode(), path: "" };
    let body = markup! { p { (lang.t(key)) } p { a href="/console" { (lang.t("nav.overview")) } } };
    html::response(status, page(&frame, &lang.t("error.title"), None, body))
}

/// The member's role does not allow this.
pub fn forbidden(state: &AppState, staff: &Staff) -> Response {
    problem(state, Some(staff), staff.lang, StatusCode::FORBIDDEN, "error.forbidden")
}

/// A form without the session's token, or from another site.
pub fn bad_form(state: &AppState, staff: &Staff) -> Response {
    problem(state, Some(staff), staff.lang, StatusCode::FORBIDDEN, "error.csrf")
}

/// Logs the cause and answers a page that reveals nothing about it.
pub fn internal_error(lang: Lang, cause: impl std::fmt::Display) -> Response {
    tracing::error!(%cause, "console error");
    let frame = Frame { staff: None, lang, live: false, path: "" };
    let body = markup! { p { (lang.t("error.internal")) } };
    html::response(StatusCode::INTERNAL_SERVER_ERROR, page(&frame, &lang.t("error.title"), None, body))
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect(answer) => answer,
            NotSignedIn::Failed(cause) => internal_error(Lang::En, cause),
        }
    }
}

/// Checks a form: the member's role is at least `role`, and the form is genuine (CSRF token,
/// same origin). `Err` is the answer to give instead.
pub fn check_form(
    state: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    csrf: &str,
    role: crate::domain::Role,
) -> Result<(), Response> {
    if !super::auth::form_is_genuine(staff, headers, csrf, state) {
        return Err(bad_form(state, staff));
    }
    if !staff.may(role) {
        return Err(forbidden(state, staff));
    }
    Ok(())
}

/// Writes an audit entry for a change a staff member made; the audit log names the person.
pub async fn audit(
    state: &AppState,
    staff: &Staff,
    action: crate::domain::AuditAction,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), Response> {
    state
        .db
        .audit(&staff.record.id, &staff.record.name, action, target, &detail, state.now())
        .await
        .map_err(|error| internal_error(staff.lang, error))
}
