//! The `Idempotency-Key` a client sends with a create request (a session, an order, a refund),
//! and the digest that tells a retry of the same request from a reused key.

use sha2::{Digest, Sha256};
use std::fmt;
use wallet_checkout_contract::IDEMPOTENCY_KEY_MAX_LEN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdempotencyKeyError {
    Missing,
    TooLong,
    /// Only visible ASCII is allowed.
    BadCharacter,
}

impl fmt::Display for IdempotencyKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => write!(f, "the Idempotency-Key header is required"),
            Self::TooLong => {
                write!(f, "the Idempotency-Key header must be at most {IDEMPOTENCY_KEY_MAX_LEN} characters")
            }
            Self::BadCharacter => {
                write!(f, "the Idempotency-Key header may only contain visible ASCII characters")
            }
        }
    }
}

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, IdempotencyKeyError> {
        let value = value.trim();
        if value.is_empty() {
            Err(IdempotencyKeyError::Missing)
        } else if value.len() > IDEMPOTENCY_KEY_MAX_LEN {
            Err(IdempotencyKeyError::TooLong)
        } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
            Err(IdempotencyKeyError::BadCharacter)
        } else {
            Ok(Self(value.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The digest of a create request's fields (canonical JSON, keys in order): a retry with the same
/// key has the same digest, a reused key with a different request does not.
pub fn request_hash(fields: &serde_json::Value) -> String {
    Sha256::digest(fields.to_string().as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_hash_follows_every_field_and_not_the_order_they_were_written_in() {
        let one = request_hash(&serde_json::json!({ "amount": 500, "description": "Tea" }));
        assert_eq!(one, request_hash(&serde_json::json!({ "description": "Tea", "amount": 500 })));
        assert_ne!(one, request_hash(&serde_json::json!({ "amount": 501, "description": "Tea" })));
        assert_ne!(one, request_hash(&serde_json::json!({ "amount": 500, "description": "Tea", "x": null })));
        assert_eq!(one.len(), 64);
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("5f0c-42ab").is_ok());
        assert_eq!(IdempotencyKey::parse("  "), Err(IdempotencyKeyError::Missing));
        assert_eq!(IdempotencyKey::parse(&"k".repeat(256)), Err(IdempotencyKeyError::TooLong));
        assert_eq!(IdempotencyKey::parse("a b"), Err(IdempotencyKeyError::BadCharacter));
    }
}
