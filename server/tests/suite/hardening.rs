//! Defects an attacker, a shopper or a shop in another currency could hit, each found by probing
//! the server from outside and each guarded here over real HTTP: amounts in every currency,
//! links and return pages that cannot be bent, webhooks that cannot be aimed inward, keys bound
//! to their mode, the rate limit behind a proxy, totals beyond 2^53, cancel against a payment in
//! flight, caching and secrets at rest, and text that lies about itself.

use crate::helpers::make_key;
use crate::helpers::{error_code, eventually, session_body, spawn, spawn_with, JsonAnswer, TestApp};
use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use reqwest::Method;
use serde_json::{json, Value};
use std::{
    sync::{Arc, Mutex},
    time::Instant,
};
use wallet_checkout_contract::SessionId;
use wallet_checkout_server::domain::{Clock, SystemClock};
use wallet_checkout_server::{domain::Role, domain::SessionEvent};

async fn order_of(app: &TestApp, operator: &str, minor_units: u64, currency: &str) -> Value {
    let body =
        json!({ "amount": { "minor_units": minor_units, "currency": currency }, "description": "Tea" });
    let response = app.merchant(Method::POST, "/orders", operator).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "an order in {currency}");
    response.json().await.unwrap()
}

// 1. Amounts in every currency -------------------------------------------------------------------

/// Regression: the server's table had no CLF (4 digits) and took `XXX` or `ABC` for currencies.
#[tokio::test]
async fn orders_in_unknown_currencies_are_refused_and_every_other_amount_reads_right() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    for code in ["XXX", "ABC", "XTS", "XAU", "HRK"] {
        let body = json!({ "amount": { "minor_units": 100, "currency": code }, "description": "Tea" });
        let response = app.merchant(Method::POST, "/orders", &operator).json(&body).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{code} is not a currency");
    }
    for (minor_units, currency, shown) in [
        (6800, "HUF", "HUF 68.00"),
        (6800, "IDR", "IDR 68.00"),
        (6800, "IQD", "IQD 6.800"),
        (12345, "CLF", "CLF 1.2345"),
        (6800, "JPY", "JPY 6800"),
    ] {
        let order = order_of(&app, &operator, minor_units, currency).await;
        let session = app.session_for(order["id"].as_str().unwrap(), "wechat_pay").await;
        let page = app
            .client
            .get(app.url(&format!("/sandbox/pay/{}", session["id"].as_str().unwrap())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(shown), "the pay page shows {shown}");
    }
}

// 2. Return pages ----------------------------------------------------------------------------------

/// Regression: any http(s) `return_url` was accepted, and the sandbox sent the shopper there with
/// the session id after paying (an open redirect).
#[tokio::test]
async fn shoppers_are_sent_back_only_to_the_stores_own_pages() {
    let app = spawn_with(|config| {
        config.allowed_origins = vec![axum::http::HeaderValue::from_static("https://shop.example")];
    })
    .await;
    let order = app.new_order().await;
    for (i, (url, allowed)) in [
        ("https://shop.example/checkout?x=1", true),
        (app.url("/store/orders/x").as_str(), true),
        ("https://evil.example/", false),
        ("https://shop.example.evil.example/", false),
        ("http://shop.example/", false),
        ("https://shop.example:8443/", false),
        ("http://127.0.0.1/", false),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = session_body(&order, "paypal");
        body["return_url"] = json!(url);
        let response = app.create_session(&format!("ret-{i}"), &body).await;
        if allowed {
            assert_eq!(response.status(), 201, "{url} is the store's");
        } else {
            assert_eq!(error_code(response, 400).await, "invalid_request", "{url} is not the store's");
        }
    }
}

// 3. Links from configuration, not from Host -------------------------------------------------------

