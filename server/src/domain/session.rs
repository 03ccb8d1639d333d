//! The one place that decides how a session's status changes. Routes and providers describe what
//! happened (an event); this module answers which status follows, or why nothing may change.

use super::UnixMillis;
use wallet_checkout_contract::SessionStatus;

/// Something that happened to a payment session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// The shopper approved the payment in the wallet.
    Approved,
    /// The wallet confirmed that the money moved.
    Confirmed,
    /// The shopper or the wallet declined.
    Declined,
    /// The shop or the shopper gave up on this session.
    Canceled,
    /// The session's time ran out.
    ExpiryReached,
}

impl SessionEvent {
    /// Short reason recorded in the status history.
    pub fn reason(self) -> &'static str {
        match self {
            SessionEvent::Approved => "approved",
            SessionEvent::Confirmed => "confirmed",
            SessionEvent::Declined => "declined",
            SessionEvent::Canceled => "canceled",
            SessionEvent::ExpiryReached => "expired",
        }
    }
}

/// A note on a session for the merchant: its money must go back, or it came too late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// A payment for an order another session had already paid: this money goes back.
    RefundDue,
    /// The wallet said "paid" after the session had expired, was canceled or had failed.
    LateApproval,
}

impl Flag {
    pub const ALL: [Flag; 2] = [Flag::RefundDue, Flag::LateApproval];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::RefundDue => "refund_due",
            Flag::LateApproval => "late_approval",
        }
    }

    pub fn parse(text: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|flag| flag.as_str() == text)
    }

    /// The flag of a payment that succeeded when its order was (`order_paid`) or was not yet
    /// paid by another session.
    pub fn of_payment(order_paid_elsewhere: bool) -> Option<Flag> {
        order_paid_elsewhere.then_some(Flag::RefundDue)
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an event cannot change the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The session is already final (or the event does not apply to its status).
    NotAllowed(SessionStatus),
    /// The session is past its expiry; only expiring it is still possible.
    Expired,
    /// The expiry event came before the session's time was up.
    NotYetExpired,
}

/// Whether a session whose time runs out at `expires_at` is past it at `now`: its last moment
/// to be paid is the millisecond before. The sweep's query (`db::sessions::sessions_to_check`,
/// `expires_at <= now`) is this predicate in SQL.
pub fn is_past_expiry(expires_at: UnixMillis, now: UnixMillis) -> bool {
    now >= expires_at
}

/// Whether a session is due to expire: still waiting for the shopper, and past its time.
pub fn is_due_to_expire(status: SessionStatus, expires_at: UnixMillis, now: UnixMillis) -> bool {
    status == SessionStatus::Pending && is_past_expiry(expires_at, now)
}

/// Decides the status that follows `event`, given where the session stands and the time.
pub fn decide(
    current: SessionStatus,
    expires_at: UnixMillis,
    now: UnixMillis,
    event: SessionEvent,
) -> Result<SessionStatus, Refusal> {
    let past_expiry = is_past_expiry(expires_at, now);
    let next = match event {
        SessionEvent::Approved => SessionStatus::Processing,
        SessionEvent::Confirmed => SessionStatus::Succeeded,
        SessionEvent::Declined => SessionStatus::Failed,
        SessionEvent::Canceled => SessionStatus::Canceled,
        SessionEvent::ExpiryReached => SessionStatus::Expired,
    };
    if !current.can_transition_to(next) {
        return Err(Refusal::NotAllowed(current));
    }
    match event {
        SessionEvent::ExpiryReached if !past_expiry => Err(Refusal::NotYetExpired),
        SessionEvent::Approved if past_expiry => Err(Refusal::Expired),
        _ => Ok(next),
    }
}

/// Whether a refused event is the wallet saying "paid" for a session that is over (expired,
/// canceled or failed): the merchant must hear of it (the money may have moved), though the status
/// does not change.
pub fn is_late_approval(event: SessionEvent, refusal: Refusal) -> bool {
    matches!(event, SessionEvent::Approved | SessionEvent::Confirmed)
        && matches!(
            refusal,
            Refusal::NotAllowed(SessionStatus::Expired | SessionStatus::Canceled | SessionStatus::Failed)
        )
}

