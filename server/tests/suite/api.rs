//! Black-box tests of the widget-facing contract over real HTTP.

use crate::helpers::{error_code, session_body, spawn, spawn_with, JsonAnswer};
use serde_json::{json, Value};

#[tokio::test]
async fn order_lists_the_sandbox_wallets_in_test_mode() {
    let app = spawn().await;
    let order = app.new_order().await;
    let body: Value = app.client.get(app.api(&format!("/orders/{order}"))).json_answer().await;
    assert_eq!(body["order"]["id"], json!(order));
    assert_eq!(body["order"]["status"], json!("open"));
    assert!(body["order"]["amount"]["minor_units"].as_u64().unwrap() > 0);
    assert_eq!(body["livemode"], json!(false));
    let names: Vec<&str> =
        body["wallets"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["WeChat Pay", "Alipay", "PayPal"]);
}

#[tokio::test]
async fn unknown_order_is_not_found_with_the_error_body() {
    let app = spawn().await;
    let response = app.client.get(app.api("/orders/ord_missing")).send().await.unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
}

#[tokio::test]
async fn malformed_order_id_is_a_bad_request() {
    let app = spawn().await;
    let response = app.client.get(app.api("/orders/a%20b")).send().await.unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn wechat_pay_session_shows_a_qr_code_of_the_sandbox_pay_page() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    assert_eq!(session["status"], json!("pending"));
    assert_eq!(session["wallet_id"], json!("wechat_pay"));
    assert_eq!(session["next_action"]["type"], json!("qr"));
    let payload = session["next_action"]["payload"].as_str().unwrap();
    assert_eq!(payload, app.url(&format!("/sandbox/pay/{}", session["id"].as_str().unwrap())));
    let secs = session["expires_in_secs"].as_u64().unwrap();
    assert!((890..=900).contains(&secs), "expires_in_secs = {secs}");
    assert!(session["expires_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn session_amount_comes_from_the_order_not_the_request() {
    let app = spawn().await;
    let order_id = app.new_order().await;
    let order: Value = app.client.get(app.api(&format!("/orders/{order_id}"))).json_answer().await;
    let mut body = session_body(&order_id, "alipay");
    body["amount"] = json!({"minor_units": 1, "currency": "CNY"});
    let session: Value = app.create_session("amount-key", &body).await.json().await.unwrap();
    assert_eq!(session["amount"], order["order"]["amount"]);
}

#[tokio::test]
async fn same_idempotency_key_returns_the_same_session() {
    let app = spawn().await;
    let order = app.new_order().await;
    let body = session_body(&order, "wechat_pay");
    let first = app.create_session("same-key", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app.create_session("same-key", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["next_action"], again["next_action"]);
    let other: Value = app.create_session("other-key", &body).await.json().await.unwrap();
    assert_ne!(first["id"], other["id"]);
}

#[tokio::test]
async fn reused_key_with_a_different_request_is_refused() {
    let app = spawn().await;
    let order = app.new_order().await;
    assert_eq!(app.create_session("k1", &session_body(&order, "wechat_pay")).await.status(), 201);
    let response = app.create_session("k1", &session_body(&order, "alipay")).await;
    assert_eq!(error_code(response, 422).await, "idempotency_conflict");
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_session() {
    let app = spawn().await;
    let order = app.new_order().await;
    let body = session_body(&order, "wechat_pay");
    let requests = (0..10).map(|_| app.create_session("race-key", &body));
    let responses = futures::future::join_all(requests).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let session: Value = response.json().await.unwrap();
        ids.push(session["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one session for one key: {ids:?}");
}

#[tokio::test]
async fn missing_idempotency_key_is_refused() {
    let app = spawn().await;
    let order = app.new_order().await;
    let response =
        app.client.post(app.api("/sessions")).json(&session_body(&order, "paypal")).send().await.unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn malformed_json_gets_the_error_body() {
    let app = spawn().await;
    let response = app
        .client
        .post(app.api("/sessions"))
        .header("Idempotency-Key", "k")
        .header("Content-Type", "application/json")
        .body("{\"order_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn wrong_shapes_and_values_get_the_error_body() {
    let app = spawn().await;
    let order = app.new_order().await;
    let cases = [
        json!({"order_id": order, "wallet_id": "paypal", "device": "desktop"}),
        json!({"order_id": order, "wallet_id": "paypal", "return_url": "javascript:alert(1)", "device": "desktop"}),
        json!({"order_id": order, "wallet_id": "paypal", "return_url": "https://a.example/", "device": "toaster"}),
        json!({"order_id": "../x", "wallet_id": "paypal", "return_url": "https://a.example/", "device": "desktop"}),
        json!([1, 2, 3]),
    ];
    for (i, body) in cases.iter().enumerate() {
        let response = app.create_session(&format!("shape-{i}"), body).await;
        assert_eq!(error_code(response, 400).await, "invalid_request", "case {i}: {body}");
    }
}

#[tokio::test]
async fn body_without_json_content_type_gets_the_error_body() {
    let app = spawn().await;
    let response =
        app.client.post(app.api("/sessions")).header("Idempotency-Key", "k").body("{}").send().await.unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn oversized_body_gets_the_error_body() {
    let app = spawn().await;
    let huge = json!({"order_id": "ord_1", "wallet_id": "paypal", "return_url": "x".repeat(100_000), "device": "desktop"});
    let response = app.create_session("huge", &huge).await;
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn unknown_wallet_is_unavailable() {
    let app = spawn().await;
    let order = app.new_order().await;
    let response = app.create_session("k", &session_body(&order, "carrier_pigeon")).await;
    assert_eq!(error_code(response, 422).await, "wallet_unavailable");
}

#[tokio::test]
async fn unknown_order_cannot_get_a_session() {
    let app = spawn().await;
    let response = app.create_session("k", &session_body("ord_nope", "paypal")).await;
    assert_eq!(error_code(response, 404).await, "not_found");
}

#[tokio::test]
async fn unknown_api_paths_and_methods_get_the_error_body() {
    let app = spawn().await;
    let response = app.client.get(app.api("/nothing/here")).send().await.unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
    let response = app.client.delete(app.api("/sessions")).send().await.unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
}

#[tokio::test]
async fn approval_on_the_pay_page_makes_the_session_succeed_and_pays_the_order() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let page = app.client.get(app.url(&format!("/sandbox/pay/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("WeChat Pay") && page.contains("Approve payment"));

    let approved = app.sandbox(id, "approve").await;
    assert_eq!(approved.status(), 200);
    assert!(approved.text().await.unwrap().contains("Payment approved"));

    let session = app.get_session(id).await;
    assert_eq!(session["status"], json!("succeeded"));
    assert_eq!(session["next_action"], Value::Null);
    let order: Value = app
        .client
        .get(app.api(&format!("/orders/{}", session["order_id"].as_str().unwrap())))
        .json_answer()
        .await;
    assert_eq!(order["order"]["status"], json!("paid"));
}

#[tokio::test]
async fn paid_order_refuses_new_sessions() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;
    let order = session["order_id"].as_str().unwrap();
    let response = app.create_session("after-paid", &session_body(order, "alipay")).await;
    assert_eq!(error_code(response, 409).await, "order_not_payable");
}

#[tokio::test]
async fn decline_fails_the_session_and_keeps_the_order_open() {
    let app = spawn().await;
    let session = app.new_session("alipay").await;
    let id = session["id"].as_str().unwrap();
    app.sandbox(id, "decline").await;
    assert_eq!(app.get_session(id).await["status"], json!("failed"));
    let order = session["order_id"].as_str().unwrap();
    assert_eq!(app.create_session("retry", &session_body(order, "wechat_pay")).await.status(), 201);
}

#[tokio::test]
async fn paypal_redirect_returns_the_shopper_with_the_session_id() {
    let app = spawn().await;
    let session = app.new_session("paypal").await;
    assert_eq!(session["next_action"]["type"], json!("redirect"));
    let id = session["id"].as_str().unwrap();
    assert_eq!(session["next_action"]["url"], json!(app.url(&format!("/sandbox/pay/{id}"))));
    let response = app.sandbox(id, "approve").await;
    assert_eq!(response.status(), 303);
    let order = session["order_id"].as_str().unwrap();
    assert_eq!(
        response.headers()["location"],
        format!("http://127.0.0.1/store/orders/{order}?wc_session={id}").as_str()
    );
}

#[tokio::test]
async fn cancel_ends_a_pending_session_and_is_idempotent() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    for _ in 0..2 {
        let response = app.client.post(app.api(&format!("/sessions/{id}/cancel"))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], json!("canceled"));
    }
    let approve = app.sandbox(id, "approve").await.text().await.unwrap();
    assert!(approve.contains("Payment canceled"));
    assert_eq!(app.get_session(id).await["status"], json!("canceled"));
}

#[tokio::test]
async fn paid_session_cannot_be_canceled() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    app.sandbox(id, "approve").await;
    let response = app.client.post(app.api(&format!("/sessions/{id}/cancel"))).send().await.unwrap();
    assert_eq!(error_code(response, 409).await, "session_final");
}

#[tokio::test]
async fn expired_session_refuses_approval() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    // Past its time, and not yet swept: the wallet no longer pays its code.
    app.clock.advance(app.session_ttl() + std::time::Duration::from_secs(1));
    let page = app.sandbox(id, "approve").await.text().await.unwrap();
    assert!(page.contains("Payment expired"), "{page}");
    // The wallet closed the code; the sweep expires the session.
    app.sweep().await;
    let session = app.get_session(id).await;
    assert_eq!(session["status"], json!("expired"));
    assert_eq!(session["expires_in_secs"], json!(0));
}

#[tokio::test]
async fn unknown_session_is_not_found() {
    let app = spawn().await;
    let response = app.client.get(app.api("/sessions/ses_nope")).send().await.unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
    let page = app.client.get(app.url("/sandbox/pay/ses_nope")).send().await.unwrap();
    assert_eq!(page.status(), 404);
}

#[tokio::test]
async fn sandbox_routes_are_absent_in_live_mode() {
    let app = spawn_with(|config| config.sandbox = false).await;
    let response = app.client.get(app.url("/sandbox/pay/ses_x")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
