//! `server/openapi.json` against the server's real answers: the document served at
//! `/openapi.json` is the file; every documented operation is called, with requests that succeed
//! and requests that fail; and every answer must be documented for its path, method and status,
//! carry the documented headers and content type, and have a body its schema accepts.

use crate::helpers::make_key;
use crate::helpers::{eventually, eventually_within, session_body, TestApp};
use jsonschema::{Draft, Validator};
use reqwest::{header::HeaderMap, Method, RequestBuilder};
use serde_json::{json, Value};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use wallet_checkout_contract::{Amount, Currency, DeviceKind, OrderId, SessionId, WalletId};
use wallet_checkout_server::domain::{Clock, SystemClock};
use wallet_checkout_server::{
    db::{NewSession, Reservation},
    domain::Role,
    domain::{new_session_id, IdempotencyKey, ReturnUrl, SessionEvent},
};

const DOCUMENT: &str = include_str!("../../openapi.json");

// ---------------------------------------------------------------------------------------------
// The document and the checks of one answer against it.

struct Spec {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
    /// (path template, method, status) of every answer checked.
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

/// One answer, after it was checked against the document.
struct Answer {
    status: u16,
    headers: HeaderMap,
    /// The body: parsed JSON, or the text as a JSON string for other media types.
    body: Value,
}

impl Spec {
    fn load() -> Self {
        let doc: Value = serde_json::from_str(DOCUMENT).expect("server/openapi.json is JSON");
        Self { doc, validators: Mutex::default(), seen: Mutex::default() }
    }

    /// Follows a local `$ref` (`#/components/...`), as many times as needed.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
            value =
                self.doc.pointer(pointer).unwrap_or_else(|| panic!("$ref {reference} resolves to nothing"));
        }
        value
    }

    /// A validator for `schema`, whose `$ref`s resolve inside a root that holds the document's
    /// components. `key` names the schema's place in the document, for the cache and messages.
    fn validator(&self, key: &str, schema: &Value) -> Arc<Validator> {
        if let Some(validator) = self.validators.lock().unwrap().get(key) {
            return validator.clone();
        }
        let mut root = match schema {
            Value::Object(map) => map.clone(),
            other => panic!("{key}: the schema is not an object: {other}"),
        };
        assert!(!root.contains_key("components"), "{key}: a schema must not hold `components`");
        root.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .unwrap_or_else(|e| panic!("{key}: the schema does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators.lock().unwrap().insert(key.to_owned(), validator.clone());
        validator
    }

    fn validate(&self, key: &str, schema: &Value, instance: &Value, context: &str) {
        let validator = self.validator(key, schema);
        let errors: Vec<String> =
            validator.iter_errors(instance).map(|e| format!("  at '{}': {e}", e.instance_path)).collect();
        assert!(
            errors.is_empty(),
            "{context}: the answer does not match {key}:\n{}\nbody: {}",
            errors.join("\n"),
            serde_json::to_string_pretty(instance).unwrap()
        );
    }

    /// The documented path template that `path` matches, with its path item.
    fn path_item(&self, path: &str) -> Option<(&str, &Value)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"].as_object().unwrap().iter().find_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    if part.starts_with('{') && part.ends_with('}') {
                        !segment.is_empty()
                    } else {
                        part == segment
                    }
                });
            matches.then_some((template.as_str(), item))
        })
    }

    /// Checks one answer against the document and returns it with its body.
    fn check(&self, method: &Method, path: &str, status: u16, headers: HeaderMap, text: String) -> Answer {
        let context = format!("{method} {path} answered {status}");
        let (template, item) =
            self.path_item(path).unwrap_or_else(|| panic!("{context}: no documented path matches {path}"));
        let method_key = method.as_str().to_ascii_lowercase();
        let operation = item
            .get(&method_key)
            .unwrap_or_else(|| panic!("{context}: {template} documents no {method} operation"));
        let documented = operation["responses"].get(status.to_string()).unwrap_or_else(|| {
            panic!("{context}, a status the document does not list for {method} {template}; body: {text}")
        });
        let documented = self.resolve(documented);
        self.seen.lock().unwrap().insert((template.to_owned(), method.to_string(), status));
        let place = format!("{method} {template} {status}");

        if let Some(documented_headers) = documented.get("headers").and_then(Value::as_object) {
            for (name, header) in documented_headers {
                let header = self.resolve(header);
                match headers.get(name.as_str()) {
                    None => assert!(
                        !header.get("required").and_then(Value::as_bool).unwrap_or(false),
                        "{context} without the required header {name}"
                    ),
                    Some(value) => {
                        let value = value.to_str().expect("a header of visible ASCII");
                        let schema = self.resolve(&header["schema"]);
                        let instance = match schema.get("type").and_then(Value::as_str) {
                            Some("integer") | Some("number") => {
                                serde_json::from_str(value).unwrap_or_else(|_| {
                                    panic!("{context}: header {name}: {value} is not a number")
                                })
                            }
                            _ => Value::String(value.to_owned()),
                        };
                        self.validate(&format!("{place} header {name}"), schema, &instance, &context);
                    }
                }
            }
        }

        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            assert!(text.is_empty(), "{context} with a body where the document has none: {text}");
            return Answer { status, headers, body: Value::Null };
        };
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{context} without a Content-Type; body: {text}"));
        let essence = content_type.split(';').next().unwrap().trim().to_ascii_lowercase();
        let media = content.get(&essence).unwrap_or_else(|| {
            panic!(
                "{context} with Content-Type {content_type}, which the document does not list \
                 (it lists {:?}); body: {text}",
                content.keys().collect::<Vec<_>>()
            )
        });
        let body = if essence == "application/json" {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{context} with a body that is not JSON ({e}): {text}"))
        } else {
            Value::String(text)
        };
        if let Some(schema) = media.get("schema") {
            self.validate(&format!("{place} {essence}"), schema, &body, &context);
        }
        Answer { status, headers, body }
    }

    /// Every operation of the document: (path template, method).
    fn operations(&self) -> Vec<(String, String)> {
        let mut operations = Vec::new();
        for (template, item) in self.doc["paths"].as_object().unwrap() {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    operations.push((template.clone(), method.to_ascii_uppercase()));
                }
            }
        }
        operations
    }

    fn documented_statuses(&self, template: &str, method: &str) -> Vec<u16> {
        self.doc["paths"][template][method.to_ascii_lowercase()]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|status| status.parse().expect("statuses are numbers"))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Requests through the checks.

struct Ctx<'a> {
    app: &'a TestApp,
    spec: &'a Spec,
}

