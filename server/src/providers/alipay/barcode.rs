//! 当面付 条码支付 (`alipay.trade.pay` with `scene=bar_code`): the till scans the code on the
//! shopper's phone, and `alipay.trade.cancel` undoes it. The facts, each with its source and what
//! stays uncertain, are in docs/providers/counter-flows.md.
//!
//! - `10000` is paid, `10003` the shopper confirming; `20000` and `ACQ.SYSTEM_ERROR` say nothing
//!   certain, nor does an answer that never came: the query settles them. The call is never
//!   repeated here (a second charge of a code is what must never happen), and no `notify_url` is
//!   sent: the till asks.
//! - A cancel answers `action` `close` (unpaid, closed) or `refund` (paid, given back); without an
//!   `action` Alipay found no trade, or wants the cancel again (`retry_flag` `Y`).

use super::{api::subject, wire::parse_yuan, wire::yuan, AlipayProvider};
use crate::providers::{CodeAnswer, CodePayment, PaymentRef, ProviderError, ProviderRefs};
use serde_json::json;

impl AlipayProvider {
    pub(super) async fn trade_pay(&self, payment: &CodePayment<'_>) -> Result<CodeAnswer, ProviderError> {
        let out_trade_no = payment.session_id.as_str();
        let mut biz = json!({
            "out_trade_no": out_trade_no,
            "scene": "bar_code",
            "auth_code": payment.auth_code,
            "subject": subject(payment.description),
            "total_amount": yuan(&payment.amount)?,
            "store_id": payment.store_id,
        });
        if let Some(device) = payment.device_id {
            biz["terminal_id"] = json!(device);
        }
        if let Some(seller_id) = &self.seller_id {
            biz["seller_id"] = json!(seller_id);
        }
        let reply = self.gateway.call("alipay.trade.pay", &biz.to_string(), &[]).await?;
        if reply.field("out_trade_no").is_some_and(|no| no != out_trade_no) {
            return Err(ProviderError::InvalidRequest("Alipay answered about another out_trade_no".into()));
        }
        match (reply.code.as_str(), reply.sub_code.as_deref().unwrap_or("")) {
            ("10000", _) => {
                let paid = reply
                    .field("total_amount")
                    .map(|text| {
                        parse_yuan(text).ok_or_else(|| {
                            ProviderError::InvalidRequest(format!(
                                "Alipay's total_amount {text:?} is not yuan"
                            ))
                        })
                    })
                    .transpose()?;
                let refs = ProviderRefs {
                    transaction_id: reply.field("trade_no").map(str::to_owned),
                    ..ProviderRefs::default()
                };
                Ok(CodeAnswer::Paid { refs, paid })
            }
            ("10003", _) => Ok(CodeAnswer::Confirming),
            // The number was used already, or its trade is final: the query says how it stands.
            ("40004", "ACQ.TRADE_HAS_SUCCESS" | "ACQ.TRADE_HAS_CLOSE" | "ACQ.CONTEXT_INCONSISTENT") => {
                Err(ProviderError::Retryable(format!(
                    "Alipay answered {}: ask how the payment stands",
                    reply.describe()
                )))
            }
            ("40004", sub_code)
                if sub_code.starts_with("ACQ.")
                    && !matches!(
                        sub_code,
                        "ACQ.SYSTEM_ERROR"
                            | "ACQ.INVALID_PARAMETER"
                            | "ACQ.ACCESS_FORBIDDEN"
                            | "ACQ.PARTNER_ERROR"
                    ) =>
            {
                let message = reply.body.get("sub_msg").and_then(|m| m.as_str()).unwrap_or_default();
                Ok(CodeAnswer::Declined { code: sub_code.to_owned(), message: message.to_owned() })
            }
            _ => Err(reply.error()),
        }
    }

    /// Cancels a code payment: unpaid, it is closed; paid, the money goes back to the shopper.
    pub(super) async fn cancel_trade(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let biz = json!({ "out_trade_no": payment.session_id.as_str() }).to_string();
        // Cancelling twice changes nothing more: safe to repeat.
        let reply = self.gateway.call_idempotent("alipay.trade.cancel", &biz).await?;
        if !reply.ok() {
            return match reply.sub_code.as_deref() {
                Some("ACQ.TRADE_NOT_EXIST") => Ok(()),
                _ => Err(reply.error()),
            };
        }
        if reply.field("retry_flag") == Some("Y") {
            return Err(ProviderError::Retryable("Alipay asks for the cancel again (retry_flag Y)".into()));
        }
        match reply.field("action") {
            Some("close" | "refund") => Ok(()),
            // No action: Alipay found no trade. Nothing was charged if the query finds none either.
            _ => {
                let query = self.gateway.call_idempotent("alipay.trade.query", &biz).await?;
                match (query.code.as_str(), query.sub_code.as_deref()) {
                    ("40004", Some("ACQ.TRADE_NOT_EXIST")) => Ok(()),
                    _ => Err(ProviderError::Retryable(format!(
                        "Alipay's cancel named no action, yet the trade is there ({}): cancel again",
                        query.describe()
                    ))),
                }
            }
        }
    }
}
