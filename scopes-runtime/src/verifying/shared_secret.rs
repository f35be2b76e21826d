//! Verifying with one shared secret (HS256), which also signs: the seed's way.

use std::sync::LazyLock;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use super::claims::{ClaimFormat, ReceivedClaims};
use super::verifier::{Policy, TokenError, Verifier};
use crate::Claims;

/// An HS256 secret's verifying half.
#[derive(Clone)]
pub(crate) struct SharedSecret {
    pub(crate) decoding: DecodingKey,
}

impl Verifier for SharedSecret {
    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        refuse_critical_extensions(token)?;
        let mut wire = jsonwebtoken::decode::<ReceivedClaims>(token, &self.decoding, &policy.validation)?.claims;
        let scopes = match policy.claim_format {
            ClaimFormat::ScopesList => wire.scopes.unwrap_or_default(),
            ClaimFormat::ScopeString => match wire.extra.remove("scope") {
                None => Vec::new(),
                Some(serde_json::Value::String(scope)) => {
                    scope.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
                }
                Some(_) => return Err(TokenError::InvalidClaims("`scope` is not a string".into())),
            },
        };
        Ok(Claims { sub: wire.sub, scopes, exp: wire.exp, nbf: wire.nbf, extra: wire.extra })
    }
}

/// The header segment of every token this crate issues, `{"typ":"JWT","alg":"HS256"}` encoded: it names
/// no critical extension, so a token carrying it need not be looked at again.
static ISSUED_HEADER: LazyLock<Option<String>> = LazyLock::new(|| {
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &(), &EncodingKey::from_secret(b"any")).ok()?;
    token.split('.').next().map(str::to_owned)
});

/// RFC 7515 §4.1.11: a token whose header lists critical extensions must be refused unless each is
/// understood; this verifier understands none (and an empty list is itself invalid). jsonwebtoken reads
/// `crit` but does not check it.
fn refuse_critical_extensions(token: &str) -> Result<(), TokenError> {
    let header_segment = token.split('.').next().unwrap_or_default();
    if ISSUED_HEADER.as_deref() == Some(header_segment) {
        return Ok(());
    }
    match jsonwebtoken::decode_header(token)?.crit {
        Some(_) => Err(TokenError::CriticalExtension),
        None => Ok(()),
    }
}
