//! Failed-login throttling, as OWASP's authentication cheat sheet has it: the (account, client) pair that
//! keeps failing is locked; the account as a whole is only slowed down, never shut out, so a stranger's
//! failures cannot lock its owner out; a client failing across many accounts is locked too.
//!
//! Every attempt *reserves* its place before its password is checked, atomically, so no more attempts are
//! evaluated than the policy allows however many arrive at once; the reservation then settles as a
//! failure, a success, or (an attempt that was never evaluated: a storage outage, a full queue) nothing.
//!
//! The counts live in this process ([`memory`]) or, for replicas that must enforce one policy between
//! them, in Redis ([`RedisThrottle`], feature `redis`), where one script per step keeps them atomic.

use std::net::IpAddr;
use std::time::Duration;

mod memory;
#[cfg(feature = "redis")]
mod redis;

use memory::MemoryThrottle;
#[cfg(feature = "redis")]
pub use redis::{RedisThrottle, RedisThrottleError};

/// When failed logins are refused or slowed down.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::issuing::ThrottlePolicy;
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
    /// How many (pair, account, client) entries the in-process throttle tracks at most; each takes about
    /// 64 bytes. Beyond it, expired entries are dropped, then the least recently used. A
    /// [`RedisThrottle`]'s entries expire with their window instead, within Redis' own memory limit.
    pub max_entries: usize,
}

impl ThrottlePolicy {
    /// Never refuses or slows down: for benchmarks that measure the password check itself.
    ///
    /// ```
    /// use scopes_runtime::issuing::ThrottlePolicy;
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

/// Counts attempts per (account, client) pair, per account and per client, in this process or in Redis;
/// see [`ThrottlePolicy`].
#[derive(Clone, Debug)]
pub(crate) enum LoginThrottle {
    Memory(MemoryThrottle),
    #[cfg(feature = "redis")]
    Redis(RedisThrottle),
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::Memory(MemoryThrottle::new(ThrottlePolicy::default()))
    }
}

/// Why an attempt was not reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The policy refuses it; one would be accepted after this long.
    TooMany(Duration),
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    /// The counts cannot be read (Redis is unreachable): no password is checked until they can be, since
    /// checking without them would lift every limit.
    Unavailable,
}

/// The entries one reserved attempt holds, in whichever store keeps them.
#[derive(Debug)]
enum Held {
    Memory(memory::Keys),
    #[cfg(feature = "redis")]
    Redis(redis::Keys),
}

/// How a reserved attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Failed,
    Succeeded,
    /// Never evaluated: the attempt leaves no trace.
    Withdrawn,
}

impl LoginThrottle {
    /// Counts in this process under `policy`.
    pub(crate) fn in_memory(policy: ThrottlePolicy) -> Self {
        LoginThrottle::Memory(MemoryThrottle::new(policy))
    }

    pub(crate) fn policy(&self) -> &ThrottlePolicy {
        match self {
            LoginThrottle::Memory(memory) => memory.policy(),
            #[cfg(feature = "redis")]
            LoginThrottle::Redis(redis) => redis.policy(),
        }
    }

    /// The same store of counts under `policy`.
    pub(crate) fn with_policy(&self, policy: ThrottlePolicy) -> Self {
        match self {
            LoginThrottle::Memory(_) => LoginThrottle::in_memory(policy),
            #[cfg(feature = "redis")]
            LoginThrottle::Redis(redis) => LoginThrottle::Redis(redis.clone().with_policy(policy)),
        }
    }

    /// Reserves an attempt for `username` from `client`, or says why not.
    pub(crate) async fn reserve(&self, username: &str, client: Option<IpAddr>) -> Result<Reservation, Refusal> {
        let client = client_bucket(client);
        let (held, account_failures) = match self {
            LoginThrottle::Memory(memory) => {
                let (keys, failures) = memory.reserve(username, client).map_err(Refusal::TooMany)?;
                (Held::Memory(keys), failures)
            }
            #[cfg(feature = "redis")]
            LoginThrottle::Redis(redis) => {
                let (keys, failures) = redis.reserve(username, client).await?;
                (Held::Redis(keys), failures)
            }
        };
        let delay = self.policy().account_delay(account_failures);
        Ok(Reservation { throttle: self.clone(), held: Some(held), delay })
    }

    /// How many entries the in-process throttle tracks; none for Redis, whose entries expire there.
    pub(crate) fn tracked(&self) -> usize {
        match self {
            LoginThrottle::Memory(memory) => memory.tracked(),
            #[cfg(feature = "redis")]
            LoginThrottle::Redis(_) => 0,
        }
    }

    async fn settle(&self, held: Held, outcome: Outcome) {
        match (self, held) {
            (LoginThrottle::Memory(memory), Held::Memory(keys)) => memory.settle(keys, outcome),
            #[cfg(feature = "redis")]
            (LoginThrottle::Redis(redis), Held::Redis(keys)) => redis.settle(&keys, outcome).await,
            #[cfg(feature = "redis")]
            _ => unreachable!("a reservation settles in the throttle that made it"),
        }
    }
}

/// One attempt's place in the throttle. Settle it with [`failed`](Self::failed),
/// [`succeeded`](Self::succeeded) or [`withdrawn`](Self::withdrawn); dropped unsettled (the client went
/// away while its password may have been checked), it counts as a failure.
#[derive(Debug)]
pub(crate) struct Reservation {
    throttle: LoginThrottle,
    /// `None` once settled.
    held: Option<Held>,
    /// How long the attempt waits before its password is checked.
    pub(crate) delay: Duration,
}

impl Reservation {
    pub(crate) async fn failed(self) {
        self.settle(Outcome::Failed).await;
    }

    pub(crate) async fn succeeded(self) {
        self.settle(Outcome::Succeeded).await;
    }

    /// The attempt was never evaluated: it leaves no trace.
    pub(crate) async fn withdrawn(self) {
        self.settle(Outcome::Withdrawn).await;
    }

    async fn settle(mut self, outcome: Outcome) {
        if let Some(held) = self.held.take() {
            self.throttle.settle(held, outcome).await;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else { return };
        match (&self.throttle, held) {
            (LoginThrottle::Memory(memory), Held::Memory(keys)) => memory.settle(keys, Outcome::Failed),
            // Dropped with its request: the count is settled in the background, as the pending count's
            // expiry would otherwise settle it only as nothing.
            #[cfg(feature = "redis")]
            (LoginThrottle::Redis(redis), Held::Redis(keys)) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let redis = redis.clone();
                    runtime.spawn(async move { redis.settle(&keys, Outcome::Failed).await });
                }
            }
            #[cfg(feature = "redis")]
            _ => {}
        }
    }
}
