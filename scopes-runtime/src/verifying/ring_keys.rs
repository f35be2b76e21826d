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
        verify_with_key(token, key, &self.by_algorithm, &self.scope_claim)
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
