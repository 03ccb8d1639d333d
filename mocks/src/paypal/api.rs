//! The REST side: OAuth tokens, orders, captures, refunds, and the control routes.

// Checks answer PayPal's error response itself, early, as handlers do.
#![allow(clippy::result_large_err)]

use super::{
    format_value, now_text, parse_value, paypal_id, random_hex, random_text, webhook, CaptureOutcome, Inner,
    Order, Refund, RefundOutcome, Rule, State, ALNUM, CURRENCIES,
};
use axum::{
    body::Bytes,
    extract::{Path, State as Shared},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::{sync::Arc, time::Instant};

type AppState = Shared<Arc<State>>;

/// PayPal's error body: `name`, `message`, `debug_id`, `details[]`, `links`.
pub(super) fn error(status: u16, name: &str, message: &str, details: &[(&str, &str, &str)]) -> Response {
    let details: Vec<Value> = details
        .iter()
        .map(|(field, issue, description)| {
            let mut detail = json!({ "issue": issue, "description": description });
            if !field.is_empty() {
                detail["field"] = (*field).into();
                detail["location"] = "body".into();
            }
            detail
        })
        .collect();
    let mut body = json!({
        "name": name,
        "message": message,
        "debug_id": random_hex(13),
        "links": [{ "href": format!("https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{name}"), "rel": "information_link", "method": "GET" }],
    });
    if !details.is_empty() {
        body["details"] = details.into();
    }
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response()
}

fn invalid_request(field: &str, issue: &str, description: &str) -> Response {
    error(
        400,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        &[(field, issue, description)],
    )
}

fn unprocessable(field: &str, issue: &str, description: &str) -> Response {
    error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        &[(field, issue, description)],
    )
}

fn not_found() -> Response {
    error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        &[(
            "",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist. Please check the resource ID and try again.",
        )],
    )
}

/// What every API call goes through: it is counted, failed when the control side says so, and
/// (but for the token call) needs a live bearer token. (Delays are `answer_late`'s.)
pub(super) async fn gate(
    state: &State,
    operation: &str,
    headers: &HeaderMap,
    bearer: bool,
) -> Result<(), Response> {
    let failure = {
        let mut inner = state.lock();
        *inner.calls.entry(operation.to_owned()).or_default() += 1;
        take(&mut inner.failures, operation)
    };
    if let Some(status) = failure {
        return Err(match status {
            500..=599 => (
                StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Json(json!({ "name": "INTERNAL_SERVER_ERROR", "message": "An internal server error occurred.", "debug_id": random_hex(13),
                    "links": [{ "href": "https://developer.paypal.com/api/rest/reference/orders/v2/errors/#INTERNAL_SERVER_ERROR", "rel": "information_link" }] })),
            )
                .into_response(),
            429 => error(429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.", &[]),
            other => error(other as u16, "INTERNAL_SERVER_ERROR", "An internal server error occurred.", &[]),
        });
    }
    if bearer {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let live = state.lock().tokens.get(token).is_some_and(|expiry| Instant::now() < *expiry);
        if !live {
            return Err(error(
                401,
                "AUTHENTICATION_FAILURE",
                "Authentication failed due to missing authorization header, or invalid authentication credentials.",
                &[],
            ));
        }
    }
    Ok(())
}

/// The operation a request is, for the control side's rules.
fn operation_of(method: &axum::http::Method, path: &str) -> Option<&'static str> {
    let post = method == axum::http::Method::POST;
    Some(match path {
        p if p.ends_with("/v1/oauth2/token") => "token",
        p if p.ends_with("/v2/checkout/orders") && post => "create_order",
        p if p.ends_with("/capture") && post => "capture",
        p if p.contains("/v2/checkout/orders/") => "get_order",
        p if p.ends_with("/refund") && post => "refund",
        p if p.contains("/v2/payments/refunds/") => "get_refund",
        p if p.ends_with("/verify-webhook-signature") => "verify",
        p if p.contains("/v1/notifications/webhooks/") => "get_webhook",
        _ => return None,
    })
}

