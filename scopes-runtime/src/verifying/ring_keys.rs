//! Verifying with an issuer's own [`KeyRing`]: the published keys of every replica, each with its pinned
//! algorithm; a token whose `kid` the ring lacks prompts a reload from the store (another replica rotated).

use super::claims::Claims;
use super::error::TokenError;
use super::policy::Policy;
use super::verifier::{Verifier, Verifying};
use crate::keys::KeyRing;

/// The ring whose published keys verify, and whose signing windows date the tokens.
#[derive(Debug)]
pub(crate) struct RingKeys {
    pub(crate) ring: KeyRing,
}

impl Verifier for RingKeys {
    fn kind(&self) -> &'static str {
        "key_ring"
    }

    /// The published keys and their signing windows, as of the ring's last load.
    fn key_epoch(&self) -> Option<u64> {
        Some(self.ring.ring().fingerprint)
    }

    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        match self.verify_now(token, policy) {
            Err(TokenError::UnknownKey) => Verifying::wait(async move {
                self.ring.reload_for_unknown_kid().await;
                self.verify_now(token, policy)
            }),
            done => Verifying::ready(done),
        }
    }

    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let header = policy.checked_header(token)?;
        let ring = self.ring.ring();
        let keys = ring.verifying.as_ref().ok_or(TokenError::UnknownKey)?;
        // The algorithm a token is checked with is its key's, never its header's (`KeySet::select`).
        let key = keys.select(&header)?;
        let claims = policy.decode_checked(token, &key.key, key.algorithm, policy.scope_claim())?;
        // This issuer's own tokens: dated (`iat`), issued while their key signed, and living no longer
        // than it issues them for. A token forged with a superseded key's leaked private half fails here,
        // whatever `exp` it claims.
        let leeway = policy.leeway_seconds();
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
}
