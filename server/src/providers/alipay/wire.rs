//! Alipay's values in the server's terms: amounts as yuan with two places, and a trade's
//! `trade_status` (as `alipay.trade.query` answers it) as a payment state.

use super::{client::Reply, AlipayProvider};
use crate::providers::{PaymentState, ProviderError, ProviderRefs};
use wallet_checkout_contract::{Amount, Currency};

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

impl AlipayProvider {
    pub(super) fn state_of(&self, reply: &Reply) -> Result<PaymentState, ProviderError> {
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
}
