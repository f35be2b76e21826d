//! Public keys to verify tokens with, as identity providers publish them: a JWK Set (RFC 7517 §5).
//!
//! Each key's algorithm is pinned when the set is read, from the key's `alg`, or from its type and curve
//! when the provider leaves `alg` out (as Entra ID does): a token is verified with its key's algorithm or
//! not at all, whatever its header names. Symmetric (`oct`) keys, encryption keys, and keys of algorithms
//! this crate does not verify are left out, each with the reason, so one odd key does not void the set.

use std::fmt;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Header};

/// A set of public keys, each with its pinned algorithm, selected by `kid`.
///
/// ```
/// use scopes_runtime::KeySet;
///
/// let jwks = r#"{"keys": [
///     {"kty": "OKP", "crv": "Ed25519", "kid": "2026-11", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
///     {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"}
/// ]}"#;
/// let keys = KeySet::from_jwks(jwks).unwrap();
/// assert_eq!(keys.kids(), ["2026-11"]);
/// assert_eq!(keys.skipped().len(), 1, "a symmetric key has no place in a published set");
/// ```
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    skipped: Vec<String>,
    /// A digest of the usable keys as published: two sets with the same keys have the same one, so a
    /// verified token remembered under one stays good under the other (`verifying::cache`).
    fingerprint: u64,
}

/// One public key and the one algorithm it verifies.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The document is not a JWK Set, or holds no key this crate can verify with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// Not JSON, or not an object with a `keys` array.
    #[error("not a JWK Set: {0}")]
    NotAJwkSet(String),
    /// Every key was left out.
    #[error("no usable signing key in the JWK Set ({})", .skipped.join("; "))]
    NoUsableKey {
        /// Why each key was left out.
        skipped: Vec<String>,
    },
}

/// Why no key of a set verifies a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unselected {
    /// The `kid` names no key of the set (or there is none, and the set has several keys).
    UnknownKey,
    /// The key named is pinned to another algorithm than the header's.
    WrongAlgorithm,
}

impl fmt::Debug for KeySet {
    /// The keys' ids and algorithms; never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("{}:{:?}", key.kid.as_deref().unwrap_or("(no kid)"), key.algorithm))
            .collect();
        f.debug_struct("KeySet").field("keys", &keys).field("skipped", &self.skipped.len()).finish()
    }
}

impl KeySet {
    /// Reads a JWK Set document, such as a provider's `jwks_uri` serves.
    pub fn from_jwks(document: &str) -> Result<Self, KeySetError> {
        let value: serde_json::Value =
            serde_json::from_str(document).map_err(|error| KeySetError::NotAJwkSet(error.to_string()))?;
        let Some(entries) = value.get("keys").and_then(serde_json::Value::as_array) else {
            return Err(KeySetError::NotAJwkSet("no `keys` array".into()));
        };
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        let mut fingerprint = std::hash::DefaultHasher::new();
        for (index, entry) in entries.iter().enumerate() {
            let label = entry
                .get("kid")
                .and_then(|kid| kid.as_str())
                .map_or_else(|| format!("key #{index}"), |kid| format!("key `{kid}`"));
            match verifying_key(entry) {
                Ok(key) if keys.iter().any(|known: &VerifyingKey| known.kid.is_some() && known.kid == key.kid) => {
                    skipped.push(format!("{label}: its kid is used by an earlier key"));
                }
                Ok(key) => {
                    std::hash::Hash::hash(&entry.to_string(), &mut fingerprint);
                    keys.push(key);
                }
                Err(reason) => skipped.push(format!("{label}: {reason}")),
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey { skipped });
        }
        Ok(KeySet { keys, skipped, fingerprint: std::hash::Hasher::finish(&fingerprint) })
    }

    /// A digest of the usable keys, the same for every set with the same keys: what tells a remembered
    /// verification whether the key that made it is still in the set.
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The ids of the keys in the set, in the document's order; keys without one are left out.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|key| key.kid.as_deref()).collect()
    }

    /// Why each left-out key was left out.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The position of the key that verifies a token with `header`: the one its `kid` names, or the only
    /// key of a set that has one; its pinned algorithm must be the header's.
    pub(crate) fn select(&self, header: &Header) -> Result<&VerifyingKey, Unselected> {
        let key = match header.kid.as_deref() {
            Some(kid) => self.keys.iter().find(|key| key.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        };
        let key = key.ok_or(Unselected::UnknownKey)?;
        if key.algorithm != header.alg {
            return Err(Unselected::WrongAlgorithm);
        }
        Ok(key)
    }
}

/// The key an entry of the set describes, or why it is left out.
fn verifying_key(entry: &serde_json::Value) -> Result<VerifyingKey, String> {
    let jwk: Jwk =
        serde_json::from_value(entry.clone()).map_err(|error| format!("not a JWK this crate reads ({error})"))?;
    if jwk.common.public_key_use.as_ref().is_some_and(|usage| *usage != PublicKeyUse::Signature) {
        return Err("not a signature key (`use`)".into());
    }
    if jwk.common.key_operations.as_ref().is_some_and(|ops| !ops.contains(&KeyOperations::Verify)) {
        return Err("`key_ops` does not allow `verify`".into());
    }
    let algorithm = pinned_algorithm(&jwk)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|error| format!("unusable key material ({error})"))?;
    Ok(VerifyingKey { kid: jwk.common.key_id.clone(), algorithm, key })
}

/// The one algorithm a key verifies: its `alg` when it names one that fits the key, else the one its type
/// and curve imply (RSA keys RS256, as OpenID Connect's default).
fn pinned_algorithm(jwk: &Jwk) -> Result<Algorithm, String> {
    let named = match &jwk.common.key_algorithm {
        None => None,
        Some(named) => Some(
            signature_algorithm(named)
                .ok_or_else(|| format!("`alg` {named:?} is not a signature algorithm this crate verifies"))?,
        ),
    };
    let fits = |algorithm: Algorithm| named.is_none_or(|named| named == algorithm);
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => match named {
            Some(
                algorithm @ (Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512),
            ) => Ok(algorithm),
            Some(other) => Err(format!("an RSA key cannot verify {other:?}")),
            None => Ok(Algorithm::RS256),
        },
        AlgorithmParameters::EllipticCurve(params) => {
            let implied = match params.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                ref other => return Err(format!("curve {other:?} is not verified by this crate")),
            };
            if fits(implied) { Ok(implied) } else { Err(format!("a {:?} key cannot verify {named:?}", params.curve)) }
        }
        AlgorithmParameters::OctetKeyPair(params) if params.curve == EllipticCurve::Ed25519 => {
            if fits(Algorithm::EdDSA) {
                Ok(Algorithm::EdDSA)
            } else {
                Err(format!("an Ed25519 key cannot verify {named:?}"))
            }
        }
        AlgorithmParameters::OctetKeyPair(params) => {
            Err(format!("curve {:?} is not verified by this crate", params.curve))
        }
        // A shared secret in a published set would let anyone who reads it sign tokens.
        AlgorithmParameters::OctetKey(_) => {
            Err("a symmetric (`oct`) key; HMAC secrets are not read from key sets".into())
        }
        _ => Err("a key type this crate does not verify".into()),
    }
}

fn signature_algorithm(named: &KeyAlgorithm) -> Option<Algorithm> {
    Some(match named {
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        // HMAC keys are refused by type; encryption algorithms verify nothing.
        _ => return None,
    })
}
