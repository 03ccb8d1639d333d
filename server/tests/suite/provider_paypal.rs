//! PayPal Orders v2 over real HTTP, against the PayPal mock (its REST API, approval flow, signed
//! webhooks and signature postback): every way a payment ends, refunds, PayPal failing, hostile
//! webhooks, and the settings and `providers check` of the real binary.

use crate::helpers::id;
use crate::helpers::{
    error_code, eventually, eventually_within,
    paypal::{self, now_rfc3339, with_header, PayPal},
    session_body, JsonAnswer,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use wallet_checkout_mocks::{
    paypal::{CaptureOutcome, PayPalMock, RefundOutcome},
    Keys,
};

/// PayPal's id of one of our refunds (kept by the server, not shown by the API).
async fn paypal_refund_id(paypal: &PayPal, refund: &Value) -> String {
    let record = paypal.app.store().await.refund(id(refund)).await.unwrap().expect("the refund");
    record.provider_refund_id.expect("PayPal's refund id")
}

/// The session as the merchant sees it (flag, references, history).
async fn merchant_session(paypal: &PayPal, order: &str) -> Value {
    paypal.merchant_order(order).await["sessions"][0].clone()
}

#[tokio::test]
async fn the_order_is_made_as_paypal_wants_it_and_the_shopper_goes_to_its_payer_action_page() {
    let paypal = paypal::start().await;
    let (_, session) = paypal.session().await;
    let order_id = paypal.paypal_order(&session);
    assert_eq!(
        session["next_action"],
        json!({ "type": "redirect", "url": format!("{}/checkoutnow?token={order_id}", paypal.mock.base()) })
    );
    let order = paypal.mock.order_json(&order_id).unwrap();
    assert_eq!(order["intent"], "CAPTURE");
    assert_eq!(order["status"], "PAYER_ACTION_REQUIRED");
    let unit = &order["purchase_units"][0];
    for field in ["reference_id", "custom_id", "invoice_id"] {
        assert_eq!(unit[field], session["id"], "{field} is the session id");
    }
    assert_eq!(unit["amount"], json!({ "currency_code": "USD", "value": "12.50" }));
    assert_eq!(unit["description"], "Jasmine tea");
    // The approval page shows what is paid, to whom, and pays now.
    let page = paypal.app.client.get(session["next_action"]["url"].as_str().unwrap()).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("USD 12.50") && page.contains("Pay Now") && page.contains("Mock Tea House"),
        "{page}"
    );
    // The merchant sees PayPal's order id.
    let merchant_order = paypal.merchant_order(session["order_id"].as_str().unwrap()).await;
    assert_eq!(merchant_order["sessions"][0]["provider_references"]["order_id"], order_id.as_str());
}

#[tokio::test]
async fn approval_then_return_captures_once_and_sends_the_shopper_back_to_the_store() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]); // the return alone
    let (order, session) = paypal.session().await;
    let session_id = id(&session).to_owned();

    let back = paypal.approve_and_return(&session).await;
    assert_eq!(back.status(), 303);
    assert_eq!(
        back.headers()["location"].to_str().unwrap(),
        format!("http://127.0.0.1/store/orders/{order}?wc_session={session_id}")
    );
    let paid = paypal.app.get_session(&session_id).await;
    assert_eq!(paid["status"], "succeeded", "paid by the time the shopper is back");
    assert_eq!(paypal.mock.calls("capture"), 1);

    let seen = merchant_session(&paypal, &order).await;
    let capture = paypal.mock.capture_json(&paypal.paypal_order(&session)).unwrap();
    assert_eq!(seen["provider_references"]["capture_id"], capture["id"]);
    assert_eq!(capture["status"], "COMPLETED");
    assert!(seen["paid_at"].is_string());

    // Coming back again (a reload) captures nothing more.
    let again = paypal
        .app
        .client
        .get(paypal.mock.approve(&paypal.paypal_order(&session)).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    assert_eq!(paypal.mock.calls("capture"), 1);
    assert_eq!(paypal.merchant_order(&order).await["status"], "paid");
}

#[tokio::test]
async fn the_approval_webhook_alone_captures_and_the_capture_webhook_changes_nothing_more() {
    let paypal = paypal::start().await;
    let (_, session) = paypal.session().await;
    // The shopper approves and closes the tab: only PayPal's webhooks come.
    paypal.mock.approve(&paypal.paypal_order(&session)).unwrap();
    paypal.wait_for(id(&session), "succeeded").await;
    // CHECKOUT.ORDER.APPROVED (verified by postback, captured) then PAYMENT.CAPTURE.COMPLETED.
    eventually_within("two events delivered", Duration::from_secs(15), async || {
        paypal.mock.deliveries().len() >= 2
    })
    .await;
    let deliveries = paypal.mock.deliveries();
    assert!(deliveries.iter().all(|d| d.status == Some(200)), "every event answered 2xx: {deliveries:?}");
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert!(types.contains(&"CHECKOUT.ORDER.APPROVED") && types.contains(&"PAYMENT.CAPTURE.COMPLETED"));
    assert_eq!(paypal.mock.calls("capture"), 1);
    assert!(paypal.mock.calls("verify") >= 2, "each event was verified with PayPal");
}

