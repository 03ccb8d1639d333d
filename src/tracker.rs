//! Status tracking as a pure state-transition function: given what the last poll observed,
//! decide the status to show and when to poll next. No browser, no clock: natively tested.
//!
//! The rules the widget keeps: it shows `succeeded` only when the backend said so, it never
//! leaves a final status, and it never moves a status backwards.

use crate::api::ApiError;
use wallet_checkout_contract::SessionStatus;

/// Pause between status polls when the backend answers at once (it does not support waiting).
pub const POLL_INTERVAL_MS: u32 = 2_000;
/// Longest pause between polls while the backend cannot be reached.
pub const MAX_BACKOFF_MS: u32 = 30_000;
/// How long each status read asks the backend to wait for a change (the contract's maximum).
pub const WAIT_SECS: u64 = wallet_checkout_contract::MAX_WAIT_SECS;
/// An unchanged answer after at least this long means the backend waited: ask again at once.
pub const WAITED_MS: f64 = 15_000.0;

/// The pauses the tracker keeps. `Pace::default()` is what ships; widget tests configure shorter
/// ones (`config::Timing`), so they prove behaviour without waiting on the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Pause between polls while all is well (`POLL_INTERVAL_MS`).
    pub poll_ms: u32,
    /// Longest pause while failing (`MAX_BACKOFF_MS`).
    pub max_backoff_ms: u32,
    /// An unchanged answer after at least this long means the backend waited (`WAITED_MS`).
    pub waited_ms: f64,
}

impl Default for Pace {
    fn default() -> Self {
        Self { poll_ms: POLL_INTERVAL_MS, max_backoff_ms: MAX_BACKOFF_MS, waited_ms: WAITED_MS }
    }
}

/// What one poll of the backend produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The backend answered with this status.
    Status(SessionStatus),
    /// No answer: offline, timeout, or a server error.
    Unreachable,
    /// The backend is busy and asked (with `Retry-After`) to be left alone this many milliseconds.
    Busy { retry_after_ms: u32 },
    /// An answer that could not be read as a session, or that is about another one.
    Unreadable,
}

impl Observation {
    /// What a failed request tells: an answer outside the contract is unreadable; any other
    /// failure means the backend could not be reached, busy if it said for how long.
    pub fn of_error(error: ApiError) -> Self {
        match error {
            ApiError::BadAnswer => Observation::Unreadable,
            error => match error.retry_after_ms() {
                Some(retry_after_ms) => Observation::Busy { retry_after_ms },
                None => Observation::Unreachable,
            },
        }
    }
}

/// What the widget does after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    PollAfter { delay_ms: u32 },
    Finished(SessionStatus),
}

/// Why the last polls failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    Unreachable,
    Unreadable,
}

/// Pauses between attempts while something keeps failing, and why it fails: the regular
/// interval while all is well, after failures an exponential backoff with jitter (a random delay
/// between half and all of `POLL_INTERVAL_MS * 2^failures`, capped at `MAX_BACKOFF_MS`), never
/// shorter than the pause a busy backend asked for. The tracker, the read of a remembered
/// session after a reload and the cancel of an abandoned session all wait by it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backoff {
    failures: u32,
    trouble: Option<Trouble>,
    retry_after_ms: u32,
    pace: Pace,
}

impl Backoff {
    pub fn with_pace(pace: Pace) -> Self {
        Self { pace, ..Self::default() }
    }

    /// Takes in one attempt's outcome: an answer clears the backoff, anything else adds to it.
    pub fn record(&mut self, observation: Observation) {
        let (trouble, retry_after_ms) = match observation {
            Observation::Status(_) => {
                *self = Backoff::with_pace(self.pace);
                return;
            }
            Observation::Unreachable => (Trouble::Unreachable, 0),
            Observation::Busy { retry_after_ms } => (Trouble::Unreachable, retry_after_ms),
            Observation::Unreadable => (Trouble::Unreadable, 0),
        };
        self.failures = self.failures.saturating_add(1);
        self.trouble = Some(trouble);
        self.retry_after_ms = retry_after_ms;
    }

    /// Why the last attempt failed, if it did (the widget shows a notice while it lasts).
    pub fn trouble(&self) -> Option<Trouble> {
        self.trouble
    }

    /// Whether the backend asked for the coming pause (`Retry-After`): it is not cut short.
    pub fn holds_off(&self) -> bool {
        self.retry_after_ms > 0
    }

