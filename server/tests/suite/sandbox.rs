//! The sandbox wallet as a wallet: it keeps its own record, notifies the server over HTTP with a
//! signed notification (a forged one changes nothing), refuses to be paid once its code expired,
//! and carries out the scripted outcomes a merchant tests with.

use crate::helpers::{spawn, JsonAnswer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wallet_checkout_contract::SessionId;
use wallet_checkout_server::domain::{Clock, SystemClock};

#[tokio::test]
async fn the_pay_page_offers_every_scripted_outcome() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let page =
        app.client.get(app.url(&format!("/sandbox/pay/{id}"))).send().await.unwrap().text().await.unwrap();
    for path in ["approve", "decline", "process-then-fail", "pay-after-expiry"] {
        assert!(page.contains(&format!("action=\"/sandbox/pay/{id}/{path}\"")), "{path}");
    }
    let unknown = app.client.post(app.url(&format!("/sandbox/pay/{id}/steal"))).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn approved_then_failed_while_processing() {
    let app = spawn().await;
    let session = app.new_session("alipay").await;
    let id = session["id"].as_str().unwrap();
    let page = app.sandbox(id, "process-then-fail").await.text().await.unwrap();
    assert!(page.contains("Payment processing"), "{page}");
    assert_eq!(app.get_session(id).await["status"], json!("processing"));
    let started = Instant::now();
    let failed: Value =
        app.client.get(app.api(&format!("/sessions/{id}?wait=15&status=processing"))).json_answer().await;
    assert_eq!(failed["status"], json!("failed"));
    assert!(started.elapsed() < Duration::from_secs(10));
    let history = app.store().await.history(&SessionId::parse(id).unwrap()).await.unwrap();
    let reasons: Vec<&str> = history.iter().map(|c| c.reason.as_str()).collect();
    assert_eq!(reasons, ["created", "approved", "declined"]);
}

#[tokio::test]
async fn a_code_that_expired_no_longer_pays() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    app.clock.advance(app.session_ttl() + Duration::from_secs(1));
    let page = app.sandbox(id, "approve").await.text().await.unwrap();
    assert!(page.contains("Payment expired"), "{page}");
    let stored = app.store().await.session(&SessionId::parse(id).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.paid_at, None, "no money moved");
    assert_eq!(stored.flag, None);
}

#[tokio::test]
async fn a_forged_sandbox_notification_changes_nothing() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let body = json!({
        "id": "ntf_forged", "session_id": id, "trade_no": "sbx_x", "status": "paid",
        "amount": session["amount"],
    })
    .to_string();
    for signature in [
        None,
        Some("t=1,v1=00".to_owned()),
        Some(wallet_checkout_server::webhooks::signature_header("guess", SystemClock.now() / 1000, &body)),
    ] {
        let mut request = app
            .client
            .post(app.url("/api/providers/sandbox/notify"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(signature) = signature.as_deref() {
            request = request.header("Sandbox-Signature", signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{signature:?}");
    }
    assert_eq!(app.get_session(id).await["status"], json!("pending"));
    let unknown =
        app.client.post(app.url("/api/providers/carrier_pigeon/notify")).body("{}").send().await.unwrap();
    assert_eq!(crate::helpers::error_code(unknown, 404).await, "not_found");
}
