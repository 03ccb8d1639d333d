//! The console's daily work over real HTTP: orders found by reference, amount, status, wallet and
//! dates with every filter in the query string; the list as CSV with formulas neutralised; an
//! order's page; refunds in full and in part, asked on a second page, never more than is left;
//! API keys shown once and revoked after asking; the webhook endpoint and a failed delivery sent
//! again; the audit log searched; and each role and the CSRF token at every boundary.

use crate::helpers::make_key;
use crate::helpers::{eventually_within, spawn, spawn_with, ConsoleUser, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::{
    sync::{
        atomic::{AtomicU16, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use wallet_checkout_contract::{OrderId, SessionId};
use wallet_checkout_server::domain::Role;

async fn api_key(app: &TestApp, role: Role) -> String {
    let store = app.store().await;
    make_key(&store, &format!("{role} key"), role, false, "test").await.unwrap().1
}

/// An order made through the merchant API: its id.
async fn order(app: &TestApp, key: &str, minor_units: u64, reference: &str) -> String {
    let body = json!({
        "amount": { "minor_units": minor_units, "currency": "CNY" },
        "description": "Celadon tea cup",
        "reference": reference,
    });
    let response = app.merchant(Method::POST, "/orders", key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    order["id"].as_str().unwrap().to_owned()
}

/// An order of CNY 129.00 paid with the sandbox's WeChat Pay: (order id, session id).
async fn paid_order(app: &TestApp, key: &str, reference: &str) -> (String, String) {
    let order_id = order(app, key, 12_900, reference).await;
    let session = app.session_for(&order_id, "wechat_pay").await;
    let session_id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(app.sandbox(&session_id, "approve").await.status(), 200);
    (order_id, session_id)
}

async fn page(app: &TestApp, user: &ConsoleUser, path: &str) -> (u16, String) {
    let response = app.console_get(user, path).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post(app: &TestApp, user: &ConsoleUser, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.console_post(user, path, fields).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Sends the confirmation page's form (`confirm`) of a refund of the order at `order_path`.
async fn confirm_refund(app: &TestApp, user: &ConsoleUser, order_path: &str, confirm: &str) -> (u16, String) {
    let fields = ["session", "amount_minor", "reason", "key"].map(|name| (name, hidden(confirm, name)));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    post(app, user, &format!("{order_path}/refund/confirm"), &fields).await
}

/// The value of a hidden field in a page.
fn hidden(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a field {name} in {html}"))
        .to_owned()
}

/// The rows of a table with `data-testid="{row}"`.
fn rows(html: &str, row: &str) -> usize {
    html.matches(&format!("data-testid=\"{row}\"")).count()
}

fn problem_text(html: &str) -> String {
    html.split("data-testid=\"problem\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default()
        .to_owned()
}

async fn audit_entries(app: &TestApp) -> Vec<(String, String, String)> {
    let store = app.store().await;
    store.audit_log(100).await.unwrap().into_iter().map(|e| (e.action, e.actor_name, e.target)).collect()
}

#[tokio::test]
async fn viewers_read_orders_operators_refund_and_only_admins_manage_keys_webhooks_and_the_audit_log() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (order_id, session_id) = paid_order(&app, &key, "A-1001").await;
    let viewer = app.console_user("viewer").await;
    let operator = app.console_user("operator").await;
    let admin = app.console_user("admin").await;

    let (status, list) = page(&app, &viewer, "/console/orders").await;
    assert_eq!(status, 200);
    assert!(list.contains("A-1001"));
    assert!(list.contains("href=\"/console/orders\""), "the navigation has the orders");
    assert!(!list.contains("href=\"/console/keys\""), "a viewer's navigation has no keys");
    let (status, order_page) = page(&app, &viewer, &format!("/console/orders/{order_id}")).await;
    assert_eq!(status, 200);
    assert!(!order_page.contains("data-testid=\"refund-form\""), "a viewer sees no refund form");
    let (status, _) = post(
        &app,
        &viewer,
        &format!("/console/orders/{order_id}/refund"),
        &[("session", &session_id), ("amount", "1.00"), ("reason", "Chipped")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &app,
        &viewer,
        &format!("/console/orders/{order_id}/refund/confirm"),
        &[
            ("session", &session_id),
            ("amount_minor", "100"),
            ("reason", "Chipped"),
            ("key", "console_refund_x"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert!(app
        .store()
        .await
        .refunds_of(&OrderId::parse(order_id.clone()).unwrap())
        .await
        .unwrap()
        .is_empty());

    let (_, order_page) = page(&app, &operator, &format!("/console/orders/{order_id}")).await;
    assert!(order_page.contains("data-testid=\"refund-form\""), "an operator may refund");
    for member in [&viewer, &operator] {
        for path in ["/console/keys", "/console/webhooks", "/console/audit"] {
            assert_eq!(page(&app, member, path).await.0, 403, "{path}");
        }
        assert_eq!(
            post(&app, member, "/console/keys", &[("name", "x"), ("role", "admin"), ("mode", "test")])
                .await
                .0,
            403
        );
        assert_eq!(
            post(&app, member, "/console/webhooks", &[("url", "https://shop.example/h")]).await.0,
            403
        );
        assert_eq!(post(&app, member, "/console/webhooks/rotate", &[("confirm", "1")]).await.0, 403);
        assert_eq!(post(&app, member, "/console/webhooks/events/evt_x/resend", &[]).await.0, 403);
    }
    for path in ["/console/keys", "/console/webhooks", "/console/audit"] {
        assert_eq!(page(&app, &admin, path).await.0, 200, "{path}");
    }
    // Signed out: the sign-in page.
    let response = app.client.get(app.url("/console/orders")).send().await.unwrap();
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn forms_without_the_session_token_change_nothing() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (order_id, session_id) = paid_order(&app, &key, "A-1002").await;
    let admin = app.console_user("admin").await;
    let forged = ConsoleUser { csrf: "forged".into(), ..admin.clone() };
    let keys_before = app.store().await.api_keys().await.unwrap().len();
    let attempts: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "refund/confirm",
            vec![
                ("session", &session_id),
                ("amount_minor", "100"),
                ("reason", "Chipped"),
                ("key", "console_refund_y"),
            ],
        ),
        ("refund", vec![("session", &session_id), ("amount", "1"), ("reason", "Chipped")]),
        ("keys", vec![("name", "Forged"), ("role", "admin"), ("mode", "test")]),
        ("webhooks", vec![("url", "https://shop.example/hooks"), ("enabled", "1")]),
    ];
    for (action, fields) in attempts {
        let path = match action {
            "keys" | "webhooks" => format!("/console/{action}"),
            _ => format!("/console/orders/{order_id}/{action}"),
        };
        let (status, _) = post(&app, &forged, &path, &fields).await;
        assert_eq!(status, 403, "{path}");
        // From another site, even with the token.
        let other_site = app
            .console_post(&admin, &path, &fields)
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(other_site.status(), 403, "{path} from another site");
    }
    let store = app.store().await;
    assert!(store.refunds_of(&OrderId::parse(order_id.clone()).unwrap()).await.unwrap().is_empty());
    assert_eq!(store.api_keys().await.unwrap().len(), keys_before);
    assert!(store.webhook_endpoint().await.unwrap().is_none());
}

#[tokio::test]
async fn an_operator_refunds_part_then_the_rest_each_after_a_confirmation_page() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (order_id, session_id) = paid_order(&app, &key, "A-1003").await;
    let operator = app.console_user("operator").await;
    let order_path = format!("/console/orders/{order_id}");
    let store = app.store().await;
    let id = OrderId::parse(order_id.clone()).unwrap();

    // The order page: the session, its history and the provider's reference.
    let (_, order_page) = page(&app, &operator, &order_path).await;
    assert!(order_page.contains(&session_id));
    assert!(order_page.contains("data-testid=\"provider-refs\""), "{order_page}");
    assert!(order_page.contains("CNY 129.00"));

    // The first step only asks.
    let (status, confirm) = post(
        &app,
        &operator,
        &format!("{order_path}/refund"),
        &[("session", &session_id), ("amount", "29"), ("reason", "Chipped rim")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Refund CNY 29.00 of CNY 129.00 to WeChat Pay?"), "{confirm}");
    assert!(store.refunds_of(&id).await.unwrap().is_empty(), "nothing is refunded before confirming");

    let (status, done) = confirm_refund(&app, &operator, &order_path, &confirm).await;
    assert_eq!(status, 200);
    assert!(done.contains("CNY 29.00 was refunded."), "{done}");
    assert_eq!(rows(&done, "refund-row"), 1);
    // Sending the same confirmation again makes no second refund.
    let (_, again) = confirm_refund(&app, &operator, &order_path, &confirm).await;
    assert_eq!(rows(&again, "refund-row"), 1);
    let refunds = store.refunds_of(&id).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount.minor_units(), 2_900);
    assert_eq!(refunds[0].reason, "Chipped rim");
    assert_eq!(refunds[0].status.as_str(), "succeeded");

    // The rest: the amount left empty.
    let (_, confirm) = post(
        &app,
        &operator,
        &format!("{order_path}/refund"),
        &[("session", &session_id), ("amount", ""), ("reason", "Returned")],
    )
    .await;
    assert!(confirm.contains("Refund CNY 100.00 of CNY 129.00 to WeChat Pay?"), "{confirm}");
    let (_, done) = confirm_refund(&app, &operator, &order_path, &confirm).await;
    assert_eq!(rows(&done, "refund-row"), 2);
    assert!(!done.contains("data-testid=\"refund-form\""), "nothing is left to refund");
    assert_eq!(
        store.session(&SessionId::parse(session_id.clone()).unwrap()).await.unwrap().unwrap().refunded_minor,
        12_900
    );

    // Both in the audit log under the person's name, with the webhook events on the page.
    let refunds_audited = audit_entries(&app)
        .await
        .into_iter()
        .filter(|(action, name, _)| action == "refund.create" && name == "operator person")
        .count();
    assert_eq!(refunds_audited, 2);
    assert!(done.contains("refund.succeeded"), "the deliveries about the order are listed");
}

#[tokio::test]
async fn more_than_is_left_or_a_bad_amount_gets_a_message_keeps_the_form_and_refunds_nothing() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (order_id, session_id) = paid_order(&app, &key, "A-1004").await;
    let operator = app.console_user("operator").await;
    let path = format!("/console/orders/{order_id}/refund");

    let (status, answer) = post(
        &app,
        &operator,
        &path,
        &[("session", &session_id), ("amount", "129.01"), ("reason", "Too much")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        problem_text(&answer),
        "That is more than is left to refund (CNY 129.00). Nothing was refunded."
    );
    assert!(
        answer.contains("value=\"129.01\"") && answer.contains("value=\"Too much\""),
        "the form keeps what was typed"
    );

    let (_, answer) =
        post(&app, &operator, &path, &[("session", &session_id), ("amount", "12.345"), ("reason", "Odd")])
            .await;
    assert!(problem_text(&answer).contains("at most 2 digits after the point"), "{answer}");
    assert!(answer.contains("value=\"12.345\""));
    let (_, answer) =
        post(&app, &operator, &path, &[("session", &session_id), ("amount", "1"), ("reason", " ")]).await;
    assert!(problem_text(&answer).contains("Enter a reason"), "{answer}");

    // A confirmation for more than is left (someone refunded meanwhile) is refused too.
    let (_, answer) = post(
        &app,
        &operator,
        &format!("/console/orders/{order_id}/refund/confirm"),
        &[
            ("session", &session_id),
            ("amount_minor", "12901"),
            ("reason", "Late"),
            ("key", "console_refund_z"),
        ],
    )
    .await;
    assert!(problem_text(&answer).starts_with("That is more than is left to refund"), "{answer}");
    assert!(app
        .store()
        .await
        .refunds_of(&OrderId::parse(order_id.clone()).unwrap())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn orders_are_found_by_reference_amount_status_wallet_and_dates_with_the_filters_in_the_link() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (paid, _) = paid_order(&app, &key, "SHOP-PAID-1").await;
    let open = order(&app, &key, 5_000, "SHOP-OPEN-2").await;
    let viewer = app.console_user("viewer").await;

    let (_, found) = page(&app, &viewer, "/console/orders?q=shop-paid").await;
    assert_eq!(rows(&found, "order-row"), 1);
    assert!(found.contains(&paid));
    let (_, found) = page(&app, &viewer, &format!("/console/orders?q={open}")).await;
    assert_eq!(rows(&found, "order-row"), 1, "by id");
    let (_, found) = page(&app, &viewer, "/console/orders?amount=50&currency=CNY").await;
    assert_eq!(rows(&found, "order-row"), 1);
    assert!(found.contains("SHOP-OPEN-2"));
    let (_, found) = page(&app, &viewer, "/console/orders?amount=50.00").await;
    assert_eq!(rows(&found, "order-row"), 1, "the shop's one currency is understood");
    let (_, found) = page(&app, &viewer, "/console/orders?amount=50.01&currency=CNY").await;
    assert_eq!(rows(&found, "order-row"), 0);
    let (_, found) = page(&app, &viewer, "/console/orders?status=paid").await;
    assert_eq!(rows(&found, "order-row"), 1);
    assert!(found.contains("SHOP-PAID-1"));
    let (_, found) = page(&app, &viewer, "/console/orders?wallet=wechat_pay").await;
    assert_eq!(rows(&found, "order-row"), 1);
    let (_, found) = page(&app, &viewer, "/console/orders?wallet=alipay").await;
    assert_eq!(rows(&found, "order-row"), 0);
    let today = &wallet_checkout_server::domain::rfc3339(wallet_checkout_server::domain::Clock::now(
        &wallet_checkout_server::domain::SystemClock,
    ))[..10];
    let (_, found) = page(&app, &viewer, &format!("/console/orders?from={today}&to={today}")).await;
    assert_eq!(rows(&found, "order-row"), 2, "the last day is included");
    let (_, found) = page(&app, &viewer, "/console/orders?to=2020-01-01").await;
    assert_eq!(rows(&found, "order-row"), 0);
    // The CSV link carries the same filters.
    let (_, found) = page(&app, &viewer, "/console/orders?status=paid&q=SHOP").await;
    assert!(found.contains("href=\"/console/orders.csv?q=SHOP&amp;status=paid\""), "{found}");

    // Bad input: a clear message, the form as typed, no list.
    for (query, message) in [
        ("amount=12.345&currency=CNY", "at most 2 digits after the point"),
        ("amount=abc&currency=CNY", "at most 2 digits after the point"),
        ("from=2026-13-01", "Enter dates as year-month-day"),
        ("from=2026-02-02&to=2026-02-01", "must not be after the end date"),
        ("status=lost", "Choose a status"),
        ("currency=XYZ", "Choose a currency"),
        ("page=0", "no such page"),
    ] {
        let (status, answer) = page(&app, &viewer, &format!("/console/orders?{query}")).await;
        assert_eq!(status, 200);
        assert!(problem_text(&answer).contains(message), "{query}: {answer}");
        assert_eq!(rows(&answer, "order-row"), 0);
    }
    let (_, answer) = page(&app, &viewer, "/console/orders?amount=12.345&currency=CNY&q=SHOP").await;
    assert!(answer.contains("value=\"12.345\"") && answer.contains("value=\"SHOP\""));
}

#[tokio::test]
async fn the_list_is_paged_and_each_page_keeps_the_filters() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    for n in 0..27 {
        order(&app, &key, 1_000 + n, &format!("BULK-{n:02}")).await;
    }
    order(&app, &key, 1_000, "OTHER").await;
    let viewer = app.console_user("viewer").await;
    let (_, first) = page(&app, &viewer, "/console/orders?q=bulk").await;
    assert_eq!(rows(&first, "order-row"), 25);
    assert!(first.contains("href=\"/console/orders?q=bulk&amp;page=2\""), "{first}");
    let (_, second) = page(&app, &viewer, "/console/orders?q=bulk&page=2").await;
    assert_eq!(rows(&second, "order-row"), 2);
    assert!(second.contains("BULK-00") && second.contains("BULK-01"), "oldest last");
    assert!(!second.contains("OTHER"));
    assert!(second.contains("href=\"/console/orders?q=bulk\""), "a link back to the first page");
}

#[tokio::test]
async fn the_csv_holds_the_filtered_orders_with_formulas_neutralised() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (paid, session) = paid_order(&app, &key, "=HYPERLINK(\"http://evil.example\",\"x\")").await;
    order(&app, &key, 5_000, "NOT-PAID").await;
    let viewer = app.console_user("viewer").await;
    let response = app.console_get(&viewer, "/console/orders.csv?status=paid").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("orders.csv"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "order_id,reference,description,status,amount,currency,refunded,wallet_id,paid_session_id,created_at"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with(&format!(
        "{paid},\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",Celadon tea cup,paid,129.00,CNY,0.00,wechat_pay,{session},"
    )), "{csv}");
    // Bad filters: a clear message, no file.
    let bad = app.console_get(&viewer, "/console/orders.csv?amount=1.234&currency=CNY").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    // Signed out: no file.
    let signed_out = app.client.get(app.url("/console/orders.csv")).send().await.unwrap();
    assert_eq!(signed_out.status(), 303);
}

#[tokio::test]
async fn an_admin_makes_a_key_shown_once_and_revokes_it_after_confirming() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let (status, made) = post(
        &app,
        &admin,
        "/console/keys",
        &[("name", "Shop backend"), ("role", "operator"), ("mode", "test")],
    )
    .await;
    assert_eq!(status, 200);
    let secret = made
        .split("id=\"new-key-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret on the page")
        .to_owned();
    assert!(secret.starts_with("sk_test_"), "{secret}");
    assert!(made.contains("data-copy=\"new-key-secret\""), "with a copy button");
    let orders = app.merchant(Method::GET, "/orders", &secret).send().await.unwrap();
    assert_eq!(orders.status(), 200, "the key works");
    let (_, listed) = page(&app, &admin, "/console/keys").await;
    assert!(listed.contains("Shop backend") && listed.contains(&secret[..12]));
    assert!(!listed.contains(&secret), "never shown again");

    // A bad name keeps the form and makes nothing.
    let (_, refused) =
        post(&app, &admin, "/console/keys", &[("name", " "), ("role", "viewer"), ("mode", "test")]).await;
    assert!(problem_text(&refused).contains("Enter a name"));

    let store = app.store().await;
    let key = store.api_keys().await.unwrap().into_iter().find(|k| k.name == "Shop backend").unwrap();
    let (_, asked) = post(&app, &admin, &format!("/console/keys/{}/revoke", key.id), &[]).await;
    assert!(asked.contains("data-testid=\"confirm-question\""));
    assert!(store.api_key(&key.id).await.unwrap().unwrap().revoked_at.is_none(), "asking revokes nothing");
    let (_, revoked) =
        post(&app, &admin, &format!("/console/keys/{}/revoke", key.id), &[("confirm", "1")]).await;
    assert!(revoked.contains("The key Shop backend is revoked."), "{revoked}");
    let orders = app.merchant(Method::GET, "/orders", &secret).send().await.unwrap();
    assert_eq!(orders.status(), 401, "the key no longer works");
    let audited: Vec<String> = audit_entries(&app)
        .await
        .into_iter()
        .filter(|(_, name, target)| name == "admin person" && *target == key.id)
        .map(|(action, _, _)| action)
        .collect();
    assert_eq!(audited, ["key.revoke", "key.create"]);
}

/// A receiver that answers with the status it is set to, counting requests.
async fn receiver(status: Arc<AtomicU16>, count: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let status = status.clone();
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn the_webhook_endpoint_is_set_with_its_secret_shown_once_and_a_failed_delivery_is_sent_again() {
    let app = spawn_with(|config| config.webhook_max_attempts = 1).await;
    let admin = app.console_user("admin").await;
    let status = Arc::new(AtomicU16::new(500));
    let count = Arc::new(AtomicUsize::new(0));
    let url = receiver(status.clone(), count.clone()).await;
    let with_credentials = url.replace("http://", "http://shop:s3cret@");

    let (_, bad) =
        post(&app, &admin, "/console/webhooks", &[("url", "ftp://shop.example/"), ("enabled", "1")]).await;
    assert!(problem_text(&bad).contains("http or https URL"));
    assert!(bad.contains("value=\"ftp://shop.example/\""), "the form keeps what was typed");
    let (_, set) =
        post(&app, &admin, "/console/webhooks", &[("url", &with_credentials), ("enabled", "1")]).await;
    assert!(set.contains("data-testid=\"new-secret\"") && set.contains("whsec_"), "the secret, this once");
    assert!(set.contains("http://****@127.0.0.1"), "credentials are masked");
    assert!(!set.contains("s3cret"));
    let (_, shown) = page(&app, &admin, "/console/webhooks").await;
    assert!(!shown.contains("whsec_"), "never shown again");

    // An event that fails once is given up (at most 1 attempt here).
    let key = api_key(&app, Role::Operator).await;
    paid_order(&app, &key, "HOOK-1").await;
    let store = app.store().await;
    let mut failed = None;
    eventually_within("an event to fail", Duration::from_secs(20), async || {
        let events = store.events(None, 10).await.unwrap();
        failed = events.into_iter().find(|e| e.gave_up_at.is_some() && e.attempts > 0);
        failed.is_some()
    })
    .await;
    let failed = failed.unwrap();
    let (_, log) = page(&app, &admin, "/console/webhooks").await;
    assert!(log.contains("Your endpoint answered with HTTP status 500."), "in our words");
    assert!(log.contains(&format!("/console/webhooks/events/{}/resend", failed.id)));

    status.store(200, Ordering::SeqCst);
    let (_, resent) =
        post(&app, &admin, &format!("/console/webhooks/events/{}/resend", failed.id), &[]).await;
    assert!(resent.contains("will be sent again"), "{resent}");
    eventually_within("the event to be delivered again", Duration::from_secs(20), async || {
        store.event(&failed.id).await.unwrap().unwrap().delivered_at.is_some()
    })
    .await;
    // A delivered event cannot be sent again.
    let (_, again) = post(&app, &admin, &format!("/console/webhooks/events/{}/resend", failed.id), &[]).await;
    assert!(problem_text(&again).contains("cannot be sent again"));

    // Rotation asks first, then shows the new secret once.
    let vault = app.vault();
    let secret =
        async || wallet_checkout_server::webhooks::endpoint(&store, &vault).await.unwrap().unwrap().secret;
    let before = secret().await;
    let (_, asked) = post(&app, &admin, "/console/webhooks/rotate", &[]).await;
    assert!(asked.contains("data-testid=\"confirm-question\""));
    assert_eq!(secret().await, before);
    let (_, rotated) = post(&app, &admin, "/console/webhooks/rotate", &[("confirm", "1")]).await;
    let after = secret().await;
    assert_ne!(after, before);
    assert!(rotated.contains(&after));
    let actions: Vec<String> = audit_entries(&app).await.into_iter().map(|(action, _, _)| action).collect();
    for action in ["webhook_endpoint.update", "event.resend", "webhook_endpoint.rotate_secret"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn the_audit_log_is_searched_by_person_action_target_and_dates() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    post(&app, &admin, "/console/keys", &[("name", "Audit one"), ("role", "viewer"), ("mode", "test")]).await;
    let store = app.store().await;
    store
        .audit(
            "key_x",
            "Backend key",
            wallet_checkout_server::domain::AuditAction::OrderCreate,
            "ord_findme",
            &json!({}),
            1_000,
        )
        .await
        .unwrap();
    let (_, all) = page(&app, &admin, "/console/audit").await;
    assert!(rows(&all, "audit-row") >= 2);
    let (_, by_person) = page(&app, &admin, "/console/audit?person=admin+person").await;
    assert!(rows(&by_person, "audit-row") >= 1);
    assert!(!by_person.contains("ord_findme"));
    let (_, by_action) = page(&app, &admin, "/console/audit?action=order").await;
    assert_eq!(rows(&by_action, "audit-row"), 1);
    assert!(by_action.contains("ord_findme"));
    let (_, by_target) = page(&app, &admin, "/console/audit?target=FINDME").await;
    assert_eq!(rows(&by_target, "audit-row"), 1);
    let (_, by_date) = page(&app, &admin, "/console/audit?from=1970-01-01&to=1970-01-01").await;
    assert_eq!(rows(&by_date, "audit-row"), 1, "the entry of 1970 only");
    let (_, bad) = page(&app, &admin, "/console/audit?from=yesterday&person=admin").await;
    assert!(problem_text(&bad).contains("year-month-day"));
    assert!(bad.contains("value=\"yesterday\"") && bad.contains("value=\"admin\""));
}

#[tokio::test]
async fn each_page_speaks_the_member_language() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let (order_id, _) = paid_order(&app, &key, "ZH-1").await;
    let admin = app.console_user("admin").await;
    post(&app, &admin, "/console/account/language", &[("locale", "zh-CN")]).await;
    let (_, list) = page(&app, &admin, "/console/orders").await;
    assert!(list.contains("lang=\"zh-CN\""));
    assert!(list.contains("查找订单") && list.contains("¥129.00"), "{list}");
    let (_, order_page) = page(&app, &admin, &format!("/console/orders/{order_id}")).await;
    assert!(order_page.contains("核对退款"));
    for (path, words) in
        [("/console/keys", "创建密钥"), ("/console/webhooks", "推送记录"), ("/console/audit", "搜索审计日志")]
    {
        assert!(page(&app, &admin, path).await.1.contains(words), "{path}");
    }
}

#[tokio::test]
async fn a_second_payment_of_an_order_is_chosen_and_refunded_from_the_order_page() {
    let app = spawn().await;
    let key = api_key(&app, Role::Operator).await;
    let order_id = order(&app, &key, 6_800, "TWICE-1").await;
    let first = app.session_for(&order_id, "wechat_pay").await;
    let second = app.session_for(&order_id, "alipay").await;
    let (first, second) =
        (first["id"].as_str().unwrap().to_owned(), second["id"].as_str().unwrap().to_owned());
    assert_eq!(app.sandbox(&first, "approve").await.status(), 200);
    assert_eq!(app.sandbox(&second, "approve").await.status(), 200);
    let operator = app.console_user("operator").await;
    let order_path = format!("/console/orders/{order_id}");

    // Both payments are on the page, the one that paid the order first in the choice.
    let (_, order_page) = page(&app, &operator, &order_path).await;
    assert_eq!(rows(&order_page, "session"), 2);
    assert!(order_page.contains("refund_due"), "the second payment's flag is shown");
    let choice = order_page.split("id=\"refund-session\"").nth(1).expect("a choice of payment");
    let (at_first, at_second) = (choice.find(&first).unwrap(), choice.find(&second).unwrap());
    assert!(at_first < at_second);

    let (_, confirm) = post(
        &app,
        &operator,
        &format!("{order_path}/refund"),
        &[("session", &second), ("amount", ""), ("reason", "Paid twice")],
    )
    .await;
    assert!(confirm.contains("Refund CNY 68.00 of CNY 68.00 to Alipay?"), "{confirm}");
    let (_, done) = confirm_refund(&app, &operator, &order_path, &confirm).await;
    assert!(done.contains("CNY 68.00 was refunded."), "{done}");
    let store = app.store().await;
    let refunds = store.refunds_of(&OrderId::parse(order_id.clone()).unwrap()).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].session_id.as_str(), second);
    // The payment that paid the order is untouched and can still be refunded.
    assert!(done.contains("Up to CNY 68.00 can be given back to the shopper's WeChat Pay."), "{done}");
}
