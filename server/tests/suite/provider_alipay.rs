//! The Alipay adapter over real HTTP against the Alipay mock (`mocks/src/alipay.rs`), which
//! checks the server's RSA2 request signatures with the app's public key, answers in Alipay's
//! signed envelope (written so that a re-serialising verifier fails), and sends signed form
//! notifications: payments by QR code and by redirect, reconciliation, expiry, cancel, refunds,
//! a provider that fails, hostile notifications, the settings and `providers check`.

use crate::helpers::make_key;
use crate::helpers::{
    alipay::{spawn_alipay, AlipayApp},
    error_code, eventually, eventually_within, JsonAnswer, TestApp,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::{process::Command, time::Duration};
use wallet_checkout_contract::{OrderId, SessionId};
use wallet_checkout_mocks::{
    alipay::{gateway_time_in, AlipayMock, TradeStatus},
    Keys,
};
use wallet_checkout_server::{
    domain::Role,
    providers::{BuildContext, ProviderSettings},
};

/// A `provider_check_ms` long enough that the sweep asks Alipay nothing during a test.
const QUIET_MS: i64 = 600_000;

/// The session's amount in fen (the demo store's items differ).
fn fen(session: &Value) -> u64 {
    session["amount"]["minor_units"].as_u64().unwrap()
}

fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

async fn qr_session(alipay: &AlipayApp) -> String {
    let session = alipay.session("desktop").await;
    assert_eq!(session["next_action"]["type"], "qr");
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_qr_payment_is_confirmed_by_alipays_signed_notification() {
    let alipay = spawn_alipay("", |_| {}).await;
    let session = alipay.session("desktop").await;
    let id = session["id"].as_str().unwrap();
    // The code is Alipay's qr_code as it came back (its slashes were escaped in the envelope).
    assert_eq!(session["next_action"]["payload"], format!("{}/qr/{id}", alipay.mock.base()));
    let trade = alipay.mock.trade(id).expect("precreated at Alipay");
    assert_eq!(trade.total_fen, fen(&session));
    assert_eq!(trade.method, "alipay.trade.precreate");
    assert_eq!(trade.notify_url.as_deref(), Some(alipay.notify_url().as_str()));
    // Before the scan, Alipay has no trade: pending, not an error.
    assert_eq!(alipay.status(id).await, "pending");

    let sent = alipay.mock.pay(id).await.expect("a notification was sent");
    assert_eq!(sent.status, 200);
    assert_eq!(sent.answer, "success", "exactly the 7 characters Alipay expects");
    assert_eq!(alipay.status(id).await, "succeeded");
    let record = alipay.app.store().await.session(&SessionId::parse(id).unwrap()).await.unwrap().unwrap();
    assert_eq!(record.refs.transaction_id.as_deref(), Some(trade.trade_no.as_str()));
    assert_eq!(record.provider.as_deref(), Some("alipay"));
}

#[tokio::test]
async fn a_phone_is_sent_to_the_signed_wap_pay_url_and_comes_back_paid() {
    let alipay = spawn_alipay("", |_| {}).await;
    let session = alipay.session("mobile").await;
    let id = session["id"].as_str().unwrap();
    assert_eq!(session["next_action"]["type"], "redirect");
    let url = url::Url::parse(session["next_action"]["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.as_str().split('?').next().unwrap(), alipay.mock.gateway_url());
    let params: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(params["method"], "alipay.trade.wap.pay");
    assert_eq!(params["sign_type"], "RSA2");
    assert!(params["return_url"].contains("/store/orders/"));
    let biz: Value = serde_json::from_str(&params["biz_content"]).unwrap();
    assert_eq!(biz["product_code"], "QUICK_WAP_WAY");
    assert_eq!(biz["total_amount"], yuan(fen(&session)));
    assert_eq!(biz["out_trade_no"], id);
    assert_eq!(biz["quit_url"], params["return_url"]);
    assert!(biz["time_expire"].as_str().unwrap().len() == 19, "yyyy-MM-dd HH:mm:ss");

    // The phone's browser: the gateway checks the signature and opens the cashier.
    let cashier = alipay.app.client.get(url.clone()).send().await.unwrap();
    assert_eq!(cashier.status(), 303, "{}", cashier.text().await.unwrap());
    let cashier_url = cashier.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(alipay.mock.trade(id).unwrap().status, TradeStatus::WaitBuyerPay);
    let paid = alipay.app.client.post(format!("{cashier_url}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    let back = paid.headers()["location"].to_str().unwrap();
    assert!(back.starts_with(&params["return_url"]), "back to the store: {back}");
    assert!(back.contains("method=alipay.trade.wap.pay.return"));
    assert_eq!(alipay.status(id).await, "succeeded");
    assert!(alipay.mock.sent().iter().all(|sent| sent.acknowledged()));

    // A tampered link (another amount) is refused by Alipay's gateway.
    let mut tampered = url.clone();
    let total = format!("\"total_amount\":\"{}\"", yuan(fen(&session)));
    let pairs: Vec<(String, String)> =
        url.query_pairs()
            .into_owned()
            .map(|(k, v)| {
                if k == "biz_content" {
                    (k, v.replace(&total, "\"total_amount\":\"0.01\""))
                } else {
                    (k, v)
                }
            })
            .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = alipay.app.client.get(tampered).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("isv.invalid-signature"));
}

#[tokio::test]
async fn desktops_can_be_sent_to_page_pay_by_configuration() {
    let alipay = spawn_alipay("desktop_flow = \"page_pay\"\n", |_| {}).await;
    let session = alipay.session("desktop").await;
    let url = url::Url::parse(session["next_action"]["url"].as_str().unwrap()).unwrap();
    let params: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(params["method"], "alipay.trade.page.pay");
    assert!(params["biz_content"].contains("\"product_code\":\"FAST_INSTANT_TRADE_PAY\""));
    let cashier = alipay.app.client.get(url).send().await.unwrap();
    assert_eq!(cashier.status(), 303);
    assert_eq!(alipay.mock.calls("alipay.trade.precreate"), 0);
}

#[tokio::test]
async fn without_a_notification_the_sweep_asks_alipay_and_finds_the_payment() {
    let alipay = spawn_alipay("", |_| {}).await;
    let id = qr_session(&alipay).await;
    assert!(alipay.mock.pay_silently(&id), "paid, the notification lost");
    alipay.wait_for(&id, "succeeded").await;
    assert!(alipay.mock.calls("alipay.trade.query") >= 1);
    assert!(alipay.mock.sent().is_empty());
}

#[tokio::test]
async fn a_session_paid_at_alipay_succeeds_at_expiry_instead_of_expiring() {
    // No question before the expiry: the one at expiry finds the payment.
    let alipay = spawn_alipay("", |config| config.provider_check_ms = 60_000).await;
    let id = qr_session(&alipay).await;
    assert!(alipay.mock.pay_silently(&id));
    assert_eq!(alipay.mock.calls("alipay.trade.query"), 0);
    alipay.app.advance_past_session_ttl().await;
    assert_eq!(alipay.status(&id).await, "succeeded");
    assert_eq!(alipay.mock.calls("alipay.trade.close"), 0, "a paid trade is not closed");
}

#[tokio::test]
async fn an_unpaid_session_expires_and_its_code_is_closed_at_alipay() {
    let alipay = spawn_alipay("", |_| {}).await;
    let id = qr_session(&alipay).await;
    assert!(alipay.mock.scan(&id));
    alipay.app.advance_past_session_ttl().await;
    assert_eq!(alipay.status(&id).await, "expired");
    assert!(alipay.mock.calls("alipay.trade.close") >= 1);
    assert_eq!(alipay.mock.trade(&id).unwrap().status, TradeStatus::Closed);
}

#[tokio::test]
async fn canceling_closes_the_trade_at_alipay_scanned_or_not() {
    let alipay = spawn_alipay("", |_| {}).await;
    // Not scanned: Alipay has no trade (ACQ.TRADE_NOT_EXIST), which counts as closed.
    let unscanned = qr_session(&alipay).await;
    let canceled = alipay
        .app
        .client
        .post(alipay.app.api(&format!("/sessions/{unscanned}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(canceled.status(), 200);
    assert_eq!(alipay.mock.calls("alipay.trade.close"), 1);
    assert!(alipay.mock.trade(&unscanned).unwrap().closed_before_scan);
    assert!(!alipay.mock.scan(&unscanned), "the code no longer opens the cashier");

    let scanned = qr_session(&alipay).await;
    assert!(alipay.mock.scan(&scanned));
    let canceled =
        alipay.app.client.post(alipay.app.api(&format!("/sessions/{scanned}/cancel"))).send().await.unwrap();
    assert_eq!(canceled.status(), 200);
    assert_eq!(alipay.mock.calls("alipay.trade.close"), 2);
    assert_eq!(alipay.mock.trade(&scanned).unwrap().status, TradeStatus::Closed);
    assert_eq!(alipay.status(&scanned).await, "canceled");
}

async fn operator_key(app: &TestApp) -> String {
    make_key(&app.store().await, "operator", Role::Operator, true, "test").await.unwrap().1
}

async fn refund(app: &TestApp, key: &str, order: &str, fen: Option<u64>) -> Value {
    let body = match fen {
        Some(fen) => json!({ "amount": { "minor_units": fen, "currency": "CNY" }, "reason": "Returned" }),
        None => json!({ "reason": "Returned" }),
    };
    let response = app
        .client
        .request(Method::POST, app.url(&format!("/api/v1/orders/{order}/refunds")))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_partial_then_a_full_refund_use_our_refund_ids_as_out_request_no() {
    let alipay = spawn_alipay("", |_| {}).await;
    let key = operator_key(&alipay.app).await;
    let id = qr_session(&alipay).await;
    alipay.mock.pay(&id).await.unwrap();
    let order = alipay.app.get_session(&id).await["order_id"].as_str().unwrap().to_owned();

    let first = refund(&alipay.app, &key, &order, Some(1800)).await;
    assert_eq!(first["status"], "succeeded");
    let trade = alipay.mock.trade(&id).unwrap();
    assert_eq!(trade.refunds, [(first["id"].as_str().unwrap().to_owned(), 1800)]);
    assert_eq!(trade.status, TradeStatus::Success, "a partial refund leaves the trade paid");

    let rest = refund(&alipay.app, &key, &order, None).await;
    assert_eq!(rest["status"], "succeeded");
    let total = alipay.mock.trade(&id).unwrap().total_fen;
    assert_eq!(rest["amount"]["minor_units"], total - 1800);
    let trade = alipay.mock.trade(&id).unwrap();
    assert_eq!(trade.refunds[1], (rest["id"].as_str().unwrap().to_owned(), total - 1800));
    assert_eq!(trade.status, TradeStatus::Closed);

    // Alipay's refund notifications (TRADE_SUCCESS, then TRADE_CLOSED) are taken and change
    // nothing more; the session stays paid.
    eventually("the refund notifications", async || alipay.mock.sent().len() >= 3).await;
    assert!(alipay.mock.sent().iter().all(|sent| sent.acknowledged()), "{:?}", alipay.mock.sent());
    let view = alipay.app.get_session(&id).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(view["amount_refunded"]["minor_units"], total);
    // The sweep's question (TRADE_CLOSED after a full refund) does not un-pay it either.
    let status = alipay.app.store().await.session(&SessionId::parse(&id).unwrap()).await.unwrap().unwrap();
    assert_eq!(status.status.to_string(), "succeeded");
}

#[tokio::test]
async fn a_refund_alipay_did_not_answer_is_asked_again_with_the_same_out_request_no() {
    let alipay = spawn_alipay("", |_| {}).await;
    let key = operator_key(&alipay.app).await;
    let id = qr_session(&alipay).await;
    alipay.mock.pay(&id).await.unwrap();
    let order = alipay.app.get_session(&id).await["order_id"].as_str().unwrap().to_owned();
    alipay.mock.fail_next(1);
    let pending = refund(&alipay.app, &key, &order, Some(800)).await;
    assert_eq!(pending["status"], "pending");
    let refund_id = pending["id"].as_str().unwrap().to_owned();
    eventually_within("the refund to succeed", Duration::from_secs(15), async || {
        let read: Value = alipay
            .app
            .client
            .get(alipay.app.url(&format!("/api/v1/refunds/{refund_id}")))
            .bearer_auth(&key)
            .json_answer()
            .await;
        read["status"] == "succeeded"
    })
    .await;
    assert_eq!(alipay.mock.trade(&id).unwrap().refunds, [(refund_id, 800)], "refunded once");
}

#[tokio::test]
async fn alipay_down_or_slow_gives_the_widget_a_clear_502_and_no_half_made_session() {
    let alipay = spawn_alipay("timeout_secs = 1\n", |config| config.provider_check_ms = QUIET_MS).await;
    for break_it in [|m: &AlipayMock| m.fail_next(1), |m: &AlipayMock| m.slow_next(3_000)] {
        let order = alipay.app.new_order().await;
        break_it(&alipay.mock);
        let body = json!({
            "order_id": order, "wallet_id": "alipay",
            "return_url": format!("http://127.0.0.1/store/orders/{order}"), "device": "desktop",
        });
        let failed = alipay.app.create_session(&format!("key-{order}"), &body).await;
        let failed_status = failed.status();
        let text = failed.text().await.unwrap();
        assert_eq!(failed_status, 502, "{text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["code"], "provider_error");
        assert!(
            !text.contains("alipay.trade") && !text.contains("HTTP"),
            "the provider's words stay in the log: {text}"
        );
        let store = alipay.app.store().await;
        assert!(store.sessions_of(&OrderId::parse(&order).unwrap()).await.unwrap().is_empty());
        // The same key works once Alipay answers again.
        let again = alipay.app.create_session(&format!("key-{order}"), &body).await;
        assert_eq!(again.status(), 201);
    }
}

/// A signed notification for a trade the mock has paid, with `change` applied before signing.
fn notification(mock: &AlipayMock, id: &str, change: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let mut params = mock.notification_params(id, None).unwrap();
    change(&mut params);
    mock.signed_form(&params)
}

fn set(params: &mut [(String, String)], key: &str, value: &str) {
    params.iter_mut().find(|(k, _)| k == key).unwrap().1 = value.to_owned();
}

#[tokio::test]
async fn hostile_notifications_are_answered_failure_and_change_nothing() {
    // The sweep does not ask Alipay during the test (it would find the payment).
    let alipay = spawn_alipay("", |config| config.provider_check_ms = QUIET_MS).await;
    let id = qr_session(&alipay).await;
    let other = qr_session(&alipay).await;
    assert!(alipay.mock.pay_silently(&id));
    let mock = &alipay.mock;
    let genuine = notification(mock, &id, |_| {});
    let amount = format!("total_amount={}", yuan(mock.trade(&id).unwrap().total_fen));
    assert!(genuine.contains(&amount));
    let other_key =
        AlipayMock::with_keys("http://127.0.0.1:9", alipay.keys.path().join("other").as_path(), Keys::Own)
            .unwrap();
    let hostile: Vec<(&str, String)> = vec![
        ("signed with another key", other_key.signed_form(&mock.notification_params(&id, None).unwrap())),
        ("no signature", genuine.split("&sign=").next().unwrap().to_owned()),
        ("a signature probe with garbage", genuine.replace("&sign=", "&sign=AAAA")),
        ("tampered amount after signing", genuine.replace(&amount, "total_amount=0.01")),
        (
            "tampered status after signing",
            genuine.replace("trade_status=TRADE_SUCCESS", "trade_status=TRADE_FINISHED"),
        ),
        ("a parameter added after signing", format!("{genuine}&extra=1")),
        ("sign_type RSA (SHA1)", genuine.replace("sign_type=RSA2", "sign_type=RSA")),
        ("stale by ten minutes", notification(mock, &id, |p| set(p, "notify_time", &gateway_time_in(-10)))),
        ("from the future", notification(mock, &id, |p| set(p, "notify_time", &gateway_time_in(10)))),
        ("another app", notification(mock, &id, |p| set(p, "app_id", "2021000000000999"))),
        ("another seller", notification(mock, &id, |p| set(p, "seller_id", "2088000000000999"))),
        ("another amount, signed", notification(mock, &id, |p| set(p, "total_amount", "1.00"))),
        ("an unknown order", notification(mock, &id, |p| set(p, "out_trade_no", "ses_notours"))),
        ("an unknown status", notification(mock, &id, |p| set(p, "trade_status", "TRADE_PAID"))),
        ("not a form", "{\"trade_status\":\"TRADE_SUCCESS\"}".to_owned()),
    ];
    for (what, body) in hostile {
        let sent = mock.post_notification(&alipay.notify_url(), &id, body).await;
        assert_ne!(sent.answer, "success", "{what} must be refused");
        assert_eq!(sent.answer, "failure", "{what}");
    }
    assert_eq!(alipay.status(&id).await, "pending", "nothing changed");
    assert_eq!(alipay.status(&other).await, "pending");
    // Verified, but of another kind: taken (Alipay stops sending it) and nothing changes.
    let other_kind = notification(mock, &id, |p| set(p, "notify_type", "trade_settle_sync"));
    assert_eq!(mock.post_notification(&alipay.notify_url(), &id, other_kind).await.answer, "success");
    assert_eq!(alipay.status(&id).await, "pending");

    // The genuine one is taken; the same one again changes nothing more and is answered success.
    let first = mock.post_notification(&alipay.notify_url(), &id, genuine.clone()).await;
    assert_eq!(first.answer, "success");
    assert_eq!(alipay.status(&id).await, "succeeded");
    let store = alipay.app.store().await;
    let events = |store: wallet_checkout_server::db::Db, id: String| async move {
        store.events(Some(&id), 1000).await.unwrap().len()
    };
    let before = events(store.clone(), id.clone()).await;
    let replay = mock.post_notification(&alipay.notify_url(), &id, genuine).await;
    assert_eq!(replay.answer, "success");
    assert_eq!(events(store, id.clone()).await, before, "a replay changes nothing");
}

/// Regression: a form of 10,000 parameters cost hundreds of milliseconds before any signature
/// check (every pair of names was compared). A notification with more parameters, or more bytes,
/// than Alipay sends is refused unread, even one signed right.
#[tokio::test]
async fn a_notification_larger_than_alipay_sends_is_refused_unread_even_signed() {
    let alipay = spawn_alipay("", |config| config.provider_check_ms = QUIET_MS).await;
    let id = qr_session(&alipay).await;
    assert!(alipay.mock.pay_silently(&id));
    let mock = &alipay.mock;
    let many = notification(mock, &id, |p| {
        p.extend((0..100).map(|i| (format!("extra_{i}"), "1".to_owned())));
    });
    let long = notification(mock, &id, |p| p.push(("passback_params".to_owned(), "x".repeat(40 * 1024))));
    for (what, body) in [("more than 100 parameters", many), ("more than 32 KiB", long)] {
        let sent = mock.post_notification(&alipay.notify_url(), &id, body).await;
        assert_eq!(sent.answer, "failure", "{what}");
    }
    assert_eq!(alipay.status(&id).await, "pending", "nothing changed");
    let genuine = notification(mock, &id, |_| {});
    assert_eq!(mock.post_notification(&alipay.notify_url(), &id, genuine).await.answer, "success");
}

/// A client whose notifications keep being refused is turned away unread once past its budget
/// (answered as Alipay sends again: 503 and `failure`); a genuine notification is never counted
/// against anyone, and from a client turned away it is delayed, never lost.
#[tokio::test]
async fn a_client_whose_notifications_are_refused_is_turned_away_and_genuine_ones_are_only_delayed() {
    let alipay = spawn_alipay("", |config| {
        config.provider_check_ms = QUIET_MS;
        config.trust_proxy = true;
    })
    .await;
    let (first, second) = (qr_session(&alipay).await, qr_session(&alipay).await);
    assert!(alipay.mock.pay_silently(&first) && alipay.mock.pay_silently(&second));
    let genuine = |id: &str| notification(&alipay.mock, id, |_| {});
    let post = |body: String, from: &str| {
        alipay
            .app
            .client
            .post(alipay.notify_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", from)
            .body(body)
            .send()
    };
    // The budget is counted on the server's clock, held still here: however long the refusals
    // take, no token comes back until the test moves the clock.
    alipay.app.clock.hold();
    let budget = wallet_checkout_server::startup::NOTIFICATION_REFUSALS_PER_MINUTE;
    let forged = genuine(&first).replace("&sign=", "&sign=AAAA");
    for _ in 0..budget {
        assert_eq!(post(forged.clone(), "203.0.113.9").await.unwrap().status(), 400, "refused");
    }
    let turned_away = post(genuine(&first), "203.0.113.9").await.unwrap();
    assert_eq!(turned_away.status(), 503, "past its budget, the client is told to send again later");
    assert_eq!(turned_away.text().await.unwrap(), "failure");
    assert_eq!(alipay.status(&first).await, "pending");
    // Another client is not held back by it.
    assert_eq!(post(genuine(&second), "203.0.113.10").await.unwrap().status(), 200);
    assert_eq!(alipay.status(&second).await, "succeeded");
    // Alipay sends again: once the client's budget has a token again (one a second at 60 a
    // minute), the notification is taken.
    alipay.app.clock.advance(Duration::from_millis(900));
    assert_eq!(post(genuine(&first), "203.0.113.9").await.unwrap().status(), 503, "not yet");
    alipay.app.clock.advance(Duration::from_millis(100));
    assert_eq!(post(genuine(&first), "203.0.113.9").await.unwrap().status(), 200, "a second later");
    assert_eq!(alipay.status(&first).await, "succeeded");
}

#[test]
fn a_missing_setting_is_named() {
    let toml = "[providers.alipay]\napp_id = \"2021000000000042\"\napp_private_key_file = \"/x\"\n";
    // The key files may be given inline instead (`*_pem`, as the console stores them): which
    // one is missing is named when the provider is built.
    let settings = ProviderSettings::from_toml(toml).unwrap();
    let context = BuildContext {
        public_url: None,
        clock: std::sync::Arc::new(wallet_checkout_server::domain::SystemClock),
    };
    let error = wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
        .err()
        .expect("no Alipay public key")
        .to_string();
    assert!(error.contains("alipay_public_key_file"), "{error}");
    let error = ProviderSettings::from_toml("[providers.alipay]\napp_private_key_file = \"/y\"\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("app_id"), "{error}");
    let error = ProviderSettings::from_toml("[providers.alipay]\napp_id = 1\nalipay_public_key_file = \"/x\"\napp_private_key_file = \"/y\"\nsecret = 1\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("secret"), "unknown fields are refused: {error}");
}

#[tokio::test]
async fn keys_are_checked_when_the_provider_is_built() {
    let dir = tempfile::TempDir::new().unwrap();
    let mock = AlipayMock::new("http://127.0.0.1:9/alipay", dir.path()).unwrap();
    let context = BuildContext {
        public_url: None,
        clock: std::sync::Arc::new(wallet_checkout_server::domain::SystemClock),
    };
    let build = |extra: &str| {
        let settings = ProviderSettings::from_toml(&format!("{}{extra}", mock.config_toml())).unwrap();
        wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
    };
    let provider = build("").unwrap();
    assert!(!provider.livemode(), "the sandbox environment is not live");
    let offer = &provider.offers()[0];
    assert_eq!(
        (offer.currencies.as_slice(), offer.min_minor_units, offer.max_minor_units),
        (&["CNY".to_owned()][..], 1, 10_000_000_000)
    );
    let files = mock.key_files();
    let swapped = format!(
        "[providers.alipay]\nenvironment = \"live\"\napp_id = \"1\"\napp_private_key_file = {:?}\nalipay_public_key_file = {:?}\n",
        files.app_private_key, files.app_public_key
    );
    let settings = ProviderSettings::from_toml(&swapped).unwrap();
    let error = wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("alipay_public_key_file holds the app's own public key"), "{error}");
    let other =
        AlipayMock::with_keys("http://127.0.0.1:9/alipay", &dir.path().join("other"), Keys::Own).unwrap();
    let mismatched = format!(
        "[providers.alipay]\napp_id = \"1\"\napp_private_key_file = {:?}\napp_public_key_file = {:?}\nalipay_public_key_file = {:?}\n",
        files.app_private_key, other.key_files().app_public_key, files.alipay_public_key
    );
    let settings = ProviderSettings::from_toml(&mismatched).unwrap();
    let provider =
        wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context);
    assert!(provider.err().unwrap().to_string().contains("does not match app_public_key_file"));
    let live = format!(
        "[providers.alipay]\napp_id = \"1\"\napp_private_key_file = {:?}\nalipay_public_key_file = {:?}\ncurrencies = [\"USD\"]\n",
        files.app_private_key, files.alipay_public_key
    );
    let settings = ProviderSettings::from_toml(&live).unwrap();
    let error = wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("CNY only"), "{error}");
    let live = live.replace("currencies = [\"USD\"]\n", "");
    let settings = ProviderSettings::from_toml(&live).unwrap();
    let provider =
        wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
            .unwrap();
    assert!(provider.livemode(), "live by default");
    let missing = live.replace(&format!("{:?}", files.app_private_key), "\"/nonexistent/key.pem\"");
    let settings = ProviderSettings::from_toml(&missing).unwrap();
    let error = wallet_checkout_server::providers::alipay::build(settings.alipay.as_ref().unwrap(), &context)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("app_private_key_file: cannot read /nonexistent/key.pem"), "{error}");
}

/// `wallet-checkout-server providers check` with a configuration file: (succeeded, output).
fn providers_check(config: &std::path::Path, data: &std::path::Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .args(["providers", "check"])
        .env("WC_CONFIG", config)
        .env("WC_DATA_DIR", data)
        .env("WC_SANDBOX", "false")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .output()
        .expect("the server binary runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn providers_check_says_ok_against_alipay_and_why_it_fails_otherwise() {
    let dir = tempfile::TempDir::new().unwrap();
    let mock = AlipayMock::spawn(dir.path()).await.unwrap();
    let config = dir.path().join("wallet-checkout.toml");
    let private_key = std::fs::read_to_string(&mock.key_files().app_private_key).unwrap();
    let key_line = private_key.lines().nth(3).unwrap().to_owned();
    let check = |toml: String| {
        std::fs::write(&config, toml).unwrap();
        let (config, data) = (config.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || providers_check(&config, &data))
    };

    let (ok, output) = check(mock.config_toml()).await.unwrap();
    assert!(ok, "{output}");
    assert!(output.contains("alipay: OK"), "{output}");
    assert!(mock.calls("alipay.trade.query") >= 1);

    // The app key Alipay does not know: the gateway refuses the signature.
    let other = AlipayMock::with_keys("http://127.0.0.1:9", &dir.path().join("other"), Keys::Own).unwrap();
    let wrong_app_key = mock.config_toml().replace(
        &format!("{:?}", mock.key_files().app_private_key.display().to_string()),
        &format!("{:?}", other.key_files().app_private_key.display().to_string()),
    );
    let wrong_app_key = wrong_app_key
        .lines()
        .filter(|l| !l.starts_with("app_public_key_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let (ok, output) = check(wrong_app_key).await.unwrap();
    assert!(!ok);
    assert!(output.contains("alipay: FAILED") && output.contains("isv.invalid-signature"), "{output}");

    // Alipay's key wrong: its answers do not verify.
    let wrong_alipay_key = mock.config_toml().replace(
        &format!("{:?}", mock.key_files().alipay_public_key.display().to_string()),
        &format!("{:?}", other.key_files().alipay_public_key.display().to_string()),
    );
    let (ok, output) = check(wrong_alipay_key).await.unwrap();
    assert!(!ok);
    assert!(
        output.contains("alipay: FAILED")
            && output.contains("signature does not verify with alipay_public_key_file"),
        "{output}"
    );

    // Alipay refuses the app.
    mock.refuse_next("40006", "isv.insufficient-isv-permissions", "ISV权限不足");
    let (ok, output) = check(mock.config_toml()).await.unwrap();
    assert!(!ok);
    assert!(
        output.contains("alipay: FAILED") && output.contains("isv.insufficient-isv-permissions"),
        "{output}"
    );

    // A missing setting is named.
    let missing =
        mock.config_toml().lines().filter(|l| !l.starts_with("app_id")).collect::<Vec<_>>().join("\n");
    let (ok, output) = check(missing).await.unwrap();
    assert!(!ok);
    assert!(output.contains("app_id"), "{output}");
    assert!(!output.contains(&key_line), "the private key never prints");
}

#[tokio::test]
async fn the_real_server_logs_no_secret_through_a_whole_payment() {
    let dir = tempfile::TempDir::new().unwrap();
    let mock = AlipayMock::spawn(dir.path()).await.unwrap();
    let config = dir.path().join("wallet-checkout.toml");
    std::fs::write(&config, mock.config_toml()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .env("WC_CONFIG", &config)
        .env("WC_DATA_DIR", dir.path().join("data"))
        .env("WC_BIND", "127.0.0.1:0")
        .env("WC_SANDBOX", "false")
        .env("WC_DEMO_STORE", "true")
        .env("WC_ALLOWED_ORIGINS", "http://127.0.0.1")
        .env("WC_PROVIDER_CHECK_MS", "200")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug,hyper=info,h2=info,rustls=info,sqlx=info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (sender, receiver) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let (log, sender) = (log.clone(), sender.clone());
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening address=").nth(1) {
                    let _ = sender.send(address.trim().to_owned());
                }
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
    }
    let address = receiver.recv_timeout(Duration::from_secs(30)).expect("the server listens");
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let order: Value = client.post(format!("{base}/store/orders")).json_answer().await;
    let order = order["id"].as_str().unwrap();
    let session: Value = client
        .post(format!("{base}/api/checkout/sessions"))
        .header("Idempotency-Key", "k1")
        .json(&json!({ "order_id": order, "wallet_id": "alipay", "return_url": format!("http://127.0.0.1/store/orders/{order}"), "device": "desktop" }))
        .json_answer()
        .await;
    let id = session["id"].as_str().unwrap();
    assert_eq!(mock.pay(id).await.unwrap().answer, "success");
    let status: Value = client.get(format!("{base}/api/checkout/sessions/{id}")).json_answer().await;
    assert_eq!(status["status"], "succeeded");
    let _ = child.kill();
    let _ = child.wait();
    let log = log.lock().unwrap().clone();
    assert!(log.contains("alipay"), "the log was read: {log}");
    let private_key = std::fs::read_to_string(&mock.key_files().app_private_key).unwrap();
    for line in private_key.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!log.contains(line), "a line of the private key was logged");
    }
    assert!(!log.contains("BEGIN PRIVATE KEY"));
}

#[tokio::test]
async fn usd_orders_are_not_offered_alipay() {
    let alipay = spawn_alipay("", |_| {}).await;
    let key = make_key(&alipay.app.store().await, "op", Role::Operator, true, "t").await.unwrap().1;
    let order: Value = alipay
        .app
        .client
        .post(alipay.app.url("/api/v1/orders"))
        .bearer_auth(&key)
        .json(&json!({ "amount": { "minor_units": 500, "currency": "USD" }, "description": "Tea" }))
        .json_answer()
        .await;
    let order = order["id"].as_str().unwrap();
    let refused = alipay
        .app
        .create_session("k", &json!({ "order_id": order, "wallet_id": "alipay", "return_url": format!("http://127.0.0.1/store/orders/{order}"), "device": "desktop" }))
        .await;
    assert_eq!(error_code(refused, 422).await, "wallet_unavailable");
}

#[tokio::test]
async fn before_the_scan_alipay_has_no_trade_which_is_pending_and_closes_as_done() {
    use wallet_checkout_contract::{Amount, Currency, WalletId};
    use wallet_checkout_server::providers::{PaymentRef, PaymentState, ProviderRefs};
    // Only this test's calls reach the mock (its failures are not spent by the sweep).
    let alipay = spawn_alipay("", |config| config.provider_check_ms = QUIET_MS).await;
    let id = qr_session(&alipay).await;
    let settings = ProviderSettings::from_toml(&alipay.mock.config_toml()).unwrap();
    let provider = wallet_checkout_server::providers::alipay::build(
        settings.alipay.as_ref().unwrap(),
        &BuildContext {
            public_url: None,
            clock: std::sync::Arc::new(wallet_checkout_server::domain::SystemClock),
        },
    )
    .unwrap();
    let session_id = SessionId::parse(id.as_str()).unwrap();
    let wallet_id = WalletId::parse("alipay").unwrap();
    let refs = ProviderRefs::default();
    let fen = alipay.mock.trade(&id).unwrap().total_fen;
    let payment = PaymentRef {
        session_id: &session_id,
        wallet_id: &wallet_id,
        amount: Amount::new(fen, Currency::parse("CNY").unwrap()).unwrap(),
        refs: &refs,
    };
    assert_eq!(provider.query(&payment).await.unwrap(), PaymentState::Pending);
    assert_eq!(provider.close(&payment).await, Ok(()), "ACQ.TRADE_NOT_EXIST on close is done");
    // Scanned and paid: paid, with Alipay's trade number and amount.
    let other = qr_session(&alipay).await;
    let other_id = SessionId::parse(other.as_str()).unwrap();
    let fen = alipay.mock.trade(&other).unwrap().total_fen;
    let paid = PaymentRef {
        session_id: &other_id,
        amount: Amount::new(fen, Currency::parse("CNY").unwrap()).unwrap(),
        ..payment.clone()
    };
    assert!(alipay.mock.scan(&other));
    assert_eq!(provider.query(&paid).await.unwrap(), PaymentState::Pending, "WAIT_BUYER_PAY");
    assert!(alipay.mock.pay_silently(&other));
    let trade_no = alipay.mock.trade(&other).unwrap().trade_no;
    assert_eq!(
        provider.query(&paid).await.unwrap(),
        PaymentState::Succeeded {
            refs: ProviderRefs { transaction_id: Some(trade_no), ..ProviderRefs::default() },
            paid: Some(paid.amount),
        }
    );
    assert!(provider.close(&paid).await.is_err(), "a paid trade cannot be closed (ACQ.TRADE_STATUS_ERROR)");
    // Down for a moment: the query is asked once more.
    alipay.mock.fail_next(1);
    assert!(matches!(provider.query(&paid).await, Ok(PaymentState::Succeeded { .. })));
    alipay.mock.fail_next(2);
    assert!(matches!(
        provider.query(&paid).await,
        Err(wallet_checkout_server::providers::ProviderError::Retryable(_))
    ));
}
