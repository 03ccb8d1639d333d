//! A token bucket per client ([`ClientKey`]: IPv6 clients are counted per /64), for session
//! creation, console sign-ins and refused notifications: each client may take `per_minute`
//! tokens a minute, in bursts of up to as many. Kept in memory, per instance, in a map of bounded
//! size: when the map is full the buckets idle longest are forgotten first. Time is the server's
//! [`Clock`](crate::domain::clock::Clock), read by the caller: a test moves it to refill a bucket.

use crate::domain::{ClientKey, UnixMillis};
use std::{collections::HashMap, sync::Mutex, time::Duration};

pub struct RateLimiter {
    per_minute: u32,
    capacity: usize,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: UnixMillis,
}

/// Most addresses tracked at once (a bucket takes about 40 bytes: a few MiB at most).
pub const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    /// `per_minute = 0` allows everything.
    pub fn new(per_minute: u32) -> Self {
        Self::with_capacity(per_minute, MAX_TRACKED)
    }

    /// A limiter that tracks at most `capacity` addresses.
    pub fn with_capacity(per_minute: u32, capacity: usize) -> Self {
        Self { per_minute, capacity: capacity.max(2), buckets: Mutex::new(HashMap::new()) }
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    /// Takes one token for `client`; `Err(wait)` when none is left, with how long until one is.
    pub fn check(&self, client: ClientKey, now: UnixMillis) -> Result<(), Duration> {
        self.with_bucket(client, now, |bucket| {
            bucket.tokens -= 1.0;
        })
    }

    /// Whether `client` has a token left, without taking it (`Err(wait)` as for [`Self::check`]):
    /// for limits that charge only some requests, after the fact.
    pub fn peek(&self, client: ClientKey, now: UnixMillis) -> Result<(), Duration> {
        self.with_bucket(client, now, |_| {})
    }

    /// The bucket of `client`, refilled to `now`; `take` runs on it if a token is left.
    fn with_bucket(
        &self,
        client: ClientKey,
        now: UnixMillis,
        take: impl FnOnce(&mut Bucket),
    ) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= self.capacity && !buckets.contains_key(&client) {
            // A bucket idle for a minute is full again: it need not be kept. If that frees too
            // little, the half idle longest goes (their clients start again with a full bucket,
            // the same as a client seen for the first time).
            buckets.retain(|_, bucket| now - bucket.updated < 60_000);
            if buckets.len() >= self.capacity * 9 / 10 {
                let mut ages: Vec<UnixMillis> = buckets.values().map(|bucket| bucket.updated).collect();
                let keep = self.capacity / 2;
                let cut = ages.len() - keep;
                let (_, newest_dropped, _) = ages.select_nth_unstable(cut - 1);
                let threshold = *newest_dropped;
                buckets.retain(|_, bucket| bucket.updated > threshold);
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket { tokens: capacity, updated: now });
        // A clock set back refills nothing (and takes nothing away).
        let elapsed = (now - bucket.updated).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            take(bucket);
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn client(address: &str) -> ClientKey {
        ClientKey::of(address.parse().unwrap())
    }

    #[test]
    fn a_burst_is_allowed_then_requests_wait_for_the_refill() {
        let limiter = RateLimiter::new(3);
        let address = client("192.0.2.1");
        let start = 1_700_000_000_000;
        for _ in 0..3 {
            assert!(limiter.check(address, start).is_ok());
        }
        let wait = limiter.check(address, start).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limiter.check(address, start + 19_000).is_err(), "not yet a whole token");
        assert!(limiter.check(address, start + 20_000).is_ok());
    }

    #[test]
    fn a_clock_set_back_refills_nothing() {
        let limiter = RateLimiter::new(1);
        let address = client("192.0.2.1");
        let now = 1_700_000_000_000;
        assert!(limiter.check(address, now).is_ok());
        assert!(limiter.check(address, now - 120_000).is_err(), "set back two minutes");
        assert!(limiter.check(address, now + 59_000).is_err(), "counted from the latest reading");
        assert!(limiter.check(address, now + 60_000).is_ok());
    }

    #[test]
    fn addresses_have_their_own_buckets() {
        let limiter = RateLimiter::new(1);
        let now = 1_700_000_000_000;
        assert!(limiter.check(client("192.0.2.1"), now).is_ok());
        assert!(limiter.check(client("192.0.2.2"), now).is_ok());
        assert!(limiter.check(client("192.0.2.1"), now).is_err());
    }

    #[test]
    fn the_map_stays_bounded_under_a_flood_of_addresses() {
        let limiter = RateLimiter::with_capacity(5, 1_000);
        let start: UnixMillis = 1_700_000_000_000;
        for i in 0..50_000u32 {
            let address = ClientKey::of(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
            assert!(limiter.check(address, start + UnixMillis::from(i)).is_ok());
            assert!(limiter.tracked() <= 1_000, "{} tracked after {i}", limiter.tracked());
        }
    }

    #[test]
    fn an_ipv6_network_shares_one_bucket() {
        let limiter = RateLimiter::new(1);
        let now = 1_700_000_000_000;
        assert!(limiter.check(client("2001:db8:1:2::1"), now).is_ok());
        assert!(limiter.check(client("2001:db8:1:2:ffff::9"), now).is_err(), "same /64");
        assert!(limiter.check(client("2001:db8:1:3::1"), now).is_ok(), "another /64");
        assert!(limiter.check(client("::ffff:192.0.2.1"), now).is_ok());
        assert!(limiter.check(client("192.0.2.1"), now).is_err(), "mapped is the IPv4 address");
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.check(client("192.0.2.1"), 1_700_000_000_000).is_ok());
        }
    }
}
