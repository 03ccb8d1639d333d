//! The time left to pay, counted down from the seconds the backend reported (not from the
//! shopper's clock, which may be wrong), using the browser's monotonic clock in between.

use crate::{browser, checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use std::time::Duration;

/// `m:ss` for a number of seconds.
pub fn clock(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[component]
pub fn Countdown(checkout: Checkout, expires_in_secs: u64) -> impl IntoView {
    let locale = checkout.locale;
    let read_at = checkout.session_read_at.get_untracked();
    let left = RwSignal::new(expires_in_secs);
    let tick = move || {
        let elapsed = ((browser::now_ms() - read_at) / 1000.0).max(0.0) as u64;
        left.set(expires_in_secs.saturating_sub(elapsed));
    };
    if let Ok(handle) = set_interval_with_handle(tick, Duration::from_millis(1000)) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <p class="wc-countdown" data-testid="countdown">
            {move || locale.format(Key::ExpiresIn, &[("time", &clock(left.get()))])}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clock_pads_seconds() {
        assert_eq!(clock(900), "15:00");
        assert_eq!(clock(61), "1:01");
        assert_eq!(clock(0), "0:00");
    }
}
