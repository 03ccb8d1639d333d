//! The calls this provider makes to PayPal's Orders v2 and Payments APIs: the order and its
//! approval link, its query and capture, refunds of the capture and their query, and the check of
//! the app and its webhook; with the ids that go into paths.

use super::{
    cancel_path,
    client::CallError,
    return_path,
    wire::{self, link, order_state, refund_state},
    PayPalProvider, EVENT_TYPES,
};
use crate::domain::text::truncate_bytes;
use crate::providers::{
    CreatedPayment, PaymentProvider, PaymentRef, PaymentRequest, PaymentState, ProviderError, ProviderRefs,
    RefundRef, RefundState,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;
use wallet_checkout_contract::NextAction;

/// Capture errors (`422`, `details[0].issue`) that are the shopper's payment failing, not an
/// error of the call: the session fails and the shopper can choose again.
const DECLINING_ISSUES: [&str; 12] = [
    "INSTRUMENT_DECLINED",
    "TRANSACTION_REFUSED",
    "PAYER_CANNOT_PAY",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
    "COMPLIANCE_VIOLATION",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
    "PAYER_ACCOUNT_RESTRICTED",
    "TRANSACTION_BLOCKED_BY_PAYEE",
    "PAYEE_BLOCKED_TRANSACTION",
    "TRANSACTION_LIMIT_EXCEEDED",
    "TRANSACTION_RECEIVING_LIMIT_EXCEEDED",
];

impl PayPalProvider {
    /// The order (intent `CAPTURE`, one purchase unit carrying the session id), and the PayPal
    /// page the shopper approves it on.
    pub(super) async fn create_order(
        &self,
        request: &PaymentRequest<'_>,
    ) -> Result<CreatedPayment, ProviderError> {
        let session = request.session_id.as_str();
        let url = |path: String| {
            request
                .public_base
                .join(&path)
                .map(String::from)
                .map_err(|e| ProviderError::Misconfigured(format!("cannot build the return URL: {e}")))
        };
        let mut experience = json!({
            "return_url": url(return_path(session))?,
            "cancel_url": url(cancel_path(session))?,
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        });
        if let Some(brand) = &self.brand_name {
            experience["brand_name"] = brand.as_str().into();
        }
        let mut unit = json!({
            "reference_id": session,
            "custom_id": session,
            "invoice_id": session,
            "amount": wire::money(&request.amount)?,
        });
        let description = truncate_bytes(request.description.trim(), 127);
        if !description.is_empty() {
            unit["description"] = description.into();
        }
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": { "paypal": { "experience_context": experience } },
        });
        let order = self
            .client
            .call(Method::POST, "/v2/checkout/orders", Some(&body.to_string()), Some(request.idempotency_key))
            .await
            .map_err(CallError::into_provider_error)?;
        let order_id = order
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::InvalidRequest("PayPal's order has no id".into()))?;
        path_safe(order_id)?;
        // With `payment_source.paypal.experience_context` the page is `payer-action`; older
        // integrations get `approve`.
        let approval = link(&order, "payer-action")
            .or_else(|| link(&order, "approve"))
            .ok_or_else(|| ProviderError::InvalidRequest("PayPal's order has no payer-action link".into()))?;
        let approval =
            Url::parse(approval).ok().filter(|u| matches!(u.scheme(), "https" | "http")).ok_or_else(
                || ProviderError::InvalidRequest("PayPal's payer-action link is not a web address".into()),
            )?;
        tracing::info!(session_id = %session, order_id, "PayPal order created");
        Ok(CreatedPayment {
            next_action: NextAction::Redirect { url: approval.into() },
            refs: ProviderRefs { order_id: Some(order_id.to_owned()), ..ProviderRefs::default() },
        })
    }

    /// The order's state, asked of PayPal.
    pub(super) async fn query_order(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        let order_id = Self::order_id(payment)?;
        match self.get_order(order_id).await {
            Ok(order) => order_state(&order),
            // An order PayPal no longer knows was never paid (it lapsed): closed.
            Err(error) if error.status() == Some(404) => Ok(PaymentState::Closed),
            Err(error) => Err(error.into_provider_error()),
        }
    }

    /// Captures the approved order once: `PayPal-Request-Id` is the same for every attempt of a
    /// session, so a second capture (the return and the webhook racing, a retry after a timeout)
    /// answers the first one's result. An order captured already is read back.
    pub(super) async fn capture_order(
        &self,
        payment: &PaymentRef<'_>,
    ) -> Result<PaymentState, ProviderError> {
        let order_id = Self::order_id(payment)?;
        let request_id = format!("capture-{}", payment.session_id);
        let answer = self
            .client
            .call(
                Method::POST,
                &format!("/v2/checkout/orders/{order_id}/capture"),
                Some("{}"),
                Some(&request_id),
            )
            .await;
        match answer {
            Ok(order) => {
                let state = order_state(&order)?;
                tracing::info!(session_id = %payment.session_id, order_id, ?state, "PayPal order captured");
                Ok(state)
            }
            Err(error) => match error.issue() {
                Some("ORDER_ALREADY_CAPTURED") => self.query(payment).await,
                Some("ORDER_NOT_APPROVED" | "PAYER_ACTION_REQUIRED") => Ok(PaymentState::Pending),
                Some("ORDER_COMPLETION_IN_PROGRESS") => Ok(PaymentState::Processing),
                Some(issue) if DECLINING_ISSUES.contains(&issue) => {
                    Ok(PaymentState::Failed { reason: format!("PayPal declined the capture ({issue})") })
                }
                _ => Err(error.into_provider_error()),
            },
        }
    }

    /// A refund's state, asked of PayPal (asked for again when PayPal never answered its id).
    pub(super) async fn get_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        let Some(id) = refund.provider_refund_id else {
            return self.post_refund(refund.refund_id, &refund.payment, &refund.amount, "").await;
        };
        let id = path_safe(id)?;
        let answer = self
            .client
            .call(Method::GET, &format!("/v2/payments/refunds/{id}"), None, None)
            .await
            .map_err(CallError::into_provider_error)?;
        refund_state(&answer)
    }

    /// A token (the client id and secret work), then the configured webhook: it exists for this
    /// app, points at this server's notification URL (when `public_url` is set) and is subscribed
    /// to every event the server acts on.
    pub(super) async fn check_app_and_webhook(&self) -> Result<(), ProviderError> {
        self.client.authenticate().await.map_err(|error| match error {
            CallError::Api(error) if matches!(error.status, 400 | 401) => ProviderError::Misconfigured(
                format!("PayPal refused client_id and client_secret: {}", error.describe()),
            ),
            other => other.into_provider_error(),
        })?;
        let webhook_id = path_safe(&self.webhook_id)?;
        let webhook = self
            .client
            .call(Method::GET, &format!("/v1/notifications/webhooks/{webhook_id}"), None, None)
            .await
            .map_err(|error| match error {
                CallError::Api(error) if error.status == 404 => ProviderError::Misconfigured(format!(
                    "webhook_id {webhook_id} is not a webhook of this PayPal app: {}",
                    error.describe()
                )),
                other => other.into_provider_error(),
            })?;
        if let Some(expected) = &self.notify_url {
            let registered = webhook.get("url").and_then(Value::as_str).unwrap_or_default();
            if registered != expected.as_str() {
                return Err(ProviderError::Misconfigured(format!(
                    "webhook {webhook_id} sends events to {registered:?}, not to {expected}"
                )));
            }
        }
        let subscribed: Vec<&str> = webhook
            .get("event_types")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|event| event.get("name").and_then(Value::as_str))
            .collect();
        if !subscribed.contains(&"*") {
            let missing: Vec<&str> =
                EVENT_TYPES.iter().copied().filter(|e| !subscribed.contains(e)).collect();
            if !missing.is_empty() {
                return Err(ProviderError::Misconfigured(format!(
                    "webhook {webhook_id} is not subscribed to {}",
                    missing.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The PayPal order of a payment, checked to be safe in a path (`^[A-Z0-9]+$` at PayPal).
    fn order_id<'a>(payment: &'a PaymentRef<'_>) -> Result<&'a str, ProviderError> {
        let id = payment
            .refs
            .order_id
            .as_deref()
            .ok_or_else(|| ProviderError::InvalidRequest("the payment has no PayPal order".into()))?;
        path_safe(id)
    }

    pub(super) async fn get_order(&self, order_id: &str) -> Result<Value, CallError> {
        self.client.call(Method::GET, &format!("/v2/checkout/orders/{order_id}"), None, None).await
    }

    /// Asks for a refund (again: the refund id is its `PayPal-Request-Id`, so a repeat returns the
    /// refund PayPal already made).
    pub(super) async fn post_refund(
        &self,
        refund_id: &str,
        payment: &PaymentRef<'_>,
        amount: &wallet_checkout_contract::Amount,
        reason: &str,
    ) -> Result<RefundState, ProviderError> {
        let capture_id = payment.refs.capture_id.as_deref().ok_or_else(|| {
            ProviderError::InvalidRequest("the payment has no PayPal capture to refund".into())
        })?;
        let capture_id = path_safe(capture_id)?;
        let mut body = json!({ "amount": wire::money(amount)?, "custom_id": refund_id });
        let note = truncate_bytes(reason.trim(), 255);
        if !note.is_empty() {
            body["note_to_payer"] = note.into();
        }
        let refund = self
            .client
            .call(
                Method::POST,
                &format!("/v2/payments/captures/{capture_id}/refund"),
                Some(&body.to_string()),
                Some(refund_id),
            )
            .await
            .map_err(CallError::into_provider_error)?;
        refund_state(&refund)
    }
}

/// An id that goes into a path: letters, digits, `-` and `_` (PayPal's are `^[A-Z0-9]+$`).
pub(super) fn path_safe(id: &str) -> Result<&str, ProviderError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(ProviderError::InvalidRequest(format!("{id:?} is not a PayPal id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths_are_checked() {
        assert!(path_safe("5O190127TN364715T").is_ok());
        for bad in ["", "../x", "a/b", "a?b", "a b", &"A".repeat(65)] {
            assert!(path_safe(bad).is_err(), "{bad}");
        }
    }
}
