//! Checked domain types the server builds from untrusted input, and the server's clock.

mod audit;
mod client;
pub mod clock;
pub mod counter;
pub mod event;
pub mod golive;
mod idempotency;
pub mod order;
pub mod refund;
mod return_url;
pub mod role;
pub mod session;
pub mod sign_in;
pub mod takings;
pub mod text;

pub use audit::AuditAction;
pub use client::ClientKey;
pub use clock::{Clock, SharedClock, SystemClock, TestClock};
pub use event::{AlertView, EventData};
pub use idempotency::{request_hash, IdempotencyKey, IdempotencyKeyError};
pub use return_url::{ReturnUrl, ReturnUrlError};
pub use role::Role;
pub use session::{
    decide, is_approval_past_expiry, is_due_to_expire, is_late_approval, is_past_expiry, Flag, Refusal,
    SessionEvent,
};

use rand::{distributions::Alphanumeric, Rng};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use wallet_checkout_contract::{OrderId, SessionId};

/// Milliseconds since the Unix epoch: the one time unit stored in the database.
pub type UnixMillis = i64;

/// A wallet provider's own references for a payment, each kept in a column of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderRefs {
    /// The provider's id of the order or trade made at creation (PayPal order id).
    pub order_id: Option<String>,
    /// The provider's id of the money movement (WeChat Pay `transaction_id`, Alipay `trade_no`).
    pub transaction_id: Option<String>,
    /// The capture of an approved payment (PayPal capture id): what a refund refers to there.
    pub capture_id: Option<String>,
}

impl ProviderRefs {
    /// These references with every field `other` has filled in.
    pub fn merged(&self, other: &ProviderRefs) -> ProviderRefs {
        ProviderRefs {
            order_id: other.order_id.clone().or_else(|| self.order_id.clone()),
            transaction_id: other.transaction_id.clone().or_else(|| self.transaction_id.clone()),
            capture_id: other.capture_id.clone().or_else(|| self.capture_id.clone()),
        }
    }
}

/// RFC 3339 form of a stored timestamp, as the contract's `expires_at` wants it.
pub fn rfc3339(millis: UnixMillis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An instant from an RFC 3339 time (`2026-11-26T10:00:00Z`) or a date (`2026-11-26`, midnight
/// UTC), in Unix milliseconds.
pub fn parse_instant(raw: &str) -> Option<UnixMillis> {
    if let Ok(time) = OffsetDateTime::parse(raw, &Rfc3339) {
        return i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let mut parts = raw.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

fn random_suffix() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect()
}

pub fn new_session_id() -> SessionId {
    SessionId::parse(format!("ses_{}", random_suffix())).expect("generated ids are valid")
}

pub fn new_order_id() -> OrderId {
    OrderId::parse(format!("ord_{}", random_suffix())).expect("generated ids are valid")
}

pub fn new_event_id() -> String {
    format!("evt_{}", random_suffix())
}

/// A random id with a prefix (`key_`, `whe_`, ...).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_suffix())
}

/// A secret of `length` random alphanumeric characters after `prefix`.
pub fn new_secret(prefix: &str, length: usize) -> String {
    let secret: String = rand::thread_rng().sample_iter(&Alphanumeric).take(length).map(char::from).collect();
    format!("{prefix}{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_a_prefix_and_differ() {
        let (a, b) = (new_session_id(), new_session_id());
        assert!(a.as_str().starts_with("ses_"));
        assert_ne!(a, b);
        assert!(new_order_id().as_str().starts_with("ord_"));
    }

    #[test]
    fn instants_are_read_from_times_and_dates() {
        assert_eq!(parse_instant("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_instant("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert_eq!(parse_instant("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(parse_instant("1970-13-01"), None);
        assert_eq!(parse_instant("yesterday"), None);
    }

    #[test]
    fn rfc3339_formats_utc_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
