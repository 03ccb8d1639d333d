//! The merchant's console at `/console`: where staff who are not engineers set up the wallets, go
//! live, and do the daily work (takings, refunds, reports, keys, webhooks, the audit log).
//! Every person signs in with an account of their own (`auth`); pages are server-rendered with
//! maud under the strict Content-Security-Policy, in English or Simplified Chinese (`i18n`), and
//! every change needs the role it is for and the session's CSRF token.

pub mod alerts;
pub mod auth;
pub mod business;
pub mod credentials;
pub mod i18n;
pub mod layout;
pub mod pages;

use crate::{
    domain::{new_id, now_millis},
    routes::AppState,
    store::{NewStaff, Store},
};
use axum::{
    response::Redirect,
    routing::{get, post},
    Router,
};
use std::sync::LazyLock;

/// A hash to verify against when the e-mail address is unknown, so that a wrong address costs
/// the same time as a wrong password.
pub static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| auth::hash_password("not the password of anyone").unwrap_or_default());

/// The console's routes.
pub fn router() -> Router<AppState> {
    use pages::{
        account, alerts, audit, backups, business, golive, keys, login, orders, overview, setup, staff,
        testpay, webhooks,
    };
    Router::new()
        .route("/console", get(overview::show))
        .route("/console/login", get(login::show).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/account", get(account::show))
        .route("/console/account/language", post(account::set_language))
        .route("/console/account/password", post(account::set_password))
        .route("/console/account/totp/start", post(account::start_totp))
        .route("/console/account/totp/confirm", post(account::confirm_totp))
        .route("/console/account/totp/disable", post(account::disable_totp))
        .route("/console/staff", get(staff::show).post(staff::add))
        .route("/console/staff/update", post(staff::update))
        .route("/console/setup", get(setup::resume))
        .route("/console/setup/providers", get(setup::providers::show).post(setup::providers::save_terms))
        .route("/console/setup/register", get(setup::register::show))
        .route("/console/setup/keys", get(setup::keys::show).post(setup::keys::save))
        .route("/console/setup/keys/remove", post(setup::keys::remove))
        .route("/console/setup/integrate", get(setup::integrate::show))
        .route("/console/orders", get(orders::list))
        .route("/console/orders.csv", get(orders::csv))
        .route("/console/orders/{id}", get(orders::show))
        .route("/console/orders/{id}/refund", post(orders::review_refund))
        .route("/console/orders/{id}/refund/confirm", post(orders::confirm_refund))
        .route("/console/keys", get(keys::show).post(keys::create))
        .route("/console/keys/{id}/revoke", post(keys::revoke))
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
}

/// Makes a staff member with a one-time password (the command line's `staff create`); answers
/// the password, or why not.
pub async fn create_staff(
    store: &Store,
    name: &str,
    email: &str,
    role: &str,
    created_by: &str,
) -> anyhow::Result<String> {
    let email = email.trim().to_ascii_lowercase();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || crate::domain::text::check_readable(name).is_err() {
        anyhow::bail!("--name must be 1 to 100 readable characters");
    }
    if !pages::staff::is_email(&email) {
        anyhow::bail!("--email must be an e-mail address");
    }
    crate::auth::Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("--role must be admin, operator or viewer"))?;
    let password = auth::new_one_time_password();
    let new = NewStaff {
        id: new_id("stf"),
        email: email.clone(),
        name: name.to_owned(),
        role: role.to_owned(),
        password_hash: auth::hash_password(&password)?,
        locale: "en".to_owned(),
        created_at: now_millis(),
    };
    if !store.insert_staff(&new).await? {
        anyhow::bail!("someone already has the e-mail address {email}");
    }
    store
        .audit(
            created_by,
            "command line",
            "staff.create",
            &new.id,
            &serde_json::json!({ "name": name, "email": email, "role": role }),
            now_millis(),
        )
        .await?;
    Ok(password)
}
