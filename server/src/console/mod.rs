//! The merchant's console at `/console`: where staff who are not engineers set up the wallets, go
//! live, and do the daily work (takings, refunds, reports, keys, webhooks, the audit log).
//! Every person signs in with an account of their own (`auth`); pages are server-rendered with
//! maud under the strict Content-Security-Policy, in English or Simplified Chinese (`i18n`), and
//! every change needs the role it is for and the session's CSRF token.

pub mod auth;
pub mod i18n;
pub mod layout;
pub mod pages;

use crate::domain::AuditAction;
use crate::{
    db::{Db, NewStaff},
    domain::new_id,
    state::AppState,
};
use axum::{
    http::{header, HeaderValue},
    response::Redirect,
    routing::{get, post},
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// The console's routes.
pub fn router() -> Router<AppState> {
    use pages::{
        account, alerts, api_keys, audit, backups, business, counters, golive, login, orders, overview,
        setup, staff, testpay, webhooks,
    };
    Router::new()
        .route("/console", get(overview::show))
        .route("/console/login", get(login::show).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/account", get(account::show))
        .route("/console/account/language", post(account::set_language))
        .route(auth::PASSWORD_PATH, get(account::show_password).post(account::set_password))
        .route("/console/account/totp/start", post(account::start_totp))
        .route("/console/account/totp/confirm", post(account::confirm_totp))
        .route("/console/account/totp/disable", post(account::disable_totp))
        .route("/console/staff", get(staff::show).post(staff::add))
        .route("/console/staff/update", post(staff::update))
        .route("/console/counters", get(counters::show).post(counters::add_counter))
        .route("/console/counters/update", post(counters::update_counter))
        .route("/console/counters/retire", post(counters::retire_counter))
        .route("/console/counters/locations", post(counters::add_location))
        .route("/console/counters/locations/update", post(counters::update_location))
        .route("/console/setup", get(setup::resume))
        .route("/console/setup/providers", get(setup::providers::show).post(setup::providers::save_terms))
        .route("/console/setup/register", get(setup::register::show))
        .route("/console/setup/keys", get(setup::credentials::show).post(setup::credentials::save))
        .route("/console/setup/keys/remove", post(setup::credentials::remove))
        .route("/console/setup/integrate", get(setup::integrate::show))
        .route("/console/orders", get(orders::list))
        .route("/console/orders.csv", get(orders::csv))
        .route("/console/orders/{id}", get(orders::show))
        .route("/console/orders/{id}/refund", post(orders::review_refund))
        .route("/console/orders/{id}/refund/confirm", post(orders::confirm_refund))
        .route("/console/keys", get(api_keys::show).post(api_keys::create))
        .route("/console/keys/{id}/revoke", post(api_keys::revoke))
        .route("/console/webhooks", get(webhooks::show).post(webhooks::set_endpoint))
        .route("/console/webhooks/rotate", post(webhooks::rotate))
        .route("/console/webhooks/events/{id}/resend", post(webhooks::resend))
        .route("/console/audit", get(audit::show))
        .route("/console/business", get(business::show))
        .route("/console/alerts", get(alerts::show))
        .route("/console/alerts/acknowledge", post(alerts::acknowledge))
        .route("/console/alerts/rules", get(alerts::show_rules).post(alerts::set_rule))
        .route("/console/backups", get(backups::show).post(backups::take))
        .route("/console/setup/test", get(testpay::show).post(testpay::start))
        .route("/console/setup/test/{id}", get(testpay::result))
        .route("/console/setup/golive", get(golive::show).post(golive::switch))
        // The dashboard of earlier versions is the console's overview now.
        .route("/dashboard", get(|| async { Redirect::permanent("/console") }))
        // Every answer of the console (pages, exports, errors) is about the merchant's business
        // or a person: no cache keeps it.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// A staff member to add.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    /// The console's language for them (`en`, `zh-CN`).
    pub locale: &'a str,
}

/// Why a staff member was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddStaffError {
    #[error("the name must be 1 to 100 readable characters")]
    BadName,
    #[error("that is not an e-mail address")]
    BadEmail,
    #[error("the role must be admin, operator or viewer")]
    BadRole,
    #[error("someone already has that e-mail address")]
    Exists,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Adds a staff member with a one-time password, which they must replace at their first
/// sign-in; audited under `by` (an actor's id and name). Answers the member's id and password.
pub async fn add_staff_member(
    store: &Db,
    member: NewMember<'_>,
    by: (&str, &str),
    now: crate::domain::UnixMillis,
) -> Result<(String, String), AddStaffError> {
    let email = member.email.trim().to_ascii_lowercase();
    let name = member.name.trim();
    if name.is_empty() || name.chars().count() > 100 || crate::domain::text::check_readable(name).is_err() {
        return Err(AddStaffError::BadName);
    }
    if !pages::staff::is_email(&email) {
        return Err(AddStaffError::BadEmail);
    }
    crate::domain::Role::parse(member.role).ok_or(AddStaffError::BadRole)?;
    let password = auth::new_one_time_password();
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || crate::app::passwords::hash_password(&password))
            .await
            .map_err(anyhow::Error::from)??
    };
    let new = NewStaff {
        id: new_id("stf"),
        email: email.clone(),
        name: name.to_owned(),
        role: member.role.to_owned(),
        password_hash: hash,
        locale: member.locale.to_owned(),
        created_at: now,
        password_must_change: true,
    };
    if !store.insert_staff(&new).await.map_err(anyhow::Error::from)? {
        return Err(AddStaffError::Exists);
    }
    store
        .audit(
            by.0,
            by.1,
            AuditAction::StaffCreate,
            &new.id,
            &serde_json::json!({ "name": name, "email": email, "role": member.role }),
            now,
        )
        .await
        .map_err(anyhow::Error::from)?;
    Ok((new.id, password))
}

/// Makes a staff member with a one-time password (the command line's `staff create`); answers
/// the password, or why not in the command line's words.
pub async fn create_staff(
    store: &Db,
    name: &str,
    email: &str,
    role: &str,
    created_by: &str,
) -> anyhow::Result<String> {
    let member = NewMember { name, email, role, locale: "en" };
    let now = crate::domain::Clock::now(&crate::domain::SystemClock);
    match add_staff_member(store, member, (created_by, "command line"), now).await {
        Ok((_, password)) => Ok(password),
        Err(AddStaffError::BadName) => anyhow::bail!("--name must be 1 to 100 readable characters"),
        Err(AddStaffError::BadEmail) => anyhow::bail!("--email must be an e-mail address"),
        Err(AddStaffError::BadRole) => anyhow::bail!("--role must be admin, operator or viewer"),
        Err(AddStaffError::Exists) => {
            anyhow::bail!("someone already has the e-mail address {}", email.trim().to_ascii_lowercase())
        }
        Err(AddStaffError::Failed(error)) => Err(error),
    }
}
