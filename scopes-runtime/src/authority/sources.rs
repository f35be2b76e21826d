//! Where an authority's keys come from: a shared secret ([`Authority::hs256`] and its kin), a key set in
//! hand, providers whose keys are fetched, or an issuer's key ring; each with the policy its tokens are
//! usually held to.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};

use super::Authority;
use crate::keys::signer::Signer;
use crate::keys::{KeyRing, KeySet};
use crate::verifying::providers::ProviderKeys;
use crate::verifying::ring_keys::RingKeys;
use crate::verifying::shared_secret::SharedSecret;
use crate::verifying::static_keys::StaticKeys;
use crate::verifying::{ClaimFormat, Introspection, Policy, Provider, ProviderError, ProviderMetadata, ScopeClaim};

/// The secret is unusable for signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Shorter than the HMAC's output (32 bytes for HS256, 48 for HS384, 64 for HS512).
    #[error("the signing secret is {length} bytes; the algorithm needs at least {minimum}")]
    TooShort {
        /// The given secret's length in bytes.
        length: usize,
        /// The least accepted length.
        minimum: usize,
    },
    /// The secret printed in FastAPI's tutorial, with which anyone can forge tokens.
    #[error(
        "the signing secret is the one published in FastAPI's tutorial: anyone can forge tokens with it; \
         generate your own (e.g. `openssl rand -hex 32`)"
    )]
    Published,
}

/// The signing secret printed in FastAPI's tutorial, which anyone can read.
const PUBLISHED_SEED_SECRET: &[u8] = b"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

/// Between two machines, whose clocks may disagree a little.
const LEEWAY_BETWEEN_MACHINES: Duration = Duration::from_secs(60);

impl Authority {
    /// HS256 needs a secret at least as long as its output: 32 bytes.
    pub const MINIMUM_SECRET_LENGTH: usize = 32;