/// A slow answer, as `slow_next` asks: the call is carried out at once and its answer sent late,
/// so a caller that gives up waiting has still had its payment captured or refunded (as at
/// PayPal, whose work does not stop when the caller hangs up).
pub(super) async fn answer_late(
    Shared(state): AppState,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let delay = operation_of(request.method(), request.uri().path())
        .and_then(|op| take(&mut state.lock().delays, op));
    let response = next.run(request).await;
    if let Some(ms) = delay {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    response
}

/// Takes one use of the first rule that applies to `operation`.
fn take(rules: &mut Vec<Rule>, operation: &str) -> Option<u64> {
    let index = rules.iter().position(|r| r.operation.as_deref().is_none_or(|o| o == operation))?;
    let rule = &mut rules[index];
    rule.remaining = rule.remaining.saturating_sub(1);
    let value = rule.value;
    if rule.remaining == 0 {
        rules.remove(index);
    }
    Some(value)
}

/// `POST /v1/oauth2/token`: HTTP Basic `client_id:secret`, `grant_type=client_credentials`.
pub(super) async fn token(Shared(state): AppState, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = gate(&state, "token", &headers, false).await {
        return response;
    }
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", state.client_id, state.client_secret));
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if given != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client", "error_description": "Client Authentication failed" })),
        )
            .into_response();
    }
    let form = String::from_utf8_lossy(&body);
    if !form.split('&').any(|pair| pair == "grant_type=client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "unsupported_grant_type", "error_description": "Grant Type is NULL" })),
        )
            .into_response();
    }
    let access_token = format!("A21AA{}", random_text(80, ALNUM));
    let ttl = {
        let mut inner = state.lock();
        let ttl = inner.token_ttl;
        inner.tokens.insert(access_token.clone(), Instant::now() + ttl);
        ttl
    };
    Json(json!({
        "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/applications/webhooks",
        "access_token": access_token,
        "token_type": "Bearer",
        "app_id": "APP-80W284485P519543T",
        "expires_in": ttl.as_secs(),
        "nonce": format!("{}{}", now_text(), random_text(40, ALNUM)),
    }))
    .into_response()
}

/// A replayed `PayPal-Request-Id`: the first answer again (`200`, as PayPal answers a duplicate).
fn replay(state: &State, operation: &str, request_id: Option<&str>) -> Option<Response> {
    let request_id = request_id?;
    let inner = state.lock();
    let (_, body) = inner.idempotent.get(&(operation.to_owned(), request_id.to_owned()))?;
    Some((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.clone()).into_response())
}

fn remember(inner: &mut Inner, operation: &str, request_id: Option<&str>, status: u16, body: &str) {
    if let Some(id) = request_id {
        inner.idempotent.insert((operation.to_owned(), id.to_owned()), (status, body.to_owned()));
    }
}

fn request_id(headers: &HeaderMap) -> Result<Option<String>, Response> {
    match headers.get("paypal-request-id").map(|v| v.to_str().map(str::to_owned)) {
        None => Ok(None),
        Some(Ok(id)) if !id.is_empty() && id.len() <= 108 => Ok(Some(id)),
        Some(_) => Err(invalid_request(
            "",
            "INVALID_PARAMETER_VALUE",
            "PayPal-Request-Id must be 1 to 108 characters",
        )),
    }
}

fn wants_representation(headers: &HeaderMap) -> bool {
    headers.get("prefer").and_then(|v| v.to_str().ok()) == Some("return=representation")
}

fn json_body(body: &Bytes) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| invalid_request("", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed."))
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn check_length(value: &Value, pointer: &str, max: usize) -> Result<(), Response> {
    match value.pointer(pointer) {
        None => Ok(()),
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max => Ok(()),
        Some(_) => Err(invalid_request(
            pointer,
            "INVALID_STRING_LENGTH",
            "The value of a field is either too short or too long",
        )),
    }
}

fn check_url(value: &Value, pointer: &str) -> Result<String, Response> {
    let url = text(value, pointer).ok_or_else(|| {
        invalid_request(pointer, "MISSING_REQUIRED_PARAMETER", "A required parameter is missing.")
    })?;
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(url.to_owned()),
        _ => Err(invalid_request(
            pointer,
            "INVALID_PARAMETER_SYNTAX",
            "The value of a field does not conform to the expected format.",
        )),
    }
}

