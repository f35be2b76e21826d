//! Accounts, signing keys ([`signing_keys`]) and refresh tokens ([`refresh_tokens`]) in SQLite (embedded:
//! a file, created on first use) or PostgreSQL (several instances sharing them), through sqlx, with one
//! schema (`migrations/`, embedded in the binary).
//!
//! Every operation is bounded in time: the pool waits at most `acquire_timeout` for a connection
//! (establishing one included), and the whole operation at most `operation_timeout`, so a database that is
//! down or stalled is [`StoreError::Unavailable`] within seconds. Every change is one statement or one
//! transaction: none is ever half-written.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Error as SqlError, Row};

use super::{
    Account, AccountStore, NewRefreshToken, PresentedRefreshToken, RefreshGrant, RefreshOutcome, RefreshPolicy,
    RefreshTokenStore, Revoked, StoreError,
};
use account_cache::{AccountCache, COUNT_CHANGE};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How many connections a [`SqlStore`] keeps and how long it waits.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::store::SqlOptions;
/// let options = SqlOptions { acquire_timeout: Duration::from_secs(1), ..SqlOptions::default() };
/// assert!(options.operation_timeout > options.acquire_timeout);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlOptions {
    /// Connections in the pool at most.
    pub max_connections: u32,
    /// The longest an operation waits for a connection, establishing one included.
    pub acquire_timeout: Duration,
    /// The longest an operation takes in all; beyond it, the store is unavailable.
    pub operation_timeout: Duration,
    /// Keeps accounts in memory, so that loading a request's principal makes no database round trip, and
    /// reads the database's account change counter this often: a change made by another process (another
    /// replica, the user CLI) is seen within this interval (within twice it at most, past which the cache is
    /// not used until the counter can be read again); one made through this store, at once. `None`: every
    /// lookup asks the database.
    pub account_cache: Option<Duration>,
}

impl Default for SqlOptions {
    /// 8 connections; 3 s to get one, 4 s in all: an outage is answered well within 5 s. Accounts cached,
    /// other processes' changes seen within 250 ms.
    fn default() -> Self {
        SqlOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(4),
            account_cache: Some(Duration::from_millis(250)),
        }
    }
}

/// The connection pool of a [`SqlStore`], for an app's own tables in the same database
/// ([`SqlStore::pool`]).
#[derive(Clone)]
pub enum SqlPool {
    /// A SQLite database.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has: the same SQL serves both, as the
/// schema does (parameters are written `$1`, which both read).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            SqlPool::Sqlite($pool) => $store.timed(async { $body }).await,
            SqlPool::Postgres($pool) => $store.timed(async { $body }).await,
        }
    };
}

mod account_cache;
mod accounts;
mod refresh_tokens;
mod signing_keys;

/// Accounts, and an issuer's signing keys and refresh tokens, in SQLite or PostgreSQL. Cheap to clone: clones share the pool. Its `Debug` names the
/// database kind only (a URL may hold a password).
///
/// ```no_run
/// use scopes_runtime::{Account, AccountStore, issuing::PasswordPolicy, SqlStore};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SqlStore::connect("sqlite://accounts.db").await?; // created when missing
/// store.migrate().await?;
/// let hash = PasswordPolicy::default().hash("correct horse battery staple")?;
/// store.add(&Account::new("alice", hash).with_scopes(["me"])).await?;
/// assert!(store.find("alice").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlStore {
    pool: SqlPool,
    options: SqlOptions,
    /// With [`SqlOptions::account_cache`].
    accounts: Option<Arc<AccountCache>>,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore").field("database", &self.kind()).field("options", &self.options).finish()
    }
}

/// What [`SqlStore::migrate`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The schema was created now: the database had none of it (an app may seed it).
    pub fresh: bool,
}

