//! Identifiers that travel in URLs and JSON. Each has one checked constructor, so a value of the
//! type is always safe to put in a path segment without escaping.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest identifier accepted, in bytes.
pub const ID_MAX_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    Empty,
    TooLong,
    /// Only ASCII letters, digits, `_` and `-` are allowed.
    BadCharacter,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdError::Empty => "must not be empty",
            IdError::TooLong => "must be at most 64 characters",
            IdError::BadCharacter => "may only contain ASCII letters, digits, '_' and '-'",
        })
    }
}

impl std::error::Error for IdError {}

fn check(value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        Err(IdError::Empty)
    } else if value.len() > ID_MAX_LEN {
        Err(IdError::TooLong)
    } else if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        Err(IdError::BadCharacter)
    } else {
        Ok(())
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A merchant's order, as given in the widget's `order` attribute.
    OrderId
);
id_type!(
    /// One payment attempt for an order.
    SessionId
);
id_type!(
    /// A wallet offered by the backend (`wechat_pay`, `alipay`, `paypal`, ...).
    WalletId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_url_safe_characters() {
        assert!(OrderId::parse("ord_AZaz09-x").is_ok());
    }

    #[test]
    fn ids_refuse_empty_long_and_unsafe_values() {
        assert_eq!(OrderId::parse(""), Err(IdError::Empty));
        assert_eq!(OrderId::parse("a".repeat(65)), Err(IdError::TooLong));
        assert_eq!(SessionId::parse("../admin"), Err(IdError::BadCharacter));
        assert_eq!(WalletId::parse("we chat"), Err(IdError::BadCharacter));
    }

    #[test]
    fn ids_are_checked_when_deserialised() {
        assert!(serde_json::from_str::<OrderId>("\"ord/1\"").is_err());
        assert_eq!(serde_json::from_str::<OrderId>("\"ord_1\"").unwrap().as_str(), "ord_1");
    }
}
