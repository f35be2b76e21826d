//! What an issuer keeps: accounts, where the token endpoint finds a user's password hash and allowed scopes
//! and an app's [`Principal`](crate::Principal) loads the user a token names; and, in a [`SqlStore`], the
//! signing keys every replica signs and verifies with.
//!
//! [`AccountStore`] is what both need; every call returns `Result`, so an outage is an error (answered
//! 503, never "Incorrect username or password", and never counted as a failed login), not a missing user.
//! [`MemoryStore`] keeps accounts in memory (tests, examples); [`SqlStore`] (feature `sql`) in SQLite or
//! PostgreSQL, with one schema whose migrations are embedded in the binary.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

mod memory;
mod refresh;
#[cfg(feature = "sql")]
mod sql;

pub use memory::MemoryStore;
pub use refresh::{NewRefreshToken, PresentedRefreshToken, RefreshGrant, RefreshOutcome, RefreshPolicy};

pub use crate::reloading::StoreError;
pub use crate::verifying::Revoked;
#[cfg(feature = "sql")]
pub use sql::{Migrated, SqlOptions, SqlPool, SqlStore};

use crate::answering::error::AuthError;
use crate::verifying::Revocations;

/// A user as a store keeps it. Its `Debug` leaves the hash out.
///
/// ```
/// use scopes_runtime::Account;
/// let account = Account::new("johndoe", "$2b$12$...").with_scopes(["me", "items"]);
/// assert!(!format!("{account:?}").contains("$2b$"));
/// assert_eq!(account.allowed_scopes, ["me", "items"]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The login name, and the token's `sub`.
    pub username: String,
    /// The password hash: Argon2id (`$argon2id$...`) or bcrypt (`$2b$...`).
    pub password_hash: String,
    /// The scopes this user may be granted, and (through the registry's hierarchy) every scope they imply;
    /// a request for others is granted without them. Sorted, each once, in what a store returns.
    pub allowed_scopes: Vec<String>,
    /// A disabled user may still log in (as in FastAPI's tutorial); the app's guards refuse them.
    pub disabled: bool,
    /// The user's full name, if known.
    pub full_name: Option<String>,
    /// The user's e-mail address, if known.
    pub email: Option<String>,
    /// When the account was made, in Unix seconds (0 when unknown): a token issued before it was issued to
    /// an earlier account of the same name, and [`admits`](Self::admits) refuses it.
    pub created_at: u64,
}

impl Account {
    /// An enabled account with no scopes and no profile.
    pub fn new(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        Account {
            username: username.into(),
            password_hash: password_hash.into(),
            allowed_scopes: Vec::new(),
            disabled: false,
            full_name: None,
            email: None,
            created_at: 0,
        }
    }

    /// Whether a verified token for this account is still good as the account is now: refused
    /// ([`AuthError::invalid_token`]) when its `iat` is before the account was made (the name was removed
    /// and given to someone else since). A token without `iat` (the seed's) cannot say, and passes.
    ///
    /// ```
    /// use scopes_runtime::{Account, Claims};
    /// let account = Account { created_at: 1_000, ..Account::new("x", "$argon2id$...") };
    /// let mut claims = Claims::new("x", ["me"], 5_000);
    /// claims.extra.insert("iat".into(), 999.into());
    /// assert!(account.admits(&claims).is_err());
    /// claims.extra.insert("iat".into(), 1_000.into());
    /// assert!(account.admits(&claims).is_ok());
    /// ```
    pub fn admits(&self, claims: &crate::verifying::Claims) -> Result<(), AuthError> {
        let issued_at = claims.extra.get("iat").and_then(serde_json::Value::as_f64);
        match issued_at {
            Some(issued_at) if issued_at < self.created_at as f64 => {
                tracing::debug!(sub = %claims.sub, "a token issued before its account was made is refused");
                Err(AuthError::invalid_token())
            }
            _ => Ok(()),
        }
    }

    /// The same account, allowed `scopes`.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.allowed_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("allowed_scopes", &self.allowed_scopes)
            .field("disabled", &self.disabled)
            .field("full_name", &self.full_name)
            .field("email", &self.email)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl From<StoreError> for AuthError {
    /// An outage is 503 with `Retry-After`; anything else an internal error. Both are logged.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => {
                tracing::error!(%error, "answering 503");
                AuthError::ServiceUnavailable { retry_after: STORE_RETRY_AFTER }
            }
            error => AuthError::Internal(error.to_string()),
        }
    }
}

/// How long a client is told to wait when the account store is unavailable.
pub(crate) const STORE_RETRY_AFTER: Duration = Duration::from_secs(5);

// Beside the store, so that the revocations (in a room below it) do not know there is one.
impl Revocations {
    /// What `store` revokes, as [`load`](Self::load) loads it.
    pub async fn from_store<S>(store: S, token_lifetime: Duration, reload_every: Duration) -> Result<Self, StoreError>
    where
        S: RefreshTokenStore + Clone + 'static,
    {
        Self::load(
            move |since| {
                let store = store.clone();
                async move { store.revocations(crate::keys::clock::unix_now(), since).await }
            },
            token_lifetime,
            reload_every,
        )
        .await
    }
}

