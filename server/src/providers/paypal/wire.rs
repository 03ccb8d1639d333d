//! PayPal's JSON in the server's terms: amounts as PayPal writes them, orders, captures and
//! refunds as payment and refund states, and PayPal's error bodies as typed errors.

use super::settings::WHOLE_UNIT_CURRENCIES;
use crate::providers::{PaymentState, ProviderError, ProviderRefs, RefundState};
use serde_json::Value;
use wallet_checkout_contract::{Amount, Currency};

/// An amount as PayPal's `value` writes it: the currency's decimals, none for `JPY` (none in ISO
/// either) and for `HUF` and `TWD` (two in ISO, none at PayPal). An amount with a fraction of a
/// whole-unit currency cannot be sent (the offer leaves it out: `WalletOffer::whole_units_only`).
pub fn value_of(amount: &Amount) -> Result<String, ProviderError> {
    let currency = amount.currency();
    if WHOLE_UNIT_CURRENCIES.contains(&currency.as_str()) {
        let unit = 10u64.pow(currency.exponent());
        if !amount.minor_units().is_multiple_of(unit) {
            return Err(ProviderError::InvalidRequest(format!(
                "PayPal takes {currency} in whole units only, not {}",
                amount.to_decimal_string()
            )));
        }
        return Ok((amount.minor_units() / unit).to_string());
    }
    Ok(amount.to_decimal_string())
}

/// PayPal's `{"currency_code": "USD", "value": "10.00"}`.
pub fn money(amount: &Amount) -> Result<Value, ProviderError> {
    Ok(serde_json::json!({ "currency_code": amount.currency().as_str(), "value": value_of(amount)? }))
}

/// The amount a PayPal `money` object names, in minor units of the ISO currency (`"100"` HUF is
/// 10000 minor units). `None` for anything that is not an exact, non-negative amount.
pub fn amount_of(money: &Value) -> Option<Amount> {
    let currency = Currency::parse(money.get("currency_code")?.as_str()?).ok()?;
    let minor = currency.parse_decimal(money.get("value")?.as_str()?)?;
    Amount::new(minor, currency).ok()
}

/// A PayPal error body (`name`, `message`, `debug_id`, `details[]`), or an OAuth one (`error`,
/// `error_description`), as read from an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub name: String,
    pub message: String,
    pub issue: Option<String>,
    pub description: Option<String>,
    pub debug_id: Option<String>,
}

impl ApiError {
    pub fn from_body(status: u16, body: &Value) -> Self {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let detail = body.get("details").and_then(|d| d.get(0));
        Self {
            status,
            name: text(&body["name"]).or_else(|| text(&body["error"])).unwrap_or_default(),
            message: text(&body["message"]).or_else(|| text(&body["error_description"])).unwrap_or_default(),
            issue: detail.and_then(|d| text(&d["issue"])),
            description: detail.and_then(|d| text(&d["description"])),
            debug_id: text(&body["debug_id"]),
        }
    }

    /// The words for logs and `providers check`: PayPal's own, with its debug id (what PayPal's
    /// support asks for). Nothing secret is ever in an error body.
    pub fn describe(&self) -> String {
        let mut out = format!("HTTP {}", self.status);
        if !self.name.is_empty() {
            out.push_str(&format!(" {}", self.name));
        }
        if let Some(issue) = &self.issue {
            out.push_str(&format!(" ({issue}"));
            if let Some(description) = &self.description {
                out.push_str(&format!(": {description}"));
            }
            out.push(')');
        } else if !self.message.is_empty() {
            out.push_str(&format!(": {}", self.message));
        }
        if let Some(debug_id) = &self.debug_id {
            out.push_str(&format!(", debug_id {debug_id}"));
        }
        out
    }

    /// What the error means to the caller: PayPal's own failures and throttling can pass
    /// (`5xx`, `429`, and `409` "a previous call for the given resource is in progress"), an
    /// authentication or permission failure is the merchant's setup, a business refusal is a
    /// decline, anything else a request PayPal did not accept.
    pub fn into_provider_error(self) -> ProviderError {
        let words = self.describe();
        match self.status {
            500..=599 | 429 | 409 => ProviderError::Retryable(words),
            401 | 403 => ProviderError::Misconfigured(words),
            422 => ProviderError::Declined(words),
            _ => ProviderError::InvalidRequest(words),
        }
    }
}

/// The link of a HATEOAS list with this `rel`.
pub fn link<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body.get("links")?
        .as_array()?
        .iter()
        .find(|link| link.get("rel").and_then(Value::as_str) == Some(rel))?
        .get("href")?
        .as_str()
}

