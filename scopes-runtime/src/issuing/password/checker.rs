//! Checking passwords: a [`PasswordChecker`] runs each check behind the fair queue on a fixed set of check
//! threads ([`CheckWorkers`]), under one [`PasswordPolicy`], with a stand-in hash for unknown users.

use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use argon2::password_hash::PasswordHash;

use super::{PasswordPolicy, is_bcrypt};
use crate::issuing::queue::{Busy, CheckQueue, PasswordCheckLimits};

/// Why a password could not be checked.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The queue is full, or the login waited its longest.
    Busy(Busy),
    /// No check thread is left to run it.
    Internal(String),
}

/// What a check found: whether the password matched, and, when it did against an outdated hash, the
/// hash that replaces it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) matched: bool,
    pub(crate) rehashed: Option<String>,
}

/// Checks passwords under one policy, through one queue.
pub(crate) struct PasswordChecker {
    policy: PasswordPolicy,
    /// Checked when the username is unknown: made when the checker is, at start-up, so the first unknown
    /// user's login costs what every other does.
    pub(super) stand_in: Option<Arc<str>>,
    /// The policy older hashes in the store were made under, while some may remain.
    legacy: Option<PasswordPolicy>,
    /// With a legacy policy, the least time a failed check takes, in nanoseconds: what checking a legacy
    /// hash takes (measured at start-up, then moved towards each legacy check's time). A quicker failed
    /// check (an unknown user's, or one against a current hash) waits out the difference after giving its
    /// place in the queue back, so neither whether a user exists nor whether their hash was upgraded shows
    /// in the time a wrong password takes.
    floor_nanos: AtomicU64,
    queue: Arc<CheckQueue>,
    workers: CheckWorkers,
}

impl std::fmt::Debug for PasswordChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChecker")
            .field("policy", &self.policy)
            .field("legacy", &self.legacy)
            .field("queue", &self.queue)
            .finish()
    }
}

impl PasswordChecker {
    /// Checks under `policy`; with `legacy`, the store may still hold hashes made under it (a legacy
    /// stand-in is timed at start-up, so the floor holds from the first login).
    pub(crate) fn new(policy: PasswordPolicy, legacy: Option<PasswordPolicy>, limits: PasswordCheckLimits) -> Self {
        let stand_in = stand_in_hash(policy);
        let legacy = legacy.filter(|legacy| *legacy != policy);
        let floor = legacy.and_then(stand_in_hash).map_or(Duration::ZERO, |(_, took)| took);
        // Making the stand-in took one check's work: the queue's first estimate of how long a check takes, so
        // it turns away at once, from the very first flood, the logins it could not start in time.
        let check_time = stand_in.as_ref().map(|(_, took)| *took);
        PasswordChecker {
            policy,
            stand_in: stand_in.map(|(hash, _)| hash),
            legacy,
            floor_nanos: AtomicU64::new(nanos(floor)),
            workers: CheckWorkers::start(limits.concurrent.max(1)),
            queue: Arc::new(CheckQueue::new(limits, check_time)),
        }
    }

    pub(crate) fn policy(&self) -> PasswordPolicy {
        self.policy
    }

    pub(crate) fn legacy(&self) -> Option<PasswordPolicy> {
        self.legacy
    }

    pub(crate) fn limits(&self) -> PasswordCheckLimits {
        self.queue.limits()
    }

    pub(super) fn floor(&self) -> Duration {
        Duration::from_nanos(self.floor_nanos.load(Ordering::Relaxed))
    }

    /// Moves the floor an eighth of the way to a legacy check's measured time.
    fn timed_legacy_check(&self, took: Duration) {
        let floor = self.floor_nanos.load(Ordering::Relaxed);
        self.floor_nanos.store(floor - floor / 8 + nanos(took) / 8, Ordering::Relaxed);
    }

