//! Verifying with an issuer's own [`KeyRing`]: the published keys of every replica, each with its pinned
//! algorithm; a token whose `kid` the ring lacks prompts a reload from the store (another replica rotated).

use jsonwebtoken::Validation;

use super::verifier::{Policy, TokenError, Verifier, Verifying, checked_header, policy_copies, verify_with_key};
use crate::{Claims, KeyRing, ScopeClaim, SigningAlgorithm};

/// The ring, the claim its tokens' scopes are in, and the policy once per algorithm it may sign with.
#[derive(Clone)]
pub(crate) struct RingKeys {
    pub(crate) ring: KeyRing,
    scope_claim: ScopeClaim,
    by_algorithm: Vec<Validation>,
}

impl RingKeys {
    pub(crate) fn new(ring: KeyRing, scope_claim: ScopeClaim) -> Self {
        // A rotation may change the algorithm: keep a policy for each one a key may have.
        let by_algorithm = SigningAlgorithm::ALL.iter().map(|algorithm| Validation::new(algorithm.jwt())).collect();
        RingKeys { ring, scope_claim, by_algorithm }
    }
}

impl Verifier for RingKeys {
    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let header = checked_header(token, policy)?;
        let ring = self.ring.ring();
        let keys = ring.verifying.as_ref().ok_or(TokenError::UnknownKey)?;
        // The algorithm a token is checked with is its key's, never its header's (`KeySet::select`).
        let key = &keys.keys()[keys.select(&header)?];
        let claims = verify_with_key(token, key, &self.by_algorithm, &self.scope_claim)?;
        // This issuer's own tokens: dated (`iat`), issued while their key signed, and living no longer
        // than it issues them for. A token forged with a superseded key's leaked private half fails here,
        // whatever `exp` it claims.
        let leeway = policy.validation.leeway;
        let issued_at = claims
            .extra
            .get("iat")
            .and_then(serde_json::Value::as_f64)
            .map(|iat| iat.max(0.0) as u64)
            .ok_or_else(|| TokenError::InvalidClaims("`iat` is missing".into()))?;
        let kid = key.kid.as_deref().unwrap_or_default();
        if !ring.signed_within_window(kid, issued_at, leeway) {
            return Err(TokenError::InvalidClaims(format!("issued at {issued_at}, when key `{kid}` did not sign")));
        }
        let longest = self.ring.token_lifetime().as_secs().saturating_add(leeway);
        if claims.exp.saturating_sub(issued_at) > longest {
            return Err(TokenError::InvalidClaims(format!("lives longer than the {longest} s this issuer issues for")));
        }
        Ok(claims)
    }

    fn start_verifying<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        match self.verify_now(token, policy) {
            Err(TokenError::UnknownKey) => Verifying::Fetching(Box::pin(async move {
                self.ring.reload_for_unknown_kid().await;
                self.verify_now(token, policy)
            })),
            done => Verifying::Done(done),
        }
    }

    fn adopt(&mut self, base: &Validation) {
        policy_copies(base, &mut self.by_algorithm, None);
    }
}
