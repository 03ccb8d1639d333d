//! Alipay through the Open Platform's `gateway.do` API with RSA2 keys: a QR code of
//! `alipay.trade.precreate` (当面付) on desktops, or a redirect to `alipay.trade.page.pay`
//! (电脑网站支付) by configuration; a redirect to `alipay.trade.wap.pay` (手机网站支付) on
//! phones. Payments are followed with `alipay.trade.query`, closed with `alipay.trade.close`,
//! refunded with `alipay.trade.refund` (our refund id is Alipay's `out_request_no`) and
//! `alipay.trade.fastpay.refund.query`; notifications are form posts verified with Alipay's
//! public key and answered with exactly `success`.
//!
//! See `docs/providers/alipay.md` for the settings and how to register the app.

mod api;
mod barcode;
pub mod client;
pub mod crypto;
mod notification;
pub mod settings;
mod wire;

use super::wallet;

pub use settings::Settings;
pub use wire::{parse_yuan, yuan};

use super::{
    Ack, CodeAnswer, CodePayment, CreatedPayment, Notification, PaymentProvider, PaymentRef, PaymentRequest,
    PaymentState, ProviderError, RefundRef, RefundRequest, RefundState, Rejection, Reply, WalletOffer,
};
use async_trait::async_trait;
use client::Gateway;
use http::{HeaderMap, StatusCode};
use settings::DesktopFlow;
use std::sync::Arc;
use wallet_checkout_contract::MAX_MINOR_UNITS;

/// The provider's name in configuration and routes.
pub const NAME: &str = "alipay";

/// This provider in the registry of wallets (`providers::WALLETS`).
pub const WALLET: wallet::Wallet = wallet::Wallet {
    name: NAME,
    fields: &[
        wallet::field("environment", wallet::Kind::Environment),
        wallet::field("gateway_url", wallet::Kind::Url),
        wallet::field("app_id", wallet::Kind::Id),
        wallet::pem("app_private_key_pem", "app_private_key_file"),
        wallet::pem("alipay_public_key_pem", "alipay_public_key_file"),
        wallet::field("seller_id", wallet::Kind::Id),
    ],
    register_links: &["https://b.alipay.com", "https://open.alipay.com"],
    register_items: 5,
    currencies: &["CNY"],
    fee_currency: "CNY",
    reference_label: "orders.ref_trade_no",
    merge: |settings, values| wallet::merge_table(&mut settings.alipay, values, Settings::apply),
    build: |settings, context| settings.alipay.as_ref().map(|table| build(table, context)),
};
/// The largest amount Alipay takes: 100,000,000.00 yuan, in fen.
pub const MAX_FEN: u64 = 10_000_000_000;
/// How far a notification's `notify_time` may be from now.
pub const NOTIFICATION_TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// The largest notification Alipay sends, in bytes, and the most parameters in it: its trade
/// notification has about 35 parameters (docs/providers/alipay.md), the longest of them a few
/// hundred bytes before URL-encoding.
pub const MAX_NOTIFICATION_BYTES: usize = 32 * 1024;
pub const MAX_NOTIFICATION_PARAMS: usize = 100;
/// The answer Alipay takes as "handled": these 7 characters and nothing else.
pub const ACK_SUCCESS: &str = "success";
pub const ACK_FAILURE: &str = "failure";

pub struct AlipayProvider {
    gateway: Gateway,
    live: bool,
    seller_id: Option<String>,
    desktop: DesktopFlow,
    offer: WalletOffer,
}

fn read_file(setting: &str, path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("{setting}: cannot read {}: {error}", path.display()))
}