/// `POST /v2/checkout/orders`.
pub(super) async fn create_order(Shared(state): AppState, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = gate(&state, "create_order", &headers, true).await {
        return response;
    }
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(response) => return response,
    };
    if let Some(response) = replay(&state, "create_order", request_id.as_deref()) {
        return response;
    }
    match new_order(&state, &headers, &body, request_id.as_deref()) {
        Ok(response) | Err(response) => response,
    }
}

fn new_order(
    state: &State,
    headers: &HeaderMap,
    body: &Bytes,
    request_id: Option<&str>,
) -> Result<Response, Response> {
    let request = json_body(body)?;
    match text(&request, "/intent") {
        Some("CAPTURE") => {}
        Some(_) => {
            return Err(invalid_request(
                "/intent",
                "INVALID_PARAMETER_VALUE",
                "The mock takes intent CAPTURE only.",
            ))
        }
        None => {
            return Err(invalid_request(
                "/intent",
                "MISSING_REQUIRED_PARAMETER",
                "A required parameter is missing.",
            ))
        }
    }
    let units = request.get("purchase_units").and_then(Value::as_array);
    let unit = match units.map(Vec::as_slice) {
        Some([unit]) => unit,
        Some([]) | None => {
            return Err(invalid_request(
                "/purchase_units",
                "MISSING_REQUIRED_PARAMETER",
                "A required parameter is missing.",
            ))
        }
        Some(_) => {
            return Err(invalid_request(
                "/purchase_units",
                "INVALID_PARAMETER_VALUE",
                "The mock takes one purchase unit.",
            ))
        }
    };
    check_length(unit, "/reference_id", 256)?;
    check_length(unit, "/custom_id", 127)?;
    check_length(unit, "/invoice_id", 127)?;
    check_length(unit, "/description", 127)?;
    let currency = text(unit, "/amount/currency_code").ok_or_else(|| {
        invalid_request(
            "/purchase_units/0/amount/currency_code",
            "MISSING_REQUIRED_PARAMETER",
            "A required parameter is missing.",
        )
    })?;
    if !CURRENCIES.contains(&currency) {
        return Err(unprocessable(
            "/purchase_units/0/amount/currency_code",
            "INVALID_CURRENCY_CODE",
            "Currency code is invalid or is not currently supported.",
        ));
    }
    let value = text(unit, "/amount/value").ok_or_else(|| {
        invalid_request(
            "/purchase_units/0/amount/value",
            "MISSING_REQUIRED_PARAMETER",
            "A required parameter is missing.",
        )
    })?;
    let amount_units = parse_value(currency, value).map_err(|issue| match issue {
        "INVALID_PARAMETER_SYNTAX" | "INVALID_PARAMETER_VALUE" => invalid_request(
            "/purchase_units/0/amount/value",
            issue,
            "The value of a field does not conform to the expected format.",
        ),
        issue => unprocessable(
            "/purchase_units/0/amount/value",
            issue,
            "The amount has more decimals than the currency takes.",
        ),
    })?;
    let context = "/payment_source/paypal/experience_context";
    let return_url = check_url(&request, &format!("{context}/return_url"))?;
    let cancel_url = check_url(&request, &format!("{context}/cancel_url"))?;
    let user_action = text(&request, &format!("{context}/user_action")).unwrap_or("CONTINUE");
    let shipping = text(&request, &format!("{context}/shipping_preference")).unwrap_or("GET_FROM_FILE");
    if !matches!(user_action, "CONTINUE" | "PAY_NOW") {
        return Err(invalid_request(
            &format!("{context}/user_action"),
            "INVALID_PARAMETER_VALUE",
            "A parameter value is not valid.",
        ));
    }
    if !matches!(shipping, "GET_FROM_FILE" | "NO_SHIPPING" | "SET_PROVIDED_ADDRESS") {
        return Err(invalid_request(
            &format!("{context}/shipping_preference"),
            "INVALID_PARAMETER_VALUE",
            "A parameter value is not valid.",
        ));
    }
    check_length(&request, &format!("{context}/brand_name"), 127)?;

    let now = now_text();
    let order = Order {
        id: paypal_id(),
        status: "PAYER_ACTION_REQUIRED".into(),
        reference_id: text(unit, "/reference_id").unwrap_or("default").to_owned(),
        custom_id: text(unit, "/custom_id").map(str::to_owned),
        invoice_id: text(unit, "/invoice_id").map(str::to_owned),
        description: text(unit, "/description").map(str::to_owned),
        currency: currency.to_owned(),
        value: format_value(currency, amount_units),
        units: amount_units,
        return_url,
        cancel_url,
        brand_name: text(&request, &format!("{context}/brand_name")).map(str::to_owned),
        user_action: user_action.to_owned(),
        payer_id: None,
        capture: None,
        create_time: now.clone(),
        update_time: now,
    };
    let mut inner = state.lock();
    if let Some(invoice) = &order.invoice_id {
        if !inner.invoice_ids.insert(invoice.clone()) {
            return Err(unprocessable(
                "/purchase_units/0/invoice_id",
                "DUPLICATE_INVOICE_ID",
                "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account setting requires that Invoice Id be unique for each transaction.",
            ));
        }
    }
    let answer =
        if wants_representation(headers) { order_json(state, &order) } else { minimal_json(state, &order) };
    let answer = answer.to_string();
    remember(&mut inner, "create_order", request_id, 201, &answer);
    inner.orders.insert(order.id.clone(), order);
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

fn order_links(state: &State, order: &Order) -> Vec<Value> {
    let own = format!("{}/v2/checkout/orders/{}", state.base, order.id);
    let mut links = vec![json!({ "href": own, "rel": "self", "method": "GET" })];
    match order.status.as_str() {
        "PAYER_ACTION_REQUIRED" | "CREATED" => links.push(json!({
            "href": format!("{}/checkoutnow?token={}", state.base, order.id),
            "rel": "payer-action",
            "method": "GET",
        })),
        "APPROVED" => {
            links.push(json!({ "href": own, "rel": "update", "method": "PATCH" }));
            links.push(json!({ "href": format!("{own}/capture"), "rel": "capture", "method": "POST" }));
        }
        _ => {}
    }
    links
}

fn minimal_json(state: &State, order: &Order) -> Value {
    json!({ "id": order.id, "status": order.status, "payment_source": { "paypal": {} }, "links": order_links(state, order) })
}

fn money(currency: &str, units: u64) -> Value {
    json!({ "currency_code": currency, "value": format_value(currency, units) })
}

/// The whole order, as `GET /v2/checkout/orders/{id}` answers it.
pub(super) fn order_json(state: &State, order: &Order) -> Value {
    let mut unit = json!({
        "reference_id": order.reference_id,
        "amount": { "currency_code": order.currency, "value": order.value },
        "payee": { "email_address": "merchant@business.example.com", "merchant_id": state.merchant_id },
    });
    for (name, value) in [
        ("custom_id", &order.custom_id),
        ("invoice_id", &order.invoice_id),
        ("description", &order.description),
    ] {
        if let Some(value) = value {
            unit[name] = value.as_str().into();
        }
    }
    if let Some(capture) = &order.capture {
        unit["payments"] = json!({ "captures": [capture_json(state, order, capture)] });
    }
    let mut body = json!({
        "id": order.id,
        "intent": "CAPTURE",
        "status": order.status,
        "purchase_units": [unit],
        "create_time": order.create_time,
        "update_time": order.update_time,
        "links": order_links(state, order),
    });
    if let Some(payer_id) = &order.payer_id {
        let payer = json!({ "email_address": "buyer@personal.example.com", "account_id": payer_id,
            "name": { "given_name": "John", "surname": "Doe" }, "address": { "country_code": "US" } });
        body["payment_source"] = json!({ "paypal": payer });
        body["payer"] = json!({ "name": { "given_name": "John", "surname": "Doe" }, "email_address": "buyer@personal.example.com", "payer_id": payer_id });
    } else {
        body["payment_source"] = json!({ "paypal": {} });
    }
    body
}

/// A capture, as the order, `PAYMENT.CAPTURE.*` events and `GET /v2/payments/captures` show it.
pub(super) fn capture_json(state: &State, order: &Order, capture: &super::Capture) -> Value {
    let own = format!("{}/v2/payments/captures/{}", state.base, capture.id);
    let fee = (order.units * 349 / 10_000).max(1).min(order.units);
    let mut body = json!({
        "id": capture.id,
        "status": capture.status,
        "amount": money(&order.currency, order.units),
        "final_capture": true,
        "seller_protection": { "status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"] },
        "seller_receivable_breakdown": {
            "gross_amount": money(&order.currency, order.units),
            "paypal_fee": money(&order.currency, fee),
            "net_amount": money(&order.currency, order.units - fee),
        },
        "supplementary_data": { "related_ids": { "order_id": order.id } },
        "links": [
            { "href": own, "rel": "self", "method": "GET" },
            { "href": format!("{own}/refund"), "rel": "refund", "method": "POST" },
            { "href": format!("{}/v2/checkout/orders/{}", state.base, order.id), "rel": "up", "method": "GET" },
        ],
        "create_time": capture.create_time,
        "update_time": capture.update_time,
    });
    if let Some(custom_id) = &order.custom_id {
        body["custom_id"] = custom_id.as_str().into();
    }
    if let Some(invoice_id) = &order.invoice_id {
        body["invoice_id"] = invoice_id.as_str().into();
    }
    if let Some(reason) = &capture.reason {
        body["status_details"] = json!({ "reason": reason });
    }
    body
}

