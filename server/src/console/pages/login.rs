//! Signing in and out. A wrong e-mail address, password or code all get the same answer, after
//! the same work; five failures in a row lock the e-mail address for 15 minutes, whether an
//! account has it or not (`domain::sign_in`, counted before the password is checked, so a burst
//! gets no more guesses than a sequence); sign-ins are also rate limited per client. Only the
//! console's own sign-in form can sign a browser in (its pre-session token).

use super::super::{
    auth,
    i18n::Lang,
    layout::{page, Frame, Notice},
};
use crate::app::passwords;
use crate::domain::AuditAction;
use crate::{
    domain::{
        sign_in::{Admission, LOCK_MS},
        ClientKey,
    },
    html,
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::html as markup;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

fn language(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::En)
}

/// The sign-in form, with the pre-session token of its cookie (the browser's own, or a new one).
fn form(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    next: &str,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let t = |key: &str| lang.t(key);
    let kept = auth::cookie(headers, auth::SIGN_IN_COOKIE).filter(|token| token.len() >= 32);
    let token = kept.clone().unwrap_or_else(auth::new_token);
    let body = markup! {
        p { (t("login.intro")) }
        form.form method="post" action="/console/login" {
            input type="hidden" name="next" value=(next);
            input type="hidden" name="sign_in_token" value=(token);
            label for="email" { (t("login.email")) }
            input #email type="email" name="email" autocomplete="username" required autofocus;
            label for="password" { (t("login.password")) }
            input #password type="password" name="password" autocomplete="current-password" required;
            label for="code" { (t("login.code")) }
            input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" aria-describedby="code-hint";
            p #code-hint .hint { (t("login.code_hint")) }
            button.button type="submit" { (t("login.submit")) }
        }
    };
    let frame = Frame { staff: None, lang, live: state.config.livemode(), path: "/console/login" };
    let mut response = html::response(status, page(&frame, &t("login.title"), notice, body));
    if kept.is_none() {
        response.headers_mut().insert(header::SET_COOKIE, auth::set_sign_in_cookie(Some(&token)));
    }
    response
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<Next>) -> Response {
    let lang = language(&headers);
    let notice = query.signed_out.is_some().then(|| Notice::Done(lang.t("login.signed_out")));
    form(&state, &headers, lang, auth::console_path(query.next.as_deref()), notice, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    sign_in_token: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Response {
    let lang = language(&headers);
    let next = auth::console_path(credentials.next.as_deref());
    let refuse = |status: StatusCode, key: &str, args: &[(&str, &str)]| {
        form(&state, &headers, lang, next, Some(Notice::Problem(lang.tf(key, args))), status)
    };
    let locked =
        || refuse(StatusCode::UNAUTHORIZED, "login.locked", &[("minutes", &(LOCK_MS / 60_000).to_string())]);
    if !auth::sign_in_is_genuine(&headers, &credentials.sign_in_token, &state) {
        return refuse(StatusCode::FORBIDDEN, "login.expired", &[]);
    }
    let client = ClientKey::of(state.client_address(&headers, peer));
    if state.login_limiter.check(client, state.now()).is_err() {
        tracing::warn!(client = %state.pseudonyms.client(client), "console sign-ins rate limited");
        return locked();
    }
    let busy = || {
        let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, "login.busy", &[]);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            passwords::BUSY_RETRY_AFTER.as_secs().to_string().parse().expect("digits"),
        );
        response
    };
    // A place to check the password first: a flood waits here, or is told to come back, before
    // it counts against anyone's account.
    let Ok(slot) = state.passwords.slot() else { return busy() };
    let email = credentials.email.trim().to_lowercase();
    let subject = state.pseudonyms.email(&email);
    let now = state.now();
    let attempt = match state.db.admit_sign_in(&subject, now).await {
        Ok(Admission::Check { attempt }) => attempt,
        Ok(Admission::Locked) => return locked(),
        Err(error) => return super::internal_error(lang, error),
    };
    let member = match state.db.staff_by_email(&email).await {
        Ok(member) => member.filter(|m| m.disabled_at.is_none()),
        Err(error) => return super::internal_error(lang, error),
    };
    let Ok(password_ok) =
        slot.verify(&credentials.password, member.as_ref().map(|m| m.password_hash.as_str())).await
    else {
        return busy();
    };
    let member = match member.filter(|_| password_ok) {
        Some(member) => match second_factor(&state, &member, &credentials.code).await {
            Ok(true) => Some(member),
            Ok(false) => None,
            Err(error) => return super::internal_error(lang, error),
        },
        None => None,
    };
    let Some(member) = member else {
        let locked_now = match state.db.sign_in_failed(&subject, attempt, state.now()).await {
            Ok(locked_now) => locked_now,
            Err(error) => return super::internal_error(lang, error),
        };
        tracing::warn!(email = %subject, attempt, "failed console sign-in");
        if !locked_now {
            return refuse(StatusCode::UNAUTHORIZED, "login.failed", &[]);
        }
        if let Ok(Some(member)) = state.db.staff_by_email(&email).await {
            let _ = state
                .db
                .audit(
                    &member.id,
                    &member.name,
                    AuditAction::StaffLocked,
                    &member.id,
                    &serde_json::json!({ "failures": attempt }),
                    now,
                )
                .await;
        }
        return locked();
    };
    if let Err(error) = state.db.sign_in_succeeded(&subject).await {
        return super::internal_error(lang, error);
    }
    let token = auth::new_token();
    let csrf = auth::new_token();
    if let Err(error) =
        state.db.insert_staff_session(&token, &member.id, &csrf, now, now + auth::LIFETIME_MS).await
    {
        return super::internal_error(lang, error);
    }
    if let Err(error) = state.db.note_login(&member.id, now).await {
        return super::internal_error(lang, error);
    }
    let _ = state
        .db
        .audit(
            &member.id,
            &member.name,
            AuditAction::StaffSignIn,
            &member.id,
            &serde_json::json!({ "second_factor": member.totp_enabled != 0 }),
            now,
        )
        .await;
    tracing::info!(staff_id = %member.id, "console sign-in");
    let to = if member.password_must_change != 0 { auth::PASSWORD_PATH } else { next };
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(header::SET_COOKIE, auth::set_cookie(Some(&token)));
    response.headers_mut().append(header::SET_COOKIE, auth::set_sign_in_cookie(None));
    response
}