/// How an order stands. A `COMPLETED` order is read from its captures: "A completed order can
/// indicate a payment was authorized, an authorized payment was captured, or a payment was
/// declined" (the order status schema).
pub fn order_state(order: &Value) -> Result<PaymentState, ProviderError> {
    let status = order.get("status").and_then(Value::as_str).unwrap_or_default();
    Ok(match status {
        "CREATED" | "SAVED" | "PAYER_ACTION_REQUIRED" => PaymentState::Pending,
        "APPROVED" => PaymentState::Approved,
        "VOIDED" => PaymentState::Closed,
        "COMPLETED" => {
            let order_id = order.get("id").and_then(Value::as_str);
            let captures: Vec<&Value> = order
                .get("purchase_units")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|unit| unit.pointer("/payments/captures").and_then(Value::as_array))
                .flatten()
                .collect();
            let states: Vec<PaymentState> =
                captures.iter().map(|capture| capture_state(capture, order_id)).collect::<Result<_, _>>()?;
            // One capture per order with intent CAPTURE; should there be more, money that moved wins.
            states
                .iter()
                .find(|s| matches!(s, PaymentState::Succeeded { .. }))
                .or_else(|| states.iter().find(|s| matches!(s, PaymentState::Processing)))
                .or_else(|| states.first())
                .cloned()
                .ok_or_else(|| {
                    ProviderError::InvalidRequest("a completed PayPal order without a capture".into())
                })?
        }
        other => return Err(ProviderError::InvalidRequest(format!("unknown PayPal order status {other:?}"))),
    })
}

