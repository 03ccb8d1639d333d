//! Wallet providers behind one trait: what real wallets do, in the server's own terms. A provider
//! creates a payment and says what the shopper does next, answers how a payment stands, closes an
//! unpaid one, captures an approved one where the wallet needs that (PayPal), refunds, and turns
//! an inbound notification (the raw body and headers) into a verified event, with the exact
//! answer the wallet expects. The rules of a payment (idempotency, expiry, what a verdict does to
//! a session) live in `payments`, not here: a provider only speaks its wallet's protocol.

pub mod alipay;
pub mod paypal;
pub mod sandbox;
pub mod settings;
pub mod wallet;
pub mod wechat_pay;

use async_trait::async_trait;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use std::{net::IpAddr, sync::Arc};
use url::Url;
use wallet_checkout_contract::{Amount, DeviceKind, NextAction, SessionId, WalletId, WalletOption};

pub use crate::domain::ProviderRefs;
use crate::domain::{ReturnUrl, UnixMillis};

/// Every real provider's settings; a provider is on when its table is there.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// `[providers.alipay]` (docs/providers/alipay.md).
    pub alipay: Option<alipay::Settings>,
    /// `[providers.wechat_pay]` (docs/providers/wechat-pay.md).
    pub wechat_pay: Option<wechat_pay::Settings>,
    /// `[providers.paypal]`: PayPal Orders v2 (`docs/providers/paypal.md`).
    pub paypal: Option<paypal::Settings>,
}

impl ProviderSettings {
    /// The `[providers.*]` tables of a TOML text (tests build configurations this way, from what
    /// a provider mock says about itself).
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            providers: ProviderSettings,
        }
        let file: File =
            figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(text))
                .extract()
                .map_err(|error| anyhow::anyhow!("{error}"))?;
        Ok(file.providers)
    }
}

/// What a provider needs to start a payment.
#[derive(Debug, Clone)]
pub struct PaymentRequest<'a> {
    /// The merchant's payment number at the provider (`out_trade_no`, PayPal `custom_id`).
    pub session_id: &'a SessionId,
    pub wallet_id: &'a WalletId,
    pub amount: Amount,
    /// What the shopper pays for, as the order says it (shown in the wallet).
    pub description: &'a str,
    pub device: DeviceKind,
    /// The shopper's address (WeChat Pay H5 needs it).
    pub client_ip: IpAddr,
    /// The last moment the payment may be made.
    pub expires_at: UnixMillis,
    /// The store page a redirect flow goes back to.
    pub return_url: &'a ReturnUrl,
    /// Base URL under which this server is reachable by shoppers and wallets.
    pub public_base: &'a Url,
    /// Unique per payment attempt: a repeated create with it must not make a second payment.
    pub idempotency_key: &'a str,
}

/// The payment as the provider created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPayment {
    pub next_action: NextAction,
    pub refs: ProviderRefs,
}

/// A payment the provider knows, as the server refers to it.
#[derive(Debug, Clone)]
pub struct PaymentRef<'a> {
    pub session_id: &'a SessionId,
    pub wallet_id: &'a WalletId,
    pub amount: Amount,
    pub refs: &'a ProviderRefs,
}

/// A payment by the code on the shopper's phone, scanned at a counter (WeChat Pay's 付款码支付,
/// Alipay's 条码支付). Each code tried is a session of its own: its id is the payment's number at
/// the wallet, new for every code (docs/providers/counter-flows.md).
#[derive(Debug, Clone)]
pub struct CodePayment<'a> {
    pub session_id: &'a SessionId,
    pub amount: Amount,
    pub description: &'a str,
    /// The scanned code.
    pub auth_code: &'a str,
    /// The shop's number at the wallet (WeChat Pay's `store_info`, Alipay's `store_id`).
    pub store_id: &'a str,
    /// The till's number at the wallet (`device_id`, Alipay's `terminal_id`).
    pub device_id: Option<&'a str>,
    /// The till's address (`device_ip`).
    pub device_ip: std::net::IpAddr,
}

