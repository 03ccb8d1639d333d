//! 付款码支付 (`POST /v3/pay/transactions/codepay`): the till scans the code on the shopper's
//! phone, and the payment is undone with *reverse* (a code payment cannot be closed). The facts,
//! each with its source and what stays uncertain, are in docs/providers/counter-flows.md.
//!
//! - There is no notification and no `notify_url` (APIv3 refuses fields a call does not define):
//!   the merchant asks with the usual query by `out_trade_no`.
//! - "The shopper is confirming" comes three ways: HTTP 202 (its body `{"trade_state":
//!   "USERPAYING"}`), a 200 whose `trade_state` is `USERPAYING`, or an error code `USERPAYING`.
//! - The call is never repeated here: a second charge of a code is what must never happen. An
//!   answer that did not come, or a server error, is an unknown outcome for the query to settle.
//! - Error codes are compared without underscores, since WeChat Pay spells them both ways
//!   (`NOT_ENOUGH`, `NOTENOUGH`).

use super::{wire::Transaction, WechatPayProvider};
use crate::domain::text::truncate_bytes;
use crate::providers::{CodeAnswer, CodePayment, PaymentRef, PaymentState, ProviderError};
use http::StatusCode;
use reqwest::Method;
use serde_json::json;

/// `description` is at most 127 bytes, `store_info.out_id` and `device_id` at most 32.
const MAX_DESCRIPTION_BYTES: usize = 127;

impl WechatPayProvider {
    pub(super) async fn codepay(&self, payment: &CodePayment<'_>) -> Result<CodeAnswer, ProviderError> {
        let out_trade_no = payment.session_id.as_str();
        let description = match truncate_bytes(payment.description.trim(), MAX_DESCRIPTION_BYTES) {
            "" => out_trade_no,
            text => text,
        };
        let mut scene = json!({
            "store_info": { "out_id": payment.store_id },
            "device_ip": payment.device_ip.to_string(),
        });
        if let Some(device) = payment.device_id {
            scene["device_id"] = json!(device);
        }
        let body = json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "description": description,
            "out_trade_no": out_trade_no,
            "payer": { "auth_code": payment.auth_code },
            "amount": { "total": Self::total(&payment.amount)?, "currency": payment.amount.currency().as_str() },
            "scene_info": scene,
        });
        let answer = self.client.call(Method::POST, "v3/pay/transactions/codepay", Some(&body)).await?;
        if answer.status == StatusCode::ACCEPTED {
            return Ok(CodeAnswer::Confirming);
        }
        if answer.status.is_success() {
            let transaction: Transaction = answer.json()?;
            if transaction.trade_state == "USERPAYING" {
                return Ok(CodeAnswer::Confirming);
            }
            if transaction.out_trade_no != out_trade_no {
                return Err(ProviderError::InvalidRequest(format!(
                    "WeChat Pay answered about out_trade_no {:?}",
                    transaction.out_trade_no
                )));
            }
            return match self.state_of(&transaction).map_err(ProviderError::InvalidRequest)? {
                PaymentState::Succeeded { refs, paid } => Ok(CodeAnswer::Paid { refs, paid }),
                PaymentState::Failed { reason } => {
                    Ok(CodeAnswer::Declined { code: "PAYERROR".into(), message: reason })
                }
                other => Err(ProviderError::InvalidRequest(format!(
                    "WeChat Pay answered a code payment with {other:?}"
                ))),
            };
        }
        let code = answer.code().replace('_', "");
        match code.as_str() {
            "USERPAYING" => Ok(CodeAnswer::Confirming),
            // The number was used, or the order is already final: the query says how it stands.
            "ORDERPAID" | "ORDERCLOSED" | "ORDERREVERSED" | "OUTTRADENOUSED" => Err(
                ProviderError::Retryable(format!("WeChat Pay answered {code}: ask how the payment stands")),
            ),
            "NOTENOUGH" | "AUTHCODEINVALID" | "AUTHCODEEXPIRE" | "AUTHCODEERROR" | "NOTSUPORTCARD"
            | "TRADEERROR" | "BUYERMISMATCH" | "RULELIMIT" | "ACCOUNTERROR" => {
                let body: super::client::ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
                Ok(CodeAnswer::Declined { code: body.code, message: body.message })
            }
            _ => Err(answer.error()),
        }
    }

    /// Reverses a code payment: unpaid, it is closed; paid, the money goes back to the shopper.
    pub(super) async fn reverse_order(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let path = format!("{}/reverse", Self::order_path(payment.session_id.as_str()));
        let body = json!({ "appid": self.appid, "mchid": self.mchid });
        // Reversing twice changes nothing more: safe to repeat.
        let answer = self.client.call_idempotent(Method::POST, &path, Some(&body)).await?;
        match (answer.status.as_u16(), answer.code().replace('_', "").as_str()) {
            (200..=299, _) => Ok(()),
            // Never created there: nothing was charged.
            (404, "ORDERNOTEXIST") => Ok(()),
            (_, "USERPAYING") => Err(ProviderError::Retryable(
                "WeChat Pay refuses to reverse while the shopper is confirming: ask again, then reverse"
                    .into(),
            )),
            _ => Err(answer.error()),
        }
    }
}
