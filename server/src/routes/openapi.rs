//! `/openapi.json`: the OpenAPI 3.1 document of the checkout contract and the merchant API
//! (`server/openapi.json`), kept true by `server/tests/openapi.rs` and by schemathesis.

use axum::{http::header, response::IntoResponse};

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], DOCUMENT)
}
