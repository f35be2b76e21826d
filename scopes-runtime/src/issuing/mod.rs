//! Issuing tokens: the token endpoint's password grant (RFC 6749 §4.3), hardened against guessing and
//! floods, its refresh-token grant and revocation (`refresh`), the request forms (`form`) and answers
//! (`response`); signing is the [`Authority`](crate::authority::Authority)'s, with keys from
//! [`keys`](crate::keys):
//!
//! - `throttle`: every attempt reserves its place before its password is checked, so concurrency cannot
//!   buy extra guesses; a failing (account, client) pair is locked, the account only slowed down;
//! - `queue`: password checks run a few at a time, the waiting ones served fairly across clients and
//!   bounded in number and time;
//! - `password`: Argon2id (bcrypt hashes still verified, and replaced on a successful login) on check
//!   threads of its own, under the [`PasswordPolicy`], with a stand-in hash made at start-up so an unknown
//!   user costs exactly what a known one does.
//!
//! A token carries only scopes that are declared and that the user's [`Account`](crate::store::Account)
//! allows.
//!
//! The token endpoint and password hashing are the feature `issuer` (on by default): a resource server that
//! only verifies tokens builds without them, and without Argon2 and bcrypt.

#[cfg(feature = "issuer")]
mod binding;
#[cfg(feature = "issuer")]
mod endpoint;
pub(crate) mod form;
#[cfg(feature = "issuer")]
mod password;
#[cfg(feature = "issuer")]
mod queue;
#[cfg(feature = "issuer")]
mod refresh;
pub(crate) mod response;
#[cfg(feature = "issuer")]
mod throttle;

#[cfg(feature = "issuer")]
pub use binding::TokenRequestProof;
#[cfg(feature = "issuer")]
pub use endpoint::{ClientAddress, TokenEndpoint};
pub use form::{PasswordRequestForm, RefreshRequestForm, RevocationRequest, TokenRequest};
pub use response::TokenResponse;

pub use crate::verifying::parsing::{MAX_FORM_BYTES, MAX_PASSWORD_BYTES, MAX_REFRESH_TOKEN_BYTES, MAX_USERNAME_BYTES};
#[cfg(feature = "issuer")]
pub use password::{PasswordPolicy, PasswordPolicyError};
#[cfg(feature = "issuer")]
pub use queue::PasswordCheckLimits;
#[cfg(feature = "issuer")]
pub use throttle::ThrottlePolicy;
#[cfg(feature = "redis")]
pub use throttle::{RedisThrottle, RedisThrottleError};
