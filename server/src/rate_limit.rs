//! A token bucket per client address, for session creation: each address may create
//! `per_minute` sessions a minute, in bursts of up to as many. Kept in memory, per instance.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Addresses tracked before idle ones are forgotten.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    /// `per_minute = 0` allows everything.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `address`; `Err(wait)` when none is left, with how long until one is.
    pub fn check(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= SWEEP_AT {
            // A bucket idle for a minute is full again: it need not be kept.
            buckets.retain(|_, bucket| now.duration_since(bucket.updated) < Duration::from_secs(60));
        }
        let bucket = buckets.entry(address).or_insert(Bucket { tokens: capacity, updated: now });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_requests_wait_for_the_refill() {
        let limiter = RateLimiter::new(3);
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(address, start).is_ok());
        }
        let wait = limiter.check(address, start).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.check(address, start + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn addresses_have_their_own_buckets() {
        let limiter = RateLimiter::new(1);
        let now = Instant::now();
        assert!(limiter.check("192.0.2.1".parse().unwrap(), now).is_ok());
        assert!(limiter.check("192.0.2.2".parse().unwrap(), now).is_ok());
        assert!(limiter.check("192.0.2.1".parse().unwrap(), now).is_err());
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.check("192.0.2.1".parse().unwrap(), Instant::now()).is_ok());
        }
    }
}
