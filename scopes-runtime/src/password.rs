//! Password checks with bcrypt, run on tokio's blocking pool so a login never stalls the async workers.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::AuthError;

/// How many bcrypt checks run at once: the number of cores.
static BCRYPT_PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// The cost of the stand-in hash checked for unknown users; matches the seed's hashes.
const STAND_IN_COST: u32 = 12;

/// A real hash (random salt) checked when the username is unknown, so that such a login costs the same
/// bcrypt work as a wrong password and response time does not reveal which users exist. The answer for
/// an unknown user is `false` whatever the password, so the hashed text need not be secret.
static STAND_IN_HASH: LazyLock<Option<String>> = LazyLock::new(|| bcrypt::hash("stand-in", STAND_IN_COST).ok());

/// Checks `password` against `hash` on the blocking pool.
///
/// `hash` is `None` when the username is unknown: the password is then checked against a stand-in hash
/// of the same cost and the answer is always `false`. A malformed stored hash also answers `false` (and
/// is logged), never an error the client could tell apart.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let hash = bcrypt::hash("secret", 4).unwrap();
/// assert!(scopes_runtime::verify_password("secret", Some(&hash)).await.unwrap());
/// assert!(!scopes_runtime::verify_password("wrong", Some(&hash)).await.unwrap());
/// # }
/// ```
pub async fn verify_password(password: &str, hash: Option<&str>) -> Result<bool, AuthError> {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    // One bcrypt check per core at a time: a login flood queues here instead of taking every thread of
    // the blocking pool (which other blocking work needs too) and the cores the other requests need.
    let _permit = BCRYPT_PERMITS.acquire().await.map_err(|e| AuthError::Internal(format!("bcrypt permits: {e}")))?;
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => bcrypt::verify(&password, &hash).unwrap_or_else(|error| {
            tracing::warn!(%error, "password check failed; answering as a wrong password");
            false
        }),
        None => {
            if let Some(stand_in) = STAND_IN_HASH.as_deref() {
                let _ = bcrypt::verify(&password, stand_in);
            }
            false
        }
    })
    .await
    .map_err(|e| AuthError::Internal(format!("password check did not finish: {e}")))
}
