//! Signing in and out. A wrong e-mail address, password or code all get the same answer; five
//! failures in a row lock the account for 15 minutes; sign-ins are also rate limited per address.

use super::super::{
    auth,
    i18n::Lang,
    layout::{page, Frame, Notice},
};
use crate::{domain::now_millis, html, routes::AppState};
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

/// Only a path of the console is a place to go back to.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/console") && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

fn form(state: &AppState, lang: Lang, next: &str, notice: Option<Notice>, status: StatusCode) -> Response {
    let t = |key: &str| lang.t(key);
    let body = markup! {
        p { (t("login.intro")) }
        form.form method="post" action="/console/login" {
            input type="hidden" name="next" value=(next);
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
    html::response(status, page(&frame, &t("login.title"), notice, body))
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<Next>) -> Response {
    let lang = language(&headers);
    let notice = query.signed_out.is_some().then(|| Notice::Done(lang.t("login.signed_out")));
    form(&state, lang, &safe_next(query.next.as_deref()), notice, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(credentials): Form<Credentials>,
) -> Response {
    let lang = language(&headers);
    let next = safe_next(credentials.next.as_deref());
    let refuse = |key: &str, args: &[(&str, &str)]| {
        form(&state, lang, &next, Some(Notice::Problem(lang.tf(key, args))), StatusCode::UNAUTHORIZED)
    };
    let client = state.client_address(&headers, peer);
    if state.login_limiter.check(client, std::time::Instant::now()).is_err() {
        tracing::warn!(%client, "console sign-ins rate limited");
        return refuse("login.locked", &[("minutes", "1")]);
    }
    let now = now_millis();
    let email = credentials.email.trim().to_ascii_lowercase();
    let member = match state.store.staff_by_email(&email).await {
        Ok(member) => member.filter(|m| m.disabled_at.is_none()),
        Err(error) => return super::internal_error(lang, error),
    };
    let Some(member) = member else {
        // The same work as for a real account, so the answer's time tells nothing.
        let _ = auth::verify_password(&credentials.password, crate::console::DUMMY_HASH.as_str());
        return refuse("login.failed", &[]);
    };
    if member.locked_until.is_some_and(|until| until > now) {
        tracing::warn!(staff_id = %member.id, "sign-in to a locked account");
        return refuse("login.locked", &[("minutes", &(auth::LOCK_MS / 60_000).to_string())]);
    }
    let password_ok = auth::verify_password(&credentials.password, &member.password_hash);
    let code_ok = member.totp_enabled == 0 || {
        let secret = member
            .totp_secret
            .as_deref()
            .and_then(|sealed| state.vault.open_sealed(&format!("staff:{}:totp", member.id), sealed).ok());
        secret.is_some_and(|secret| auth::totp_accepts(&secret, &member.email, &credentials.code))
    };
    if !(password_ok && code_ok) {
        let failures =
            match state.store.note_failed_login(&member.id, auth::LOCK_AFTER, now + auth::LOCK_MS, now).await
            {
                Ok(failures) => failures,
                Err(error) => return super::internal_error(lang, error),
            };
        tracing::warn!(staff_id = %member.id, failures, "failed console sign-in");
        if failures >= auth::LOCK_AFTER {
            let _ = state
                .store
                .audit(
                    &member.id,
                    &member.name,
                    "staff.locked",
                    &member.id,
                    &serde_json::json!({ "failures": failures }),
                    now,
                )
                .await;
            return refuse("login.locked", &[("minutes", &(auth::LOCK_MS / 60_000).to_string())]);
        }
        return refuse("login.failed", &[]);
    }
    let token = crate::domain::new_secret("", 43);
    let csrf = crate::domain::new_secret("", 32);
    if let Err(error) =
        state.store.insert_staff_session(&token, &member.id, &csrf, now, now + auth::LIFETIME_MS).await
    {
        return super::internal_error(lang, error);
    }
    if let Err(error) = state.store.note_login(&member.id, now).await {
        return super::internal_error(lang, error);
    }
    let _ = state
        .store
        .audit(
            &member.id,
            &member.name,
            "staff.sign_in",
            &member.id,
            &serde_json::json!({ "second_factor": member.totp_enabled != 0 }),
            now,
        )
        .await;
    tracing::info!(staff_id = %member.id, "console sign-in");
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::set_cookie(Some(&token)));
    response
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
    if let Err(error) = state.store.delete_staff_session(&staff.token).await {
        return super::internal_error(staff.lang, error);
    }
    let _ = state
        .store
        .audit(
            &staff.record.id,
            &staff.record.name,
            "staff.sign_out",
            &staff.record.id,
            &serde_json::json!({}),
            now_millis(),
        )
        .await;
    let mut response = Redirect::to("/console/login?signed_out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::set_cookie(None));
    response
}
