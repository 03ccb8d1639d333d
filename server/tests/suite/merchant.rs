//! The merchant API over real HTTP: keys and roles, orders, the audit log, reports, the staff
//! dashboard, and the hardening around them.

use crate::helpers::make_key;
use crate::helpers::{error_code, session_body, spawn, spawn_with, JsonAnswer, TestApp};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use wallet_checkout_server::domain::Role;

async fn json_of(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    response.json().await.unwrap()
}

fn order_body() -> Value {
    json!({
        "amount": { "minor_units": 12900, "currency": "CNY" },
        "description": "Celadon tea cup",
        "reference": "A-1001",
        "metadata": { "customer": "c_42", "gift": "yes" },
    })
}

async fn create_order(app: &TestApp, secret: &str) -> Value {
    json_of(app.merchant(Method::POST, "/orders", secret).json(&order_body()).send().await.unwrap(), 201)
        .await
}

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let cases = [
        app.client.get(app.url("/api/v1/orders")),
        app.client.get(app.url("/api/v1/orders")).header("Authorization", "Basic abc"),
        app.client.get(app.url("/api/v1/orders")).bearer_auth("sk_test_notakey"),
        app.client.get(app.url("/api/v1/orders")).bearer_auth(format!("{admin}x")),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(error_code(response, 401).await, "unauthorized");
    }
    // A revoked key stops working.
    let operator = app.api_key(Role::Operator).await;
    let keys = json_of(app.merchant(Method::GET, "/keys", &admin).send().await.unwrap(), 200).await;
    let operator_id = keys["data"].as_array().unwrap().iter().find(|k| k["name"] == "operator key").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json_of(
        app.merchant(Method::POST, &format!("/keys/{operator_id}/revoke"), &admin).send().await.unwrap(),
        200,
    )
    .await;
    let response = app.merchant(Method::GET, "/orders", &operator).send().await.unwrap();
    assert_eq!(error_code(response, 401).await, "unauthorized");
}

