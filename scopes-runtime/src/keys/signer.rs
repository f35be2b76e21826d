//! What signs an authority's tokens: a shared secret, or the current key of an issuer's [`KeyRing`].

use jsonwebtoken::{Algorithm, EncodingKey};

use super::ring::KeyRing;

/// The key an authority signs with.
#[derive(Clone)]
pub(crate) enum Signer {
    /// An HMAC secret, which also verifies (the seed's HS256).
    Secret { key: EncodingKey, algorithm: Algorithm },
    /// The ring's current key, named by its `kid` in every header.
    Ring(KeyRing),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never key material.
        match self {
            Signer::Secret { algorithm, .. } => f.debug_struct("Secret").field("algorithm", algorithm).finish(),
            Signer::Ring(ring) => f.debug_tuple("Ring").field(ring).finish(),
        }
    }
}

impl Signer {
    /// Runs `sign` with the key that signs now, its algorithm and its `kid` (a ring's key); `None` when a
    /// ring has no current key.
    pub(crate) fn sign_with<R>(&self, sign: impl FnOnce(&EncodingKey, Algorithm, Option<&str>) -> R) -> Option<R> {
        match self {
            Signer::Secret { key, algorithm } => Some(sign(key, *algorithm, None)),
            Signer::Ring(ring) => {
                let ring = ring.ring();
                ring.signer().map(|signer| sign(&signer.key, signer.algorithm, Some(&signer.kid)))
            }
        }
    }

    /// The ring, when it is one.
    pub(crate) fn key_ring(&self) -> Option<&KeyRing> {
        match self {
            Signer::Ring(ring) => Some(ring),
            Signer::Secret { .. } => None,
        }
    }
}
