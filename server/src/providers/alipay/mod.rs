//! Alipay through the Open Platform's `gateway.do` API with RSA2 keys: a QR code of
//! `alipay.trade.precreate` (当面付) on desktops, or a redirect to `alipay.trade.page.pay`
//! (电脑网站支付) by configuration; a redirect to `alipay.trade.wap.pay` (手机网站支付) on
//! phones. Payments are followed with `alipay.trade.query`, closed with `alipay.trade.close`,
//! refunded with `alipay.trade.refund` (our refund id is Alipay's `out_request_no`) and
//! `alipay.trade.fastpay.refund.query`; notifications are form posts verified with Alipay's
//! public key and answered with exactly `success`.
//!
//! See `docs/providers/alipay.md` for the settings and how to register the app.

pub mod client;
pub mod crypto;
pub mod settings;

use super::wallet;

pub use settings::Settings;

use super::{
    Ack, CreatedPayment, Notice, Notification, PaymentProvider, PaymentRef, PaymentRequest, PaymentState,
    ProviderError, ProviderRefs, RefundRef, RefundRequest, RefundState, Rejection, WalletOffer,
};
use crate::domain::clock::wire_millis;
use async_trait::async_trait;
use axum::{
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use client::{gateway_time, parse_gateway_time, Gateway, Reply};
use serde_json::json;
use settings::DesktopFlow;
use std::sync::Arc;
use wallet_checkout_contract::{Amount, Currency, DeviceKind, NextAction, MAX_MINOR_UNITS};

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

/// Fen as Alipay's yuan with two places (`6800` → `"68.00"`); CNY only.
pub fn yuan(amount: &Amount) -> Result<String, ProviderError> {
    if amount.currency().as_str() != "CNY" {
        return Err(ProviderError::InvalidRequest(format!("Alipay takes CNY, not {}", amount.currency())));
    }
    Ok(format!("{}.{:02}", amount.minor_units() / 100, amount.minor_units() % 100))
}

/// Alipay's yuan (`"68.00"`, `"68.5"`, `"68"`) as a CNY amount, read as the contract reads
/// decimal amounts; `None` for anything else.
pub fn parse_yuan(text: &str) -> Option<Amount> {
    let cny = Currency::parse("CNY").ok()?;
    Amount::new(cny.parse_decimal(text)?, cny).ok()
}

/// A subject Alipay takes: no `/`, `=`, `&` (its docs forbid them), at most 256 characters.
fn subject(description: &str) -> String {
    let cleaned: String = description
        .chars()
        .map(|c| if matches!(c, '/' | '=' | '&') || c.is_control() { ' ' } else { c })
        .take(256)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "Order".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Whole minutes left until `expires_at` (at least 1), as `timeout_express` wants it.
fn minutes_left(expires_at: i64, now: i64) -> String {
    format!("{}m", ((expires_at - now + 59_999) / 60_000).max(1))
}

impl AlipayProvider {
    fn state_of(&self, reply: &Reply) -> Result<PaymentState, ProviderError> {
        let status = reply.field("trade_status").unwrap_or("");
        let refs = ProviderRefs {
            transaction_id: reply.field("trade_no").map(str::to_owned),
            ..ProviderRefs::default()
        };
        Ok(match status {
            "WAIT_BUYER_PAY" => PaymentState::Pending,
            "TRADE_SUCCESS" | "TRADE_FINISHED" => {
                let paid = reply.field("total_amount").map(|text| {
                    parse_yuan(text).ok_or_else(|| {
                        ProviderError::InvalidRequest(format!("Alipay's total_amount {text:?} is not yuan"))
                    })
                });
                PaymentState::Succeeded { refs, paid: paid.transpose()? }
            }
            "TRADE_CLOSED" => {
                // Closed unpaid, or paid and then refunded in full: the two look alike. A trade
                // that was paid has a payment date; it is reported closed all the same (the
                // money went back), and the payments layer never un-pays a paid session.
                if reply.field("send_pay_date").is_some() {
                    tracing::warn!(trade_no = ?refs.transaction_id, "Alipay trade closed after it was paid: refunded in full");
                }
                PaymentState::Closed
            }
            other => {
                return Err(ProviderError::InvalidRequest(format!(
                    "Alipay trade_status {other:?} is unknown"
                )))
            }
        })
    }

    fn notify_url(&self, public_base: &url::Url) -> Result<String, ProviderError> {
        public_base
            .join(&format!("api/providers/{NAME}/notify"))
            .map(|url| url.to_string())
            .map_err(|e| ProviderError::Misconfigured(format!("cannot build the notification URL: {e}")))
    }

    async fn refund_query(&self, refund: &RefundRef<'_>) -> Result<Option<RefundState>, ProviderError> {
        let biz = json!({
            "out_trade_no": refund.payment.session_id.as_str(),
            "out_request_no": refund.refund_id,
        })
        .to_string();
        let reply = self.gateway.call_idempotent("alipay.trade.fastpay.refund.query", &biz).await?;
        if !reply.ok() {
            return match reply.sub_code.as_deref() {
                Some("ACQ.TRADE_NOT_EXIST") => Ok(None),
                _ => Err(reply.error()),
            };
        }
        // Alipay: the refund succeeded when data comes back and refund_status is empty or
        // REFUND_SUCCESS; no data means no refund was made.
        if reply.field("refund_amount").is_none() && reply.field("out_request_no").is_none() {
            return Ok(None);
        }
        Ok(Some(match reply.field("refund_status") {
            None | Some("REFUND_SUCCESS") => {
                RefundState::Succeeded { provider_refund_id: Some(refund.refund_id.to_owned()) }
            }
            Some(_) => RefundState::Pending { provider_refund_id: Some(refund.refund_id.to_owned()) },
        }))
    }

    async fn ask_refund(
        &self,
        refund_id: &str,
        payment: &PaymentRef<'_>,
        amount: &Amount,
        reason: &str,
    ) -> Result<RefundState, ProviderError> {
        if amount.currency() != payment.amount.currency() {
            return Err(ProviderError::InvalidRequest("the refund's currency is not the payment's".into()));
        }
        let mut biz = json!({
            "out_trade_no": payment.session_id.as_str(),
            "refund_amount": yuan(amount)?,
            "out_request_no": refund_id,
        });
        let reason: String = reason.chars().take(256).collect();
        if !reason.trim().is_empty() {
            biz["refund_reason"] = json!(reason);
        }
        let reply = self.gateway.call("alipay.trade.refund", &biz.to_string(), &[]).await?;
        if !reply.ok() {
            return Err(reply.error());
        }
        if reply.field("fund_change") == Some("Y") {
            return Ok(RefundState::Succeeded { provider_refund_id: Some(refund_id.to_owned()) });
        }
        // `fund_change=N`: a repeat of a refund made before, or not settled yet. Alipay says to
        // ask the refund query.
        let query = RefundRef {
            refund_id,
            provider_refund_id: Some(refund_id),
            payment: payment.clone(),
            amount: *amount,
        };
        Ok(match self.refund_query(&query).await {
            Ok(Some(state)) => state,
            Ok(None) | Err(_) => RefundState::Pending { provider_refund_id: Some(refund_id.to_owned()) },
        })
    }
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
        let now = wire_millis();
        let notify_url = self.notify_url(request.public_base)?;
        let mut biz = json!({
            "out_trade_no": request.session_id.as_str(),
            "total_amount": yuan(&request.amount)?,
            "subject": subject(request.description),
            "timeout_express": minutes_left(request.expires_at, now),
            "time_expire": gateway_time(request.expires_at),
        });
        if let Some(seller_id) = &self.seller_id {
            biz["seller_id"] = json!(seller_id);
        }
        let return_url = request.return_url.as_str();
        let page = |method: &str, product_code: &str, biz: &mut serde_json::Value| {
            biz["product_code"] = json!(product_code);
            let extra = [("notify_url", notify_url.as_str()), ("return_url", return_url)];
            self.gateway.page_url(method, &biz.to_string(), &extra, now).to_string()
        };
        let next_action = match (request.device, self.desktop) {
            (DeviceKind::Mobile, _) => {
                biz["quit_url"] = json!(return_url);
                NextAction::Redirect { url: page("alipay.trade.wap.pay", "QUICK_WAP_WAY", &mut biz) }
            }
            (_, DesktopFlow::PagePay) => NextAction::Redirect {
                url: page("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY", &mut biz),
            },
            (_, DesktopFlow::Precreate) => {
                // The QR code's own validity counts from now (the trade's from the scan).
                biz["qr_code_timeout_express"] = biz["timeout_express"].clone();
                let reply = self
                    .gateway
                    .call("alipay.trade.precreate", &biz.to_string(), &[("notify_url", notify_url.as_str())])
                    .await?;
                if !reply.ok() {
                    return Err(reply.error());
                }
                if reply.field("out_trade_no").is_some_and(|no| no != request.session_id.as_str()) {
                    return Err(ProviderError::InvalidRequest(
                        "Alipay answered about another out_trade_no".into(),
                    ));
                }
                let qr_code = reply
                    .field("qr_code")
                    .ok_or_else(|| ProviderError::InvalidRequest("Alipay's answer has no qr_code".into()))?;
                NextAction::Qr { payload: qr_code.to_owned() }
            }
        };
        Ok(CreatedPayment { next_action, refs: ProviderRefs::default() })
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        let biz = json!({ "out_trade_no": payment.session_id.as_str() }).to_string();
        let reply = self.gateway.call_idempotent("alipay.trade.query", &biz).await?;
        if reply.ok() {
            return self.state_of(&reply);
        }
        match reply.sub_code.as_deref() {
            // The trade exists only once the shopper scanned the code (or opened the cashier).
            Some("ACQ.TRADE_NOT_EXIST") => Ok(PaymentState::Pending),
            _ => Err(reply.error()),
        }
    }

    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let biz = json!({ "out_trade_no": payment.session_id.as_str() }).to_string();
        let reply = self.gateway.call_idempotent("alipay.trade.close", &biz).await?;
        if reply.ok() {
            return Ok(());
        }
        match reply.sub_code.as_deref() {
            Some("ACQ.TRADE_NOT_EXIST") => {
                // Not scanned yet: there is no trade to close. The code's own validity
                // (`qr_code_timeout_express`, `time_expire`) ends with the session, and a payment
                // made in between is recorded and flagged for a refund by the payments layer.
                tracing::info!(session_id = %payment.session_id, "Alipay has no trade to close yet (the code was not scanned)");
                Ok(())
            }
            _ => Err(reply.error()),
        }
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
        let text =
            std::str::from_utf8(body).map_err(|_| Rejection::BadSignature("the body is not UTF-8".into()))?;
        let mut params: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in url::form_urlencoded::parse(text.as_bytes()) {
            if params.len() == MAX_NOTIFICATION_PARAMS {
                return Err(Rejection::Invalid(format!("more than {MAX_NOTIFICATION_PARAMS} parameters")));
            }
            if !seen.insert(key.clone()) {
                return Err(Rejection::BadSignature(format!("parameter {key} appears twice")));
            }
            params.push((key.into_owned(), value.into_owned()));
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .filter(|v| !v.is_empty())
        };
        let sign = get("sign").ok_or_else(|| Rejection::BadSignature("no sign".into()))?;
        if get("sign_type").is_some_and(|kind| kind != "RSA2") {
            return Err(Rejection::BadSignature("sign_type is not RSA2".into()));
        }
        let content = crypto::notification_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if !crypto::verify(self.gateway.alipay_key(), &content, sign) {
            return Err(Rejection::BadSignature(
                "the signature does not verify with Alipay's public key".into(),
            ));
        }
        let sent = get("notify_time")
            .and_then(parse_gateway_time)
            .ok_or_else(|| Rejection::BadSignature("no readable notify_time".into()))?;
        if (wire_millis() - sent).abs() > NOTIFICATION_TOLERANCE_MS {
            return Err(Rejection::BadSignature("notify_time is more than 5 minutes from now".into()));
        }
        if get("app_id") != Some(self.gateway.app_id.as_str()) {
            return Err(Rejection::Invalid(format!("app_id {:?} is not this app's", get("app_id"))));
        }
        if let Some(seller_id) = &self.seller_id {
            if get("seller_id") != Some(seller_id.as_str()) {
                return Err(Rejection::Invalid(format!(
                    "seller_id {:?} is not the merchant's",
                    get("seller_id")
                )));
            }
        }
        let id = get("notify_id").ok_or_else(|| Rejection::Invalid("no notify_id".into()))?.to_owned();
        if get("notify_type").is_some_and(|kind| kind != "trade_status_sync") {
            // Verified, about something this server does not act on.
            return Ok(Notification { id, notice: Notice::Ignored });
        }
        let out_trade_no =
            get("out_trade_no").ok_or_else(|| Rejection::Invalid("no out_trade_no".into()))?.to_owned();
        // A refund's notification names it (`out_biz_no`, our `out_request_no`) with the amount
        // refunded so far; a payment's may carry `refund_fee=0.00`.
        let refunded = get("refund_fee").and_then(parse_yuan).is_some_and(|fee| fee.minor_units() > 0);
        if let (Some(refund_id), true) = (get("out_biz_no"), refunded) {
            return Ok(Notification {
                id,
                notice: Notice::Refund {
                    refund_id: refund_id.to_owned(),
                    state: RefundState::Succeeded { provider_refund_id: Some(refund_id.to_owned()) },
                },
            });
        }
        let amount = get("total_amount")
            .map(|text| {
                parse_yuan(text)
                    .ok_or_else(|| Rejection::Invalid(format!("total_amount {text:?} is not yuan")))
            })
            .transpose()?
            .ok_or_else(|| Rejection::Invalid("no total_amount".into()))?;
        let state = match get("trade_status") {
            Some("WAIT_BUYER_PAY") => PaymentState::Pending,
            Some("TRADE_SUCCESS" | "TRADE_FINISHED") => PaymentState::Succeeded {
                refs: ProviderRefs {
                    transaction_id: get("trade_no").map(str::to_owned),
                    ..ProviderRefs::default()
                },
                paid: Some(amount),
            },
            Some("TRADE_CLOSED") => PaymentState::Closed,
            other => return Err(Rejection::Invalid(format!("trade_status {other:?} is unknown"))),
        };
        Ok(Notification {
            id,
            notice: Notice::Payment { session_id: out_trade_no, state, amount: Some(amount) },
        })
    }

    fn acknowledge(&self, ack: Ack) -> Response {
        let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        match ack {
            Ack::Accepted => (StatusCode::OK, plain, ACK_SUCCESS).into_response(),
            Ack::Refused => (StatusCode::BAD_REQUEST, plain, ACK_FAILURE).into_response(),
            Ack::RetryLater => (StatusCode::SERVICE_UNAVAILABLE, plain, ACK_FAILURE).into_response(),
        }
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        // A query for a trade that cannot exist: Alipay checks the app's signature and answers
        // ACQ.TRADE_NOT_EXIST, signed with its key, which is verified here.
        let probe = crate::domain::new_id("wc_check");
        let biz = json!({ "out_trade_no": probe }).to_string();
        let reply = self.gateway.call("alipay.trade.query", &biz, &[]).await?;
        match (reply.ok(), reply.sub_code.as_deref()) {
            (true, _) | (false, Some("ACQ.TRADE_NOT_EXIST")) => Ok(()),
            _ => Err(match reply.error() {
                ProviderError::Misconfigured(why) => ProviderError::Misconfigured(format!(
                    "Alipay refused the app ({why}): check app_id and that the app's public key uploaded to Alipay matches app_private_key_file"
                )),
                other => other,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(fen: u64) -> Amount {
        Amount::new(fen, Currency::parse("CNY").unwrap()).unwrap()
    }

    #[test]
    fn amounts_are_yuan_with_two_places() {
        assert_eq!(yuan(&cny(6800)).unwrap(), "68.00");
        assert_eq!(yuan(&cny(1)).unwrap(), "0.01");
        assert_eq!(yuan(&cny(123_456)).unwrap(), "1234.56");
        assert!(yuan(&Amount::new(100, Currency::parse("USD").unwrap()).unwrap()).is_err());
        assert_eq!(parse_yuan("68.00"), Some(cny(6800)));
        assert_eq!(parse_yuan("68.5"), Some(cny(6850)));
        assert_eq!(parse_yuan("68"), Some(cny(6800)));
        for bad in ["", "68.", "68.001", "-1.00", "1e3", "6 8.00", "68,00"] {
            assert_eq!(parse_yuan(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn subjects_and_timeouts_fit_alipay() {
        assert_eq!(subject("Tea & cups / 2 = set"), "Tea   cups   2   set");
        assert_eq!(subject("  "), "Order");
        assert_eq!(minutes_left(15 * 60_000, 0), "15m");
        assert_eq!(minutes_left(15 * 60_000 + 1, 0), "16m");
        assert_eq!(minutes_left(0, 10), "1m");
    }
}
