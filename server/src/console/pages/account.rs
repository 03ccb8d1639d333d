//! A staff member's own account: the console's language, the password, and two-step sign-in.
//!
//! A new member's one-time password must be replaced before any other page opens; a new password
//! ends every other session of the member. A TOTP secret is sealed by the vault, shown once as a
//! QR code and a key, and kept aside until a code from the app proves it was taken: enrolling
//! never weakens the account. Replacing or removing a second factor in force takes the password
//! and a current code. Every code is used up when accepted.

use super::super::{
    auth::{self, Staff},
    i18n::Lang,
    layout::{csrf_field, svg, Notice},
};
use super::{audit, check_form, internal_error, problem, respond};
use crate::app::passwords::Busy;
use crate::domain::AuditAction;
use crate::{domain::Role, state::AppState};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/account";

/// The fields that prove it is the member: the password, and a current code when two-step
/// sign-in is on.
fn proof_fields(staff: &Staff, prefix: &str) -> Markup {
    let t = |key: &str| staff.lang.t(key);
    html! {
        label for=(format!("{prefix}-password")) { (t("account.current_password")) }
        input id=(format!("{prefix}-password")) type="password" name="current" autocomplete="current-password" required;
        label for=(format!("{prefix}-code")) { (t("login.code")) }
        input id=(format!("{prefix}-code")) type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required;
    }
}

fn password_form(staff: &Staff) -> Markup {
    let t = |key: &str| staff.lang.t(key);
    html! {
        form.form method="post" action=(auth::PASSWORD_PATH) {
            (csrf_field(staff))
            label for="current" { (t("account.current_password")) }
            input #current type="password" name="current" autocomplete="current-password" required;
            label for="new" { (t("account.new_password")) }
            input #new type="password" name="new" autocomplete="new-password" minlength="12" maxlength="1024" required;
            button.button type="submit" { (t("account.save_password")) }
        }
    }
}

fn body(staff: &Staff, enrolling: Option<Markup>) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    html! {
        section.card aria-labelledby="language" {
            h2 #language { (t("account.language")) }
            form.form.form--inline method="post" action="/console/account/language" {
                (csrf_field(staff))
                label for="locale" { (t("app.language")) }
                select #locale name="locale" {
                    @for option in Lang::ALL {
                        option value=(option.tag()) selected[option == lang] lang=(option.tag()) { (option.name()) }
                    }
                }
                button.button type="submit" { (t("account.save_language")) }
            }
        }
        section.card aria-labelledby="password" {
            h2 #password { (t("account.password")) }
            (password_form(staff))
        }
        section.card aria-labelledby="totp" {
            h2 #totp { (t("account.totp")) }
            @if let Some(enrolling) = enrolling {
                (enrolling)
            } @else if staff.record.totp_enabled != 0 {
                p data-testid="totp-state" { (t("account.totp_on")) }
                p { (t("account.totp_proof")) }
                form.form method="post" action="/console/account/totp/start" {
                    (csrf_field(staff))
                    (proof_fields(staff, "replace"))
                    button.button.button--quiet type="submit" { (t("account.totp_replace")) }
                }
                form.form method="post" action="/console/account/totp/disable" {
                    (csrf_field(staff))
                    (proof_fields(staff, "remove"))
                    button.button.button--quiet type="submit" { (t("account.totp_disable")) }
                }
            } @else {
                p data-testid="totp-state" { (t("account.totp_off")) }
                form method="post" action="/console/account/totp/start" {
                    (csrf_field(staff))
                    button.button type="submit" { (t("account.totp_start")) }
                }
            }
        }
    }
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    respond(&state, &staff, PATH, &staff.lang.t("account.title"), None, body(&staff, None))
}

/// The password alone: where a member with a one-time password is sent until they replace it.
pub async fn show_password(State(state): State<AppState>, staff: Staff) -> Response {
    password_page(&state, &staff, None)
}

fn password_page(state: &AppState, staff: &Staff, notice: Option<Notice>) -> Response {
    let t = |key: &str| staff.lang.t(key);
    let body = html! {
        @if staff.record.password_must_change != 0 {
            p data-testid="password-must-change" { (t("account.password_first")) }
        }
        section.card { (password_form(staff)) }
    };
    respond(state, staff, auth::PASSWORD_PATH, &t("account.password"), notice, body)
}

