//! A DPoP client's key for tests: it binds tokens to itself and signs proofs, good ones and each kind of
//! bad one (another method or URL, a stale `iat`, a wrong `ath`, a replayed `jti`).

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::keys::clock::unix_now;
use crate::verifying::Claims;
use crate::verifying::dpop::access_token_hash;

/// An ES256 key a test client holds: [`bind`](Self::bind) binds a token's claims to it (`cnf.jkt`),
/// [`proof`](Self::proof) signs the `DPoP` header of one request.
///
/// ```
/// use scopes_runtime::Claims;
/// use scopes_runtime::testing::DpopKey;
///
/// let key = DpopKey::generate();
/// let mut claims = Claims::new("johndoe", ["me"], 4_000_000_000);
/// key.bind(&mut claims);
/// assert_eq!(claims.extra["cnf"]["jkt"], key.thumbprint());
/// let proof = key.proof("GET", "https://api.example/users/me/", Some("the.access.token"));
/// assert_eq!(proof.split('.').count(), 3);
/// ```
pub struct DpopKey {
    pkcs8: Vec<u8>,
    jwk: Value,
    thumbprint: String,
    serial: AtomicU64,
}

impl std::fmt::Debug for DpopKey {
    /// The public key's thumbprint; never the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("thumbprint", &self.thumbprint).finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new P-256 key.
    pub fn generate() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("its own key");
        // An uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        let parsed: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
        let thumbprint = parsed.thumbprint(ThumbprintHash::SHA256).expect("an EC key's thumbprint");
        DpopKey { pkcs8: pkcs8.as_ref().to_vec(), jwk, thumbprint, serial: AtomicU64::new(0) }
    }

    /// The public key, as a proof's header carries it.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The key's RFC 7638 thumbprint (SHA-256, base64url): what a bound token's `cnf.jkt` names.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Binds `claims` to this key: `cnf: {"jkt": thumbprint}`.
    pub fn bind(&self, claims: &mut Claims) {
        claims.extra.insert("cnf".into(), json!({ "jkt": self.thumbprint }));
    }

    /// A proof for a `method` request to `url`, made now with a fresh `jti`, carrying `token`'s hash
    /// (`ath`) when one is given.
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        let mut claims = json!({ "jti": self.fresh_jti(), "htm": method, "htu": url, "iat": unix_now() });
        if let Some(token) = token {
            claims["ath"] = json!(access_token_hash(token));
        }
        self.sign_proof(&self.proof_header(), &claims)
    }

    /// A proof with `claims` as given (to make one stale, for another URL, without `ath`, or with a `jti`
    /// used before), under the usual header.
    pub fn proof_with_claims(&self, claims: &Value) -> String {
        self.sign_proof(&self.proof_header(), claims)
    }

    /// The header of a good proof: `typ` `dpop+jwt`, `alg` ES256, the public `jwk`.
    pub fn proof_header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk })
    }

    /// `claims` signed with this key under `header` as given (which may name another key, or none): the
    /// header's members are written as they are, whatever they say.
    pub fn sign_proof(&self, header: &Value, claims: &Value) -> String {
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"));
        let message = format!("{}.{}", encode(header), encode(claims));
        let key = EncodingKey::from_ec_der(&self.pkcs8);
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::ES256).expect("signed");
        format!("{message}.{signature}")
    }

    /// A `jti` this key has not used before.
    pub fn fresh_jti(&self) -> String {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        format!("{}-{serial}", &self.thumbprint[..12])
    }
}
