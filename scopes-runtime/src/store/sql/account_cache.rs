//! Accounts kept in memory by a [`SqlStore`](super::SqlStore), so that a guarded request (whose principal
//! loads its account) makes no database round trip. Every change of an account moves a counter in the same
//! transaction (`account_changes`); each process reads it every [`SqlOptions::account_cache`](super::SqlOptions)
//! and forgets every cached account when it moved, and forgets at once what it changed itself. When the
//! counter cannot be read (the database is down), the cache is not used past twice that interval, so a
//! change is never missed for longer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use super::{SqlPool, store_error};
use crate::reloading::StoreError;
use crate::store::Account;

/// Moves the change counter: run in every transaction that changes an account.
pub(super) const COUNT_CHANGE: &str = "UPDATE account_changes SET version = version + 1 WHERE id = 1";

/// How many accounts are kept at most (a user's account is about half a kilobyte).
const MAX_ACCOUNTS: usize = 10_000;

pub(super) struct AccountCache {
    /// By username: the account (or that there is none), with the generation it was read under.
    entries: Cache<String, (u64, Option<Arc<Account>>)>,
    /// Moves whenever an account changed, here or elsewhere: entries read under another are not used.
    generation: AtomicU64,
    /// Until when (milliseconds since `started`) the last reading of the counter vouches for the entries.
    fresh_until: AtomicU64,
    started: Instant,
    every: Duration,
}

impl AccountCache {
    /// A cache whose counter is read every `every` from `pool`, in a task that ends with the cache.
    pub(super) fn start(pool: SqlPool, every: Duration) -> Arc<Self> {
        let cache = Arc::new(AccountCache {
            entries: Cache::new(MAX_ACCOUNTS),
            generation: AtomicU64::new(0),
            fresh_until: AtomicU64::new(0),
            started: Instant::now(),
            every,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(watch_changes(Arc::downgrade(&cache), pool));
        }
        cache
    }

    /// The generation to read an account under, if the cache may be used now.
    pub(super) fn generation(&self) -> Option<u64> {
        let now = self.millis_since_start(Instant::now());
        (now <= self.fresh_until.load(Ordering::Acquire)).then(|| self.generation.load(Ordering::Acquire))
    }

    /// The account kept for `username` under `generation`, if any (`Some(None)`: known not to exist).
    pub(super) fn get(&self, username: &str, generation: u64) -> Option<Option<Arc<Account>>> {
        let (read_under, account) = self.entries.get(username)?;
        (read_under == generation).then_some(account)
    }

    /// Keeps what the database said of `username`, read under `generation` (taken before the read).
    pub(super) fn keep(&self, username: &str, generation: u64, account: Option<Arc<Account>>) {
        self.entries.insert(username.to_owned(), (generation, account));
    }

    /// An account changed here: nothing read before is used again.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    fn millis_since_start(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
    }
}

/// Reads the change counter every `every` while the cache lives.
async fn watch_changes(cache: Weak<AccountCache>, pool: SqlPool) {
    let mut seen: Option<i64> = None;
    loop {
        let Some(every) = cache.upgrade().map(|cache| cache.every) else { return };
        let started = Instant::now();
        let version = tokio::time::timeout(every.max(Duration::from_millis(100)) * 4, read_version(&pool)).await;
        let Some(cache) = cache.upgrade() else { return };
        match version {
            Ok(Ok(version)) => {
                if seen != Some(version) {
                    if seen.is_some() {
                        tracing::debug!("an account changed elsewhere; the cached accounts are read again");
                    }
                    cache.changed();
                    seen = Some(version);
                }
                // What was committed before this reading started is in it: the entries hold until the next
                // reading is due, and one interval more for it to be late.
                let until = cache.millis_since_start(started + every * 2);
                cache.fresh_until.store(until, Ordering::Release);
            }
            Ok(Err(error)) => tracing::debug!(%error, "the account change counter could not be read"),
            Err(_) => tracing::debug!("the account change counter could not be read in time"),
        }
        drop(cache);
        tokio::time::sleep_until((started + every).into()).await;
    }
}

async fn read_version(pool: &SqlPool) -> Result<i64, StoreError> {
    let select = "SELECT version FROM account_changes WHERE id = 1";
    match pool {
        SqlPool::Sqlite(pool) => sqlx::query_scalar(select).fetch_one(pool).await,
        SqlPool::Postgres(pool) => sqlx::query_scalar(select).fetch_one(pool).await,
    }
    .map_err(store_error)
}
