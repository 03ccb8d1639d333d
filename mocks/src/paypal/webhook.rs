//! Webhooks as PayPal sends them, and PayPal's check of them.
//!
//! A transmission is signed with RSA-SHA256 (PKCS#1 v1.5) over
//! `<transmission id>|<transmission time>|<webhook id>|<CRC-32 of the raw body, unsigned decimal>`
//! with the key of the certificate at `PAYPAL-CERT-URL`. `verify-webhook-signature` recomputes
//! that over the event exactly as it is posted back: an event that was parsed and written again
//! (keys reordered, `\/` unescaped) fails, as it fails at PayPal.

use super::{api, now_text, paypal_id, random_hex, Delivery, State};
use axum::{
    body::Bytes,
    extract::{Path, State as Shared},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::Engine;
use rsa::{
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    signature::{SignatureEncoding, Signer, Verifier},
    RsaPrivateKey,
};
use serde::Deserialize;
use serde_json::{json, value::RawValue, Value};
use sha2::Sha256;
use std::sync::Arc;

/// The algorithm PayPal names in `PAYPAL-AUTH-ALGO`.
pub const AUTH_ALGO: &str = "SHA256withRSA";

/// CRC-32 (IEEE 802.3, the zlib one) of `bytes`, as PayPal puts it into the signed message.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// The signing key and its self-signed certificate (PEM), made at start.
pub(super) fn key_and_certificate(keys: crate::Keys) -> anyhow::Result<(RsaPrivateKey, String)> {
    use std::str::FromStr;
    use x509_cert::{
        builder::{Builder, CertificateBuilder, Profile},
        der::{pem::LineEnding, EncodePem},
        name::Name,
        serial_number::SerialNumber,
        spki::SubjectPublicKeyInfoOwned,
        time::Validity,
    };
    let key = keys.rsa(crate::KeyRole::PayPalWebhook);
    let signer = SigningKey::<Sha256>::new(key.clone());
    let subject = Name::from_str("CN=messageverificationcerts.sandbox.paypal.com,O=PayPal Mock,C=US")?;
    let public_key = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())?;
    let validity = Validity::from_now(std::time::Duration::from_secs(365 * 86_400))?;
    let certificate = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::from(1u32),
        validity,
        subject,
        public_key,
        &signer,
    )?
    .build::<Signature>()?;
    Ok((key, certificate.to_pem(LineEnding::LF)?))
}

/// JSON as PayPal's webhooks write it, not as serde_json would: object keys in reverse order of
/// the alphabet (any order but the sorted one), `/` escaped as `\/`, non-ASCII as `\uXXXX`. A
/// receiver that parses and re-serialises the event sends PayPal other bytes.
fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| b.cmp(a));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_json(&map[key], out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An event envelope in PayPal's field order around `resource`.
pub(super) fn event_body(state: &State, event_type: &str, resource_type: &str, resource: &Value) -> String {
    let id = format!("WH-{}-{}", paypal_id(), paypal_id());
    let summary = match event_type {
        "CHECKOUT.ORDER.APPROVED" => "An order has been approved by buyer".to_owned(),
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED" => "A payment has been reversed after approval.".to_owned(),
        "PAYMENT.CAPTURE.REFUNDED" => "A payment was refunded".to_owned(),
        _ => match (resource.pointer("/amount/value"), resource.pointer("/amount/currency_code")) {
            (Some(Value::String(value)), Some(Value::String(currency))) => {
                format!(
                    "Payment {} for {value} {currency}",
                    event_type.rsplit('.').next().unwrap_or("").to_lowercase()
                )
            }
            _ => event_type.to_owned(),
        },
    };
    let created = time::OffsetDateTime::now_utc();
    let create_time = format!("{}.{:03}Z", now_text().trim_end_matches('Z'), created.millisecond());
    let events = format!("{}/v1/notifications/webhooks-events/{id}", state.base);
    let links = json!([
        { "href": events, "rel": "self", "method": "GET" },
        { "href": format!("{events}/resend"), "rel": "resend", "method": "POST" },
    ]);
    let fields = [
        ("id", Value::from(id)),
        ("event_version", "1.0".into()),
        ("create_time", create_time.into()),
        ("resource_type", resource_type.into()),
        ("resource_version", "2.0".into()),
        ("event_type", event_type.into()),
        ("summary", summary.into()),
        ("resource", resource.clone()),
        ("links", links),
    ];
    let mut out = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(name, &mut out);
        out.push(':');
        write_json(value, &mut out);
    }
    out.push('}');
    out
}

