//! Accounts in the [`SqlStore`]: adding, listing, changing and removing users and the scopes they are
//! allowed, each change one transaction.

use sqlx::{Error as SqlError, Row};

use std::sync::Arc;

use super::account_cache::COUNT_CHANGE;
use super::refresh_tokens::seconds;
use super::{SqlPool, SqlStore, store_error};
use crate::reloading::StoreError;
use crate::store::Account;

impl SqlStore {
    /// Adds `account`; [`StoreError::DuplicateUser`] when the name is taken, and then nothing is written.
    pub async fn add(&self, account: &Account) -> Result<(), StoreError> {
        match self.insert(account, false).await? {
            true => Ok(()),
            false => Err(StoreError::DuplicateUser(account.username.clone())),
        }
    }

    /// Adds `account` unless the name is taken (then leaves the existing one as it is), and says whether it
    /// did: for seeding a database that others may be seeding too.
    pub async fn add_if_absent(&self, account: &Account) -> Result<bool, StoreError> {
        self.insert(account, true).await
    }

    async fn insert(&self, account: &Account, if_absent: bool) -> Result<bool, StoreError> {
        let statement = if if_absent {
            "INSERT INTO accounts (username, password_hash, disabled, full_name, email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING"
        } else {
            "INSERT INTO accounts (username, password_hash, disabled, full_name, email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        };
        // When it was made: tokens issued earlier name someone else who had the name (`Account::admits`).
        let created_at = seconds(crate::keys::clock::unix_now());
        let inserted = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let inserted = sqlx::query(statement)
                .bind(&account.username)
                .bind(&account.password_hash)
                .bind(account.disabled)
                .bind(&account.full_name)
                .bind(&account.email)
                .bind(created_at)
                .execute(&mut *transaction)
                .await;
            let inserted = match inserted {
                Ok(done) => done.rows_affected() == 1,
                Err(SqlError::Database(error)) if error.is_unique_violation() => false,
                Err(error) => return Err(store_error(error)),
            };
            if inserted {
                for scope in &account.allowed_scopes {
                    sqlx::query("INSERT INTO account_scopes (username, scope) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(&account.username)
                        .bind(scope)
                        .execute(&mut *transaction)
                        .await
                        .map_err(store_error)?;
                }
                sqlx::query(COUNT_CHANGE).execute(&mut *transaction).await.map_err(store_error)?;
            }
            transaction.commit().await.map_err(store_error)?;
            Ok(inserted)
        })?;
        if inserted {
            self.accounts_changed();
        }
        Ok(inserted)
    }

    /// `username`'s account as the database has it now.
    pub(super) async fn read_account(&self, username: &str) -> Result<Option<Arc<Account>>, StoreError> {
        on_pool!(self, pool => {
            // One statement: the account and its scopes as of one moment.
            let rows = sqlx::query(&format!("{SELECT_ACCOUNTS} WHERE a.username = $1 ORDER BY s.scope"))
                .bind(username)
                .fetch_all(pool)
                .await
                .map_err(store_error)?;
            let Some(first) = rows.first() else { return Ok(None) };
            let mut account = account_of(first)?;
            for row in &rows {
                if let Some(scope) = row.try_get::<Option<String>, _>("scope").map_err(store_error)? {
                    account.allowed_scopes.push(scope);
                }
            }
            Ok(Some(Arc::new(account)))
        })
    }

