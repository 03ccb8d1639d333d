//! The time left to pay, counted down from the seconds the backend reported (not from the
//! shopper's clock, which may be wrong), using the browser's monotonic clock in between. Screen
//! readers hear it at a few milestones, not every second; at zero the widget asks the backend.

use crate::{browser, checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

/// How often the time left is looked at (twice a second, so no second is skipped).
const TICK_MS: u32 = 500;

/// Seconds left at which the time is announced to screen readers.
pub const ANNOUNCE_AT_SECS: [u64; 3] = [300, 60, 30];

/// `m:ss` for a number of seconds.
pub fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The milestone crossed when the time left drops from `before` to `now`, if any.
pub fn milestone(before: u64, now: u64) -> Option<u64> {
    ANNOUNCE_AT_SECS.into_iter().find(|&mark| before > mark && now <= mark)
}

#[component]
pub fn Countdown(checkout: Checkout, expires_in_secs: u64) -> impl IntoView {
    let locale = checkout.locale;
    let read_at = checkout.session_read_at.get_untracked();
    let left = RwSignal::new(expires_in_secs);
    let tick = move || {
        let elapsed = ((browser::now_ms() - read_at) / 1000.0).max(0.0) as u64;
        let before = left.get_untracked();
        let now = expires_in_secs.saturating_sub(elapsed);
        if now == before {
            return;
        }
        left.set(now);
        if let Some(mark) = milestone(before, now) {
            checkout.announcement.set(locale.format(Key::TimeLeft, &[("time", &clock(mark))]));
        }
        if now == 0 {
            // The backend decides whether the session expired; ask it now.
            checkout.poll_now();
        }
    };
    if let Some(timer) = browser::Timer::repeat(TICK_MS, tick) {
        let timer = SendWrapper::new(timer);
        on_cleanup(move || drop(timer));
    }
    view! {
        <p class="wc-countdown" data-testid="countdown">
            {move || locale.format(Key::ExpiresIn, &[("time", &clock(left.get()))])}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::{clock, milestone};

    #[test]
    fn clock_pads_seconds() {
        assert_eq!(clock(900), "15:00");
        assert_eq!(clock(61), "1:01");
        assert_eq!(clock(0), "0:00");
    }

    #[test]
    fn milestones_are_announced_once_when_crossed() {
        assert_eq!(milestone(301, 300), Some(300));
        assert_eq!(milestone(300, 299), None);
        assert_eq!(milestone(62, 59), Some(60));
        assert_eq!(milestone(900, 899), None);
        assert_eq!(milestone(31, 0), Some(30));
    }
}
