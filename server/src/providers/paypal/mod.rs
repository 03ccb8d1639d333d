//! PayPal, through the Orders v2 REST API: an order per session (`intent=CAPTURE`, one purchase
//! unit whose `custom_id`, `reference_id` and `invoice_id` are the session id), the shopper sent
//! to PayPal's `payer-action` page and back to this server (`routes::paypal`), where the
//! approved order is captured through the payments layer; webhooks verified by PayPal itself
//! (`POST /v1/notifications/verify-webhook-signature`); refunds of the capture.
//!
//! PayPal orders cannot be closed: an order that is never captured lapses at PayPal. `close` does
//! nothing, and the payments layer never captures a session that is no longer pending or past its
//! expiry, so an approval that comes late is recorded and flagged, and no money moves.

mod client;
pub mod settings;

use super::wallet;
mod wire;

pub use settings::Settings;

use self::{
    client::{CallError, Client},
    wire::{link, order_state, refund_state, session_of_unit},
};
use super::{
    settings::Environment, Ack, BuildContext, CreatedPayment, Notice, Notification, PaymentProvider,
    PaymentRef, PaymentRequest, PaymentState, ProviderError, ProviderRefs, RefundRef, RefundRequest,
    RefundState, Rejection, WalletOffer,
};
use crate::domain::{clock::wire_millis, parse_instant};
use async_trait::async_trait;
use axum::{
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use url::Url;
use wallet_checkout_contract::{NextAction, MAX_MINOR_UNITS};

/// The provider's name in configuration, routes and logs.
pub const NAME: &str = "paypal";

/// This provider in the registry of wallets (`providers::WALLETS`).
pub const WALLET: wallet::Wallet = wallet::Wallet {
    name: NAME,
    fields: &[
        wallet::field("environment", wallet::Kind::Environment),
        wallet::field("base_url", wallet::Kind::Url),
        wallet::field("client_id", wallet::Kind::Id),
        wallet::field("client_secret", wallet::Kind::Secret),
        wallet::field("webhook_id", wallet::Kind::Id),
    ],
    register_links: &[
        "https://www.paypal.com/business",
        "https://developer.paypal.com/dashboard/applications",
    ],
    register_items: 4,
    currencies: &settings::DEFAULT_CURRENCIES,
    fee_currency: "USD",
    reference_label: "orders.ref_transaction",
    merge: |settings, values| wallet::merge_table(&mut settings.paypal, values, Settings::apply),
    build: |settings, context| settings.paypal.as_ref().map(|table| build(table, context)),
};
/// The wallet it offers.
pub const WALLET_ID: &str = "paypal";

/// The webhook events this server acts on; the webhook must be subscribed to each.
pub const EVENT_TYPES: [&str; 8] = [
    "CHECKOUT.ORDER.APPROVED",
    "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
    "PAYMENT.CAPTURE.REFUNDED",
    "PAYMENT.CAPTURE.REVERSED",
];

/// A webhook whose `PAYPAL-TRANSMISSION-TIME` is further than this from now is refused (a replay,
/// or a clock that is wrong).
pub const TRANSMISSION_TOLERANCE_MS: i64 = 300_000;

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

/// Where PayPal sends the shopper after approving, below the server's public base URL.
pub fn return_path(session_id: &str) -> String {
    format!("api/providers/{NAME}/return/{session_id}")
}

/// Where PayPal sends the shopper who cancels on its page.
pub fn cancel_path(session_id: &str) -> String {
    format!("api/providers/{NAME}/cancel/{session_id}")
}

pub struct PayPalProvider {
    client: Client,
    environment: Environment,
    webhook_id: String,
    brand_name: Option<String>,
    offer: WalletOffer,
    /// The notification URL the webhook must point at (`public_url` known), for `self_check`.
    notify_url: Option<Url>,
}

impl std::fmt::Debug for PayPalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalProvider")
            .field("client", &self.client)
            .field("environment", &self.environment)
            .field("webhook_id", &self.webhook_id)
            .finish_non_exhaustive()
    }
}

/// Builds the provider from `[providers.paypal]`; a bad setting is an error naming it.
pub fn build(settings: &Settings, context: &BuildContext) -> anyhow::Result<Arc<dyn PaymentProvider>> {
    Ok(Arc::new(PayPalProvider::new(settings, context)?))
}