    /// The pause before the next attempt. `jitter` is a random number in `[0, 1)`.
    pub fn delay_ms(&self, jitter: f64) -> u32 {
        if self.failures == 0 {
            return self.pace.poll_ms;
        }
        let exponent = self.failures.min(16);
        let ceiling = (self.pace.poll_ms as u64) << exponent;
        let ceiling = ceiling.min(self.pace.max_backoff_ms as u64) as f64;
        let jitter = jitter.clamp(0.0, 1.0);
        let backoff = (ceiling / 2.0 + ceiling / 2.0 * jitter) as u32;
        backoff.max(self.retry_after_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracker {
    status: SessionStatus,
    backoff: Backoff,
}

impl Tracker {
    pub fn new(status: SessionStatus) -> Self {
        Self::with_pace(status, Pace::default())
    }

    pub fn with_pace(status: SessionStatus, pace: Pace) -> Self {
        Self { status, backoff: Backoff::with_pace(pace) }
    }

    /// The status the widget shows.
    pub fn status(&self) -> SessionStatus {
        self.status
    }

    /// Whether the last poll failed, and how (the widget shows a notice while it lasts).
    pub fn trouble(&self) -> Option<Trouble> {
        self.backoff.trouble()
    }

    /// Whether the backend asked for the coming pause (see `Backoff::holds_off`).
    pub fn holds_off(&self) -> bool {
        self.backoff.holds_off()
    }

    /// Takes in one answer to a waiting read that took `answered_after_ms`. A backend that held
    /// the request until its wait ran out is asked again at once; one that answered at once does
    /// not support waiting, and is polled every `POLL_INTERVAL_MS` (the pace's `poll_ms`).
    pub fn observe_wait(&mut self, observation: Observation, jitter: f64, answered_after_ms: f64) -> Next {
        let before = self.status;
        match self.observe(observation, jitter) {
            Next::PollAfter { .. }
                if matches!(observation, Observation::Status(_))
                    && (self.status != before || answered_after_ms >= self.backoff.pace.waited_ms) =>
            {
                Next::PollAfter { delay_ms: 0 }
            }
            next => next,
        }
    }

    /// Takes in one observation. `jitter` is a random number in `[0, 1)` that spreads retries.
    pub fn observe(&mut self, observation: Observation, jitter: f64) -> Next {
        self.backoff.record(observation);
        if let Observation::Status(status) = observation {
            if self.status.can_transition_to(status) {
                self.status = status;
            }
        }
        if self.status.is_final() {
            return Next::Finished(self.status);
        }
        Next::PollAfter { delay_ms: self.backoff.delay_ms(jitter) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    #[test]
    fn pending_keeps_polling_at_the_regular_interval() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe(Observation::Status(Pending), 0.5),
            Next::PollAfter { delay_ms: POLL_INTERVAL_MS }
        );
    }

    #[test]
    fn succeeded_from_the_backend_finishes_as_paid() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe(Observation::Status(Processing), 0.0),
            Next::PollAfter { delay_ms: POLL_INTERVAL_MS }
        );
        assert_eq!(tracker.observe(Observation::Status(Succeeded), 0.0), Next::Finished(Succeeded));
    }

    #[test]
    fn errors_never_finish_the_tracking() {
        let mut tracker = Tracker::new(Pending);
        for _ in 0..50 {
            assert!(matches!(tracker.observe(Observation::Unreachable, 0.9), Next::PollAfter { .. }));
            assert!(matches!(tracker.observe(Observation::Unreadable, 0.1), Next::PollAfter { .. }));
        }
        assert_eq!(tracker.status(), Pending);
        assert_eq!(tracker.trouble(), Some(Trouble::Unreadable));
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_the_cap() {
        let mut tracker = Tracker::new(Pending);
        let delays: Vec<u32> = (0..6)
            .map(|_| match tracker.observe(Observation::Unreachable, 1.0) {
                Next::PollAfter { delay_ms } => delay_ms,
                Next::Finished(_) => unreachable!(),
            })
            .collect();
        assert_eq!(delays, [4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
        let mut low = Tracker::new(Pending);
        assert_eq!(low.observe(Observation::Unreachable, 0.0), Next::PollAfter { delay_ms: 2_000 });
    }

    #[test]
    fn a_good_answer_resets_the_backoff() {
        let mut tracker = Tracker::new(Pending);
        tracker.observe(Observation::Unreachable, 0.5);
        tracker.observe(Observation::Unreachable, 0.5);
        assert_eq!(
            tracker.observe(Observation::Status(Pending), 0.5),
            Next::PollAfter { delay_ms: POLL_INTERVAL_MS }
        );
        assert_eq!(tracker.trouble(), None);
    }

    #[test]
    fn status_never_moves_backwards() {
        let mut tracker = Tracker::new(Processing);
        tracker.observe(Observation::Status(Pending), 0.0);
        assert_eq!(tracker.status(), Processing);
    }

    #[test]
    fn a_backend_that_waited_is_asked_again_at_once() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe_wait(Observation::Status(Pending), 0.5, 25_010.0),
            Next::PollAfter { delay_ms: 0 }
        );
    }

    #[test]
    fn a_backend_that_answers_at_once_is_polled_at_the_interval() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe_wait(Observation::Status(Pending), 0.5, 40.0),
            Next::PollAfter { delay_ms: POLL_INTERVAL_MS }
        );
    }

