//! The [`Authority`]: what an app's guards verify tokens with. It joins a [`Verifier`] (a shared secret, a
//! key set in hand, providers' fetched key sets, an issuer's key ring, or an app's own), the [`Policy`]
//! every token is held to, what signs the tokens it issues, the revocations it refuses, and how refusals
//! are answered. Where the keys come from is in `sources`; what tokens are held to, `settings`; how
//! refusals are answered, `answering` (with [`restyle`]); how tokens are signed, `signing`.
//!
//! The algorithm is pinned: a token whose header names any other algorithm than its key's (`none`,
//! `HS512`, `RS256`, …) is refused before its signature is looked at, so a forged header cannot downgrade
//! verification.

mod answering;
mod settings;
mod signing;
mod sources;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

pub use answering::restyle;
pub use sources::KeyError;

use crate::answering::style::ResponseStyle;
use crate::keys::KeyRing;
use crate::keys::signer::Signer;
use crate::observing::metrics::TOKEN_VERIFICATION;
use crate::observing::{AuditEvent, AuditHook, Counted};
use crate::verifying::Introspection;
use crate::verifying::cache::Lookup;
use crate::verifying::dpop::Dpop;
use crate::verifying::parsing::RequestParsing;
use crate::verifying::providers::ProviderKeys;
use crate::verifying::verifier::WaitingShared;
use crate::verifying::{ClaimFormat, Claims, Policy, Revocations, TokenCache, TokenError, Verifier};
use metrics::Label;

/// Verifies access tokens: with a shared secret (HS256, the seed's, or HS384/HS512), which also issues
/// them; with a provider's published keys ([`from_key_set`](Self::from_key_set),
/// [`from_providers`](Self::from_providers)), issuing none; with an issuer's key ring
/// ([`from_key_ring`](Self::from_key_ring)); or with a [`Verifier`] of the app's own
/// ([`from_verifier`](Self::from_verifier)).
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
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    verifier: Arc<dyn Verifier>,
    policy: Policy,
    /// `None` for an authority that only verifies.
    signer: Option<Signer>,
    /// The providers behind the verifier, when they are its keys: their metadata and first fetch.
    providers: Option<ProviderKeys>,
    issued: Issued,
    /// Tokens refused although they verify: revoked ones, and those of revoked refresh-token families.
    revocations: Option<Revocations>,
    response_style: ResponseStyle,
    /// Where this API's protected-resource metadata is (RFC 9728), named in every challenge.
    resource_metadata: Option<String>,
    request_parsing: RequestParsing,
    /// What the app hears every decision and token-endpoint outcome through, beside the log.
    audit: Option<AuditHook>,
    /// The verification-time histogram's key, for the verifier's kind.
    verification_time: Counted,
    /// The verifier's answers remembered, when it allows (`Verifier::key_epoch`).
    token_cache: Option<TokenCache>,
    /// Whether DPoP-bound tokens are taken (RFC 9449), and how their proofs are checked.
    dpop: Option<Dpop>,
    /// The issuer's introspection, for an authority that asks it about every token.
    introspection: Option<Introspection>,
    /// The authentication context classes, weakest first, that `#[requires(min_acr = ...)]` compares by.
    acr_levels: Arc<[String]>,
}

/// Where a verification the token cache could not answer is remembered: the cache, the key epoch read
/// before verifying, and the policy's leeway; nowhere when no cache is used.
struct Remember<'a> {
    cache: Option<(&'a TokenCache, u64, u64)>,
}

impl Remember<'_> {
    /// The verifier's answer for `token`, its claims shared, and remembered.
    fn answer(&self, token: &str, verified: Result<Claims, TokenError>) -> Result<Arc<Claims>, TokenError> {
        let verified = verified.map(Arc::new);
        if let Some((cache, epoch, leeway)) = self.cache {
            cache.remember(token, epoch, &verified, leeway);
        }
        verified
    }
}

/// What the tokens this authority issues carry.
#[derive(Debug, Clone)]
struct Issued {
    format: ClaimFormat,
    issuer: Option<String>,
    audience: Option<String>,
    lifetime: Duration,
    /// Whether they carry `iat` and a `jti` (an issuer's, for its clients and verifiers); the seed's
    /// tokens carry neither.
    stamped: bool,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The verifier's and the signer's `Debug` never print key material.
        let inner = &self.inner;
        f.debug_struct("Authority")
            .field("verifier", &inner.verifier)
            .field("policy", &inner.policy)
            .field("signer", &inner.signer)
            .field("issued", &inner.issued)
            .field("revocations", &inner.revocations)
            .field("response_style", &inner.response_style)
            .field("resource_metadata", &inner.resource_metadata)
            .field("request_parsing", &inner.request_parsing)
            .field("audit", &inner.audit)
            .field("token_cache", &inner.token_cache)
            .field("dpop", &inner.dpop)
            .field("introspection", &inner.introspection)
            .field("acr_levels", &inner.acr_levels)
            .finish()
    }
}

