//! Refunds over real HTTP, through the sandbox wallet: full and partial, idempotent, never more
//! than was paid, a second or a late payment refunded in one call, each with its own status,
//! events, audit entries, and the figures in reports, the dashboard and the widget's view.

use crate::helpers::{error_code, spawn, JsonAnswer, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use wallet_checkout_server::domain::Flag;
use wallet_checkout_server::domain::Role;

/// An order of CNY 129.00 paid with the sandbox's WeChat Pay: (order id, session id).
async fn paid_order(app: &TestApp, operator: &str) -> (String, String) {
    let body =
        json!({ "amount": { "minor_units": 12900, "currency": "CNY" }, "description": "Celadon tea cup" });
    let order: Value = app.merchant(Method::POST, "/orders", operator).json(&body).json_answer().await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let session = app.session_for(&order_id, "wechat_pay").await;
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(app.sandbox(&session_id, "approve").await.status(), 200);
    (order_id, session_id)
}

fn refund_body(minor_units: Option<u64>, reason: &str) -> Value {
    match minor_units {
        Some(minor_units) => {
            json!({ "amount": { "minor_units": minor_units, "currency": "CNY" }, "reason": reason })
        }
        None => json!({ "reason": reason }),
    }
}

#[tokio::test]
async fn a_partial_then_a_full_refund_of_what_is_left() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let (order, session) = paid_order(&app, &operator).await;

    let first = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
        .json(&refund_body(Some(2900), "Chipped rim"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["amount"], json!({ "minor_units": 2900, "currency": "CNY" }));
    assert_eq!(first["session_id"], session);
    assert!(first["id"].as_str().unwrap().starts_with("ref_"));

    // The widget's view: still paid, with the refunded amount.
    let view = app.get_session(&session).await;
    assert_eq!(view["status"], "succeeded");
    assert_eq!(view["amount_refunded"], json!({ "minor_units": 2900, "currency": "CNY" }));

    // Too much is refused and changes nothing; the rest is the default.
    let too_much = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
        .json(&refund_body(Some(10_001), "Too much"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(too_much, 409).await, "not_refundable");
    let rest: Value = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
        .json(&refund_body(None, "Returned"))
        .json_answer()
        .await;
    assert_eq!(rest["amount"]["minor_units"], 10_000);
    assert_eq!(rest["status"], "succeeded");
    let nothing_left = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
        .json(&refund_body(Some(1), "Again"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(nothing_left, 409).await, "not_refundable");

    let listed: Value =
        app.merchant(Method::GET, &format!("/orders/{order}/refunds"), &operator).json_answer().await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    let read: Value = app.merchant(Method::GET, &format!("/orders/{order}"), &operator).json_answer().await;
    assert_eq!(read["status"], "paid", "a refunded order stays paid");
    assert_eq!(read["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(read["sessions"][0]["amount_refunded"], json!({ "minor_units": 12900, "currency": "CNY" }));
    assert!(read["sessions"][0]["paid_at"].is_string());
    assert_eq!(read["sessions"][0]["provider"], "sandbox");
    assert!(read["sessions"][0]["provider_references"]["transaction_id"]
        .as_str()
        .unwrap()
        .starts_with("sbx_"));
    let one: Value = app
        .merchant(Method::GET, &format!("/refunds/{}", first["id"].as_str().unwrap()), &operator)
        .json_answer()
        .await;
    assert_eq!(one, first);
}

#[tokio::test]
async fn a_refund_with_the_same_idempotency_key_is_made_once() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let (order, _) = paid_order(&app, &operator).await;
    let send = |body: Value| {
        app.merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
            .header("Idempotency-Key", "refund-1")
            .json(&body)
            .send()
    };
    let first = send(refund_body(Some(500), "Late delivery")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(refund_body(Some(500), "Late delivery")).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let other = send(refund_body(Some(600), "Late delivery")).await.unwrap();
    assert_eq!(error_code(other, 422).await, "idempotency_conflict");
    let listed: Value =
        app.merchant(Method::GET, &format!("/orders/{order}/refunds"), &operator).json_answer().await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_refunds_never_give_back_more_than_was_paid() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let (order, session) = paid_order(&app, &operator).await;
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            app.merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
                .json(&refund_body(Some(5000), &format!("Attempt {i}")))
                .send()
        })
        .collect();
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.get_session(&session).await["amount_refunded"]["minor_units"], 10_000);
}

#[tokio::test]
async fn what_cannot_be_refunded_is_refused_with_a_reason() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let viewer = app.api_key(Role::Viewer).await;
    let open = app.new_order().await;
    let unpaid = app
        .merchant(Method::POST, &format!("/orders/{open}/refunds"), &operator)
        .json(&refund_body(None, "Nothing paid"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(unpaid, 409).await, "not_refundable");
    let (order, _) = paid_order(&app, &operator).await;
    for (body, status, code) in [
        (json!({ "reason": "" }), 400, "invalid_request"),
        (json!({ "reason": "Wrong \u{202E}reason" }), 400, "invalid_request"),
        (
            json!({ "reason": "Currency", "amount": { "minor_units": 100, "currency": "USD" } }),
            400,
            "invalid_request",
        ),
        (
            json!({ "reason": "Zero", "amount": { "minor_units": 0, "currency": "CNY" } }),
            400,
            "invalid_request",
        ),
        (json!({ "reason": "Other session", "session_id": "ses_nope" }), 404, "not_found"),
        (json!({ "reason": "x", "surprise": true }), 400, "invalid_request"),
    ] {
        let response = app
            .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, status).await, code, "{body}");
    }
    let forbidden = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &viewer)
        .json(&refund_body(None, "Viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(forbidden, 403).await, "forbidden");
    let missing = app
        .merchant(Method::POST, "/orders/ord_nope/refunds", &operator)
        .json(&refund_body(None, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(missing, 404).await, "not_found");
}

/// Regression: a refund with no amount once nothing was left answered 500 (the database refused
/// an amount of 0) instead of 409 `not_refundable`, as an explicit amount does.
#[tokio::test]
async fn a_refund_of_all_that_is_left_when_nothing_is_left_is_not_refundable() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let (order, _) = paid_order(&app, &operator).await;
    let refund = |reason: &str| {
        app.merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
            .json(&refund_body(None, reason))
    };
    assert_eq!(refund("All of it").send().await.unwrap().status(), 201);
    let again = refund("All of it again").send().await.unwrap();
    assert_eq!(error_code(again, 409).await, "not_refundable");
    let explicit = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
        .json(&refund_body(Some(1), "One more fen"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(explicit, 409).await, "not_refundable");
}

#[tokio::test]
async fn a_second_payment_and_a_late_one_are_each_refunded_in_one_call() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let body = json!({ "amount": { "minor_units": 6800, "currency": "CNY" }, "description": "Jasmine tea" });
    let order: Value = app.merchant(Method::POST, "/orders", &operator).json(&body).json_answer().await;
    let order = order["id"].as_str().unwrap();
    let first = app.session_for(order, "wechat_pay").await;
    let second = app.session_for(order, "alipay").await;
    let late = app.session_for(order, "paypal").await;
    let (first, second, late) =
        (first["id"].as_str().unwrap(), second["id"].as_str().unwrap(), late["id"].as_str().unwrap());
    app.sandbox(late, "pay-after-expiry").await;
    app.sandbox(first, "approve").await;
    app.sandbox(second, "approve").await;
    let store = app.store().await;
    let flag = |id: &str| {
        let store = store.clone();
        let id = wallet_checkout_contract::SessionId::parse(id).unwrap();
        async move { store.session(&id).await.unwrap().unwrap().flag }
    };
    assert_eq!(flag(second).await, Some(Flag::RefundDue));
    // The late session expires, and the wallet pays it a second later.
    app.advance_to_late_payment(late).await;
    assert_eq!(flag(late).await, Some(Flag::LateApproval));
    for session in [second, late] {
        let refund: Value = app
            .merchant(Method::POST, &format!("/orders/{order}/refunds"), &operator)
            .json(&json!({ "reason": "Paid twice", "session_id": session }))
            .json_answer()
            .await;
        assert_eq!(refund["status"], "succeeded", "{refund}");
        assert_eq!(refund["amount"]["minor_units"], 6800);
    }
    // The session that paid the order was not touched.
    assert!(app.get_session(first).await.get("amount_refunded").is_none());
    // CNY 204.00 came in and 136.00 went back: the takings are the order's 68.00, and the money
    // that was never takings is not subtracted from them.
    let totals: Value = app.merchant(Method::GET, "/reports/daily-totals", &operator).json_answer().await;
    let rows = totals["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{totals}");
    assert_eq!(rows[0]["wallet_id"], "wechat_pay");
    assert_eq!((rows[0]["payments"].as_i64(), rows[0]["refunds"].as_i64()), (Some(1), Some(0)));
    assert_eq!(rows[0]["amount"]["minor_units"], "6800");
    assert_eq!(rows[0]["refunded"]["minor_units"], "0");
    assert_eq!(rows[0]["net"]["minor_units"], "6800");
}

#[tokio::test]
async fn refunds_reach_the_audit_log_the_events_the_reports_and_the_dashboard() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let (order, session) = paid_order(&app, &admin).await;
    let refund: Value = app
        .merchant(Method::POST, &format!("/orders/{order}/refunds"), &admin)
        .json(&refund_body(Some(2900), "Chipped rim"))
        .json_answer()
        .await;
    let log: Value = app.merchant(Method::GET, "/audit-log", &admin).json_answer().await;
    let entry =
        log["data"].as_array().unwrap().iter().find(|e| e["action"] == "refund.create").expect("audited");
    assert_eq!(entry["target"], refund["id"]);
    assert_eq!(entry["detail"]["reason"], "Chipped rim");

    let events: Value =
        app.merchant(Method::GET, &format!("/events?session={session}"), &admin).json_answer().await;
    let kinds: Vec<&str> =
        events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"refund.created") && kinds.contains(&"refund.succeeded"), "{kinds:?}");
    let succeeded =
        events["data"].as_array().unwrap().iter().find(|e| e["type"] == "refund.succeeded").unwrap();
    assert_eq!(succeeded["payload"]["data"]["refund"]["id"], refund["id"]);

    let totals: Value = app.merchant(Method::GET, "/reports/daily-totals", &admin).json_answer().await;
    let today = &totals["data"][0];
    assert_eq!(today["amount"]["minor_units"], "12900");
    assert_eq!(today["refunds"], 1);
    assert_eq!(today["refunded"]["minor_units"], "2900");
    assert_eq!(today["net"]["minor_units"], "10000");
    let transactions: Value = app.merchant(Method::GET, "/reports/transactions", &admin).json_answer().await;
    assert_eq!(transactions["data"][0]["amount_refunded"], json!({ "minor_units": 2900, "currency": "CNY" }));
    let csv = app
        .merchant(Method::GET, "/reports/transactions?format=csv", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(",129.00,CNY,29.00,"), "{csv}");
    let staff = app.console_user("viewer").await;
    let page = app.console_get(&staff, "/console").send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("refunded CNY 29.00, net CNY 100.00"),
        "the dashboard shows refunds and net takings"
    );
}
