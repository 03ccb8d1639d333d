//! WeChat Pay's transactions and refund answers as its API writes them, and their states in the
//! server's terms: `trade_state` as a payment state, a refund's `status` as a refund state.

use super::WechatPayProvider;
use crate::providers::{PaymentState, ProviderRefs, RefundState};
use serde::Deserialize;
use wallet_checkout_contract::{Amount, Currency};

impl WechatPayProvider {
    /// The state of a transaction as the query or a notification describes it, after checking
    /// that it is this merchant's and this app's.
    pub(super) fn state_of(&self, transaction: &Transaction) -> Result<PaymentState, String> {
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

    pub(super) fn refund_state(refund: &RefundAnswer) -> RefundState {
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
}

#[derive(Debug, Deserialize)]
pub(super) struct Transaction {
    #[serde(default)]
    appid: String,
    #[serde(default)]
    mchid: String,
    /// Absent from a code payment's "the shopper is confirming" answer, as all but `trade_state`.
    #[serde(default)]
    pub(super) out_trade_no: String,
    transaction_id: Option<String>,
    pub(super) trade_state: String,
    trade_state_desc: Option<String>,
    amount: Option<TransactionAmount>,
}

#[derive(Debug, Deserialize)]
struct TransactionAmount {
    total: Option<u64>,
    currency: Option<String>,
}

impl Transaction {
    pub(super) fn amount(&self) -> Result<Amount, String> {
        let amount = self.amount.as_ref().ok_or("no amount")?;
        let total = amount.total.ok_or("no amount.total")?;
        let currency = Currency::parse(amount.currency.as_deref().unwrap_or("CNY"))
            .map_err(|_| "amount.currency is not a currency".to_owned())?;
        Amount::new(total, currency).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RefundAnswer {
    pub(super) refund_id: Option<String>,
    pub(super) out_refund_no: String,
    pub(super) status: String,
}
