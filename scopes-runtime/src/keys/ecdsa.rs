//! ECDSA signatures verified with ring instead of aws-lc: jsonwebtoken's crypto provider with one factory
//! changed. ring's P-256 verification takes about 59.5 µs on this machine against aws-lc's 62 µs (its
//! modular inverse is the difference: aws-lc's is a variable-time binary Euclid), and a new ES256 token is
//! mostly that signature. Signing and every other algorithm stay with aws-lc, jsonwebtoken's default.
//!
//! jsonwebtoken's provider is process-wide and set once, so the library never installs it: an app opts in
//! at start, before anything verifies a token.

use std::sync::OnceLock;

use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, aws_lc};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey};

/// Makes jsonwebtoken verify ES256 and ES384 signatures with ring, for the whole process; everything
/// else (signing, RSA, EdDSA, HMAC) stays with aws-lc. Call it first thing in `main`: it returns `false`,
/// changing nothing, when a crypto provider is already in force (another was installed, or a token was
/// signed or verified before).
///
/// ```
/// // In an app's `main`, before any token is verified:
/// let installed = scopes_runtime::keys::verify_ecdsa_with_ring();
/// # let _ = installed;
/// ```
pub fn verify_ecdsa_with_ring() -> bool {
    static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        signer_factory: aws_lc::DEFAULT_PROVIDER.signer_factory,
        verifier_factory: verifier,
        key_utils: aws_lc::DEFAULT_PROVIDER.key_utils.clone(),
    });
    provider.install_default().is_ok()
}

/// jsonwebtoken's verifier for `algorithm` with `key`: ring's for ECDSA, aws-lc's otherwise.
fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    let ring_algorithm: &'static ::ring::signature::EcdsaVerificationAlgorithm = match algorithm {
        Algorithm::ES256 => &::ring::signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &::ring::signature::ECDSA_P384_SHA384_FIXED,
        _ => return (aws_lc::DEFAULT_PROVIDER.verifier_factory)(algorithm, key),
    };
    // The key's bytes (an uncompressed point, as jsonwebtoken keeps an EC key) are checked here, so a key
    // of another kind fails as aws-lc's verifier would.
    let point = key.try_get_as_bytes()?.to_vec();
    Ok(Box::new(RingEcdsa { algorithm: *algorithm, ring_algorithm, point }))
}

/// One ECDSA public key, verified with by ring.
struct RingEcdsa {
    algorithm: Algorithm,
    ring_algorithm: &'static ::ring::signature::EcdsaVerificationAlgorithm,
    point: Vec<u8>,
}

impl signature::Verifier<Vec<u8>> for RingEcdsa {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        ::ring::signature::UnparsedPublicKey::new(self.ring_algorithm, &self.point)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingEcdsa {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 key pair's signature over `message`, made with aws-lc, and its public point.
    fn signed(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        (pair.sign(&rng, message).unwrap().as_ref().to_vec(), pair.public_key().as_ref().to_vec())
    }

    fn key(point: &[u8]) -> DecodingKey {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // An uncompressed point: 0x04, x, y.
        DecodingKey::from_ec_components(&b64(&point[1..33]), &b64(&point[33..65])).unwrap()
    }

    #[test]
    fn ring_accepts_what_aws_lc_accepts_and_refuses_what_it_refuses() {
        let message = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJqb2huZG9lIn0";
        let (signature, point) = signed(message);
        let (other_signature, _) = signed(message);
        let ring = verifier(&Algorithm::ES256, &key(&point)).unwrap();
        let aws_lc = (aws_lc::DEFAULT_PROVIDER.verifier_factory)(&Algorithm::ES256, &key(&point)).unwrap();
        for verifier in [&ring, &aws_lc] {
            assert!(verifier.verify(message, &signature).is_ok());
            assert!(verifier.verify(b"another message", &signature).is_err());
            assert!(verifier.verify(message, &other_signature).is_err(), "another key's signature");
            assert!(verifier.verify(message, &signature[..63].to_vec()).is_err(), "a truncated signature");
            assert_eq!(verifier.algorithm(), Algorithm::ES256);
        }
    }

    #[test]
    fn other_algorithms_stay_with_aws_lc() {
        let secret = DecodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        assert_eq!(verifier(&Algorithm::HS256, &secret).unwrap().algorithm(), Algorithm::HS256);
    }
}