impl SqlStore {
    /// Connects to `url` (`sqlite://FILE`, created when missing, or `postgres://...`) with the default
    /// [`SqlOptions`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, SqlOptions::default()).await
    }

    /// Connects to `url` with `options`. A SQLite file is opened in WAL mode, so other processes (the
    /// user CLI) can write while a server reads; `sqlite::memory:` is one connection's database, so its
    /// pool keeps one.
    pub async fn connect_with(url: &str, options: SqlOptions) -> Result<Self, StoreError> {
        let invalid = |error: SqlError| StoreError::Invalid(format!("database URL: {error}"));
        let pool = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(invalid)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(options.acquire_timeout)
                .foreign_keys(true)
                // Deleted and overwritten content (an erased private key, a replaced hash) is zeroed in
                // the file rather than left in free space.
                .pragma("secure_delete", "ON");
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                owner_only(connect.get_filename())?;
            }
            let max_connections = if in_memory { 1 } else { options.max_connections };
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect);
            SqlPool::Sqlite(bounded(options, pool).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url).map_err(invalid)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect);
            SqlPool::Postgres(bounded(options, pool).await?)
        } else {
            return Err(StoreError::Invalid(format!(
                "database URL `{}`: expected `sqlite://FILE` or `postgres://...`",
                url.split(['?', '@']).next().unwrap_or_default()
            )));
        };
        let accounts = options.account_cache.map(|every| AccountCache::start(pool.clone(), every));
        Ok(SqlStore { pool, options, accounts })
    }

    /// Forgets the cached accounts after a change made through this store (committed).
    fn accounts_changed(&self) {
        if let Some(accounts) = &self.accounts {
            accounts.changed();
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self.pool {
            SqlPool::Sqlite(_) => "sqlite",
            SqlPool::Postgres(_) => "postgres",
        }
    }

    /// Creates or updates the schema (safe to run from several instances at once: sqlx takes a lock).
    pub async fn migrate(&self) -> Result<Migrated, StoreError> {
        let failed = |error: sqlx::migrate::MigrateError| match error {
            sqlx::migrate::MigrateError::Execute(error) => unavailable_or(error, "migration failed"),
            error => StoreError::Invalid(format!("migration failed: {error}")),
        };
        on_pool!(self, pool => {
            // No table of migrations yet: the schema is made now.
            let applied = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(pool).await;
            let fresh = applied.map(|row| row.try_get::<i64, _>(0).unwrap_or(0) == 0).unwrap_or(true);
            MIGRATOR.run(pool).await.map_err(failed)?;
            Ok(Migrated { fresh })
        })
    }

    /// The secret named `name` that every instance sharing this database shares: 32 random bytes, made at
    /// its first use (instances asking at once agree on one). Keep it as secret as the database.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), scopes_runtime::store::StoreError> {
    /// let store = scopes_runtime::SqlStore::connect("sqlite://accounts.db").await?;
    /// store.migrate().await?;
    /// let secret = store.shared_secret("redis-throttle-keys").await?;
    /// assert_eq!(secret, store.shared_secret("redis-throttle-keys").await?);
    /// # Ok(()) }
    /// ```
    pub async fn shared_secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let made = crate::keys::random::random_bytes::<32>()
            .ok_or_else(|| StoreError::Invalid("no randomness for a shared secret".into()))?;
        let insert = "INSERT INTO shared_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        let select = "SELECT secret FROM shared_secrets WHERE name = $1";
        let stored: String = on_pool!(self, pool => {
            sqlx::query(insert).bind(name).bind(STANDARD.encode(made)).execute(pool).await.map_err(store_error)?;
            let row = sqlx::query(select).bind(name).fetch_one(pool).await.map_err(store_error)?;
            row.try_get(0).map_err(store_error)
        })?;
        STANDARD.decode(stored).map_err(|_| StoreError::Invalid(format!("the shared secret `{name}` is not base64")))
    }

    /// Whether the database answers now (`SELECT 1`, within the operation timeout): for a readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop).map_err(store_error))
    }

    /// Closes the pool's connections (waiting for those in use).
    pub async fn close(&self) {
        match &self.pool {
            SqlPool::Sqlite(pool) => pool.close().await,
            SqlPool::Postgres(pool) => pool.close().await,
        }
    }

    /// The store's pool, for an app that keeps its own tables beside the accounts: its queries then share the
    /// store's connections and limits. Run them through [`run`](Self::run).
    pub fn pool(&self) -> &SqlPool {
        &self.pool
    }

    /// Runs an app's own query within the store's operation timeout, its errors classified as the store's
    /// own are: [`StoreError::Unavailable`] (answered 503) when the database cannot answer now.
    ///
    /// ```no_run
    /// use scopes_runtime::store::{SqlPool, SqlStore, StoreError};
    ///
    /// # async fn count(store: &SqlStore) -> Result<i64, StoreError> {
    /// let query = "SELECT COUNT(*) FROM accounts";
    /// store
    ///     .run(async {
    ///         match store.pool() {
    ///             SqlPool::Sqlite(pool) => sqlx::query_scalar(query).fetch_one(pool).await,
    ///             SqlPool::Postgres(pool) => sqlx::query_scalar(query).fetch_one(pool).await,
    ///         }
    ///     })
    ///     .await
    /// # }
    /// ```
    pub async fn run<T>(&self, query: impl Future<Output = Result<T, SqlError>>) -> Result<T, StoreError> {
        self.timed(async { query.await.map_err(store_error) }).await
    }

    async fn timed<T>(&self, operation: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let limit = self.options.operation_timeout;
        tokio::time::timeout(limit, operation)
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable(format!("no answer within {limit:?}"))))
    }
}

