//! Refresh tokens in the [`SqlStore`]: a use is one transaction (the conditional update marks the token
//! used, so of two uses at once, on any replicas, exactly one rotates), and a reuse revokes the family.

use std::time::Duration;

use sqlx::Row;

use super::{Pool, SqlStore, store_error};
use crate::{NewRefreshToken, RefreshGrant, RefreshOutcome, StoreError};

/// Unix seconds as the schema's BIGINT.
fn seconds(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

impl SqlStore {
    pub(super) async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<(), StoreError> {
        let insert = "INSERT INTO refresh_tokens \
                      (token_hash, family, username, scopes, issued_at, expires_at, family_expires_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let now = crate::issuing::signing_keys::unix_now();
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            // Families past their end are of no use to anyone: dropped as new ones start.
            sqlx::query("DELETE FROM refresh_tokens WHERE family_expires_at < $1")
                .bind(seconds(now))
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            sqlx::query(insert)
                .bind(&token.hash)
                .bind(&token.family)
                .bind(&token.username)
                .bind(token.scopes.join(" "))
                .bind(seconds(now))
                .bind(seconds(token.expires_at))
                .bind(seconds(token.family_expires_at))
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            transaction.commit().await.map_err(store_error)
        })
    }

    pub(super) async fn current_refresh_grant(&self, hash: &str, now: u64) -> Result<Option<RefreshGrant>, StoreError> {
        let select = "SELECT username, scopes FROM refresh_tokens \
                      WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
        on_pool!(self, pool => {
            let row = sqlx::query(select).bind(hash).bind(seconds(now)).fetch_optional(pool).await.map_err(store_error)?;
            match row {
                Some(row) => Ok(Some(RefreshGrant {
                    username: row.try_get("username").map_err(store_error)?,
                    scopes: split_scopes(&row.try_get::<String, _>("scopes").map_err(store_error)?),
                })),
                None => Ok(None),
            }
        })
    }

    pub(super) async fn use_refresh_token(
        &self,
        hash: &str,
        replacement_hash: &str,
        now: u64,
        lifetime: Duration,
    ) -> Result<RefreshOutcome, StoreError> {
        let use_it = "UPDATE refresh_tokens SET used_at = $2 \
                      WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
                      RETURNING family, username, scopes, family_expires_at";
        let insert = "INSERT INTO refresh_tokens \
                      (token_hash, family, username, scopes, issued_at, expires_at, family_expires_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let find = "SELECT family, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1";
        let revoke = "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL";
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let used = sqlx::query(use_it)
                .bind(hash)
                .bind(seconds(now))
                .fetch_optional(&mut *transaction)
                .await
                .map_err(store_error)?;
            let outcome = if let Some(used) = used {
                let family: String = used.try_get("family").map_err(store_error)?;
                let username: String = used.try_get("username").map_err(store_error)?;
                let scopes: String = used.try_get("scopes").map_err(store_error)?;
                let family_expires_at: i64 = used.try_get("family_expires_at").map_err(store_error)?;
                let expires_at = seconds(now.saturating_add(lifetime.as_secs())).min(family_expires_at);
                sqlx::query(insert)
                    .bind(replacement_hash)
                    .bind(&family)
                    .bind(&username)
                    .bind(&scopes)
                    .bind(seconds(now))
                    .bind(expires_at)
                    .bind(family_expires_at)
                    .execute(&mut *transaction)
                    .await
                    .map_err(store_error)?;
                RefreshOutcome::Rotated
            } else {
                let found = sqlx::query(find).bind(hash).fetch_optional(&mut *transaction).await.map_err(store_error)?;
                let mut outcome = RefreshOutcome::Invalid;
                if let Some(found) = found {
                    let used_at: Option<i64> = found.try_get("used_at").map_err(store_error)?;
                    let revoked_at: Option<i64> = found.try_get("revoked_at").map_err(store_error)?;
                    if used_at.is_some() && revoked_at.is_none() {
                        let family: String = found.try_get("family").map_err(store_error)?;
                        sqlx::query(revoke).bind(&family).bind(seconds(now)).execute(&mut *transaction).await.map_err(store_error)?;
                        outcome = RefreshOutcome::Reused;
                    }
                }
                outcome
            };
            transaction.commit().await.map_err(store_error)?;
            Ok(outcome)
        })
    }

    pub(super) async fn revoke_family_of(&self, hash: &str, now: u64) -> Result<bool, StoreError> {
        let revoke = "UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL \
                      AND family = (SELECT family FROM refresh_tokens WHERE token_hash = $1)";
        on_pool!(self, pool => {
            let done = sqlx::query(revoke).bind(hash).bind(seconds(now)).execute(pool).await.map_err(store_error)?;
            Ok(done.rows_affected() > 0)
        })
    }
}

fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}
