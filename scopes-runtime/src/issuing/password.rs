//! Password hashing and checks: Argon2id for new hashes (OWASP's parameters by default), bcrypt hashes
//! (`$2a$`, `$2b$`, `$2y$`) still verified and replaced after a successful login. Checks run on a fixed set
//! of check threads (not tokio's blocking pool: see [`CheckWorkers`]), each keeping its Argon2 memory,
//! behind the fair queue, so a login never stalls the async workers, a flood cannot starve other logins,
//! and memory stays at one block per thread; an unknown user costs exactly the work of a known one.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use std::future::Future;

use tokio::sync::oneshot;

use super::queue::{Busy, CheckQueue, PasswordCheckLimits};

/// How new passwords are hashed, and so which stored hashes are outdated: a successful login with one is
/// followed by its replacement. Whatever the policy, hashes of both schemes verify.
///
/// The default is Argon2id with OWASP's parameters (19 MiB of memory, 2 passes, 1 lane). bcrypt remains
/// for stores that must keep making bcrypt hashes; it reads at most 72 bytes of a password, so under it a
/// longer password cannot be hashed (and is refused rather than silently cut).
///
/// ```
/// use scopes_runtime::PasswordPolicy;
///
/// // Cheap parameters, for a test; keep the default in production.
/// let policy = PasswordPolicy::argon2id(1024, 1, 1).unwrap();
/// let hash = policy.hash("secret").unwrap();
/// assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
/// assert!(PasswordPolicy::verify("secret", &hash));
/// assert!(policy.is_current(&hash));
///
/// // A bcrypt hash still verifies, and is outdated under an Argon2id policy.
/// let old = PasswordPolicy::bcrypt(4).unwrap().hash("secret").unwrap();
/// assert!(PasswordPolicy::verify("secret", &old));
/// assert!(!policy.is_current(&old));
/// assert!(PasswordPolicy::bcrypt(3).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordPolicy {
    scheme: Scheme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scheme {
    Bcrypt { cost: u32 },
    Argon2id { memory_kib: u32, iterations: u32, parallelism: u32 },
}

/// Parameters out of range, or a hash that could not be made.
///
/// ```
/// use scopes_runtime::{PasswordPolicy, PasswordPolicyError};
/// assert!(matches!(PasswordPolicy::bcrypt(3), Err(PasswordPolicyError::BcryptCost(3))));
/// let long = "x".repeat(73);
/// assert!(matches!(PasswordPolicy::bcrypt(4).unwrap().hash(&long), Err(PasswordPolicyError::TooLongForBcrypt)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// Argon2id parameters outside the `argon2` crate's bounds.
    #[error("Argon2id parameters: {0}")]
    Argon2Parameters(argon2::Error),
    /// Making an Argon2id hash failed.
    #[error("{0}")]
    Argon2Hash(argon2::password_hash::Error),
    /// A bcrypt cost outside 4..=31.
    #[error("bcrypt cost {0} is outside 4..=31")]
    BcryptCost(u32),
    /// bcrypt reads 72 bytes of a password at most: a longer one would be cut short, so it is not hashed.
    #[error("bcrypt cannot hash a password longer than 72 bytes")]
    TooLongForBcrypt,
    /// Making a bcrypt hash failed.
    #[error("{0}")]
    Bcrypt(bcrypt::BcryptError),
}

impl PasswordPolicy {
    /// OWASP's recommended Argon2id parameters: 19 MiB of memory, 2 passes, 1 lane (the default).
    pub const OWASP_ARGON2ID: PasswordPolicy =
        PasswordPolicy { scheme: Scheme::Argon2id { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 } };

    /// bcrypt at cost 12: what FastAPI's tutorial (and passlib's default) hashed with.
    pub const BCRYPT_12: PasswordPolicy = PasswordPolicy { scheme: Scheme::Bcrypt { cost: 12 } };