/// Whether the member's second factor is satisfied: off, or a code of a step not used before
/// (the step is used up here, atomically, so the same code never signs in twice).
async fn second_factor(
    state: &AppState,
    member: &crate::db::StaffRecord,
    code: &str,
) -> Result<bool, crate::db::DbError> {
    if member.totp_enabled == 0 {
        return Ok(true);
    }
    let secret = member
        .totp_secret
        .as_deref()
        .and_then(|sealed| state.vault.open_sealed(&auth::totp_purpose(&member.id), sealed).ok());
    match secret.and_then(|secret| auth::totp_step_at(&secret, &member.email, code, state.now())) {
        Some(step) => state.db.use_totp_step(&member.id, step).await,
        None => Ok(false),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOut {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    staff: auth::Staff,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Response {
    if !auth::form_is_genuine(&staff, &headers, &form.csrf, &state) {
        return super::bad_form(&state, &staff);
    }
    if let Err(error) = state.db.delete_staff_session(&staff.token).await {
        return super::internal_error(staff.lang, error);
    }
    let _ = state
        .db
        .audit(
            &staff.record.id,
            &staff.record.name,
            AuditAction::StaffSignOut,
            &staff.record.id,
            &serde_json::json!({}),
            state.now(),
        )
        .await;
    let mut response = Redirect::to("/console/login?signed_out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::set_cookie(None));
    response
}
