//! Checking one DPoP proof (RFC 9449 §4.3): its header (`typ`, an accepted asymmetric `alg`, a public
//! `jwk`), its signature by that key, and its claims against the request (`htm`, `htu`, `iat`, `ath`),
//! then that it was not seen before.

use std::time::Duration;

use axum::extract::OriginalUri;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::Dpop;
use crate::verifying::bearer::MAX_TOKEN_LENGTH;

/// The request a proof must be for: its method, its path as the client sent it (before any router
/// stripped a prefix), and its `Host`, read only when the app trusts it.
#[derive(Debug, Clone, Copy)]
pub struct RequestTarget<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The request's path, without the query.
    pub path: &'a str,
    /// The `Host` header (or an HTTP/2 request's authority).
    pub host: Option<&'a str>,
}

impl<'a> RequestTarget<'a> {
    /// The request `parts` describe: its path as the client sent it (before a router nested under a prefix
    /// stripped it, when axum recorded the original URI).
    pub fn of(parts: &'a Parts) -> Self {
        let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |original| original.path());
        let host = parts.headers.get(header::HOST).and_then(|host| host.to_str().ok());
        let host = host.or_else(|| parts.uri.authority().map(|authority| authority.as_str()));
        RequestTarget { method: &parts.method, path, host }
    }
}

/// Why a DPoP proof was refused: answered 401 `invalid_dpop_proof` (RFC 9449 §7.1), or 503 when the proofs
/// seen cannot be consulted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The proof is malformed, or fails one of the checks; the text says which.
    #[error("invalid DPoP proof: {0}")]
    Invalid(&'static str),
    /// The proof was used before.
    #[error("the DPoP proof was used already")]
    Replayed,
    /// The proof's key is not the one the token is bound to.
    #[error("the DPoP proof's key is not the one the token is bound to")]
    WrongKey,
    /// The proof carries no nonce, or one this server did not make lately (RFC 9449 §9): answered
    /// `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce`.
    #[error("the DPoP proof must carry a current server nonce")]
    UseNonce,
    /// The proofs seen cannot be consulted now (the in-process table is full, or Redis is down).
    #[error("DPoP proofs cannot be checked for replay now: {0}")]
    Unavailable(&'static str),
}

impl ProofError {
    /// What the refusal's `error_description` says.
    pub fn description(&self) -> &'static str {
        match self {
            ProofError::Invalid(why) | ProofError::Unavailable(why) => why,
            ProofError::Replayed => "the DPoP proof was used already",
            ProofError::WrongKey => "the DPoP proof's key is not the one the token is bound to",
            ProofError::UseNonce => "the DPoP proof must carry the server's nonce: use the one in `DPoP-Nonce`",
        }
    }
}

/// The access token's hash as a proof's `ath` carries it: SHA-256, base64url without padding.
///
/// ```
/// use scopes_runtime::verifying::dpop::access_token_hash;
/// // RFC 9449 §7.1's example.
/// assert_eq!(access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
/// ```
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()))
}

/// A JWK's private members (RFC 7518 §6): a proof carrying one has leaked its key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A proof's header as sent, read before its signature is checked: what jsonwebtoken's `Header` drops
/// (the JWK's private members) must be seen.
#[derive(Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: Option<String>,
    jwk: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// The longest `jti` taken: a random identifier needs a few dozen characters.
const MAX_JTI_LENGTH: usize = 256;

impl Dpop {
    /// Checks `proof` for the request `target`, presented with `token` (`None` at a token endpoint, where a
    /// proof carries no `ath`) and, for a bound token, the thumbprint `bound_to` it is bound to; then
    /// remembers it. Returns the proof key's thumbprint (RFC 7638, SHA-256), what a token issued to this
    /// client is bound to.
    pub async fn check_proof(
        &self,
        proof: &str,
        target: &RequestTarget<'_>,
        token: Option<&str>,
        bound_to: Option<&str>,
    ) -> Result<String, ProofError> {
        let now = crate::keys::clock::unix_now();
        let (thumbprint, jti) = self.checked_proof(proof, target, token, bound_to, now)?;
        let window = self.proof_lifetime + self.leeway;
        match self.replays.first_use(&thumbprint, &jti, now, window).await {
            Ok(true) => Ok(thumbprint),
            Ok(false) => Err(ProofError::Replayed),
            Err(unremembered) => Err(ProofError::Unavailable(unremembered.why)),
        }
    }