#[tokio::test]
async fn without_return_or_webhook_the_reconciliation_captures() {
    // provider_check_ms is a minute (start): PayPal is asked a minute after the session is made,
    // then two minutes after that, by the server's clock.
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    let (_, session) = paypal.session().await;
    let half = Duration::from_secs(30);
    paypal.app.advance(half).await;
    assert_eq!(paypal.mock.calls("get_order"), 0, "not asked before provider_check_ms");
    paypal.app.advance(half).await;
    let asked = paypal.mock.calls("get_order");
    assert!(asked >= 1, "the sweep asked PayPal after provider_check_ms");
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "pending");

    paypal.mock.approve(&paypal.paypal_order(&session)).unwrap();
    paypal.app.advance(2 * half).await;
    assert_eq!(paypal.mock.calls("get_order"), asked, "the next question waits twice as long");
    paypal.app.advance(2 * half).await;
    // The background sweep may be the one asking at that moment: its capture is awaited.
    paypal.wait_for(id(&session), "succeeded").await;
    assert_eq!(paypal.mock.calls("capture"), 1);
    assert!(paypal.mock.calls("get_order") > asked, "the sweep asked PayPal again");
}

#[tokio::test]
async fn a_capture_whose_answer_was_lost_is_found_paid_at_expiry_not_expired() {
    // The capture call times out, PayPal captures anyway; nothing more is asked until the
    // session's time is up (provider_check_ms is long), when PayPal says it is paid.
    let paypal = paypal::start_with("timeout_ms = 300\n", |config| config.provider_check_ms = 60_000).await;
    paypal.mock.set_webhook_events(&[]);
    let (order, session) = paypal.session().await;
    paypal.mock.slow_next(Some("capture"), Duration::from_millis(900));
    let back = paypal.approve_and_return(&session).await;
    assert_eq!(back.status(), 303, "the shopper goes back to the store anyway");
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "pending");

    paypal.app.advance_past_session_ttl().await;
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
    let seen = merchant_session(&paypal, &order).await;
    assert!(seen["flag"].is_null(), "{seen}");
    let reasons: Vec<&str> =
        seen["history"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
    assert!(!reasons.contains(&"expired"), "{reasons:?}");
    assert_eq!(paypal.mock.capture_json(&paypal.paypal_order(&session)).unwrap()["status"], "COMPLETED");
}

#[tokio::test]
async fn an_approval_found_only_after_expiry_is_never_captured() {
    let paypal = paypal::start_with("", |config| config.provider_check_ms = 60_000).await;
    paypal.mock.set_webhook_events(&[]);
    let (order, session) = paypal.session().await;
    // Approved at PayPal, but the server hears of it only when the session's time is up.
    let back = paypal.mock.approve(&paypal.paypal_order(&session)).unwrap();
    paypal.app.advance_past_session_ttl().await;
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "expired");
    // The shopper's return comes late too, and PayPal's approval webhook.
    assert_eq!(paypal.app.client.get(back).send().await.unwrap().status(), 303);
    let approved = paypal.mock.event(
        "CHECKOUT.ORDER.APPROVED",
        "checkout-order",
        &paypal.mock.order_json(&paypal.paypal_order(&session)).unwrap(),
    );
    assert_eq!(paypal.notify(&approved, &paypal.signed(&approved)).await.status(), 200);

    assert_eq!(paypal.mock.calls("capture"), 0, "no money is taken after expiry");
    assert_eq!(paypal.mock.order_json(&paypal.paypal_order(&session)).unwrap()["status"], "APPROVED");
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "expired");
    assert_eq!(merchant_session(&paypal, &order).await["flag"], "late_approval");
}

#[tokio::test]
async fn canceling_on_paypal_cancels_the_session_and_a_later_approval_is_not_captured() {
    let paypal = paypal::start().await;
    let (order, session) = paypal.session().await;
    let calls_before: u64 =
        ["create_order", "get_order", "capture"].iter().map(|op| paypal.mock.calls(op)).sum();
    // PayPal's cancel link names its order as `token`.
    let cancel = paypal.app.url(&format!(
        "/api/providers/paypal/cancel/{}?token={}",
        id(&session),
        paypal.paypal_order(&session)
    ));
    let back = paypal.app.client.get(cancel).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(
        back.headers()["location"].to_str().unwrap(),
        format!("http://127.0.0.1/store/orders/{order}?wc_session={}", id(&session))
    );
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "canceled");
    // PayPal has no call to void an order: close asks nothing of it.
    let calls_after: u64 =
        ["create_order", "get_order", "capture"].iter().map(|op| paypal.mock.calls(op)).sum();
    assert_eq!(calls_after, calls_before);

    // The shopper goes back to PayPal's page anyway and approves: the webhook comes, no capture.
    paypal.mock.approve(&paypal.paypal_order(&session)).unwrap();
    eventually_within("the approval delivered", Duration::from_secs(15), async || {
        !paypal.mock.deliveries().is_empty()
    })
    .await;
    assert_eq!(paypal.mock.deliveries()[0].status, Some(200));
    assert_eq!(paypal.mock.calls("capture"), 0);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "canceled");
}