    /// Every account, by name.
    pub async fn list(&self) -> Result<Vec<Account>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(&format!("{SELECT_ACCOUNTS} ORDER BY a.username, s.scope"))
                .fetch_all(pool)
                .await
                .map_err(store_error)?;
            let mut accounts: Vec<Account> = Vec::new();
            for row in &rows {
                let username: String = row.try_get("username").map_err(store_error)?;
                if accounts.last().is_none_or(|last| last.username != username) {
                    accounts.push(account_of(row)?);
                }
                if let Some(scope) = row.try_get::<Option<String>, _>("scope").map_err(store_error)?
                    && let Some(account) = accounts.last_mut()
                {
                    account.allowed_scopes.push(scope);
                }
            }
            Ok(accounts)
        })
    }

    /// Disables or enables `username`. Disabling ends their sessions: their refresh-token families are
    /// revoked in the same transaction, and with them the access tokens issued from those families.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), StoreError> {
        let statement = "UPDATE accounts SET disabled = $2 WHERE username = $1";
        self.change_account(username, statement, AccountChange::Disabled(disabled)).await
    }

    /// Sets `username`'s password hash (a password change or reset), and ends their sessions: their
    /// refresh-token families are revoked in the same transaction, and with them the access tokens issued
    /// from those families (OAuth 2.0 Security BCP §4.14.2). Not for rehashing the same password under a
    /// newer policy: that is [`AccountStore::replace_password_hash`](crate::AccountStore::replace_password_hash), which keeps sessions.
    pub async fn set_password_hash(&self, username: &str, hash: &str) -> Result<(), StoreError> {
        let statement = "UPDATE accounts SET password_hash = $2 WHERE username = $1";
        self.change_account(username, statement, AccountChange::PasswordHash(hash)).await
    }

    /// Runs `statement` (`$1` the username, `$2` the changed value) and, when the change ends the user's
    /// sessions, revokes their live refresh-token families, in one transaction.
    async fn change_account(
        &self,
        username: &str,
        statement: &str,
        change: AccountChange<'_>,
    ) -> Result<(), StoreError> {
        let ends_sessions = !matches!(change, AccountChange::Disabled(false));
        let revoke = "UPDATE refresh_families SET revoked_at = $2 WHERE username = $1 AND revoked_at IS NULL";
        let now = seconds(crate::keys::clock::unix_now());
        let changed = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let query = sqlx::query(statement).bind(username);
            let query = match change {
                AccountChange::Disabled(disabled) => query.bind(disabled),
                AccountChange::PasswordHash(hash) => query.bind(hash),
            };
            let done = query.execute(&mut *transaction).await;
            let changed = done.map(|done| done.rows_affected()).map_err(store_error)?;
            if ends_sessions {
                sqlx::query(revoke).bind(username).bind(now).execute(&mut *transaction).await.map_err(store_error)?;
            }
            sqlx::query(COUNT_CHANGE).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)?;
            Ok(changed)
        })?;
        self.accounts_changed();
        known(username, changed)
    }

    /// Allows `username` `scopes` too (those already allowed stay, once): what a token granted to them
    /// may carry.
    pub async fn allow_scopes(&self, username: &str, scopes: &[String]) -> Result<(), StoreError> {
        self.change_scopes(
            username,
            scopes,
            "INSERT INTO account_scopes (username, scope) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await
    }

    /// No longer allows `username` `scopes` (those not allowed are ignored).
    pub async fn disallow_scopes(&self, username: &str, scopes: &[String]) -> Result<(), StoreError> {
        self.change_scopes(username, scopes, "DELETE FROM account_scopes WHERE username = $1 AND scope = $2").await
    }

    /// The former name of [`allow_scopes`](Self::allow_scopes).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `allow_scopes`: tokens are granted at the token endpoint, scopes allowed here"
    )]
    pub async fn grant(&self, username: &str, scopes: &[String]) -> Result<(), StoreError> {
        self.allow_scopes(username, scopes).await
    }

    /// The former name of [`disallow_scopes`](Self::disallow_scopes).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `disallow_scopes`: tokens are revoked at the token endpoint, scopes disallowed here"
    )]
    pub async fn revoke(&self, username: &str, scopes: &[String]) -> Result<(), StoreError> {
        self.disallow_scopes(username, scopes).await
    }

    /// Runs `statement` for each scope, in one transaction that first checks the user exists.
    async fn change_scopes(&self, username: &str, scopes: &[String], statement: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let exists = sqlx::query("SELECT 1 FROM accounts WHERE username = $1")
                .bind(username)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(store_error)?;
            if exists.is_none() {
                return Err(StoreError::UnknownUser(username.to_owned()));
            }
            for scope in scopes {
                sqlx::query(statement)
                    .bind(username)
                    .bind(scope)
                    .execute(&mut *transaction)
                    .await
                    .map_err(store_error)?;
            }
            sqlx::query(COUNT_CHANGE).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)
        })?;
        self.accounts_changed();
        Ok(())
    }

    /// Removes `username`, with their scopes and refresh tokens.
    pub async fn remove(&self, username: &str) -> Result<(), StoreError> {
        let changed = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let done = sqlx::query("DELETE FROM accounts WHERE username = $1").bind(username).execute(&mut *transaction).await;
            let changed = done.map(|done| done.rows_affected()).map_err(store_error)?;
            sqlx::query(COUNT_CHANGE).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)?;
            Ok(changed)
        })?;
        self.accounts_changed();
        known(username, changed)
    }
}

/// A change of one account column.
#[derive(Clone, Copy)]
enum AccountChange<'a> {
    Disabled(bool),
    PasswordHash(&'a str),
}

const SELECT_ACCOUNTS: &str = "SELECT a.username, a.password_hash, a.disabled, a.full_name, a.email, a.created_at, s.scope \
                               FROM accounts a LEFT JOIN account_scopes s ON s.username = a.username";

/// An account's columns, without its scopes.
fn account_of<R: Row>(row: &R) -> Result<Account, StoreError>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    let created_at: i64 = row.try_get("created_at").map_err(store_error)?;
    Ok(Account {
        username: row.try_get("username").map_err(store_error)?,
        password_hash: row.try_get("password_hash").map_err(store_error)?,
        disabled: row.try_get("disabled").map_err(store_error)?,
        full_name: row.try_get("full_name").map_err(store_error)?,
        email: row.try_get("email").map_err(store_error)?,
        allowed_scopes: Vec::new(),
        created_at: u64::try_from(created_at).unwrap_or(0),
    })
}

fn known(username: &str, rows_changed: u64) -> Result<(), StoreError> {
    if rows_changed == 0 { Err(StoreError::UnknownUser(username.to_owned())) } else { Ok(()) }
}
