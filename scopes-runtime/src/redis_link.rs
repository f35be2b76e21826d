//! One Redis connection, made at its first use and remade by itself when lost, every connect and command
//! held to a time limit: what the login throttle and the DPoP replay cache share with Redis.

use std::time::Duration;

use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// How long connecting to Redis, or one command, may take before the request is answered 503.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// A client and the connection made from it at its first use.
pub(crate) struct RedisLink {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
}

impl RedisLink {
    /// A link to `url`, not connected yet.
    pub(crate) fn open(url: &str) -> Result<Self, RedisError> {
        Ok(RedisLink { client: redis::Client::open(url)?, connection: OnceCell::new() })
    }

    /// The connection, made now if it was never made (within [`REDIS_TIMEOUT`]).
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connect = ConnectionManager::new_with_config(self.client.clone(), config);
        let connection = self
            .connection
            .get_or_try_init(|| async {
                tokio::time::timeout(REDIS_TIMEOUT, connect).await.unwrap_or_else(|_| {
                    Err(RedisError::from((redis::ErrorKind::Io, "connecting to Redis took over a second")))
                })
            })
            .await?;
        Ok(connection.clone())
    }

    /// `command`'s answer, within [`REDIS_TIMEOUT`].
    pub(crate) async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, RedisError> {
        let mut connection = self.connection().await?;
        within_timeout(command.query_async(&mut connection)).await
    }
}

/// `answer`, or an I/O error when Redis takes longer than [`REDIS_TIMEOUT`].
pub(crate) async fn within_timeout<T>(answer: impl Future<Output = Result<T, RedisError>>) -> Result<T, RedisError> {
    match tokio::time::timeout(REDIS_TIMEOUT, answer).await {
        Ok(answer) => answer,
        Err(_) => Err(RedisError::from((redis::ErrorKind::Io, "Redis did not answer within a second"))),
    }
}
