//! An issuer's signing keys as each replica holds them: the current key signs, every published key
//! verifies, and the JWK Set document is ready to serve. Swapped in whole (arc-swap), so signing and
//! verifying take no lock; reloaded from the store in the background, and at once (one reload at a time, at
//! most once a second) when a token names a `kid` the ring lacks: another replica rotated first.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use jsonwebtoken::{Algorithm, EncodingKey};
use tokio::time::Instant;

use super::clock::unix_now;
use super::key_set::KeySet;
use super::signing_key::{SigningAlgorithm, SigningKey, signs_within};
use crate::reloading::{StoreError, reload_while_held};

/// How soon after one reload a token with an unknown `kid` may prompt another: forged `kid`s cost the
/// store at most one read a second.
const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(1);

type Loading = Pin<Box<dyn Future<Output = Result<Vec<SigningKey>, StoreError>> + Send>>;

/// An issuer's signing keys, loaded from a store and kept fresh: give it to
/// [`Authority::from_key_ring`](crate::authority::Authority::from_key_ring), and serve its [`jwks`](Self::jwks).
///
/// Every replica loads the same keys from the shared store: the current key signs (its `kid` in each
/// token's header), and every key still published verifies, so a token signed by any replica, before or
/// after a rotation, verifies at every replica until it expires. A rotation (a new current key in the
/// store) reaches a replica at its next reload, or at once when it meets a token signed with the new key.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::{keys::KeyRing, keys::SigningAlgorithm, keys::SigningKey};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let key = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
/// let stored = vec![key.clone()];
/// let ring = KeyRing::load(move || { let keys = stored.clone(); async move { Ok(keys) } }, Duration::from_secs(1800), Duration::from_secs(10))
///     .await
///     .unwrap();
/// assert_eq!(ring.current_kid().as_deref(), Some(key.kid()));
/// assert_eq!(ring.jwks()["keys"][0]["kid"], key.kid());
/// # }
/// ```
#[derive(Clone)]
pub struct KeyRing {
    shared: Arc<Shared>,
}

struct Shared {
    ring: ArcSwap<Ring>,
    load: Box<dyn Fn() -> Loading + Send + Sync>,
    token_lifetime: Duration,
    /// When the last reload for an unknown `kid` started; held while one runs, so others wait for it.
    reloading: tokio::sync::Mutex<Option<Instant>>,
}

/// The keys as of one load.
pub(crate) struct Ring {
    /// The keys whose private half is in hand, each to sign in its own time: a rotation published ahead
    /// takes over at its activation on every replica that loaded it, without waiting for a reload.
    signers: Vec<Signer>,
    /// Every published key; `None` when there is none.
    pub(crate) verifying: Option<KeySet>,
    /// When each published key signs, by `kid`: a token it verifies must have been issued then.
    windows: Vec<SigningWindow>,
    jwks: serde_json::Value,
    /// A digest of the published keys and their windows: it changes when a token one of them verified
    /// might no longer verify (a key revoked, a window closed), and only then.
    pub(crate) fingerprint: u64,
}

/// When one key signs: from `activates_at` until `superseded_at` (Unix seconds).
pub(crate) struct SigningWindow {
    kid: String,
    activates_at: u64,
    superseded_at: Option<u64>,
}

/// A key that signs, from `activates_at` until `superseded_at` (Unix seconds).
pub(crate) struct Signer {
    pub(crate) kid: String,
    signing_algorithm: SigningAlgorithm,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: EncodingKey,
    activates_at: u64,
    superseded_at: Option<u64>,
}

impl Ring {
    /// Whether a token that key `kid` verifies, issued at `issued_at` (Unix seconds, as its `iat` says),
    /// was issued while that key signed, give or take `leeway` seconds of clock skew between replicas: a
    /// token a superseded key verifies but dated after it stopped signing was not signed by this issuer.
    pub(crate) fn signed_within_window(&self, kid: &str, issued_at: u64, leeway: u64) -> bool {
        self.windows.iter().find(|window| window.kid == kid).is_some_and(|window| {
            window.activates_at <= issued_at.saturating_add(leeway)
                && window.superseded_at.is_none_or(|superseded| issued_at <= superseded.saturating_add(leeway))
        })
    }

