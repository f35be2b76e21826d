//! Issuing and verifying the access tokens: HS256 JWTs carrying `sub`, `scopes` and `exp`.
//!
//! The algorithm is pinned: a token whose header names any other algorithm (`none`, `HS512`, `RS256`, …)
//! is refused before its signature is looked at, so a forged header cannot downgrade verification.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::style::RequestParsing;
use crate::verify::live_keys::{LiveKeys, Refetch};
use crate::verify::{VerifyingKey, check_url};
use crate::{AuthError, KeySet, Provider, ProviderError, ProviderMetadata, ResponseStyle, ScopeClaim};

/// The claims of a verified access token: those authorization uses, and every other one in
/// [`extra`](Self::extra), readable typed through serde ([`claim`](Self::claim)).
///
/// On the wire the scopes are the seed's `scopes` list or RFC 9068's `scope` string, as the
/// [`ClaimFormat`] says (or a provider's claim, as its [`ScopeClaim`] says); a token without them grants
/// none.
///
/// ```
/// use scopes_runtime::Claims;
/// let claims: Claims = serde_json::from_str(r#"{"sub":"johndoe","exp":1,"name":"John Doe","age":42}"#).unwrap();
/// assert!(claims.scopes.is_empty());
/// assert_eq!(claims.claim::<String>("name").unwrap().as_deref(), Some("John Doe"));
/// assert_eq!(claims.claim::<u8>("age").unwrap(), Some(42));
/// assert!(claims.claim::<String>("age").is_err(), "a claim of another type is an error, not a silent None");
/// assert_eq!(claims.claim::<String>("email").unwrap(), None);
///
/// let minted = Claims::new("johndoe", ["me", "items"], 1_900_000_000);
/// assert_eq!(minted.scopes, ["me", "items"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: the username the token was issued to.
    pub sub: String,
    /// The granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Expiry, in seconds since the Unix epoch. Required.
    pub exp: u64,
    /// Not-before, in seconds since the Unix epoch. Honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Every other claim, as the token carries it: `iss`, `aud`, `iat`, `jti`, `client_id`, a provider's
    /// `name` or `email`... (the claim the scopes were read from is in [`scopes`](Self::scopes)). Signed
    /// along with the rest by [`Authority::sign`], except where it names a claim the authority writes.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Claims {
    /// Claims for `sub`, granting `scopes`, expiring at `exp` (seconds since the Unix epoch).
    pub fn new<S: Into<String>>(sub: impl Into<String>, scopes: impl IntoIterator<Item = S>, exp: u64) -> Self {
        Claims {
            sub: sub.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            exp,
            nbf: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The claim `name` of [`extra`](Self::extra), read as a `T`: `Ok(None)` when the token has no such
    /// claim, an error when it has one that is not a `T`.
    pub fn claim<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, serde_json::Error> {
        self.extra.get(name).map(|value| T::deserialize(value)).transpose()
    }
}

/// How the granted scopes are written in a token.
///
/// ```
/// use scopes_runtime::{Authority, ClaimFormat};
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_claim_format(ClaimFormat::ScopeString);
/// let token = authority.issue("johndoe", &["me", "items"]).unwrap();
/// assert_eq!(authority.verify(&token).unwrap().scopes, ["me", "items"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimFormat {
    /// `"scopes": ["me", "items"]`, as FastAPI's tutorial writes them.
    #[default]
    ScopesList,
    /// `"scope": "me items"`, RFC 9068's space-separated string (RFC 8693 §4.2).
    ScopeString,
}

/// The claims as they are signed, in either [`ClaimFormat`], and the extra claims beside them.
#[derive(Serialize)]
struct SignedClaims<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// The claims as they are read from a verified token, in either [`ClaimFormat`]; `iss` and `aud` (which
/// jsonwebtoken has checked against the configuration) among the rest.
struct ReceivedClaims {
    sub: String,
    scopes: Option<Vec<String>>,
    exp: u64,
    nbf: Option<u64>,
    extra: serde_json::Map<String, serde_json::Value>,
}