/// A refund, as `GET /v2/payments/refunds/{id}` and `PAYMENT.CAPTURE.REFUNDED` show it.
pub(super) fn refund_json(state: &State, refund: &Refund) -> Value {
    let mut body = json!({
        "id": refund.id,
        "amount": { "currency_code": refund.currency, "value": refund.value },
        "status": refund.status,
        "seller_payable_breakdown": {
            "gross_amount": { "currency_code": refund.currency, "value": refund.value },
            "net_amount": { "currency_code": refund.currency, "value": refund.value },
        },
        "links": [
            { "href": format!("{}/v2/payments/refunds/{}", state.base, refund.id), "rel": "self", "method": "GET" },
            { "href": format!("{}/v2/payments/captures/{}", state.base, refund.capture_id), "rel": "up", "method": "GET" },
        ],
        "create_time": refund.create_time,
        "update_time": refund.update_time,
    });
    if let Some(custom_id) = &refund.custom_id {
        body["custom_id"] = custom_id.as_str().into();
    }
    if let Some(note) = &refund.note_to_payer {
        body["note_to_payer"] = note.as_str().into();
    }
    body
}

/// `GET /v2/checkout/orders/{id}`.
pub(super) async fn get_order(
    Shared(state): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(&state, "get_order", &headers, true).await {
        return response;
    }
    let inner = state.lock();
    match inner.orders.get(&id) {
        Some(order) => Json(order_json(&state, order)).into_response(),
        None => not_found(),
    }
}

