//! Alipay's notifications: form posts whose RSA2 signature is checked with Alipay's public key
//! over the parameters as sent, whose `notify_time` must be recent and whose app (and seller,
//! when set) must be this merchant's, read as a payment or refund notice.

use super::{
    client::parse_gateway_time, crypto, wire::parse_yuan, AlipayProvider, MAX_NOTIFICATION_PARAMS,
    NOTIFICATION_TOLERANCE_MS,
};
use crate::{
    domain::clock::wire_millis,
    providers::{Notice, Notification, PaymentState, ProviderRefs, RefundState, Rejection},
};

impl AlipayProvider {
    /// Verifies a notification on its raw body, then reads what it says.
    pub(super) fn read_notification(&self, body: &[u8]) -> Result<Notification, Rejection> {
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
}
