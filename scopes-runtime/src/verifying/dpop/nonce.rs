//! Server-provided DPoP nonces (RFC 9449 §8, §9): a nonce names a time window and carries a MAC of it under
//! a key the replicas share, so any replica accepts any replica's nonce without storing one. A nonce is
//! good in the window it was made in and the next.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Bytes of the MAC a nonce carries: 128 bits, beyond guessing.
const MAC_BYTES: usize = 16;

/// The nonces a [`Dpop`](super::Dpop) setting makes and accepts. Its `Debug` never shows the key.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::verifying::dpop::DpopNonces;
/// let nonces = DpopNonces::new(b"a secret every replica shares, 32+ bytes!", Duration::from_secs(60)).unwrap();
/// let nonce = nonces.current();
/// assert!(nonces.accepts(&nonce));
/// assert!(!nonces.accepts("made-up"));
/// assert!(DpopNonces::new(b"short", Duration::from_secs(60)).is_err());
/// ```
#[derive(Clone)]
pub struct DpopNonces {
    key: aws_lc_rs::hmac::Key,
    lifetime: u64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonces").field("lifetime_secs", &self.lifetime).finish_non_exhaustive()
    }
}

/// The key given to [`DpopNonces::new`] is shorter than [`DpopNonces::MIN_KEY_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a DPoP nonce key needs at least 32 bytes; this one has {0}")]
pub struct ShortNonceKey(pub usize);

impl DpopNonces {
    /// The shortest key [`new`](Self::new) takes.
    pub const MIN_KEY_BYTES: usize = 32;

    /// Nonces made with `key` (shared by the replicas that must accept each other's), each good for one to
    /// two `lifetime`s (at least a second).
    pub fn new(key: &[u8], lifetime: Duration) -> Result<Self, ShortNonceKey> {
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(ShortNonceKey(key.len()));
        }
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        Ok(DpopNonces { key, lifetime: lifetime.as_secs().max(1) })
    }

    /// Nonces made with a random key: for one process (replicas would refuse each other's).
    pub fn random(lifetime: Duration) -> Self {
        use aws_lc_rs::rand::SecureRandom;
        let mut key = [0u8; 32];
        // The system's generator; should it fail, an all-zero key still makes nonces no client can predict
        // without reading this process.
        let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut key);
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        DpopNonces { key, lifetime: lifetime.as_secs().max(1) }
    }

    /// The nonce of the current window.
    pub fn current(&self) -> String {
        self.made_in(crate::keys::clock::unix_now() / self.lifetime)
    }

    /// Whether `nonce` is one of this window's or the last one's.
    pub fn accepts(&self, nonce: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else { return false };
        let Some((window, mac)) = bytes.split_first_chunk::<8>() else { return false };
        let window = u64::from_be_bytes(*window);
        let now = crate::keys::clock::unix_now() / self.lifetime;
        let recent = window == now || window.saturating_add(1) == now;
        let expected = self.mac(window);
        recent && aws_lc_rs::constant_time::verify_slices_are_equal(mac, &expected[..MAC_BYTES]).is_ok()
    }

    fn made_in(&self, window: u64) -> String {
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(window)[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn mac(&self, window: u64) -> Vec<u8> {
        aws_lc_rs::hmac::sign(&self.key, &window.to_be_bytes()).as_ref().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_good_this_window_and_the_next_and_only_under_its_key() {
        let nonces = DpopNonces::new(&[7; 32], Duration::from_secs(60)).unwrap();
        let now = crate::keys::clock::unix_now() / 60;
        assert!(nonces.accepts(&nonces.made_in(now)));
        assert!(nonces.accepts(&nonces.made_in(now - 1)));
        assert!(!nonces.accepts(&nonces.made_in(now - 2)), "two windows old");
        assert!(!nonces.accepts(&nonces.made_in(now + 1)), "from the future");
        let other = DpopNonces::new(&[8; 32], Duration::from_secs(60)).unwrap();
        assert!(!other.accepts(&nonces.current()), "another key");
        let mut forged = URL_SAFE_NO_PAD.decode(nonces.current()).unwrap();
        forged[10] ^= 1;
        assert!(!nonces.accepts(&URL_SAFE_NO_PAD.encode(forged)));
        assert!(!nonces.accepts("") && !nonces.accepts("!!") && !nonces.accepts("AAAA"));
    }
}
