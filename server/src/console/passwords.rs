//! Password hashing off the async workers. Argon2 is slow on purpose (tens of milliseconds of one
//! core); run on the workers that serve every request, a flood of anonymous sign-ins would slow
//! the whole server. Here it runs on tokio's blocking threads, at most [`Passwords::running`] at
//! once and with at most as many again waiting for a slot: past that a sign-in is told the
//! console is busy (503 with `Retry-After`) at the cost of nothing. A sign-in for an address no
//! account has is checked against a hash all the same, so its cost and answer are those of a
//! wrong password.

use super::auth;
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, LazyLock,
    },
    time::Duration,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A hash to verify against when no account has the e-mail address.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| auth::hash_password("not the password of anyone").unwrap_or_default());

/// How long a caller told "busy" is asked to wait before trying again.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

/// The console is hashing as many passwords as it may, with a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked; try again shortly")]
pub struct Busy;

#[derive(Debug, Clone)]
pub struct Passwords {
    slots: Arc<Semaphore>,
    /// Callers holding or waiting for a slot.
    queued: Arc<AtomicUsize>,
    running: usize,
    waiting: usize,
}

/// The right to hash one password now.
pub struct Slot {
    permit: OwnedSemaphorePermit,
    _queued: Queued,
}

struct Queued(Arc<AtomicUsize>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    /// At most `running` hashes at once and `waiting` callers waiting for one.
    pub fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        Self { slots: Arc::new(Semaphore::new(running)), queued: Arc::default(), running, waiting }
    }

    /// Half of this machine's cores hash (at least one), so the other half keeps serving.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let running = (cores / 2).max(1);
        Self::new(running, running * 8)
    }

    /// Hashes that may run at once.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Waits for a slot, or answers [`Busy`] at once when as many callers wait already.
    pub async fn slot(&self) -> Result<Slot, Busy> {
        let ahead = self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(self.queued.clone());
        if ahead >= self.running + self.waiting {
            return Err(Busy);
        }
        let permit = self.slots.clone().acquire_owned().await.map_err(|_| Busy)?;
        Ok(Slot { permit, _queued: queued })
    }

    /// Whether `password` is the one `hash` was made from (`None`: no account, always `false`
    /// after the same work), in a slot of its own.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        self.slot().await?.verify(password, hash).await
    }

    /// A new hash of `password`, in a slot of its own.
    pub async fn hash(&self, password: &str) -> Result<anyhow::Result<String>, Busy> {
        self.slot().await?.run(auth::hash_password, password.to_owned()).await
    }
}

impl Slot {
    pub async fn verify(self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        let hash = hash.map(str::to_owned);
        self.run(
            move |password: &str| match &hash {
                Some(hash) => auth::verify_password(password, hash),
                None => {
                    let _ = auth::verify_password(password, DUMMY_HASH.as_str());
                    false
                }
            },
            password.to_owned(),
        )
        .await
    }

    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&str) -> T + Send + 'static,
        password: String,
    ) -> Result<T, Busy> {
        // The slot is held until the hash is done, even if the request is dropped meanwhile.
        tokio::task::spawn_blocking(move || {
            let _slot = self;
            work(&password)
        })
        .await
        .map_err(|_| Busy)
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slot({} permit)", self.permit.num_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn callers_past_the_slots_and_the_queue_are_told_busy_at_once() {
        let passwords = Passwords::new(1, 2);
        let running = passwords.slot().await.unwrap();
        let waiting = [
            tokio::spawn({
                let p = passwords.clone();
                async move { p.slot().await.map(drop) }
            }),
            tokio::spawn({
                let p = passwords.clone();
                async move { p.slot().await.map(drop) }
            }),
        ];
        while passwords.queued.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(passwords.slot().await.unwrap_err(), Busy, "one running and two waiting: full");
        drop(running);
        for waiter in waiting {
            waiter.await.unwrap().unwrap();
        }
        assert_eq!(passwords.queued.load(Ordering::SeqCst), 0, "every place is given back");
        assert!(passwords.verify("x", None).await.is_ok_and(|ok| !ok));
    }

    #[tokio::test]
    async fn a_hash_made_in_a_slot_verifies() {
        let passwords = Passwords::new(1, 0);
        let hash = passwords.hash("correct horse battery").await.unwrap().unwrap();
        assert!(passwords.verify("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("wrong horse battery", Some(&hash)).await.unwrap());
    }
}