/// Regression: with no `public_url`, the QR payload was built from the request's `Host` header, so
/// `Host: 127.0.0.1:8080@evil.example` stored a payment link pointing elsewhere.
#[tokio::test]
async fn a_forged_host_header_cannot_bend_payment_links() {
    let app = spawn().await;
    let port = app.base.rsplit(':').next().unwrap().to_owned();
    let order = app.new_order().await;
    for (i, host) in
        [format!("127.0.0.1:{port}@evil.example"), "evil.example".to_owned(), format!("evil.example:{port}")]
            .iter()
            .enumerate()
    {
        let session: Value = app
            .client
            .post(app.api("/sessions"))
            .header("Host", host)
            .header("Idempotency-Key", format!("host-{i}"))
            .json(&session_body(&order, "wechat_pay"))
            .json_answer()
            .await;
        let payload = session["next_action"]["payload"].as_str().unwrap();
        assert!(payload.starts_with(&format!("http://127.0.0.1:{port}/sandbox/pay/")), "{host}: {payload}");
    }
    // The bound address itself, and localhost on it, are the server's own names.
    let session: Value = app
        .client
        .post(app.api("/sessions"))
        .header("Host", format!("localhost:{port}"))
        .header("Idempotency-Key", "host-own")
        .json(&session_body(&order, "wechat_pay"))
        .json_answer()
        .await;
    assert!(session["next_action"]["payload"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://localhost:{port}/")));
}

#[tokio::test]
async fn a_configured_public_url_decides_every_link() {
    let app =
        spawn_with(|config| config.public_url = Some(url::Url::parse("https://pay.shop.example/").unwrap()))
            .await;
    let order = app.new_order().await;
    let session = app.session_for(&order, "wechat_pay").await;
    assert!(session["next_action"]["payload"]
        .as_str()
        .unwrap()
        .starts_with("https://pay.shop.example/sandbox/pay/"));
}

// 4. Webhooks that cannot be aimed inward ----------------------------------------------------------

/// What a receiver saw.
type Seen = Arc<Mutex<Vec<HeaderMap>>>;

async fn receiver() -> (std::net::SocketAddr, Seen) {
    async fn receive(State(seen): State<Seen>, headers: HeaderMap, _body: Bytes) -> axum::http::StatusCode {
        seen.lock().unwrap().push(headers);
        axum::http::StatusCode::OK
    }
    let seen: Seen = Arc::default();
    let app = Router::new().route("/hooks", post(receive)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, seen)
}

/// Regression: an admin (and through `session.created`, any shopper) could make the server send
/// requests to loopback, private, link-local and metadata addresses in any spelling.
#[tokio::test]
async fn webhook_urls_on_internal_networks_are_refused_in_every_spelling() {
    let app = spawn_with(|config| config.webhook_allowed_networks.clear()).await;
    let admin = app.api_key(Role::Admin).await;
    let (address, _) = receiver().await;
    let port = address.port();
    for url in [
        format!("http://127.0.0.1:{port}/hooks"),
        format!("http://127.1:{port}/hooks"),
        format!("http://2130706433:{port}/hooks"),
        format!("http://[::ffff:127.0.0.1]:{port}/hooks"),
        format!("http://0.0.0.0:{port}/hooks"),
        format!("http://localhost:{port}/hooks"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://[fd00::1]/".to_owned(),
    ] {
        let response = app
            .merchant(Method::PUT, "/webhook-endpoint", &admin)
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{url}");
    }
}

/// A URL saved before the rule (or a name that resolves inward later) is refused when delivered,
/// and what staff read says so in the server's words: nothing tells an open port from a closed one.
#[tokio::test]
async fn deliveries_to_internal_addresses_are_refused_and_reveal_nothing() {
    let app = spawn_with(|config| {
        config.webhook_allowed_networks.clear();
        config.webhook_retry_base_ms = 60_000;
    })
    .await;
    let (open, seen) = receiver().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let store = app.store().await;
    let vault = app.vault();
    let mut errors = Vec::new();
    for address in [open, closed] {
        // Saved as it was before the rule: without the URL check the API makes.
        let url = url::Url::parse(&format!("http://{address}/hooks")).unwrap();
        wallet_checkout_server::webhooks::set_endpoint(&store, &vault, &url, true, 0).await.unwrap();
        let session = app.new_session("wechat_pay").await;
        let id = session["id"].as_str().unwrap().to_owned();
        eventually("the attempt", async || {
            store.events(Some(&id), 10).await.unwrap().iter().any(|event| event.last_error.is_some())
        })
        .await;
        let events = store.events(Some(&id), 10).await.unwrap();
        errors.push(events[0].last_error.clone().unwrap());
    }
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the receiver");
    assert_eq!(errors[0], errors[1], "an open port reads the same as a closed one");
    assert!(
        errors[0].starts_with("delivery refused: the address is on a loopback, private"),
        "{}",
        errors[0]
    );
    assert!(
        !errors[0].contains(&open.port().to_string()) && !errors[0].contains("127.0.0.1"),
        "{}",
        errors[0]
    );
}

#[tokio::test]
async fn a_named_private_network_is_allowed_for_a_receiver_on_the_merchants_own_network() {
    let app =
        spawn_with(|config| config.webhook_allowed_networks = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let admin = app.api_key(Role::Admin).await;
    let (address, seen) = receiver().await;
    let response = app
        .merchant(Method::PUT, "/webhook-endpoint", &admin)
        .json(&json!({ "url": format!("http://{address}/hooks") }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.new_session("wechat_pay").await;
    eventually("a delivery", async || !seen.lock().unwrap().is_empty()).await;
}

// 5. Keys work only in their mode ------------------------------------------------------------------

/// Regression: a `sk_test_` key (the demo store's too) authenticated against a live-mode server
/// sharing the database.
#[tokio::test]
async fn a_key_works_only_in_the_mode_it_was_made_for() {
    let db = crate::helpers::test_db().await;
    let test_app = crate::helpers::spawn_on(&db, |_| {}).await;
    let live_app = crate::helpers::spawn_on(&db, |config| {
        config.sandbox = false;
        config.demo_store = false;
    })
    .await;
    let store = db.store().await;
    let (_, test_key) = make_key(&store, "test admin", Role::Admin, false, "test").await.unwrap();
    let (_, live_key) = make_key(&store, "live admin", Role::Admin, true, "test").await.unwrap();
    assert!(test_key.starts_with("sk_test_") && live_key.starts_with("sk_live_"));
    for (app, good, bad) in [(&test_app, &test_key, &live_key), (&live_app, &live_key, &test_key)] {
        assert_eq!(app.merchant(Method::GET, "/orders", good).send().await.unwrap().status(), 200);
        let refused = app.merchant(Method::GET, "/orders", bad).send().await.unwrap();
        assert_eq!(error_code(refused, 401).await, "unauthorized");
    }
}

// 6. The rate limit behind a proxy -----------------------------------------------------------------

/// Regression: with `trust_proxy` on, the leftmost `X-Forwarded-For` entry (written by the client)
/// was used, so a client sending a new one each time was never limited.
#[tokio::test]
async fn behind_a_proxy_the_address_the_proxy_saw_is_limited() {
    let app = spawn_with(|config| {
        config.trust_proxy = true;
        config.session_rate_per_minute = 2;
    })
    .await;
    let order = app.new_order().await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let response = app
            .client
            .post(app.api("/sessions"))
            .header("Idempotency-Key", format!("xff-{i}"))
            .header("X-Forwarded-For", format!("10.9.8.{i}, 203.0.113.7"))
            .json(&session_body(&order, "wechat_pay"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 429]);
    // Another client of the same proxy has its own allowance.
    let other = app
        .client
        .post(app.api("/sessions"))
        .header("Idempotency-Key", "xff-other")
        .header("X-Forwarded-For", "203.0.113.8")
        .json(&session_body(&order, "wechat_pay"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
}

// 7. Totals beyond 2^53 ----------------------------------------------------------------------------

const MAX_MINOR: u64 = 9_007_199_254_740_991;

/// Regression: reports and the dashboard answered 500 once a day's total for a wallet and currency
/// passed 2^53 - 1 minor units (and stayed broken for the 14 days the dashboard shows).
#[tokio::test]
async fn totals_beyond_2_53_and_2_63_are_exact_and_never_a_500() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let viewer = app.api_key(Role::Viewer).await;
    for i in 0..3 {
        let order = order_of(&app, &operator, MAX_MINOR, "CNY").await;
        let session = app.session_for(order["id"].as_str().unwrap(), "alipay").await;
        let id = session["id"].as_str().unwrap();
        assert_eq!(app.sandbox(id, "approve").await.status(), 200, "payment {i}");
    }
    let totals: Value = app.merchant(Method::GET, "/reports/daily-totals", &viewer).json_answer().await;
    assert_eq!(totals["data"][0]["payments"], 3);
    assert_eq!(
        totals["data"][0]["amount"],
        json!({ "minor_units": (3 * u128::from(MAX_MINOR)).to_string(), "currency": "CNY" })
    );
    assert_eq!(totals["data"][0]["net"], totals["data"][0]["amount"], "nothing refunded");

    // Past 2^63 too: a thousand more such payments on the same day.
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    sqlx::query(
        "INSERT INTO sessions (id, order_id, wallet_id, status, amount_minor, currency, return_url, device, \
         idempotency_key, request_hash, action_type, action_value, created_at, expires_at, updated_at, paid_at) \
         SELECT id || '_' || n, order_id, wallet_id, status, amount_minor, currency, return_url, device, \
         idempotency_key || '_' || n, request_hash, action_type, action_value, created_at, expires_at, updated_at, paid_at \
         FROM sessions, (WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < 1000) SELECT n FROM numbers) AS numbers \
         WHERE status = 'succeeded' AND amount_minor = $1",
    )
    .bind(MAX_MINOR as i64)
    .execute(&pool)
    .await
    .unwrap();
    let totals: Value = app.merchant(Method::GET, "/reports/daily-totals", &viewer).json_answer().await;
    let expected = 3003 * u128::from(MAX_MINOR);
    assert!(expected > u128::from(u64::MAX));
    assert_eq!(totals["data"][0]["amount"]["minor_units"], expected.to_string());
    let staff = app.console_user("viewer").await;
    let overview = app.console_get(&staff, "/console").send().await.unwrap();
    assert_eq!(overview.status(), 200);
    let page = overview.text().await.unwrap();
    // The console writes the exact total with its thousands separated.
    let digits = wallet_checkout_contract::Currency::parse("CNY").unwrap().decimal_string(expected);
    let (whole, cents) = digits.split_once('.').unwrap();
    let grouped: Vec<String> =
        whole.as_bytes().rchunks(3).rev().map(|chunk| String::from_utf8(chunk.to_vec()).unwrap()).collect();
    assert!(page.contains(&format!("CNY {}.{cents}", grouped.join(","))), "the exact total on the console");
    assert_eq!(
        app.merchant(Method::GET, "/reports/transactions?format=csv", &viewer).send().await.unwrap().status(),
        200
    );
}

// 8. Cancel against a payment in flight ------------------------------------------------------------

/// Regression: canceling an order while its session was `processing` succeeded; the payment then
/// succeeded too, the order stayed canceled, and the widget said "paid".
#[tokio::test]
async fn an_order_cannot_be_canceled_while_a_payment_is_in_flight() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let order = order_of(&app, &operator, 6800, "CNY").await;
    let order_id = order["id"].as_str().unwrap();
    let session = app.session_for(order_id, "wechat_pay").await;
    let session_id = SessionId::parse(session["id"].as_str().unwrap()).unwrap();
    let store = app.store().await;
    store.apply(&session_id, SessionEvent::Approved, SystemClock.now()).await.unwrap();
    let refused =
        app.merchant(Method::POST, &format!("/orders/{order_id}/cancel"), &operator).send().await.unwrap();
    assert_eq!(error_code(refused, 409).await, "payment_in_progress");
    store.apply(&session_id, SessionEvent::Confirmed, SystemClock.now()).await.unwrap();
    let paid: Value =
        app.merchant(Method::GET, &format!("/orders/{order_id}"), &operator).json_answer().await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["sessions"][0]["status"], "succeeded");
    assert_eq!(paid["sessions"][0]["flag"], Value::Null);
}

/// Cancels and approvals racing on many orders: an order ends canceled with no payment, or paid;
/// never canceled with a session approved or paid.
#[tokio::test]
async fn cancels_racing_approvals_never_leave_a_canceled_order_with_a_payment() {
    let app = spawn().await;
    let operator = app.api_key(Role::Operator).await;
    let store = app.store().await;
    let mut races = Vec::new();
    for _ in 0..20 {
        let order = order_of(&app, &operator, 6800, "CNY").await;
        let order_id = order["id"].as_str().unwrap().to_owned();
        let session = app.session_for(&order_id, "wechat_pay").await;
        let session_id = SessionId::parse(session["id"].as_str().unwrap()).unwrap();
        let cancel = app.merchant(Method::POST, &format!("/orders/{order_id}/cancel"), &operator).send();
        let store = store.clone();
        let approve =
            async move { store.apply(&session_id, SessionEvent::Approved, SystemClock.now()).await.unwrap() };
        let (canceled, _) = tokio::join!(cancel, approve);
        races.push((order_id, canceled.unwrap().status().as_u16()));
    }
    for (order_id, cancel_status) in races {
        let order: Value =
            app.merchant(Method::GET, &format!("/orders/{order_id}"), &operator).json_answer().await;
        let statuses: Vec<&str> =
            order["sessions"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
        match order["status"].as_str().unwrap() {
            "canceled" => {
                assert_eq!(cancel_status, 200);
                assert_eq!(statuses, ["canceled"], "a canceled order has no payment in flight");
            }
            "open" => {
                assert_eq!(cancel_status, 409, "the cancel was refused for the payment in flight");
                assert_eq!(statuses, ["processing"]);
            }
            other => panic!("unexpected order status {other}"),
        }
    }
}

// 9. Caching and secrets at rest -------------------------------------------------------------------

#[tokio::test]
async fn pages_about_payments_are_never_cached() {
    let app = spawn().await;
    let viewer = app.console_user("viewer").await;
    let session = app.new_session("wechat_pay").await;
    let pages = [
        app.console_get(&viewer, "/console"),
        app.client.get(app.url("/console/login")),
        app.client.get(app.url(&format!("/sandbox/pay/{}", session["id"].as_str().unwrap()))),
        app.client.get(app.url(&format!("/store/orders/{}", session["order_id"].as_str().unwrap()))),
    ];
    for page in pages {
        let response = page.send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store", "{}", response.url());
    }
}

/// Regression: credentials inside a webhook URL were returned by the API and kept in the audit log.
#[tokio::test]
async fn credentials_in_a_webhook_url_are_masked_but_still_used() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let (address, seen) = receiver().await;
    let url = format!("http://shop:hunter2@{address}/hooks");
    let made: Value = app
        .merchant(Method::PUT, "/webhook-endpoint", &admin)
        .json(&json!({ "url": url }))
        .json_answer()
        .await;
    let shown: Value = app.merchant(Method::GET, "/webhook-endpoint", &admin).json_answer().await;
    let log: Value = app.merchant(Method::GET, "/audit-log", &admin).json_answer().await;
    for text in [made.to_string(), shown.to_string(), log.to_string()] {
        assert!(!text.contains("hunter2") && !text.contains("shop:"), "{text}");
    }
    assert_eq!(shown["url"], format!("http://****@{address}/hooks"));
    app.new_session("wechat_pay").await;
    eventually("a delivery", async || !seen.lock().unwrap().is_empty()).await;
    let authorization = seen.lock().unwrap()[0]["authorization"].to_str().unwrap().to_owned();
    assert_eq!(authorization, "Basic c2hvcDpodW50ZXIy", "the receiver still gets its credentials");
}

// 10. Text that lies about itself ------------------------------------------------------------------

/// Regression: descriptions, references, metadata and key names accepted direction overrides and
/// zero-width characters, which make an amount or a reference read differently than it is.
#[tokio::test]
async fn text_with_direction_overrides_or_invisible_characters_is_refused() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let order = |description: &str, reference: &str, metadata: Value| json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": description, "reference": reference, "metadata": metadata });
    for body in [
        order("Tea \u{202E}0001", "A-1", json!({})),
        order("Tea", "A-10\u{200B}01", json!({})),
        order("Tea", "\u{2066}A-1\u{2069}", json!({})),
        order("Tea", "A-1", json!({ "note": "\u{FEFF}x" })),
        order("Tea", "A-1", json!({ "n\u{200B}ote": "x" })),
    ] {
        let response = app.merchant(Method::POST, "/orders", &admin).json(&body).send().await.unwrap();
        assert_eq!(error_code(response, 400).await, "invalid_request", "{body}");
    }
    let response = app
        .merchant(Method::POST, "/keys", &admin)
        .json(&json!({ "name": "Till\u{202E}", "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 400).await, "invalid_request");
    // Real writing still works.
    let fine =
        order("茉莉花茶 \u{1F375}", "قهوه\u{200C}خانه-1", json!({ "emoji": "\u{1F469}\u{200D}\u{1F4BB}" }));
    assert_eq!(app.merchant(Method::POST, "/orders", &admin).json(&fine).send().await.unwrap().status(), 201);
}

/// Regression: CSV cells beginning with a full-width `＝` or a zero-width space before `=` were not
/// neutralised.
#[tokio::test]
async fn csv_cells_that_would_start_a_formula_are_neutralised() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let body = json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "Tea", "reference": "＝HYPERLINK(\"https://evil.example\")" });
    let order: Value = app.merchant(Method::POST, "/orders", &admin).json(&body).json_answer().await;
    app.session_for(order["id"].as_str().unwrap(), "wechat_pay").await;
    let csv = app
        .merchant(Method::GET, "/reports/transactions?format=csv", &admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(",\"'＝HYPERLINK(\"\"https://evil.example\"\")\","), "{csv}");
}

// 10. The console's door and what anonymous requests cost -----------------------------------------

/// Regression: the orders export and its error answer had no `Cache-Control: no-store`, unlike
/// every console page.
#[tokio::test]
async fn the_orders_export_and_its_errors_are_never_cached() {
    let app = spawn().await;
    let viewer = app.console_user("viewer").await;
    let answers = [
        app.console_get(&viewer, "/console/orders.csv").send().await.unwrap(),
        app.console_get(&viewer, "/console/orders.csv?amount=1.234&currency=CNY").send().await.unwrap(),
        app.console_get(&viewer, "/console/orders/ord_nope").send().await.unwrap(),
        app.client.get(app.url("/console/orders.csv")).send().await.unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status().as_u16()).collect();
    assert_eq!(statuses, [200, 400, 404, 303]);
    for answer in answers {
        assert_eq!(answer.headers()["cache-control"], "no-store", "{} {}", answer.status(), answer.url());
    }
}

/// Regression: a cell holding `;` was exported unquoted, so Excel in a locale whose list separator
/// is `;` split `K;=cmd|' /C calc'!A0` and ran the formula. Every CSV quotes it.
#[tokio::test]
async fn a_cell_with_a_separator_of_any_locale_is_quoted_in_every_export() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let reference = "K;=cmd|' /C calc'!A0";
    let body = json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "description": "Tea", "reference": reference });
    let order: Value = app.merchant(Method::POST, "/orders", &admin).json(&body).json_answer().await;
    app.session_for(order["id"].as_str().unwrap(), "wechat_pay").await;
    let viewer = app.console_user("viewer").await;
    let exports = [
        app.merchant(Method::GET, "/reports/transactions?format=csv", &admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        app.console_get(&viewer, "/console/orders.csv").send().await.unwrap().text().await.unwrap(),
    ];
    for csv in exports {
        assert!(csv.contains(&format!(",\"{reference}\",")), "{csv}");
    }
}

/// Regression: the webhook signing secret and credentials inside the webhook URL were stored in
/// the clear (every backup carried them), unlike the providers' keys.
#[tokio::test]
async fn the_webhook_secret_and_the_credentials_in_its_url_are_sealed_at_rest() {
    let app = spawn().await;
    let admin = app.api_key(Role::Admin).await;
    let (address, seen) = receiver().await;
    let made: Value = app
        .merchant(Method::PUT, "/webhook-endpoint", &admin)
        .json(&json!({ "url": format!("http://shop:hunter2@{address}/hooks") }))
        .json_answer()
        .await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    let rotated: Value =
        app.merchant(Method::POST, "/webhook-endpoint/rotate-secret", &admin).json_answer().await;
    let rotated = rotated["secret"].as_str().unwrap().to_owned();
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    let (url, url_sealed, stored): (String, String, String) =
        sqlx::query_as("SELECT url, url_sealed, secret FROM webhook_endpoints")
            .fetch_one(&pool)
            .await
            .unwrap();
    for value in [&url, &url_sealed, &stored] {
        assert!(
            !value.contains("hunter2") && !value.contains(&secret) && !value.contains(&rotated),
            "{value}"
        );
    }
    assert!(url_sealed.starts_with("v1:") && stored.starts_with("v1:"));
    // Deliveries still carry the credentials and the signature made with the current secret.
    app.new_session("wechat_pay").await;
    eventually("a delivery", async || !seen.lock().unwrap().is_empty()).await;
    let headers = seen.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], "Basic c2hvcDpodW50ZXIy");
    let signature = headers["wallet-checkout-signature"].to_str().unwrap().to_owned();
    assert!(signature.starts_with("t="), "{signature}");
}

