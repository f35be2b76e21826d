//! Failed-login throttling, as OWASP's authentication cheat sheet has it: the (account, client) pair that
//! keeps failing is locked; the account as a whole is only slowed down, never shut out, so a stranger's
//! failures cannot lock its owner out; a client failing across many accounts is locked too.
//!
//! Every attempt *reserves* its place before its password is checked, under one lock, so no more attempts
//! are evaluated than the policy allows however many arrive at once; the reservation then settles as a
//! failure, a success, or (an attempt that was never evaluated: a storage outage, a full queue) nothing.
//!
//! Keys are keyed hashes of the username and the client's address, so an entry is a few dozen bytes
//! whatever the username, and the table holds at most [`ThrottlePolicy::max_entries`] of them.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// When failed logins are refused or slowed down.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::ThrottlePolicy;
///
/// let policy = ThrottlePolicy { attempts_per_pair: 5, ..ThrottlePolicy::default() };
/// assert_eq!(policy.window, Duration::from_secs(15 * 60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed logins of one account from one client within the window that are checked against the
    /// password; further attempts of that pair are refused (429) until the window ends. Attempts in
    /// flight count, so concurrency cannot exceed it.
    pub attempts_per_pair: u32,
    /// Failed logins from one client, for any accounts, within the window, before the client is refused.
    pub attempts_per_client: u32,
    /// Failed logins of one account, from any client, within the window, answered without delay. Each
    /// attempt after them waits [`first_delay`](Self::first_delay), doubling with every further failure up
    /// to [`max_delay`](Self::max_delay): the account is slowed down, never locked.
    pub account_free_failures: u32,
    /// The delay of the first slowed-down attempt on an account.
    pub first_delay: Duration,
    /// The longest delay an attempt waits.
    pub max_delay: Duration,
    /// How long failures are remembered, counted from the first.
    pub window: Duration,
    /// How many (pair, account, client) entries are tracked at most; each takes about 64 bytes. Beyond it,
    /// expired entries are dropped, then the least recently used.
    pub max_entries: usize,
}

impl ThrottlePolicy {
    /// Never refuses or slows down: for benchmarks that measure the password check itself.
    ///
    /// ```
    /// use scopes_runtime::ThrottlePolicy;
    /// assert_eq!(ThrottlePolicy::disabled().attempts_per_pair, u32::MAX);
    /// ```
    pub fn disabled() -> Self {
        ThrottlePolicy {
            attempts_per_pair: u32::MAX,
            attempts_per_client: u32::MAX,
            account_free_failures: u32::MAX,
            ..ThrottlePolicy::default()
        }
    }

    /// The delay for an attempt on an account that failed `failures` times within the window.
    fn account_delay(&self, failures: u32) -> Duration {
        let Some(slowed) = failures.checked_sub(self.account_free_failures) else { return Duration::ZERO };
        self.first_delay.saturating_mul(1u32 << slowed.min(16)).min(self.max_delay)
    }
}

impl Default for ThrottlePolicy {
    /// Ten attempts per (account, client) pair and a hundred per client within fifteen minutes; an account
    /// slowed down from 250 ms to 1 s per attempt after ten failures; 100,000 entries (about 7 MiB).
    fn default() -> Self {
        ThrottlePolicy {
            attempts_per_pair: 10,
            attempts_per_client: 100,
            account_free_failures: 10,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(1),
            window: Duration::from_secs(15 * 60),
            max_entries: 100_000,
        }
    }
}

/// What [`ClientAddress::bucket`](super::ClientAddress::bucket) answers.
pub(crate) fn client_bucket(address: Option<IpAddr>) -> Option<IpAddr> {
    address.map(|address| match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    })
}

/// Counts attempts per (account, client) pair, per account and per client; see [`ThrottlePolicy`].
#[derive(Clone, Default)]
pub(crate) struct LoginThrottle {
    shared: Arc<Shared>,
}

#[derive(Default)]
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
struct Keys {
    pair: u64,
    account: u64,
    client: u64,
}

impl Keys {
    fn all(self) -> [u64; 3] {
        [self.pair, self.account, self.client]
    }
}

/// How a reserved attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Failed,
    Succeeded,
    /// Never evaluated: the attempt leaves no trace.
    Withdrawn,
}

impl std::fmt::Debug for LoginThrottle {
    /// The policy and how many entries are tracked; never a username or an address.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
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

impl LoginThrottle {
    pub(crate) fn new(policy: ThrottlePolicy) -> Self {
        LoginThrottle { shared: Arc::new(Shared { policy, table: Mutex::default() }) }
    }

    pub(crate) fn policy(&self) -> &ThrottlePolicy {
        &self.shared.policy
    }

    /// Reserves an attempt for `username` from `client`, or says how long until one would be accepted.
    pub(crate) fn reserve(&self, username: &str, client: Option<IpAddr>) -> Result<Reservation, Duration> {
        self.reserve_at(username, client, Instant::now())
    }

