//! The issuer's signing keys in the [`SqlStore`]: one current key, superseded keys kept for their public
//! half, every change one transaction, so replicas starting or rotating at once agree on one current key.

use sqlx::Row;

use super::{Pool, SqlStore, store_error};
use crate::{SigningAlgorithm, SigningKey, StoreError};

const SELECT_KEYS: &str = "SELECT kid, algorithm, private_key, public_jwk, created_at, superseded_at FROM signing_keys";

impl SqlStore {
    /// Every signing key, current or superseded, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(&format!("{SELECT_KEYS} ORDER BY created_at, kid"))
                .fetch_all(pool)
                .await
                .map_err(store_error)?;
            rows.iter().map(|row| {
                let read = SigningKey::from_stored(
                    row.try_get("kid").map_err(store_error)?,
                    &row.try_get::<String, _>("algorithm").map_err(store_error)?,
                    row.try_get::<Option<String>, _>("private_key").map_err(store_error)?.as_deref(),
                    &row.try_get::<String, _>("public_jwk").map_err(store_error)?,
                    row.try_get("created_at").map_err(store_error)?,
                    row.try_get("superseded_at").map_err(store_error)?,
                );
                read.map_err(|error| StoreError::Invalid(error.to_string()))
            }).collect()
        })
    }

    /// The current signing key; when there is none (a new store), a new one for `algorithm`. Replicas
    /// starting together on a new store make one between them: the others' keys are never stored.
    pub async fn current_signing_key_or_generate(&self, algorithm: SigningAlgorithm) -> Result<SigningKey, StoreError> {
        if let Some(current) = self.current_signing_key().await? {
            return Ok(current);
        }
        let key = generate(algorithm).await?;
        let statement = "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            bind_key(sqlx::query(statement), &key).execute(pool).await.map(drop).map_err(store_error)
        })?;
        self.current_signing_key().await?.ok_or_else(|| StoreError::Invalid("no current signing key was stored".into()))
    }

    /// Supersedes the current key with a new one for `algorithm`, erasing the old key's private half (its
    /// public half stays published until its tokens have expired), in one transaction; the new key.
    pub async fn rotate_signing_key(&self, algorithm: SigningAlgorithm) -> Result<SigningKey, StoreError> {
        let key = generate(algorithm).await?;
        let supersede = "UPDATE signing_keys SET superseded_at = $1, private_key = NULL WHERE superseded_at IS NULL";
        let insert = "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) \
                      VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let now = i64::try_from(key.created_at()).unwrap_or(i64::MAX);
            sqlx::query(supersede).bind(now).execute(&mut *transaction).await.map_err(store_error)?;
            bind_key(sqlx::query(insert), &key).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)
        })?;
        Ok(key)
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
        .bind(i64::try_from(key.created_at()).unwrap_or(i64::MAX))
}