impl<'a> Ctx<'a> {
    fn new(app: &'a TestApp, spec: &'a Spec) -> Self {
        Self { app, spec }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app.client.request(method, self.app.url(path))
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// Sends the request and checks the answer against the document.
    async fn send(&self, request: RequestBuilder) -> Answer {
        let request = request.build().expect("a request");
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let response = self.app.client.execute(request).await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        assert_ne!(status, 500, "{method} {path} answered 500, a server error: {text}");
        self.spec.check(&method, &path, status, headers, text)
    }

    /// Sends the request, expects `status`, and returns the body.
    async fn expect(&self, request: RequestBuilder, status: u16) -> Value {
        let description = describe(&request);
        let answer = self.send(request).await;
        assert_eq!(answer.status, status, "{description}: {}", answer.body);
        answer.body
    }

    /// Sends the request and expects an error answer with `status` and `code`.
    async fn error(&self, request: RequestBuilder, status: u16, code: &str) -> Answer {
        let description = describe(&request);
        let answer = self.send(request).await;
        assert_eq!(answer.status, status, "{description}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], json!(code), "{description}: {}", answer.body);
        answer
    }

    /// For paths and methods that are not operations: the contract's error body all the same.
    async fn undocumented(&self, request: RequestBuilder, status: u16, code: &str) {
        let description = describe(&request);
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{description}");
        let body: Value = response.json().await.expect("a JSON error body");
        let schema = json!({ "$ref": "#/components/schemas/ErrorBody" });
        self.spec.validate("ErrorBody", &schema, &body, &description);
        assert_eq!(body["error"]["code"], json!(code), "{description}");
    }

    fn checkout_session(&self, key: &str, body: &Value) -> RequestBuilder {
        self.post("/api/checkout/sessions").header("Idempotency-Key", key).json(body)
    }
}

fn describe(request: &RequestBuilder) -> String {
    match request.try_clone().and_then(|r| r.build().ok()) {
        Some(r) => format!("{} {}", r.method(), r.url()),
        None => "a request".to_owned(),
    }
}

fn session_body_for(order: &str, wallet: &str, device: &str) -> Value {
    let mut body = session_body(order, wallet);
    body["device"] = json!(device);
    body
}

/// The digest the server keeps of a `POST /api/checkout/sessions` body, to recognise a retry.
fn session_request_hash(body: &Value) -> String {
    wallet_checkout_server::routes::sessions::request_hash(&serde_json::from_value(body.clone()).unwrap())
}

/// A webhook receiver that accepts everything.
async fn webhook_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = axum::Router::new().fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{address}/hooks")
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn the_served_document_is_the_file_and_is_openapi_3_1() {
    let app = crate::helpers::spawn().await;
    let response = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served = response.text().await.unwrap();
    assert_eq!(served, DOCUMENT, "GET /openapi.json must answer server/openapi.json as it is");
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    // Every `$ref` resolves, and every schema of an answer compiles.
    let spec = Spec::load();
    fn refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    out.push(reference);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec.doc, &mut all);
    assert!(!all.is_empty());
    for reference in all {
        let pointer = reference.strip_prefix('#').expect("local $refs only");
        assert!(spec.doc.pointer(pointer).is_some(), "{reference} resolves to nothing");
    }
    for (template, method) in spec.operations() {
        let operation = &spec.doc["paths"][&template][method.to_ascii_lowercase()];
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = spec.resolve(response);
            for (media, content) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                spec.validator(&format!("{method} {template} {status} {media}"), &content["schema"]);
            }
        }
    }
    // The document's enums are the code's: every currency, every error code.
    let currencies: Vec<&str> = spec.doc["components"]["schemas"]["Currency"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut known: Vec<String> =
        wallet_checkout_contract::Currency::all().map(|c| c.as_str().to_owned()).collect();
    known.sort_unstable();
    assert_eq!(currencies, known, "components.schemas.Currency lists the contract's currencies");
    let codes: Vec<&str> = spec.doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in wallet_checkout_contract::ErrorCode::ALL
        .iter()
        .filter(|c| **c != wallet_checkout_contract::ErrorCode::Unknown)
    {
        assert!(codes.contains(&code.as_str()), "ErrorCode {} is documented", code.as_str());
    }

    // The merchant API needs a key; the checkout contract and the probes do not.
    for (template, method) in spec.operations() {
        let operation = &spec.doc["paths"][&template][method.to_ascii_lowercase()];
        let secured = operation.get("security").is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()));
        assert_eq!(secured, template.starts_with("/api/v1/"), "{method} {template}: security");
        if secured {
            let statuses = spec.documented_statuses(&template, &method);
            assert!(statuses.contains(&401), "{method} {template} must document 401");
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(description.starts_with("Role: "), "{method} {template}: the description names the role");
        }
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let spec = Spec::load();
    let app = crate::helpers::spawn().await;
    let ctx = Ctx::new(&app, &spec);

    health(&ctx).await;
    let checkout = checkout_api(&ctx).await;
    checkout_steps(&ctx).await;
    held_idempotency_key(&ctx).await;
    merchant_api(&ctx, &checkout).await;
    unknown_paths_and_methods(&ctx).await;
    {
        let limited = crate::helpers::spawn_with(|config| config.session_rate_per_minute = 1).await;
        expiry_and_rate_limit(&Ctx::new(&limited, &spec)).await;
    }

    // Every operation was seen succeeding, and failing when it can fail.
    let seen = spec.seen.lock().unwrap().clone();
    let mut by_operation: BTreeMap<(String, String), BTreeSet<u16>> = BTreeMap::new();
    for (template, method, status) in seen {
        by_operation.entry((template, method)).or_default().insert(status);
    }
    let mut unseen = Vec::new();
    for (template, method) in spec.operations() {
        let statuses = by_operation.get(&(template.clone(), method.clone())).cloned().unwrap_or_default();
        assert!(
            statuses.iter().any(|s| (200..300).contains(s)),
            "{method} {template} was never answered with success"
        );
        let documented = spec.documented_statuses(&template, &method);
        if documented.iter().any(|s| (400..500).contains(s)) {
            assert!(
                statuses.iter().any(|s| (400..500).contains(s)),
                "{method} {template} was never answered with an error"
            );
        }
        for status in documented {
            if !statuses.contains(&status) {
                unseen.push(format!("{method} {template} {status}"));
            }
        }
    }
    eprintln!("documented answers this test does not provoke:\n  {}", unseen.join("\n  "));
}

async fn health(ctx: &Ctx<'_>) {
    assert_eq!(ctx.expect(ctx.get("/healthz"), 200).await, json!({"status": "ok"}));
    assert_eq!(ctx.expect(ctx.get("/readyz"), 200).await["status"], json!("ready"));
    assert_eq!(ctx.expect(ctx.get("/openapi.json"), 200).await["openapi"], json!("3.1.0"));
}

/// What the checkout part leaves behind for the merchant part.
struct Checkout {
    /// An order paid through the checkout; it has sessions in many states.
    paid_order: String,
    /// A session that succeeded.
    succeeded_session: String,
}

