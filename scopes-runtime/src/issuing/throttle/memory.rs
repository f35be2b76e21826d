//! The throttle's counts in this process: one table under one lock, so reserving is atomic.
//!
//! Keys are keyed hashes of the username and the client's address, so an entry is a few dozen bytes
//! whatever the username, and the table holds at most [`ThrottlePolicy::max_entries`] of them.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Outcome, ThrottlePolicy};

/// The counts of one process.
#[derive(Clone)]
pub(crate) struct MemoryThrottle {
    shared: Arc<Shared>,
}

struct Shared {
    policy: ThrottlePolicy,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<u64, Entry>,
    /// Keys the entries: a random key per throttle, so nobody can aim usernames at one entry.
    hasher: RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Failures since `since`.
    failures: u32,
    /// Attempts reserved and not settled yet.
    pending: u32,
    /// When the first of `failures` happened.
    since: Instant,
    /// When the entry was last reserved or settled, for eviction.
    touched: Instant,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Entry { failures: 0, pending: 0, since: now, touched: now }
    }

    /// Forgets failures older than the window.
    fn expire(&mut self, now: Instant, window: Duration) {
        if self.failures > 0 && now.duration_since(self.since) >= window {
            self.failures = 0;
        }
    }

    fn is_idle(&self) -> bool {
        self.failures == 0 && self.pending == 0
    }
}

/// The entries one attempt touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keys {
    pair: u64,
    account: u64,
    client: u64,
}

impl Keys {
    fn all(self) -> [u64; 3] {
        [self.pair, self.account, self.client]
    }
}

