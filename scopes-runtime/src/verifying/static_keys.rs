//! Verifying with a key set in hand, as a provider publishes it: each key with its pinned algorithm.

use super::claims::Claims;
use super::error::TokenError;
use super::policy::Policy;
use super::verifier::{Verifier, Verifying};
use crate::keys::KeySet;

/// A key set; a token is checked with the key its `kid` names, under that key's algorithm.
#[derive(Debug)]
pub(crate) struct StaticKeys {
    pub(crate) keys: KeySet,
}

impl Verifier for StaticKeys {
    fn kind(&self) -> &'static str {
        "key_set"
    }

    fn key_epoch(&self) -> Option<u64> {
        Some(self.keys.fingerprint())
    }

    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        Verifying::ready(self.verify_now(token, policy))
    }

    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let header = policy.checked_header(token)?;
        // The algorithm a token is checked with is its key's, never its header's (`KeySet::select`).
        let key = self.keys.select(&header)?;
        policy.decode_checked(token, &key.key, key.algorithm, policy.scope_claim())
    }
}
