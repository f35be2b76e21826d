//! Verifying with a key set in hand, as a provider publishes it: each key with its pinned algorithm.

use jsonwebtoken::Validation;

use super::verifier::{Policy, TokenError, Verifier, checked_header, policy_copies, verify_with_key};
use crate::{Claims, KeySet, ScopeClaim};

/// A key set, the claim its tokens' scopes are read from, and the policy once per algorithm of the set.
#[derive(Clone)]
pub(crate) struct StaticKeys {
    pub(crate) keys: KeySet,
    pub(crate) scope_claim: ScopeClaim,
    by_algorithm: Vec<Validation>,
}

impl StaticKeys {
    pub(crate) fn new(keys: KeySet) -> Self {
        let mut by_algorithm: Vec<Validation> = Vec::new();
        for key in keys.keys() {
            if !by_algorithm.iter().any(|validation| validation.algorithms == [key.algorithm]) {
                by_algorithm.push(Validation::new(key.algorithm));
            }
        }
        StaticKeys { keys, scope_claim: ScopeClaim::default(), by_algorithm }
    }
}

impl Verifier for StaticKeys {
    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let header = checked_header(token, policy)?;
        // The algorithm a token is checked with is its key's, never its header's (`KeySet::select`).
        let key = &self.keys.keys()[self.keys.select(&header)?];
        verify_with_key(token, key, &self.by_algorithm, &self.scope_claim)
    }

    fn adopt(&mut self, base: &Validation) {
        policy_copies(base, &mut self.by_algorithm, None);
    }
}