/// What a wallet answered to a charged code. An answer that never came, or that says nothing
/// certain (a server error, a timeout), is `Err(ProviderError::Retryable)`: the payment is then
/// settled by `query`, never by charging the code again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAnswer {
    /// Paid.
    Paid { refs: ProviderRefs, paid: Option<Amount> },
    /// The shopper is confirming in the app (a password): ask again, until the wallet's deadline.
    Confirming,
    /// Declined: the wallet's code and its words, for the cashier (another code, another wallet).
    Declined { code: String, message: String },
}

/// How a payment stands at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentState {
    /// Not paid yet; the shopper may still pay.
    Pending,
    /// The shopper approved it; the merchant must capture it now (PayPal).
    Approved,
    /// Paid by the shopper and being settled by the wallet (PayPal capture `PENDING`).
    Processing,
    /// The money moved.
    Succeeded { refs: ProviderRefs, paid: Option<Amount> },
    /// The wallet or the shopper declined.
    Failed { reason: String },
    /// Closed at the provider without a payment (expired there, or closed by the merchant).
    Closed,
}

/// How a refund stands at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    /// Accepted, not yet settled.
    Pending {
        provider_refund_id: Option<String>,
    },
    Succeeded {
        provider_refund_id: Option<String>,
    },
    Failed {
        reason: String,
    },
}

/// A refund to ask the provider for.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    /// The merchant's refund number at the provider (`out_refund_no`, `out_request_no`).
    pub refund_id: &'a str,
    pub payment: PaymentRef<'a>,
    /// How much goes back.
    pub amount: Amount,
    pub reason: &'a str,
    /// Base URL under which this server is reachable (refund notifications).
    pub public_base: &'a Url,
}

/// A refund the provider knows.
#[derive(Debug, Clone)]
pub struct RefundRef<'a> {
    pub refund_id: &'a str,
    pub provider_refund_id: Option<&'a str>,
    pub payment: PaymentRef<'a>,
    pub amount: Amount,
}

/// What a verified notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// About the payment of a session (`out_trade_no`), with the amount the wallet says was paid
    /// (checked against the session's) where the notification carries it.
    Payment { session_id: String, state: PaymentState, amount: Option<Amount> },
    /// About a refund (`out_refund_no`).
    Refund { refund_id: String, state: RefundState },
    /// Verified, but about nothing the server acts on (another event type).
    Ignored,
}

/// A verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The provider's id of this notification: the same id again is a repeat.
    pub id: String,
    pub notice: Notice,
}

/// Why a notification was not accepted. The answer to the provider is its failure answer; the
/// reason goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// The signature, its timestamp or its key does not verify (probes included).
    BadSignature(String),
    /// Verified, but its content cannot be read or does not fit (wrong merchant or app id).
    Invalid(String),
    /// The provider could not be asked to verify it (PayPal's postback failed): try later.
    Unavailable(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::BadSignature(why) => write!(f, "signature refused: {why}"),
            Rejection::Invalid(why) => write!(f, "invalid notification: {why}"),
            Rejection::Unavailable(why) => write!(f, "cannot verify now: {why}"),
        }
    }
}

/// What a provider's error means for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider is down, slow or overloaded: the same call may succeed later.
    #[error("the wallet provider is unavailable: {0}")]
    Retryable(String),
    /// The provider refused the payment or refund for a business reason.
    #[error("the wallet provider declined: {0}")]
    Declined(String),
    /// Keys, ids or URLs are wrong: the merchant must fix the configuration.
    #[error("the wallet provider refused the merchant's credentials or settings: {0}")]
    Misconfigured(String),
    /// The request was malformed in the provider's eyes.
    #[error("the wallet provider refused the request: {0}")]
    InvalidRequest(String),
}

/// A wallet a provider offers, and for which orders.
#[derive(Debug, Clone)]
pub struct WalletOffer {
    pub wallet: WalletOption,
    /// Currencies the wallet takes; empty: any.
    pub currencies: Vec<String>,
    /// Smallest and largest amount in minor units it takes.
    pub min_minor_units: u64,
    pub max_minor_units: u64,
    /// Currencies the provider takes in whole units only (PayPal: `HUF`, `TWD`, whose ISO minor
    /// unit it does not accept): an amount with a fraction is not offered.
    pub whole_units_only: Vec<String>,
}