/// By hand rather than with `#[serde(flatten)]`, which buffers every claim into an intermediate value
/// first: on the verifying path of every request, that cost 4% of a request's instructions.
impl<'de> Deserialize<'de> for ReceivedClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ReceivedClaims;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ReceivedClaims, A::Error> {
                use serde::de::Error;
                let (mut sub, mut scopes, mut exp, mut nbf) = (None, None, None, None);
                let mut extra = serde_json::Map::new();
                let duplicate = |name: &str| A::Error::custom(format!("duplicate `{name}`"));
                while let Some(name) = map.next_key::<ClaimName>()? {
                    match name {
                        ClaimName::Sub if sub.is_none() => sub = Some(map.next_value()?),
                        ClaimName::Scopes if scopes.is_none() => scopes = Some(map.next_value()?),
                        ClaimName::Exp if exp.is_none() => exp = Some(map.next_value()?),
                        ClaimName::Nbf if nbf.is_none() => nbf = Some(map.next_value()?),
                        ClaimName::Sub => return Err(duplicate("sub")),
                        ClaimName::Scopes => return Err(duplicate("scopes")),
                        ClaimName::Exp => return Err(duplicate("exp")),
                        ClaimName::Nbf => return Err(duplicate("nbf")),
                        ClaimName::Other(name) => {
                            extra.insert(name, map.next_value()?);
                        }
                    }
                }
                Ok(ReceivedClaims {
                    sub: sub.ok_or_else(|| A::Error::missing_field("sub"))?,
                    scopes: scopes.flatten(),
                    exp: exp.ok_or_else(|| A::Error::missing_field("exp"))?,
                    nbf: nbf.flatten(),
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// A claim's name, matched without allocating unless it is one `ReceivedClaims` keeps in `extra`.
enum ClaimName {
    Sub,
    Scopes,
    Exp,
    Nbf,
    Other(String),
}

impl<'de> Deserialize<'de> for ClaimName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ClaimName;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a claim name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ClaimName, E> {
                Ok(match name {
                    "sub" => ClaimName::Sub,
                    "scopes" => ClaimName::Scopes,
                    "exp" => ClaimName::Exp,
                    "nbf" => ClaimName::Nbf,
                    other => ClaimName::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(Visitor)
    }
}

/// The claims `SignedClaims` writes itself, which an extra claim of the same name must not repeat.
const WRITTEN_CLAIMS: [&str; 7] = ["sub", "scopes", "scope", "exp", "nbf", "iss", "aud"];

/// The secret is unusable for signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Shorter than HS256's output.
    #[error("the signing secret is {length} bytes; HS256 needs at least {minimum}")]
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

/// Why a token failed verification. All of them answer 401 to the client; the kind is for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `exp` is in the past.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not valid yet")]
    NotYetValid,
    /// The signature does not match the key.
    #[error("signature does not match")]
    BadSignature,
    /// The header names an algorithm other than the key's (HS256 for a secret, a key set's pinned one).
    #[error("algorithm not accepted")]
    WrongAlgorithm,
    /// The header's `kid` names no key of the set (or names none, and the set has several).
    #[error("no key of the set verifies this token")]
    UnknownKey,
    /// The header lists critical extensions (`crit`), none of which this verifier understands.
    #[error("the header names critical extensions")]
    CriticalExtension,
    /// The token's `iss` names no trusted provider (or it has none); nothing was fetched for it.
    #[error("the issuer is not trusted")]
    UntrustedIssuer,
    /// The provider's keys have not been fetched yet (it has been unreachable since start-up): the token
    /// may be good, but cannot be checked before `retry_after`. Answered 503, not 401.
    #[error("the identity provider's keys are not available yet")]
    KeysUnavailable {
        /// When a fetch may next be tried.
        retry_after: Duration,
    },
    /// A registered claim is missing or of the wrong type, or the claims do not fit [`Claims`].
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// Not a JWT: wrong segment count, bad base64, non-JSON header or payload.
    #[error("malformed token: {0}")]
    Malformed(String),
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidAudience
            | ErrorKind::InvalidIssuer
            | ErrorKind::InvalidSubject
            | ErrorKind::InvalidClaimFormat(_) => TokenError::InvalidClaims(error.to_string()),
            // Well-formed JSON of the wrong shape (a missing `sub`, a string `scopes`) is a claims problem.
            ErrorKind::Json(json) if json.classify() == serde_json::error::Category::Data => {
                TokenError::InvalidClaims(error.to_string())
            }
            _ => TokenError::Malformed(error.to_string()),
        }
    }
}

/// Issues and verifies access tokens with one HS256 secret.
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
    /// `None` for an authority that only verifies ([`Authority::from_key_set`]).
    encoding: Option<EncodingKey>,
    verification: Verification,
    /// The policy every token meets: algorithms, `exp`, `nbf`, leeway, `iss` and `aud`.
    validation: Validation,
    /// The header `typ` tokens from a key set or provider must carry, when one is required.
    token_type: Option<String>,
    /// Where this API's protected-resource metadata is (RFC 9728), named in every challenge.
    resource_metadata: Option<String>,
    token_lifetime: Duration,
    claim_format: ClaimFormat,
    issuer: Option<String>,
    audience: Option<String>,
    response_style: ResponseStyle,
    request_parsing: RequestParsing,
}

