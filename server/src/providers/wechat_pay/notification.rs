//! WeChat Pay's notifications: the signature checked over the raw body, the envelope read, its
//! `AEAD_AES_256_GCM` resource decrypted with the APIv3 key, and the transaction or refund in it
//! read as a payment or refund notice.

use super::{
    crypto::{self, SignedHeaders},
    wire::{RefundAnswer, Transaction},
    WechatPayProvider,
};
use crate::providers::{Notice, Notification, Rejection};
use http::HeaderMap;
use serde::Deserialize;

impl WechatPayProvider {
    /// Verifies a notification on its raw body and headers, then reads what it says.
    pub(super) fn read_notification(
        &self,
        body: &[u8],
        headers: &HeaderMap,
    ) -> Result<Notification, Rejection> {
        let signed = SignedHeaders::from_headers(headers);
        self.client
            .keys()
            .verify(&signed, body, time::OffsetDateTime::now_utc().unix_timestamp())
            .map_err(|why| Rejection::BadSignature(why.to_string()))?;
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| Rejection::Invalid(format!("the body cannot be read: {e}")))?;
        if envelope.resource_type.as_deref().is_some_and(|kind| kind != "encrypt-resource") {
            return Err(Rejection::Invalid("resource_type is not encrypt-resource".into()));
        }
        let notice = match envelope.event_type.as_str() {
            "TRANSACTION.SUCCESS" => {
                let plain = self.decrypt(&envelope.resource)?;
                let transaction: Transaction = serde_json::from_slice(&plain)
                    .map_err(|e| Rejection::Invalid(format!("the transaction cannot be read: {e}")))?;
                let state = self.state_of(&transaction).map_err(Rejection::Invalid)?;
                let amount = transaction.amount().map_err(Rejection::Invalid)?;
                Notice::Payment { session_id: transaction.out_trade_no, state, amount: Some(amount) }
            }
            "REFUND.SUCCESS" | "REFUND.ABNORMAL" | "REFUND.CLOSED" => {
                let plain = self.decrypt(&envelope.resource)?;
                let refund: RefundResource = serde_json::from_slice(&plain)
                    .map_err(|e| Rejection::Invalid(format!("the refund cannot be read: {e}")))?;
                if refund.mchid != self.mchid {
                    return Err(Rejection::Invalid(format!(
                        "mchid {:?} is not this merchant's",
                        refund.mchid
                    )));
                }
                let state = Self::refund_state(&RefundAnswer {
                    refund_id: refund.refund_id,
                    out_refund_no: refund.out_refund_no.clone(),
                    status: refund.refund_status,
                });
                tracing::debug!(out_trade_no = ?refund.out_trade_no, out_refund_no = %refund.out_refund_no, "WeChat Pay refund notification");
                Notice::Refund { refund_id: refund.out_refund_no, state }
            }
            _ => Notice::Ignored,
        };
        Ok(Notification { id: envelope.id, notice })
    }

    fn decrypt(&self, resource: &Resource) -> Result<Vec<u8>, Rejection> {
        if resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(Rejection::Invalid(format!("unknown algorithm {:?}", resource.algorithm)));
        }
        crypto::decrypt_resource(
            &self.apiv3_key,
            &resource.nonce,
            resource.associated_data.as_deref().unwrap_or(""),
            &resource.ciphertext,
        )
        .map_err(Rejection::Invalid)
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource_type: Option<String>,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    associated_data: Option<String>,
    nonce: String,
}

#[derive(Debug, Deserialize)]
struct RefundResource {
    mchid: String,
    out_trade_no: Option<String>,
    out_refund_no: String,
    refund_id: Option<String>,
    refund_status: String,
}