impl WalletOffer {
    /// Whether the wallet takes this amount.
    pub fn accepts(&self, amount: &Amount) -> bool {
        let currency = amount.currency();
        let whole = !self.whole_units_only.iter().any(|c| c == currency.as_str())
            || amount.minor_units().is_multiple_of(10u64.pow(currency.exponent()));
        (self.currencies.is_empty() || self.currencies.iter().any(|c| c == currency.as_str()))
            && (self.min_minor_units..=self.max_minor_units).contains(&amount.minor_units())
            && whole
    }
}

/// Largest notification body any provider may send, in bytes (the route's limit; each provider
/// can lower it with `PaymentProvider::max_notification_bytes`).
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// The answer a provider expects to a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Received and handled (or a repeat of one that was).
    Accepted,
    /// Refused: the provider should not count it as delivered.
    Refused,
    /// Verified but not handled now (a database error): the provider should send it again.
    RetryLater,
}

/// A provider's answer to a notification, in plain terms: the status, the `Content-Type` and the
/// body, byte for byte. The notification route sends it as it is (`routes/notifications.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    /// The `Content-Type` header; `None`: no such header.
    pub content_type: Option<&'static str>,
    pub body: String,
}

impl Reply {
    /// A status with no body and no `Content-Type`.
    pub fn empty(status: StatusCode) -> Self {
        Reply { status, content_type: None, body: String::new() }
    }

    /// Plain text (`text/plain; charset=utf-8`).
    pub fn text(status: StatusCode, body: &str) -> Self {
        Reply { status, content_type: Some("text/plain; charset=utf-8"), body: body.to_owned() }
    }

    /// Compact JSON (`application/json`).
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Reply { status, content_type: Some("application/json"), body: value.to_string() }
    }
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The provider's name in configuration, routes and logs (`wechat_pay`, `alipay`, `paypal`,
    /// `sandbox`).
    fn name(&self) -> &'static str;

    /// The wallets it offers, in display order, with what they accept.
    fn offers(&self) -> Vec<WalletOffer>;

    /// Whether payments go to the provider's live system (real money).
    fn livemode(&self) -> bool;

    async fn create(&self, request: &PaymentRequest<'_>) -> Result<CreatedPayment, ProviderError>;

    /// How the payment stands now.
    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError>;

    /// Closes an unpaid payment so that it can no longer be paid.
    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError>;

    /// Charges a payment code scanned at a counter. Wallets without the flow refuse.
    async fn charge_code(&self, payment: &CodePayment<'_>) -> Result<CodeAnswer, ProviderError> {
        let _ = payment;
        Err(ProviderError::InvalidRequest(format!("{} takes no scanned payment codes", self.name())))
    }

    /// Undoes a code payment (WeChat Pay's reverse, Alipay's cancel): unpaid, it can no longer be
    /// paid; paid, the money goes back to the shopper. `Err(Retryable)` while the shopper is still
    /// confirming: ask again, then undo again.
    async fn reverse(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let _ = payment;
        Err(ProviderError::InvalidRequest(format!("{} takes no scanned payment codes", self.name())))
    }

    /// Captures an approved payment (wallets that need it); others never see `Approved`.
    async fn capture(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        self.query(payment).await
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError>;

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError>;

    /// The largest notification body this provider sends, in bytes: anything larger is refused
    /// before it is read.
    fn max_notification_bytes(&self) -> usize {
        MAX_NOTIFICATION_BYTES
    }

    /// Verifies a notification on its raw body before anything is parsed, and reads it, in time
    /// linear in the body's size.
    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection>;

    /// The exact answer the provider expects (status code, content type and body).
    fn acknowledge(&self, ack: Ack) -> Reply;

    /// One harmless authenticated call to the provider, to prove the credentials work
    /// (`wallet-checkout-server providers check`). Keys are checked when the provider is built.
    async fn self_check(&self) -> Result<(), ProviderError>;
}

/// What building a provider from its settings needs besides them.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// Where wallets reach this server (`public_url`), for the notification URLs it registers
    /// with each payment. `None` without a configured `public_url`.
    pub public_url: Option<Url>,
    /// The server's clock, for what a provider schedules itself (renewing PayPal's token).
    pub clock: crate::domain::SharedClock,
}

