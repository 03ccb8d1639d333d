//! The status of a payment session and the one table of transitions both sides obey.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a session stands. `Succeeded`, `Failed`, `Expired` and `Canceled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for the shopper to pay.
    Pending,
    /// The shopper approved; the wallet is confirming the payment.
    Processing,
    Succeeded,
    Failed,
    Expired,
    Canceled,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 6] = [
        SessionStatus::Pending,
        SessionStatus::Processing,
        SessionStatus::Succeeded,
        SessionStatus::Failed,
        SessionStatus::Expired,
        SessionStatus::Canceled,
    ];

    /// A final status never changes again.
    pub fn is_final(self) -> bool {
        !matches!(self, SessionStatus::Pending | SessionStatus::Processing)
    }

    /// Whether a session may move from `self` to `next`. Staying in place is not a transition.
    ///
    /// Once the shopper has approved (`Processing`) the session no longer expires or gets
    /// canceled by the shop: only the wallet's verdict ends it.
    pub fn can_transition_to(self, next: SessionStatus) -> bool {
        use SessionStatus::*;
        matches!(
            (self, next),
            (Pending, Processing | Succeeded | Failed | Expired | Canceled)
                | (Processing, Succeeded | Failed)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Processing => "processing",
            SessionStatus::Succeeded => "succeeded",
            SessionStatus::Failed => "failed",
            SessionStatus::Expired => "expired",
            SessionStatus::Canceled => "canceled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == value)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SessionStatus::{self, *};

    #[test]
    fn final_statuses_never_change() {
        for from in SessionStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for to in SessionStatus::ALL {
                assert!(!from.can_transition_to(to), "{from} -> {to} must be refused");
            }
        }
    }

    #[test]
    fn pending_can_reach_every_other_status() {
        for to in SessionStatus::ALL.into_iter().filter(|s| *s != Pending) {
            assert!(Pending.can_transition_to(to), "pending -> {to} must be allowed");
        }
    }

    #[test]
    fn processing_only_ends_in_the_wallets_verdict() {
        assert!(Processing.can_transition_to(Succeeded));
        assert!(Processing.can_transition_to(Failed));
        assert!(!Processing.can_transition_to(Expired));
        assert!(!Processing.can_transition_to(Canceled));
        assert!(!Processing.can_transition_to(Pending));
    }

    #[test]
    fn staying_in_place_is_not_a_transition() {
        for status in SessionStatus::ALL {
            assert!(!status.can_transition_to(status));
        }
    }

    #[test]
    fn statuses_parse_from_their_wire_names() {
        for status in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(SessionStatus::parse("paid"), None);
    }
}
