//! Where a till stands: a merchant's locations (shops) and their counters (tills), and what makes
//! their names and the wallets' identifiers for them.
//!
//! WeChat Pay's scanned-code payment names the shop (`scene_info.store_info.id`) and may name the
//! device (`scene_info.device_id`); Alipay's names them `store_id` and `terminal_id`. Neither
//! publishes more than "at most 32 characters" for them, so an identifier here is the set both
//! take without question: 1 to 32 ASCII letters, digits, `-` and `_`.

use super::text::{check_readable, TextError};
use std::fmt;

/// The longest name of a location or a counter, in characters.
pub const NAME_MAX_CHARS: usize = 64;
/// The longest shop or device identifier a wallet takes.
pub const IDENTIFIER_MAX_CHARS: usize = 32;

/// Why a name or an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterFieldError {
    EmptyName,
    LongName,
    UnreadableName(TextError),
    BadIdentifier,
}

impl fmt::Display for CounterFieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterFieldError::EmptyName => f.write_str("a name is needed"),
            CounterFieldError::LongName => write!(f, "a name has at most {NAME_MAX_CHARS} characters"),
            CounterFieldError::UnreadableName(error) => write!(f, "the name {error}"),
            CounterFieldError::BadIdentifier => {
                write!(f, "an identifier has 1 to {IDENTIFIER_MAX_CHARS} letters (A–Z, a–z), digits, - or _")
            }
        }
    }
}

/// The name of a location or a counter, as people read it: trimmed, 1 to 64 characters of
/// readable text.
pub fn place_name(raw: &str) -> Result<String, CounterFieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(CounterFieldError::EmptyName);
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(CounterFieldError::LongName);
    }
    check_readable(name).map_err(CounterFieldError::UnreadableName)?;
    Ok(name.to_owned())
}

/// An optional shop or device identifier for the wallets: empty (after trimming) is none.
pub fn wallet_identifier(raw: &str) -> Result<Option<String>, CounterFieldError> {
    let identifier = raw.trim();
    if identifier.is_empty() {
        return Ok(None);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if identifier.len() > IDENTIFIER_MAX_CHARS || !identifier.chars().all(allowed) {
        return Err(CounterFieldError::BadIdentifier);
    }
    Ok(Some(identifier.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_readable_and_bounded() {
        assert_eq!(place_name("  南京路店 ").unwrap(), "南京路店");
        assert_eq!(place_name("Till 1").unwrap(), "Till 1");
        assert_eq!(place_name(" \t "), Err(CounterFieldError::EmptyName));
        assert_eq!(place_name(&"店".repeat(64)).unwrap().chars().count(), 64);
        assert_eq!(place_name(&"店".repeat(65)), Err(CounterFieldError::LongName));
        assert!(matches!(place_name("Till\u{202E}1"), Err(CounterFieldError::UnreadableName(_))));
        assert!(matches!(place_name("Till\n1"), Err(CounterFieldError::UnreadableName(_))));
    }

    #[test]
    fn wallet_identifiers_are_what_both_wallets_take() {
        assert_eq!(wallet_identifier(""), Ok(None));
        assert_eq!(wallet_identifier("  "), Ok(None));
        assert_eq!(wallet_identifier(" SZ_0012-a ").unwrap().as_deref(), Some("SZ_0012-a"));
        assert_eq!(wallet_identifier(&"9".repeat(32)).unwrap().map(|id| id.len()), Some(32));
        for bad in ["9".repeat(33), "shop 1".into(), "店1".into(), "a/b".into(), "a.b".into()] {
            assert_eq!(wallet_identifier(&bad), Err(CounterFieldError::BadIdentifier), "{bad}");
        }
    }
}