/// Runs the server binary on a fresh data directory with `env`, until `until` has been done to
/// it; answers what it printed (stdout and the log).
async fn run_server_binary(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
    until: impl AsyncFnOnce(String, Arc<Mutex<String>>),
) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .env("WC_BIND", "127.0.0.1:0")
        .env("WC_DATA_DIR", data_dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("WC_CONFIG")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let printed = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let printed = printed.clone();
        readers.push(tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                printed.lock().unwrap().push_str(&format!("{line}\n"));
            }
        }));
    }
    let mut base = String::new();
    // The welcome (stdout) is written before the line that says the server listens (stderr), but
    // the two pipes are read apart: wait for both when there is a welcome.
    eventually("the server to listen", async || {
        let text = printed.lock().unwrap().clone();
        if let Some(rest) = text.split("listening address=").nth(1) {
            base = format!("http://{}", rest.split_whitespace().next().unwrap());
        }
        !base.is_empty()
    })
    .await;
    until(base, printed.clone()).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    // Everything the server wrote, to the end of both pipes.
    for reader in readers {
        reader.await.unwrap();
    }
    let text = printed.lock().unwrap().clone();
    text
}

/// Regression: the rate limits logged client addresses in clear while the alert store keeps only a
/// keyed hash of them.
#[tokio::test]
async fn client_addresses_stay_out_of_the_log() {
    let data = tempfile::TempDir::new().unwrap();
    let log =
        run_server_binary(data.path(), &[("WC_SESSION_RATE_PER_MINUTE", "1")], async |base, printed| {
            let client =
                reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let order = client.get(format!("{base}/")).send().await.unwrap();
            let order = order.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
            for i in 0..2 {
                client
                    .post(format!("{base}/api/checkout/sessions"))
                    .header("Idempotency-Key", format!("log-{i}"))
                    .json(&session_body(&order, "wechat_pay"))
                    .send()
                    .await
                    .unwrap();
            }
            eventually("the rate limit's line", async || printed.lock().unwrap().contains("rate limited"))
                .await;
        })
        .await;
    let limited: Vec<&str> = log.lines().filter(|line| line.contains("rate limited")).collect();
    assert_eq!(limited.len(), 1, "{log}");
    assert!(!limited[0].contains("127.0.0.1"), "{}", limited[0]);
    assert!(limited[0].contains("client="), "{}", limited[0]);
}

