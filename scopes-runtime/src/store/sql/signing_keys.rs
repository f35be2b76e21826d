//! The issuer's signing keys in the [`SqlStore`]: one newest key, older keys kept for their public half,
//! every change one transaction, so replicas starting or rotating at once agree on one newest key.

use std::time::Duration;

use sqlx::Row;

use super::{SqlPool, SqlStore, store_error};
use crate::keys::KeyRing;
use crate::keys::signing_key::{SigningAlgorithm, SigningKey, StoredKey};
use crate::reloading::StoreError;

const SELECT_KEYS: &str = "SELECT kid, algorithm, private_key, public_jwk, created_at, activates_at, superseded_at, \
                           revoked_at FROM signing_keys";

const INSERT_KEY: &str = "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at, activates_at) \
                          VALUES ($1, $2, $3, $4, $5, $6)";

impl SqlStore {
    /// Every signing key, newest last.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(&format!("{SELECT_KEYS} ORDER BY created_at, kid"))
                .fetch_all(pool)
                .await
                .map_err(store_error)?;
            rows.iter().map(|row| {
                let read = SigningKey::from_stored(StoredKey {
                    kid: row.try_get("kid").map_err(store_error)?,
                    algorithm: &row.try_get::<String, _>("algorithm").map_err(store_error)?,
                    private_key: row.try_get::<Option<String>, _>("private_key").map_err(store_error)?.as_deref(),
                    public_jwk: &row.try_get::<String, _>("public_jwk").map_err(store_error)?,
                    created_at: row.try_get("created_at").map_err(store_error)?,
                    activates_at: row.try_get("activates_at").map_err(store_error)?,
                    superseded_at: row.try_get("superseded_at").map_err(store_error)?,
                    revoked_at: row.try_get("revoked_at").map_err(store_error)?,
                });
                read.map_err(|error| StoreError::Invalid(error.to_string()))
            }).collect()
        })
    }

    /// The newest signing key; when there is none (a new store), a new one for `algorithm`, signing at
    /// once. Replicas starting together on a new store make one between them: the others' keys are never
    /// stored.
    pub async fn current_signing_key_or_generate(&self, algorithm: SigningAlgorithm) -> Result<SigningKey, StoreError> {
        if let Some(current) = self.current_signing_key().await? {
            return Ok(current);
        }
        let key = generate(algorithm).await?;
        let statement = format!("{INSERT_KEY} ON CONFLICT DO NOTHING");
        on_pool!(self, pool => {
            bind_key(sqlx::query(&statement), &key).execute(pool).await.map(drop).map_err(store_error)
        })?;
        self.current_signing_key().await?.ok_or_else(|| StoreError::Invalid("no current signing key was stored".into()))
    }

    /// Adds a new key for `algorithm`, published at once and signing `activate_in` from now, when it
    /// supersedes the newest key; in one transaction. Publishing it ahead of its first token lets verifiers
    /// that cache the key set (for a minute, as the demo serves it) pick it up first. The superseded key's
    /// private half is erased at the first [`erase_retired_private_keys`](Self::erase_retired_private_keys)
    /// after it stops signing; its public half stays published until its tokens have expired.
    ///
    /// With no delay, the rotation is for a key that may have leaked: every key that signs now or was to
    /// sign later (a rotation pending) is revoked (unpublished, and every token it signed refused by every
    /// verifier that reloads the keys, which logs out everyone holding one), every private half but the new
    /// key's is erased, and the new key signs at once.
    pub async fn rotate_signing_key(
        &self,
        algorithm: SigningAlgorithm,
        activate_in: Duration,
    ) -> Result<SigningKey, StoreError> {
        let created = generate(algorithm).await?;
        let now = created.created_at();
        let activates_at = now.saturating_add(activate_in.as_secs());
        let key = created.activating_at(activates_at);
        let emergency = activate_in.is_zero();
        // The keys that sign now or later: still holding a private half, and not superseded yet.
        let revoke = "UPDATE signing_keys SET revoked_at = $1 \
                      WHERE private_key IS NOT NULL AND (superseded_at IS NULL OR superseded_at > $1)";
        let supersede = "UPDATE signing_keys SET superseded_at = $1 WHERE superseded_at IS NULL OR superseded_at > $1";
        let erase = "UPDATE signing_keys SET private_key = NULL WHERE superseded_at <= $1 AND private_key IS NOT NULL";
        let erased = on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            if emergency {
                sqlx::query(revoke).bind(seconds(now)).execute(&mut *transaction).await.map_err(store_error)?;
                sqlx::query(supersede).bind(seconds(now)).execute(&mut *transaction).await.map_err(store_error)?;
            } else {
                let supersede = "UPDATE signing_keys SET superseded_at = $1 WHERE superseded_at IS NULL";
                sqlx::query(supersede).bind(seconds(activates_at)).execute(&mut *transaction).await.map_err(store_error)?;
            }
            let erased = sqlx::query(erase).bind(seconds(now)).execute(&mut *transaction).await.map_err(store_error)?;
            bind_key(sqlx::query(INSERT_KEY), &key).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)?;
            Ok(erased.rows_affected())
        })?;
        self.scrub_if(erased).await;
        Ok(key)
    }

    /// Erases the private half of every key that no longer signs: a key ring loading from the store calls
    /// it first ([`KeyRing::from_store`](crate::keys::KeyRing::from_store)).
    pub async fn erase_retired_private_keys(&self) -> Result<(), StoreError> {
        let erase = "UPDATE signing_keys SET private_key = NULL WHERE superseded_at <= $1 AND private_key IS NOT NULL";
        let now = seconds(crate::keys::clock::unix_now());
        let erased = on_pool!(self, pool => {
            sqlx::query(erase).bind(now).execute(pool).await.map(|done| done.rows_affected()).map_err(store_error)
        })?;
        self.scrub_if(erased).await;
        Ok(())
    }

    /// After `erased` private halves were erased (set to NULL), makes sure their bytes leave the database's
    /// files, as far as the database lets: SQLite overwrites freed space with zeros (`secure_delete`, on for
    /// every connection) and a checkpoint truncates the write-ahead log, which held the old pages;
    /// PostgreSQL rewrites the table (`VACUUM FULL`), leaving no dead row version behind in it (its
    /// write-ahead log and any backup keep what they had until they are recycled). Best effort: a failure
    /// is logged, the erasure stands.
    async fn scrub_if(&self, erased: u64) {
        if erased == 0 {
            return;
        }
        let scrub = match self.pool {
            SqlPool::Sqlite(_) => "PRAGMA wal_checkpoint(TRUNCATE)",
            SqlPool::Postgres(_) => "VACUUM FULL signing_keys",
        };
        let scrubbed: Result<(), StoreError> = on_pool!(self, pool => {
            sqlx::query(scrub).execute(pool).await.map(drop).map_err(store_error)
        });
        match scrubbed {
            Ok(()) => tracing::info!(erased, "erased private signing keys and scrubbed them from the database's files"),
            Err(error) => tracing::warn!(%error, "erased private signing keys; scrubbing the database's files failed"),
        }
    }

    async fn current_signing_key(&self) -> Result<Option<SigningKey>, StoreError> {
        Ok(self.signing_keys().await?.into_iter().find(SigningKey::is_current))
    }
}

