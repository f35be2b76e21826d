//! Verified tokens remembered ([`TokenCache`]): a client sends the same token with every request for its
//! whole lifetime, and verifying its signature each time (about 20 µs for RS256) is most of what a guarded
//! request costs. What the cache keeps is the verifier's answer only: revocations and the principal's
//! account are still asked on every request, after it, so whatever they refuse is refused through the cache
//! at once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use metrics::Label;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::claims::Claims;
use super::error::TokenError;
use crate::keys::clock::unix_now;
use crate::observing::Counted;
use crate::observing::metrics::TOKEN_CACHE_LOOKUPS;

/// The verifier's answers for tokens seen lately, kept by an [`Authority`](crate::Authority) so that a
/// token's signature is checked once rather than with every request. On by default for the authority's own
/// verifiers (a shared secret, key sets, providers, a key ring) and for an app's
/// [`Verifier`](crate::verifying::Verifier) that says its answers may be kept
/// ([`key_epoch`](crate::verifying::Verifier::key_epoch)); [`Authority::without_token_cache`](crate::Authority::without_token_cache)
/// turns it off.
///
/// - **Keyed by the token itself**, compared in full (as Envoy's `jwt_authn` keys its cache): two tokens
///   share an entry only when they are the same bytes. A digest would cost more than the rest of a hit (a
///   SHA-256 of a 200-byte token is most of an HMAC's work); the cache holds the tokens of the clients
///   that sent them lately, in the process that verified them.
/// - **An entry never outlives its token**: a verified token is answered from the cache until its `exp`
///   (with the policy's leeway, exactly as verifying it again would), and never after.
/// - **Keys**: an entry is used only under the keys it was verified with; when a key leaves the set (a
///   provider's rotation, a revoked signing key) every entry made before is verified again.
/// - **What it does not keep**: revocations ([`Revocations`](crate::verifying::Revocations)) and the
///   principal's account are checked on every request after the cache, so a revoked token, a revoked
///   refresh family, a disabled user or a scope taken away are refused as soon as they are without it.
/// - **Refusals** of a forged signature, an expired token or invalid claims are remembered for a short while
///   ([`with_refusals_kept`](Self::with_refusals_kept), 30 s by default), so a client retrying with an
///   expired token costs one check; a refusal never turns into an acceptance (it is only ever refused again),
///   and one that time or a key fetch may change (not yet valid, an unknown key, keys unavailable) is never
///   kept.
/// - **Bounded** in memory ([`new`](Self::new), [`DEFAULT_MAX_BYTES`](Self::DEFAULT_MAX_BYTES)): past the
///   bound, the tokens seen once are evicted first (S3-FIFO), so a flood of new tokens does not push out the
///   ones clients keep sending. Reads take a shared lock on one of several shards: no convoy.
///
/// Counted in `scopes_token_cache_lookups_total` (see [`metrics`](crate::observing::metrics)).
///
/// ```
/// use scopes_runtime::Authority;
/// use scopes_runtime::verifying::TokenCache;
///
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
///     .unwrap()
///     .with_token_cache(TokenCache::new(4 * 1024 * 1024));
/// let token = authority.issue("johndoe", &["me"]).unwrap();
/// assert_eq!(authority.verify(&token).unwrap().sub, "johndoe"); // verified
/// assert_eq!(authority.verify(&token).unwrap().sub, "johndoe"); // remembered
/// assert_eq!(authority.token_cache().unwrap().len(), 1);
/// ```
#[derive(Clone)]
pub struct TokenCache {
    settings: Settings,
    shared: Arc<Shared>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    max_bytes: u64,
    refusals_kept: Duration,
}

struct Shared {
    entries: Cache<Box<str>, Entry, ByWeight>,
    hit: Counted,
    refused_hit: Counted,
    miss: Counted,
}

