//! WeChat Pay API v3 end to end against the WeChat Pay mock, which speaks its protocol and
//! cryptography: Native and H5 orders, notifications (verified with the WeChat Pay public key and
//! with a platform certificate, decrypted with the APIv3 key), reconciliation by query, expiry,
//! close on cancel, refunds and their notifications, a provider that is down, hostile
//! notifications, the settings and `providers check`.

use crate::helpers::make_key;
use crate::helpers::{
    error_code, eventually, session_body, wechat_pay::spawn_wechat, wechat_pay::WechatApp, JsonAnswer,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::{process::Command, time::Duration};
use wallet_checkout_contract::{OrderId, SessionId};
use wallet_checkout_mocks::{
    wechat_pay::{KeyChoice, OutgoingNotification, APPID, MCHID},
    Keys,
};
use wallet_checkout_server::domain::Role;

fn id(session: &Value) -> String {
    session["id"].as_str().unwrap().to_owned()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A merchant API key (the server runs with the sandbox off: live-mode keys).
async fn merchant_key(wechat: &WechatApp) -> String {
    let store = wechat.app.store().await;
    make_key(&store, "operator", Role::Operator, true, "test").await.unwrap().1
}

fn merchant(wechat: &WechatApp, method: Method, path: &str, secret: &str) -> reqwest::RequestBuilder {
    wechat.app.client.request(method, wechat.app.url(&format!("/api/v1{path}"))).bearer_auth(secret)
}

/// A session paid through a notification: (order id, session id).
async fn paid_session(wechat: &WechatApp) -> (String, String) {
    let session = wechat.session("desktop").await;
    let session_id = id(&session);
    let (status, _) = wechat.mock.pay(&session_id).await.expect("the order can be paid");
    assert_eq!(status, 204);
    assert_eq!(wechat.wait_for_status(&session_id, "succeeded").await["status"], "succeeded");
    (session["order_id"].as_str().unwrap().to_owned(), session_id)
}

/// Asserts WeChat Pay's failure answer: a 4XX with `{"code": "FAIL", "message": ...}`.
fn assert_refused((status, body): (u16, String)) {
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON failure answer");
    assert_eq!(body["code"], "FAIL");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_desktop_shopper_gets_the_code_url_as_a_qr_code_and_the_notification_makes_it_paid() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session = wechat.session("desktop").await;
    let session_id = id(&session);

    let code_url =
        wechat.mock.code_url(&session_id).expect("a Native order for out_trade_no = the session id");
    assert!(code_url.starts_with("weixin://wxpay/bizpayurl?pr="), "{code_url}");
    assert_eq!(session["next_action"], json!({ "type": "qr", "payload": code_url }));

    let order = wechat.mock.order_request(&session_id).unwrap();
    assert_eq!(order["appid"], APPID);
    assert_eq!(order["mchid"], MCHID);
    assert_eq!(order["out_trade_no"], session_id.as_str());
    assert_eq!(order["notify_url"], wechat.notify_url());
    assert_eq!(order["amount"]["currency"], "CNY");
    assert_eq!(order["amount"]["total"], session["amount"]["minor_units"], "integer fen");
    assert!(order["scene_info"].is_null(), "Native orders carry no H5 scene");
    let expire = order["time_expire"].as_str().unwrap();
    assert!(expire.ends_with("+08:00"), "{expire}");
    let expire = time::OffsetDateTime::parse(expire, &time::format_description::well_known::Rfc3339).unwrap();
    let expires_at = time::OffsetDateTime::parse(
        session["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expire.unix_timestamp(), expires_at.unix_timestamp());
    assert_eq!(wechat.mock.calls("POST /v3/pay/transactions/native"), 1);

    // Signed with the WeChat Pay public key (the first notification), then verified and applied.
    let (status, body) = wechat.mock.pay(&session_id).await.unwrap();
    assert_eq!((status, body.as_str()), (204, ""), "success is 204 with no body");
    assert_eq!(wechat.app.get_session(&session_id).await["status"], "succeeded");
    let stored = wechat
        .app
        .store()
        .await
        .session(&SessionId::parse(session_id.as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refs.transaction_id, wechat.mock.transaction_id(&session_id));
}

#[tokio::test]
async fn a_notification_signed_with_a_platform_certificate_verifies_too() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session_id = id(&wechat.session("desktop").await);
    assert!(wechat.mock.pay_silently(&session_id));
    let notification = wechat.mock.payment_notification(&session_id, KeyChoice::Certificate).unwrap();
    assert_eq!(notification.header("Wechatpay-Serial"), Some(wechat.mock.platform_serial()));
    assert_eq!(wechat.mock.deliver(&notification).await.0, 204);
    assert_eq!(wechat.app.get_session(&session_id).await["status"], "succeeded");
}

#[tokio::test]
async fn a_mobile_browser_is_sent_to_h5_url_with_the_shoppers_address() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session = wechat.session("mobile").await;
    let session_id = id(&session);
    let order = wechat.mock.order_request(&session_id).expect("an H5 order");
    assert_eq!(order["scene_info"]["payer_client_ip"], "127.0.0.1");
    assert_eq!(order["scene_info"]["h5_info"]["type"], "Wap");
    assert_eq!(wechat.mock.calls("POST /v3/pay/transactions/h5"), 1);
    assert_eq!(wechat.mock.calls("POST /v3/pay/transactions/native"), 0);
    let url = session["next_action"]["url"].as_str().expect("a redirect");
    assert_eq!(session["next_action"]["type"], "redirect");
    let url = url::Url::parse(url).unwrap();
    assert!(url
        .as_str()
        .starts_with(&format!("{}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=", wechat.mock.base_url())));
    let back = url.query_pairs().find(|(k, _)| k == "redirect_url").map(|(_, v)| v.into_owned());
    let store_page =
        session_body(session["order_id"].as_str().unwrap(), "x")["return_url"].as_str().unwrap().to_owned();
    assert_eq!(
        back,
        Some(format!("{store_page}?wc_session={session_id}")),
        "back to the store page, with the session"
    );
}

#[tokio::test]
async fn with_h5_off_a_mobile_shopper_gets_the_qr_code_too() {
    let wechat = spawn_wechat("h5 = false\n", |_| {}).await;
    let session = wechat.session("mobile").await;
    assert_eq!(session["next_action"]["type"], "qr");
    assert_eq!(wechat.mock.calls("POST /v3/pay/transactions/h5"), 0);
}

#[tokio::test]
async fn without_a_notification_the_query_finds_the_payment() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session_id = id(&wechat.session("desktop").await);
    assert!(wechat.mock.pay_silently(&session_id));
    assert_eq!(wechat.wait_for_status(&session_id, "succeeded").await["status"], "succeeded");
    assert!(wechat.mock.calls(&format!("GET /v3/pay/transactions/out-trade-no/{session_id}")) >= 1);
}

#[tokio::test]
async fn a_payment_found_at_expiry_succeeds_and_is_not_closed() {
    // No question before expiry (the first check is due a minute after the session is made, and
    // the clock jumps past its expiry at once): the sweep's expiry step is the one that asks, and
    // WeChat Pay says paid.
    let wechat = spawn_wechat("", |config| config.provider_check_ms = 60_000).await;
    let session_id = id(&wechat.session("desktop").await);
    assert!(wechat.mock.pay_silently(&session_id));
    wechat.app.advance_past_session_ttl().await;
    assert_eq!(wechat.app.get_session(&session_id).await["status"], "succeeded");
    assert_eq!(wechat.mock.calls(&format!("POST /v3/pay/transactions/out-trade-no/{session_id}/close")), 0);
}

#[tokio::test]
async fn an_unpaid_order_is_closed_at_wechat_pay_when_it_expires() {
    let wechat = spawn_wechat("", |config| config.provider_check_ms = 60_000).await;
    let session_id = id(&wechat.session("desktop").await);
    wechat.app.advance_past_session_ttl().await;
    assert_eq!(wechat.app.get_session(&session_id).await["status"], "expired");
    assert_eq!(wechat.mock.calls(&format!("POST /v3/pay/transactions/out-trade-no/{session_id}/close")), 1);
    assert_eq!(wechat.mock.trade_state(&session_id), Some("CLOSED"));
    assert!(!wechat.mock.pay_silently(&session_id), "a closed order's code no longer pays");
}

#[tokio::test]
async fn cancel_closes_the_order_at_wechat_pay() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session_id = id(&wechat.session("desktop").await);
    let response = wechat
        .app
        .client
        .post(wechat.app.api(&format!("/sessions/{session_id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(wechat.mock.calls(&format!("POST /v3/pay/transactions/out-trade-no/{session_id}/close")), 1);
    assert_eq!(wechat.mock.trade_state(&session_id), Some("CLOSED"));
}

#[tokio::test]
async fn a_partial_then_a_full_refund_with_our_refund_ids_and_their_notifications() {
    let wechat = spawn_wechat("", |_| {}).await;
    let secret = merchant_key(&wechat).await;
    let (order, session_id) = paid_session(&wechat).await;
    let total = wechat.app.get_session(&session_id).await["amount"]["minor_units"].as_u64().unwrap();

    let partial: Value = merchant(&wechat, Method::POST, &format!("/orders/{order}/refunds"), &secret)
        .json(&json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "reason": "Chipped rim" }))
        .json_answer()
        .await;
    let partial_id = partial["id"].as_str().expect("a refund").to_owned();
    let (request, _) = wechat.mock.refund(&partial_id).expect("out_refund_no is our refund id");
    assert_eq!(request["amount"], json!({ "refund": 100, "total": total, "currency": "CNY" }));
    assert_eq!(request["transaction_id"], json!(wechat.mock.transaction_id(&session_id)));
    assert_eq!(request["notify_url"], wechat.notify_url());
    assert_eq!(request["reason"], "Chipped rim");

    let rest: Value = merchant(&wechat, Method::POST, &format!("/orders/{order}/refunds"), &secret)
        .json(&json!({ "reason": "Returned" }))
        .json_answer()
        .await;
    let rest_id = rest["id"].as_str().expect("a refund").to_owned();
    assert_eq!(wechat.mock.refund(&rest_id).unwrap().0["amount"]["refund"], total - 100);

    // WeChat Pay accepts refunds as PROCESSING and notifies REFUND.SUCCESS.
    for refund_id in [&partial_id, &rest_id] {
        eventually(&format!("the refund {refund_id} to succeed"), async || {
            let refund: Value =
                merchant(&wechat, Method::GET, &format!("/refunds/{refund_id}"), &secret).json_answer().await;
            refund["status"] == "succeeded"
        })
        .await;
        assert_eq!(wechat.mock.refund(refund_id).unwrap().1, "SUCCESS");
    }
    assert_eq!(wechat.mock.last_delivery().map(|d| d.0), Some(204));
    assert_eq!(wechat.app.get_session(&session_id).await["amount_refunded"]["minor_units"], total);
}

#[tokio::test]
async fn a_refund_that_stays_processing_is_settled_by_the_refund_query() {
    let wechat = spawn_wechat("", |_| {}).await;
    wechat.mock.set_refund_mode(wallet_checkout_mocks::wechat_pay::RefundMode::StayProcessing);
    let secret = merchant_key(&wechat).await;
    let (order, _) = paid_session(&wechat).await;
    let refund: Value = merchant(&wechat, Method::POST, &format!("/orders/{order}/refunds"), &secret)
        .json(&json!({ "reason": "Returned" }))
        .json_answer()
        .await;
    assert_eq!(refund["status"], "pending");
    let refund_id = refund["id"].as_str().unwrap().to_owned();
    // Settled at WeChat Pay, but its notification is lost: the sweep's refund query finds it.
    wechat.mock.mark_refund(&refund_id, "SUCCESS");
    eventually("the refund query to settle the refund", async || {
        let read: Value =
            merchant(&wechat, Method::GET, &format!("/refunds/{refund_id}"), &secret).json_answer().await;
        read["status"] == "succeeded"
    })
    .await;
    assert!(wechat.mock.calls(&format!("GET /v3/refund/domestic/refunds/{refund_id}")) >= 1);
}

#[tokio::test]
async fn wechat_pay_down_is_a_clear_502_and_nothing_is_half_created() {
    let wechat = spawn_wechat("timeout_secs = 1\n", |_| {}).await;
    let order = wechat.app.new_order().await;
    let body = session_body(&order, "wechat_pay");

    wechat.mock.fail_next(1);
    let response = wechat.app.create_session("down-1", &body).await;
    assert_eq!(error_code(response, 502).await, "provider_error");

    wechat.mock.slow_next(Duration::from_secs(3));
    let response = wechat.app.create_session("down-2", &body).await;
    assert_eq!(error_code(response, 502).await, "provider_error");

    let read: Value = wechat.app.client.get(wechat.app.api(&format!("/orders/{order}"))).json_answer().await;
    assert_eq!(read["order"]["status"], "open", "{read}");
    let store = wechat.app.store().await;
    assert!(
        store.sessions_of(&OrderId::parse(order.as_str()).unwrap()).await.unwrap().is_empty(),
        "no session was left behind"
    );

    // The same key works once WeChat Pay is back.
    let response = wechat.app.create_session("down-1", &body).await;
    assert_eq!(response.status(), 201);
}

/// Delivers `notification` and asserts it was refused and the session is still pending.
async fn refused(wechat: &WechatApp, session_id: &str, notification: &OutgoingNotification) {
    assert_refused(wechat.mock.deliver(notification).await);
    assert_eq!(wechat.app.get_session(session_id).await["status"], "pending");
}

/// A pending session whose order is paid at WeChat Pay but not yet known to the server (no
/// reconciliation before the test's notifications: the first question is a minute away).
async fn paid_but_unknown(wechat: &WechatApp) -> String {
    let session_id = id(&wechat.session("desktop").await);
    assert!(wechat.mock.pay_silently(&session_id));
    session_id
}

#[tokio::test]
async fn hostile_notifications_are_refused_with_wechat_pays_failure_answer() {
    let wechat = spawn_wechat("", |config| config.provider_check_ms = 60_000).await;
    let session_id = paid_but_unknown(&wechat).await;
    let genuine = |key| wechat.mock.payment_notification(&session_id, key).unwrap();
    let transaction = wechat.mock.transaction(&session_id).unwrap();
    let notify_url = wechat.notify_url();
    let signed_content = |content: &Value| {
        wechat.mock.notification(
            &notify_url,
            "TRANSACTION.SUCCESS",
            "支付成功",
            content,
            KeyChoice::PublicKey,
            now_secs(),
        )
    };

    // Signed by a key nobody configured, under the public key's id.
    refused(&wechat, &session_id, &genuine(KeyChoice::Stranger)).await;

    // WeChat Pay's signature probe.
    let mut probe = genuine(KeyChoice::PublicKey);
    let signature = probe.header("Wechatpay-Signature").unwrap().to_owned();
    probe.set_header("Wechatpay-Signature", &format!("WECHATPAY/SIGNTEST/{signature}"));
    refused(&wechat, &session_id, &probe).await;

    // Correctly signed, but six minutes old.
    let body = genuine(KeyChoice::PublicKey).body;
    let stale = wechat.mock.signed(&notify_url, body.clone(), KeyChoice::PublicKey, now_secs() - 360);
    refused(&wechat, &session_id, &stale).await;
    // ... or from the future.
    let early = wechat.mock.signed(&notify_url, body, KeyChoice::Certificate, now_secs() + 360);
    refused(&wechat, &session_id, &early).await;

    // An unknown serial.
    let mut unknown = genuine(KeyChoice::PublicKey);
    unknown.set_header("Wechatpay-Serial", "PUB_KEY_ID_0119000000000000000000000000000000");
    refused(&wechat, &session_id, &unknown).await;

    // The body changed after signing.
    let mut tampered = genuine(KeyChoice::Certificate);
    tampered.body = tampered.body.replace("\"summary\":\"支付成功\"", "\"summary\":\"支付成功 \"");
    refused(&wechat, &session_id, &tampered).await;

    // Signed, but the resource is encrypted with another APIv3 key.
    let envelope: Value = serde_json::from_str(&genuine(KeyChoice::PublicKey).body).unwrap();
    let mut forged = envelope.clone();
    forged["resource"] = wechat.mock.encrypt("0123456789abcdef0123456789abcdef", &transaction, "transaction");
    refused(
        &wechat,
        &session_id,
        &wechat.mock.signed(&notify_url, forged.to_string(), KeyChoice::PublicKey, now_secs()),
    )
    .await;

    // Signed and encrypted, but not this payment: another amount, merchant, app, order.
    let mut other_amount = transaction.clone();
    other_amount["amount"]["total"] = json!(transaction["amount"]["total"].as_u64().unwrap() - 1);
    refused(&wechat, &session_id, &signed_content(&other_amount)).await;
    let mut other_currency = transaction.clone();
    other_currency["amount"]["currency"] = json!("USD");
    refused(&wechat, &session_id, &signed_content(&other_currency)).await;
    let mut other_mchid = transaction.clone();
    other_mchid["mchid"] = json!("1900000109");
    refused(&wechat, &session_id, &signed_content(&other_mchid)).await;
    let mut other_appid = transaction.clone();
    other_appid["appid"] = json!("wx0000000000000000");
    refused(&wechat, &session_id, &signed_content(&other_appid)).await;
    let mut unknown_order = transaction.clone();
    unknown_order["out_trade_no"] = json!("ses_000000000000000000000000");
    refused(&wechat, &session_id, &signed_content(&unknown_order)).await;

    // No signature at all.
    let mut unsigned = genuine(KeyChoice::PublicKey);
    unsigned.headers.retain(|(name, _)| !name.starts_with("Wechatpay-"));
    refused(&wechat, &session_id, &unsigned).await;

    // The genuine one is accepted; the same one again is a repeat that changes nothing.
    let notification = genuine(KeyChoice::PublicKey);
    assert_eq!(wechat.mock.deliver(&notification).await.0, 204);
    assert_eq!(wechat.app.get_session(&session_id).await["status"], "succeeded");
    let store = wechat.app.store().await;
    let events_before = store.events(Some(&session_id), 100).await.unwrap().len();
    assert_eq!(wechat.mock.deliver(&notification).await, (204, String::new()));
    assert_eq!(store.events(Some(&session_id), 100).await.unwrap().len(), events_before);
}

#[tokio::test]
async fn a_refund_notification_with_another_merchant_id_is_refused() {
    let wechat = spawn_wechat("", |_| {}).await;
    wechat.mock.set_refund_mode(wallet_checkout_mocks::wechat_pay::RefundMode::StayProcessing);
    let secret = merchant_key(&wechat).await;
    let (order, _) = paid_session(&wechat).await;
    let refund: Value = merchant(&wechat, Method::POST, &format!("/orders/{order}/refunds"), &secret)
        .json(&json!({ "reason": "Returned" }))
        .json_answer()
        .await;
    let refund_id = refund["id"].as_str().unwrap();
    let content = json!({
        "mchid": "1900000109", "out_trade_no": "x", "transaction_id": "4200", "out_refund_no": refund_id,
        "refund_id": "5030", "refund_status": "SUCCESS",
        "amount": { "total": 1, "refund": 1, "payer_total": 1, "payer_refund": 1 },
    });
    let notification = wechat.mock.notification(
        &wechat.notify_url(),
        "REFUND.SUCCESS",
        "退款成功",
        &content,
        KeyChoice::PublicKey,
        now_secs(),
    );
    assert_refused(wechat.mock.deliver(&notification).await);
    let read: Value =
        merchant(&wechat, Method::GET, &format!("/refunds/{refund_id}"), &secret).json_answer().await;
    assert_eq!(read["status"], "pending");
}

// --- settings and `providers check` (the real binary) ---

fn check(config_file: &std::path::Path, env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::TempDir::new().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"));
    command
        .args(["providers", "check"])
        .env("WC_CONFIG", config_file)
        .env("WC_DATA_DIR", dir.path())
        .env("WC_SANDBOX", "false")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the server binary runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

async fn check_async(config_file: std::path::PathBuf, env: Vec<(&'static str, String)>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
        check(&config_file, &env)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn providers_check_is_ok_against_wechat_pay_and_prints_no_secret() {
    let (mock, dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let file = dir.path().join("wallet-checkout.toml");
    std::fs::write(&file, &toml).unwrap();
    let (ok, output) = check_async(file, vec![]).await;
    assert!(ok, "{output}");
    assert!(output.contains("wechat_pay: OK"), "{output}");
    assert!(mock.calls("GET /v3/pay/transactions/out-trade-no/") >= 1, "one authenticated call");
    assert!(!output.contains(mock.apiv3_key()), "the APIv3 key is never printed");
    let key_line = mock.merchant_private_key_pem().lines().nth(1).unwrap().to_owned();
    assert!(!output.contains(&key_line), "the private key is never printed");
}

#[tokio::test]
async fn providers_check_fails_with_the_reason_when_wechat_pay_refuses() {
    let (mock, dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let file = dir.path().join("wallet-checkout.toml");
    std::fs::write(&file, &toml).unwrap();

    // Another merchant key than the one WeChat Pay has: 401 SIGN_ERROR.
    let other =
        wallet_checkout_mocks::wechat_pay::WechatPayMock::with_keys("http://127.0.0.1:9", Keys::Own).unwrap();
    let other_key = dir.path().join("other_key.pem");
    std::fs::write(&other_key, other.merchant_private_key_pem()).unwrap();
    let without_cert =
        toml.lines().filter(|l| !l.starts_with("merchant_certificate_file")).collect::<Vec<_>>().join("\n");
    let wrong_key_file = dir.path().join("wrong-key.toml");
    std::fs::write(&wrong_key_file, &without_cert).unwrap();
    let (ok, output) = check_async(
        wrong_key_file.clone(),
        vec![("WC_PROVIDERS__WECHAT_PAY__MERCHANT_PRIVATE_KEY_FILE", other_key.display().to_string())],
    )
    .await;
    assert!(!ok, "{output}");
    assert!(output.contains("wechat_pay: FAILED") && output.contains("SIGN_ERROR"), "{output}");

    // The key does not belong to the merchant certificate: stopped before any call.
    let (ok, output) = check_async(
        file.clone(),
        vec![("WC_PROVIDERS__WECHAT_PAY__MERCHANT_PRIVATE_KEY_FILE", other_key.display().to_string())],
    )
    .await;
    assert!(!ok);
    assert!(
        output.contains("merchant_private_key_file is not the key of merchant_certificate_file"),
        "{output}"
    );

    // WeChat Pay's answers signed by a key that is not the configured one.
    let other_files = other.write_key_files(&dir.path().join("other")).unwrap();
    let only_public_key =
        toml.lines().filter(|l| !l.starts_with("platform_certificate_files")).collect::<Vec<_>>().join("\n");
    let public_key_file = dir.path().join("public-key.toml");
    std::fs::write(&public_key_file, &only_public_key).unwrap();
    let (ok, output) = check_async(
        public_key_file,
        vec![(
            "WC_PROVIDERS__WECHAT_PAY__WECHATPAY_PUBLIC_KEY_FILE",
            other_files.public_key.display().to_string(),
        )],
    )
    .await;
    assert!(!ok);
    assert!(output.contains("wechat_pay: FAILED") && output.contains("does not verify"), "{output}");

    // WeChat Pay refuses the merchant.
    mock.refuse_next(403, "NO_AUTH", "商户无权限");
    let (ok, output) = check_async(file, vec![]).await;
    assert!(!ok);
    assert!(output.contains("wechat_pay: FAILED") && output.contains("NO_AUTH"), "{output}");
}

#[tokio::test]
async fn a_missing_setting_is_named() {
    let (_mock, dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let without_mchid = toml.lines().filter(|l| !l.starts_with("mchid")).collect::<Vec<_>>().join("\n");
    let file = dir.path().join("wallet-checkout.toml");
    std::fs::write(&file, without_mchid).unwrap();
    let (ok, output) = check_async(file.clone(), vec![]).await;
    assert!(!ok);
    assert!(output.contains("missing field `mchid` for `providers.wechat_pay`"), "{output}");

    // Supplied by the environment instead, as a number.
    let (ok, output) = check_async(file, vec![("WC_PROVIDERS__WECHAT_PAY__MCHID", MCHID.to_owned())]).await;
    assert!(ok, "{output}");

    // Wrong values are named too.
    let short_key = toml.replace(&format!("apiv3_key = \"{}\"", _mock.apiv3_key()), "apiv3_key = \"short\"");
    let short_file = dir.path().join("short.toml");
    std::fs::write(&short_file, short_key).unwrap();
    let (ok, output) = check_async(short_file, vec![]).await;
    assert!(!ok);
    assert!(output.contains("apiv3_key must be the 32 characters"), "{output}");
    assert!(!output.contains("\"short\""), "{output}");

    let no_base = toml.lines().filter(|l| !l.starts_with("base_url")).collect::<Vec<_>>().join("\n");
    let no_base_file = dir.path().join("no-base.toml");
    std::fs::write(&no_base_file, no_base).unwrap();
    let (ok, output) = check_async(no_base_file, vec![]).await;
    assert!(!ok);
    assert!(output.contains("base_url is required with environment = \"sandbox\""), "{output}");
}

#[tokio::test]
async fn the_provider_and_its_settings_print_no_secret() {
    let (mock, dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let settings = wallet_checkout_server::providers::ProviderSettings::from_toml(&toml).unwrap();
    let printed = format!("{settings:?}");
    assert!(printed.contains("1900009191") && !printed.contains(mock.apiv3_key()), "{printed}");
    let provider = wallet_checkout_server::providers::wechat_pay::WechatPayProvider::new(
        settings.wechat_pay.as_ref().unwrap(),
        &wallet_checkout_server::providers::BuildContext {
            public_url: None,
            clock: std::sync::Arc::new(wallet_checkout_server::domain::SystemClock),
        },
    )
    .unwrap();
    let printed = format!("{provider:?}");
    assert!(!printed.contains(mock.apiv3_key()), "{printed}");
    let key_line = mock.merchant_private_key_pem().lines().nth(1).unwrap().to_owned();
    assert!(!printed.contains(&key_line));
    drop(dir);
}

/// The server binary, killed when dropped; everything it logs is kept.
struct Running {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary(config_file: &std::path::Path, data_dir: &std::path::Path) -> (Running, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .env("WC_CONFIG", config_file)
        .env("WC_DATA_DIR", data_dir)
        .env("WC_BIND", "127.0.0.1:0")
        .env("WC_SANDBOX", "false")
        .env("WC_DEMO_STORE", "true")
        .env("WC_ALLOWED_ORIGINS", "http://127.0.0.1")
        .env("WC_SESSION_RATE_PER_MINUTE", "0")
        .env("WC_PROVIDER_CHECK_MS", "200")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "trace,sqlx=info,h2=info,rustls=info,tokio=info,runtime=info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (sender, receiver) = std::sync::mpsc::channel();
    let streams: [Box<dyn std::io::Read + Send>; 2] =
        [Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    for stream in streams {
        let (log, sender) = (log.clone(), sender.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening address=").nth(1) {
                    let _ = sender.send(address.trim().to_owned());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    let running = Running { child, log: log.clone() };
    let address = receiver
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("the server did not start:\n{}", log.lock().unwrap()));
    (running, format!("http://{address}"))
}

#[tokio::test]
async fn the_servers_log_holds_no_secret_through_a_payment_and_a_forgery() {
    let (mock, dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let file = dir.path().join("wallet-checkout.toml");
    std::fs::write(&file, &toml).unwrap();
    let data = tempfile::TempDir::new().unwrap();
    let (server, base) = start_binary(&file, data.path());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let location = client.get(format!("{base}/")).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let order = location.rsplit('/').next().unwrap().to_owned();
    let session: Value = client
        .post(format!("{base}/api/checkout/sessions"))
        .header("Idempotency-Key", "log-1")
        .json(&session_body(&order, "wechat_pay"))
        .json_answer()
        .await;
    let session_id = id(&session);
    assert_eq!(mock.pay(&session_id).await.map(|d| d.0), Some(204));
    let forged = mock.payment_notification(&session_id, KeyChoice::Stranger).unwrap();
    assert_refused(mock.deliver(&forged).await);

    // The server writes its log as it goes: wait until it has written about both.
    let mut log = String::new();
    eventually("the server's log of the session and the refused notification", async || {
        log = server.log.lock().unwrap().clone();
        log.contains(&session_id) && log.contains("notification refused")
    })
    .await;
    assert!(!log.contains(mock.apiv3_key()), "the APIv3 key is not logged");
    for line in mock.merchant_private_key_pem().lines().filter(|line| !line.starts_with("-----")) {
        assert!(!log.contains(line), "no line of the private key is logged");
    }
    assert!(!log.contains("WECHATPAY2-SHA256-RSA2048 mchid"), "no Authorization header is logged");
}