/// The console is hashing as many passwords as it may: try again shortly.
fn busy(state: &AppState, staff: &Staff) -> Response {
    let mut response = problem(state, Some(staff), staff.lang, StatusCode::SERVICE_UNAVAILABLE, "login.busy");
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        crate::app::passwords::BUSY_RETRY_AFTER.as_secs().to_string().parse().expect("digits"),
    );
    response
}

/// Whether `password` (and, with two-step sign-in on, `code`, used up here) prove it is the
/// member.
async fn proves_identity(
    state: &AppState,
    staff: &Staff,
    password: &str,
    code: &str,
) -> Result<bool, Response> {
    let password_ok = match state.passwords.verify(password, Some(&staff.record.password_hash)).await {
        Ok(ok) => ok,
        Err(Busy) => return Err(busy(state, staff)),
    };
    if !password_ok {
        return Ok(false);
    }
    if staff.record.totp_enabled == 0 {
        return Ok(true);
    }
    let secret = staff
        .record
        .totp_secret
        .as_deref()
        .and_then(|sealed| state.vault.open_sealed(&auth::totp_purpose(&staff.record.id), sealed).ok());
    match secret.and_then(|secret| auth::totp_step_at(&secret, &staff.record.email, code, state.now())) {
        Some(step) => state
            .db
            .use_totp_step(&staff.record.id, step)
            .await
            .map_err(|error| internal_error(staff.lang, error)),
        None => Ok(false),
    }
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    csrf: String,
    locale: String,
}

pub async fn set_language(
    State(state): State<AppState>,
    mut staff: Staff,
    headers: HeaderMap,
    Form(form): Form<LanguageForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let Some(lang) = Lang::parse(&form.locale) else { return super::bad_form(&state, &staff) };
    if let Err(error) = state.db.set_staff_locale(&staff.record.id, lang.tag(), state.now()).await {
        return internal_error(staff.lang, error);
    }
    staff.lang = lang;
    staff.record.locale = lang.tag().to_owned();
    respond(
        &state,
        &staff,
        PATH,
        &lang.t("account.title"),
        Some(Notice::Done(lang.t("account.language_saved"))),
        body(&staff, None),
    )
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
}

/// A new password: the current one proves it is the member; every other session ends; a
/// one-time password is replaced for good.
pub async fn set_password(
    State(state): State<AppState>,
    mut staff: Staff,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let refuse = |staff: &Staff, key: &str| password_page(&state, staff, Some(Notice::Problem(lang.t(key))));
    match state.passwords.verify(&form.current, Some(&staff.record.password_hash)).await {
        Ok(true) => {}
        Ok(false) => return refuse(&staff, "account.password_wrong"),
        Err(Busy) => return busy(&state, &staff),
    }
    if !auth::password_is_acceptable(&form.new) {
        return refuse(&staff, "account.password_weak");
    }
    if form.new == form.current {
        return refuse(&staff, "account.password_same");
    }
    let hash = match state.passwords.hash(&form.new).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return internal_error(lang, error),
        Err(Busy) => return busy(&state, &staff),
    };
    if let Err(error) = state.db.set_staff_password(&staff.record.id, &hash, &staff.token, state.now()).await
    {
        return internal_error(lang, error);
    }
    if let Err(answer) =
        audit(&state, &staff, AuditAction::StaffPasswordChange, &staff.record.id, serde_json::json!({})).await
    {
        return answer;
    }
    if staff.record.password_must_change != 0 {
        return Redirect::to("/console").into_response();
    }
    staff.record.password_hash = hash;
    respond(
        &state,
        &staff,
        PATH,
        &lang.t("account.title"),
        Some(Notice::Done(lang.t("account.password_saved"))),
        body(&staff, None),
    )
}

#[derive(Debug, Deserialize)]
pub struct ProofForm {
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    code: String,
}

