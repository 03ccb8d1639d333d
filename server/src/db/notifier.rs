//! Wakes requests that wait for a session's status to change (long polling). A status change
//! is published here after it commits: directly on SQLite (one process), and through PostgreSQL's
//! `LISTEN/NOTIFY` on PostgreSQL, so a change made by any instance reaches waiters on every one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};
use tokio::sync::{watch, Notify};

/// The PostgreSQL channel status changes are announced on; the payload is the session id.
pub const CHANNEL: &str = "wallet_checkout_sessions";

pub struct Notifier {
    sessions: Mutex<HashMap<String, Weak<Notify>>>,
    /// Wakes every waiter (the listener lost its connection and may have missed changes).
    everyone: Notify,
    shutdown: watch::Sender<bool>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self { sessions: Mutex::default(), everyone: Notify::new(), shutdown: watch::channel(false).0 }
    }
}

/// A waiter's handle on one session's changes; registered before the waiter reads the session,
/// so no change between the read and the wait is missed.
pub struct Subscription<'a> {
    notifier: &'a Notifier,
    id: String,
    notify: Arc<Notify>,
}

impl Notifier {
    pub fn subscribe(&self, session_id: &str) -> Subscription<'_> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let notify = match sessions.get(session_id).and_then(Weak::upgrade) {
            Some(notify) => notify,
            None => {
                let notify = Arc::new(Notify::new());
                sessions.insert(session_id.to_owned(), Arc::downgrade(&notify));
                notify
            }
        };
        Subscription { notifier: self, id: session_id.to_owned(), notify }
    }

    /// Wakes the waiters of one session.
    pub fn publish(&self, session_id: &str) {
        let notify = {
            let sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sessions.get(session_id).and_then(Weak::upgrade)
        };
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    /// Wakes every waiter, to read its session again.
    pub fn publish_all(&self) {
        self.everyone.notify_waiters();
    }

    /// Answers every waiter now and every later one at once: the server is stopping.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sessions with a registered waiter (for tests and metrics).
    pub fn waiting_sessions(&self) -> usize {
        let sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sessions.values().filter(|weak| weak.strong_count() > 0).count()
    }
}

impl Subscription<'_> {
    /// Waits until the session may have changed, `timeout` passes, or the server stops.
    /// Call it with the future created before reading the session: see `changed`.
    pub async fn wait(
        &self,
        changed: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
        timeout: std::time::Duration,
    ) {
        let mut shutdown = self.notifier.shutdown.subscribe();
        if *shutdown.borrow_and_update() {
            return;
        }
        tokio::select! {
            () = changed => {}
            () = self.notifier.everyone.notified() => {}
            () = tokio::time::sleep(timeout) => {}
            _ = shutdown.changed() => {}
        }
    }

    /// A future that completes on the next change of this session; enable it before reading.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        let mut sessions = self.notifier.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The map's entry is weak; ours is the last strong handle when no one else waits.
        if Arc::strong_count(&self.notify) == 1 {
            sessions.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_published_change_wakes_a_waiter_of_that_session_only() {
        let notifier = Notifier::default();
        let waiter = notifier.subscribe("ses_a");
        let other = notifier.subscribe("ses_b");
        let changed = waiter.changed();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let other_changed = other.changed();
        tokio::pin!(other_changed);
        other_changed.as_mut().enable();
        notifier.publish("ses_a");
        let started = std::time::Instant::now();
        waiter.wait(changed, Duration::from_secs(5)).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        let started = std::time::Instant::now();
        other.wait(other_changed, Duration::from_millis(200)).await;
        assert!(started.elapsed() >= Duration::from_millis(200), "ses_b was not woken");
    }

    #[tokio::test]
    async fn shutting_down_answers_waiters_at_once() {
        let notifier = Notifier::default();
        notifier.shut_down();
        let waiter = notifier.subscribe("ses_a");
        let changed = waiter.changed();
        tokio::pin!(changed);
        let started = std::time::Instant::now();
        waiter.wait(changed, Duration::from_secs(5)).await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn entries_go_away_with_their_last_waiter() {
        let notifier = Notifier::default();
        {
            let _a = notifier.subscribe("ses_a");
            let _b = notifier.subscribe("ses_a");
            assert_eq!(notifier.waiting_sessions(), 1);
        }
        assert_eq!(notifier.waiting_sessions(), 0);
        assert!(notifier.sessions.lock().unwrap().is_empty());
    }
}