impl Authority {
    /// Thirty minutes, as in FastAPI's tutorial.
    pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);

    /// An authority that verifies with `verifier` under `policy`, and issues nothing: for tokens of a kind
    /// of the app's own (see [`Verifier`]).
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// use scopes_runtime::verifying::{Policy, TokenError, Verifier, Verifying};
    ///
    /// #[derive(Debug)]
    /// struct NoToken;
    /// impl Verifier for NoToken {
    ///     fn verify<'a>(&'a self, _: &'a str, _: &'a Policy) -> Verifying<'a> {
    ///         Verifying::ready(Err(TokenError::Malformed("no token is good".into())))
    ///     }
    /// }
    ///
    /// let authority = Authority::from_verifier(NoToken, Policy::new().with_audience("https://api.example"));
    /// assert!(authority.verify("anything").is_err());
    /// assert_eq!(authority.policy().audiences(), ["https://api.example"]);
    /// ```
    pub fn from_verifier(verifier: impl Verifier, policy: Policy) -> Self {
        Self::new(Arc::new(verifier), policy, None)
    }

    /// An authority with `verifier`, `policy` and `signer`, and every other setting at its default.
    fn new(verifier: Arc<dyn Verifier>, policy: Policy, signer: Option<Signer>) -> Self {
        let issued = Issued {
            format: ClaimFormat::default(),
            issuer: None,
            audience: None,
            lifetime: Self::DEFAULT_TOKEN_LIFETIME,
            stamped: false,
        };
        let kind = verifier.kind();
        Authority {
            inner: Arc::new(Inner {
                verifier,
                policy,
                signer,
                providers: None,
                issued,
                revocations: None,
                response_style: ResponseStyle::default(),
                resource_metadata: None,
                request_parsing: RequestParsing::default(),
                audit: None,
                verification_time: Counted::new(TOKEN_VERIFICATION, vec![Label::new("verifier", kind)]),
                token_cache: Some(TokenCache::default()),
                dpop: None,
                acr_levels: Arc::from([]),
                introspection: None,
            }),
        }
    }

    /// The settings, to change (copied first if a clone shares them). The token cache starts again empty:
    /// an answer remembered under the old settings is never used under the new.
    fn inner_mut(&mut self) -> &mut Inner {
        let inner = Arc::make_mut(&mut self.inner);
        inner.token_cache = inner.token_cache.as_ref().map(TokenCache::emptied);
        inner
    }

    /// The policy tokens are held to.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_issuer("https://auth.example");
    /// assert_eq!(authority.policy().issuers(), ["https://auth.example"]);
    /// ```
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Verifies `token`'s algorithm, signature, `exp`, `nbf` and (when configured) `iss` and `aud`, and
    /// returns its claims, reading the scopes in the configured claim format.
    ///
    /// It checks the token alone, not how a request presented it: a token bound to a key (its claims carry
    /// `cnf`, RFC 9449) is good only with a proof of that key, which the guards check
    /// ([`with_dpop`](Self::with_dpop)); an extractor of an app's own must refuse such a token sent as a
    /// bearer token.
    ///
    /// Never waits: with [providers](Self::from_providers), a token is checked against the keys in hand,
    /// and one whose `kid` they lack is refused where [`verify_async`](Self::verify_async) would fetch.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let inner = &*self.inner;
        let verified = match self.cached(token) {
            Ok(answered) => answered,
            Err(remember) => remember.answer(token, inner.verifier.verify_now(token, &inner.policy)),
        };
        verified.and_then(|claims| self.admit(claims)).map(Arc::unwrap_or_clone)
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
        let verified = match self.start_verifying(token) {
            Ok(verified) => verified,
            Err(waiting) => waiting.await,
        };
        verified.map(Arc::unwrap_or_clone)
    }

    /// Verifies `token` at once (or answers from the token cache), or starts a verification that may wait
    /// (for a provider's keys, say): the future to await, boxed, so that a guard holds one pointer across
    /// its await and never the claims. The claims are shared with the cache.
    pub(crate) fn start_verifying<'a>(
        &'a self,
        token: &'a str,
    ) -> Result<Result<Arc<Claims>, TokenError>, WaitingShared<'a>> {
        let remember = match self.cached(token) {
            Ok(answered) => return Ok(answered.and_then(|claims| self.admit(claims))),
            Err(remember) => remember,
        };
        let inner = &*self.inner;
        let started = std::time::Instant::now();
        let timed = move || inner.verification_time.record(started.elapsed());
        match inner.verifier.verify(token, &inner.policy).into_ready() {
            Ok(verified) => {
                timed();
                Ok(remember.answer(token, verified).and_then(|claims| self.admit(claims)))
            }
            Err(waiting) => Err(Box::pin(async move {
                let verified = waiting.await;
                timed();
                remember.answer(token, verified).and_then(|claims| self.admit(claims))
            })),
        }
    }

    /// The token cache's answer for `token`, or, when it has none (or none is used), where to remember the
    /// verifier's. The key epoch is read here, before verifying, so keys that change meanwhile leave the
    /// answer unused.
    fn cached(&self, token: &str) -> Result<Result<Arc<Claims>, TokenError>, Remember<'_>> {
        let inner = &*self.inner;
        let in_use = inner.token_cache.as_ref().and_then(|cache| Some((cache, inner.verifier.key_epoch()?)));
        let Some((cache, epoch)) = in_use else { return Err(Remember { cache: None }) };
        match cache.lookup(token, epoch) {
            Lookup::Verified(claims) => Ok(Ok(claims)),
            Lookup::Refused(error) => Ok(Err(error)),
            Lookup::Miss => Err(Remember { cache: Some((cache, epoch, inner.policy.leeway_seconds())) }),
        }
    }

    /// Remembers verified tokens in `cache` (replacing the default one, [`TokenCache::default`]): see
    /// [`TokenCache`] for what is kept and for how long.
    ///
    /// ```
    /// use scopes_runtime::{Authority, verifying::TokenCache};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_token_cache(TokenCache::new(1 << 20));
    /// assert_eq!(authority.token_cache().unwrap().max_bytes(), 1 << 20);
    /// ```
    pub fn with_token_cache(mut self, cache: TokenCache) -> Self {
        self.inner_mut().token_cache = Some(cache.emptied());
        self
    }

    /// Verifies every token every time: no [`TokenCache`].
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().without_token_cache();
    /// assert!(authority.token_cache().is_none());
    /// ```
    pub fn without_token_cache(mut self) -> Self {
        self.inner_mut().token_cache = None;
        self
    }

    /// The token cache, when this authority keeps one (whether it is used depends on the verifier:
    /// [`Verifier::key_epoch`]).
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// assert_eq!(authority.token_cache().unwrap().max_bytes(), scopes_runtime::verifying::TokenCache::DEFAULT_MAX_BYTES);
    /// ```
    pub fn token_cache(&self) -> Option<&TokenCache> {
        self.inner.token_cache.as_ref()
    }

    /// Calls `hook` with every [`AuditEvent`] this authority's guards and token endpoint produce (each
    /// also logged under [`scopes::authz`](crate::observing::TARGET) and counted): for an app that keeps
    /// its own audit trail. Called on the request's task; keep it quick.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use scopes_runtime::Authority;
    /// use scopes_runtime::observing::AuditEvent;
    ///
    /// let refusals = Arc::new(Mutex::new(Vec::new()));
    /// let seen = refusals.clone();
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_audit_hook(
    ///     move |event: &AuditEvent<'_>| {
    ///         if let AuditEvent::Decision(decision) = event && !decision.outcome.is_granted() {
    ///             seen.lock().unwrap().push(decision.outcome.reason());
    ///         }
    ///     },
    /// );
    /// # let _ = authority;
    /// ```
    pub fn with_audit_hook(mut self, hook: impl Fn(&AuditEvent<'_>) + Send + Sync + 'static) -> Self {
        self.inner_mut().audit = Some(AuditHook::new(hook));
        self
    }

    /// The hook [`with_audit_hook`](Self::with_audit_hook) set, if any.
    pub(crate) fn audit_hook(&self) -> Option<&AuditHook> {
        self.inner.audit.as_ref()
    }

    /// Logs, counts and hands to the hook what the token endpoint decided.
    #[cfg_attr(not(feature = "issuer"), allow(dead_code))]
    pub(crate) fn report(&self, event: AuditEvent<'_>) {
        crate::observing::emit(&event, self.audit_hook());
    }

    /// What every verified token is held to beyond what its verifier checked: not revoked
    /// ([`with_revocations`](Self::with_revocations)).
    fn admit(&self, claims: Arc<Claims>) -> Result<Arc<Claims>, TokenError> {
        if let Some(revocations) = &self.inner.revocations
            && revocations.refuses(&claims)
        {
            return Err(TokenError::Revoked);
        }
        Ok(claims)
    }

    /// The revocations this authority refuses tokens by, if any.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// assert!(Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().revocations().is_none());
    /// ```
    pub fn revocations(&self) -> Option<&Revocations> {
        self.inner.revocations.as_ref()
    }

    /// The issuer's key ring, for an authority made with [`from_key_ring`](Self::from_key_ring).
    pub fn key_ring(&self) -> Option<&KeyRing> {
        self.inner.signer.as_ref().and_then(Signer::key_ring)
    }
}
