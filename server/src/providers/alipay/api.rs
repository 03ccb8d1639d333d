//! The calls this provider makes to Alipay's gateway: the payment (a precreated QR code, or the
//! page of the web or mobile cashier), the trade's query and close, refunds and their query, and
//! the check of the app's keys (`providers check`); with the subject and the minutes left as
//! Alipay takes them.

use super::{client::gateway_time, settings::DesktopFlow, wire::yuan, AlipayProvider, NAME};
use crate::{
    domain::clock::wire_millis,
    providers::{
        CreatedPayment, PaymentRef, PaymentRequest, PaymentState, ProviderError, ProviderRefs, RefundRef,
        RefundState,
    },
};
use serde_json::json;
use wallet_checkout_contract::{Amount, DeviceKind, NextAction};

/// A subject Alipay takes: no `/`, `=`, `&` (its docs forbid them), at most 256 characters.
pub(super) fn subject(description: &str) -> String {
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
    /// The payment: on a phone, a redirect to the mobile cashier; on a desktop, a QR code of
    /// `alipay.trade.precreate` or a redirect to the web cashier, by configuration.
    pub(super) async fn create_trade(
        &self,
        request: &PaymentRequest<'_>,
    ) -> Result<CreatedPayment, ProviderError> {
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

    /// The trade's state, asked with `alipay.trade.query`.
    pub(super) async fn query_trade(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
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

    /// Closes the trade with `alipay.trade.close`.
    pub(super) async fn close_trade(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
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

    /// One harmless authenticated call, which proves the app's keys work both ways
    /// (`wallet-checkout-server providers check`).
    pub(super) async fn check_app(&self) -> Result<(), ProviderError> {
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

    fn notify_url(&self, public_base: &url::Url) -> Result<String, ProviderError> {
        public_base
            .join(&format!("api/providers/{NAME}/notify"))
            .map(|url| url.to_string())
            .map_err(|e| ProviderError::Misconfigured(format!("cannot build the notification URL: {e}")))
    }

    pub(super) async fn refund_query(
        &self,
        refund: &RefundRef<'_>,
    ) -> Result<Option<RefundState>, ProviderError> {
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

    pub(super) async fn ask_refund(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_timeouts_fit_alipay() {
        assert_eq!(subject("Tea & cups / 2 = set"), "Tea   cups   2   set");
        assert_eq!(subject("  "), "Order");
        assert_eq!(minutes_left(15 * 60_000, 0), "15m");
        assert_eq!(minutes_left(15 * 60_000 + 1, 0), "16m");
        assert_eq!(minutes_left(0, 10), "1m");
    }
}
