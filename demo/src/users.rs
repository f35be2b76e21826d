//! The demo's users: the seed's two (one of them disabled, with the seed's cost-12 bcrypt hashes), kept in
//! SQLite (the default: a file, created, migrated and seeded on first start), PostgreSQL (several
//! instances sharing users), or memory (tests).

use scopes_runtime::store::RefreshTokenStore;
use scopes_runtime::{
    Account, AccountStore, SqlStore, issuing::PasswordPolicy, store::MemoryStore, store::SqlOptions, store::StoreError,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A user as the API shows it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: Option<bool>,
    /// The account as the store has it now (the demo's own users), whose allowed scopes a token's scopes
    /// count only as far as; shared with the store, not copied, and not shown.
    #[serde(skip)]
    pub account: Option<std::sync::Arc<Account>>,
}

impl From<std::sync::Arc<Account>> for User {
    fn from(account: std::sync::Arc<Account>) -> Self {
        User {
            username: account.username.clone(),
            email: account.email.clone(),
            full_name: account.full_name.clone(),
            disabled: Some(account.disabled),
            account: Some(account),
        }
    }
}

/// The seed's users: `johndoe` (password `secret`) and the disabled `alice` (password `secretalice`),
/// each allowed every scope the app declares, as the seed's users may ask for any.
pub fn seed_accounts() -> Vec<Account> {
    let every_scope = || crate::SCOPE_REGISTRY.scopes().iter().map(|scope| scope.name);
    vec![
        Account {
            full_name: Some("John Doe".into()),
            email: Some("johndoe@example.com".into()),
            ..Account::new("johndoe", "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW")
                .with_scopes(every_scope())
        },
        Account {
            full_name: Some("Alice Chains".into()),
            email: Some("alicechains@example.com".into()),
            disabled: true,
            ..Account::new("alice", "$2b$12$gSvqqUPvlXP2tfVFaWK1Be7DlH.PKZbv5H8KnzzVgXXbVxpva.pFm")
                .with_scopes(every_scope())
        },
    ]
}

/// Where the demo's users are kept.
#[derive(Debug, Clone)]
pub enum UserStore {
    /// In memory: gone with the process (tests).
    Memory(MemoryStore),
    /// SQLite or PostgreSQL.
    Sql(SqlStore),
}

/// What the seed's hashes were made with (bcrypt at cost 12): until every user has logged in since, a
/// failed login takes as long as checking one, whoever it names (`TokenEndpoint::with_legacy_hashes`).
pub const LEGACY_PASSWORD_POLICY: PasswordPolicy = PasswordPolicy::BCRYPT_12;

/// The `--database-url` that keeps the seed's users in memory, gone with the process: for throwaway runs
/// and for benchmarks of the framework rather than of a database.
pub const MEMORY_URL: &str = "memory:";

/// The default `--database-url`: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://demo.db";

impl UserStore {
    /// The seed's users, in memory.
    pub fn seed() -> Self {
        UserStore::Memory(MemoryStore::new(seed_accounts()))
    }

    /// The database at `url`, its schema created or updated, and seeded with the seed's users when it was
    /// created now (instances starting together on one new database seed it once between them); or, for
    /// [`MEMORY_URL`], the seed's users in memory.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url == MEMORY_URL {
            return Ok(Self::seed());
        }
        let store = SqlStore::connect_with(url, SqlOptions::default()).await?;
        if store.migrate().await?.fresh {
            for account in seed_accounts() {
                store.add_if_absent(&account).await?;
            }
            tracing::info!(database = store.kind(), "created the user database with the seed's users");
        }
        Ok(UserStore::Sql(store))
    }

    /// How new passwords are hashed: Argon2id with OWASP's parameters. The seed's bcrypt hashes still
    /// verify, and each is replaced by an Argon2id one at its owner's first successful login.
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy::default()
    }

    /// Every username, sorted.
    pub async fn usernames(&self) -> Result<Vec<String>, StoreError> {
        match self {
            UserStore::Memory(store) => Ok(store.usernames()),
            UserStore::Sql(store) => Ok(store.list().await?.into_iter().map(|account| account.username).collect()),
        }
    }
}

impl AccountStore for UserStore {
    async fn find(&self, username: &str) -> Result<Option<std::sync::Arc<Account>>, StoreError> {
        match self {
            UserStore::Memory(store) => store.find(username).await,
            UserStore::Sql(store) => store.find(username).await,
        }
    }

    async fn replace_password_hash(&self, username: &str, current: &str, new: &str) -> Result<bool, StoreError> {
        match self {
            UserStore::Memory(store) => store.replace_password_hash(username, current, new).await,
            UserStore::Sql(store) => store.replace_password_hash(username, current, new).await,
        }
    }

    // Refresh tokens are kept in a database only: the memory store issues none.
    fn refresh_tokens(&self) -> Option<&impl RefreshTokenStore> {
        match self {
            UserStore::Sql(store) => Some(store),
            UserStore::Memory(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_hash_shows_in_debug() {
        let printed = format!("{:?}", seed_accounts());
        assert!(printed.contains("johndoe") && !printed.contains("$2b$"), "{printed}");
    }

    #[tokio::test]
    async fn a_fresh_database_is_seeded_once_and_a_reopened_one_is_left_as_it_is() {
        let url = "sqlite::memory:";
        let store = UserStore::open(url).await.unwrap();
        assert_eq!(store.usernames().await.unwrap(), ["alice", "johndoe"]);
        let UserStore::Sql(sql) = &store else { unreachable!("opened from a URL") };
        sql.remove("alice").await.unwrap();
        // Migrating again (a restart) neither re-creates nor re-seeds.
        assert!(!sql.migrate().await.unwrap().fresh);
        assert_eq!(store.usernames().await.unwrap(), ["johndoe"]);
    }
}
