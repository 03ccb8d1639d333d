//! A staff member's own account: the console's language, the password, and two-step sign-in
//! (TOTP: the secret is sealed by the vault, shown once as a QR code and a key, and turned on
//! only once a code from the app proves it was taken).

use super::super::{
    auth::{self, Staff},
    i18n::Lang,
    layout::{csrf_field, svg, Notice},
};
use super::{audit, check_form, internal_error, respond};
use crate::{auth::Role, domain::now_millis, routes::AppState};
use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/account";

fn totp_purpose(staff_id: &str) -> String {
    format!("staff:{staff_id}:totp")
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
            form.form method="post" action="/console/account/password" {
                (csrf_field(staff))
                label for="current" { (t("account.current_password")) }
                input #current type="password" name="current" autocomplete="current-password" required;
                label for="new" { (t("account.new_password")) }
                input #new type="password" name="new" autocomplete="new-password" minlength="12" maxlength="1024" required;
                button.button type="submit" { (t("account.save_password")) }
            }
        }
        section.card aria-labelledby="totp" {
            h2 #totp { (t("account.totp")) }
            @if staff.record.totp_enabled != 0 {
                p data-testid="totp-state" { (t("account.totp_on")) }
                form.form method="post" action="/console/account/totp/disable" {
                    (csrf_field(staff))
                    label for="totp-password" { (t("account.current_password")) }
                    input #totp-password type="password" name="current" autocomplete="current-password" required;
                    button.button.button--quiet type="submit" { (t("account.totp_disable")) }
                }
            } @else if let Some(enrolling) = enrolling {
                (enrolling)
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
    if let Err(error) = state.store.set_staff_locale(&staff.record.id, lang.tag(), now_millis()).await {
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

pub async fn set_password(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let title = lang.t("account.title");
    if !auth::verify_password(&form.current, &staff.record.password_hash) {
        return respond(
            &state,
            &staff,
            PATH,
            &title,
            Some(Notice::Problem(lang.t("account.password_wrong"))),
            body(&staff, None),
        );
    }
    if !auth::password_is_acceptable(&form.new) {
        return respond(
            &state,
            &staff,
            PATH,
            &title,
            Some(Notice::Problem(lang.t("account.password_weak"))),
            body(&staff, None),
        );
    }
    let hash = match auth::hash_password(&form.new) {
        Ok(hash) => hash,
        Err(error) => return internal_error(lang, error),
    };
    if let Err(error) = state.store.set_staff_password(&staff.record.id, &hash, now_millis()).await {
        return internal_error(lang, error);
    }
    if let Err(answer) =
        audit(&state, &staff, "staff.password_change", &staff.record.id, serde_json::json!({})).await
    {
        return answer;
    }
    respond(
        &state,
        &staff,
        PATH,
        &title,
        Some(Notice::Done(lang.t("account.password_saved"))),
        body(&staff, None),
    )
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// Starts two-step sign-in: a new secret, sealed and kept (not yet required), shown this once.
pub async fn start_totp(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let (secret, encoded) = auth::new_totp_secret();
    let sealed = state.vault.seal(&totp_purpose(&staff.record.id), &secret);
    if let Err(error) = state.store.set_staff_totp(&staff.record.id, Some(&sealed), false, now_millis()).await
    {
        return internal_error(lang, error);
    }
    let uri = match auth::totp(&secret, &staff.record.email) {
        Ok(totp) => totp.get_url(),
        Err(error) => return internal_error(lang, error),
    };
    let qr = qr_svg(&uri, &lang.t("account.totp_qr"));
    let t = |key: &str| lang.t(key);
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

/// Turns two-step sign-in on once a code from the app matches the pending secret.
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
    let secret = staff
        .record
        .totp_secret
        .as_deref()
        .and_then(|sealed| state.vault.open_sealed(&totp_purpose(&staff.record.id), sealed).ok());
    let Some(secret) = secret.filter(|secret| auth::totp_accepts(secret, &staff.record.email, &form.code))
    else {
        return respond(
            &state,
            &staff,
            PATH,
            &title,
            Some(Notice::Problem(lang.t("account.totp_wrong"))),
            body(&staff, None),
        );
    };
    let sealed = state.vault.seal(&totp_purpose(&staff.record.id), &secret);
    if let Err(error) = state.store.set_staff_totp(&staff.record.id, Some(&sealed), true, now_millis()).await
    {
        return internal_error(lang, error);
    }
    if let Err(answer) =
        audit(&state, &staff, "staff.totp_enable", &staff.record.id, serde_json::json!({})).await
    {
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

#[derive(Debug, Deserialize)]
pub struct DisableForm {
    csrf: String,
    current: String,
}

pub async fn disable_totp(
    State(state): State<AppState>,
    mut staff: Staff,
    headers: HeaderMap,
    Form(form): Form<DisableForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Viewer) {
        return answer;
    }
    let lang = staff.lang;
    let title = lang.t("account.title");
    if !auth::verify_password(&form.current, &staff.record.password_hash) {
        return respond(
            &state,
            &staff,
            PATH,
            &title,
            Some(Notice::Problem(lang.t("account.password_wrong"))),
            body(&staff, None),
        );
    }
    if let Err(error) = state.store.set_staff_totp(&staff.record.id, None, false, now_millis()).await {
        return internal_error(lang, error);
    }
    if let Err(answer) =
        audit(&state, &staff, "staff.totp_disable", &staff.record.id, serde_json::json!({})).await
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
