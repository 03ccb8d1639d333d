//! WeChat Pay API v3 for direct merchants (普通商户): Native payment (a QR code of `code_url`) on
//! desktop, H5 payment (a redirect to `h5_url`) in mobile browsers, the order query and close,
//! refunds and their query, and the payment and refund notifications, verified with WeChat Pay's
//! public key or platform certificates and decrypted with the APIv3 key.
//!
//! `environment`: WeChat Pay has no APIv3 sandbox. `live` (the default) talks to
//! `https://api.mch.weixin.qq.com` (or `base_url`) with real money; `sandbox` means a test server of
//! one's own at `base_url` (required then, such as the project's mock), and no real money.

mod api;
pub mod client;
mod codepay;
pub mod crypto;
mod notification;
pub mod settings;
mod wire;

use super::wallet;

pub use settings::Settings;

use super::{
    Ack, BuildContext, CodeAnswer, CodePayment, CreatedPayment, Notification, PaymentProvider, PaymentRef,
    PaymentRequest, PaymentState, ProviderError, RefundRef, RefundRequest, RefundState, Rejection, Reply,
    WalletOffer,
};
use crate::providers::settings::{Environment, Text};
use async_trait::async_trait;
use client::Client;
use crypto::WechatPayKeys;
use http::{HeaderMap, StatusCode};
use serde_json::json;
use std::{sync::Arc, time::Duration};
use url::Url;

/// The provider's name in configuration and routes; also its wallet's id.
pub const NAME: &str = "wechat_pay";

/// This provider in the registry of wallets (`providers::WALLETS`).
pub const WALLET: wallet::Wallet = wallet::Wallet {
    name: NAME,
    fields: &[
        wallet::field("environment", wallet::Kind::Environment),
        wallet::field("base_url", wallet::Kind::Url),
        wallet::field("mchid", wallet::Kind::Id),
        wallet::field("appid", wallet::Kind::Id),
        wallet::field("merchant_serial_no", wallet::Kind::Id),
        wallet::pem("merchant_private_key_pem", "merchant_private_key_file"),
        wallet::field("apiv3_key", wallet::Kind::Secret),
        wallet::field("wechatpay_public_key_id", wallet::Kind::Id),
        wallet::pem("wechatpay_public_key_pem", "wechatpay_public_key_file"),
    ],
    register_links: &["https://pay.weixin.qq.com"],
    register_items: 5,
    currencies: &["CNY"],
    fee_currency: "CNY",
    reference_label: "orders.ref_transaction_id",
    merge: |settings, values| wallet::merge_table(&mut settings.wechat_pay, values, Settings::apply),
    build: |settings, context| settings.wechat_pay.as_ref().map(|table| build(table, context)),
};
/// WeChat Pay's API host.
pub const LIVE_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The largest `amount.total` (a 32-bit integer of fen).
pub const MAX_TOTAL_FEN: u64 = i32::MAX as u64;
/// Default seconds one API call may take.
const DEFAULT_TIMEOUT_SECS: u64 = 10;

pub struct WechatPayProvider {
    client: Client,
    mchid: String,
    appid: String,
    apiv3_key: [u8; 32],
    live: bool,
    h5: bool,
    offer: WalletOffer,
    public_url: Option<Url>,
}

impl std::fmt::Debug for WechatPayProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayProvider")
            .field("client", &self.client)
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("apiv3_key", &"[redacted]")
            .field("live", &self.live)
            .field("h5", &self.h5)
            .finish()
    }
}

fn read_file(setting: &str, path: &Text) -> anyhow::Result<String> {
    std::fs::read_to_string(path.as_str())
        .map_err(|error| anyhow::anyhow!("{setting} {:?} cannot be read: {error}", path.as_str()))
}

fn required(setting: &str, value: &Text) -> anyhow::Result<String> {
    if value.as_str().is_empty() {
        anyhow::bail!("{setting} must not be empty");
    }
    Ok(value.as_str().to_owned())
}

fn flag(setting: &str, value: Option<&Text>, default: bool) -> anyhow::Result<bool> {
    match value.map(Text::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => anyhow::bail!("{setting}={other:?} must be true or false"),
    }
}