    /// The key that signs now, if its private half is in hand.
    pub(crate) fn signer(&self) -> Option<&Signer> {
        let now = unix_now();
        self.signers.iter().rev().find(|signer| signs_within(signer.activates_at, signer.superseded_at, now))
    }
}

impl fmt::Debug for KeyRing {
    /// The `kid`s it signs and verifies with; never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ring = self.shared.ring.load();
        f.debug_struct("KeyRing")
            .field("signing", &ring.signer().map(|signer| &signer.kid))
            .field("verifying", &ring.verifying)
            .field("token_lifetime", &self.shared.token_lifetime)
            .finish()
    }
}

impl KeyRing {
    /// Loads the keys `load` reads from the store, for tokens living `token_lifetime`, and reloads them
    /// every `reload_every` for as long as a clone of the ring lives (in the background: call it inside a
    /// Tokio runtime). Fails when the first load does.
    pub async fn load<F, L>(load: F, token_lifetime: Duration, reload_every: Duration) -> Result<Self, StoreError>
    where
        F: Fn() -> L + Send + Sync + 'static,
        L: Future<Output = Result<Vec<SigningKey>, StoreError>> + Send + 'static,
    {
        let load: Box<dyn Fn() -> Loading + Send + Sync> = Box::new(move || Box::pin(load()));
        let ring = Ring::of(load().await?, token_lifetime)?;
        let shared = Arc::new(Shared {
            ring: ArcSwap::from_pointee(ring),
            load,
            token_lifetime,
            reloading: tokio::sync::Mutex::new(None),
        });
        let reload = async |shared| KeyRing { shared }.reload().await;
        let every = reload_every.max(Duration::from_millis(100));
        tokio::spawn(reload_while_held(Arc::downgrade(&shared), every, "the signing keys", reload));
        Ok(KeyRing { shared })
    }

    /// Reads the keys from the store again now.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let ring = Ring::of((self.shared.load)().await?, self.shared.token_lifetime)?;
        self.shared.ring.store(Arc::new(ring));
        Ok(())
    }

    /// The JWK Set of every published key, as `/.well-known/jwks.json` serves it.
    pub fn jwks(&self) -> serde_json::Value {
        self.shared.ring.load().jwks.clone()
    }

    /// The `kid` of the key that signs now.
    pub fn current_kid(&self) -> Option<String> {
        self.shared.ring.load().signer().map(|signer| signer.kid.clone())
    }

    /// The algorithm of the key that signs now.
    pub fn current_algorithm(&self) -> Option<SigningAlgorithm> {
        self.shared.ring.load().signer().map(|signer| signer.signing_algorithm)
    }

    /// How long the tokens signed with these keys live: superseded keys stay published that long.
    pub fn token_lifetime(&self) -> Duration {
        self.shared.token_lifetime
    }

    /// The keys as of the last load. Lock-free.
    pub(crate) fn ring(&self) -> arc_swap::Guard<Arc<Ring>> {
        self.shared.ring.load()
    }

    /// Reloads for a token whose `kid` the ring lacked, unless a reload ran within the cooldown; waits for
    /// one already running instead of starting another.
    pub(crate) async fn reload_for_unknown_kid(&self) {
        let mut last = self.shared.reloading.lock().await;
        if last.is_some_and(|last| last.elapsed() < UNKNOWN_KID_COOLDOWN) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "reloading the signing keys for an unknown kid failed; keeping those in hand");
        }
    }
}

