//! PayPal's webhook events: the transmission's time checked and PayPal's verification asked,
//! then what a verified event says, in the server's terms (the session found through the order
//! when the event does not name it).

use super::{
    api::path_safe,
    verification::Transmission,
    wire::{self, refund_state, session_of_unit},
    PayPalProvider, TRANSMISSION_TOLERANCE_MS,
};
use crate::{
    domain::{clock::wire_millis, parse_instant},
    providers::{Notice, Notification, PaymentState, ProviderRefs, Rejection},
};
use http::HeaderMap;
use serde_json::Value;

impl PayPalProvider {
    /// Verifies a webhook on its raw body and headers, then reads what it says.
    pub(super) async fn read_notification(
        &self,
        body: &[u8],
        headers: &HeaderMap,
    ) -> Result<Notification, Rejection> {
        let transmission = Transmission::read(headers)?;
        let sent_at = parse_instant(transmission.time)
            .ok_or_else(|| Rejection::BadSignature("PAYPAL-TRANSMISSION-TIME is not a time".into()))?;
        if (wire_millis() - sent_at).abs() > TRANSMISSION_TOLERANCE_MS {
            return Err(Rejection::BadSignature(format!(
                "the transmission time {} is more than 5 minutes from now",
                transmission.time
            )));
        }
        // Only a JSON object can be spliced into the postback unchanged.
        let raw =
            std::str::from_utf8(body).map_err(|_| Rejection::BadSignature("the body is not UTF-8".into()))?;
        let event: Value =
            serde_json::from_str(raw).map_err(|_| Rejection::BadSignature("the body is not JSON".into()))?;
        if !event.is_object() {
            return Err(Rejection::BadSignature("the body is not a JSON object".into()));
        }
        self.verify_with_paypal(&transmission, raw).await?;

        let id = event
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Rejection::Invalid("the event has no id".into()))?;
        let event_type = event.get("event_type").and_then(Value::as_str).unwrap_or_default();
        let notice = self.notice_of(event_type, &event["resource"]).await?;
        tracing::info!(event = id, event_type, "PayPal webhook verified");
        Ok(Notification { id: id.to_owned(), notice })
    }

    /// The session an order belongs to, asked of PayPal (its purchase unit carries our id), for
    /// events that do not carry it themselves.
    async fn session_of_order(&self, order_id: &str) -> Result<String, Rejection> {
        let order_id = path_safe(order_id).map_err(|e| Rejection::Invalid(e.to_string()))?;
        match self.get_order(order_id).await {
            Ok(order) => order
                .pointer("/purchase_units/0")
                .and_then(session_of_unit)
                .ok_or_else(|| Rejection::Invalid(format!("PayPal order {order_id} carries no session id"))),
            Err(error) if error.status() == Some(404) => {
                Err(Rejection::Invalid(format!("PayPal knows no order {order_id}")))
            }
            Err(error) => Err(Rejection::Unavailable(format!(
                "PayPal could not say whose order {order_id} is: {}",
                error.into_provider_error()
            ))),
        }
    }

    /// What a verified event says, in the server's terms.
    async fn notice_of(&self, event_type: &str, resource: &Value) -> Result<Notice, Rejection> {
        Ok(match event_type {
            "CHECKOUT.ORDER.APPROVED" | "CHECKOUT.PAYMENT-APPROVAL.REVERSED" => {
                let unit = resource.pointer("/purchase_units/0");
                let session_id = match unit.and_then(session_of_unit) {
                    Some(id) => id,
                    None => {
                        let order_id = resource
                            .get("id")
                            .or_else(|| resource.get("order_id"))
                            .and_then(Value::as_str)
                            .ok_or_else(|| Rejection::Invalid("the event names no order".into()))?;
                        self.session_of_order(order_id).await?
                    }
                };
                let state = if event_type == "CHECKOUT.ORDER.APPROVED" {
                    PaymentState::Approved
                } else {
                    PaymentState::Failed {
                        reason: "PayPal reversed the approval (not captured in time)".into(),
                    }
                };
                let amount = unit.and_then(|u| u.get("amount")).and_then(wire::amount_of);
                Notice::Payment { session_id, state, amount }
            }
            "PAYMENT.CAPTURE.COMPLETED"
            | "PAYMENT.CAPTURE.PENDING"
            | "PAYMENT.CAPTURE.DENIED"
            | "PAYMENT.CAPTURE.DECLINED" => {
                let order_id = wire::related_order_id(resource);
                let session_id =
                    match resource.get("custom_id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                        Some(id) => id.to_owned(),
                        None => {
                            let order_id = order_id.as_deref().ok_or_else(|| {
                                Rejection::Invalid("the capture names neither session nor order".into())
                            })?;
                            self.session_of_order(order_id).await?
                        }
                    };
                let capture_id = resource.get("id").and_then(Value::as_str).map(str::to_owned);
                let amount = resource.get("amount").and_then(wire::amount_of);
                let state = match event_type {
                    "PAYMENT.CAPTURE.COMPLETED" => PaymentState::Succeeded {
                        refs: ProviderRefs { order_id, transaction_id: capture_id.clone(), capture_id },
                        paid: amount,
                    },
                    "PAYMENT.CAPTURE.PENDING" => PaymentState::Processing,
                    _ => PaymentState::Failed { reason: format!("PayPal: {event_type}") },
                };
                Notice::Payment { session_id, state, amount }
            }
            "PAYMENT.CAPTURE.REFUNDED" => {
                // The resource is the refund; ours carry our refund id as `custom_id`. A refund made
                // elsewhere (PayPal's dashboard) is none of ours: noted, not acted on.
                match resource.get("custom_id").and_then(Value::as_str).filter(|id| id.starts_with("ref_")) {
                    Some(refund_id) => Notice::Refund {
                        refund_id: refund_id.to_owned(),
                        state: refund_state(resource).map_err(|e| Rejection::Invalid(e.to_string()))?,
                    },
                    None => {
                        tracing::info!(refund = ?resource.get("id"), "a PayPal refund not made by this server");
                        Notice::Ignored
                    }
                }
            }
            "PAYMENT.CAPTURE.REVERSED" => {
                tracing::warn!(
                    refund = ?resource.get("id"),
                    "PayPal reversed a payment (a chargeback or a dispute): see the PayPal account"
                );
                Notice::Ignored
            }
            _ => Notice::Ignored,
        })
    }
}
