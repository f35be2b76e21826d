//! The [`Authority`]: what an app's guards verify tokens with (a shared secret, a key set in hand, or
//! providers' fetched key sets, each a [`Verifier`](super::verifier::Verifier)), under one policy, and how
//! refusals are answered.
//!
//! The algorithm is pinned: a token whose header names any other algorithm than its key's (`none`,
//! `HS512`, `RS256`, …) is refused before its signature is looked at, so a forged header cannot downgrade
//! verification.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};

use super::claims::ClaimFormat;
use super::providers::ProviderKeys;
use super::revocations::Revocations;
use super::ring_keys::RingKeys;
use super::shared_secret::SharedSecret;
use super::static_keys::StaticKeys;
use super::verifier::{Policy, TokenError, Verifier, Verifying};
use crate::style::RequestParsing;
use crate::{AuthError, Claims, KeyRing, KeySet, Provider, ProviderError, ProviderMetadata, ResponseStyle, ScopeClaim};

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

/// Verifies access tokens: with a shared secret (HS256, the seed's, or HS384/HS512), which also issues
/// them; or with a provider's published keys ([`from_key_set`](Self::from_key_set),
/// [`from_providers`](Self::from_providers)), issuing none.
///
/// Cheap to clone (the keys are shared), so it lives in the app state and guards reach it with
/// [`FromRef`](axum::extract::FromRef).
///
/// ```
/// use scopes_runtime::Authority;
///
/// let authority = Authority::hs256(b"a secret of at least thirty-two bytes!!").unwrap();
/// let token = authority.issue("johndoe", &["me", "items"]).unwrap();
/// let claims = authority.verify(&token).unwrap();
/// assert_eq!(claims.sub, "johndoe");
/// assert_eq!(claims.scopes, ["me", "items"]);
/// ```
#[derive(Clone)]
pub struct Authority {
    keys: Arc<Keys>,
}

#[derive(Clone)]
struct Keys {
    /// The key that signs and its algorithm; `None` for an authority that only verifies
    /// ([`Authority::from_key_set`], [`Authority::from_providers`]).
    encoding: Option<(EncodingKey, Algorithm)>,
    verification: Verification,
    policy: Policy,
    /// Where this API's protected-resource metadata is (RFC 9728), named in every challenge.
    resource_metadata: Option<String>,
    token_lifetime: Duration,
    issuer: Option<String>,
    audience: Option<String>,
    /// Whether issued tokens carry `iat` and a `jti` (an issuer's, for its clients and verifiers); the
    /// seed's tokens carry neither.
    stamped: bool,
    /// Tokens refused although they verify: revoked ones, and those of revoked refresh-token families.
    revocations: Option<Revocations>,
    response_style: ResponseStyle,
    request_parsing: RequestParsing,
}

/// What tokens are verified with: each kind of key a [`Verifier`].
#[derive(Clone)]
enum Verification {
    /// One HMAC secret, which also signs.
    Secret(SharedSecret),
    /// A provider's public keys, in hand.
    KeySet(StaticKeys),
    /// Providers whose keys are fetched, each token checked against the one its `iss` names.
    Providers(ProviderKeys),
    /// The issuer's own key pairs, shared by its replicas through the store: the current one signs.
    Ring(RingKeys),
}

