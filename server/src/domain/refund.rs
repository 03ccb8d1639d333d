//! Which refunds may be made: what is left to refund of a payment, how much a refund may take,
//! and what makes a reason. The database applies these inside the transaction that records a
//! refund; the console asks them first to word its form's messages.

use super::text::check_readable;

/// A refund's reason is 1 to this many characters.
pub const MAX_REASON_CHARS: usize = 200;

/// Why a refund may not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRefusal {
    /// Zero, or more than is left (`left` minor units; 0 when all was refunded).
    TooMuch { left: u64 },
    /// The reason is empty, too long or holds text that reads differently than it is.
    BadReason(String),
}

/// What is left to refund of a payment of `paid` minor units whose refunds so far (those that
/// have not failed: a pending refund holds its money) take `taken`.
pub fn left_to_refund(paid: u64, taken: u64) -> u64 {
    paid.saturating_sub(taken)
}

/// The amount a refund takes: what was asked (`None`: all that is left), if it is more than
/// nothing and no more than `left`.
pub fn refund_amount(asked: Option<u64>, left: u64) -> Result<u64, RefundRefusal> {
    let amount = asked.unwrap_or(left);
    if amount == 0 || amount > left {
        return Err(RefundRefusal::TooMuch { left });
    }
    Ok(amount)
}

/// A refund's reason, trimmed.
pub fn check_reason(text: &str) -> Result<&str, RefundRefusal> {
    let reason = text.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(RefundRefusal::BadReason(format!("reason must be 1 to {MAX_REASON_CHARS} characters")));
    }
    check_readable(reason)
        .map_err(|error| RefundRefusal::BadReason(format!("reason must not hold {error}")))?;
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_takes_at_most_what_is_left_and_by_default_all_of_it() {
        assert_eq!(left_to_refund(6_800, 2_900), 3_900);
        assert_eq!(left_to_refund(6_800, 9_000), 0, "never below nothing");
        assert_eq!(refund_amount(None, 3_900), Ok(3_900));
        assert_eq!(refund_amount(Some(3_900), 3_900), Ok(3_900));
        assert_eq!(refund_amount(Some(1), 3_900), Ok(1));
        assert_eq!(refund_amount(Some(3_901), 3_900), Err(RefundRefusal::TooMuch { left: 3_900 }));
        assert_eq!(refund_amount(Some(0), 3_900), Err(RefundRefusal::TooMuch { left: 3_900 }));
        assert_eq!(refund_amount(None, 0), Err(RefundRefusal::TooMuch { left: 0 }), "nothing left");
    }

    #[test]
    fn a_reason_is_readable_text_of_bounded_length() {
        assert_eq!(check_reason("  Chipped rim "), Ok("Chipped rim"));
        assert!(check_reason(&"x".repeat(MAX_REASON_CHARS)).is_ok());
        for bad in [String::new(), "   ".into(), "x".repeat(MAX_REASON_CHARS + 1), "evil\u{202e}txt".into()] {
            assert!(matches!(check_reason(&bad), Err(RefundRefusal::BadReason(_))), "{bad:?}");
        }
    }
}
