//! Verifying with the keys of providers that are fetched and kept fresh ([`LiveKeys`]), each token
//! against the provider its `iss` names.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use jsonwebtoken::Header;
use serde::Deserialize;

use super::claims::Claims;
use super::error::TokenError;
use super::fetch::ProviderMetadata;
use super::live_keys::{LiveKeys, Refetch};
use super::policy::Policy;
use super::provider::{Provider, ProviderError, check_url};
use super::verifier::{Verifier, Verifying};
use crate::keys::VerifyingKey;
use crate::observing::Counted;
use crate::observing::metrics as names;
use metrics::Label;

/// The trusted providers, in the order they were given. The policy they verify under names their
/// issuers (`Authority::from_providers`), so a token is held to the `iss` of the provider chosen for it.
#[derive(Clone)]
pub(crate) struct ProviderKeys {
    issuers: Arc<[TrustedIssuer]>,
}

/// A provider and its live keys.
struct TrustedIssuer {
    live: Arc<LiveKeys>,
    /// With audiences of its own: the authority's policy they were last applied to, and the result.
    own_audiences: ArcSwapOption<(Policy, Policy)>,
    /// The key-lookup counter's keys: a token's key found in the set in hand, or not.
    hit: Counted,
    miss: Counted,
}

impl TrustedIssuer {
    fn start(provider: Provider, runtime: &tokio::runtime::Handle) -> Self {
        let lookups = |result: &'static str| {
            let labels = vec![Label::new("issuer", provider.issuer.clone()), Label::new("result", result)];
            Counted::new(names::JWKS_KEY_LOOKUPS, labels)
        };
        let (hit, miss) = (lookups("hit"), lookups("miss"));
        TrustedIssuer { live: LiveKeys::start(provider, runtime), own_audiences: ArcSwapOption::empty(), hit, miss }
    }
}

impl std::fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.providers()).finish()
    }
}

impl ProviderKeys {
    /// Checks `providers` and starts keeping their keys on `runtime`.
    pub(crate) fn start(providers: Vec<Provider>, runtime: &tokio::runtime::Handle) -> Result<Self, ProviderError> {
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
        let issuers = providers.into_iter().map(|provider| TrustedIssuer::start(provider, runtime)).collect();
        Ok(ProviderKeys { issuers })
    }

    pub(crate) fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.issuers.iter().map(|issuer| &issuer.live.provider)
    }

    pub(crate) fn metadata(&self) -> Vec<Option<ProviderMetadata>> {
        self.issuers.iter().map(|issuer| issuer.live.metadata()).collect()
    }

    /// The issuers whose keys have not been fetched yet.
    pub(crate) fn without_keys(&self) -> Vec<&str> {
        let without = self.issuers.iter().filter(|issuer| !issuer.live.has_keys());
        without.map(|issuer| issuer.live.provider.issuer.as_str()).collect()
    }

    /// Waits until every provider's keys have been fetched once, for at most `timeout`.
    pub(crate) async fn wait_for_keys(&self, timeout: Duration) -> bool {
        let all = futures_util::future::join_all(self.issuers.iter().map(|issuer| issuer.live.wait_for_keys()));
        tokio::time::timeout(timeout, all).await.is_ok()
    }

    /// The checked header, and the provider whose tokens `token` claims to be: the only one, whose `iss` the
    /// policy checks after the signature; or, among several, the one its `iss` names exactly.
    fn provider_for(&self, token: &str, policy: &Policy) -> Result<(Header, &TrustedIssuer), TokenError> {
        let header = policy.checked_header(token)?;
        let issuer = match &*self.issuers {
            [only] => only,
            issuers => {
                let claimed = unverified_issuer(token).ok_or(TokenError::UntrustedIssuer)?;
                let trusted = issuers.iter().find(|issuer| issuer.live.provider.issuer == claimed);
                trusted.ok_or(TokenError::UntrustedIssuer)?
            }
        };
        Ok((header, issuer))
    }

    /// Verifies `token`; a `kid` the keys in hand lack prompts a fetch (shared with every request waiting
    /// on one, at most once per cooldown), and the token is checked against what it brings.
    async fn verify_fetching(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let arrived = tokio::time::Instant::now();
        let (header, issuer) = self.provider_for(token, policy)?;
        // Twice at most: the second time with the set a fetch brought, which is not fetched again.
        for may_fetch in [true, false] {
            let snapshot = issuer.live.snapshot();
            let selected = snapshot.as_ref().map(|snapshot| snapshot.keys.select(&header).map_err(TokenError::from));
            let lookup = if matches!(selected, Some(Ok(_))) { &issuer.hit } else { &issuer.miss };
            lookup.increment();
            match selected {
                Some(Ok(key)) => return issuer.verify(token, key, policy),
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
}

impl Verifier for ProviderKeys {
    fn kind(&self) -> &'static str {
        "providers"
    }

    /// Every provider's key set as last fetched (a provider without one counts as such): a fetch that
    /// brings the same keys changes nothing.
    fn key_epoch(&self) -> Option<u64> {
        // Read on every guarded request: the sets' fingerprints (digests already) folded, not hashed again.
        let fold = |epoch: u64, issuer: &TrustedIssuer| {
            let fingerprint = issuer.live.snapshot().as_ref().map_or(0, |snapshot| snapshot.keys.fingerprint());
            epoch.rotate_left(7) ^ fingerprint
        };
        Some(self.issuers.iter().fold(0, fold))
    }

    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        Verifying::wait(self.verify_fetching(token, policy))
    }

    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let (header, issuer) = self.provider_for(token, policy)?;
        let snapshot = issuer.live.snapshot();
        let Some(snapshot) = snapshot.as_ref() else {
            let retry_after = issuer.live.provider.refresh.unknown_kid_cooldown;
            return Err(TokenError::KeysUnavailable { retry_after });
        };
        issuer.verify(token, snapshot.keys.select(&header)?, policy)
    }
}

impl TrustedIssuer {
    /// Verifies `token` with `key` under `policy`, its scopes read where this provider writes them.
    fn verify(&self, token: &str, key: &VerifyingKey, policy: &Policy) -> Result<Claims, TokenError> {
        let scope_claim = self.live.provider.scope_claim.as_ref().unwrap_or(policy.scope_claim());
        match &self.live.provider.audiences {
            None => policy.decode_checked(token, &key.key, key.algorithm, scope_claim),
            Some(audiences) => {
                let own = self.policy_with_own(policy, audiences);
                own.1.decode_checked(token, &key.key, key.algorithm, scope_claim)
            }
        }
    }

    /// `policy` with this provider's `audiences` in place of its own, made once per policy: the policy is
    /// the authority's, and changes only when the app rebuilds it.
    fn policy_with_own(&self, policy: &Policy, audiences: &[String]) -> Arc<(Policy, Policy)> {
        if let Some(made) = self.own_audiences.load_full()
            && made.0.compiled_as(policy)
        {
            return made;
        }
        let made = Arc::new((policy.clone(), policy.clone().with_audiences(audiences.iter().cloned())));
        self.own_audiences.store(Some(made.clone()));
        made
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
