//! A provider's key set as it is kept fresh: swapped in atomically, so verifying takes no lock; refetched in
//! the background ahead of its time to live, and on demand for an unknown `kid`, one fetch at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::time::Instant;

use super::fetch::ProviderMetadata;
use super::fetch::{FetchError, fetch};
use super::provider::Provider;
use crate::keys::KeySet;
use crate::keys::clock::unix_now;
use crate::observing::metrics as names;

/// One provider's keys and the state of fetching them.
pub(crate) struct LiveKeys {
    pub(crate) provider: Provider,
    current: ArcSwapOption<Snapshot>,
    /// Held for the length of a fetch: whoever finds it held waits and then uses what that fetch brought.
    fetching: tokio::sync::Mutex<Attempts>,
    /// `kid`s found in no set fetched after they were first seen, until when they are refused unfetched.
    unknown_kids: Mutex<HashMap<String, Instant>>,
    /// The generation of the set in use (0 before the first), for whoever waits for one.
    fetched: tokio::sync::watch::Sender<u64>,
}

/// A successfully fetched set, as verification reads it.
pub(crate) struct Snapshot {
    pub(crate) keys: KeySet,
    pub(crate) metadata: Option<ProviderMetadata>,
    /// Counts fetches that succeeded, so a waiter can tell whether the set changed while it waited.
    generation: u64,
    fetched_at: Instant,
    refresh_at: Instant,
}

#[derive(Default)]
struct Attempts {
    last: Option<Instant>,
    last_failure: Option<FetchError>,
}

/// What a token that found no usable key may do next.
pub(crate) enum Refetch {
    /// A newer set is in place: look again.
    Changed,
    /// The set is as it was: the `kid` is unknown.
    Unchanged,
    /// There is no set at all, and none can be fetched before `retry_after`.
    Unavailable { retry_after: Duration },
}

/// The most `kid`s remembered as unknown; forgotten all at once beyond it, which costs at most one fetch
/// per cooldown.
const MAX_UNKNOWN_KIDS: usize = 1024;

impl LiveKeys {
    /// Starts keeping `provider`'s keys: the first fetch begins at once, in the background task that
    /// refreshes them for as long as the returned value lives.
    pub(crate) fn start(provider: Provider, runtime: &tokio::runtime::Handle) -> Arc<Self> {
        let live = Arc::new(LiveKeys {
            provider,
            current: ArcSwapOption::empty(),
            fetching: tokio::sync::Mutex::new(Attempts::default()),
            unknown_kids: Mutex::new(HashMap::new()),
            fetched: tokio::sync::watch::Sender::new(0),
        });
        runtime.spawn(keep_fresh(Arc::downgrade(&live)));
        live
    }

    /// The set in use, if one was ever fetched. Lock-free.
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Option<Arc<Snapshot>>> {
        self.current.load()
    }

    /// Whether a set has been fetched.
    pub(crate) fn has_keys(&self) -> bool {
        self.current.load().is_some()
    }

    /// Waits until a set has been fetched (at once if one has).
    pub(crate) async fn wait_for_keys(&self) {
        let mut fetched = self.fetched.subscribe();
        // Only an error if the sender is gone, which it cannot be while `self` lives.
        let _ = fetched.wait_for(|generation| *generation > 0).await;
    }

    /// The provider's metadata from the last successful discovery.
    pub(crate) fn metadata(&self) -> Option<ProviderMetadata> {
        self.current.load().as_ref().and_then(|snapshot| snapshot.metadata.clone())
    }

    /// Called when a token that arrived at `arrived` names `kid` (or none) and `seen` (the set it was
    /// checked against) has no key for it: fetches again unless the cooldown or the negative cache says
    /// not to, sharing the fetch with every other request that asks meanwhile. The kid is remembered as
    /// unknown only when `seen` was fetched after the token arrived: a set older than the token may
    /// predate a rotation, and the kid must get its fetch once the cooldown is over. A token that already
    /// waited for one fetch asks again with `may_fetch` false, and never prompts a second: so a cooldown
    /// of zero still costs one fetch per burst, not one per request.
    pub(crate) async fn refetch(
        &self,
        kid: Option<&str>,
        seen: Option<&Snapshot>,
        arrived: Instant,
        may_fetch: bool,
    ) -> Refetch {
        let seen_generation = seen.map(|snapshot| snapshot.generation);
        let known_unknown = seen.is_some() && kid.is_some_and(|kid| self.is_known_unknown(kid));
        let cooldown = self.provider.refresh.unknown_kid_cooldown;
        let mut since_last_attempt = None;
        if may_fetch && !known_unknown {
            let mut attempts = self.fetching.lock().await;
            if self.generation() != seen_generation {
                return Refetch::Changed;
            }
            if attempts.last.is_none_or(|last| last.elapsed() >= cooldown) {
                self.fetch_now(&mut attempts).await;
                if self.generation() != seen_generation {
                    return Refetch::Changed;
                }
            }
            since_last_attempt = attempts.last.map(|last| last.elapsed());
        }
        match (seen, kid) {
            (None, _) => {
                let elapsed = since_last_attempt.unwrap_or(Duration::ZERO);
                Refetch::Unavailable { retry_after: cooldown.saturating_sub(elapsed).max(Duration::from_secs(1)) }
            }
            (Some(seen), Some(kid)) => {
                if seen.fetched_at >= arrived {
                    self.remember_unknown(kid);
                }
                Refetch::Unchanged
            }
            (Some(_), None) => Refetch::Unchanged,
        }
    }