    #[test]
    fn a_change_is_followed_by_an_immediate_waiting_read() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe_wait(Observation::Status(Processing), 0.5, 30.0),
            Next::PollAfter { delay_ms: 0 }
        );
        assert_eq!(
            tracker.observe_wait(Observation::Status(Succeeded), 0.5, 30.0),
            Next::Finished(Succeeded)
        );
    }

    #[test]
    fn failed_waiting_reads_still_back_off() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe_wait(Observation::Unreachable, 1.0, 25_000.0),
            Next::PollAfter { delay_ms: 4_000 }
        );
    }

    #[test]
    fn final_status_is_never_left() {
        let mut tracker = Tracker::new(Failed);
        assert_eq!(tracker.observe(Observation::Status(Succeeded), 0.0), Next::Finished(Failed));
        assert_eq!(tracker.observe(Observation::Status(Pending), 0.0), Next::Finished(Failed));
    }

    #[test]
    fn a_busy_backend_is_left_alone_as_long_as_it_asked() {
        let mut tracker = Tracker::new(Pending);
        assert_eq!(
            tracker.observe_wait(Observation::Busy { retry_after_ms: 6_000 }, 1.0, 10.0),
            Next::PollAfter { delay_ms: 6_000 },
            "longer than the first backoff (at most 4 s)"
        );
        assert_eq!(tracker.trouble(), Some(Trouble::Unreachable));
        assert!(tracker.holds_off(), "the pause asked for is not cut short");
        assert_eq!(
            tracker.observe(Observation::Busy { retry_after_ms: 1_000 }, 1.0),
            Next::PollAfter { delay_ms: 8_000 },
            "never shorter than the backoff either"
        );
        assert_eq!(
            tracker.observe(Observation::Unreachable, 0.0),
            Next::PollAfter { delay_ms: 8_000 },
            "a Retry-After counts for the answer that carried it only"
        );
        assert!(!tracker.holds_off());
    }

    #[test]
    fn a_configured_pace_sets_the_interval_and_the_cap() {
        let pace = Pace { poll_ms: 20, max_backoff_ms: 100, waited_ms: 150.0 };
        let mut tracker = Tracker::with_pace(Pending, pace);
        assert_eq!(
            tracker.observe_wait(Observation::Status(Pending), 0.5, 40.0),
            Next::PollAfter { delay_ms: 20 }
        );
        assert_eq!(
            tracker.observe_wait(Observation::Status(Pending), 0.5, 200.0),
            Next::PollAfter { delay_ms: 0 }
        );
        for _ in 0..5 {
            tracker.observe(Observation::Unreachable, 1.0);
        }
        assert_eq!(tracker.observe(Observation::Unreachable, 1.0), Next::PollAfter { delay_ms: 100 });
        tracker.observe(Observation::Status(Pending), 0.0);
        assert_eq!(
            tracker.observe(Observation::Unreachable, 1.0),
            Next::PollAfter { delay_ms: 40 },
            "the reset keeps the pace"
        );
    }

    #[test]
    fn failed_requests_are_observed_by_what_they_tell() {
        use wallet_checkout_contract::ErrorCode;
        assert_eq!(Observation::of_error(ApiError::BadAnswer), Observation::Unreadable);
        assert_eq!(Observation::of_error(ApiError::Timeout), Observation::Unreachable);
        let busy =
            ApiError::Backend { status: 429, code: ErrorCode::RateLimited, retry_after_ms: Some(3_000) };
        assert_eq!(Observation::of_error(busy), Observation::Busy { retry_after_ms: 3_000 });
        let failing = ApiError::Backend { status: 500, code: ErrorCode::Internal, retry_after_ms: None };
        assert_eq!(Observation::of_error(failing), Observation::Unreachable);
    }
}
