//! Password hashing off the async workers. Argon2 is slow on purpose (tens of milliseconds of one
//! core); run on the workers that serve every request, a flood of anonymous sign-ins would slow
//! the whole server. Here it runs on threads of its own, [`Passwords::running`] of them, at the
//! lowest scheduling priority that needs no privilege (nice 10), so that under contention the
//! cores go to the requests first. At most as many again may wait for a thread: past that a
//! sign-in is told the console is busy (503 with `Retry-After`) at the cost of nothing. A sign-in
//! for an address no account has is checked against a hash all the same, so its cost and answer
//! are those of a wrong password.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use std::{
    sync::{mpsc, Arc, LazyLock, Mutex},
    time::Duration,
};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// A hash to verify against when no account has the e-mail address.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not the password of anyone").unwrap_or_default());

/// An argon2id hash of a password (PHC string, with its own salt).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// How long a caller told "busy" is asked to wait before trying again.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

/// The nice value of the hashing threads (0 is the default; 19 the lowest priority).
const HASHING_NICE: i32 = 10;

/// The console is hashing as many passwords as it may, with a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked; try again shortly")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, Clone)]
pub struct Passwords {
    /// Places for hashes running or waiting for a thread.
    places: Arc<Semaphore>,
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    running: usize,
}

/// A place to hash one password, held from before the caller's other work until the hash is done.
#[derive(Debug)]
pub struct Slot {
    place: OwnedSemaphorePermit,
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
}

impl Passwords {
    /// `running` hashing threads (started here) and `waiting` more places in their queue.
    pub fn new(running: usize, waiting: usize) -> Self {
        let running = running.max(1);
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..running {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("password-hash-{n}")).spawn(move || {
                lower_this_threads_priority();
                loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "a password hashing thread could not start");
            }
        }
        Self {
            places: Arc::new(Semaphore::new(running + waiting)),
            jobs: Arc::new(Mutex::new(sender)),
            running,
        }
    }

    /// Half of this machine's cores hash (at least one), with eight places waiting for each.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let running = (cores / 2).max(1);
        Self::new(running, running * 8)
    }

    /// Hashes that may run at once.
    pub fn running(&self) -> usize {
        self.running
    }

    /// A place to hash a password, or [`Busy`] at once when every place is taken.
    pub fn slot(&self) -> Result<Slot, Busy> {
        let place = self.places.clone().try_acquire_owned().map_err(|_| Busy)?;
        Ok(Slot { place, jobs: self.jobs.clone() })
    }

    /// Whether `password` is the one `hash` was made from (`None`: no account, always `false`
    /// after the same work), in a place of its own.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        self.slot()?.verify(password, hash).await
    }

    /// A new hash of `password`, in a place of its own.
    pub async fn hash(&self, password: &str) -> Result<anyhow::Result<String>, Busy> {
        let password = password.to_owned();
        self.slot()?.run(move || hash_password(&password)).await
    }
}

impl Slot {
    pub async fn verify(self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
        self.run(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                let _ = verify_password(&password, DUMMY_HASH.as_str());
                false
            }
        })
        .await
    }

    /// Runs `work` on a hashing thread; the place is given back when it is done, even if the
    /// request is dropped meanwhile.
    async fn run<T: Send + 'static>(self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let (answer, answered) = oneshot::channel();
        let place = self.place;
        let job: Job = Box::new(move || {
            let result = work();
            // Given back before the answer, so that the caller finds it free again.
            drop(place);
            let _ = answer.send(result);
        });
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.send(job),
            Err(poisoned) => poisoned.into_inner().send(job),
        };
        sent.map_err(|_| Busy)?;
        answered.await.map_err(|_| Busy)
    }
}

/// Gives the calling thread a lower scheduling priority (on Linux the nice value is a thread's).
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_a_salt_and_verified() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "a new salt each time");
        assert!(!verify_password("x", "not a hash"));
    }

    #[tokio::test]
    async fn callers_past_the_places_are_told_busy_at_once() {
        let passwords = Passwords::new(1, 2);
        let held: Vec<Slot> = (0..3).map(|_| passwords.slot().unwrap()).collect();
        assert_eq!(passwords.slot().unwrap_err(), Busy, "one running and two waiting: full");
        drop(held);
        assert!(passwords.slot().is_ok(), "every place is given back");
        assert!(passwords.verify("x", None).await.is_ok_and(|ok| !ok));
    }

    #[tokio::test]
    async fn a_hash_made_in_a_place_verifies() {
        let passwords = Passwords::new(1, 0);
        let hash = passwords.hash("correct horse battery").await.unwrap().unwrap();
        assert!(passwords.verify("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("wrong horse battery", Some(&hash)).await.unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_hashing_threads_run_at_a_lower_priority() {
        let passwords = Passwords::new(1, 0);
        let (sender, receiver) = std::sync::mpsc::channel();
        let slot = passwords.slot().unwrap();
        let job: Job = Box::new(move || {
            let _slot = slot;
            // SAFETY: getpriority reads its integer arguments only.
            let _ = sender.send(unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) });
        });
        passwords.jobs.lock().unwrap().send(job).unwrap();
        assert_eq!(receiver.recv().unwrap(), HASHING_NICE);
    }
}