#[tokio::test]
async fn roles_decide_what_a_key_may_do() {
    let app = spawn().await;
    let (viewer, operator, admin) =
        (app.api_key(Role::Viewer).await, app.api_key(Role::Operator).await, app.api_key(Role::Admin).await);
    // viewer: reports only
    assert_eq!(
        app.merchant(Method::GET, "/reports/transactions", &viewer).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        error_code(app.merchant(Method::GET, "/orders", &viewer).send().await.unwrap(), 403).await,
        "forbidden"
    );
    assert_eq!(
        error_code(
            app.merchant(Method::POST, "/orders", &viewer).json(&order_body()).send().await.unwrap(),
            403
        )
        .await,
        "forbidden"
    );
    // operator: orders and reading everything, not keys or webhooks
    create_order(&app, &operator).await;
    assert_eq!(app.merchant(Method::GET, "/events", &operator).send().await.unwrap().status(), 200);
    assert_eq!(
        app.merchant(Method::GET, "/reports/daily-totals", &operator).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        error_code(app.merchant(Method::GET, "/keys", &operator).send().await.unwrap(), 403).await,
        "forbidden"
    );
    let hook = json!({ "url": "http://127.0.0.1:9/hooks" });
    assert_eq!(
        error_code(
            app.merchant(Method::PUT, "/webhook-endpoint", &operator).json(&hook).send().await.unwrap(),
            403
        )
        .await,
        "forbidden"
    );
    assert_eq!(
        error_code(app.merchant(Method::GET, "/audit-log", &operator).send().await.unwrap(), 403).await,
        "forbidden"
    );
    // admin: everything
    assert_eq!(app.merchant(Method::GET, "/keys", &admin).send().await.unwrap().status(), 200);
    assert_eq!(
        app.merchant(Method::PUT, "/webhook-endpoint", &admin).json(&hook).send().await.unwrap().status(),
        200
    );
    assert_eq!(app.merchant(Method::GET, "/audit-log", &admin).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn an_order_made_through_the_api_is_paid_by_the_widget_and_read_back_with_its_history() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let order = create_order(&app, &operator).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["status"], "open");
    assert_eq!(order["reference"], "A-1001");
    assert_eq!(order["metadata"], json!({ "customer": "c_42", "gift": "yes" }));

    // The widget's side sees the same order and pays it.
    let widget: Value = app.client.get(app.api(&format!("/orders/{id}"))).json_answer().await;
    assert_eq!(widget["order"]["amount"], json!({ "minor_units": 12900, "currency": "CNY" }));
    let session: Value = app.create_session("pay-1", &session_body(id, "alipay")).await.json().await.unwrap();
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;

    let read =
        json_of(app.merchant(Method::GET, &format!("/orders/{id}"), &operator).send().await.unwrap(), 200)
            .await;
    assert_eq!(read["status"], "paid");
    assert_eq!(read["paid_session_id"], session["id"]);
    let sessions = read["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    let reasons: Vec<&str> =
        sessions[0]["history"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
    // The wallet's notification says paid: pending straight to succeeded.
    assert_eq!(reasons, ["created", "confirmed"]);
    assert_eq!(sessions[0]["status"], "succeeded");
}

#[tokio::test]
async fn order_creation_is_idempotent() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let first = app
        .merchant(Method::POST, "/orders", &operator)
        .header("Idempotency-Key", "o-1")
        .json(&order_body())
        .send()
        .await
        .unwrap();
    let first = json_of(first, 201).await;
    let again = app
        .merchant(Method::POST, "/orders", &operator)
        .header("Idempotency-Key", "o-1")
        .json(&order_body())
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(again, 201).await["id"], first["id"]);
    let mut other = order_body();
    other["amount"]["minor_units"] = json!(1);
    let conflict = app
        .merchant(Method::POST, "/orders", &operator)
        .header("Idempotency-Key", "o-1")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(conflict, 422).await, "idempotency_conflict");
}

#[tokio::test]
async fn bad_order_requests_get_the_error_body() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let metadata: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        json!({ "amount": { "minor_units": 0, "currency": "CNY" }, "description": "x" }),
        json!({ "amount": { "minor_units": -5, "currency": "CNY" }, "description": "x" }),
        json!({ "amount": { "minor_units": 1.5, "currency": "CNY" }, "description": "x" }),
        json!({ "amount": { "minor_units": 100, "currency": "yuan" }, "description": "x" }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" } }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "  " }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "x", "reference": "r".repeat(101) }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "x", "metadata": metadata }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "x", "price": 1 }),
        json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "x\u{0007}" }),
    ];
    for (i, body) in cases.iter().enumerate() {
        let response = app.merchant(Method::POST, "/orders", &operator).json(body).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "case {i}: {body}");
    }
    let response = app
        .merchant(Method::POST, "/orders", &operator)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
    for query in ["limit=0", "limit=101", "limit=ten", "starting_after=../x"] {
        let response =
            app.merchant(Method::GET, &format!("/orders?{query}"), &operator).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{query}");
    }
}

#[tokio::test]
async fn canceling_an_order_cancels_its_pending_sessions_and_refuses_new_ones() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let order = create_order(&app, &operator).await;
    let id = order["id"].as_str().unwrap();
    let session: Value =
        app.create_session("c-1", &session_body(id, "wechat_pay")).await.json().await.unwrap();
    let canceled = json_of(
        app.merchant(Method::POST, &format!("/orders/{id}/cancel"), &operator).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["sessions"][0]["status"], "canceled");
    assert_eq!(app.get_session(session["id"].as_str().unwrap()).await["status"], "canceled");
    let refused = app.create_session("c-2", &session_body(id, "alipay")).await;
    assert_eq!(error_code(refused, 409).await, "order_not_payable");

    let paid = create_order(&app, &operator).await;
    let paid_id = paid["id"].as_str().unwrap();
    let session: Value =
        app.create_session("c-3", &session_body(paid_id, "alipay")).await.json().await.unwrap();
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;
    let response =
        app.merchant(Method::POST, &format!("/orders/{paid_id}/cancel"), &operator).send().await.unwrap();
    assert_eq!(error_code(response, 409).await, "order_not_payable");
    let response = app.merchant(Method::POST, "/orders/ord_nothing/cancel", &operator).send().await.unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
}