/// `POST /v2/checkout/orders/{id}/capture`.
pub(super) async fn capture(
    Shared(state): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = gate(&state, "capture", &headers, true).await {
        return response;
    }
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(response) => return response,
    };
    if let Some(response) = replay(&state, "capture", request_id.as_deref()) {
        return response;
    }
    if let Err(response) = json_body(&body) {
        return response;
    }
    let (answer, event) = {
        let mut inner = state.lock();
        let outcome = inner.capture_outcome;
        let Some(order) = inner.orders.get_mut(&id) else { return not_found() };
        match order.status.as_str() {
            "APPROVED" => {}
            "COMPLETED" => {
                return unprocessable("", "ORDER_ALREADY_CAPTURED", "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.")
            }
            _ => {
                return unprocessable(
                    "",
                    "ORDER_NOT_APPROVED",
                    "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
                )
            }
        }
        let now = now_text();
        let (status, reason, event_type) = match outcome {
            CaptureOutcome::Completed => ("COMPLETED", None, "PAYMENT.CAPTURE.COMPLETED"),
            CaptureOutcome::Pending => ("PENDING", Some("PENDING_REVIEW"), "PAYMENT.CAPTURE.PENDING"),
            CaptureOutcome::Declined => ("DECLINED", None, "PAYMENT.CAPTURE.DECLINED"),
            CaptureOutcome::InstrumentDeclined => {
                return unprocessable(
                    "",
                    "INSTRUMENT_DECLINED",
                    "The instrument presented  was either declined by the processor or bank, or it can't be used for this payment.",
                )
            }
        };
        let capture = super::Capture {
            id: paypal_id(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            refunded_units: 0,
            create_time: now.clone(),
            update_time: now.clone(),
        };
        order.status = "COMPLETED".into();
        order.update_time = now;
        let capture_id = capture.id.clone();
        order.capture = Some(capture);
        let order = order.clone();
        inner.captures.insert(capture_id, order.id.clone());
        let answer = if wants_representation(&headers) {
            order_json(&state, &order)
        } else {
            minimal_json(&state, &order)
        };
        let answer = answer.to_string();
        remember(&mut inner, "capture", request_id.as_deref(), 201, &answer);
        let resource = capture_json(&state, &order, order.capture.as_ref().expect("just captured"));
        (answer, (event_type, resource))
    };
    webhook::send(&state, event.0, "capture", &event.1);
    (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

/// A pending capture settles.
pub(super) fn settle_capture(state: &Arc<State>, order_id: &str, completed: bool) -> bool {
    let resource = {
        let mut inner = state.lock();
        let Some(order) = inner.orders.get_mut(order_id) else { return false };
        let Some(capture) = order.capture.as_mut().filter(|c| c.status == "PENDING") else { return false };
        capture.status = if completed { "COMPLETED" } else { "DECLINED" }.into();
        capture.reason = None;
        capture.update_time = now_text();
        let order = order.clone();
        capture_json(state, &order, order.capture.as_ref().expect("a capture"))
    };
    let event_type = if completed { "PAYMENT.CAPTURE.COMPLETED" } else { "PAYMENT.CAPTURE.DENIED" };
    webhook::send(state, event_type, "capture", &resource);
    true
}

/// An approval PayPal reverses: the order is voided, `CHECKOUT.PAYMENT-APPROVAL.REVERSED` sent.
pub(super) fn reverse_approval(state: &Arc<State>, order_id: &str) -> bool {
    let resource = {
        let mut inner = state.lock();
        let Some(order) = inner.orders.get_mut(order_id).filter(|o| o.status == "APPROVED") else {
            return false;
        };
        order.status = "VOIDED".into();
        order.update_time = now_text();
        let mut unit = json!({ "reference_id": order.reference_id });
        if let Some(custom_id) = &order.custom_id {
            unit["custom_id"] = custom_id.as_str().into();
        }
        json!({ "order_id": order.id, "purchase_units": [unit] })
    };
    webhook::send(state, "CHECKOUT.PAYMENT-APPROVAL.REVERSED", "checkout-order", &resource);
    true
}

#[derive(Deserialize)]
struct RefundBody {
    amount: Option<Value>,
    custom_id: Option<String>,
    invoice_id: Option<String>,
    note_to_payer: Option<String>,
}

/// `POST /v2/payments/captures/{id}/refund`.
pub(super) async fn refund(
    Shared(state): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = gate(&state, "refund", &headers, true).await {
        return response;
    }
    let request_id = match request_id(&headers) {
        Ok(id) => id,
        Err(response) => return response,
    };
    if let Some(response) = replay(&state, "refund", request_id.as_deref()) {
        return response;
    }
    let request = match json_body(&body) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let Ok(request) = serde_json::from_value::<RefundBody>(request) else {
        return invalid_request(
            "",
            "INVALID_PARAMETER_SYNTAX",
            "The value of a field does not conform to the expected format.",
        );
    };
    for (name, value, max) in [
        ("custom_id", &request.custom_id, 127),
        ("invoice_id", &request.invoice_id, 127),
        ("note_to_payer", &request.note_to_payer, 255),
    ] {
        if value.as_ref().is_some_and(|v| v.is_empty() || v.chars().count() > max) {
            return invalid_request(
                &format!("/{name}"),
                "INVALID_STRING_LENGTH",
                "The value of a field is either too short or too long",
            );
        }
    }
    let (answer, resource) = {
        let mut inner = state.lock();
        let outcome = inner.refund_outcome;
        let Some(order_id) = inner.captures.get(&id).cloned() else { return not_found() };
        let order = inner.orders.get(&order_id).cloned().expect("a capture's order");
        let capture = order.capture.clone().expect("a captured order");
        if capture.status == "REFUNDED" {
            return unprocessable(
                "",
                "CAPTURE_FULLY_REFUNDED",
                "The capture has already been fully refunded",
            );
        }
        if !matches!(capture.status.as_str(), "COMPLETED" | "PARTIALLY_REFUNDED") {
            return unprocessable(
                "",
                if capture.status == "PENDING" { "PENDING_CAPTURE" } else { "REFUND_NOT_ALLOWED" },
                "Capture cannot be refunded.",
            );
        }
        let left = order.units - capture.refunded_units;
        let units = match &request.amount {
            None => left,
            Some(amount) => {
                let currency = text(amount, "/currency_code").unwrap_or_default();
                if currency != order.currency {
                    return unprocessable(
                        "/amount/currency_code",
                        "REFUND_CAPTURE_CURRENCY_MISMATCH",
                        "Refund must be in the same currency as the capture",
                    );
                }
                match parse_value(currency, text(amount, "/value").unwrap_or_default()) {
                    Ok(units) => units,
                    Err(issue) => {
                        return unprocessable("/amount/value", issue, "The refund amount is not valid.")
                    }
                }
            }
        };
        if units > left {
            return unprocessable("/amount/value", "REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.");
        }
        let now = now_text();
        let refund = Refund {
            id: paypal_id(),
            capture_id: id.clone(),
            status: match outcome {
                RefundOutcome::Completed => "COMPLETED",
                RefundOutcome::Pending => "PENDING",
            }
            .into(),
            currency: order.currency.clone(),
            value: format_value(&order.currency, units),
            units,
            custom_id: request.custom_id.clone(),
            note_to_payer: request.note_to_payer.clone(),
            create_time: now.clone(),
            update_time: now.clone(),
        };
        let capture = inner.orders.get_mut(&order_id).and_then(|o| o.capture.as_mut()).expect("a capture");
        capture.refunded_units += units;
        capture.status =
            if capture.refunded_units >= order.units { "REFUNDED" } else { "PARTIALLY_REFUNDED" }.into();
        capture.update_time = now;
        let answer = refund_json(&state, &refund).to_string();
        remember(&mut inner, "refund", request_id.as_deref(), 201, &answer);
        let resource = (refund.status == "COMPLETED").then(|| refund_json(&state, &refund));
        inner.refunds.insert(refund.id.clone(), refund);
        (answer, resource)
    };
    if let Some(resource) = resource {
        webhook::send(&state, "PAYMENT.CAPTURE.REFUNDED", "refund", &resource);
    }
    (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

/// A pending refund settles.
pub(super) fn settle_refund(state: &Arc<State>, refund_id: &str, completed: bool) -> bool {
    let resource = {
        let mut inner = state.lock();
        let Some(refund) = inner.refunds.get_mut(refund_id).filter(|r| r.status == "PENDING") else {
            return false;
        };
        refund.status = if completed { "COMPLETED" } else { "FAILED" }.into();
        refund.update_time = now_text();
        let refund = refund.clone();
        if !completed {
            // The money stays with the merchant: it can be refunded again.
            if let Some(order_id) = inner.captures.get(&refund.capture_id).cloned() {
                if let Some(capture) = inner.orders.get_mut(&order_id).and_then(|o| o.capture.as_mut()) {
                    capture.refunded_units -= refund.units;
                    capture.status =
                        if capture.refunded_units == 0 { "COMPLETED" } else { "PARTIALLY_REFUNDED" }.into();
                }
            }
        }
        completed.then(|| refund_json(state, &refund))
    };
    if let Some(resource) = resource {
        webhook::send(state, "PAYMENT.CAPTURE.REFUNDED", "refund", &resource);
    }
    true
}

/// `GET /v2/payments/refunds/{id}`.
pub(super) async fn get_refund(
    Shared(state): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = gate(&state, "get_refund", &headers, true).await {
        return response;
    }
    let inner = state.lock();
    match inner.refunds.get(&id) {
        Some(refund) => Json(refund_json(&state, refund)).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
pub(super) struct WebhookControl {
    url: String,
    event_types: Option<Vec<String>>,
}

/// `PUT /control/webhook {"url": ..., "event_types": [...]}`: where this app's webhook sends events.
pub(super) async fn control_webhook(Shared(state): AppState, Json(body): Json<WebhookControl>) -> StatusCode {
    let mut inner = state.lock();
    inner.webhook_url = Some(body.url);
    if let Some(events) = body.event_types {
        inner.webhook_events = events;
    }
    StatusCode::NO_CONTENT
}

/// `POST /control/orders/{id}/approve`: the shopper approves without a browser.
pub(super) async fn control_approve(Shared(state): AppState, Path(id): Path<String>) -> Response {
    match super::page::approve_order(&state, &id) {
        Some(return_url) => Json(json!({ "return_url": return_url })).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
pub(super) struct OutcomeControl {
    status: String,
}

/// `POST /control/capture-outcome {"status": "COMPLETED" | "PENDING" | "DECLINED" | "INSTRUMENT_DECLINED"}`.
pub(super) async fn control_capture_outcome(
    Shared(state): AppState,
    Json(body): Json<OutcomeControl>,
) -> StatusCode {
    let outcome = match body.status.as_str() {
        "COMPLETED" => CaptureOutcome::Completed,
        "PENDING" => CaptureOutcome::Pending,
        "DECLINED" => CaptureOutcome::Declined,
        "INSTRUMENT_DECLINED" => CaptureOutcome::InstrumentDeclined,
        _ => return StatusCode::BAD_REQUEST,
    };
    state.lock().capture_outcome = outcome;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub(super) struct RuleControl {
    operation: Option<String>,
    count: Option<u32>,
    status: Option<u16>,
    ms: Option<u64>,
}

/// `POST /control/fail-next {"operation": "create_order", "count": 1, "status": 500}`.
pub(super) async fn control_fail_next(Shared(state): AppState, Json(body): Json<RuleControl>) -> StatusCode {
    state.lock().failures.push(Rule {
        operation: body.operation,
        remaining: body.count.unwrap_or(1),
        value: u64::from(body.status.unwrap_or(500)),
    });
    StatusCode::NO_CONTENT
}

/// `POST /control/slow-next {"operation": "create_order", "ms": 3000}`.
pub(super) async fn control_slow_next(Shared(state): AppState, Json(body): Json<RuleControl>) -> StatusCode {
    state.lock().delays.push(Rule {
        operation: body.operation,
        remaining: body.count.unwrap_or(1),
        value: body.ms.unwrap_or(0),
    });
    StatusCode::NO_CONTENT
}

/// `POST /control/expire-tokens`.
pub(super) async fn control_expire_tokens(Shared(state): AppState) -> StatusCode {
    let now = Instant::now();
    for expiry in state.lock().tokens.values_mut() {
        *expiry = now;
    }
    StatusCode::NO_CONTENT
}

/// `GET /control/calls`: how often each operation was called.
pub(super) async fn control_calls(Shared(state): AppState) -> Json<Value> {
    Json(json!(state.lock().calls))
}
