//! The DPoP proofs seen (RFC 9449 §11.1): each proof's `jti` is remembered for as long as the proof could
//! be taken, so a proof copied from one request is refused at the next.
//!
//! In process, two generations of keyed hashes per shard, the older dropped each window: memory is
//! bounded by the capacity, and nothing is evicted early. A table full of proofs still in their window
//! refuses new proofs (503) rather than forget one that could then be replayed. With the `redis` feature,
//! `SET NX` in Redis, shared by every replica.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SHARDS: usize = 16;

/// Where the DPoP proofs seen are remembered.
///
/// ```
/// use scopes_runtime::verifying::dpop::DpopReplays;
/// let replays = DpopReplays::in_memory(100_000);
/// assert_eq!(replays.capacity(), Some(100_000));
/// ```
#[derive(Clone)]
pub struct DpopReplays {
    store: Arc<Store>,
}

// One per setting, behind an `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Store {
    Memory(MemoryReplays),
    #[cfg(feature = "redis")]
    Redis {
        link: crate::redis_link::RedisLink,
        prefix: String,
    },
}

impl fmt::Debug for DpopReplays {
    /// The kind and bound; never the Redis URL, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.store {
            Store::Memory(memory) => f.debug_struct("InMemory").field("capacity", &memory.capacity).finish(),
            #[cfg(feature = "redis")]
            Store::Redis { prefix, .. } => f.debug_struct("Redis").field("prefix", prefix).finish_non_exhaustive(),
        }
    }
}

/// A proof could not be checked against those seen: the table is full of proofs still in their window, or
/// Redis cannot be reached. Answered 503: a proof that might be a replay is never taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unremembered {
    pub(crate) why: &'static str,
}

impl DpopReplays {
    /// The in-process table's default bound: proofs remembered at once, over a window.
    pub const DEFAULT_CAPACITY: usize = 500_000;

    /// Proofs remembered in this process, at most `capacity` at once (about 20 bytes each).
    pub fn in_memory(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = std::array::from_fn(|_| Mutex::new(Generations::default()));
        let memory = MemoryReplays { shards, per_shard, capacity, hasher: RandomState::new() };
        DpopReplays { store: Arc::new(Store::Memory(memory)) }
    }

    /// Proofs remembered in the Redis at `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`), under keys
    /// `scopes:dpop:` and a digest of the proof's key and `jti`, shared by every replica using it. Nothing is
    /// connected yet; while Redis cannot be reached, DPoP requests are answered 503.
    ///
    /// ```
    /// use scopes_runtime::verifying::dpop::DpopReplays;
    /// assert!(DpopReplays::redis("redis://127.0.0.1:6379/").is_ok());
    /// assert!(DpopReplays::redis("http://127.0.0.1/").is_err());
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<Self, redis::RedisError> {
        let link = crate::redis_link::RedisLink::open(url)?;
        Ok(DpopReplays { store: Arc::new(Store::Redis { link, prefix: "scopes:dpop:".into() }) })
    }

    /// The in-process bound; `None` for Redis.
    pub fn capacity(&self) -> Option<usize> {
        match &*self.store {
            Store::Memory(memory) => Some(memory.capacity),
            #[cfg(feature = "redis")]
            Store::Redis { .. } => None,
        }
    }

    /// Records the proof `jti` made with the key `thumbprint` as seen for `window` from `now` (seconds);
    /// `false` when it was seen already.
    pub(crate) async fn first_use(
        &self,
        thumbprint: &str,
        jti: &str,
        now: u64,
        window: Duration,
    ) -> Result<bool, Unremembered> {
        match &*self.store {
            Store::Memory(memory) => memory.first_use(thumbprint, jti, now, window.as_secs().max(1)),
            #[cfg(feature = "redis")]
            Store::Redis { link, prefix } => {
                let key = format!("{prefix}{}", redis_key(thumbprint, jti));
                let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(1).arg("NX").arg("PX").arg(millis);
                match link.query::<Option<String>>(&set).await {
                    Ok(stored) => Ok(stored.is_some()),
                    Err(error) => {
                        tracing::error!(%error, "the DPoP replay cache's Redis cannot be reached: DPoP requests are answered 503");
                        Err(Unremembered { why: "Redis cannot be reached" })
                    }
                }
            }
        }
    }
}