/// Builds the provider from its settings: reads the keys from their files and checks them (the
/// private key against the merchant certificate where one is given, WeChat Pay's keys against
/// the merchant's own), so that a wrong file stops the server at start, naming the setting.
pub fn build(settings: &Settings, context: &BuildContext) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    Ok(Arc::new(WechatPayProvider::new(settings, context)?))
}

impl WechatPayProvider {
    pub fn new(settings: &Settings, context: &BuildContext) -> anyhow::Result<Self> {
        let live = settings.environment == Environment::Live;
        let base = match (&settings.base_url, settings.environment) {
            (Some(url), _) => url.as_str().to_owned(),
            (None, Environment::Live) => LIVE_BASE_URL.to_owned(),
            (None, Environment::Sandbox) => anyhow::bail!(
                "base_url is required with environment = \"sandbox\": WeChat Pay has no APIv3 sandbox, so a test server of your own stands in"
            ),
        };
        let base = Url::parse(&base).map_err(|e| anyhow::anyhow!("base_url {base:?} is not a URL: {e}"))?;
        match base.scheme() {
            "https" => {}
            "http" if !live => {}
            _ => anyhow::bail!("base_url must be an https URL with environment = \"live\""),
        }
        if live && context.public_url.is_none() {
            anyhow::bail!(
                "public_url must be set: WeChat Pay sends its notifications to <public_url>/api/providers/wechat_pay/notify"
            );
        }
        let mchid = required("mchid", &settings.mchid)?;
        let appid = required("appid", &settings.appid)?;
        let serial_no = required("merchant_serial_no", &settings.merchant_serial_no)?.to_ascii_uppercase();
        let apiv3_key: [u8; 32] = settings.apiv3_key.expose().as_bytes().try_into().map_err(|_| {
            anyhow::anyhow!(
                "apiv3_key must be the 32 characters of the APIv3 key set in the merchant platform"
            )
        })?;

        let key_pem = match (&settings.merchant_private_key_pem, &settings.merchant_private_key_file) {
            (Some(pem), _) if !pem.expose().trim().is_empty() => pem.expose().to_owned(),
            (_, Some(path)) => read_file("merchant_private_key_file", path)?,
            _ => anyhow::bail!("merchant_private_key_file or merchant_private_key_pem is required"),
        };
        let key = crypto::private_key_from_pem(&key_pem)
            .map_err(|why| anyhow::anyhow!("merchant_private_key_file: {why}"))?;
        let merchant_public = key.to_public_key();
        if let Some(path) = &settings.merchant_certificate_file {
            let certificate = crypto::certificate_from_pem(&read_file("merchant_certificate_file", path)?)
                .map_err(|why| anyhow::anyhow!("merchant_certificate_file: {why}"))?;
            if certificate.key != merchant_public {
                anyhow::bail!("merchant_private_key_file is not the key of merchant_certificate_file");
            }
            if certificate.serial != serial_no {
                anyhow::bail!(
                    "merchant_serial_no {serial_no:?} is not the serial of merchant_certificate_file ({})",
                    certificate.serial
                );
            }
        }

        let mut keys = WechatPayKeys::default();
        let mut answer_serial = None;
        let public_key_pem = match (&settings.wechatpay_public_key_pem, &settings.wechatpay_public_key_file) {
            (Some(pem), _) if !pem.as_str().is_empty() => Some(pem.as_str().to_owned()),
            (_, Some(path)) => Some(read_file("wechatpay_public_key_file", path)?),
            _ => None,
        };
        match (&settings.wechatpay_public_key_id, public_key_pem) {
            (Some(id), Some(pem)) => {
                let id = required("wechatpay_public_key_id", id)?;
                if !id.starts_with("PUB_KEY_ID_") {
                    anyhow::bail!("wechatpay_public_key_id {id:?} must start with PUB_KEY_ID_");
                }
                let public = crypto::public_key_from_pem(&pem)
                    .map_err(|why| anyhow::anyhow!("wechatpay_public_key_file: {why}"))?;
                if public == merchant_public {
                    anyhow::bail!(
                        "wechatpay_public_key_file is the merchant's own public key, not WeChat Pay's"
                    );
                }
                keys.insert(id.clone(), public);
                answer_serial = Some(id);
            }
            (None, None) => {}
            (Some(_), None) => {
                anyhow::bail!("wechatpay_public_key_file is required with wechatpay_public_key_id")
            }
            (None, Some(_)) => {
                anyhow::bail!("wechatpay_public_key_id is required with wechatpay_public_key_file")
            }
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for path in settings.platform_certificate_files.iter().flat_map(|list| list.0.iter()) {
            let text = Text(path.clone());
            let certificate = crypto::certificate_from_pem(&read_file("platform_certificate_files", &text)?)
                .map_err(|why| anyhow::anyhow!("platform_certificate_files {path:?}: {why}"))?;
            if certificate.key == merchant_public {
                anyhow::bail!(
                    "platform_certificate_files {path:?} is the merchant's own certificate, not a WeChat Pay platform certificate"
                );
            }
            if certificate.not_after < now {
                tracing::warn!(provider = NAME, serial = %certificate.serial, "a configured WeChat Pay platform certificate has expired");
            }
            answer_serial.get_or_insert_with(|| certificate.serial.clone());
            keys.insert(certificate.serial, certificate.key);
        }
        if keys.is_empty() {
            anyhow::bail!(
                "WeChat Pay's key is missing: set wechatpay_public_key_id and wechatpay_public_key_file, or platform_certificate_files (or both while WeChat Pay migrates)"
            );
        }

        let timeout = match &settings.timeout_secs {
            None => DEFAULT_TIMEOUT_SECS,
            Some(text) => {
                text.as_str().parse::<u64>().ok().filter(|secs| (1..=120).contains(secs)).ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "timeout_secs={:?} must be a whole number of seconds from 1 to 120",
                            text.as_str()
                        )
                    },
                )?
            }
        };
        let offer = super::settings::offer(
            NAME,
            "WeChat Pay",
            settings.currencies.as_ref(),
            &["CNY"],
            settings.min_amount.as_ref(),
            settings.max_amount.as_ref(),
            MAX_TOTAL_FEN,
        )?;
        if offer.max_minor_units > MAX_TOTAL_FEN {
            anyhow::bail!("max_amount must not be more than {MAX_TOTAL_FEN} (the largest amount.total)");
        }
        let client = Client::new(
            base,
            mchid.clone(),
            serial_no,
            key,
            keys,
            answer_serial,
            Duration::from_secs(timeout),
        )?;
        Ok(Self {
            client,
            mchid,
            appid,
            apiv3_key,
            live,
            h5: flag("h5", settings.h5.as_ref(), true)?,
            offer,
            public_url: context.public_url.clone(),
        })
    }
}