async fn checkout_api(ctx: &Ctx<'_>) -> Checkout {
    let app = ctx.app;
    let order = app.new_order().await;
    let order_path = format!("/api/checkout/orders/{order}");

    // GET /orders/{id}
    let answer = ctx.expect(ctx.get(&order_path), 200).await;
    assert_eq!(answer["order"]["status"], json!("open"));
    assert_eq!(answer["wallets"].as_array().unwrap().len(), 3);
    assert_eq!(answer["livemode"], json!(false));
    ctx.error(ctx.get("/api/checkout/orders/ord_missing"), 404, "not_found").await;
    ctx.error(ctx.get("/api/checkout/orders/bad%20id"), 400, "invalid_request").await;
    ctx.error(ctx.get(&format!("/api/checkout/orders/{}", "a".repeat(65))), 400, "invalid_request").await;

    // POST /sessions
    let qr = ctx
        .expect(ctx.checkout_session("key-qr", &session_body_for(&order, "wechat_pay", "desktop")), 201)
        .await;
    assert_eq!(qr["next_action"]["type"], json!("qr"));
    assert_eq!(qr["status"], json!("pending"));
    let replay =
        ctx.send(ctx.checkout_session("key-qr", &session_body_for(&order, "wechat_pay", "desktop"))).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(replay.body["id"], qr["id"]);
    ctx.error(
        ctx.checkout_session("key-qr", &session_body_for(&order, "alipay", "desktop")),
        422,
        "idempotency_conflict",
    )
    .await;
    let mobile = ctx
        .expect(ctx.checkout_session("key-mobile", &session_body_for(&order, "wechat_pay", "mobile")), 201)
        .await;
    assert_eq!(mobile["next_action"]["type"], json!("redirect"));
    let paypal = ctx
        .expect(ctx.checkout_session("key-paypal", &session_body_for(&order, "paypal", "desktop")), 201)
        .await;
    assert_eq!(paypal["next_action"]["type"], json!("redirect"));
    let alipay = ctx
        .expect(ctx.checkout_session("key-alipay", &session_body_for(&order, "alipay", "mobile")), 201)
        .await;
    assert_eq!(alipay["next_action"]["type"], json!("qr"));

    let valid = session_body_for(&order, "wechat_pay", "desktop");
    ctx.error(ctx.post("/api/checkout/sessions").json(&valid), 400, "invalid_request").await;
    ctx.error(ctx.checkout_session("a".repeat(256).as_str(), &valid), 400, "invalid_request").await;
    ctx.error(ctx.checkout_session("a b", &valid), 400, "invalid_request").await;
    ctx.error(
        ctx.post("/api/checkout/sessions")
            .header("Idempotency-Key", "key-bad-json")
            .header("Content-Type", "application/json")
            .body("{\"order_id\": "),
        400,
        "invalid_request",
    )
    .await;
    ctx.error(
        ctx.post("/api/checkout/sessions").header("Idempotency-Key", "key-no-type").body(valid.to_string()),
        400,
        "invalid_request",
    )
    .await;
    let mut tablet = valid.clone();
    tablet["device"] = json!("tablet");
    ctx.error(ctx.checkout_session("key-tablet", &tablet), 400, "invalid_request").await;
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("wallet_id");
    ctx.error(ctx.checkout_session("key-missing", &missing), 400, "invalid_request").await;
    let mut ftp = valid.clone();
    ftp["return_url"] = json!("ftp://shop.example/back");
    ctx.error(ctx.checkout_session("key-ftp", &ftp), 400, "invalid_request").await;
    let mut bad_order = valid.clone();
    bad_order["order_id"] = json!("ord/1");
    ctx.error(ctx.checkout_session("key-bad-order", &bad_order), 400, "invalid_request").await;
    let mut oversized = valid.clone();
    oversized["padding"] = json!("x".repeat(20_000));
    ctx.error(ctx.checkout_session("key-oversized", &oversized), 400, "invalid_request").await;
    ctx.error(
        ctx.checkout_session("key-unknown-order", &session_body_for("ord_missing", "wechat_pay", "desktop")),
        404,
        "not_found",
    )
    .await;
    ctx.error(
        ctx.checkout_session("key-unknown-wallet", &session_body_for(&order, "apple_pay", "desktop")),
        422,
        "wallet_unavailable",
    )
    .await;

    // GET /sessions/{id}
    let qr_id = qr["id"].as_str().unwrap().to_owned();
    let session_path = format!("/api/checkout/sessions/{qr_id}");
    assert_eq!(ctx.expect(ctx.get(&session_path), 200).await["status"], json!("pending"));
    let started = Instant::now();
    assert_eq!(ctx.expect(ctx.get(&format!("{session_path}?wait=1")), 200).await["status"], json!("pending"));
    assert!(started.elapsed() >= Duration::from_millis(900), "wait=1 waits");
    let started = Instant::now();
    let answer = ctx.expect(ctx.get(&format!("{session_path}?wait=25&status=processing")), 200).await;
    assert_eq!(answer["status"], json!("pending"));
    assert!(started.elapsed() < Duration::from_secs(5), "a status that differs answers at once");
    ctx.error(ctx.get(&format!("{session_path}?wait=soon")), 400, "invalid_request").await;
    ctx.error(ctx.get(&format!("{session_path}?wait=-1")), 400, "invalid_request").await;
    ctx.error(ctx.get(&format!("{session_path}?wait=1&status=paid")), 400, "invalid_request").await;
    ctx.error(ctx.get("/api/checkout/sessions/ses_missing"), 404, "not_found").await;
    ctx.error(ctx.get("/api/checkout/sessions/bad%20id"), 400, "invalid_request").await;

    // POST /sessions/{id}/cancel
    let mobile_id = mobile["id"].as_str().unwrap().to_owned();
    let cancel_path = format!("/api/checkout/sessions/{mobile_id}/cancel");
    let canceled = ctx.expect(ctx.post(&cancel_path), 200).await;
    assert_eq!(canceled["status"], json!("canceled"));
    assert_eq!(canceled["next_action"], Value::Null);
    assert_eq!(ctx.expect(ctx.post(&cancel_path), 200).await["status"], json!("canceled"));
    ctx.error(ctx.post("/api/checkout/sessions/ses_missing/cancel"), 404, "not_found").await;
    ctx.error(ctx.post("/api/checkout/sessions/bad%20id/cancel"), 400, "invalid_request").await;

    // The shopper pays with the QR session: it succeeds and the order is paid.
    assert_eq!(app.sandbox(&qr_id, "approve").await.status(), 200);
    let paid = ctx.expect(ctx.get(&session_path), 200).await;
    assert_eq!(paid["status"], json!("succeeded"));
    assert_eq!(paid["next_action"], Value::Null);
    ctx.error(ctx.post(&format!("{session_path}/cancel")), 409, "session_final").await;
    assert_eq!(ctx.expect(ctx.get(&order_path), 200).await["order"]["status"], json!("paid"));
    ctx.error(
        ctx.checkout_session("key-after-paid", &session_body_for(&order, "alipay", "desktop")),
        409,
        "order_not_payable",
    )
    .await;
    // A second payment of the paid order is flagged for refund; an approval of a canceled
    // session is recorded as late; a declined session fails.
    assert_eq!(app.sandbox(paypal["id"].as_str().unwrap(), "approve").await.status(), 303);
    // The wallet reports a payment of the canceled session (it was paid before it was closed).
    app.store()
        .await
        .apply(&SessionId::parse(mobile_id.as_str()).unwrap(), SessionEvent::Confirmed, SystemClock.now())
        .await
        .unwrap();
    let alipay_id = alipay["id"].as_str().unwrap();
    app.sandbox(alipay_id, "decline").await;
    let failed = ctx.expect(ctx.get(&format!("/api/checkout/sessions/{alipay_id}")), 200).await;
    assert_eq!(failed["status"], json!("failed"));
    ctx.error(ctx.post(&format!("/api/checkout/sessions/{alipay_id}/cancel")), 409, "session_final").await;

    // A session the shopper approved, while the wallet confirms: processing.
    let other = app.new_order().await;
    let processing = ctx
        .expect(
            ctx.checkout_session("key-processing", &session_body_for(&other, "wechat_pay", "desktop")),
            201,
        )
        .await;
    let processing_id = SessionId::parse(processing["id"].as_str().unwrap()).unwrap();
    app.store().await.apply(&processing_id, SessionEvent::Approved, SystemClock.now()).await.unwrap();
    let answer = ctx.expect(ctx.get(&format!("/api/checkout/sessions/{processing_id}")), 200).await;
    assert_eq!(answer["status"], json!("processing"));
    ctx.error(ctx.post(&format!("/api/checkout/sessions/{processing_id}/cancel")), 409, "session_final")
        .await;

    Checkout { paid_order: order, succeeded_session: qr_id }
}