/// The registry: every wallet provider, in the order the wallets are shown. A new wallet is a
/// folder beside these with its `WALLET`, one line here, and its words (docs/providers/adding-a-wallet.md).
pub const WALLETS: [&wallet::Wallet; 3] = [&wechat_pay::WALLET, &alipay::WALLET, &paypal::WALLET];

/// The wallet provider with this name.
pub fn find_wallet(name: &str) -> Option<&'static wallet::Wallet> {
    WALLETS.iter().copied().find(|wallet| wallet.name == name)
}

/// Every real provider that has a table in the configuration, built from its settings (keys read
/// from their files and checked), by name. A provider that cannot be built is an error naming why.
pub fn configured(
    settings: &ProviderSettings,
    context: &BuildContext,
) -> Vec<(&'static str, anyhow::Result<Arc<dyn PaymentProvider>>)> {
    WALLETS
        .iter()
        .filter_map(|wallet| (wallet.build)(settings, context).map(|built| (wallet.name, built)))
        .collect()
}

/// A wallet offered and the provider that offers it.
type Entry = (WalletOffer, Arc<dyn PaymentProvider>);

/// Every configured provider, looked up by wallet or by name. The set can be replaced while the
/// server runs (credentials entered in the console): readers get the set as it is at that moment.
#[derive(Default)]
pub struct Providers {
    entries: std::sync::RwLock<Arc<Vec<Entry>>>,
}

impl Providers {
    fn entries(&self) -> Arc<Vec<Entry>> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Adds a provider's wallets; a wallet another provider already offers stays with that one
    /// (real providers are added before the sandbox, which then fills in the rest).
    pub fn add(&mut self, provider: Arc<dyn PaymentProvider>) {
        let entries =
            Arc::make_mut(self.entries.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner));
        for offer in provider.offers() {
            if entries.iter().any(|(known, _)| known.wallet.id == offer.wallet.id) {
                tracing::info!(wallet = %offer.wallet.id, provider = provider.name(), "wallet already offered by another provider");
                continue;
            }
            entries.push((offer, provider.clone()));
        }
    }

    /// Replaces every provider with those of `other` (built anew from changed credentials).
    pub fn replace_with(&self, other: Providers) {
        let new = other.entries.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        *self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner) = new;
    }

    /// Every wallet offered, in display order.
    pub fn wallets(&self) -> Vec<WalletOption> {
        self.entries().iter().map(|(offer, _)| offer.wallet.clone()).collect()
    }

    /// The wallets offered for an amount: only those whose provider takes its currency and size,
    /// so the widget never offers a wallet that will refuse.
    pub fn wallets_for(&self, amount: &Amount) -> Vec<WalletOption> {
        self.entries()
            .iter()
            .filter(|(offer, _)| offer.accepts(amount))
            .map(|(offer, _)| offer.wallet.clone())
            .collect()
    }

    pub fn offer(&self, id: &WalletId) -> Option<WalletOffer> {
        self.entries().iter().map(|(offer, _)| offer).find(|offer| &offer.wallet.id == id).cloned()
    }

    pub fn provider_for(&self, id: &WalletId) -> Option<Arc<dyn PaymentProvider>> {
        self.entries().iter().find(|(offer, _)| &offer.wallet.id == id).map(|(_, provider)| provider.clone())
    }

    /// The provider with this name.
    pub fn named(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        self.entries().iter().map(|(_, provider)| provider).find(|provider| provider.name() == name).cloned()
    }

    /// Each provider once, in order.
    pub fn all(&self) -> Vec<Arc<dyn PaymentProvider>> {
        let mut seen: Vec<Arc<dyn PaymentProvider>> = Vec::new();
        for (_, provider) in self.entries().iter() {
            if !seen.iter().any(|known| known.name() == provider.name()) {
                seen.push(provider.clone());
            }
        }
        seen
    }

    /// Whether every wallet offered for this amount takes real money (and there is one).
    pub fn all_live_for(&self, amount: &Amount) -> bool {
        let entries = self.entries();
        let mut offered = entries.iter().filter(|(offer, _)| offer.accepts(amount)).peekable();
        offered.peek().is_some() && offered.all(|(_, provider)| provider.livemode())
    }
}