/// What tokens are verified with.
#[derive(Clone)]
enum Verification {
    /// One HS256 secret, which also signs.
    Hmac(DecodingKey),
    /// A provider's public keys, each with its pinned algorithm; the scopes read from `scope_claim`.
    /// `by_algorithm` holds the policy once per algorithm of the set, as jsonwebtoken checks one family of
    /// algorithms at a time.
    KeySet { keys: KeySet, scope_claim: ScopeClaim, by_algorithm: Vec<Validation> },
    /// Providers whose keys are fetched, each token checked against the one its `iss` names.
    Providers(Vec<TrustedIssuer>),
}

/// A verification done at once, or one that may wait for a provider's keys.
pub(crate) enum Verifying<'a> {
    Done(Result<Claims, TokenError>),
    Fetching(std::pin::Pin<Box<dyn std::future::Future<Output = Result<Claims, TokenError>> + Send + 'a>>),
}

/// A provider's live keys, and the policy for its tokens: once per algorithm a fetched set may hold, each
/// with the provider's `iss`.
#[derive(Clone)]
struct TrustedIssuer {
    live: Arc<LiveKeys>,
    by_algorithm: Vec<Validation>,
}

/// Every algorithm a published key may be pinned to (see [`KeySet`]).
const PUBLIC_KEY_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Keys {
    /// Keys with the policy every authority starts from: `exp` required, `nbf` honoured, no `iss` or `aud`
    /// check, `leeway_seconds` of clock skew; and every other setting at its default.
    fn new(
        encoding: Option<EncodingKey>,
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
            validation,
            token_type: None,
            resource_metadata: None,
            token_lifetime: Authority::DEFAULT_TOKEN_LIFETIME,
            claim_format: ClaimFormat::default(),
            issuer: None,
            audience: None,
            response_style: ResponseStyle::default(),
            request_parsing: RequestParsing::default(),
        };
        keys.change_policy(|_| {});
        keys
    }

    /// Changes the verification policy, and its copies for a key set's algorithms or each provider's with
    /// it (a provider's copies keep its own `iss`).
    fn change_policy(&mut self, change: impl FnOnce(&mut Validation)) {
        change(&mut self.validation);
        let base = &self.validation;
        let renew = |copy: &mut Validation, issuer: Option<&str>| {
            *copy = Validation { algorithms: std::mem::take(&mut copy.algorithms), ..base.clone() };
            if let Some(issuer) = issuer {
                copy.set_issuer(&[issuer]);
                copy.required_spec_claims.insert("iss".into());
            }
        };
        match &mut self.verification {
            Verification::Hmac(_) => {}
            Verification::KeySet { by_algorithm, .. } => by_algorithm.iter_mut().for_each(|copy| renew(copy, None)),
            Verification::Providers(issuers) => {
                for issuer in issuers {
                    let name = &issuer.live.provider.issuer;
                    issuer.by_algorithm.iter_mut().for_each(|copy| renew(copy, Some(name)));
                }
            }
        }
    }
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        let mut debug = f.debug_struct("Authority");
        match &self.keys.verification {
            Verification::Hmac(_) => debug.field("algorithm", &Algorithm::HS256),
            Verification::KeySet { keys, scope_claim, .. } => {
                debug.field("keys", keys).field("scope_claim", scope_claim)
            }
            Verification::Providers(issuers) => {
                let providers: Vec<&Provider> = issuers.iter().map(|issuer| &issuer.live.provider).collect();
                debug.field("providers", &providers)
            }
        };
        debug
            .field("token_type", &self.keys.token_type)
            .field("resource_metadata", &self.keys.resource_metadata)
            .field("token_lifetime", &self.keys.token_lifetime)
            .field("leeway_seconds", &self.keys.validation.leeway)
            .field("claim_format", &self.keys.claim_format)
            .field("issuer", &self.keys.issuer)
            .field("audience", &self.keys.audience)
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
        if secret.as_ref() == PUBLISHED_SEED_SECRET {
            return Err(KeyError::Published);
        }
        Self::hs256_allowing_published_secret(secret)
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
        let secret = secret.as_ref();
        if secret.len() < Self::MINIMUM_SECRET_LENGTH {
            return Err(KeyError::TooShort { length: secret.len(), minimum: Self::MINIMUM_SECRET_LENGTH });
        }
        if secret == PUBLISHED_SEED_SECRET {
            tracing::warn!(
                "the signing secret is the one published in FastAPI's tutorial: anyone can forge tokens; \
                 accepted for a development run only"
            );
        }
        let verification = Verification::Hmac(DecodingKey::from_secret(secret));
        let keys = Keys::new(Some(EncodingKey::from_secret(secret)), verification, Algorithm::HS256, 0);
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
        let mut by_algorithm: Vec<Validation> = Vec::new();
        for key in keys.keys() {
            if !by_algorithm.iter().any(|validation| validation.algorithms == [key.algorithm]) {
                by_algorithm.push(Validation::new(key.algorithm));
            }
        }
        // The algorithm a token is checked with is its key's, never its header's (`KeySet::select`),
        // through the copy of the policy for that algorithm; the policy's own algorithm is never used.
        let verification = Verification::KeySet { keys, scope_claim: ScopeClaim::default(), by_algorithm };
        let keys = Keys::new(None, verification, Algorithm::RS256, 60);
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
        let providers: Vec<Provider> = providers.into_iter().collect();
        if providers.is_empty() {
            return Err(ProviderError::NoProvider);
        }
        for (index, provider) in providers.iter().enumerate() {
            check_url(&provider.issuer, provider.plain_http)?;
            if let Some(url) = &provider.jwks_url {
                check_url(url, provider.plain_http)?;
            }
            if providers[..index].iter().any(|earlier| earlier.issuer == provider.issuer) {
                return Err(ProviderError::DuplicateIssuer(provider.issuer.clone()));
            }
        }
        let issuers = providers
            .into_iter()
            .map(|provider| TrustedIssuer {
                live: LiveKeys::start(provider, &runtime),
                by_algorithm: PUBLIC_KEY_ALGORITHMS.iter().map(|algorithm| Validation::new(*algorithm)).collect(),
            })
            .collect();
        let keys = Keys::new(None, Verification::Providers(issuers), Algorithm::RS256, 60);
        Ok(Authority { keys: Arc::new(keys) }.with_audience(audience))
    }

    /// The providers' metadata from their last successful discovery, in the order they were given; a
    /// provider not discovered yet (or configured with a JWKS URL) has none. Empty for other authorities.
    pub fn provider_metadata(&self) -> Vec<Option<ProviderMetadata>> {
        match &self.keys.verification {
            Verification::Providers(issuers) => issuers.iter().map(|issuer| issuer.live.metadata()).collect(),
            _ => Vec::new(),
        }
    }

    /// Waits until every provider's keys have been fetched once, for at most `timeout`; whether they were.
    /// For a start-up that would rather serve its first requests with keys in hand, or document the
    /// providers' endpoints (their [metadata](Self::provider_metadata)); never required, since requests
    /// arriving before the keys wait for a fetch or are answered 503. Other authorities are ready at once.
    pub async fn wait_for_keys(&self, timeout: Duration) -> bool {
        let Verification::Providers(issuers) = &self.keys.verification else { return true };
        let all = futures_util::future::join_all(issuers.iter().map(|issuer| issuer.live.wait_for_keys()));
        tokio::time::timeout(timeout, all).await.is_ok()
    }

    /// The issuers whose tokens this authority accepts: each provider's, or the one set by
    /// [`with_issuer`](Self::with_issuer).
    pub fn trusted_issuers(&self) -> Vec<&str> {
        match &self.keys.verification {
            Verification::Providers(issuers) => {
                issuers.iter().map(|issuer| issuer.live.provider.issuer.as_str()).collect()
            }
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
        if let Verification::KeySet { scope_claim, .. } = &mut Arc::make_mut(&mut self.keys).verification {
            *scope_claim = claim;
        }
        self
    }

    /// Accepts only tokens whose header's `typ` is `token_type` (compared without case, with or without
    /// `application/`), such as RFC 9068's `at+jwt`, which tells an access token from an ID token.
    /// Tokens this authority signs itself are not checked.
    pub fn require_token_type(mut self, token_type: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.keys).token_type = Some(token_type.into());
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
        Arc::make_mut(&mut self.keys).claim_format = format;
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

    /// Sets how long issued tokens stay valid.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_token_lifetime(Duration::from_secs(60));
    /// assert_eq!(authority.token_lifetime(), Duration::from_secs(60));
    /// ```
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        Arc::make_mut(&mut self.keys).token_lifetime = lifetime;
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

    /// How long issued tokens stay valid.
    pub fn token_lifetime(&self) -> Duration {
        self.keys.token_lifetime
    }

    /// Issues a token for `subject` granting `scopes`, expiring after the token lifetime.
    pub fn issue<T: AsRef<str>>(&self, subject: &str, scopes: &[T]) -> Result<String, AuthError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| AuthError::Internal(e.to_string()))?;
        self.sign(&Claims::new(subject, scopes.iter().map(AsRef::as_ref), (now + self.keys.token_lifetime).as_secs()))
    }

    /// Signs arbitrary claims, in the configured claim format and with the configured `iss` and `aud`
    /// (which take the place of any in [`Claims::extra`]). Tests and tools use it to mint tokens with
    /// chosen `exp`, `nbf` and other claims.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let (scopes, scope) = match self.keys.claim_format {
            ClaimFormat::ScopesList => (Some(claims.scopes.as_slice()), None),
            ClaimFormat::ScopeString => (None, Some(claims.scopes.join(" "))),
        };
        let wire = SignedClaims {
            sub: &claims.sub,
            scopes,
            scope,
            exp: claims.exp,
            nbf: claims.nbf,
            iss: self.keys.issuer.as_deref(),
            aud: self.keys.audience.as_deref(),
            extra: claims
                .extra
                .iter()
                .filter(|(name, _)| !WRITTEN_CLAIMS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        };
        let Some(encoding) = &self.keys.encoding else {
            return Err(AuthError::Internal("this authority verifies a provider's tokens and signs none".into()));
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &wire, encoding)
            .map_err(|e| AuthError::Internal(format!("signing a token: {e}")))
    }

    /// Verifies `token`'s algorithm, signature, `exp`, `nbf` and (when configured) `iss` and `aud`, and
    /// returns its claims, reading the scopes in the configured claim format.
    ///
    /// Never waits: with [providers](Self::from_providers), a token is checked against the keys in hand,
    /// and one whose `kid` they lack is refused where [`verify_async`](Self::verify_async) would fetch.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let decoding = match &self.keys.verification {
            Verification::Hmac(decoding) => decoding,
            Verification::KeySet { keys, scope_claim, by_algorithm } => {
                let header = self.checked_header(token)?;
                return verify_with_key(token, &keys.keys()[keys.select(&header)?], by_algorithm, scope_claim);
            }
            Verification::Providers(issuers) => {
                let (header, issuer) = self.provider_for(token, issuers)?;
                let snapshot = issuer.live.snapshot();
                let Some(snapshot) = snapshot.as_ref() else {
                    let retry_after = issuer.live.provider.refresh.unknown_kid_cooldown;
                    return Err(TokenError::KeysUnavailable { retry_after });
                };
                return issuer.verify(token, &snapshot.keys.keys()[snapshot.keys.select(&header)?]);
            }
        };
        refuse_critical_extensions(token)?;
        let mut wire = jsonwebtoken::decode::<ReceivedClaims>(token, decoding, &self.keys.validation)?.claims;
        let scopes = match self.keys.claim_format {
            ClaimFormat::ScopesList => wire.scopes.unwrap_or_default(),
            ClaimFormat::ScopeString => match wire.extra.remove("scope") {
                None => Vec::new(),
                Some(serde_json::Value::String(scope)) => {
                    scope.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
                }
                Some(_) => return Err(TokenError::InvalidClaims("`scope` is not a string".into())),
            },
        };
        Ok(Claims { sub: wire.sub, scopes, exp: wire.exp, nbf: wire.nbf, extra: wire.extra })
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

    /// Verifies `token` at once, or starts a verification that may wait for a provider's keys. Boxed, so
    /// the future of every guard (which axum boxes per request) holds one pointer for it, and a secret's
    /// verification adds nothing to it.
    pub(crate) fn start_verifying<'a>(&'a self, token: &'a str) -> Verifying<'a> {
        match &self.keys.verification {
            Verification::Providers(issuers) => {
                Verifying::Fetching(Box::pin(self.verify_from_providers(token, issuers)))
            }
            _ => Verifying::Done(self.verify(token)),
        }
    }

    async fn verify_from_providers(&self, token: &str, issuers: &[TrustedIssuer]) -> Result<Claims, TokenError> {
        let arrived = tokio::time::Instant::now();
        let (header, issuer) = self.provider_for(token, issuers)?;
        // Twice at most: the second time with the set a fetch brought, which is not fetched again.
        for may_fetch in [true, false] {
            let snapshot = issuer.live.snapshot();
            let found = snapshot.as_ref().map(|snapshot| snapshot.keys.select(&header));
            match found {
                Some(Ok(position)) => return issuer.verify(token, &snapshot.as_ref().unwrap().keys.keys()[position]),
                Some(Err(TokenError::UnknownKey)) | None => {}
                Some(Err(refused)) => return Err(refused),
            }
            // Only a token its provider could have signed may prompt a fetch: `iss` must name it.
            if !names_issuer(token, &issuer.live.provider.issuer) {
                return Err(TokenError::UntrustedIssuer);
            }
            let seen = arc_swap::Guard::into_inner(snapshot);
            match issuer.live.refetch(header.kid.as_deref(), seen.as_deref(), arrived, may_fetch).await {
                Refetch::Changed => continue,
                Refetch::Unchanged => return Err(TokenError::UnknownKey),
                Refetch::Unavailable { retry_after } => return Err(TokenError::KeysUnavailable { retry_after }),
            }
        }
        Err(TokenError::UnknownKey)
    }

    /// The header of a token from a key set or provider, once `crit` and the required `typ` are checked.
    fn checked_header(&self, token: &str) -> Result<Header, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.crit.is_some() {
            return Err(TokenError::CriticalExtension);
        }
        if let Some(required) = &self.keys.token_type {
            let typ = header.typ.as_deref().unwrap_or_default();
            let typ = typ.get(..12).filter(|p| p.eq_ignore_ascii_case("application/")).map_or(typ, |_| &typ[12..]);
            if !typ.eq_ignore_ascii_case(required) {
                return Err(TokenError::InvalidClaims(format!("the header's `typ` is not `{required}`")));
            }
        }
        Ok(header)
    }

    /// The checked header, and the provider whose tokens `token` claims to be: the only one, whose `iss` the
    /// policy checks after the signature; or, among several, the one its `iss` names exactly.
    fn provider_for<'a>(
        &self,
        token: &str,
        issuers: &'a [TrustedIssuer],
    ) -> Result<(Header, &'a TrustedIssuer), TokenError> {
        let header = self.checked_header(token)?;
        let issuer = match issuers {
            [only] => only,
            _ => {
                let claimed = unverified_issuer(token).ok_or(TokenError::UntrustedIssuer)?;
                let trusted = issuers.iter().find(|issuer| issuer.live.provider.issuer == claimed);
                trusted.ok_or(TokenError::UntrustedIssuer)?
            }
        };
        Ok((header, issuer))
    }
}

