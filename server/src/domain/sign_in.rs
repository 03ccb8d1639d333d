//! The lockout rule of the console's sign-in, as pure functions of what is stored per e-mail
//! address ([`Attempts`]) and the time. The database applies them compare-and-set, so counting an
//! attempt and deciding on it is one atomic step per account, however many sign-ins race and
//! from however many client addresses.
//!
//! An attempt is counted as a failure *before* the password is checked ([`admit`]) and forgiven
//! when it succeeds: at most [`LOCK_AFTER`] passwords are ever checked between two successes,
//! in sequence or all at once. The [`LOCK_AFTER`]th failure in a row locks the address for
//! [`LOCK_MS`]; failures older than [`LOCK_MS`] are forgotten. Addresses that no account has are
//! counted alike, so the answers tell nobody which addresses exist.

use super::UnixMillis;

/// Failed sign-ins in a row before the account is locked...
pub const LOCK_AFTER: i64 = 5;
/// ...for this long; older failures are forgotten after as long.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// What is stored per e-mail address: failures in a row (attempts under way included), the end
/// of a lock, when the last attempt was counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    pub failures: i64,
    pub locked_until: Option<UnixMillis>,
    pub last_at: UnixMillis,
}

/// Whether a sign-in may have its password checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check it: this is the `n`th attempt in a row (counted as failed until it succeeds).
    Check { attempt: i64 },
    /// Refused unchecked: locked, or as many attempts as allowed are under way already.
    Locked,
}

/// Counts an attempt at `now`: the stored state to write, and the admission.
pub fn admit(stored: Attempts, now: UnixMillis) -> (Attempts, Admission) {
    if stored.locked_until.is_some_and(|until| until > now) {
        return (stored, Admission::Locked);
    }
    let forgotten = stored.locked_until.is_some() || stored.last_at <= now - LOCK_MS;
    let attempt = if forgotten { 1 } else { stored.failures + 1 };
    let next = Attempts { failures: attempt, locked_until: None, last_at: now };
    if attempt > LOCK_AFTER {
        // The attempts before this one are still being checked; if they all fail, the lock
        // starts with the last of them.
        return (Attempts { failures: LOCK_AFTER, ..next }, Admission::Locked);
    }
    (next, Admission::Check { attempt })
}

/// The `attempt`th attempt failed at `now`: the state to write, and whether the account is locked.
pub fn failed(stored: Attempts, attempt: i64, now: UnixMillis) -> (Attempts, bool) {
    if attempt < LOCK_AFTER {
        return (stored, false);
    }
    let locked_until = stored.locked_until.filter(|until| *until > now).unwrap_or(now + LOCK_MS);
    (Attempts { failures: 0, locked_until: Some(locked_until), last_at: now }, true)
}

/// An attempt succeeded: every failure is forgiven (what is stored is deleted).
pub fn succeeded() -> Option<Attempts> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies attempts one after another, each failing; answers the admissions.
    fn fail_in_a_row(mut stored: Attempts, times: usize, now: UnixMillis) -> (Attempts, Vec<bool>) {
        let mut locked = Vec::new();
        for _ in 0..times {
            let (next, admission) = admit(stored, now);
            stored = next;
            match admission {
                Admission::Check { attempt } => {
                    let (next, lock) = failed(stored, attempt, now);
                    stored = next;
                    locked.push(lock);
                }
                Admission::Locked => locked.push(true),
            }
        }
        (stored, locked)
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_fifteen_minutes() {
        let (stored, locked) = fail_in_a_row(Attempts::default(), 6, 1_000_000);
        assert_eq!(locked, [false, false, false, false, true, true]);
        assert_eq!(stored.locked_until, Some(1_000_000 + LOCK_MS));
        assert_eq!(admit(stored, 1_000_000 + LOCK_MS - 1).1, Admission::Locked);
        assert_eq!(admit(stored, 1_000_000 + LOCK_MS).1, Admission::Check { attempt: 1 }, "a lock ends");
    }

    #[test]
    fn attempts_at_once_are_admitted_no_more_than_the_limit() {
        // Twelve sign-ins counted before any of them is checked.
        let mut stored = Attempts::default();
        let mut admitted = Vec::new();
        for _ in 0..12 {
            let (next, admission) = admit(stored, 5_000);
            stored = next;
            admitted.push(admission);
        }
        let checked: Vec<_> = admitted.iter().filter(|a| matches!(a, Admission::Check { .. })).collect();
        assert_eq!(checked.len() as i64, LOCK_AFTER);
        assert_eq!(admitted[5..], [Admission::Locked; 7]);
        // The checks then fail in any order: the fifth locks.
        let (stored, locked) = failed(stored, 5, 5_001);
        assert!(locked);
        assert_eq!(admit(stored, 5_002).1, Admission::Locked);
    }

    #[test]
    fn old_failures_are_forgotten_and_a_success_forgives_all() {
        let (stored, _) = fail_in_a_row(Attempts::default(), 4, 0);
        assert_eq!(admit(stored, LOCK_MS - 1).1, Admission::Check { attempt: 5 });
        assert_eq!(admit(stored, LOCK_MS).1, Admission::Check { attempt: 1 }, "15 minutes later");
        assert_eq!(succeeded(), None);
    }

    #[test]
    fn a_failure_during_a_lock_does_not_extend_it() {
        let stored = Attempts { failures: 0, locked_until: Some(10_000), last_at: 0 };
        assert_eq!(failed(stored, LOCK_AFTER, 5_000).0.locked_until, Some(10_000));
    }
}
