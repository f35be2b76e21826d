//! The one interface every kind of key verifies through: a shared secret ([`SharedSecret`](super::shared_secret::SharedSecret)),
//! a key set in hand ([`StaticKeys`](super::static_keys::StaticKeys)), and providers' fetched key sets
//! ([`ProviderKeys`](super::providers::ProviderKeys)); with the policy they all apply and why a token fails.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};

use super::claims::ClaimFormat;
use super::keys::VerifyingKey;
use crate::{Claims, ScopeClaim};

/// Why a token failed verification. All of them answer 401 to the client; the kind is for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `exp` is in the past.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not valid yet")]
    NotYetValid,
    /// The signature does not match the key.
    #[error("signature does not match")]
    BadSignature,
    /// The header names an algorithm other than the key's (HS256 for a secret, a key set's pinned one).
    #[error("algorithm not accepted")]
    WrongAlgorithm,
    /// The header's `kid` names no key of the set (or names none, and the set has several).
    #[error("no key of the set verifies this token")]
    UnknownKey,
    /// The header lists critical extensions (`crit`), none of which this verifier understands.
    #[error("the header names critical extensions")]
    CriticalExtension,
    /// The token's `iss` names no trusted provider (or it has none); nothing was fetched for it.
    #[error("the issuer is not trusted")]
    UntrustedIssuer,
    /// The provider's keys have not been fetched yet (it has been unreachable since start-up): the token
    /// may be good, but cannot be checked before `retry_after`. Answered 503, not 401.
    #[error("the identity provider's keys are not available yet")]
    KeysUnavailable {
        /// When a fetch may next be tried.
        retry_after: Duration,
    },
    /// A registered claim is missing or of the wrong type, or the claims do not fit [`Claims`].
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// Not a JWT: wrong segment count, bad base64, non-JSON header or payload.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token verifies, but was revoked (by its `jti`), or issued from a refresh-token family that
    /// was (by its `sid`): a logout, a replayed refresh token, a password change.
    #[error("the token was revoked")]
    Revoked,
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidAudience
            | ErrorKind::InvalidIssuer
            | ErrorKind::InvalidSubject
            | ErrorKind::InvalidClaimFormat(_) => TokenError::InvalidClaims(error.to_string()),
            // Well-formed JSON of the wrong shape (a missing `sub`, a string `scopes`) is a claims problem.
            ErrorKind::Json(json) if json.classify() == serde_json::error::Category::Data => {
                TokenError::InvalidClaims(error.to_string())
            }
            _ => TokenError::Malformed(error.to_string()),
        }
    }
}

/// What every token is held to, whatever verifies it.
#[derive(Clone)]
pub(crate) struct Policy {
    /// Algorithms, `exp`, `nbf`, leeway, `iss` and `aud`.
    pub(crate) validation: Validation,
    /// The header `typ` tokens from a key set or provider must carry, when one is required.
    pub(crate) token_type: Option<String>,
    /// How tokens signed with a shared secret write their scopes.
    pub(crate) claim_format: ClaimFormat,
}

/// A verification done at once, or one that may wait for a provider's keys.
pub(crate) enum Verifying<'a> {
    Done(Result<Claims, TokenError>),
    Fetching(Pin<Box<dyn Future<Output = Result<Claims, TokenError>> + Send + 'a>>),
}

/// Checks tokens against one kind of key.
pub(crate) trait Verifier {
    /// Checks `token` under `policy` with the keys in hand; never waits.
    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError>;

    /// Checks `token` under `policy`, or starts a check that may wait for keys (boxed, so the future of
    /// every guard holds one pointer for it). At once unless the keys are fetched.
    fn start_verifying<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        Verifying::Done(self.verify_now(token, policy))
    }

    /// Takes `base` as the policy of the copies the verifier keeps per algorithm (or per issuer).
    fn adopt(&mut self, base: &Validation) {
        let _ = base;
    }
}

/// The header of a token from a key set or provider, once `crit` and the required `typ` are checked.
pub(crate) fn checked_header(token: &str, policy: &Policy) -> Result<Header, TokenError> {
    let header = jsonwebtoken::decode_header(token)?;
    if header.crit.is_some() {
        return Err(TokenError::CriticalExtension);
    }
    if let Some(required) = &policy.token_type {
        let typ = header.typ.as_deref().unwrap_or_default();
        let typ = typ.get(..12).filter(|p| p.eq_ignore_ascii_case("application/")).map_or(typ, |_| &typ[12..]);
        if !typ.eq_ignore_ascii_case(required) {
            return Err(TokenError::InvalidClaims(format!("the header's `typ` is not `{required}`")));
        }
    }
    Ok(header)
}

/// `base` once per algorithm of `algorithms` (jsonwebtoken checks one family of algorithms at a time),
/// each requiring `issuer` as `iss` when one is given.
pub(crate) fn policy_copies(base: &Validation, copies: &mut [Validation], issuer: Option<&str>) {
    for copy in copies {
        *copy = Validation { algorithms: std::mem::take(&mut copy.algorithms), ..base.clone() };
        if let Some(issuer) = issuer {
            copy.set_issuer(&[issuer]);
            copy.required_spec_claims.insert("iss".into());
        }
    }
}

/// Verifies `token` with `key`, under the copy of the policy for that key's algorithm, reading the scopes
/// from `scope_claim`.
pub(crate) fn verify_with_key(
    token: &str,
    key: &VerifyingKey,
    by_algorithm: &[Validation],
    scope_claim: &ScopeClaim,
) -> Result<Claims, TokenError> {
    let policy = by_algorithm.iter().find(|policy| policy.algorithms == [key.algorithm]);
    let policy = policy.ok_or(TokenError::WrongAlgorithm)?;
    let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, policy)?.claims;
    let scopes = scope_claim.read(&claims)?;
    let serde_json::Value::Object(mut extra) = claims else {
        return Err(TokenError::InvalidClaims("the claims are not a JSON object".into()));
    };
    let sub = match extra.remove("sub") {
        Some(serde_json::Value::String(sub)) => sub,
        _ => return Err(TokenError::InvalidClaims("`sub` is missing or not a string".into())),
    };
    // NumericDate may be fractional (RFC 7519 §2); jsonwebtoken has already checked both.
    let mut seconds =
        |name: &str| extra.remove(name).as_ref().and_then(serde_json::Value::as_f64).map(|t| t.max(0.0) as u64);
    let exp = seconds("exp").ok_or_else(|| TokenError::InvalidClaims("`exp` is missing".into()))?;
    let nbf = seconds("nbf");
    // `scopes` is the field's own name; the claim read is in `scopes` already.
    extra.remove("scopes");
    if let Some(name) = scope_claim.top_level_name() {
        extra.remove(name);
    }
    Ok(Claims { sub, scopes, exp, nbf, extra })
}
