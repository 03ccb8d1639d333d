//! WeChat Pay API v3 for direct merchants (普通商户): Native payment (a QR code of `code_url`) on
//! desktop, H5 payment (a redirect to `h5_url`) in mobile browsers, the order query and close,
//! refunds and their query, and the payment and refund notifications, verified with WeChat Pay's
//! public key or platform certificates and decrypted with the APIv3 key.
//!
//! `environment`: WeChat Pay has no APIv3 sandbox. `live` (the default) talks to
//! `https://api.mch.weixin.qq.com` (or `base_url`) with real money; `sandbox` means a test server of
//! one's own at `base_url` (required then, such as the project's mock), and no real money.

pub mod client;
pub mod crypto;
pub mod settings;

use super::wallet;

pub use settings::Settings;

use super::{
    Ack, BuildContext, CreatedPayment, Notice, Notification, PaymentProvider, PaymentRef, PaymentRequest,
    PaymentState, ProviderError, ProviderRefs, RefundRef, RefundRequest, RefundState, Rejection, WalletOffer,
};
use crate::providers::settings::{Environment, Text};
use async_trait::async_trait;
use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use client::Client;
use crypto::{SignedHeaders, WechatPayKeys};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use std::{sync::Arc, time::Duration};
use url::Url;
use wallet_checkout_contract::{Amount, Currency, DeviceKind, NextAction, RETURN_SESSION_PARAM};

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
/// `description` is at most 127 (bytes: a count in characters is then met too).
const MAX_DESCRIPTION_BYTES: usize = 127;
/// `reason` of a refund is at most 80.
const MAX_REASON_BYTES: usize = 80;
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

    fn notify_url(&self, public_base: &Url) -> Result<String, ProviderError> {
        let base = self.public_url.as_ref().unwrap_or(public_base);
        let mut url = base
            .join(&format!("api/providers/{NAME}/notify"))
            .map_err(|e| ProviderError::Misconfigured(format!("cannot build the notification URL: {e}")))?;
        // WeChat Pay refuses a notify_url with a query.
        url.set_query(None);
        url.set_fragment(None);
        Ok(url.to_string())
    }

    fn order_path(out_trade_no: &str) -> String {
        format!("v3/pay/transactions/out-trade-no/{}", path_segment(out_trade_no))
    }

    fn total(amount: &Amount) -> Result<i64, ProviderError> {
        if amount.minor_units() > MAX_TOTAL_FEN {
            return Err(ProviderError::InvalidRequest("the amount is more than WeChat Pay takes".into()));
        }
        Ok(amount.minor_units() as i64)
    }

    /// The state of a transaction as the query or a notification describes it, after checking
    /// that it is this merchant's and this app's.
    fn state_of(&self, transaction: &Transaction) -> Result<PaymentState, String> {
        if transaction.mchid != self.mchid {
            return Err(format!("mchid {:?} is not this merchant's", transaction.mchid));
        }
        if transaction.appid != self.appid {
            return Err(format!("appid {:?} is not this merchant's app", transaction.appid));
        }
        Ok(match transaction.trade_state.as_str() {
            "NOTPAY" | "USERPAYING" => PaymentState::Pending,
            "ACCEPT" => PaymentState::Processing,
            // REFUND: paid, then (partly) refunded: the payment itself succeeded.
            "SUCCESS" | "REFUND" => PaymentState::Succeeded {
                refs: ProviderRefs {
                    transaction_id: transaction.transaction_id.clone(),
                    ..ProviderRefs::default()
                },
                paid: Some(transaction.amount()?),
            },
            "CLOSED" | "REVOKED" => PaymentState::Closed,
            "PAYERROR" => PaymentState::Failed {
                reason: format!("PAYERROR: {}", transaction.trade_state_desc.as_deref().unwrap_or("")),
            },
            other => return Err(format!("unknown trade_state {other:?}")),
        })
    }

    fn refund_state(refund: &RefundAnswer) -> RefundState {
        let id = refund.refund_id.clone();
        match refund.status.as_str() {
            "SUCCESS" => RefundState::Succeeded { provider_refund_id: id },
            "PROCESSING" => RefundState::Pending { provider_refund_id: id },
            "CLOSED" => RefundState::Failed { reason: "WeChat Pay closed the refund (CLOSED)".into() },
            "ABNORMAL" => RefundState::Failed {
                reason:
                    "the refund could not reach the shopper (ABNORMAL): handle it in the merchant platform"
                        .into(),
            },
            other => RefundState::Failed { reason: format!("unknown refund status {other:?}") },
        }
    }

    fn decrypt(&self, resource: &Resource) -> Result<Vec<u8>, Rejection> {
        if resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(Rejection::Invalid(format!("unknown algorithm {:?}", resource.algorithm)));
        }
        crypto::decrypt_resource(
            &self.apiv3_key,
            &resource.nonce,
            resource.associated_data.as_deref().unwrap_or(""),
            &resource.ciphertext,
        )
        .map_err(Rejection::Invalid)
    }
}