/// One remembered answer (cloned out of the cache on a hit: a few words and an `Arc`).
#[derive(Clone)]
struct Entry {
    /// The verifier's key epoch it was made under.
    epoch: u64,
    /// Until when (Unix seconds, inclusive) it may be used.
    until: u64,
    verdict: Verdict,
    /// What it is counted as against the bound, in bytes (fixed when made, as the cache requires).
    weight: u32,
}

#[derive(Clone)]
enum Verdict {
    Verified(Arc<Claims>),
    Refused(TokenError),
}

/// What the cache says about a token.
pub(crate) enum Lookup {
    /// Verified, under the same keys, and not expired.
    Verified(Arc<Claims>),
    /// Refused lately, for a reason that still holds.
    Refused(TokenError),
    /// Not known: verify it, and [`remember`](TokenCache::remember) the answer.
    Miss,
}

#[derive(Clone)]
struct ByWeight;

impl Weighter<Box<str>, Entry> for ByWeight {
    fn weight(&self, _: &Box<str>, entry: &Entry) -> u64 {
        u64::from(entry.weight)
    }
}

/// What one entry costs besides its token and claims: the entry, the cache's slot, table and ghost entry.
const ENTRY_OVERHEAD: usize = 192;

/// What the allocator adds to each allocation (its header, and rounding up to 16 bytes).
const PER_ALLOCATION: usize = 24;

/// About how much memory `claims` hold, shared with the cache (measured against the process' resident
/// memory by `demo/examples/token_flood`: see BENCHMARKS.md).
fn claims_bytes(claims: &Claims) -> usize {
    let string = |text: &str| if text.is_empty() { 0 } else { text.len() + PER_ALLOCATION };
    let scopes = claims.scopes.capacity() * size_of::<String>() + PER_ALLOCATION;
    let mut bytes = size_of::<Claims>() + 16 + PER_ALLOCATION + string(&claims.sub) + scopes;
    bytes += claims.scopes.iter().map(|scope| string(scope)).sum::<usize>();
    // The map's nodes hold eleven entries each, allocated whole.
    let node = 11 * (size_of::<String>() + size_of::<serde_json::Value>()) + 64 + PER_ALLOCATION;
    bytes += claims.extra.len().div_ceil(11) * node;
    for (name, value) in &claims.extra {
        bytes += string(name);
        bytes += match value {
            serde_json::Value::String(text) => string(text),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => 2 * value.to_string().len(),
            _ => 0,
        };
    }
    bytes
}

impl TokenCache {
    /// 16 MiB: about 20 000 of the seed's tokens, or 8 000 of a provider's (RS256, a dozen claims).
    pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;

    /// A cache holding at most about `max_bytes` of remembered tokens (each counted at an estimate of the
    /// memory its claims take; see `BENCHMARKS.md` for the measured figure).
    ///
    /// ```
    /// use scopes_runtime::verifying::TokenCache;
    /// assert_eq!(TokenCache::new(1 << 20).max_bytes(), 1 << 20);
    /// ```
    pub fn new(max_bytes: u64) -> Self {
        Self::with_settings(Settings { max_bytes, refusals_kept: Duration::from_secs(30) })
    }

    /// Keeps refusals for `kept` (zero: none is kept).
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::verifying::TokenCache;
    /// let cache = TokenCache::default().with_refusals_kept(Duration::ZERO);
    /// # let _ = cache;
    /// ```
    pub fn with_refusals_kept(self, kept: Duration) -> Self {
        Self::with_settings(Settings { refusals_kept: kept, ..self.settings })
    }

    fn with_settings(settings: Settings) -> Self {
        // The cache sizes its shards for the number of entries it expects; the weights bound it.
        let expected = usize::try_from(settings.max_bytes / 1024).unwrap_or(usize::MAX).max(16);
        let lookups = |result: &'static str| Counted::new(TOKEN_CACHE_LOOKUPS, vec![Label::new("result", result)]);
        let shared = Shared {
            entries: Cache::with_weighter(expected, settings.max_bytes, ByWeight),
            hit: lookups("hit"),
            refused_hit: lookups("refused_hit"),
            miss: lookups("miss"),
        };
        TokenCache { settings, shared: Arc::new(shared) }
    }