/// A key whose first request is still running: others wait, then `409 idempotency_key_in_use`;
/// when the first request gives up, the waiting one answers `502 provider_error`.
async fn held_idempotency_key(ctx: &Ctx<'_>) {
    let app = ctx.app;
    let order = app.new_order().await;
    let order_view = ctx.expect(ctx.get(&format!("/api/checkout/orders/{order}")), 200).await;
    let amount = &order_view["order"]["amount"];
    let body = session_body_for(&order, "wechat_pay", "desktop");
    let key = "key-held";
    let now = SystemClock.now();
    let new = NewSession {
        id: new_session_id(),
        order_id: OrderId::parse(order.as_str()).unwrap(),
        wallet_id: WalletId::parse("wechat_pay").unwrap(),
        amount: Amount::new(
            amount["minor_units"].as_u64().unwrap(),
            Currency::parse(amount["currency"].as_str().unwrap()).unwrap(),
        )
        .unwrap(),
        return_url: ReturnUrl::parse(body["return_url"].as_str().unwrap()).unwrap(),
        device: DeviceKind::Desktop,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
        request_hash: session_request_hash(&body),
        created_at: now,
        expires_at: now + 900_000,
    };
    // The server's own database handle: the first request failing (below) happens inside the
    // server, whose waiting readers hear of it at once.
    let store = &app.state.as_ref().expect("a server in this process").db;
    let Reservation::Reserved(reserved) = store.reserve_session(&new).await.unwrap() else {
        panic!("the key was free");
    };
    // While the wallet starts the payment, the session has no action yet.
    let answer = ctx.expect(ctx.get(&format!("/api/checkout/sessions/{}", reserved.id)), 200).await;
    assert_eq!(answer["status"], json!("pending"));
    assert_eq!(answer["next_action"], Value::Null);

    ctx.error(ctx.checkout_session(key, &body), 409, "idempotency_key_in_use").await;

    let waiting = ctx.send(ctx.checkout_session(key, &body));
    let give_up = async {
        // Once the second request waits for the first (it is counted with the waiting reads)...
        eventually("the second request to wait for the first", async || {
            ctx.expect(ctx.get("/readyz"), 200).await["waiting_reads"].as_u64().unwrap_or(0) > 0
        })
        .await;
        store.discard_reservation(&reserved.id).await.unwrap();
    };
    let (answer, ()) = futures::join!(waiting, give_up);
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], json!("provider_error"));
    // The key is free again.
    ctx.expect(ctx.checkout_session(key, &body), 201).await;
}

