//! HTTP routes, one file per resource, and the state they share.

pub mod assets;
pub mod dashboard;
pub mod health;
pub mod merchant;
pub mod openapi;
pub mod orders;
pub mod sandbox;
pub mod sessions;
pub mod store;

use crate::{
    config::Config,
    error::ApiError,
    providers::Providers,
    rate_limit::RateLimiter,
    store::{OrderRecord, SessionRecord, Store},
};
use axum::http::{header, HeaderMap};
use std::{net::SocketAddr, sync::Arc};
use url::Url;
use wallet_checkout_contract::{OrderId, SessionId};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub providers: Arc<Providers>,
    pub config: Arc<Config>,
    pub session_limiter: Arc<RateLimiter>,
    /// How the demo store reaches this server's merchant API, and its key.
    pub demo: Option<Arc<DemoStore>>,
}

/// The demo store's side of the merchant API: it creates orders over HTTP with its own key, the
/// way a merchant's backend does.
pub struct DemoStore {
    pub api_base: String,
    pub secret: String,
    pub client: reqwest::Client,
}

impl AppState {
    /// The stored order, or the contract's `not_found` error.
    pub async fn find_order(&self, id: &OrderId) -> Result<OrderRecord, ApiError> {
        self.store.order(id).await.map_err(ApiError::internal)?.ok_or_else(|| ApiError::not_found("order"))
    }

    /// The stored session, or the contract's `not_found` error.
    pub async fn find_session(&self, id: &SessionId) -> Result<SessionRecord, ApiError> {
        self.store
            .session(id)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("session"))
    }

    /// The client's address: the socket's, or the first `X-Forwarded-For` entry behind a
    /// trusted proxy.
    pub fn client_address(&self, headers: &HeaderMap, peer: SocketAddr) -> std::net::IpAddr {
        if self.config.trust_proxy {
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok());
            if let Some(address) = forwarded {
                return address;
            }
        }
        peer.ip()
    }

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
