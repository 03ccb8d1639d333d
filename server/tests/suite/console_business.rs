//! The console's business part over real HTTP: the rules for unusual transactions, each
//! triggered (small thresholds set on the rules page), the alert page, acknowledging (audited,
//! by role, with the form token), and each alert received as a signed `alert.<rule>` webhook by a
//! receiver in this test.

use crate::helpers::id;
use crate::helpers::make_key;
use crate::helpers::{
    eventually, eventually_within, paypal, session_body, spawn, spawn_with, ConsoleUser, JsonAnswer, TestApp,
};
use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use serde_json::{json, Value};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use wallet_checkout_server::domain::{Clock, SystemClock};
use wallet_checkout_server::{
    app::alerts,
    domain::Role,
    webhooks::{self, SIGNATURE_HEADER},
};

/// What the webhook receiver saw: the events whose signature checked out.
#[derive(Default)]
struct Inbox {
    secret: String,
    /// Answer 500 while this is set.
    failing: bool,
    accepted: Vec<Value>,
    refused: usize,
}

type Shared = Arc<Mutex<Inbox>>;

async fn receive(State(inbox): State<Shared>, headers: HeaderMap, body: Bytes) -> axum::http::StatusCode {
    let mut inbox = inbox.lock().unwrap();
    if inbox.failing {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    }
    let body = String::from_utf8(body.to_vec()).unwrap();
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = SystemClock.now() / 1000;
    if webhooks::verify(&inbox.secret, header, &body, now).is_err() {
        inbox.refused += 1;
        return axum::http::StatusCode::BAD_REQUEST;
    }
    inbox.accepted.push(serde_json::from_str(&body).unwrap());
    axum::http::StatusCode::OK
}

/// A receiver subscribed as the app's webhook endpoint.
async fn receiver(app: &TestApp) -> Shared {
    let inbox: Shared = Arc::new(Mutex::new(Inbox::default()));
    let router = Router::new().route("/hooks", post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_, admin) = make_key(&app.store().await, "hooks", Role::Admin, false, "test").await.unwrap();
    let endpoint: Value = app
        .client
        .put(app.url("/api/v1/webhook-endpoint"))
        .bearer_auth(&admin)
        .json(&json!({ "url": url }))
        .json_answer()
        .await;
    inbox.lock().unwrap().secret = endpoint["secret"].as_str().unwrap().to_owned();
    inbox
}

/// The signed `alert.<rule>` events received so far.
fn alert_events(inbox: &Shared, rule: &str) -> Vec<Value> {
    let kind = format!("alert.{rule}");
    inbox.lock().unwrap().accepted.iter().filter(|event| event["type"] == kind).cloned().collect()
}