impl std::fmt::Debug for MemoryThrottle {
    /// The policy and how many entries are tracked; never a username or an address.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryThrottle")
            .field("policy", &self.shared.policy)
            .field("tracked", &self.shared.lock().entries.len())
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every update leaves the counts consistent before anything can panic; keep using them.
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MemoryThrottle {
    pub(crate) fn new(policy: ThrottlePolicy) -> Self {
        MemoryThrottle { shared: Arc::new(Shared { policy, table: Mutex::default() }) }
    }

    pub(crate) fn policy(&self) -> &ThrottlePolicy {
        &self.shared.policy
    }

    /// Reserves an attempt for `username` from `client` (a bucket already), with the account's failures
    /// in the window; or says how long until one would be accepted.
    pub(crate) fn reserve(&self, username: &str, client: Option<IpAddr>) -> Result<(Keys, u32), Duration> {
        self.reserve_at(username, client, Instant::now())
    }

    fn reserve_at(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Result<(Keys, u32), Duration> {
        let policy = &self.shared.policy;
        let mut table = self.shared.lock();
        let keys = Keys {
            pair: table.hasher.hash_one((0u8, username, client)),
            account: table.hasher.hash_one((1u8, username)),
            client: table.hasher.hash_one((2u8, client)),
        };
        for (key, limit) in [(keys.pair, policy.attempts_per_pair), (keys.client, policy.attempts_per_client)] {
            if let Some(entry) = table.entries.get_mut(&key) {
                entry.expire(now, policy.window);
                if entry.failures.saturating_add(entry.pending) >= limit {
                    // Refused by attempts still in flight alone: they settle within seconds.
                    let retry_after = if entry.failures >= limit {
                        (entry.since + policy.window).saturating_duration_since(now)
                    } else {
                        Duration::from_secs(1)
                    };
                    return Err(retry_after);
                }
            }
        }
        let account_failures = table.entries.get_mut(&keys.account).map_or(0, |entry| {
            entry.expire(now, policy.window);
            entry.failures
        });
        table.make_room(policy, now);
        for key in keys.all() {
            let entry = table.entries.entry(key).or_insert_with(|| Entry::new(now));
            entry.pending += 1;
            entry.touched = now;
        }
        Ok((keys, account_failures))
    }

    pub(crate) fn settle(&self, keys: Keys, outcome: Outcome) {
        self.settle_at(keys, outcome, Instant::now());
    }

    fn settle_at(&self, keys: Keys, outcome: Outcome, now: Instant) {
        let window = self.shared.policy.window;
        let mut table = self.shared.lock();
        for key in keys.all() {
            let Some(entry) = table.entries.get_mut(&key) else { continue };
            entry.pending = entry.pending.saturating_sub(1);
            entry.touched = now;
            match outcome {
                Outcome::Failed => {
                    entry.expire(now, window);
                    if entry.failures == 0 {
                        entry.since = now;
                    }
                    entry.failures = entry.failures.saturating_add(1);
                }
                // The pair proved it knows the password; the account's and the client's counts stand, so an
                // attacker's own successful logins neither lift a slowdown nor clear their address.
                Outcome::Succeeded if key == keys.pair => entry.failures = 0,
                Outcome::Succeeded | Outcome::Withdrawn => {}
            }
            if entry.is_idle() {
                table.entries.remove(&key);
            }
        }
    }

    pub(crate) fn tracked(&self) -> usize {
        self.shared.lock().entries.len()
    }
}

impl Table {
    /// Makes room for the three entries an attempt may add: drops expired entries, then the least
    /// recently used eighth of the idle-free ones. Entries with attempts in flight are never dropped. Done
    /// in bulk, so a flood of new keys costs one pass per eighth of the table, not one per attempt.
    fn make_room(&mut self, policy: &ThrottlePolicy, now: Instant) {
        if self.entries.len() + 3 <= policy.max_entries {
            return;
        }
        self.entries.retain(|_, entry| {
            entry.expire(now, policy.window);
            !entry.is_idle()
        });
        if self.entries.len() + 3 <= policy.max_entries {
            return;
        }
        let mut settled: Vec<(Instant, u64)> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.pending == 0)
            .map(|(key, entry)| (entry.touched, *key))
            .collect();
        let evict = (policy.max_entries / 8).max(3).min(settled.len());
        if evict == 0 {
            return;
        }
        settled.select_nth_unstable(evict - 1);
        for (_, key) in &settled[..evict] {
            self.entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuing::throttle::client_bucket;

    /// A reserved attempt, settled as `Reservation` settles it (dropped unsettled, a failure).
    #[derive(Debug)]
    struct Attempt<'a> {
        throttle: &'a MemoryThrottle,
        keys: Option<Keys>,
        delay: Duration,
    }

    impl Attempt<'_> {
        fn failed(self) {
            self.settle(Outcome::Failed);
        }

        fn succeeded(self) {
            self.settle(Outcome::Succeeded);
        }

        fn withdrawn(self) {
            self.settle(Outcome::Withdrawn);
        }

        fn settle(mut self, outcome: Outcome) {
            if let Some(keys) = self.keys.take() {
                self.throttle.settle(keys, outcome);
            }
        }
    }

    impl Drop for Attempt<'_> {
        fn drop(&mut self) {
            if let Some(keys) = self.keys.take() {
                self.throttle.settle(keys, Outcome::Failed);
            }
        }
    }

    impl MemoryThrottle {
        fn attempt(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Result<Attempt<'_>, Duration> {
            let (keys, failures) = self.reserve_at(username, client_bucket(client), now)?;
            Ok(Attempt { throttle: self, keys: Some(keys), delay: self.policy().account_delay(failures) })
        }
    }

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            attempts_per_pair: 3,
            attempts_per_client: 5,
            account_free_failures: 2,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            window: Duration::from_secs(60),
            max_entries: 1000,
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn reservations_count_before_they_settle() {
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        let held: Vec<Attempt<'_>> =
            (0..3).map(|_| throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap()).collect();
        assert_eq!(throttle.attempt("johndoe", ip("192.0.2.1"), now).err(), Some(Duration::from_secs(1)));
        for reservation in held {
            reservation.failed();
        }
        // The failures settled a moment after `now`: the lock lasts the window from then.
        let retry_after = throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap_err();
        assert!((Duration::from_secs(60)..Duration::from_secs(61)).contains(&retry_after), "{retry_after:?}");
        let later = now + Duration::from_secs(62);
        assert!(throttle.attempt("johndoe", ip("192.0.2.1"), later).is_ok(), "the window ends");
    }