impl Keys {
    /// Keys with the policy every authority starts from: `exp` required, `nbf` honoured, no `iss` or `aud`
    /// check, `leeway_seconds` of clock skew; and every other setting at its default.
    fn new(
        encoding: Option<(EncodingKey, Algorithm)>,
        verification: Verification,
        algorithm: Algorithm,
        leeway_seconds: u64,
    ) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.leeway = leeway_seconds;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let mut keys = Keys {
            encoding,
            verification,
            policy: Policy { validation, token_type: None, claim_format: ClaimFormat::default() },
            resource_metadata: None,
            token_lifetime: Authority::DEFAULT_TOKEN_LIFETIME,
            issuer: None,
            audience: None,
            stamped: false,
            revocations: None,
            response_style: ResponseStyle::default(),
            request_parsing: RequestParsing::default(),
        };
        keys.change_policy(|_| {});
        keys
    }

    /// Changes the verification policy, and the verifier's copies of it with it.
    fn change_policy(&mut self, change: impl FnOnce(&mut Validation)) {
        change(&mut self.policy.validation);
        let base = &self.policy.validation;
        match &mut self.verification {
            Verification::Secret(secret) => secret.adopt(base),
            Verification::KeySet(keys) => keys.adopt(base),
            Verification::Providers(providers) => providers.adopt(base),
            Verification::Ring(ring) => ring.adopt(base),
        }
    }
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        let mut debug = f.debug_struct("Authority");
        match &self.keys.verification {
            Verification::Secret(_) => debug.field("algorithm", &self.keys.policy.validation.algorithms),
            Verification::KeySet(keys) => debug.field("keys", &keys.keys).field("scope_claim", &keys.scope_claim),
            Verification::Providers(providers) => {
                debug.field("providers", &providers.providers().collect::<Vec<&Provider>>())
            }
            Verification::Ring(ring) => debug.field("key_ring", &ring.ring),
        };
        debug
            .field("token_type", &self.keys.policy.token_type)
            .field("resource_metadata", &self.keys.resource_metadata)
            .field("token_lifetime", &self.keys.token_lifetime)
            .field("leeway_seconds", &self.keys.policy.validation.leeway)
            .field("claim_format", &self.keys.policy.claim_format)
            .field("issuer", &self.keys.issuer)
            .field("audience", &self.keys.audience)
            .field("stamped", &self.keys.stamped)
            .field("revocations", &self.keys.revocations)
            .field("response_style", &self.keys.response_style)
            .field("request_parsing", &self.keys.request_parsing)
            .finish()
    }
}

