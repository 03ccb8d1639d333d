//! HTTP routes, one file per resource, and the state they share.

pub mod assets;
pub mod orders;
pub mod sandbox;
pub mod sessions;
pub mod store;

use crate::{config::Config, error::ApiError, providers::Providers, store::Store};
use axum::http::{header, HeaderMap};
use std::sync::Arc;
use url::Url;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub providers: Arc<Providers>,
    pub config: Arc<Config>,
}

impl AppState {
    /// The base URL shoppers reach this server at: the configured one, else the request's host.
    pub fn public_base(&self, headers: &HeaderMap) -> Url {
        if let Some(url) = &self.config.public_url {
            return url.clone();
        }
        headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .and_then(|host| Url::parse(&format!("http://{host}/")).ok())
            .filter(|url| url.path() == "/" && url.query().is_none())
            .unwrap_or_else(|| {
                Url::parse(&format!("http://{}/", self.config.bind)).expect("a socket address makes a URL")
            })
    }
}

/// Answer for paths under the API that match no route.
pub async fn api_not_found() -> ApiError {
    ApiError::not_found("endpoint")
}

/// Answer for a known API path with the wrong method.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::invalid_request("this method is not allowed on this path")
}