/// A newcomer who ran `make demo` can sign in to the console: on its first start the demo makes an
/// admin with a one-time password and prints where to sign in; later starts make none.
#[tokio::test]
async fn the_demo_makes_an_admin_on_its_first_start_only() {
    let data = tempfile::TempDir::new().unwrap();
    let first = run_server_binary(data.path(), &[], async |base, printed| {
        eventually("the welcome", async || printed.lock().unwrap().contains("(shown once;")).await;
        let printed = printed.lock().unwrap().clone();
        let password = printed
            .split("with the one-time password ")
            .nth(1)
            .expect("the password is printed")
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        let app = TestApp::at(&base);
        let answer =
            app.sign_in_answer(wallet_checkout_server::startup::DEMO_ADMIN_EMAIL, &password, "").await;
        assert_eq!(answer.status(), 303);
        assert_eq!(answer.headers()["location"], "/console/account/password", "a one-time password");
    })
    .await;
    assert!(first.contains("Demo store: http://127.0.0.1:") && first.contains("/console"), "{first}");
    let later = run_server_binary(data.path(), &[], async |_, _| {}).await;
    assert!(later.contains("Console:") && !later.contains("one-time password"), "{later}");
    let other = tempfile::TempDir::new().unwrap();
    let no_store = run_server_binary(other.path(), &[("WC_DEMO_STORE", "false")], async |_, _| {}).await;
    assert!(!no_store.contains("Console:") && !no_store.contains("one-time password"), "{no_store}");
}