/// Whether a refused event is an approval that came after the session's time was up, before the
/// sweep expired it: the session expires first (as the sweep would have it), and the approval is
/// then a late one.
pub fn is_approval_past_expiry(event: SessionEvent, refusal: Refusal) -> bool {
    event == SessionEvent::Approved && refusal == Refusal::Expired
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    const EXPIRES: UnixMillis = 10_000;
    const BEFORE: UnixMillis = 9_999;
    const AFTER: UnixMillis = 10_000;

    #[test]
    fn flags_are_written_and_read_by_one_name() {
        for flag in Flag::ALL {
            assert_eq!(Flag::parse(flag.as_str()), Some(flag));
            assert_eq!(serde_json::to_value(flag).unwrap(), flag.as_str());
        }
        assert_eq!(Flag::parse("Refund_due"), None);
        assert_eq!(Flag::of_payment(true), Some(Flag::RefundDue));
        assert_eq!(Flag::of_payment(false), None);
    }

    #[test]
    fn approval_then_confirmation_succeeds() {
        let processing = decide(Pending, EXPIRES, BEFORE, SessionEvent::Approved).unwrap();
        assert_eq!(processing, Processing);
        assert_eq!(decide(processing, EXPIRES, BEFORE, SessionEvent::Confirmed), Ok(Succeeded));
    }

    #[test]
    fn a_session_is_past_expiry_from_its_expiry_time_on() {
        assert!(!is_past_expiry(EXPIRES, BEFORE));
        assert!(is_past_expiry(EXPIRES, AFTER));
        assert!(is_due_to_expire(Pending, EXPIRES, AFTER));
        assert!(!is_due_to_expire(Pending, EXPIRES, BEFORE));
        for status in [Processing, Succeeded, Failed, Expired, Canceled] {
            assert!(!is_due_to_expire(status, EXPIRES, AFTER), "{status}");
        }
    }

    #[test]
    fn expired_session_refuses_approval() {
        assert_eq!(decide(Pending, EXPIRES, AFTER, SessionEvent::Approved), Err(Refusal::Expired));
    }

    #[test]
    fn expiry_waits_for_the_deadline() {
        assert_eq!(
            decide(Pending, EXPIRES, BEFORE, SessionEvent::ExpiryReached),
            Err(Refusal::NotYetExpired)
        );
        assert_eq!(decide(Pending, EXPIRES, AFTER, SessionEvent::ExpiryReached), Ok(Expired));
    }

    #[test]
    fn final_sessions_refuse_every_event() {
        for status in [Succeeded, Failed, Expired, Canceled] {
            for event in [
                SessionEvent::Approved,
                SessionEvent::Confirmed,
                SessionEvent::Declined,
                SessionEvent::Canceled,
                SessionEvent::ExpiryReached,
            ] {
                assert_eq!(decide(status, EXPIRES, BEFORE, event), Err(Refusal::NotAllowed(status)));
            }
        }
    }

    #[test]
    fn an_approved_session_is_not_canceled_or_expired() {
        assert_eq!(
            decide(Processing, EXPIRES, AFTER, SessionEvent::Canceled),
            Err(Refusal::NotAllowed(Processing))
        );
        assert_eq!(
            decide(Processing, EXPIRES, AFTER, SessionEvent::ExpiryReached),
            Err(Refusal::NotAllowed(Processing))
        );
    }

    #[test]
    fn approvals_refused_for_a_dead_session_are_late_approvals() {
        assert!(is_late_approval(SessionEvent::Approved, Refusal::NotAllowed(Canceled)));
        assert!(is_late_approval(SessionEvent::Confirmed, Refusal::NotAllowed(Expired)));
        assert!(is_late_approval(SessionEvent::Approved, Refusal::NotAllowed(Failed)));
        assert!(!is_late_approval(SessionEvent::Approved, Refusal::NotAllowed(Succeeded)));
        assert!(!is_late_approval(SessionEvent::Declined, Refusal::NotAllowed(Expired)));
        // Still pending past its time: it expires first, then the approval is a late one.
        assert!(!is_late_approval(SessionEvent::Approved, Refusal::Expired));
    }

    #[test]
    fn an_approval_past_the_time_expires_the_session_first() {
        let refusal = decide(Pending, EXPIRES, AFTER, SessionEvent::Approved).unwrap_err();
        assert!(is_approval_past_expiry(SessionEvent::Approved, refusal));
        let expired = decide(Pending, EXPIRES, AFTER, SessionEvent::ExpiryReached).unwrap();
        let then = decide(expired, EXPIRES, AFTER, SessionEvent::Approved).unwrap_err();
        assert!(is_late_approval(SessionEvent::Approved, then));
        assert!(!is_approval_past_expiry(SessionEvent::Confirmed, Refusal::Expired));
        assert!(!is_approval_past_expiry(SessionEvent::Approved, Refusal::NotAllowed(Expired)));
    }
}
