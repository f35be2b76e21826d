//! Password hashing and checks: Argon2id for new hashes (OWASP's parameters by default), bcrypt hashes
//! (`$2a$`, `$2b$`, `$2y$`) still verified and replaced after a successful login. Checks run on a fixed set
//! of check threads (not tokio's blocking pool: see [`CheckWorkers`]), each keeping its Argon2 memory,
//! behind the fair queue, so a login never stalls the async workers, a flood cannot starve other logins,
//! and memory stays at one block per thread; an unknown user costs exactly the work of a known one.

mod checker;
#[cfg(test)]
mod tests;

use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

pub(crate) use checker::{CheckError, PasswordChecker, Verdict};

/// How new passwords are hashed, and so which stored hashes are outdated: a successful login with one is
/// followed by its replacement. Whatever the policy, hashes of both schemes verify.
///
/// The default is Argon2id with OWASP's parameters (19 MiB of memory, 2 passes, 1 lane). bcrypt remains
/// for stores that must keep making bcrypt hashes; it reads at most 72 bytes of a password, so under it a
/// longer password cannot be hashed (and is refused rather than silently cut).
///
/// ```
/// use scopes_runtime::issuing::PasswordPolicy;
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
/// use scopes_runtime::{issuing::PasswordPolicy, issuing::PasswordPolicyError};
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
                argon2id_phc(&params, &salt, &output)
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

impl PasswordPolicy {
    /// A hash under this policy that no password matches, for checking an unknown user's password against
    /// (the same work as a known user's), and about how long one check of it takes.
    ///
    /// An Argon2id stand-in is not made by hashing: its salt and output are random (a password matches it
    /// with probability 2^-256), so the process never holds the policy's memory (19 MiB under OWASP's
    /// parameters) before a login asks for it; the time is measured on a sixteenth of the memory and scaled,
    /// Argon2's time being proportional to it. A bcrypt stand-in is hashed and timed (4 KiB).
    pub(crate) fn stand_in(&self) -> Result<(String, std::time::Duration), PasswordPolicyError> {
        let Scheme::Argon2id { memory_kib, iterations, parallelism } = self.scheme else {
            let started = std::time::Instant::now();
            let hash = self.hash("stand-in for unknown users")?;
            return Ok((hash, started.elapsed()));
        };
        let failed = PasswordPolicyError::Argon2Hash;
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(PasswordPolicyError::Argon2Parameters)?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon2::password_hash::rand_core::RngCore::fill_bytes(&mut OsRng, &mut output);
        let hash = argon2id_phc(&params, &SaltString::generate(&mut OsRng), &output)?;
        // Timed on a sixteenth of the memory (at least Argon2's least), then scaled.
        let least = 8 * parallelism;
        let timed_kib = (memory_kib / 16).max(least);
        let timed =
            Params::new(timed_kib, iterations, parallelism, None).map_err(PasswordPolicyError::Argon2Parameters)?;
        let started = std::time::Instant::now();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, timed)
            .hash_password_into(b"stand-in", b"stand-in salt", &mut output)
            .map_err(|error| failed(error.into()))?;
        let took = started.elapsed().mul_f64(f64::from(memory_kib) / f64::from(timed_kib));
        Ok((hash, took))
    }
}

/// The PHC string of an Argon2id (v1.3) hash with `params`, `salt` and `output`.
fn argon2id_phc(params: &Params, salt: &SaltString, output: &[u8]) -> Result<String, PasswordPolicyError> {
    let failed = PasswordPolicyError::Argon2Hash;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(argon2::password_hash::Output::new(output).map_err(failed)?),
    };
    Ok(hash.to_string())
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

pub(super) fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

impl Default for PasswordPolicy {
    /// [`PasswordPolicy::OWASP_ARGON2ID`].
    fn default() -> Self {
        Self::OWASP_ARGON2ID
    }
}