/// Percentiles of latencies in milliseconds: (p50, p99, max).
fn percentiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    (at(0.50), at(0.99), values[values.len() - 1])
}

/// Regression: 160 anonymous sign-ins hashed passwords on the async workers and 32 notifications of
/// 10,000 parameters each cost hundreds of milliseconds before any signature check; `/healthz`
/// took seconds. Under both floods at once the server keeps serving: hashing is bounded (a
/// sign-in past the queue is told to come back, 503 with `Retry-After`), oversized notifications
/// are refused unread, and every health check and every read of a paying shopper's session is
/// answered. (How fast is `make bench`'s to say: bench/flood.mjs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_sign_ins_and_notifications_leaves_the_server_serving() {
    let alipay = crate::helpers::alipay::spawn_alipay("", |config| config.trust_proxy = true).await;
    let app = &alipay.app;
    let session = {
        let order = app.new_order().await;
        let made = app
            .create_session("flood", &json!({ "order_id": order, "wallet_id": "alipay", "return_url": format!("http://127.0.0.1/store/orders/{order}"), "device": "desktop" }))
            .await;
        assert_eq!(made.status(), 201);
        made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (cookie, token) = app.sign_in_token().await;
    let big_form = (0..7_000).map(|i| format!("p{i}=1")).collect::<Vec<_>>().join("&");
    let mut flood = Vec::new();
    for i in 0..160u32 {
        let from = format!("198.51.{}.{}", i / 200, i % 200 + 1);
        let sign_in = app
            .client
            .post(app.url("/console/login"))
            .header("cookie", &cookie)
            .header("x-forwarded-for", &from)
            .form(&[
                ("sign_in_token", token.as_str()),
                ("email", &format!("nobody{i}@shop.example")),
                ("password", "guess the password"),
            ]);
        flood.push(tokio::spawn(async move {
            (
                true,
                sign_in.send().await.map(|r| (r.status().as_u16(), r.headers().contains_key("retry-after"))),
            )
        }));
        let notify = app
            .client
            .post(alipay.notify_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", &from)
            .body(big_form.clone());
        flood.push(tokio::spawn(async move {
            (false, notify.send().await.map(|r| (r.status().as_u16(), false)))
        }));
    }
    let mut health = Vec::new();
    let mut reads = Vec::new();
    while flood.iter().any(|task| !task.is_finished()) {
        let started = Instant::now();
        assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        health.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        assert_eq!(
            app.client.get(app.api(&format!("/sessions/{session}"))).send().await.unwrap().status(),
            200
        );
        reads.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let mut busy = 0;
    for task in flood {
        let (sign_in, answer) = task.await.unwrap();
        let (status, retry_after) = answer.expect("every request is answered");
        if sign_in {
            assert!(matches!(status, 401 | 503), "a sign-in: {status}");
            if status == 503 {
                assert!(retry_after, "busy, with when to come back");
                busy += 1;
            }
        } else {
            assert_eq!(status, 400, "an oversized notification is refused");
        }
    }
    assert!(busy > 0, "hashing is bounded: some sign-ins were told to come back");
    let (h50, h99, hmax) = percentiles(health);
    let (r50, r99, rmax) = percentiles(reads);
    eprintln!("under the flood: /healthz p50 {h50:.1} p99 {h99:.1} max {hmax:.1} ms; session read p50 {r50:.1} p99 {r99:.1} max {rmax:.1} ms; {busy} sign-ins told busy");
}

/// Tests of what only the embedded SQLite database has (its files, its backups); skipped on
/// PostgreSQL (`make test` passes `--skip ::on_sqlite::` there).
mod on_sqlite {

    /// Regression: the data directory and the database file (which holds the webhook signing secret)
    /// were created readable by every user of the machine.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_data_directory_and_database_are_private_to_the_server() {
        use std::os::unix::fs::PermissionsExt;
        crate::helpers::require_sqlite_run();
        let parent = tempfile::TempDir::new().unwrap();
        let data_dir = parent.path().join("data");
        let mut config = wallet_checkout_server::config::Config::for_tests(data_dir.clone());
        config.database_url = format!("sqlite://{}?mode=rwc", data_dir.join("wallet-checkout.db").display());
        let app = wallet_checkout_server::startup::Application::build(config).await.unwrap();
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data_dir), 0o700);
        for name in ["wallet-checkout.db", "wallet-checkout.db-wal", "wallet-checkout.db-shm"] {
            let path = data_dir.join(name);
            if path.exists() || name == "wallet-checkout.db" {
                assert_eq!(mode(&path), 0o600, "{name}");
            }
        }
        drop(app);
    }
}