/// Builds the provider: reads and checks the keys (the app's private key against its public key
/// when given, and that Alipay's key is not the app's own), the gateway and the offer.
pub fn build(
    settings: &Settings,
    _context: &super::BuildContext,
) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    use rsa::traits::PublicKeyParts;
    let app_id = settings.app_id.as_str().to_owned();
    if app_id.is_empty() || !app_id.chars().all(|c| c.is_ascii_digit()) {
        anyhow::bail!("app_id={app_id:?} must be the app's APPID (digits)");
    }
    if settings.alipay_public_key_pem.as_ref().is_none_or(|pem| pem.as_str().is_empty())
        && settings.alipay_public_key_file.is_none()
    {
        anyhow::bail!("alipay_public_key_file or alipay_public_key_pem is required");
    }
    let app_key_text = match (&settings.app_private_key_pem, &settings.app_private_key_file) {
        (Some(pem), _) if !pem.expose().trim().is_empty() => pem.expose().to_owned(),
        (_, Some(path)) => read_file("app_private_key_file", path)?,
        _ => anyhow::bail!("app_private_key_file or app_private_key_pem is required"),
    };
    let app_key =
        crypto::private_key(&app_key_text).map_err(|why| anyhow::anyhow!("app_private_key_file: {why}"))?;
    let alipay_key =
        crypto::public_key(&match (&settings.alipay_public_key_pem, &settings.alipay_public_key_file) {
            (Some(pem), _) if !pem.as_str().is_empty() => pem.as_str().to_owned(),
            (_, Some(path)) => read_file("alipay_public_key_file", path)?,
            _ => anyhow::bail!("alipay_public_key_file or alipay_public_key_pem is required"),
        })
        .map_err(|why| anyhow::anyhow!("alipay_public_key_file: {why}"))?;
    if app_key.size() < 256 {
        anyhow::bail!("app_private_key_file: RSA2 needs a key of 2048 bits or more");
    }
    let app_public = app_key.to_public_key();
    if let Some(path) = &settings.app_public_key_file {
        let uploaded = crypto::public_key(&read_file("app_public_key_file", path)?)
            .map_err(|why| anyhow::anyhow!("app_public_key_file: {why}"))?;
        if uploaded != app_public {
            anyhow::bail!(
                "app_private_key_file does not match app_public_key_file (the key uploaded to the app)"
            );
        }
    }
    if alipay_key == app_public {
        anyhow::bail!(
            "alipay_public_key_file holds the app's own public key; it must be Alipay's public key (支付宝公钥) shown for the app"
        );
    }
    let currencies = settings.currencies.as_ref();
    if let Some(list) = currencies {
        if let Some(other) = list.0.iter().find(|c| !c.eq_ignore_ascii_case("CNY")) {
            anyhow::bail!("currencies: Alipay's gateway API takes CNY only, not {other:?}");
        }
    }
    let offer = super::settings::offer(
        "alipay",
        "Alipay",
        currencies,
        &["CNY"],
        settings.min_amount.as_ref(),
        settings.max_amount.as_ref(),
        MAX_FEN.min(MAX_MINOR_UNITS),
    )?;
    if offer.max_minor_units > MAX_FEN {
        anyhow::bail!("max_amount: Alipay takes at most 100000000.00 yuan ({MAX_FEN} fen)");
    }
    let gateway = Gateway::new(settings.gateway()?, app_id, app_key, alipay_key, settings.timeout()?)?;
    Ok(Arc::new(AlipayProvider {
        gateway,
        live: settings.environment == super::settings::Environment::Live,
        seller_id: settings.seller_id.as_ref().map(|s| s.as_str().to_owned()).filter(|s| !s.is_empty()),
        desktop: settings.desktop()?,
        offer,
    }))
}

#[async_trait]
impl PaymentProvider for AlipayProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn offers(&self) -> Vec<WalletOffer> {
        vec![self.offer.clone()]
    }

    fn livemode(&self) -> bool {
        self.live
    }

    async fn create(&self, request: &PaymentRequest<'_>) -> Result<CreatedPayment, ProviderError> {
        self.create_trade(request).await
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        self.query_trade(payment).await
    }

    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        self.close_trade(payment).await
    }

    async fn charge_code(&self, payment: &CodePayment<'_>) -> Result<CodeAnswer, ProviderError> {
        self.trade_pay(payment).await
    }

    async fn reverse(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        self.cancel_trade(payment).await
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        self.ask_refund(refund.refund_id, &refund.payment, &refund.amount, refund.reason).await
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        match self.refund_query(refund).await? {
            Some(state) => Ok(state),
            // Alipay has no such refund: it is asked for again, safely (the same out_request_no
            // is refunded once).
            None => self.ask_refund(refund.refund_id, &refund.payment, &refund.amount, "").await,
        }
    }

    fn max_notification_bytes(&self) -> usize {
        MAX_NOTIFICATION_BYTES
    }

    async fn verify_notification(
        &self,
        body: &[u8],
        _headers: &HeaderMap,
    ) -> Result<Notification, Rejection> {
        self.read_notification(body)
    }

    fn acknowledge(&self, ack: Ack) -> Reply {
        match ack {
            Ack::Accepted => Reply::text(StatusCode::OK, ACK_SUCCESS),
            Ack::Refused => Reply::text(StatusCode::BAD_REQUEST, ACK_FAILURE),
            Ack::RetryLater => Reply::text(StatusCode::SERVICE_UNAVAILABLE, ACK_FAILURE),
        }
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        self.check_app().await
    }
}
