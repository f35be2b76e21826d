//! The throttle's counts in Redis, so that every replica of an app enforces one policy between them: ten
//! attempts per pair in all, not ten per replica.
//!
//! Each entry (pair, account, client) is two keys: its failures, a counter that expires one window after
//! the first failure (as the in-process table forgets them), and its attempts in flight, a counter that
//! expires [`PENDING_TTL`] after the last reservation, so a replica that dies mid-attempt leaks nothing for
//! long. Reserving and settling are one Lua script each, which Redis runs atomically: however many
//! attempts arrive at however many replicas, no more are evaluated than the policy allows.
//!
//! Redis that cannot be reached (or answers too slowly) fails closed: no password is checked, the login is
//! answered 503, and the log says why.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use redis::{RedisError, Script};

use super::{Outcome, Refusal, ThrottlePolicy};
use crate::redis_link::{RedisLink, within_timeout};

/// How long an attempt's place stays counted if its replica never settles it (it died mid-attempt): longer
/// than any attempt takes (a slowdown, a wait in the check queue, a check), short enough that a crash
/// locks nobody out for long.
const PENDING_TTL: Duration = Duration::from_secs(120);

/// Checks the pair's and the client's counts, then reserves a place in all three entries; answers
/// `{0, retry_after_ms}` or `{1, the account's failures}`.
const RESERVE: &str = r"
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
for i = 1, 2 do
  local failures = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local pending = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if failures + pending >= limits[i] then
    if failures >= limits[i] then
      local ttl = redis.call('PTTL', KEYS[2 * i - 1])
      if ttl < 0 then ttl = 1000 end
      return {0, ttl}
    end
    -- Refused by attempts still in flight alone: they settle within seconds.
    return {0, 1000}
  end
end
local account = tonumber(redis.call('GET', KEYS[5]) or '0')
for i = 2, 6, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return {1, account}
";

/// Releases the three places, and counts a failure in each entry (its window starting with its first) or,
/// for a success, clears the pair's.
const SETTLE: &str = r"
for i = 2, 6, 2 do
  if redis.call('DECR', KEYS[i]) <= 0 then redis.call('DEL', KEYS[i]) end
end
if ARGV[1] == 'failed' then
  for i = 1, 5, 2 do
    if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  end
elseif ARGV[1] == 'succeeded' then
  redis.call('DEL', KEYS[1])
end
return 1
";

/// The login throttle's counts in Redis, shared by every replica that uses the same Redis and key
/// prefix: give it to [`TokenEndpoint::with_redis_throttle`](crate::TokenEndpoint::with_redis_throttle).
///
/// It connects at its first use, and again whenever the connection is lost; while Redis cannot be
/// reached within a second, logins are answered 503 and no password is checked (failing open would give
/// an attacker unthrottled guesses during an outage). Keys are HMAC-SHA-256 digests of the username and the
/// client under a secret the replicas share, never the names themselves, and no dictionary of names
/// recovers them from a copy of Redis without that secret; under the prefix `scopes:login:` unless told
/// otherwise. One Redis server
/// (with replicas, if you like) holds them: not a Redis Cluster, since each step's script touches an
/// entry's keys together.
///
/// ```no_run
/// use scopes_runtime::{Authority, issuing::RedisThrottle, TokenEndpoint};
/// # scopes_runtime::registry! { scheme = "OAuth2PasswordBearer", token_url = "token", scopes = {} }
/// # fn main() -> Result<(), scopes_runtime::issuing::RedisThrottleError> {
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let tokens = TokenEndpoint::new(authority, &SCOPE_REGISTRY)
///     .with_redis_throttle(RedisThrottle::open("redis://127.0.0.1:6379/", b"a secret every replica shares, 32+ bytes")?);
/// # let _ = tokens;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisThrottle {
    shared: Arc<Shared>,
    policy: ThrottlePolicy,
}

struct Shared {
    /// Connected at the first use that reaches Redis; it reconnects by itself after that.
    link: Arc<RedisLink>,
    prefix: String,
    /// What key names are digested under.
    key_secret: aws_lc_rs::hmac::Key,
    reserve: Script,
    settle: Script,
}

impl Shared {
    fn new(link: Arc<RedisLink>, prefix: String, key_secret: aws_lc_rs::hmac::Key) -> Arc<Self> {
        let (reserve, settle) = (Script::new(RESERVE), Script::new(SETTLE));
        Arc::new(Shared { link, prefix, key_secret, reserve, settle })
    }
}

/// The Redis URL is unusable, or the key secret too short.
///
/// ```
/// use scopes_runtime::{issuing::RedisThrottle, issuing::RedisThrottleError};
/// let short = RedisThrottle::open("redis://127.0.0.1:6379/", b"short").unwrap_err();
/// assert!(matches!(short, RedisThrottleError::ShortKeySecret { length: 5, .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisThrottleError {
    /// The key secret is shorter than [`RedisThrottle::MIN_KEY_SECRET_BYTES`].
    #[error("not a Redis URL this crate can use: the key secret is {length} bytes; at least {minimum} are needed")]
    ShortKeySecret {
        /// Its length in bytes.
        length: usize,
        /// The least accepted.
        minimum: usize,
    },
    /// The URL is not one the Redis client opens.
    #[error("not a Redis URL this crate can use: {0}")]
    Url(redis::RedisError),
}

impl fmt::Debug for RedisThrottle {
    /// The policy and the key prefix; never the URL, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("policy", &self.policy)
            .field("prefix", &self.shared.prefix)
            .finish_non_exhaustive()
    }
}

/// The two keys of each entry an attempt holds: pair, client, account, in the scripts' order.
#[derive(Debug, Clone)]
pub(crate) struct Keys([String; 6]);

