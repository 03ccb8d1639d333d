//! PayPal, through the Orders v2 REST API: an order per session (`intent=CAPTURE`, one purchase
//! unit whose `custom_id`, `reference_id` and `invoice_id` are the session id), the shopper sent
//! to PayPal's `payer-action` page and back to this server (`routes::paypal`), where the
//! approved order is captured through the payments layer; webhooks verified by PayPal itself
//! (`POST /v1/notifications/verify-webhook-signature`); refunds of the capture.
//!
//! PayPal orders cannot be closed: an order that is never captured lapses at PayPal. `close` does
//! nothing, and the payments layer never captures a session that is no longer pending or past its
//! expiry, so an approval that comes late is recorded and flagged, and no money moves.

mod api;
mod client;
mod notification;
pub mod settings;
mod verification;
mod wire;

use super::wallet;

pub use settings::Settings;

use self::client::Client;
use super::{
    settings::Environment, Ack, BuildContext, CreatedPayment, Notification, PaymentProvider, PaymentRef,
    PaymentRequest, PaymentState, ProviderError, RefundRef, RefundRequest, RefundState, Rejection, Reply,
    WalletOffer,
};
use async_trait::async_trait;
use http::{HeaderMap, StatusCode};
use std::sync::Arc;
use url::Url;
use wallet_checkout_contract::MAX_MINOR_UNITS;

/// The provider's name in configuration, routes and logs.
pub const NAME: &str = "paypal";

/// This provider in the registry of wallets (`providers::WALLETS`).
pub const WALLET: wallet::Wallet = wallet::Wallet {
    name: NAME,
    fields: &[
        wallet::field("environment", wallet::Kind::Environment),
        wallet::field("base_url", wallet::Kind::Url),
        wallet::field("client_id", wallet::Kind::Id),
        wallet::field("client_secret", wallet::Kind::Secret),
        wallet::field("webhook_id", wallet::Kind::Id),
    ],
    register_links: &[
        "https://www.paypal.com/business",
        "https://developer.paypal.com/dashboard/applications",
    ],
    register_items: 4,
    currencies: &settings::DEFAULT_CURRENCIES,
    fee_currency: "USD",
    reference_label: "orders.ref_transaction",
    merge: |settings, values| wallet::merge_table(&mut settings.paypal, values, Settings::apply),
    build: |settings, context| settings.paypal.as_ref().map(|table| build(table, context)),
};
/// The wallet it offers.
pub const WALLET_ID: &str = "paypal";

/// The webhook events this server acts on; the webhook must be subscribed to each.
pub const EVENT_TYPES: [&str; 8] = [
    "CHECKOUT.ORDER.APPROVED",
    "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REFUNDED",
    "PAYMENT.CAPTURE.REVERSED",
];

/// A webhook whose `PAYPAL-TRANSMISSION-TIME` is further than this from now is refused (a replay,
/// or a clock that is wrong).
pub const TRANSMISSION_TOLERANCE_MS: i64 = 300_000;

/// Where PayPal sends the shopper after approving, below the server's public base URL.
pub fn return_path(session_id: &str) -> String {
    format!("api/providers/{NAME}/return/{session_id}")
}

/// Where PayPal sends the shopper who cancels on its page.
pub fn cancel_path(session_id: &str) -> String {
    format!("api/providers/{NAME}/cancel/{session_id}")
}

pub struct PayPalProvider {
    client: Client,
    environment: Environment,
    webhook_id: String,
    brand_name: Option<String>,
    offer: WalletOffer,
    /// The notification URL the webhook must point at (`public_url` known), for `self_check`.
    notify_url: Option<Url>,
}

impl std::fmt::Debug for PayPalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalProvider")
            .field("client", &self.client)
            .field("environment", &self.environment)
            .field("webhook_id", &self.webhook_id)
            .finish_non_exhaustive()
    }
}

/// Builds the provider from `[providers.paypal]`; a bad setting is an error naming it.
pub fn build(settings: &Settings, context: &BuildContext) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    Ok(Arc::new(PayPalProvider::new(settings, context)?))
}

impl PayPalProvider {
    pub fn new(settings: &Settings, context: &BuildContext) -> anyhow::Result<Self> {
        settings.check()?;
        let mut offer = super::settings::offer(
            WALLET_ID,
            "PayPal",
            settings.currencies.as_ref(),
            &settings::DEFAULT_CURRENCIES,
            settings.min_amount.as_ref(),
            settings.max_amount.as_ref(),
            MAX_MINOR_UNITS,
        )?;
        offer.whole_units_only = settings::WHOLE_UNIT_CURRENCIES.iter().map(|c| (*c).to_owned()).collect();
        let notify_url = match &context.public_url {
            Some(base) => Some(
                base.join(&format!("api/providers/{NAME}/notify"))
                    .map_err(|e| anyhow::anyhow!("public_url cannot take the notification path: {e}"))?,
            ),
            None => None,
        };
        Ok(Self {
            client: Client::new(
                settings.base_url()?,
                settings.client_id.as_str().to_owned(),
                settings.client_secret.clone(),
                settings.timeout()?,
                context.clock.clone(),
            )?,
            environment: settings.environment,
            webhook_id: settings.webhook_id.as_str().to_owned(),
            brand_name: settings.brand_name.as_ref().map(|b| b.as_str().to_owned()),
            offer,
            notify_url,
        })
    }
}

#[async_trait]
impl PaymentProvider for PayPalProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn offers(&self) -> Vec<WalletOffer> {
        vec![self.offer.clone()]
    }

    fn livemode(&self) -> bool {
        self.environment == Environment::Live
    }

    async fn create(&self, request: &PaymentRequest<'_>) -> Result<CreatedPayment, ProviderError> {
        self.create_order(request).await
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        self.query_order(payment).await
    }

    /// PayPal has no call to void an order of intent `CAPTURE`: an uncaptured approval lapses.
    /// Nothing to do; the session is canceled or expired here, so it is never captured.
    async fn close(&self, _payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn capture(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        self.capture_order(payment).await
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        self.post_refund(refund.refund_id, &refund.payment, &refund.amount, refund.reason).await
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        self.get_refund(refund).await
    }

    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection> {
        self.read_notification(body, headers).await
    }

    /// PayPal counts any `2xx` as delivered and sends anything else again (up to 25 times over 3
    /// days).
    fn acknowledge(&self, ack: Ack) -> Reply {
        match ack {
            Ack::Accepted => Reply::empty(StatusCode::OK),
            Ack::Refused => Reply::text(StatusCode::BAD_REQUEST, "refused"),
            Ack::RetryLater => Reply::text(StatusCode::SERVICE_UNAVAILABLE, "try again later"),
        }
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        self.check_app_and_webhook().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_and_cancel_paths_come_back_to_this_server() {
        let base = Url::parse("https://pay.shop.example/").unwrap();
        assert_eq!(
            base.join(&return_path("ses_1")).unwrap().as_str(),
            "https://pay.shop.example/api/providers/paypal/return/ses_1"
        );
        assert_eq!(
            base.join(&cancel_path("ses_1")).unwrap().as_str(),
            "https://pay.shop.example/api/providers/paypal/cancel/ses_1"
        );
    }
}