impl AccountStore for SqlStore {
    async fn find(&self, username: &str) -> Result<Option<Arc<Account>>, StoreError> {
        let cached = self.accounts.as_ref().and_then(|accounts| Some((accounts, accounts.generation()?)));
        if let Some((accounts, generation)) = cached
            && let Some(account) = accounts.get(username, generation)
        {
            return Ok(account);
        }
        let found = self.read_account(username).await?;
        if let Some((accounts, generation)) = cached {
            accounts.keep(username, generation, found.clone());
        }
        Ok(found)
    }

    async fn replace_password_hash(&self, username: &str, current: &str, new: &str) -> Result<bool, StoreError> {
        let statement = "UPDATE accounts SET password_hash = $3 WHERE username = $1 AND password_hash = $2";
        let replaced = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let done = sqlx::query(statement).bind(username).bind(current).bind(new).execute(&mut *transaction).await;
            let replaced = done.map(|done| done.rows_affected() == 1).map_err(store_error)?;
            if replaced {
                sqlx::query(COUNT_CHANGE).execute(&mut *transaction).await.map_err(store_error)?;
            }
            transaction.commit().await.map_err(store_error)?;
            Ok(replaced)
        })?;
        if replaced {
            self.accounts_changed();
        }
        Ok(replaced)
    }

    fn refresh_tokens(&self) -> Option<&impl RefreshTokenStore> {
        Some(self)
    }
}

impl RefreshTokenStore for SqlStore {
    async fn add_refresh_token(&self, token: &NewRefreshToken, policy: &RefreshPolicy) -> Result<(), StoreError> {
        self.insert_refresh_family(token, policy).await
    }

    async fn find_refresh_token(&self, hash: &str, now: u64) -> Result<Option<RefreshGrant>, StoreError> {
        self.current_refresh_grant(hash, now).await
    }

    async fn rotate_refresh_token(
        &self,
        presented: &PresentedRefreshToken,
        replacement_hash: &str,
        now: u64,
        policy: &RefreshPolicy,
    ) -> Result<RefreshOutcome, StoreError> {
        self.rotate_refresh_family(presented, replacement_hash, now, policy).await
    }

    async fn revoke_refresh_family(&self, presented: &PresentedRefreshToken, now: u64) -> Result<bool, StoreError> {
        self.revoke_refresh_family_of(presented, now).await
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: u64) -> Result<(), StoreError> {
        self.revoke_access_token_by_id(jti, expires_at).await
    }

    async fn revocations(&self, now: u64, families_since: u64) -> Result<Revoked, StoreError> {
        self.current_revocations(now, families_since).await
    }
}

/// Makes the SQLite file at `path` readable and writable by its owner only (0600), creating it so when it
/// is missing: it holds password hashes, refresh-token hashes and private signing keys. SQLite gives its
/// `-wal` and `-shm` files the database file's mode; those left by an earlier run are tightened too.
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed = |error: std::io::Error| StoreError::Invalid(format!("database file {}: {error}", path.display()));
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(failed)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            let Ok(metadata) = std::fs::metadata(&file) else { continue };
            if metadata.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
                tracing::info!(file = %file.display(), "made the database file readable by its owner only (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Connecting, bounded as every operation is: a server that accepts but never answers is an outage too.
async fn bounded<P>(
    options: SqlOptions,
    connecting: impl Future<Output = Result<P, SqlError>>,
) -> Result<P, StoreError> {
    match tokio::time::timeout(options.operation_timeout, connecting).await {
        Ok(connected) => connected.map_err(store_error),
        Err(_) => Err(StoreError::Unavailable(format!("no connection within {:?}", options.operation_timeout))),
    }
}

fn store_error(error: SqlError) -> StoreError {
    unavailable_or(error, "database error")
}

/// An error that says the database cannot answer now (connection lost or refused, timed out, shutting
/// down, busy) is [`StoreError::Unavailable`]; any other is [`StoreError::Invalid`].
fn unavailable_or(error: SqlError, context: &str) -> StoreError {
    let unavailable = match &error {
        SqlError::Io(_) | SqlError::Tls(_) | SqlError::PoolTimedOut | SqlError::PoolClosed => true,
        SqlError::WorkerCrashed | SqlError::Protocol(_) => true,
        SqlError::Database(database) => {
            let code = database.code().unwrap_or_default();
            if database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
                // Connection exceptions (08), insufficient resources (53), operator intervention (57:
                // shutting down, cannot connect now).
                ["08", "53", "57"].iter().any(|class| code.starts_with(class))
            } else {
                // SQLite, by primary result code: busy, locked, I/O error, full, cannot open.
                code.parse::<u32>().is_ok_and(|code| [5, 6, 10, 13, 14].contains(&(code & 0xff)))
            }
        }
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(error.to_string())
    } else {
        StoreError::Invalid(format!("{context}: {error}"))
    }
}