#[tokio::test]
async fn orders_are_listed_newest_first_in_pages() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(create_order(&app, &operator).await["id"].as_str().unwrap().to_owned());
        app.clock.advance(std::time::Duration::from_millis(3));
    }
    let first =
        json_of(app.merchant(Method::GET, "/orders?limit=2", &operator).send().await.unwrap(), 200).await;
    assert_eq!(first["has_more"], true);
    let ids: Vec<&str> =
        first["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [made[2].as_str(), made[1].as_str()]);
    let rest = json_of(
        app.merchant(Method::GET, &format!("/orders?limit=2&starting_after={}", ids[1]), &operator)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(rest["has_more"], false);
    assert_eq!(rest["data"][0]["id"], made[0].as_str());
}

#[tokio::test]
async fn every_change_made_with_a_key_is_in_the_audit_log() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let order = create_order(&app, &admin).await;
    let id = order["id"].as_str().unwrap();
    json_of(app.merchant(Method::POST, &format!("/orders/{id}/cancel"), &admin).send().await.unwrap(), 200)
        .await;
    let made = json_of(
        app.merchant(Method::POST, "/keys", &admin)
            .json(&json!({ "name": "Till 2", "role": "viewer" }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let key_id = made["id"].as_str().unwrap();
    json_of(app.merchant(Method::POST, &format!("/keys/{key_id}/revoke"), &admin).send().await.unwrap(), 200)
        .await;
    json_of(
        app.merchant(Method::PUT, "/webhook-endpoint", &admin)
            .json(&json!({ "url": "http://127.0.0.1:9/h" }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    json_of(app.merchant(Method::POST, "/webhook-endpoint/rotate-secret", &admin).send().await.unwrap(), 200)
        .await;

    let log = json_of(app.merchant(Method::GET, "/audit-log", &admin).send().await.unwrap(), 200).await;
    // Oldest first; the demo store's key (made at start) and the test's admin key are made, and
    // audited, like any other.
    let entries: Vec<&Value> = log["data"].as_array().unwrap().iter().rev().collect();
    let makers: Vec<&Value> = entries[..2].iter().map(|e| &e["actor"]["name"]).collect();
    assert_eq!(makers, ["server", "test"]);
    assert!(entries[..2].iter().all(|e| e["action"] == "key.create"));
    let entries = &entries[2..];
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "order.create",
            "order.cancel",
            "key.create",
            "key.revoke",
            "webhook_endpoint.update",
            "webhook_endpoint.rotate_secret"
        ]
    );
    assert!(entries
        .iter()
        .all(|e| e["actor"]["name"] == "admin key"
            && e["actor"]["key_id"].as_str().unwrap().starts_with("key_")));
    assert_eq!(entries[0]["target"], id);
    assert!(!log.to_string().contains("whsec_"), "no secret in the audit log");
}

#[tokio::test]
async fn a_key_secret_is_shown_once_and_kept_only_as_a_digest() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let made = json_of(
        app.merchant(Method::POST, "/keys", &admin)
            .json(&json!({ "name": "Back office", "role": "operator" }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("sk_test_") && secret.len() == "sk_test_".len() + 32);
    assert_eq!(made["prefix"].as_str().unwrap(), &secret[..12]);
    let list = json_of(app.merchant(Method::GET, "/keys", &admin).send().await.unwrap(), 200).await;
    assert!(!list.to_string().contains(secret));
    assert!(list["data"].as_array().unwrap().iter().all(|k| k.get("secret").is_none()));
    // It works.
    assert_eq!(app.merchant(Method::GET, "/orders", secret).send().await.unwrap().status(), 200);
    for bad in [
        json!({ "name": "x", "role": "root" }),
        json!({ "name": "", "role": "viewer" }),
        json!({ "role": "viewer" }),
    ] {
        let response = app.merchant(Method::POST, "/keys", &admin).json(&bad).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{bad}");
    }
}

#[tokio::test]
async fn the_last_admin_key_cannot_be_revoked() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let list = json_of(app.merchant(Method::GET, "/keys", &admin).send().await.unwrap(), 200).await;
    let id = list["data"].as_array().unwrap().iter().find(|k| k["role"] == "admin").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app.merchant(Method::POST, &format!("/keys/{id}/revoke"), &admin).send().await.unwrap();
    assert_eq!(error_code(response, 403).await, "forbidden");
    let response = app.merchant(Method::POST, "/keys/key_nothing/revoke", &admin).send().await.unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
}

#[tokio::test]
async fn reports_filter_transactions_total_the_days_and_export_csv() {
    let app = spawn().await;
    let (operator, viewer) = (app.api_key(Role::Operator).await, app.api_key(Role::Viewer).await);
    for (i, (wallet, decision)) in
        [("wechat_pay", "approve"), ("alipay", "approve"), ("alipay", "decline"), ("paypal", "")]
            .iter()
            .enumerate()
    {
        let order = create_order(&app, &operator).await;
        let session: Value = app
            .create_session(&format!("r-{i}"), &session_body(order["id"].as_str().unwrap(), wallet))
            .await
            .json()
            .await
            .unwrap();
        if !decision.is_empty() {
            app.sandbox(session["id"].as_str().unwrap(), decision).await;
        }
    }
    let all =
        json_of(app.merchant(Method::GET, "/reports/transactions", &viewer).send().await.unwrap(), 200).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    assert_eq!(all["data"][0]["reference"], "A-1001");
    let succeeded = json_of(
        app.merchant(Method::GET, "/reports/transactions?status=succeeded", &viewer).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(succeeded["data"].as_array().unwrap().len(), 2);
    let alipay = json_of(
        app.merchant(Method::GET, "/reports/transactions?wallet=alipay&status=failed", &viewer)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(alipay["data"].as_array().unwrap().len(), 1);
    let future = json_of(
        app.merchant(Method::GET, "/reports/transactions?from=2099-01-01&to=2099-12-31", &viewer)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(future["data"].as_array().unwrap().is_empty());

    let csv = app.merchant(Method::GET, "/reports/transactions?format=csv", &viewer).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "session_id,order_id,reference,wallet_id,status,amount,currency,refunded,flag,created_at,updated_at"
    );
    assert_eq!(lines.len(), 5);
    assert!(lines[1..].iter().all(|line| line.contains(",A-1001,") && line.contains(",129.00,CNY,0.00,")));

    let totals =
        json_of(app.merchant(Method::GET, "/reports/daily-totals", &viewer).send().await.unwrap(), 200).await;
    let totals = totals["data"].as_array().unwrap();
    assert_eq!(totals.len(), 2, "{totals:?}");
    for total in totals {
        assert_eq!(total["payments"], 1);
        assert_eq!(total["amount"], json!({ "minor_units": "12900", "currency": "CNY" }));
    }
    for query in [
        "status=paid",
        "wallet=a b",
        "from=yesterday",
        "format=xml",
        "from=2030-01-02&to=2030-01-01",
        "limit=0",
    ] {
        let response = app
            .merchant(Method::GET, &format!("/reports/transactions?{query}"), &viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{query}");
    }
}

#[tokio::test]
async fn the_console_overview_needs_a_staff_sign_in_and_shows_takings_and_latest_sessions() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let order = create_order(&app, &operator).await;
    let session: Value = app
        .create_session("d-1", &session_body(order["id"].as_str().unwrap(), "wechat_pay"))
        .await
        .json()
        .await
        .unwrap();
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;

    let anonymous = app.client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/console/login?next=%2Fconsole");
    let old = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!((old.status().as_u16(), old.headers()["location"].to_str().unwrap()), (308, "/console"));
    // A key is not a password any more.
    let key_as_password =
        app.client.get(app.url("/console")).basic_auth("staff", Some(&operator)).send().await.unwrap();
    assert_eq!(key_as_password.status(), 303);

    let viewer = app.console_user("viewer").await;
    let page = app.console_get(&viewer, "/console").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("CNY 129.00"), "today's takings");
    assert!(html.contains(session["id"].as_str().unwrap()));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("confirmed: succeeded"), "the status history");
    assert!(html.contains("viewer person"), "who is signed in");
}

#[tokio::test]
async fn session_creation_is_rate_limited_per_client_address() {
    let app = spawn_with(|config| config.session_rate_per_minute = 3).await;
    let order = app.new_order().await;
    for i in 0..3 {
        assert_eq!(
            app.create_session(&format!("rl-{i}"), &session_body(&order, "wechat_pay")).await.status(),
            201
        );
    }
    let limited = app.create_session("rl-4", &session_body(&order, "wechat_pay")).await;
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=21).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(limited, 429).await, "rate_limited");
    // Reads are not limited.
    assert_eq!(app.client.get(app.api(&format!("/orders/{order}"))).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn health_readiness_and_security_headers() {
    let app = spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(json_of(health, 200).await, json!({ "status": "ok" }));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(json_of(ready, 200).await["status"], "ready");
    for path in ["/healthz", "/api/checkout/orders/ord_x", "/api/v1/orders", "/", "/static/store.css"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
    }
    let api = app.client.get(app.url("/api/v1/orders")).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_demo_store_is_absent_in_live_mode() {
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.demo_store = false;
    })
    .await;
    assert_eq!(app.client.get(app.url("/")).send().await.unwrap().status(), 404);
    assert_eq!(app.client.post(app.url("/store/orders")).send().await.unwrap().status(), 404);
    assert_eq!(app.client.post(app.url("/sandbox/pay/ses_x/approve")).send().await.unwrap().status(), 404);
    let store = app.store().await;
    let (_, admin) = make_key(&store, "live admin", Role::Admin, true, "test").await.unwrap();
    assert!(admin.starts_with("sk_live_"));
    let hook = json!({ "url": "http://127.0.0.1:9/h" });
    let response = app.merchant(Method::PUT, "/webhook-endpoint", &admin).json(&hook).send().await.unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request", "live mode needs https webhooks");
}

/// Regression: two admin keys revoking each other at the same moment both succeeded, leaving no
/// admin key at all.
#[tokio::test]
async fn two_admins_revoking_each_other_at_once_leave_one_admin() {
    let app = spawn().await;
    for _ in 0..5 {
        let (first, second) = (app.api_key(Role::Admin).await, app.api_key(Role::Admin).await);
        let live: Value = app.merchant(Method::GET, "/keys", &first).json_answer().await;
        let ids: Vec<String> = live["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["role"] == "admin" && k["revoked_at"].is_null())
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect();
        // Every live admin key revokes another one, all at once.
        let requests = ids.iter().enumerate().map(|(i, _)| {
            let target = &ids[(i + 1) % ids.len()];
            let secret = if i % 2 == 0 { &first } else { &second };
            app.merchant(Method::POST, &format!("/keys/{target}/revoke"), secret).send()
        });
        futures::future::join_all(requests).await;
        let store = app.store().await;
        let admins = store
            .api_keys()
            .await
            .unwrap()
            .into_iter()
            .filter(|k| k.role == "admin" && k.revoked_at.is_none())
            .count();
        assert!(admins >= 1, "an admin key is always left");
    }
}