async fn merchant_api(ctx: &Ctx<'_>, checkout: &Checkout) {
    let app = ctx.app;
    let store = app.store().await;
    let (_, admin) = make_key(&store, "test admin", Role::Admin, false, "test").await.unwrap();
    let admin = admin.as_str();

    // 401 everywhere without a valid key.
    let operations: [(Method, &str); 18] = [
        (Method::POST, "/api/v1/orders"),
        (Method::GET, "/api/v1/orders"),
        (Method::GET, "/api/v1/orders/ord_x"),
        (Method::POST, "/api/v1/orders/ord_x/cancel"),
        (Method::POST, "/api/v1/orders/ord_x/refunds"),
        (Method::GET, "/api/v1/orders/ord_x/refunds"),
        (Method::GET, "/api/v1/refunds/ref_x"),
        (Method::POST, "/api/v1/keys"),
        (Method::GET, "/api/v1/keys"),
        (Method::POST, "/api/v1/keys/key_x/revoke"),
        (Method::GET, "/api/v1/webhook-endpoint"),
        (Method::PUT, "/api/v1/webhook-endpoint"),
        (Method::POST, "/api/v1/webhook-endpoint/rotate-secret"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v1/audit-log"),
        (Method::GET, "/api/v1/reports/transactions"),
        (Method::GET, "/api/v1/reports/daily-totals"),
        (Method::GET, "/api/v1/reports/transactions?format=csv"),
    ];
    for (method, path) in &operations {
        let answer = ctx.error(ctx.request(method.clone(), path), 401, "unauthorized").await;
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
    }
    ctx.error(
        ctx.get("/api/v1/orders").bearer_auth("sk_test_0000000000000000000000000000000"),
        401,
        "unauthorized",
    )
    .await;
    ctx.error(
        ctx.get("/api/v1/orders").header("Authorization", "Basic YWRtaW46YWRtaW4="),
        401,
        "unauthorized",
    )
    .await;
    ctx.error(ctx.get("/api/v1/orders").header("Authorization", "Bearer "), 401, "unauthorized").await;
    ctx.error(
        ctx.post("/api/v1/orders")
            .bearer_auth("sk_test_wrong")
            .header("Content-Type", "application/json")
            .body("{"),
        401,
        "unauthorized",
    )
    .await;

    // Keys: POST, GET.
    let operator_key = ctx
        .expect(
            ctx.post("/api/v1/keys").bearer_auth(admin).json(&json!({"name": "ops", "role": "operator"})),
            201,
        )
        .await;
    assert_eq!(operator_key["role"], json!("operator"));
    let operator = operator_key["secret"].as_str().unwrap().to_owned();
    let viewer_key = ctx
        .expect(
            ctx.post("/api/v1/keys").bearer_auth(admin).json(&json!({"name": " reports ", "role": "viewer"})),
            201,
        )
        .await;
    assert_eq!(viewer_key["name"], json!("reports"));
    let viewer = viewer_key["secret"].as_str().unwrap().to_owned();
    let viewer_id = viewer_key["id"].as_str().unwrap().to_owned();
    let (operator, viewer) = (operator.as_str(), viewer.as_str());
    for bad in [
        json!({"name": "x", "role": "root"}),
        json!({"name": "x", "role": "viewer", "expires": "never"}),
        json!({"name": "   ", "role": "viewer"}),
        json!({"name": "x".repeat(101), "role": "viewer"}),
        json!({"name": "tab\tname", "role": "viewer"}),
        json!({"role": "viewer"}),
        json!(["viewer"]),
    ] {
        ctx.error(ctx.post("/api/v1/keys").bearer_auth(admin).json(&bad), 400, "invalid_request").await;
    }
    ctx.error(
        ctx.post("/api/v1/keys")
            .bearer_auth(admin)
            .header("Content-Type", "application/json")
            .body("{\"name\""),
        400,
        "invalid_request",
    )
    .await;
    let new_key = json!({"name": "x", "role": "viewer"});
    ctx.error(ctx.post("/api/v1/keys").bearer_auth(operator).json(&new_key), 403, "forbidden").await;
    ctx.error(ctx.post("/api/v1/keys").bearer_auth(viewer).json(&new_key), 403, "forbidden").await;
    let keys = ctx.expect(ctx.get("/api/v1/keys").bearer_auth(admin), 200).await;
    assert!(keys["data"].as_array().unwrap().len() >= 4, "{keys}");
    ctx.error(ctx.get("/api/v1/keys").bearer_auth(operator), 403, "forbidden").await;
    ctx.error(ctx.get("/api/v1/keys").bearer_auth(viewer), 403, "forbidden").await;

    // Orders: POST.
    let tea = json!({
        "amount": {"minor_units": 1999, "currency": "USD"},
        "description": "Oolong, 100 g",
        "reference": "=A-1001",
        "metadata": {"channel": "test", "cart": "c-1"},
    });
    let created = ctx.expect(ctx.post("/api/v1/orders").bearer_auth(operator).json(&tea), 201).await;
    assert_eq!(created["status"], json!("open"));
    assert_eq!(created["paid_session_id"], Value::Null);
    let order = created["id"].as_str().unwrap().to_owned();
    let plain = json!({"amount": {"minor_units": 500, "currency": "JPY"}, "description": "Sencha"});
    let keyed = ctx
        .send(ctx.post("/api/v1/orders").bearer_auth(admin).header("Idempotency-Key", "order-1").json(&plain))
        .await;
    assert_eq!(keyed.status, 201);
    assert!(keyed.headers.get("idempotent-replayed").is_none());
    let replayed = ctx
        .send(
            ctx.post("/api/v1/orders")
                .bearer_auth(operator)
                .header("Idempotency-Key", "order-1")
                .json(&plain),
        )
        .await;
    assert_eq!(replayed.status, 201);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(replayed.body["id"], keyed.body["id"]);
    let to_cancel = keyed.body["id"].as_str().unwrap().to_owned();
    ctx.error(
        ctx.post("/api/v1/orders").bearer_auth(operator).header("Idempotency-Key", "order-1").json(&tea),
        422,
        "idempotency_conflict",
    )
    .await;
    ctx.error(
        ctx.post("/api/v1/orders").bearer_auth(operator).header("Idempotency-Key", "two words").json(&plain),
        400,
        "invalid_request",
    )
    .await;
    let many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for bad in [
        json!({"amount": {"minor_units": 0, "currency": "USD"}, "description": "Free"}),
        json!({"amount": {"minor_units": -1, "currency": "USD"}, "description": "Less"}),
        json!({"amount": {"minor_units": 1.5, "currency": "USD"}, "description": "Float"}),
        json!({"amount": {"minor_units": "100", "currency": "USD"}, "description": "String"}),
        json!({"amount": {"minor_units": 9_007_199_254_740_992_u64, "currency": "USD"}, "description": "Big"}),
        json!({"amount": {"minor_units": 100, "currency": "usd"}, "description": "Lower"}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "  "}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "x".repeat(201)}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "a\u{7}b"}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Ref", "reference": ""}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Meta", "metadata": many}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Meta", "metadata": {"": "v"}}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Meta", "metadata": {"k": 1}}),
        json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Tip", "tip": 5}),
        json!({"description": "No amount"}),
    ] {
        ctx.error(ctx.post("/api/v1/orders").bearer_auth(operator).json(&bad), 400, "invalid_request").await;
    }
    ctx.error(
        ctx.post("/api/v1/orders")
            .bearer_auth(operator)
            .header("Content-Type", "text/plain")
            .body(tea.to_string()),
        400,
        "invalid_request",
    )
    .await;
    ctx.error(ctx.post("/api/v1/orders").bearer_auth(viewer).json(&tea), 403, "forbidden").await;

    // Orders: GET list.
    let page = ctx.expect(ctx.get("/api/v1/orders?limit=1").bearer_auth(operator), 200).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["has_more"], json!(true));
    let last = page["data"][0]["id"].as_str().unwrap();
    let next = ctx
        .expect(ctx.get(&format!("/api/v1/orders?limit=100&starting_after={last}")).bearer_auth(admin), 200)
        .await;
    assert!(!next["data"].as_array().unwrap().is_empty());
    assert_eq!(next["has_more"], json!(false));
    let none =
        ctx.expect(ctx.get("/api/v1/orders?starting_after=ord_unknown").bearer_auth(operator), 200).await;
    assert_eq!(none, json!({"data": [], "has_more": false}));
    for query in ["limit=0", "limit=101", "limit=ten", "starting_after=bad%20id", "limit=1&limit=2"] {
        ctx.error(ctx.get(&format!("/api/v1/orders?{query}")).bearer_auth(operator), 400, "invalid_request")
            .await;
    }
    ctx.error(ctx.get("/api/v1/orders").bearer_auth(viewer), 403, "forbidden").await;

    // Orders: GET one, with sessions in many states (the checkout's paid order).
    let paid = ctx
        .expect(ctx.get(&format!("/api/v1/orders/{}", checkout.paid_order)).bearer_auth(operator), 200)
        .await;
    assert_eq!(paid["status"], json!("paid"));
    assert_eq!(paid["paid_session_id"], json!(checkout.succeeded_session));
    let flags: BTreeSet<String> = paid["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["flag"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(flags, BTreeSet::from(["late_approval".to_owned(), "refund_due".to_owned()]), "{paid}");
    let fresh = ctx.expect(ctx.get(&format!("/api/v1/orders/{order}")).bearer_auth(admin), 200).await;
    assert_eq!(fresh["sessions"], json!([]));
    assert_eq!(fresh["reference"], json!("=A-1001"));
    ctx.error(ctx.get("/api/v1/orders/ord_missing").bearer_auth(operator), 404, "not_found").await;
    ctx.error(ctx.get("/api/v1/orders/bad%20id").bearer_auth(operator), 400, "invalid_request").await;
    ctx.error(ctx.get(&format!("/api/v1/orders/{order}")).bearer_auth(viewer), 403, "forbidden").await;

    // A session of the merchant's order, paid, for the reports; one left pending for cancel.
    let session = ctx
        .expect(
            ctx.checkout_session("key-merchant-order", &session_body_for(&order, "alipay", "desktop")),
            201,
        )
        .await;
    let pending = ctx
        .expect(
            ctx.checkout_session("key-cancel-order", &session_body_for(&to_cancel, "paypal", "mobile")),
            201,
        )
        .await;
    assert_eq!(app.sandbox(session["id"].as_str().unwrap(), "approve").await.status(), 200);

    // Orders: POST cancel.
    let canceled =
        ctx.expect(ctx.post(&format!("/api/v1/orders/{to_cancel}/cancel")).bearer_auth(operator), 200).await;
    assert_eq!(canceled["sessions"][0]["status"], json!("canceled"), "{canceled}");
    assert_eq!(canceled["sessions"][0]["id"], pending["id"]);
    ctx.expect(ctx.post(&format!("/api/v1/orders/{to_cancel}/cancel")).bearer_auth(admin), 200).await;
    ctx.error(
        ctx.post(&format!("/api/v1/orders/{order}/cancel")).bearer_auth(operator),
        409,
        "order_not_payable",
    )
    .await;
    ctx.error(ctx.post("/api/v1/orders/ord_missing/cancel").bearer_auth(operator), 404, "not_found").await;
    ctx.error(ctx.post("/api/v1/orders/bad%20id/cancel").bearer_auth(operator), 400, "invalid_request").await;
    ctx.error(ctx.post(&format!("/api/v1/orders/{to_cancel}/cancel")).bearer_auth(viewer), 403, "forbidden")
        .await;
    // The checkout sees the canceled order and refuses to pay it.
    let seen = ctx.expect(ctx.get(&format!("/api/checkout/orders/{to_cancel}")), 200).await;
    assert_eq!(seen["order"]["status"], json!("canceled"));
    ctx.error(
        ctx.checkout_session("key-canceled-order", &session_body_for(&to_cancel, "alipay", "desktop")),
        409,
        "order_not_payable",
    )
    .await;

    // Webhook endpoint: GET, PUT, POST rotate-secret.
    ctx.error(ctx.get("/api/v1/webhook-endpoint").bearer_auth(admin), 404, "not_found").await;
    ctx.error(ctx.post("/api/v1/webhook-endpoint/rotate-secret").bearer_auth(admin), 404, "not_found").await;
    let first = ctx
        .expect(
            ctx.put("/api/v1/webhook-endpoint")
                .bearer_auth(admin)
                .json(&json!({"url": "http://127.0.0.1:9/hooks"})),
            200,
        )
        .await;
    assert!(first["secret"].is_string(), "the first answer holds the secret");
    assert_eq!(first["enabled"], json!(true));
    // Events for the failing endpoint are pending, with their error.
    let pending_session = ctx
        .expect(
            ctx.checkout_session(
                "key-webhook",
                &session_body_for(&app.new_order().await, "paypal", "desktop"),
            ),
            201,
        )
        .await;
    let pending_id = pending_session["id"].as_str().unwrap().to_owned();
    eventually_within("an event to fail to be delivered", Duration::from_secs(20), async || {
        let page = ctx
            .expect(ctx.get(&format!("/api/v1/events?session={pending_id}")).bearer_auth(operator), 200)
            .await;
        page["data"].as_array().unwrap().iter().any(|e| e["delivery"]["attempts"].as_i64() > Some(0))
    })
    .await;
    let receiver = webhook_receiver().await;
    let second = ctx
        .expect(
            ctx.put("/api/v1/webhook-endpoint")
                .bearer_auth(admin)
                .json(&json!({"url": receiver, "enabled": true})),
            200,
        )
        .await;
    assert!(second.get("secret").is_none(), "later answers do not show the secret");
    let shown = ctx.expect(ctx.get("/api/v1/webhook-endpoint").bearer_auth(admin), 200).await;
    assert_eq!(shown["url"], json!(receiver));
    let rotated =
        ctx.expect(ctx.post("/api/v1/webhook-endpoint/rotate-secret").bearer_auth(admin), 200).await;
    assert_ne!(rotated["secret"], first["secret"]);
    // A URL as WHATWG parsers keep it (`{`, `}` and `|` stay in the query), disabled for a moment.
    let braces = format!("{receiver}?event={{type}}|all");
    let off = ctx
        .expect(
            ctx.put("/api/v1/webhook-endpoint")
                .bearer_auth(admin)
                .json(&json!({"url": braces, "enabled": false})),
            200,
        )
        .await;
    assert_eq!((off["url"].as_str(), off["enabled"].as_bool()), (Some(braces.as_str()), Some(false)));
    ctx.expect(ctx.put("/api/v1/webhook-endpoint").bearer_auth(admin).json(&json!({"url": receiver})), 200)
        .await;
    for bad in [
        json!({"url": "ftp://127.0.0.1/hooks"}),
        json!({"url": "not a url"}),
        json!({"url": "mailto:hooks@a.example"}),
        json!({"url": format!("https://a.example/{}", "x".repeat(2048))}),
        json!({"url": "https://a.example/", "enabled": "yes"}),
        json!({"url": "https://a.example/", "events": ["*"]}),
        json!({"enabled": false}),
    ] {
        ctx.error(ctx.put("/api/v1/webhook-endpoint").bearer_auth(admin).json(&bad), 400, "invalid_request")
            .await;
    }
    ctx.error(ctx.get("/api/v1/webhook-endpoint").bearer_auth(operator), 403, "forbidden").await;
    ctx.error(
        ctx.put("/api/v1/webhook-endpoint").bearer_auth(operator).json(&json!({"url": "https://a.example/"})),
        403,
        "forbidden",
    )
    .await;
    ctx.error(ctx.post("/api/v1/webhook-endpoint/rotate-secret").bearer_auth(viewer), 403, "forbidden").await;

    // Events: delivered, pending and skipped ones.
    app.sandbox(&pending_id, "approve").await;
    eventually_within("an event to be delivered", Duration::from_secs(20), async || {
        let page = ctx.expect(ctx.get("/api/v1/events?limit=100").bearer_auth(operator), 200).await;
        page["data"].as_array().unwrap().iter().any(|e| e["delivery"]["state"] == json!("delivered"))
    })
    .await;
    let events = ctx.expect(ctx.get("/api/v1/events?limit=100").bearer_auth(admin), 200).await;
    let states: BTreeSet<&str> =
        events["data"].as_array().unwrap().iter().map(|e| e["delivery"]["state"].as_str().unwrap()).collect();
    assert!(states.contains("skipped") && states.contains("delivered"), "{states:?}");
    let one = ctx.expect(ctx.get("/api/v1/events?limit=1").bearer_auth(operator), 200).await;
    assert_eq!(one["has_more"], json!(true));
    let of_session = ctx
        .expect(
            ctx.get(&format!("/api/v1/events?session={}", checkout.succeeded_session)).bearer_auth(operator),
            200,
        )
        .await;
    assert!(of_session["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["session_id"] == json!(checkout.succeeded_session)));
    for query in ["limit=0", "limit=many", "session=bad%20id", "session="] {
        ctx.error(ctx.get(&format!("/api/v1/events?{query}")).bearer_auth(operator), 400, "invalid_request")
            .await;
    }
    ctx.error(ctx.get("/api/v1/events").bearer_auth(viewer), 403, "forbidden").await;

    // Audit log.
    let log = ctx.expect(ctx.get("/api/v1/audit-log").bearer_auth(admin), 200).await;
    let actions: BTreeSet<&str> =
        log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "order.create",
        "order.cancel",
        "key.create",
        "webhook_endpoint.update",
        "webhook_endpoint.rotate_secret",
    ] {
        assert!(actions.contains(action), "{action} is in the audit log: {actions:?}");
    }
    assert_eq!(
        ctx.expect(ctx.get("/api/v1/audit-log?limit=1").bearer_auth(admin), 200).await["has_more"],
        json!(true)
    );
    ctx.error(ctx.get("/api/v1/audit-log?limit=0").bearer_auth(admin), 400, "invalid_request").await;
    ctx.error(ctx.get("/api/v1/audit-log").bearer_auth(operator), 403, "forbidden").await;
    ctx.error(ctx.get("/api/v1/audit-log").bearer_auth(viewer), 403, "forbidden").await;

    // Refunds: POST, GET list, GET one; of the checkout's paid order.
    let paid_order = &checkout.paid_order;
    let refunds_path = format!("/api/v1/orders/{paid_order}/refunds");
    let partial = json!({"reason": "Chipped cup", "amount": {"minor_units": 100, "currency": "CNY"}});
    let refund = ctx
        .send(
            ctx.post(&refunds_path)
                .bearer_auth(operator)
                .header("Idempotency-Key", "refund-1")
                .json(&partial),
        )
        .await;
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(refund.body["status"], json!("succeeded"));
    let replayed = ctx
        .send(ctx.post(&refunds_path).bearer_auth(admin).header("Idempotency-Key", "refund-1").json(&partial))
        .await;
    assert_eq!((replayed.status, &replayed.body["id"]), (201, &refund.body["id"]));
    ctx.error(
        ctx.post(&refunds_path)
            .bearer_auth(operator)
            .header("Idempotency-Key", "refund-1")
            .json(&json!({"reason": "Other"})),
        422,
        "idempotency_conflict",
    )
    .await;
    for bad in [
        json!({"reason": ""}),
        json!({"reason": "x", "amount": {"minor_units": 1, "currency": "XXX"}}),
        json!({"reason": "x", "session_id": "bad id"}),
        json!({"amount": {"minor_units": 1, "currency": "CNY"}}),
    ] {
        ctx.error(ctx.post(&refunds_path).bearer_auth(operator).json(&bad), 400, "invalid_request").await;
    }
    ctx.error(ctx.post(&refunds_path).bearer_auth(viewer).json(&partial), 403, "forbidden").await;
    ctx.error(
        ctx.post("/api/v1/orders/ord_missing/refunds").bearer_auth(operator).json(&partial),
        404,
        "not_found",
    )
    .await;
    let too_much = json!({"reason": "All of it and more", "amount": {"minor_units": 9_000_000_000_u64, "currency": "CNY"}});
    ctx.error(ctx.post(&refunds_path).bearer_auth(operator).json(&too_much), 409, "not_refundable").await;
    let listed = ctx.expect(ctx.get(&refunds_path).bearer_auth(operator), 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    ctx.error(ctx.get(&refunds_path).bearer_auth(viewer), 403, "forbidden").await;
    ctx.error(ctx.get("/api/v1/orders/ord_missing/refunds").bearer_auth(operator), 404, "not_found").await;
    ctx.error(ctx.get("/api/v1/orders/bad%20id/refunds").bearer_auth(operator), 400, "invalid_request").await;
    let refund_id = refund.body["id"].as_str().unwrap();
    assert_eq!(
        ctx.expect(ctx.get(&format!("/api/v1/refunds/{refund_id}")).bearer_auth(admin), 200).await,
        refund.body
    );
    ctx.error(ctx.get("/api/v1/refunds/ref_missing").bearer_auth(operator), 404, "not_found").await;
    ctx.error(ctx.get("/api/v1/refunds/bad%20id").bearer_auth(operator), 400, "invalid_request").await;
    ctx.error(ctx.get(&format!("/api/v1/refunds/{refund_id}")).bearer_auth(viewer), 403, "forbidden").await;

    // Reports.
    let report = ctx.expect(ctx.get("/api/v1/reports/transactions").bearer_auth(viewer), 200).await;
    let rows = report["data"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["flag"] == json!("refund_due")), "{report}");
    assert!(rows.iter().any(|r| r["reference"] == json!("=A-1001")), "{report}");
    let csv = ctx.send(ctx.get("/api/v1/reports/transactions?format=csv").bearer_auth(viewer)).await;
    assert_eq!(csv.status, 200);
    let csv_text = csv.body.as_str().unwrap();
    assert!(csv_text.contains(",'=A-1001,"), "{csv_text}");
    assert_eq!(csv.headers["content-disposition"], "attachment; filename=\"transactions.csv\"");
    let filtered = ctx
        .expect(
            ctx.get("/api/v1/reports/transactions?status=succeeded&wallet=alipay&limit=5&from=2000-01-01&to=2100-01-01T00:00:00Z&format=json")
                .bearer_auth(operator),
            200,
        )
        .await;
    assert!(!filtered["data"].as_array().unwrap().is_empty(), "{filtered}");
    for query in [
        "format=xml",
        "status=paid",
        "wallet=bad%20id",
        "from=yesterday",
        "to=2026-02-30",
        "from=2030-01-02&to=2030-01-01",
        "limit=0",
        "limit=10001",
    ] {
        ctx.error(
            ctx.get(&format!("/api/v1/reports/transactions?{query}")).bearer_auth(viewer),
            400,
            "invalid_request",
        )
        .await;
    }
    let totals = ctx.expect(ctx.get("/api/v1/reports/daily-totals").bearer_auth(viewer), 200).await;
    assert!(!totals["data"].as_array().unwrap().is_empty(), "{totals}");
    let empty = ctx
        .expect(ctx.get("/api/v1/reports/daily-totals?from=2000-01-01&to=2000-01-31").bearer_auth(admin), 200)
        .await;
    assert_eq!(empty, json!({"data": []}));
    for query in ["from=last%20week", "to=20260101", "from=2030-01-02&to=2030-01-01"] {
        ctx.error(
            ctx.get(&format!("/api/v1/reports/daily-totals?{query}")).bearer_auth(viewer),
            400,
            "invalid_request",
        )
        .await;
    }

    // Keys: POST revoke.
    let revoked =
        ctx.expect(ctx.post(&format!("/api/v1/keys/{viewer_id}/revoke")).bearer_auth(admin), 200).await;
    assert!(revoked["revoked_at"].is_string());
    ctx.expect(ctx.post(&format!("/api/v1/keys/{viewer_id}/revoke")).bearer_auth(admin), 200).await;
    ctx.error(ctx.get("/api/v1/reports/daily-totals").bearer_auth(viewer), 401, "unauthorized").await;
    ctx.error(ctx.post("/api/v1/keys/key_missing/revoke").bearer_auth(admin), 404, "not_found").await;
    let operator_id = operator_key["id"].as_str().unwrap();
    ctx.error(
        ctx.post(&format!("/api/v1/keys/{operator_id}/revoke")).bearer_auth(operator),
        403,
        "forbidden",
    )
    .await;
    let admin_id =
        keys["data"].as_array().unwrap().iter().find(|k| k["name"] == json!("test admin")).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    ctx.error(ctx.post(&format!("/api/v1/keys/{admin_id}/revoke")).bearer_auth(admin), 403, "forbidden")
        .await;
}

/// A key id that is not UTF-8 once percent-decoded is a malformed path: `400 invalid_request`
/// with the error body, like every malformed id of every other operation.
#[tokio::test]
async fn a_key_id_that_is_not_utf8_gets_the_error_body() {
    let spec = Spec::load();
    let app = crate::helpers::spawn().await;
    let ctx = Ctx::new(&app, &spec);
    let (_, admin) = make_key(&app.store().await, "test admin", Role::Admin, false, "test").await.unwrap();
    ctx.error(ctx.post("/api/v1/keys/%FF/revoke").bearer_auth(&admin), 400, "invalid_request").await;
}

async fn unknown_paths_and_methods(ctx: &Ctx<'_>) {
    ctx.undocumented(ctx.get("/api/checkout/nothing-here"), 404, "not_found").await;
    ctx.undocumented(ctx.get("/api/checkout/orders/"), 404, "not_found").await;
    ctx.undocumented(ctx.request(Method::DELETE, "/api/checkout/sessions/ses_1"), 400, "invalid_request")
        .await;
    ctx.undocumented(ctx.get("/api/checkout/sessions"), 400, "invalid_request").await;
    ctx.undocumented(ctx.get("/api/v1/nothing-here"), 404, "not_found").await;
    ctx.undocumented(ctx.request(Method::DELETE, "/api/v1/orders"), 400, "invalid_request").await;
    ctx.undocumented(ctx.get("/api/v1/keys/key_1/revoke"), 400, "invalid_request").await;
}

/// A server whose sessions last a second and that allows one session a minute per client.
/// `POST /api/checkout/steps`: the widget's report of a step of the shopper's path.
async fn checkout_steps(ctx: &Ctx<'_>) {
    let order = ctx.app.new_order().await;
    let steps = "/api/checkout/steps";
    let shown = json!({ "order_id": order, "step": "shown", "device": "mobile", "locale": "zh-CN" });
    ctx.expect(ctx.post(steps).json(&shown), 204).await;
    ctx.expect(ctx.post(steps).json(&shown), 204).await;
    let chosen = json!({ "order_id": order, "step": "wallet_chosen", "wallet_id": "alipay", "device": "mobile", "locale": "zh-CN" });
    ctx.expect(ctx.post(steps).json(&chosen), 204).await;
    let mut missing_wallet = chosen.clone();
    missing_wallet.as_object_mut().unwrap().remove("wallet_id");
    ctx.error(ctx.post(steps).json(&missing_wallet), 400, "invalid_request").await;
    let mut bad_locale = shown.clone();
    bad_locale["locale"] = json!("someone@shop.example");
    ctx.error(ctx.post(steps).json(&bad_locale), 400, "invalid_request").await;
    let mut personal = shown.clone();
    personal["email"] = json!("someone@shop.example");
    ctx.error(ctx.post(steps).json(&personal), 400, "invalid_request").await;
    let mut unknown = shown.clone();
    unknown["order_id"] = json!("ord_missing");
    ctx.error(ctx.post(steps).json(&unknown), 404, "not_found").await;
}

async fn expiry_and_rate_limit(ctx: &Ctx<'_>) {
    let order = ctx.app.new_order().await;
    let body = session_body_for(&order, "wechat_pay", "desktop");
    let session = ctx.expect(ctx.checkout_session("key-1", &body), 201).await;
    assert_eq!(session["expires_in_secs"], json!(ctx.app.session_ttl().as_secs()));
    let limited = ctx.error(ctx.checkout_session("key-2", &body), 429, "rate_limited").await;
    assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let step = json!({ "order_id": order, "step": "shown", "device": "desktop", "locale": "en" });
    ctx.error(ctx.post("/api/checkout/steps").json(&step), 429, "rate_limited").await;
    // Expiry is decided by the sweep, after asking the wallet: a waiting read hears it.
    let id = session["id"].as_str().unwrap();
    let read = ctx.expect(ctx.get(&format!("/api/checkout/sessions/{id}?wait=10&status=pending")), 200);
    let expire = async {
        ctx.app.until_a_read_waits().await;
        ctx.app.advance_past_session_ttl().await;
    };
    let (expired, ()) = futures::join!(read, expire);
    assert_eq!(expired["status"], json!("expired"));
    assert_eq!(expired["expires_in_secs"], json!(0));
    ctx.error(ctx.post(&format!("/api/checkout/sessions/{id}/cancel")), 409, "session_final").await;
}

/// An order paid while its cancellation is running: the answer must still be one the document
/// allows for `POST /api/v1/orders/{id}/cancel` (`200` with the canceled order, or
/// `409 order_not_payable`), never `200` with an order that is paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_an_order_while_it_is_paid_answers_as_documented() {
    let spec = Spec::load();
    let app = crate::helpers::spawn().await;
    let ctx = Ctx::new(&app, &spec);
    let (_, operator) =
        make_key(&app.store().await, "test operator", Role::Operator, false, "test").await.unwrap();
    let order = json!({"amount": {"minor_units": 100, "currency": "USD"}, "description": "Race"});
    for attempt in 0..40 {
        let created = ctx.expect(ctx.post("/api/v1/orders").bearer_auth(&operator).json(&order), 201).await;
        let id = created["id"].as_str().unwrap();
        let session = ctx
            .expect(
                ctx.checkout_session(
                    &format!("key-race-{attempt}"),
                    &session_body_for(id, "wechat_pay", "desktop"),
                ),
                201,
            )
            .await;
        let approve = app.sandbox(session["id"].as_str().unwrap(), "approve");
        let cancel = ctx.send(ctx.post(&format!("/api/v1/orders/{id}/cancel")).bearer_auth(&operator));
        let (_, answer) = futures::join!(approve, cancel);
        assert!(matches!(answer.status, 200 | 409), "attempt {attempt}: {}", answer.body);
    }
}

/// Regression: the audit log held actions of the console (`staff.create`, ...) that the document
/// did not list, so a valid answer broke its own schema.
#[test]
fn the_documented_audit_actions_are_every_action_the_server_records() {
    let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
    let documented: Vec<&str> = doc["components"]["schemas"]["AuditEntry"]["properties"]["action"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    let recorded: Vec<&str> =
        wallet_checkout_server::domain::AuditAction::ALL.iter().map(|action| action.as_str()).collect();
    assert_eq!(documented, recorded);
}
