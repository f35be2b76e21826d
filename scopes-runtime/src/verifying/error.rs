//! Why a token failed verification ([`TokenError`]), and how jsonwebtoken's reasons map to it.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;

use crate::observing::{InvalidToken, Outcome};

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
    /// A registered claim is missing or of the wrong type, or the claims do not fit [`Claims`](super::Claims).
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// Not a JWT: wrong segment count, bad base64, non-JSON header or payload.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The issuer's introspection endpoint says the token is not active (RFC 7662 §2.2): revoked, expired,
    /// or never issued.
    #[error("the token is not active")]
    Inactive,
    /// The issuer's introspection endpoint cannot be reached (or answers with an error): the token may be
    /// good, but cannot be checked before `retry_after`. Answered 503, not 401.
    #[error("the identity provider cannot check tokens now")]
    ProviderUnavailable {
        /// When to try again.
        retry_after: Duration,
    },
    /// The token verifies, but was revoked (by its `jti`), or issued from a refresh-token family that
    /// was (by its `sid`): a logout, a replayed refresh token, a password change.
    #[error("the token was revoked")]
    Revoked,
}

impl TokenError {
    /// The decision a refusal for this reason records: an invalid token, and why; or, when the keys to
    /// check it are not in hand, unavailable.
    ///
    /// ```
    /// use scopes_runtime::TokenError;
    /// use scopes_runtime::observing::{InvalidToken, Outcome};
    /// assert_eq!(TokenError::Expired.outcome(), Outcome::InvalidToken(InvalidToken::Expired));
    /// ```
    pub fn outcome(&self) -> Outcome {
        let why = match self {
            TokenError::Expired => InvalidToken::Expired,
            TokenError::NotYetValid => InvalidToken::NotYetValid,
            TokenError::BadSignature => InvalidToken::BadSignature,
            TokenError::WrongAlgorithm => InvalidToken::WrongAlgorithm,
            TokenError::UnknownKey => InvalidToken::UnknownKey,
            TokenError::CriticalExtension => InvalidToken::CriticalExtension,
            TokenError::UntrustedIssuer => InvalidToken::UntrustedIssuer,
            TokenError::KeysUnavailable { .. } | TokenError::ProviderUnavailable { .. } => return Outcome::Unavailable,
            TokenError::Inactive => InvalidToken::Inactive,
            TokenError::InvalidClaims(_) => InvalidToken::InvalidClaims,
            TokenError::Malformed(_) => InvalidToken::Malformed,
            TokenError::Revoked => InvalidToken::Revoked,
        };
        Outcome::InvalidToken(why)
    }
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

impl From<crate::keys::Unselected> for TokenError {
    fn from(unselected: crate::keys::Unselected) -> Self {
        match unselected {
            crate::keys::Unselected::UnknownKey => TokenError::UnknownKey,
            crate::keys::Unselected::WrongAlgorithm => TokenError::WrongAlgorithm,
        }
    }
}