impl PayPalProvider {
    pub fn new(settings: &Settings, context: &BuildContext) -> anyhow::Result<Self> {
        settings.check()?;
        let mut offer = super::settings::offer(
            WALLET_ID,
            "PayPal",
            settings.currencies.as_ref(),
            &settings::DEFAULT_CURRENCIES,
            settings.min_amount.as_ref(),
            settings.max_amount.as_ref(),
            MAX_MINOR_UNITS,
        )?;
        offer.whole_units_only = settings::WHOLE_UNIT_CURRENCIES.iter().map(|c| (*c).to_owned()).collect();
        let notify_url = match &context.public_url {
            Some(base) => Some(
                base.join(&format!("api/providers/{NAME}/notify"))
                    .map_err(|e| anyhow::anyhow!("public_url cannot take the notification path: {e}"))?,
            ),
            None => None,
        };
        Ok(Self {
            client: Client::new(
                settings.base_url()?,
                settings.client_id.as_str().to_owned(),
                settings.client_secret.clone(),
                settings.timeout()?,
                context.clock.clone(),
            )?,
            environment: settings.environment,
            webhook_id: settings.webhook_id.as_str().to_owned(),
            brand_name: settings.brand_name.as_ref().map(|b| b.as_str().to_owned()),
            offer,
            notify_url,
        })
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

    async fn get_order(&self, order_id: &str) -> Result<Value, CallError> {
        self.client.call(Method::GET, &format!("/v2/checkout/orders/{order_id}"), None, None).await
    }

    /// Asks for a refund (again: the refund id is its `PayPal-Request-Id`, so a repeat returns the
    /// refund PayPal already made).
    async fn post_refund(
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
        let note = wire::truncate(reason.trim(), 255);
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

    /// The postback: PayPal checks the transmission's signature over the event exactly as it was
    /// received. The event is put into the request as the raw bytes that came (never parsed and
    /// written again: re-serialising reorders keys, rewrites `1.0` as `1` or `\/` as `/`, and the
    /// check then fails, as PayPal's own SDK issues report).
    async fn verify_with_paypal(&self, headers: &Transmission<'_>, raw_event: &str) -> Result<(), Rejection> {
        let body = postback_body(headers, &self.webhook_id, raw_event);
        let answer = self
            .client
            .call(Method::POST, "/v1/notifications/verify-webhook-signature", Some(&body), None)
            .await;
        match answer {
            Ok(answer) => match answer.get("verification_status").and_then(Value::as_str) {
                Some("SUCCESS") => Ok(()),
                other => Err(Rejection::BadSignature(format!(
                    "PayPal did not verify the transmission ({})",
                    other.unwrap_or("no verification_status")
                ))),
            },
            // PayPal refused the request itself: what was sent does not make a transmission.
            Err(CallError::Api(error)) if matches!(error.status, 400 | 422) => Err(Rejection::BadSignature(
                format!("PayPal refused the verification request: {}", error.describe()),
            )),
            // Down, slow, or this server's credentials or webhook id are wrong: PayPal should
            // send the event again later.
            Err(error) => Err(Rejection::Unavailable(format!(
                "PayPal could not verify the webhook now: {}",
                error.into_provider_error()
            ))),
        }
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

/// An id that goes into a path: letters, digits, `-` and `_` (PayPal's are `^[A-Z0-9]+$`).
fn path_safe(id: &str) -> Result<&str, ProviderError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(ProviderError::InvalidRequest(format!("{id:?} is not a PayPal id")))
    }
}

/// The `PAYPAL-*` headers of a webhook transmission.
struct Transmission<'a> {
    id: &'a str,
    time: &'a str,
    signature: &'a str,
    cert_url: &'a str,
    auth_algo: &'a str,
}

impl<'a> Transmission<'a> {
    fn read(headers: &'a HeaderMap) -> Result<Self, Rejection> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Rejection::BadSignature(format!("no {} header", name.to_ascii_uppercase())))
        };
        Ok(Self {
            id: get("paypal-transmission-id")?,
            time: get("paypal-transmission-time")?,
            signature: get("paypal-transmission-sig")?,
            cert_url: get("paypal-cert-url")?,
            auth_algo: get("paypal-auth-algo")?,
        })
    }
}

