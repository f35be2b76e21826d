//! DPoP (RFC 9449) at the resource server: tokens bound to a key the client holds, each request carrying a
//! fresh proof signed with that key, so a token taken from the wire or a log is worth nothing without the
//! key.
//!
//! [`Dpop`] is the setting (off, allowed beside bearer tokens, or required), the public URL the proofs'
//! `htu` is checked against, the algorithms accepted and the window a proof is good for; [`DpopReplays`]
//! remembers the proofs seen (in process, or in Redis for replicas). Whatever the setting, a token bound to
//! a key (`cnf.jkt`) is never taken as a bearer token: see `enforcement::binding`.

mod nonce;
mod proof;
mod replay;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

pub use nonce::DpopNonces;
pub use proof::{ProofError, RequestTarget, access_token_hash};
pub use replay::DpopReplays;

pub use crate::registry::DpopMode;

/// How long a client is told to wait when the proofs seen cannot be consulted (the replay table is full, or
/// Redis is down), at a resource and at the token endpoint.
pub(crate) const REPLAYS_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The algorithms a proof may be signed with by default: every asymmetric one jsonwebtoken verifies.
pub const DEFAULT_PROOF_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
];

/// How an API takes DPoP-bound tokens: the [`DpopMode`], where it is served (each proof's `htu` must name
/// the request's URL there), the algorithms proofs may use, how long a proof is good for, and where the
/// proofs seen are remembered so none is used twice.
///
/// The URL a proof names is checked against the configured public URL and the request's path, never
/// against the request's `Host` or forwarded headers (which a client writes) unless
/// [`trusting_host_header`](Self::trusting_host_header) says so.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::Authority;
/// use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
///
/// let dpop = Dpop::new(DpopMode::Required, "https://api.example").unwrap().with_proof_lifetime(Duration::from_secs(30));
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_dpop(dpop);
/// assert_eq!(authority.dpop().unwrap().mode(), DpopMode::Required);
/// assert!(Dpop::new(DpopMode::Allowed, "not a url").is_err());
/// ```
#[derive(Clone)]
pub struct Dpop {
    mode: DpopMode,
    public_url: url::Url,
    trust_host: bool,
    accepted: Arc<Accepted>,
    proof_lifetime: Duration,
    leeway: Duration,
    replays: DpopReplays,
    nonces: Option<DpopNonces>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("mode", &self.mode)
            .field("public_url", &self.public_url.as_str())
            .field("trust_host", &self.trust_host)
            .field("algs", &self.accepted.algs)
            .field("proof_lifetime", &self.proof_lifetime)
            .field("leeway", &self.leeway)
            .field("replays", &self.replays)
            .field("nonces", &self.nonces)
            .finish()
    }
}

/// The public URL given to [`Dpop::new`] is not an absolute `http` or `https` URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the public URL `{0}` is not an absolute http(s) URL without a query or fragment")]
pub struct InvalidPublicUrl(pub String);

impl Dpop {
    /// Proofs are good for a minute after their `iat`, as most servers take them.
    pub const DEFAULT_PROOF_LIFETIME: Duration = Duration::from_secs(60);
    /// A proof dated this far ahead of the clock is still taken, for clock skew.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

