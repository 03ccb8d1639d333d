//! The demo store: a product page with a `<wallet-checkout>` element for a fresh order, the way a
//! merchant's own site would embed the widget.

use crate::state::AppState;
use crate::{
    embed,
    error::{ApiError, QueryParams},
    html::{self, escape, page},
};
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use rand::{seq::SliceRandom, Rng};
use serde::Deserialize;
use wallet_checkout_contract::{OrderId, IDEMPOTENCY_KEY_HEADER};

/// What the demo store sells: description, price in minor units, currency.
const CATALOG: [(&str, u64, &str); 3] = [
    ("Jasmine green tea, 250 g", 6800, "CNY"),
    ("Celadon tea cup", 12900, "CNY"),
    ("Oolong sampler, 4 × 50 g", 9900, "CNY"),
];

/// `GET /`: starts a fresh order and shows its checkout page.
pub async fn new_order(State(state): State<AppState>) -> Result<Redirect, ApiError> {
    let order = create_demo_order(&state, None).await?;
    Ok(Redirect::to(&format!("/store/orders/{order}")))
}

#[derive(Debug, Deserialize)]
pub struct NewOrderQuery {
    /// Which catalog item to order (0-based); a random one if absent.
    item: Option<String>,
}

/// `POST /store/orders[?item=N]`: starts a fresh order and answers `{"id": ...}` (for the
/// widget's development page, `index.html`, and for tests that need a known order).
pub async fn create_order(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<NewOrderQuery>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let item = match query.item.as_deref() {
        None => None,
        Some(raw) => {
            Some(raw.parse::<usize>().ok().filter(|item| *item < CATALOG.len()).ok_or_else(|| {
                ApiError::invalid_request(format!("item must be a whole number below {}", CATALOG.len()))
            })?)
        }
    };
    let order = create_demo_order(&state, item).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": order }))))
}

/// Creates the order the way a merchant's backend does: `POST /api/v1/orders` over HTTP, with
/// the demo store's own operator key.
async fn create_demo_order(state: &AppState, item: Option<usize>) -> Result<OrderId, ApiError> {
    let demo = state.demo.as_ref().ok_or_else(|| ApiError::not_found("demo store"))?;
    let (description, minor_units, currency) = match item {
        Some(item) => CATALOG[item],
        None => *CATALOG.choose(&mut rand::thread_rng()).expect("the catalog is not empty"),
    };
    let reference = format!("TEA-{:06}", rand::thread_rng().gen_range(0..1_000_000));
    let body = serde_json::json!({
        "amount": { "minor_units": minor_units, "currency": currency },
        "description": description,
        "reference": reference,
        "metadata": { "channel": "demo store" },
    });
    let response = demo
        .client
        .post(format!("{}/api/v1/orders", demo.api_base))
        .bearer_auth(&demo.secret)
        .header(IDEMPOTENCY_KEY_HEADER, crate::domain::new_id("demo"))
        .json(&body)
        .send()
        .await
        .map_err(ApiError::internal)?;
    if response.status() != reqwest::StatusCode::CREATED {
        return Err(ApiError::internal(format!("the merchant API answered {}", response.status())));
    }
    let order: serde_json::Value = response.json().await.map_err(ApiError::internal)?;
    let id = order["id"]
        .as_str()
        .and_then(|id| OrderId::parse(id).ok())
        .ok_or_else(|| ApiError::internal("the merchant API sent no order id"))?;
    tracing::info!(order_id = %id, %reference, "demo order created through the merchant API");
    Ok(id)
}

/// Presentation options of the demo page, passed on to the widget's attributes.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    locale: Option<String>,
    theme: Option<String>,
}

/// `GET /store/orders/{id}[?locale=..&theme=..]`: the checkout page for one order.
pub async fn order_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let order = match OrderId::parse(id) {
        Ok(id) => state.db.order(&id).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(order) = order else {
        let body =
            "<main class=\"store\"><h1>Order not found</h1><p><a href=\"/\">Start a new order</a></p></main>";
        return html::response(StatusCode::NOT_FOUND, page("Tea House", "/static/store.css", "", body));
    };
    // The snippet a merchant is given (the console's integrate step): the browser fetches the
    // module and the loader as it reads the page.
    let widget = embed::head_tags(&state.config.widget_dir, "/wallet-checkout/");
    let head = format!("{}\n<script type=\"module\" src=\"/static/store.js\"></script>\n", widget.html);
    let body = format!(
        "<header class=\"store__header\"><a class=\"store__brand\" href=\"/\">Tea House</a>\
         <span class=\"store__note\">Demo store: payments go to the sandbox wallet</span></header>\n\
         <main class=\"store\">\n<section class=\"store__product\">\n<h1>{description}</h1>\n\
         <p class=\"store__order\">Order <code>{id}</code></p>\n</section>\n\
         <section class=\"store__checkout\" aria-label=\"Checkout\">\n\
         <wallet-checkout endpoint=\"/api/checkout\" order=\"{id}\"{extra}></wallet-checkout>\n\
         <p class=\"store__message\" id=\"store-message\" role=\"status\"></p>\n</section>\n\
         <section class=\"store__events\"><h2>Events received by this page</h2><ol id=\"store-events\"></ol></section>\n\
         </main>",
        description = escape(&order.description),
        id = escape(order.id.as_str()),
        extra = widget_attributes(&query),
    );
    html::response(StatusCode::OK, page("Tea House: checkout", "/static/store.css", &head, &body))
}

/// Extra widget attributes from the page's query: a language tag and a theme, checked.
fn widget_attributes(query: &PageQuery) -> String {
    let mut extra = String::new();
    if let Some(locale) = query.locale.as_deref().filter(|tag| {
        !tag.is_empty() && tag.len() <= 35 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        extra.push_str(&format!(" locale=\"{}\"", escape(locale)));
    }
    if let Some(theme) = query.theme.as_deref().filter(|t| matches!(*t, "light" | "dark" | "auto")) {
        extra.push_str(&format!(" theme=\"{theme}\""));
    }
    extra
}

/// `GET /static/{file}`: the demo pages' own styles and script, built into the binary.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (content_type, body) = match file.as_str() {
        "store.css" => ("text/css; charset=utf-8", include_str!("../../static/store.css")),
        "store.js" => ("text/javascript; charset=utf-8", include_str!("../../static/store.js")),
        "sandbox.css" => ("text/css; charset=utf-8", include_str!("../../static/sandbox.css")),
        "console.css" => ("text/css; charset=utf-8", include_str!("../../static/console.css")),
        "console.js" => ("text/javascript; charset=utf-8", include_str!("../../static/console.js")),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}
