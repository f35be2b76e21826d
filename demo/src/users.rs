//! The seed's user database: two users, one of them disabled, with cost-12 bcrypt hashes.

use std::collections::HashMap;

use scopes_runtime::{Account, PasswordPolicy};
use serde::Serialize;
use utoipa::ToSchema;

/// A user as the API shows it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: Option<bool>,
}

/// A stored user: what the API shows, the password hash, and the scopes the user may be granted. Its
/// `Debug` leaves the hash out.
#[derive(Clone)]
pub struct UserRecord {
    pub user: User,
    pub hashed_password: String,
    pub allowed_scopes: Vec<String>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("user", &self.user)
            .field("hashed_password", &"<redacted>")
            .field("allowed_scopes", &self.allowed_scopes)
            .finish()
    }
}

impl UserRecord {
    /// What the token endpoint needs to know of this user.
    pub fn account(&self) -> Account {
        Account {
            subject: self.user.username.clone(),
            password_hash: self.hashed_password.clone(),
            allowed_scopes: self.allowed_scopes.clone(),
        }
    }
}

/// Users by username.
#[derive(Debug, Clone, Default)]
pub struct UserStore {
    by_name: HashMap<String, UserRecord>,
}

impl UserStore {
    /// `johndoe` (password `secret`) and the disabled `alice` (password `secretalice`).
    pub fn seed() -> Self {
        let mut store = UserStore::default();
        store.insert(
            User {
                username: "johndoe".into(),
                email: Some("johndoe@example.com".into()),
                full_name: Some("John Doe".into()),
                disabled: Some(false),
            },
            "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
        );
        store.insert(
            User {
                username: "alice".into(),
                email: Some("alicechains@example.com".into()),
                full_name: Some("Alice Chains".into()),
                disabled: Some(true),
            },
            "$2b$12$gSvqqUPvlXP2tfVFaWK1Be7DlH.PKZbv5H8KnzzVgXXbVxpva.pFm",
        );
        store
    }

    /// Adds `user`, allowed every scope the app declares (as the seed's users are).
    pub fn insert(&mut self, user: User, hashed_password: &str) {
        let allowed_scopes = crate::SCOPE_REGISTRY.scopes().iter().map(|scope| scope.name.to_owned()).collect();
        let record = UserRecord { user, hashed_password: hashed_password.into(), allowed_scopes };
        self.by_name.insert(record.user.username.clone(), record);
    }

    /// How the store's passwords are hashed: bcrypt at cost 12, as the seed's are. The token endpoint
    /// checks unknown users at the same cost, so their logins take as long.
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy::default()
    }

    pub fn get(&self, username: &str) -> Option<&UserRecord> {
        self.by_name.get(username)
    }

    /// Every username, sorted.
    pub fn usernames(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().cloned().collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_hash_shows_in_debug() {
        let printed = format!("{:?}", UserStore::seed());
        assert!(printed.contains("johndoe") && !printed.contains("$2b$"), "{printed}");
    }
}