#[tokio::test]
async fn every_answer_names_its_request_and_only_a_trusted_proxy_may_name_it() {
    let id_of = |response: &reqwest::Response| {
        response.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned()).expect("an id")
    };
    let app = spawn().await;
    let first = app.client.get(app.url("/healthz")).send().await.unwrap();
    let second = app.client.get(app.url("/api/checkout/orders/ord_none")).send().await.unwrap();
    assert_eq!(second.status(), 404, "errors are named too");
    let (first, second) = (id_of(&first), id_of(&second));
    assert!(first.starts_with("req_") && second.starts_with("req_") && first != second, "{first} {second}");
    // Without a trusted proxy, a client cannot choose the id its lines are logged under.
    let chosen = app.client.get(app.url("/healthz")).header("x-request-id", "chosen-1").send().await.unwrap();
    assert!(id_of(&chosen).starts_with("req_"));

    let proxied = spawn_with(|config| config.trust_proxy = true).await;
    let given = proxied
        .client
        .get(proxied.url("/healthz"))
        .header("x-request-id", "edge-7f3a.9")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&given), "edge-7f3a.9", "the proxy's id, so both logs meet");
    for bad in ["", "has space", "line\u{7f}", &"x".repeat(65)] {
        let answer = proxied.client.get(proxied.url("/healthz")).header("x-request-id", bad).send().await;
        // A value a header cannot hold is refused by the client itself; any other gets a new id.
        if let Ok(answer) = answer {
            assert!(id_of(&answer).starts_with("req_"), "{bad:?}");
        }
    }
}
