//! HTTP routes, one file per resource, and the state they share.

pub mod assets;
pub mod demo_shop;
pub mod health;
pub mod merchant;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod paypal_return;
pub mod sandbox_pay_page;
pub mod sessions;
pub mod steps;

use crate::{
    app::App,
    config::Config,
    db::{Db, OrderRecord, SessionRecord},
    domain::{IdempotencyKey, ReturnUrl},
    egress::EgressPolicy,
    error::ApiError,
    providers::{sandbox::SandboxProvider, Providers},
    rate_limit::RateLimiter,
};
use axum::http::HeaderMap;
use std::{net::SocketAddr, sync::Arc};
use url::Url;
use wallet_checkout_contract::{OrderId, SessionId};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub providers: Arc<Providers>,
    pub config: Arc<Config>,
    pub session_limiter: Arc<RateLimiter>,
    /// How the demo store reaches this server's merchant API, and its key.
    pub demo: Option<Arc<DemoStore>>,
    /// The address the server listens on (the port chosen when the configuration says 0).
    pub bound: SocketAddr,
    /// Where webhooks may be sent.
    pub egress: Arc<EgressPolicy>,
    /// The use cases (sessions, notifications, expiry, refunds, ...) and the clock.
    pub app: App,
    /// The sandbox wallet, when it is on (its pay page talks to it).
    pub sandbox: Option<Arc<SandboxProvider>>,
    /// Seals secrets kept at rest (providers' credentials, TOTP secrets).
    pub vault: Arc<crate::vault::Vault>,
    /// Console sign-ins per client.
    pub login_limiter: Arc<RateLimiter>,
    /// Refused provider notifications per client (genuine ones are never counted).
    pub notification_limiter: Arc<RateLimiter>,
    /// Password hashing off the async workers, bounded.
    pub passwords: crate::console::passwords::Passwords,
    /// Keyed hashes that stand for client and e-mail addresses in counts and logs.
    pub pseudonyms: Arc<crate::pseudonym::Pseudonyms>,
    /// Sessions made per client address, for the alert rules.
    pub session_counter: crate::app::alerts::SessionCounter,
}

/// The demo store's side of the merchant API: it creates orders over HTTP with its own key, the
/// way a merchant's backend does.
pub struct DemoStore {
    pub api_base: String,
    pub secret: String,
    pub client: reqwest::Client,
}

impl AppState {
    /// Where and how often the server backs itself up.
    pub fn backup_schedule(&self) -> crate::app::backups::Schedule {
        crate::app::backups::Schedule {
            dir: self.config.backup_dir.clone(),
            every_hours: self.config.backup_every_hours,
            keep: self.config.backup_keep,
        }
    }

    /// What time it is, by the server's clock.
    pub fn now(&self) -> crate::domain::UnixMillis {
        self.app.clock.now()
    }

    /// The stored order, or the contract's `not_found` error.
    pub async fn find_order(&self, id: &OrderId) -> Result<OrderRecord, ApiError> {
        self.db.order(id).await.map_err(ApiError::internal)?.ok_or_else(|| ApiError::not_found("order"))
    }

    /// The stored session, or the contract's `not_found` error.
    pub async fn find_session(&self, id: &SessionId) -> Result<SessionRecord, ApiError> {
        self.db.session(id).await.map_err(ApiError::internal)?.ok_or_else(|| ApiError::not_found("session"))
    }

    /// The client's address: the socket's, or, behind a trusted proxy, the `X-Forwarded-For`
    /// entry that proxy added (the last one; entries before it come from the client and can say
    /// anything).
    pub fn client_address(&self, headers: &HeaderMap, peer: SocketAddr) -> std::net::IpAddr {
        if self.config.trust_proxy {
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok());
            if let Some(address) = forwarded {
                return address;
            }
        }
        peer.ip()
    }

    /// Whether paying this amount here moves real money: a live server, and every wallet
    /// offered for it at a live provider (the contract's `livemode`).
    pub fn livemode_for(&self, amount: &wallet_checkout_contract::Amount) -> bool {
        self.config.livemode() && self.providers.all_live_for(amount)
    }

    /// The base URL shoppers reach this server at (`public_url::base`).
    pub fn public_base(&self, headers: &HeaderMap) -> Url {
        crate::public_url::base(&self.config, self.bound, headers)
    }

    /// Whether a shopper may be sent back to `url`: only to the store's own origins (the
    /// allowed origins and this server's public origin), never to a page an attacker names.
    pub fn is_store_page(&self, url: &ReturnUrl, headers: &HeaderMap) -> bool {
        let origin = url.origin();
        self.config.allowed_origins.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes())
            || self.public_base(headers).origin().ascii_serialization() == origin
    }
}

/// Answer for paths under the API that match no route.
/// The request's `Idempotency-Key`, if it sent one; a key that is not one is refused.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get(wallet_checkout_contract::IDEMPOTENCY_KEY_HEADER) else { return Ok(None) };
    IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}"))
        .map(Some)
        .map_err(|error| ApiError::invalid_request(error.to_string()))
}

pub async fn api_not_found() -> ApiError {
    ApiError::not_found("endpoint")
}

/// Answer for a known API path with the wrong method.
pub async fn api_method_not_allowed() -> ApiError {
    ApiError::invalid_request("this method is not allowed on this path")
}
