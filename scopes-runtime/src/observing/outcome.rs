//! The closed vocabulary of decisions: [`Outcome`] (a metric's `outcome` label, an event's `reason`) and, for
//! a token that failed verification, [`InvalidToken`].

/// What became of a request at a guard: granted, or refused for one reason of a closed list.
///
/// [`label`](Self::label) is the value of the `outcome` label of `scopes_authz_decisions_total`;
/// [`reason`](Self::reason), the `reason` field of the `scopes::authz` event, names a token's failure too.
///
/// ```
/// use scopes_runtime::observing::{InvalidToken, Outcome};
/// let expired = Outcome::InvalidToken(InvalidToken::Expired);
/// assert_eq!(expired.label(), "invalid_token");
/// assert_eq!(expired.reason(), "invalid_token:expired");
/// assert!(Outcome::Granted.is_granted());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Every requirement was met (and the rule passed, if one was named).
    Granted,
    /// No bearer token: no `Authorization` header, or one of another scheme.
    MissingToken,
    /// An `Authorization` header that is not a well-formed bearer token.
    Malformed,
    /// A DPoP proof that is missing, malformed, fails a check, names another key than the token's, or was
    /// used before.
    InvalidProof,
    /// The token failed verification, or named no principal the app knows.
    InvalidToken(InvalidToken),
    /// The token is valid but lacks a scope the route requires.
    InsufficientScope,
    /// The token does not show the authentication the route asks (`acr`, `max_age`; RFC 9470).
    InsufficientAuthentication,
    /// A resource rule refused the principal.
    RuleRefused,
    /// The resource the request names does not exist.
    NotFound,
    /// The principal is disabled.
    Inactive,
    /// The token could not be checked now (a provider's keys are not in hand, a store is down): 503.
    Unavailable,
    /// An app's principal or guard refused with a refusal of its own ([`AuthError::Rejected`](crate::AuthError::Rejected)
    /// and the like).
    Refused,
    /// The check itself failed (an internal error).
    Error,
}

/// Why a token was refused as invalid: the `<why>` of the `invalid_token:<why>` reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidToken {
    /// `exp` is past.
    Expired,
    /// `nbf` is ahead.
    NotYetValid,
    /// The signature does not match.
    BadSignature,
    /// The header names an algorithm the key does not take.
    WrongAlgorithm,
    /// No key of the set has the token's `kid`.
    UnknownKey,
    /// The header lists critical extensions.
    CriticalExtension,
    /// The token's issuer is not trusted.
    UntrustedIssuer,
    /// A claim is missing or wrong: `aud`, `iss`, `typ`, a required one, or of the wrong type.
    InvalidClaims,
    /// Not a JWT.
    Malformed,
    /// Revoked, by its `jti` or its refresh-token family.
    Revoked,
    /// Not active, as its issuer's introspection endpoint answered (revoked, expired, or unknown there).
    Inactive,
    /// Verified, but the app's [`Principal`](crate::Principal) knows no one by its subject.
    UnknownPrincipal,
    /// Presented other than its binding says: a DPoP-bound token as `Bearer`, a token without a binding under
    /// the `DPoP` scheme (or as `Bearer` where DPoP is required), or one bound some way this API cannot check.
    Binding,
}

impl Outcome {
    /// How many outcomes a metric label tells apart.
    pub(crate) const COUNT: usize = 13;

    /// The outcome's place among the [`COUNT`](Self::COUNT) labels.
    pub(crate) const fn index(self) -> usize {
        match self {
            Outcome::Granted => 0,
            Outcome::MissingToken => 1,
            Outcome::Malformed => 2,
            Outcome::InvalidToken(_) => 3,
            Outcome::InsufficientScope => 4,
            Outcome::RuleRefused => 5,
            Outcome::NotFound => 6,
            Outcome::Inactive => 7,
            Outcome::Unavailable => 8,
            Outcome::Refused => 9,
            Outcome::Error => 10,
            Outcome::InvalidProof => 11,
            Outcome::InsufficientAuthentication => 12,
        }
    }

    /// The metric label: the outcome without a token's `<why>`.
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::MissingToken => "missing_token",
            Outcome::Malformed => "malformed",
            Outcome::InvalidToken(_) => "invalid_token",
            Outcome::InsufficientScope => "insufficient_scope",
            Outcome::RuleRefused => "rule_refused",
            Outcome::NotFound => "not_found",
            Outcome::Inactive => "inactive",
            Outcome::Unavailable => "unavailable",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::InvalidProof => "invalid_dpop_proof",
            Outcome::InsufficientAuthentication => "insufficient_user_authentication",
        }
    }

    /// The event's `reason`: the label, and for an invalid token `invalid_token:<why>`.
    pub const fn reason(self) -> &'static str {
        match self {
            Outcome::InvalidToken(why) => match why {
                InvalidToken::Expired => "invalid_token:expired",
                InvalidToken::NotYetValid => "invalid_token:not_yet_valid",
                InvalidToken::BadSignature => "invalid_token:bad_signature",
                InvalidToken::WrongAlgorithm => "invalid_token:wrong_algorithm",
                InvalidToken::UnknownKey => "invalid_token:unknown_key",
                InvalidToken::CriticalExtension => "invalid_token:critical_extension",
                InvalidToken::UntrustedIssuer => "invalid_token:untrusted_issuer",
                InvalidToken::InvalidClaims => "invalid_token:invalid_claims",
                InvalidToken::Malformed => "invalid_token:malformed",
                InvalidToken::Revoked => "invalid_token:revoked",
                InvalidToken::Inactive => "invalid_token:inactive",
                InvalidToken::UnknownPrincipal => "invalid_token:unknown_principal",
                InvalidToken::Binding => "invalid_token:binding",
            },
            other => other.label(),
        }
    }

    /// Whether the request was let through.
    pub const fn is_granted(self) -> bool {
        matches!(self, Outcome::Granted)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason())
    }
}
