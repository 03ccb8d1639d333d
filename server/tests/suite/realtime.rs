//! Status the moment it changes, and correct under concurrency: waiting reads, expiry on time,
//! late approvals, and an order paid at most once.

use crate::helpers::{error_code, eventually, spawn, JsonAnswer};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wallet_checkout_contract::{OrderId, OrderStatus, SessionId};
use wallet_checkout_server::domain::Flag;
use wallet_checkout_server::domain::{Clock, SystemClock};

#[tokio::test]
async fn a_waiting_read_returns_as_soon_as_the_status_changes() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap().to_owned();
    let url = app.api(&format!("/sessions/{id}?wait=25&status=pending"));
    let client = app.client.clone();
    let waiting = tokio::spawn(async move {
        let answer: Value = client.get(url).json_answer().await;
        (answer, Instant::now())
    });
    let ready = app.url("/readyz");
    eventually("the read is waiting", async || {
        let ready: Value = app.client.get(&ready).json_answer().await;
        ready["waiting_reads"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let approved_at = Instant::now();
    app.sandbox(&id, "approve").await;
    let (answer, answered_at) = waiting.await.unwrap();
    assert_ne!(answer["status"], json!("pending"));
    let latency = answered_at.saturating_duration_since(approved_at);
    assert!(latency < Duration::from_secs(2), "answered {latency:?} after the approval");
}

#[tokio::test]
async fn a_waiting_read_without_a_change_answers_when_the_wait_is_over() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let started = Instant::now();
    let answer: Value = app.client.get(app.api(&format!("/sessions/{id}?wait=1"))).json_answer().await;
    let elapsed = started.elapsed();
    assert_eq!(answer["status"], json!("pending"));
    assert!(elapsed >= Duration::from_millis(950) && elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_waiting_read_answers_at_once_when_the_status_already_differs() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    app.sandbox(id, "approve").await;
    let started = Instant::now();
    let answer: Value =
        app.client.get(app.api(&format!("/sessions/{id}?wait=25&status=pending"))).json_answer().await;
    assert_eq!(answer["status"], json!("succeeded"));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn bad_wait_parameters_get_the_error_body() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    for query in ["wait=soon", "wait=-1", "wait=1.5", "status=paid", "wait=5&status="] {
        let response = app.client.get(app.api(&format!("/sessions/{id}?{query}"))).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{query}");
    }
}

#[tokio::test]
async fn sessions_expire_on_time_without_anyone_reading_them() {
    let app = spawn().await;
    let session = app.new_session("alipay").await;
    let id = SessionId::parse(session["id"].as_str().unwrap()).unwrap();
    // Its time runs out, and the sweep (which runs however no one reads) expires it.
    app.advance_past_session_ttl().await;
    // Straight from the database: no read through the API has happened.
    let store = app.store().await;
    let stored = store.session(&id).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "expired");
    let history = store.history(&id).await.unwrap();
    assert_eq!(history.last().unwrap().reason, "expired");
}

#[tokio::test]
async fn a_waiting_read_hears_the_expiry() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let read = async {
        let answer: Value = app.client.get(app.api(&format!("/sessions/{id}?wait=25"))).json_answer().await;
        (answer, Instant::now())
    };
    // The session's time runs out while the read waits.
    let expire = async {
        app.until_a_read_waits().await;
        let expired_at = Instant::now();
        app.advance_past_session_ttl().await;
        expired_at
    };
    let ((answer, answered_at), expired_at) = tokio::join!(read, expire);
    assert_eq!(answer["status"], json!("expired"));
    let latency = answered_at.saturating_duration_since(expired_at);
    assert!(latency < Duration::from_secs(2), "answered {latency:?} after the time ran out");
}

#[tokio::test]
async fn a_late_payment_is_recorded_and_flagged_not_turned_into_a_payment() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    let page = app.sandbox(id, "pay-after-expiry").await.text().await.unwrap();
    assert!(page.contains("Payment scheduled"), "{page}");
    // The session's time runs out while a read waits, and the wallet pays a second later.
    let read = app.client.get(app.api(&format!("/sessions/{id}?wait=10"))).json_answer();
    let expire_and_pay = async {
        app.until_a_read_waits().await;
        app.advance_to_late_payment(id).await;
    };
    let (expired, ()) = tokio::join!(read, expire_and_pay);
    assert_eq!(expired["status"], json!("expired"));
    let store = app.store().await;
    let session_id = SessionId::parse(id).unwrap();
    eventually("the late payment to arrive", async || {
        store.session(&session_id).await.unwrap().unwrap().flag.is_some()
    })
    .await;
    assert_eq!(app.get_session(id).await["status"], json!("expired"));

    let stored = store.session(&session_id).await.unwrap().unwrap();
    assert_eq!(stored.flag, Some(Flag::LateApproval));
    assert!(stored.paid_at.is_some(), "the money moved: it can be refunded");
    let reasons: Vec<String> =
        store.history(&session_id).await.unwrap().into_iter().map(|c| c.reason).collect();
    assert_eq!(reasons, ["created", "expired", "late_confirmation"]);
    let order =
        store.order(&OrderId::parse(session["order_id"].as_str().unwrap()).unwrap()).await.unwrap().unwrap();
    assert_eq!(order.status, OrderStatus::Open);
}

#[tokio::test]
async fn an_order_is_paid_once_even_when_two_sessions_are_approved() {
    let app = spawn().await;
    let order = app.new_order().await;
    let first = app.session_for(&order, "wechat_pay").await;
    let second = app.session_for(&order, "alipay").await;
    let (first_id, second_id) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    let (a, b) = tokio::join!(app.sandbox(first_id, "approve"), app.sandbox(second_id, "approve"));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));

    let store = app.store().await;
    let stored_order = store.order(&OrderId::parse(order).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored_order.status, OrderStatus::Paid);
    let paid_by = stored_order.paid_session_id.unwrap();
    let other = if paid_by.as_str() == first_id { second_id } else { first_id };
    let other = store.session(&SessionId::parse(other).unwrap()).await.unwrap().unwrap();
    assert_eq!(other.status.as_str(), "succeeded", "the wallet took the money");
    assert_eq!(other.flag, Some(Flag::RefundDue), "and it goes back");
    let payer = store.session(&paid_by).await.unwrap().unwrap();
    assert_eq!(payer.flag, None);
}

#[tokio::test]
async fn a_payment_whose_notification_never_came_is_settled_with_the_wallet() {
    let app = spawn().await;
    let session = app.new_session("wechat_pay").await;
    let id = SessionId::parse(session["id"].as_str().unwrap()).unwrap();
    // Approved, paid at the wallet, and then nothing: as if the wallet's notification was lost.
    let store = app.store().await;
    let now = SystemClock.now();
    store.apply(&id, wallet_checkout_server::domain::SessionEvent::Approved, now).await.unwrap();
    assert!(store.move_sandbox_payment(id.as_str(), &["pending"], "paid", None, None, now).await.unwrap());
    assert_eq!(app.get_session(id.as_str()).await["status"], json!("processing"));
    let started = Instant::now();
    let answer: Value =
        app.client.get(app.api(&format!("/sessions/{id}?wait=10&status=processing"))).json_answer().await;
    assert_eq!(answer["status"], json!("succeeded"));
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
}
