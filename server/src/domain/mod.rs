//! Checked domain types the server builds from untrusted input, and the server's clock.

mod idempotency;
mod return_url;
pub mod session;

pub use idempotency::{IdempotencyKey, IdempotencyKeyError};
pub use return_url::{ReturnUrl, ReturnUrlError};
pub use session::{decide, is_late_approval, Refusal, SessionEvent};

use rand::{distributions::Alphanumeric, Rng};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use wallet_checkout_contract::{OrderId, SessionId};

/// Milliseconds since the Unix epoch: the one time unit stored in the database.
pub type UnixMillis = i64;

pub fn now_millis() -> UnixMillis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 form of a stored timestamp, as the contract's `expires_at` wants it.
pub fn rfc3339(millis: UnixMillis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
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
    fn rfc3339_formats_utc_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