/// A key pair made off the async threads: an RSA key takes a while.
async fn generate(algorithm: SigningAlgorithm) -> Result<SigningKey, StoreError> {
    tokio::task::spawn_blocking(move || SigningKey::generate(algorithm))
        .await
        .map_err(|error| StoreError::Invalid(format!("generating a signing key: {error}")))?
        .map_err(|error| StoreError::Invalid(error.to_string()))
}

/// Binds a new key's columns, in the order the insert statements name them.
fn bind_key<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    key: &SigningKey,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(key.kid().to_owned())
        .bind(key.algorithm().name().to_owned())
        .bind(key.stored_private_key())
        .bind(key.public_jwk().to_string())
        .bind(seconds(key.created_at()))
        .bind(seconds(key.activates_at()))
}

/// Unix seconds as the schema's BIGINT.
fn seconds(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

// Beside the store, so that the ring (a room below it) does not know there is one.
impl KeyRing {
    /// The keys of `store`, as [`load`](Self::load) loads them, erasing first the private half of every
    /// key that no longer signs ([`SqlStore::erase_retired_private_keys`](SqlStore::erase_retired_private_keys)).
    pub async fn from_store(
        store: SqlStore,
        token_lifetime: Duration,
        reload_every: Duration,
    ) -> Result<Self, StoreError> {
        Self::load(
            move || {
                let store = store.clone();
                async move {
                    // Whichever replica loads first after a key stops signing erases its private half.
                    store.erase_retired_private_keys().await?;
                    store.signing_keys().await
                }
            },
            token_lifetime,
            reload_every,
        )
        .await
    }
}