impl TrustedIssuer {
    fn verify(&self, token: &str, key: &VerifyingKey) -> Result<Claims, TokenError> {
        verify_with_key(token, key, &self.by_algorithm, &self.live.provider.scope_claim)
    }
}

/// The `iss` a token claims, read before anything is verified: only to choose whose keys to check it
/// with, never trusted as such.
fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Issuer>(token).ok()?.iss
}

/// Whether `token` claims to come from `issuer`.
fn names_issuer(token: &str, issuer: &str) -> bool {
    unverified_issuer(token).is_some_and(|claimed| claimed == issuer)
}

/// Verifies `token` with `key`, under the copy of the policy for that key's algorithm, reading the scopes
/// from `scope_claim`.
fn verify_with_key(
    token: &str,
    key: &VerifyingKey,
    by_algorithm: &[Validation],
    scope_claim: &ScopeClaim,
) -> Result<Claims, TokenError> {
    let policy = by_algorithm.iter().find(|policy| policy.algorithms == [key.algorithm]);
    let policy = policy.ok_or(TokenError::WrongAlgorithm)?;
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, policy)?.claims;
    let scopes = scope_claim.read(&claims)?;
    let serde_json::Value::Object(mut extra) = claims else {
        return Err(TokenError::InvalidClaims("the claims are not a JSON object".into()));
    };
    let sub = match extra.remove("sub") {
        Some(serde_json::Value::String(sub)) => sub,
        _ => return Err(TokenError::InvalidClaims("`sub` is missing or not a string".into())),
    };
    // NumericDate may be fractional (RFC 7519 §2); jsonwebtoken has already checked both.
    let mut seconds =
        |name: &str| extra.remove(name).as_ref().and_then(serde_json::Value::as_f64).map(|t| t.max(0.0) as u64);
    let exp = seconds("exp").ok_or_else(|| TokenError::InvalidClaims("`exp` is missing".into()))?;
    let nbf = seconds("nbf");
    // `scopes` is the field's own name; the claim read is in `scopes` already.
    extra.remove("scopes");
    if let Some(name) = scope_claim.top_level_name() {
        extra.remove(name);
    }
    Ok(Claims { sub, scopes, exp, nbf, extra })
}

/// The header segment of every token this crate issues, `{"typ":"JWT","alg":"HS256"}` encoded: it names
/// no critical extension, so a token carrying it need not be looked at again.
static ISSUED_HEADER: LazyLock<Option<String>> = LazyLock::new(|| {
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &(), &EncodingKey::from_secret(b"any")).ok()?;
    token.split('.').next().map(str::to_owned)
});

/// RFC 7515 §4.1.11: a token whose header lists critical extensions must be refused unless each is
/// understood; this verifier understands none (and an empty list is itself invalid). jsonwebtoken reads
/// `crit` but does not check it.
fn refuse_critical_extensions(token: &str) -> Result<(), TokenError> {
    let header_segment = token.split('.').next().unwrap_or_default();
    if ISSUED_HEADER.as_deref() == Some(header_segment) {
        return Ok(());
    }
    match jsonwebtoken::decode_header(token)?.crit {
        Some(_) => Err(TokenError::CriticalExtension),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
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
