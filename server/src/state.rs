//! What every request handler shares: the database, the wallets, the use cases and the clock,
//! the configuration, the limits, and what the server knows of the request's origin.

use crate::{
    app::App,
    config::Config,
    db::{Db, OrderRecord, SessionRecord},
    domain::ReturnUrl,
    egress::EgressPolicy,
    error::ApiError,
    providers::{sandbox::SandboxProvider, Providers},
    rate_limit::RateLimiter,
};
use axum::http::HeaderMap;
use std::{net::SocketAddr, sync::Arc};
use url::Url;
use wallet_checkout_contract::{OrderId, SessionId};

/// What every request handler shares. Axum copies the state for each handler call and each
/// `State` extractor, so it is one `Arc`: a copy is one count, not one for each of its parts.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
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
    pub passwords: crate::app::passwords::Passwords,
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