/// `PAYPAL-TRANSMISSION-ID`, `-TIME`, `-SIG`, `PAYPAL-CERT-URL`, `PAYPAL-AUTH-ALGO` for `body`.
pub(super) fn transmission_headers(
    state: &State,
    body: &str,
    webhook_id: &str,
    transmission_time: &str,
) -> Vec<(String, String)> {
    let transmission_id =
        format!("{}-{}-{}-{}-{}", random_hex(8), random_hex(4), random_hex(4), random_hex(4), random_hex(12));
    let message = format!("{transmission_id}|{transmission_time}|{webhook_id}|{}", crc32(body.as_bytes()));
    let signature = SigningKey::<Sha256>::new(state.key.clone()).sign(message.as_bytes());
    vec![
        ("PAYPAL-TRANSMISSION-ID".into(), transmission_id),
        ("PAYPAL-TRANSMISSION-TIME".into(), transmission_time.to_owned()),
        (
            "PAYPAL-TRANSMISSION-SIG".into(),
            base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        ),
        ("PAYPAL-CERT-URL".into(), state.cert_url.clone()),
        ("PAYPAL-AUTH-ALGO".into(), AUTH_ALGO.into()),
    ]
}

/// Sends an event about `resource` to the webhook, when one is registered and subscribed to it
/// (in the background, as PayPal does).
pub(super) fn send(state: &Arc<State>, event_type: &str, resource_type: &str, resource: &Value) {
    let subscribed = {
        let inner = state.lock();
        inner.webhook_url.is_some() && inner.webhook_events.iter().any(|e| e == event_type || e == "*")
    };
    if !subscribed {
        return;
    }
    let body = event_body(state, event_type, resource_type, resource);
    let (state, event_type) = (state.clone(), event_type.to_owned());
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            deliver(&state, &event_type, body).await;
        });
    }
}

/// Posts `body` to the webhook, signed now; records and answers the receiver's status.
pub(super) async fn deliver(state: &State, event_type: &str, body: String) -> Option<u16> {
    let url = state.lock().webhook_url.clone()?;
    let headers = transmission_headers(state, &body, &state.webhook_id, &now_text());
    let mut request = state
        .http
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "PayPal/AUHD-214.0-58843374");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let status = request.body(body).send().await.ok().map(|r| r.status().as_u16());
    state.lock().deliveries.push(Delivery { event_type: event_type.to_owned(), status });
    status
}

#[derive(Deserialize)]
struct VerifyRequest {
    auth_algo: Option<String>,
    cert_url: Option<String>,
    transmission_id: Option<String>,
    transmission_sig: Option<String>,
    transmission_time: Option<String>,
    webhook_id: Option<String>,
    webhook_event: Option<Box<RawValue>>,
}

fn validation_error(field: &str, issue: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "name": "VALIDATION_ERROR", "message": "Invalid request - see details", "debug_id": random_hex(13),
            "details": [{ "field": field, "location": "body", "issue": issue }],
            "links": [{ "href": "https://developer.paypal.com/docs/api/webhooks/v1/#error-VALIDATION_ERROR", "rel": "information_link", "method": "GET" }] })),
    )
        .into_response()
}