    fn generation(&self) -> Option<u64> {
        self.current.load().as_ref().map(|snapshot| snapshot.generation)
    }

    fn is_known_unknown(&self, kid: &str) -> bool {
        let unknown = self.unknown_kids.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        unknown.get(kid).is_some_and(|until| Instant::now() < *until)
    }

    fn remember_unknown(&self, kid: &str) {
        let mut unknown = self.unknown_kids.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if unknown.len() >= MAX_UNKNOWN_KIDS {
            unknown.clear();
        }
        unknown.insert(kid.to_owned(), Instant::now() + self.provider.refresh.negative_cache);
    }

    /// Fetches the set; swaps it in, or keeps the last good one and logs why.
    async fn fetch_now(&self, attempts: &mut Attempts) {
        attempts.last = Some(Instant::now());
        let issuer = &self.provider.issuer;
        let fetched = fetch(&self.provider).await;
        let result = if fetched.is_ok() { "success" } else { "failure" };
        metrics::counter!(names::JWKS_FETCHES, "issuer" => issuer.clone(), "result" => result).increment(1);
        match fetched {
            Ok(fetched) => {
                metrics::gauge!(names::JWKS_LAST_SUCCESS, "issuer" => issuer.clone()).set(unix_now() as f64);
                let previous = self.current.load_full();
                let generation = previous.as_ref().map_or(0, |snapshot| snapshot.generation) + 1;
                if previous.as_ref().is_none_or(|snapshot| snapshot.keys.kids() != fetched.keys.kids()) {
                    let kids = fetched.keys.kids().join(", ");
                    tracing::info!(%issuer, %kids, skipped = ?fetched.keys.skipped(), "identity provider's key set fetched");
                    // A kid once unknown may be in the new set.
                    self.unknown_kids.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
                }
                if attempts.last_failure.take().is_some() {
                    tracing::info!(%issuer, "identity provider reachable again");
                }
                let refresh_at = Instant::now() + fetched.ttl.mul_f64(0.8);
                self.current.store(Some(Arc::new(Snapshot {
                    keys: fetched.keys,
                    metadata: fetched.metadata,
                    generation,
                    fetched_at: Instant::now(),
                    refresh_at,
                })));
                self.fetched.send_replace(generation);
            }
            Err(error) => {
                if self.current.load().is_some() {
                    tracing::warn!(%issuer, %error, "fetching the identity provider's keys failed; still verifying with the last good set");
                } else {
                    tracing::error!(%issuer, %error, "fetching the identity provider's keys failed; its tokens are refused (503) until a fetch succeeds");
                }
                attempts.last_failure = Some(error);
            }
        }
    }

    /// How long until the background task should fetch: at the set's refresh time, or a cooldown after a
    /// failure (or at once, before the first attempt).
    fn next_fetch_in(&self, attempts: &Attempts) -> Duration {
        let retry = attempts
            .last
            .map_or(Duration::ZERO, |last| self.provider.refresh.unknown_kid_cooldown.saturating_sub(last.elapsed()));
        match self.current.load().as_ref() {
            Some(snapshot) if attempts.last_failure.is_none() => {
                snapshot.refresh_at.saturating_duration_since(Instant::now()).max(retry)
            }
            _ => retry,
        }
    }
}

/// Refreshes `live`'s keys ahead of their time to live, and retries failures after a cooldown, until the
/// keys are dropped.
async fn keep_fresh(live: Weak<LiveKeys>) {
    loop {
        let delay = {
            let Some(live) = live.upgrade() else { return };
            let attempts = live.fetching.lock().await;
            live.next_fetch_in(&attempts)
        };
        tokio::time::sleep(delay).await;
        let Some(live) = live.upgrade() else { return };
        let mut attempts = live.fetching.lock().await;
        // A fetch prompted by a token may have happened while this task slept.
        if live.next_fetch_in(&attempts).is_zero() {
            live.fetch_now(&mut attempts).await;
        }
    }
}
