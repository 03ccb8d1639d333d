//! The approval page (`payer-action`): the shopper sees the merchant, the amount and two choices.
//! "Pay Now" approves the order and sends the browser to `return_url?token=<order>&PayerID=<payer>`;
//! "Cancel and return" sends it to `cancel_url?token=<order>`.

use super::{random_text, webhook, State, UPPER_ALNUM};
use axum::{
    extract::{Query, State as Shared},
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub(super) struct Token {
    token: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main>\n<p>PayPal (mock sandbox)</p>\n{body}\n</main></body></html>\n",
        title = escape(title)
    ))
}

fn no_order() -> Response {
    (StatusCode::NOT_FOUND, page("PayPal", "<h1>This payment link is not valid</h1>")).into_response()
}

/// `GET /checkoutnow?token=<order id>`.
pub(super) async fn show(
    Shared(state): Shared<Arc<State>>,
    Query(Token { token }): Query<Token>,
) -> Response {
    let inner = state.lock();
    let Some(order) = inner.orders.get(&token) else { return no_order() };
    if !matches!(order.status.as_str(), "PAYER_ACTION_REQUIRED" | "CREATED") {
        return page("PayPal", "<h1>This order was already approved or closed</h1>").into_response();
    }
    let merchant = order.brand_name.clone().unwrap_or_else(|| "Mock Merchant".into());
    let pay_label = if order.user_action == "PAY_NOW" { "Pay Now" } else { "Continue" };
    let action = |what: &str| format!("{}/checkoutnow/{what}?token={}", state.base, escape(&order.id));
    let body = format!(
        "<h1>Pay {merchant}</h1>\n<p data-testid=\"description\">{description}</p>\n\
         <p data-testid=\"amount\">{currency} {value}</p>\n\
         <form method=\"post\" action=\"{approve}\"><button type=\"submit\">{pay_label}</button></form>\n\
         <form method=\"post\" action=\"{cancel}\"><button type=\"submit\">Cancel and return to {merchant}</button></form>",
        merchant = escape(&merchant),
        description = escape(order.description.as_deref().unwrap_or_default()),
        currency = escape(&order.currency),
        value = escape(&order.value),
        approve = action("approve"),
        cancel = action("cancel"),
    );
    page("Log in to your PayPal account", &body).into_response()
}

/// `POST /checkoutnow/approve?token=<order id>`.
pub(super) async fn approve(
    Shared(state): Shared<Arc<State>>,
    Query(Token { token }): Query<Token>,
) -> Response {
    match approve_order(&state, &token) {
        Some(back) => (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response(),
        None => no_order(),
    }
}

/// `POST /checkoutnow/cancel?token=<order id>`.
pub(super) async fn cancel(
    Shared(state): Shared<Arc<State>>,
    Query(Token { token }): Query<Token>,
) -> Response {
    let inner = state.lock();
    let Some(order) = inner.orders.get(&token) else { return no_order() };
    let back = with_query(&order.cancel_url, &[("token", &order.id)]);
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}

/// Approves an order waiting for the payer (a repeat approves nothing more) and answers where the
/// browser goes; sends `CHECKOUT.ORDER.APPROVED` for a new approval.
pub(super) fn approve_order(state: &Arc<State>, order_id: &str) -> Option<String> {
    let (back, event) = {
        let mut inner = state.lock();
        let order = inner.orders.get_mut(order_id)?;
        let fresh = matches!(order.status.as_str(), "PAYER_ACTION_REQUIRED" | "CREATED");
        if fresh {
            order.status = "APPROVED".into();
            order.payer_id = Some(random_text(13, UPPER_ALNUM));
            order.update_time = super::now_text();
        }
        let payer = order.payer_id.clone().unwrap_or_default();
        let back = with_query(&order.return_url, &[("token", &order.id), ("PayerID", &payer)]);
        let order = order.clone();
        (back, fresh.then(|| super::api::order_json(state, &order)))
    };
    if let Some(resource) = event {
        webhook::send(state, "CHECKOUT.ORDER.APPROVED", "checkout-order", &resource);
    }
    Some(back)
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().extend_pairs(pairs);
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}
