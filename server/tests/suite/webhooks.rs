//! Webhooks over real HTTP: a receiver in this test checks every signature the way the README
//! tells merchants to, refuses replays, and can fail on purpose to make the server retry.

use crate::helpers::make_key;
use crate::helpers::{eventually, spawn, spawn_with, JsonAnswer, TestApp};
use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use serde_json::{json, Value};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};
use wallet_checkout_server::domain::{Clock, SystemClock};
use wallet_checkout_server::{
    domain::Role,
    webhooks::{self, VerifyError, SIGNATURE_HEADER},
};

/// What the receiver saw.
#[derive(Default)]
struct Inbox {
    secret: String,
    /// Answer 500 to this many requests first.
    fail_first: usize,
    requests: usize,
    accepted: Vec<Value>,
    seen_ids: HashSet<String>,
    refused: Vec<String>,
}

type Shared = Arc<Mutex<Inbox>>;

async fn receive(State(inbox): State<Shared>, headers: HeaderMap, body: Bytes) -> axum::http::StatusCode {
    let mut inbox = inbox.lock().unwrap();
    inbox.requests += 1;
    if inbox.requests <= inbox.fail_first {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    }
    let body = String::from_utf8(body.to_vec()).unwrap();
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = SystemClock.now() / 1000;
    if let Err(error) = webhooks::verify(&inbox.secret, header, &body, now) {
        inbox.refused.push(format!("{error:?}"));
        return axum::http::StatusCode::BAD_REQUEST;
    }
    let event: Value = serde_json::from_str(&body).unwrap();
    let id = event["id"].as_str().unwrap().to_owned();
    // At least once: a repeated id is acknowledged, not processed again.
    if inbox.seen_ids.insert(id) {
        inbox.accepted.push(event);
    }
    axum::http::StatusCode::OK
}

async fn receiver(fail_first: usize) -> (String, Shared) {
    let inbox: Shared = Arc::new(Mutex::new(Inbox { fail_first, ..Inbox::default() }));
    let app = Router::new().route("/hooks", post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

/// Points the app's webhooks at `url` and gives the receiver the signing secret.
async fn subscribe(app: &TestApp, url: &str, inbox: &Shared) -> String {
    let store = app.store().await;
    let (_, admin) = make_key(&store, "hooks admin", Role::Admin, false, "test").await.unwrap();
    let endpoint: Value = app
        .client
        .put(app.url("/api/v1/webhook-endpoint"))
        .bearer_auth(&admin)
        .json(&json!({ "url": url }))
        .json_answer()
        .await;
    let secret = endpoint["secret"].as_str().expect("the secret, shown when the endpoint is made").to_owned();
    inbox.lock().unwrap().secret = secret.clone();
    admin
}

fn types(inbox: &Shared) -> Vec<String> {
    inbox.lock().unwrap().accepted.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_status_change_of_a_session_is_delivered_signed() {
    let app = spawn().await;
    let (url, inbox) = receiver(0).await;
    subscribe(&app, &url, &inbox).await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    app.sandbox(id, "approve").await;
    eventually("two events", async || types(&inbox).len() == 2).await;
    let mut kinds = types(&inbox);
    kinds.sort();
    assert_eq!(kinds, ["session.created", "session.succeeded"]);
    let inbox = inbox.lock().unwrap();
    assert!(inbox.refused.is_empty(), "{:?}", inbox.refused);
    let succeeded = inbox.accepted.iter().find(|e| e["type"] == "session.succeeded").unwrap();
    assert_eq!(succeeded["data"]["session"]["id"], id);
    assert_eq!(succeeded["data"]["session"]["status"], "succeeded");
    assert_eq!(succeeded["livemode"], false);
    assert!(succeeded["id"].as_str().unwrap().starts_with("evt_"));
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_they_are_received() {
    let app = spawn_with(|config| config.webhook_retry_base_ms = 50).await;
    let (url, inbox) = receiver(3).await;
    let admin = subscribe(&app, &url, &inbox).await;
    let session = app.new_session("alipay").await;
    eventually("the created event", async || types(&inbox) == ["session.created"]).await;
    assert!(inbox.lock().unwrap().requests >= 4, "three failures, then a success");
    let events: Value = app
        .client
        .get(app.url(&format!("/api/v1/events?session={}", session["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .json_answer()
        .await;
    let delivery = &events["data"][0]["delivery"];
    assert_eq!(delivery["state"], "delivered");
    assert_eq!(delivery["attempts"], 4);
}

#[tokio::test]
async fn an_event_no_endpoint_can_receive_is_kept_and_marked_skipped() {
    let app = spawn().await;
    let store = app.store().await;
    let (_, admin) = make_key(&store, "admin", Role::Admin, false, "test").await.unwrap();
    let session = app.new_session("paypal").await;
    let url = app.url(&format!("/api/v1/events?session={}", session["id"].as_str().unwrap()));
    eventually("the event to be skipped", async || {
        let events: Value = app.client.get(&url).bearer_auth(&admin).json_answer().await;
        if events["data"][0]["delivery"]["state"] == "skipped" {
            assert_eq!(events["data"][0]["type"], "session.created");
            return true;
        }
        false
    })
    .await;
}

#[test]
fn a_receiver_refuses_tampered_bodies_and_replayed_signatures() {
    let body = r#"{"id":"evt_1","type":"session.succeeded"}"#;
    let header = webhooks::signature_header("whsec_test", 1_700_000_000, body);
    assert_eq!(webhooks::verify("whsec_test", &header, body, 1_700_000_060), Ok(()));
    let tampered = body.replace("succeeded", "failed");
    assert_eq!(
        webhooks::verify("whsec_test", &header, &tampered, 1_700_000_060),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        webhooks::verify("whsec_test", &header, body, 1_700_003_600),
        Err(VerifyError::TooOld),
        "a replay an hour later"
    );
}

#[tokio::test]
async fn a_late_approval_reaches_the_merchant_as_an_event() {
    let app = spawn().await;
    let (url, inbox) = receiver(0).await;
    subscribe(&app, &url, &inbox).await;
    let session = app.new_session("wechat_pay").await;
    let id = session["id"].as_str().unwrap();
    // The wallet takes the payment only after the session expired.
    app.sandbox(id, "pay-after-expiry").await;
    app.advance_to_late_payment(id).await;
    eventually("the late approval", async || types(&inbox).contains(&"session.late_approval".to_owned()))
        .await;
    let inbox = inbox.lock().unwrap();
    let late = inbox.accepted.iter().find(|e| e["type"] == "session.late_approval").unwrap();
    assert_eq!(late["data"]["flag"], "late_approval");
    assert_eq!(late["data"]["session"]["status"], "expired");
}