async fn page(app: &TestApp, member: &ConsoleUser, path: &str) -> (u16, String) {
    let response = app.console_get(member, path).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Rows of open (not acknowledged) alerts of `rule` on the alert page.
async fn open_alerts(app: &TestApp, member: &ConsoleUser, rule: &str) -> usize {
    let (status, html) = page(app, member, "/console/alerts").await;
    assert_eq!(status, 200);
    let open = html.split("data-testid=\"acknowledged\"").next().unwrap();
    open.matches(&format!("data-testid=\"alert\" data-rule=\"{rule}\"")).count()
}

/// Sets a rule's threshold and window on the rules page, as an admin.
async fn set_rule(app: &TestApp, admin: &ConsoleUser, rule: &str, threshold: &str, minutes: &str) -> String {
    let response = app
        .console_post(
            admin,
            "/console/alerts/rules",
            &[("rule", rule), ("threshold", threshold), ("window_minutes", minutes)],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Waits for an alert of `rule` that the server opens by itself (the sessions' counter, a
/// provider's failure).
async fn wait_for_alert(app: &TestApp, member: &ConsoleUser, rule: &str) {
    eventually(&format!("an alert {rule}"), async || open_alerts(app, member, rule).await >= 1).await;
}

/// A server whose evaluator runs its rules only at start: the test runs a round when it means to
/// (`TestApp::evaluate_alerts`).
async fn spawn_evaluated_by_the_test(
    adjust: impl FnOnce(&mut wallet_checkout_server::config::Config),
) -> TestApp {
    spawn_with(|config| {
        config.alert_check_ms = 3_600_000;
        adjust(config);
    })
    .await
}

/// Runs one round of the rules and expects an open alert of `rule`.
async fn alert_opens(app: &TestApp, member: &ConsoleUser, rule: &str) {
    app.evaluate_alerts().await;
    assert!(open_alerts(app, member, rule).await >= 1, "an alert {rule}");
}

/// Waits for the signed `alert.<rule>` event: up to 20 s, as a delivery that failed is sent again
/// only after its backoff (1 s, then 2 s, 4 s, 8 s in the test of failing deliveries).
async fn wait_for_event(inbox: &Shared, rule: &str) -> Value {
    let what = format!("the webhook alert.{rule}");
    eventually_within(&what, Duration::from_secs(20), async || !alert_events(inbox, rule).is_empty()).await;
    assert_eq!(inbox.lock().unwrap().refused, 0, "every delivery is signed");
    let event = alert_events(inbox, rule).remove(0);
    assert_documented(&event);
    event
}

/// The event is a `WebhookEvent` as server/openapi.json describes it.
fn assert_documented(event: &Value) {
    let doc: Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
    let mut root = doc["components"]["schemas"]["WebhookEvent"].as_object().unwrap().clone();
    root.insert("components".into(), doc["components"].clone());
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap();
    let errors: Vec<String> =
        validator.iter_errors(event).map(|e| format!("{}: {e}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:?} in {event}");
}

/// An order of `minor_units` of `currency` through the merchant API.
async fn order(app: &TestApp, key: &str, minor_units: u64, currency: &str) -> String {
    let body =
        json!({ "amount": { "minor_units": minor_units, "currency": currency }, "description": "Tea" });
    let order: Value =
        app.client.post(app.url("/api/v1/orders")).bearer_auth(key).json(&body).json_answer().await;
    order["id"].as_str().expect("an order").to_owned()
}

#[tokio::test]
async fn declined_payments_over_the_threshold_open_one_alert_sent_signed_and_acknowledged_under_a_name() {
    let app = spawn_evaluated_by_the_test(|_| {}).await;
    let inbox = receiver(&app).await;
    let admin = app.console_user("admin").await;
    let operator = app.console_user("operator").await;
    let viewer = app.console_user("viewer").await;
    assert!(set_rule(&app, &admin, "failed_payments", "2", "10").await.contains("data-testid=\"notice\""));
    assert_eq!(open_alerts(&app, &viewer, "failed_payments").await, 0);

    for _ in 0..2 {
        let session = app.new_session("wechat_pay").await;
        assert_eq!(app.sandbox(id(&session), "decline").await.status(), 200);
    }
    alert_opens(&app, &viewer, "failed_payments").await;
    let event = wait_for_event(&inbox, "failed_payments").await;
    let alert = &event["data"]["alert"];
    assert_eq!(alert["rule"], "failed_payments");
    assert_eq!(alert["subject"], "wechat_pay");
    assert_eq!(alert["threshold"], 2);
    assert_eq!(alert["window_secs"], 600);
    assert!(alert["observed"].as_i64().unwrap() >= 2, "{event}");
    assert!(alert["id"].as_str().unwrap().starts_with("alr_"));

    // While the condition holds, more declines open no second alert.
    let session = app.new_session("wechat_pay").await;
    app.sandbox(id(&session), "decline").await;
    let store = app.store().await;
    assert_eq!(alerts::evaluate(&store, SystemClock.now()).await.unwrap(), 0);
    assert_eq!(open_alerts(&app, &viewer, "failed_payments").await, 1);

    // A viewer reads it but cannot acknowledge it; a forged form changes nothing.
    let (_, html) = page(&app, &viewer, "/console/alerts").await;
    assert!(!html.contains("action=\"/console/alerts/acknowledge\""), "no acknowledge button for a viewer");
    let alert_id = alert["id"].as_str().unwrap();
    let refused =
        app.console_post(&viewer, "/console/alerts/acknowledge", &[("id", alert_id)]).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let forged = ConsoleUser { csrf: "forged".into(), ..operator.clone() };
    let refused =
        app.console_post(&forged, "/console/alerts/acknowledge", &[("id", alert_id)]).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(open_alerts(&app, &viewer, "failed_payments").await, 1);

    let done =
        app.console_post(&operator, "/console/alerts/acknowledge", &[("id", alert_id)]).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("Alert acknowledged."), "{html}");
    assert!(html.contains("operator person"), "the page says who acknowledged it");
    assert_eq!(open_alerts(&app, &viewer, "failed_payments").await, 0);
    let audit = store.audit_log(20).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "alert.acknowledge"
            && e.actor_name == "operator person"
            && e.target == alert_id),
        "{audit:?}"
    );
    // Acknowledged while the condition still holds: still no second alert.
    assert_eq!(alerts::evaluate(&store, SystemClock.now()).await.unwrap(), 0);
    assert_eq!(alert_events(&inbox, "failed_payments").len(), 1);
}

#[tokio::test]
async fn an_amount_far_outside_the_shops_usual_range_opens_an_alert() {
    let app = spawn_evaluated_by_the_test(|_| {}).await;
    let inbox = receiver(&app).await;
    let admin = app.console_user("admin").await;
    set_rule(&app, &admin, "unusual_amount", "5", "60").await;
    let (_, key) = make_key(&app.store().await, "shop", Role::Operator, false, "test").await.unwrap();
    for _ in 0..5 {
        let order = order(&app, &key, 1_000, "CNY").await;
        let session = app.session_for(&order, "wechat_pay").await;
        app.sandbox(id(&session), "approve").await;
    }
    let usual = order(&app, &key, 3_000, "CNY").await;
    app.session_for(&usual, "alipay").await;
    let unusual = order(&app, &key, 50_000, "CNY").await;
    let session = app.session_for(&unusual, "alipay").await;

    alert_opens(&app, &admin, "unusual_amount").await;
    let event = wait_for_event(&inbox, "unusual_amount").await;
    let alert = &event["data"]["alert"];
    assert_eq!(alert["session_id"], id(&session));
    assert_eq!(alert["amount"], json!({ "minor_units": 50_000, "currency": "CNY" }));
    assert_eq!(alert["observed"], 1_000, "the usual amount");
    assert_eq!(open_alerts(&app, &admin, "unusual_amount").await, 1, "only the far one");
    let (_, html) = page(&app, &admin, "/console/alerts").await;
    assert!(html.contains("CNY 500.00") && html.contains("CNY 10.00"), "{html}");
}

#[tokio::test]
async fn many_sessions_from_one_address_open_an_alert_without_keeping_the_address() {
    let app = spawn().await;
    let inbox = receiver(&app).await;
    let admin = app.console_user("admin").await;
    set_rule(&app, &admin, "client_sessions", "3", "10").await;
    for _ in 0..3 {
        app.new_session("wechat_pay").await;
    }
    wait_for_alert(&app, &admin, "client_sessions").await;
    let event = wait_for_event(&inbox, "client_sessions").await;
    let subject = event["data"]["alert"]["subject"].as_str().unwrap().to_owned();
    assert_eq!(subject.len(), 16);
    assert!(subject.chars().all(|c| c.is_ascii_hexdigit()), "a keyed hash: {subject}");
    assert!(!event.to_string().contains("127.0.0.1"));
    let (_, html) = page(&app, &admin, "/console/alerts").await;
    assert!(html.contains(&subject) && !html.contains("127.0.0.1"));
}

/// Regression: the alert hashed the full address while the rate limit counts an IPv6 network by
/// its /64 and `::ffff:` forms as IPv4: four sessions from one /64 opened no alert.
#[tokio::test]
async fn sessions_from_one_client_count_as_one_whatever_address_form_they_come_from() {
    let app = spawn_with(|config| config.trust_proxy = true).await;
    let admin = app.console_user("admin").await;
    set_rule(&app, &admin, "client_sessions", "4", "10").await;
    for (i, from) in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4"]
        .into_iter()
        .enumerate()
    {
        let order = app.new_order().await;
        let response = app
            .client
            .post(app.api("/sessions"))
            .header("Idempotency-Key", format!("v6-{i}"))
            .header("x-forwarded-for", from)
            .json(&crate::helpers::session_body(&order, "wechat_pay"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    wait_for_alert(&app, &admin, "client_sessions").await;
}

#[tokio::test]
async fn sessions_made_at_once_are_each_counted_for_their_address() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    set_rule(&app, &admin, "client_sessions", "20", "10").await;
    // Made together, they are counted in one or two batches: the alert needs every one of them.
    futures::future::join_all((0..20).map(|_| app.new_session("wechat_pay"))).await;
    wait_for_alert(&app, &admin, "client_sessions").await;
}

#[tokio::test]
async fn a_payment_after_expiry_and_a_second_payment_of_an_order_each_open_an_alert() {
    let app = spawn_evaluated_by_the_test(|_| {}).await;
    let inbox = receiver(&app).await;
    let viewer = app.console_user("viewer").await;
    let late = app.new_session("wechat_pay").await;
    app.sandbox(id(&late), "pay-after-expiry").await;
    let order = app.new_order().await;
    let first = app.session_for(&order, "wechat_pay").await;
    let second = app.session_for(&order, "alipay").await;
    app.sandbox(id(&first), "approve").await;
    app.sandbox(id(&second), "approve").await;
    // The late session expires, and the wallet pays it a second later.
    app.advance_to_late_payment(id(&late)).await;
    alert_opens(&app, &viewer, "late_payment").await;
    alert_opens(&app, &viewer, "double_payment").await;

    let event = wait_for_event(&inbox, "double_payment").await;
    assert_eq!(event["data"]["alert"]["session_id"], id(&second));
    let event = wait_for_event(&inbox, "late_payment").await;
    assert_eq!(event["data"]["alert"]["session_id"], id(&late));
    assert_eq!(event["data"]["alert"]["amount"]["currency"], "CNY");
    assert_eq!(open_alerts(&app, &viewer, "late_payment").await, 1);
    assert_eq!(open_alerts(&app, &viewer, "double_payment").await, 1);
    let (_, html) = page(&app, &viewer, "/console/alerts").await;
    assert!(html.contains(id(&late)) && html.contains(id(&second)));
}

#[tokio::test]
async fn webhook_deliveries_that_keep_failing_open_an_alert_that_ends_when_they_arrive() {
    let app = spawn_evaluated_by_the_test(|config| config.webhook_retry_base_ms = 1_000).await;
    let inbox = receiver(&app).await;
    inbox.lock().unwrap().failing = true;
    let admin = app.console_user("admin").await;
    set_rule(&app, &admin, "webhook_failures", "1", "60").await;
    app.new_session("wechat_pay").await;
    // The deliveries fail over real HTTP; each round of the rules then counts those that did.
    eventually("an alert webhook_failures", async || {
        app.evaluate_alerts().await;
        open_alerts(&app, &admin, "webhook_failures").await >= 1
    })
    .await;
    let (_, html) = page(&app, &admin, "/console/alerts").await;
    assert!(html.contains("Still happening"), "{html}");

    inbox.lock().unwrap().failing = false;
    let event = wait_for_event(&inbox, "webhook_failures").await;
    assert_eq!(event["data"]["alert"]["subject"], "endpoint");
    // Delivered at last: the condition ends, and the alert stays until acknowledged (once every
    // failed event is sent again, after its backoff: 20 s, as for the alert's event).
    eventually_within("the alert to end", Duration::from_secs(20), async || {
        app.evaluate_alerts().await;
        page(&app, &admin, "/console/alerts").await.1.contains("Over")
    })
    .await;
    assert_eq!(open_alerts(&app, &admin, "webhook_failures").await, 1);
}

#[tokio::test]
async fn a_provider_that_fails_to_start_payments_opens_an_alert() {
    let paypal = paypal::start().await;
    let app = &paypal.app;
    let admin = app.console_user("admin").await;
    set_rule(app, &admin, "provider_errors", "2", "15").await;
    let order = paypal.order(1250, "USD").await;
    paypal.mock.fail_next(Some("create_order"), 2, 500);
    for key in ["key-1", "key-2"] {
        let answer = app.create_session(key, &session_body(&order, "paypal")).await;
        assert_eq!(answer.status(), 502);
    }
    wait_for_alert(app, &admin, "provider_errors").await;
    // A live server sends webhooks over https only: the event is read from the outbox here.
    let events = app.store().await.events(None, 50).await.unwrap();
    let event = events.iter().find(|e| e.kind == "alert.provider_errors").expect("the event in the outbox");
    let event: Value = serde_json::from_str(&event.payload).unwrap();
    assert_documented(&event);
    assert_eq!(event["data"]["alert"]["subject"], "paypal");
    assert_eq!(event["data"]["alert"]["observed"], 2);
    assert_eq!(event["livemode"], true);
}

#[tokio::test]
async fn only_an_admin_changes_a_rule_bad_values_are_explained_and_kept_and_changes_are_audited() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    for role in ["viewer", "operator"] {
        let member = app.console_user(role).await;
        assert_eq!(page(&app, &member, "/console/alerts/rules").await.0, 403);
        assert_eq!(page(&app, &member, "/console/alerts").await.0, 200);
        let refused = app
            .console_post(
                &member,
                "/console/alerts/rules",
                &[("rule", "failed_payments"), ("threshold", "1"), ("window_minutes", "5")],
            )
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        let (_, html) = page(&app, &member, "/console/alerts").await;
        assert!(!html.contains("href=\"/console/alerts/rules\""));
    }
    let forged = ConsoleUser { csrf: "forged".into(), ..admin.clone() };
    let refused = app
        .console_post(
            &forged,
            "/console/alerts/rules",
            &[("rule", "failed_payments"), ("threshold", "1"), ("window_minutes", "5")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let html = set_rule(&app, &admin, "failed_payments", "zero", "5").await;
    assert!(html.contains("data-testid=\"problem\""), "{html}");
    assert!(html.contains("value=\"zero\""), "what was typed is kept");
    let html = set_rule(&app, &admin, "failed_payments", "3", "100000").await;
    assert!(html.contains("data-testid=\"problem\""));
    let (_, html) = page(&app, &admin, "/console/alerts/rules").await;
    assert!(
        html.contains("id=\"threshold-failed_payments\"") && html.contains("value=\"5\""),
        "the default still holds"
    );

    let html = set_rule(&app, &admin, "failed_payments", "7", "30").await;
    assert!(html.contains("data-testid=\"notice\""), "{html}");
    let store = app.store().await;
    let setting = alerts::settings(&store)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.spec.name == "failed_payments")
        .unwrap();
    assert_eq!((setting.threshold, setting.window_secs), (7, 1_800));
    let audit = store.audit_log(20).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "alert.rule.update").expect("audited");
    assert_eq!(entry.actor_name, "admin person");
    assert_eq!(entry.target, "failed_payments");
}

#[tokio::test]
async fn the_alert_pages_read_in_chinese() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let answer =
        app.console_post(&admin, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    assert!(answer.status().is_success() || answer.status().is_redirection());
    let (_, html) = page(&app, &admin, "/console/alerts").await;
    assert!(html.contains("异常交易"), "{html}");
    let (_, html) = page(&app, &admin, "/console/alerts/rules").await;
    assert!(html.contains("警报规则"));
}

// ---------------------------------------------------------------------------------------------
// Seeing the business.

/// A paid order of `minor_units` of `currency` with `wallet`: its id.
async fn paid(app: &TestApp, key: &str, minor_units: u64, currency: &str, wallet: &str) -> String {
    let order = order(app, key, minor_units, currency).await;
    let session = app.session_for(&order, wallet).await;
    assert_eq!(app.sandbox(id(&session), "approve").await.status(), 200);
    order
}

/// The text of the takings row of `wallet` in `currency` (today's period), cells joined by `|`.
fn takings_row(html: &str, currency: &str, wallet: &str) -> String {
    let section =
        html.split(&format!("data-currency=\"{currency}\"")).nth(1).expect("a section for the currency");
    let section = section.split("data-testid=\"currency\"").next().unwrap();
    let row = section.split(&format!("data-wallet=\"{wallet}\"")).nth(1).expect("a row for the wallet");
    cells(row.split("</tr>").next().unwrap())
}

fn cells(row: &str) -> String {
    let mut text = String::new();
    let mut inside = false;
    for c in row.chars() {
        match c {
            '<' => inside = true,
            '>' => {
                inside = false;
                text.push('|');
            }
            c if !inside => text.push(c),
            _ => {}
        }
    }
    text.split('|').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("|")
}

#[tokio::test]
async fn takings_fees_refunds_and_net_are_exact_in_every_currency_and_period() {
    let app = spawn().await;
    let store = app.store().await;
    store
        .set_provider_terms(&wallet_checkout_server::db::ProviderTerms {
            provider: "sandbox".into(),
            rate_bp: 60,
            fixed_minor: 10,
            monthly_minor: 2_000,
            withdrawal_minor: 0,
            currency: "CNY".into(),
            updated_at: wallet_checkout_server::domain::Clock::now(
                &wallet_checkout_server::domain::SystemClock,
            ),
        })
        .await
        .unwrap();
    let (_, key) = make_key(&store, "shop", Role::Operator, false, "test").await.unwrap();
    let refunded = paid(&app, &key, 1_000, "CNY", "wechat_pay").await;
    paid(&app, &key, 2_550, "CNY", "wechat_pay").await;
    paid(&app, &key, 999, "CNY", "alipay").await;
    paid(&app, &key, 1_999, "JPY", "wechat_pay").await;
    paid(&app, &key, 1_234, "KWD", "alipay").await;
    let refund: Value = app
        .client
        .post(app.url(&format!("/api/v1/orders/{refunded}/refunds")))
        .bearer_auth(&key)
        .json(&json!({ "amount": { "minor_units": 300, "currency": "CNY" }, "reason": "Chipped cup" }))
        .json_answer()
        .await;
    assert_eq!(refund["status"], "succeeded", "{refund}");

    let viewer = app.console_user("viewer").await;
    for period in ["day", "week", "month"] {
        let (status, html) = page(&app, &viewer, &format!("/console/business?period={period}")).await;
        assert_eq!(status, 200);
        assert!(
            html.contains(&format!("aria-current=\"page\" data-testid=\"period-{period}\"")),
            "{period} is marked"
        );
        // 0.6% of 35.50 is 0.213 (0.21), and 0.10 for each of 2 payments.
        assert_eq!(
            takings_row(&html, "CNY", "wechat_pay").split('|').skip(1).collect::<Vec<_>>(),
            ["wechat_pay", "2", "CNY 35.50", "CNY 0.41", "CNY 3.00", "CNY 32.09"],
            "{period}"
        );
        // 0.6% of 9.99 is 0.05994 (0.06), and 0.10.
        assert!(takings_row(&html, "CNY", "alipay").ends_with("alipay|1|CNY 9.99|CNY 0.16|CNY 0.00|CNY 9.83"));
        // No decimals: 0.6% of 1,999 is 11.994 (12); the fixed fee is in yuan, not counted.
        assert!(takings_row(&html, "JPY", "wechat_pay")
            .ends_with("wechat_pay|1|JPY 1,999|JPY 12|JPY 0|JPY 1,987"));
        // Three decimals: 0.6% of 1.234 is 0.007404 (0.007).
        assert!(
            takings_row(&html, "KWD", "alipay").ends_with("alipay|1|KWD 1.234|KWD 0.007|KWD 0.000|KWD 1.227")
        );
        let total =
            html.split("data-testid=\"takings-total\"").nth(1).unwrap().split("</tr>").next().unwrap();
        assert_eq!(
            cells(&format!("<x{total}")).split('|').collect::<Vec<_>>(),
            ["Total", "3", "CNY 45.49", "CNY 0.57", "CNY 3.00", "CNY 41.92"]
        );
        assert_eq!(html.contains("data-testid=\"monthly-fees\""), period == "month", "{period}");
        assert!(html.contains("role=\"img\""), "a chart");
    }
    let (_, month) = page(&app, &viewer, "/console/business?period=month").await;
    let fees = month.split("data-testid=\"monthly-fees\"").nth(1).unwrap();
    assert!(fees.contains("sandbox") && fees.contains("CNY 20.00"));
    // The month chart's axis names its months (this one among them), not their numbers.
    let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let this_month = names[usize::from(u8::from(time::OffsetDateTime::now_utc().month())) - 1];
    assert!(month.contains(&format!(">{this_month}</text>")), "{month}");
    app.console_post(&viewer, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    let (_, month) = page(&app, &viewer, "/console/business?period=month").await;
    let this_month = u8::from(time::OffsetDateTime::now_utc().month());
    assert!(month.contains(&format!(">{this_month}月</text>")), "the months in Chinese: {month}");
    app.console_post(&viewer, "/console/account/language", &[("locale", "en")]).send().await.unwrap();
    let (_, html) = page(&app, &viewer, "/console/business?period=nonsense").await;
    assert!(
        html.contains("aria-current=\"page\" data-testid=\"period-day\""),
        "an unknown period is the day view"
    );
}

/// Reports a step as the widget does.
async fn step(
    app: &TestApp,
    order: &str,
    step: &str,
    wallet: Option<&str>,
    device: &str,
    locale: &str,
) -> u16 {
    let mut body = json!({ "order_id": order, "step": step, "device": device, "locale": locale });
    if let Some(wallet) = wallet {
        body["wallet_id"] = json!(wallet);
    }
    app.client.post(app.api("/steps")).json(&body).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_shoppers_path_counts_orders_at_each_step_with_the_drop_off_per_wallet_device_and_language() {
    let app = spawn().await;
    let (first, second, third) = (app.new_order().await, app.new_order().await, app.new_order().await);
    for (order, device, locale) in
        [(&first, "mobile", "zh-CN"), (&second, "mobile", "zh-CN"), (&third, "desktop", "en")]
    {
        assert_eq!(step(&app, order, "shown", None, device, locale).await, 204);
    }
    // A repeat is counted once.
    assert_eq!(step(&app, &first, "shown", None, "mobile", "zh-CN").await, 204);
    assert_eq!(step(&app, &first, "wallet_chosen", Some("wechat_pay"), "mobile", "zh-CN").await, 204);
    assert_eq!(step(&app, &second, "wallet_chosen", Some("alipay"), "mobile", "zh-CN").await, 204);
    let mut mobile = session_body(&first, "wechat_pay");
    mobile["device"] = json!("mobile");
    let paid = app.create_session("path-1", &mobile).await.json::<Value>().await.unwrap();
    app.sandbox(id(&paid), "approve").await;
    let mut mobile = session_body(&second, "alipay");
    mobile["device"] = json!("mobile");
    let declined = app.create_session("path-2", &mobile).await.json::<Value>().await.unwrap();
    app.sandbox(id(&declined), "decline").await;

    let viewer = app.console_user("viewer").await;
    let (_, html) = page(&app, &viewer, "/console/business").await;
    let steps: Vec<String> = html
        .split("data-testid=\"path-step\"")
        .skip(1)
        .map(|row| cells(&format!("<x{}", row.split("</tr>").next().unwrap())))
        .collect();
    assert_eq!(
        steps,
        ["Order shown|3|—", "Wallet chosen|2|1 (33.3%)", "Payment started|2|0 (0.0%)", "Paid|1|1 (50.0%)"]
    );
    let row = |group: &str| {
        let row =
            html.split(&format!("data-group=\"{group}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
        cells(&format!("<x{row}"))
    };
    assert!(row("wechat_pay").starts_with("wechat_pay|—|1|1|1|"), "{}", row("wechat_pay"));
    assert!(row("alipay").starts_with("alipay|—|1|1|0|—"), "{}", row("alipay"));
    assert!(row("mobile").starts_with("Phone|2|2|2|1|"), "{}", row("mobile"));
    assert!(row("desktop").starts_with("Desktop|1|0|0|0|—"), "{}", row("desktop"));
    assert!(row("zh-CN").starts_with("zh-CN|2|2|2|1|"), "{}", row("zh-CN"));
    assert!(row("en").starts_with("en|1|0|0|0|"), "{}", row("en"));
    let median = html.split("data-testid=\"median\"").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(median.contains(" s</strong>"), "a median time to pay: {median}");
}

#[tokio::test]
async fn the_widgets_reports_are_checked_anonymous_and_limited_per_address() {
    let app = spawn_with(|config| config.session_rate_per_minute = 2).await;
    let order = app.new_order().await;
    let body = json!({ "order_id": order, "step": "shown", "device": "desktop", "locale": "en", "email": "li@shop.example" });
    let refused = app.client.post(app.api("/steps")).json(&body).send().await.unwrap();
    assert_eq!(
        crate::helpers::error_code(refused, 400).await,
        "invalid_request",
        "nothing but the fields of the contract"
    );
    assert_eq!(step(&app, &order, "wallet_chosen", Some("no_such_wallet"), "desktop", "en").await, 400);
    assert_eq!(step(&app, &order, "shown", None, "desktop", "en").await, 204);
    let answer = app
        .client
        .post(app.api("/steps"))
        .json(&json!({ "order_id": order, "step": "shown", "device": "desktop", "locale": "en" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    assert!(answer.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_business_page_is_for_signed_in_staff_and_reads_in_chinese() {
    let app = spawn().await;
    let anonymous = app.client.get(app.url("/console/business")).send().await.unwrap();
    assert!(anonymous.status().is_redirection(), "{}", anonymous.status());
    let viewer = app.console_user("viewer").await;
    let (status, html) = page(&app, &viewer, "/console/business").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/console/business\""), "in the navigation");
    assert!(html.contains("data-testid=\"no-takings\""));
    app.console_post(&viewer, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    let (_, html) = page(&app, &viewer, "/console/business?period=month").await;
    assert!(html.contains("经营情况") && html.contains("顾客的付款路径"), "{html}");
}
