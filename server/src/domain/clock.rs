//! The one clock the server asks for the time: the system's in production, one a test moves.
//! Every business time (expiry, backoff, lockout, two-step codes, alert windows, backups, the
//! outbox) is read here. What the wallets' protocols stamp on the wire (signature timestamps and
//! their freshness windows) stays on the system's time, as the wallets' own clocks are.

use super::UnixMillis;
use std::{
    fmt,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};
use time::OffsetDateTime;

/// What time it is, in Unix milliseconds.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> UnixMillis;
}

/// The clock shared by everything in one server.
pub type SharedClock = Arc<dyn Clock>;

/// The system's time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        system_millis()
    }
}

/// A clock that runs with the system's but can be moved ahead by a test: what is due in 15
/// minutes is due after `advance(15 minutes)`, at once. A test that counts what happens within a
/// window (a rate limit's minute) can also `hold` it, so that only `advance` moves it.
#[derive(Debug, Default)]
pub struct TestClock {
    ahead_ms: AtomicI64,
    /// The reading it stopped at (`advance` still moves it), or `NOT_HELD`.
    held_at: AtomicI64,
}

const NOT_HELD: UnixMillis = 0;

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Moves the clock ahead by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(by, Ordering::SeqCst);
    }

    /// Stops the clock where it is: from now on only [`Self::advance`] moves it.
    pub fn hold(&self) {
        let _ = self.held_at.compare_exchange(NOT_HELD, system_millis(), Ordering::SeqCst, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> UnixMillis {
        let base = match self.held_at.load(Ordering::SeqCst) {
            NOT_HELD => system_millis(),
            held => held,
        };
        base + self.ahead_ms.load(Ordering::SeqCst)
    }
}

/// The system's time, for what a wallet's protocol stamps on the wire and checks against its own
/// clock: signature timestamps and the freshness windows of notifications. Business time is the
/// [`Clock`]'s.
pub fn wire_millis() -> UnixMillis {
    system_millis()
}

/// The system's time in Unix milliseconds.
fn system_millis() -> UnixMillis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_runs_with_the_system_and_moves_ahead_when_told() {
        let clock = TestClock::new();
        let before = SystemClock.now();
        assert!(clock.now() >= before && clock.now() < before + 60_000);
        clock.advance(Duration::from_secs(15 * 60));
        assert!(clock.now() >= before + 15 * 60_000);
    }

    #[test]
    fn a_held_test_clock_moves_only_when_told() {
        let clock = TestClock::new();
        clock.advance(Duration::from_secs(60));
        clock.hold();
        let held = clock.now();
        let system_then = SystemClock.now();
        while SystemClock.now() < system_then + 2 {
            std::hint::spin_loop();
        }
        assert_eq!(clock.now(), held, "the system's time moved on, the held clock did not");
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now(), held + 1_500);
    }
}