impl Ring {
    fn of(keys: Vec<SigningKey>, token_lifetime: Duration) -> Result<Self, StoreError> {
        let now = unix_now();
        let invalid = |error: &dyn fmt::Display| StoreError::Invalid(error.to_string());
        let published: Vec<&SigningKey> = keys.iter().filter(|key| key.is_published(token_lifetime, now)).collect();
        let jwks = serde_json::json!({ "keys": published.iter().map(|key| key.public_jwk()).collect::<Vec<_>>() });
        let verifying = match published.is_empty() {
            true => None,
            false => Some(KeySet::from_jwks(&jwks.to_string()).map_err(|error| invalid(&error))?),
        };
        let windows: Vec<SigningWindow> = published
            .iter()
            .map(|key| SigningWindow {
                kid: key.kid().to_owned(),
                activates_at: key.activates_at(),
                superseded_at: key.superseded_at(),
            })
            .collect();
        let mut fingerprint = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&verifying.as_ref().map(KeySet::fingerprint), &mut fingerprint);
        for window in &windows {
            std::hash::Hash::hash(&(&window.kid, window.activates_at, window.superseded_at), &mut fingerprint);
        }
        let fingerprint = std::hash::Hasher::finish(&fingerprint);
        let mut signers = Vec::new();
        for key in keys.iter().filter(|key| key.superseded_at().is_none_or(|superseded| now < superseded)) {
            if let Some(encoding) = key.encoding_key().map_err(|error| invalid(&error))? {
                signers.push(Signer {
                    kid: key.kid().to_owned(),
                    signing_algorithm: key.algorithm(),
                    algorithm: key.algorithm().jwt(),
                    key: encoding,
                    activates_at: key.activates_at(),
                    superseded_at: key.superseded_at(),
                });
            }
        }
        Ok(Ring { signers, verifying, windows, jwks, fingerprint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::Authority;
    use crate::verifying::TokenError;

    async fn ring_of(keys: Vec<SigningKey>) -> KeyRing {
        let load = move || {
            let keys = keys.clone();
            async move { Ok(keys) }
        };
        KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(60)).await.unwrap()
    }

    /// `key` as the store keeps it once a newer key superseded it at `superseded_at`, its private half erased.
    fn superseded(key: &SigningKey, superseded_at: u64) -> SigningKey {
        let jwk = key.public_jwk().to_string();
        SigningKey::from_stored(crate::keys::signing_key::StoredKey {
            kid: key.kid().into(),
            algorithm: key.algorithm().name(),
            private_key: None,
            public_jwk: &jwk,
            created_at: 0,
            activates_at: 0,
            superseded_at: Some(i64::try_from(superseded_at).unwrap()),
            revoked_at: None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_key_published_ahead_signs_only_from_its_activation_and_takes_over_without_a_reload() {
        let now = unix_now();
        let old = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
        let jwk = old.public_jwk().to_string();
        let private = old.stored_private_key().unwrap();
        // The old key still signs for two more seconds; the new one is published already.
        let old_until_then = SigningKey::from_stored(crate::keys::signing_key::StoredKey {
            kid: old.kid().into(),
            algorithm: "ES256",
            private_key: Some(&private),
            public_jwk: &jwk,
            created_at: 0,
            activates_at: 0,
            superseded_at: Some(i64::try_from(now + 2).unwrap()),
            revoked_at: None,
        })
        .unwrap();
        let new = SigningKey::generate(SigningAlgorithm::EdDsa).unwrap().activating_at(now + 2);
        let ring = ring_of(vec![old_until_then, new.clone()]).await;
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 2, "both published");
        assert_eq!(ring.current_kid().as_deref(), Some(old.kid()), "the old key signs until the new one activates");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(ring.current_kid().as_deref(), Some(new.kid()), "then the new one, with no reload");
    }

    #[tokio::test]
    async fn a_superseded_key_verifies_until_its_tokens_have_expired_then_drops_out() {
        let old = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
        let signed_before = Authority::from_key_ring(ring_of(vec![old.clone()]).await, "https://a.example", "api")
            .issue("johndoe", &["me"])
            .unwrap();
        let new = SigningKey::generate(SigningAlgorithm::EdDsa).unwrap();

        let just_rotated = ring_of(vec![superseded(&old, unix_now()), new.clone()]).await;
        assert_eq!(just_rotated.current_kid().as_deref(), Some(new.kid()));
        assert_eq!(just_rotated.jwks()["keys"].as_array().unwrap().len(), 2);
        let authority = Authority::from_key_ring(just_rotated, "https://a.example", "api");
        assert!(authority.verify(&signed_before).is_ok(), "published while its tokens may live");
        let signed_after = authority.issue("johndoe", &["me"]).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&signed_after).unwrap().kid.as_deref(), Some(new.kid()));

        let lifetime_ago = unix_now() - 1800 - crate::keys::ROTATION_GRACE.as_secs() - 1;
        let long_after = ring_of(vec![superseded(&old, lifetime_ago), new]).await;
        assert_eq!(long_after.jwks()["keys"].as_array().unwrap().len(), 1, "the old key dropped out");
        let authority = Authority::from_key_ring(long_after, "https://a.example", "api");
        assert_eq!(authority.verify(&signed_before).unwrap_err(), TokenError::UnknownKey);
        assert!(authority.verify(&signed_after).is_ok());
    }

    #[tokio::test]
    async fn a_token_remembered_by_the_cache_is_refused_once_its_key_leaves_the_ring() {
        let (old, new) = (
            SigningKey::generate(SigningAlgorithm::Es256).unwrap(),
            SigningKey::generate(SigningAlgorithm::Es256).unwrap(),
        );
        let stored = Arc::new(std::sync::Mutex::new(vec![old.clone()]));
        let keys = stored.clone();
        let load = move || {
            let keys = keys.lock().unwrap().clone();
            async move { Ok(keys) }
        };
        let ring = KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(3600)).await.unwrap();
        let authority = Authority::from_key_ring(ring.clone(), "https://a.example", "api");
        let token = authority.issue("johndoe", &["me"]).unwrap();
        assert!(authority.verify(&token).is_ok());
        assert!(authority.verify(&token).is_ok());
        assert_eq!(authority.token_cache().unwrap().len(), 1, "remembered");

        // A reload that brings the same keys keeps what was remembered.
        ring.reload().await.unwrap();
        assert!(authority.verify(&token).is_ok());
        // The old key is revoked (gone from the store): its token is refused at the next reload.
        *stored.lock().unwrap() = vec![new];
        ring.reload().await.unwrap();
        assert_eq!(authority.verify(&token).unwrap_err(), TokenError::UnknownKey);
    }