/// `out_trade_no` and `out_refund_no` are letters, digits and `_-|*@`: they go into a path as
/// they are, anything else percent-encoded.
fn path_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// RFC 3339 in China's time (`2018-06-08T10:34:56+08:00`), as WeChat Pay's examples write it.
fn china_time(millis: i64) -> Result<String, ProviderError> {
    let offset =
        time::UtcOffset::from_hms(8, 0, 0).map_err(|e| ProviderError::InvalidRequest(e.to_string()))?;
    let t = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .map_err(|e| ProviderError::InvalidRequest(e.to_string()))?
        .to_offset(offset);
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

#[derive(Debug, Deserialize)]
struct Transaction {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    mchid: String,
    out_trade_no: String,
    transaction_id: Option<String>,
    trade_state: String,
    trade_state_desc: Option<String>,
    amount: Option<TransactionAmount>,
}

#[derive(Debug, Deserialize)]
struct TransactionAmount {
    total: Option<u64>,
    currency: Option<String>,
}

impl Transaction {
    fn amount(&self) -> Result<Amount, String> {
        let amount = self.amount.as_ref().ok_or("no amount")?;
        let total = amount.total.ok_or("no amount.total")?;
        let currency = Currency::parse(amount.currency.as_deref().unwrap_or("CNY"))
            .map_err(|_| "amount.currency is not a currency".to_owned())?;
        Amount::new(total, currency).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Deserialize)]
struct RefundAnswer {
    refund_id: Option<String>,
    out_refund_no: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource_type: Option<String>,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    associated_data: Option<String>,
    nonce: String,
}

#[derive(Debug, Deserialize)]
struct RefundResource {
    mchid: String,
    out_trade_no: Option<String>,
    out_refund_no: String,
    refund_id: Option<String>,
    refund_status: String,
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
        let h5 = self.h5 && request.device == DeviceKind::Mobile;
        let out_trade_no = request.session_id.as_str();
        let description = match truncate_bytes(request.description.trim(), MAX_DESCRIPTION_BYTES) {
            "" => out_trade_no,
            text => text,
        };
        let mut body = json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "description": description,
            "out_trade_no": out_trade_no,
            "time_expire": china_time(request.expires_at)?,
            "notify_url": self.notify_url(request.public_base)?,
            "amount": { "total": Self::total(&request.amount)?, "currency": request.amount.currency().as_str() },
        });
        if h5 {
            body["scene_info"] = json!({
                "payer_client_ip": request.client_ip.to_string(),
                "h5_info": { "type": "Wap" },
            });
        }
        let path = if h5 { "v3/pay/transactions/h5" } else { "v3/pay/transactions/native" };
        let answer = self.client.call(Method::POST, path, Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        #[derive(Deserialize)]
        struct Created {
            code_url: Option<String>,
            h5_url: Option<String>,
        }
        let created: Created = answer.json()?;
        let next_action = if h5 {
            let h5_url = created
                .h5_url
                .filter(|url| Url::parse(url).is_ok())
                .ok_or_else(|| ProviderError::InvalidRequest("WeChat Pay answered no h5_url".into()))?;
            // WeChat Pay's page sends the shopper back to `redirect_url` when it is appended: the
            // store page, naming the session so that the widget picks it up again.
            let back = request.return_url.with_param(RETURN_SESSION_PARAM, out_trade_no);
            let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
            let joiner = if h5_url.contains('?') { '&' } else { '?' };
            NextAction::Redirect { url: format!("{h5_url}{joiner}redirect_url={back}") }
        } else {
            let code_url = created
                .code_url
                .filter(|url| !url.is_empty())
                .ok_or_else(|| ProviderError::InvalidRequest("WeChat Pay answered no code_url".into()))?;
            NextAction::Qr { payload: code_url }
        };
        Ok(CreatedPayment { next_action, refs: ProviderRefs::default() })
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        let path =
            format!("{}?mchid={}", Self::order_path(payment.session_id.as_str()), path_segment(&self.mchid));
        let answer = self.client.call_idempotent(Method::GET, &path, None).await?;
        if answer.status == StatusCode::NOT_FOUND && answer.code() == "ORDER_NOT_EXIST" {
            // No such order at WeChat Pay: it can never be paid.
            return Ok(PaymentState::Closed);
        }
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        let transaction: Transaction = answer.json()?;
        if transaction.out_trade_no != payment.session_id.as_str() {
            return Err(ProviderError::InvalidRequest(format!(
                "WeChat Pay answered about out_trade_no {:?}",
                transaction.out_trade_no
            )));
        }
        self.state_of(&transaction).map_err(ProviderError::InvalidRequest)
    }

    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let path = format!("{}/close", Self::order_path(payment.session_id.as_str()));
        let answer =
            self.client.call_idempotent(Method::POST, &path, Some(&json!({ "mchid": self.mchid }))).await?;
        match (answer.status.as_u16(), answer.code().as_str()) {
            (200..=299, _) => Ok(()),
            // Never created there: nothing to close.
            (404, "ORDER_NOT_EXIST") => Ok(()),
            _ => Err(answer.error()),
        }
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        let payment = &refund.payment;
        let mut body = json!({
            "out_refund_no": refund.refund_id,
            "notify_url": self.notify_url(refund.public_base)?,
            "amount": {
                "refund": Self::total(&refund.amount)?,
                "total": Self::total(&payment.amount)?,
                "currency": payment.amount.currency().as_str(),
            },
        });
        match &payment.refs.transaction_id {
            Some(id) => body["transaction_id"] = json!(id),
            None => body["out_trade_no"] = json!(payment.session_id.as_str()),
        }
        let reason = truncate_bytes(refund.reason.trim(), MAX_REASON_BYTES);
        if !reason.is_empty() {
            body["reason"] = json!(reason);
        }
        let answer = self.client.call(Method::POST, "v3/refund/domestic/refunds", Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        let answer: RefundAnswer = answer.json()?;
        if answer.out_refund_no != refund.refund_id {
            return Err(ProviderError::InvalidRequest(format!(
                "WeChat Pay answered about out_refund_no {:?}",
                answer.out_refund_no
            )));
        }
        Ok(Self::refund_state(&answer))
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        let path = format!("v3/refund/domestic/refunds/{}", path_segment(refund.refund_id));
        let answer = self.client.call_idempotent(Method::GET, &path, None).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        let answer: RefundAnswer = answer.json()?;
        if answer.out_refund_no != refund.refund_id {
            return Err(ProviderError::InvalidRequest(format!(
                "WeChat Pay answered about out_refund_no {:?}",
                answer.out_refund_no
            )));
        }
        Ok(Self::refund_state(&answer))
    }

    /// A notification is a small JSON envelope around one encrypted resource (about 1 KiB).
    fn max_notification_bytes(&self) -> usize {
        16 * 1024
    }

    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection> {
        let value = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let signed = SignedHeaders {
            timestamp: value("Wechatpay-Timestamp"),
            nonce: value("Wechatpay-Nonce"),
            signature: value("Wechatpay-Signature"),
            serial: value("Wechatpay-Serial"),
        };
        self.client
            .keys()
            .verify(&signed, body, time::OffsetDateTime::now_utc().unix_timestamp())
            .map_err(|why| Rejection::BadSignature(why.to_string()))?;
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| Rejection::Invalid(format!("the body cannot be read: {e}")))?;
        if envelope.resource_type.as_deref().is_some_and(|kind| kind != "encrypt-resource") {
            return Err(Rejection::Invalid("resource_type is not encrypt-resource".into()));
        }
        let notice = match envelope.event_type.as_str() {
            "TRANSACTION.SUCCESS" => {
                let plain = self.decrypt(&envelope.resource)?;
                let transaction: Transaction = serde_json::from_slice(&plain)
                    .map_err(|e| Rejection::Invalid(format!("the transaction cannot be read: {e}")))?;
                let state = self.state_of(&transaction).map_err(Rejection::Invalid)?;
                let amount = transaction.amount().map_err(Rejection::Invalid)?;
                Notice::Payment { session_id: transaction.out_trade_no, state, amount: Some(amount) }
            }
            "REFUND.SUCCESS" | "REFUND.ABNORMAL" | "REFUND.CLOSED" => {
                let plain = self.decrypt(&envelope.resource)?;
                let refund: RefundResource = serde_json::from_slice(&plain)
                    .map_err(|e| Rejection::Invalid(format!("the refund cannot be read: {e}")))?;
                if refund.mchid != self.mchid {
                    return Err(Rejection::Invalid(format!(
                        "mchid {:?} is not this merchant's",
                        refund.mchid
                    )));
                }
                let state = Self::refund_state(&RefundAnswer {
                    refund_id: refund.refund_id,
                    out_refund_no: refund.out_refund_no.clone(),
                    status: refund.refund_status,
                });
                tracing::debug!(out_trade_no = ?refund.out_trade_no, out_refund_no = %refund.out_refund_no, "WeChat Pay refund notification");
                Notice::Refund { refund_id: refund.out_refund_no, state }
            }
            _ => Notice::Ignored,
        };
        Ok(Notification { id: envelope.id, notice })
    }

    fn acknowledge(&self, ack: Ack) -> Response {
        // Received: 200 or 204 with no body. Not received: 4XX or 5XX with
        // {"code": "FAIL", "message": ...}; WeChat Pay sends it again later.
        match ack {
            Ack::Accepted => StatusCode::NO_CONTENT.into_response(),
            Ack::Refused => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "code": "FAIL", "message": "notification refused" })),
            )
                .into_response(),
            Ack::RetryLater => (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({ "code": "FAIL", "message": "try again later" })),
            )
                .into_response(),
        }
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        // The query of an order that was never made: harmless, authenticated, and its signed
        // answer (404 ORDER_NOT_EXIST) proves both directions of the keys.
        let probe = format!("wccheck{}", time::OffsetDateTime::now_utc().unix_timestamp());
        let path = format!("{}?mchid={}", Self::order_path(&probe), path_segment(&self.mchid));
        let answer = self.client.call(Method::GET, &path, None).await?;
        match (answer.status.as_u16(), answer.code().as_str()) {
            (200..=299, _) | (404, "ORDER_NOT_EXIST") => Ok(()),
            _ => Err(answer.error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_expire_is_rfc3339_in_china_time() {
        // 2018-06-08T02:34:56Z
        assert_eq!(china_time(1_528_425_296_000).unwrap(), "2018-06-08T10:34:56+08:00");
    }

    #[test]
    fn descriptions_are_cut_at_127_bytes_on_a_character_boundary() {
        let long = "微".repeat(60);
        let cut = truncate_bytes(&long, MAX_DESCRIPTION_BYTES);
        assert_eq!(cut.len(), 126);
        assert_eq!(truncate_bytes("Teapot", MAX_DESCRIPTION_BYTES), "Teapot");
    }
}