impl RedisThrottle {
    /// The throttle at `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`, or `rediss://` for TLS), under the
    /// default [`ThrottlePolicy`], its key names digested under `key_secret` (at least
    /// [`MIN_KEY_SECRET_BYTES`](Self::MIN_KEY_SECRET_BYTES)), which every replica must share: replicas
    /// with different secrets count apart. Nothing is connected yet.
    ///
    /// ```
    /// use scopes_runtime::issuing::RedisThrottle;
    /// let secret = [7u8; 32];
    /// assert!(RedisThrottle::open("redis://127.0.0.1:6379/", &secret).is_ok());
    /// assert!(RedisThrottle::open("http://127.0.0.1/", &secret).is_err());
    /// assert!(RedisThrottle::open("redis://127.0.0.1:6379/", b"short").is_err());
    /// ```
    pub fn open(url: &str, key_secret: &[u8]) -> Result<Self, RedisThrottleError> {
        if key_secret.len() < Self::MIN_KEY_SECRET_BYTES {
            return Err(RedisThrottleError::ShortKeySecret {
                length: key_secret.len(),
                minimum: Self::MIN_KEY_SECRET_BYTES,
            });
        }
        let link = Arc::new(RedisLink::open(url).map_err(RedisThrottleError::Url)?);
        let key_secret = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key_secret);
        Ok(RedisThrottle {
            shared: Shared::new(link, "scopes:login:".into(), key_secret),
            policy: ThrottlePolicy::default(),
        })
    }

    /// The shortest key secret [`open`](Self::open) takes.
    pub const MIN_KEY_SECRET_BYTES: usize = 16;

    /// Keeps its keys under `prefix` instead: apps sharing one Redis keep their counts apart by it.
    pub fn with_key_prefix(self, prefix: impl Into<String>) -> Self {
        let shared = Shared::new(self.shared.link.clone(), prefix.into(), self.shared.key_secret.clone());
        RedisThrottle { shared, policy: self.policy }
    }

    /// Whether Redis answers now: for a start-up that would rather say so in its log at once.
    pub async fn ping(&self) -> Result<(), String> {
        self.shared.link.query::<String>(&redis::cmd("PING")).await.map(drop).map_err(|error| error.to_string())
    }

    pub(crate) fn with_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.policy = policy;
        self
    }

    pub(crate) fn policy(&self) -> &ThrottlePolicy {
        &self.policy
    }

    pub(crate) async fn reserve(&self, username: &str, client: Option<IpAddr>) -> Result<(Keys, u32), Refusal> {
        let keys = self.keys(username, client);
        let answer: Result<(u8, u64), RedisError> = self
            .run(
                &self.shared.reserve,
                &keys,
                [
                    u64::from(self.policy.attempts_per_pair).to_string(),
                    u64::from(self.policy.attempts_per_client).to_string(),
                    millis(PENDING_TTL).to_string(),
                ],
            )
            .await;
        match answer {
            Ok((1, account_failures)) => Ok((keys, u32::try_from(account_failures).unwrap_or(u32::MAX))),
            Ok((_, retry_after_ms)) => Err(Refusal::TooMany(Duration::from_millis(retry_after_ms))),
            Err(error) => {
                tracing::error!(
                    %error,
                    "the login throttle's Redis cannot be reached: refusing password checks (503) until it can"
                );
                Err(Refusal::Unavailable)
            }
        }
    }

    pub(crate) async fn settle(&self, keys: &Keys, outcome: Outcome) {
        let outcome_name = match outcome {
            Outcome::Failed => "failed",
            Outcome::Succeeded => "succeeded",
            Outcome::Withdrawn => "withdrawn",
        };
        let settled: Result<u8, RedisError> = self
            .run(&self.shared.settle, keys, [outcome_name.to_owned(), millis(self.policy.window).to_string()])
            .await;
        if let Err(error) = settled {
            // The place stays counted until its expiry: the attempt is refused to nobody for longer.
            tracing::warn!(%error, outcome = outcome_name, "a login attempt's count was not settled in Redis");
        }
    }

    /// The keys of the pair, the client and the account: keyed digests, so Redis never holds a username or
    /// an address, a key's length does not depend on them, and only a holder of the secret can tell whose
    /// a key is.
    fn keys(&self, username: &str, client: Option<IpAddr>) -> Keys {
        let client = client.map_or_else(|| "none".to_owned(), |client| client.to_string());
        let entry = |parts: &[&str]| {
            let mut hash = aws_lc_rs::hmac::Context::with_key(&self.shared.key_secret);
            for part in parts {
                // Length-prefixed, so no two lists of parts hash alike.
                hash.update(&(part.len() as u64).to_be_bytes());
                hash.update(part.as_bytes());
            }
            let digest = hash.sign();
            let hex: String = digest.as_ref()[..16].iter().map(|byte| format!("{byte:02x}")).collect();
            format!("{}{hex}", self.shared.prefix)
        };
        let (pair, client, account) =
            (entry(&["pair", username, &client]), entry(&["client", &client]), entry(&["account", username]));
        Keys([
            format!("{pair}:failures"),
            format!("{pair}:pending"),
            format!("{client}:failures"),
            format!("{client}:pending"),
            format!("{account}:failures"),
            format!("{account}:pending"),
        ])
    }

    async fn run<T: redis::FromRedisValue, const N: usize>(
        &self,
        script: &Script,
        keys: &Keys,
        arguments: [String; N],
    ) -> Result<T, RedisError> {
        let mut connection = self.shared.link.connection().await?;
        let mut invocation = script.prepare_invoke();
        for key in &keys.0 {
            invocation.key(key);
        }
        for argument in &arguments {
            invocation.arg(argument);
        }
        within_timeout(invocation.invoke_async(&mut connection)).await
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}