    #[tokio::test]
    async fn an_unknown_kid_prompts_a_reload_and_forged_ones_at_most_one_a_second() {
        let first = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
        let stored = Arc::new(std::sync::Mutex::new(vec![first.clone()]));
        let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (keys, counted) = (stored.clone(), loads.clone());
        let load = move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let keys = keys.lock().unwrap().clone();
            async move { Ok(keys) }
        };
        let ring = KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(3600)).await.unwrap();
        let verifier = Authority::from_key_ring(ring, "https://a.example", "api");

        // Another replica rotated: its token names a key this one has not loaded.
        let second = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
        *stored.lock().unwrap() = vec![superseded(&first, unix_now()), second.clone()];
        let elsewhere = Authority::from_key_ring(ring_of(vec![second]).await, "https://a.example", "api");
        let token = elsewhere.issue("johndoe", &["me"]).unwrap();
        assert!(verifier.verify(&token).is_err(), "not in hand yet");
        assert!(verifier.verify_async(&token).await.is_ok(), "reloaded for it");

        let before = loads.load(std::sync::atomic::Ordering::SeqCst);
        let forged = |n: usize| {
            let header = jsonwebtoken::Header {
                kid: Some(format!("forged-{n}")),
                ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256)
            };
            format!(
                "{}.e30.AAAA",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    serde_json::to_vec(&header).unwrap()
                )
            )
        };
        for n in 0..20 {
            assert!(verifier.verify_async(&forged(n)).await.is_err());
        }
        assert!(loads.load(std::sync::atomic::Ordering::SeqCst) - before <= 1, "one reload per second at most");
    }
}