impl Authority {
    /// Thirty minutes, as in FastAPI's tutorial.
    pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);

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
    /// use scopes_runtime::{Authority, KeyError};
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
    /// use scopes_runtime::{Authority, KeyError};
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
        let verification = Verification::Secret(SharedSecret { decoding: DecodingKey::from_secret(secret) });
        let signing = (EncodingKey::from_secret(secret), algorithm);
        let keys = Keys::new(Some(signing), verification, algorithm, 0);
        Ok(Authority { keys: Arc::new(keys) })
    }

    /// An authority that verifies tokens signed by `keys` (a provider's JWK Set) and issued for `audience`,
    /// and issues none: a resource server's.
    ///
    /// Each key verifies with its own pinned algorithm; a token is matched to a key by its `kid` (a set of
    /// one key also takes tokens without one). Defaults: `aud` must name `audience` (RFC 7519 §4.1.3; see
    /// [`without_audience_check`](Self::without_audience_check)); `exp` is required; the clock leeway is
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
    ///     .require_token_type("at+jwt");
    /// assert!(authority.issue("johndoe", &["me"]).is_err(), "it only verifies");
    /// ```
    pub fn from_key_set(keys: KeySet, audience: impl Into<String>) -> Self {
        // The algorithm a token is checked with is its key's (`StaticKeys`); the base policy's is never used.
        let keys = Keys::new(None, Verification::KeySet(StaticKeys::new(keys)), Algorithm::RS256, 60);
        Authority { keys: Arc::new(keys) }.with_audience(audience)
    }

    /// An authority that verifies tokens from `providers` issued for `audience`, and issues none: a
    /// resource server's, whose keys are fetched from the providers and kept fresh (see [`Provider`] and
    /// [`KeyRefresh`](crate::KeyRefresh)).
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
    /// # async fn run() -> Result<(), scopes_runtime::ProviderError> {
    /// let authority = Authority::from_providers(
    ///     [
    ///         Provider::discover("https://sso.example/realms/api")
    ///             .with_scope_claim(ScopeClaim::pointer("/realm_access/roles").unwrap()),
    ///         Provider::discover("https://tenant.auth0.example/").with_scope_claim(ScopeClaim::Permissions),
    ///     ],
    ///     "https://api.example",
    /// )?
    /// .require_token_type("at+jwt");
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
        let keys = Keys::new(None, Verification::Providers(providers), Algorithm::RS256, 60);
        Ok(Authority { keys: Arc::new(keys) }.with_audience(audience))
    }

    /// An issuer's authority: it signs with the current key of `ring` (its `kid` in the header) and verifies
    /// with every key the ring publishes, so every replica sharing the ring's store accepts the tokens of
    /// every other, across rotations. Tokens carry `iss` = `issuer`, `aud` = `audience`, `iat`, a random
    /// `jti`, and their scopes in `scope` (space-separated, RFC 9068), and live the ring's token lifetime;
    /// a token without this `iss` and `aud` is refused. The clock leeway is 60 s, as between machines.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::{Authority, KeyRing, SigningAlgorithm, SigningKey};
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
        let lifetime = ring.token_lifetime();
        let verification = Verification::Ring(RingKeys::new(ring, ScopeClaim::Scope));
        let mut keys = Keys::new(None, verification, Algorithm::ES256, 60);
        keys.policy.claim_format = ClaimFormat::ScopeString;
        keys.token_lifetime = lifetime;
        keys.stamped = true;
        Authority { keys: Arc::new(keys) }.with_issuer(issuer).with_audience(audience)
    }

    /// The providers' metadata from their last successful discovery, in the order they were given; a
    /// provider not discovered yet (or configured with a JWKS URL) has none. Empty for other authorities.
    pub fn provider_metadata(&self) -> Vec<Option<ProviderMetadata>> {
        match &self.keys.verification {
            Verification::Providers(providers) => providers.metadata(),
            _ => Vec::new(),
        }
    }

    /// Waits until every provider's keys have been fetched once, for at most `timeout`; whether they were.
    /// For a start-up that would rather serve its first requests with keys in hand, or document the
    /// providers' endpoints (their [metadata](Self::provider_metadata)); never required, since requests
    /// arriving before the keys wait for a fetch or are answered 503. Other authorities are ready at once.
    pub async fn wait_for_keys(&self, timeout: Duration) -> bool {
        match &self.keys.verification {
            Verification::Providers(providers) => providers.wait_for_keys(timeout).await,
            _ => true,
        }
    }

    /// The issuers whose tokens this authority accepts: each provider's, or the one set by
    /// [`with_issuer`](Self::with_issuer).
    pub fn trusted_issuers(&self) -> Vec<&str> {
        match &self.keys.verification {
            Verification::Providers(providers) => providers.providers().map(Provider::issuer).collect(),
            _ => self.keys.issuer.as_deref().into_iter().collect(),
        }
    }

    /// Accepts tokens whatever their `aud`: only for a provider that issues tokens for this API alone,
    /// since any token it issues, for any service, is then good here too.
    pub fn without_audience_check(mut self) -> Self {
        let keys = Arc::make_mut(&mut self.keys);
        keys.change_policy(|policy| {
            policy.validate_aud = false;
            policy.aud = None;
            policy.required_spec_claims.remove("aud");
        });
        keys.audience = None;
        self
    }

    /// Reads the scopes of tokens verified with a key set from `claim` (the default is `scope`). Tokens
    /// this authority signs itself use its [`ClaimFormat`] instead; each [`Provider`] has its own.
    pub fn with_scope_claim(mut self, claim: ScopeClaim) -> Self {
        if let Verification::KeySet(keys) = &mut Arc::make_mut(&mut self.keys).verification {
            keys.scope_claim = claim;
        }
        self
    }

    /// Accepts only tokens whose header's `typ` is `token_type` (compared without case, with or without
    /// `application/`), such as RFC 9068's `at+jwt`, which tells an access token from an ID token.
    /// Tokens this authority signs itself are not checked.
    pub fn require_token_type(mut self, token_type: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.keys).policy.token_type = Some(token_type.into());
        self
    }

    /// Answers refusals in `style` (the default is [`ResponseStyle::default`], RFC 6750 / RFC 6749). How
    /// requests are read is [`with_request_parsing`](Self::with_request_parsing)'s business.
    ///
    /// ```
    /// use scopes_runtime::{Authority, ResponseStyle, style::RequestParsing};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_response_style(ResponseStyle::Seed);
    /// assert_eq!(authority.request_parsing(), RequestParsing::Strict);
    /// ```
    pub fn with_response_style(mut self, style: ResponseStyle) -> Self {
        Arc::make_mut(&mut self.keys).response_style = style;
        self
    }

    /// How refusals are answered.
    pub fn response_style(&self) -> &ResponseStyle {
        &self.keys.response_style
    }

    /// Names `url`, where this API's protected-resource metadata is served (RFC 9728 §5.1; see
    /// [`ProtectedResourceMetadata`](crate::ProtectedResourceMetadata)), in every `Bearer` challenge:
    /// `resource_metadata="..."`, as the MCP authorization spec requires of resource servers, so a client
    /// refused here learns where to get a token. A custom style's responses are its own.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Authority};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_resource_metadata("https://api.example/.well-known/oauth-protected-resource");
    /// let refused = authority.refuse(&AuthError::MissingCredentials);
    /// assert_eq!(
    ///     refused.headers()["www-authenticate"],
    ///     r#"Bearer realm="api", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#
    /// );
    /// ```
    pub fn with_resource_metadata(mut self, url: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.keys).resource_metadata = Some(url.into());
        self
    }

    /// The answer to a request refused for `error`: in this authority's style, with its challenge
    /// attributes.
    pub fn refuse(&self, error: &AuthError) -> axum::response::Response {
        match &self.keys.resource_metadata {
            Some(url) => self.keys.response_style.render_with(error, &[("resource_metadata", url)]),
            None => self.keys.response_style.render(error),
        }
    }

    /// Reads requests as `parsing` says (the default is [`RequestParsing::Strict`], as the RFCs say):
    /// bearer headers here, token requests at the [`TokenEndpoint`](crate::TokenEndpoint).
    ///
    /// ```
    /// use scopes_runtime::{Authority, ResponseStyle, style::RequestParsing};
    /// // FastAPI's answers, and FastAPI's reading of requests, for its clients:
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_response_style(ResponseStyle::Seed)
    ///     .with_request_parsing(RequestParsing::Lenient);
    /// assert!(!authority.request_parsing().is_strict());
    /// ```
    pub fn with_request_parsing(mut self, parsing: RequestParsing) -> Self {
        Arc::make_mut(&mut self.keys).request_parsing = parsing;
        self
    }

    /// How strictly requests are read.
    pub fn request_parsing(&self) -> RequestParsing {
        self.keys.request_parsing
    }

    /// Writes and reads scopes in `format`.
    pub fn with_claim_format(mut self, format: ClaimFormat) -> Self {
        Arc::make_mut(&mut self.keys).policy.claim_format = format;
        self
    }

    /// Issues tokens with `iss` = `issuer`, and accepts only tokens that carry it.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let secret = b"0123456789abcdef0123456789abcdef";
    /// let ours = Authority::hs256(secret).unwrap().with_issuer("https://auth.example");
    /// let theirs = Authority::hs256(secret).unwrap().with_issuer("https://elsewhere.example");
    /// let token = theirs.issue("johndoe", &["me"]).unwrap();
    /// assert!(ours.verify(&token).is_err());
    /// ```
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        let keys = Arc::make_mut(&mut self.keys);
        let issuer = issuer.into();
        keys.change_policy(|policy| {
            policy.set_issuer(&[&issuer]);
            policy.required_spec_claims.insert("iss".into());
        });
        keys.issuer = Some(issuer);
        self
    }

    /// Issues tokens with `aud` = `audience`, and accepts only tokens for it.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        let keys = Arc::make_mut(&mut self.keys);
        let audience = audience.into();
        keys.change_policy(|policy| {
            policy.set_audience(&[&audience]);
            policy.validate_aud = true;
            policy.required_spec_claims.insert("aud".into());
        });
        keys.audience = Some(audience);
        self
    }

    /// Accepts `exp` and `nbf` that are off by at most `leeway` (whole seconds), for clock skew
    /// between a separate issuer and this verifier.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_leeway(Duration::from_secs(30));
    /// # let _ = authority;
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        Arc::make_mut(&mut self.keys).change_policy(|policy| policy.leeway = leeway.as_secs());
        self
    }

    /// Verifies `token`'s algorithm, signature, `exp`, `nbf` and (when configured) `iss` and `aud`, and
    /// returns its claims, reading the scopes in the configured claim format.
    ///
    /// Never waits: with [providers](Self::from_providers), a token is checked against the keys in hand,
    /// and one whose `kid` they lack is refused where [`verify_async`](Self::verify_async) would fetch.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let policy = &self.keys.policy;
        let verified = match &self.keys.verification {
            Verification::Secret(secret) => secret.verify_now(token, policy),
            Verification::KeySet(keys) => keys.verify_now(token, policy),
            Verification::Providers(providers) => providers.verify_now(token, policy),
            Verification::Ring(ring) => ring.verify_now(token, policy),
        };
        verified.and_then(|claims| self.admit(claims))
    }

    /// As [`verify`](Self::verify), but with [providers](Self::from_providers) a token whose `kid` the keys
    /// in hand lack prompts a fetch (shared with every request waiting on one, at most once per cooldown),
    /// and is checked against what it brings: how a provider's key rotation is picked up. What guards call.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// assert_eq!(authority.verify_async(&token).await.unwrap().sub, "johndoe");
    /// # });
    /// ```
    pub async fn verify_async(&self, token: &str) -> Result<Claims, TokenError> {
        match self.start_verifying(token) {
            Verifying::Done(result) => result,
            Verifying::Fetching(verifying) => verifying.await,
        }
    }

    /// Verifies `token` at once, or starts a verification that may wait for a provider's keys.
    pub(crate) fn start_verifying<'a>(&'a self, token: &'a str) -> Verifying<'a> {
        let policy = &self.keys.policy;
        let verifying = match &self.keys.verification {
            Verification::Secret(secret) => secret.start_verifying(token, policy),
            Verification::KeySet(keys) => keys.start_verifying(token, policy),
            Verification::Providers(providers) => providers.start_verifying(token, policy),
            Verification::Ring(ring) => ring.start_verifying(token, policy),
        };
        match verifying {
            Verifying::Done(verified) => Verifying::Done(verified.and_then(|claims| self.admit(claims))),
            Verifying::Fetching(verifying) => {
                Verifying::Fetching(Box::pin(async move { verifying.await.and_then(|claims| self.admit(claims)) }))
            }
        }
    }

    /// What every verified token is held to beyond its signature and claims: not revoked
    /// ([`with_revocations`](Self::with_revocations)).
    fn admit(&self, claims: Claims) -> Result<Claims, TokenError> {
        if let Some(revocations) = &self.keys.revocations
            && revocations.refuses(&claims)
        {
            return Err(TokenError::Revoked);
        }
        Ok(claims)
    }

    /// Refuses tokens that `revocations` holds revoked (by `jti`) or issued from a revoked refresh-token
    /// family (by `sid`), although they verify: what makes `/revoke` and a password change end access
    /// tokens before they expire. A [`TokenEndpoint`](crate::TokenEndpoint) built on this authority records
    /// what it revokes in them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::{Authority, Revocations, Revoked};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let revocations = Revocations::load(|_| async { Ok(Revoked::default()) }, Duration::from_secs(1800), Duration::from_secs(5))
    ///     .await
    ///     .unwrap();
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap()
    ///     .with_token_ids()
    ///     .with_revocations(revocations.clone());
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// let jti = authority.verify(&token).unwrap().claim::<String>("jti").unwrap().unwrap();
    /// revocations.add_access_token(&jti);
    /// assert!(authority.verify(&token).is_err());
    /// # }
    /// ```
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        Arc::make_mut(&mut self.keys).revocations = Some(revocations);
        self
    }

    /// The revocations this authority refuses tokens by, if any.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// assert!(Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().revocations().is_none());
    /// ```
    pub fn revocations(&self) -> Option<&Revocations> {
        self.keys.revocations.as_ref()
    }

    /// Stamps issued tokens with `iat` and a random 128-bit `jti`, as an issuer's are
    /// ([`from_key_ring`](Self::from_key_ring)): what lets one access token be revoked, and an account
    /// refuse tokens issued before it was made ([`Account::admits`](crate::Account::admits)). The seed's
    /// tokens carry neither, so an HS256 authority does not by default.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_token_ids();
    /// let claims = authority.verify(&authority.issue("johndoe", &["me"]).unwrap()).unwrap();
    /// assert!(claims.extra.contains_key("jti") && claims.extra.contains_key("iat"));
    /// ```
    pub fn with_token_ids(mut self) -> Self {
        Arc::make_mut(&mut self.keys).stamped = true;
        self
    }

    /// Runs `sign` with the key that signs now, its algorithm and its `kid` (a ring's current key), unless
    /// this authority only verifies (or its ring has no current key).
    pub(crate) fn with_signing_key<R>(
        &self,
        sign: impl FnOnce(&EncodingKey, Algorithm, Option<&str>) -> R,
    ) -> Option<R> {
        match (&self.keys.encoding, &self.keys.verification) {
            (Some((key, algorithm)), _) => Some(sign(key, *algorithm, None)),
            (None, Verification::Ring(ring)) => {
                let ring = ring.ring.ring();
                ring.signer().map(|signer| sign(&signer.key, signer.algorithm, Some(&signer.kid)))
            }
            (None, _) => None,
        }
    }

    /// How issued tokens write their scopes, and the `iss` and `aud` they carry.
    pub(crate) fn issued_claims(&self) -> (ClaimFormat, Option<&str>, Option<&str>) {
        (self.keys.policy.claim_format, self.keys.issuer.as_deref(), self.keys.audience.as_deref())
    }

    /// Whether issued tokens carry `iat` and `jti`.
    pub(crate) fn stamps_tokens(&self) -> bool {
        self.keys.stamped
    }

    /// The issuer's key ring, for an authority made with [`from_key_ring`](Self::from_key_ring).
    pub fn key_ring(&self) -> Option<&KeyRing> {
        match &self.keys.verification {
            Verification::Ring(ring) => Some(&ring.ring),
            _ => None,
        }
    }

    pub(crate) fn set_token_lifetime(&mut self, lifetime: Duration) {
        Arc::make_mut(&mut self.keys).token_lifetime = lifetime;
    }

    pub(crate) fn lifetime(&self) -> Duration {
        self.keys.token_lifetime
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with a hand-written header and payload, signed with HMAC-SHA256 over `SECRET`.
    fn handmade(header: &str, payload: &str) -> String {
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &EncodingKey::from_secret(SECRET), Algorithm::HS256)
                .unwrap();
        format!("{signing_input}.{signature}")
    }

    #[test]
    fn round_trip_keeps_subject_and_scopes() {
        let authority = Authority::hs256(SECRET).unwrap();
        let token = authority.issue("johndoe", &["me", "items"]).unwrap();
        let claims = authority.verify(&token).unwrap();
        assert_eq!(claims.sub, "johndoe");
        assert_eq!(claims.scopes, vec!["me", "items"]);
        let lifetime = claims.exp - now();
        assert!((29 * 60..=30 * 60).contains(&lifetime), "exp is issue time + 30 min, got +{lifetime}s");
    }

    #[test]
    fn header_is_the_seeds() {
        let token = Authority::hs256(SECRET).unwrap().issue("johndoe", &["me"]).unwrap();
        let header = token.split('.').next().unwrap();
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    }

    #[test]
    fn expired_token_is_refused() {
        let authority = Authority::hs256(SECRET).unwrap();
        let token = authority.sign(&Claims::new("johndoe", [""; 0], now() - 1)).unwrap();
        assert_eq!(authority.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn leeway_accepts_recently_expired() {
        let authority = Authority::hs256(SECRET).unwrap().with_leeway(Duration::from_secs(60));
        let token = authority.sign(&Claims::new("johndoe", [""; 0], now() - 10)).unwrap();
        assert!(authority.verify(&token).is_ok());
    }

    #[test]
    fn not_before_is_honoured() {
        let authority = Authority::hs256(SECRET).unwrap();
        let token =
            authority.sign(&Claims { nbf: Some(now() + 300), ..Claims::new("j", [""; 0], now() + 600) }).unwrap();
        assert_eq!(authority.verify(&token), Err(TokenError::NotYetValid));
    }

    #[test]
    fn wrong_key_is_refused() {
        let token =
            Authority::hs256(b"another secret, also thirty-two bytes").unwrap().issue("johndoe", &["me"]).unwrap();
        assert_eq!(Authority::hs256(SECRET).unwrap().verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn other_algorithms_are_refused() {
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
        for alg in ["HS384", "HS512", "RS256", "ES256"] {
            let token = handmade(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), &payload);
            assert_eq!(Authority::hs256(SECRET).unwrap().verify(&token), Err(TokenError::WrongAlgorithm), "{alg}");
        }
    }

    #[test]
    fn alg_none_is_refused_in_any_spelling() {
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
        for alg in ["none", "None", "NONE", "nOnE"] {
            let unsigned =
                format!("{}.{}.", b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()), b64(payload.as_bytes()));
            assert!(Authority::hs256(SECRET).unwrap().verify(&unsigned).is_err(), "{alg}");
        }
    }

    #[test]
    fn exp_is_required_and_numeric() {
        let authority = Authority::hs256(SECRET).unwrap();
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let missing = handmade(header, r#"{"sub":"johndoe","scopes":["me"]}"#);
        assert!(matches!(authority.verify(&missing), Err(TokenError::InvalidClaims(_))));
        let string = handmade(header, &format!(r#"{{"sub":"johndoe","exp":"{}"}}"#, now() + 600));
        assert!(authority.verify(&string).is_err());
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused() {
        let authority = Authority::hs256(SECRET).unwrap();
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let exp = now() + 600;
        for payload in [
            format!(r#"{{"scopes":["me"],"exp":{exp}}}"#),
            format!(r#"{{"sub":42,"scopes":["me"],"exp":{exp}}}"#),
            format!(r#"{{"sub":"johndoe","scopes":"me","exp":{exp}}}"#),
            format!(r#"{{"sub":"johndoe","scopes":[1],"exp":{exp}}}"#),
        ] {
            assert!(authority.verify(&handmade(header, &payload)).is_err(), "{payload}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let authority = Authority::hs256(SECRET).unwrap();
        let good = authority.issue("johndoe", &["me"]).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        for token in [
            String::new(),
            "abc".into(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{good}.extra"),
            format!("{}.{}.{}", parts[0], b64(b"not json"), parts[2]),
        ] {
            assert!(authority.verify(&token).is_err(), "{token}");
        }
    }

    #[test]
    fn edited_payload_fails_the_signature() {
        let authority = Authority::hs256(SECRET).unwrap();
        let good = authority.issue("johndoe", &["me"]).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me","items"],"exp":{}}}"#, now() + 600);
        let forged = format!("{}.{}.{}", parts[0], b64(payload.as_bytes()), parts[2]);
        assert_eq!(authority.verify(&forged), Err(TokenError::BadSignature));
    }

    #[test]
    fn secrets_shorter_than_32_bytes_are_refused() {
        assert_eq!(Authority::hs256([0u8; 31]).err(), Some(KeyError::TooShort { length: 31, minimum: 32 }));
        assert!(Authority::hs256([0u8; 32]).is_ok());
    }

    #[test]
    fn scope_string_format_round_trips_and_refuses_a_list() {
        let authority = Authority::hs256(SECRET).unwrap().with_claim_format(ClaimFormat::ScopeString);
        let token = authority.issue("johndoe", &["me", "items"]).unwrap();
        let payload: serde_json::Value = {
            use base64::Engine;
            let part = token.split('.').nth(1).unwrap();
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        assert_eq!(payload["scope"], "me items");
        assert!(payload.get("scopes").is_none());
        assert_eq!(authority.verify(&token).unwrap().scopes, ["me", "items"]);

        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let list = handmade(header, &format!(r#"{{"sub":"j","scope":["me"],"exp":{}}}"#, now() + 600));
        assert!(matches!(authority.verify(&list), Err(TokenError::InvalidClaims(_))));
        let number = handmade(header, &format!(r#"{{"sub":"j","scope":7,"exp":{}}}"#, now() + 600));
        assert!(matches!(authority.verify(&number), Err(TokenError::InvalidClaims(_))));
    }

    #[test]
    fn issuer_and_audience_are_required_when_configured() {
        let plain = Authority::hs256(SECRET).unwrap();
        let strict = Authority::hs256(SECRET).unwrap().with_issuer("https://auth.example").with_audience("api");
        let strict_token = strict.issue("johndoe", &["me"]).unwrap();
        assert!(strict.verify(&strict_token).is_ok());
        assert!(plain.verify(&strict_token).is_ok(), "an unconfigured verifier ignores iss and aud");
        let plain_token = plain.issue("johndoe", &["me"]).unwrap();
        assert!(matches!(strict.verify(&plain_token), Err(TokenError::InvalidClaims(_))));
        let other_audience =
            Authority::hs256(SECRET).unwrap().with_issuer("https://auth.example").with_audience("other");
        assert!(strict.verify(&other_audience.issue("johndoe", &["me"]).unwrap()).is_err());
    }

    #[test]
    fn an_audience_may_be_a_list() {
        // RFC 7519 §4.1.3: `aud` is one string or an array of them.
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let with_audiences = |audiences: &str| {
            handmade(header, &format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{},"aud":{audiences}}}"#, now() + 600))
        };
        let api = Authority::hs256(SECRET).unwrap().with_audience("api");
        assert!(api.verify(&with_audiences(r#"["other","api"]"#)).is_ok());
        assert!(matches!(api.verify(&with_audiences(r#"["other"]"#)), Err(TokenError::InvalidClaims(_))));
        let plain = Authority::hs256(SECRET).unwrap();
        assert_eq!(plain.verify(&with_audiences(r#"["other"]"#)).unwrap().sub, "johndoe");
    }

    #[test]
    fn critical_extensions_are_refused() {
        let authority = Authority::hs256(SECRET).unwrap();
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
        for header in [
            r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
            r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"HS256","cr\u0069t":["x"]}"#,
        ] {
            assert_eq!(authority.verify(&handmade(header, &payload)), Err(TokenError::CriticalExtension), "{header}");
        }
        let other_but_fine = handmade(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
        assert!(authority.verify(&other_but_fine).is_ok());
        assert!(authority.verify(&authority.issue("johndoe", &["me"]).unwrap()).is_ok());
    }

    #[test]
    fn kid_is_ignored_there_is_one_key() {
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
        for kid in ["../../../../dev/null", "/etc/passwd", "' OR 1=1 --", ""] {
            let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
            assert!(Authority::hs256(SECRET).unwrap().verify(&handmade(&header, &payload)).is_ok(), "{kid}");
            let forged = handmade(&header, &payload);
            let other = Authority::hs256(b"a different secret of enough length!!").unwrap();
            assert_eq!(other.verify(&forged), Err(TokenError::BadSignature), "{kid}");
        }
    }
}
