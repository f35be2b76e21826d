//! Accounts in memory, for tests and examples.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{Account, AccountStore, StoreError};

/// Accounts in memory, shared by its clones. Never unavailable.
///
/// ```
/// use scopes_runtime::{Account, store::MemoryStore};
/// let store = MemoryStore::default();
/// store.insert(Account::new("alice", "$argon2id$..."));
/// assert_eq!(store.usernames(), ["alice"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    accounts: Arc<RwLock<HashMap<String, Arc<Account>>>>,
}

impl MemoryStore {
    /// A store holding `accounts`.
    pub fn new(accounts: impl IntoIterator<Item = Account>) -> Self {
        let store = MemoryStore::default();
        for account in accounts {
            store.insert(account);
        }
        store
    }

    /// Adds `account`, or replaces the one of the same name.
    pub fn insert(&self, account: Account) {
        let mut accounts = self.accounts.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        accounts.insert(account.username.clone(), Arc::new(account));
    }

    /// Every username, sorted.
    pub fn usernames(&self) -> Vec<String> {
        let accounts = self.accounts.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut names: Vec<String> = accounts.keys().cloned().collect();
        names.sort();
        names
    }

    fn get(&self, username: &str) -> Option<Arc<Account>> {
        self.accounts.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(username).cloned()
    }
}

impl AccountStore for MemoryStore {
    async fn find(&self, username: &str) -> Result<Option<Arc<Account>>, StoreError> {
        Ok(self.get(username))
    }

    async fn replace_password_hash(&self, username: &str, current: &str, new: &str) -> Result<bool, StoreError> {
        let mut accounts = self.accounts.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        match accounts.get_mut(username) {
            Some(account) if account.password_hash == current => {
                Arc::make_mut(account).password_hash = new.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