/// Regression: the cancel link canceled on the session id alone (which shows in links and QR
/// codes), ignoring `token`: after the shopper approved, a cancel with a wrong token canceled the
/// session and the real return captured nothing.
#[tokio::test]
async fn a_cancel_link_without_the_sessions_paypal_order_cancels_nothing() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    let (_, session) = paypal.session().await;
    let back = paypal.mock.approve(&paypal.paypal_order(&session)).unwrap();
    for query in ["", "?token=WRONG", "?token=", "?PayerID=X"] {
        let cancel = paypal.app.url(&format!("/api/providers/paypal/cancel/{}{query}", id(&session)));
        let answer = paypal.app.client.get(cancel).send().await.unwrap();
        assert_eq!(answer.status(), 303, "back to the store, {query:?}");
        assert_eq!(
            paypal.app.get_session(id(&session)).await["status"],
            "pending",
            "{query:?} cancels nothing"
        );
    }
    assert_eq!(paypal.app.client.get(back).send().await.unwrap().status(), 303);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded", "the real return captures");
    assert_eq!(paypal.mock.calls("capture"), 1);
}

#[tokio::test]
async fn the_widget_canceling_a_session_asks_nothing_of_paypal() {
    let paypal = paypal::start().await;
    let (_, session) = paypal.session().await;
    let created = paypal.mock.calls("create_order");
    let canceled: Value = paypal
        .app
        .client
        .post(paypal.app.api(&format!("/sessions/{}/cancel", id(&session))))
        .json_answer()
        .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(paypal.mock.calls("create_order"), created);
    assert_eq!(paypal.mock.calls("get_order") + paypal.mock.calls("capture"), 0);
}

#[tokio::test]
async fn a_declined_capture_fails_the_session() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    paypal.mock.set_capture_outcome(CaptureOutcome::Declined);
    let (_, session) = paypal.session().await;
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "failed");
}

#[tokio::test]
async fn a_funding_source_paypal_declines_at_capture_fails_the_session() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    paypal.mock.set_capture_outcome(CaptureOutcome::InstrumentDeclined);
    let (order, session) = paypal.session().await;
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "failed");
    let reasons: Vec<String> = merchant_session(&paypal, &order).await["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["reason"].as_str().unwrap().to_owned())
        .collect();
    assert!(reasons.contains(&"declined".to_owned()), "{reasons:?}");
}

#[tokio::test]
async fn a_pending_capture_is_processing_until_paypal_completes_it_and_events_without_our_id_find_the_order()
{
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    paypal.mock.set_capture_outcome(CaptureOutcome::Pending);
    let (order, session) = paypal.session().await;
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "processing");

    // PayPal completes the capture; its event carries no custom_id, only the order's id.
    let order_id = paypal.paypal_order(&session);
    assert!(paypal.mock.settle_capture(&order_id, true));
    let mut capture = paypal.mock.capture_json(&order_id).unwrap();
    capture.as_object_mut().unwrap().remove("custom_id");
    let event = paypal.mock.event("PAYMENT.CAPTURE.COMPLETED", "capture", &capture);
    assert_eq!(paypal.notify(&event, &paypal.signed(&event)).await.status(), 200);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
    assert_eq!(merchant_session(&paypal, &order).await["provider_references"]["capture_id"], capture["id"]);
}

#[tokio::test]
async fn a_denied_pending_capture_fails_the_session_through_the_webhook() {
    let paypal = paypal::start().await;
    paypal.mock.set_capture_outcome(CaptureOutcome::Pending);
    let (_, session) = paypal.session().await;
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    paypal.wait_for(id(&session), "processing").await;
    assert!(paypal.mock.settle_capture(&paypal.paypal_order(&session), false));
    paypal.wait_for(id(&session), "failed").await;
}

