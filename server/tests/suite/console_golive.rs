//! The go-live step over real HTTP: the checklist is computed from facts (each item failing on a
//! fresh test server, each passing once the fact holds), the switch refuses while anything fails,
//! only an admin with the form's token may use it, and once switched the server starts in live
//! mode at its next start, whatever the configuration file says about the sandbox.

use crate::helpers::make_key;
use crate::helpers::{eventually_within, spawn_on, spawn_with, ConsoleUser, TestApp};
use axum::{routing::post, Router};
use std::time::Duration;
use wallet_checkout_mocks::paypal::PayPalMock;
use wallet_checkout_server::{config::Config, db::Db, domain::Role};

/// A webhook receiver on loopback that answers every delivery with `status`.
async fn receiver(status: u16) -> String {
    let code = axum::http::StatusCode::from_u16(status).unwrap();
    let app = Router::new().route("/hooks", post(move || async move { code }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn subscribe(app: &TestApp, store: &Db, url: &str) {
    let (_, admin) = make_key(store, "hooks admin", Role::Admin, false, "test").await.unwrap();
    let answer = app
        .client
        .put(app.url("/api/v1/webhook-endpoint"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// A sandbox payment, so that the server has an event to deliver; waits until its delivery was
/// tried.
/// `origin`: the store's origin, where the shopper returns to.
async fn a_delivery(app: &TestApp, store: &Db, origin: &str) {
    let (_, operator) = make_key(store, "shop backend", Role::Operator, false, "test").await.unwrap();
    let order = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&operator)
        .json(&serde_json::json!({ "amount": { "minor_units": 6800, "currency": "CNY" }, "description": "Tea" }))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), 201);
    let order: serde_json::Value = order.json().await.unwrap();
    let order = order["id"].as_str().unwrap();
    let body = serde_json::json!({
        "order_id": order,
        "wallet_id": "wechat_pay",
        "return_url": format!("{origin}/store/orders/{order}"),
        "device": "desktop",
    });
    let session = app.create_session(&format!("key-{order}"), &body).await;
    assert_eq!(session.status(), 201);
    let session: serde_json::Value = session.json().await.unwrap();
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;
    eventually_within("a delivery to be tried", Duration::from_secs(20), async || {
        store.last_attempted_event().await.unwrap().is_some()
    })
    .await;
}

/// Stops `app` and starts a server on its database and data directory.
async fn restart(mut app: TestApp, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = app.db.take().expect("a test database");
    drop(app);
    let mut again = spawn_on(&db, adjust).await;
    again.db = Some(db);
    again
}

async fn golive_page(app: &TestApp, user: &ConsoleUser) -> String {
    let response = app.console_get(user, "/console/setup/golive").send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Whether the checklist's item `name` passed: `yes`, `no` or `unseen`.
fn item(html: &str, name: &str) -> String {
    let marker = format!("data-testid=\"golive-{name}\" data-passed=\"");
    html.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the checklist has the item {name}"))
        .to_owned()
}

fn enter_paypal<'a>(mock: &'a PayPalMock, environment: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("provider", "paypal"),
        ("environment", environment),
        ("base_url", mock.base()),
        ("client_id", mock.client_id()),
        ("client_secret", mock.client_secret()),
        ("webhook_id", mock.webhook_id()),
    ]
}

#[tokio::test]
async fn on_a_fresh_test_server_every_item_fails_and_the_switch_refuses() {
    let app = spawn_with(|config| config.webhook_max_attempts = 1).await;
    let admin = app.console_user("admin").await;
    let store = app.store().await;
    subscribe(&app, &store, &receiver(500).await).await;
    a_delivery(&app, &store, &app.base).await;
    let html = golive_page(&app, &admin).await;
    for name in ["https", "providers", "webhook", "demo"] {
        assert_eq!(item(&html, name), "no", "{name} fails on a fresh test server");
    }
    let postgres = store.backend() == wallet_checkout_server::db::Backend::Postgres;
    assert_eq!(item(&html, "backup"), if postgres { "unseen" } else { "no" });
    assert!(html.contains("No public address is set"));
    assert!(html.contains("No wallet provider is set up"));
    assert!(html.contains("has not been delivered"), "the failed delivery is named");
    assert!(postgres || html.contains("No backup has been taken"));
    assert!(html.contains("The demo store is on"));
    assert!(html.contains("disabled"), "the switch is disabled");

    let refused =
        app.console_post(&admin, "/console/setup/golive", &[("mode", "live")]).send().await.unwrap();
    assert_eq!(refused.status(), 200);
    assert!(refused.text().await.unwrap().contains("Not every item is ready, so nothing was changed."));
    assert_eq!(store.console_setting("server.mode").await.unwrap(), None, "nothing was switched");
}

#[tokio::test]
async fn only_an_admin_with_the_forms_token_may_see_or_use_the_switch() {
    let app = spawn_with(|_| {}).await;
    for role in ["viewer", "operator"] {
        let user = app.console_user(role).await;
        let page = app.console_get(&user, "/console/setup/golive").send().await.unwrap();
        assert_eq!(page.status(), 403, "{role} may not open the page");
        let post =
            app.console_post(&user, "/console/setup/golive", &[("mode", "test")]).send().await.unwrap();
        assert_eq!(post.status(), 403, "{role} may not switch");
    }
    let admin = app.console_user("admin").await;
    let forged = app
        .client
        .post(app.url("/console/setup/golive"))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", "forged"), ("mode", "test")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let store = app.store().await;
    assert_eq!(store.console_setting("server.mode").await.unwrap(), None);
}

/// Every fact made to hold, one after the other, each turning its item to passed; then the
/// switch, and a restart in live mode although the configuration still says `sandbox = true`.
#[tokio::test]
async fn once_every_fact_holds_the_switch_turns_live_mode_on_at_the_next_start() {
    let mock = PayPalMock::start().await.unwrap();
    let adjust = |config: &mut Config| {
        config.public_url = Some("https://pay.shop.example".parse().unwrap());
        config.demo_store = false;
    };
    let app = spawn_with(adjust).await;
    let store = app.store().await;
    let admin = app.console_user("admin").await;
    let html = golive_page(&app, &admin).await;
    assert_eq!(item(&html, "https"), "yes");
    assert_eq!(item(&html, "demo"), "yes");
    assert_eq!(item(&html, "sandbox"), "yes");
    assert_eq!(item(&html, "providers"), "no");

    // A provider in test mode (its own sandbox) is not ready for live payments.
    let keys = app.console_post(&admin, "/console/setup/keys", &enter_paypal(&mock, "sandbox")).send().await;
    assert_eq!(keys.unwrap().status(), 200);
    let html = golive_page(&app, &admin).await;
    assert_eq!(item(&html, "providers"), "no");
    assert!(html.contains("in test mode"));
    // Its live keys, checked with one authenticated call (a token from PayPal, here the mock).
    let keys = app.console_post(&admin, "/console/setup/keys", &enter_paypal(&mock, "live")).send().await;
    assert_eq!(keys.unwrap().status(), 200);
    let html = golive_page(&app, &admin).await;
    assert_eq!(item(&html, "providers"), "no", "PayPal's webhook does not point at this server yet");
    assert!(html.contains("not to https://pay.shop.example/api/providers/paypal/notify"));
    mock.set_webhook("https://pay.shop.example/api/providers/paypal/notify");
    let html = golive_page(&app, &admin).await;
    assert_eq!(item(&html, "providers"), "yes", "{html}");
    for secret in [mock.client_secret(), mock.client_id()] {
        assert!(!html.contains(secret), "the checklist shows no key");
    }

    assert_eq!(item(&html, "webhook"), "no");
    subscribe(&app, &store, &receiver(200).await).await;
    a_delivery(&app, &store, "https://pay.shop.example").await;
    eventually_within("the delivery to be answered", Duration::from_secs(20), async || {
        item(&golive_page(&app, &admin).await, "webhook") == "yes"
    })
    .await;

    let html = golive_page(&app, &admin).await;
    let backup_item = item(&html, "backup");
    if store.backend() == wallet_checkout_server::db::Backend::Postgres {
        assert_eq!(backup_item, "unseen", "pg_dump's backups are not seen by the server");
    } else {
        assert_eq!(backup_item, "no");
        let taken = app.console_post(&admin, "/console/backups", &[]).send().await.unwrap();
        assert_eq!(taken.status(), 200);
        assert_eq!(item(&golive_page(&app, &admin).await, "backup"), "yes");
    }

    let html = golive_page(&app, &admin).await;
    assert!(!html.contains("disabled aria-describedby=\"not-ready\""), "the switch is enabled");
    let switched =
        app.console_post(&admin, "/console/setup/golive", &[("mode", "live")]).send().await.unwrap();
    assert_eq!(switched.status(), 200);
    let html = switched.text().await.unwrap();
    assert!(html.contains("Live mode is switched on. Restart the server"));
    assert!(html.contains("starts when the server restarts"));
    assert_eq!(store.console_setting("server.mode").await.unwrap().as_deref(), Some("live"));
    let audit = store.audit_log(5).await.unwrap();
    let entry = audit.iter().find(|entry| entry.action == "golive.switch").expect("the switch is audited");
    assert_eq!(entry.actor_name, "admin person");

    // The next start: live mode, although the configuration still has the sandbox on.
    let app = restart(app, adjust).await;
    let admin = app.console_user("admin").await;
    let overview = app.console_get(&admin, "/console").send().await.unwrap().text().await.unwrap();
    assert!(overview.contains("mode--live"), "the console says live");
    let html = golive_page(&app, &admin).await;
    assert!(html.contains("The server is in live mode."));
    let sandbox = app.client.post(app.url("/sandbox/pay/ses_1/approve")).send().await.unwrap();
    assert_eq!(sandbox.status(), 404, "no sandbox in live mode");

    // And back to test mode, at the start after.
    let back = app.console_post(&admin, "/console/setup/golive", &[("mode", "test")]).send().await.unwrap();
    assert!(back.text().await.unwrap().contains("Test mode is chosen."));
    let app = restart(app, adjust).await;
    let admin = app.console_user("admin").await;
    assert!(golive_page(&app, &admin).await.contains("The server is in test mode."));
}