/// The body of `POST /v1/notifications/verify-webhook-signature`, with the event spliced in as
/// the exact text received.
fn postback_body(transmission: &Transmission<'_>, webhook_id: &str, raw_event: &str) -> String {
    let text = |value: &str| Value::String(value.to_owned()).to_string();
    format!(
        "{{\"auth_algo\":{},\"cert_url\":{},\"transmission_id\":{},\"transmission_sig\":{},\"transmission_time\":{},\"webhook_id\":{},\"webhook_event\":{raw_event}}}",
        text(transmission.auth_algo),
        text(transmission.cert_url),
        text(transmission.id),
        text(transmission.signature),
        text(transmission.time),
        text(webhook_id),
    )
}

#[async_trait]
impl PaymentProvider for PayPalProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn offers(&self) -> Vec<WalletOffer> {
        vec![self.offer.clone()]
    }

    fn livemode(&self) -> bool {
        self.environment == Environment::Live
    }

    async fn create(&self, request: &PaymentRequest<'_>) -> Result<CreatedPayment, ProviderError> {
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
        let description = wire::truncate(request.description.trim(), 127);
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

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        let order_id = Self::order_id(payment)?;
        match self.get_order(order_id).await {
            Ok(order) => order_state(&order),
            // An order PayPal no longer knows was never paid (it lapsed): closed.
            Err(error) if error.status() == Some(404) => Ok(PaymentState::Closed),
            Err(error) => Err(error.into_provider_error()),
        }
    }

    /// PayPal has no call to void an order of intent `CAPTURE`: an uncaptured approval lapses.
    /// Nothing to do; the session is canceled or expired here, so it is never captured.
    async fn close(&self, _payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Captures the approved order once: `PayPal-Request-Id` is the same for every attempt of a
    /// session, so a second capture (the return and the webhook racing, a retry after a timeout)
    /// answers the first one's result. An order captured already is read back.
    async fn capture(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
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

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        self.post_refund(refund.refund_id, &refund.payment, &refund.amount, refund.reason).await
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
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

    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection> {
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

    /// PayPal counts any `2xx` as delivered and sends anything else again (up to 25 times over 3
    /// days).
    fn acknowledge(&self, ack: Ack) -> Response {
        match ack {
            Ack::Accepted => StatusCode::OK.into_response(),
            Ack::Refused => (StatusCode::BAD_REQUEST, "refused").into_response(),
            Ack::RetryLater => (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response(),
        }
    }

    /// A token (the client id and secret work), then the configured webhook: it exists for this
    /// app, points at this server's notification URL (when `public_url` is set) and is subscribed
    /// to every event the server acts on.
    async fn self_check(&self) -> Result<(), ProviderError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postback_carries_the_event_byte_for_byte() {
        // Keys out of order, `\/`, `\u00e9` and `1.0`: each would change if the event were parsed
        // and written again (PayPal-node-SDK#412, PayPal-Python-SDK#196), and PayPal would then
        // answer FAILURE.
        let raw = r#"{"id":"WH-1","resource":{"links":[{"href":"https:\/\/api.sandbox.paypal.com"}],"amount":1.0,"note":"caf\u00e9"},"event_type":"X"}"#;
        let transmission = Transmission {
            id: "dfb3be50-fd74-11e4-8bf3-77339302725b",
            time: "2015-05-18T15:45:13Z",
            signature: "c2ln\"",
            cert_url: "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
            auth_algo: "SHA256withRSA",
        };
        let body = postback_body(&transmission, "4JH86294D6297924G", raw);
        assert!(body.ends_with(&format!(",\"webhook_event\":{raw}}}")));
        let parsed: Value = serde_json::from_str(&body).expect("the postback is JSON");
        assert_eq!(parsed["transmission_sig"], "c2ln\"", "header values are escaped");
        assert_eq!(parsed["webhook_id"], "4JH86294D6297924G");
        assert_eq!(parsed["webhook_event"]["id"], "WH-1");
    }

    #[test]
    fn ids_in_paths_are_checked() {
        assert!(path_safe("5O190127TN364715T").is_ok());
        for bad in ["", "../x", "a/b", "a?b", "a b", &"A".repeat(65)] {
            assert!(path_safe(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn return_and_cancel_paths_come_back_to_this_server() {
        let base = Url::parse("https://pay.shop.example/").unwrap();
        assert_eq!(
            base.join(&return_path("ses_1")).unwrap().as_str(),
            "https://pay.shop.example/api/providers/paypal/return/ses_1"
        );
        assert_eq!(
            base.join(&cancel_path("ses_1")).unwrap().as_str(),
            "https://pay.shop.example/api/providers/paypal/cancel/ses_1"
        );
    }
}