    /// Checks `password` against `hash`, for `client` (bucketed as the throttle buckets it); when it
    /// matches a hash the policy no longer makes, hashes it anew, in the same place in the queue.
    ///
    /// `hash` is `None` when the username is unknown: the password is checked against the stand-in hash
    /// and does not match. A malformed stored hash matches nothing, and is logged.
    pub(crate) async fn verify(
        &self,
        client: Option<IpAddr>,
        password: String,
        hash: Option<String>,
    ) -> Result<Verdict, CheckError> {
        let slot = self.queue.admit(client).await.map_err(CheckError::Busy)?;
        let (stand_in, policy) = (self.stand_in.clone(), self.policy);
        let checks_legacy = self.legacy.zip(hash.as_deref()).is_some_and(|(legacy, hash)| legacy.is_current(hash));
        // The slot goes with the work: the next login starts when this check ends, even if the request
        // that asked for it is gone by then.
        let checked = self.workers.run(move || {
            let _slot = slot;
            let started = Instant::now();
            let verdict = check(policy, stand_in.as_deref(), &password, hash.as_deref());
            (verdict, started.elapsed())
        });
        let (verdict, took) = checked
            .await
            .map_err(|_| CheckError::Internal("password check did not finish: its worker is gone".to_owned()))?;
        if self.legacy.is_some() {
            if checks_legacy {
                self.timed_legacy_check(took);
            } else if !verdict.matched {
                // As long as a legacy hash's check would have taken. A match has nothing left to hide.
                tokio::time::sleep(self.floor().saturating_sub(took)).await;
            }
        }
        Ok(verdict)
    }
}

/// The threads password checks run on: as many as the queue lets run at once, kept for the checker's life.
///
/// Not tokio's blocking pool: a check allocates its whole Argon2 memory (19 MiB by default) on the thread
/// that runs it, the allocator keeps freed memory in each thread's arena, and the blocking pool spreads
/// checks over as many threads as it has (kept 10 s when idle), so the process grew by 19 MiB per thread it
/// ever used (467 MiB under the login bench). On a fixed set it stays at one check's memory per thread.
struct CheckWorkers {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl CheckWorkers {
    fn start(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("password-check-{index}")).spawn(move || {
                loop {
                    // Each job's place in the queue was taken before it was sent, so none waits here long.
                    let job = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    match job {
                        // A panicking check loses its result (its caller answers 500), not the thread.
                        Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                        // The checker is gone.
                        Err(_) => return,
                    }
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "a password-check thread could not start");
            }
        }
        CheckWorkers { jobs }
    }

    /// Runs `work` on a worker; its result, or an error when no worker is left to run it.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, oneshot::error::RecvError>> {
        let (done, result) = oneshot::channel();
        let job = Box::new(move || {
            let _ = done.send(work());
        });
        // A send fails only when every worker is gone; the dropped job then drops `done`, and the receiver
        // reports it.
        let _ = self.jobs.send(job);
        result
    }
}

/// The check itself, on a check worker: `hash` (or the stand-in, for an unknown user) against
/// `password`, and the replacement of a matching hash that `policy` no longer makes.
fn check(policy: PasswordPolicy, stand_in: Option<&str>, password: &str, hash: Option<&str>) -> Verdict {
    let no_match = Verdict { matched: false, rehashed: None };
    match (hash, stand_in) {
        (Some(hash), _) => {
            if !PasswordPolicy::verify(password, hash) {
                if !is_bcrypt(hash) && PasswordHash::new(hash).is_err() {
                    tracing::warn!("a stored password hash is malformed; answering as a wrong password");
                }
                return no_match;
            }
            let rehashed = (!policy.is_current(hash)).then(|| policy.hash(password)).and_then(|made| {
                made.map_err(|error| tracing::warn!(%error, "an outdated hash could not be replaced")).ok()
            });
            Verdict { matched: true, rehashed }
        }
        (None, Some(stand_in)) => {
            let _ = PasswordPolicy::verify(password, stand_in);
            no_match
        }
        // No stand-in could be made: hashing the password costs the same work.
        (None, None) => {
            let _ = policy.hash(password);
            no_match
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The stand-in hash for `policy` and about how long checking it takes, made once per policy in the process
/// (tests build many endpoints).
fn stand_in_hash(policy: PasswordPolicy) -> Option<(Arc<str>, Duration)> {
    static MADE: Mutex<Vec<(PasswordPolicy, Arc<str>, Duration)>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, hash, took)) = made.iter().find(|(made_under, _, _)| *made_under == policy) {
        return Some((hash.clone(), *took));
    }
    match policy.stand_in() {
        Ok((hash, took)) => {
            let hash: Arc<str> = hash.into();
            made.push((policy, hash.clone(), took));
            Some((hash, took))
        }
        Err(error) => {
            tracing::error!(%error, "no stand-in hash; unknown users' passwords will be hashed instead");
            None
        }
    }
}
