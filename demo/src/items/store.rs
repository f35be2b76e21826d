//! Where the demo keeps items: in the users' database (a table of its own beside the accounts, through the
//! account store's pool and limits), or in memory with `memory:`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use scopes_runtime::SqlStore;
use scopes_runtime::store::{SqlPool, StoreError};

use super::Item;

/// The items, by ID, with their owners.
#[derive(Debug, Clone)]
pub enum ItemStore {
    /// In memory: gone with the process.
    Memory(Arc<Mutex<BTreeMap<String, String>>>),
    /// In the SQLite or PostgreSQL database the users are in.
    Sql(SqlStore),
}

// The same SQL serves SQLite and PostgreSQL; `$1` is read by both.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS demo_items (item_id TEXT PRIMARY KEY, owner TEXT NOT NULL)";
const INSERT: &str = "INSERT INTO demo_items (item_id, owner) VALUES ($1, $2) ON CONFLICT (item_id) DO NOTHING";
const SELECT_ONE: &str = "SELECT item_id, owner FROM demo_items WHERE item_id = $1";
const SELECT_ALL: &str = "SELECT item_id, owner FROM demo_items";
const SELECT_OWNED: &str = "SELECT item_id, owner FROM demo_items WHERE owner = $1";
const DELETE: &str = "DELETE FROM demo_items WHERE item_id = $1";

/// Runs `$query` (a sqlx query builder, awaited with `$run`) on whichever pool `$store` has.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $query:expr) => {
        $store
            .run(async {
                match $store.pool() {
                    SqlPool::Sqlite($pool) => $query,
                    SqlPool::Postgres($pool) => $query,
                }
            })
            .await
    };
}

impl Default for ItemStore {
    fn default() -> Self {
        ItemStore::Memory(Arc::default())
    }
}

impl ItemStore {
    /// The items table of `store`'s database, created when missing.
    pub async fn in_database(store: SqlStore) -> Result<Self, StoreError> {
        on_pool!(store, |pool| sqlx::query(CREATE_TABLE).execute(pool).await.map(drop))?;
        Ok(ItemStore::Sql(store))
    }

    /// Stores `item_id` as `owner`'s; `false` when an item (anyone's) has that ID already, and then nothing
    /// changes. One statement, so that of two simultaneous creations of one ID exactly one succeeds.
    pub async fn create(&self, item_id: &str, owner: &str) -> Result<bool, StoreError> {
        match self {
            ItemStore::Memory(items) => {
                let mut items = items.lock().unwrap_or_else(PoisonError::into_inner);
                if items.contains_key(item_id) {
                    return Ok(false);
                }
                items.insert(item_id.to_owned(), owner.to_owned());
                Ok(true)
            }
            ItemStore::Sql(store) => {
                let inserted = on_pool!(store, |pool| sqlx::query(INSERT)
                    .bind(item_id)
                    .bind(owner)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?;
                Ok(inserted == 1)
            }
        }
    }

    /// The item with this ID.
    pub async fn find(&self, item_id: &str) -> Result<Option<Item>, StoreError> {
        match self {
            ItemStore::Memory(items) => {
                let items = items.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(items.get(item_id).map(|owner| Item { item_id: item_id.to_owned(), owner: owner.clone() }))
            }
            ItemStore::Sql(store) => {
                let row: Option<(String, String)> =
                    on_pool!(store, |pool| sqlx::query_as(SELECT_ONE).bind(item_id).fetch_optional(pool).await)?;
                Ok(row.map(|(item_id, owner)| Item { item_id, owner }))
            }
        }
    }

    /// Deletes the item; `false` when there was none (already deleted by a simultaneous request, say). One
    /// statement, so that of many simultaneous deletes of one item exactly one deletes it.
    pub async fn delete(&self, item_id: &str) -> Result<bool, StoreError> {
        match self {
            ItemStore::Memory(items) => {
                Ok(items.lock().unwrap_or_else(PoisonError::into_inner).remove(item_id).is_some())
            }
            ItemStore::Sql(store) => {
                let deleted = on_pool!(store, |pool| sqlx::query(DELETE)
                    .bind(item_id)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?;
                Ok(deleted == 1)
            }
        }
    }

    /// Every item, or `owner`'s, sorted by ID (bytewise, whatever the database's collation).
    pub async fn list(&self, owner: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut items: Vec<Item> = match self {
            ItemStore::Memory(items) => items
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|(_, item_owner)| owner.is_none_or(|owner| owner == item_owner.as_str()))
                .map(|(item_id, owner)| Item { item_id: item_id.clone(), owner: owner.clone() })
                .collect(),
            ItemStore::Sql(store) => {
                let rows: Vec<(String, String)> = match owner {
                    Some(owner) => {
                        on_pool!(store, |pool| sqlx::query_as(SELECT_OWNED).bind(owner).fetch_all(pool).await)?
                    }
                    None => on_pool!(store, |pool| sqlx::query_as(SELECT_ALL).fetch_all(pool).await)?,
                };
                rows.into_iter().map(|(item_id, owner)| Item { item_id, owner }).collect()
            }
        };
        items.sort_by(|a, b| a.item_id.cmp(&b.item_id));
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn every_store() -> Vec<ItemStore> {
        let sql = SqlStore::connect("sqlite::memory:").await.unwrap();
        vec![ItemStore::default(), ItemStore::in_database(sql).await.unwrap()]
    }

    #[tokio::test]
    async fn an_id_is_created_once_and_deleted_once() {
        for store in every_store().await {
            assert!(store.create("b", "johndoe").await.unwrap());
            assert!(!store.create("b", "alice").await.unwrap(), "an ID that exists is refused");
            assert!(store.create("a", "alice").await.unwrap());
            assert_eq!(store.find("b").await.unwrap().unwrap().owner, "johndoe");
            let ids = |items: Vec<Item>| items.into_iter().map(|item| item.item_id).collect::<Vec<_>>();
            assert_eq!(ids(store.list(None).await.unwrap()), ["a", "b"]);
            assert_eq!(ids(store.list(Some("alice")).await.unwrap()), ["a"]);
            assert!(store.delete("b").await.unwrap());
            assert!(!store.delete("b").await.unwrap());
            assert!(store.find("b").await.unwrap().is_none());
        }
    }
}
