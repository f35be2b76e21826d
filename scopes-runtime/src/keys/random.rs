//! Random identifiers and opaque tokens, from the system's CSPRNG (aws-lc-rs), base64url without padding.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes; `None` only if the system has no randomness to give.
pub(crate) fn random_bytes<const N: usize>() -> Option<[u8; N]> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(bytes)
}

/// `N` random bytes as base64url text; `None` only if the system has no randomness to give.
pub(crate) fn random_text<const N: usize>() -> Option<String> {
    random_bytes::<N>().map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of `token`, hex: how a store keeps an opaque token (its 256 random bits need no slow hash).
#[cfg(feature = "issuer")]
pub(crate) fn token_hash(token: &str) -> String {
    digest_hex(token.as_bytes())
}

/// The SHA-256 of `bytes`, hex.
#[cfg(feature = "issuer")]
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}
