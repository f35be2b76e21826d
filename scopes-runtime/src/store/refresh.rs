//! Refresh tokens as a store keeps them: what the token endpoint hands a store, and what a use of one
//! comes to. The store holds SHA-256 hashes, never a token: of its family's id, and of its current token.
//!
//! A refresh token is 32 random bytes, base64url: the first 16 are its family's id, shared by every token
//! rotated from one login, so a token that is not its family's current one still names the family, whose
//! revocation it then triggers (a replay), and a store keeps one row per family however often it rotates.

use std::time::Duration;

/// A refresh token for a store to add, by its hash: the first of a new family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// The SHA-256 of the token, hex.
    pub hash: String,
    /// Its family's key: the SHA-256 of the family's id, hex. Every token rotated from one login shares it,
    /// and the access tokens issued from the family carry it as `sid`.
    pub family: String,
    /// Whose it is.
    pub username: String,
    /// The scopes granted at login.
    pub scopes: Vec<String>,
    /// When it stops being accepted, in Unix seconds.
    pub expires_at: u64,
    /// When its family does, whatever the rotations: no token of it outlives this.
    pub family_expires_at: u64,
    /// The thumbprint of the DPoP key the family is bound to (RFC 9449 §5), when the login carried a
    /// proof: then it is refreshed only with a proof by that key.
    pub dpop_jkt: Option<String>,
}

/// A refresh token as presented, by its hashes: what a store finds its family and current token by. The
/// token endpoint makes it from the token; a store receives it.
///
/// ```
/// use scopes_runtime::store::PresentedRefreshToken;
/// let presented = PresentedRefreshToken { hash: "9f86d0...".into(), family: "2c26b4...".into() };
/// assert_ne!(presented.hash, presented.family);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedRefreshToken {
    /// The SHA-256 of the whole token, hex.
    pub hash: String,
    /// The key of the family it names (see [`NewRefreshToken::family`]).
    pub family: String,
}

/// A current refresh token's grant: its family, whose it is and the scopes granted at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    /// Its family's key.
    pub family: String,
    /// Whose it is.
    pub username: String,
    /// The scopes granted at login.
    pub scopes: Vec<String>,
    /// The thumbprint of the DPoP key the family is bound to, if it is.
    pub dpop_jkt: Option<String>,
}

/// What presenting a refresh token came to, in one step the store makes atomic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// It was current: it is used now, and its replacement is stored in its family, with its user and
    /// scopes (those [`AccountStore::find_refresh_token`](crate::store::RefreshTokenStore::find_refresh_token) read).
    Rotated,
    /// It is a token of its family that is not the current one (used already): someone replayed it, so
    /// the whole family is revoked now.
    Reused {
        /// Whose family it was.
        username: String,
    },
    /// It is current, but its family has rotated as often as the policy allows this minute: it stays
    /// current, and may be used again shortly.
    Throttled,
    /// It is unknown, expired or revoked.
    Invalid,
}

/// How long refresh tokens live, and how many a user and a family may have.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::store::RefreshPolicy;
/// let policy = RefreshPolicy { lifetime: Duration::from_secs(24 * 3600), ..RefreshPolicy::default() };
/// assert!(policy.family_lifetime > policy.lifetime);
/// assert_eq!(policy.families_per_user, 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// How long one refresh token is accepted: unused for this long, the login is over.
    pub lifetime: Duration,
    /// How long a family lasts from its login, however often it is rotated: then the user logs in again.
    pub family_lifetime: Duration,
    /// Live families (logins with a refresh token) a user may hold at once: a new login beyond it revokes
    /// the user's oldest, which logs that session out at its next refresh.
    pub families_per_user: u32,
    /// Rotations a family may make in one minute; a refresh beyond it is answered 429 and its token stays
    /// current.
    pub rotations_per_minute: u32,
}

impl Default for RefreshPolicy {
    /// Fourteen days per token, ninety per login; twenty logins per user; ten rotations a minute.
    fn default() -> Self {
        RefreshPolicy {
            lifetime: Duration::from_secs(14 * 24 * 3600),
            family_lifetime: Duration::from_secs(90 * 24 * 3600),
            families_per_user: 20,
            rotations_per_minute: 10,
        }
    }
}