    /// DPoP in `mode` for the API served at `public_url` (`https://api.example`, or with the path prefix a
    /// proxy strips, `https://example.com/api`): the proofs' `htu` must name that URL followed by the
    /// request's path. Proofs may use the [`DEFAULT_PROOF_ALGORITHMS`], live
    /// [`DEFAULT_PROOF_LIFETIME`](Self::DEFAULT_PROOF_LIFETIME), and are remembered in process
    /// ([`DpopReplays::in_memory`]).
    pub fn new(mode: DpopMode, public_url: &str) -> Result<Self, InvalidPublicUrl> {
        let invalid = || InvalidPublicUrl(public_url.to_owned());
        let parsed = url::Url::parse(public_url).map_err(|_| invalid())?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host().is_none()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(invalid());
        }
        Ok(Dpop {
            mode,
            public_url: parsed,
            trust_host: false,
            accepted: Accepted::of(DEFAULT_PROOF_ALGORITHMS.to_vec()),
            proof_lifetime: Self::DEFAULT_PROOF_LIFETIME,
            leeway: Self::DEFAULT_LEEWAY,
            replays: DpopReplays::in_memory(DpopReplays::DEFAULT_CAPACITY),
            nonces: None,
        })
    }

    /// Accepts proofs signed with `algorithms` only (asymmetric ones: a symmetric algorithm is dropped, as
    /// a proof's key is public). Empty after that: the defaults.
    ///
    /// ```
    /// use jsonwebtoken::Algorithm;
    /// use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
    /// let dpop = Dpop::new(DpopMode::Allowed, "https://api.example").unwrap().with_algorithms([Algorithm::ES256, Algorithm::HS256]);
    /// assert_eq!(dpop.algs(), "ES256");
    /// ```
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        let asymmetric: Vec<Algorithm> =
            algorithms.into_iter().filter(|algorithm| DEFAULT_PROOF_ALGORITHMS.contains(algorithm)).collect();
        if !asymmetric.is_empty() {
            self.accepted = Accepted::of(asymmetric);
        }
        self
    }

    /// Takes a proof for at most `lifetime` after its `iat` (and remembers it that long).
    pub fn with_proof_lifetime(mut self, lifetime: Duration) -> Self {
        self.proof_lifetime = lifetime;
        self
    }

    /// Takes a proof dated at most `leeway` ahead of this server's clock.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Remembers the proofs seen in `replays` (in Redis, for replicas: a proof used at one is refused at
    /// every other).
    pub fn with_replays(mut self, replays: DpopReplays) -> Self {
        self.replays = replays;
        self
    }

    /// Requires every proof to carry a nonce this server made (RFC 9449 §9): a proof without one, or with
    /// one too old, is refused with `use_dpop_nonce` and a fresh nonce in the `DPoP-Nonce` header, which the
    /// client signs into its next proof. A proof can then not be made ahead of time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::verifying::dpop::{Dpop, DpopMode, DpopNonces};
    /// let nonces = DpopNonces::new(b"a secret every replica shares, 32+ bytes!", Duration::from_secs(60)).unwrap();
    /// let dpop = Dpop::new(DpopMode::Required, "https://api.example").unwrap().with_nonces(nonces);
    /// assert!(dpop.nonces().is_some());
    /// ```
    pub fn with_nonces(mut self, nonces: DpopNonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The server nonces proofs must carry, if any.
    pub fn nonces(&self) -> Option<&DpopNonces> {
        self.nonces.as_ref()
    }

    /// Builds the URL a proof must name from the request's `Host` header (or the authority of an HTTP/2
    /// request) and the public URL's scheme and path prefix: only behind a proxy that sets `Host` itself,
    /// for an API served under several names. A client writes `Host`, so without such a proxy a proof made
    /// for another server would be taken here.
    pub fn trusting_host_header(mut self) -> Self {
        self.trust_host = true;
        self
    }

    /// The mode.
    pub fn mode(&self) -> DpopMode {
        self.mode
    }

    /// The algorithms proofs may use, space-separated, as the challenges' `algs` lists them.
    pub fn algs(&self) -> &str {
        &self.accepted.algs
    }

    /// The algorithms proofs may use.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.accepted.algorithms
    }

    /// The public URL proofs' `htu` is checked against.
    pub fn public_url(&self) -> &str {
        self.public_url.as_str()
    }

    /// Where the proofs seen are remembered.
    pub fn replays(&self) -> &DpopReplays {
        &self.replays
    }
}

/// The algorithms proofs may use, made once per setting: their names for the challenges, and jsonwebtoken's
/// checks for each, read on every DPoP request.
struct Accepted {
    algorithms: Vec<Algorithm>,
    /// jsonwebtoken's checks for a proof signed with the algorithm at the same place: the signature alone (a
    /// proof has no `exp`; its `iat` is checked by `check_proof`).
    validations: Vec<jsonwebtoken::Validation>,
    /// The names, space-separated: the challenges' `algs`.
    algs: String,
}

impl Accepted {
    fn of(algorithms: Vec<Algorithm>) -> Arc<Self> {
        let validation = |algorithm: &Algorithm| {
            let mut validation = jsonwebtoken::Validation::new(*algorithm);
            validation.validate_exp = false;
            validation.validate_aud = false;
            validation.required_spec_claims.clear();
            validation
        };
        let names: Vec<String> = algorithms.iter().map(|algorithm| format!("{algorithm:?}")).collect();
        Arc::new(Accepted {
            validations: algorithms.iter().map(validation).collect(),
            algs: names.join(" "),
            algorithms,
        })
    }

    /// The checks for a proof signed with `algorithm`, if proofs may use it.
    fn validation(&self, algorithm: Algorithm) -> Option<&jsonwebtoken::Validation> {
        let place = self.algorithms.iter().position(|accepted| *accepted == algorithm)?;
        self.validations.get(place)
    }
}
