//! Refresh tokens as a store keeps them: what the token endpoint hands a store, and what a use of one
//! comes to. The store holds the SHA-256 of each opaque token, never the token.

use std::time::Duration;

/// A refresh token for a store to add, by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// The SHA-256 of the token, hex.
    pub hash: String,
    /// Its family: every token rotated from one login shares it.
    pub family: String,
    /// Whose it is.
    pub username: String,
    /// The scopes granted at login.
    pub scopes: Vec<String>,
    /// When it stops being accepted, in Unix seconds.
    pub expires_at: u64,
    /// When its family does, whatever the rotations: no token of it outlives this.
    pub family_expires_at: u64,
}

/// A current refresh token's grant: whose it is and the scopes granted at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    /// Whose it is.
    pub username: String,
    /// The scopes granted at login.
    pub scopes: Vec<String>,
}

/// What presenting a refresh token came to, in one step the store makes atomic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// It was current: it is used now, and its replacement is stored in its family, with its user and
    /// scopes (those [`AccountStore::find_refresh_token`](crate::AccountStore::find_refresh_token) read).
    Rotated,
    /// It was used already: someone replayed it, so its whole family is revoked now.
    Reused,
    /// It is unknown, expired or revoked.
    Invalid,
}

/// How long refresh tokens live.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::RefreshPolicy;
/// let policy = RefreshPolicy { lifetime: Duration::from_secs(24 * 3600), ..RefreshPolicy::default() };
/// assert!(policy.family_lifetime > policy.lifetime);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// How long one refresh token is accepted: unused for this long, the login is over.
    pub lifetime: Duration,
    /// How long a family lasts from its login, however often it is rotated: then the user logs in again.
    pub family_lifetime: Duration,
}

impl Default for RefreshPolicy {
    /// Fourteen days per token, ninety per login.
    fn default() -> Self {
        RefreshPolicy {
            lifetime: Duration::from_secs(14 * 24 * 3600),
            family_lifetime: Duration::from_secs(90 * 24 * 3600),
        }
    }
}