#[async_trait]
impl PaymentProvider for WechatPayProvider {
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
        self.create_order(request).await
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        self.query_order(payment).await
    }

    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        self.close_order(payment).await
    }

    async fn charge_code(&self, payment: &CodePayment<'_>) -> Result<CodeAnswer, ProviderError> {
        self.codepay(payment).await
    }

    async fn reverse(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        self.reverse_order(payment).await
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        self.create_refund(refund).await
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        self.fetch_refund(refund).await
    }

    /// A notification is a small JSON envelope around one encrypted resource (about 1 KiB).
    fn max_notification_bytes(&self) -> usize {
        16 * 1024
    }

    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection> {
        self.read_notification(body, headers)
    }

    fn acknowledge(&self, ack: Ack) -> Reply {
        // Received: 200 or 204 with no body. Not received: 4XX or 5XX with
        // {"code": "FAIL", "message": ...}; WeChat Pay sends it again later.
        match ack {
            Ack::Accepted => Reply::empty(StatusCode::NO_CONTENT),
            Ack::Refused => Reply::json(
                StatusCode::BAD_REQUEST,
                &json!({ "code": "FAIL", "message": "notification refused" }),
            ),
            Ack::RetryLater => Reply::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({ "code": "FAIL", "message": "try again later" }),
            ),
        }
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        self.check_keys().await
    }
}