/// Where accounts are kept: what the token endpoint and principals need of them.
///
/// ```
/// use scopes_runtime::{Account, AccountStore, store::MemoryStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = MemoryStore::new([Account::new("johndoe", "$2b$12$...").with_scopes(["me"])]);
/// let johndoe = store.find("johndoe").await.unwrap().unwrap();
/// assert_eq!(johndoe.allowed_scopes, ["me"]);
/// assert!(store.find("nobody").await.unwrap().is_none());
/// # }
/// ```
pub trait AccountStore: Send + Sync {
    /// The account named `username`; `Ok(None)` when there is none, `Err` when the store cannot answer.
    /// Shared rather than owned: a store that keeps accounts in memory hands out a reference count, not a
    /// copy of every scope, on each request that loads a principal.
    fn find(&self, username: &str) -> impl Future<Output = Result<Option<Arc<Account>>, StoreError>> + Send;

    /// Replaces `username`'s password hash `current` with `new`, and says whether it did: not when the hash
    /// changed meanwhile (a password set since), which is kept. The token endpoint calls it after a
    /// successful login with an outdated hash.
    fn replace_password_hash(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The refresh tokens it keeps, if any: then a login's answer carries one, and the refresh-token grant,
    /// revocation and the [`Revocations`] it lists are served. `None`, the default: the token endpoint
    /// issues no refresh tokens. A store that keeps them answers `Some(self)` (see [`RefreshTokenStore`]).
    fn refresh_tokens(&self) -> Option<&impl RefreshTokenStore> {
        None::<&NoRefreshTokens>
    }
}

/// Where refresh tokens, their families and revoked access tokens are kept, for every replica to see: what
/// an [`AccountStore`] that keeps refresh tokens hands out from
/// [`refresh_tokens`](AccountStore::refresh_tokens). [`SqlStore`] is one.
///
/// ```
/// use std::sync::Arc;
/// use scopes_runtime::{Account, AccountStore, store::StoreError};
/// use scopes_runtime::store::RefreshTokenStore;
///
/// /// A store that keeps accounts only: the token endpoint issues it no refresh tokens.
/// struct Accounts;
/// impl AccountStore for Accounts {
///     async fn find(&self, _: &str) -> Result<Option<Arc<Account>>, StoreError> { Ok(None) }
///     async fn replace_password_hash(&self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> { Ok(false) }
/// }
/// assert!(Accounts.refresh_tokens().is_none());
/// ```
pub trait RefreshTokenStore: Send + Sync {
    /// Adds `token`, the first of a new family (a login), and revokes the user's oldest live families
    /// beyond [`RefreshPolicy::families_per_user`].
    fn add_refresh_token(
        &self,
        token: &NewRefreshToken,
        policy: &RefreshPolicy,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The grant of the refresh token whose hash is `hash`, if it is current (its family's current token,
    /// neither expired at `now`, Unix seconds, nor revoked): read before
    /// [`rotate_refresh_token`](Self::rotate_refresh_token), so that a request for more scopes, or a
    /// disabled user, is refused before the token is used up.
    fn find_refresh_token(
        &self,
        hash: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<RefreshGrant>, StoreError>> + Send;

    /// Uses the `presented` refresh token, in one atomic step that no revocation of its family can
    /// interleave with: when it is its family's current token, replaces it with `replacement_hash`
    /// (expiring after the policy's lifetime or with its family, whichever is first), unless the family
    /// has rotated [`rotations_per_minute`](RefreshPolicy::rotations_per_minute) times this minute
    /// ([`RefreshOutcome::Throttled`]); when it is another token of its family, revokes the family. Of
    /// two uses at once, one rotates and the other is a reuse.
    fn rotate_refresh_token(
        &self,
        presented: &PresentedRefreshToken,
        replacement_hash: &str,
        now: u64,
        policy: &RefreshPolicy,
    ) -> impl Future<Output = Result<RefreshOutcome, StoreError>> + Send;

    /// Revokes the family of the `presented` refresh token (current or not), and says whether there was a
    /// live one. Atomic with respect to rotations: once it returns, no token of the family is current.
    fn revoke_refresh_family(
        &self,
        presented: &PresentedRefreshToken,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Remembers that the access token whose `jti` is `jti` is revoked, until it expires at `expires_at`
    /// (Unix seconds), for every replica to refuse it ([`Revocations`]).
    fn revoke_access_token(&self, jti: &str, expires_at: u64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What is revoked as of `now`: the `jti` of every revoked access token not yet expired, and the key of
    /// every refresh-token family revoked at or after `families_since` (the access tokens issued from it
    /// name it as their `sid`).
    fn revocations(&self, now: u64, families_since: u64) -> impl Future<Output = Result<Revoked, StoreError>> + Send;
}

/// What a store that keeps no refresh tokens hands out: nothing, ever (it has no value).
enum NoRefreshTokens {}

impl RefreshTokenStore for NoRefreshTokens {
    async fn add_refresh_token(&self, _: &NewRefreshToken, _: &RefreshPolicy) -> Result<(), StoreError> {
        match *self {}
    }

    async fn find_refresh_token(&self, _: &str, _: u64) -> Result<Option<RefreshGrant>, StoreError> {
        match *self {}
    }

    async fn rotate_refresh_token(
        &self,
        _: &PresentedRefreshToken,
        _: &str,
        _: u64,
        _: &RefreshPolicy,
    ) -> Result<RefreshOutcome, StoreError> {
        match *self {}
    }

    async fn revoke_refresh_family(&self, _: &PresentedRefreshToken, _: u64) -> Result<bool, StoreError> {
        match *self {}
    }

    async fn revoke_access_token(&self, _: &str, _: u64) -> Result<(), StoreError> {
        match *self {}
    }

    async fn revocations(&self, _: u64, _: u64) -> Result<Revoked, StoreError> {
        match *self {}
    }
}