#[tokio::test]
async fn an_order_captured_elsewhere_answers_already_captured_and_is_read_back() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    let (_, session) = paypal.session().await;
    let order_id = paypal.paypal_order(&session);
    paypal.mock.approve(&order_id).unwrap();
    let approved = paypal.mock.event(
        "CHECKOUT.ORDER.APPROVED",
        "checkout-order",
        &paypal.mock.order_json(&order_id).unwrap(),
    );
    // Another system captures with its own PayPal-Request-Id first.
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{}/v1/oauth2/token", paypal.mock.base()))
        .basic_auth(paypal.mock.client_id(), Some(paypal.mock.client_secret()))
        .body("grant_type=client_credentials")
        .header("content-type", "application/x-www-form-urlencoded")
        .json_answer()
        .await;
    let captured = client
        .post(format!("{}/v2/checkout/orders/{order_id}/capture", paypal.mock.base()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("PayPal-Request-Id", "someone-else")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(captured.status(), 201);

    // PayPal's approval webhook comes (delayed): the server captures, PayPal answers
    // ORDER_ALREADY_CAPTURED, the server reads the order.
    assert_eq!(paypal.notify(&approved, &paypal.signed(&approved)).await.status(), 200);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
    assert_eq!(paypal.mock.calls("capture"), 2, "ours answered ORDER_ALREADY_CAPTURED");
    assert!(paypal.mock.calls("get_order") >= 1);
}

#[tokio::test]
async fn paypal_reversing_an_uncaptured_approval_fails_the_session() {
    let paypal = paypal::start_with("", |config| config.provider_check_ms = 60_000).await;
    paypal.mock.set_webhook_events(&["CHECKOUT.PAYMENT-APPROVAL.REVERSED"]);
    let (_, session) = paypal.session().await;
    let order_id = paypal.paypal_order(&session);
    paypal.mock.approve(&order_id).unwrap();
    assert!(paypal.mock.reverse_approval(&order_id));
    paypal.wait_for(id(&session), "failed").await;
    assert_eq!(paypal.mock.calls("capture"), 0);
}

async fn paid(paypal: &PayPal) -> (String, Value) {
    let (order, session) = paypal.session().await;
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
    (order, session)
}

#[tokio::test]
async fn a_partial_then_a_full_refund_of_the_capture() {
    let paypal = paypal::start().await;
    let (order, session) = paid(&paypal).await;
    let order_id = paypal.paypal_order(&session);

    let first: Value = paypal
        .merchant(Method::POST, &format!("/orders/{order}/refunds"))
        .json(&json!({ "amount": { "minor_units": 250, "currency": "USD" }, "reason": "Chipped rim" }))
        .json_answer()
        .await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let rest: Value = paypal
        .merchant(Method::POST, &format!("/orders/{order}/refunds"))
        .json(&json!({ "reason": "Returned" }))
        .json_answer()
        .await;
    assert_eq!(rest["status"], "succeeded", "{rest}");
    assert_eq!(rest["amount"], json!({ "minor_units": 1000, "currency": "USD" }));

    // At PayPal: two refunds of the capture, each named by our refund id, the reason for the payer.
    let capture = paypal.mock.capture_json(&order_id).unwrap();
    assert_eq!(capture["status"], "REFUNDED");
    for (refund, value, note) in [(&first, "2.50", "Chipped rim"), (&rest, "10.00", "Returned")] {
        let at_paypal = paypal.mock.refund_json(&paypal_refund_id(&paypal, refund).await).unwrap();
        assert_eq!(at_paypal["amount"], json!({ "currency_code": "USD", "value": value }));
        assert_eq!(at_paypal["custom_id"], refund["id"]);
        assert_eq!(at_paypal["note_to_payer"], note);
        assert_eq!(at_paypal["status"], "COMPLETED");
    }
    assert_eq!(paypal.mock.calls("refund"), 2);
    assert_eq!(
        paypal.app.get_session(id(&session)).await["amount_refunded"],
        json!({ "minor_units": 1250, "currency": "USD" })
    );
    // PayPal's PAYMENT.CAPTURE.REFUNDED events are taken (2xx) and change nothing.
    let refunded = || {
        paypal.mock.deliveries().into_iter().filter(|d| d.event_type == "PAYMENT.CAPTURE.REFUNDED").count()
    };
    eventually_within("both refund events delivered", Duration::from_secs(15), async || refunded() == 2)
        .await;
    let deliveries = paypal.mock.deliveries();
    assert!(deliveries.iter().all(|d| d.status == Some(200)), "{deliveries:?}");
}

#[tokio::test]
async fn a_pending_refund_settles_through_paypal_s_webhook() {
    let paypal = paypal::start().await;
    let (order, _) = paid(&paypal).await;
    paypal.mock.set_refund_outcome(RefundOutcome::Pending);
    let refund: Value = paypal
        .merchant(Method::POST, &format!("/orders/{order}/refunds"))
        .json(&json!({ "reason": "Late" }))
        .json_answer()
        .await;
    assert_eq!(refund["status"], "pending", "{refund}");
    assert!(paypal.mock.settle_refund(&paypal_refund_id(&paypal, &refund).await, true));
    eventually("the refund succeeds", async || {
        let now: Value =
            paypal.merchant(Method::GET, &format!("/refunds/{}", id(&refund))).json_answer().await;
        now["status"] == "succeeded"
    })
    .await;
}

#[tokio::test]
async fn a_pending_refund_that_paypal_fails_is_found_by_asking() {
    // provider_check_ms is a minute (start): PayPal is asked about the refund once it has passed.
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    let (order, _) = paid(&paypal).await;
    paypal.mock.set_refund_outcome(RefundOutcome::Pending);
    let refund: Value = paypal
        .merchant(Method::POST, &format!("/orders/{order}/refunds"))
        .json(&json!({ "amount": { "minor_units": 100, "currency": "USD" }, "reason": "Late" }))
        .json_answer()
        .await;
    assert_eq!(refund["status"], "pending");
    assert!(paypal.mock.settle_refund(&paypal_refund_id(&paypal, &refund).await, false));
    paypal.app.advance(Duration::from_secs(30)).await;
    assert_eq!(paypal.mock.calls("get_refund"), 0, "not asked before provider_check_ms");
    paypal.app.advance(Duration::from_secs(30)).await;
    // The background sweep may be the one asking at that moment: its answer is awaited.
    eventually("the refund fails", async || {
        let now: Value =
            paypal.merchant(Method::GET, &format!("/refunds/{}", id(&refund))).json_answer().await;
        now["status"] == "failed"
    })
    .await;
    assert!(paypal.mock.calls("get_refund") >= 1);
}

#[tokio::test]
async fn paypal_down_or_slow_is_a_clear_provider_error_and_nothing_half_made() {
    let paypal = paypal::start_with("timeout_ms = 500\n", |_| {}).await;
    let order = paypal.order(1250, "USD").await;
    let body = session_body(&order, "paypal");

    paypal.mock.fail_next(Some("create_order"), 1, 500);
    let answer = paypal.app.create_session("key-1", &body).await;
    assert_eq!(error_code(answer, 502).await, "provider_error");

    paypal.mock.slow_next(Some("create_order"), Duration::from_millis(1500));
    let answer = paypal.app.create_session("key-2", &body).await;
    assert_eq!(error_code(answer, 502).await, "provider_error");

    paypal.mock.expire_tokens();
    paypal.mock.fail_next(Some("token"), 1, 503);
    let answer = paypal.app.create_session("key-3", &body).await;
    assert_eq!(error_code(answer, 502).await, "provider_error");

    assert_eq!(paypal.merchant_order(&order).await["sessions"], json!([]), "no session was left behind");
    // The same key again, with PayPal back: one session.
    let answer = paypal.app.create_session("key-1", &body).await;
    assert_eq!(answer.status(), 201);
    assert_eq!(paypal.merchant_order(&order).await["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_read_paypal_fails_is_asked_once_more_and_a_write_is_not() {
    let paypal = paypal::start().await;
    paypal.mock.set_webhook_events(&[]);
    let (_, session) = paypal.session().await;
    paypal.mock.fail_next(Some("get_order"), 1, 503);
    assert_eq!(paypal.approve_and_return(&session).await.status(), 303);
    assert_eq!(paypal.mock.calls("get_order"), 2, "the order was read again");
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");

    let order = paypal.order(1250, "USD").await;
    paypal.mock.fail_next(Some("create_order"), 1, 503);
    let answer = paypal.app.create_session("write-1", &session_body(&order, "paypal")).await;
    assert_eq!(error_code(answer, 502).await, "provider_error");
    assert_eq!(paypal.mock.calls("create_order"), 2, "one for the first session, one for this: not repeated");
}

#[tokio::test]
async fn an_expired_token_is_renewed_and_the_call_sent_once_more() {
    let paypal = paypal::start().await;
    paypal.session().await;
    assert_eq!(paypal.mock.calls("token"), 1);
    paypal.mock.expire_tokens();
    paypal.session().await;
    assert_eq!(paypal.mock.calls("token"), 2, "a new token after the 401");
    assert_eq!(paypal.mock.calls("create_order"), 3, "the refused call was sent again");
    paypal.session().await;
    assert_eq!(paypal.mock.calls("token"), 2, "the token is kept while it lasts");
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires() {
    let paypal = paypal::start().await;
    paypal.mock.set_token_ttl(Duration::from_secs(2));
    paypal.session().await;
    // Renewed at half its life when it lives less than ten minutes (by the server's clock).
    paypal.app.clock.advance(Duration::from_millis(1_200));
    paypal.session().await;
    assert_eq!(paypal.mock.calls("token"), 2);
    assert_eq!(paypal.mock.calls("create_order"), 2, "no call was refused");
}

#[tokio::test]
async fn amounts_go_in_paypal_decimals_and_fractions_of_whole_unit_currencies_are_not_offered() {
    let paypal = paypal::start().await;
    let wallets = |order: String| {
        let app = &paypal.app;
        async move {
            let answer: Value = app.client.get(app.api(&format!("/orders/{order}"))).json_answer().await;
            answer["wallets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let forint = paypal.order(680_000, "HUF").await;
    assert_eq!(wallets(forint.clone()).await, ["paypal"]);
    assert_eq!(wallets(paypal.order(680_050, "HUF").await).await, Vec::<String>::new());
    assert_eq!(wallets(paypal.order(12_345, "TWD").await).await, Vec::<String>::new());
    assert_eq!(wallets(paypal.order(5, "KWD").await).await, Vec::<String>::new(), "not a PayPal currency");

    let session = paypal.app.session_for(&forint, "paypal").await;
    let unit = &paypal.mock.order_json(&paypal.paypal_order(&session)).unwrap()["purchase_units"][0];
    assert_eq!(unit["amount"], json!({ "currency_code": "HUF", "value": "6800" }));
    let yen = paypal.order(500, "JPY").await;
    let session = paypal.app.session_for(&yen, "paypal").await;
    let unit = &paypal.mock.order_json(&paypal.paypal_order(&session)).unwrap()["purchase_units"][0];
    assert_eq!(unit["amount"], json!({ "currency_code": "JPY", "value": "500" }));
    let answer: Value = paypal.app.client.get(paypal.app.api(&format!("/orders/{yen}"))).json_answer().await;
    assert_eq!(answer["livemode"], false, "PayPal's sandbox is test mode");
}

#[tokio::test]
async fn the_return_and_cancel_links_know_only_paypal_sessions() {
    let paypal = paypal::start().await;
    for path in [
        "/api/providers/paypal/return/ses_nope",
        "/api/providers/paypal/cancel/ses_nope",
        "/api/providers/paypal/return/not%20an%20id",
    ] {
        let answer = paypal.app.client.get(paypal.app.url(path)).send().await.unwrap();
        assert_eq!(error_code(answer, 404).await, "not_found", "{path}");
    }
}

/// A session waiting for approval, and a signed `CHECKOUT.ORDER.APPROVED` about it (approved at
/// PayPal, with no webhook or return yet): the hostile tests change one thing each.
async fn approved_event(paypal: &PayPal) -> (Value, String, Vec<(String, String)>) {
    paypal.mock.set_webhook_events(&[]);
    let (_, session) = paypal.session().await;
    let order_id = paypal.paypal_order(&session);
    paypal.mock.approve(&order_id).unwrap();
    let body = paypal.mock.event(
        "CHECKOUT.ORDER.APPROVED",
        "checkout-order",
        &paypal.mock.order_json(&order_id).unwrap(),
    );
    let headers = paypal.signed(&body);
    (session, body, headers)
}

#[tokio::test]
async fn hostile_webhooks_are_refused_and_change_nothing() {
    let paypal = paypal::start_with("", |config| config.provider_check_ms = 60_000).await;
    let (session, body, headers) = approved_event(&paypal).await;
    let other_key = PayPalMock::with_keys("http://127.0.0.1:9", Keys::Own).unwrap();

    let tampered = body.replacen("12.50", "0.01", 1);
    assert_ne!(tampered, body);
    let reserialised = serde_json::from_str::<Value>(&body).unwrap().to_string();
    let mut without = headers.clone();
    without.retain(|(name, _)| name != "PAYPAL-TRANSMISSION-SIG");
    type Case = (&'static str, String, Vec<(String, String)>);
    let cases: Vec<Case> = vec![
        (
            "a signature of other content",
            body.clone(),
            with_header(&headers, "PAYPAL-TRANSMISSION-SIG", &paypal.signed("{}")[2].1),
        ),
        ("no signature", body.clone(), without),
        (
            "a signature by another key",
            body.clone(),
            with_header(
                &other_key.sign(&body, paypal.mock.webhook_id(), &now_rfc3339(0)),
                "PAYPAL-CERT-URL",
                paypal.mock.cert_url(),
            ),
        ),
        (
            "a certificate of the sender's choosing",
            body.clone(),
            with_header(&headers, "PAYPAL-CERT-URL", "https://evil.example/cert.pem"),
        ),
        ("tampered content", tampered, headers.clone()),
        ("the event parsed and written again", reserialised, headers.clone()),
        (
            "another app's webhook",
            body.clone(),
            paypal.mock.sign(&body, "8PT597110X687430LKGECATA", &now_rfc3339(0)),
        ),
        (
            "a transmission time changed after signing",
            body.clone(),
            with_header(&headers, "PAYPAL-TRANSMISSION-TIME", &now_rfc3339(-100)),
        ),
        ("a body that is not JSON", "not json".into(), paypal.signed("not json")),
    ];
    for (case, body, headers) in cases {
        let answer = paypal.notify(&body, &headers).await;
        assert_eq!(answer.status(), 400, "{case}");
    }
    // Stale: properly signed, ten minutes old (or ahead); refused before PayPal is asked.
    let verified_before = paypal.mock.calls("verify");
    for offset in [-600, 600] {
        let stale = paypal.mock.sign(&body, paypal.mock.webhook_id(), &now_rfc3339(offset));
        assert_eq!(paypal.notify(&body, &stale).await.status(), 400, "offset {offset}");
    }
    assert_eq!(paypal.mock.calls("verify"), verified_before);

    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "pending");
    assert_eq!(paypal.mock.calls("capture"), 0);
    // The genuine transmission still works, once.
    assert_eq!(paypal.notify(&body, &headers).await.status(), 200);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
    assert_eq!(paypal.notify(&body, &headers).await.status(), 200, "a replay is acknowledged");
    assert_eq!(paypal.mock.calls("capture"), 1, "and changes nothing more");
}

#[tokio::test]
async fn verified_webhooks_about_no_payment_of_ours_or_another_amount_are_refused() {
    let paypal = paypal::start_with("", |config| config.provider_check_ms = 60_000).await;
    let (session, _, _) = approved_event(&paypal).await;
    let order_id = paypal.paypal_order(&session);
    let mut order = paypal.mock.order_json(&order_id).unwrap();

    order["purchase_units"][0]["amount"]["value"] = "0.01".into();
    let cheaper = paypal.mock.event("CHECKOUT.ORDER.APPROVED", "checkout-order", &order);
    assert_eq!(paypal.notify(&cheaper, &paypal.signed(&cheaper)).await.status(), 400, "amount mismatch");

    order["purchase_units"][0]["amount"]["value"] = "12.50".into();
    order["purchase_units"][0]["custom_id"] = "ses_not_ours".into();
    order["purchase_units"][0]["reference_id"] = "ses_not_ours".into();
    let unknown = paypal.mock.event("CHECKOUT.ORDER.APPROVED", "checkout-order", &order);
    assert_eq!(paypal.notify(&unknown, &paypal.signed(&unknown)).await.status(), 400, "unknown session");

    let stranger = json!({ "id": "9JL52742K01513702", "status": "APPROVED", "purchase_units": [{ "reference_id": "default",
        "amount": { "currency_code": "USD", "value": "12.50" } }] });
    let stranger = paypal.mock.event("CHECKOUT.ORDER.APPROVED", "checkout-order", &stranger);
    assert_eq!(
        paypal.notify(&stranger, &paypal.signed(&stranger)).await.status(),
        400,
        "an order PayPal does not know for us"
    );

    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "pending");
    assert_eq!(paypal.mock.calls("capture"), 0);
    // Events the server does not act on are taken.
    let other = paypal.mock.event("BILLING.SUBSCRIPTION.CREATED", "subscription", &json!({ "id": "I-1" }));
    assert_eq!(paypal.notify(&other, &paypal.signed(&other)).await.status(), 200);
}

#[tokio::test]
async fn a_webhook_paypal_cannot_verify_now_is_asked_for_again() {
    let paypal = paypal::start_with("", |config| config.provider_check_ms = 60_000).await;
    let (session, body, headers) = approved_event(&paypal).await;
    paypal.mock.fail_next(Some("verify"), 1, 503);
    assert_eq!(paypal.notify(&body, &headers).await.status(), 503);
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "pending");
    assert_eq!(paypal.notify(&body, &headers).await.status(), 200, "PayPal's retry is taken");
    assert_eq!(paypal.app.get_session(id(&session)).await["status"], "succeeded");
}

#[test]
fn settings_never_print_the_secret_and_refuse_bad_values() {
    let settings = |extra: &str| {
        wallet_checkout_server::providers::ProviderSettings::from_toml(&format!(
            "[providers.paypal]\nenvironment = \"live\"\nclient_id = \"AbC\"\nclient_secret = \"s3cr3t-value\"\nwebhook_id = \"4JH86294D6297924G\"\n{extra}"
        ))
    };
    let ok = settings("").unwrap();
    assert!(!format!("{ok:?}").contains("s3cr3t-value"));
    let context = wallet_checkout_server::providers::BuildContext {
        public_url: None,
        clock: std::sync::Arc::new(wallet_checkout_server::domain::SystemClock),
    };
    let built = wallet_checkout_server::providers::configured(&ok, &context);
    let provider = built[0].1.as_ref().unwrap();
    assert!(provider.livemode(), "environment = live is real money");
    for (extra, named) in [
        ("brand_name = \"\"\n", "brand_name"),
        ("base_url = \"ftp://x\"\n", "base_url"),
        ("timeout_ms = 0\n", "timeout_ms"),
        ("currencies = [\"XXX\"]\n", "XXX"),
    ] {
        let settings = settings(extra).unwrap();
        let error =
            wallet_checkout_server::providers::configured(&settings, &context).remove(0).1.err().unwrap();
        assert!(format!("{error:#}").contains(named), "{extra}: {error:#}");
    }
    let bad_id = wallet_checkout_server::providers::ProviderSettings::from_toml(
        "[providers.paypal]\nenvironment = \"sandbox\"\nclient_id = \"a\"\nclient_secret = \"b\"\nwebhook_id = \"WH-1\"\n",
    )
    .unwrap();
    assert!(wallet_checkout_server::providers::configured(&bad_id, &context)[0].1.is_err());
    let unknown = settings("colour = \"blue\"\n").unwrap_err();
    assert!(unknown.to_string().contains("colour"), "{unknown}");
    let production = wallet_checkout_server::providers::ProviderSettings::from_toml(
        "[providers.paypal]\nenvironment = \"production\"\nclient_id = \"a\"\nclient_secret = \"b\"\nwebhook_id = \"W1\"\n",
    )
    .unwrap_err();
    assert!(production.to_string().contains("live or sandbox"), "{production}");
}

mod binary {
    //! The real binary with a configuration file: a missing setting is named, `providers check`
    //! says OK or exactly why not, and no secret reaches its output or its log.

    use super::*;
    use std::process::{Command, Output};

    fn run(config: &str, args: &[&str], data_dir: &std::path::Path) -> Output {
        let file = data_dir.join("wallet-checkout.toml");
        std::fs::write(&file, config).unwrap();
        Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
            .args(args)
            .env("WC_CONFIG", &file)
            .env("WC_DATA_DIR", data_dir)
            .env("WC_SANDBOX", "false")
            .env("WC_BIND", "127.0.0.1:0")
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .output()
            .expect("the binary runs")
    }

    fn text(output: &Output) -> String {
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_missing_setting_is_named_when_the_server_starts() {
        let dir = tempfile::TempDir::new().unwrap();
        let mock = PayPalMock::start().await.unwrap();
        let without_webhook: String = mock
            .config_toml()
            .lines()
            .filter(|l| !l.starts_with("webhook_id"))
            .map(|l| format!("{l}\n"))
            .collect();
        let output = run(&without_webhook, &[], dir.path());
        assert!(!output.status.success());
        let said = text(&output);
        assert!(said.contains("webhook_id") && said.contains("providers.paypal"), "{said}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn providers_check_says_ok_against_paypal_and_exactly_why_not() {
        let dir = tempfile::TempDir::new().unwrap();
        let mock = PayPalMock::start().await.unwrap();
        let public = "https://pay.shop.example";
        mock.set_webhook(&format!("{public}/api/providers/paypal/notify"));
        let config = format!("public_url = \"{public}\"\n{}", mock.config_toml());

        let ok = run(&config, &["providers", "check"], dir.path());
        assert!(ok.status.success(), "{}", text(&ok));
        assert!(text(&ok).contains("paypal: OK"), "{}", text(&ok));

        let cases = [
            (config.replace(mock.client_secret(), "wrong-secret"), "refused client_id and client_secret"),
            (config.replace(mock.webhook_id(), "4JH86294D6297924G"), "is not a webhook of this PayPal app"),
            (config.replace(public, "https://elsewhere.example"), "sends events to"),
        ];
        for (config, reason) in cases {
            let failed = run(&config, &["providers", "check"], dir.path());
            let said = text(&failed);
            assert!(!failed.status.success(), "{said}");
            assert!(said.contains("paypal: FAILED") && said.contains(reason), "{reason}: {said}");
            assert!(!said.contains(mock.client_secret()) && !said.contains("wrong-secret"), "{said}");
        }
        mock.set_webhook_events(&["CHECKOUT.ORDER.APPROVED"]);
        let failed = run(&config, &["providers", "check"], dir.path());
        assert!(
            text(&failed).contains("is not subscribed to CHECKOUT.PAYMENT-APPROVAL.REVERSED"),
            "{}",
            text(&failed)
        );
        mock.fail_next(Some("token"), 1, 503);
        let failed = run(&config, &["providers", "check"], dir.path());
        assert!(
            text(&failed).contains("paypal: FAILED: the wallet provider is unavailable"),
            "{}",
            text(&failed)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_or_token_reaches_the_server_log() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::TempDir::new().unwrap();
    let mock = PayPalMock::start().await.unwrap();
    let file = dir.path().join("wallet-checkout.toml");
    std::fs::write(&file, mock.config_toml()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .env("WC_CONFIG", &file)
        .env("WC_DATA_DIR", dir.path())
        .env("WC_SANDBOX", "false")
        .env("WC_DEMO_STORE", "true")
        .env("WC_BIND", "127.0.0.1:0")
        .env("WC_ALLOWED_ORIGINS", "http://127.0.0.1")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug,sqlx=info,hyper=info,reqwest=info,h2=info,rustls=info,hyper_util=info")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening address=").nth(1) {
                    let _ = sender.send(address.trim().to_owned());
                }
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
    }
    let base =
        format!("http://{}", receiver.recv_timeout(Duration::from_secs(30)).expect("the server listens"));
    mock.set_webhook(&format!("{base}/api/providers/paypal/notify"));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // A whole payment: create, approve (webhook, postback, capture), return.
    let order: Value = client.post(format!("{base}/store/orders")).json_answer().await;
    let session: Value = client
        .post(format!("{base}/api/checkout/sessions"))
        .header("Idempotency-Key", "log-1")
        .json(&session_body(order["id"].as_str().unwrap(), "paypal"))
        .json_answer()
        .await;
    let back = mock.approve(&mock.order_of(id(&session)).unwrap()).unwrap();
    client.get(back).send().await.unwrap();
    eventually_within(
        "the payment succeeds and both events are delivered",
        Duration::from_secs(15),
        async || {
            let now: Value =
                client.get(format!("{base}/api/checkout/sessions/{}", id(&session))).json_answer().await;
            now["status"] == "succeeded" && mock.deliveries().len() >= 2
        },
    )
    .await;
    eventually("the log lines of the capture and the webhook", async || {
        let log = log.lock().unwrap();
        log.contains("PayPal order captured") && log.contains("PayPal webhook verified")
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();

    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("PayPal order captured") && log.contains("PayPal webhook verified"),
        "the log is read"
    );
    assert!(!log.contains(mock.client_secret()), "the client secret reached the log");
    for token in mock.issued_tokens() {
        assert!(!log.contains(&token), "an access token reached the log");
    }
    assert!(!log.to_ascii_lowercase().contains("authorization"), "a header reached the log");
}