    #[test]
    fn withdrawn_attempts_leave_no_trace_and_dropped_ones_count() {
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..10 {
            throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap().withdrawn();
        }
        assert_eq!(throttle.tracked(), 0);
        for _ in 0..3 {
            drop(throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap());
        }
        assert!(throttle.attempt("johndoe", ip("192.0.2.1"), now).is_err());
    }

    #[test]
    fn a_locked_pair_leaves_the_owner_slowed_not_locked() {
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..3 {
            throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        assert!(throttle.attempt("johndoe", ip("192.0.2.1"), now).is_err(), "the failing pair is locked");
        let owner = throttle.attempt("johndoe", ip("198.51.100.9"), now).expect("the owner is not locked out");
        assert_eq!(owner.delay, Duration::from_millis(200), "three failures, two free: slowed twice over");
        owner.succeeded();
    }

    #[test]
    fn account_delays_double_and_are_capped() {
        let throttle = MemoryThrottle::new(ThrottlePolicy { attempts_per_client: u32::MAX, ..policy() });
        let now = Instant::now();
        let mut delays = Vec::new();
        for client in 1..=6 {
            let reservation = throttle.attempt("johndoe", ip(&format!("192.0.2.{client}")), now).unwrap();
            delays.push(reservation.delay.as_millis());
            reservation.failed();
        }
        assert_eq!(delays, [0, 0, 100, 200, 300, 300]);
    }

    #[test]
    fn a_client_failing_across_accounts_is_locked() {
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        for name in ["a", "b", "c", "d", "e"] {
            throttle.attempt(name, ip("203.0.113.7"), now).unwrap().failed();
        }
        assert!(throttle.attempt("f", ip("203.0.113.7"), now).is_err());
        assert!(throttle.attempt("f", ip("203.0.113.8"), now).is_ok());
    }

    #[test]
    fn success_clears_the_pair_only() {
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..2 {
            throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap().succeeded();
        for _ in 0..3 {
            throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        assert!(throttle.attempt("johndoe", ip("192.0.2.1"), now).is_err(), "the pair counts afresh");
        let delay = throttle.attempt("johndoe", ip("192.0.2.2"), now).unwrap().delay;
        assert_eq!(delay, Duration::from_millis(300), "the account's five failures still count");
    }

    #[test]
    fn ipv6_clients_are_told_apart_by_their_64_prefix() {
        assert_eq!(client_bucket(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client_bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let throttle = MemoryThrottle::new(policy());
        let now = Instant::now();
        for host in 1..=3 {
            throttle.attempt("johndoe", ip(&format!("2001:db8:1:2::{host}")), now).unwrap().failed();
        }
        assert!(throttle.attempt("johndoe", ip("2001:db8:1:2::99"), now).is_err());
        assert!(throttle.attempt("johndoe", ip("2001:db8:1:3::1"), now).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_entries_whatever_the_usernames() {
        let throttle = MemoryThrottle::new(ThrottlePolicy { max_entries: 64, ..ThrottlePolicy::disabled() });
        let now = Instant::now();
        let huge = "u".repeat(16 * 1024);
        for round in 0..1000 {
            let name = format!("{huge}{round}");
            throttle.attempt(&name, ip(&format!("10.0.{}.{}", round / 250, round % 250)), now).unwrap().failed();
            assert!(throttle.tracked() <= 64, "round {round}: {} entries", throttle.tracked());
        }
        assert!(format!("{throttle:?}").len() < 300, "Debug shows counts, not keys");
    }

    #[test]
    fn entries_in_flight_are_never_evicted() {
        let throttle = MemoryThrottle::new(ThrottlePolicy { max_entries: 16, ..policy() });
        let now = Instant::now();
        let held: Vec<Attempt<'_>> =
            (0..3).map(|_| throttle.attempt("johndoe", ip("192.0.2.1"), now).unwrap()).collect();
        for round in 0..200 {
            let _ = throttle
                .attempt(&format!("u{round}"), ip(&format!("10.1.0.{}", round % 250)), now)
                .map(Attempt::failed);
        }
        assert!(throttle.attempt("johndoe", ip("192.0.2.1"), now).is_err(), "the pair's three are still held");
        drop(held);
    }
}