    /// An empty cache with the same settings: what an authority whose settings change starts again with,
    /// so no answer made under the old ones is used under the new.
    pub(crate) fn emptied(&self) -> Self {
        Self::with_settings(self.settings)
    }

    /// The bound, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.settings.max_bytes
    }

    /// How many answers are remembered.
    ///
    /// ```
    /// use scopes_runtime::verifying::TokenCache;
    /// let cache = TokenCache::default();
    /// assert_eq!((cache.len(), cache.is_empty(), cache.weight()), (0, true, 0));
    /// ```
    pub fn len(&self) -> usize {
        self.shared.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.shared.entries.is_empty()
    }

    /// What the remembered answers are counted as, in bytes: at most [`max_bytes`](Self::max_bytes).
    pub fn weight(&self) -> u64 {
        self.shared.entries.weight()
    }

    /// Forgets every answer: each token is verified again at its next request.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// authority.verify(&authority.issue("johndoe", &["me"]).unwrap()).unwrap();
    /// let cache = authority.token_cache().unwrap();
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// ```
    pub fn clear(&self) {
        self.shared.entries.clear();
    }

    /// The answer remembered for `token` under the verifier's key `epoch`, if one still holds.
    pub(crate) fn lookup(&self, token: &str, epoch: u64) -> Lookup {
        let shared = &*self.shared;
        if let Some(entry) = shared.entries.get(token) {
            if entry.epoch == epoch && unix_now() <= entry.until {
                return match entry.verdict {
                    Verdict::Verified(claims) => {
                        shared.hit.increment();
                        Lookup::Verified(claims)
                    }
                    Verdict::Refused(error) => {
                        shared.refused_hit.increment();
                        Lookup::Refused(error)
                    }
                };
            }
            // Expired, or made under keys no longer in use: never answered from again.
            shared.entries.remove(token);
        }
        shared.miss.increment();
        Lookup::Miss
    }

    /// Remembers the verifier's answer for `token`, verified under key `epoch`
    /// (read before it was verified, so that keys changing meanwhile leave the answer unused), when it may be
    /// kept: a verified token until its `exp` plus `leeway` seconds, a lasting refusal for a short while.
    pub(crate) fn remember(&self, token: &str, epoch: u64, verified: &Result<Arc<Claims>, TokenError>, leeway: u64) {
        let (verdict, until) = match verified {
            Ok(claims) => (Verdict::Verified(claims.clone()), claims.exp.saturating_add(leeway)),
            Err(error) if lasts(error) && !self.settings.refusals_kept.is_zero() => {
                (Verdict::Refused(error.clone()), unix_now().saturating_add(self.settings.refusals_kept.as_secs()))
            }
            Err(_) => return,
        };
        // The token, and its decoded claims; a refusal keeps only its reason.
        let held = match &verdict {
            Verdict::Verified(claims) => claims_bytes(claims),
            Verdict::Refused(_) => 64,
        };
        let weight = u32::try_from(token.len() + PER_ALLOCATION + held + ENTRY_OVERHEAD).unwrap_or(u32::MAX);
        self.shared.entries.insert(token.into(), Entry { epoch, until, verdict, weight });
    }
}

/// Whether refusing a token for `error` holds for as long as the keys do: a bad signature, an expired token,
/// claims the policy refuses. Not a token that is not valid yet, nor one whose key may yet be fetched.
fn lasts(error: &TokenError) -> bool {
    matches!(error, TokenError::Expired | TokenError::BadSignature | TokenError::InvalidClaims(_))
}

impl Default for TokenCache {
    /// [`DEFAULT_MAX_BYTES`](Self::DEFAULT_MAX_BYTES), refusals kept 30 s.
    fn default() -> Self {
        TokenCache::new(Self::DEFAULT_MAX_BYTES)
    }
}

