//! Verifying with one shared secret (HS256, the seed's, or HS384/HS512), which also signs.

use std::sync::LazyLock;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

use super::claims::{Claims, ReceivedClaims};
use super::error::TokenError;
use super::policy::Policy;
use super::scope_claim::ScopeClaim;
use super::verifier::{Verifier, Verifying};

/// An HMAC secret's verifying half, and its algorithm.
pub(crate) struct SharedSecret {
    decoding: DecodingKey,
    algorithm: Algorithm,
}

impl SharedSecret {
    pub(crate) fn new(secret: &[u8], algorithm: Algorithm) -> Self {
        SharedSecret { decoding: DecodingKey::from_secret(secret), algorithm }
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("SharedSecret").field("algorithm", &self.algorithm).finish()
    }
}

impl Verifier for SharedSecret {
    fn kind(&self) -> &'static str {
        "shared_secret"
    }

    /// The secret never changes.
    fn key_epoch(&self) -> Option<u64> {
        Some(0)
    }

    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        Verifying::ready(self.verify_now(token, policy))
    }

    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        refuse_critical_extensions(token)?;
        let validation = policy.validation(self.algorithm);
        // The seed's `scopes` list is read as the claims stream by; any other claim from what is left.
        let mut wire = jsonwebtoken::decode::<ReceivedClaims>(token, &self.decoding, validation)?.claims;
        let scopes = match policy.scope_claim() {
            ScopeClaim::Scopes => wire.scopes.unwrap_or_default(),
            ScopeClaim::Scope => match wire.extra.remove("scope") {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::String(scope)) => {
                    scope.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
                }
                Some(_) => return Err(TokenError::InvalidClaims("`scope` is not a string".into())),
            },
            other => {
                let extra = serde_json::Value::Object(std::mem::take(&mut wire.extra));
                let scopes = other.read(&extra)?;
                if let serde_json::Value::Object(extra) = extra {
                    wire.extra = extra;
                }
                if let Some(name) = other.top_level_name() {
                    wire.extra.remove(name);
                }
                scopes
            }
        };
        let claims = Claims { sub: wire.sub, scopes, exp: wire.exp, nbf: wire.nbf, extra: wire.extra };
        policy.check_required(&claims)?;
        Ok(claims)
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
    // Compared in place (the issued header, then its `.`), not split out: every token comes through here.
    if let Some(issued) = ISSUED_HEADER.as_deref()
        && token.as_bytes().strip_prefix(issued.as_bytes()).is_some_and(|rest| rest.first() == Some(&b'.'))
    {
        return Ok(());
    }
    match jsonwebtoken::decode_header(token)?.crit {
        Some(_) => Err(TokenError::CriticalExtension),
        None => Ok(()),
    }
}