/// How a capture stands (`COMPLETED`, `DECLINED`, `PARTIALLY_REFUNDED`, `PENDING`, `REFUNDED`,
/// `FAILED`). A capture that was refunded later was still paid.
pub fn capture_state(capture: &Value, order_id: Option<&str>) -> Result<PaymentState, ProviderError> {
    let status = capture.get("status").and_then(Value::as_str).unwrap_or_default();
    let reason = capture.pointer("/status_details/reason").and_then(Value::as_str);
    Ok(match status {
        "COMPLETED" | "PARTIALLY_REFUNDED" | "REFUNDED" => {
            let capture_id = capture.get("id").and_then(Value::as_str).map(str::to_owned);
            PaymentState::Succeeded {
                refs: ProviderRefs {
                    order_id: order_id.map(str::to_owned).or_else(|| related_order_id(capture)),
                    transaction_id: capture_id.clone(),
                    capture_id,
                },
                paid: capture.get("amount").and_then(amount_of),
            }
        }
        "PENDING" => PaymentState::Processing,
        "DECLINED" | "FAILED" => PaymentState::Failed {
            reason: format!(
                "PayPal capture {status}{}",
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        },
        other => {
            return Err(ProviderError::InvalidRequest(format!("unknown PayPal capture status {other:?}")))
        }
    })
}

/// The order a capture belongs to: `supplementary_data.related_ids.order_id`, else its `up` link.
pub fn related_order_id(capture: &Value) -> Option<String> {
    if let Some(id) = capture.pointer("/supplementary_data/related_ids/order_id").and_then(Value::as_str) {
        return Some(id.to_owned());
    }
    let up = link(capture, "up")?;
    let (_, id) = up.rsplit_once("/v2/checkout/orders/")?;
    Some(id.trim_end_matches('/').to_owned())
}

/// How a refund stands (`CANCELLED`, `FAILED`, `PENDING`, `COMPLETED`).
pub fn refund_state(refund: &Value) -> Result<RefundState, ProviderError> {
    let id = refund.get("id").and_then(Value::as_str).map(str::to_owned);
    let status = refund.get("status").and_then(Value::as_str).unwrap_or_default();
    Ok(match status {
        "COMPLETED" => RefundState::Succeeded { provider_refund_id: id },
        "PENDING" => RefundState::Pending { provider_refund_id: id },
        "CANCELLED" | "FAILED" => {
            let reason = refund.pointer("/status_details/reason").and_then(Value::as_str);
            RefundState::Failed {
                reason: format!(
                    "PayPal refund {status}{}",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                ),
            }
        }
        other => {
            return Err(ProviderError::InvalidRequest(format!("unknown PayPal refund status {other:?}")))
        }
    })
}

/// The session a purchase unit belongs to: our `custom_id` (the session id), else its
/// `reference_id` (also the session id; PayPal writes `default` when none was given).
pub fn session_of_unit(unit: &Value) -> Option<String> {
    let text =
        |name: &str| unit.get(name).and_then(Value::as_str).filter(|v| !v.is_empty() && *v != "default");
    text("custom_id").or_else(|| text("reference_id")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn amount(minor: u64, code: &str) -> Amount {
        Amount::new(minor, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn values_carry_paypal_decimals_per_currency() {
        assert_eq!(value_of(&amount(1999, "USD")).unwrap(), "19.99");
        assert_eq!(value_of(&amount(5, "EUR")).unwrap(), "0.05");
        assert_eq!(value_of(&amount(500, "JPY")).unwrap(), "500");
        assert_eq!(value_of(&amount(680_000, "HUF")).unwrap(), "6800");
        assert_eq!(value_of(&amount(12_300, "TWD")).unwrap(), "123");
        assert!(value_of(&amount(680_050, "HUF")).is_err(), "a fraction of a forint cannot be sent");
    }

    #[test]
    fn paypal_values_read_back_into_minor_units() {
        let read = |code: &str, value: &str| amount_of(&json!({ "currency_code": code, "value": value }));
        assert_eq!(read("USD", "19.99"), Some(amount(1999, "USD")));
        assert_eq!(read("USD", "10"), Some(amount(1000, "USD")));
        assert_eq!(read("USD", "10.5"), Some(amount(1050, "USD")));
        assert_eq!(read("USD", "10.000"), Some(amount(1000, "USD")));
        assert_eq!(read("HUF", "6800"), Some(amount(680_000, "HUF")));
        assert_eq!(read("JPY", "500"), Some(amount(500, "JPY")));
        for (code, bad) in
            [("USD", "10.005"), ("USD", "-1.00"), ("USD", "1e3"), ("USD", ""), ("USD", "1."), ("XXX", "1")]
        {
            assert_eq!(read(code, bad), None, "{code} {bad}");
        }
    }

    #[test]
    fn a_completed_order_is_read_from_its_capture() {
        let order = |status: &str| {
            json!({ "id": "5O190127TN364715T", "status": "COMPLETED", "purchase_units": [{ "payments": { "captures": [
                { "id": "3C679366HH908993F", "status": status, "amount": { "currency_code": "USD", "value": "10.00" } }
            ] } }] })
        };
        match order_state(&order("COMPLETED")).unwrap() {
            PaymentState::Succeeded { refs, paid } => {
                assert_eq!(refs.capture_id.as_deref(), Some("3C679366HH908993F"));
                assert_eq!(refs.order_id.as_deref(), Some("5O190127TN364715T"));
                assert_eq!(paid, Some(amount(1000, "USD")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(order_state(&order("PENDING")).unwrap(), PaymentState::Processing);
        assert!(matches!(order_state(&order("DECLINED")).unwrap(), PaymentState::Failed { .. }));
        assert!(matches!(order_state(&order("FAILED")).unwrap(), PaymentState::Failed { .. }));
        assert!(matches!(order_state(&order("REFUNDED")).unwrap(), PaymentState::Succeeded { .. }));
        assert_eq!(order_state(&json!({ "status": "APPROVED" })).unwrap(), PaymentState::Approved);
        assert_eq!(
            order_state(&json!({ "status": "PAYER_ACTION_REQUIRED" })).unwrap(),
            PaymentState::Pending
        );
        assert_eq!(order_state(&json!({ "status": "VOIDED" })).unwrap(), PaymentState::Closed);
        assert!(order_state(&json!({ "status": "COMPLETED", "purchase_units": [{}] })).is_err());
    }

    #[test]
    fn error_bodies_become_typed_errors() {
        let body = json!({ "name": "UNPROCESSABLE_ENTITY", "message": "The requested action could not be performed.",
            "details": [{ "issue": "ORDER_NOT_APPROVED", "description": "Payer has not yet approved the Order for payment." }],
            "debug_id": "90957fca61718" });
        let error = ApiError::from_body(422, &body);
        assert_eq!(error.issue.as_deref(), Some("ORDER_NOT_APPROVED"));
        assert!(error.describe().contains("debug_id 90957fca61718"));
        assert!(matches!(error.into_provider_error(), ProviderError::Declined(_)));
        let oauth = ApiError::from_body(
            401,
            &json!({ "error": "invalid_client", "error_description": "Client Authentication failed" }),
        );
        assert_eq!(oauth.name, "invalid_client");
        assert!(matches!(oauth.into_provider_error(), ProviderError::Misconfigured(_)));
        assert!(matches!(
            ApiError::from_body(503, &Value::Null).into_provider_error(),
            ProviderError::Retryable(_)
        ));
        assert!(matches!(
            ApiError::from_body(409, &Value::Null).into_provider_error(),
            ProviderError::Retryable(_)
        ));
    }

    #[test]
    fn a_capture_names_its_order() {
        let capture = json!({ "links": [{ "rel": "up", "href": "https://api-m.paypal.com/v2/checkout/orders/1W5313654M9708630" }] });
        assert_eq!(related_order_id(&capture).as_deref(), Some("1W5313654M9708630"));
        let capture = json!({ "supplementary_data": { "related_ids": { "order_id": "0E62476010367481P" } } });
        assert_eq!(related_order_id(&capture).as_deref(), Some("0E62476010367481P"));
    }
}