    /// Argon2id with `memory_kib` KiB of memory, `iterations` passes and `parallelism` lanes, within the
    /// `argon2` crate's bounds (memory at least 8 KiB per lane, at least one pass and one lane).
    pub fn argon2id(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, PasswordPolicyError> {
        Params::new(memory_kib, iterations, parallelism, None).map_err(PasswordPolicyError::Argon2Parameters)?;
        Ok(PasswordPolicy { scheme: Scheme::Argon2id { memory_kib, iterations, parallelism } })
    }

    /// bcrypt at `cost` (4 to 31; every step doubles the work).
    pub fn bcrypt(cost: u32) -> Result<Self, PasswordPolicyError> {
        if (4..=31).contains(&cost) {
            Ok(PasswordPolicy { scheme: Scheme::Bcrypt { cost } })
        } else {
            Err(PasswordPolicyError::BcryptCost(cost))
        }
    }

    /// Hashes `password` under this policy, with a random salt. It takes the full work of a check: call
    /// it from blocking code (a CLI, a test), or through `tokio::task::spawn_blocking`.
    pub fn hash(&self, password: &str) -> Result<String, PasswordPolicyError> {
        match self.scheme {
            Scheme::Bcrypt { cost } => bcrypt::non_truncating_hash(password, cost).map_err(|error| match error {
                bcrypt::BcryptError::Truncation(_) => PasswordPolicyError::TooLongForBcrypt,
                error => PasswordPolicyError::Bcrypt(error),
            }),
            Scheme::Argon2id { memory_kib, iterations, parallelism } => {
                let params = Params::new(memory_kib, iterations, parallelism, None)
                    .map_err(PasswordPolicyError::Argon2Parameters)?;
                let salt = SaltString::generate(&mut OsRng);
                let failed = PasswordPolicyError::Argon2Hash;
                let mut salt_bytes = [0u8; 64];
                let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(failed)?;
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
                argon2_into(&argon2, password.as_bytes(), salt_bytes, &mut output)
                    .map_err(|error| failed(error.into()))?;
                let hash = PasswordHash {
                    algorithm: argon2::ARGON2ID_IDENT,
                    version: Some(Version::V0x13.into()),
                    params: argon2::password_hash::ParamsString::try_from(&params).map_err(failed)?,
                    salt: Some(salt.as_salt()),
                    hash: Some(argon2::password_hash::Output::new(&output).map_err(failed)?),
                };
                Ok(hash.to_string())
            }
        }
    }

    /// Whether `password` matches `hash`, of either scheme. A malformed hash, or one of another scheme,
    /// matches nothing. A bcrypt hash is checked as bcrypt made it: against the password's first 72 bytes.
    pub fn verify(password: &str, hash: &str) -> bool {
        if is_bcrypt(hash) {
            return bcrypt::verify(password, hash).unwrap_or(false);
        }
        // The parameters are the hash's own: each hash verifies whatever the current policy is.
        PasswordHash::new(hash).is_ok_and(|parsed| verify_argon2(password.as_bytes(), &parsed).unwrap_or(false))
    }

    /// Whether `hash` is what this policy makes now: same scheme, same parameters. One that is not is
    /// replaced after its owner's next successful login.
    pub fn is_current(&self, hash: &str) -> bool {
        match self.scheme {
            Scheme::Bcrypt { cost } => {
                is_bcrypt(hash) && hash.get(4..6).and_then(|c| c.parse::<u32>().ok()) == Some(cost)
            }
            Scheme::Argon2id { memory_kib, iterations, parallelism } => {
                let Ok(parsed) = PasswordHash::new(hash) else { return false };
                let Ok(params) = Params::try_from(&parsed) else { return false };
                parsed.algorithm == argon2::ARGON2ID_IDENT
                    && parsed.version == Some(Version::V0x13.into())
                    && (params.m_cost(), params.t_cost(), params.p_cost()) == (memory_kib, iterations, parallelism)
            }
        }
    }
}

/// Whether `password` makes the Argon2 hash `parsed` (any variant and version, its own parameters); the
/// outputs compared in constant time. `None` when the hash cannot be checked (malformed, unknown variant).
fn verify_argon2(password: &[u8], parsed: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
    let params = Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut output = vec![0u8; expected.len()];
    argon2_into(&Argon2::new(algorithm, version, params), password, salt, &mut output).ok()?;
    let made = argon2::password_hash::Output::new(&output).ok()?;
    // `Output`'s equality is constant-time.
    Some(made == expected)
}

/// The largest Argon2 memory a thread keeps between checks: 64 MiB (OWASP's parameters take 19). A hash
/// asking for more (made under an unusual policy) gets memory of its own, freed after.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// Each check thread's Argon2 memory, allocated at its first check and reused by every later one:
    /// allocating 19 MiB per check left freed memory piling up in the allocator's per-thread arenas (about
    /// 100 MiB per thread under waves of logins), where one block per thread stays one block.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Frees the Argon2 memory this thread kept, on a thread that will check no more passwords.
fn release_kept_memory() {
    ARGON2_MEMORY.with_borrow_mut(|memory| *memory = Vec::new());
}

/// Argon2 of `password` and `salt` into `output`, in the thread's kept memory, zeroed after use (it holds
/// state derived from the password).
fn argon2_into(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], output: &mut [u8]) -> Result<(), argon2::Error> {
    let blocks = argon2.params().block_count();
    if blocks > MAX_KEPT_BLOCKS {
        return argon2.hash_password_into(password, salt, output);
    }
    ARGON2_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        let made = argon2.hash_password_into_with_memory(password, salt, output, &mut memory[..blocks]);
        memory[..blocks].fill(argon2::Block::default());
        made
    })
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

