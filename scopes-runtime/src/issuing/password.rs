//! Password checks with bcrypt: run on tokio's blocking pool, behind the fair queue, so a login never
//! stalls the async workers and a flood cannot starve other logins; an unknown user costs exactly the
//! work of a known one.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::queue::{Busy, CheckQueue, PasswordCheckLimits};

/// How passwords are hashed: what the stored hashes were made with, and so what an unknown user's login
/// must cost for its timing to tell nothing.
///
/// ```
/// use scopes_runtime::PasswordPolicy;
///
/// let policy = PasswordPolicy::bcrypt(4).unwrap();
/// let hash = policy.hash("secret").unwrap();
/// assert!(hash.starts_with("$2b$04$"));
/// assert!(PasswordPolicy::bcrypt(3).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    cost: u32,
}

/// A bcrypt cost outside 4..=31, or a hash that could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PasswordPolicyError(String);

impl PasswordPolicy {
    /// bcrypt at `cost` (4 to 31; every step doubles the work).
    pub fn bcrypt(cost: u32) -> Result<Self, PasswordPolicyError> {
        if (4..=31).contains(&cost) {
            Ok(PasswordPolicy { cost })
        } else {
            Err(PasswordPolicyError(format!("bcrypt cost {cost} is outside 4..=31")))
        }
    }

    /// The bcrypt cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// Hashes `password` under this policy, with a random salt. It takes the full bcrypt work: call it
    /// from blocking code (a CLI, a test), or through `tokio::task::spawn_blocking`.
    pub fn hash(&self, password: &str) -> Result<String, PasswordPolicyError> {
        bcrypt::hash(password, self.cost).map_err(|error| PasswordPolicyError(error.to_string()))
    }
}

impl Default for PasswordPolicy {
    /// bcrypt at cost 12, as FastAPI's tutorial hashes.
    fn default() -> Self {
        PasswordPolicy { cost: 12 }
    }
}

/// Why a password could not be checked.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The queue is full, or the login waited its longest.
    Busy(Busy),
    /// The blocking pool is gone.
    Internal(String),
}

/// Checks passwords under one policy, through one queue.
pub(crate) struct PasswordChecker {
    policy: PasswordPolicy,
    /// Checked when the username is unknown: made when the checker is, at start-up, so the first unknown
    /// user's login costs what every other does.
    stand_in: Option<Arc<str>>,
    queue: Arc<CheckQueue>,
}

impl std::fmt::Debug for PasswordChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChecker").field("policy", &self.policy).field("queue", &self.queue).finish()
    }
}

impl PasswordChecker {
    pub(crate) fn new(policy: PasswordPolicy, limits: PasswordCheckLimits) -> Self {
        let stand_in = stand_in_hash(policy);
        // Making the stand-in took one check's work: the queue's first estimate of how long a check takes, so
        // it turns away at once, from the very first flood, the logins it could not start in time.
        let check_time = stand_in.as_ref().map(|(_, took)| *took);
        PasswordChecker {
            policy,
            stand_in: stand_in.map(|(hash, _)| hash),
            queue: Arc::new(CheckQueue::new(limits, check_time)),
        }
    }

    pub(crate) fn policy(&self) -> PasswordPolicy {
        self.policy
    }

    pub(crate) fn limits(&self) -> PasswordCheckLimits {
        self.queue.limits()
    }

    /// Checks `password` against `hash`, for `client` (bucketed as the throttle buckets it).
    ///
    /// `hash` is `None` when the username is unknown: the password is checked against the stand-in hash
    /// and the answer is `false`. A malformed stored hash also answers `false`, and is logged.
    pub(crate) async fn verify(
        &self,
        client: Option<IpAddr>,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, CheckError> {
        let slot = self.queue.admit(client).await.map_err(CheckError::Busy)?;
        let stand_in = self.stand_in.clone();
        let cost = self.policy.cost;
        // The slot goes with the work: the next login starts when this check ends, even if the request
        // that asked for it is gone by then.
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            match (hash, stand_in) {
                (Some(hash), _) => bcrypt::verify(&password, &hash).unwrap_or_else(|error| {
                    tracing::warn!(%error, "a stored password hash is malformed; answering as a wrong password");
                    false
                }),
                (None, Some(stand_in)) => {
                    let _ = bcrypt::verify(&password, &stand_in);
                    false
                }
                // No stand-in could be made: hashing the password costs the same work.
                (None, None) => {
                    let _ = bcrypt::hash(&password, cost);
                    false
                }
            }
        })
        .await
        .map_err(|error| CheckError::Internal(format!("password check did not finish: {error}")))
    }
}

/// The stand-in hash for `policy` and how long making it took, made once per cost in the process (tests
/// build many endpoints).
fn stand_in_hash(policy: PasswordPolicy) -> Option<(Arc<str>, Duration)> {
    static MADE: Mutex<Vec<(u32, Arc<str>, Duration)>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, hash, took)) = made.iter().find(|(cost, _, _)| *cost == policy.cost) {
        return Some((hash.clone(), *took));
    }
    let started = Instant::now();
    match policy.hash("stand-in for unknown users") {
        Ok(hash) => {
            let (hash, took): (Arc<str>, _) = (hash.into(), started.elapsed());
            made.push((policy.cost, hash.clone(), took));
            Some((hash, took))
        }
        Err(error) => {
            tracing::error!(%error, "no stand-in hash; unknown users' passwords will be hashed instead");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn known_unknown_and_malformed() {
        let policy = PasswordPolicy::bcrypt(4).unwrap();
        let checker = PasswordChecker::new(policy, PasswordCheckLimits::default());
        let hash = policy.hash("secret").unwrap();
        assert!(checker.verify(None, "secret".into(), Some(hash.clone())).await.unwrap());
        assert!(!checker.verify(None, "wrong".into(), Some(hash)).await.unwrap());
        assert!(!checker.verify(None, "secret".into(), None).await.unwrap());
        assert!(!checker.verify(None, "secret".into(), Some("not a hash".into())).await.unwrap());
    }

    #[test]
    fn the_stand_in_has_the_policys_cost_and_is_made_up_front() {
        let policy = PasswordPolicy::bcrypt(5).unwrap();
        let checker = PasswordChecker::new(policy, PasswordCheckLimits::default());
        assert!(checker.stand_in.as_deref().unwrap().starts_with("$2b$05$"));
    }
}