/// Starts enrolling a TOTP secret: a new one, sealed and kept aside (the factor in force, if
/// any, stays until a code proves the new one), shown this once. Replacing a factor in force
/// takes the password and a current code.
pub async fn start_totp(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<ProofForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    if staff.record.totp_enabled != 0 {
        match proves_identity(&state, &staff, &form.current, &form.code).await {
            Ok(true) => {}
            Ok(false) => {
                let notice = Notice::Problem(t("account.totp_proof_wrong"));
                return respond(&state, &staff, PATH, &t("account.title"), Some(notice), body(&staff, None));
            }
            Err(answer) => return answer,
        }
    }
    let (secret, encoded) = auth::new_totp_secret();
    let sealed = state.vault.seal(&auth::totp_purpose(&staff.record.id), &secret);
    if let Err(error) = state.db.set_staff_totp_pending(&staff.record.id, &sealed, state.now()).await {
        return internal_error(lang, error);
    }
    let uri = match auth::totp(&secret, &staff.record.email) {
        Ok(totp) => totp.get_url(),
        Err(error) => return internal_error(lang, error),
    };
    let qr = qr_svg(&uri, &t("account.totp_qr"));
    let enrolling = html! {
        p { (t("account.totp_scan")) }
        (svg(qr))
        p { (t("account.totp_key")) ": " code data-testid="totp-key" { (encoded) } }
        form.form method="post" action="/console/account/totp/confirm" {
            (csrf_field(&staff))
            label for="totp-code" { (t("login.code")) }
            input #totp-code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required;
            button.button type="submit" { (t("account.totp_confirm")) }
        }
    };
    respond(&state, &staff, PATH, &t("account.title"), None, body(&staff, Some(enrolling)))
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// Puts the secret being enrolled in force once a code from the app matches it.
pub async fn confirm_totp(
    State(state): State<AppState>,
    mut staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let title = lang.t("account.title");
    let wrong = |staff: &Staff| {
        respond(
            &state,
            staff,
            PATH,
            &title,
            Some(Notice::Problem(lang.t("account.totp_wrong"))),
            body(staff, None),
        )
    };
    let Some(pending) = staff.record.totp_pending.clone() else { return wrong(&staff) };
    let step = state
        .vault
        .open_sealed(&auth::totp_purpose(&staff.record.id), &pending)
        .ok()
        .and_then(|secret| auth::totp_step_at(&secret, &staff.record.email, &form.code, state.now()));
    let Some(step) = step else { return wrong(&staff) };
    match state.db.confirm_staff_totp(&staff.record.id, &pending, step, state.now()).await {
        Ok(true) => {}
        Ok(false) => return wrong(&staff),
        Err(error) => return internal_error(lang, error),
    }
    let action = if staff.record.totp_enabled != 0 {
        AuditAction::StaffTotpReplace
    } else {
        AuditAction::StaffTotpEnable
    };
    if let Err(answer) = audit(&state, &staff, action, &staff.record.id, serde_json::json!({})).await {
        return answer;
    }
    staff.record.totp_enabled = 1;
    respond(
        &state,
        &staff,
        PATH,
        &title,
        Some(Notice::Done(lang.t("account.totp_enabled"))),
        body(&staff, None),
    )
}

/// Removes the second factor: the password and a current code prove it is the member.
pub async fn disable_totp(
    State(state): State<AppState>,
    mut staff: Staff,
    headers: HeaderMap,
    Form(form): Form<ProofForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let title = lang.t("account.title");
    match proves_identity(&state, &staff, &form.current, &form.code).await {
        Ok(true) => {}
        Ok(false) => {
            let notice = Notice::Problem(lang.t("account.totp_proof_wrong"));
            return respond(&state, &staff, PATH, &title, Some(notice), body(&staff, None));
        }
        Err(answer) => return answer,
    }
    if let Err(error) = state.db.remove_staff_totp(&staff.record.id, state.now()).await {
        return internal_error(lang, error);
    }
    if let Err(answer) =
        audit(&state, &staff, AuditAction::StaffTotpDisable, &staff.record.id, serde_json::json!({})).await
    {
        return answer;
    }
    staff.record.totp_enabled = 0;
    respond(
        &state,
        &staff,
        PATH,
        &title,
        Some(Notice::Done(lang.t("account.totp_disabled"))),
        body(&staff, None),
    )
}

/// A QR code as an SVG image with a text label, dark on white with its quiet zone.
pub fn qr_svg(text: &str, label: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let image =
                code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
            let body = image.split_once("?>").map_or(image.as_str(), |(_, rest)| rest).trim();
            let label = maud::html! { (label) }.into_string();
            body.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"qr\" "), 1)
        }
        Err(_) => String::new(),
    }
}

/// `/console/account` after a redirect.
pub fn back() -> Response {
    Redirect::to(PATH).into_response()
}
