//! Access tokens refused before they expire: those revoked by their `jti` (RFC 7009), and those issued from
//! a refresh-token family that was revoked since (they carry its key as `sid`): a logout, a reuse, a
//! password change, a disabled user. Read from the store by every replica, swapped in whole (arc-swap), so
//! a check takes no lock; a replica that revokes sees it at once, the others at their next reload.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::claims::Claims;
use crate::reloading::{StoreError, reload_while_held};

type Loading = Pin<Box<dyn Future<Output = Result<Revoked, StoreError>> + Send>>;

/// What is revoked before it expires, as [`AccountStore::revocations`](crate::store::RefreshTokenStore::revocations)
/// reads it for [`Revocations`](crate::verifying::Revocations).
///
/// ```
/// use scopes_runtime::store::Revoked;
/// let revoked = Revoked { access_tokens: vec!["a-jti".into()], ..Revoked::default() };
/// assert!(revoked.families.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked {
    /// The `jti` of each revoked access token.
    pub access_tokens: Vec<String>,
    /// The key of each revoked refresh-token family: its access tokens carry it as `sid`.
    pub families: Vec<String>,
}

/// What every replica refuses although it verifies: revoked access tokens and the access tokens of revoked
/// refresh-token families, until they expire. Give it to
/// [`Authority::with_revocations`](crate::Authority::with_revocations); the
/// [`TokenEndpoint`](crate::TokenEndpoint) records what it revokes in it.
///
/// Storage stays bounded: the store keeps a revoked `jti` until its token expires, and a family's
/// revocation for as long as the access tokens it issued live.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::{Claims, verifying::Revocations, store::Revoked};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let revocations = Revocations::load(
///     |_families_since| async { Ok(Revoked { access_tokens: vec!["j1".into()], families: vec![] }) },
///     Duration::from_secs(1800),
///     Duration::from_secs(5),
/// )
/// .await
/// .unwrap();
/// let mut claims = Claims::new("johndoe", ["me"], u64::MAX);
/// claims.extra.insert("jti".into(), "j1".into());
/// assert!(revocations.refuses(&claims));
/// claims.extra.insert("jti".into(), "j2".into());
/// assert!(!revocations.refuses(&claims));
/// revocations.add_family("f1");
/// claims.extra.insert("sid".into(), "f1".into());
/// assert!(revocations.refuses(&claims));
/// # }
/// ```
#[derive(Clone)]
pub struct Revocations {
    shared: Arc<Shared>,
}

struct Shared {
    set: ArcSwap<RevokedSet>,
    load: Box<dyn Fn(u64) -> Loading + Send + Sync>,
    /// How long access tokens live: a family revoked longer ago than that has no live access token.
    token_lifetime: Duration,
    /// What this replica revoked lately, kept across reloads until a reload surely includes it.
    recent: Mutex<Vec<(Entry, Instant)>>,
    reload_every: Duration,
}

#[derive(Default)]
struct RevokedSet {
    access_tokens: HashSet<String>,
    families: HashSet<String>,
}

#[derive(Clone)]
enum Entry {
    AccessToken(String),
    Family(String),
}

impl fmt::Debug for Revocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.shared.set.load();
        f.debug_struct("Revocations")
            .field("access_tokens", &set.access_tokens.len())
            .field("families", &set.families.len())
            .finish_non_exhaustive()
    }
}

impl Revocations {
    /// Loads what `load` reads (it is given the Unix second since which revoked families still matter),
    /// for access tokens living `token_lifetime`, and reloads it every `reload_every` for as long as a
    /// clone lives (in the background: call it inside a Tokio runtime). Fails when the first load does.
    pub async fn load<F, L>(load: F, token_lifetime: Duration, reload_every: Duration) -> Result<Self, StoreError>
    where
        F: Fn(u64) -> L + Send + Sync + 'static,
        L: Future<Output = Result<Revoked, StoreError>> + Send + 'static,
    {
        let load: Box<dyn Fn(u64) -> Loading + Send + Sync> = Box::new(move |since| Box::pin(load(since)));
        let reload_every = reload_every.max(Duration::from_millis(100));
        let shared = Arc::new(Shared {
            set: ArcSwap::from_pointee(RevokedSet::default()),
            load,
            token_lifetime,
            recent: Mutex::new(Vec::new()),
            reload_every,
        });
        let revocations = Revocations { shared };
        revocations.reload().await?;
        let reload = async |shared| Revocations { shared }.reload().await;
        let shared = Arc::downgrade(&revocations.shared);
        tokio::spawn(reload_while_held(shared, reload_every, "the revoked tokens", reload));
        Ok(revocations)
    }

    /// Reads what is revoked from the store again now.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let shared = &self.shared;
        // A minute of margin for clocks and leeway: a family revoked a little longer ago still counts.
        let lifetime = shared.token_lifetime.as_secs().saturating_add(60);
        let since = crate::keys::clock::unix_now().saturating_sub(lifetime);
        let started = Instant::now();
        let loaded = (shared.load)(since).await?;
        let mut set = RevokedSet {
            access_tokens: loaded.access_tokens.into_iter().collect(),
            families: loaded.families.into_iter().collect(),
        };
        // What this replica revoked while (or just before) the store was read may be missing from what it
        // returned: kept until two reloads have surely read it.
        let mut recent = shared.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.retain(|(_, at)| started.saturating_duration_since(*at) < shared.reload_every * 2);
        for (entry, _) in recent.iter() {
            set.insert(entry.clone());
        }
        shared.set.store(Arc::new(set));
        Ok(())
    }

    /// Whether `claims` are of a revoked access token, or of one issued from a revoked family.
    pub fn refuses(&self, claims: &Claims) -> bool {
        let set = self.shared.set.load();
        let named = |name: &str, within: &HashSet<String>| {
            !within.is_empty()
                && claims.extra.get(name).and_then(|value| value.as_str()).is_some_and(|id| within.contains(id))
        };
        named("jti", &set.access_tokens) || named("sid", &set.families)
    }

    /// Refuses the access token whose `jti` is `jti` here at once (the store, which the other replicas
    /// read, is the caller's to tell).
    pub fn add_access_token(&self, jti: &str) {
        self.add(Entry::AccessToken(jti.to_owned()));
    }

    /// Refuses the access tokens of the family whose key is `family` here at once.
    pub fn add_family(&self, family: &str) {
        self.add(Entry::Family(family.to_owned()));
    }

    fn add(&self, entry: Entry) {
        let shared = &self.shared;
        let mut recent = shared.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.push((entry.clone(), Instant::now()));
        shared.set.rcu(|set| {
            let mut set = RevokedSet { access_tokens: set.access_tokens.clone(), families: set.families.clone() };
            set.insert(entry.clone());
            set
        });
    }
}

impl RevokedSet {
    fn insert(&mut self, entry: Entry) {
        match entry {
            Entry::AccessToken(jti) => self.access_tokens.insert(jti),
            Entry::Family(family) => self.families.insert(family),
        };
    }
}
