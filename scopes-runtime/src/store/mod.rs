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
pub use refresh::{NewRefreshToken, PresentedRefreshToken, RefreshGrant, RefreshOutcome, RefreshPolicy, Revoked};
#[cfg(feature = "sql")]
pub use sql::{Migrated, SqlOptions, SqlStore};

use crate::AuthError;

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
    pub fn admits(&self, claims: &crate::Claims) -> Result<(), AuthError> {
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

/// Why a store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer (the database is down, or slower than the timeouts allow). Answered 503.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// No account has this name.
    #[error("no user named `{0}`")]
    UnknownUser(String),
    /// An account already has this name.
    #[error("a user named `{0}` already exists")]
    DuplicateUser(String),
    /// The store's configuration or contents are wrong (a malformed URL, a failed migration).
    #[error("{0}")]
    Invalid(String),
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

/// Runs `reload` on what `shared` points to every `every`, for as long as something else holds it; a failed
/// reload is logged, naming `what`, and what is in hand is kept. How the key ring and the revocations stay
/// as fresh as the store.
pub(crate) async fn reload_while_held<T, R>(shared: std::sync::Weak<T>, every: Duration, what: &str, reload: R)
where
    R: AsyncFn(Arc<T>) -> Result<(), StoreError>,
{
    loop {
        tokio::time::sleep(every).await;
        let Some(shared) = shared.upgrade() else { return };
        if let Err(error) = reload(shared).await {
            tracing::warn!(%error, "reloading {what} failed; keeping those in hand");
        }
    }
}

/// How long a client is told to wait when the account store is unavailable.
pub(crate) const STORE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Where accounts are kept: what the token endpoint and principals need of them.
///
/// ```
/// use scopes_runtime::{Account, AccountStore, MemoryStore};
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

    /// Whether it keeps refresh tokens: then a login's answer carries one, and the refresh-token grant and
    /// revocation are served. The methods below are asked only of a store that says so; by default it
    /// does not, and they fail.
    fn keeps_refresh_tokens(&self) -> bool {
        false
    }

    /// Adds `token`, the first of a new family (a login), and revokes the user's oldest live families
    /// beyond [`RefreshPolicy::families_per_user`].
    fn add_refresh_token(
        &self,
        token: &NewRefreshToken,
        policy: &RefreshPolicy,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (token, policy);
        std::future::ready(Err(no_refresh_tokens()))
    }

    /// The grant of the refresh token whose hash is `hash`, if it is current (its family's current token,
    /// neither expired at `now`, Unix seconds, nor revoked): read before
    /// [`rotate_refresh_token`](Self::rotate_refresh_token), so that a request for more scopes, or a
    /// disabled user, is refused before the token is used up.
    fn find_refresh_token(
        &self,
        hash: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<RefreshGrant>, StoreError>> + Send {
        let _ = (hash, now);
        std::future::ready(Err(no_refresh_tokens()))
    }

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
    ) -> impl Future<Output = Result<RefreshOutcome, StoreError>> + Send {
        let _ = (presented, replacement_hash, now, policy);
        std::future::ready(Err(no_refresh_tokens()))
    }

    /// Revokes the family of the `presented` refresh token (current or not), and says whether there was a
    /// live one. Atomic with respect to rotations: once it returns, no token of the family is current.
    fn revoke_refresh_family(
        &self,
        presented: &PresentedRefreshToken,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (presented, now);
        std::future::ready(Err(no_refresh_tokens()))
    }

    /// Remembers that the access token whose `jti` is `jti` is revoked, until it expires at `expires_at`
    /// (Unix seconds), for every replica to refuse it ([`Revocations`](crate::Revocations)).
    fn revoke_access_token(&self, jti: &str, expires_at: u64) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (jti, expires_at);
        std::future::ready(Err(no_refresh_tokens()))
    }

    /// What is revoked as of `now`: the `jti` of every revoked access token not yet expired, and the key of
    /// every refresh-token family revoked at or after `families_since` (the access tokens issued from it
    /// name it as their `sid`). A store that keeps no refresh tokens has none.
    fn revocations(&self, now: u64, families_since: u64) -> impl Future<Output = Result<Revoked, StoreError>> + Send {
        let _ = (now, families_since);
        std::future::ready(Ok(Revoked::default()))
    }
}

fn no_refresh_tokens() -> StoreError {
    StoreError::Invalid("this store keeps no refresh tokens".into())
}