/// `POST /v1/notifications/verify-webhook-signature`.
pub(super) async fn verify(Shared(state): Shared<Arc<State>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = api::gate(&state, "verify", &headers, true).await {
        return response;
    }
    let Ok(request) = serde_json::from_slice::<VerifyRequest>(&body) else {
        return validation_error("body", "MALFORMED_REQUEST_JSON");
    };
    let required = [
        ("auth_algo", &request.auth_algo),
        ("cert_url", &request.cert_url),
        ("transmission_id", &request.transmission_id),
        ("transmission_sig", &request.transmission_sig),
        ("transmission_time", &request.transmission_time),
        ("webhook_id", &request.webhook_id),
    ];
    for (name, value) in required {
        if value.as_deref().is_none_or(str::is_empty) {
            return validation_error(name, "MISSING_REQUIRED_PARAMETER");
        }
    }
    let Some(event) = request.webhook_event else {
        return validation_error("webhook_event", "MISSING_REQUIRED_PARAMETER");
    };
    let text = |v: Option<String>| v.unwrap_or_default();
    let (algo, cert_url, transmission_id, signature, time, webhook_id) = (
        text(request.auth_algo),
        text(request.cert_url),
        text(request.transmission_id),
        text(request.transmission_sig),
        text(request.transmission_time),
        text(request.webhook_id),
    );
    if webhook_id.len() > 50 || !webhook_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return validation_error("webhook_id", "INVALID_PARAMETER_SYNTAX");
    }
    if time::OffsetDateTime::parse(&time, &time::format_description::well_known::Rfc3339).is_err() {
        return validation_error("transmission_time", "INVALID_PARAMETER_SYNTAX");
    }
    if webhook_id != state.webhook_id {
        return api::error(
            404,
            "RESOURCE_NOT_FOUND",
            "The requested resource was not found",
            &[("webhook_id", "INVALID_RESOURCE_ID", "Webhook id does not exist for this app.")],
        );
    }
    let verified = algo == AUTH_ALGO && cert_url == state.cert_url && {
        let message = format!("{transmission_id}|{time}|{webhook_id}|{}", crc32(event.get().as_bytes()));
        base64::engine::general_purpose::STANDARD
            .decode(signature.as_bytes())
            .ok()
            .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
            .is_some_and(|signature| {
                VerifyingKey::<Sha256>::new(state.key.to_public_key())
                    .verify(message.as_bytes(), &signature)
                    .is_ok()
            })
    };
    Json(json!({ "verification_status": if verified { "SUCCESS" } else { "FAILURE" } })).into_response()
}

/// `GET /v1/notifications/webhooks/{id}`.
pub(super) async fn get_webhook(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = api::gate(&state, "get_webhook", &headers, true).await {
        return response;
    }
    if id != state.webhook_id {
        return api::error(404, "INVALID_RESOURCE_ID", "Webhook id does not exist", &[]);
    }
    let inner = state.lock();
    let own = format!("{}/v1/notifications/webhooks/{id}", state.base);
    Json(json!({
        "id": id,
        "url": inner.webhook_url.clone().unwrap_or_default(),
        "event_types": inner.webhook_events.iter().map(|name| json!({ "name": name, "description": name, "status": "ENABLED" })).collect::<Vec<_>>(),
        "links": [
            { "href": own, "rel": "self", "method": "GET" },
            { "href": own, "rel": "update", "method": "PATCH" },
            { "href": own, "rel": "delete", "method": "DELETE" },
        ],
    }))
    .into_response()
}

/// `GET /v1/notifications/certs/{id}`: the certificate whose key signs the transmissions.
pub(super) async fn certificate(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> Response {
    if !state.cert_url.ends_with(&format!("/{id}")) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "application/x-pem-file")], state.cert_pem.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 check value of "123456789" (the catalogue of parametrised CRC algorithms).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn events_are_written_as_paypal_writes_them() {
        let mut out = String::new();
        write_json(&json!({ "a": 1, "b": { "href": "https://x/y" }, "c": "café" }), &mut out);
        assert_eq!(out, r#"{"c":"caf\u00e9","b":{"href":"https:\/\/x\/y"},"a":1}"#);
        let reparsed: Value = serde_json::from_str(&out).unwrap();
        assert_ne!(reparsed.to_string(), out, "a parsed and re-written event has other bytes");
    }
}