    /// An authority signing and verifying with HS256 under `secret`, which must be at least
    /// [`MINIMUM_SECRET_LENGTH`](Self::MINIMUM_SECRET_LENGTH) bytes and not the secret published in
    /// FastAPI's tutorial (see [`hs256_allowing_published_secret`](Self::hs256_allowing_published_secret)).
    ///
    /// Defaults: tokens live [`DEFAULT_TOKEN_LIFETIME`](Self::DEFAULT_TOKEN_LIFETIME); the clock leeway for
    /// `exp` and `nbf` is zero (the issuer and the verifier share a clock when they share a secret; see
    /// [`with_leeway`](Self::with_leeway)); scopes are the seed's `scopes` list; no `iss` or `aud` check.
    ///
    /// ```
    /// use scopes_runtime::{Authority, authority::KeyError};
    /// assert!(matches!(Authority::hs256(b"too short"), Err(KeyError::TooShort { length: 9, .. })));
    /// let published = b"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";
    /// assert!(matches!(Authority::hs256(published), Err(KeyError::Published)));
    /// assert!(Authority::hs256(b"0123456789abcdef0123456789abcdef").is_ok());
    /// ```
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::refusing_published(secret.as_ref(), Algorithm::HS256, Self::MINIMUM_SECRET_LENGTH)
    }

    /// As [`hs256`](Self::hs256), but accepts the secret published in FastAPI's tutorial, with a warning in
    /// the log: for a throwaway development run that must accept the tutorial's own tokens, never for a
    /// deployment.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let published = b"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";
    /// assert!(Authority::hs256_allowing_published_secret(published).is_ok());
    /// assert!(Authority::hs256_allowing_published_secret(b"too short").is_err());
    /// ```
    pub fn hs256_allowing_published_secret(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::hmac(secret.as_ref(), Algorithm::HS256, 32)
    }

    /// As [`hs256`](Self::hs256), with HS384: the secret must be at least 48 bytes.
    ///
    /// ```
    /// use scopes_runtime::{Authority, authority::KeyError};
    /// assert!(matches!(Authority::hs384([7u8; 47]), Err(KeyError::TooShort { minimum: 48, .. })));
    /// let authority = Authority::hs384([7u8; 48]).unwrap();
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// assert_eq!(authority.verify(&token).unwrap().sub, "johndoe");
    /// assert!(Authority::hs256([7u8; 48]).unwrap().verify(&token).is_err(), "HS256 is not HS384");
    /// ```
    pub fn hs384(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::refusing_published(secret.as_ref(), Algorithm::HS384, 48)
    }

    /// As [`hs256`](Self::hs256), with HS512: the secret must be at least 64 bytes.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs512([7u8; 64]).unwrap();
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// assert_eq!(authority.verify(&token).unwrap().scopes, ["me"]);
    /// ```
    pub fn hs512(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::refusing_published(secret.as_ref(), Algorithm::HS512, 64)
    }

    fn refusing_published(secret: &[u8], algorithm: Algorithm, minimum: usize) -> Result<Self, KeyError> {
        if secret == PUBLISHED_SEED_SECRET {
            return Err(KeyError::Published);
        }
        Self::hmac(secret, algorithm, minimum)
    }

    /// An authority signing and verifying with `algorithm` (an HMAC) under `secret`, at least `minimum`
    /// bytes: the hash's output size, as RFC 7518 §3.2 requires.
    fn hmac(secret: &[u8], algorithm: Algorithm, minimum: usize) -> Result<Self, KeyError> {
        if secret.len() < minimum {
            return Err(KeyError::TooShort { length: secret.len(), minimum });
        }
        if secret == PUBLISHED_SEED_SECRET {
            tracing::warn!(
                "the signing secret is the one published in FastAPI's tutorial: anyone can forge tokens; \
                 accepted for a development run only"
            );
        }
        // The seed's tokens: its `scopes` list, no leeway (issuer and verifier share a clock).
        let policy = Policy::new().with_scope_claim(ScopeClaim::Scopes);
        let signer = Signer::Secret { key: EncodingKey::from_secret(secret), algorithm };
        Ok(Authority::new(Arc::new(SharedSecret::new(secret, algorithm)), policy, Some(signer)))
    }

    /// An authority that verifies tokens signed by `keys` (a provider's JWK Set) and issued for `audience`,
    /// and issues none: a resource server's.
    ///
    /// Each key verifies with its own pinned algorithm; a token is matched to a key by its `kid` (a set of
    /// one key also takes tokens without one). Defaults: `aud` must name `audience` (RFC 7519 §4.1.3; see
    /// [`with_any_audience`](Self::with_any_audience)); `exp` is required; the clock leeway is
    /// 60 s, as between two machines; scopes are read from the `scope` claim ([`ScopeClaim`]). Add
    /// [`with_issuer`](Self::with_issuer), which a provider's tokens should always be checked against.
    ///
    /// ```
    /// use scopes_runtime::{Authority, KeySet, ScopeClaim};
    ///
    /// let keys = KeySet::from_jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#).unwrap();
    /// let authority = Authority::from_key_set(keys, "https://api.example")
    ///     .with_issuer("https://auth.example")
    ///     .with_scope_claim(ScopeClaim::Scp)
    ///     .with_token_type("at+jwt");
    /// assert!(authority.issue("johndoe", &["me"]).is_err(), "it only verifies");
    /// ```
    pub fn from_key_set(keys: KeySet, audience: impl Into<String>) -> Self {
        let policy = Policy::new().with_leeway(LEEWAY_BETWEEN_MACHINES);
        Authority::new(Arc::new(StaticKeys { keys }), policy, None).with_audience(audience)
    }

    /// An authority that verifies tokens from `providers` issued for `audience`, and issues none: a
    /// resource server's, whose keys are fetched from the providers and kept fresh (see [`Provider`] and
    /// [`KeyRefresh`](crate::verifying::KeyRefresh)).
    ///
    /// A token is checked against the provider its `iss` names exactly, with that provider's key for its
    /// `kid`; a token from any other issuer is refused without a fetch. The defaults are
    /// [`from_key_set`](Self::from_key_set)'s: `aud` must name `audience`, `exp` is required, 60 s of
    /// leeway. Must be called inside a Tokio runtime: fetching starts at once, in the background, and the
    /// authority is usable before it succeeds (tokens are answered 503 until the first set arrives).
    ///
    /// ```no_run
    /// use scopes_runtime::{Authority, Provider, ScopeClaim};
    ///
    /// # async fn run() -> Result<(), scopes_runtime::verifying::ProviderError> {
    /// let authority = Authority::from_providers(
    ///     [
    ///         Provider::discover("https://sso.example/realms/api")
    ///             .with_scope_claim(ScopeClaim::pointer("/realm_access/roles").unwrap()),
    ///         Provider::discover("https://tenant.auth0.example/").with_scope_claim(ScopeClaim::Permissions),
    ///     ],
    ///     "https://api.example",
    /// )?
    /// .with_token_type("at+jwt");
    /// # let _ = authority;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_providers(
        providers: impl IntoIterator<Item = Provider>,
        audience: impl Into<String>,
    ) -> Result<Self, ProviderError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ProviderError::NoRuntime)?;
        let providers = ProviderKeys::start(providers.into_iter().collect(), &runtime)?;
        // A token is checked against the provider its `iss` names (or the only one), so `iss` must be one
        // of theirs: the policy names them all.
        let issuers: Vec<String> = providers.providers().map(|provider| provider.issuer().to_owned()).collect();
        let policy = Policy::new().with_leeway(LEEWAY_BETWEEN_MACHINES).with_issuers(issuers);
        let mut authority = Authority::new(Arc::new(providers.clone()), policy, None).with_audience(audience);
        authority.inner_mut().providers = Some(providers);
        Ok(authority)
    }

    /// An authority that asks the issuer about every token ([`Introspection`], RFC 7662) instead of
    /// verifying it here: for opaque tokens, or JWTs whose logout must be seen at once. Answers are held
    /// to the usual policy: `iss` (when an answer names one) must be the issuer's, `aud` must name
    /// `audience`, `exp` and `nbf` with 60 s of leeway; scopes are read from `scope`. It issues nothing, and
    /// keeps no [`TokenCache`](crate::verifying::TokenCache): the introspection's own cache (keyed by a
    /// digest, with a short TTL) remembers answers.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// use scopes_runtime::verifying::{ClientAuth, Introspection};
    /// let introspection = Introspection::at("https://sso.example", "https://sso.example/introspect", ClientAuth::secret_basic("api", "s3cret"));
    /// let authority = Authority::from_introspection(introspection, "https://api.example").unwrap();
    /// assert_eq!(authority.policy().audiences(), ["https://api.example"]);
    /// assert!(authority.introspection().is_some());
    /// ```
    pub fn from_introspection(
        introspection: Introspection,
        audience: impl Into<String>,
    ) -> Result<Self, ProviderError> {
        introspection.check_urls()?;
        let policy = Policy::new()
            .with_leeway(LEEWAY_BETWEEN_MACHINES)
            .with_scope_claim(ScopeClaim::Scope)
            .with_issuers([introspection.issuer().to_owned()]);
        let verifier = Arc::new(introspection.clone());
        let mut authority = Authority::new(verifier, policy, None).with_audience(audience).without_token_cache();
        authority.inner_mut().introspection = Some(introspection);
        Ok(authority)
    }

    /// The introspection of an authority made with [`from_introspection`](Self::from_introspection): to
    /// [`revoke`](Introspection::revoke) a token at the issuer and forget it here.
    pub fn introspection(&self) -> Option<&Introspection> {
        self.inner.introspection.as_ref()
    }

    /// An issuer's authority: it signs with the current key of `ring` (its `kid` in the header) and verifies
    /// with every key the ring publishes, so every replica sharing the ring's store accepts the tokens of
    /// every other, across rotations. Tokens carry `iss` = `issuer`, `aud` = `audience`, `iat`, a random
    /// `jti`, and their scopes in `scope` (space-separated, RFC 9068), and live the ring's token lifetime;
    /// a token without this `iss` and `aud` is refused. The clock leeway is 60 s, as between machines.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::{Authority, keys::KeyRing, keys::SigningAlgorithm, keys::SigningKey};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let stored = vec![SigningKey::generate(SigningAlgorithm::EdDsa).unwrap()];
    /// let load = move || { let keys = stored.clone(); async move { Ok(keys) } };
    /// let ring = KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(10)).await.unwrap();
    /// let authority = Authority::from_key_ring(ring, "https://auth.example", "https://api.example");
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// let claims = authority.verify(&token).unwrap();
    /// assert_eq!((claims.sub.as_str(), claims.scopes.as_slice()), ("johndoe", &["me".to_owned()][..]));
    /// assert!(claims.extra.contains_key("jti") && claims.extra.contains_key("iat"));
    /// # }
    /// ```
    pub fn from_key_ring(ring: KeyRing, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        let policy = Policy::new().with_leeway(LEEWAY_BETWEEN_MACHINES).with_scope_claim(ScopeClaim::Scope);
        let verifier = Arc::new(RingKeys { ring: ring.clone() });
        let mut authority = Authority::new(verifier, policy, Some(Signer::Ring(ring.clone())));
        let issued = &mut authority.inner_mut().issued;
        issued.format = ClaimFormat::ScopeString;
        issued.lifetime = ring.token_lifetime();
        issued.stamped = true;
        authority.with_issuer(issuer).with_audience(audience)
    }

    /// The providers' metadata from their last successful discovery, in the order they were given; a
    /// provider not discovered yet (or configured with a JWKS URL) has none. Empty for other authorities.
    pub fn provider_metadata(&self) -> Vec<Option<ProviderMetadata>> {
        self.inner.providers.as_ref().map(ProviderKeys::metadata).unwrap_or_default()
    }

    /// Waits until every provider's keys have been fetched once, for at most `timeout`; whether they were.
    /// For a start-up that would rather serve its first requests with keys in hand, or document the
    /// providers' endpoints (their [metadata](Self::provider_metadata)); never required, since requests
    /// arriving before the keys wait for a fetch or are answered 503. Other authorities are ready at once.
    pub async fn wait_for_keys(&self, timeout: Duration) -> bool {
        match &self.inner.providers {
            Some(providers) => providers.wait_for_keys(timeout).await,
            None => true,
        }
    }

    /// The [providers](Self::from_providers) whose keys have not been fetched yet (none for other
    /// authorities): until each has its key set, its tokens are answered 503. What a readiness check asks.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// assert!(Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().providers_without_keys().is_empty());
    /// ```
    pub fn providers_without_keys(&self) -> Vec<&str> {
        self.inner.providers.as_ref().map(ProviderKeys::without_keys).unwrap_or_default()
    }

    /// The issuers whose tokens this authority accepts: each provider's, or the one set by
    /// [`with_issuer`](Self::with_issuer) (the [policy](Self::policy)'s).
    pub fn trusted_issuers(&self) -> Vec<&str> {
        self.inner.policy.issuers().iter().map(String::as_str).collect()
    }
}