impl Default for PasswordPolicy {
    /// [`PasswordPolicy::OWASP_ARGON2ID`].
    fn default() -> Self {
        Self::OWASP_ARGON2ID
    }
}

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
    stand_in: Option<Arc<str>>,
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

    fn floor(&self) -> Duration {
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

/// The stand-in hash for `policy` and how long making it took, made once per policy in the process (tests
/// build many endpoints).
fn stand_in_hash(policy: PasswordPolicy) -> Option<(Arc<str>, Duration)> {
    static MADE: Mutex<Vec<(PasswordPolicy, Arc<str>, Duration)>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, hash, took)) = made.iter().find(|(made_under, _, _)| *made_under == policy) {
        return Some((hash.clone(), *took));
    }
    let started = Instant::now();
    let stand_in = policy.hash("stand-in for unknown users");
    // Made once, on a thread that checks no password: the Argon2 memory it kept is not needed again there.
    release_kept_memory();
    match stand_in {
        Ok(hash) => {
            let (hash, took): (Arc<str>, _) = (hash.into(), started.elapsed());
            made.push((policy, hash.clone(), took));
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

    fn cheap_argon2id() -> PasswordPolicy {
        PasswordPolicy::argon2id(1024, 1, 1).unwrap()
    }

    #[test]
    fn hashes_made_in_kept_memory_are_the_argon2_crates_own_and_verify_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = cheap_argon2id().hash("secret").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"secret", &parsed).is_ok(), "{ours}");
        assert!(Argon2::default().verify_password(b"Secret", &parsed).is_err());
        // Made by the crate (any variant), checked by us; twice on one thread, the memory reused between.
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
            let salt = SaltString::generate(&mut OsRng);
            let params = Params::new(2048, 1, 1, None).unwrap();
            let theirs = Argon2::new(algorithm, Version::V0x13, params).hash_password(b"secret", &salt).unwrap();
            let theirs = theirs.to_string();
            assert!(
                PasswordPolicy::verify("secret", &theirs) && !PasswordPolicy::verify("secreT", &theirs),
                "{theirs}"
            );
        }
        // A bigger hash than the memory kept so far, then a smaller one: the kept memory grows, and serves both.
        let bigger = PasswordPolicy::argon2id(4096, 1, 1).unwrap().hash("secret").unwrap();
        assert!(PasswordPolicy::verify("secret", &bigger) && PasswordPolicy::verify("secret", &ours));
    }

    #[tokio::test]
    async fn known_unknown_and_malformed() {
        let policy = cheap_argon2id();
        let checker = PasswordChecker::new(policy, None, PasswordCheckLimits::default());
        let hash = policy.hash("secret").unwrap();
        let matched = Verdict { matched: true, rehashed: None };
        assert_eq!(checker.verify(None, "secret".into(), Some(hash.clone())).await.unwrap(), matched);
        assert!(!checker.verify(None, "wrong".into(), Some(hash)).await.unwrap().matched);
        assert!(!checker.verify(None, "secret".into(), None).await.unwrap().matched);
        assert!(!checker.verify(None, "secret".into(), Some("not a hash".into())).await.unwrap().matched);
    }

    #[tokio::test]
    async fn an_outdated_hash_is_replaced_only_when_the_password_matches() {
        let policy = cheap_argon2id();
        let checker = PasswordChecker::new(policy, None, PasswordCheckLimits::default());
        for outdated in [
            PasswordPolicy::bcrypt(4).unwrap().hash("secret").unwrap(),
            PasswordPolicy::argon2id(2048, 1, 1).unwrap().hash("secret").unwrap(),
        ] {
            let verdict = checker.verify(None, "secret".into(), Some(outdated.clone())).await.unwrap();
            let rehashed = verdict.rehashed.expect("a new hash");
            assert!(policy.is_current(&rehashed) && PasswordPolicy::verify("secret", &rehashed), "{rehashed}");
            let wrong = checker.verify(None, "wrong".into(), Some(outdated)).await.unwrap();
            assert_eq!(wrong, Verdict { matched: false, rehashed: None });
        }
    }

    #[test]
    fn the_seeds_bcrypt_hash_verifies_and_is_outdated_by_default() {
        let johndoe = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
        assert!(PasswordPolicy::verify("secret", johndoe));
        assert!(!PasswordPolicy::verify("Secret", johndoe));
        assert!(!PasswordPolicy::default().is_current(johndoe));
        assert!(PasswordPolicy::bcrypt(12).unwrap().is_current(johndoe));
        assert!(!PasswordPolicy::bcrypt(11).unwrap().is_current(johndoe));
    }

    #[test]
    fn long_passwords_count_whole_under_argon2id_and_are_refused_by_bcrypt() {
        let policy = cheap_argon2id();
        let long = "x".repeat(100);
        let hash = policy.hash(&long).unwrap();
        assert!(PasswordPolicy::verify(&long, &hash));
        assert!(!PasswordPolicy::verify(&"x".repeat(99), &hash), "the 100th byte counts");
        let refused = PasswordPolicy::bcrypt(4).unwrap().hash(&long).unwrap_err();
        assert!(refused.to_string().contains("72 bytes"), "{refused}");
    }

    #[test]
    fn out_of_range_parameters_are_refused() {
        assert!(PasswordPolicy::argon2id(4, 1, 1).is_err());
        assert!(PasswordPolicy::argon2id(1024, 0, 1).is_err());
        assert!(PasswordPolicy::argon2id(1024, 1, 0).is_err());
    }

    #[test]
    fn the_stand_in_follows_the_policy_and_is_made_up_front() {
        let checker = PasswordChecker::new(PasswordPolicy::bcrypt(5).unwrap(), None, PasswordCheckLimits::default());
        assert!(checker.stand_in.as_deref().unwrap().starts_with("$2b$05$"));
        let checker = PasswordChecker::new(cheap_argon2id(), None, PasswordCheckLimits::default());
        assert!(checker.stand_in.as_deref().unwrap().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    }

    #[tokio::test]
    async fn with_legacy_hashes_a_failed_check_takes_at_least_a_legacy_checks_time() {
        let legacy = PasswordPolicy::bcrypt(8).unwrap();
        let checker = PasswordChecker::new(cheap_argon2id(), Some(legacy), PasswordCheckLimits::default());
        let floor = checker.floor();
        assert!(floor > Duration::ZERO, "timed at start-up");
        let current = cheap_argon2id().hash("secret").unwrap();
        for hash in [None, Some(current.clone())] {
            let started = Instant::now();
            assert!(!checker.verify(None, "wrong".into(), hash).await.unwrap().matched);
            assert!(started.elapsed() >= floor, "{:?} < {floor:?}", started.elapsed());
        }
        // A legacy check moves the floor towards its own time; a match is not held back.
        let old = legacy.hash("secret").unwrap();
        assert!(checker.verify(None, "wrong".into(), Some(old.clone())).await.unwrap().rehashed.is_none());
        assert!(checker.verify(None, "secret".into(), Some(old)).await.unwrap().rehashed.is_some());
        assert!(checker.verify(None, "secret".into(), Some(current)).await.unwrap().matched);
        // Without legacy hashes, nothing waits.
        let plain = PasswordChecker::new(cheap_argon2id(), Some(cheap_argon2id()), PasswordCheckLimits::default());
        assert_eq!((plain.legacy(), plain.floor()), (None, Duration::ZERO));
    }
}