impl fmt::Debug for TokenCache {
    /// Sizes only: never a token or a claim.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("max_bytes", &self.settings.max_bytes)
            .field("refusals_kept", &self.settings.refusals_kept)
            .field("entries", &self.len())
            .field("weight", &self.weight())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Result<Arc<Claims>, TokenError> {
        Ok(Arc::new(Claims::new("johndoe", ["me"], exp)))
    }

    fn missed(cache: &TokenCache, token: &str, epoch: u64) {
        assert!(matches!(cache.lookup(token, epoch), Lookup::Miss), "expected a miss");
    }

    #[test]
    fn a_verified_token_is_answered_until_its_exp_and_never_after() {
        let cache = TokenCache::default();
        let now = unix_now();
        missed(&cache, "live", 7);
        cache.remember("live", 7, &claims(now + 60), 0);
        assert!(matches!(cache.lookup("live", 7), Lookup::Verified(claims) if claims.sub == "johndoe"));

        // Past its exp (with no leeway): forgotten, and verified again (which refuses it).
        missed(&cache, "expired", 7);
        cache.remember("expired", 7, &claims(now - 1), 0);
        assert!(matches!(cache.lookup("expired", 7), Lookup::Miss));
        // Within the leeway it is still good, as verifying it would find.
        missed(&cache, "in leeway", 7);
        cache.remember("in leeway", 7, &claims(now - 1), 60);
        assert!(matches!(cache.lookup("in leeway", 7), Lookup::Verified(_)));
        assert_eq!(cache.len(), 2, "the expired entry was dropped: {cache:?}");
    }

    #[test]
    fn an_answer_made_under_other_keys_is_never_used() {
        let cache = TokenCache::default();
        missed(&cache, "token", 1);
        cache.remember("token", 1, &claims(unix_now() + 60), 0);
        assert!(matches!(cache.lookup("token", 2), Lookup::Miss), "the key set changed");
        assert!(matches!(cache.lookup("token", 1), Lookup::Miss), "and the entry is gone, not kept for later");
    }

    #[test]
    fn lasting_refusals_are_kept_and_passing_ones_are_not() {
        let cache = TokenCache::default();
        for (token, error, kept) in [
            ("forged", TokenError::BadSignature, true),
            ("expired", TokenError::Expired, true),
            ("odd claims", TokenError::InvalidClaims("aud".into()), true),
            ("early", TokenError::NotYetValid, false),
            ("unknown kid", TokenError::UnknownKey, false),
            ("no keys", TokenError::KeysUnavailable { retry_after: Duration::ZERO }, false),
            ("malformed", TokenError::Malformed("x".into()), false),
        ] {
            missed(&cache, token, 0);
            cache.remember(token, 0, &Err(error.clone()), 0);
            match cache.lookup(token, 0) {
                Lookup::Refused(again) => assert!(kept && again == error, "{token}"),
                Lookup::Miss => assert!(!kept, "{token}"),
                Lookup::Verified(_) => panic!("a refusal answered as verified: {token}"),
            }
        }
        let none_kept = TokenCache::default().with_refusals_kept(Duration::ZERO);
        missed(&none_kept, "forged", 0);
        none_kept.remember("forged", 0, &Err(TokenError::BadSignature), 0);
        assert!(matches!(none_kept.lookup("forged", 0), Lookup::Miss));
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = TokenCache::new(64 * 1024);
        let exp = unix_now() + 600;
        for n in 0..10_000 {
            let token = format!("token-{n:0>200}");
            missed(&cache, &token, 0);
            cache.remember(&token, 0, &claims(exp), 0);
        }
        assert!(cache.weight() <= cache.max_bytes(), "{cache:?}");
        assert!(cache.len() > 50, "it still holds what fits: {cache:?}");
    }

    #[test]
    fn debug_shows_sizes_only() {
        let cache = TokenCache::default();
        missed(&cache, "secret-token", 0);
        cache.remember("secret-token", 0, &claims(unix_now() + 60), 0);
        let printed = format!("{cache:?}");
        assert!(printed.contains("entries: 1") && !printed.contains("johndoe") && !printed.contains("secret"));
    }
}
