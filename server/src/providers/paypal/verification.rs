//! PayPal's check of a webhook transmission: the `PAYPAL-*` headers read, and the postback
//! (`POST /v1/notifications/verify-webhook-signature`) carrying the event exactly as received.

use super::{client::CallError, PayPalProvider};
use crate::providers::Rejection;
use http::HeaderMap;
use reqwest::Method;
use serde_json::Value;

impl PayPalProvider {
    /// The postback: PayPal checks the transmission's signature over the event exactly as it was
    /// received. The event is put into the request as the raw bytes that came (never parsed and
    /// written again: re-serialising reorders keys, rewrites `1.0` as `1` or `\/` as `/`, and the
    /// check then fails, as PayPal's own SDK issues report).
    pub(super) async fn verify_with_paypal(
        &self,
        headers: &Transmission<'_>,
        raw_event: &str,
    ) -> Result<(), Rejection> {
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
}

/// The `PAYPAL-*` headers of a webhook transmission.
pub(super) struct Transmission<'a> {
    id: &'a str,
    pub(super) time: &'a str,
    signature: &'a str,
    cert_url: &'a str,
    auth_algo: &'a str,
}

impl<'a> Transmission<'a> {
    pub(super) fn read(headers: &'a HeaderMap) -> Result<Self, Rejection> {
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
}
