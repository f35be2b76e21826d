//! Refresh-token families in the [`SqlStore`], one row each (`migrations/*_refresh_families.sql`): the row
//! holds the hash of the one current token, so a rotation is one conditional UPDATE (of two uses at once,
//! on any replicas, exactly one matches), and a revocation is one UPDATE of the same row. PostgreSQL locks
//! that row from either UPDATE to its commit and SQLite serialises writers, so a rotation and a revocation
//! of one family never interleave: once revoked, no token of the family is current again.

use sqlx::Row;

use super::{SqlPool, SqlStore, store_error};
use crate::reloading::StoreError;
use crate::store::{NewRefreshToken, PresentedRefreshToken, RefreshGrant, RefreshOutcome, RefreshPolicy};

/// Unix seconds as the schema's BIGINT.
pub(super) fn seconds(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

/// How long a revoked family's row is kept: long enough for every replica to refuse the access tokens
/// issued from it (which name it) until they expire, then it goes, as expired families do.
const KEEP_REVOKED: u64 = 24 * 3600;

/// The length of the window a family's rotations are counted in.
const ROTATION_WINDOW: i64 = 60;

impl SqlStore {
    pub(super) async fn insert_refresh_family(
        &self,
        token: &NewRefreshToken,
        policy: &RefreshPolicy,
    ) -> Result<(), StoreError> {
        let now = crate::keys::clock::unix_now();
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let started_at_ms = i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX);
        // Takes the account's row lock (PostgreSQL; SQLite's write lock), so logins of one user at once
        // count their families one after the other.
        let lock_account = "UPDATE accounts SET disabled = disabled WHERE username = $1";
        let insert = "INSERT INTO refresh_families \
                      (family_key, username, scopes, started_at_ms, expires_at, current_hash, current_expires_at, dpop_jkt) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        // Beyond the cap, the user's oldest live families are revoked.
        let cap = "UPDATE refresh_families SET revoked_at = $2 WHERE username = $1 AND revoked_at IS NULL \
                   AND family_key NOT IN (SELECT family_key FROM refresh_families \
                       WHERE username = $1 AND revoked_at IS NULL ORDER BY started_at_ms DESC, family_key LIMIT $3)";
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let locked = sqlx::query(lock_account).bind(&token.username).execute(&mut *transaction).await;
            if locked.map_err(store_error)?.rows_affected() == 0 {
                return Err(StoreError::UnknownUser(token.username.clone()));
            }
            sqlx::query(insert)
                .bind(&token.family)
                .bind(&token.username)
                .bind(token.scopes.join(" "))
                .bind(started_at_ms)
                .bind(seconds(token.family_expires_at))
                .bind(&token.hash)
                .bind(seconds(token.expires_at))
                .bind(&token.dpop_jkt)
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            sqlx::query(cap)
                .bind(&token.username)
                .bind(seconds(now))
                .bind(i64::from(policy.families_per_user.max(1)))
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            // Families past their end, and revoked ones past the access tokens they issued, go as new
            // ones start: storage stays bounded by the users' live families.
            sqlx::query("DELETE FROM refresh_families WHERE expires_at < $1 OR revoked_at < $2")
                .bind(seconds(now))
                .bind(seconds(now.saturating_sub(KEEP_REVOKED)))
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            transaction.commit().await.map_err(store_error)
        })
    }

    pub(super) async fn current_refresh_grant(&self, hash: &str, now: u64) -> Result<Option<RefreshGrant>, StoreError> {
        let select = "SELECT family_key, username, scopes, dpop_jkt FROM refresh_families \
                      WHERE current_hash = $1 AND revoked_at IS NULL AND current_expires_at > $2 AND expires_at > $2";
        on_pool!(self, pool => {
            let row = sqlx::query(select).bind(hash).bind(seconds(now)).fetch_optional(pool).await.map_err(store_error)?;
            match row {
                Some(row) => Ok(Some(RefreshGrant {
                    family: row.try_get("family_key").map_err(store_error)?,
                    username: row.try_get("username").map_err(store_error)?,
                    scopes: split_scopes(&row.try_get::<String, _>("scopes").map_err(store_error)?),
                    dpop_jkt: row.try_get("dpop_jkt").map_err(store_error)?,
                })),
                None => Ok(None),
            }
        })
    }

    pub(super) async fn rotate_refresh_family(
        &self,
        presented: &PresentedRefreshToken,
        replacement_hash: &str,
        now: u64,
        policy: &RefreshPolicy,
    ) -> Result<RefreshOutcome, StoreError> {
        // All right-hand sides read the row as it was: the window restarts when a minute has passed.
        let rotate = "UPDATE refresh_families SET current_hash = $2, \
                          current_expires_at = CASE WHEN $3 < expires_at THEN $3 ELSE expires_at END, \
                          window_rotations = CASE WHEN window_started_at > $4 - $6 THEN window_rotations + 1 ELSE 1 END, \
                          window_started_at = CASE WHEN window_started_at > $4 - $6 THEN window_started_at ELSE $4 END \
                      WHERE current_hash = $1 AND revoked_at IS NULL AND current_expires_at > $4 AND expires_at > $4 \
                          AND (window_started_at <= $4 - $6 OR window_rotations < $5)";
        let find = "SELECT username, current_hash, revoked_at, current_expires_at, expires_at \
                    FROM refresh_families WHERE family_key = $1";
        let revoke = "UPDATE refresh_families SET revoked_at = $2 WHERE family_key = $1 AND revoked_at IS NULL";
        let replacement_expires_at = seconds(now.saturating_add(policy.lifetime.as_secs()));
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            let rotated = sqlx::query(rotate)
                .bind(&presented.hash)
                .bind(replacement_hash)
                .bind(replacement_expires_at)
                .bind(seconds(now))
                .bind(i64::from(policy.rotations_per_minute.max(1)))
                .bind(ROTATION_WINDOW)
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            if rotated.rows_affected() == 1 {
                transaction.commit().await.map_err(store_error)?;
                return Ok(RefreshOutcome::Rotated);
            }
            let found = sqlx::query(find).bind(&presented.family).fetch_optional(&mut *transaction).await.map_err(store_error)?;
            let Some(found) = found else { return Ok(RefreshOutcome::Invalid) };
            let revoked_at: Option<i64> = found.try_get("revoked_at").map_err(store_error)?;
            let current_hash: String = found.try_get("current_hash").map_err(store_error)?;
            let current_expires_at: i64 = found.try_get("current_expires_at").map_err(store_error)?;
            let expires_at: i64 = found.try_get("expires_at").map_err(store_error)?;
            let live = revoked_at.is_none() && expires_at > seconds(now);
            if !live {
                return Ok(RefreshOutcome::Invalid);
            }
            if current_hash == presented.hash {
                // Current but not rotated: expired unused, or the family's minute is used up.
                return Ok(if current_expires_at > seconds(now) { RefreshOutcome::Throttled } else { RefreshOutcome::Invalid });
            }
            // A token of the family that is not its current one: replayed.
            sqlx::query(revoke).bind(&presented.family).bind(seconds(now)).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)?;
            Ok(RefreshOutcome::Reused { username: found.try_get("username").map_err(store_error)? })
        })
    }

    pub(super) async fn revoke_refresh_family_of(
        &self,
        presented: &PresentedRefreshToken,
        now: u64,
    ) -> Result<bool, StoreError> {
        // By the family the token names, or (a family carried over from before families had ids) by its
        // current token.
        let revoke = "UPDATE refresh_families SET revoked_at = $3 \
                      WHERE revoked_at IS NULL AND (family_key = $1 OR current_hash = $2)";
        on_pool!(self, pool => {
            let done = sqlx::query(revoke)
                .bind(&presented.family)
                .bind(&presented.hash)
                .bind(seconds(now))
                .execute(pool)
                .await
                .map_err(store_error)?;
            Ok(done.rows_affected() > 0)
        })
    }

    pub(super) async fn revoke_access_token_by_id(&self, jti: &str, expires_at: u64) -> Result<(), StoreError> {
        let insert = "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING";
        let now = crate::keys::clock::unix_now();
        on_pool!(self, pool => {
            let mut transaction = pool.begin().await.map_err(store_error)?;
            sqlx::query("DELETE FROM revoked_access_tokens WHERE expires_at < $1")
                .bind(seconds(now))
                .execute(&mut *transaction)
                .await
                .map_err(store_error)?;
            sqlx::query(insert).bind(jti).bind(seconds(expires_at)).execute(&mut *transaction).await.map_err(store_error)?;
            transaction.commit().await.map_err(store_error)
        })
    }

    pub(super) async fn current_revocations(
        &self,
        now: u64,
        since: u64,
    ) -> Result<crate::verifying::Revoked, StoreError> {
        let tokens = "SELECT jti FROM revoked_access_tokens WHERE expires_at >= $1";
        let families = "SELECT family_key FROM refresh_families WHERE revoked_at >= $1";
        on_pool!(self, pool => {
            let access_tokens = sqlx::query(tokens).bind(seconds(now)).fetch_all(pool).await.map_err(store_error)?;
            let revoked_families = sqlx::query(families).bind(seconds(since)).fetch_all(pool).await.map_err(store_error)?;
            Ok(crate::verifying::Revoked {
                access_tokens: access_tokens.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>().map_err(store_error)?,
                families: revoked_families.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>().map_err(store_error)?,
            })
        })
    }
}

fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{RefreshOutcome, RefreshTokenStore};

    /// A database as the version before refresh families left it: its migrations up to refresh tokens kept
    /// one row per token; a live family of two tokens (one used), and a revoked family.
    async fn legacy_database(dir: &std::path::Path) -> String {
        let earlier = dir.join("migrations");
        std::fs::create_dir(&earlier).unwrap();
        let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for entry in std::fs::read_dir(&all).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().as_ref() < "20261207" {
                std::fs::copy(&path, earlier.join(path.file_name().unwrap())).unwrap();
            }
        }
        let url = format!("sqlite://{}", dir.join("legacy.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        let SqlPool::Sqlite(pool) = &store.pool else { unreachable!("a SQLite URL") };
        sqlx::migrate::Migrator::new(earlier.as_path()).await.unwrap().run(pool).await.unwrap();
        let insert = "INSERT INTO refresh_tokens (token_hash, family, username, scopes, issued_at, expires_at, \
                      family_expires_at, used_at, revoked_at) VALUES ($1, $2, 'johndoe', 'me items', 1, $3, $3, $4, $5)";
        let far = i64::MAX / 2;
        sqlx::query("INSERT INTO accounts (username, password_hash) VALUES ('johndoe', 'x')")
            .execute(pool)
            .await
            .unwrap();
        for (hash, family, used, revoked) in
            [("used", "live", Some(5), None), ("current", "live", None, None), ("gone", "dead", None, Some(5))]
        {
            sqlx::query(insert).bind(hash).bind(family).bind(far).bind(used).bind(revoked).execute(pool).await.unwrap();
        }
        store.close().await;
        url
    }

    #[tokio::test]
    async fn live_families_carry_over_from_one_row_per_token_with_their_current_token() {
        let dir = tempfile::tempdir().unwrap();
        let url = legacy_database(dir.path()).await;
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let now = crate::keys::clock::unix_now();
        let grant = store.find_refresh_token("current", now).await.unwrap().expect("the live family's token");
        assert_eq!(
            (grant.username.as_str(), grant.scopes.as_slice()),
            ("johndoe", &["me".to_owned(), "items".to_owned()][..])
        );
        assert!(store.find_refresh_token("used", now).await.unwrap().is_none());
        assert!(store.find_refresh_token("gone", now).await.unwrap().is_none(), "a revoked family ends");
        let presented = PresentedRefreshToken { hash: "current".into(), family: String::new() };
        let policy = RefreshPolicy { lifetime: Duration::from_secs(60), ..RefreshPolicy::default() };
        let rotated = store.rotate_refresh_token(&presented, "next", now, &policy).await.unwrap();
        assert_eq!(rotated, RefreshOutcome::Rotated);
        assert!(store.find_refresh_token("next", now).await.unwrap().is_some());
    }
}