    /// Every check but the replay's, at `now`; the key's thumbprint and the proof's `jti`.
    fn checked_proof(
        &self,
        proof: &str,
        target: &RequestTarget<'_>,
        token: Option<&str>,
        bound_to: Option<&str>,
        now: u64,
    ) -> Result<(String, String), ProofError> {
        use ProofError::Invalid;
        if proof.len() > MAX_TOKEN_LENGTH {
            return Err(Invalid("the DPoP proof is too long"));
        }
        let header_segment = proof.split('.').next().unwrap_or_default();
        let header = URL_SAFE_NO_PAD
            .decode(header_segment)
            .ok()
            .and_then(|json| serde_json::from_slice::<ProofHeader>(&json).ok())
            .ok_or(Invalid("the DPoP proof is not a JWT"))?;
        if !header.typ.is_some_and(|typ| typ.eq_ignore_ascii_case("dpop+jwt")) {
            return Err(Invalid("the DPoP proof's `typ` is not `dpop+jwt`"));
        }
        let validation = header
            .alg
            .and_then(|alg| alg.parse::<Algorithm>().ok())
            .and_then(|algorithm| self.accepted.validation(algorithm))
            .ok_or(Invalid("the DPoP proof's `alg` is not one this API accepts"))?;
        let jwk = header.jwk.ok_or(Invalid("the DPoP proof's header has no `jwk`"))?;
        if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
            return Err(Invalid("the DPoP proof's `jwk` holds a private key"));
        }
        let jwk: Jwk = serde_json::from_value(serde_json::Value::Object(jwk))
            .map_err(|_| Invalid("the DPoP proof's `jwk` is not a public key"))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| Invalid("the DPoP proof's `jwk` is not a public key"))?;
        let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, validation)
            .map_err(|_| Invalid("the DPoP proof's signature does not verify with its `jwk`"))?
            .claims;
        let thumbprint =
            jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| Invalid("the DPoP proof's `jwk` has no thumbprint"))?;
        if bound_to.is_some_and(|bound_to| bound_to != thumbprint) {
            return Err(ProofError::WrongKey);
        }
        if claims.htm.as_deref() != Some(target.method.as_str()) {
            return Err(Invalid("the DPoP proof's `htm` is not the request's method"));
        }
        if !claims.htu.as_deref().is_some_and(|htu| self.names_request(htu, target)) {
            return Err(Invalid("the DPoP proof's `htu` is not the request's URL"));
        }
        let iat = claims.iat.filter(|iat| iat.is_finite()).ok_or(Invalid("the DPoP proof has no `iat`"))?;
        let (earliest, latest) = (now.saturating_sub(self.proof_lifetime.as_secs()), now + self.leeway.as_secs());
        // Whole seconds, as every NumericDate here.
        let iat = iat.floor() as u64;
        if iat < earliest || iat > latest {
            return Err(Invalid("the DPoP proof's `iat` is outside the accepted window"));
        }
        if let Some(token) = token
            && claims.ath.as_deref() != Some(access_token_hash(token).as_str())
        {
            return Err(Invalid("the DPoP proof's `ath` is not the access token's hash"));
        }
        if let Some(nonces) = &self.nonces
            && !claims.nonce.as_deref().is_some_and(|nonce| nonces.accepts(nonce))
        {
            return Err(ProofError::UseNonce);
        }
        let jti = claims.jti.filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LENGTH);
        let jti = jti.ok_or(Invalid("the DPoP proof has no usable `jti`"))?;
        Ok((thumbprint, jti))
    }

    /// Whether `htu` names the request's URL at this API: scheme, host, port and path, the query and
    /// fragment ignored (§4.3), after RFC 3986 normalization.
    fn names_request(&self, htu: &str, target: &RequestTarget<'_>) -> bool {
        let Ok(named) = url::Url::parse(htu) else {
            return false;
        };
        let mut expected = self.public_url.clone();
        if self.trust_host
            && let Some(host) = target.host
        {
            // The host and port the header names, read as a URL's authority would be.
            let Ok(from_host) = url::Url::parse(&format!("{}://{host}", expected.scheme())) else {
                return false;
            };
            if expected.set_host(from_host.host_str()).is_err() || expected.set_port(from_host.port()).is_err() {
                return false;
            }
        }
        let prefix = expected.path().trim_end_matches('/').to_owned();
        expected.set_path(&format!("{prefix}{}", target.path));
        named.scheme() == expected.scheme()
            && named.host_str() == expected.host_str()
            && named.port_or_known_default() == expected.port_or_known_default()
            && named.path() == expected.path()
    }

    /// The window a proof's `iat` must fall in, as `(lifetime, leeway)`.
    pub fn proof_window(&self) -> (Duration, Duration) {
        (self.proof_lifetime, self.leeway)
    }
}

// The test kit mints the proofs.
#[cfg(all(test, feature = "testing"))]
mod tests;