/// The proof's Redis key: a digest of its key's thumbprint and its `jti` (length-prefixed, so no two pairs
/// digest alike), so a `jti` of any length or content makes a key of one shape.
#[cfg(feature = "redis")]
fn redis_key(thumbprint: &str, jti: &str) -> String {
    let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [thumbprint, jti] {
        digest.update(&(part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    digest.finish().as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

struct MemoryReplays {
    shards: [Mutex<Generations>; SHARDS],
    per_shard: usize,
    capacity: usize,
    /// Randomly keyed: nobody outside can make two proofs' entries collide.
    hasher: RandomState,
}

/// The hashes seen since `started`, and in the window before.
#[derive(Default)]
struct Generations {
    started: u64,
    current: HashSet<u64>,
    previous: HashSet<u64>,
}

impl MemoryReplays {
    fn first_use(&self, thumbprint: &str, jti: &str, now: u64, window: u64) -> Result<bool, Unremembered> {
        let hash = self.hasher.hash_one((thumbprint, jti));
        let shard = &self.shards[(hash as usize) % SHARDS];
        // A shard's lock is held for a few hash-set operations; a poisoned one is still a consistent set.
        let mut seen = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now >= seen.started.saturating_add(window) {
            // An entry lives through the window it was made in and the next: at least `window`.
            let expired = now >= seen.started.saturating_add(window.saturating_mul(2));
            let current = std::mem::take(&mut seen.current);
            seen.previous = if expired { HashSet::new() } else { current };
            seen.started = now;
        }
        if seen.current.contains(&hash) || seen.previous.contains(&hash) {
            return Ok(false);
        }
        if seen.current.len() + seen.previous.len() >= self.per_shard {
            tracing::warn!(
                capacity = self.capacity,
                "the DPoP replay table is full of proofs still in their window: DPoP requests are answered 503"
            );
            return Err(Unremembered { why: "too many proofs to remember" });
        }
        seen.current.insert(hash);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(replays: &DpopReplays, jti: &str, now: u64) -> Result<bool, Unremembered> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(replays.first_use("thumb", jti, now, Duration::from_secs(60)))
    }

    #[test]
    fn a_proof_is_refused_the_second_time_for_at_least_its_window() {
        let replays = DpopReplays::in_memory(1000);
        assert_eq!(first(&replays, "a", 1000), Ok(true));
        assert_eq!(first(&replays, "a", 1000), Ok(false));
        assert_eq!(first(&replays, "b", 1059), Ok(true));
        // A rotation keeps the last window's entries.
        assert_eq!(first(&replays, "a", 1061), Ok(false));
        assert_eq!(first(&replays, "b", 1119), Ok(false));
        // Two windows later they are gone (a proof that old is refused by its `iat` anyway).
        assert_eq!(first(&replays, "a", 1300), Ok(true));
    }

    #[test]
    fn the_same_jti_from_another_key_is_another_proof() {
        let replays = DpopReplays::in_memory(1000);
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let window = Duration::from_secs(60);
        assert_eq!(runtime.block_on(replays.first_use("k1", "same", 10, window)), Ok(true));
        assert_eq!(runtime.block_on(replays.first_use("k2", "same", 10, window)), Ok(true));
        assert_eq!(runtime.block_on(replays.first_use("k1", "same", 10, window)), Ok(false));
    }

    #[test]
    fn a_full_table_refuses_rather_than_forgets() {
        let replays = DpopReplays::in_memory(SHARDS);
        let results: Vec<_> = (0..200).map(|n| first(&replays, &n.to_string(), 5000)).collect();
        let taken = results.iter().filter(|result| **result == Ok(true)).count();
        assert!((1..=SHARDS).contains(&taken), "{taken}");
        assert!(results.iter().any(Result::is_err), "new proofs are refused once full");
        // Every proof taken is still refused as a replay.
        for (n, result) in results.iter().enumerate() {
            if *result == Ok(true) {
                assert_eq!(first(&replays, &n.to_string(), 5000), Ok(false));
            }
        }
    }

    #[test]
    fn many_threads_at_once_take_each_proof_once() {
        let replays = DpopReplays::in_memory(100_000);
        let taken = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for n in 0..500 {
                        if first(&replays, &n.to_string(), 42) == Ok(true) {
                            taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(taken.into_inner(), 500);
    }
}
