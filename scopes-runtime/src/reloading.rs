//! What is loaded from a store and kept fresh while it is held (the key ring, the revocations): the error a
//! store answers with ([`StoreError`]) and the task that reloads. Below the keys and the verifiers that
//! load through it, and the store that implements the loading.

use std::sync::Arc;
use std::time::Duration;

/// Why a store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer (the database is down, or slower than the timeouts allow). Answered 503.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// No account has this name.
    #[error("no user named `{0}`")]
    UnknownUser(String),
    /// An account already has this name.
    #[error("a user named `{0}` already exists")]
    DuplicateUser(String),
    /// The store's configuration or contents are wrong (a malformed URL, a failed migration).
    #[error("{0}")]
    Invalid(String),
}

/// Runs `reload` on what `shared` points to every `every`, for as long as something else holds it; a failed
/// reload is logged, naming `what`, and what is in hand is kept. How the key ring and the revocations stay
/// as fresh as the store.
pub(crate) async fn reload_while_held<T, R>(shared: std::sync::Weak<T>, every: Duration, what: &str, reload: R)
where
    R: AsyncFn(Arc<T>) -> Result<(), StoreError>,
{
    loop {
        tokio::time::sleep(every).await;
        let Some(shared) = shared.upgrade() else { return };
        if let Err(error) = reload(shared).await {
            tracing::warn!(%error, "reloading {what} failed; keeping those in hand");
        }
    }
}