    fn reserve_at(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Result<Reservation, Duration> {
        let policy = &self.shared.policy;
        let mut table = self.shared.lock();
        let client = client_bucket(client);
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
        Ok(Reservation { throttle: self.clone(), keys, delay: policy.account_delay(account_failures), settled: false })
    }

    fn settle(&self, keys: Keys, outcome: Outcome, now: Instant) {
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

/// One attempt's place in the throttle. Settle it with [`failed`](Self::failed),
/// [`succeeded`](Self::succeeded) or [`withdrawn`](Self::withdrawn); dropped unsettled (the client went
/// away while its password may have been checked), it counts as a failure.
#[derive(Debug)]
pub(crate) struct Reservation {
    throttle: LoginThrottle,
    keys: Keys,
    /// How long the attempt waits before its password is checked.
    pub(crate) delay: Duration,
    settled: bool,
}

impl Reservation {
    pub(crate) fn failed(self) {
        self.settle(Outcome::Failed);
    }

    pub(crate) fn succeeded(self) {
        self.settle(Outcome::Succeeded);
    }

    /// The attempt was never evaluated: it leaves no trace.
    pub(crate) fn withdrawn(self) {
        self.settle(Outcome::Withdrawn);
    }

    fn settle(mut self, outcome: Outcome) {
        self.settled = true;
        self.throttle.settle(self.keys, outcome, Instant::now());
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(self.keys, Outcome::Failed, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        let held: Vec<Reservation> =
            (0..3).map(|_| throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap()).collect();
        assert_eq!(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).err(), Some(Duration::from_secs(1)));
        for reservation in held {
            reservation.failed();
        }
        // The failures settled a moment after `now`: the lock lasts the window from then.
        let retry_after = throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap_err();
        assert!((Duration::from_secs(60)..Duration::from_secs(61)).contains(&retry_after), "{retry_after:?}");
        let later = now + Duration::from_secs(62);
        assert!(throttle.reserve_at("johndoe", ip("192.0.2.1"), later).is_ok(), "the window ends");
    }

    #[test]
    fn withdrawn_attempts_leave_no_trace_and_dropped_ones_count() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..10 {
            throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap().withdrawn();
        }
        assert_eq!(throttle.tracked(), 0);
        for _ in 0..3 {
            drop(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap());
        }
        assert!(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).is_err());
    }

    #[test]
    fn a_locked_pair_leaves_the_owner_slowed_not_locked() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..3 {
            throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        assert!(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).is_err(), "the failing pair is locked");
        let owner = throttle.reserve_at("johndoe", ip("198.51.100.9"), now).expect("the owner is not locked out");
        assert_eq!(owner.delay, Duration::from_millis(200), "three failures, two free: slowed twice over");
        owner.succeeded();
    }

    #[test]
    fn account_delays_double_and_are_capped() {
        let throttle = LoginThrottle::new(ThrottlePolicy { attempts_per_client: u32::MAX, ..policy() });
        let now = Instant::now();
        let mut delays = Vec::new();
        for client in 1..=6 {
            let reservation = throttle.reserve_at("johndoe", ip(&format!("192.0.2.{client}")), now).unwrap();
            delays.push(reservation.delay.as_millis());
            reservation.failed();
        }
        assert_eq!(delays, [0, 0, 100, 200, 300, 300]);
    }

    #[test]
    fn a_client_failing_across_accounts_is_locked() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        for name in ["a", "b", "c", "d", "e"] {
            throttle.reserve_at(name, ip("203.0.113.7"), now).unwrap().failed();
        }
        assert!(throttle.reserve_at("f", ip("203.0.113.7"), now).is_err());
        assert!(throttle.reserve_at("f", ip("203.0.113.8"), now).is_ok());
    }

    #[test]
    fn success_clears_the_pair_only() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        for _ in 0..2 {
            throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap().succeeded();
        for _ in 0..3 {
            throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap().failed();
        }
        assert!(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).is_err(), "the pair counts afresh");
        let delay = throttle.reserve_at("johndoe", ip("192.0.2.2"), now).unwrap().delay;
        assert_eq!(delay, Duration::from_millis(300), "the account's five failures still count");
    }

    #[test]
    fn ipv6_clients_are_told_apart_by_their_64_prefix() {
        assert_eq!(client_bucket(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client_bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        for host in 1..=3 {
            throttle.reserve_at("johndoe", ip(&format!("2001:db8:1:2::{host}")), now).unwrap().failed();
        }
        assert!(throttle.reserve_at("johndoe", ip("2001:db8:1:2::99"), now).is_err());
        assert!(throttle.reserve_at("johndoe", ip("2001:db8:1:3::1"), now).is_ok());
    }

    #[test]
    fn memory_is_bounded_by_entries_whatever_the_usernames() {
        let throttle = LoginThrottle::new(ThrottlePolicy { max_entries: 64, ..ThrottlePolicy::disabled() });
        let now = Instant::now();
        let huge = "u".repeat(16 * 1024);
        for round in 0..1000 {
            let name = format!("{huge}{round}");
            throttle.reserve_at(&name, ip(&format!("10.0.{}.{}", round / 250, round % 250)), now).unwrap().failed();
            assert!(throttle.tracked() <= 64, "round {round}: {} entries", throttle.tracked());
        }
        assert!(format!("{throttle:?}").len() < 300, "Debug shows counts, not keys");
    }

    #[test]
    fn entries_in_flight_are_never_evicted() {
        let throttle = LoginThrottle::new(ThrottlePolicy { max_entries: 16, ..policy() });
        let now = Instant::now();
        let held: Vec<Reservation> =
            (0..3).map(|_| throttle.reserve_at("johndoe", ip("192.0.2.1"), now).unwrap()).collect();
        for round in 0..200 {
            let _ = throttle
                .reserve_at(&format!("u{round}"), ip(&format!("10.1.0.{}", round % 250)), now)
                .map(Reservation::failed);
        }
        assert!(throttle.reserve_at("johndoe", ip("192.0.2.1"), now).is_err(), "the pair's three are still held");
        drop(held);
    }
}
