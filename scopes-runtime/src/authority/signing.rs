//! Signing tokens with an authority's key: the seed's HS256 access tokens under a shared secret, or an
//! issuer's tokens under the current key of its [`KeyRing`](crate::keys::KeyRing), with `kid`, `iat` and `jti`.

use std::time::Duration;

use jsonwebtoken::Header;
use serde::Serialize;

use super::Authority;
use crate::answering::error::AuthError;
use crate::keys::clock::unix_now;
use crate::verifying::{ClaimFormat, Claims};

/// The claims as they are signed, in either [`ClaimFormat`], and the extra claims beside them.
#[derive(Serialize)]
struct SignedClaims<'a> {
    sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// The claims `SignedClaims` writes itself, which an extra claim of the same name must not repeat.
const WRITTEN_CLAIMS: [&str; 7] = ["sub", "scopes", "scope", "exp", "nbf", "iss", "aud"];

/// The claims it also writes for an authority that stamps its tokens.
const STAMPED_CLAIMS: [&str; 2] = ["iat", "jti"];

impl Authority {
    /// Sets how long issued tokens stay valid.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_token_lifetime(Duration::from_secs(60));
    /// assert_eq!(authority.token_lifetime(), Duration::from_secs(60));
    /// ```
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.inner_mut().issued.lifetime = lifetime;
        self
    }

    /// How long issued tokens stay valid.
    pub fn token_lifetime(&self) -> Duration {
        self.inner.issued.lifetime
    }

    /// Issues a token for `subject` granting `scopes`, expiring after the token lifetime.
    pub fn issue<T: AsRef<str>>(&self, subject: &str, scopes: &[T]) -> Result<String, AuthError> {
        self.issue_in_session(subject, scopes, None, None)
    }

    /// Issues a token as [`issue`](Self::issue) does, naming the refresh-token family it was issued from
    /// (its key, as `sid`), so that revoking the family refuses it too; and bound to the DPoP key whose
    /// thumbprint is `bound_to` (`cnf.jkt`, RFC 9449 §6), when one is given.
    pub(crate) fn issue_in_session<T: AsRef<str>>(
        &self,
        subject: &str,
        scopes: &[T],
        session: Option<&str>,
        bound_to: Option<&str>,
    ) -> Result<String, AuthError> {
        let expires = unix_now().saturating_add(self.token_lifetime().as_secs());
        let mut claims = Claims::new(subject, scopes.iter().map(AsRef::as_ref), expires);
        if let Some(session) = session {
            claims.extra.insert("sid".into(), session.into());
        }
        if let Some(thumbprint) = bound_to {
            claims.extra.insert("cnf".into(), serde_json::json!({ "jkt": thumbprint }));
        }
        self.sign(&claims)
    }

    /// Signs arbitrary claims, in the configured claim format and with the configured `iss` and `aud`
    /// (which take the place of any in [`Claims::extra`]). Tests and tools use it to mint tokens with
    /// chosen `exp`, `nbf` and other claims.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let issued = &self.inner.issued;
        let (claim_format, issuer, audience) = (issued.format, issued.issuer.as_deref(), issued.audience.as_deref());
        let stamped = issued.stamped;
        let (scopes, scope) = match claim_format {
            ClaimFormat::ScopesList => (Some(claims.scopes.as_slice()), None),
            ClaimFormat::ScopeString => (None, Some(claims.scopes.join(" "))),
        };
        let wire = SignedClaims {
            sub: &claims.sub,
            scopes,
            scope,
            exp: claims.exp,
            nbf: claims.nbf,
            iss: issuer,
            aud: audience,
            iat: stamped.then(unix_now),
            jti: if stamped { Some(token_id()?) } else { None },
            extra: claims
                .extra
                .iter()
                .filter(|(name, _)| !WRITTEN_CLAIMS.contains(&name.as_str()))
                .filter(|(name, _)| !(stamped && STAMPED_CLAIMS.contains(&name.as_str())))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        };
        let signer = self.inner.signer.as_ref();
        let signed = signer.and_then(|signer| {
            signer.sign_with(|encoding, algorithm, kid| {
                // An issuer's access tokens say what they are (RFC 9068 §2.1), so that no verifier takes another
                // kind of JWT for one; the seed's carry `JWT`, as FastAPI's do.
                let typ = if kid.is_some() { "at+jwt" } else { "JWT" };
                let header = Header { kid: kid.map(str::to_owned), typ: Some(typ.into()), ..Header::new(algorithm) };
                jsonwebtoken::encode(&header, &wire, encoding)
                    .map_err(|e| AuthError::Internal(format!("signing a token: {e}")))
            })
        });
        signed.unwrap_or_else(|| {
            Err(AuthError::Internal("this authority has no signing key: it verifies another issuer's tokens".into()))
        })
    }
}

/// A random token id (`jti`, RFC 7519 §4.1.7): 128 bits, so no two tokens share one.
fn token_id() -> Result<String, AuthError> {
    use aws_lc_rs::rand::SecureRandom;
    use base64::Engine;
    let mut id = [0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut id)
        .map_err(|_| AuthError::Internal("no randomness for a jti".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id))
}

impl Authority {
    /// How issued tokens write their scopes, and the `iss` and `aud` they carry (for the test kit's minter).
    #[cfg(feature = "testing")]
    pub(crate) fn issued_claims(&self) -> (ClaimFormat, Option<&str>, Option<&str>) {
        let issued = &self.inner.issued;
        (issued.format, issued.issuer.as_deref(), issued.audience.as_deref())
    }
}
