//! Tokens for the cases: valid ones minted with the test secret, and hand-made ones of every broken shape.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use scopes_runtime::{Authority, Claims};

use crate::SECRET;

pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Now, in Unix seconds: what `exp`, `iat` and `nbf` count in.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()
}

/// A valid token for `sub` granting `scopes`, signed with the test secret.
pub fn signed(sub: &str, scopes: &[&str]) -> String {
    Authority::hs256(SECRET).unwrap().issue(sub, scopes).expect("signing")
}

/// A token with exactly these claims, signed with the test secret.
pub fn with_claims(claims: &Claims) -> String {
    Authority::hs256(SECRET).unwrap().sign(claims).expect("signing")
}

/// A token with a raw JSON header and payload, HMAC-SHA256-signed with `secret` whatever the header says.
pub fn raw(header: &str, payload: &str, secret: &str) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing");
    format!("{signing_input}.{signature}")
}

/// `bytes` (text or binary) as base64url without padding, as JWTs write their parts.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a token's payload without verifying it, to inspect what `/token` issued.
pub fn payload(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload")).expect("JSON payload")
}
